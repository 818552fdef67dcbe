"""Submission load benchmark: gunicorn + PostgreSQL on loopback, real browser-like clients.

Run (not collected by pytest)::

    .venv/bin/python tests/benchmarks/bench_submit.py [--seconds 60] [--workers 4] [--clients 6]

It starts its own PostgreSQL (``scripts/pg-test-server.sh`` on port 54339 in
``/tmp/minping-pg-bench``) and ``minping serve --prod`` on 127.0.0.1, creates a
wave with invitations, then measures, each for ``--seconds``:

1. **bare**: a tiny Flask app (in this file) whose one endpoint does one INSERT,
   served by the same gunicorn settings on the same PostgreSQL: the peer.
2. **full**: residents answering the whole questionnaire as a browser does:
   privacy page, start, every page (GET, then POST with the page's CSRF token
   and answers), review, submit — about 14 requests per questionnaire.
3. **final**: the last step alone (GET the review page, POST 提交 with its CSRF
   token) for invitations whose answers were saved earlier (drafts seeded in
   the database).
4. **submit**: the moment a whole district's residents press 提交 at once.  Each
   resident's review page (cookies and CSRF token) is fetched before the clock
   starts, as it was on their phone; then for ``--seconds`` every client posts
   the submissions back to back.  The POST is the whole acceptance: it stores
   the questionnaire and answers with the thanks page.  This is the phase the
   target in README.md, "Performance" (accepted questionnaires/s) is
   read from.
5. **lean**: a floor, not the product: the bare app's ``/lean/<token>``
   accepts the same kind of saved questionnaire with the least work this stack
   allows (token lookup with its draft, INSERT response, INSERT answers, DELETE
   draft, COMMIT; no session, CSRF, rate limit, checks or page).  Its ratio to
   **bare** shows how much of the 0.5 target any Flask + SQLAlchemy +
   PostgreSQL submission can reach on this machine.

Every client is a separate process with one keep-alive connection
(``http.client``), its own cookies per resident.  After each phase the
database is checked: every submission acknowledged with the thanks page is
stored exactly once, and no response lacks its answers.
Finally the bureau's results overview and a street page are timed for a
300-street wave with ``--per-street`` (400) responses per street.

On 2 cores the load generator competes with gunicorn and PostgreSQL for the
CPU: the figures are for the whole machine, clients included.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import multiprocessing as mp
import os
import random
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
HOST = "127.0.0.1"
UA = "Mozilla/5.0 (Linux; Android 14; minping-bench) Mobile"
CSRF_RE = re.compile(rb'name="csrf_token"[^>]*value="([^"]+)"')
ANSWER_RE = re.compile(rb'name="(a_I\d+)"')
CONCERN_RE = re.compile(rb'name="concerns"[^>]*value="(I\d+)"')


# -- the peer: one INSERT per request ------------------------------------------


def bare_app():  # type: ignore[no-untyped-def]
    """A bare Flask app: POST /insert stores one row (same engine options as minping)."""
    from flask import Flask, request
    from sqlalchemy import create_engine, text

    app = Flask("bare")
    url = os.environ["BENCH_DATABASE_URL"]
    engine = create_engine(url, pool_pre_ping=True)

    @app.post("/insert")
    def insert():  # type: ignore[no-untyped-def]
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO bench_bare (payload) VALUES (:p)"),
                {"p": request.form.get("payload", "")},
            )
        return "", 204

    @app.post("/lean/<token>")
    def lean(token: str):  # type: ignore[no-untyped-def]
        """The least work that accepts a saved questionnaire on this stack (a floor, not a product).

        Token lookup with its draft, INSERT the response, INSERT its answers,
        DELETE the draft, COMMIT; no session, CSRF, checks, quality flags or page.
        """
        digest = hashlib.sha256(token.encode()).hexdigest()
        with engine.begin() as conn:
            found = conn.execute(_LEAN_FIND, {"h": digest}).one_or_none()
            if found is None:
                return "", 404
            inv_id, wave_id, street_id, community_id, group, draft_id, data = found
            response_id = conn.execute(
                _LEAN_RESPONSE,
                {
                    "pid": "L" + token[:16],
                    "w": wave_id,
                    "s": street_id,
                    "c": community_id,
                    "g": group,
                    "i": inv_id,
                    "t": datetime.now(UTC).replace(tzinfo=None),
                },
            ).scalar_one()
            conn.execute(
                _LEAN_ANSWER,
                [
                    {"r": response_id, "c": code, "p": 99 if v == "DK" else int(v)}
                    for code, v in data["answers"].items()
                ],
            )
            conn.execute(text("DELETE FROM response_draft WHERE id = :d"), {"d": draft_id})
        return "<p>ok</p>", 200

    return app


def _lean_statements():  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    find = text(
        "SELECT i.id, i.wave_id, i.street_id, i.community_id, i.group_code, d.id, d.data "
        "FROM invitation i JOIN response_draft d ON d.invitation_id = i.id "
        "WHERE i.token_hash = :h"
    )
    response = text(
        "INSERT INTO response (public_id, wave_id, street_id, community_id, group_code, "
        "channel, weight, invitation_id, submitted_at, concerns, comment, quality_flags, "
        "excluded, exclusion_reason) VALUES (:pid, :w, :s, :c, :g, 'online', 1.0, :i, :t, "
        "'', '', '', false, '') RETURNING id"
    )
    answer = text(
        "INSERT INTO answer (response_id, indicator_code, point, comment) VALUES (:r, :c, :p, '')"
    )
    return find, response, answer


_LEAN_FIND, _LEAN_RESPONSE, _LEAN_ANSWER = _lean_statements()


# -- a resident's browser -------------------------------------------------------


class Browser:
    """One keep-alive connection; cookies are reset for each new resident."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection(HOST, port, timeout=30)
        self.cookies: dict[str, str] = {}
        self.ua = UA
        self.timings: list[tuple[str, float, int]] = []

    def request(
        self, method: str, path: str, form: dict | None = None, label: str = "page"
    ) -> tuple[int, str, bytes]:
        headers = {"User-Agent": self.ua, "Accept": "text/html", "Host": f"{HOST}:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
            self.timings.append((label, time.perf_counter() - started, 0))
            return 0, "", b""
        self.timings.append((label, time.perf_counter() - started, response.status))
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if value and "Max-Age=0" not in cookie:
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)
        location = response.headers.get("Location", "")
        return response.status, urlsplit(location).path if location else "", payload


def _csrf(payload: bytes) -> str:
    found = CSRF_RE.search(payload)
    return found.group(1).decode() if found else ""


def _page_answers(payload: bytes, rng: random.Random) -> dict[str, object]:
    form: dict[str, object] = {"csrf_token": _csrf(payload), "nav": "next"}
    for name in dict.fromkeys(m.decode() for m in ANSWER_RE.findall(payload)):
        form[name] = "DK" if rng.random() < 0.05 else str(rng.choice((3, 4, 4, 5, 5)))
    if b'name="overall"' in payload:
        codes = list(dict.fromkeys(m.decode() for m in CONCERN_RE.findall(payload)))
        form["overall"] = str(rng.choice((3, 4, 5)))
        form["concerns"] = rng.sample(codes, min(2, len(codes)))
        form["age_band"] = "35-59"
    return form


def answer_full(browser: Browser, token: str, rng: random.Random) -> bool:
    """Walk the whole questionnaire as a browser would; True if the submit was acknowledged."""
    base = f"/s/{token}"
    status, _, payload = browser.request("GET", base)
    if status != 200:
        return False
    status, location, _ = browser.request("POST", base, {"csrf_token": _csrf(payload)}, "start")
    for _ in range(12):  # bounded: 4 dimension pages + final page
        if status != 302 or not location.startswith(base + "/p/"):
            break
        status, _, payload = browser.request("GET", location)
        if status != 200:
            return False
        status, location, _ = browser.request(
            "POST", location, _page_answers(payload, rng), "page-post"
        )
    if status != 302 or location != base + "/review":
        return False
    return _review_and_submit(browser, base)


def _review(browser: Browser, base: str) -> str:
    """GET the review page; return its CSRF token ('' if the page did not come)."""
    status, _, payload = browser.request("GET", base + "/review", label="review")
    return _csrf(payload) if status == 200 else ""


def _submit(browser: Browser, base: str, csrf: str) -> bool:
    """POST 提交; True if the thanks page came back (the questionnaire is accepted)."""
    status, _, payload = browser.request("POST", base + "/review", {"csrf_token": csrf}, "submit")
    return status == 200 and b"q-thanks" in payload


def _review_and_submit(browser: Browser, base: str) -> bool:
    csrf = _review(browser, base)
    return bool(csrf) and _submit(browser, base, csrf)


def client(  # type: ignore[no-untyped-def]
    phase: str, port: int, tokens: list[str], seconds: float, seed: int, out, start
) -> None:
    """One load-generating process: answer ``tokens`` until the time is up.

    In the ``submit`` phase the review pages are fetched first (not timed);
    ``start`` (a barrier) then releases every client at once.
    """
    rng = random.Random(seed)
    browser = Browser(port)
    held: list[tuple[str, dict[str, str], str]] = []
    if phase == "submit":
        for token in tokens:
            browser.cookies = {}
            browser.ua = f"{UA} build/{token[:8]}"
            csrf = _review(browser, f"/s/{token}")
            if csrf:
                held.append((token, browser.cookies, csrf))
        browser.timings = []
    start.wait()
    acked: list[str] = []
    failed = 0
    deadline = time.monotonic() + seconds
    exhausted = True
    work = held if phase == "submit" else [(token, {}, "") for token in tokens]
    for token, cookies, csrf in work:
        if time.monotonic() >= deadline:
            exhausted = False
            break
        browser.cookies = dict(cookies)  # a new resident: own cookies, own phone
        browser.ua = f"{UA} build/{token[:8]}"
        if phase == "bare":
            status, _, _ = browser.request("POST", "/insert", {"payload": token}, "submit")
            ok = status == 204
        elif phase == "full":
            ok = answer_full(browser, token, rng)
        elif phase == "final":
            ok = _review_and_submit(browser, f"/s/{token}")
        elif phase == "lean":
            status, _, _ = browser.request("POST", f"/lean/{token}", {}, "submit")
            ok = status == 200
        else:
            ok = _submit(browser, f"/s/{token}", csrf)
        if ok:
            acked.append(token)
        else:
            failed += 1
    out.put({"acked": acked, "failed": failed, "timings": browser.timings, "exhausted": exhausted})


# -- servers ----------------------------------------------------------------------


def start_postgres(port: int, directory: str) -> str:
    env = {**os.environ, "MINPING_PG_PORT": str(port), "MINPING_PG_DIR": directory}
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "pg-test-server.sh"), "start"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def stop_postgres(port: int, directory: str) -> None:
    env = {**os.environ, "MINPING_PG_PORT": str(port), "MINPING_PG_DIR": directory}
    subprocess.run(
        ["bash", str(ROOT / "scripts" / "pg-test-server.sh"), "stop"], env=env, timeout=120
    )


def wait_ready(port: int, path: str, proc: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server on port {port} exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET" if path != "/insert" else "HEAD", path)
            status = conn.getresponse().status
            conn.close()
            if status < 500:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"server on port {port} not ready after {timeout:.0f} s")


def start_gunicorn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as fh:
        return subprocess.Popen(
            args, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT
        )


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def start_bare(flags: list[str], port: int, env: dict[str, str], log_dir: Path) -> subprocess.Popen:
    """Serve :func:`bare_app` with the same gunicorn settings as minping."""
    return start_gunicorn(
        [
            str(BIN / "gunicorn"),
            *flags,
            "-b",
            f"{HOST}:{port}",
            "--chdir",
            str(Path(__file__).parent),
            "--keep-alive",
            "5",
            "bench_submit:bare_app()",
        ],
        env,
        log_dir / "bare.log",
    )


# -- data -------------------------------------------------------------------------


def make_app(url: str):  # type: ignore[no-untyped-def]
    from survey import create_app
    from survey.config import Config

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = url
        SECRET_KEY = "bench-" + "x" * 40

    return create_app(BenchConfig)


def prepare_wave(app, n_full: int, n_submit: int) -> tuple[list[str], list[str]]:  # type: ignore[no-untyped-def]
    """Create a district, an open wave and invitations; seed drafts for the submit phase."""
    from datetime import timedelta

    from flask_migrate import upgrade
    from sqlalchemy import insert, select

    from scoring.framework import load_default_framework
    from survey.extensions import db
    from survey.models import Invitation, ResponseDraft
    from survey.models._base import utcnow
    from survey.services.districts import create_district
    from survey.services.frameworks import save_framework, spec_of
    from survey.services.invitations import MAX_BATCH, create_batch, hash_token
    from survey.services.waves import create_wave, transition

    with app.app_context():
        upgrade()
        # indexes the models declare but no migration has created yet (measure the
        # schema as declared; a regenerated migration makes this a no-op)
        for table in db.metadata.sorted_tables:
            for index in table.indexes:
                index.create(db.engine, checkfirst=True)
        streets = [(f"L{i:02d}", f"负载{i:02d}路", [f"负载{i:02d}社区"]) for i in range(10)]
        district = create_district("bench", "压测区", streets)
        framework = save_framework(load_default_framework())
        wave = create_wave(district, framework, "bench", "压测批次")
        transition(wave, "open")
        groups = [g.code for g in framework.groups if g.code != "unit"] or [
            framework.groups[0].code
        ]
        tokens: list[str] = []
        need = n_full + n_submit
        k = 0
        while len(tokens) < need:
            street = district.streets[k % len(district.streets)]
            count = min(MAX_BATCH, need - len(tokens))
            _, batch = create_batch(wave, street, groups[k % len(groups)], count)
            tokens.extend(batch)
            k += 1
        db.session.commit()
        rng = random.Random(5)
        rng.shuffle(tokens)
        full, submit = tokens[:n_full], tokens[n_full:]
        spec = spec_of(wave.framework)
        ids = dict(
            db.session.execute(
                select(Invitation.token_hash, Invitation.id).where(Invitation.wave_id == wave.id)
            ).all()
        )
        group_of = dict(
            db.session.execute(
                select(Invitation.id, Invitation.group_code).where(Invitation.wave_id == wave.id)
            ).all()
        )
        # started 8 minutes before the run: a resident's pace, not a speeder (a draft
        # "started" at seeding time made every submit a flagged, audit-logged speeder)
        now = (utcnow() - timedelta(minutes=8)).isoformat()
        rows = []
        for token in submit:
            inv_id = ids[hash_token(token)]
            codes = [i.code for i in spec.indicators_for(group_of[inv_id])]
            rows.append(
                {
                    "invitation_id": inv_id,
                    "page": 5,
                    "updated_at": utcnow(),
                    "data": {
                        "channel": "online",
                        "interviewer_id": None,
                        "device": hash_token(token),  # one phone per resident
                        "started": now,
                        "answers": {c: str(rng.choice((3, 4, 5))) for c in codes},
                        "comments": {},
                        "final": {
                            "concerns": codes[:2],
                            "overall": "4",
                            "comment": "",
                            "age_band": "35-59",
                            "gender": "",
                            "residence_years": "",
                        },
                        "shown": {},
                        "durations": {str(p): 40.0 for p in range(1, 6)},
                    },
                }
            )
        for start in range(0, len(rows), 5000):
            db.session.execute(insert(ResponseDraft), rows[start : start + 5000])
        db.session.commit()
        db.engine.dispose()
    analyze(app)
    return full, submit


def analyze(app) -> None:  # type: ignore[no-untyped-def]
    """Refresh PostgreSQL's planner statistics, as autovacuum does within a minute or so.

    Without it a phase would run on statistics taken while ``response`` was
    empty: the workers' cached (generic) plans then scan the growing table
    instead of using its unique index, and the figures depend on when
    autovacuum happens to run (measured: 196-240 instead of ~310 accepted/s).
    """
    from survey.extensions import db

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE")
        db.engine.dispose()


def check_stored(app, acked: list[str]) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Count acknowledged submissions stored 0, 1 or 2+ times, and responses without answers."""
    from sqlalchemy import exists, func, select

    from survey.extensions import db
    from survey.models import Answer, Invitation, Response
    from survey.services.invitations import hash_token

    with app.app_context():
        hashes = [hash_token(t) for t in acked]
        stored: dict[int, int] = {}
        for start in range(0, len(hashes), 2000):
            rows = db.session.execute(
                select(Invitation.id, func.count(Response.id))
                .outerjoin(Response, Response.invitation_id == Invitation.id)
                .where(Invitation.token_hash.in_(hashes[start : start + 2000]))
                .group_by(Invitation.id)
            ).all()
            for inv_id, n in rows:
                stored[inv_id] = n
        total = db.session.scalar(select(func.count(Response.id)))
        no_answers = db.session.scalar(
            select(func.count(Response.id)).where(
                ~exists().where(Answer.response_id == Response.id)
            )
        )
        db.engine.dispose()
    values = list(stored.values())
    return {
        "acked": len(acked),
        "stored_once": sum(v == 1 for v in values),
        "missing": len(acked) - sum(v >= 1 for v in values),
        "duplicated": sum(v > 1 for v in values),
        "responses_in_db": total or 0,
        "without_answers": no_answers or 0,
    }


# -- measurement --------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def run_phase(phase: str, port: int, tokens: list[str], clients: int, seconds: float) -> dict:
    queue: mp.Queue = mp.Queue()
    start = mp.Barrier(clients + 1)
    shares = [tokens[i::clients] for i in range(clients)]
    procs = [
        mp.Process(target=client, args=(phase, port, shares[i], seconds, 100 + i, queue, start))
        for i in range(clients)
    ]
    for p in procs:
        p.start()
    start.wait(timeout=3600)  # the submit phase fetches its review pages first
    started = time.perf_counter()
    results = [queue.get(timeout=seconds + 300) for _ in procs]
    elapsed = time.perf_counter() - started
    for p in procs:
        p.join(timeout=30)
    acked = [t for r in results for t in r["acked"]]
    timings = [t for r in results for t in r["timings"]]
    submit = [d * 1000 for label, d, _ in timings if label == "submit"]
    every = [d * 1000 for _, d, _ in timings]
    errors = sum(1 for _, _, status in timings if status == 0 or status >= 500)
    return {
        "phase": phase,
        "seconds": elapsed,
        "acked": acked,
        "rate": len(acked) / elapsed,
        "requests": len(every),
        "request_rate": len(every) / elapsed,
        "failed": sum(r["failed"] for r in results),
        "server_errors": errors,
        "exhausted": any(r["exhausted"] for r in results),
        "submit_ms": [percentile(submit, q) for q in (50, 95, 99)],
        "all_ms": [percentile(every, q) for q in (50, 95, 99)],
    }


def report(result: dict) -> None:
    s50, s95, s99 = result["submit_ms"]
    a50, a95, a99 = result["all_ms"]
    print(
        f"  {result['phase']:7s} {result['rate']:7.1f} accepted/s  "
        f"({len(result['acked'])} in {result['seconds']:.1f} s; "
        f"{result['request_rate']:.0f} requests/s)\n"
        f"          final submit p50/p95/p99 {s50:.1f}/{s95:.1f}/{s99:.1f} ms; "
        f"all requests {a50:.1f}/{a95:.1f}/{a99:.1f} ms; "
        f"failed {result['failed']}, 5xx/connection errors {result['server_errors']}"
        + ("  [ran out of invitations: rate is a lower bound]" if result["exhausted"] else "")
    )


def time_pages(app, port: int, per_street: int, repeats: int) -> None:  # type: ignore[no-untyped-def]
    """Build a 300-street wave, log in as admin and time the results overview and a street page."""
    sys.path.insert(0, str(ROOT / "tests" / "survey"))
    try:
        from test_admin_bigwave import build_big_wave  # type: ignore[import-not-found]
    except ImportError:
        print("  pages: tests/survey/test_admin_bigwave.py (build_big_wave) not found; skipped")
        return
    from survey.extensions import db
    from survey.services.accounts import create_user

    t0 = time.perf_counter()
    with app.app_context():
        wave = build_big_wave(n_streets=300, per_street=per_street, boot=200, code="big-300")
        street_id = wave.district.streets[150].id
        create_user("bench-admin", "Bench-Admin-2026!", "admin")
        db.session.commit()
        db.engine.dispose()
    print(
        f"  built 300 streets x {per_street} responses, scored (B=200) in "
        f"{time.perf_counter() - t0:.0f} s"
    )
    browser = Browser(port)
    status, _, payload = browser.request("GET", "/auth/login")
    status, _, _ = browser.request(
        "POST",
        "/auth/login",
        {"csrf_token": _csrf(payload), "username": "bench-admin", "password": "Bench-Admin-2026!"},
    )
    if status != 302:
        print(f"  pages: login failed ({status}); skipped")
        return
    for label, path in (
        ("results overview", "/admin/waves/big-300/results"),
        ("street page", f"/admin/waves/big-300/streets/{street_id}"),
    ):
        browser.timings = []
        statuses = {browser.request("GET", path, label=label)[0] for _ in range(repeats)}
        ms = [d * 1000 for _, d, _ in browser.timings[1:]]  # first one warms caches
        print(
            f"  {label:17s} p50 {percentile(ms, 50):6.0f} ms  p95 {percentile(ms, 95):6.0f} ms "
            f"max {max(ms):6.0f} ms  (status {sorted(statuses)}, {len(ms)} requests, idle server)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--clients", type=int, default=6, help="client processes")
    parser.add_argument("--port", type=int, default=8731)
    parser.add_argument("--pg-port", type=int, default=54339)
    parser.add_argument("--pg-dir", default="/tmp/minping-pg-bench")
    parser.add_argument("--per-street", type=int, default=400)
    parser.add_argument("--phases", default="bare,full,final,submit,lean,pages")
    parser.add_argument("--max-full-rate", type=int, default=120, help="invitations: rate x s")
    parser.add_argument("--max-final-rate", type=int, default=300)
    parser.add_argument("--max-submit-rate", type=int, default=800)
    parser.add_argument("--max-lean-rate", type=int, default=1500)
    parser.add_argument("--access-log", action="store_true", help="keep JSON access logs on")
    args = parser.parse_args()
    phases = args.phases.split(",")
    log_dir = Path("/tmp/minping-bench-logs")
    log_dir.mkdir(exist_ok=True)
    print(
        f"machine: {os.cpu_count()} cores; gunicorn {args.workers} workers x {args.threads} "
        f"threads; {args.clients} client processes; {args.seconds:.0f} s per phase"
    )
    url = start_postgres(args.pg_port, args.pg_dir)
    server = None
    redis = None
    if not os.environ.get("REDIS_URL") and args.workers > 1:
        # several workers share their rate limits in Redis (serve --prod insists)
        sys.path.insert(0, str(ROOT / "tests"))
        from redis_server import RedisServer  # type: ignore[import-not-found]

        redis = RedisServer().start()
    try:
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "BENCH_DATABASE_URL": url,
            "SECRET_KEY": "bench-" + "x" * 40,
            "MINPING_SECURE_COOKIES": "0",
            "MINPING_LOG_LEVEL": "INFO" if args.access_log else "WARNING",
        }
        if redis is not None:
            env["REDIS_URL"] = redis.url
        gunicorn_flags = ["-w", str(args.workers), "--threads", str(args.threads)]
        results = []
        if "bare" in phases:
            from sqlalchemy import create_engine, text

            engine = create_engine(url)
            with engine.begin() as conn:
                conn.execute(
                    text(
                        "CREATE TABLE bench_bare (id serial PRIMARY KEY, payload text, "
                        "created_at timestamp DEFAULT now())"
                    )
                )
            server = start_bare(gunicorn_flags, args.port, env, log_dir)
            wait_ready(args.port, "/insert", server)
            n = int(args.seconds * 5000)
            bare = run_phase(
                "bare", args.port, [f"p{i}" for i in range(n)], args.clients, args.seconds
            )
            with engine.connect() as conn:
                stored = conn.execute(text("SELECT count(*) FROM bench_bare")).scalar()
            engine.dispose()
            stop_server(server)
            report(bare)
            print(f"          rows stored {stored} for {len(bare['acked'])} acknowledged")
            results.append(bare)
        app = make_app(url)
        n_full = 300 + (int(args.seconds * args.max_full_rate) if "full" in phases else 0)
        n_final = int(args.seconds * args.max_final_rate) if "final" in phases else 0
        n_lean = int(args.seconds * args.max_lean_rate) if "lean" in phases else 0
        n_submit = n_final + n_lean
        n_submit += int(args.seconds * args.max_submit_rate) if "submit" in phases else 0
        t0 = time.perf_counter()
        full_tokens, saved = prepare_wave(app, n_full, n_submit)
        final_tokens, lean_tokens = saved[:n_final], saved[n_final : n_final + n_lean]
        submit_tokens = saved[n_final + n_lean :]
        print(
            f"  prepared {n_full + n_submit} invitations ({n_submit} with saved answers) "
            f"in {time.perf_counter() - t0:.0f} s"
        )
        server = start_gunicorn(
            [
                str(BIN / "minping"),
                "serve",
                "--prod",
                "--no-migrate",
                "--port",
                str(args.port),
                "--workers",
                str(args.workers),
                "--threads",
                str(args.threads),
            ],
            env,
            log_dir / "minping.log",
        )
        wait_ready(args.port, "/healthz", server)
        warm, full_tokens = full_tokens[:300], full_tokens[300:]
        run_phase("full", args.port, warm, args.clients, 4)  # compile templates, fill pools
        analyze(app)  # a wave in fieldwork: responses exist and the statistics know it
        for phase, tokens in (
            ("full", full_tokens),
            ("final", final_tokens),
            ("submit", submit_tokens),
        ):
            if phase not in phases:
                continue
            result = run_phase(phase, args.port, tokens, args.clients, args.seconds)
            report(result)
            check = check_stored(app, result["acked"])
            print(
                f"          no loss: {check['stored_once']}/{check['acked']} acknowledged stored "
                f"exactly once, missing {check['missing']}, duplicated {check['duplicated']}, "
                f"responses without answers {check['without_answers']} "
                f"(responses in db {check['responses_in_db']})"
            )
            results.append(result)
        if "pages" in phases:
            time_pages(app, args.port, args.per_street, repeats=11)
        if "lean" in phases:
            stop_server(server)
            server = start_bare(gunicorn_flags, args.port, env, log_dir)
            wait_ready(args.port, "/insert", server)
            lean = run_phase("lean", args.port, lean_tokens, args.clients, args.seconds)
            report(lean)
            check = check_stored(app, lean["acked"])
            print(
                f"          stored exactly once {check['stored_once']}/{check['acked']} "
                "(the floor: lookup, 3 writes and COMMIT in a bare Flask view)"
            )
            results.append(lean)
        bare_rate = next((r["rate"] for r in results if r["phase"] == "bare"), None)
        if bare_rate:
            for r in results:
                if r["phase"] != "bare":
                    print(
                        f"  ratio {r['phase']:7s}/bare = {r['rate'] / bare_rate:.3f} "
                        f"(target >= 0.5 for submit; questionnaires/s over one-INSERT requests/s)"
                    )
    finally:
        if server is not None:
            stop_server(server)
        stop_postgres(args.pg_port, args.pg_dir)
        if redis is not None:
            redis.stop()


if __name__ == "__main__":
    main()
