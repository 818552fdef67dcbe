"""The columnar reader: same cells as Python's csv module, caps on rows and problems."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring import ingest
from scoring.dataset import from_records, from_table
from scoring.exchange import (
    ExchangeError,
    columns,
    read_responses,
    read_table,
    write_csv,
    write_xlsx,
)
from scoring.framework import load_default_framework
from scoring.ingest import cells_from_rows, split_csv, validate
from scoring.simulate import simulate

SPEC = load_default_framework()
HEADER = columns(SPEC)


def _outcome(cells):  # type: ignore[no-untyped-def]
    try:
        table = validate(cells, SPEC)
    except ExchangeError as exc:
        return ("error", exc.problems, exc.total)
    return ("ok", table.response_ids(), table.points.tolist(), table.weight.tolist())


csv_text = st.lists(
    st.lists(
        st.sampled_from(
            ["", "3", "DK", "x", ",", '"', 'a"b', '"q"', "\n", "\r\n", "\r", " 4 ", "甲路",
             "adult", "elderly", "1.5", "I01;I02", "\x00", "r1"]
        ),
        max_size=len(HEADER) + 2,
    ),
    max_size=6,
).map(lambda rows: [HEADER, *rows])  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=csv_text,
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONE]),
)
def test_fast_split_agrees_with_the_csv_module(rows, quoting):
    """Whatever the bytes, the NumPy splitter and csv.reader give the same verdict."""
    buf = io.StringIO()
    if quoting == csv.QUOTE_NONE:  # raw joins: stray quotes, bare CR, ragged rows
        buf.write("\n".join(",".join(r) for r in rows))
    else:
        csv.writer(buf, lineterminator="\n", quoting=quoting).writerows(rows)
    data = buf.getvalue().encode()
    fast = split_csv(data)
    reference = cells_from_rows(list(csv.reader(io.StringIO(data.decode(), newline=""))))
    if fast is not None:  # None: the file is left to the csv module itself
        assert _outcome(fast) == _outcome(reference)
    saved = ingest.CHUNK_BYTES
    ingest.CHUNK_BYTES = 7  # pieces of a few bytes: every record boundary is a cut
    try:
        pieces = split_csv(data)
    finally:
        ingest.CHUNK_BYTES = saved
    if fast is not None and pieces is not None:
        assert _outcome(pieces) == _outcome(fast)


def _sim_csv(n_streets: int = 4, per: int = 30) -> bytes:
    from scoring.dataset import to_records

    sim = simulate(SPEC, [f"街道{i}" for i in range(n_streets)], per, seed=5, weight_cv=0.3)
    return write_csv(to_records(sim.data), SPEC)


def test_table_gives_the_same_arrays_as_records():
    data = _sim_csv()
    via_records = from_records(read_responses(data, SPEC), SPEC)
    direct = from_table(read_table(data, SPEC), SPEC)
    for name in ("street", "group", "weight", "points", "dont_know", "concerns", "asked"):
        assert (getattr(via_records, name) == getattr(direct, name)).all(), name
    assert via_records.streets == direct.streets


def _bad_rows(n: int) -> list[list[str]]:
    return [HEADER] + [[f"b{i}", "甲路", "nobody", "", "paper", "", *["9"] * 17] for i in range(n)]


def test_problems_are_capped_and_counted():
    rows = _bad_rows(3000)  # per row: the group and 17 answers
    with pytest.raises(ExchangeError) as caught:
        read_responses(write_csv_rows(rows), SPEC)
    exc = caught.value
    assert len(exc.problems) == 200
    assert exc.total == 3000 * 18
    assert exc.problems[0] == (
        "line 2, column 3 (group): unknown group 'nobody' (use one of adult, elderly, unit)"
    )
    assert exc.problems[1] == "line 2, column 7 (I01): value '9' is not one of 1..5, DK or empty"
    assert str(exc).endswith(f"... and {3000 * 18 - 200} more")


def write_csv_rows(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode()


def test_row_cap_refuses_a_long_file_with_one_message():
    data = _sim_csv(2, 30)
    with pytest.raises(ExchangeError) as caught:
        read_responses(data, SPEC, max_rows=50)
    assert caught.value.problems == [
        "line 52: the file has more than 50 rows of responses; "
        "split it into files of at most 50 rows"
    ]
    assert len(read_responses(data, SPEC, max_rows=60)) == 60


def _hostile_xlsx(rows: int) -> bytes:
    """Identical bad rows in hand-written sheet XML: a tiny file of many rows."""

    def inline(text: str) -> str:
        return f'<c t="inlineStr"><is><t>{text}</t></is></c>'

    head = "<row>" + "".join(inline(c) for c in HEADER) + "</row>"
    bad = "<row>" + inline("") + inline("甲路") + inline("nobody")
    bad += inline("") + inline("paper") + inline("") + "<c><v>9</v></c>" * 17 + "</row>"
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    files = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{ct}.worksheet+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": f'<Relationships xmlns="{pkg}"><Relationship Id="rId1" Type="{rel}/'
        'officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets><sheet name="r" '
        'sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{pkg}"><Relationship Id="rId1" '
        f'Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{main}"><sheetData>{head}'
        f"{bad * rows}</sheetData></worksheet>",
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, text in files.items():
            z.writestr(name, text)
    return buf.getvalue()


def test_hostile_xlsx_gives_a_short_error_and_the_row_cap_stops_reading():
    data = _hostile_xlsx(2000)
    assert len(data) < 20_000
    with pytest.raises(ExchangeError) as caught:
        read_responses(data, SPEC, fmt="xlsx")
    assert caught.value.total == 2000 * 18 and len(caught.value.problems) == 200
    assert len(str(caught.value)) < 30_000
    with pytest.raises(ExchangeError) as capped:
        read_responses(data, SPEC, fmt="xlsx", max_rows=100)
    assert capped.value.total == 1 and "more than 100 rows" in capped.value.problems[0]


def test_xlsx_round_trip_through_the_streamed_reader():
    from scoring.dataset import to_records

    sim = simulate(SPEC, ["甲", "乙"], 20, seed=2)
    records = to_records(sim.data)
    back = read_responses(write_xlsx(records, SPEC), SPEC, fmt="xlsx")
    assert [r.answers for r in back] == [r.answers for r in records]
    assert [r.weight for r in back] == [r.weight for r in records]


plain_cell = st.text(
    alphabet=st.characters(blacklist_characters=',"\r\n\x00', blacklist_categories=("Cs",)),
    max_size=30,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.lists(plain_cell, min_size=3, max_size=3), min_size=1, max_size=8),
    newline_at_end=st.booleans(),
    quote_all=st.booleans(),
)
def test_every_cell_is_read_back_whatever_its_width(rows, newline_at_end, quote_all):
    """Cells of 0-120 bytes (one to four words), the last ones at the very end of the file;
    quoted or not (R's write.csv and QUOTE_ALL writers quote every cell)."""
    q = '"' if quote_all else ""
    text = "\n".join(",".join(f"{q}{c}{q}" for c in r) for r in [["a", "b", "c"], *rows])
    data = (text + ("\n" if newline_at_end else "")).encode()
    cells = split_csv(data)
    assert cells is not None
    reference = list(csv.reader(io.StringIO(data.decode(), newline="")))[1:]
    got = [[col.uniques[col.inverse[i]] for col in cells.columns] for i in range(cells.n)]
    assert got == [r + [""] * (3 - len(r)) for r in reference]


class _CountingBytes(bytes):
    """bytes that add up how many bytes ``count`` scans."""

    scanned = 0

    def count(self, sub, start=None, end=None):  # type: ignore[no-untyped-def,override]
        _CountingBytes.scanned += (len(self) if end is None else end) - (start or 0)
        return super().count(sub, start, end)


def test_cutting_pieces_scans_a_file_with_a_stray_quote_once(monkeypatch):
    """One unterminated quote near the top: the piece runs to the end of the file, found
    by scanning each byte once (recounting from the piece's start at every newline took
    minutes on a 14 MB file)."""
    monkeypatch.setattr(ingest, "CHUNK_BYTES", 64)
    body = b"".join(b"r%05d,x,y\n" % i for i in range(2000))
    data = _CountingBytes(b'a,b,c\n"stray,1,2\n' + body)
    _CountingBytes.scanned = 0
    assert ingest._chunk_bounds(data) == [(0, len(data))]
    assert _CountingBytes.scanned <= len(data)
    # balanced quotes: cut after about CHUNK_BYTES, every piece ending at a newline
    quoted = _CountingBytes(b"".join(b'"r%05d","x","y"\n' % i for i in range(2000)))
    _CountingBytes.scanned = 0
    pieces = ingest._chunk_bounds(quoted)
    assert len(pieces) > 100 and pieces[-1][1] == len(quoted)
    assert all(quoted[e - 1 : e] == b"\n" for _, e in pieces)
    assert _CountingBytes.scanned <= len(quoted)


def test_a_file_is_cut_into_one_equal_piece_per_worker(monkeypatch):
    """A file just over CHUNK_BYTES (100,000 responses are 8.2 MB) is cut in equal
    pieces, one per worker, not into a full piece and a sliver; small files stay whole;
    the table is the same however the file is cut."""
    monkeypatch.setattr(ingest, "_workers", lambda: 2)
    size = ingest.CHUNK_BYTES + (200 << 10)
    assert ingest._piece_bytes(size) == -(-size // 2)
    assert ingest._piece_bytes(3 * ingest.CHUNK_BYTES + 1) == ingest.CHUNK_BYTES // 4 * 3 + 1
    assert ingest._piece_bytes(ingest.SHARED_BYTES - 1) == ingest.SHARED_BYTES - 1
    monkeypatch.setattr(ingest, "SHARED_BYTES", 1000)
    data = _sim_csv(per=60).removeprefix(b"\xef\xbb\xbf")  # split_csv takes it without a BOM
    pieces = ingest._chunk_bounds(data)
    assert len(pieces) == 2 and abs((pieces[0][1]) - len(data) / 2) < 200
    assert _outcome(split_csv(data)) == _outcome(
        cells_from_rows(list(csv.reader(io.StringIO(data.decode(), newline=""))))
    )


def test_a_file_quoting_every_cell_reads_like_one_quoting_none():
    """QUOTE_ALL (R's write.csv) and minimal quoting give the same table."""
    data = _sim_csv()
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    buf = io.StringIO()
    csv.writer(buf, quoting=csv.QUOTE_ALL).writerows(rows)
    quoted = buf.getvalue().encode()
    assert quoted.count(b'"') >= 2 * sum(len(r) for r in rows)
    plain, every = read_table(data, SPEC), read_table(quoted, SPEC)
    assert every.response_ids() == plain.response_ids()
    assert every.points.tolist() == plain.points.tolist()
    assert every.weight.tolist() == plain.weight.tolist()
    assert split_csv(quoted) is not None  # read by the fast splitter, not the csv module


def test_timestamps_are_read_and_a_bad_one_is_named():
    """Every row's own timestamp (as an export writes them) is read as datetime.fromisoformat
    reads it; one impossible date is named by line and column, and nothing is read."""
    from datetime import datetime, timedelta

    data = _sim_csv()
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    col = rows[0].index("submitted_at")
    start = datetime(2026, 3, 1, 9, 30)
    for k, row in enumerate(rows[1:]):
        row[col] = (start + timedelta(seconds=37 * k)).isoformat(sep=" " if k % 2 else "T")
    rows[1][col] = ""  # a blank timestamp is allowed

    def as_csv(rs: list[list[str]]) -> bytes:
        buf = io.StringIO()
        csv.writer(buf).writerows(rs)
        return buf.getvalue().encode()

    table = read_table(as_csv(rows), SPEC)
    got = [table.submitted_values[table.submitted[i]] for i in range(len(rows) - 1)]
    assert got == [datetime.fromisoformat(r[col]) if r[col] else None for r in rows[1:]]
    rows[5][col] = "2026-02-30T08:00:00"
    with pytest.raises(ExchangeError) as err:
        read_table(as_csv(rows), SPEC)
    assert err.value.problems == [
        f"line 6, column {col + 1} (submitted_at): "
        "'2026-02-30T08:00:00' is not a date like 2026-03-01T09:30:00"
    ]
