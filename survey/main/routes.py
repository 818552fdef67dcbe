"""Landing page, language and text-size switches, health check."""

from __future__ import annotations

from urllib.parse import urlparse

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select, text

from ..auth.decorators import login_required
from ..extensions import db
from ..models import District, Wave
from . import bp


def _safe_next(target: str | None) -> str:
    """Only allow same-site relative redirects."""
    if target and not urlparse(target).netloc and target.startswith("/"):
        return target
    return url_for("main.index")


@bp.get("/")
def index() -> ResponseReturnValue:
    """Explain minping and link each audience's entry point."""
    districts = db.session.scalars(select(District).order_by(District.id)).all()
    published = db.session.scalars(
        select(Wave).where(Wave.state == "published").order_by(Wave.created_at.desc())
    ).all()
    from ..auth.routes import home_url

    staff_home = home_url(current_user.role) if current_user.is_authenticated else None
    return render_template(
        "main/index.html", districts=districts, published=published, staff_home=staff_home
    )


@bp.app_context_processor
def _district_switch() -> dict[str, object]:
    """``district_switch()`` for the header: (current, visible) for multi-district accounts."""

    def district_switch() -> tuple[District | None, list[District]] | None:
        from ..auth.scope import current_district, is_multi_district, visible_districts

        if not current_user.is_authenticated or not is_multi_district():
            return None
        return current_district(), visible_districts()

    return {"district_switch": district_switch}


@bp.post("/district")
@login_required
def switch_district() -> ResponseReturnValue:
    """Choose the district a multi-district account works in (kept in the session)."""
    from ..auth.scope import choose_district

    district_id = request.form.get("district_id", type=int)
    if district_id is None or not choose_district(district_id):
        abort(404)
    district = db.session.get(District, district_id)
    flash(_("已切换到%(name)s。", name=district.name if district else ""), "success")
    return redirect(_safe_next(request.form.get("next"))), 303


@bp.get("/lang/<code>")
def set_language(code: str) -> ResponseReturnValue:
    """Switch the interface language (zh or en)."""
    if code in ("zh", "en"):
        session["lang"] = code
    return redirect(_safe_next(request.args.get("next")))


@bp.get("/text-size/<size>")
def set_text_size(size: str) -> ResponseReturnValue:
    """Switch large text on or off for elderly readers (works without JavaScript)."""
    response = redirect(_safe_next(request.args.get("next")))
    response.set_cookie(
        "large_text", "1" if size == "large" else "0", max_age=365 * 86400, samesite="Lax"
    )
    return response


@bp.get("/healthz")
def health() -> ResponseReturnValue:
    """Report whether the app can reach its database."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        return {"status": "error", "database": str(exc.__class__.__name__)}, 503
    return {"status": "ok", "database": "ok"}
