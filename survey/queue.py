"""The task queue: Huey on Redis (``REDIS_URL``) or on a SQLite file (the embedded default).

Huey only delivers job ids; the job itself, its progress, lease and result
live in the database (:mod:`survey.services.jobs`), so every web worker on
every host shows the same progress.  Jobs run either in ``minping worker``
processes (any number, any host that reaches the database and Redis) or, for
the demo and single-host installations without Redis, in an embedded thread
of each web process.  docs/jobs.md explains the choice of Huey.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from flask import Flask
from huey import RedisHuey, SqliteHuey
from huey.api import Huey

from .extensions import db

log = logging.getLogger("minping.jobs")
_LOCK = threading.Lock()
REAP_EVERY = 5.0  # seconds between two reaper passes in a worker


class JobQueue:
    """One Huey instance per app, with the single task that runs a job by id."""

    def __init__(self, app: Flask):
        self.app = app
        self.huey: Huey = make_huey(app)

        def run_job_task(job_id: int) -> None:
            from .services.jobs import run_job

            with app.app_context():
                try:
                    run_job(job_id)
                finally:
                    db.session.remove()

        self.task = self.huey.task(name="minping.run_job")(run_job_task)

    def enqueue_job(self, job_id: int) -> None:
        self.task(job_id)

    @property
    def description(self) -> str:
        url = self.app.config.get("REDIS_URL")
        return "redis" if url else f"sqlite:{queue_path(self.app)}"


def queue_path(app: Flask) -> Path:
    return Path(app.config.get("JOB_QUEUE_PATH") or Path(app.instance_path) / "minping-jobs.sqlite")


def make_huey(app: Flask) -> Huey:
    """Huey on Redis when ``REDIS_URL`` is set, else on a SQLite file (no server needed)."""
    url = app.config.get("REDIS_URL")
    if url:
        return RedisHuey("minping", url=url, results=False, utc=True)
    path = queue_path(app)
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("minping", filename=str(path), results=False, utc=True, timeout=10)


def get_queue(app: Flask) -> JobQueue:
    """This process's queue for ``app`` (created on first use, after any fork)."""
    key = f"minping_queue_{os.getpid()}"
    with _LOCK:
        queue = app.extensions.get(key)
        if queue is None:
            queue = app.extensions[key] = JobQueue(app)
        return queue


def reap_once(app: Flask) -> None:
    from .services.jobs import reap

    with app.app_context():
        try:
            reap()
        except Exception:  # noqa: BLE001 - the next pass tries again
            log.exception("reaper pass failed")
        finally:
            db.session.remove()


def reaper_loop(app: Flask, stop: threading.Event, every: float = REAP_EVERY) -> None:
    """Hand jobs of dead workers back to the queue, every ``every`` seconds."""
    while not stop.wait(every):
        reap_once(app)


_EMBEDDED: dict[int, threading.Thread] = {}


def start_embedded_worker(app: Flask) -> None:
    """Run queued jobs in a daemon thread of this process (once per process)."""
    if app.config.get("MINPING_SYNC_JOBS") or not app.config.get("EMBEDDED_WORKER"):
        return
    with _LOCK:
        if os.getpid() in _EMBEDDED:
            return
        thread = threading.Thread(
            target=_embedded_loop, args=(app,), name="minping-jobs", daemon=True
        )
        _EMBEDDED[os.getpid()] = thread
    thread.start()


def _embedded_loop(app: Flask) -> None:
    queue = get_queue(app)
    next_reap = 0.0
    while True:
        try:
            task = queue.huey.dequeue()
            if task is not None:
                queue.huey.execute(task)
            elif not queue.huey.storage.blocking:
                time.sleep(0.5)
        except Exception:  # noqa: BLE001 - keep serving jobs
            log.exception("embedded job worker")
            time.sleep(2)
        if time.monotonic() >= next_reap:
            reap_once(app)
            next_reap = time.monotonic() + REAP_EVERY
