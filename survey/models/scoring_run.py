"""Stored scoring runs: inputs' digests, settings, and the results JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scoring.settings import DEFAULTS

from ..extensions import Model
from ._base import utcnow
from .district import Street
from .population import PopulationVersion
from .wave import Wave


class ScoringRun(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    boot: Mapped[int] = mapped_column(default=DEFAULTS.boot)
    seed: Mapped[int]
    min_n: Mapped[int] = mapped_column(default=DEFAULTS.min_n)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    framework_sha256: Mapped[str] = mapped_column(String(64))
    data_sha256: Mapped[str] = mapped_column(String(64))
    n_responses: Mapped[int] = mapped_column(default=0)
    n_excluded: Mapped[int] = mapped_column(default=0)
    result_json: Mapped[str] = mapped_column(Text)
    is_current: Mapped[bool] = mapped_column(default=True)
    # population margins used (raking, district reference); None when none were used
    population_version_id: Mapped[int | None] = mapped_column(ForeignKey("population_version.id"))

    wave: Mapped[Wave] = relationship()
    population_version: Mapped[PopulationVersion | None] = relationship()
    street_results: Mapped[list[StreetResult]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="StreetResult.rank"
    )


class StreetResult(Model):
    """One street's headline figures of a run (the full detail is in ``result_json``)."""

    __table_args__ = (UniqueConstraint("run_id", "street_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("scoring_run.id", ondelete="CASCADE"))
    street_id: Mapped[int] = mapped_column(ForeignKey("street.id"))
    n: Mapped[int]
    score: Mapped[float | None] = mapped_column(Float)
    ci_low: Mapped[float | None] = mapped_column(Float)
    ci_high: Mapped[float | None] = mapped_column(Float)
    rank: Mapped[int | None]
    rank_low: Mapped[int | None]
    rank_high: Mapped[int | None]
    band: Mapped[str] = mapped_column(String(10), default="similar")
    priorities: Mapped[str] = mapped_column(String(200), default="")

    run: Mapped[ScoringRun] = relationship(back_populates="street_results")
    street: Mapped[Street] = relationship()
