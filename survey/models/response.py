"""Invitations, responses and their answers.

No names, phone numbers or ID numbers are ever stored here: a response knows
its wave, street, group, channel and paradata, nothing about who answered.
Invitation tokens are stored only as SHA-256 digests; single use is enforced by
the unique ``Response.invitation_id``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from ._base import utcnow
from .district import Community, Street
from .wave import Wave

DK_POINT = 0  # Answer.point for 不了解


class InvitationBatch(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id"), index=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("street.id"))
    group_code: Mapped[str] = mapped_column(String(20))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"))
    count: Mapped[int]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # the one-time key of the form that created it: a second press creates nothing
    request_key: Mapped[str | None] = mapped_column(String(40), unique=True)

    wave: Mapped[Wave] = relationship()
    street: Mapped[Street] = relationship()
    community: Mapped[Community | None] = relationship()


class Invitation(Model):
    __table_args__ = (Index("ix_invitation_start_address", "wave_id", "start_address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # keyed digest of the short typed code printed on the card (docs/typed-codes.md)
    code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("invitation_batch.id"), index=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id"), index=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("street.id"))
    group_code: Mapped[str] = mapped_column(String(20))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"))
    is_open: Mapped[bool] = mapped_column(default=False)  # reusable poster link
    # keyed hash of the network address (/64 for IPv6) that started an open-link child
    start_address: Mapped[str | None] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None]
    opened_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    wave: Mapped[Wave] = relationship()
    street: Mapped[Street] = relationship()
    community: Mapped[Community | None] = relationship()
    batch: Mapped[InvitationBatch | None] = relationship()


class ResponseDraft(Model):
    """Partial answers kept server-side for save-and-resume."""

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitation.id"), unique=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    page: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


#: how :attr:`Response.exclusion_reason` starts when the quality rules excluded a response
AUTO_PREFIX = "自动排除："
#: how it starts when a reviewer decided (see survey/services/quality_review.py)
REVIEW_PREFIX = "复核："


class Response(Model):
    __table_args__ = (
        UniqueConstraint("wave_id", "public_id"),
        Index("ix_response_wave_street", "wave_id", "street_id"),
        # quality flags at submit: latest responses of a device / a community
        Index("ix_response_device", "wave_id", "device_hash", "submitted_at"),
        Index("ix_response_community_time", "wave_id", "community_id", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(64))  # response_id of the exchange format
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id"))
    street_id: Mapped[int] = mapped_column(ForeignKey("street.id"))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"))
    group_code: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(10), default="online")
    weight: Mapped[float] = mapped_column(default=1.0)
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitation.id"), unique=True)
    interviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    import_sha256: Mapped[str | None] = mapped_column(String(64))  # the imported file's digest
    started_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]  # set by the submitting code; None for undated imports
    duration_s: Mapped[float | None]
    page_durations: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    device_hash: Mapped[str | None] = mapped_column(String(64))
    overall: Mapped[int | None] = mapped_column(SmallInteger)
    concerns: Mapped[str] = mapped_column(String(120), default="")  # "I07;I08"
    comment: Mapped[str] = mapped_column(Text, default="")
    age_band: Mapped[str | None] = mapped_column(String(20))
    gender: Mapped[str | None] = mapped_column(String(20))  # "undisclosed" is 11
    residence_years: Mapped[str | None] = mapped_column(String(20))
    quality_flags: Mapped[str] = mapped_column(Text, default="")  # "speeder: 95 s for 17 items"
    excluded: Mapped[bool] = mapped_column(default=False)
    #: why: ``AUTO_PREFIX`` + rule (excluded by the quality rules) or ``REVIEW_PREFIX`` +
    #: decision + note (a reviewer's decision, which the rules never overturn)
    exclusion_reason: Mapped[str] = mapped_column(Text, default="")

    wave: Mapped[Wave] = relationship()
    street: Mapped[Street] = relationship()
    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan", order_by="Answer.indicator_code"
    )


class Answer(Model):
    __table_args__ = (UniqueConstraint("response_id", "indicator_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id", ondelete="CASCADE"))
    indicator_code: Mapped[str] = mapped_column(String(20))
    point: Mapped[int] = mapped_column(SmallInteger)  # 1..K, DK_POINT for 不了解
    comment: Mapped[str] = mapped_column(Text, default="")

    response: Mapped[Response] = relationship(back_populates="answers")
