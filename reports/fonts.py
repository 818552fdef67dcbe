"""Smaller copies of the documents' CJK faces, made once per host, for WeasyPrint to subset.

WeasyPrint embeds each face a PDF uses as a subset that keeps the glyph ids
of the font it was given (HarfBuzz, ``RETAIN_GIDS``): for a pan-CJK face of
65,000 glyphs that is ~35 ms of CPU per face per document and an embedded font
program with tens of thousands of empty glyph slots, which zlib then
compresses again.  The documents set almost all their text from GB 2312's
hanzi, so each face is subset **once** to those characters plus every
non-hanzi character it has (punctuation, Latin, digits, symbols: only the
rarer CJK ideographs go), keeping its layout tables, metrics and outlines.
The copy is registered as its own family (``@font-face``) and listed before
the system face of the same design in the style sheet and the charts, so a
character missing from it (a rare character in a resident's comment) is set
from the full system face, as before.  The same glyphs, metrics and text:
only the embedded subsets are smaller and quicker to make (docs/jobs.md).

The copies live in a cache folder (``MINPING_FONT_CACHE``, else
``$XDG_CACHE_HOME/minping/fonts``), named by the source file's size and
mtime and this module's character-set version, and are written atomically, so
renderer processes and hosts may make them concurrently.  Making one costs
well under a second (HarfBuzz); without HarfBuzz-subset or the system fonts nothing
is made and the documents use the system faces directly.
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHARSET_VERSION = 1


@dataclass(frozen=True, slots=True)
class Face:
    """A system face and the family name its cached copy is registered under."""

    family: str  # the @font-face family of the copy
    system_family: str  # the system family it stands in front of
    path: Path
    index: int  # face index in a TrueType collection
    weight: str  # CSS font-weight of the copy's @font-face rule


FACES = (
    Face(
        "Minping UKai",
        "AR PL UKai CN",
        Path("/usr/share/fonts/truetype/arphic/ukai.ttc"),
        0,
        "normal",
    ),
    Face(
        "Minping Serif",
        "Noto Serif CJK SC",
        Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc"),
        2,  # the SC face of the collection
        "bold",
    ),
)


def _left_out(code: int) -> bool:
    """Characters a copy leaves to the system face: rarer ideographs, and Hangul."""
    hangul = 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F or 0xA960 <= code <= 0xD7FF
    ideograph = (
        0x3400 <= code <= 0x4DBF  # extension A
        or 0x4E00 <= code <= 0x9FFF  # unified ideographs
        or 0xF900 <= code <= 0xFAFF  # compatibility ideographs
        or 0x20000 <= code <= 0x3FFFF  # extensions B and later
    )
    return hangul or (ideograph and chr(code) not in _gb2312_hanzi())


@functools.cache
def _gb2312_hanzi() -> frozenset[str]:
    chars = set()
    for high in range(0xB0, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                chars.add(bytes((high, low)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return frozenset(chars)


def cache_dir() -> Path:
    """Where the copies are kept (``MINPING_FONT_CACHE`` or the user's cache folder)."""
    if folder := os.environ.get("MINPING_FONT_CACHE"):
        return Path(folder)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "minping" / "fonts"


def _copy_path(face: Face) -> Path:
    stat = face.path.stat()
    key = f"{face.path}:{face.index}:{stat.st_size}:{stat.st_mtime_ns}:{CHARSET_VERSION}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return cache_dir() / f"{face.family.replace(' ', '-')}-{digest}.otf"


_CDEF = """
    typedef struct hb_blob_t hb_blob_t;
    typedef struct hb_face_t hb_face_t;
    typedef struct hb_set_t hb_set_t;
    typedef struct hb_subset_input_t hb_subset_input_t;
    typedef uint32_t hb_codepoint_t;
    hb_blob_t *hb_blob_create_from_file_or_fail (const char *file_name);
    void hb_blob_destroy (hb_blob_t *blob);
    const char *hb_blob_get_data (hb_blob_t *blob, unsigned int *length);
    hb_face_t *hb_face_create (hb_blob_t *blob, unsigned int index);
    void hb_face_destroy (hb_face_t *face);
    hb_blob_t *hb_face_reference_blob (hb_face_t *face);
    hb_set_t *hb_set_create (void);
    void hb_set_destroy (hb_set_t *set);
    void hb_set_add (hb_set_t *set, hb_codepoint_t codepoint);
    void hb_set_clear (hb_set_t *set);
    void hb_set_invert (hb_set_t *set);
    hb_codepoint_t hb_set_get_population (const hb_set_t *set);
    int hb_set_next (const hb_set_t *set, hb_codepoint_t *codepoint);
    void hb_face_collect_unicodes (hb_face_t *face, hb_set_t *out);
    hb_subset_input_t *hb_subset_input_create_or_fail (void);
    void hb_subset_input_destroy (hb_subset_input_t *input);
    hb_set_t *hb_subset_input_unicode_set (hb_subset_input_t *input);
    hb_set_t *hb_subset_input_set (hb_subset_input_t *input, int set_type);
    void hb_subset_input_set_flags (hb_subset_input_t *input, unsigned int value);
    hb_face_t *hb_subset_or_fail (hb_face_t *source, const hb_subset_input_t *input);
"""
(
    _SETS_DROP_TABLE_TAG,
    _SETS_NAME_ID,
    _SETS_NAME_LANG_ID,
    _SETS_LAYOUT_FEATURE_TAG,
    _SETS_LAYOUT_SCRIPT_TAG,
) = 3, 4, 5, 6, 7
_FLAGS_NAME_LEGACY = 0x08  # keep the non-Unicode name records too
_FLAGS_PASSTHROUGH_UNRECOGNIZED = 0x20  # keep tables HarfBuzz cannot subset
_FLAGS_NOTDEF_OUTLINE = 0x40  # keep .notdef's outline, as the system face has it
_FLAGS_GLYPH_NAMES = 0x80
_FLAGS_NO_PRUNE_UNICODE_RANGES = 0x100
_HB_SET_VALUE_INVALID = 0xFFFFFFFF


@functools.cache
def _harfbuzz() -> tuple[Any, Any, Any] | None:
    try:
        import cffi
    except ImportError:  # pragma: no cover - cffi comes with WeasyPrint
        return None
    ffi = cffi.FFI()
    ffi.cdef(_CDEF)
    try:
        return ffi, ffi.dlopen("libharfbuzz.so.0"), ffi.dlopen("libharfbuzz-subset.so.0")
    except OSError:
        return None


def make_copy(face: Face, target: Path) -> bool:
    """Write ``face``'s copy without the rarer ideographs to ``target`` (atomically).

    Returns False (nothing written) when HarfBuzz-subset is missing or fails.
    """
    libs = _harfbuzz()
    if libs is None:
        return False
    ffi, hb, hb_subset = libs
    blob = hb.hb_blob_create_from_file_or_fail(str(face.path).encode())
    if blob == ffi.NULL:
        return False
    source = hb.hb_face_create(blob, face.index)
    subset_input = hb_subset.hb_subset_input_create_or_fail()
    result = ffi.NULL
    try:
        if subset_input == ffi.NULL:
            return False
        present = hb.hb_set_create()
        hb.hb_face_collect_unicodes(source, present)
        wanted = hb_subset.hb_subset_input_unicode_set(subset_input)
        code = ffi.new("hb_codepoint_t *", _HB_SET_VALUE_INVALID)
        while hb.hb_set_next(present, code):
            if not _left_out(code[0]):
                hb.hb_set_add(wanted, code[0])
        hb.hb_set_destroy(present)
        # keep every name, language, layout feature and script: only glyphs go
        for kind in (
            _SETS_NAME_ID,
            _SETS_NAME_LANG_ID,
            _SETS_LAYOUT_FEATURE_TAG,
            _SETS_LAYOUT_SCRIPT_TAG,
        ):
            everything = hb_subset.hb_subset_input_set(subset_input, kind)
            hb.hb_set_clear(everything)
            hb.hb_set_invert(everything)
        # and every table (HarfBuzz drops a few, such as BASE, by default)
        hb.hb_set_clear(hb_subset.hb_subset_input_set(subset_input, _SETS_DROP_TABLE_TAG))
        hb_subset.hb_subset_input_set_flags(
            subset_input,
            _FLAGS_NAME_LEGACY
            | _FLAGS_PASSTHROUGH_UNRECOGNIZED
            | _FLAGS_NOTDEF_OUTLINE
            | _FLAGS_GLYPH_NAMES
            | _FLAGS_NO_PRUNE_UNICODE_RANGES,
        )
        result = hb_subset.hb_subset_or_fail(source, subset_input)
        if result == ffi.NULL:
            return False
        out_blob = hb.hb_face_reference_blob(result)
        length = ffi.new("unsigned int *")
        data = ffi.buffer(hb.hb_blob_get_data(out_blob, length), length[0])[:]
        hb.hb_blob_destroy(out_blob)
    finally:
        if result != ffi.NULL:
            hb.hb_face_destroy(result)
        if subset_input != ffi.NULL:
            hb_subset.hb_subset_input_destroy(subset_input)
        hb.hb_face_destroy(source)
        hb.hb_blob_destroy(blob)
    if not data:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=target.suffix)
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    os.chmod(temporary, 0o644)
    os.replace(temporary, target)
    return True


@functools.cache
def font_faces_css() -> str:
    """``@font-face`` rules for the copies available on this host (made if missing).

    Empty when none can be made: the style sheets then fall through to the
    system families listed after the copies' names.
    """
    rules = []
    for face in FACES:
        try:
            if not face.path.is_file():
                continue
            path = _copy_path(face)
            if not path.is_file() and not make_copy(face, path):
                continue
        except OSError:
            continue
        rules.append(
            f'@font-face {{ font-family: "{face.family}"; font-weight: {face.weight}; '
            f'src: url("{path.as_uri()}"); }}'
        )
    return "\n".join(rules)


def font_folders() -> tuple[Path, ...]:
    """Folders documents may read font copies from (for the URL fetcher)."""
    return (cache_dir(),) if font_faces_css() else ()
