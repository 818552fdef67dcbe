"""Notices: preview as page images, issue all (background job with progress), download."""

from __future__ import annotations

import datetime as dt

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..auth.decorators import ADMIN, BUREAU, roles_required
from ..auth.scope import require_wave
from ..downloads import content_disposition
from ..edges import bounded_int
from ..errors import attempt
from ..extensions import db
from ..models import DocumentJob, Notice, Street, Wave
from ..services.console_preview import issue_preview
from ..services.job_handlers import preview_page, preview_pages
from ..services.jobs import (
    PREVIEW,
    JobBusy,
    job_progress,
    latest_preview,
    preview_params,
    reap,
    start_notice_job,
    start_preview_job,
)
from ..services.notices import correct_notice, default_issue_date, wave_notices
from ..services.scoring_runs import current_run
from ..services.waves import WaveStateError
from . import bp
from .forms import ConfirmForm, IssueForm
from .waves import get_wave_or_404


def pdf_response(data: bytes, filename: str, inline: bool = False) -> Response:
    """Send PDF bytes with a UTF-8 file name (RFC 6266)."""
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = content_disposition(filename, inline=inline)
    return response


@bp.get("/waves/<code>/notices")
@roles_required(*BUREAU)
def notices(code: str) -> ResponseReturnValue:
    """List the wave's documents; offer preview and issuing when the wave is scored."""
    wave = get_wave_or_404(code)
    form = IssueForm(
        formdata=None, issue_date=default_issue_date(), days=wave.district.deadline_days
    )
    return _notices_page(wave, form)


def _notices_page(wave: Wave, form: IssueForm, status: int = 200) -> tuple[str, int]:
    reap()  # a job whose worker died shows as re-queued or failed, never "running" forever
    jobs = db.session.scalars(
        select(DocumentJob)
        .where(
            DocumentJob.wave_id == wave.id,
            DocumentJob.parent_id.is_(None),
            DocumentJob.kind != PREVIEW,  # previews show on their own page
        )
        .order_by(DocumentJob.id.desc())
    ).all()
    return render_template(
        "admin/notices/list.html",
        wave=wave,
        docs=wave_notices(wave, kinds=("notice", "letter", "ranking", "escalation", "supplement")),
        form=form,
        confirm=ConfirmForm(),
        run=current_run(wave),
        jobs=jobs[:3],
        progress=job_progress,
    ), status


@bp.get("/waves/<code>/notices/issue")
@roles_required(*ADMIN)
def issue_confirm(code: str) -> ResponseReturnValue:
    """Show what issuing would create (how many documents, which numbers) before doing it."""
    wave = get_wave_or_404(code)
    form = IssueForm(request.args, meta={"csrf": False})
    if not form.validate():
        return _notices_page(wave, form, status=400)
    if wave.state != "scored":
        flash(_("只有“已计分”的测评批次可以下发通知书。"), "error")
        return redirect(url_for("admin.notices", code=code)), 303
    done = attempt(lambda: issue_preview(wave, form.issue_date.data, form.days.data), commit=False)
    if done.failed:
        return redirect(url_for("admin.notices", code=code)), 303
    preview = done.result
    post = IssueForm(formdata=None, issue_date=form.issue_date.data, days=form.days.data)
    return render_template("admin/notices/confirm.html", wave=wave, preview=preview, form=post)


@bp.post("/waves/<code>/notices/issue")
@roles_required(*ADMIN)
def issue(code: str) -> ResponseReturnValue:
    """Start issuing every notice of a scored wave."""
    wave = get_wave_or_404(code)
    form = IssueForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(url_for("admin.notices", code=code)), 303
    try:
        job = start_notice_job(wave, form.issue_date.data, form.days.data, current_user.id)
    except WaveStateError as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.notices", code=code)), 303
    except JobBusy as busy:
        flash(_("本批次已有一项任务正在进行，请等它完成；无需再次下发。"), "error")
        if busy.job is not None:
            return redirect(url_for("admin.notice_job", code=code, job_id=busy.job.id)), 303
        return redirect(url_for("admin.notices", code=code)), 303
    return redirect(url_for("admin.notice_job", code=code, job_id=job.id)), 303


@bp.get("/waves/<code>/notices/jobs/<int:job_id>")
@roles_required(*BUREAU)
def notice_job(code: str, job_id: int) -> ResponseReturnValue:
    """Show a job's progress (the page refreshes itself while the job runs)."""
    wave = get_wave_or_404(code)
    reap()
    job = db.session.get(DocumentJob, job_id)
    if job is None or job.wave_id != wave.id:
        abort(404)
    done, total, current = job_progress(job)
    return render_template(
        "admin/notices/job.html", wave=wave, job=job, done=done, total=total, current=current
    )


def _preview_date() -> tuple[dt.date, int | None]:
    try:
        day = dt.date.fromisoformat(request.args.get("date", ""))
    except ValueError:
        day = default_issue_date()
    days = request.args.get("days", type=bounded_int)
    return day, days if days and 1 <= days <= 365 else None


def _street_of(wave: Wave, street_id: int) -> Street:
    street = db.session.get(Street, street_id)
    if street is None or street.district_id != wave.district_id:
        abort(404)
    return street


@bp.get("/waves/<code>/notices/preview/<int:street_id>")
@roles_required(*BUREAU)
def notice_preview(code: str, street_id: int) -> ResponseReturnValue:
    """Preview one street's notice as page images before issuing.

    The notice renders in a background job (docs/jobs.md), never in this
    request: the page shows the job's state and refreshes itself until the
    page images are there.  The same preview (street, scoring run, date,
    deadline days) is rendered once and shown again from the job; ``retry=1``
    renders it again after a failure.
    """
    wave = get_wave_or_404(code)
    street = _street_of(wave, street_id)
    run = current_run(wave)
    if run is None:
        abort(409, _("本批次还没有计分结果。"))
    day, days = _preview_date()
    reap()
    job = latest_preview(wave, preview_params(street.id, run.id, day, days))
    retry = request.args.get("retry") == "1"
    if job is None or (job.state == "failed" and retry):
        try:
            job = start_preview_job(wave, street.id, run.id, day, days, current_user.id)
        except JobBusy as busy:  # another request started it a moment ago
            job = busy.job
        if job is None:
            abort(409, _("预览正在生成，请稍后刷新本页。"))
        db.session.refresh(job)  # rendered already when jobs run inline
    if retry:  # the page refreshes itself: without ``retry`` in its address
        return redirect(
            url_for(
                "admin.notice_preview",
                code=wave.code,
                street_id=street.id,
                date=day.isoformat(),
                days=days,
            ),
            303,
        )
    return render_template(
        "admin/notices/preview.html",
        wave=wave,
        street=street,
        job=job,
        pages=preview_pages(job),
        day=day,
        days=days,
    )


@bp.get("/waves/<code>/notices/previews/<int:job_id>/<int:page>.png")
@roles_required(*BUREAU)
def notice_preview_page(code: str, job_id: int, page: int) -> ResponseReturnValue:
    """One page image of a rendered notice preview."""
    wave = get_wave_or_404(code)
    job = db.session.get(DocumentJob, job_id)
    if job is None or job.wave_id != wave.id:
        abort(404)
    png = preview_page(job, page)
    if png is None:
        abort(404)
    response = Response(png, mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.get("/notices/<int:notice_id>.pdf")
@roles_required(*BUREAU)
def notice_pdf(notice_id: int) -> ResponseReturnValue:
    """Download an issued document exactly as issued."""
    notice = db.session.get(Notice, notice_id)
    if notice is None:
        abort(404)
    require_wave(notice.wave_id)
    name = notice.street.full_name if notice.street else notice.title
    return pdf_response(notice.pdf, f"{notice.doc_number or notice.id} {name}.pdf")


@bp.post("/notices/<int:notice_id>/correct")
@roles_required(*ADMIN)
def correct(notice_id: int) -> ResponseReturnValue:
    """Issue a correction notice that references (and never changes) the original."""
    notice = db.session.get(Notice, notice_id)
    if notice is None:
        abort(404)
    require_wave(notice.wave_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    done = attempt(lambda: correct_notice(notice, user_id=current_user.id))
    if done.failed:
        return redirect(url_for("admin.notices", code=notice.wave.code)), 303
    new = done.result
    flash(_("已下发更正通知书 %(number)s。", number=new.doc_number), "success")
    return redirect(url_for("admin.notices", code=notice.wave.code)), 303
