"""The deploying district, its streets and their communities."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model


class District(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    # Bureau settings for documents (docs/documents.md).
    authority: Mapped[str] = mapped_column(String(120), default="")
    doc_prefix: Mapped[str] = mapped_column(String(20), default="")
    reply_address: Mapped[str] = mapped_column(Text, default="")
    deadline_days: Mapped[int] = mapped_column(default=30)
    top_k: Mapped[int] = mapped_column(default=3)
    # Indicator code -> requirement text with {street} / {indicator} placeholders.
    requirement_templates: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    streets: Mapped[list[Street]] = relationship(
        back_populates="district", order_by="Street.position"
    )


class Street(Model):
    __table_args__ = (
        UniqueConstraint("district_id", "code"),
        UniqueConstraint("district_id", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(default=0)

    district: Mapped[District] = relationship(back_populates="streets")
    communities: Mapped[list[Community]] = relationship(
        back_populates="street", order_by="Community.code"
    )

    @property
    def full_name(self) -> str:
        """Name with its 街道 suffix, as used in documents."""
        return self.name if self.name.endswith(("街道", "镇")) else f"{self.name}街道"


class Community(Model):
    __table_args__ = (UniqueConstraint("street_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("street.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(80))
    # the residents' committee (居委会) phone residents can call to check an invitation
    phone: Mapped[str] = mapped_column(String(40), default="")

    street: Mapped[Street] = relationship(back_populates="communities")
