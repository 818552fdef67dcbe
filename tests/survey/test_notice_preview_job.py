"""Notice previews render in a background job the page polls, never inside the request."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from survey.errors import UserError
from survey.extensions import db
from survey.models import DocumentJob, Notice
from survey.services import job_handlers, jobs
from survey.services.jobs import PREVIEW, run_job
from survey.services.scoring_runs import current_run

from .test_admin_notices import scored  # noqa: F401  (fixture)

DATE = "date=2026-03-31&days=30"


def _preview_url(wave, street, extra: str = "") -> str:  # type: ignore[no-untyped-def]
    return f"/admin/waves/{wave.code}/notices/preview/{street.id}?{DATE}{extra}"


def _previews(wave) -> list[DocumentJob]:  # type: ignore[no-untyped-def]
    return list(
        db.session.scalars(
            select(DocumentJob)
            .where(DocumentJob.wave_id == wave.id, DocumentJob.kind == PREVIEW)
            .order_by(DocumentJob.id)
        )
    )


def _images(page: str) -> list[str]:
    return re.findall(r'src="([^"]+\.png)"', page)


@pytest.fixture
def queued(app, monkeypatch):  # type: ignore[no-untyped-def]
    """Jobs go to a queue nobody reads (as with a worker on another host), not run inline."""
    sent: list[int] = []
    monkeypatch.setitem(app.config, "MINPING_SYNC_JOBS", False)

    def enqueue(job_id: int) -> None:
        sent.append(job_id)

    monkeypatch.setattr(jobs, "enqueue", enqueue)
    return sent


def test_preview_is_queued_and_the_page_polls_until_the_pages_are_there(
    app,
    client,
    login,
    make_user,
    scored,  # noqa: F811
    queued,
    monkeypatch,
):
    login(make_user("viewer"))  # bureau staff who may not issue may still preview
    street = scored.district.streets[0]

    def no_rendering(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the request rendered the notice")

    monkeypatch.setattr(job_handlers, "render_street_pdfs", no_rendering)
    page = client.get(_preview_url(scored, street))
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "预览排队中" in text and 'http-equiv="refresh"' in text and not _images(text)
    (job,) = _previews(scored)
    assert queued == [job.id] and job.state == "queued"
    # polling again finds the same job: no second render is queued
    again = client.get(_preview_url(scored, street)).get_data(as_text=True)
    assert "预览排队中" in again and len(_previews(scored)) == 1 and queued == [job.id]

    monkeypatch.undo()  # a worker takes the job and renders it
    app.config["MINPING_SYNC_JOBS"] = True
    run_job(job.id)
    db.session.refresh(job)
    assert job.state == "done", job.message
    done = client.get(_preview_url(scored, street)).get_data(as_text=True)
    assert 'http-equiv="refresh"' not in done
    images = _images(done)
    assert len(images) >= 4  # letter/notice, tables, attachments
    png = client.get(images[0])
    assert png.status_code == 200 and png.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert client.get(images[0].replace("/1.png", "/99.png")).status_code == 404
    # a preview is not a document and not one of the wave's jobs on the notices page
    assert db.session.scalar(select(func.count(Notice.id))) == 0
    listing = client.get(f"/admin/waves/{scored.code}/notices").get_data(as_text=True)
    assert f"/notices/jobs/{job.id}" not in listing


def test_preview_failure_shows_why_and_renders_again_on_request(
    app,
    client,
    login,
    make_user,
    scored,  # noqa: F811
    monkeypatch,
):
    login(make_user("admin"))
    street = scored.district.streets[1]
    real = job_handlers.street_notice_data

    def broken(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise UserError("区级设置缺少落款机关")

    monkeypatch.setattr(job_handlers, "street_notice_data", broken)
    text = client.get(_preview_url(scored, street)).get_data(as_text=True)
    assert "预览生成失败：区级设置缺少落款机关" in text
    assert "retry=1" in text and 'http-equiv="refresh"' not in text
    (failed,) = _previews(scored)
    assert failed.state == "failed"
    # looking again shows the failure; it does not render again by itself
    assert "预览生成失败" in client.get(_preview_url(scored, street)).get_data(as_text=True)
    assert len(_previews(scored)) == 1

    monkeypatch.setattr(job_handlers, "street_notice_data", real)
    redirected = client.get(_preview_url(scored, street, "&retry=1"))
    assert redirected.status_code == 303 and "retry" not in redirected.headers["Location"]
    retried = client.get(redirected.headers["Location"]).get_data(as_text=True)
    assert "预览生成失败" not in retried and _images(retried)
    (job,) = _previews(scored)  # the failed one was replaced
    assert job.state == "done" and "页预览" in job.message


def test_an_unexpected_error_is_logged_not_shown(
    client,
    login,
    make_user,
    scored,  # noqa: F811
    monkeypatch,
    caplog,
):
    """An unexpected error's SQL, paths and parameters stay in the log; the page gets a notice."""
    login(make_user("admin"))
    street = scored.district.streets[1]

    def broken(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("(sqlite3.OperationalError) database is locked [SQL: SELECT 1]")

    monkeypatch.setattr(job_handlers, "street_notice_data", broken)
    text = client.get(_preview_url(scored, street)).get_data(as_text=True)
    (failed,) = _previews(scored)
    assert failed.state == "failed"
    assert "系统内部错误" in failed.message and f"任务 {failed.id}" in failed.message
    assert "预览生成失败：系统内部错误" in text
    assert "sqlite3" not in text and "SQL" not in failed.message
    assert "database is locked" in caplog.text  # the operator still finds it


def test_preview_of_an_outdated_scoring_run_fails_with_a_message(
    app,
    scored,  # noqa: F811
):
    street = scored.district.streets[0]
    run = current_run(scored)
    job = jobs.create_job(
        scored,
        PREVIEW,
        {"street_id": street.id, "run_id": run.id + 1000, "issue_date": "2026-03-31", "days": 30},
        total=2,
        user_id=None,
        lock_key=f"preview:{scored.id}:{street.id}",
    )
    db.session.refresh(job)
    assert job.state == "failed" and "计分结果已经更新" in job.message
    assert job.lock_key is None  # the street may be previewed again


def test_a_real_worker_renders_the_preview_in_a_renderer_process(scratch_database_url, tmp_path):
    """With a ``minping worker`` (its own connection for progress): done, pages, nothing left."""
    import datetime as dt

    from survey.models import Street, Wave

    from .queue_support import (
        app_for,
        build_scored_wave,
        idle_in_transaction,
        process_env,
        start_worker,
        stop,
        wait_for,
    )

    queue_file = str(tmp_path / "queue.sqlite")
    app = app_for(scratch_database_url, JOB_QUEUE_PATH=queue_file)
    code = build_scored_wave(app, 3)
    env = process_env(scratch_database_url, {"MINPING_JOB_QUEUE": queue_file})
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        with app.app_context():
            wave = db.session.scalar(select(Wave).where(Wave.code == code))
            street = db.session.scalar(select(Street).where(Street.district_id == wave.district_id))
            run = current_run(wave)
            job_id = jobs.start_preview_job(
                wave, street.id, run.id, dt.date(2026, 3, 31), 30, None
            ).id
            db.session.remove()

        def state() -> str:
            with app.app_context():
                row = db.session.get(DocumentJob, job_id)
                value = row.state
                db.session.remove()
            return value

        wait_for(lambda: state() in ("done", "failed"), 120, "the preview to render")
        with app.app_context():
            job = db.session.get(DocumentJob, job_id)
            assert job.state == "done", job.message
            assert job.attempts == 1  # no lock waits, no retries
            pages = job_handlers.preview_pages(job)
            assert pages >= 4
            assert job_handlers.preview_page(job, 1)[:8] == b"\x89PNG\r\n\x1a\n"
            db.session.remove()
            db.engine.dispose()
        if scratch_database_url.startswith("postgresql"):
            wait_for(
                lambda: not idle_in_transaction(scratch_database_url), 10, "no open transaction"
            )
    finally:
        stop(worker)
