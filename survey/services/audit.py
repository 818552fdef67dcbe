"""Audit log of consequential changes (weights, exclusions, transitions, notices)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..extensions import db
from ..models import AuditLog, District, Street, User, Wave

# Shared by every district of an installation: their entries carry no district.
INSTALLATION_WIDE = ("Framework", "OfficialCalendar", "OfficialDay")


def district_of(obj: Any) -> int | None:
    """The district an audited object belongs to, when it can be told from the object."""
    if isinstance(obj, District):
        return obj.id
    if isinstance(obj, (Wave, Street)):
        return obj.district_id
    if isinstance(obj, User):
        if obj.district_id is not None or obj.street_id is None:
            return obj.district_id
        street = db.session.get(Street, obj.street_id)
        return street.district_id if street else None
    wave_id = getattr(obj, "wave_id", None)
    if wave_id is not None:
        return db.session.scalar(select(Wave.district_id).where(Wave.id == wave_id))
    return None


def _request_district() -> int | None:
    try:
        from flask import has_request_context

        if not has_request_context():
            return None
        from ..auth.scope import current_district

        district = current_district()
        return district.id if district is not None else None
    except Exception:  # noqa: BLE001 - no signed-in user, no district yet
        return None


def record(
    action: str,
    obj: Any,
    *,
    user_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
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
    kind = obj if isinstance(obj, str) else type(obj).__name__
    if kind in INSTALLATION_WIDE:
        district_id = None
    elif isinstance(obj, (str, User)):
        district_id = district_of(obj) if isinstance(obj, User) else _request_district()
    else:
        district_id = district_of(obj)
        if district_id is None:
            district_id = _request_district()
    entry = AuditLog(
        district_id=district_id,
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
