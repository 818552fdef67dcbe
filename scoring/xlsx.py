"""Streamed reading of an .xlsx responses sheet: rows of cell texts.

openpyxl opens the workbook (shared strings, styles, date formats, epoch) and
its read-only worksheet is replaced by a leaner loop over the sheet XML
(lxml ``iterparse`` on ``<row>`` elements, each cleared once read) that gives
the values openpyxl's read-only ``iter_rows(values_only=True)`` gives, without
its per-cell objects and without the extra pass openpyxl makes over a sheet
that lacks a ``<dimension>``.  Memory stays bounded: rows are read one at a
time and reading stops at the row cap.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from .ingest import ExchangeError

NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW, _C, _V, _IS, _T, _R, _DIM = (
    f"{NS}row",
    f"{NS}c",
    f"{NS}v",
    f"{NS}is",
    f"{NS}t",
    f"{NS}r",
    f"{NS}dimension",
)
#: Reading stops after this many consecutive empty rows (a formatted but empty
#: sheet tail, or a row number far beyond the data).
MAX_BLANK_RUN = 10_000
_UNREADABLE = "the file is not a readable .xlsx workbook"


def cell_text(value: Any) -> str:
    """The text of a cell value as the exchange format reads it."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _inline(element: Any) -> str:
    """openpyxl's ``Text.content``: the plain text plus every rich-text run."""
    parts = []
    plain = element.find(_T)
    if plain is not None and plain.text is not None:
        parts.append(plain.text)
    for run in element.iterfind(_R):
        t = run.find(_T)
        if t is not None and t.text is not None:
            parts.append(t.text)
    return "".join(parts)


def xlsx_rows(data: bytes, max_rows: int | None = None) -> list[list[str]]:
    """Rows of the first worksheet as lists of cell texts (trailing empties dropped).

    :param max_rows: stop once more than this many non-empty data rows are read.
    :raises ExchangeError: the file is not a readable workbook.
    """
    from lxml import etree
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet
    from openpyxl.utils.cell import coordinate_to_tuple, range_boundaries
    from openpyxl.utils.datetime import from_excel, from_ISO8601

    try:  # load_workbook's steps, minus its read-only sheets' full pass for their size
        reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True)
        reader.read_manifest()
        reader.read_strings()
        reader.read_workbook()
        reader.read_properties()
        reader.read_custom()
        reader.read_theme()
        apply_stylesheet(reader.archive, reader.wb)
        path = next(
            rel.target
            for _, rel in reader.parser.find_sheets()
            if rel.target in reader.valid_files and "chartsheet" not in rel.Type
        )
    except Exception:  # openpyxl raises many types for a damaged file
        raise ExchangeError([_UNREADABLE]) from None
    book = reader.wb
    rows: list[list[str]] = []
    try:
        strings = reader.shared_strings
        epoch, dates, spans = book.epoch, book._date_formats, book._timedelta_formats
        columns: dict[str, int] = {}
        max_col: int | None = None
        max_row: int | None = None
        counter, idx, filled, blank_run = 1, 0, 0, 0
        with reader.archive.open(path) as src:
            parser = etree.iterparse(
                src, events=("end",), tag=(_ROW, _DIM), resolve_entities=False, no_network=True
            )
            for _, row in parser:
                if row.tag == _DIM:
                    ref = row.get("ref")
                    if ref and ":" in ref:  # as openpyxl: a sheet's dimension bounds it
                        _, _, max_col, max_row = range_boundaries(ref)
                    continue
                r = row.get("r")
                if r is None:
                    idx += 1
                else:  # as openpyxl: "7" or "7.0"; anything else is a damaged sheet
                    try:
                        idx = int(r)
                    except ValueError:
                        number = float(r)
                        if not number.is_integer():
                            raise
                        idx = int(number)
                if max_row is not None and idx > max_row:
                    break
                gap = idx - counter
                if gap > 0:
                    blank_run += gap
                    if blank_run > MAX_BLANK_RUN:
                        break
                    rows.extend([] for _ in range(gap))
                    counter = idx
                if counter > idx:
                    row.clear()
                    continue
                counter += 1
                cells: list[tuple[int, Any]] = []
                col = 0
                for c in row:
                    if c.tag != _C:
                        continue
                    coord = c.get("r")
                    if coord:
                        letters = coord.rstrip("0123456789")
                        col = columns.get(letters, 0)
                        if not col:
                            col = coordinate_to_tuple(coord)[1]
                            if letters.isalpha():
                                columns[letters] = col
                    else:
                        col += 1
                    kind = c.get("t", "n")
                    value: Any = None
                    if kind == "inlineStr":
                        child = c.find(_IS)
                        if child is not None:
                            value = _inline(child)
                    else:
                        v = c.findtext(_V) or None
                        if v is None:
                            pass
                        elif kind == "n":
                            value = float(v) if ("." in v or "E" in v or "e" in v) else int(v)
                            style = c.get("s")
                            if style and int(style) in dates:
                                try:
                                    value = from_excel(value, epoch, timedelta=int(style) in spans)
                                except (OverflowError, ValueError):
                                    value = "#VALUE!"
                        elif kind == "s":
                            value = strings[int(v)]
                        elif kind == "b":
                            value = bool(int(v))
                        elif kind == "d":
                            value = from_ISO8601(v)
                        else:  # "str" (a formula's cached text), "e" (an error)
                            value = v
                    cells.append((col, value))
                row.clear()
                width = max_col or (cells[-1][0] if cells else 0)
                texts = [""] * width
                for column, value in cells:
                    if 1 <= column <= width:
                        texts[column - 1] = cell_text(value)
                while texts and texts[-1] == "":
                    texts.pop()
                rows.append(texts)
                if texts:
                    blank_run = 0
                    filled += 1
                    if max_rows is not None and filled > max_rows + 1:
                        break
                else:
                    blank_run += 1
                    if blank_run > MAX_BLANK_RUN:
                        break
    except ExchangeError:
        raise
    except Exception:  # a damaged sheet inside a readable zip
        raise ExchangeError([_UNREADABLE]) from None
    finally:
        reader.archive.close()
    while rows and not any(rows[-1]):
        rows.pop()
    return rows
