"""Re-determining provisional deadlines when a year's official holidays are entered.

A deadline counted into a year missing from the official table is provisional
(Monday-Friday assumed there; docs/operations.md).  When an admin enters that
year (console or ``minping calendar set-year``), every provisional item whose
count touched the year is counted again on the new table.  For each issued
document whose items moved, a dated 补充说明 (a :class:`Notice` of kind
``supplement`` pointing at the document) is issued to the street, which sees it
beside the notice and signs for it; each item gets an event; the issued
document itself is never edited.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from reports import wording
from reports.calendar import Deadline, OfficialCalendar, add_working_days, working_days_between
from reports.models import Letterhead
from reports.supplement import (
    RevisedDeadline,
    SupplementData,
    render_supplement_pdf,
)

from ..extensions import db
from ..models import ItemEvent, Notice, RectificationItem
from ..models._base import utcnow
from .audit import record
from .event_notes import REDETERMINED, REDETERMINED_STILL, stored
from .notices import default_issue_date, next_sequence, notice_settings
from .official_days import official_calendar, set_year


@dataclass(frozen=True, slots=True)
class DeadlineChange:
    """One item whose provisional deadline was re-determined."""

    item_id: int
    street: str
    indicator: str
    document: str  # doc number of the document that set the deadline
    old: dt.date
    new: dt.date
    still_provisional: bool
    supplement: str  # doc number of the 补充说明


def change_record(change: DeadlineChange) -> dict[str, object]:
    """``change`` as plain JSON (kept in the audit log; the console lists it from there)."""
    return {
        "item": change.item_id,
        "street": change.street,
        "indicator": change.indicator,
        "document": change.document,
        "old": change.old.isoformat(),
        "new": change.new.isoformat(),
        "still_provisional": change.still_provisional,
        "supplement": change.supplement,
    }


def recorded_changes(audit_id: int) -> list[DeadlineChange] | None:
    """The changes of one ``deadline.redetermine`` audit entry, or None if there is none."""
    from ..models import AuditLog

    entry = db.session.get(AuditLog, audit_id)
    if entry is None or entry.action != "deadline.redetermine" or not entry.after:
        return None
    out = []
    for row in entry.after.get("items", []):
        try:
            out.append(
                DeadlineChange(
                    item_id=int(row["item"]),
                    street=str(row.get("street", "")),
                    indicator=str(row.get("indicator", "")),
                    document=str(row.get("document", "")),
                    old=dt.date.fromisoformat(row["old"]),
                    new=dt.date.fromisoformat(row["new"]),
                    still_provisional=bool(row.get("still_provisional")),
                    supplement=str(row.get("supplement", "")),
                )
            )
        except (KeyError, TypeError, ValueError):
            continue
    return out


def enter_year(
    year: int,
    holidays: Iterable[str | dt.date],
    workdays: Iterable[str | dt.date],
    *,
    user_id: int | None = None,
    issue_date: dt.date | None = None,
) -> tuple[OfficialCalendar, list[DeadlineChange]]:
    """Enter ``year``'s official holidays and re-determine the deadlines it settles.

    Not committed.  :raises reports.calendar.CalendarError: the year's entry has
    problems (nothing changed).
    """
    before = official_calendar()
    after = set_year(year, holidays, workdays, user_id=user_id)
    changes = redetermine(year, before, after, user_id=user_id, issue_date=issue_date)
    return after, changes


def _base_document(item: RectificationItem) -> Notice:
    """The issued document (notice or 督办) whose deadline the item carries now."""
    candidates = db.session.scalars(
        select(Notice)
        .where(
            Notice.wave_id == item.wave_id,
            Notice.street_id == item.street_id,
            Notice.kind.in_(("notice", "escalation", "supplement")),
            Notice.deadline == item.deadline,
        )
        .order_by(Notice.issue_date.desc(), Notice.id.desc())
    ).all()
    for doc in candidates:
        if doc.kind == "supplement" and doc.supplement_to_id:
            return db.session.get(Notice, doc.supplement_to_id) or item.notice
        return doc
    return item.notice


def redetermine(
    year: int,
    before: OfficialCalendar,
    after: OfficialCalendar,
    *,
    user_id: int | None = None,
    issue_date: dt.date | None = None,
) -> list[DeadlineChange]:
    """Count every provisional deadline touching ``year`` again on ``after`` (not committed).

    :param before: the official table the deadlines were counted on.
    :param after: the table with ``year`` entered.
    :returns: the items whose deadline (or its provisional mark) changed, in
        street and document order; one 补充说明 is issued per affected document.
    """
    issue_date = issue_date or default_issue_date()
    items = db.session.scalars(
        select(RectificationItem)
        .where(RectificationItem.deadline_provisional.is_(True))
        .order_by(RectificationItem.street_id, RectificationItem.id)
    ).all()
    by_document: dict[int, tuple[Notice, list[tuple[RectificationItem, Deadline, int]]]] = {}
    for item in items:
        base = _base_document(item)
        start = item.deadline_start or base.issue_date
        days = item.deadline_days
        if days is None:
            days = working_days_between(start, item.deadline, before)
        if not start.year <= year <= item.deadline.year:
            continue  # counted only through other years: this entry settles nothing
        new = add_working_days(start, days, after)
        if new.date == item.deadline and new.provisional == item.deadline_provisional:
            continue
        item.deadline_start, item.deadline_days = start, days
        by_document.setdefault(base.id, (base, []))[1].append((item, new, days))
    changes: list[DeadlineChange] = []
    for base, moved in by_document.values():
        supplement = _issue_supplement(base, year, moved, issue_date, user_id)
        for item, new, _days in moved:
            changes.append(
                DeadlineChange(
                    item_id=item.id,
                    street=item.street.name,
                    indicator=item.indicator_name,
                    document=base.doc_number or "",
                    old=item.deadline,
                    new=new.date,
                    still_provisional=new.provisional,
                    supplement=supplement.doc_number or "",
                )
            )
            note = stored(
                REDETERMINED_STILL if new.provisional else REDETERMINED,
                old=item.deadline.isoformat(),
                new=new.date.isoformat(),
                year=year,
                doc=supplement.doc_number,
                date=issue_date.isoformat(),
            )
            db.session.add(
                ItemEvent(
                    item_id=item.id,
                    from_state=item.state,
                    to_state=item.state,
                    user_id=user_id,
                    note=note,
                )
            )
            item.deadline = new.date
            item.deadline_provisional = new.provisional
    if changes:
        record(
            "deadline.redetermine",
            "OfficialCalendar",
            user_id=user_id,
            after={
                "year": year,
                "items": [change_record(c) for c in changes],
            },
        )
    return changes


def _issue_supplement(
    base: Notice,
    year: int,
    moved: list[tuple[RectificationItem, Deadline, int]],
    issue_date: dt.date,
    user_id: int | None,
) -> Notice:
    """Render and store the 补充说明 to ``base`` for its moved items (not committed)."""
    settings = notice_settings(base.wave, issue_date)
    seq = next_sequence(settings.doc_prefix, issue_date.year)
    doc_number = settings.doc_number(seq)
    street = base.street.full_name if base.street else ""
    title = wording.supplement_title()
    data = SupplementData(
        letterhead=Letterhead(
            authority=settings.authority, mark=settings.mark, doc_number=doc_number
        ),
        title=title,
        addressee=wording.addressee_for(street),
        street=street,
        document_number=base.doc_number or "",
        document_date=base.issue_date,
        year=year,
        issue_date=issue_date,
        items=tuple(RevisedDeadline(i.indicator_name, i.deadline, new) for i, new, _ in moved),
        working_days=moved[0][2],
    )
    pdf = render_supplement_pdf(data)
    latest = max((new for _, new, _ in moved), key=lambda d: d.date)
    supplement = Notice(
        kind="supplement",
        wave_id=base.wave_id,
        street_id=base.street_id,
        doc_number=doc_number,
        sequence=seq,
        title=title,
        issue_date=issue_date,
        deadline=latest.date,
        deadline_provisional=any(new.provisional for _, new, _ in moved),
        pdf=pdf,
        sha256=hashlib.sha256(pdf).hexdigest(),
        supplement_to_id=base.id,
        issued_by_id=user_id,
        issued_at=utcnow(),
    )
    db.session.add(supplement)
    db.session.flush()
    record(
        "notice.issue_supplement",
        supplement,
        user_id=user_id,
        after={
            "doc_number": doc_number,
            "supplements": base.doc_number,
            "street": street,
            "sha256": supplement.sha256,
            "deadline": latest.date.isoformat(),
        },
    )
    return supplement
