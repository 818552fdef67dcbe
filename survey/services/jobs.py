"""Run document jobs in a background thread, recording progress in the database.

The web request that starts a job returns at once; the page then refreshes
itself (a meta refresh, no JavaScript) and shows ``done / total``.  With
``MINPING_SYNC_JOBS`` set (tests), the job runs inline in the request.
"""

from __future__ import annotations

import datetime as dt
import threading

from flask import Flask, current_app

from ..extensions import db
from ..models import DocumentJob, Wave
from ..models._base import utcnow
from .notices import issue_notices
from .waves import check_transition

PROGRESS: dict[int, tuple[int, int, str]] = {}


def job_progress(job: DocumentJob) -> tuple[int, int, str]:
    """``(done, total, current)`` of a job, live while it runs in this process."""
    if job.state == "running" and job.id in PROGRESS:
        return PROGRESS[job.id]
    return job.done, job.total, job.current


def start_notice_job(
    wave: Wave, issue_date: dt.date, days: int | None, user_id: int | None
) -> DocumentJob:
    """Create a job that issues ``wave``'s notices and start it (commits the job row).

    :raises WaveStateError: the wave is not scored (checked before anything starts).
    """
    check_transition(wave, "issue")
    job = DocumentJob(
        wave_id=wave.id,
        kind="notices",
        total=len(wave.district.streets) + 1,
        created_by_id=user_id,
    )
    db.session.add(job)
    db.session.commit()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    args = (app, job.id, wave.id, issue_date, days, user_id)
    if app.config.get("MINPING_SYNC_JOBS"):
        _run(*args, inline=True)
    else:
        threading.Thread(target=_run, args=args, daemon=True, name=f"job-{job.id}").start()
    return job


def _run(
    app: Flask,
    job_id: int,
    wave_id: int,
    issue_date: dt.date,
    days: int | None,
    user_id: int | None,
    inline: bool = False,
) -> None:
    """Issue the notices, committing progress after each document."""

    def work() -> None:
        job = db.session.get(DocumentJob, job_id)
        wave = db.session.get(Wave, wave_id)
        job.state = "running"
        db.session.commit()

        def progress(done: int, total: int, name: str) -> None:
            # Kept in memory: the issuing transaction stays open (all or nothing), and
            # SQLite would not let a second connection write meanwhile.
            PROGRESS[job_id] = (done, total, name)

        try:
            issue_notices(
                wave, issue_date=issue_date, days=days, user_id=user_id, progress=progress
            )
            db.session.commit()
            job = db.session.get(DocumentJob, job_id)
            job.state, job.done, job.finished_at = "done", job.total, utcnow()
            job.message = "已下发全部通知书和通报。"
        except Exception as exc:  # noqa: BLE001 - recorded on the job, shown to the admin
            db.session.rollback()
            job = db.session.get(DocumentJob, job_id)
            job.state, job.finished_at, job.message = "failed", utcnow(), str(exc)
        db.session.commit()
        PROGRESS.pop(job_id, None)

    if inline:
        work()
        return
    with app.app_context():
        try:
            work()
        finally:
            db.session.remove()
