"""Document settings: issuing authority, doc numbers, deadline, requirement texts."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from reports.requirements import DEFAULT_REQUIREMENT
from scoring.framework import load_default_framework

from ..auth.decorators import ADMIN, BUREAU, roles_required
from ..auth.scope import current_district
from ..errors import attempt
from ..extensions import db
from ..models import District, Framework
from ..services.document_settings import update_document_settings
from ..services.frameworks import spec_of
from . import bp
from .forms import DocumentSettingsForm


def _context() -> tuple[District, list[Any]]:
    district = current_district()
    if district is None:
        abort(409, _("还没有区县数据。"))
    latest = db.session.scalars(select(Framework).order_by(Framework.id.desc()).limit(1)).first()
    spec = spec_of(latest) if latest else load_default_framework()
    indicators = list(spec.indicators)
    return district, indicators


def _page(
    form: DocumentSettingsForm, district: District, indicators: list[Any], status: int = 200
) -> tuple[str, int]:
    templates = district.requirement_templates or {}
    values = {
        i.code: request.form.get(f"req_{i.code}", templates.get(i.code, "")) for i in indicators
    }
    return render_template(
        "admin/settings.html",
        form=form,
        indicators=indicators,
        values=values,
        default=DEFAULT_REQUIREMENT,
    ), status


@bp.get("/settings/documents")
@roles_required(*BUREAU)
def document_settings() -> ResponseReturnValue:
    """Show the bureau's document settings."""
    district, indicators = _context()
    form = DocumentSettingsForm(obj=district)
    return _page(form, district, indicators)


@bp.post("/settings/documents")
@roles_required(*ADMIN)
def save_document_settings() -> ResponseReturnValue:
    """Change the document settings (audit-logged)."""
    district, indicators = _context()
    form = DocumentSettingsForm()
    if not form.validate_on_submit():
        return _page(form, district, indicators, 400)
    templates = {i.code: request.form.get(f"req_{i.code}", "")[:1000] for i in indicators}
    done = attempt(
        lambda: update_document_settings(
            district,
            authority=form.authority.data,
            doc_prefix=form.doc_prefix.data,
            reply_address=form.reply_address.data or "",
            deadline_days=form.deadline_days.data,
            top_k=form.top_k.data,
            templates=templates,
            user_id=current_user.id,
        )
    )
    if done.failed:
        return _page(form, district, indicators, done.status)
    flash(_("文书设置已保存。"), "success")
    return redirect(url_for("admin.document_settings")), 303


def _phones_page(
    district: District, values: dict[int, str], errors: dict[int, str], status: int = 200
) -> tuple[str, int]:
    return render_template(
        "admin/communities.html",
        district=district,
        values=values,
        errors=errors,
        page_error=bool(errors),
    ), status


@bp.get("/settings/communities")
@roles_required(*BUREAU)
def community_phones() -> ResponseReturnValue:
    """Show the residents' committee (居委会) phone of each community."""
    district, _indicators = _context()
    values = {c.id: c.phone for s in district.streets for c in s.communities}
    return _phones_page(district, values, {})


@bp.post("/settings/communities")
@roles_required(*ADMIN)
def save_community_phones() -> ResponseReturnValue:
    """Save the communities' phones (shown to their residents; audit-logged)."""
    import re

    from ..services.audit import record
    from .forms import ConfirmForm

    district, _indicators = _context()
    if not ConfirmForm().validate_on_submit():
        abort(400)
    communities = [c for s in district.streets for c in s.communities]
    values = {c.id: (request.form.get(f"phone_{c.id}") or c.phone).strip() for c in communities}
    errors = {
        c.id: _("只能填写数字、空格、横线、括号和“转”，最多40个字符。")
        for c in communities
        if len(values[c.id]) > 40 or not re.fullmatch(r"[0-9 +()\-－转]*", values[c.id])
    }
    if errors:
        return _phones_page(district, values, errors, 400)
    changed = {c.name: values[c.id] for c in communities if c.phone != values[c.id]}
    for c in communities:
        c.phone = values[c.id]
    if changed:
        record("district.community_phones", district, user_id=current_user.id, after=changed)
    db.session.commit()
    flash(_("已保存 %(n)s 个社区的电话。", n=len(changed)), "success")
    return redirect(url_for("admin.community_phones")), 303
