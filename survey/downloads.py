"""The one RFC 6266 ``Content-Disposition`` writer for every download.

``content_disposition(name)`` gives ``attachment; filename="ascii.csv";
filename*=UTF-8''%E5%AE%81...`` where

* the name is cleaned first: control characters (CR, LF, NUL ...), quotes,
  backslashes, slashes and semicolons removed, at most 150 characters, never
  empty;
* ``filename`` is a quoted ASCII fallback (non-ASCII letters folded or
  replaced by ``_``) for old clients;
* ``filename*`` carries the UTF-8 name percent-encoded (RFC 8187), so Chinese
  names survive and nothing in a wave or framework code can end the header or
  add a parameter.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

MAX_NAME = 150
_ATTR_SAFE = "!#$&+-.^_`|~"  # RFC 8187 attr-char besides letters and digits
_DROP = set('"\\/;')


def clean_filename(name: str, default: str = "download") -> str:
    """``name`` without control characters, quotes, slashes or semicolons; never empty."""
    kept = "".join(
        c
        for c in unicodedata.normalize("NFC", name or "")
        if c not in _DROP and unicodedata.category(c) not in ("Cc", "Cf", "Zl", "Zp")
    ).strip(" .")
    if len(kept) > MAX_NAME:
        stem, dot, ext = kept.rpartition(".")
        kept = (stem[: MAX_NAME - len(ext) - 1] + dot + ext) if dot and len(ext) <= 8 else kept
        kept = kept[:MAX_NAME]
    return kept or default


def ascii_fallback(name: str) -> str:
    """An ASCII-only version of a cleaned name for the plain ``filename`` parameter."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    out = "".join(c if c.isalnum() or c in "-_.()[]+ ," else "_" for c in folded)
    out = out.strip(" .")
    if not out.strip("_"):
        ext = name.rpartition(".")[2] if "." in name else ""
        ext = "".join(c for c in ext if c.isascii() and c.isalnum())[:8]
        out = "download" + (f".{ext}" if ext else "")
    return out


def content_disposition(name: str, *, inline: bool = False) -> str:
    """The ``Content-Disposition`` value for a download called ``name`` (RFC 6266)."""
    clean = clean_filename(name)
    kind = "inline" if inline else "attachment"
    return (
        f'{kind}; filename="{ascii_fallback(clean)}"; '
        f"filename*=UTF-8''{quote(clean, safe=_ATTR_SAFE)}"
    )
