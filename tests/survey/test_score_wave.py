"""`minping score-wave`: stored runs reproduce, and equal the offline scorer on the export."""

from __future__ import annotations

import json

from sqlalchemy import select

from survey.extensions import db
from survey.models import Response, ScoringRun
from survey.services.waves import transition

from .test_notices import fill


def test_score_wave_equals_offline_scorer_on_export(runner, make_wave, framework_spec, tmp_path):
    wave = make_wave("sw")
    fill(wave, framework_spec, n=40)
    # one flagged response is excluded from scoring and from the --included-only export
    flagged = db.session.scalars(select(Response).where(Response.wave_id == wave.id)).first()
    flagged.excluded, flagged.quality_flags = True, "straight-lining"
    transition(wave, "close")
    stored = tmp_path / "stored.json"
    args = ["score-wave", "sw", "--boot", "120", "--seed", "9", "--out", str(stored)]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "1 excluded" in result.output
    export = tmp_path / "included.csv"
    runner.invoke(
        args=["export-responses", "--wave", "sw", "--included-only", "--out", str(export)]
    )
    offline = tmp_path / "offline.json"
    result = runner.invoke(
        args=[
            "score",
            "--framework",
            "scoring/data/gulou-default.toml",
            "--responses",
            str(export),
            "--out",
            str(offline),
            "--boot",
            "120",
            "--seed",
            "9",
        ]
    )
    assert result.exit_code == 0, result.output
    assert stored.read_bytes() == offline.read_bytes()
    doc = json.loads(stored.read_text("utf-8"))
    assert doc["method"]["n_responses"] == 3 * 40 - 1
    # re-scoring with the same settings reproduces the run exactly
    again = runner.invoke(args=["score-wave", "sw", "--boot", "120", "--seed", "9"])
    assert again.exit_code == 0
    runs = db.session.scalars(
        select(ScoringRun).where(ScoringRun.wave_id == wave.id).order_by(ScoringRun.id)
    ).all()
    assert len(runs) == 2 and runs[0].result_json == runs[1].result_json
    assert [r.is_current for r in runs] == [False, True]
    assert runs[1].data_sha256 == doc["method"]["data_sha256"]


def test_score_wave_refuses_open_wave_and_bad_settings(runner, make_wave, framework_spec):
    wave = make_wave("sw2")
    fill(wave, framework_spec, n=10)
    db.session.commit()  # keep the data when the command rolls its own transaction back
    result = runner.invoke(args=["score-wave", "sw2"])
    assert result.exit_code == 1 and "不能计分" in result.output
    transition(wave, "close")
    db.session.commit()
    result = runner.invoke(args=["score-wave", "sw2", "--boot", "10"])
    assert result.exit_code == 1
    assert "boot must be a whole number from 100 to 10000, not 10" in result.output


def test_offline_scorer_bad_input_one_line(runner, tmp_path):
    bad = tmp_path / "f.toml"
    bad.write_text("[framework]\n", encoding="utf-8")
    csv = tmp_path / "r.csv"
    csv.write_text("x\n", encoding="utf-8")
    result = runner.invoke(
        args=[
            "score",
            "--framework",
            str(bad),
            "--responses",
            str(csv),
            "--out",
            str(tmp_path / "o.json"),
        ]
    )
    assert result.exit_code == 1
    assert "f.toml: framework.code: is missing" in result.output


def test_score_wave_reports_scores_without_flagged_responses(runner, make_wave, framework_spec):
    wave = make_wave("sw3")
    fill(wave, framework_spec, n=40)
    # flagged for review but kept (uniform answers alone never exclude)
    kept = db.session.scalars(
        select(Response).where(Response.wave_id == wave.id).order_by(Response.id).limit(5)
    ).all()
    for response in kept:
        response.quality_flags = "the same answer (5) on all 17 items"
    transition(wave, "close")
    result = runner.invoke(args=["score-wave", "sw3", "--boot", "120", "--seed", "9"])
    assert result.exit_code == 0, result.output
    run = db.session.scalars(select(ScoringRun).where(ScoringRun.wave_id == wave.id)).one()
    doc = json.loads(run.result_json)
    assert "flagged_sensitivity" not in doc  # the JSON stays the offline scorer's
    sens = run.settings["flagged_sensitivity"]
    assert sens["n_flagged"] == 5 and doc["method"]["n_excluded"] == 0
    assert len(sens["streets"]) == len(doc["streets"])
    assert sens["ranks_moved"] == sum(r["rank_with"] != r["rank_without"] for r in sens["streets"])
    assert sens["max_abs_change"] > 0
