"""minping web application: the Flask app factory."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import Config

if TYPE_CHECKING:  # Flask is imported by create_app: the offline CLI never needs it
    from flask import Flask
    from sqlalchemy import Connection

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: type[Config] | object = Config) -> Flask:
    """Create and configure the minping Flask application."""
    from flask import Flask

    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        instance_relative_config=True,
    )
    app.config.from_object(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = (
            f"sqlite:///{Path(app.instance_path) / 'minping.sqlite'}"
        )
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgres://"):  # Heroku-style URLs
        uri = "postgresql+psycopg://" + uri.removeprefix("postgres://")
    elif uri.startswith("postgresql://"):
        uri = "postgresql+psycopg://" + uri.removeprefix("postgresql://")
    app.config["SQLALCHEMY_DATABASE_URI"] = uri

    from . import cli, extensions, filters, lang_marks, web
    from . import logging as request_logs

    extensions.db.init_app(app)
    extensions.migrate.init_app(
        app,
        extensions.db,
        directory=str(Path(__file__).parent / "migrations"),
        render_as_batch=True,
        compare_type=True,
    )
    extensions.csrf.init_app(app)
    extensions.limiter.init_app(app)
    web.init_app(app)
    filters.init_app(app)
    lang_marks.init_app(app)  # Chinese data in English pages (WCAG 3.1.2)
    cli.init_app(app)
    request_logs.init_app(app)  # JSON request logs with request ids (docs/deploy.md)

    from . import models  # noqa: F401  (register tables)

    if uri.startswith("sqlite"):
        _sqlite_pragmas(app)
    return app


def _sqlite_pragmas(app: Flask) -> None:
    """Enforce foreign keys and allow concurrent readers on SQLite."""
    from sqlalchemy import event

    from .extensions import db

    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy, not pysqlite, decide when transactions begin, so
            # that SAVEPOINTs and rollbacks work (SQLAlchemy's pysqlite notes).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            if engine.url.database not in (None, "", ":memory:"):
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA busy_timeout=10000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            # IMMEDIATE takes the write lock up front, so a transaction that reads
            # and then writes waits for busy_timeout instead of failing with
            # "database is locked" when several workers submit at once.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
