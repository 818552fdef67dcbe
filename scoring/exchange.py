"""Responses exchange format (CSV and XLSX), DESIGN.md section 5.

One row per response::

    response_id, street, group, submitted_at, channel, weight, I01..I17, concerns, overall, comment

A file is read whole and validated before anything is returned; every problem
is reported as ``line N, column C (NAME): reason`` and a file with any problem
is rejected whole (:class:`ExchangeError`).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .framework import Framework
from .spreadsheet import csv_row, xlsx_row

CHANNELS = ("online", "open", "phone", "face", "paper")
DK = "DK"
BASE_COLUMNS = ("response_id", "street", "group", "submitted_at", "channel", "weight")
TAIL_COLUMNS = ("concerns", "overall", "comment")
MAX_CONCERNS = 3
MAX_COMMENT = 2000
MAX_PROBLEMS = 200


class ExchangeError(ValueError):
    """A responses file rejected whole; ``problems`` lists every reason."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        shown = self.problems[:MAX_PROBLEMS]
        more = len(self.problems) - len(shown)
        super().__init__("\n".join(shown + ([f"... and {more} more"] if more > 0 else [])))


Answer = int | str | None  # 1..K, "DK", or None (not asked / skipped)


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


def columns(framework: Framework) -> list[str]:
    """Return the header of the exchange format for ``framework``."""
    return [*BASE_COLUMNS, *framework.indicator_codes, *TAIL_COLUMNS]


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        column = len(data[line_start : exc.start].decode("utf-8", "replace")) + 1
        raise ExchangeError(
            [
                f"line {line}, column {column}: the file is not UTF-8 text "
                "(save it as 'CSV UTF-8' and try again)"
            ]
        ) from None


def _csv_rows(data: bytes) -> list[list[str]]:
    text = _decode(data)
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise ExchangeError([f"the file is not valid CSV: {exc}"]) from None


def _xlsx_rows(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook  # local: only XLSX imports need it

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types for a damaged file
        raise ExchangeError(["the file is not a readable .xlsx workbook"]) from None
    sheet = book.worksheets[0]
    rows = []
    for row in sheet.iter_rows(values_only=True):
        cells = []
        for v in row:
            if v is None:
                cells.append("")
            elif isinstance(v, datetime):
                cells.append(v.isoformat(timespec="seconds"))
            elif isinstance(v, float) and v.is_integer():
                cells.append(str(int(v)))
            else:
                cells.append(str(v))
        while cells and cells[-1] == "":
            cells.pop()
        rows.append(cells)
    book.close()
    while rows and not any(rows[-1]):
        rows.pop()
    return rows


def read_responses(
    source: str | Path | bytes,
    framework: Framework,
    *,
    streets: Mapping[str, str] | None = None,
    fmt: str | None = None,
) -> list[ResponseRecord]:
    """Read and validate a responses file.

    :param source: a path, or the file's bytes.
    :param framework: the framework whose indicators and groups the file must use.
    :param streets: optional map of accepted street names *and* codes to the
        canonical street name; unknown streets are then an error.  Without it
        any non-empty street value is accepted as is (the offline scorer).
    :param fmt: ``"csv"`` or ``"xlsx"``; guessed from the path or the bytes.
    :raises ExchangeError: with every problem; nothing is returned then.
    """
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
    rows = _xlsx_rows(data) if fmt == "xlsx" else _csv_rows(data)
    return parse_rows(rows, framework, streets=streets)


def parse_rows(
    rows: Sequence[Sequence[str]],
    framework: Framework,
    *,
    streets: Mapping[str, str] | None = None,
) -> list[ResponseRecord]:
    """Validate table rows (header first) into records; see :func:`read_responses`."""
    if not rows or not any(c.strip() for c in rows[0]):
        raise ExchangeError(["line 1: the file is empty: it needs a header row and responses"])
    header = [c.strip() for c in rows[0]]
    problems: list[str] = []
    expected = columns(framework)
    known = set(expected)
    for n, name in enumerate(header, start=1):
        if name not in known:
            problems.append(f"line 1, column {n} ({name}): unknown column")
    if len(set(header)) != len(header):
        for n, name in enumerate(header, start=1):
            if header.index(name) != n - 1:
                problems.append(f"line 1, column {n} ({name}): duplicate column")
    required = [*BASE_COLUMNS[:3], *framework.indicator_codes]
    for name in required:
        if name not in header:
            problems.append(f"line 1: missing column {name}")
    if problems:
        raise ExchangeError(problems)
    if len(rows) < 2:
        raise ExchangeError(["line 2: the file has a header but no responses"])

    col = {name: i for i, name in enumerate(header)}
    parser = _RowParser(framework, col, streets)
    records: list[ResponseRecord] = []
    seen_ids: dict[str, int] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) > len(header):
            problems.append(
                f"line {line}: has {len(row)} cells but the header has {len(header)} columns"
            )
            continue
        record = parser.parse(line, row)
        problems.extend(parser.problems)
        if record is None:
            continue
        first = seen_ids.get(record.response_id)
        if first is not None:
            problems.append(
                f"line {line}, column {col['response_id'] + 1} (response_id): "
                f"duplicate response_id {record.response_id!r} (first on line {first})"
            )
        else:
            seen_ids[record.response_id] = line
        records.append(record)
    if problems:
        raise ExchangeError(problems)
    if not records:
        raise ExchangeError(["line 2: the file has a header but no responses"])
    return records


class _RowParser:
    """Parse one data row, collecting its problems in ``self.problems``."""

    def __init__(
        self, framework: Framework, col: Mapping[str, int], streets: Mapping[str, str] | None
    ) -> None:
        self.fw = framework
        self.col = col
        self.streets = streets
        self.groups = set(framework.group_codes)
        self.k = framework.scale.points
        self.indicator_codes = set(framework.indicator_codes)
        self.problems: list[str] = []

    def cell(self, row: Sequence[str], name: str) -> str:
        i = self.col.get(name)
        return row[i].strip() if i is not None and i < len(row) else ""

    def fail(self, line: int, name: str, reason: str) -> None:
        self.problems.append(f"line {line}, column {self.col[name] + 1} ({name}): {reason}")

    def point(self, line: int, name: str, value: str, allow_dk: bool) -> Answer:
        if value == "":
            return None
        if value.upper() == DK:
            if allow_dk:
                return DK
            self.fail(line, name, f"'{value}' is not allowed here; give 1..{self.k} or leave empty")
            return None
        try:
            number = int(value)
        except ValueError:
            number = 0
        if not 1 <= number <= self.k or str(number) != value.lstrip("+"):
            extra = ", DK" if allow_dk else ""
            self.fail(line, name, f"value '{value}' is not one of 1..{self.k}{extra} or empty")
            return None
        return number

    def parse(self, line: int, row: Sequence[str]) -> ResponseRecord | None:
        self.problems = []
        rid = self.cell(row, "response_id") or f"row-{line}"
        street = self.cell(row, "street")
        if not street:
            self.fail(line, "street", "street is empty")
        elif self.streets is not None:
            canonical = self.streets.get(street)
            if canonical is None:
                self.fail(line, "street", f"unknown street '{street}'")
            else:
                street = canonical
        group = self.cell(row, "group")
        if group not in self.groups:
            allowed = ", ".join(sorted(self.groups))
            self.fail(line, "group", f"unknown group '{group}' (use one of {allowed})")
        submitted: datetime | None = None
        raw_date = self.cell(row, "submitted_at")
        if raw_date:
            try:
                submitted = datetime.fromisoformat(raw_date)
            except ValueError:
                self.fail(
                    line, "submitted_at", f"'{raw_date}' is not a date like 2026-03-01T09:30:00"
                )
        channel = self.cell(row, "channel") or "paper"
        if channel not in CHANNELS:
            self.fail(line, "channel", f"unknown channel '{channel}' (use {', '.join(CHANNELS)})")
        weight = 1.0
        raw_weight = self.cell(row, "weight")
        if raw_weight:
            try:
                weight = float(raw_weight)
            except ValueError:
                weight = math.nan
            if not math.isfinite(weight) or weight <= 0:
                self.fail(line, "weight", f"weight '{raw_weight}' must be a positive number")
        asked = {i.code for i in self.fw.indicators_for(group)} if group in self.groups else set()
        answers: dict[str, Answer] = {}
        for code in self.fw.indicator_codes:
            value = self.point(line, code, self.cell(row, code), allow_dk=True)
            if value is not None and group in self.groups and code not in asked:
                self.fail(line, code, f"indicator {code} is not asked of group '{group}'")
            answers[code] = value
        concerns: list[str] = []
        raw_concerns = self.cell(row, "concerns")
        if raw_concerns:
            for part in raw_concerns.replace("；", ";").split(";"):
                code = part.strip()
                if not code:
                    continue
                if code not in self.indicator_codes:
                    self.fail(line, "concerns", f"unknown indicator '{code}' among concerns")
                elif code in concerns:
                    self.fail(line, "concerns", f"indicator '{code}' named twice")
                else:
                    concerns.append(code)
            if len(concerns) > MAX_CONCERNS:
                self.fail(line, "concerns", f"{len(concerns)} concerns; at most {MAX_CONCERNS}")
        overall = self.point(line, "overall", self.cell(row, "overall"), allow_dk=False)
        comment = self.cell(row, "comment")
        if len(comment) > 1 and comment[0] == "'" and comment[1] in "=+-@":
            comment = comment[1:]  # undo the formula guard that export adds
        if len(comment) > MAX_COMMENT:
            self.fail(line, "comment", f"comment has {len(comment)} characters; at most 2000")
        if self.problems:
            return None
        return ResponseRecord(
            response_id=rid,
            street=street,
            group=group,
            submitted_at=submitted,
            channel=channel,
            weight=weight,
            answers=answers,
            concerns=tuple(concerns),
            overall=overall if isinstance(overall, int) else None,
            comment=comment,
        )


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
