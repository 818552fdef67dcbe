"""Downloads: street scores (CSV/XLSX), responses (exchange CSV/XLSX) and SPSS .sav.

Every text cell goes through the one formula-safe writer,
:mod:`scoring.spreadsheet` (CWE-1236).  Pure functions of plain data, except
:func:`responses_export`, which reads the wave's rows.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any

from scoring.exchange import DK, ResponseRecord, write_csv, write_xlsx
from scoring.framework import Framework as FrameworkSpec
from scoring.spreadsheet import csv_row, formula_safe, xlsx_row

from ..models import Wave
from ..questions import COMMENT, CONCERNS, OVERALL
from .frameworks import spec_of
from .responses import wave_records

SAV_DK = 99  # user-missing code for 不了解 in the .sav file
BAND_NAMES = {"above": "高于全区", "similar": "与全区相当", "below": "低于全区"}


def safe_cell(value: object) -> object:
    """Return ``value`` with text a spreadsheet would evaluate neutralised."""
    return formula_safe(value) if isinstance(value, str) else value


def scores_table(
    doc: Mapping[str, Any], spec: FrameworkSpec
) -> tuple[list[str], list[list[object]]]:
    """One row per street of a result document: score, CI, rank interval, band, n, dimensions."""
    dims = spec.dimension_codes
    header = [
        "street", "n", "score", "ci_low", "ci_high", "rank", "rank_low", "rank_high", "band",
        *(f"{d}_score" for d in dims),
    ]  # fmt: skip
    rows = []
    for s in sorted(doc["streets"], key=lambda s: (s["rank"] is None, s["rank"] or 0, s["street"])):
        rows.append(
            [
                s["street"], s["n"], s["score"], s["ci_low"], s["ci_high"], s["rank"],
                s["rank_low"], s["rank_high"], s["band"] or "",
                *((s["dimensions"].get(d) or {}).get("score") for d in dims),
            ]
        )  # fmt: skip
    return header, rows


def table_csv(header: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    """UTF-8 CSV with BOM (Excel shows Chinese), formula-safe."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(csv_row(header))
    for row in rows:
        writer.writerow(csv_row(row))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def table_xlsx(
    header: Sequence[str], rows: Sequence[Sequence[object]], title: str = "scores"
) -> bytes:
    """An .xlsx workbook: numbers as numbers, text formula-safe."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append(xlsx_row(sheet, header))
    for row in rows:
        sheet.append(xlsx_row(sheet, row))
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def responses_export(wave: Wave, fmt: str, *, included_only: bool = False) -> bytes:
    """The wave's responses in the exchange format (``csv``/``xlsx``) or as SPSS ``sav``."""
    spec = spec_of(wave.framework)
    records = wave_records(wave, included_only=included_only)
    if fmt == "csv":
        return write_csv(records, spec)
    if fmt == "xlsx":
        return write_xlsx(records, spec)
    if fmt == "sav":
        return records_sav(records, spec, label=wave.name)
    raise ValueError(f"unknown format {fmt!r}")


def records_sav(
    records: Sequence[ResponseRecord], spec: FrameworkSpec, *, label: str = ""
) -> bytes:
    """Responses as an SPSS .sav file with variable and value labels (pyreadstat + polars).

    Indicator answers are 1..K labelled with the scale, 不了解 is the
    user-missing value 99, not asked/skipped is system-missing.
    """
    import polars as pl
    import pyreadstat

    codes = spec.indicator_codes
    data: dict[str, list[object]] = {
        "response_id": [safe_cell(r.response_id) for r in records],
        "street": [safe_cell(r.street) for r in records],
        "group": [safe_cell(r.group) for r in records],
        "channel": [safe_cell(r.channel) for r in records],
        "weight": [r.weight for r in records],
    }
    for code in codes:
        data[code] = [
            None if v is None else float(SAV_DK if v == DK else int(v))
            for v in (r.answers.get(code) for r in records)
        ]
    data[OVERALL.code] = [None if r.overall is None else float(r.overall) for r in records]
    data[CONCERNS.code] = [safe_cell(";".join(r.concerns)) for r in records]
    data[COMMENT.code] = [safe_cell(r.comment) for r in records]
    schema = {
        name: (pl.Float64 if name in (*codes, OVERALL.code, "weight") else pl.Utf8) for name in data
    }
    frame = pl.DataFrame(data, schema=schema)
    scale = {float(k + 1): lab for k, lab in enumerate(spec.scale.labels)}
    answer_labels = {**scale, float(SAV_DK): spec.scale.dont_know}
    value_labels = {code: answer_labels for code in codes}
    value_labels[OVERALL.code] = dict(scale)
    column_labels: dict[str, str | None] = {
        "response_id": "答卷编号",
        "street": "街道",
        "group": "受访群体（" + "；".join(f"{g.code}={g.name}" for g in spec.groups) + "）",
        "channel": "渠道",
        "weight": "权重",
        **{question.code: question.export_label for question in (OVERALL, CONCERNS, COMMENT)},
        **{i.code: f"{i.name}：{i.question}"[:250] for i in spec.indicators},
    }
    fd, path = tempfile.mkstemp(suffix=".sav")
    os.close(fd)
    try:
        pyreadstat.write_sav(
            frame,
            path,
            file_label=label[:60],
            column_labels=column_labels,
            variable_value_labels=value_labels,
            missing_ranges={code: [SAV_DK] for code in codes},
            variable_measure={code: "ordinal" for code in (*codes, OVERALL.code)},
        )
        with open(path, "rb") as fh:
            return fh.read()
    finally:
        os.unlink(path)
