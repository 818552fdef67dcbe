"""Security: headers, proxy handling, cookies, configuration check, throttling, passwords."""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from survey import create_app
from survey.checks import check_config
from survey.config import DEFAULT_SECRET_KEY, Config, ProductionConfig, TestConfig
from survey.extensions import db, limiter
from survey.logging import JsonFormatter

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
GOOD_PASSWORD = "Strong-Enough-2026"


# -- headers ------------------------------------------------------------------


def test_security_headers_on_every_page(client):
    response = client.get("/healthz")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP
    assert re.fullmatch(r"[0-9a-f]{16}", response.headers["X-Request-ID"])
    # A proxy's X-Forwarded-Proto is ignored unless MINPING_PROXY_FIX is on.
    spoofed = client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in spoofed.headers


def test_hsts_only_behind_https_with_proxy_fix(scratch_database_url):
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = scratch_database_url
        PROXY_FIX = True

    application = create_app(Config)
    client = application.test_client()
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    secure = client.get("/healthz", headers=forwarded)
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    plain = client.get("/healthz", headers={"X-Forwarded-Proto": "http"})
    assert "Strict-Transport-Security" not in plain.headers
    with application.app_context():
        db.engine.dispose()


def test_request_logs_are_json_lines_without_tokens(client, caplog, monkeypatch):
    monkeypatch.setattr(logging.getLogger("minping.access"), "propagate", True)
    caplog.set_level(logging.INFO, logger="minping.access")
    client.get("/s/AAAAAAAAAAAAAAAAAAAAAA", headers={"X-Request-ID": "req-42"})
    record = next(r for r in caplog.records if r.name == "minping.access")
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "req-42" and line["method"] == "GET"
    assert line["path"] == "/s/<token>" and line["status"] == 404
    assert {"time", "level", "duration_ms"} <= set(line)
    assert "AAAAAAAAAAAAAAAAAAAAAA" not in json.dumps(line)


# -- production configuration -------------------------------------------------------


@pytest.mark.skipif("MINPING_SECURE_COOKIES" in os.environ, reason="cookie flag set by env")
def test_production_cookies_are_secure_httponly_samesite():
    assert ProductionConfig.SESSION_COOKIE_SECURE is True
    assert ProductionConfig.REMEMBER_COOKIE_SECURE is True
    assert ProductionConfig.SESSION_COOKIE_HTTPONLY is True
    assert ProductionConfig.SESSION_COOKIE_SAMESITE == "Lax"


def test_config_check_refuses_default_secret_and_warns(app):
    class Prod(Config):
        SECRET_KEY = DEFAULT_SECRET_KEY
        SQLALCHEMY_DATABASE_URI = "sqlite:///x.sqlite"
        SESSION_COOKIE_SECURE = False

    fake = Flask("check")
    fake.config.from_object(Prod)
    result = check_config(fake, production=True, workers=4)
    assert not result.ok and "SECRET_KEY" in result.errors[0]
    assert any("SQLite" in w for w in result.warnings)
    assert any("Secure flag" in w for w in result.warnings)
    assert any("each of the 4 workers counts separately" in e for e in result.errors)
    fake.config.update(SECRET_KEY="short")
    assert "too short" in check_config(fake).errors[0]
    fake.config.update(
        SECRET_KEY="k" * 64,
        SQLALCHEMY_DATABASE_URI="postgresql+psycopg://db/minping",
        SESSION_COOKIE_SECURE=True,
        PROXY_FIX=True,
    )
    assert check_config(fake, workers=1).ok and check_config(fake, workers=1).warnings == []


def _production_like(monkeypatch, secret: str, storage: str = "memory://") -> None:
    """Let ``serve --prod`` build a testing app (no stderr log handlers) with ``secret``."""

    class Prod(TestConfig):
        SECRET_KEY = secret
        SESSION_COOKIE_SECURE = True
        RATELIMIT_STORAGE_URI = storage

    monkeypatch.setattr("survey.cli_serve.production_app", lambda: create_app(Prod))


def test_serve_prod_exits_with_one_line_reason_on_default_secret(runner, monkeypatch):
    _production_like(monkeypatch, DEFAULT_SECRET_KEY)
    started = []
    monkeypatch.setattr("survey.cli_serve.run_gunicorn", lambda options: started.append(options))
    result = runner.invoke(args=["serve", "--prod", "--no-migrate"])
    assert result.exit_code == 1 and not started
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "SECRET_KEY is the development default" in errors[0]


def test_serve_prod_starts_gunicorn_with_a_good_secret(runner, monkeypatch, redis_url):
    _production_like(monkeypatch, "k" * 64, storage=redis_url)
    started = []
    monkeypatch.setattr("survey.cli_serve.run_gunicorn", lambda options: started.append(options))
    result = runner.invoke(args=["serve", "--prod", "--no-migrate", "--workers", "3"])
    assert result.exit_code == 0, result.output
    (options,) = started
    # threads with a read timeout by default: slow clients hold a thread, not a worker
    assert options["workers"] == 3 and options["threads"] == 4
    assert options["worker_class"] == "survey.gunicorn_worker.BoundedThreadWorker"
    assert options["logger_class"] == "survey.gunicorn_logging.JsonLogger"
    assert options["bind"] == "127.0.0.1:5000" and options["preload_app"] is True


# -- throttling and lockout -----------------------------------------------------------


@pytest.fixture
def limited_app(scratch_database_url: str) -> Iterator[Flask]:
    """An app with rate limits and CSRF on, on its own database (limits are process-global)."""

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = scratch_database_url
        RATELIMIT_ENABLED = True
        RATELIMIT_STORAGE_URI = "memory://"
        WTF_CSRF_ENABLED = True

    was_enabled = limiter.enabled
    application = create_app(Config)
    with application.app_context():
        db.create_all()
        limiter.reset()
    try:
        yield application
    finally:
        limiter.enabled = was_enabled
        with application.app_context():
            limiter.reset()
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


def _login(client, username: str, password: str, ip: str):  # type: ignore[no-untyped-def]
    env = {"REMOTE_ADDR": ip}
    page = client.get("/auth/login", environ_base=env).get_data(as_text=True)
    token = CSRF_RE.search(page).group(1)
    return client.post(
        "/auth/login",
        data={"csrf_token": token, "username": username, "password": password},
        environ_base=env,
    )


def test_login_is_throttled_per_address_and_accounts_lock(limited_app):
    from survey.models import User
    from survey.services.accounts import MAX_FAILED, create_user

    with limited_app.app_context():
        create_user("clerk", GOOD_PASSWORD, "admin")
        db.session.commit()
    client = limited_app.test_client()
    statuses = [
        _login(client, "clerk", "wrong-password", "198.51.100.7").status_code for _ in range(11)
    ]
    assert statuses[:10] == [400] * 10 and statuses[10] == 429
    # The account is locked after MAX_FAILED failures: even the right password is refused.
    other = limited_app.test_client()
    locked = _login(other, "clerk", GOOD_PASSWORD, "198.51.100.8")
    assert locked.status_code == 400 and "锁定" in locked.get_data(as_text=True)
    with limited_app.app_context():
        user = db.session.scalar(select(User).where(User.username == "clerk"))
        assert user.locked_until is not None and MAX_FAILED == 5


def test_token_guessing_is_throttled(limited_app):
    client = limited_app.test_client()
    guesser = {"REMOTE_ADDR": "192.0.2.66"}
    statuses = [
        client.get(f"/s/guess{n:04d}AAAAAAAAAAAA", environ_base=guesser).status_code
        for n in range(25)
    ]
    assert statuses[:20] == [404] * 20 and set(statuses[20:]) == {429}
    # Another address is not affected.
    neighbour = client.get("/s/guess9999AAAAAAAAAAAA", environ_base={"REMOTE_ADDR": "192.0.2.67"})
    assert neighbour.status_code == 404


def test_forms_without_csrf_token_are_refused(limited_app):
    client = limited_app.test_client()
    response = client.post(
        "/auth/login",
        data={"username": "x", "password": "y"},
        environ_base={"REMOTE_ADDR": "10.9.9.9"},
    )
    assert response.status_code == 400


# -- passwords -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    ["short-1A", "alllowercaseletters", "ALLUPPER123456", "1234567890123", "abcdefghij1"],
)
def test_weak_staff_passwords_are_refused(app, password):
    from survey.services.accounts import create_user, password_problem

    assert password_problem(password) is not None
    with pytest.raises(ValueError, match="密码"):
        create_user("weak-user", password, "admin")


@pytest.mark.parametrize(
    "password", [GOOD_PASSWORD, "correct horse 7 Battery", "中文密码abcDEF123"]
)
def test_strong_staff_passwords_are_accepted_and_hashed(app, password):
    from survey.services.accounts import create_user

    user = create_user("strong-user", password, "viewer")
    assert user.check_password(password) and password not in (user.password_hash or "")
