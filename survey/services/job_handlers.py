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
    wave = _wave_of(job)
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


@handler("score")
def score_large_wave(job: DocumentJob, ctx: JobContext) -> None:
    """Score a (large) wave with the console's settings; the run is stored with the job."""
    from .console import score_from_console

    params = json.loads(job.params)
    wave = _wave_of(job)
    ctx.progress(0, 1, wave.code)
    run = score_from_console(
        wave,
        boot=params["boot"],
        seed=params["seed"],
        min_n=params["min_n"],
        exclude_flagged=params["exclude_flagged"],
        include_open_channel=params["include_open_channel"],
        user_id=params.get("user_id"),
    )
    ctx.complete(
        f"计分完成：{run.n_responses} 份答卷（排除 {run.n_excluded} 份），B = {run.boot}。"
    )


@handler("export")
def export_large_wave(job: DocumentJob, ctx: JobContext) -> None:
    """Write a (large) wave's responses file; it is kept on the job for download."""
    from .exports import responses_export

    params = json.loads(job.params)
    wave = _wave_of(job)
    ctx.progress(0, 1, params["name"])
    data = responses_export(wave, params["fmt"], included_only=params["included"])
    ctx.end_reads()
    ctx.complete(f"已生成 {params['name']}。", result=data, result_name=params["name"])


def _wave_of(job: DocumentJob) -> Wave:
    """The wave a job works on (waves are never deleted while a job is queued)."""
    wave = db.session.get(Wave, job.wave_id)
    if wave is None:
        raise LookupError(f"job {job.id}: wave {job.wave_id} does not exist")
    return wave
