"""Agency pages: waves, fieldwork dashboard, invitation batches and QR sheets, imports."""

from __future__ import annotations

import base64
import secrets

from flask import Response, abort, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice as C

from scoring.exchange import MAX_PROBLEMS, ExchangeError

from ..auth.decorators import AGENCY, FIELDWORK_VIEWERS, roles_required
from ..auth.scope import in_current, require_visible
from ..downloads import clean_filename, content_disposition
from ..edges import DB_INT_MAX, bounded_int
from ..errors import attempt
from ..extensions import db
from ..models import Community, InvitationBatch, Street, Wave
from ..services import fieldwork
from ..services.frameworks import spec_of
from ..services.invitations import batch_for_request, create_batch, invitation_url, typed_code
from ..services.qr_sheets import qr_sheet_pdf
from ..services.quality import flag_wave
from ..services.source_influence import channel_names, kind_names, wave_source_summary
from ..services.waves import STATE_NAMES
from . import bp
from .forms import ActionForm, BatchForm, ImportForm, OutputForm, StreetPickForm, TokenForm


def _wave(code: str) -> Wave:
    wave = db.session.scalar(select(Wave).where(Wave.code == code))
    if wave is None:
        abort(404)
    require_visible(wave.district_id)
    return wave


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _deliver(
    wave: Wave, batch: InvitationBatch, tokens: list[str], output: str, is_open: bool
) -> ResponseReturnValue:
    """Answer a freshly created batch with a page that says what was made.

    The links exist only in this answer: the QR sheet (PDF) or CSV is offered on
    the page as a one-time download (a ``data:`` link: nothing is kept on the
    server), or the links are listed on the page.
    """
    spec = spec_of(wave.framework)
    group = spec.group(batch.group_code).name
    stem = f"{wave.code}-{batch.street.code}-{batch.group_code}-batch{batch.id}"
    links = [(t, invitation_url(t)) for t in tokens]
    download = None
    if output == "csv":
        data, mimetype, filename = fieldwork.links_csv(tokens), "text/csv", f"{stem}.csv"
        label = _("下载 CSV 表格（%(n)s 个链接和邀请码）", n=len(tokens))
    elif output == "pdf":
        data = qr_sheet_pdf(
            links,
            title=wave.name,
            street=batch.street.full_name,
            group=group,
            community=batch.community.name if batch.community else "",
            poster=is_open,
            agency=wave.agency_name,
            hotline=wave.hotline,
            closes_on=wave.ends_on,
            entry_url=invitation_url("").rstrip("/") + "/",
        )
        mimetype, filename = "application/pdf", f"{stem}.pdf"
        label = _("下载二维码打印页（PDF，%(n)s 张卡片）", n=len(tokens))
    if output in ("csv", "pdf"):
        encoded = base64.b64encode(data).decode("ascii")
        download = {
            "href": f"data:{mimetype};base64,{encoded}",
            "filename": clean_filename(filename),  # the same cleaning as every download
            "label": label,
            "kb": max(1, len(data) // 1024),
        }
    coded = [(t, url, typed_code(t)) for t, url in links]
    response = make_response(
        render_template(
            "agency/links.html",
            wave=wave,
            batch=batch,
            links=coded,
            group=group,
            download=download,
            show_links=output == "screen",
        )
    )
    return _no_store(response)


@bp.get("/")
@roles_required("agency", "interviewer", "admin", "viewer")
def index() -> ResponseReturnValue:
    """List the waves with links to their fieldwork pages."""
    if current_user.role == "interviewer":
        return redirect(url_for("agency.interview_new"))
    waves = db.session.scalars(
        in_current(select(Wave), Wave.district_id).order_by(Wave.created_at.desc())
    ).all()
    return render_template("agency/index.html", waves=waves, state_names=STATE_NAMES)


@bp.get("/waves/<code>")
@roles_required(*FIELDWORK_VIEWERS)
def dashboard(code: str) -> ResponseReturnValue:
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
def progress_csv(code: str) -> ResponseReturnValue:
    """Download the fieldwork progress table."""
    wave = _wave(code)
    response = make_response(fieldwork.progress_csv(wave))
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = content_disposition(f"{wave.code}-progress.csv")
    return response


@bp.post("/waves/<code>/quality")
@roles_required(*AGENCY)
def quality(code: str) -> ResponseReturnValue:
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


def _batch_form(wave: Wave, street: Street | None) -> BatchForm:
    form = BatchForm()
    spec = spec_of(wave.framework)
    form.street.choices = [C(s.id, s.full_name) for s in wave.district.streets]
    form.group.choices = [C(g.code, g.name) for g in spec.groups]
    communities = street.communities if street is not None else []
    form.community.choices = [C(0, _("不指定社区"))] + [C(c.id, c.name) for c in communities]
    if not form.request_key.data:
        form.request_key.data = secrets.token_urlsafe(16)
    return form


def _chosen_street(wave: Wave) -> Street | None:
    """The street picked in step 1 (``?street=``) or posted, if in the wave's district."""
    raw = request.form.get("street") or request.args.get("street")
    try:
        street = db.session.get(Street, bounded_int(raw)) if raw else None
    except (TypeError, ValueError):
        street = None
    return street if street is not None and street.district_id == wave.district_id else None


@bp.route("/waves/<code>/invitations", methods=["GET", "POST"])
@roles_required(*AGENCY)
def invitations(code: str) -> ResponseReturnValue:
    """Issue invitations in two steps (street, then the rest) and list what was issued."""
    wave = _wave(code)
    street = _chosen_street(wave)
    form = _batch_form(wave, street)
    pick = StreetPickForm(formdata=None)
    pick.street.choices = [C(s.id, s.full_name) for s in wave.district.streets]
    if street is not None:
        pick.street.data = street.id
        form.street.data = street.id
    status = 200
    notice = None
    if request.method == "POST" and street is not None and form.validate_on_submit():
        done = batch_for_request(form.request_key.data or "")
        if done is not None:
            # a second press (or a reload) of the same form: nothing new is created
            notice = _(
                "这次发放已经创建过了（发放号 %(id)s，%(n)s 个邀请码），没有再创建。"
                "链接只给出一次：如果没有保存到文件，请在下面的发放记录里“作废并补发”。",
                id=done.id,
                n=done.count,
            )
            status = 409
        else:
            chosen = form.community.data or 0
            community = db.session.get(Community, chosen) if 0 < chosen <= DB_INT_MAX else None
            if (community is None and chosen) or (
                community is not None and community.street_id != street.id
            ):
                form.community.errors.append(_("该社区不属于所选街道。"))
                status = 400
            else:
                count = 1 if form.is_open.data else form.count.data

                def issue() -> ResponseReturnValue:
                    batch, tokens = create_batch(
                        wave,
                        street,
                        form.group.data,
                        count,
                        community=community,
                        user_id=current_user.id,
                        is_open=form.is_open.data,
                        request_key=form.request_key.data or None,
                    )
                    return _deliver(wave, batch, tokens, form.output.data, form.is_open.data)

                issued = attempt(issue, form=form, field="count")
                if not issued.failed:
                    return issued.result
                status = issued.status
    elif request.method == "POST":
        status = 400
    if request.method == "POST" and status != 409:
        form.request_key.data = form.request_key.data or secrets.token_urlsafe(16)
    return (
        render_template(
            "agency/invitations.html",
            wave=wave,
            form=form,
            pick=pick,
            street=street,
            notice=notice,
            token_form=TokenForm(formdata=None),
            output_form=OutputForm(formdata=None),
            batches=fieldwork.batches(wave),
            spec=spec_of(wave.framework),
        ),
        status,
    )


@bp.get("/waves/<code>/batches/<int:batch_id>/revoke")
@roles_required(*AGENCY)
def confirm_revoke_batch(code: str, batch_id: int) -> ResponseReturnValue:
    """Ask before revoking every unused invitation of a batch: say how many and what stays."""
    wave = _wave(code)
    batch = db.session.get(InvitationBatch, batch_id)
    if batch is None or batch.wave_id != wave.id:
        abort(404)
    row = next((r for r in fieldwork.batches(wave) if r.batch.id == batch.id), None)
    return render_template(
        "agency/revoke_confirm.html",
        wave=wave,
        row=row,
        spec=spec_of(wave.framework),
        form=ActionForm(),
    )


@bp.post("/waves/<code>/batches/<int:batch_id>/revoke")
@roles_required(*AGENCY)
def revoke_batch(code: str, batch_id: int) -> ResponseReturnValue:
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
def reissue_batch(code: str, batch_id: int) -> ResponseReturnValue:
    """Replace the unused invitations of a batch with fresh ones (delivered once)."""
    wave = _wave(code)
    batch = db.session.get(InvitationBatch, batch_id)
    form = OutputForm()
    if batch is None or batch.wave_id != wave.id:
        abort(404)
    if not form.validate_on_submit():
        abort(400)

    def reissue() -> ResponseReturnValue:
        new_batch, tokens = fieldwork.reissue_batch(batch, current_user.id)
        return _deliver(wave, new_batch, tokens, form.output.data, False)

    done = attempt(reissue)
    if done.failed:
        return redirect(url_for("agency.invitations", code=code))
    return done.result


@bp.post("/waves/<code>/token")
@roles_required(*AGENCY)
def token_action(code: str) -> ResponseReturnValue:
    """Revoke one invitation, or revoke it and issue a replacement (shown once)."""
    wave = _wave(code)
    form = TokenForm()
    if not form.validate_on_submit():
        flash(_("请粘贴邀请码或链接。"), "error")
        return redirect(url_for("agency.invitations", code=code))

    def act() -> tuple[InvitationBatch | None, str | None]:
        inv = fieldwork.find_token(wave, form.token.data)
        if form.action.data == "reissue":
            return fieldwork.reissue_invitation(inv, current_user.id)
        fieldwork.revoke_invitation(inv, current_user.id)
        return None, None

    done = attempt(act)
    if done.failed:
        return redirect(url_for("agency.invitations", code=code))
    batch, token = done.result
    if batch is None or token is None:
        flash(_("邀请码已作废。"), "success")
        return redirect(url_for("agency.invitations", code=code))
    return _deliver(wave, batch, [token], "screen", False)


@bp.route("/waves/<code>/import", methods=["GET", "POST"])
@roles_required(*AGENCY)
def import_responses(code: str) -> ResponseReturnValue:
    """Import paper or other-channel responses from CSV/XLSX, all or nothing."""
    wave = _wave(code)
    form = ImportForm()
    problems: list[str] = []
    problem_count = 0
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        try:
            n = fieldwork.import_responses(
                wave, upload.read(), upload.filename or "", current_user.id
            )
        except ExchangeError as exc:
            db.session.rollback()
            problems = exc.problems[:MAX_PROBLEMS]  # a 60k-row bad file: a small page
            problem_count = exc.total
            status = 400
        else:
            flash(_("已导入 %(n)s 份答卷。", n=n), "success")
            return redirect(url_for("agency.dashboard", code=code))
    elif form.errors:
        status = 400
    return (
        render_template(
            "agency/import.html",
            wave=wave,
            form=form,
            problems=problems,
            problem_count=problem_count,
        ),
        status,
    )
