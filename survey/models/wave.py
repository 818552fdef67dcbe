"""Survey waves and their fieldwork quotas.

States (docs/architecture.md, "Life cycles"):
draft -> fieldwork -> closed -> scored -> notices_issued -> published.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scoring.settings import DEFAULTS

from ..extensions import Model
from ._base import utcnow
from .district import District, Street
from .framework import Framework

WAVE_STATES = ("draft", "fieldwork", "closed", "scored", "notices_issued", "published")
# How scoring weights respondents: all alike, the imported weights, or raked to population margins.
WEIGHTINGS = ("unweighted", "imported", "raked")


class Wave(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"), index=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("framework.id"), index=True)
    state: Mapped[str] = mapped_column(String(20), default="draft")
    year: Mapped[int] = mapped_column(default=2026)
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    allow_open_links: Mapped[bool] = mapped_column(default=False)
    include_open_channel: Mapped[bool] = mapped_column(default=True)
    min_n: Mapped[int] = mapped_column(default=DEFAULTS.min_n)
    weighting: Mapped[str] = mapped_column(
        String(10), default="imported", server_default="imported"
    )
    # raking's weight trimming bounds (relative to the cell's average adjustment);
    # both None: no trimming (docs/weighting.md)
    trim_low: Mapped[float | None] = mapped_column(Float)
    trim_high: Mapped[float | None] = mapped_column(Float)
    description: Mapped[str] = mapped_column(Text, default="")
    # shown to residents in "is this genuine?" and printed on invitation cards
    agency_name: Mapped[str] = mapped_column(String(120), default="")
    hotline: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]

    district: Mapped[District] = relationship()
    framework: Mapped[Framework] = relationship()
    quotas: Mapped[list[Quota]] = relationship(back_populates="wave", cascade="all, delete-orphan")


class Quota(Model):
    __table_args__ = (UniqueConstraint("wave_id", "street_id", "group_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id"), index=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("street.id"))
    group_code: Mapped[str] = mapped_column(String(20))
    target: Mapped[int] = mapped_column(default=0)

    wave: Mapped[Wave] = relationship(back_populates="quotas")
    street: Mapped[Street] = relationship()
