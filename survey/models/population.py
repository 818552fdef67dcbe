"""Population margins per district, versioned: the counts raking and the district reference use.

Every import or console edit stores a new :class:`PopulationVersion`; a
scoring run records the version it used (``ScoringRun.population_version``).
Rows follow the population margins file: street x group x variable x category.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from ._base import utcnow
from .district import District, Street

POPULATION_SOURCES = ("import", "form")


class PopulationVersion(Model):
    __table_args__ = (UniqueConstraint("district_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"), index=True)
    version: Mapped[int]
    source: Mapped[str] = mapped_column(String(10), default="import")  # import | form
    filename: Mapped[str] = mapped_column(String(200), default="")
    sha256: Mapped[str] = mapped_column(String(64))  # of the canonical CSV
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    district: Mapped[District] = relationship()
    margins: Mapped[list[PopulationMargin]] = relationship(
        back_populates="version_row", cascade="all, delete-orphan", order_by="PopulationMargin.id"
    )

    @property
    def label(self) -> str:
        return f"v{self.version}"


class PopulationMargin(Model):
    __table_args__ = (
        UniqueConstraint(
            "version_id",
            "street_id",
            "group_code",
            "variable",
            "category",
            name="uq_population_margin_cell",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("population_version.id", ondelete="CASCADE"), index=True
    )
    street_id: Mapped[int] = mapped_column(ForeignKey("street.id"))
    group_code: Mapped[str] = mapped_column(String(20))
    variable: Mapped[str] = mapped_column(String(10))  # age_band | gender
    category: Mapped[str] = mapped_column(String(10))
    count: Mapped[float] = mapped_column(Float)

    version_row: Mapped[PopulationVersion] = relationship(back_populates="margins")
    street: Mapped[Street] = relationship()
