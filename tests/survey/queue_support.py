"""Helpers for tests that run real ``minping worker`` processes (and Redis, nginx)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from survey import create_app
from survey.config import Config
from survey.extensions import db

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sqlalchemy_url(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def process_env(database_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for a ``minping`` process on ``database_url`` (no inherited app settings)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MINPING_", "REDIS_"))}
    env.pop("DATABASE_URL", None)
    env.update(
        DATABASE_URL=database_url,
        PYTHONPATH=str(ROOT),
        SECRET_KEY="queue-test-secret-key-0123456789abcdef",
        MINPING_LOG_LEVEL="INFO",
    )
    env.update(extra or {})
    return env


def app_for(database_url: str, **settings: object):  # type: ignore[no-untyped-def]
    """A non-testing app (real commits, real queue) on ``database_url``."""

    class QueueConfig(Config):
        SQLALCHEMY_DATABASE_URI = database_url
        MINPING_SYNC_JOBS = False
        EMBEDDED_WORKER = False

    for key, value in settings.items():
        setattr(QueueConfig, key, value)
    return create_app(QueueConfig)


def build_scored_wave(app, streets: int, per_street: int = 24) -> str:  # type: ignore[no-untyped-def]
    """Create the schema, a district of ``streets`` streets and a scored wave; return its code."""
    from scoring.framework import load_default_framework
    from survey.services.districts import create_district
    from survey.services.frameworks import save_framework
    from survey.services.scoring_runs import score_wave
    from survey.services.waves import create_wave, transition

    from .test_notices import fill

    spec = load_default_framework()
    with app.app_context():
        db.create_all()
        district = create_district(
            "queue-district",
            "测试区",
            [(f"S{i:03d}", f"第{i}街道", [f"第{i}社区"]) for i in range(1, streets + 1)],
            authority="测试区民政局",
            doc_prefix="测民整",
        )
        wave = create_wave(district, save_framework(spec), "qw", "2026年度测评")
        transition(wave, "open")
        db.session.flush()
        fill(wave, spec, n=per_street)
        transition(wave, "close")
        score_wave(wave, boot=100, seed=1, min_n=5)
        db.session.commit()
        code = wave.code
        db.session.remove()
    return code


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as handle:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-c", "from survey.cli import main; main()", "worker"],
            env=env,
            cwd=ROOT,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def children(pid: int) -> set[int]:
    """Every descendant of ``pid`` (from /proc)."""
    out: set[int] = set()
    todo = [pid]
    while todo:
        current = todo.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                kids = (task / "children").read_text().split()
            except OSError:
                continue
            for kid in map(int, kids):
                if kid not in out:
                    out.add(kid)
                    todo.append(kid)
    return out


def alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def idle_in_transaction(database_url: str) -> list[tuple[object, ...]]:
    """Sessions of this PostgreSQL database left idle in a transaction."""
    engine = create_engine(sqlalchemy_url(database_url))
    try:
        with engine.connect() as conn:
            return list(
                conn.execute(
                    text(
                        "SELECT pid, state, query FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                        "AND state LIKE 'idle in transaction%'"
                    )
                )
            )
    finally:
        engine.dispose()


@contextmanager
def redis_server(tmp: Path) -> Iterator[str]:
    """A throwaway redis-server on a free loopback port; yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        import pytest

        pytest.skip("redis-server is not installed (Debian package redis-server)")
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)
