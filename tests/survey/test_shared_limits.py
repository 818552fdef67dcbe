"""Limits shared by every web worker: rate limits in Redis, lockout in the database.

The server test runs ``minping serve --prod`` with 3 gunicorn workers on a
loopback port, a real Redis (``redis-server`` started by the ``redis_url``
fixture) and the suite's database kind (a SQLite file, or PostgreSQL with
``TEST_DATABASE_URL``), and sends concurrent requests: with per-worker
``memory://`` storage the login limit would be 30 a minute instead of 10 and
token guessing 60 instead of 20.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import select

from survey import create_app
from survey.config import TestConfig
from survey.extensions import db

from ..redis_server import free_port

ROOT = Path(__file__).resolve().parents[2]
MINPING = Path(sys.executable).with_name("minping")
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
GOOD = "Right-Password-2026"
WORKERS = 3


def _env(database_url: str, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "shared-limits-" + "k" * 40,
        "MINPING_SECURE_COOKIES": "0",
        "MINPING_PROXY_FIX": "1",  # X-Forwarded-For stands for distinct client addresses
        "MINPING_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    env.pop("REDIS_URL", None)
    env.pop("RATELIMIT_STORAGE_URI", None)
    env.update(extra)
    return env


class Server:
    """``minping serve --prod --workers 3`` in its own process group."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log, self.port = env, log, free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        with self.log.open("ab") as fh:
            # fmt: off
            self.proc = subprocess.Popen(
                [str(MINPING), "serve", "--prod", "--workers", str(WORKERS),
                 "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True,
                cwd=ROOT,
            )
            # fmt: on
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()[-2000:]
            try:
                if self.request("GET", "/healthz", ip="127.0.0.1")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        raise AssertionError("server did not start:\n" + self.log.read_text()[-2000:])

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)

    def request(
        self,
        method: str,
        path: str,
        *,
        ip: str,
        body: dict[str, str] | None = None,
        cookie: str = "",
    ) -> tuple[int, str, str]:
        """One request from client address ``ip``; returns (status, body, Set-Cookie)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"X-Forwarded-For": ip}
        if cookie:
            headers["Cookie"] = cookie
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            return response.status, text, response.getheader("Set-Cookie") or ""
        finally:
            conn.close()

    def login_form(self, ip: str) -> tuple[str, str]:
        """A browser's session cookie and CSRF token from the login page."""
        status, page, set_cookie = self.request("GET", "/auth/login", ip=ip)
        assert status == 200
        return set_cookie.split(";", 1)[0], CSRF_RE.search(page).group(1)

    def login(self, ip: str, username: str, password: str, form: tuple[str, str]) -> int:
        cookie, token = form
        body = {"csrf_token": token, "username": username, "password": password}
        return self.request("POST", "/auth/login", ip=ip, body=body, cookie=cookie)[0]


def _at_once(jobs: list) -> list:  # type: ignore[type-arg]
    """Run the callables together (released by one barrier); return their results in order."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)  # type: ignore[type-arg]

    def run(k: int) -> None:
        barrier.wait()
        results[k] = jobs[k]()

    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def _create_clerk(database_url: str) -> None:
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url

    app = create_app(Config)
    with app.app_context():
        from survey.services.accounts import create_user

        create_user("clerk", GOOD, "admin")
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def _clerk(database_url: str):  # type: ignore[no-untyped-def]
    from survey.models import User

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url

    app = create_app(Config)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "clerk"))
        db.session.expunge(user)
        db.session.remove()
        db.engine.dispose()
        return user


def test_limits_and_lockout_hold_across_three_workers(scratch_database_url, redis_url, tmp_path):
    env = _env(scratch_database_url, REDIS_URL=redis_url)
    with Server(env, tmp_path / "server.log") as server:
        _create_clerk(scratch_database_url)

        # login limit: 10 a minute per address, whichever worker answers
        forms = [server.login_form("203.0.113.10") for _ in range(16)]
        statuses = _at_once(
            [lambda f=f: server.login("203.0.113.10", "nobody", "Wrong-Guess-1", f) for f in forms]
        )
        assert sorted(statuses) == [400] * 10 + [429] * 6, statuses

        # token guessing: 20 unknown tokens a minute per address
        guesses = [f"/s/{secrets.token_urlsafe(16)}" for _ in range(30)]
        statuses = _at_once(
            [lambda g=g: server.request("GET", g, ip="203.0.113.20")[0] for g in guesses]
        )
        assert sorted(statuses) == [404] * 20 + [429] * 10, statuses
        assert server.request("GET", guesses[0], ip="203.0.113.21")[0] == 404  # others unaffected

        # lockout: 8 wrong passwords at once from 8 addresses, then the right one
        forms = [server.login_form(f"198.51.100.{k}") for k in range(9)]
        statuses = _at_once(
            [
                lambda k=k: server.login(f"198.51.100.{k}", "clerk", f"Wrong-{k}-2026", forms[k])
                for k in range(8)
            ]
        )
        assert statuses == [400] * 8
        assert server.login("198.51.100.8", "clerk", GOOD, forms[8]) == 400
        assert _clerk(scratch_database_url).locked_until is not None
        log = server.log.read_text()
    assert "Traceback" not in log, log[-3000:]


def test_several_workers_refuse_to_start_without_redis(scratch_database_url, tmp_path):
    result = subprocess.run(
        [str(MINPING), "serve", "--prod", "--workers", "3", "--port", str(free_port())],
        env=_env(scratch_database_url),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    assert "memory://" in errors[0] and "REDIS_URL" in errors[0]
    assert "3 workers counts separately" in errors[0]


def test_unreachable_redis_stops_production_with_the_reason(scratch_database_url):
    dead = f"redis://127.0.0.1:{free_port()}/0"
    result = subprocess.run(
        [str(MINPING), "serve", "--prod", "--workers", "3", "--port", str(free_port())],
        env=_env(scratch_database_url, REDIS_URL=dead),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode != 0
    assert f"rate-limit storage {dead} cannot be used" in result.stderr


def test_one_worker_needs_no_redis(runner, monkeypatch):
    """A single process (the demo, a small office) counts correctly in memory."""

    class Prod(TestConfig):
        SECRET_KEY = "k" * 64
        SESSION_COOKIE_SECURE = True
        RATELIMIT_STORAGE_URI = "memory://"

    monkeypatch.setattr("survey.cli_serve.production_app", lambda: create_app(Prod))
    started: list = []  # type: ignore[type-arg]
    monkeypatch.setattr("survey.cli_serve.run_gunicorn", lambda options: started.append(options))
    result = runner.invoke(args=["serve", "--prod", "--no-migrate", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert started and started[0]["workers"] == 1


def test_redis_url_sets_the_rate_limit_storage(monkeypatch):
    import importlib

    import survey.config as config

    monkeypatch.setenv("REDIS_URL", "redis://cache.internal:6379/2")
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    try:
        fresh = importlib.reload(config)
        assert fresh.Config.RATELIMIT_STORAGE_URI == "redis://cache.internal:6379/2"
        monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://other:6379/0")
        assert importlib.reload(config).Config.RATELIMIT_STORAGE_URI == "redis://other:6379/0"
    finally:
        monkeypatch.delenv("REDIS_URL")
        monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
        importlib.reload(config)


def test_redis_going_away_does_not_take_the_site_down(scratch_database_url):
    """While Redis is away each process counts in memory: limits hold, no 500s."""
    from survey.extensions import limiter

    from ..redis_server import RedisServer

    redis = RedisServer().start()

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = scratch_database_url
        RATELIMIT_ENABLED = True
        RATELIMIT_STORAGE_URI = redis.url

    was_enabled = limiter.enabled
    app = create_app(Config)
    try:
        with app.app_context():
            db.create_all()
        client = app.test_client()

        def login(ip: str) -> int:
            data = {"username": "a", "password": "b"}
            return client.post(
                "/auth/login", data=data, environ_base={"REMOTE_ADDR": ip}
            ).status_code

        assert login("192.0.2.1") == 400
        redis.stop()
        assert [login("192.0.2.2") for _ in range(12)] == [400] * 10 + [429] * 2
        guesses = [
            client.get(f"/s/{secrets.token_urlsafe(16)}", environ_base={"REMOTE_ADDR": "192.0.2.3"})
            for _ in range(22)
        ]
        assert {g.status_code for g in guesses[:20]} <= {404} and guesses[-1].status_code == 429
    finally:
        redis.stop()
        limiter.enabled = was_enabled  # the next app's init_app rebinds the storage
        limiter._storage_dead = False  # and must not inherit this test's dead Redis
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
