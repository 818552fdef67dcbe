"""Structured logs: one JSON line per request and per message, secrets scrubbed.

Each request gets an id (a sane incoming ``X-Request-ID`` from nginx, else a
fresh one) as soon as it enters the process (:class:`RequestIdMiddleware`, the
outermost WSGI layer), echoed in the response header, on every error page, and
in every line logged while it runs: the app's, the development server's and
gunicorn's (:mod:`survey.gunicorn_logging`).

No token ever reaches a log line: invitation and interview tokens in paths
(``/s/<token>``, ``/agency/interview/<token>``), ``token=`` query values and
``Bearer`` credentials are masked by :class:`SecretFilter`, which every
handler carries.  SQL parameters never appear either: the engine hides them
(``hide_parameters``) and the filter drops any ``[parameters: ...]`` block and
PostgreSQL's ``DETAIL: Key (...)=(...)`` values from messages and tracebacks,
so a resident's comment or device hash cannot leak through an error.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, has_request_context, request

ACCESS_LOGGER = "minping.access"
REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._\-]{1,64}")
ENVIRON_KEY = "minping.request_id"
SECRET_VIEW_ARGS = ("token",)

_SECRETS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(/s/|/interview/)(?!<token>)[^/?#\s\"'<>]+"), r"\1<token>"),
    (re.compile(r"(?i)\b(token|code|api_key)=[^&\s\"']+"), r"\1=<hidden>"),
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=\-]+"), r"\1 <token>"),
    (re.compile(r"\[parameters: .*?\](?=\s*(?:\n|\(|$))", re.S), "[parameters hidden]"),
    (re.compile(r"DETAIL:.*"), "DETAIL: <hidden>"),
)

_local = threading.local()


def scrub(text: str) -> str:
    """Mask tokens, credentials and SQL parameter values in ``text``."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def current_request_id() -> str | None:
    """The id of the request this thread is serving (also outside Flask's context)."""
    if has_request_context():
        rid = g.get("request_id") or request.environ.get(ENVIRON_KEY)
        if rid:
            return str(rid)
    return getattr(_local, "request_id", None)


class SecretFilter(logging.Filter):
    """Rewrite a record so its message and traceback carry no secrets; add the request id."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string is still logged
            message = str(record.msg)
        record.msg, record.args = scrub(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if isinstance(getattr(record, "path", None), str):
            record.path = scrub(record.path)  # type: ignore[attr-defined]
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id()
        return True


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object: time, level, logger, message, request fields."""

    FIELDS = ("request_id", "method", "path", "status", "duration_ms", "remote")

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        for name in self.FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                out[name] = value
        if "request_id" not in out:
            rid = current_request_id()
            if rid:
                out["request_id"] = rid
        if record.exc_info or record.exc_text:
            text = record.exc_text or self.formatException(record.exc_info)  # type: ignore[arg-type]
            out["exc"] = scrub(text)
        return json.dumps(out, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id() or "-"
        return scrub(super().format(record))


def safe_path() -> str:
    """Return the request path with secrets (invitation tokens) masked."""
    path = request.path
    for name in SECRET_VIEW_ARGS:
        value = (request.view_args or {}).get(name)
        if isinstance(value, str) and value:
            path = path.replace(value, f"<{name}>")
    return scrub(path)


def make_handler(fmt: str = "json", stream: Any = None) -> logging.Handler:
    """A stderr handler with the JSON (or text) format and the secret filter."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(SecretFilter())
    return handler


def configure_process_logging(app: Flask) -> None:
    """Send every logger of this process (root included) through one scrubbed handler."""
    fmt = str(app.config.get("LOG_FORMAT", "json"))
    level = str(app.config.get("LOG_LEVEL", "INFO")).upper()
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(make_handler(fmt))
    root.setLevel(level)
    for name in ("huey", "huey.consumer", "minping.jobs"):
        logging.getLogger(name).setLevel(level)
    for name in ("weasyprint", "fontTools"):  # a line per layout step otherwise
        logging.getLogger(name).setLevel(logging.WARNING)


def init_app(app: Flask) -> None:
    """Give requests an id and log each one (JSON lines on stderr unless testing)."""
    access = logging.getLogger(ACCESS_LOGGER)
    secret_filter = SecretFilter()
    # The development server's access lines ("GET /s/<token> HTTP/1.1" 200) are
    # scrubbed too: werkzeug logs through its own logger.
    werkzeug_log = logging.getLogger("werkzeug")
    if not any(isinstance(f, SecretFilter) for f in werkzeug_log.filters):
        werkzeug_log.addFilter(secret_filter)
    if not app.testing:
        from flask.logging import default_handler

        fmt = str(app.config.get("LOG_FORMAT", "json"))
        level = str(app.config.get("LOG_LEVEL", "INFO")).upper()
        app.logger.removeHandler(default_handler)
        for logger in (
            app.logger,
            access,
            werkzeug_log,
            logging.getLogger("minping.jobs"),
            logging.getLogger("minping.errors"),
        ):
            if not logger.handlers:
                logger.addHandler(make_handler(fmt))
            logger.setLevel(level)
            logger.propagate = False
        root = logging.getLogger()
        if not root.handlers:  # libraries (huey, SQLAlchemy warnings) log through the root
            root.addHandler(make_handler(fmt))
            root.setLevel(logging.WARNING)
    elif not any(isinstance(f, SecretFilter) for f in app.logger.filters):
        app.logger.addFilter(secret_filter)

    def _start_request() -> None:
        rid = request.environ.get(ENVIRON_KEY)
        if not rid:
            incoming = request.headers.get("X-Request-ID", "")
            rid = incoming if REQUEST_ID_RE.fullmatch(incoming) else new_request_id()
            request.environ[ENVIRON_KEY] = rid
        g.request_id = rid
        g.request_started = time.perf_counter()

    # First of all before-request hooks, so requests refused early (rate limits) get an id too.
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)

    @app.after_request
    def _log_request(response: Response) -> Response:
        request_id = g.get("request_id")
        if request_id:
            response.headers.setdefault("X-Request-ID", request_id)
        if access.isEnabledFor(logging.INFO):
            started = g.get("request_started", time.perf_counter())
            access.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": request.method,
                    "path": safe_path(),
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "remote": request.remote_addr,
                },
            )
        return response

    app.wsgi_app = RequestIdMiddleware(app.wsgi_app, app)  # type: ignore[method-assign]


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


# -- the outermost WSGI layer --------------------------------------------------

StartResponse = Callable[..., Any]

PLAIN_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{code}</title></head>
<body><h1>{title}</h1><p>{message}</p>
<p>请求编号 Request ID: <code>{request_id}</code></p></body></html>
"""
UNAVAILABLE = (
    "系统暂时无法使用",
    "数据库暂时无法连接，您的操作没有保存。请稍后再试。"
    " The database is unreachable; nothing was saved. Please try again shortly.",
)
FAILED = (
    "系统出现了问题",
    "您的操作没有保存。请稍后再试。 Something went wrong; nothing was saved.",
)


def is_database_down(exc: BaseException) -> bool:
    """Whether ``exc`` means the database cannot be reached (answer 503, not 500)."""
    from sqlalchemy import exc as sa_exc

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, sa_exc.OperationalError | sa_exc.InterfaceError):
            return True
        if isinstance(current, sa_exc.TimeoutError):  # the pool: no connection to be had
            return True
        name = type(current).__module__ + "." + type(current).__name__
        if name.startswith("psycopg") and "OperationalError" in name:
            return True
        if isinstance(current, ConnectionError):
            return True
        current = current.__cause__ or current.__context__
    return False


def plain_error(request_id: str, unavailable: bool) -> tuple[str, list[tuple[str, str]], bytes]:
    """A page that needs nothing (no template, no database): status, headers, body."""
    title, message = UNAVAILABLE if unavailable else FAILED
    code = 503 if unavailable else 500
    body = PLAIN_PAGE.format(code=code, title=title, message=message, request_id=request_id)
    status = "503 Service Unavailable" if unavailable else "500 Internal Server Error"
    headers = [
        ("Content-Type", "text/html; charset=utf-8"),
        ("X-Request-ID", request_id),
        ("Cache-Control", "no-store"),
    ]
    if unavailable:
        headers.append(("Retry-After", "30"))
    return status, headers, body.encode("utf-8")


class RequestIdMiddleware:
    """Assign the request id first, and answer errors that escape Flask itself.

    Flask's error handlers cover views; this layer covers what happens outside
    them (a teardown after a lost database connection, an error page that
    fails to render), so no response is ever gunicorn's bare "Internal Server
    Error": every error gets a plain page with the request id and a JSON log line.
    """

    def __init__(
        self,
        app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]],
        flask_app: Flask | None = None,
    ):
        self.app = app
        self.flask_app = flask_app
        self.log = logging.getLogger("minping.errors")

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        incoming = environ.get("HTTP_X_REQUEST_ID", "")
        rid = incoming if REQUEST_ID_RE.fullmatch(incoming) else new_request_id()
        environ[ENVIRON_KEY] = rid
        _local.request_id = rid  # gunicorn's own lines for this request carry it too
        # Hold the app's start_response until it returns: if anything fails
        # after the view (teardown), the error page can still take its place.
        pending: list[tuple[str, list[tuple[str, str]], Any]] = []
        sent: list[Callable[[bytes], Any]] = []

        def deferred_start(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            pending[:] = [(status, headers, exc_info)]

            def write(data: bytes) -> None:  # legacy WSGI write(): send headers now
                if not sent:
                    sent.append(start_response(*pending[0]))
                sent[0](data)

            return write

        try:
            result = self.app(environ, deferred_start)
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            config = self.flask_app.config if self.flask_app else {}
            if config.get("TESTING") and config.get("PROPAGATE_EXCEPTIONS", True):
                raise
            return self.fail(exc, environ, rid, start_response)
        if pending and not sent:
            start_response(*pending[0])
        return _Closing(result, self, environ, rid)

    def fail(
        self,
        exc: BaseException,
        environ: dict[str, Any],
        rid: str,
        start_response: StartResponse,
    ) -> list[bytes]:
        unavailable = is_database_down(exc)
        self.log.error(
            "unhandled error outside the view on %s %s",
            environ.get("REQUEST_METHOD"),
            scrub(environ.get("PATH_INFO", "")),
            exc_info=(type(exc), exc, exc.__traceback__),
            extra={"request_id": rid, "status": 503 if unavailable else 500},
        )
        status, headers, body = plain_error(rid, unavailable)
        start_response(status, headers)
        return [body]


class _Closing:
    """Pass the body through; log (never raise) errors from the app's ``close()``."""

    def __init__(
        self,
        result: Iterable[bytes],
        owner: RequestIdMiddleware,
        environ: dict[str, Any],
        rid: str,
    ) -> None:
        self.result, self.owner, self.environ, self.rid = result, owner, environ, rid

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.result)

    def close(self) -> None:
        close = getattr(self.result, "close", None)
        if close is None:
            return
        try:
            close()
        except Exception as exc:  # noqa: BLE001 - the response is already sent
            self.owner.log.error(
                "error while closing the response on %s",
                scrub(self.environ.get("PATH_INFO", "")),
                exc_info=(type(exc), exc, exc.__traceback__),
                extra={"request_id": self.rid, "status": 500},
            )
