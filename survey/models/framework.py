"""Stored framework versions: the TOML text plus a row per respondent group.

A version is immutable once a wave uses it (``frozen``); an edit then makes a
new version.  The TOML text is the source of truth: dimensions and indicators
are read from it (:func:`survey.services.frameworks.spec_of`, which returns a
``scoring.framework.Framework``).  Respondent groups also have rows, which the
population margins join on.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from ._base import utcnow


class Framework(Model):
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60))
    version: Mapped[int] = mapped_column(default=1)
    name: Mapped[str] = mapped_column(String(200))
    toml: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    frozen: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    groups: Mapped[list[RespondentGroup]] = relationship(
        back_populates="framework",
        order_by="RespondentGroup.position",
        cascade="all, delete-orphan",
    )

    @property
    def label(self) -> str:
        return f"{self.code} v{self.version}"


class RespondentGroup(Model):
    __table_args__ = (UniqueConstraint("framework_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("framework.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(120), default="")
    share: Mapped[float] = mapped_column(Float)
    position: Mapped[int] = mapped_column(default=0)

    framework: Mapped[Framework] = relationship(back_populates="groups")
