"""Background jobs (notice issuing, scoring, exports) with their progress and lease.

A job row is the single source of truth that every web worker reads: the task
queue only carries the job's id.  A worker that takes a job writes a fresh
``lease_id`` and keeps ``heartbeat_at`` current; a job whose heartbeat is older
than the lease is handed to another worker or failed (see
:mod:`survey.services.jobs`).  ``lock_key`` is set while a job is queued or
running and unique, so two presses of the same button get one job.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from ._base import utcnow

JOB_STATES = ("queued", "running", "done", "failed")
JOB_KINDS = ("notices", "score", "export")


class DocumentJob(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="notices")
    state: Mapped[str] = mapped_column(String(10), default="queued")
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    current: Mapped[str] = mapped_column(String(80), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    # -- the task queue: parameters, one active job per key, lease and retries --
    params: Mapped[str] = mapped_column(Text, default="{}")
    lock_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    attempts: Mapped[int] = mapped_column(default=0)
    lease_id: Mapped[str | None] = mapped_column(String(32))
    worker: Mapped[str] = mapped_column(String(120), default="")
    queued_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    result: Mapped[bytes | None] = mapped_column(LargeBinary)
    result_name: Mapped[str] = mapped_column(String(200), default="")

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running")
