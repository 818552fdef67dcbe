"""Responses exchange format (CSV and XLSX), docs/formats.md.

One row per response::

    response_id, street, group, submitted_at, channel, weight, I01..I17, concerns, overall, comment

A file is read whole and validated before anything is returned; every problem
is reported as ``line N, column C (NAME): reason`` and a file with any problem
is rejected whole (:class:`ExchangeError`).
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from .framework import Framework
from .ingest import (
    BASE_COLUMNS,
    CHANNELS,
    DEMOGRAPHICS,
    DK,
    MAX_COMMENT,
    MAX_CONCERNS,
    MAX_PROBLEMS,
    TAIL_COLUMNS,
    Answer,
    Cells,
    ExchangeError,
    Table,
    cells_from_rows,
    split_csv,
    validate,
)
from .spreadsheet import csv_row, formula_safe, xlsx_row
from .xlsx import xlsx_rows

__all__ = [
    "BASE_COLUMNS",
    "CHANNELS",
    "DK",
    "MAX_COMMENT",
    "MAX_CONCERNS",
    "MAX_PROBLEMS",
    "DEMOGRAPHICS",
    "TAIL_COLUMNS",
    "Answer",
    "ExchangeError",
    "ResponseRecord",
    "columns",
    "parse_rows",
    "read_responses",
    "read_table",
    "write_csv",
    "write_csv_table",
    "write_responses",
    "write_xlsx",
]


@dataclass(frozen=True, slots=True)
class ResponseRecord:
    """One response as exchanged: no identity, only answers and paradata."""

    response_id: str
    street: str
    group: str
    submitted_at: datetime | None
    channel: str
    weight: float
    answers: Mapping[str, Answer]
    concerns: tuple[str, ...] = ()
    overall: int | None = None
    comment: str = ""
    age_band: str | None = None
    gender: str | None = None
    residence_years: str | None = None


def columns(framework: Framework) -> list[str]:
    """Return the header of the exchange format for ``framework`` (as exports write it).

    The trailing ``age_band, gender, residence_years`` are optional on import.
    """
    return [*BASE_COLUMNS, *framework.indicator_codes, *TAIL_COLUMNS, *DEMOGRAPHICS]


def decode_utf8(data: bytes, error: Callable[[list[str]], Exception]) -> str:
    """``data`` as text (a UTF-8 BOM dropped), else ``error`` naming the line and column."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        column = len(data[line_start : exc.start].decode("utf-8", "replace")) + 1
        raise error(
            [
                f"line {line}, column {column}: the file is not UTF-8 text "
                "(save it as 'CSV UTF-8' and try again)"
            ]
        ) from None


def _decode(data: bytes) -> str:
    return decode_utf8(data, ExchangeError)


def _csv_rows(data: bytes, max_records: int | None = None) -> list[list[str]]:
    """Rows as Python's csv module splits them (the exact reference for odd files)."""
    text = _decode(data)
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        return list(reader if max_records is None else itertools.islice(reader, max_records))
    except csv.Error as exc:
        raise ExchangeError([f"the file is not valid CSV: {exc}"]) from None


def _csv_cells(data: bytes, max_records: int | None = None) -> Cells:
    """The file's cells; not UTF-8: :class:`ExchangeError` naming where, before anything else.

    Read whole, the fast splitter decodes every cell, and cells with the
    ASCII separators between them make up the file, so a file it splits
    without a decoding error is UTF-8; only then is the whole text not decoded
    a second time.  Read in part (``max_records``), the whole file is checked first.
    """
    if max_records is not None:
        _decode(data)  # checks UTF-8 (and reports where it is not)
    raw = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    try:
        cells = split_csv(raw, max_records, numeric=("weight",))
    except UnicodeDecodeError:
        _decode(data)  # raises ExchangeError naming the line and column
        raise
    return cells if cells is not None else cells_from_rows(_csv_rows(data, max_records))


def read_table(
    source: str | Path | bytes,
    framework: Framework,
    *,
    streets: Mapping[str, str] | None = None,
    fmt: str | None = None,
    max_rows: int | None = None,
) -> Table:
    """Read and validate a responses file into columns (see :func:`read_responses`)."""
    if isinstance(source, str | Path):
        path = Path(source)
        fmt = fmt or ("xlsx" if path.suffix.lower() == ".xlsx" else "csv")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ExchangeError([f"{path.name}: cannot read the file ({exc.strerror})"]) from None
    else:
        data = source
        fmt = fmt or ("xlsx" if data[:2] == b"PK" else "csv")
    limit = None if max_rows is None else max_rows + 2  # header + one row too many
    if fmt == "xlsx":
        cells = cells_from_rows(xlsx_rows(data, max_rows))
    else:
        cells = _csv_cells(data, limit)
    return validate(cells, framework, streets=streets, max_rows=max_rows)


def read_responses(
    source: str | Path | bytes,
    framework: Framework,
    *,
    streets: Mapping[str, str] | None = None,
    fmt: str | None = None,
    max_rows: int | None = None,
) -> list[ResponseRecord]:
    """Read and validate a responses file.

    :param source: a path, or the file's bytes.
    :param framework: the framework whose indicators and groups the file must use.
    :param streets: optional map of accepted street names *and* codes to the
        canonical street name; unknown streets are then an error.  Without it
        any non-empty street value is accepted as is (the offline scorer).
    :param fmt: ``"csv"`` or ``"xlsx"``; guessed from the path or the bytes.
    :param max_rows: refuse a file with more rows of responses than this.
    :raises ExchangeError: with every problem (the first ``MAX_PROBLEMS`` as
        text, all counted); nothing is returned then.
    """
    table = read_table(source, framework, streets=streets, fmt=fmt, max_rows=max_rows)
    return table_records(table, framework)


def parse_rows(
    rows: Sequence[Sequence[str]],
    framework: Framework,
    *,
    streets: Mapping[str, str] | None = None,
    max_rows: int | None = None,
) -> list[ResponseRecord]:
    """Validate table rows (header first) into records; see :func:`read_responses`."""
    table = validate(cells_from_rows(rows), framework, streets=streets, max_rows=max_rows)
    return table_records(table, framework)


def table_records(table: Table, framework: Framework) -> list[ResponseRecord]:
    """One :class:`ResponseRecord` per valid row of ``table``."""
    codes = framework.indicator_codes
    group_codes = framework.group_codes
    records = []
    ids = table.response_ids()
    points = table.points.tolist()
    dont_know = table.dont_know.tolist()
    for i in range(table.n):
        pts, dks = points[i], dont_know[i]
        answers: dict[str, Answer] = {
            code: (DK if dks[j] else (pts[j] or None)) for j, code in enumerate(codes)
        }
        overall = int(table.overall[i])
        records.append(
            ResponseRecord(
                response_id=ids[i],
                street=table.street_values[table.street[i]],
                group=group_codes[table.group[i]],
                submitted_at=table.submitted_values[table.submitted[i]],
                channel=table.channel_values[table.channel[i]],
                weight=float(table.weight[i]),
                answers=answers,
                concerns=table.concern_values[table.concern_order[i]],
                overall=overall or None,
                comment=table.comment_values[table.comment[i]],
                age_band=table.demographic(i, "age_band"),
                gender=table.demographic(i, "gender"),
                residence_years=table.demographic(i, "residence_years"),
            )
        )
    return records


def _row(record: ResponseRecord, framework: Framework) -> list[str]:
    def fmt(v: Answer) -> str:
        return "" if v is None else str(v)

    weight = "" if record.weight == 1.0 else repr(record.weight)
    return [
        record.response_id,
        record.street,
        record.group,
        record.submitted_at.isoformat(timespec="seconds") if record.submitted_at else "",
        record.channel,
        weight,
        *(fmt(record.answers.get(code)) for code in framework.indicator_codes),
        ";".join(record.concerns),
        fmt(record.overall),
        record.comment,
        record.age_band or "",
        record.gender or "",
        record.residence_years or "",
    ]


def write_csv(records: Iterable[ResponseRecord], framework: Framework) -> bytes:
    """Return records as UTF-8 CSV bytes (with BOM, so Excel shows Chinese), formula-safe.

    Every text cell goes through :func:`scoring.spreadsheet.csv_row`.
    """
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(csv_row(columns(framework)))
    for record in records:
        writer.writerow(csv_row(_row(record, framework)))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def write_xlsx(records: Iterable[ResponseRecord], framework: Framework) -> bytes:
    """Return records as an .xlsx workbook: text cells are strings, never formulas."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("responses")
    sheet.append(xlsx_row(sheet, columns(framework)))
    for record in records:
        sheet.append(xlsx_row(sheet, _row(record, framework)))
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def write_responses(
    path: str | Path, records: Iterable[ResponseRecord], framework: Framework
) -> None:
    """Write records to ``path`` as .xlsx or (otherwise) CSV, by extension."""
    path = Path(path)
    data = (
        write_xlsx(records, framework)
        if path.suffix.lower() == ".xlsx"
        else write_csv(records, framework)
    )
    path.write_bytes(data)


def write_csv_table(table: Table, framework: Framework) -> bytes:
    """The bytes :func:`write_csv` writes for ``table_records(table, framework)``, from columns.

    Every distinct value of a column is formatted (and made formula-safe) once,
    then picked per row; the rows go through the same :mod:`csv` writer, so the
    output is byte-identical to the record-by-record writer (tested).  This is
    how the console computes a run's ``data_sha256``: the sha256 of the CSV
    that ``minping export-responses --included-only`` writes.
    """
    n = table.n

    def pick(values: Sequence[str], index: npt.NDArray[np.int64]) -> npt.NDArray[np.object_]:
        safe = np.empty(len(values), dtype=object)
        safe[:] = [formula_safe(v) for v in values]
        picked: npt.NDArray[np.object_] = safe[index]
        return picked

    K = max(len(framework.scale.scores), int(table.points.max(initial=0)))
    answer_text = np.array(["", *(str(k) for k in range(1, K + 1)), DK], dtype=object)
    answer_code = np.where(table.dont_know, K + 1, table.points)
    weights, weight_index = np.unique(table.weight, return_inverse=True)
    submitted = [d.isoformat(timespec="seconds") if d else "" for d in table.submitted_values]
    overall, overall_index = np.unique(table.overall, return_inverse=True)
    cells = np.empty((n, len(columns(framework))), dtype=object)
    cells[:, 0] = [formula_safe(v) for v in table.response_ids()]
    cells[:, 1] = pick(table.street_values, table.street)
    cells[:, 2] = pick(framework.group_codes, table.group)
    cells[:, 3] = pick(submitted, table.submitted)
    cells[:, 4] = pick(table.channel_values, table.channel)
    weight_text = ["" if w == 1.0 else repr(w) for w in weights.tolist()]
    cells[:, 5] = pick(weight_text, weight_index.reshape(-1))
    J = len(framework.indicator_codes)
    cells[:, 6 : 6 + J] = answer_text[answer_code]
    cells[:, 6 + J] = pick([";".join(c) for c in table.concern_values], table.concern_order)
    cells[:, 7 + J] = pick(
        [str(v) if v else "" for v in overall.tolist()], overall_index.reshape(-1)
    )
    cells[:, 8 + J] = pick(table.comment_values, table.comment)
    for k, name in enumerate(DEMOGRAPHICS):
        entry = table.demographics.get(name)
        if entry is None:
            cells[:, 9 + J + k] = ""
        else:
            cells[:, 9 + J + k] = pick(entry[1], entry[0])
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(csv_row(columns(framework)))
    writer.writerows(cells.tolist())
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
