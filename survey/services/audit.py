"""Audit log of consequential changes (weights, exclusions, transitions, notices)."""

from __future__ import annotations

from typing import Any

from ..extensions import db
from ..models import AuditLog


def record(
    action: str,
    obj: Any,
    *,
    user_id: int | None = None,
    before: dict | None = None,
    after: dict | None = None,
    note: str = "",
) -> AuditLog:
    """Add an audit entry for ``obj`` (not committed; it lands with the change).

    ``obj`` is a model instance, or a plain text naming the kind of thing changed.
    """
    if user_id is None:
        try:
            from flask_login import current_user

            if current_user and current_user.is_authenticated:
                user_id = current_user.id
        except Exception:  # noqa: BLE001 - outside a request (CLI)
            user_id = None
    entry = AuditLog(
        user_id=user_id,
        action=action,
        object_type=obj if isinstance(obj, str) else type(obj).__name__,
        object_id="" if isinstance(obj, str) else str(getattr(obj, "id", "") or ""),
        before=before,
        after=after,
        note=note,
    )
    db.session.add(entry)
    return entry
