"""Columnar reading and validation of the responses exchange format.

The reader of :mod:`scoring.exchange` in column form: a CSV file is split into
cells with NumPy (quotes handled by quote parity), each column is dictionary
encoded (``inverse`` into the column's distinct values), and every check runs
once per *distinct* value and is spread back to the rows.  A 100,000-row file
has a few hundred distinct values in most columns, so validation costs little
more than reading the bytes.

Files the fast splitter cannot read exactly as Python's :mod:`csv` module does
(a NUL byte, a lone carriage return, a quote inside an unquoted cell, a cell
longer than the csv module's limit) are split by the csv module instead; XLSX
workbooks and rows given as lists (the API) take the same validation path.
Messages, their order and the line numbers are those of the row-by-row reader
they replace (``line N, column C (NAME): reason``, header = line 1, one line
per CSV record).  Only the first ``MAX_PROBLEMS`` messages are formatted; the
total is counted.

See docs/exchange-ingest.md.
"""

from __future__ import annotations

import math
import os
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from .framework import Framework
from .spreadsheet import unguard

IntArray = npt.NDArray[np.int64]
#: file offsets and lengths of cells: int32 while the file is under 2 GiB (half the memory)
FieldArray = npt.NDArray[np.signedinteger[Any]]
BoolArray = npt.NDArray[np.bool_]

CHANNELS = ("online", "open", "phone", "face", "paper")
DK = "DK"
BASE_COLUMNS = ("response_id", "street", "group", "submitted_at", "channel", "weight")
TAIL_COLUMNS = ("concerns", "overall", "comment")
#: optional trailing columns (older files without them still import); empty = not answered
DEMOGRAPHICS: dict[str, tuple[str, ...]] = {
    "age_band": ("18-34", "35-59", "60-69", "70-79", "80+"),
    "gender": ("female", "male", "undisclosed"),
    "residence_years": ("lt1", "1-5", "5-10", "10+"),
}
MAX_CONCERNS = 3
MAX_COMMENT = 2000
MAX_PROBLEMS = 200
CSV_FIELD_LIMIT = 131072  # csv.field_size_limit() default: longer cells are a csv.Error

Answer = int | str | None


class ExchangeError(ValueError):
    """A responses file rejected whole.

    ``problems`` lists the reasons in file order (at most the first
    ``MAX_PROBLEMS`` of a long list are kept as text); ``total`` counts them all.
    """

    def __init__(self, problems: Sequence[str], total: int | None = None) -> None:
        self.problems = list(problems)
        self.total = max(total or 0, len(self.problems))
        shown = self.problems[:MAX_PROBLEMS]
        more = self.total - len(shown)
        super().__init__("\n".join(shown + ([f"... and {more} more"] if more > 0 else [])))


@dataclass(frozen=True, slots=True)
class Column:
    """A dictionary-encoded column: row i holds ``uniques[inverse[i]]`` (raw, unstripped)."""

    inverse: IntArray
    uniques: list[str]

    def map(self, fn: Callable[[str], object]) -> list[object]:
        """``fn`` applied once per distinct value (index with ``inverse``)."""
        return [fn(u) for u in self.uniques]


@dataclass(frozen=True, slots=True)
class Cells:
    """A table of raw cells: the header row and dictionary-encoded data columns.

    ``width[i]`` is the number of cells of data record i; cells a short record
    lacks read as ``""``.  ``extra_blank[i]`` says whether the cells beyond the
    header (if any) are all blank.
    """

    header: list[str]
    width: IntArray
    columns: list[Column]
    extra_blank: BoolArray
    #: column index -> each row's value, for a column read as numbers straight
    #: from the bytes (:func:`_plain_numbers`); its :class:`Column` then only
    #: tells blank cells ("") from the others ("0")
    numbers: Mapping[int, npt.NDArray[np.float64]] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.width.shape[0])


# -- splitting ----------------------------------------------------------------


def _encode_column(
    buf: npt.NDArray[np.uint8],
    starts: FieldArray,
    lens: FieldArray,
    patches: Mapping[int, bytes],
) -> Column:
    """Dictionary-encode the byte ranges ``buf[starts:starts + lens]`` (one per row)."""
    n = starts.shape[0]
    width = int(lens.max()) if n else 0
    if width == 0:
        return Column(np.zeros(n, dtype=np.int64), [""])
    if width <= 2 and not patches:  # answer codes: two bytes are the key
        last = buf.shape[0] - 1
        b0 = np.where(lens > 0, buf[np.minimum(starts, last)], np.uint8(0)).astype(np.int64)
        b1 = np.where(lens > 1, buf[np.minimum(starts + 1, last)], np.uint8(0)).astype(np.int64)
        key = b0 | (b1 << 8)
        present = np.flatnonzero(np.bincount(key, minlength=1))
        remap = np.zeros(int(present[-1]) + 1, dtype=np.int64)
        remap[present] = np.arange(present.size)
        texts = [bytes((k & 255, k >> 8)).rstrip(b"\0").decode("utf-8") for k in present.tolist()]
        return Column(remap[key], texts)
    if width > 256:  # long free text (comments): Python slices, then a dict
        raw = buf.tobytes()
        seen: dict[str, int] = {}
        inv = np.empty(n, dtype=np.int64)
        for i in range(n):
            s = int(starts[i])
            text = patches[i] if i in patches else raw[s : s + int(lens[i])]
            inv[i] = seen.setdefault(text.decode("utf-8"), len(seen))
        return Column(inv, list(seen))
    pad = 8 * ((width + 7) // 8)
    # row i = the pad bytes from starts[i] (rows of a sliding window over the
    # file: one copy per row, no index array), then zeros past the cell's end
    size = buf.shape[0]
    tail = starts > size - pad  # cells too near the end of the file for a window
    if size >= pad:
        windows = np.lib.stride_tricks.sliding_window_view(buf, pad)
        mat = windows[np.where(tail, 0, starts)]
    else:
        mat = np.zeros((n, pad), dtype=np.uint8)
    for i in np.flatnonzero(tail).tolist():
        s, length = int(starts[i]), int(lens[i])
        mat[i] = 0
        mat[i, :length] = buf[s : s + length]
    offsets = np.arange(pad, dtype=np.int64)
    for r0 in range(0, n, 1 << 16):  # in blocks: the mask stays small
        block = mat[r0 : r0 + (1 << 16)]
        block *= offsets < lens[r0 : r0 + (1 << 16), None]
    for i, value in patches.items():
        mat[i] = 0
        mat[i, : len(value)] = np.frombuffer(value, dtype=np.uint8)
    words = mat.view(np.uint64)
    if pad == 8:
        keys = words.ravel()
    else:  # hash the 8-byte words, then check that equal hashes mean equal cells
        keys = words[:, 0].copy()
        for k in range(1, words.shape[1]):
            keys ^= words[:, k] + np.uint64(0x9E3779B97F4A7C15) + (keys << np.uint64(6))
        keys ^= keys >> np.uint64(33)
        keys *= np.uint64(0xFF51AFD7ED558CCD)
        keys ^= keys >> np.uint64(33)
    uniq, first, inv = np.unique(keys, return_index=True, return_inverse=True)
    inv = inv.ravel()
    if pad > 8 and not (words == words[first[inv]]).all():  # a hash collision: exact dict
        seen_b: dict[bytes, int] = {}
        inv = np.fromiter(
            (seen_b.setdefault(v, len(seen_b)) for v in mat.view(f"S{pad}").ravel().tolist()),
            dtype=np.int64,
            count=n,
        )
        texts = _decode_all(list(seen_b))
    else:
        texts = _decode_all(mat[first].view(f"S{pad}").ravel().tolist())
    return Column(inv.astype(np.int64).ravel(), texts)


def _decode_all(values: list[bytes]) -> list[str]:
    """Decode UTF-8 cells in one call (NUL never occurs in a cell: it separates them)."""
    return b"\0".join(values).decode("utf-8").split("\0")


CHUNK_BYTES = 8 << 20  # the splitter's working set: a few arrays of this many entries
SHARED_BYTES = 1 << 20  # files from this size on are cut into at least one piece per worker


def _piece_bytes(size: int) -> int:
    """The length of the pieces a file of ``size`` bytes is cut into.

    At most :data:`CHUNK_BYTES`, and equal pieces, at least one per worker
    from :data:`SHARED_BYTES` on: an 8.2 MB file (100,000 responses) used to
    be cut into 8 MB and 0.2 MB, so one thread split nearly all of it.
    """
    pieces = max(1, -(-size // CHUNK_BYTES), _workers() if size >= SHARED_BYTES else 1)
    return max(1, -(-size // pieces))


def _chunk_bounds(data: bytes) -> list[tuple[int, int]]:
    """Cut ``data`` after newlines outside quotes into pieces of about :func:`_piece_bytes`.

    The quotes are counted once, line by line past the first candidate cut
    (recounting from the piece's start at every newline was quadratic: a
    file with one stray quote took minutes).
    """
    size = len(data)
    piece = _piece_bytes(size)
    out = []
    a = 0
    while a < size:
        e = min(a + piece, size)
        if e < size:
            j = data.find(b"\n", e - 1)
            quotes = data.count(b'"', a, j + 1) if j != -1 else 0
            while True:
                if j == -1:
                    e = size
                    break
                e = j + 1
                if quotes % 2 == 0:
                    break
                j = data.find(b"\n", e)
                quotes += data.count(b'"', e, size if j == -1 else j + 1)
        out.append((a, e))
        a = e
    return out


def _split_chunk(
    data: bytes, buf: npt.NDArray[np.uint8], a: int, e: int
) -> tuple[FieldArray, FieldArray, IntArray, IntArray, dict[tuple[int, int], bytes]] | None:
    """Fields of the records in ``buf[a:e]``: starts (global), lengths, first field
    of each record, record widths and unquoted cells; None: leave it to csv."""
    part = buf[a:e]
    # Every byte that matters (NUL, LF, CR, quote, comma) is <= 0x2C: one pass
    # over the bytes, then work on those positions only.  UTF-8 continuation
    # bytes are >= 0x80, so no multi-byte character is cut.
    pos = np.flatnonzero(part <= ord(","))
    ch = part[pos]
    if (ch == 0).any():
        return None
    is_quote = ch == ord('"')
    has_quotes = bool(is_quote.any())
    if has_quotes:
        parity = np.logical_xor.accumulate(is_quote)  # odd quotes so far (bools: small)
        if parity[-1]:
            return None  # an unterminated quote: the csv module decides
        outside = ~parity
        nl_c = (ch == ord("\n")) & outside
        cr_c = (ch == ord("\r")) & outside
        sep_c = (ch == ord(",")) & outside
    else:
        nl_c, cr_c, sep_c = ch == ord("\n"), ch == ord("\r"), ch == ord(",")
    if cr_c.any():
        after = pos[cr_c] + 1
        if after[-1] >= part.size or (part[after] != ord("\n")).any():
            return None  # a lone carriage return ends a record for the csv module
    is_bound = sep_c | nl_c
    bounds = pos[is_bound]
    is_nl = nl_c[is_bound]
    # the field of each quote: the bounds before it (in file order, so sorted)
    q_field = (
        np.cumsum(is_bound, dtype=np.int32 if part.size < 2**31 else np.int64)[is_quote]
        if has_quotes
        else bounds[:0]
    )
    del pos, ch, is_bound, nl_c, cr_c, sep_c, is_quote
    if buf.size < 2**31:  # offsets fit in 32 bits: half the fresh memory from here on
        bounds = bounds.astype(np.int32)
    if part[-1] != ord("\n"):
        bounds = np.append(bounds, bounds.dtype.type(part.size))
        is_nl = np.append(is_nl, True)
    starts = np.empty(bounds.size, dtype=bounds.dtype)
    starts[0] = 0
    starts[1:] = bounds[:-1] + 1
    lens = bounds - starts
    trim = np.flatnonzero(is_nl & (lens > 0))
    trim = trim[part[bounds[trim] - 1] == ord("\r")]
    lens[trim] -= 1
    del bounds
    if lens.max() > CSV_FIELD_LIMIT:
        return None
    nl_at = np.flatnonzero(is_nl)
    first = np.empty(nl_at.size, dtype=np.int64)
    first[0] = 0
    first[1:] = nl_at[:-1] + 1
    width = nl_at + 1 - first
    patches: dict[tuple[int, int], bytes] = {}
    if has_quotes:
        # The usual quoted cell, "text" with no quote inside (every cell of a
        # file written with QUOTE_ALL, as R's write.csv does), is its bytes
        # between the quotes: its range shrinks by one byte each side, for all
        # such cells at once.  Cells with other quotes are looked at one by one.
        first_quote = np.flatnonzero(np.diff(q_field, prepend=-1))  # runs of one field
        quoted = q_field[first_quote].astype(np.int64)
        n_quotes = np.diff(np.append(first_quote, q_field.size))
        q_starts, q_lens = starts[quoted], lens[quoted]
        q_last = q_starts + np.maximum(q_lens - 1, 0)
        plain = (
            (n_quotes == 2) & (q_lens >= 2)
            & (part[q_starts] == ord('"')) & (part[q_last] == ord('"'))
        )  # fmt: skip
        starts[quoted[plain]] += 1
        lens[quoted[plain]] -= 2
        others = quoted[~plain]
        if others.size:
            record = np.cumsum(is_nl) - is_nl  # record of each field
        for f in others.tolist():
            s0 = a + int(starts[f])
            raw = data[s0 : s0 + int(lens[f])]
            inner = raw[1:-1]
            bare = inner.replace(b'""', b"")
            if len(raw) < 2 or raw[:1] != b'"' or raw[-1:] != b'"' or b'"' in bare:
                return None  # a quote the csv module reads literally
            rec = int(record[f])
            patches[(rec, f - int(first[rec]))] = inner.replace(b'""', b'"')
    starts += a
    return starts, lens, first, width, patches


def _workers() -> int:
    return min(os.cpu_count() or 1, 4)


def _split_chunks(
    data: bytes, buf: npt.NDArray[np.uint8]
) -> Iterator[
    tuple[FieldArray, FieldArray, IntArray, IntArray, dict[tuple[int, int], bytes]] | None
]:
    """:func:`_split_chunk` of every piece in file order, a few pieces ahead in threads."""
    bounds = _chunk_bounds(data)
    workers = _workers()
    if workers < 2 or len(bounds) < 2:
        for a, e in bounds:
            yield _split_chunk(data, buf, a, e)
        return
    with ThreadPoolExecutor(workers) as pool:
        ahead: deque[Future[Any]] = deque()
        for a, e in bounds:
            ahead.append(pool.submit(_split_chunk, data, buf, a, e))
            if len(ahead) > workers:
                yield ahead.popleft().result()
        while ahead:
            yield ahead.popleft().result()


def split_csv(
    data: bytes, max_records: int | None = None, numeric: Sequence[str] = ()
) -> Cells | None:
    """Split CSV bytes (BOM removed) into cells.

    Every cell is decoded, so bytes that are not UTF-8 raise
    :class:`UnicodeDecodeError` (unless the csv module is needed: None).

    The bytes are handled in pieces of about ``CHUNK_BYTES`` cut after a
    newline outside quotes, so memory stays a few times the file size.
    Returns None when the bytes need Python's csv module to be split exactly.
    :param max_records: stop after this many records (header included).
    :param numeric: header names whose cells, when there are at least
        :data:`ARROW_WEIGHTS` rows and every cell is blank or a positive plain
        decimal, are read as numbers without dictionary encoding
        (``Cells.numbers``); otherwise they are encoded like any column.
    """
    buf = np.frombuffer(data, dtype=np.uint8)
    if buf.size == 0:
        return Cells([], np.zeros(0, dtype=np.int64), [], np.zeros(0, dtype=bool))
    header: list[str] = []
    col_starts: list[list[FieldArray]] = []
    col_lens: list[list[FieldArray]] = []
    widths: list[IntArray] = []
    patches: dict[tuple[int, int], bytes] = {}  # (data record, column) -> cell
    extra: dict[int, bool] = {}  # data record -> cells beyond the header all blank
    n = 0  # data records so far
    h = 0
    for got in _split_chunks(data, buf):
        if got is None:
            return None
        starts, lens, first, width, local = got
        base = 0
        if not header and n == 0 and not widths:
            h = int(width[0])
            header = [
                (
                    local[(0, c)]
                    if (0, c) in local
                    else data[int(starts[c]) : int(starts[c] + lens[c])]
                ).decode("utf-8")
                for c in range(h)
            ]
            col_starts = [[] for _ in range(h)]
            col_lens = [[] for _ in range(h)]
            base = 1
            widths.append(np.zeros(0, dtype=np.int64))
        first, width = first[base:], width[base:]
        if max_records is not None and n + first.size > max_records - 1:
            keep = max(0, max_records - 1 - n)
            first, width = first[:keep], width[:keep]
        if starts.size == (base + first.size) * h and bool((width == h).all()):
            # the usual case: every record of the piece (the header too) has
            # exactly the header's cells, so field c of record r is field r*h + c
            grid_starts = starts.reshape(-1, h)[base:]
            grid_lens = lens.reshape(-1, h)[base:]
            for c in range(h):
                col_starts[c].append(grid_starts[:, c])
                col_lens[c].append(grid_lens[:, c])
        else:
            full = bool((width >= h).all())
            for c in range(h):
                if full:  # every record has every column
                    col_starts[c].append(starts[first + c])
                    col_lens[c].append(lens[first + c])
                    continue
                has = width > c
                field = np.where(has, first + c, 0)
                col_starts[c].append(np.where(has, starts[field], 0))
                col_lens[c].append(np.where(has, lens[field], 0))
        for (rec, c), value in local.items():
            if rec >= base and rec - base < first.size:
                patches[(n + rec - base, c)] = value
        for i in np.flatnonzero(width > h).tolist():
            f0 = int(first[i])
            extra[n + i] = not any([  # a list: every cell is decoded (checks UTF-8)
                (local[(i + base, c)] if (i + base, c) in local else
                 data[int(starts[f0 + c]) : int(starts[f0 + c] + lens[f0 + c])])
                .decode("utf-8").strip()
                for c in range(h, int(width[i]))
            ])  # fmt: skip
        widths.append(width)
        n += int(first.size)
        if max_records is not None and n >= max_records - 1:
            break

    by_column: list[dict[int, bytes]] = [{} for _ in range(h)]
    for (rec, c), value in patches.items():  # one pass, not one per column
        if c < h:  # cells beyond the header are only checked for being blank
            by_column[c][rec] = value

    numbers: dict[int, npt.NDArray[np.float64]] = {}
    as_numbers = {
        c for c, name in enumerate(header) if name.strip() in numeric and not by_column[c]
    } if n >= ARROW_WEIGHTS else set()  # fmt: skip

    def encode(c: int) -> Column:
        c_starts, c_lens = np.concatenate(col_starts[c]), np.concatenate(col_lens[c])
        if c in as_numbers:
            values = _plain_numbers(buf, c_starts, c_lens)
            if values is not None:
                numbers[c] = values
                col_starts[c] = col_lens[c] = []
                return Column((c_lens > 0).astype(np.int64), ["", "0"])
        column = _encode_column(buf, c_starts, c_lens, by_column[c])
        col_starts[c] = col_lens[c] = []
        return column

    with ThreadPoolExecutor(_workers()) as pool:  # NumPy releases the GIL
        columns = list(pool.map(encode, range(h)))
    extra_blank = np.ones(n, dtype=bool)
    for i, blank in extra.items():
        extra_blank[i] = blank
    data_width = np.concatenate(widths) if widths else np.zeros(0, dtype=np.int64)
    return Cells(header, data_width.astype(np.int64), columns, extra_blank, numbers)


def _cell_text(
    data: bytes,
    starts: IntArray,
    lens: IntArray,
    patches: Mapping[tuple[int, int], bytes],
    rec: int,
    c: int,
    first: IntArray | None = None,
) -> str:
    if (rec, c) in patches:
        return patches[(rec, c)].decode("utf-8")
    f = c if first is None else int(first[rec]) + c
    s = int(starts[f])
    return data[s : s + int(lens[f])].decode("utf-8")


def cells_from_rows(rows: Sequence[Sequence[str]]) -> Cells:
    """Cells of a table given as rows of strings (header first)."""
    if not rows:
        return Cells([], np.zeros(0, dtype=np.int64), [], np.zeros(0, dtype=bool))
    header = list(rows[0])
    body = rows[1:]
    h = len(header)
    width = np.fromiter((len(r) for r in body), dtype=np.int64, count=len(body))
    columns = []
    for c in range(h):
        seen: dict[str, int] = {}
        inv = np.fromiter(
            (seen.setdefault(r[c] if c < len(r) else "", len(seen)) for r in body),
            dtype=np.int64,
            count=len(body),
        )
        columns.append(Column(inv, list(seen) or [""]))
    extra_blank = np.fromiter(
        (len(r) <= h or not any(x.strip() for x in r[h:]) for r in body),
        dtype=bool,
        count=len(body),
    )
    return Cells(header, width, columns, extra_blank)


# -- validation ---------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class Table:
    """Valid responses in column form (file order); see :func:`validate`.

    ``street``/``submitted``/``channel``/``comment``/``concern_order`` are
    indices into the ``*_values`` lists; ``points`` holds scale points 1..K
    (0: no answer), ``dont_know`` and ``concerns`` are (n, J) masks.
    """

    lines: IntArray
    rid: IntArray
    rid_values: list[str]
    street: IntArray
    street_values: list[str]
    group: IntArray
    submitted: IntArray
    submitted_values: list[datetime | None]
    channel: IntArray
    channel_values: list[str]
    weight: npt.NDArray[np.float64]
    points: IntArray
    dont_know: BoolArray
    concerns: BoolArray
    concern_order: IntArray
    concern_values: list[tuple[str, ...]]
    overall: IntArray
    comment: IntArray
    comment_values: list[str]
    #: column name -> (per-row index, distinct values; "" = not answered)
    demographics: dict[str, tuple[IntArray, list[str]]] = field(default_factory=dict)

    def take(self, rows: IntArray) -> Table:
        """The rows ``rows`` of this table, in that order (the value lists are shared)."""
        return replace(
            self,
            lines=self.lines[rows],
            rid=self.rid[rows],
            street=self.street[rows],
            group=self.group[rows],
            submitted=self.submitted[rows],
            channel=self.channel[rows],
            weight=self.weight[rows],
            points=self.points[rows],
            dont_know=self.dont_know[rows],
            concerns=self.concerns[rows],
            concern_order=self.concern_order[rows],
            overall=self.overall[rows],
            comment=self.comment[rows],
            demographics={k: (v[0][rows], v[1]) for k, v in self.demographics.items()},
        )

    def demographic(self, i: int, name: str) -> str | None:
        """Row ``i``'s answer in an optional demographic column (None: not answered)."""
        entry = self.demographics.get(name)
        if entry is None:
            return None
        return entry[1][entry[0][i]] or None

    @property
    def n(self) -> int:
        return int(self.lines.shape[0])

    def response_ids(self) -> list[str]:
        """Each row's response_id (``row-N`` where the cell is empty)."""
        return [
            self.rid_values[r] or f"row-{line}"
            for r, line in zip(self.rid.tolist(), self.lines.tolist(), strict=True)
        ]


class _Problems:
    """Problems as (line, order, formatter) arrays; only the first few become text."""

    def __init__(self, n: int) -> None:
        self.bad = np.zeros(n, dtype=bool)
        self._rows: list[IntArray] = []
        self._order: list[IntArray] = []
        self._fmt: list[Callable[[int], str]] = []

    def add(self, rows: IntArray, order: int | IntArray, fmt: Callable[[int], str]) -> None:
        if rows.size == 0:
            return
        self.bad[rows] = True
        self._rows.append(rows)
        self._order.append(np.broadcast_to(np.asarray(order, dtype=np.int64), rows.shape))
        self._fmt.append(fmt)

    @property
    def total(self) -> int:
        return int(sum(r.size for r in self._rows))

    def texts(self, limit: int) -> list[str]:
        if not self._rows:
            return []
        rows = np.concatenate(self._rows)
        order = np.concatenate(self._order)
        which = np.concatenate([np.full(r.size, k) for k, r in enumerate(self._rows)])
        pos = np.concatenate([np.arange(r.size) for r in self._rows])
        top = np.lexsort((pos, order, rows))[:limit]
        return [self._fmt[int(which[t])](int(pos[t])) for t in top]


def _point(value: str, k: int, allow_dk: bool) -> tuple[Answer, str | None]:
    """A scale answer and the reason it is refused (stripped cell text)."""
    if value == "":
        return None, None
    if value.upper() == DK:
        if allow_dk:
            return DK, None
        return None, f"'{value}' is not allowed here; give 1..{k} or leave empty"
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= k or str(number) != value.lstrip("+"):
        extra = ", DK" if allow_dk else ""
        return None, f"value '{value}' is not one of 1..{k}{extra} or empty"
    return number, None


def _date(value: str) -> tuple[datetime | None, str | None]:
    if not value:
        return None, None
    try:
        return datetime.fromisoformat(value), None
    except ValueError:
        return None, f"'{value}' is not a date like 2026-03-01T09:30:00"


def _dates(values: list[str]) -> tuple[list[datetime | None], list[str | None]]:
    """:func:`_date` of every distinct value: the datetimes and the reasons.

    A file exported with timestamps has about one distinct value per row;
    when every one is valid (the usual case) they are parsed in one list
    comprehension, without a tuple per value.
    """
    parse = datetime.fromisoformat
    try:
        return [parse(v) if v else None for v in values], [None] * len(values)
    except ValueError:
        dates = [_date(v) for v in values]
        return [d for d, _ in dates], [r for _, r in dates]


def _weight(value: str) -> tuple[float, str | None]:
    if not value:
        return 1.0, None
    try:
        weight = float(value)
    except ValueError:
        weight = math.nan
    if not math.isfinite(weight) or weight <= 0:
        return weight, f"weight '{value}' must be a positive number"
    return weight, None


#: from this many distinct weights on, plain decimals are parsed by Arrow (its
#: import costs about as much as parsing 200,000 numbers in Python)
ARROW_WEIGHTS = 200_000
#: digits[.digits], at most 17 each: Python and Arrow both round these correctly
PLAIN_DECIMAL = r"^[0-9]{1,17}(\.[0-9]{1,17})?$"


def _plain_decimals(values: list[str]) -> tuple[BoolArray, npt.NDArray[np.float64]]:
    """Which ``values`` are plain decimals, and their values (Arrow, at C speed).

    ``float(v)`` and Arrow's cast are both correctly rounded, so the doubles are
    the same bits (``tests/scoring/test_exchange_ingest_speed.py``).
    """
    import pyarrow as pa

    return _arrow_decimals(pa.array(values, type=pa.string()))


def _arrow_decimals(text: Any) -> tuple[BoolArray, npt.NDArray[np.float64]]:
    """Which cells of an Arrow string or binary array are plain decimals, and their
    values (0.0 for the others): Arrow's correctly rounded cast."""
    import pyarrow as pa
    import pyarrow.compute as pc

    plain = pc.match_substring_regex(text, PLAIN_DECIMAL)
    zero = pa.scalar(b"0" if pa.types.is_large_binary(text.type) else "0", text.type)
    digits = pc.if_else(plain, text, zero).cast(pa.large_string())  # plain cells: ASCII
    number = pc.cast(digits, pa.float64())
    return plain.to_numpy(zero_copy_only=False), number.to_numpy()


def _plain_numbers(
    buf: npt.NDArray[np.uint8], starts: FieldArray, lens: FieldArray
) -> npt.NDArray[np.float64] | None:
    """Each cell's value (1.0 where blank) when every cell is blank or a positive plain
    decimal (:data:`PLAIN_DECIMAL`), read by Arrow straight from the cells' bytes; else None.

    A column with a value per row (a million weights) then needs neither a
    dictionary nor a million Python strings; the values are those of
    :func:`_weights` (the same cast, tested).
    """
    import pyarrow as pa

    lens64 = lens.astype(np.int64)
    offsets = np.zeros(lens64.size + 1, dtype=np.int64)
    np.cumsum(lens64, out=offsets[1:])
    total = int(offsets[-1])
    # byte k of the gathered text comes from buf[starts[i] + (k - offsets[i])]
    shift = np.repeat(starts.astype(np.int64) - offsets[:-1], lens64)
    text = buf[np.arange(total, dtype=np.int64) + shift]
    cells = pa.Array.from_buffers(
        pa.large_binary(), lens64.size, [None, pa.py_buffer(offsets), pa.py_buffer(text)]
    )
    blank = lens64 == 0
    plain, number = _arrow_decimals(cells)
    if not (plain | blank).all():
        return None
    out: npt.NDArray[np.float64] = np.where(blank, 1.0, number)
    return out if (out > 0).all() else None


def _weights(values: list[str]) -> tuple[npt.NDArray[np.float64], list[str | None]]:
    """Each distinct weight cell's value (empty: 1.0) and why it is refused (:func:`_weight`)."""
    n = len(values)
    weight = np.ones(n, dtype=np.float64)
    rest = values
    todo: IntArray | slice = slice(None)
    if n >= ARROW_WEIGHTS:
        plain, number = _plain_decimals(values)
        weight[plain] = number[plain]
        todo = np.flatnonzero(~plain)
        rest = [values[i] for i in todo.tolist()]
    try:  # at C speed while every cell is a number (map: no Python frame per cell)
        weight[todo] = (
            [float(v) if v else 1.0 for v in rest] if "" in rest else list(map(float, rest))
        )
    except ValueError:
        weight[todo] = [_weight(v)[0] for v in rest]
    reasons: list[str | None] = [None] * n
    for i in np.flatnonzero(~np.isfinite(weight) | (weight <= 0)).tolist():
        reasons[i] = _weight(values[i])[1]
    return weight, reasons


def _concerns(value: str, codes: frozenset[str]) -> tuple[tuple[str, ...], list[str]]:
    found: list[str] = []
    reasons: list[str] = []
    if value:
        for part in value.replace("；", ";").split(";"):
            code = part.strip()
            if not code:
                continue
            if code not in codes:
                reasons.append(f"unknown indicator '{code}' among concerns")
            elif code in found:
                reasons.append(f"indicator '{code}' named twice")
            else:
                found.append(code)
        if len(found) > MAX_CONCERNS:
            reasons.append(f"{len(found)} concerns; at most {MAX_CONCERNS}")
    return tuple(found), reasons


def _comment(value: str) -> tuple[str, str | None]:
    value = unguard(value)  # undo the formula guard that export adds
    if len(value) > MAX_COMMENT:
        return value, f"comment has {len(value)} characters; at most 2000"
    return value, None


def _stripped(values: list[str]) -> list[str]:
    """``[v.strip() for v in values]``: ``values`` itself when none holds whitespace.

    ``str.split`` and ``str.strip`` use the same whitespace; one C-speed scan of
    the joined values replaces a call per value (a million ids or weights).
    """
    # NUL (never in a cell, not whitespace) at both ends: split() ignores
    # whitespace at the ends of the text, so none may be there
    if len(values) > 1000 and len(("\0" + "\0".join(values) + "\0").split(maxsplit=1)) == 1:
        return values
    return [v.strip() for v in values]


def _duplicates(
    rows: IntArray, inverse: IntArray, stripped: list[str], raw: list[str]
) -> tuple[IntArray, IntArray]:
    """Rows whose response_id repeats an earlier one, and that earlier row.

    ``rows`` are the rows without problems (file order); an empty id stands
    for ``row-N`` (N = line), as the records get it.
    """
    # list comparison, all() and the joined text run at C speed; NUL never
    # occurs in a cell (the splitter refuses it), so it separates the ids
    plain = stripped == raw and all(stripped) and "\0row-" not in "\0" + "\0".join(stripped)
    if plain and len(raw) == inverse.shape[0]:  # every row its own cell: no repeats
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if plain and rows.size:  # distinct cells are distinct ids: group rows by their cell
        key = inverse[rows]
        order = np.argsort(key, kind="stable")
        k = key[order]
        starts = np.concatenate(([True], k[1:] != k[:-1]))
        first_row = rows[order][np.flatnonzero(starts)][np.cumsum(starts) - 1]
        dup = ~starts
        return rows[order][dup], first_row[dup]
    seen: dict[str, int] = {}
    dup_rows: list[int] = []
    dup_first: list[int] = []
    for i in rows.tolist():
        rid = stripped[inverse[i]] or f"row-{i + 2}"
        first = seen.setdefault(rid, i)
        if first != i:
            dup_rows.append(i)
            dup_first.append(first)
    return np.array(dup_rows, dtype=np.int64), np.array(dup_first, dtype=np.int64)


def _header_problems(header: list[str], framework: Framework) -> list[str]:
    problems: list[str] = []
    expected = [*BASE_COLUMNS, *framework.indicator_codes, *TAIL_COLUMNS, *DEMOGRAPHICS]
    known = set(expected)
    for n, name in enumerate(header, start=1):
        if name not in known:
            problems.append(f"line 1, column {n} ({name}): unknown column")
    if len(set(header)) != len(header):
        for n, name in enumerate(header, start=1):
            if header.index(name) != n - 1:
                problems.append(f"line 1, column {n} ({name}): duplicate column")
    for name in (*BASE_COLUMNS[:3], *framework.indicator_codes):
        if name not in header:
            problems.append(f"line 1: missing column {name}")
    return problems


def validate(
    cells: Cells,
    framework: Framework,
    *,
    streets: Mapping[str, str] | None = None,
    max_rows: int | None = None,
) -> Table:
    """Check every cell; return the valid responses or raise with every problem.

    :param streets: accepted street names and codes → canonical name (None:
        any non-empty street is accepted as is).
    :param max_rows: refuse files with more data records than this.
    :raises ExchangeError: ``line N, column C (NAME): reason`` for each problem.
    """
    if not cells.header or not any(c.strip() for c in cells.header):
        raise ExchangeError(["line 1: the file is empty: it needs a header row and responses"])
    header = [c.strip() for c in cells.header]
    problems = _header_problems(header, framework)
    if problems:
        raise ExchangeError(problems)
    n = cells.n
    if n < 1:
        raise ExchangeError(["line 2: the file has a header but no responses"])
    if max_rows is not None and n > max_rows:
        raise ExchangeError(
            [
                f"line {max_rows + 2}: the file has more than {max_rows} rows of responses; "
                f"split it into files of at most {max_rows} rows"
            ]
        )
    col = {name: i for i, name in enumerate(header)}
    h = len(header)
    empty = Column(np.zeros(n, dtype=np.int64), [""])

    stripped = [_stripped(c.uniques) for c in cells.columns]

    def column(name: str) -> tuple[Column, list[str]]:
        i = col.get(name)
        if i is None:
            return empty, [""]
        return cells.columns[i], stripped[i]

    lines = np.arange(2, n + 2, dtype=np.int64)
    blank = cells.extra_blank.copy()
    for c, st in zip(cells.columns, stripped, strict=True):
        if "" not in st:  # no blank cell in this column: no blank row at all
            blank[:] = False
            break
        blank &= np.array([not u for u in st], dtype=bool)[c.inverse]
    too_wide = (cells.width > h) & ~blank
    active = ~blank & ~too_wide
    out = _Problems(n)
    wide_rows = np.flatnonzero(too_wide)
    out.add(
        wide_rows,
        0,
        lambda k: (
            f"line {lines[wide_rows[k]]}: has {cells.width[wide_rows[k]]} cells "
            f"but the header has {h} columns"
        ),
    )

    def check(name: str, order: int, inv: IntArray, reasons: Sequence[str | None]) -> None:
        """Add a problem for every active row whose distinct value has a reason."""
        has = np.array([r is not None for r in reasons], dtype=bool)
        if not has.any():
            return
        rows = np.flatnonzero(has[inv] & active)
        number = col[name] + 1
        out.add(
            rows,
            order,
            lambda k: f"line {lines[rows[k]]}, column {number} ({name}): {reasons[inv[rows[k]]]}",
        )

    # response_id, street, group, submitted_at, channel, weight
    rid_col, rid_u = column("response_id")
    st_col, st_u = column("street")
    if streets is None:
        st_canon = st_u
        st_reason = ["street is empty" if not s else None for s in st_u]
    else:
        st_canon = [streets.get(s, s) for s in st_u]
        st_reason = [
            "street is empty" if not s else (None if s in streets else f"unknown street '{s}'")
            for s in st_u
        ]
    check("street", 1, st_col.inverse, st_reason)
    gr_col, gr_u = column("group")
    group_index = {g: i for i, g in enumerate(framework.group_codes)}
    allowed = ", ".join(sorted(group_index))
    gi_u = np.array([group_index.get(g, -1) for g in gr_u], dtype=np.int64)
    check(
        "group",
        2,
        gr_col.inverse,
        [None if g in group_index else f"unknown group '{g}' (use one of {allowed})" for g in gr_u],
    )
    group = gi_u[gr_col.inverse]
    dt_col, dt_u = column("submitted_at")
    submitted_values, dt_reasons = _dates(dt_u)
    check("submitted_at", 3, dt_col.inverse, dt_reasons)
    ch_col, ch_u = column("channel")
    ch_vals = [v or "paper" for v in ch_u]
    check(
        "channel",
        4,
        ch_col.inverse,
        [None if v in CHANNELS else f"unknown channel '{v}' (use {', '.join(CHANNELS)})"
         for v in ch_vals],
    )  # fmt: skip
    wt_col, wt_u = column("weight")
    wt_numbers = cells.numbers.get(col.get("weight", -1))
    if wt_numbers is None:
        weight_u, w_reason = _weights(wt_u)
        check("weight", 5, wt_col.inverse, w_reason)
        weight_rows = weight_u[wt_col.inverse]
    else:  # read as numbers from the bytes: every cell blank or a positive plain decimal
        weight_rows = wt_numbers

    # indicators: value, then "not asked of the group"
    codes = framework.indicator_codes
    J, K = len(codes), framework.scale.points
    asked = np.zeros((len(group_index) + 1, J), dtype=bool)  # last row: unknown group
    for g, gi in group_index.items():
        for ind in framework.indicators_for(g):
            asked[gi, codes.index(ind.code)] = True
    # each answer as one small code (0: none, 1..K: scale point, K + 1: DK), an
    # indicator per row of ``answer``: rows are written whole, and the (n, J)
    # arrays come from one transposed copy (column by column into an (n, J)
    # array would touch every cache line J times)
    answer = np.empty((J, n), dtype=np.min_scalar_type(K + 1))
    not_asked_of = ~asked
    not_asked_of[-1] = False  # an unknown group is its own problem (group = -1: last row)

    def not_asked_text(rows: IntArray, code: str, number: int) -> Callable[[int], str]:
        def text(k: int) -> str:
            return (
                f"line {lines[rows[k]]}, column {number} ({code}): indicator {code} "
                f"is not asked of group '{gr_u[gr_col.inverse[rows[k]]]}'"
            )

        return text

    for j, code in enumerate(codes):
        c, u = column(code)
        parsed = [_point(v, K, True) for v in u]
        check(code, 10 + 2 * j, c.inverse, [r for _, r in parsed])
        code_u = np.array(
            [v if isinstance(v, int) else (K + 1 if v == DK else 0) for v, _ in parsed],
            dtype=answer.dtype,
        )
        answer[j] = code_u[c.inverse]
        if not (not_asked_of[:, j].any() and code_u.any()):
            continue  # asked of every group, or never answered
        not_asked = (answer[j] > 0) & not_asked_of[group, j] & active
        rows = np.flatnonzero(not_asked)
        if rows.size:
            out.add(rows, 11 + 2 * j, not_asked_text(rows, code, col[code] + 1))

    by_row = np.ascontiguousarray(answer.T)
    del answer
    point_of = np.arange(K + 2, dtype=np.int64)
    point_of[K + 1] = 0  # DK: no scale point
    points = point_of[by_row]
    dont_know = by_row == K + 1
    del by_row

    # concerns (several problems per cell), overall, comment
    cn_col, cn_u = column("concerns")
    code_set = frozenset(codes)
    parsed_c = [_concerns(v, code_set) for v in cn_u]
    n_reasons = np.array([len(r) for _, r in parsed_c], dtype=np.int64)
    if n_reasons.any():
        per_row = np.where(active, n_reasons[cn_col.inverse], 0)
        rows = np.repeat(np.arange(n), per_row)
        sub = np.arange(rows.size) - np.repeat(np.cumsum(per_row) - per_row, per_row)
        c_rows, c_number = rows, col["concerns"] + 1

        def concern_text(k: int) -> str:
            reason = parsed_c[cn_col.inverse[c_rows[k]]][1][sub[k]]
            return f"line {lines[c_rows[k]]}, column {c_number} (concerns): {reason}"

        out.add(c_rows, 100 + sub, concern_text)
    ov_col, ov_u = column("overall")
    parsed_o = [_point(v, K, False) for v in ov_u]
    check("overall", 200, ov_col.inverse, [r for _, r in parsed_o])
    cm_col, cm_u = column("comment")
    comments = [_comment(v) for v in cm_u]
    check("comment", 201, cm_col.inverse, [r for _, r in comments])
    demo_cols: dict[str, tuple[Column, list[str]]] = {}
    for k, (name, codes_ok) in enumerate(DEMOGRAPHICS.items()):
        if name not in col:
            continue
        d_col, d_u = column(name)
        reasons = [
            None
            if v == "" or v in codes_ok
            else f"'{v}' is not one of {', '.join(codes_ok)} (or empty)"
            for v in d_u
        ]
        check(name, 202 + k, d_col.inverse, reasons)
        demo_cols[name] = (d_col, d_u)

    # duplicate response ids among rows without problems (first valid row wins)
    valid = active & ~out.bad
    rows_ok = np.flatnonzero(valid)
    rid_inv = rid_col.inverse
    dup_rows, dup_first = _duplicates(rows_ok, rid_inv, rid_u, rid_col.uniques)
    if dup_rows.size:
        d_rows = dup_rows
        d_number = col["response_id"] + 1

        def duplicate_text(k: int) -> str:
            rid = rid_u[rid_inv[d_rows[k]]] or f"row-{d_rows[k] + 2}"
            return (
                f"line {lines[d_rows[k]]}, column {d_number} (response_id): duplicate "
                f"response_id {rid!r} (first on line {dup_first[k] + 2})"
            )

        out.add(d_rows, 300, duplicate_text)
    if out.total:
        raise ExchangeError(out.texts(MAX_PROBLEMS), total=out.total)
    if rows_ok.size == 0:
        raise ExchangeError(["line 2: the file has a header but no responses"])

    concern_mask = np.zeros((len(cn_u), J), dtype=bool)
    for i, (found, _) in enumerate(parsed_c):
        for code in found:
            concern_mask[i, codes.index(code)] = True
    overall_u = np.array([v if isinstance(v, int) else 0 for v, _ in parsed_o], dtype=np.int64)
    if rows_ok.size == n:  # every row kept (the usual case): no copies

        def kept(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
            return a

    else:

        def kept(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
            return a[rows_ok]

    return Table(
        lines=kept(lines),
        rid=kept(rid_inv),
        rid_values=rid_u,
        street=kept(st_col.inverse),
        street_values=st_canon,
        group=kept(group),
        submitted=kept(dt_col.inverse),
        submitted_values=submitted_values,
        channel=kept(ch_col.inverse),
        channel_values=ch_vals,
        weight=kept(weight_rows),
        points=kept(points),
        dont_know=kept(dont_know),
        concerns=concern_mask[kept(cn_col.inverse)],
        concern_order=kept(cn_col.inverse),
        concern_values=[found for found, _ in parsed_c],
        overall=overall_u[kept(ov_col.inverse)],
        comment=kept(cm_col.inverse),
        comment_values=[c for c, _ in comments],
        demographics={name: (kept(c.inverse), u) for name, (c, u) in demo_cols.items()},
    )
