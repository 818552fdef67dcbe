"""Benchmark: issuing a wave's notices through the task queue with 1 and 2 ``minping worker``\\ s.

Run explicitly (not part of the test suite)::

    DATABASE_URL=postgresql://... .venv/bin/python tests/benchmarks/bench_queue.py \\
        [--streets 300] [--workers 1 2] [--queue redis|sqlite]

For each worker count it builds a fresh scored wave of ``--streets`` streets,
starts that many ``minping worker`` processes, queues the notices job as the
console does, and polls the job row from two separate database connections
(standing in for two web workers) every 0.5 s.  It prints the seconds to the
first visible progress, the seconds to done, notices per minute, and how many
distinct progress values each poller saw (live progress, visible from both).
Without ``DATABASE_URL`` it uses a SQLite file.  ``--queue redis`` starts a
throwaway redis-server.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from tests.survey.queue_support import (  # noqa: E402
    app_for,
    build_scored_wave,
    process_env,
    redis_server,
    sqlalchemy_url,
    start_worker,
    stop,
)


def cpu_seconds(pids: list[int]) -> float:
    """CPU (user + sys) of ``pids``, their finished children and their live descendants."""
    from tests.survey.queue_support import children

    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        for which in (pid, *children(pid)):
            try:
                fields = open(f"/proc/{which}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            # utime, stime, cutime, cstime: fields 14-17 (after pid and comm)
            total += sum(int(v) for v in fields[11:15])
    return total / tick


def fresh_database(base: str | None, tmp: Path, tag: str) -> str:
    if not base:
        return f"sqlite:///{tmp / f'{tag}.sqlite'}"
    from sqlalchemy.engine import make_url

    url = make_url(sqlalchemy_url(base))
    name = f"minping_bench_{tag}_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def run(streets: int, workers: int, base: str | None, queue: dict[str, str], tmp: Path) -> dict:
    from sqlalchemy import select

    from survey.extensions import db
    from survey.models import Wave
    from survey.services.jobs import start_notice_job

    url = fresh_database(base, tmp, f"w{workers}")
    settings = {"REDIS_URL": queue["REDIS_URL"]} if "REDIS_URL" in queue else {}
    settings.setdefault("JOB_QUEUE_PATH", str(tmp / f"queue-{workers}.sqlite"))
    app = app_for(url, **settings)
    t0 = time.perf_counter()
    code = build_scored_wave(app, streets, per_street=20)
    print(f"  built and scored {streets} streets in {time.perf_counter() - t0:.0f} s", flush=True)
    env = process_env(url, {k: v for k, v in queue.items()})
    if "REDIS_URL" not in queue:
        env["MINPING_JOB_QUEUE"] = settings["JOB_QUEUE_PATH"]
    procs = [start_worker(env, tmp / f"worker-{workers}-{i}.log") for i in range(workers)]
    pollers = [create_engine(sqlalchemy_url(url)) for _ in range(2)]
    seen: list[set[int]] = [set(), set()]
    try:
        time.sleep(8)  # let the workers import and warm up before the clock starts
        with app.app_context():
            wave = db.session.scalar(select(Wave).where(Wave.code == code))
            start = time.perf_counter()
            job_id = start_notice_job(wave, dt.date(2026, 3, 31), 30, None).id
            db.session.remove()
        first_progress = None
        last_change, last_done = None, None
        cpu0, load0 = cpu_seconds([p.pid for p in procs]), os.getloadavg()[0]
        part_workers: set[str] = set()
        while True:
            states = []
            for i, engine in enumerate(pollers):
                with engine.connect() as conn:
                    state, done = conn.execute(
                        text("SELECT state, done FROM document_job WHERE id = :id"), {"id": job_id}
                    ).one()
                    part_workers.update(
                        w
                        for (w,) in conn.execute(
                            text("SELECT worker FROM document_job WHERE parent_id = :id"),
                            {"id": job_id},
                        )
                        if w
                    )
                seen[i].add(done)
                states.append(state)
                if done != last_done:
                    last_done, last_change = done, time.perf_counter() - start
                if done and first_progress is None:
                    first_progress = time.perf_counter() - start
            if any(s in ("done", "failed") for s in states):
                break
            time.sleep(0.5)
        elapsed = time.perf_counter() - start
        cpu = cpu_seconds([p.pid for p in procs]) - cpu0
        load1 = os.getloadavg()[0]
        with pollers[0].connect() as conn:
            state, message = conn.execute(
                text("SELECT state, message FROM document_job WHERE id = :id"), {"id": job_id}
            ).one()
    finally:
        for proc in procs:
            stop(proc)
        for engine in pollers:
            engine.dispose()
        with app.app_context():
            db.engine.dispose()
    return {
        "workers": workers,
        "state": state,
        "message": message,
        "first_progress_s": first_progress,
        "last_progress_s": last_change,
        "seconds": elapsed,
        "per_minute": 60 * (streets + 1) / elapsed,
        "progress_values_seen": [len(s) for s in seen],
        "cpu_s": cpu,
        "cpu_per_doc": cpu / (streets + 1),
        "load": (load0, load1),
        "part_workers": len({w.rsplit(":", 1)[-1] for w in part_workers}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streets", type=int, default=300)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--queue", choices=("sqlite", "redis"), default="redis")
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL")
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        queue: dict[str, str] = {}
        if args.queue == "redis":
            queue["REDIS_URL"] = stack.enter_context(redis_server(tmp))
        results = []
        for workers in args.workers:
            print(f"{workers} worker(s), {args.streets} streets:", flush=True)
            result = run(args.streets, workers, base, queue, tmp)
            results.append(result)
            print(
                f"  {result['state']} in {result['seconds']:.1f} s "
                f"({result['per_minute']:.0f} notices/min); first progress after "
                f"{result['first_progress_s']:.1f} s, last after {result['last_progress_s']:.1f} s "
                "(then collecting, the ranking report and storing); "
                f"progress values seen by the two pollers: "
                f"{result['progress_values_seen']}; parts taken by {result['part_workers']} "
                f"worker(s); CPU {result['cpu_s']:.0f} s = {result['cpu_per_doc']:.2f} s/document; "
                f"load average {result['load'][0]:.1f} -> {result['load'][1]:.1f}",
                flush=True,
            )
        if len(results) == 2:
            ratio = results[1]["per_minute"] / results[0]["per_minute"]
            workers = f"{results[1]['workers']} workers / {results[0]['workers']}"
            print(f"rate with {workers}: {ratio:.2f}")


if __name__ == "__main__":
    main()
