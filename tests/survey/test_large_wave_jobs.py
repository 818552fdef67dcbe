"""Large waves are scored and exported by background jobs (inline in tests)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from survey.extensions import db
from survey.models import DocumentJob
from survey.services import exports
from survey.services.scoring_runs import current_run

from . import admin_support as support


@pytest.fixture
def large(app, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "JOB_LARGE_WAVE", 1)  # every wave counts as large


def test_large_wave_is_scored_by_a_job(client, make_wave, make_user, large):
    wave = support.filled_wave(make_wave, code="w-big", per_street=20)
    support.sign_in(client, make_user("admin"))
    response = support.call(
        client,
        "POST",
        f"/admin/waves/{wave.code}/score",
        data={"boot": 100, "seed": 7, "min_n": 5, "exclude_flagged": "y"},
    )
    assert response.status_code == 303
    job = db.session.scalar(select(DocumentJob).where(DocumentJob.wave_id == wave.id))
    assert (job.kind, job.state, job.lock_key) == ("score", "done", None), job.message
    assert current_run(wave).seed == 7 and wave.state == "scored"
    page = support.call(client, "GET", response.headers["Location"])
    assert "计分完成" in page.get_data(as_text=True)


def test_large_export_is_written_by_a_job_and_downloaded(client, make_wave, make_user, large):
    wave = support.filled_wave(make_wave, code="w-exp", per_street=20)
    support.sign_in(client, make_user("admin"))
    response = support.call(client, "GET", f"/admin/waves/{wave.code}/export/responses.csv")
    assert response.status_code == 303
    job = db.session.scalar(select(DocumentJob).where(DocumentJob.kind == "export"))
    assert job.state == "done" and job.result_name == "w-exp-responses.csv"
    page = support.call(client, "GET", response.headers["Location"]).get_data(as_text=True)
    assert f"/admin/jobs/{job.id}/result" in page
    download = support.call(client, "GET", f"/admin/jobs/{job.id}/result")
    assert download.status_code == 200
    assert download.data == exports.responses_export(wave, "csv")
    assert "filename*=UTF-8''w-exp-responses.csv" in download.headers["Content-Disposition"]
