"""Street portal views: thin wrappers around the rectification services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from ..auth.decorators import roles_required
from ..errors import attempt
from ..extensions import db
from ..models import Evidence, Notice, RectificationItem, Street, User, Wave
from ..services import publication
from ..services import rectification as rect
from ..services.evidence import check_upload
from ..services.notices import default_issue_date
from ..services.official_days import official_calendar
from ..services.rectification import TransitionError
from . import bp
from .downloads import evidence_response, notice_filename, pdf_response
from .forms import ConfirmForm, EvidenceForm, PlanForm, ProgressForm, SubmitForm

STREET_KINDS = ("notice", "letter", "escalation", "supplement")


def own_street() -> Street:
    street = current_user.street
    if street is None:
        abort(403, _("您的账号没有关联街道，请联系区民政局。"))
    return street


def own_item(item_id: int) -> RectificationItem:
    """The item if it belongs to the officer's street, else 404 (never reveal others')."""
    item = db.session.get(RectificationItem, item_id)
    if item is None or item.street_id != own_street().id:
        abort(404)
    return item


def own_notice(notice_id: int) -> Notice:
    notice = db.session.get(Notice, notice_id)
    if notice is None or notice.street_id != own_street().id or notice.kind not in STREET_KINDS:
        abort(404)
    return notice


def _selected_wave(street: Street) -> tuple[Wave | None, list[Wave]]:
    waves = publication.scored_waves(street.district_id)
    code = request.args.get("wave")
    wave = next((w for w in waves if w.code == code), waves[0] if waves else None)
    return wave, waves


@bp.get("/")
@roles_required("street")
def index() -> ResponseReturnValue:
    """Show the street's scores, band, rank interval and priorities of a scored wave."""
    street = own_street()
    wave, waves = _selected_wave(street)
    view = publication.street_view(wave, street) if wave else None
    verify = publication.page_verification(wave, [street]) if wave else None
    items = rect.street_items(street, wave) if wave else []
    today = default_issue_date()
    calendar = official_calendar()
    overdue = {i.id for i in items if rect.is_overdue(i, today, calendar)}
    unread = db.session.scalars(
        select(Notice).where(
            Notice.street_id == street.id,
            Notice.kind.in_(STREET_KINDS),
            Notice.acknowledged_at.is_(None),
        )
    ).all()
    return render_template(
        "street/index.html",
        street=street,
        wave=wave,
        waves=waves,
        view=view,
        verify=verify,
        items=items,
        overdue=overdue,
        unread=unread,
        state_names=rect.STATE_NAMES,
    )


@bp.get("/comments")
@roles_required("street")
def comments() -> ResponseReturnValue:
    """Show what residents wrote, by indicator, without identities."""
    street = own_street()
    wave, waves = _selected_wave(street)
    groups = publication.resident_comments(wave, street) if wave else []
    return render_template(
        "street/comments.html", street=street, wave=wave, waves=waves, groups=groups
    )


@bp.get("/notices")
@roles_required("street")
def notices() -> ResponseReturnValue:
    """List the notices and follow-up notices sent to this street."""
    street = own_street()
    rows = db.session.scalars(
        select(Notice)
        .where(Notice.street_id == street.id, Notice.kind.in_(STREET_KINDS))
        .order_by(Notice.issue_date.desc(), Notice.id.desc())
    ).all()
    return render_template("street/notices.html", street=street, notices=rows, form=ConfirmForm())


@bp.get("/notices/<int:notice_id>.pdf")
@roles_required("street")
def notice_pdf(notice_id: int) -> ResponseReturnValue:
    """Download a notice PDF, named after the street."""
    notice = own_notice(notice_id)
    return pdf_response(notice.pdf, notice_filename(notice))


@bp.post("/notices/<int:notice_id>/acknowledge")
@roles_required("street")
def acknowledge(notice_id: int) -> ResponseReturnValue:
    """Confirm receipt of a notice (签收)."""
    notice = own_notice(notice_id)
    if ConfirmForm().validate_on_submit() and notice.acknowledged_at is None:
        rect.acknowledge_notice(notice, user_id=current_user.id)
        db.session.commit()
        flash(_("已签收 %(doc)s。", doc=notice.doc_number or notice.title), "success")
    return redirect(url_for("street.notices"))


@bp.get("/items")
@roles_required("street")
def items() -> ResponseReturnValue:
    """List the street's rectification items with state and deadline; overdue highlighted."""
    street = own_street()
    rows = rect.street_items(street)
    today = default_issue_date()
    calendar = official_calendar()
    overdue = {i.id: rect.days_overdue(i, today, calendar) for i in rows}
    left = {i.id: rect.working_days_left(i, today, calendar) for i in rows}
    return render_template(
        "street/items.html",
        street=street,
        items=rows,
        overdue=overdue,
        left=left,
        state_names=rect.STATE_NAMES,
    )


def _render_item(item: RectificationItem, status: int = 200, **forms: FlaskForm) -> tuple[str, int]:
    plan = forms.get("plan") or PlanForm(formdata=None, obj=item if item.measures else None)
    user_ids = {e.user_id for e in item.events if e.user_id}
    users = {
        u.id: u.username for u in db.session.scalars(select(User).where(User.id.in_(user_ids)))
    }
    return (
        render_template(
            "street/item.html",
            item=item,
            wave=db.session.get(Wave, item.wave_id),
            plan=plan,
            progress=forms.get("progress") or ProgressForm(formdata=None),
            upload=forms.get("upload") or EvidenceForm(formdata=None),
            submit=forms.get("submit") or SubmitForm(formdata=None, result=item.result),
            confirm=ConfirmForm(),
            days_overdue=rect.days_overdue(item, default_issue_date()),
            state_names=rect.STATE_NAMES,
            return_reason=rect.last_return_reason(item),
            editable=item.state in rect.EDITABLE,
            users=users,
        ),
        status,
    )


@bp.get("/items/<int:item_id>")
@roles_required("street")
def item(item_id: int) -> ResponseReturnValue:
    """Show one item: requirement, plan, history, evidence and the next step's form."""
    return _render_item(own_item(item_id))


def _apply(
    item: RectificationItem,
    form: FlaskForm,
    name: str,
    action: Callable[[], object],
    success: str,
    field: Any = None,
) -> ResponseReturnValue:
    """Validate ``form``, run ``action()``, commit and redirect; re-render on errors.

    :param field: the form field (or a function of the error) that a refusal belongs
        under; without one the refusal is shown above the page.
    """
    if not form.validate_on_submit():
        return _render_item(item, 400, **{name: form})
    done = attempt(action, show=False)
    if done.error is not None:
        exc = done.error
        target = field(exc) if callable(field) else field
        if target is not None and not isinstance(exc, TransitionError):
            target.errors = [*target.errors, done.message]
        else:
            flash(done.message, "error")
        return _render_item(item, done.status, **{name: form})
    flash(success, "success")
    return redirect(url_for("street.item", item_id=item.id))


@bp.post("/items/<int:item_id>/plan")
@roles_required("street")
def plan(item_id: int) -> ResponseReturnValue:
    """Save the rectification plan."""
    item = own_item(item_id)
    form = PlanForm()
    return _apply(
        item,
        form,
        "plan",
        lambda: rect.plan_item(
            item,
            measures=form.measures.data,
            responsible_unit=form.responsible_unit.data,
            responsible_person=form.responsible_person.data,
            planned_date=form.planned_date.data,
            user_id=current_user.id,
        ),
        _("已保存整改方案。"),
        field=lambda exc: form.planned_date if "日期" in str(exc) else form.measures,
    )


@bp.post("/items/<int:item_id>/progress")
@roles_required("street")
def progress(item_id: int) -> ResponseReturnValue:
    """Record a progress note."""
    item = own_item(item_id)
    form = ProgressForm()
    return _apply(
        item,
        form,
        "progress",
        lambda: rect.record_progress(item, note=form.note.data, user_id=current_user.id),
        _("已记录整改进展。"),
    )


@bp.post("/items/<int:item_id>/evidence")
@roles_required("street")
def upload(item_id: int) -> ResponseReturnValue:
    """Upload a photo or PDF as evidence (checked by content)."""
    item = own_item(item_id)
    form = EvidenceForm()

    failed: list[Any] = []

    def store() -> None:
        for slot, caption in form.pairs():
            failed[:] = [slot]
            file = slot.data
            checked = check_upload(file.filename or "", file.read())
            rect.add_evidence(item, checked, user_id=current_user.id, caption=caption)
        failed.clear()

    n = len(form.pairs()) if form.is_submitted() else 0
    return _apply(
        item,
        form,
        "upload",
        store,
        _("已上传 %(n)s 份佐证材料。", n=n),
        field=lambda exc: failed[0] if failed else form.file,
    )


@bp.errorhandler(RequestEntityTooLarge)
def too_large(exc: RequestEntityTooLarge) -> ResponseReturnValue:
    """Refuse an oversized upload with a plain message (nothing was stored)."""
    flash(
        _("文件太大，未保存。照片每张不超过5MB，PDF文件不超过10MB。"),
        "error",
    )
    target = request.referrer or url_for("street.items")
    return redirect(target if target.startswith(request.host_url) else url_for("street.items"))


@bp.get("/evidence/<int:evidence_id>/delete")
@roles_required("street")
def confirm_delete_evidence(evidence_id: int) -> ResponseReturnValue:
    """Ask before deleting an evidence file: show which one."""
    evidence = db.session.get(Evidence, evidence_id)
    if evidence is None:
        abort(404)
    item = own_item(evidence.item_id)
    return render_template(
        "street/evidence_delete.html",
        item=item,
        evidence=evidence,
        editable=item.state in rect.EDITABLE,
        form=ConfirmForm(),
    )


@bp.post("/evidence/<int:evidence_id>/delete")
@roles_required("street")
def delete_evidence(evidence_id: int) -> ResponseReturnValue:
    """Remove an evidence file while the item is still being worked on."""
    evidence = db.session.get(Evidence, evidence_id)
    if evidence is None:
        abort(404)
    item = own_item(evidence.item_id)
    return _apply(
        item,
        ConfirmForm(),
        "confirm",
        lambda: rect.remove_evidence(evidence, user_id=current_user.id),
        _("已删除佐证材料。"),
    )


@bp.post("/items/<int:item_id>/submit")
@roles_required("street")
def submit(item_id: int) -> ResponseReturnValue:
    """Report completion and send the item to the bureau for acceptance."""
    item = own_item(item_id)
    form = SubmitForm()
    return _apply(
        item,
        form,
        "submit",
        lambda: rect.submit_item(item, result=form.result.data, user_id=current_user.id),
        _("已报送区民政局验收。"),
    )


@bp.get("/evidence/<int:evidence_id>")
@bp.get("/evidence/<int:evidence_id>/thumb", endpoint="evidence_thumb", defaults={"thumb": True})
@roles_required("street")
def evidence(evidence_id: int, thumb: bool = False) -> ResponseReturnValue:
    """Send one of the street's own evidence files (or its thumbnail)."""
    found = db.session.get(Evidence, evidence_id)
    if found is None:
        abort(404)
    own_item(found.item_id)
    return evidence_response(found, thumbnail=thumb)
