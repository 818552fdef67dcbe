"""Notices, rectification items with their events and evidence, official days.

Item states (docs/architecture.md, "Life cycles"):
issued -> planned -> in_progress -> submitted -> accepted | returned (-> in_progress).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from ._base import utcnow
from .district import Street
from .wave import Wave

ITEM_STATES = ("issued", "planned", "in_progress", "submitted", "accepted", "returned")
NOTICE_KINDS = ("notice", "letter", "escalation", "publication", "ranking", "supplement")


class Notice(Model):
    __table_args__ = (UniqueConstraint("doc_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="notice")
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id"), index=True)
    street_id: Mapped[int | None] = mapped_column(ForeignKey("street.id"), index=True)
    scoring_run_id: Mapped[int | None] = mapped_column(ForeignKey("scoring_run.id"))
    doc_number: Mapped[str | None] = mapped_column(String(60))
    sequence: Mapped[int | None]
    title: Mapped[str] = mapped_column(String(200), default="")
    issue_date: Mapped[date]
    deadline: Mapped[date | None]
    deadline_provisional: Mapped[bool] = mapped_column(default=False)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("notice.id"))
    # A 补充说明 (kind "supplement") re-determining this earlier document's
    # provisional deadline; the earlier document itself is never edited.
    supplement_to_id: Mapped[int | None] = mapped_column(ForeignKey("notice.id"))
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    wave: Mapped[Wave] = relationship()
    street: Mapped[Street | None] = relationship()
    items: Mapped[list[RectificationItem]] = relationship(back_populates="notice")


class RectificationItem(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notice.id"), index=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("street.id"), index=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id"), index=True)
    indicator_code: Mapped[str] = mapped_column(String(20))
    indicator_name: Mapped[str] = mapped_column(String(80))
    street_score: Mapped[float | None]
    district_score: Mapped[float | None]
    requirement: Mapped[str] = mapped_column(Text, default="")
    evidence_comments: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(20), default="issued")
    deadline: Mapped[date]
    deadline_provisional: Mapped[bool] = mapped_column(default=False)
    # What the deadline counts from: the issue date and working days of the
    # document that set it (kept once a provisional deadline is re-determined).
    deadline_start: Mapped[date | None]
    deadline_days: Mapped[int | None]
    measures: Mapped[str] = mapped_column(Text, default="")
    responsible_unit: Mapped[str] = mapped_column(String(120), default="")
    responsible_person: Mapped[str] = mapped_column(String(60), default="")
    planned_date: Mapped[date | None]
    result: Mapped[str] = mapped_column(Text, default="")
    accepted_at: Mapped[datetime | None]

    notice: Mapped[Notice] = relationship(back_populates="items")
    street: Mapped[Street] = relationship()
    events: Mapped[list[ItemEvent]] = relationship(
        back_populates="item", order_by="ItemEvent.at", cascade="all, delete-orphan"
    )
    evidence: Mapped[list[Evidence]] = relationship(
        back_populates="item", cascade="all, delete-orphan"
    )


class ItemEvent(Model):
    """One transition or progress note on an item: who, when, what."""

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("rectification_item.id"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")

    item: Mapped[RectificationItem] = relationship(back_populates="events")


class Evidence(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("rectification_item.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(60))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    thumbnail: Mapped[bytes | None] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    caption: Mapped[str] = mapped_column(String(200), default="")  # what the photo shows
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    item: Mapped[RectificationItem] = relationship(back_populates="evidence")


class OfficialDay(Model):
    """A holiday or a make-up working day on the official calendar."""

    __table_args__ = (UniqueConstraint("day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date]
    year: Mapped[int] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(10))  # "holiday" | "workday"
    name: Mapped[str] = mapped_column(String(40), default="")
    source: Mapped[str] = mapped_column(String(40), default="chinesecalendar")
