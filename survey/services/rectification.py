"""Rectification items (整改事项): their state machine (docs/architecture.md, "Life cycles").

issued -> planned -> in_progress -> submitted -> accepted | returned (-> in_progress).

One function per transition.  Each checks the item's state first and raises
:class:`TransitionError` (nothing changed) when the step is not allowed; each
records an :class:`ItemEvent` saying who and when; acceptances, returns and
escalations are also audit-logged.  Nothing here commits.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import select

from reports import wording
from reports.calendar import OfficialCalendar, add_working_days, working_days_between
from reports.followup import render_escalation_pdf
from reports.models import EscalationData, Letterhead, OverdueItem

from ..errors import UserError
from ..extensions import db
from ..models import Evidence, ItemEvent, Notice, RectificationItem, Street, Wave
from ..models._base import utcnow
from .audit import record
from .event_notes import (
    ACCEPTED,
    ESCALATED,
    EVIDENCE_ADDED,
    EVIDENCE_DELETED,
    PLAN_CHANGED,
    PLAN_MADE,
    SUBMITTED,
    stored,
)
from .evidence import CheckedFile
from .evidence import _ as _
from .notices import default_issue_date, next_sequence, notice_settings
from .official_days import official_calendar

STATE_NAMES = {
    "issued": _("待制定方案"),
    "planned": _("已制定方案"),
    "in_progress": _("整改中"),
    "submitted": _("已报送待验收"),
    "accepted": _("已通过验收"),
    "returned": _("已退回"),
}
PUBLIC_STATUS = {
    "issued": _("待制定方案"),
    "planned": "整改中",
    "in_progress": "整改中",
    "submitted": _("整改中（待验收）"),
    "accepted": _("已完成"),
    "returned": "整改中",
}
EDITABLE = ("planned", "in_progress", "returned")
MAX_EVIDENCE = 20


class TransitionError(UserError):
    """A step the item's current state does not allow; nothing was changed."""


def _require(item: RectificationItem, allowed: tuple[str, ...], action: str) -> None:
    if item.state not in allowed:
        names = "、".join(_(STATE_NAMES[s]) for s in allowed)
        raise TransitionError(
            _(
                "整改事项“%(name)s”当前状态为“%(state)s”，不能%(action)s（只有“%(allowed)s”时可以）。",
                name=item.indicator_name,
                state=_(STATE_NAMES.get(item.state, item.state)),
                action=action,
                allowed=names,
            )
        )


def _event(item: RectificationItem, to_state: str, user_id: int | None, note: str = "") -> None:
    """Record who moved ``item`` to ``to_state`` and when (same state: a note only)."""
    db.session.add(
        ItemEvent(
            item=item,
            from_state=item.state,
            to_state=to_state,
            user_id=user_id,
            at=utcnow(),
            note=note,
        )
    )
    item.state = to_state


def _text(value: str | None, label: str, limit: int = 4000) -> str:
    text = (value or "").strip()
    if not text:
        raise UserError(_("请填写%(label)s。", label=label))
    if len(text) > limit:
        raise UserError(_("%(label)s不能超过%(n)d个字。", label=label, n=limit))
    return text


def plan_item(
    item: RectificationItem,
    *,
    measures: str,
    responsible_unit: str,
    responsible_person: str,
    planned_date: dt.date | None,
    user_id: int | None,
) -> RectificationItem:
    """Record (or revise) the plan and move an issued item to ``planned``.

    Sets ``measures``, ``responsible_unit``, ``responsible_person`` and
    ``planned_date``.  A planned item may be re-planned (state unchanged).
    """
    _require(item, ("issued", "planned"), _("制定整改方案"))
    measures = _text(measures, _("整改措施"))
    unit = _text(responsible_unit, _("责任单位"), 120)
    person = _text(responsible_person, _("责任人"), 60)
    if planned_date is None:
        raise UserError(_("请填写计划完成日期。"))
    if planned_date > item.deadline:
        raise UserError(_("计划完成日期不能晚于整改期限（%(d)s）。", d=item.deadline.isoformat()))
    first = item.state == "issued"
    item.measures, item.responsible_unit, item.responsible_person = measures, unit, person
    item.planned_date = planned_date
    _event(item, "planned", user_id, stored(PLAN_MADE) if first else stored(PLAN_CHANGED))
    return item


def record_progress(
    item: RectificationItem, *, note: str, user_id: int | None
) -> RectificationItem:
    """Add a progress note; moves a planned or returned item to ``in_progress``."""
    _require(item, EDITABLE, _("报告整改进展"))
    _event(item, "in_progress", user_id, _text(note, _("进展情况")))
    return item


def add_evidence(
    item: RectificationItem, checked: CheckedFile, *, user_id: int | None, caption: str = ""
) -> Evidence:
    """Store a checked evidence file (see :mod:`.evidence`) on an item being worked on.

    The state is unchanged; the upload is noted in the item's history.

    :param caption: what the photo or file shows (at most 200 characters).
    """
    _require(item, EDITABLE, _("上传佐证材料"))
    if len(item.evidence) >= MAX_EVIDENCE:
        raise UserError(_("每项最多上传%(n)d个佐证材料。", n=MAX_EVIDENCE))
    evidence = Evidence(
        item=item,
        filename=checked.filename,
        content_type=checked.content_type,
        data=checked.data,
        thumbnail=checked.thumbnail,
        sha256=checked.sha256,
        caption=caption.strip()[:200],
        uploaded_by_id=user_id,
        uploaded_at=utcnow(),
    )
    db.session.add(evidence)
    _event(item, item.state, user_id, stored(EVIDENCE_ADDED, f=checked.filename))
    return evidence


def remove_evidence(evidence: Evidence, *, user_id: int | None) -> None:
    """Delete an evidence file of an item still being worked on."""
    item = evidence.item
    _require(item, EDITABLE, _("删除佐证材料"))
    item.evidence.remove(evidence)
    _event(item, item.state, user_id, stored(EVIDENCE_DELETED, f=evidence.filename))


def submit_item(item: RectificationItem, *, result: str, user_id: int | None) -> RectificationItem:
    """Report completion: set ``result`` and move an in-progress or returned item to ``submitted``.

    At least one evidence file (photo or PDF) is required.
    """
    # a returned item may go straight back once fixed: a progress note is not required
    _require(item, ("in_progress", "returned"), _("报送验收"))
    text = _text(result, _("整改成效"))
    if not item.evidence:
        raise UserError(_("请至少上传一份佐证材料（照片或PDF）后再报送验收。"))
    item.result = text
    _event(item, "submitted", user_id, stored(SUBMITTED))
    return item


def accept_item(
    item: RectificationItem, *, user_id: int | None, note: str = ""
) -> RectificationItem:
    """Accept a submitted item: state ``accepted``, ``accepted_at`` set, audit-logged."""
    _require(item, ("submitted",), _("通过验收"))
    item.accepted_at = utcnow()
    _event(item, "accepted", user_id, note.strip() or stored(ACCEPTED))
    record(
        "item.accept",
        item,
        user_id=user_id,
        before={"state": "submitted"},
        after={"state": "accepted", "street_id": item.street_id, "indicator": item.indicator_code},
        note=note.strip(),
    )
    return item


def return_item(item: RectificationItem, *, reason: str, user_id: int | None) -> RectificationItem:
    """Return a submitted item with a required reason: state ``returned``, audit-logged."""
    _require(item, ("submitted",), _("退回"))
    reason = _text(reason, _("退回理由"), 2000)
    _event(item, "returned", user_id, reason)
    record(
        "item.return",
        item,
        user_id=user_id,
        before={"state": "submitted"},
        after={"state": "returned", "street_id": item.street_id, "indicator": item.indicator_code},
        note=reason,
    )
    return item


def acknowledge_notice(notice: Notice, *, user_id: int | None) -> Notice:
    """Mark a notice as received by its street (``acknowledged_at``/``_by``); audit-logged.

    Acknowledging twice keeps the first receipt.
    """
    if notice.acknowledged_at is None:
        notice.acknowledged_at = utcnow()
        notice.acknowledged_by_id = user_id
        record("notice.acknowledge", notice, user_id=user_id, after={"street_id": notice.street_id})
    return notice


def last_return_reason(item: RectificationItem) -> str:
    """The bureau's reason of the latest return, '' if never returned.

    Only the move from ``submitted`` to ``returned`` carries the reason; later
    notes on the returned item (an upload, a comment) keep ``to_state`` and are
    not reasons.
    """
    for event in reversed(item.events):
        if event.to_state == "returned" and event.from_state == "submitted":
            return event.note
    return ""


def days_overdue(
    item: RectificationItem, today: dt.date, calendar: OfficialCalendar | None = None
) -> int:
    """Working days elapsed after the deadline (0 when not past it or accepted)."""
    if item.state == "accepted":
        return 0
    calendar = calendar or official_calendar()
    return max(0, working_days_between(item.deadline, today, calendar))


def working_days_left(
    item: RectificationItem, today: dt.date, calendar: OfficialCalendar | None = None
) -> int | None:
    """Working days from ``today`` to the deadline (None once accepted; 0 or less when due)."""
    if item.state == "accepted":
        return None
    return working_days_between(today, item.deadline, calendar or official_calendar())


def is_overdue(
    item: RectificationItem, today: dt.date, calendar: OfficialCalendar | None = None
) -> bool:
    """Whether ``item`` is not accepted and a working day has passed since its deadline.

    A deadline on Friday is not yet overdue on Saturday or Sunday, nor during a
    public holiday; it is on the next official working day.
    """
    return days_overdue(item, today, calendar) > 0


def street_items(
    street: Street, wave: Wave | None = None, state: str | None = None
) -> list[RectificationItem]:
    """A street's items, newest wave first."""
    query = select(RectificationItem).where(RectificationItem.street_id == street.id)
    if wave is not None:
        query = query.where(RectificationItem.wave_id == wave.id)
    if state:
        query = query.where(RectificationItem.state == state)
    return list(
        db.session.scalars(query.order_by(RectificationItem.wave_id.desc(), RectificationItem.id))
    )


def overdue_items(street: Street, wave: Wave, today: dt.date) -> list[RectificationItem]:
    """A street's overdue items of ``wave``."""
    calendar = official_calendar()
    return [i for i in street_items(street, wave) if is_overdue(i, today, calendar)]


def issue_escalation(
    street: Street,
    wave: Wave,
    *,
    days: int = 10,
    issue_date: dt.date | None = None,
    user_id: int | None = None,
) -> Notice:
    """Issue a 督办 notice for ``street``'s overdue items of ``wave`` (not committed).

    Renders the PDF, stores it as a :class:`Notice` (kind ``escalation``, its own
    doc number and sha256), sets each overdue item's deadline to ``days``
    working days after ``issue_date``, records an ItemEvent per item and
    audit-logs the notice.

    :raises UserError: no overdue item, or ``days`` out of range.
    """
    if not 1 <= days <= 60:
        raise UserError(_("新的整改期限应为1至60个工作日。"))
    issue_date = issue_date or default_issue_date()
    calendar = official_calendar()
    items = [i for i in street_items(street, wave) if is_overdue(i, issue_date, calendar)]
    if not items:
        raise UserError(_("%(street)s在本批次没有逾期未验收的整改事项。", street=street.name))
    settings = notice_settings(wave, issue_date, days)
    seq = next_sequence(settings.doc_prefix, issue_date.year)
    doc_number = settings.doc_number(seq)
    new_deadline = add_working_days(issue_date, days, calendar)
    original = db.session.scalar(
        select(Notice)
        .where(Notice.wave_id == wave.id, Notice.street_id == street.id, Notice.kind == "notice")
        .order_by(Notice.id.desc())
    )
    title = wording.escalation_title(street.full_name)
    data = EscalationData(
        letterhead=Letterhead(
            authority=settings.authority, mark=settings.mark, doc_number=doc_number
        ),
        title=title,
        addressee=wording.addressee_for(street.full_name),
        street=street.full_name,
        notice_number=(original.doc_number or "") if original else "",
        issue_date=issue_date,
        items=tuple(
            OverdueItem(
                indicator=i.indicator_name,
                requirement=i.requirement,
                original_deadline=i.deadline,
                days_overdue=days_overdue(i, issue_date, calendar),
                status=STATE_NAMES[i.state],
                new_deadline=new_deadline,
            )
            for i in items
        ),
        reply_address=settings.reply_address,
    )
    pdf = render_escalation_pdf(data)
    notice = Notice(
        kind="escalation",
        wave_id=wave.id,
        street_id=street.id,
        doc_number=doc_number,
        sequence=seq,
        title=title,
        issue_date=issue_date,
        deadline=new_deadline.date,
        deadline_provisional=new_deadline.provisional,
        pdf=pdf,
        sha256=hashlib.sha256(pdf).hexdigest(),
        issued_by_id=user_id,
        issued_at=utcnow(),
    )
    db.session.add(notice)
    db.session.flush()
    for item in items:
        note = stored(
            ESCALATED,
            doc=doc_number,
            old=item.deadline.isoformat(),
            new=new_deadline.date.isoformat(),
        )
        _event(item, item.state, user_id, note)
        item.deadline = new_deadline.date
        item.deadline_provisional = new_deadline.provisional
    record(
        "notice.issue_escalation",
        notice,
        user_id=user_id,
        after={
            "doc_number": doc_number,
            "street": street.name,
            "sha256": notice.sha256,
            "items": [i.id for i in items],
            "deadline": new_deadline.date.isoformat(),
        },
    )
    return notice
