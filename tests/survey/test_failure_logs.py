"""Failure you can quote: request ids on error pages and log lines, 503 when the
database is down, and no tokens or SQL parameters in any log line."""

from __future__ import annotations

import io
import json
import logging
import threading
import time
import urllib.request

import pytest
from sqlalchemy import text
from werkzeug.serving import make_server

from survey import create_app
from survey.auth.sessions import LOGIN_AT, SEEN_AT
from survey.config import TestConfig
from survey.extensions import db
from survey.logging import JsonFormatter, SecretFilter, scrub

TOKEN = "Zq8wXv3LmN5pR7tY9uB1cD2e"  # shaped like an invitation token


def _app(database_url: str, **settings):  # type: ignore[no-untyped-def]
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        PROPAGATE_EXCEPTIONS = False

    for key, value in settings.items():
        setattr(Config, key, value)
    return create_app(Config)


@pytest.fixture(autouse=True)
def _propagate(monkeypatch):  # type: ignore[no-untyped-def]
    """Let caplog see our loggers even after a non-testing app switched propagation off."""
    for name in ("survey", "minping.errors", "werkzeug"):
        monkeypatch.setattr(logging.getLogger(name), "propagate", True)


DOWN = "postgresql+psycopg://minping@127.0.0.1:9/nowhere?connect_timeout=2"


@pytest.fixture
def down_app():  # type: ignore[no-untyped-def]
    application = _app(DOWN)
    yield application
    with application.app_context():
        db.engine.dispose()


def test_error_pages_show_the_request_id(client):
    page = client.get("/no-such-page", headers={"X-Request-ID": "req-404-id"})
    assert page.status_code == 404
    assert "req-404-id" in page.get_data(as_text=True)
    assert page.headers["X-Request-ID"] == "req-404-id"
    api = client.get("/api/v1/no-such-thing", headers={"X-Request-ID": "req-api-id"})
    assert api.get_json()["request_id"] == "req-api-id"


def test_500_page_and_log_line_carry_the_request_id(scratch_database_url, caplog):
    application = _app(scratch_database_url)

    @application.get("/boom")
    def boom():  # type: ignore[no-untyped-def]
        raise RuntimeError("kaputt")

    client = application.test_client()
    with caplog.at_level(logging.ERROR):
        page = client.get("/boom", headers={"X-Request-ID": "req-500-id"})
    assert page.status_code == 500
    assert "req-500-id" in page.get_data(as_text=True)
    record = next(r for r in caplog.records if "unhandled error" in r.getMessage())
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "req-500-id" and "kaputt" in line["exc"]
    with application.app_context():
        db.engine.dispose()


def test_database_down_is_a_503_plain_page(down_app):
    client = down_app.test_client()
    page = client.get("/public/", headers={"X-Request-ID": "req-down-1"})
    assert page.status_code == 503, page.get_data(as_text=True)[:300]
    body = page.get_data(as_text=True)
    assert "数据库暂时无法连接" in body and "req-down-1" in body
    assert page.headers["Retry-After"] == "30"


def test_staff_page_with_database_down_is_a_503(down_app):
    client = down_app.test_client()
    with client.session_transaction() as session:  # a signed-in admin's cookie
        session["_user_id"] = "1:0"  # "<id>:<session version>" (survey/auth/sessions.py)
        session["_fresh"] = True
        session[LOGIN_AT] = session[SEEN_AT] = int(time.time())
    page = client.get("/admin/", headers={"X-Request-ID": "req-down-2"})
    assert page.status_code == 503
    assert "req-down-2" in page.get_data(as_text=True)
    api = client.get("/api/v1/waves", headers={"Authorization": "Bearer mp_" + "x" * 40})
    assert api.status_code == 503 and api.get_json()["error"] == "Service Unavailable"


def test_error_outside_the_view_gets_a_page_with_id_not_a_bare_500(scratch_database_url, caplog):
    application = _app(scratch_database_url)

    @application.teardown_request
    def lose_connection(_exc):  # type: ignore[no-untyped-def]
        raise ConnectionResetError("server closed the connection unexpectedly")

    client = application.test_client()
    with caplog.at_level(logging.ERROR):
        page = client.get("/healthz", headers={"X-Request-ID": "req-teardown"})
    assert page.status_code == 503
    assert "req-teardown" in page.get_data(as_text=True)
    record = next(r for r in caplog.records if r.name == "minping.errors")
    assert json.loads(JsonFormatter().format(record))["request_id"] == "req-teardown"
    with application.app_context():
        db.engine.dispose()


def test_sql_parameters_never_reach_the_logs(scratch_database_url, caplog):
    application = _app(scratch_database_url)
    secret = "楼道充电很危险-秘密评论-4711"

    @application.get("/bad-insert")
    def bad_insert():  # type: ignore[no-untyped-def]
        db.session.execute(text("INSERT INTO district (code) VALUES (:code)"), {"code": secret})
        return "unreachable"

    with application.app_context():
        db.create_all()
    client = application.test_client()
    with caplog.at_level(logging.ERROR):
        assert client.get("/bad-insert").status_code == 500
    assert caplog.records, "the error was logged"
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    for record in caplog.records:
        handler.handle(record)
    assert "IntegrityError" in out.getvalue() or "NOT NULL" in out.getvalue().upper()
    assert secret not in out.getvalue() and secret not in caplog.text
    with application.app_context():
        db.drop_all()
        db.engine.dispose()


def test_scrub_masks_every_kind_of_token():
    line = (
        f"GET /s/{TOKEN}/p/2 and /agency/interview/{TOKEN}/review "
        f"?token={TOKEN}&x=1 Authorization: Bearer mp_{TOKEN} "
        "[parameters: ('秘密', 3)] (Background on this error at: https://sqlalche.me/e/20/gkpj)\n"
        "DETAIL:  Key (device_hash)=(abc123) already exists."
    )
    clean = scrub(line)
    assert TOKEN not in clean and "秘密" not in clean and "abc123" not in clean
    assert "/s/<token>/p/2" in clean and "/agency/interview/<token>/review" in clean


def test_development_server_access_lines_mask_tokens(scratch_database_url, caplog):
    application = _app(scratch_database_url)
    server = make_server("127.0.0.1", 0, application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            url = f"http://127.0.0.1:{server.server_port}/s/{TOKEN}"
            try:
                urllib.request.urlopen(url, timeout=10).read()
            except urllib.error.HTTPError:
                pass  # an unknown token: 404, still logged
    finally:
        server.shutdown()
        thread.join(timeout=5)
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any("/s/<token>" in line for line in lines), lines
    assert TOKEN not in caplog.text
    with application.app_context():
        db.engine.dispose()


def test_gunicorn_error_lines_are_json_with_request_id_and_no_token():
    from gunicorn.config import Config as GunicornConfig

    from survey import logging as request_logs
    from survey.gunicorn_logging import JsonLogger

    cfg = GunicornConfig()
    cfg.set("errorlog", "-")
    logger = JsonLogger(cfg)
    out = io.StringIO()
    handler = logger.error_log.handlers[0]
    handler.setStream(out)  # type: ignore[attr-defined]
    request_logs._local.request_id = "req-gunicorn-1"
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("Error handling request /s/%s", TOKEN)
    line = json.loads(out.getvalue().strip().splitlines()[-1])
    assert line["request_id"] == "req-gunicorn-1" and line["logger"] == "gunicorn.error"
    assert "/s/<token>" in line["message"] and TOKEN not in out.getvalue()
    assert any(isinstance(f, SecretFilter) for f in handler.filters)
