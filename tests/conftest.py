"""Shared fixtures: one schema per session, a rolled-back transaction per test.

The database is SQLite in a temporary file by default; set ``TEST_DATABASE_URL``
(e.g. ``postgresql+psycopg://localhost/minping_test``) to run everything on
PostgreSQL.  ``.ci/run`` does both.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import scoped_session, sessionmaker

from survey import create_app
from survey.config import TestConfig
from survey.extensions import db

STAFF_PASSWORD = "Test-Password-2026"


def _database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _database_url(tmp_path_factory)


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The application with a fresh schema, created once per test session."""

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url

    application = create_app(Config)
    with application.app_context():
        db.drop_all()
        db.create_all()
    yield application
    with application.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _transaction(request: pytest.FixtureRequest) -> Iterator[None]:
    """Run each test using ``app`` inside a transaction that is rolled back."""
    if "app" not in request.fixturenames:
        yield
        return
    application: Flask = request.getfixturevalue("app")
    with application.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        # A plain Session: Flask-SQLAlchemy's own would pick the engine, not
        # this connection, for mapped classes and escape the rollback.
        session = scoped_session(
            sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
        )
        original = db.session
        db.session = session
        try:
            yield
        finally:
            session.remove()
            db.session = original
            if outer.is_active:
                outer.rollback()
            connection.close()


class OwnUserClient(FlaskClient):
    """A test client whose requests never see another client's signed-in user.

    Each test runs inside one app context, so Flask-Login's ``g._login_user``
    and Flask-Babel's cached locale would otherwise carry over from one request
    (or client) to the next.
    """

    def open(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        from flask import g

        g.pop("_login_user", None)
        g.pop("_flask_babel", None)  # and never another request's language
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    app.test_client_class = OwnUserClient
    return app.test_client()


@pytest.fixture
def runner(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


@pytest.fixture
def framework_spec():  # type: ignore[no-untyped-def]
    from scoring.framework import load_default_framework

    return load_default_framework()


@pytest.fixture
def district(app: Flask):  # type: ignore[no-untyped-def]
    """A small district: 3 streets with 2 communities each."""
    from survey.services.districts import create_district

    return create_district(
        "test-district",
        "测试区",
        [
            ("S1", "宁海路", ["宁海路东苑社区", "宁海路西园社区"]),
            ("S2", "华侨路", ["华侨路南村社区", "华侨路北街社区"]),
            ("S3", "湖南路", ["湖南路新村社区", "湖南路和园社区"]),
        ],
        authority="测试区民政局",
        doc_prefix="测民整",
    )


@pytest.fixture
def make_wave(app: Flask, district, framework_spec) -> Callable[..., object]:  # type: ignore[no-untyped-def]
    """Return ``make_wave(code="w1", state="fieldwork", **options)``."""
    from survey.services.frameworks import save_framework
    from survey.services.waves import create_wave, transition

    path = {"draft": [], "fieldwork": ["open"], "closed": ["open", "close"]}

    def make(code: str = "w1", state: str = "fieldwork", name: str | None = None, **options):  # type: ignore[no-untyped-def]
        framework = save_framework(framework_spec)
        wave = create_wave(district, framework, code, name or f"测试批次 {code}", **options)
        for action in path[state]:
            transition(wave, action)
        db.session.flush()
        return wave

    return make


@pytest.fixture
def make_user(app: Flask, district) -> Callable[..., object]:  # type: ignore[no-untyped-def]
    """Return ``make_user(role, street=None, username=None)``; password STAFF_PASSWORD."""
    from survey.services.accounts import create_user

    def make(role: str, street: str | None = None, username: str | None = None):  # type: ignore[no-untyped-def]
        street_row = None
        if street is not None:
            street_row = next(s for s in district.streets if s.name == street)
        elif role == "street":
            street_row = district.streets[0]
        user = create_user(username or f"{role}-user", STAFF_PASSWORD, role, street_row)
        db.session.flush()
        return user

    return make


@pytest.fixture
def login(client: FlaskClient) -> Callable[[object], FlaskClient]:
    """Return ``login(user)`` that signs ``client`` in through the login form."""

    def do(user) -> FlaskClient:  # type: ignore[no-untyped-def]
        response = client.post(
            "/auth/login", data={"username": user.username, "password": STAFF_PASSWORD}
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return do


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture
def scratch_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the same kind as the suite's, dropped afterwards."""
    if not database_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'scratch.sqlite'}"
        return
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"minping_scratch_{uuid.uuid4().hex[:8]}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def scratch_app(scratch_database_url: str) -> Iterator[Flask]:
    """An app on its own empty database whose commits are real (CLI, demo, threads)."""

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = scratch_database_url

    application = create_app(Config)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real Redis server (Debian's redis-server) on a free loopback port, for this session."""
    from .redis_server import RedisServer

    if not RedisServer.available():
        pytest.skip("redis-server is not installed (scripts/setup.sh --test installs it)")
    server = RedisServer().start()
    try:
        yield server.url
    finally:
        server.stop()
