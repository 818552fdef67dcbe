"""Is an uploaded PDF passive?  Parsed with pikepdf (qpdf), never by byte search.

Refused (``docs/security.md``): any object, also one stored inside an object
stream and whatever filter chain that stream uses, whose dictionary has a key
or a name value among :data:`ACTIVE_KEYS` / :data:`ACTIVE_NAMES` (JavaScript,
``/JS``, ``/OpenAction``, ``/AA``, ``/Launch``, ``/URI``, ``/SubmitForm``,
``/GoToR``, embedded files, ``/RichMedia``, XFA forms ...).  qpdf decodes
``#xx`` escapes in names, so ``/J#61vaScript`` is ``/JavaScript``.

As a second layer the raw bytes (never inflated) are searched for the same
names, which also catches objects that the cross-reference table leaves out
but a repairing viewer might still find.

Bounded work:

1. At most :data:`MAX_OBJECTS` objects.
2. Before qpdf decodes any object stream, every stream of the file is decoded
   here, chunk by chunk through its whole filter chain, counting the bytes and
   throwing them away; the total may not exceed :data:`MAX_INFLATED` (image
   codecs are not decoded: their data is final).  So qpdf later inflates at
   most that much.
3. :func:`scan_isolated` runs the scan in a child process whose address space
   and CPU time are capped (RLIMIT_AS, RLIMIT_CPU), which also bounds what
   qpdf does while opening the file (cross-reference streams); the web worker
   never holds more than the upload itself.

Run as a script, it reads a PDF on stdin and prints the verdict as JSON.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass

if __package__:
    from .pdf_filters import CHUNK, DECODERS, FILTER_ALIASES, IMAGE_FILTERS
else:  # run as a script by scan_isolated: this directory is on sys.path
    from pdf_filters import CHUNK, DECODERS, FILTER_ALIASES, IMAGE_FILTERS  # type: ignore[no-redef]

MAX_OBJECTS = 100_000
MAX_INFLATED = 64 * 1024 * 1024  # decoded bytes of all streams together
CHILD_MEMORY = 768 * 1024 * 1024  # address space of the checking process
CHILD_CPU_SECONDS = 10
CHILD_TIMEOUT = 20

ACTIVE_KEYS = frozenset(
    {
        "/JavaScript",
        "/JS",
        "/OpenAction",
        "/AA",
        "/Launch",
        "/URI",
        "/SubmitForm",
        "/GoToR",
        "/GoToE",
        "/ImportData",
        "/EmbeddedFile",
        "/EmbeddedFiles",
        "/EF",
        "/RichMedia",
        "/RichMediaContent",
        "/XFA",
    }
)
ACTIVE_NAMES = frozenset(
    {
        "/JavaScript",
        "/Launch",
        "/URI",
        "/SubmitForm",
        "/GoToR",
        "/GoToE",
        "/ImportData",
        "/EmbeddedFile",
        "/FileAttachment",
        "/RichMedia",
        "/RichMediaExecute",
        "/Rendition",
    }
)


@dataclass(frozen=True, slots=True)
class Verdict:
    """``ok``, else ``reason`` (active | inflated | objects | filter | encrypted | unreadable)."""

    ok: bool
    reason: str = ""
    detail: str = ""
    inflated: int = 0
    objects: int = 0


class _Refused(Exception):
    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason, detail)
        self.reason = reason
        self.detail = detail


def _filters(stream: object) -> list[str]:
    import pikepdf

    value = stream.get("/Filter")  # type: ignore[attr-defined]
    if value is None:
        return []
    items = list(value) if isinstance(value, pikepdf.Array) else [value]
    return [FILTER_ALIASES.get(str(f), str(f)) for f in items]


def _raw_chunks(raw: bytes) -> Iterator[bytes]:
    for start in range(0, len(raw), CHUNK):
        yield raw[start : start + CHUNK]


def _decoded_size(stream: object, budget: int) -> int:
    """Decode ``stream`` chunk by chunk, counting bytes; stop past ``budget``."""
    chunks: Iterable[bytes] = _raw_chunks(stream.read_raw_bytes())  # type: ignore[attr-defined]
    for name in _filters(stream):
        if name in IMAGE_FILTERS:
            break
        decoder = DECODERS.get(name)
        if decoder is None:
            if name == "/Crypt":
                continue
            raise _Refused("filter", name)
        chunks = decoder(chunks)
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > budget:
            raise _Refused("inflated", f"> {MAX_INFLATED // 2**20} MiB")
    return total


_CONTAINERS: tuple[type, ...] = ()


def _walk(obj: object) -> str:
    """First active key or name in ``obj`` and its direct sub-objects ('' if none)."""
    import pikepdf

    global _CONTAINERS
    _CONTAINERS = (pikepdf.Dictionary, pikepdf.Array, pikepdf.Name, pikepdf.Stream)
    todo = [obj]
    seen = 0
    while todo:
        item = todo.pop()
        seen += 1
        if seen > 1_000_000:
            raise _Refused("objects", "too deeply nested")
        if isinstance(item, pikepdf.Stream):
            item = item.stream_dict
        if isinstance(item, pikepdf.Dictionary):
            for key in item.keys():
                if key in ACTIVE_KEYS:
                    return key
                value = item.get(key)
                if isinstance(value, _CONTAINERS) and not value.is_indirect:
                    todo.append(value)
        elif isinstance(item, pikepdf.Array):
            todo.extend(v for v in item if isinstance(v, _CONTAINERS) and not v.is_indirect)
        elif isinstance(item, pikepdf.Name) and str(item) in ACTIVE_NAMES:
            return str(item)
    return ""


_NAME = re.compile(rb"/([^\s/<>\[\]()%{}]+)")
_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_RAW_NAMES = frozenset(n.encode() for n in ACTIVE_KEYS | ACTIVE_NAMES)


def _raw_name(data: bytes) -> str:
    """First active name written anywhere in the file's raw bytes ('' if none)."""
    for match in _NAME.finditer(data):
        name = b"/" + _ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), match.group(1))
        if name in _RAW_NAMES:
            return name.decode("latin-1")
    return ""


def scan(data: bytes) -> Verdict:
    """Parse ``data`` and say whether it is a passive PDF (in this process)."""
    import io

    import pikepdf

    found = _raw_name(data)
    if found:
        return Verdict(False, "active", found)
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            table = pdf.get_xref_table()
            entries = [(og, e) for og, e in table.items() if e.type in (1, 2)]
            if len(entries) > MAX_OBJECTS:
                return Verdict(False, "objects", f"{len(entries)} > {MAX_OBJECTS}")
            inflated = 0
            # 1: every stream (none lives in an object stream) decoded and counted
            for objgen, entry in entries:
                if entry.type != 1:
                    continue
                obj = pdf.get_object(objgen)
                if isinstance(obj, pikepdf.Stream):
                    inflated += _decoded_size(obj, MAX_INFLATED - inflated)
            # 2: every object, also those inside object streams, for active content
            for objgen, _entry in entries:
                found = _walk(pdf.get_object(objgen))
                if found:
                    return Verdict(False, "active", found, inflated, len(entries))
            found = _walk(pdf.trailer)
            if found:
                return Verdict(False, "active", found, inflated, len(entries))
            return Verdict(True, inflated=inflated, objects=len(entries))
    except _Refused as exc:
        return Verdict(False, exc.reason, exc.detail)
    except pikepdf.PasswordError:
        return Verdict(False, "encrypted")
    except (pikepdf.PdfError, ValueError, RecursionError, MemoryError):
        return Verdict(False, "unreadable")


def _limit_child() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY, CHILD_MEMORY))
    resource.setrlimit(resource.RLIMIT_CPU, (CHILD_CPU_SECONDS, CHILD_CPU_SECONDS))


def scan_isolated(data: bytes) -> Verdict:
    """:func:`scan` in a child process with capped memory and CPU time.

    A child that dies or overruns (memory, time) means the file is refused.
    """
    try:
        done = subprocess.run(
            [sys.executable, os.path.abspath(__file__)],
            input=data,
            capture_output=True,
            timeout=CHILD_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Verdict(False, "inflated", "time limit")
    if done.returncode != 0:
        # killed by a limit (negative: a signal such as SIGXCPU) or out of memory
        if done.returncode < 0 or b"MemoryError" in done.stderr[-2000:]:
            return Verdict(False, "inflated", f"checker stopped ({done.returncode})")
        return Verdict(False, "unreadable", f"checker failed ({done.returncode})")
    try:
        return Verdict(**json.loads(done.stdout))
    except (ValueError, TypeError):
        return Verdict(False, "unreadable")


if __name__ == "__main__":
    _limit_child()
    verdict = scan(sys.stdin.buffer.read())
    sys.stdout.write(json.dumps(asdict(verdict)))
