"""gunicorn's own log lines as JSON, with the request id and without secrets.

``serve --prod`` passes :class:`JsonLogger` as gunicorn's ``logger_class``:
its error lines ("Error handling request /s/...", worker timeouts, boots)
become the same JSON objects as the app's, carry the id of the request being
served (set by :class:`survey.logging.RequestIdMiddleware` on this thread),
and go through :class:`survey.logging.SecretFilter`.  Access lines, when
gunicorn's access log is switched on (the app writes its own by default),
are JSON too.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from .logging import ENVIRON_KEY, JsonFormatter, SecretFilter, scrub


class JsonLogger(Logger):
    """gunicorn logger: JSON lines, request ids, secrets masked."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonFormatter())
                if not any(isinstance(f, SecretFilter) for f in handler.filters):
                    handler.addFilter(SecretFilter())

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if not self.access_log_enabled:
            return
        status = getattr(resp, "status_code", None) or str(getattr(resp, "status", "")).split()[0]
        seconds = request_time.total_seconds() if hasattr(request_time, "total_seconds") else 0
        self.access_log.info(
            "request",
            extra={
                "request_id": environ.get(ENVIRON_KEY),
                "method": environ.get("REQUEST_METHOD"),
                "path": scrub(environ.get("PATH_INFO", "")),
                "status": int(status) if str(status).isdigit() else status,
                "duration_ms": round(seconds * 1000, 1),
                "remote": environ.get("REMOTE_ADDR"),
            },
        )
