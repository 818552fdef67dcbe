"""Background jobs: create, claim with a lease, heartbeat, progress, finish, reap.

A job is a :class:`~survey.models.DocumentJob` row; the task queue
(:mod:`survey.queue`) only carries its id.  Every web worker therefore sees the
same progress, whichever process runs the job.

The life of a job (docs/jobs.md):

* ``create_job`` inserts it ``queued`` with a ``lock_key`` (unique while the job
  is active: a second press gets :class:`JobBusy`, never a database error) and
  hands its id to the queue.
* A worker ``claim``\\ s it: ``running``, a fresh ``lease_id``, ``attempts + 1``.
  A heartbeat thread keeps ``heartbeat_at`` current; every write the worker
  makes afterwards is conditional on still holding the lease.
* The handler reads what it needs, ends its read transaction
  (``JobContext.end_reads``) before long work (PDF rendering), then writes
  its results and ``JobContext.complete`` in one short transaction.
* ``reap`` (run by every worker every few seconds, and by the web pages that
  show jobs) hands a job whose heartbeat is older than the lease back to the
  queue, or fails it after ``MINPING_JOB_ATTEMPTS`` attempts: no job stays
  ``running`` after its worker died.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from ..extensions import db, rowcount
from ..models import DocumentJob, Wave
from ..models._base import utcnow

log = logging.getLogger("minping.jobs")

#: Set by ``minping worker`` on SIGTERM: running jobs hand themselves back to the queue.
STOPPING = threading.Event()
WORKER_NAME = f"{socket.gethostname()}:{os.getpid()}"


class JobBusy(Exception):
    """Another job holds the same lock key (e.g. this wave's notices are being issued)."""

    def __init__(self, job: DocumentJob | None):
        self.job = job
        super().__init__("busy")


class RetryJob(Exception):
    """The job cannot finish now but may on another attempt (e.g. numbers taken meanwhile)."""


class LeaseLost(Exception):
    """Another worker (or the reaper) took the job over; this worker must not write."""


class JobInterrupted(Exception):
    """The worker is stopping; the job goes back to the queue."""


def lease_seconds() -> int:
    return int(current_app.config.get("JOB_LEASE_SECONDS", 30))


def max_attempts() -> int:
    return int(current_app.config.get("JOB_ATTEMPTS", 3))


def _inline() -> bool:
    return bool(current_app.config.get("MINPING_SYNC_JOBS"))


# -- creating ------------------------------------------------------------------


def active_job(lock_key: str) -> DocumentJob | None:
    return db.session.scalar(select(DocumentJob).where(DocumentJob.lock_key == lock_key))


def create_job(
    wave: Wave,
    kind: str,
    params: dict[str, Any],
    *,
    total: int,
    user_id: int | None,
    lock_key: str,
) -> DocumentJob:
    """Insert a queued job, commit, and hand it to the queue.

    :raises JobBusy: a job with the same ``lock_key`` is queued or running (also
        when two requests race: the unique key decides, the loser gets this).
    """
    busy = active_job(lock_key)
    if busy is not None:
        raise JobBusy(busy)
    job = DocumentJob(
        wave_id=wave.id,
        kind=kind,
        params=json.dumps(params, ensure_ascii=False, sort_keys=True),
        total=total,
        created_by_id=user_id,
        lock_key=lock_key,
        queued_at=utcnow(),
    )
    db.session.add(job)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise JobBusy(active_job(lock_key)) from None
    enqueue(job.id)
    return job


def enqueue(job_id: int) -> None:
    """Hand a job to the queue (or, with ``MINPING_SYNC_JOBS``, run it here and now)."""
    if _inline():
        run_job(job_id)
        return
    from ..queue import get_queue

    get_queue(current_app).enqueue_job(job_id)


# -- running -------------------------------------------------------------------


@dataclass
class JobContext:
    """What a handler uses to report progress and finish, all under the job's lease."""

    job_id: int
    lease_id: str
    engine: Engine | None  # None: inline (tests), write through the session
    parent_id: int | None = None  # a part: its progress adds up on this job
    lost: threading.Event = field(default_factory=threading.Event)
    _last_write: float = 0.0

    def check(self) -> None:
        """Raise if the lease was lost or the worker is stopping."""
        if self.lost.is_set():
            raise LeaseLost(f"job {self.job_id} was taken over")
        if self.engine is not None and STOPPING.is_set():
            raise JobInterrupted(f"job {self.job_id}: worker stopping")

    def progress(self, done: int, total: int, current: str) -> None:
        """Record progress (visible to every web worker); at most ~4 writes a second."""
        self.check()
        now = time.monotonic()
        if done < total and now - self._last_write < 0.25:
            return
        self._last_write = now
        values = {"done": done, "total": total, "current": current[:80], "heartbeat_at": utcnow()}
        if not self._write(values):
            self.lost.set()
            self.check()

    def end_reads(self) -> None:
        """End the read transaction before long work (no locks held while rendering)."""
        if self.engine is not None:
            db.session.commit()

    def complete(self, message: str, result: bytes | None = None, result_name: str = "") -> None:
        """Mark the job done inside the caller's (uncommitted) transaction.

        :raises LeaseLost: the job is no longer this worker's; roll back.
        """
        done = db.session.execute(
            update(DocumentJob)
            .where(DocumentJob.id == self.job_id, DocumentJob.lease_id == self.lease_id)
            .values(
                state="done",
                done=DocumentJob.total,
                message=message,
                finished_at=utcnow(),
                lock_key=None,
                lease_id=None,
                result=result,
                result_name=result_name,
            )
        )
        if rowcount(done) != 1:
            raise LeaseLost(f"job {self.job_id} was taken over")
        if self.parent_id is not None:
            db.session.execute(_parent_progress(self.parent_id, ""))
        else:
            db.session.execute(delete(DocumentJob).where(DocumentJob.parent_id == self.job_id))

    def _write(self, values: dict[str, Any]) -> bool:
        stmt = (
            update(DocumentJob)
            .where(DocumentJob.id == self.job_id, DocumentJob.lease_id == self.lease_id)
            .values(**values)
        )
        parent = None
        if self.parent_id is not None and "done" in values:
            parent = _parent_progress(self.parent_id, values.get("current", ""))
        if self.engine is None:
            written = rowcount(db.session.execute(stmt)) == 1
            if written and parent is not None:
                db.session.execute(parent)
            return written
        with self.engine.begin() as conn:
            written = rowcount(conn.execute(stmt)) == 1
            if written and parent is not None:
                conn.execute(parent)
            return written


def _parent_progress(parent_id: int, current: str) -> Any:
    """UPDATE a running parent's ``done`` to the sum of its parts' (every worker sees it)."""
    part = aliased(DocumentJob)
    done = (
        select(func.coalesce(func.sum(part.done), 0))
        .where(part.parent_id == parent_id)
        .scalar_subquery()
    )
    values: dict[str, Any] = {"done": done}
    if current:
        values["current"] = current[:80]
    return (
        update(DocumentJob)
        .where(DocumentJob.id == parent_id, DocumentJob.state == "running")
        .values(**values)
    )


Handler = Callable[[DocumentJob, JobContext], None]
HANDLERS: dict[str, Handler] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that runs jobs of ``kind``."""

    def register(func: Handler) -> Handler:
        HANDLERS[kind] = func
        return func

    return register


def claim(job_id: int, worker: str = WORKER_NAME) -> str | None:
    """Take a queued job: returns the new lease id, or None if it is not queued."""
    lease = uuid.uuid4().hex
    now = utcnow()
    taken = db.session.execute(
        update(DocumentJob)
        .where(DocumentJob.id == job_id, DocumentJob.state == "queued")
        .values(
            state="running",
            lease_id=lease,
            worker=worker[:120],
            attempts=DocumentJob.attempts + 1,
            started_at=now,
            heartbeat_at=now,
        )
    )
    db.session.commit()
    return lease if rowcount(taken) == 1 else None


def run_job(job_id: int, worker: str = WORKER_NAME) -> None:
    """Claim and run one job; record its outcome.  Never raises for the job's own errors."""
    from . import job_handlers  # noqa: F401  (registers the handlers)

    lease = claim(job_id, worker)
    if lease is None:
        return  # finished, failed or taken by another worker: a duplicate delivery
    inline = _inline()
    job = db.session.get(DocumentJob, job_id)
    assert job is not None  # this worker holds its lease
    ctx = JobContext(job_id, lease, None if inline else db.engine, parent_id=job.parent_id)
    beat = None if inline else _Heartbeat(ctx, max(1.0, lease_seconds() / 6))
    try:
        run = HANDLERS[job.kind]
        if beat:
            beat.start()
        run(job, ctx)
        db.session.commit()
    except JobInterrupted:
        db.session.rollback()
        _release(ctx, "后台进程停止，任务已重新排队。", count_attempt=False)
    except RetryJob as exc:
        db.session.rollback()
        _release(ctx, str(exc), count_attempt=True)
    except LeaseLost:
        db.session.rollback()
        log.warning("job %s: lease lost, results discarded", job_id)
    except Exception as exc:  # noqa: BLE001 - recorded on the job, shown to the admin
        db.session.rollback()
        log.exception("job %s failed", job_id)
        _finish_failed(ctx, failure_message(job_id, exc))
    finally:
        if beat:
            beat.stop()


def failure_message(job_id: int, exc: Exception) -> str:
    """What a failed job shows its user: a :class:`UserError`'s own words, else a plain notice.

    An unexpected error's text (SQL, file paths, parameters) goes to the log
    with its traceback, never onto the page; the job number finds it there.
    """
    from ..errors import UserError

    if isinstance(exc, UserError):
        return str(exc)
    return (
        f"系统内部错误（任务 {job_id}，详情已记入服务器日志）。"
        "请稍后重试；如仍失败，请联系系统管理员。"
    )


def _finish_failed(ctx: JobContext, message: str) -> None:
    failed = db.session.execute(
        update(DocumentJob)
        .where(DocumentJob.id == ctx.job_id, DocumentJob.lease_id == ctx.lease_id)
        .values(state="failed", message=message, finished_at=utcnow(), lock_key=None, lease_id=None)
    )
    if rowcount(failed) == 1:  # its parts (rendered documents) are of no use any more
        db.session.execute(delete(DocumentJob).where(DocumentJob.parent_id == ctx.job_id))
    db.session.commit()


def _release(ctx: JobContext, message: str, *, count_attempt: bool) -> None:
    """Put a running job back in the queue (or fail it when out of attempts)."""
    job = db.session.get(DocumentJob, ctx.job_id)
    if job is None or job.lease_id != ctx.lease_id:
        return
    if count_attempt and job.attempts >= max_attempts():
        _finish_failed(ctx, message)
        return
    db.session.execute(
        update(DocumentJob)
        .where(DocumentJob.id == ctx.job_id, DocumentJob.lease_id == ctx.lease_id)
        .values(
            state="queued",
            lease_id=None,
            worker="",
            message=message,
            queued_at=utcnow(),
            attempts=DocumentJob.attempts - (0 if count_attempt else 1),
        )
    )
    db.session.commit()
    if not STOPPING.is_set():
        enqueue(ctx.job_id)
    else:
        _enqueue_quietly(ctx.job_id)


def _enqueue_quietly(job_id: int) -> None:
    try:
        from ..queue import get_queue

        get_queue(current_app).enqueue_job(job_id)
    except Exception:  # noqa: BLE001 - the reaper re-enqueues queued jobs anyway
        log.exception("job %s: could not re-enqueue", job_id)


class _Heartbeat:
    """Keep a running job's ``heartbeat_at`` current from a side thread."""

    def __init__(self, ctx: JobContext, every: float):
        self.ctx, self.every = ctx, every
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"heartbeat-{ctx.job_id}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.every + 15)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                if not self.ctx._write({"heartbeat_at": utcnow()}):
                    self.ctx.lost.set()
                    return
            except Exception:  # noqa: BLE001 - a missed beat is retried next time
                log.warning("job %s: heartbeat failed", self.ctx.job_id, exc_info=True)


# -- reaping -------------------------------------------------------------------


def reap(now: dt.datetime | None = None) -> list[int]:
    """Requeue or fail running jobs whose worker stopped beating; re-send stale queued ones.

    Safe to run from any number of processes at once: every change is a
    conditional UPDATE on the job's lease.

    :returns: ids of the jobs handed back to the queue.
    """
    now = now or utcnow()
    cutoff = now - dt.timedelta(seconds=lease_seconds())
    stale = db.session.execute(
        select(
            DocumentJob.id, DocumentJob.lease_id, DocumentJob.attempts, DocumentJob.worker
        ).where(DocumentJob.state == "running", DocumentJob.heartbeat_at < cutoff)
    ).all()
    requeued: list[int] = []
    for job_id, lease, attempts, worker in stale:
        gone = f"执行任务的后台进程（{worker}）已中断"
        if attempts >= max_attempts():
            values: dict[str, Any] = {
                "state": "failed",
                "message": f"{gone}，已尝试 {attempts} 次。请重新操作。",
                "finished_at": now,
                "lock_key": None,
                "lease_id": None,
            }
        else:
            values = {
                "state": "queued",
                "message": f"{gone}，已重新排队（第 {attempts + 1} 次尝试）。",
                "queued_at": now,
                "lease_id": None,
                "worker": "",
            }
        changed = db.session.execute(
            update(DocumentJob)
            .where(
                DocumentJob.id == job_id,
                DocumentJob.lease_id == lease,
                DocumentJob.heartbeat_at < cutoff,
            )
            .values(**values)
        )
        if rowcount(changed) == 1 and values["state"] == "queued":
            requeued.append(job_id)
        elif rowcount(changed) == 1:
            db.session.execute(delete(DocumentJob).where(DocumentJob.parent_id == job_id))
    # A queued job nobody took for two leases (a message lost with a queue
    # server restart, say): send it again; claiming makes duplicates harmless.
    # (Not parts: the worker holding their parent job takes queued parts itself.)
    lost = db.session.scalars(
        select(DocumentJob.id).where(
            DocumentJob.state == "queued",
            DocumentJob.parent_id.is_(None),
            DocumentJob.queued_at < now - dt.timedelta(seconds=2 * lease_seconds()),
        )
    ).all()
    for job_id in lost:
        db.session.execute(
            update(DocumentJob).where(DocumentJob.id == job_id).values(queued_at=now)
        )
    db.session.commit()
    if stale or lost:
        log.warning("reaped jobs: requeued %s, re-sent %s", requeued, list(lost))
    if not _inline():
        for job_id in [*requeued, *lost]:
            _enqueue_quietly(job_id)
    return requeued


def job_progress(job: DocumentJob) -> tuple[int, int, str]:
    """``(done, total, current)`` of a job, as stored (every worker sees the same)."""
    return job.done, job.total, job.current


# -- the notices job -----------------------------------------------------------


def start_notice_job(
    wave: Wave, issue_date: dt.date, days: int | None, user_id: int | None
) -> DocumentJob:
    """Queue a job that issues ``wave``'s notices (commits the job row).

    :raises WaveStateError: the wave is not scored (checked before anything starts).
    :raises JobBusy: this wave already has a job queued or running.
    """
    from .waves import check_transition

    check_transition(wave, "issue")
    return create_job(
        wave,
        "notices",
        {"issue_date": issue_date.isoformat(), "days": days, "user_id": user_id},
        total=len(wave.district.streets) + 1,
        user_id=user_id,
        lock_key=f"wave:{wave.id}",
    )


# -- notice previews -------------------------------------------------------------

PREVIEW = "preview"


def preview_params(street_id: int, run_id: int, issue_date: dt.date, days: int | None) -> str:
    """A preview job's ``params``: equal for equal previews (the page finds it again)."""
    return json.dumps(
        {
            "street_id": street_id,
            "run_id": run_id,
            "issue_date": issue_date.isoformat(),
            "days": days,
        },
        sort_keys=True,
    )


def latest_preview(wave: Wave, params: str) -> DocumentJob | None:
    """The newest preview job of ``wave`` with exactly these ``params``, if any."""
    return db.session.scalar(
        select(DocumentJob)
        .where(
            DocumentJob.wave_id == wave.id,
            DocumentJob.kind == PREVIEW,
            DocumentJob.params == params,
        )
        .order_by(DocumentJob.id.desc())
        .limit(1)
    )


def start_preview_job(
    wave: Wave,
    street_id: int,
    run_id: int,
    issue_date: dt.date,
    days: int | None,
    user_id: int | None,
) -> DocumentJob:
    """Queue rendering one street's notice preview as page images (commits the job row).

    One preview per street renders at a time (a second request for the same
    street finds the running one: :class:`JobBusy`).  Earlier finished previews
    of the street are deleted with it, so previews never pile up.
    """
    lock_key = f"preview:{wave.id}:{street_id}"
    busy = active_job(lock_key)
    if busy is not None:
        raise JobBusy(busy)
    finished = db.session.scalars(
        select(DocumentJob).where(
            DocumentJob.wave_id == wave.id,
            DocumentJob.kind == PREVIEW,
            DocumentJob.state.in_(("done", "failed")),
        )
    ).all()
    for old in finished:
        if json.loads(old.params).get("street_id") == street_id:
            db.session.delete(old)  # committed with the new job
    return create_job(
        wave,
        PREVIEW,
        json.loads(preview_params(street_id, run_id, issue_date, days)),
        total=2,  # the PDF, then its page images
        user_id=user_id,
        lock_key=lock_key,
    )


# -- large waves: scoring and exports as jobs ------------------------------------


def is_large(wave: Wave) -> bool:
    """Whether ``wave`` has enough responses that scoring and exports run as jobs."""
    from sqlalchemy import func

    from ..models import Response

    threshold = int(current_app.config.get("JOB_LARGE_WAVE", 20_000))
    count = db.session.scalar(select(func.count(Response.id)).where(Response.wave_id == wave.id))
    return int(count or 0) >= threshold


def start_score_job(wave: Wave, settings: dict[str, Any], user_id: int | None) -> DocumentJob:
    """Queue scoring of ``wave`` with the console's ``settings`` (commits the job row).

    :raises WaveStateError: the wave cannot be scored now.
    :raises JobBusy: this wave already has a job queued or running.
    """
    from .waves import check_transition

    check_transition(wave, "score")
    return create_job(
        wave,
        "score",
        {**settings, "user_id": user_id},
        total=1,
        user_id=user_id,
        lock_key=f"wave:{wave.id}",
    )


def start_export_job(
    wave: Wave, fmt: str, included: bool, name: str, user_id: int | None
) -> DocumentJob:
    """Queue a responses export of ``wave`` (one per wave, format and scope at a time)."""
    scope = "included" if included else "all"
    return create_job(
        wave,
        "export",
        {"fmt": fmt, "included": included, "name": name},
        total=1,
        user_id=user_id,
        lock_key=f"export:{wave.id}:{fmt}:{scope}",
    )
