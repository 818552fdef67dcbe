"""Responses CSV/XLSX through the CLI: round trip, and bad files rejected whole."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from scoring.exchange import columns, read_responses
from survey.extensions import db
from survey.models import Answer, Response

GOOD_ROWS = [
    # response_id, street, group, submitted_at, channel, weight, I01..I17,
    # concerns, overall, comment
    [
        "p-001",
        "宁海路",
        "elderly",
        "2026-03-02T09:15:00",
        "paper",
        "",
        *["5", "4", "DK", "3", "2", "1", "4", "4", "5", "4", "3", "DK", "2", "4", "5", "4", "3"],
        "I07;I08",
        "4",
        "楼道里电动车充电太危险",
    ],
    [
        "p-002",
        "S2",
        "adult",
        "2026-03-02T10:00:00",
        "face",
        "1.5",
        *["3"] * 17,
        "I06",
        "3",
        '=HYPERLINK("x")',
    ],
    [
        "p-003",
        "湖南路街道",
        "unit",
        "",
        "phone",
        "",
        *["4", "", "4", "4", "DK", "4", "4", "4", "4", "4", "4", "4", "4", "4", "4", "4", "4"],
        "",
        "",
        "",
    ],
]


def to_csv(header, rows, bom=True) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    return (("\ufeff" if bom else "") + buf.getvalue()).encode("utf-8")


def count(model, wave) -> int:
    if model is Answer:
        query = select(func.count(Answer.id)).join(Response).where(Response.wave_id == wave.id)
    else:
        query = select(func.count(Response.id)).where(Response.wave_id == wave.id)
    return db.session.scalar(query)


def test_csv_round_trip(runner, make_wave, framework_spec, tmp_path):
    wave = make_wave("rt")
    source = tmp_path / "in.csv"
    source.write_bytes(to_csv(columns(framework_spec), GOOD_ROWS))
    result = runner.invoke(args=["import-responses", "--wave", "rt", str(source)])
    assert result.exit_code == 0, result.output
    assert count(Response, wave) == 3
    for suffix in ("csv", "xlsx"):
        out = tmp_path / f"out.{suffix}"
        result = runner.invoke(args=["export-responses", "--wave", "rt", "--out", str(out)])
        assert result.exit_code == 0, result.output
        before = read_responses(source, framework_spec)
        after = read_responses(out, framework_spec)
        # street codes and 街道 suffixes are stored as the canonical street name
        expected = [r.street for r in before]
        assert expected == ["宁海路", "S2", "湖南路街道"]
        assert [r.street for r in after] == ["宁海路", "华侨路", "湖南路"]
        for a, b in zip(before, after, strict=True):
            assert (a.response_id, a.group, a.submitted_at, a.channel, a.weight) == (
                b.response_id,
                b.group,
                b.submitted_at,
                b.channel,
                b.weight,
            )
            assert (a.answers, a.concerns, a.overall, a.comment) == (
                b.answers,
                b.concerns,
                b.overall,
                b.comment,
            )


def test_export_guards_formula_cells(runner, make_wave, framework_spec, tmp_path):
    make_wave("fx")
    source = tmp_path / "in.csv"
    source.write_bytes(to_csv(columns(framework_spec), GOOD_ROWS))
    runner.invoke(args=["import-responses", "--wave", "fx", str(source)])
    out = tmp_path / "out.csv"
    runner.invoke(args=["export-responses", "--wave", "fx", "--out", str(out)])
    assert "'=HYPERLINK" in out.read_text("utf-8-sig")


def _bad_files(header):
    good = [list(r) for r in GOOD_ROWS]

    def with_cell(row, name, value):
        rows = [list(r) for r in good]
        rows[row][header.index(name)] = value
        return to_csv(header, rows)

    missing = [c for c in header if c != "I05"]
    extra = [*header[:-3], "I18", *header[-3:]]
    return {
        "not utf-8": ("宁海路".encode("gbk") + b",x\n", "line 1, column 1: the file is not UTF-8"),
        "unknown street": (with_cell(0, "street", "不存在路"), "line 2, column 2 (street)"),
        "unknown group": (with_cell(1, "group", "youth"), "line 3, column 3 (group)"),
        "out of scale": (with_cell(0, "I04", "7"), "line 2, column 10 (I04)"),
        "negative point": (with_cell(0, "I04", "-1"), "line 2, column 10 (I04)"),
        "DK in overall": (with_cell(2, "overall", "DK"), "line 4, column 25 (overall)"),
        "duplicate id": (with_cell(1, "response_id", "p-001"), "line 3, column 1 (response_id)"),
        "missing column": (
            to_csv(
                missing, [[c for h, c in zip(header, r, strict=True) if h != "I05"] for r in good]
            ),
            "line 1: missing column I05",
        ),
        "extra indicator": (
            to_csv(extra, [[*r[:-3], "3", *r[-3:]] for r in good]),
            "line 1, column 24 (I18): unknown column",
        ),
        "bad date": (with_cell(0, "submitted_at", "2026-13-45"), "line 2, column 4 (submitted_at)"),
        "negative weight": (with_cell(1, "weight", "-2"), "line 3, column 6 (weight)"),
        "empty file": (b"", "line 1: the file is empty"),
        "five concerns": (
            with_cell(0, "concerns", "I01;I02;I03;I04;I05"),
            "line 2, column 24 (concerns)",
        ),
    }


@pytest.mark.parametrize(
    "kind",
    list(
        _bad_files(
            columns(__import__("scoring.framework", fromlist=["x"]).load_default_framework())[:-3]
        )
    ),
)
def test_bad_file_rejected_whole(kind, runner, make_wave, framework_spec, tmp_path):
    wave = make_wave("bad")
    # files without the optional demographic columns (as before they existed) still import
    data, message = _bad_files(columns(framework_spec)[:-3])[kind]
    source = tmp_path / "bad.csv"
    source.write_bytes(data)
    result = runner.invoke(args=["import-responses", "--wave", "bad", str(source)])
    assert result.exit_code == 1
    assert "nothing imported" in result.output
    assert message in result.output
    assert count(Response, wave) == 0
    assert count(Answer, wave) == 0


def test_import_refused_after_close(runner, make_wave, framework_spec, tmp_path):
    wave = make_wave("closed-w", state="closed")
    source = tmp_path / "in.csv"
    source.write_bytes(to_csv(columns(framework_spec), GOOD_ROWS))
    result = runner.invoke(args=["import-responses", "--wave", "closed-w", str(source)])
    assert result.exit_code == 1
    assert "only during fieldwork" in result.output
    assert count(Response, wave) == 0


def test_reimport_same_ids_refused(runner, make_wave, framework_spec, tmp_path):
    wave = make_wave("twice")
    source = tmp_path / "in.csv"
    source.write_bytes(to_csv(columns(framework_spec), GOOD_ROWS))
    assert runner.invoke(args=["import-responses", "--wave", "twice", str(source)]).exit_code == 0
    again = runner.invoke(args=["import-responses", "--wave", "twice", str(source)])
    assert again.exit_code == 1 and "already in wave twice" in again.output
    assert count(Response, wave) == 3


def test_unknown_wave_one_line_reason(runner, tmp_path):
    result = runner.invoke(
        args=["export-responses", "--wave", "nope", "--out", str(tmp_path / "x.csv")]
    )
    assert result.exit_code == 1
    assert "no wave with code 'nope'" in result.output


def test_waves_lists_code_state_and_count(runner, make_wave, framework_spec, tmp_path):
    make_wave("listed")
    result = runner.invoke(args=["waves"])
    assert "listed" in result.output and "fieldwork" in result.output


def test_waves_listed_per_district_and_scoped_with_district(runner, make_wave):
    from survey.extensions import db
    from survey.services.districts import create_district
    from survey.services.waves import create_wave

    first = make_wave("listed")
    other = create_district(
        "zz-other", "另一区", [("Z01", "另一街道", ["另一社区"])], doc_prefix="另整"
    )
    create_wave(other, first.framework, "elsewhere", "另一区测评")
    db.session.commit()
    everything = runner.invoke(args=["waves"]).output
    assert f"{first.district.name} ({first.district.code})" in everything
    assert "另一区 (zz-other)" in everything
    assert everything.index("listed") < everything.index("另一区 (zz-other)")
    scoped = runner.invoke(args=["waves", "--district", "另一区"])
    assert scoped.exit_code == 0
    assert "elsewhere" in scoped.output and "listed" not in scoped.output
    unknown = runner.invoke(args=["waves", "--district", "nowhere"])
    assert unknown.exit_code == 1 and "unknown district 'nowhere'" in unknown.output
