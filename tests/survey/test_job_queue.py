"""The task queue with real ``minping worker`` processes: kill, stop, retry, one set.

Each test builds its own database (the suite's kind: SQLite file or
PostgreSQL) with a scored wave, queues a notices job, and runs workers as
separate processes on the SQLite queue file (the embedded default) or on a
throwaway Redis server (production), started here.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import time

import pytest
from sqlalchemy import func, select

from survey.extensions import db
from survey.models import DocumentJob, Notice, Wave
from survey.services.jobs import JobBusy, start_notice_job

from .queue_support import (
    alive,
    app_for,
    build_scored_wave,
    children,
    idle_in_transaction,
    process_env,
    redis_server,
    start_worker,
    stop,
    wait_for,
)

STREETS = 6
LEASE = 3  # seconds: the bound is LEASE + the reaper's 5 s pass


@pytest.fixture(params=["sqlite-queue", "redis"])
def queue(request, tmp_path):  # type: ignore[no-untyped-def]
    """Queue settings: the SQLite queue file, or a Redis server started for the test."""
    if request.param == "redis":
        with redis_server(tmp_path) as url:
            yield {"REDIS_URL": url}
    else:
        yield {"JOB_QUEUE_PATH": str(tmp_path / "queue.sqlite")}


def _setup(scratch_database_url, queue, tmp_path):  # type: ignore[no-untyped-def]
    settings = {**queue, "JOB_LEASE_SECONDS": LEASE}
    app = app_for(scratch_database_url, **settings)
    code = build_scored_wave(app, STREETS)
    env = process_env(
        scratch_database_url,
        {
            "MINPING_JOB_LEASE": str(LEASE),
            **({"REDIS_URL": queue["REDIS_URL"]} if "REDIS_URL" in queue else {}),
            **({"MINPING_JOB_QUEUE": queue["JOB_QUEUE_PATH"]} if "JOB_QUEUE_PATH" in queue else {}),
        },
    )
    return app, code, env


def _queue_job(app, code):  # type: ignore[no-untyped-def]
    with app.app_context():
        wave = db.session.scalar(select(Wave).where(Wave.code == code))
        job = start_notice_job(wave, dt.date(2026, 3, 31), 30, None)
        job_id = job.id
        db.session.remove()
    return job_id


def _job(app, job_id):  # type: ignore[no-untyped-def]
    with app.app_context():
        job = db.session.get(DocumentJob, job_id)
        row = (job.state, job.done, job.total, job.attempts, job.message)
        db.session.remove()
    return row


def _notices(app, code):  # type: ignore[no-untyped-def]
    with app.app_context():
        wave = db.session.scalar(select(Wave).where(Wave.code == code))
        numbers = db.session.scalars(
            select(Notice.doc_number).where(Notice.wave_id == wave.id).order_by(Notice.sequence)
        ).all()
        state = wave.state
        db.session.remove()
    return state, numbers


def _rendering(app, job_id):  # type: ignore[no-untyped-def]
    state, done, total, *_ = _job(app, job_id)
    return state == "running" and 1 <= done < total - 2


def _assert_clean(worker, renderers, database_url):  # type: ignore[no-untyped-def]
    wait_for(lambda: not any(alive(pid) for pid in renderers), 10, "renderers to die")
    assert not alive(worker.pid)
    if database_url.startswith("postgresql"):
        wait_for(lambda: not idle_in_transaction(database_url), 10, "no idle transactions")


def _assert_one_set(app, code):  # type: ignore[no-untyped-def]
    state, numbers = _notices(app, code)
    assert state == "notices_issued"
    assert len(numbers) == STREETS + 1, numbers  # every street once, plus the ranking report
    assert numbers == [f"测民整〔2026〕{n}号" for n in range(1, STREETS + 2)]


def test_sigkilled_worker_job_is_retried_and_issues_one_set(scratch_database_url, queue, tmp_path):
    app, code, env = _setup(scratch_database_url, queue, tmp_path)
    job_id = _queue_job(app, code)
    first = start_worker(env, tmp_path / "worker1.log")
    second = None
    try:
        wait_for(lambda: _rendering(app, job_id), 120, "the first worker to render")
        renderers = children(first.pid)
        assert renderers, "notices render in child processes"
        first.send_signal(signal.SIGKILL)  # the worker only, not its process group
        first.wait(timeout=10)
        killed_at = time.monotonic()
        _assert_clean(first, renderers, scratch_database_url)
        assert _job(app, job_id)[0] == "running"  # nobody knows yet...
        second = start_worker(env, tmp_path / "worker2.log")
        # ...until the lease runs out and a reaper hands the job to the second worker
        wait_for(lambda: _job(app, job_id)[3] == 2, LEASE + 30, "the job to be retried")
        requeued_after = time.monotonic() - killed_at
        wait_for(lambda: _job(app, job_id)[0] in ("done", "failed"), 180, "the retry to end")
        state, done, total, attempts, message = _job(app, job_id)
        assert (state, attempts) == ("done", 2), message
        assert done == total == STREETS + 1
        _assert_one_set(app, code)
        print(f"killed job retried after {requeued_after:.1f} s (lease {LEASE} s)")
    finally:
        stop(first)
        if second is not None:
            stop(second)
    with app.app_context():
        db.engine.dispose()


def test_sigterm_hands_the_job_back_at_once(scratch_database_url, tmp_path):
    queue = {"JOB_QUEUE_PATH": str(tmp_path / "queue.sqlite")}
    app, code, env = _setup(scratch_database_url, queue, tmp_path)
    job_id = _queue_job(app, code)
    first = start_worker(env, tmp_path / "worker1.log")
    second = None
    try:
        wait_for(lambda: _rendering(app, job_id), 120, "the first worker to render")
        renderers = children(first.pid)
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=30) == 0
        _assert_clean(first, renderers, scratch_database_url)
        state, _done, _total, attempts, message = _job(app, job_id)
        assert (state, attempts) == ("queued", 0), message  # back in the queue, not counted
        second = start_worker(env, tmp_path / "worker2.log")
        wait_for(lambda: _job(app, job_id)[0] in ("done", "failed"), 180, "the job to end")
        state, _done, _total, attempts, message = _job(app, job_id)
        assert (state, attempts) == ("done", 1), message
        _assert_one_set(app, code)
    finally:
        stop(first)
        if second is not None:
            stop(second)
    with app.app_context():
        db.engine.dispose()


def test_sighup_finishes_the_job_then_restarts(scratch_database_url, tmp_path):
    queue = {"JOB_QUEUE_PATH": str(tmp_path / "queue.sqlite")}
    app, code, env = _setup(scratch_database_url, queue, tmp_path)
    job_id = _queue_job(app, code)
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        wait_for(lambda: _rendering(app, job_id), 120, "the worker to render")
        worker.send_signal(signal.SIGHUP)  # graceful reload
        wait_for(lambda: _job(app, job_id)[0] in ("done", "failed"), 180, "the job to end")
        state, _done, _total, attempts, message = _job(app, job_id)
        assert (state, attempts) == ("done", 1), message
        _assert_one_set(app, code)
        log = tmp_path / "worker.log"
        wait_for(lambda: "will restart" in log.read_text(), 30, "the restart")
        assert worker.poll() is None  # the same pid runs a fresh worker
    finally:
        stop(worker)
    with app.app_context():
        db.engine.dispose()


def test_second_press_gets_the_running_job_not_a_database_error(scratch_database_url, tmp_path):
    app = app_for(scratch_database_url, JOB_QUEUE_PATH=str(tmp_path / "queue.sqlite"))
    code = build_scored_wave(app, 3, per_street=12)
    first = _queue_job(app, code)
    with app.app_context():
        wave = db.session.scalar(select(Wave).where(Wave.code == code))
        with pytest.raises(JobBusy) as busy:
            start_notice_job(wave, dt.date(2026, 3, 31), 30, None)
        assert busy.value.job.id == first
        # the unique key also decides a race the first look cannot see
        db.session.add(DocumentJob(wave_id=wave.id, kind="notices", lock_key=f"wave:{wave.id}"))
        with pytest.raises(Exception, match="(?i)unique|duplicate"):
            db.session.commit()
        db.session.rollback()
        assert db.session.scalar(select(func.count(DocumentJob.id))) == 1
        db.session.remove()
        db.engine.dispose()


def test_reaper_fails_a_job_out_of_attempts(scratch_database_url, tmp_path):
    from survey.services.jobs import claim, reap

    app = app_for(
        scratch_database_url,
        JOB_QUEUE_PATH=str(tmp_path / "queue.sqlite"),
        JOB_LEASE_SECONDS=1,
        JOB_ATTEMPTS=2,
    )
    code = build_scored_wave(app, 3, per_street=12)
    job_id = _queue_job(app, code)
    with app.app_context():
        for attempt in (1, 2):
            assert claim(job_id, "gone-host:1") is not None  # a worker takes it and dies
            later = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(seconds=5)
            requeued = reap(now=later)
            assert requeued == ([job_id] if attempt == 1 else [])
        job = db.session.get(DocumentJob, job_id)
        assert job.state == "failed" and "已尝试 2 次" in job.message
        assert job.lock_key is None  # the wave can be issued again
        db.session.remove()
        db.engine.dispose()


def test_embedded_default_issues_from_the_console_with_progress_on_every_web_worker(
    scratch_database_url, tmp_path
):
    """No Redis, no ``minping worker``: ``serve --prod`` web workers run the job themselves."""
    import http.cookiejar
    import re
    import subprocess
    import sys
    import urllib.parse
    import urllib.request

    from survey.services.accounts import create_user

    from .queue_support import ROOT, free_port

    queue_file = str(tmp_path / "queue.sqlite")
    app = app_for(scratch_database_url, JOB_QUEUE_PATH=queue_file)
    code = build_scored_wave(app, STREETS)
    with app.app_context():
        create_user("queue-admin", "Queue-Admin-2026!", "admin", None)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    port = free_port()
    # Several web workers need shared rate limits (serve --prod refuses memory://);
    # the jobs themselves stay on the SQLite queue file with embedded workers.
    limits = redis_server(tmp_path)
    env = process_env(
        scratch_database_url,
        {
            "MINPING_JOB_QUEUE": queue_file,
            "MINPING_SECURE_COOKIES": "0",
            "RATELIMIT_STORAGE_URI": limits.__enter__(),
        },
    )
    with (tmp_path / "serve.log").open("ab") as log:
        server = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from survey.cli import main; main()",
                "serve",
                "--prod",
                "--workers",
                "3",
                "--port",
                str(port),
                "--no-migrate",
            ],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def fetch(path: str, data: dict[str, str] | None = None) -> tuple[str, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        with opener.open(base + path, data=body, timeout=30) as response:
            return response.geturl(), response.read().decode()

    token_re = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
    try:
        wait_for(lambda: _up(base), 90, "serve --prod")
        _url, page = fetch("/auth/login")
        fetch(
            "/auth/login",
            {
                "csrf_token": token_re.search(page).group(1),
                "username": "queue-admin",
                "password": "Queue-Admin-2026!",
            },
        )
        _url, page = fetch(f"/admin/waves/{code}/notices")
        form = {
            "csrf_token": token_re.search(page).group(1),
            "issue_date": "2026-03-31",
            "days": "30",
        }
        job_url, page = fetch(f"/admin/waves/{code}/notices/issue", form)
        assert "/notices/jobs/" in job_url
        # a second press (another admin, any web worker): the same job, a plain message
        again_url, again = fetch(f"/admin/waves/{code}/notices/issue", form)
        assert again_url == job_url and "本批次已有一项任务正在进行" in again
        seen = set()

        def progress() -> bool:
            _u, text = fetch(job_url.removeprefix(base))  # any of the 3 web workers answers
            match = re.search(r"已完成 (\d+) / (\d+)", text)
            if match:
                seen.add(int(match.group(1)))
            return "已下发全部通知书" in text

        wait_for(progress, 180, "the job to finish")
        assert len(seen) >= 2, seen  # progress moved while it was watched
        _assert_one_set(app, code)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        limits.__exit__(None, None, None)
    with app.app_context():
        db.engine.dispose()


def _up(base: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(base + "/healthz", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def test_two_admins_pressing_at_once_get_one_job(scratch_database_url, tmp_path):
    """Two requests race to create the job: one job, and the other gets JobBusy (no SQL error)."""
    import threading

    app = app_for(scratch_database_url, JOB_QUEUE_PATH=str(tmp_path / "queue.sqlite"))
    code = build_scored_wave(app, 3, per_street=12)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def press() -> None:
        with app.app_context():
            wave = db.session.scalar(select(Wave).where(Wave.code == code))
            db.session.commit()  # no transaction open while waiting (SQLite writes lock)
            barrier.wait(timeout=30)
            try:
                start_notice_job(wave, dt.date(2026, 3, 31), 30, None)
                outcomes.append("created")
            except JobBusy as busy:
                outcomes.append(f"busy:{busy.job.id if busy.job else None}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=press) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with app.app_context():
        jobs = db.session.scalars(select(DocumentJob)).all()
        assert len(jobs) == 1
        assert sorted(outcomes) == sorted(["created", f"busy:{jobs[0].id}"]), outcomes
        db.session.remove()
        db.engine.dispose()


def _parts(app, job_id):  # type: ignore[no-untyped-def]
    with app.app_context():
        rows = db.session.execute(
            select(DocumentJob.state, DocumentJob.worker).where(DocumentJob.parent_id == job_id)
        ).all()
        db.session.remove()
    return rows


def test_two_workers_share_a_waves_parts_and_a_kill_still_issues_one_set(
    scratch_database_url, tmp_path
):
    """The wave is rendered in parts by both workers; SIGKILL the one holding the job."""
    queue = {"JOB_QUEUE_PATH": str(tmp_path / "queue.sqlite")}
    app, code, env = _setup(scratch_database_url, queue, tmp_path)
    env["MINPING_NOTICE_PART"] = "1"  # 6 streets: 6 parts
    job_id = _queue_job(app, code)
    workers = [start_worker(env, tmp_path / f"worker{i}.log") for i in range(2)]
    extra = None
    try:
        wait_for(lambda: _rendering(app, job_id), 120, "the parts to render")
        taken_by = {w for state, w in _parts(app, job_id) if state in ("running", "done") and w}
        pids = {int(w.rsplit(":", 1)[1]) for w in taken_by}
        with app.app_context():
            holder = db.session.get(DocumentJob, job_id).worker
            db.session.remove()
        coordinator = next(w for w in workers if holder.endswith(f":{w.pid}"))
        renderers = children(coordinator.pid)
        coordinator.send_signal(signal.SIGKILL)
        coordinator.wait(timeout=10)
        wait_for(lambda: not any(alive(pid) for pid in renderers), 10, "renderers to die")
        extra = start_worker(env, tmp_path / "worker-extra.log")
        wait_for(lambda: _job(app, job_id)[0] in ("done", "failed"), 240, "the job to end")
        state, done, total, attempts, message = _job(app, job_id)
        assert (state, attempts) == ("done", 2), message
        assert done == total == STREETS + 1
        _assert_one_set(app, code)
        assert _parts(app, job_id) == []  # removed with the stored set
        if scratch_database_url.startswith("postgresql"):
            wait_for(lambda: not idle_in_transaction(scratch_database_url), 10, "no idle tx")
        print(f"parts were taken by {len(pids)} worker(s) before the kill")
    finally:
        for worker in [*workers, *([extra] if extra else [])]:
            stop(worker)
    with app.app_context():
        db.engine.dispose()
