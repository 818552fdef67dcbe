"""Agency pages: waves, fieldwork dashboard, invitation batches and QR sheets, imports."""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice as C

from scoring.exchange import ExchangeError

from ..auth.decorators import AGENCY, FIELDWORK_VIEWERS, roles_required
from ..downloads import content_disposition
from ..extensions import db
from ..models import Community, InvitationBatch, Street, Wave
from ..services import fieldwork
from ..services.frameworks import spec_of
from ..services.invitations import create_batch, invitation_url
from ..services.qr_sheets import qr_sheet_pdf
from ..services.quality import flag_wave
from ..services.source_influence import channel_names, kind_names, wave_source_summary
from ..services.waves import STATE_NAMES
from . import bp
from .forms import ActionForm, BatchForm, ImportForm, OutputForm, TokenForm


def _wave(code: str) -> Wave:
    wave = db.session.scalar(select(Wave).where(Wave.code == code))
    if wave is None:
        abort(404)
    return wave


def _no_store(response):  # type: ignore[no-untyped-def]
    response.headers["Cache-Control"] = "no-store"
    return response


def _deliver(wave: Wave, batch: InvitationBatch, tokens: list[str], output: str, is_open: bool):  # type: ignore[no-untyped-def]
    """Send freshly created links once: a PDF of QR codes, a CSV, or a page."""
    spec = spec_of(wave.framework)
    group = spec.group(batch.group_code).name
    stem = f"{wave.code}-{batch.street.code}-{batch.group_code}-batch{batch.id}"
    links = [(t, invitation_url(t)) for t in tokens]
    if output == "csv":
        response = make_response(fieldwork.links_csv(tokens))
        response.headers["Content-Type"] = "text/csv; charset=utf-8"
        response.headers["Content-Disposition"] = content_disposition(f"{stem}.csv")
    elif output == "pdf":
        pdf = qr_sheet_pdf(
            links,
            title=wave.name,
            street=batch.street.full_name,
            group=group,
            community=batch.community.name if batch.community else "",
            poster=is_open,
        )
        response = make_response(pdf)
        response.headers["Content-Type"] = "application/pdf"
        response.headers["Content-Disposition"] = content_disposition(f"{stem}.pdf")
    else:
        response = make_response(
            render_template("agency/links.html", wave=wave, batch=batch, links=links, group=group)
        )
    return _no_store(response)


@bp.get("/")
@roles_required("agency", "interviewer", "admin", "viewer")
def index():
    """List the waves with links to their fieldwork pages."""
    if current_user.role == "interviewer":
        return redirect(url_for("agency.interview_new"))
    waves = db.session.scalars(select(Wave).order_by(Wave.created_at.desc())).all()
    return render_template("agency/index.html", waves=waves, state_names=STATE_NAMES)


@bp.get("/waves/<code>")
@roles_required(*FIELDWORK_VIEWERS)
def dashboard(code: str):
    """Show the fieldwork dashboard of a wave."""
    wave = _wave(code)
    cells = fieldwork.progress(wave)
    return render_template(
        "agency/dashboard.html",
        wave=wave,
        cells=cells,
        total=fieldwork.total(cells),
        interviewers=fieldwork.interviewer_stats(wave),
        sources=wave_source_summary(wave),
        source_kinds=kind_names(),
        channel_names=channel_names(),
        state_names=STATE_NAMES,
        form=ActionForm(),
    )


@bp.get("/waves/<code>/progress.csv")
@roles_required(*FIELDWORK_VIEWERS)
def progress_csv(code: str):
    """Download the fieldwork progress table."""
    wave = _wave(code)
    response = make_response(fieldwork.progress_csv(wave))
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = content_disposition(f"{wave.code}-progress.csv")
    return response


@bp.post("/waves/<code>/quality")
@roles_required(*AGENCY)
def quality(code: str):
    """Recompute the quality flags of every response in the wave."""
    wave = _wave(code)
    if not ActionForm().validate_on_submit():
        abort(400)
    counts = flag_wave(wave)
    db.session.commit()
    flash(
        _(
            "已检查 %(n)s 份答卷：%(flagged)s 份有质量标记，新排除 %(new)s 份。",
            n=counts["responses"],
            flagged=counts["flagged"],
            new=counts["newly_excluded"],
        ),
        "success",
    )
    return redirect(url_for("agency.dashboard", code=code))


def _batch_form(wave: Wave) -> BatchForm:
    form = BatchForm()
    spec = spec_of(wave.framework)
    form.street.choices = [C(s.id, s.full_name) for s in wave.district.streets]
    form.group.choices = [C(g.code, g.name) for g in spec.groups]
    form.community.choices = [C(0, _("不指定社区"))] + [
        C(c.id, c.name, optgroup=s.full_name) for s in wave.district.streets for c in s.communities
    ]
    return form


@bp.route("/waves/<code>/invitations", methods=["GET", "POST"])
@roles_required(*AGENCY)
def invitations(code: str):
    """Create invitation batches (links delivered once) and list the batches."""
    wave = _wave(code)
    form = _batch_form(wave)
    status = 200
    if form.validate_on_submit():
        street = db.session.get(Street, form.street.data)
        community = db.session.get(Community, form.community.data) if form.community.data else None
        count = 1 if form.is_open.data else form.count.data
        try:
            batch, tokens = create_batch(
                wave,
                street,
                form.group.data,
                count,
                community=community,
                user_id=current_user.id,
                is_open=form.is_open.data,
            )
            response = _deliver(wave, batch, tokens, form.output.data, form.is_open.data)
        except ValueError as exc:
            db.session.rollback()
            form.count.errors.append(str(exc))
            status = 400
        else:
            db.session.commit()
            return response
    elif form.errors:
        status = 400
    return (
        render_template(
            "agency/invitations.html",
            wave=wave,
            form=form,
            token_form=TokenForm(formdata=None),
            output_form=OutputForm(formdata=None),
            batches=fieldwork.batches(wave),
            spec=spec_of(wave.framework),
        ),
        status,
    )


@bp.post("/waves/<code>/batches/<int:batch_id>/revoke")
@roles_required(*AGENCY)
def revoke_batch(code: str, batch_id: int):
    """Revoke every unused invitation of a batch."""
    wave = _wave(code)
    batch = db.session.get(InvitationBatch, batch_id)
    if batch is None or batch.wave_id != wave.id or not ActionForm().validate_on_submit():
        abort(404 if batch is None or batch.wave_id != wave.id else 400)
    n = fieldwork.revoke_batch(batch, current_user.id)
    db.session.commit()
    flash(_("已作废 %(n)s 个未使用的邀请码。", n=n), "success")
    return redirect(url_for("agency.invitations", code=code))


@bp.post("/waves/<code>/batches/<int:batch_id>/reissue")
@roles_required(*AGENCY)
def reissue_batch(code: str, batch_id: int):
    """Replace the unused invitations of a batch with fresh ones (delivered once)."""
    wave = _wave(code)
    batch = db.session.get(InvitationBatch, batch_id)
    form = OutputForm()
    if batch is None or batch.wave_id != wave.id:
        abort(404)
    if not form.validate_on_submit():
        abort(400)
    try:
        new_batch, tokens = fieldwork.reissue_batch(batch, current_user.id)
        response = _deliver(wave, new_batch, tokens, form.output.data, False)
    except ValueError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("agency.invitations", code=code))
    db.session.commit()
    return response


@bp.post("/waves/<code>/token")
@roles_required(*AGENCY)
def token_action(code: str):
    """Revoke one invitation, or revoke it and issue a replacement (shown once)."""
    wave = _wave(code)
    form = TokenForm()
    if not form.validate_on_submit():
        flash(_("请粘贴邀请码或链接。"), "error")
        return redirect(url_for("agency.invitations", code=code))
    try:
        inv = fieldwork.find_token(wave, form.token.data)
        if form.action.data == "reissue":
            batch, token = fieldwork.reissue_invitation(inv, current_user.id)
        else:
            fieldwork.revoke_invitation(inv, current_user.id)
            batch, token = None, None
    except ValueError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("agency.invitations", code=code))
    db.session.commit()
    if batch is None or token is None:
        flash(_("邀请码已作废。"), "success")
        return redirect(url_for("agency.invitations", code=code))
    return _deliver(wave, batch, [token], "screen", False)


@bp.route("/waves/<code>/import", methods=["GET", "POST"])
@roles_required(*AGENCY)
def import_responses(code: str):
    """Import paper or other-channel responses from CSV/XLSX, all or nothing."""
    wave = _wave(code)
    form = ImportForm()
    problems: list[str] = []
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        try:
            n = fieldwork.import_responses(
                wave, upload.read(), upload.filename or "", current_user.id
            )
        except ExchangeError as exc:
            db.session.rollback()
            problems = exc.problems
            status = 400
        else:
            flash(_("已导入 %(n)s 份答卷。", n=n), "success")
            return redirect(url_for("agency.dashboard", code=code))
    elif form.errors:
        status = 400
    return render_template("agency/import.html", wave=wave, form=form, problems=problems), status
