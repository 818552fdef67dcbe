"""No loss: a killed server keeps every acknowledged answer; a failed import leaves nothing.

The server test starts ``minping serve --prod`` (gunicorn) in its own process
group on a scratch database (SQLite file, or PostgreSQL with
``TEST_DATABASE_URL``), submits questionnaires from several threads, SIGKILLs
the whole server mid-load, restarts it, lets residents retry, and checks the
database: each submission acknowledged with the thanks page is stored
exactly once, with all its answers, and no response lacks its answers.
"""

from __future__ import annotations

import http.client
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import exists, func, select

from scoring.exchange import ResponseRecord
from survey import create_app
from survey.config import TestConfig
from survey.extensions import db

ROOT = Path(__file__).resolve().parents[2]
MINPING = Path(sys.executable).with_name("minping")
CSRF_RE = re.compile(rb'name="csrf_token"[^>]*value="([^"]+)"')


def _app(url: str):  # type: ignore[no-untyped-def]
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url

    return create_app(Config)


def _wave_with_drafts(n: int):  # type: ignore[no-untyped-def]
    """An open wave whose ``n`` invitations have every answer saved (only 提交 is left)."""
    from scoring.framework import load_default_framework
    from survey.models import ResponseDraft
    from survey.services.districts import create_district
    from survey.services.frameworks import save_framework, spec_of
    from survey.services.invitations import create_batch
    from survey.services.questionnaire import find_invitation, start
    from survey.services.waves import create_wave, transition

    district = create_district("nl", "不丢区", [("N1", "稳路", ["稳社区"])])
    wave = create_wave(district, save_framework(load_default_framework()), "nl", "不丢批次")
    transition(wave, "open")
    _, tokens = create_batch(wave, district.streets[0], "adult", n)
    codes = [i.code for i in spec_of(wave.framework).indicators_for("adult")]
    rng = random.Random(3)
    for token in tokens:
        draft: ResponseDraft = start(find_invitation(token), device=token)
        data = dict(draft.data)
        data["answers"] = {c: str(rng.randint(1, 5)) for c in codes}
        data["final"] = {"concerns": codes[:2], "overall": "4", "comment": "", "age_band": ""}
        draft.data = data
        draft.page = 5
    db.session.commit()
    return tokens, len(codes)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``minping serve --prod`` in its own process group."""

    def __init__(self, url: str, port: int, log: Path, redis_url: str) -> None:
        self.url, self.port, self.log, self.redis_url = url, port, log, redis_url
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": self.url,
            "SECRET_KEY": "no-loss-" + "k" * 40,
            "MINPING_SECURE_COOKIES": "0",
            "MINPING_LOG_LEVEL": "WARNING",
            "REDIS_URL": self.redis_url,  # several workers share their rate limits
        }
        with self.log.open("ab") as fh:
            self.proc = subprocess.Popen(
                [str(MINPING), "serve", "--prod", "--no-migrate", "--workers", "2",
                 "--port", str(self.port)],
                env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT,
            )  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()[-2000:]
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise AssertionError("server did not start:\n" + self.log.read_text()[-2000:])

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def _submit(port: int, token: str) -> str:
    """Open the review page and press 提交 as a browser; return acked|already|failed|lost."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request("GET", f"/s/{token}/review")
        page = conn.getresponse()
        body = page.read()
        if page.status == 409:
            return "already"
        cookie = (page.getheader("Set-Cookie") or "").split(";", 1)[0]
        found = CSRF_RE.search(body)
        if page.status != 200 or not found:
            return f"failed: GET {page.status}"
        conn.request(
            "POST",
            f"/s/{token}/review",
            body=b"csrf_token=" + found.group(1),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
        )
        done = conn.getresponse()
        answer = done.read()
        if done.status == 200 and b"q-thanks" in answer:
            return "acked"
        return "already" if done.status == 409 else f"failed: POST {done.status}"
    except (OSError, http.client.HTTPException):
        return "lost"  # no answer: the resident does not know whether it went through
    finally:
        conn.close()


def _load(port: int, tokens: list[str], threads: int, outcome: dict[str, str]) -> None:
    lock = threading.Lock()
    queue = list(reversed(tokens))

    def work() -> None:
        while True:
            with lock:
                if not queue:
                    return
                token = queue.pop()
            result = _submit(port, token)
            for attempt in range(5):  # "没有保存，请稍后再试": the resident tries again
                if not result.startswith("failed: POST 5"):
                    break
                with lock:
                    outcome.setdefault("retries", "0")
                    outcome["retries"] = str(int(outcome["retries"]) + 1)
                time.sleep(0.2 * (attempt + 1))
                result = _submit(port, token)
            with lock:
                outcome[token] = result
            if result == "lost":
                with lock:
                    queue.clear()  # the server is gone: stop this round
                return

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=300)


@pytest.mark.slow
def test_sigkill_during_submissions_loses_nothing(scratch_database_url, tmp_path, redis_url):
    from survey.models import Answer, Invitation, Response, ResponseDraft
    from survey.services.invitations import hash_token

    app = _app(scratch_database_url)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        tokens, n_items = _wave_with_drafts(300)
        db.session.remove()
        db.engine.dispose()
    server = Server(scratch_database_url, _free_port(), tmp_path / "server.log", redis_url)
    outcome: dict[str, str] = {}
    try:
        server.start()
        loader = threading.Thread(target=_load, args=(server.port, tokens, 6, outcome))
        loader.start()
        deadline = time.monotonic() + 60
        while sum(v == "acked" for v in outcome.values()) < 40 and time.monotonic() < deadline:
            time.sleep(0.02)
        server.kill()  # mid-load: requests in flight die with the workers
        loader.join(timeout=120)
        first = {t: v for t, v in outcome.items() if t != "retries"}
        assert sum(v == "acked" for v in first.values()) >= 40
        server.start()
        # Residents whose page died retry; the rest carry on.
        retry = [t for t in tokens if first.get(t, "lost").startswith(("lost", "failed"))]
        _load(server.port, retry, 4, outcome)
    finally:
        server.stop()
    retries = int(outcome.pop("retries", "0"))
    print(f"server errors retried by residents: {retries}")  # SQLite: 'database is locked'
    acked = [t for t, v in first.items() if v == "acked"] + [
        t for t in retry if outcome.get(t) == "acked"
    ]
    problems = sorted(set(outcome.values()) - {"acked", "already"})
    assert not problems, f"{problems}\n" + server.log.read_text()[-3000:]
    with app.app_context():
        stored = dict(
            db.session.execute(
                select(Invitation.token_hash, func.count(Response.id))
                .join(Response, Response.invitation_id == Invitation.id)
                .group_by(Invitation.token_hash)
            ).all()
        )
        assert all(stored.get(hash_token(t)) == 1 for t in acked)
        assert len(stored) == len(tokens) and set(stored.values()) == {1}
        assert (
            db.session.scalar(
                select(func.count(Response.id)).where(
                    ~exists().where(Answer.response_id == Response.id)
                )
            )
            == 0
        )
        per_response = set(
            db.session.scalars(select(func.count(Answer.id)).group_by(Answer.response_id))
        )
        assert per_response == {n_items}  # every response has all its answers
        assert db.session.scalar(select(func.count(ResponseDraft.id))) == 0
        db.session.remove()
        db.engine.dispose()


# -- imports are all or nothing ------------------------------------------------------


def _records(spec, n: int) -> list[ResponseRecord]:  # type: ignore[no-untyped-def]
    codes = spec.indicator_codes
    return [
        ResponseRecord(
            response_id=f"imp-{i:05d}",
            street="稳路",
            group="adult",
            submitted_at=datetime(2026, 3, 2, 9, 0, 0),
            channel="paper",
            weight=1.0,
            answers={c: 1 + (i + k) % 5 for k, c in enumerate(codes)},
            concerns=(),
            overall=3,
            comment="",
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("failure", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_import_interrupted_midway_leaves_nothing(scratch_app, monkeypatch, failure):
    import survey.services.responses as responses
    from survey.models import Answer, Response
    from survey.services.frameworks import spec_of

    with scratch_app.app_context():
        db.create_all()
        tokens, _ = _wave_with_drafts(1)  # the district, framework and open wave
        from survey.services.waves import get_wave

        wave = get_wave("nl")
        records = _records(spec_of(wave.framework), 2500)  # 2 response and 5 answer batches
        calls = []
        real_insert = responses.insert

        def failing_insert(table):  # type: ignore[no-untyped-def]
            calls.append(table)
            if len(calls) == 4:  # after both response batches and one batch of answers
                raise failure
            return real_insert(table)

        monkeypatch.setattr(responses, "insert", failing_insert)
        with pytest.raises(type(failure)):
            responses.import_records(wave, records)
        db.session.remove()  # what a worker does at the end of a request, whatever happened
        assert db.session.scalar(select(func.count(Response.id))) == 0
        assert db.session.scalar(select(func.count(Answer.id))) == 0
        monkeypatch.setattr(responses, "insert", real_insert)
        wave = get_wave("nl")
        assert responses.import_records(wave, records) == 2500  # the same file, retried
        assert db.session.scalar(select(func.count(Answer.id))) == 2500 * 17
        db.session.remove()  # release its locks, or DROP TABLE waits on PostgreSQL
        db.drop_all()
