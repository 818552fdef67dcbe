"""What each kind of background job does (see :mod:`survey.services.jobs`)."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import subprocess
import tempfile
import threading
import time
import zipfile
from concurrent.futures import TimeoutError as FuturesTimeout
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import delete, select

from reports.bulk import shared_pool, submit
from reports.models import NoticeData
from reports.ranking import render_ranking_pdf

from ..errors import UserError
from ..extensions import db
from ..models import DocumentJob, Street, Wave
from ..models._base import utcnow
from .jobs import PREVIEW, JobContext, LeaseLost, RetryJob, enqueue, handler, run_job
from .notices import (
    IssuePlan,
    NumbersTaken,
    fingerprint,
    part_notice_datas,
    plan_issue,
    render_street_pdfs,
    store_issue,
    street_notice_data,
)
from .scoring_runs import current_run

log = logging.getLogger("minping.jobs")


@handler("notices")
def issue_wave_notices(job: DocumentJob, ctx: JobContext) -> None:
    """Issue every notice of the job's wave: read, render outside any transaction, store.

    A wave of more than ``NOTICE_PART`` streets is rendered in parts that any
    worker may take (this one too); the documents are stored together, in one
    transaction, once every part is done (docs/jobs.md).
    """
    params = json.loads(job.params)
    wave = _wave_of(job)
    job_id = job.id
    try:
        plan = plan_issue(wave, dt.date.fromisoformat(params["issue_date"]), params.get("days"))
        size = max(1, int(current_app.config.get("NOTICE_PART", 16)))
        if len(plan.datas) <= size:
            ctx.end_reads()
            pdfs = render_street_pdfs(
                plan.datas, progress=lambda done, _t, street: ctx.progress(done, plan.total, street)
            )
            ranking_pdf = render_ranking_pdf(plan.ranking)
        else:
            with shared_pool():  # the parts this worker renders share one warm pool
                pdfs, ranking_pdf = _render_in_parts(job_id, plan, size, ctx)
        ctx.progress(plan.total, plan.total, "通报")
        store_issue(plan, pdfs, ranking_pdf, params.get("user_id"))
    except NumbersTaken as exc:
        raise RetryJob(str(exc)) from exc
    ctx.complete("已下发全部通知书和通报。")


def _part_specs(plan: IssuePlan, size: int) -> list[str]:
    """Each part's parameters (JSON): a range of the plan's streets and their first number."""
    specs = []
    for start in range(0, len(plan.datas), size):
        spec = {
            "issue_date": plan.issue_date.isoformat(),
            "days": plan.days,
            "run_id": plan.run_id,
            "first_seq": plan.first_seq + start,
            "street_ids": plan.street_ids[start : start + size],
        }
        specs.append(json.dumps(spec, sort_keys=True))
    return specs


def _ensure_parts(job_id: int, wave_id: int, specs: list[str]) -> list[int]:
    """The job's part rows for ``specs``, reusing those of an earlier attempt of the same plan.

    Parts of another plan (other numbers, another run) and failed parts are
    deleted: a worker still rendering one then loses its lease and drops its work.
    """
    wanted = set(specs)
    kept: dict[str, int] = {}
    for part in db.session.scalars(select(DocumentJob).where(DocumentJob.parent_id == job_id)):
        if part.params in wanted and part.params not in kept and part.state != "failed":
            kept[part.params] = part.id
        else:
            db.session.delete(part)
    db.session.flush()
    now = utcnow()
    for spec in specs:
        if spec not in kept:
            part = DocumentJob(
                wave_id=wave_id,
                kind="notice_part",
                params=spec,
                total=len(json.loads(spec)["street_ids"]),
                parent_id=job_id,
                queued_at=now,
            )
            db.session.add(part)
            db.session.flush()
            kept[spec] = part.id
    db.session.commit()
    return [kept[spec] for spec in specs]


def _render_in_parts(
    job_id: int, plan: IssuePlan, size: int, ctx: JobContext
) -> tuple[list[bytes], bytes]:
    """Have the plan's streets rendered in parts by every free worker, this one included.

    :returns: the street PDFs in plan order and the ranking report's PDF.
    :raises UserError: a part failed (its message says why).
    :raises RetryJob: a part was rendered from other data than this plan's.
    """
    ctx.end_reads()  # the progress below writes on its own connection
    ctx.progress(0, plan.total, "")
    specs = _part_specs(plan, size)
    part_ids = _ensure_parts(job_id, plan.wave_id, specs)
    # The ranking report (about 9 s of one core for 300 streets) goes to this
    # worker's renderer pool first, so it is rendered while the parts are, not
    # alone after them (docs/jobs.md).
    ranking = submit(render_ranking_pdf, plan.ranking, warm=plan.datas[0])
    stop = threading.Event()
    for i, (part_id, spec) in enumerate(zip(part_ids, specs, strict=True)):
        _PLANNED[part_id] = (spec, plan.datas[i * size : (i + 1) * size])
    runners = [] if current_app.config.get("MINPING_SYNC_JOBS") else _start_runners(part_ids, stop)
    try:
        if runners:  # other workers take parts from the queue (this one has begun already)
            for part_id in part_ids:
                enqueue(part_id)
        planned = [fingerprint(d) for d in plan.datas]  # while the parts render, not after
        while True:
            ctx.check()
            rows = db.session.execute(
                select(DocumentJob.id, DocumentJob.state, DocumentJob.message).where(
                    DocumentJob.parent_id == job_id
                )
            ).all()
            db.session.commit()  # no transaction stays open while parts render
            states = {part_id: (state, message) for part_id, state, message in rows}
            if set(states) != set(part_ids):
                raise LeaseLost(f"job {job_id}: its parts were replaced")
            failed = [message for state, message in states.values() if state == "failed"]
            if failed:
                raise UserError(failed[0] or "部分通知书生成失败，未下发任何文件。")
            queued = [part_id for part_id in part_ids if states[part_id][0] == "queued"]
            if queued and not any(runner.is_alive() for runner in runners):
                run_job(queued[0])  # render it here (unless another worker claims it first)
            elif all(state == "done" for state, _ in states.values()):
                break
            else:
                time.sleep(PART_POLL)  # parts are rendering (here or on another worker)
    finally:
        stop.set()
        for part_id in part_ids:
            _PLANNED.pop(part_id, None)
    for runner in runners:
        runner.join()
    while True:
        try:
            ranking_pdf = ranking.result(timeout=PART_POLL)
            break
        except FuturesTimeout:
            ctx.check()
    pdfs = _collect_parts(job_id, plan, part_ids, planned)
    return pdfs, ranking_pdf


PART_POLL = 0.5  # seconds between two looks at parts other workers render
_PLANNED: dict[int, tuple[str, list[NoticeData]]] = {}
"""Part id -> (its params, its notices) for the parts of plans held in this process.

A part rendered by the worker holding its parent takes its notices from the
parent's plan (they are what will be stored) instead of reading them again
from the database; parts rendered elsewhere are read again and compared
(:func:`_collect_parts`)."""
PART_RUNNERS = 2  # parts this worker renders at once (their streets share one renderer pool)


def _start_runners(part_ids: list[int], stop: threading.Event) -> list[threading.Thread]:
    """Threads that take the job's queued parts and render them here, two at a time.

    With one part at a time the renderer pool ran dry at every part's end (its
    last notice rendering alone, then the next part's data being read): two
    parts in flight keep every renderer busy (docs/jobs.md).
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    runners = [
        threading.Thread(
            target=_take_parts, args=(app, part_ids, stop), name=f"parts-{i}", daemon=True
        )
        for i in range(PART_RUNNERS)
    ]
    for runner in runners:
        runner.start()
    return runners


def _take_parts(app: Flask, part_ids: list[int], stop: threading.Event) -> None:
    """Render queued parts of ``part_ids`` (in order) until none is left or ``stop`` is set."""
    with app.app_context():
        try:
            while not stop.is_set():
                part_id = db.session.scalar(
                    select(DocumentJob.id)
                    .where(DocumentJob.id.in_(part_ids), DocumentJob.state == "queued")
                    .order_by(DocumentJob.id)
                    .limit(1)
                )
                db.session.commit()
                if part_id is None:
                    return
                run_job(part_id)  # a part another thread or worker claimed first is skipped
        except Exception:  # the job's own loop renders what is left
            log.exception("parts runner stopped")
        finally:
            db.session.remove()


def _collect_parts(
    job_id: int, plan: IssuePlan, part_ids: list[int], planned: list[str]
) -> list[bytes]:
    pdfs: list[bytes] = []
    stale: list[int] = []
    for part_id in part_ids:
        bundle = db.session.scalar(select(DocumentJob.result).where(DocumentJob.id == part_id))
        digests, documents = unpack_part(bundle or b"")
        expected = planned[len(pdfs) : len(pdfs) + len(documents)]
        if digests != expected or not documents:
            stale.append(part_id)
        pdfs.extend(documents)
    db.session.commit()
    if stale or len(pdfs) != len(plan.datas):
        # rendered from other data (a setting or comment changed meanwhile): render again
        db.session.execute(delete(DocumentJob).where(DocumentJob.id.in_(stale or part_ids)))
        db.session.commit()
        raise RetryJob("生成期间数据发生了变化，将重新生成。")
    return pdfs


def pack_part(datas: list[NoticeData], pdfs: list[bytes]) -> bytes:
    """A part's result: its PDFs and the fingerprints of the data they were rendered from."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("manifest.json", json.dumps([fingerprint(d) for d in datas]))
        for i, pdf in enumerate(pdfs):
            archive.writestr(f"{i:04d}.pdf", pdf)
    return out.getvalue()


def unpack_part(bundle: bytes) -> tuple[list[str], list[bytes]]:
    """``(fingerprints, pdfs)`` of a part's result (empty for a missing or broken one)."""
    try:
        with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
            digests = json.loads(archive.read("manifest.json"))
            pdfs = [archive.read(f"{i:04d}.pdf") for i in range(len(digests))]
    except (zipfile.BadZipFile, KeyError, ValueError):
        return [], []
    return [str(d) for d in digests], pdfs


@handler("notice_part")
def render_notice_part(job: DocumentJob, ctx: JobContext) -> None:
    """Render one part of a wave's notices; the PDFs wait on the part for its parent."""
    params = json.loads(job.params)
    parent = db.session.get(DocumentJob, job.parent_id) if job.parent_id else None
    if parent is None or not parent.active:
        ctx.complete("所属任务已结束，未生成。")
        return
    planned = _PLANNED.get(job.id)
    if planned is not None and planned[0] == job.params:
        datas = planned[1]  # this process holds the parent: its plan is what gets stored
    else:
        datas = part_notice_datas(
            _wave_of(parent),
            issue_date=dt.date.fromisoformat(params["issue_date"]),
            days=params["days"],
            run_id=params["run_id"],
            street_ids=params["street_ids"],
            first_seq=params["first_seq"],
        )
    ctx.end_reads()
    pdfs = render_street_pdfs(
        datas, progress=lambda done, total, street: ctx.progress(done, total, street)
    )
    ctx.complete(f"已生成 {len(pdfs)} 份。", result=pack_part(datas, pdfs), result_name="part.zip")


PREVIEW_DPI = 70  # page images of 579 x 819 pixels, as the preview page shows them


@handler(PREVIEW)
def render_notice_preview(job: DocumentJob, ctx: JobContext) -> None:
    """Render one street's notice as it would be issued, as page images (nothing stored).

    The result is a zip of ``1.png``, ``2.png``, ... that the preview page shows.
    """
    params = json.loads(job.params)
    wave = _wave_of(job)
    run = current_run(wave)
    if run is None or run.id != params["run_id"]:
        raise UserError("计分结果已经更新，请重新打开预览。")
    street = db.session.get(Street, params["street_id"])
    if street is None or street.district_id != wave.district_id:
        raise UserError("该街道已不在本区的街道名单中。")
    name = street.name  # read now: after end_reads it would start a new transaction
    data = street_notice_data(
        wave,
        street,
        dt.date.fromisoformat(params["issue_date"]),
        params["days"],
        preview=True,
    )
    # No transaction may stay open while rendering: SQLite's write lock would keep
    # our own progress writes (another connection) and every web request waiting.
    ctx.end_reads()
    ctx.progress(0, 2, name)
    # in a renderer process: with the embedded worker this thread shares the web
    # server's interpreter, whose requests must not wait seconds for it
    (pdf,) = render_street_pdfs([data], processes=1, separate=True)
    ctx.progress(1, 2, name)
    pages = page_images(pdf, PREVIEW_DPI)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for number, png in enumerate(pages, start=1):
            archive.writestr(f"{number}.png", png)
    ctx.complete(f"已生成 {len(pages)} 页预览。", result=out.getvalue(), result_name="preview.zip")


def page_images(pdf: bytes, dpi: int) -> list[bytes]:
    """PNG images of a PDF's pages (poppler's ``pdftoppm``)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "n.pdf"
        path.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-png", "-r", str(dpi), str(path), str(Path(tmp) / "p")],
            check=True,
            timeout=60,
            capture_output=True,
        )
        return [p.read_bytes() for p in sorted(Path(tmp).glob("p-*.png"))]


def preview_page(job: DocumentJob, page: int) -> bytes | None:
    """Page ``page`` (from 1) of a finished preview job, or None."""
    if job.kind != PREVIEW or job.state != "done" or not job.result:
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(job.result)) as archive:
            return archive.read(f"{page}.png")
    except (zipfile.BadZipFile, KeyError):
        return None


def preview_pages(job: DocumentJob) -> int:
    """How many page images a finished preview job holds."""
    if job.kind != PREVIEW or job.state != "done" or not job.result:
        return 0
    try:
        with zipfile.ZipFile(io.BytesIO(job.result)) as archive:
            return len(archive.namelist())
    except zipfile.BadZipFile:
        return 0


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
