"""Landing page, language and text-size switches, health check."""

from __future__ import annotations

from urllib.parse import urlparse

from flask import redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import select, text

from ..extensions import db
from ..models import District, Wave
from . import bp


def _safe_next(target: str | None) -> str:
    """Only allow same-site relative redirects."""
    if target and not urlparse(target).netloc and target.startswith("/"):
        return target
    return url_for("main.index")


@bp.get("/")
def index():
    """Explain minping and link each audience's entry point."""
    district = db.session.scalars(select(District).limit(1)).first()
    published = db.session.scalars(
        select(Wave).where(Wave.state == "published").order_by(Wave.created_at.desc())
    ).all()
    from ..auth.routes import home_url

    staff_home = home_url(current_user.role) if current_user.is_authenticated else None
    return render_template(
        "main/index.html", district=district, published=published, staff_home=staff_home
    )


@bp.get("/lang/<code>")
def set_language(code: str):
    """Switch the interface language (zh or en)."""
    if code in ("zh", "en"):
        session["lang"] = code
    return redirect(_safe_next(request.args.get("next")))


@bp.get("/text-size/<size>")
def set_text_size(size: str):
    """Switch large text on or off for elderly readers (works without JavaScript)."""
    response = redirect(_safe_next(request.args.get("next")))
    response.set_cookie(
        "large_text", "1" if size == "large" else "0", max_age=365 * 86400, samesite="Lax"
    )
    return response


@bp.get("/healthz")
def health():
    """Report whether the app can reach its database."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        return {"status": "error", "database": str(exc.__class__.__name__)}, 503
    return {"status": "ok", "database": "ok"}
