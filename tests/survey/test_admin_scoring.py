"""Scoring from the console gives exactly what the offline scorer gives on the exported CSV."""

from __future__ import annotations

import json

from scoring.offline import score_file
from survey.extensions import db
from survey.models import AuditLog, Response
from survey.services.scoring_runs import current_run

from . import admin_support as support


def test_console_scoring_matches_offline_scorer_byte_for_byte(
    client, make_wave, make_user, tmp_path
):
    wave = support.filled_wave(make_wave, code="w-bytes", per_street=50)
    admin = make_user("admin")
    support.sign_in(client, admin)
    # Exclude flagged responses, leave the open channel out: both change the data scored.
    response = support.call(
        client,
        "POST",
        f"/admin/waves/{wave.code}/score",
        data={"boot": 120, "seed": 4242, "min_n": 20, "exclude_flagged": "y"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    run = current_run(wave)
    assert run is not None and run.boot == 120 and run.seed == 4242 and run.min_n == 20
    assert wave.state == "scored" and wave.include_open_channel is False
    assert (
        run.n_excluded
        == 3
        + db.session.query(Response)
        .filter_by(wave_id=wave.id, channel="open", excluded=False)
        .count()
    )

    csv_bytes = support.call(
        client, "GET", f"/admin/waves/{wave.code}/export/responses.csv?scope=included"
    ).data
    toml = support.call(client, "GET", f"/admin/frameworks/{wave.framework_id}/export").data
    (tmp_path / "r.csv").write_bytes(csv_bytes)
    (tmp_path / "f.toml").write_bytes(toml)
    score_file(
        tmp_path / "f.toml", tmp_path / "r.csv", tmp_path / "s.json", boot=120, seed=4242, min_n=20
    )
    assert (tmp_path / "s.json").read_bytes() == run.result_json.encode("utf-8")
    # The stored result JSON is also what the API serves.
    assert json.loads(run.result_json)["method"]["boot"] == 120
    actions = {a for (a,) in db.session.query(AuditLog.action)}
    assert {"wave.score", "wave.score_run", "wave.include_open_channel"} <= actions


def test_rescore_after_review_and_stale_warning(client, make_wave, make_user):
    wave = support.scored_wave(make_wave, code="w-stale", per_street=40)
    support.sign_in(client, make_user("admin"))
    page = support.call(client, "GET", f"/admin/waves/{wave.code}").get_data(as_text=True)
    assert "已过期" not in page
    first = db.session.query(Response).filter_by(wave_id=wave.id, excluded=False).first()
    done = support.call(
        client,
        "POST",
        f"/admin/waves/{wave.code}/responses/{first.id}/exclusion",
        data={"action": "exclude", "reason": "同一设备重复提交"},
    )
    assert done.status_code == 302
    page = support.call(client, "GET", f"/admin/waves/{wave.code}").get_data(as_text=True)
    assert "已过期" in page
    again = support.call(
        client,
        "POST",
        f"/admin/waves/{wave.code}/score",
        data={
            "boot": 100,
            "seed": 1,
            "min_n": 30,
            "exclude_flagged": "y",
            "include_open_channel": "y",
        },
    )
    assert again.status_code == 302
    page = support.call(client, "GET", f"/admin/waves/{wave.code}").get_data(as_text=True)
    assert "已过期" not in page
