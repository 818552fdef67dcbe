"""Bureau rectification pages: items by wave/street/state, acceptance, 督办, verification."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..auth.decorators import roles_required
from ..auth.scope import in_current, require_visible, require_wave
from ..edges import DB_INT_MAX, bounded_int
from ..errors import attempt
from ..extensions import db
from ..models import Evidence, Notice, RectificationItem, Street, User, Wave
from ..services import publication
from ..services import rectification as rect
from ..services.notices import default_issue_date
from ..services.official_days import official_calendar
from ..street.downloads import evidence_response, notice_filename, pdf_response
from . import bp

BUREAU_ROLES = ("admin", "viewer")
PER_PAGE = 50


class AcceptForm(FlaskForm):
    note = StringField(_l("验收意见（可不填）"), validators=[Optional(), Length(max=500)])


class ReturnForm(FlaskForm):
    reason = TextAreaField(
        _l("退回理由"),
        validators=[DataRequired(_l("退回时必须写明理由。")), Length(max=2000)],
    )


class EscalateForm(FlaskForm):
    street_id = IntegerField(validators=[DataRequired(), NumberRange(1, DB_INT_MAX)])
    days = IntegerField(
        _l("新的整改期限（工作日）"),
        default=10,
        validators=[DataRequired(), NumberRange(1, 60, _l("请填写1至60之间的工作日数。"))],
    )


def _item(item_id: int) -> RectificationItem:
    item = db.session.get(RectificationItem, item_id)
    if item is None:
        abort(404)
    require_wave(item.wave_id)
    return item


def _waves_with_items() -> list[Wave]:
    return list(
        db.session.scalars(
            in_current(select(Wave), Wave.district_id)
            .join(RectificationItem, RectificationItem.wave_id == Wave.id)
            .distinct()
            .order_by(Wave.created_at.desc(), Wave.id.desc())
        )
    )


@bp.get("/rectification/")
@roles_required(*BUREAU_ROLES)
def rectification() -> ResponseReturnValue:
    """List rectification items by wave, street and state; overdue first."""
    waves = _waves_with_items()
    code = request.args.get("wave")
    wave = next((w for w in waves if w.code == code), waves[0] if waves else None)
    street_id = request.args.get("street", type=bounded_int)
    state = request.args.get("state") or None
    if state not in rect.STATE_NAMES:
        state = None
    items: list[RectificationItem] = []
    overdue: dict[int, int] = {}
    overdue_all: dict[int, int] = {}
    counts: dict[str, int] = {}
    total_items, page = 0, 1
    verify = None
    streets: list[Street] = []
    if wave is not None:
        streets = list(wave.district.streets)
        query = select(RectificationItem).where(RectificationItem.wave_id == wave.id)
        if street_id:
            query = query.where(RectificationItem.street_id == street_id)
        if state:
            query = query.where(RectificationItem.state == state)
        items = list(db.session.scalars(query.order_by(RectificationItem.id)))
        today, calendar = default_issue_date(), official_calendar()
        overdue = {i.id: rect.days_overdue(i, today, calendar) for i in items}
        # what needs the bureau first: reports waiting for acceptance, then overdue
        items.sort(key=lambda i: (i.state != "submitted", -overdue[i.id], i.street.position, i.id))
        counts = {code: 0 for code in rect.STATE_NAMES}
        for i in db.session.scalars(
            select(RectificationItem).where(RectificationItem.wave_id == wave.id)
        ):
            counts[i.state] = counts.get(i.state, 0) + 1
        total_items = len(items)
        pages = max(1, -(-total_items // PER_PAGE))
        page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
        overdue_all = overdue
        items = items[(page - 1) * PER_PAGE : page * PER_PAGE]
        verify = publication.verification(wave, streets)
    overdue_streets = sorted(
        {
            i.street
            for i in db.session.scalars(
                select(RectificationItem).where(
                    RectificationItem.id.in_([k for k, v in overdue_all.items() if v])
                )
            )
        },
        key=lambda s: s.position,
    )
    escalations = (
        db.session.scalars(
            select(Notice)
            .where(Notice.wave_id == wave.id, Notice.kind == "escalation")
            .order_by(Notice.id.desc())
        ).all()
        if wave
        else []
    )
    return render_template(
        "admin/rectification/index.html",
        waves=waves,
        wave=wave,
        streets=streets,
        street_id=street_id,
        state=state,
        items=items,
        overdue=overdue,
        counts=counts,
        total_items=total_items,
        page=page,
        per_page=PER_PAGE,
        overdue_streets=overdue_streets,
        escalations=escalations,
        verify=verify,
        state_names=rect.STATE_NAMES,
        escalate_form=EscalateForm(formdata=None),
    )


def _render_item(item: RectificationItem, status: int = 200, **forms: FlaskForm) -> tuple[str, int]:
    user_ids = {e.user_id for e in item.events if e.user_id}
    users = {
        u.id: u.username for u in db.session.scalars(select(User).where(User.id.in_(user_ids)))
    }
    return (
        render_template(
            "admin/rectification/item.html",
            item=item,
            wave=db.session.get(Wave, item.wave_id),
            accept=forms.get("accept") or AcceptForm(formdata=None),
            give_back=forms.get("give_back") or ReturnForm(formdata=None),
            days_overdue=rect.days_overdue(item, default_issue_date()),
            state_names=rect.STATE_NAMES,
            return_reason=rect.last_return_reason(item),
            users=users,
            editable=False,
            delete_form=None,
        ),
        status,
    )


@bp.get("/rectification/items/<int:item_id>")
@roles_required(*BUREAU_ROLES)
def rectification_item(item_id: int) -> ResponseReturnValue:
    """Show an item's plan, progress, evidence and history, with the acceptance forms."""
    return _render_item(_item(item_id))


@bp.post("/rectification/items/<int:item_id>/accept")
@roles_required("admin")
def accept_item(item_id: int) -> ResponseReturnValue:
    """Accept a submitted item."""
    item = _item(item_id)
    form = AcceptForm()
    if not form.validate_on_submit():
        return _render_item(item, 400, accept=form)
    done = attempt(
        lambda: rect.accept_item(item, user_id=current_user.id, note=form.note.data or "")
    )
    if done.failed:
        return _render_item(item, done.status, accept=form)
    flash(_("已通过验收：%(s)s %(i)s。", s=item.street.name, i=item.indicator_name), "success")
    return redirect(url_for("admin.rectification_item", item_id=item.id))


@bp.post("/rectification/items/<int:item_id>/return")
@roles_required("admin")
def return_item(item_id: int) -> ResponseReturnValue:
    """Return a submitted item to the street with a reason."""
    item = _item(item_id)
    form = ReturnForm()
    if not form.validate_on_submit():
        return _render_item(item, 400, give_back=form)
    done = attempt(lambda: rect.return_item(item, reason=form.reason.data, user_id=current_user.id))
    if done.failed:
        return _render_item(item, done.status, give_back=form)
    flash(_("已退回：%(s)s %(i)s。", s=item.street.name, i=item.indicator_name), "success")
    return redirect(url_for("admin.rectification_item", item_id=item.id))


@bp.post("/rectification/<code>/escalate")
@roles_required("admin")
def escalate(code: str) -> ResponseReturnValue:
    """Issue a 督办 notice for a street's overdue items with a new deadline."""
    wave = db.session.scalar(select(Wave).where(Wave.code == code))
    if wave is None:
        abort(404)
    require_visible(wave.district_id)
    form = EscalateForm()
    street_id = form.street_id.data or 0
    street = db.session.get(Street, street_id) if 0 < street_id <= DB_INT_MAX else None
    back = url_for("admin.rectification", wave=wave.code)
    if not form.validate_on_submit() or street is None or street.district_id != wave.district_id:
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
        return redirect(back)
    done = attempt(
        lambda: rect.issue_escalation(street, wave, days=form.days.data, user_id=current_user.id)
    )
    if done.failed:
        return redirect(back)
    notice = done.result
    flash(_("已向%(s)s下发督办通知 %(d)s。", s=street.full_name, d=notice.doc_number), "success")
    return redirect(back)


@bp.get("/rectification/notices/<int:notice_id>.pdf")
@roles_required(*BUREAU_ROLES)
def rectification_notice_pdf(notice_id: int) -> ResponseReturnValue:
    """Download an escalation (or any street) notice PDF."""
    notice = db.session.get(Notice, notice_id)
    if notice is None:
        abort(404)
    require_wave(notice.wave_id)
    return pdf_response(notice.pdf, notice_filename(notice))


@bp.get("/rectification/evidence/<int:evidence_id>")
@bp.get(
    "/rectification/evidence/<int:evidence_id>/thumb",
    endpoint="rectification_evidence_thumb",
    defaults={"thumb": True},
)
@roles_required(*BUREAU_ROLES)
def rectification_evidence(evidence_id: int, thumb: bool = False) -> ResponseReturnValue:
    """Send an evidence file or its thumbnail."""
    evidence = db.session.get(Evidence, evidence_id)
    if evidence is None:
        abort(404)
    require_wave(_item(evidence.item_id).wave_id)
    return evidence_response(evidence, thumbnail=thumb)
