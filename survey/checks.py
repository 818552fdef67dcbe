"""Configuration check run before serving in production (``minping serve --prod``).

Fatal problems stop the server with a one-line reason; the others are warnings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Flask

from .config import CONFIG_PROBLEMS, DEFAULT_SECRET_KEY

MIN_SECRET_LENGTH = 32


@dataclass(slots=True)
class CheckResult:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def check_config(app: Flask, *, production: bool = True, workers: int = 1) -> CheckResult:
    """Return the problems of ``app``'s configuration for serving.

    Errors (production only): the default or a short ``SECRET_KEY``; several
    workers with per-process (``memory://``) rate limits; a rate-limit store
    (Redis) that cannot be reached.
    Warnings: SQLite, cookies without the Secure flag,
    no proxy fix while cookies are secure (HSTS and client IPs need it behind nginx).
    """
    cfg = app.config
    result = CheckResult()
    (result.errors if production else result.warnings).extend(CONFIG_PROBLEMS)
    secret = str(cfg.get("SECRET_KEY") or "")
    if production:
        if not secret or secret == DEFAULT_SECRET_KEY:
            result.errors.append(
                "SECRET_KEY is the development default: set SECRET_KEY to a long random value "
                "(python3 -c 'import secrets; print(secrets.token_hex(32))')"
            )
        elif len(secret) < MIN_SECRET_LENGTH:
            result.errors.append(
                f"SECRET_KEY is too short ({len(secret)} characters, need {MIN_SECRET_LENGTH})"
            )
    uri = str(cfg.get("SQLALCHEMY_DATABASE_URI") or "")
    if uri.startswith("sqlite"):
        result.warnings.append(
            "database is SQLite: fine for a demo or a small office, use PostgreSQL "
            "(DATABASE_URL) for fieldwork with many residents"
        )
    if not cfg.get("SESSION_COOKIE_SECURE"):
        result.warnings.append(
            "session cookies are sent without the Secure flag: serve over HTTPS and set "
            "MINPING_SECURE_COOKIES=1"
        )
    storage = str(cfg.get("RATELIMIT_STORAGE_URI") or "memory://")
    if workers > 1 and storage.startswith("memory://"):
        why = (
            f"rate limits are kept in each process's memory (memory://), so each of the "
            f"{workers} workers counts separately and the login and token-guessing limits "
            f"become {workers} times looser: set REDIS_URL (e.g. redis://127.0.0.1:6379/0) "
            "or serve with --workers 1"
        )
        (result.errors if production else result.warnings).append(why)
    elif production and not storage.startswith("memory://"):
        problem = storage_problem(storage)
        if problem:
            result.errors.append(problem)
    if production and cfg.get("SESSION_COOKIE_SECURE") and not cfg.get("PROXY_FIX"):
        result.warnings.append(
            "MINPING_PROXY_FIX is off: behind nginx set it to 1 so client addresses "
            "(rate limits) and HTTPS (HSTS) are seen"
        )
    return result


def storage_problem(uri: str) -> str | None:
    """Why the rate-limit storage at ``uri`` cannot be used, or None if it answers."""
    from limits.storage import storage_from_string

    shown = _without_password(uri)
    try:
        storage = storage_from_string(uri, socket_connect_timeout=3, socket_timeout=3)
        if storage.check():
            return None
        reason = "it did not answer"
    except Exception as exc:  # noqa: BLE001 - any failure is reported in one line
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"rate-limit storage {shown} cannot be used: {reason}"


def _without_password(uri: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(uri)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return uri
