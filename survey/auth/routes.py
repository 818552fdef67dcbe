"""Login with throttling and temporary lockout."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import limiter
from ..main.routes import _safe_next
from ..services import accounts
from . import bp, sessions
from .decorators import login_required
from .forms import LoginForm

HOME_BY_ROLE = {
    "admin": "admin.index",
    "viewer": "admin.index",
    "agency": "agency.index",
    "interviewer": "agency.index",
    "street": "street.index",
}


def home_url(role: str) -> str:
    """Return the landing page of a role, or the site index if not yet built."""
    try:
        return url_for(HOME_BY_ROLE.get(role, "main.index"))
    except Exception:  # noqa: BLE001 - blueprint not registered
        return url_for("main.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def login() -> ResponseReturnValue:
    """Sign a staff member in."""
    if current_user.is_authenticated:
        return redirect(home_url(current_user.role))
    form = LoginForm()
    if form.validate_on_submit():
        user, error = accounts.authenticate(form.username.data, form.password.data)
        if user is None:
            form.password.errors.append(error)
        else:
            sessions.sign_in(user)
            return redirect(
                _safe_next(request.args.get("next"))
                if request.args.get("next")
                else home_url(user.role)
            )
    return render_template("auth/login.html", form=form), 200 if not form.errors else 400


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    """Sign out here and everywhere else this account is signed in."""
    sessions.sign_out(current_user._get_current_object())
    flash(_("您已退出登录。"))
    return redirect(url_for("main.index"))
