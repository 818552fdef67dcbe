"""Wire blueprints, login, locale, error pages and security headers into the app."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from flask import Flask, Response, g, render_template, request, session
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from .extensions import babel, db, login_manager

if TYPE_CHECKING:
    from .models import User

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def select_locale() -> str:
    """Use ?lang=, then the session's choice, then Simplified Chinese."""
    lang = request.args.get("lang")
    if lang in ("zh", "en"):
        session["lang"] = lang
    return session.get("lang", "zh")


def init_app(app: Flask) -> None:
    from . import edges

    edges.init_app(app)  # bounded <int:...> converters, before any rule is added
    _proxy_fix(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录。"

    @login_manager.user_loader  # type: ignore[untyped-decorator]
    def load_user(user_id: str) -> User | None:
        from .auth.sessions import load_user as load_session_user

        return load_session_user(user_id)

    from .admin import bp as admin_bp
    from .agency import bp as agency_bp
    from .api import bp as api_bp
    from .auth import bp as auth_bp
    from .main import bp as main_bp
    from .public import bp as public_bp
    from .respond import bp as respond_bp
    from .street import bp as street_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    for blueprint in (respond_bp, agency_bp, admin_bp, street_bp, public_bp, api_bp):
        app.register_blueprint(blueprint)

    @app.before_request
    def _large_text() -> None:
        g.large_text = request.cookies.get("large_text") == "1"

    @app.context_processor
    def _globals() -> dict[str, object]:
        return {
            "current_lang": select_locale(),
            "large_text": g.get("large_text", False),
            "has_endpoint": lambda name: name in app.view_functions,
        }

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"
        )
        if request.is_secure:
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> ResponseReturnValue:
        request_id = g.get("request_id")
        if request.path.startswith("/api/"):
            body = {"error": exc.name, "message": exc.description, "request_id": request_id}
            return body, cast(int, exc.code)  # handlers only see exceptions with a code
        # werkzeug's default descriptions are English: show only our own (translated) ones
        own = exc.description if exc.description != type(exc).description else None
        page = render_template("errors/error.html", error=exc, message=own, request_id=request_id)
        return page, cast(int, exc.code)

    @app.errorhandler(Exception)
    def _server_error(exc: Exception) -> ResponseReturnValue:
        from .logging import is_database_down, plain_error

        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 - the connection may be gone; the pool drops it
            pass
        request_id = g.get("request_id") or "-"
        down = is_database_down(exc)
        app.logger.error(
            "database unavailable on %s" if down else "unhandled error on %s",
            request.path,
            exc_info=exc,
            extra={"status": 503 if down else 500},
        )
        if app.config.get("TESTING") and app.config.get("PROPAGATE_EXCEPTIONS", True):
            raise exc
        if down:
            # A plain page: the usual layout would ask the database for the signed-in user.
            if request.path.startswith("/api/"):
                body = {
                    "error": "Service Unavailable",
                    "message": "database unavailable, nothing was saved; retry later",
                    "request_id": request_id,
                }
                return body, 503, {"Retry-After": "30"}
            status, headers, page = plain_error(request_id, unavailable=True)
            return page, 503, headers
        message = _("系统出现了问题，您的操作没有保存。请稍后再试。")
        if request.path.startswith("/api/"):
            body = {"error": "Internal Server Error", "message": message, "request_id": request_id}
            return body, 500
        html = render_template(
            "errors/error.html", error=None, message=message, request_id=request_id
        )
        return html, 500


def _proxy_fix(app: Flask) -> None:
    """Behind one reverse proxy (MINPING_PROXY_FIX=1), trust its X-Forwarded-* headers.

    Client addresses then key the rate limits, and ``X-Forwarded-Proto: https``
    makes ``request.is_secure`` true, so HSTS is sent only to HTTPS clients.
    """
    if app.config.get("PROXY_FIX"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1)  # type: ignore[method-assign]
