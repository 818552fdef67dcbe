"""``minping serve``: the development server, or gunicorn with ``--prod``.

``--prod`` checks the configuration first (a default ``SECRET_KEY`` stops it
with a one-line reason), brings the schema up to date once in the master
process, then forks gunicorn workers that each build their own app with
:class:`~survey.config.ProductionConfig`.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from flask import Flask

DEFAULT_WORKERS = 2 * (os.cpu_count() or 1) + 1  # gunicorn's rule of thumb


def production_app() -> Flask:
    """Build the app as production workers do."""
    from . import create_app
    from .config import ProductionConfig

    return create_app(ProductionConfig)


def gunicorn_options(
    host: str, port: int, workers: int, threads: int, timeout: int
) -> dict[str, object]:
    """Return gunicorn settings: threaded workers with a read timeout, or sync (``--threads 1``).

    Threads limit what slow clients can do without a reverse proxy (each holds
    one thread, not a worker, and is dropped after ``MINPING_READ_TIMEOUT``
    seconds of silence); behind nginx, which buffers whole requests, sync
    workers are fine too (docs/deploy.md).
    """
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "survey.gunicorn_worker.BoundedThreadWorker" if threads > 1 else "sync",
        "threads": threads,
        "timeout": timeout,
        "graceful_timeout": 20,
        "keepalive": 5,
        # Recycle workers now and then so a slow leak cannot grow forever.
        "max_requests": 20000,
        "max_requests_jitter": 2000,
        "accesslog": None,  # the app writes one JSON line per request itself
        "errorlog": "-",
        "logger_class": "survey.gunicorn_logging.JsonLogger",  # JSON, request ids, no tokens
        "loglevel": "warning",
        "forwarded_allow_ips": "127.0.0.1",
        "proc_name": "minping",
        # Import the app once in the master and fork it: workers start at once
        # and share memory.  No connection is opened before the fork, and each
        # worker drops any pooled one it inherited (post_fork).
        "preload_app": True,
        "post_fork": _post_fork,
    }


def _post_fork(server: Any, worker: Any) -> None:
    from .extensions import db
    from .queue import start_embedded_worker

    app = worker.app.wsgi()
    with app.app_context():
        db.engine.dispose(close=False)
    # Without Redis (one host), each web worker also runs queued jobs in a thread.
    start_embedded_worker(app)


def run_gunicorn(options: dict[str, object]) -> None:
    """Run gunicorn in this process until it is stopped."""
    from gunicorn.app.base import BaseApplication

    class MinpingApplication(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Flask:
            return production_app()

    MinpingApplication().run()


def prepare(workers: int, migrate: bool) -> None:
    """Check the configuration and migrate the schema; exit 1 on a fatal problem."""
    from flask_migrate import upgrade

    from .checks import check_config
    from .extensions import db

    app = production_app()
    result = check_config(app, production=True, workers=workers)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if not result.ok:
        raise click.ClickException("; ".join(result.errors))
    if migrate:
        with app.app_context():
            upgrade()
            db.engine.dispose()  # no connection may cross the fork into the workers


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--prod", is_flag=True, help="Serve with gunicorn after a configuration check.")
@click.option(
    "--workers",
    default=DEFAULT_WORKERS,
    show_default=True,
    type=click.IntRange(1, 64),
    help="gunicorn worker processes (--prod).",
)
@click.option(
    "--threads",
    default=4,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Threads per worker (--prod); 1 uses sync workers (only behind nginx).",
)
@click.option("--timeout", default=30, show_default=True, type=int, help="Worker timeout, s.")
@click.option("--no-migrate", is_flag=True, help="Do not upgrade the schema at start.")
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    prod: bool,
    workers: int,
    threads: int,
    timeout: int,
    no_migrate: bool,
) -> None:
    """Serve the web application (development server; --prod for gunicorn)."""
    if not prod:
        from .cli import serve as dev_serve

        ctx.invoke(dev_serve, host=host, port=port)
        return
    prepare(workers, migrate=not no_migrate)
    click.echo(
        f"minping (gunicorn, {workers} workers x {threads} threads) on http://{host}:{port}/",
        err=True,
    )
    from .config import ProductionConfig

    if ProductionConfig.REDIS_URL and not ProductionConfig.EMBEDDED_WORKER:
        click.echo("background jobs: Redis queue; run `minping worker` processes", err=True)
    else:
        click.echo("background jobs: run in each web worker (no REDIS_URL)", err=True)
    run_gunicorn(gunicorn_options(host, port, workers, threads, timeout))
