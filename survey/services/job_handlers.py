"""What each kind of background job does (see :mod:`survey.services.jobs`)."""

from __future__ import annotations

import datetime as dt
import json

from ..extensions import db
from ..models import DocumentJob, Wave
from .jobs import JobContext, RetryJob, handler
from .notices import NumbersTaken, issue_notices


@handler("notices")
def issue_wave_notices(job: DocumentJob, ctx: JobContext) -> None:
    """Issue every notice of the job's wave: read, render outside any transaction, store."""
    params = json.loads(job.params)
    wave = db.session.get(Wave, job.wave_id)
    try:
        issue_notices(
            wave,
            issue_date=dt.date.fromisoformat(params["issue_date"]),
            days=params.get("days"),
            user_id=params.get("user_id"),
            progress=ctx.progress,
            before_render=ctx.end_reads,
        )
    except NumbersTaken as exc:
        raise RetryJob(str(exc)) from exc
    ctx.complete("已下发全部通知书和通报。")
