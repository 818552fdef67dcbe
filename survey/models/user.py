"""Staff accounts and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import Model
from ..i18n import _
from ._base import utcnow
from .district import District, Street

ROLES = ("admin", "agency", "interviewer", "street", "viewer")
ROLE_NAMES = {
    "admin": _("区民政局管理员"),
    "agency": _("第三方机构"),
    "interviewer": _("访问员"),
    "street": _("街道工作人员"),
    "viewer": _("查看者"),
}


class User(UserMixin, Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(20))
    street_id: Mapped[int | None] = mapped_column(ForeignKey("street.id"))
    # The district this account works for; None = every district (a city bureau,
    # an agency serving several).  A street officer's district is their street's.
    # See docs/districts.md.
    district_id: Mapped[int | None] = mapped_column(ForeignKey("district.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    api_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Bumped on logout, password change, role change and deactivation: sessions
    # signed with an older version are refused (survey/auth/sessions.py).
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    street: Mapped[Street | None] = relationship()
    district: Mapped[District | None] = relationship()

    def set_password(self, password: str) -> None:
        """Set a new password; every existing session of this user ends."""
        self.password_hash = generate_password_hash(password)
        self.revoke_sessions()

    def revoke_sessions(self) -> None:
        """End every session of this user (at the next flush; not committed)."""
        if self.session_version is None:  # not yet inserted: the default applies
            return
        self.session_version = User.session_version + 1

    def get_id(self) -> str:  # Flask-Login: the id stored in the session
        return f"{self.id}:{self.session_version}"

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    @property
    def role_name(self) -> str:
        return ROLE_NAMES.get(self.role, self.role)


class AuditLog(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(60), default="")
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    # The district the change belongs to (None: installation-wide, e.g. a framework).
    district_id: Mapped[int | None] = mapped_column(ForeignKey("district.id"), index=True)

    user: Mapped[User | None] = relationship()
