"""Audit log: who did what, when, with the values before and after."""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import func, select

from ..auth.decorators import BUREAU, roles_required
from ..auth.scope import current_district, home_district_id
from ..edges import bounded_int
from ..extensions import db
from ..models import AuditLog, User
from ..services.audit import INSTALLATION_WIDE
from ..services.audit_words import action_label, describe, type_label
from . import bp

PER_PAGE = 50


@bp.get("/audit")
@roles_required(*BUREAU)
def audit() -> ResponseReturnValue:
    """List audit entries, newest first, filtered by action, object type or id, user."""
    action = request.args.get("action", "").strip()[:60]
    object_type = request.args.get("object_type", "").strip()[:40]
    object_id = request.args.get("object_id", "").strip()[:60]
    username = request.args.get("user", "").strip()[:60]
    page = max(request.args.get("page", 1, type=bounded_int) or 1, 1)
    query = select(AuditLog).outerjoin(User, User.id == AuditLog.user_id)
    # The current district's entries and the shared ones (frameworks, calendar);
    # a city-level account also sees entries of no district (city accounts).
    shared = (
        AuditLog.district_id.is_(None)
        if home_district_id(current_user) is None
        else AuditLog.object_type.in_(INSTALLATION_WIDE)
    )
    district = current_district()
    query = query.where((AuditLog.district_id == (district.id if district else None)) | shared)
    if action:
        query = query.where(AuditLog.action.startswith(action, autoescape=True))
    if object_type:
        query = query.where(AuditLog.object_type == object_type)
    if object_id:
        query = query.where(AuditLog.object_id == object_id)
    if username:
        query = query.where(User.username == username)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(
        query.order_by(AuditLog.at.desc(), AuditLog.id.desc())
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE)
    ).all()
    actions = db.session.scalars(select(AuditLog.action).distinct().order_by(AuditLog.action)).all()
    types = db.session.scalars(
        select(AuditLog.object_type).distinct().order_by(AuditLog.object_type)
    ).all()
    return render_template(
        "admin/audit.html",
        rows=describe(list(rows)),
        action_label=action_label,
        type_label=type_label,
        total=total,
        page=page,
        per_page=PER_PAGE,
        actions=actions,
        types=types,
        filters={
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "user": username,
        },
    )


@bp.app_template_filter("pretty_json")
def pretty_json(value: object) -> str:
    """Readable JSON (Chinese kept as is) for the audit log; '' for None."""
    import json

    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True, default=str)
