"""Structured logs: one JSON line per request and per application message.

Each request gets an id (a sane incoming ``X-Request-ID`` from nginx, else a
fresh one), echoed in the response header and in every line logged while it
runs.  Invitation tokens never reach the logs: the ``<token>`` part of a path
is replaced by the literal ``<token>``.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request

ACCESS_LOGGER = "minping.access"
REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._\-]{1,64}")
SECRET_VIEW_ARGS = ("token",)


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object: time, level, logger, message, request fields."""

    FIELDS = ("request_id", "method", "path", "status", "duration_ms", "remote")

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in self.FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                out[name] = value
        if "request_id" not in out and has_request_context():
            out["request_id"] = g.get("request_id")
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def safe_path() -> str:
    """Return the request path with secrets (invitation tokens) masked."""
    path = request.path
    for name in SECRET_VIEW_ARGS:
        value = (request.view_args or {}).get(name)
        if isinstance(value, str) and value:
            path = path.replace(value, f"<{name}>")
    return path


def _handler(fmt: str) -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    return handler


def init_app(app: Flask) -> None:
    """Give requests an id and log each one (JSON lines on stderr unless testing)."""
    access = logging.getLogger(ACCESS_LOGGER)
    if not app.testing:
        from flask.logging import default_handler

        fmt = str(app.config.get("LOG_FORMAT", "json"))
        level = str(app.config.get("LOG_LEVEL", "INFO")).upper()
        app.logger.removeHandler(default_handler)
        for logger in (app.logger, access):
            if not logger.handlers:
                logger.addHandler(_handler(fmt))
            logger.setLevel(level)
            logger.propagate = False

    def _start_request() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if REQUEST_ID_RE.fullmatch(incoming) else uuid.uuid4().hex[:16]
        g.request_started = time.perf_counter()

    # First of all before-request hooks, so requests refused early (rate limits) get an id too.
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)

    @app.after_request
    def _log_request(response):  # type: ignore[no-untyped-def]
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
