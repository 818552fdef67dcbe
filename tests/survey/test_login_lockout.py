"""Login failures are counted atomically, and every refusal reads the same.

The concurrency tests run on a real database file (SQLite) or on PostgreSQL
(``TEST_DATABASE_URL``) with committed transactions, several threads posting at
once: a read-then-write counter loses updates there, an atomic one does not.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from survey import create_app
from survey.config import TestConfig
from survey.extensions import db

GOOD = "Right-Password-2026"


@pytest.fixture
def committed_app(scratch_database_url: str) -> Iterator[Flask]:
    """An app on its own database whose requests commit for real (threads can race)."""

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = scratch_database_url

    application = create_app(Config)
    with application.app_context():
        db.create_all()
        from survey.services.accounts import create_user

        create_user("clerk", GOOD, "admin")
        create_user("retired", GOOD, "agency").active = False
        db.session.commit()
    yield application
    with application.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def _post_at_once(
    app: Flask, passwords: list[str], username: str = "clerk", mode: str = "threads"
) -> list[int]:
    """Post one login per password, all released together by a barrier.

    ``threads`` runs them in this process (the password hash holds the GIL, so
    they interleave only around database I/O); ``processes`` forks one process
    each, as gunicorn workers are, for true parallelism.
    """
    if mode == "processes":
        return _post_from_processes(app, passwords, username)
    barrier = threading.Barrier(len(passwords))
    statuses: list[int] = [0] * len(passwords)

    def attempt(k: int) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post("/auth/login", data={"username": username, "password": passwords[k]})
        statuses[k] = response.status_code

    threads = [threading.Thread(target=attempt, args=(k,)) for k in range(len(passwords))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return statuses


def _post_from_processes(app: Flask, passwords: list[str], username: str) -> list[int]:
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(len(passwords))
    results = ctx.Queue()

    def attempt(k: int) -> None:
        with app.app_context():
            db.engine.dispose(close=False)  # never share the parent's connections
        client = app.test_client()
        barrier.wait()
        response = client.post("/auth/login", data={"username": username, "password": passwords[k]})
        results.put((k, response.status_code))

    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    procs = [ctx.Process(target=attempt, args=(k,)) for k in range(len(passwords))]
    for proc in procs:
        proc.start()
    statuses = [0] * len(passwords)
    for _ in procs:
        k, status = results.get(timeout=60)
        statuses[k] = status
    for proc in procs:
        proc.join(10)
    return statuses


def _user(app: Flask, username: str = "clerk"):  # type: ignore[no-untyped-def]
    from survey.models import User

    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        db.session.expunge(user)
        return user


@pytest.mark.parametrize("mode", ["threads", "processes"])
@pytest.mark.parametrize("burst", [4, 6, 8])
def test_concurrent_wrong_passwords_are_all_counted(committed_app, burst, mode):
    """4 at once count 4; 6 or 8 at once lock the account, and the right one is refused."""
    from survey.services.accounts import MAX_FAILED

    statuses = _post_at_once(committed_app, [f"wrong-{k}" for k in range(burst)], mode=mode)
    assert statuses == [400] * burst
    user = _user(committed_app)
    if burst < MAX_FAILED:
        assert user.failed_logins == burst and user.locked_until is None
        return
    assert user.locked_until is not None, f"{burst} failures at once left the account open"
    right = committed_app.test_client().post(
        "/auth/login", data={"username": "clerk", "password": GOOD}
    )
    assert right.status_code == 400, "the right password logged in while locked"


@pytest.mark.parametrize("mode", ["threads", "processes"])
def test_bursts_of_three_get_no_more_than_five_guesses(committed_app, mode):
    from survey.services.accounts import MAX_FAILED

    counted = 0
    for _ in range(5):
        _post_at_once(committed_app, [f"wrong-{k}" for k in range(3)], mode=mode)
        user = _user(committed_app)
        if user.locked_until is not None:
            break
        counted += 3
        assert user.failed_logins == counted
    assert _user(committed_app).locked_until is not None
    assert counted < MAX_FAILED


@pytest.mark.parametrize("mode", ["threads", "processes"])
def test_right_password_racing_wrong_ones_never_lifts_a_lock(committed_app, mode):
    """A locked account stays locked whatever arrives at once, right password included."""
    from survey.services.accounts import MAX_FAILED

    _post_at_once(committed_app, [f"wrong-{k}" for k in range(MAX_FAILED)], mode=mode)
    locked_until = _user(committed_app).locked_until
    assert locked_until is not None
    passwords = [f"wrong-{k}" for k in range(7)] + [GOOD]
    assert _post_at_once(committed_app, passwords, mode=mode) == [400] * 8
    user = _user(committed_app)
    assert user.locked_until == locked_until and user.failed_logins == 0


# -- one message --------------------------------------------------------------------------


def _refusal(client, username: str, password: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    import re

    response = client.post("/auth/login", data={"username": username, "password": password})
    page = response.get_data(as_text=True)
    errors = re.findall(r'<p class="error"[^>]*>(.*?)</p>', page, re.S)
    return response.status_code, " ".join(e.strip() for e in errors)


def test_unknown_wrong_deactivated_and_locked_read_the_same(committed_app, monkeypatch):
    from survey.models import User
    from survey.models._base import utcnow
    from survey.services import accounts

    with committed_app.app_context():
        user = db.session.scalar(select(User).where(User.username == "clerk"))
        db.session.add(User(username="locked-out", password_hash=user.password_hash, role="admin"))
        db.session.commit()
        locked = db.session.scalar(select(User).where(User.username == "locked-out"))
        locked.locked_until = utcnow() + timedelta(minutes=10)
        db.session.commit()
    hashed: list[str] = []
    real_check = accounts.check_password_hash

    def counting(pwhash: str, password: str) -> bool:
        hashed.append(password)
        return real_check(pwhash, password)

    monkeypatch.setattr(accounts, "check_password_hash", counting)
    client = committed_app.test_client()
    answers = {
        "unknown user": _refusal(client, "nobody-here", GOOD),
        "wrong password": _refusal(client, "clerk", "Wrong-Password-1"),
        "deactivated": _refusal(client, "retired", GOOD),
        "locked": _refusal(client, "locked-out", GOOD),
    }
    assert len(set(answers.values())) == 1, answers
    status, message = answers["unknown user"]
    assert status == 400 and message
    # Every refusal costs one password hash, so timing does not tell them apart either.
    assert len(hashed) == 4


def test_unknown_usernames_answer_like_a_locked_account(committed_app):
    """Five failures on an unknown name look exactly like five on a real one."""
    client = committed_app.test_client()
    real = [_refusal(client, "clerk", f"Wrong-{k}") for k in range(6)]
    ghost = [_refusal(client, "ghost-user", f"Wrong-{k}") for k in range(6)]
    assert real == ghost
