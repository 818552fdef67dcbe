"""Scoring benchmark, measured as a user runs it: ``python tests/benchmarks/bench_scoring.py``.

1. ``minping score --framework F --responses R.csv --out S.json --boot 1000``, the
   whole process (subprocess, wall clock, peak RSS from ``/usr/bin/time -v``),
   on 100,000 responses x 17 indicators x 300 streets x 3 groups: everything
   (intervals, rank sets, funnel bands, items, shrinkage, JSON);
2. against svy's replication (bootstrap) estimate of the 17 item means by
   street on the *same CSV* and B, in svy's own virtualenv (``--svy-python``,
   default ``/tmp/svy-venv/bin/python``: ``python3 -m venv /tmp/svy-venv &&
   /tmp/svy-venv/bin/pip install svy``), whole process too;
   the two are run interleaved ``--repeats`` times and medians reported;
3. a phase breakdown of the minping run (start-up, read, engine, JSON), in process;
   then one run each on the same responses with every cell quoted and with the
   rows in random order (an export in submission order), ``--skip-quoted`` /
   ``--skip-shuffled`` to leave them out;
4. the same seed twice gives byte-identical output;
5. 1,000,000 responses (wall clock and peak RSS of the CLI);
6. console scoring of the demo wave (``score_wave``, 5,087 responses, B = 1000)
   on a demo database made with ``minping demo --no-serve`` if missing;
7. with ``--against TREE`` (e.g. ``/work/main``), the same CLI runs from that
   source tree too, interleaved with this one (and the 1M run once each), so a
   change is measured against its base under the same load.

Never asserts times; prints ratios, CPU time (user+sys, which other processes
distort less than wall time) and the load average.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
MINPING = str(Path(PY).with_name("minping"))
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}

SVY_SCRIPT = r"""
import sys, time
t0 = time.perf_counter()
import polars as pl
import svy
path, boot = sys.argv[1], int(sys.argv[2])
codes = [f"I{k:02d}" for k in range(1, 18)]
df = pl.read_csv(path, infer_schema=False)
df = df.with_columns(
    [pl.col(c).cast(pl.Float64, strict=False) for c in codes]
    + [pl.col("weight").cast(pl.Float64, strict=False).fill_null(1.0)]
).with_row_index("rid")
t1 = time.perf_counter()
sample = svy.Sample(df, svy.Design(stratum="street", psu="rid", wgt="weight"))
sample = sample.weighting.create_bs_wgts(n_reps=boot, rep_prefix="bw", rstate=7)
t2 = time.perf_counter()
for code in codes:
    sample.estimation.mean(code, by="street", method="replication", drop_nulls=True)
t3 = time.perf_counter()
print(f"PHASES read={t1 - t0:.3f} replicate_weights={t2 - t1:.3f} estimates={t3 - t2:.3f}")
"""

PHASES_SCRIPT = r"""
import sys, time
t0 = time.perf_counter()
from survey.cli import main  # noqa: F401  (the CLI front, as minping starts)
from scoring.dataset import from_table
from scoring.engine import score
from scoring.exchange import read_table
from scoring.framework import load_framework
from scoring.result import to_json
import hashlib
t1 = time.perf_counter()
fw_path, path, boot = sys.argv[1], sys.argv[2], int(sys.argv[3])
fw = load_framework(fw_path)
raw = open(path, "rb").read()
data = from_table(read_table(raw, fw), fw)
t2 = time.perf_counter()
res = score(fw, data, boot=boot, data_sha256=hashlib.sha256(raw).hexdigest())
t3 = time.perf_counter()
text = to_json(res)
open("/dev/null", "w").write(text)
t4 = time.perf_counter()
print(f"PHASES startup={t1 - t0:.3f} read={t2 - t1:.3f} engine={t3 - t2:.3f} json={t4 - t3:.3f}")
"""


def write_responses_csv(path: Path, n: int, streets: int, seed: int = 1) -> None:
    """A simulated wave in the exchange format (weights with CV 0.3, DK, concerns)."""
    import numpy as np

    from scoring import load_default_framework, simulate
    from scoring.exchange import columns

    fw = load_default_framework()
    per = [n // streets + (1 if i < n % streets else 0) for i in range(streets)]
    sim = simulate(fw, [f"街道{i:04d}" for i in range(streets)], per, seed=seed, weight_cv=0.3)
    d = sim.data
    cells = np.where(d.dont_know, "DK", np.where(d.points > 0, d.points.astype(str), ""))
    codes = np.array(d.indicators)
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(columns(fw)) + "\n")
        for r in range(d.n):
            concerns = ";".join(codes[d.concerns[r]])
            fh.write(
                f"r{r + 1:07d},{d.streets[d.street[r]]},{d.groups[d.group[r]]},,paper,"
                f"{float(d.weight[r])!r},{','.join(cells[r])},{concerns},,\n"
            )


def timed(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, object]:
    """Run ``cmd`` under /usr/bin/time -v: wall seconds, peak RSS (MB), output."""
    start = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, env=env or ENV
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed:\n{done.stdout}\n{done.stderr[-3000:]}")
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    cpu = sum(
        float(m.group(1))
        for m in re.finditer(r"(?:User|System) time \(seconds\): ([\d.]+)", done.stderr)
    )
    return {
        "wall": wall,
        "cpu": cpu,
        "rss_mb": int(rss.group(1)) / 1024 if rss else float("nan"),
        "out": done.stdout,
    }


def phases(text: str) -> dict[str, float]:
    line = next(x for x in text.splitlines() if x.startswith("PHASES"))
    return {k: float(v) for k, v in (p.split("=") for p in line.split()[1:])}


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def bytecode(root: Path) -> str:
    """How many of the packages' modules have up-to-date bytecode (start-up compiles the rest).

    ``scripts/setup.sh`` compiles it; an editable install under
    ``PYTHONDONTWRITEBYTECODE`` otherwise has none, and every command then
    compiles the modules it imports again.
    """
    import importlib.util

    parts = []
    for package in ("survey", "scoring"):
        sources = sorted((root / package).rglob("*.py"))
        fresh = 0
        for src in sources:
            pyc = Path(importlib.util.cache_from_source(str(src)))
            fresh += pyc.exists() and pyc.stat().st_mtime >= src.stat().st_mtime
        parts.append(f"{package} {fresh}/{len(sources)}")
    dont = " (PYTHONDONTWRITEBYTECODE set)" if os.environ.get("PYTHONDONTWRITEBYTECODE") else ""
    return f"modules with bytecode: {', '.join(parts)}{dont}"


def demo_stamp(root: Path) -> str:
    """Digest of what a demo database depends on: the migrations and the demo builders."""
    import hashlib

    h = hashlib.sha256()
    files = sorted((root / "survey" / "migrations" / "versions").glob("*.py"))
    files += sorted((root / "survey" / "services").glob("demo*.py"))
    for f in files:
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def demo_console(
    boot: int, workdir: Path, against: Path | None = None, repeats: int = 5
) -> dict[str, dict[str, float]] | None:
    """``score_wave`` on the demo wave, in process as the console runs it: median wall and CPU.

    The demo database is rebuilt whenever the migrations or the demo builders
    changed since it was made (a stamp file next to it), so an old database
    is never scored by new code.  With ``against`` (another source tree, e.g.
    ``/work/main``), that tree's ``score_wave`` is timed on the same database,
    alternating with this one, so "before" and "after" share the machine's load.
    """
    db = workdir / "demo.sqlite"
    stamp = workdir / "demo.stamp"
    want = demo_stamp(ROOT)
    env = {
        **ENV,
        "DATABASE_URL": f"sqlite:///{db}",
        "MINPING_JOB_QUEUE": str(workdir / "demo-jobs.sqlite"),
    }
    env.pop("REDIS_URL", None)
    if not db.exists() or not stamp.exists() or stamp.read_text() != want:
        db.unlink(missing_ok=True)
        subprocess.run(
            [MINPING, "demo", "--no-serve", "--force"], env=env, check=True, capture_output=True
        )
        stamp.write_text(want)
    script = f"""
import time
from survey import create_app
from survey.extensions import db
from survey.services.scoring_runs import score_wave
from survey.services.waves import get_wave
app = create_app()
with app.app_context():
    walls, cpus = [], []
    for k in range({repeats} + 1):  # the first run warms caches and is not counted
        wave = get_wave("demo-2026")
        wave.state = "closed"
        t, c = time.perf_counter(), time.process_time()
        run = score_wave(wave, boot={boot})
        if k:
            walls.append(time.perf_counter() - t)
            cpus.append(time.process_time() - c)
        sha = run.data_sha256
        db.session.rollback()
walls.sort(); cpus.sort()
print("CONSOLE", walls[len(walls) // 2], cpus[len(cpus) // 2], sha)
"""
    trees = {"this tree": ROOT, **({"against": against} if against is not None else {})}
    out: dict[str, dict[str, float]] = {}
    for _round in range(2):  # alternate: this, against, this, against
        for name, tree in trees.items():
            done = subprocess.run(
                [PY, "-c", script],
                env={**env, "PYTHONPATH": str(tree)},
                capture_output=True,
                text=True,
                cwd=tree,
            )
            if done.returncode != 0:
                print(done.stderr[-2000:])
                return None
            line = next(x for x in done.stdout.splitlines() if x.startswith("CONSOLE"))
            _, wall, cpu, sha = line.split()
            entry = out.setdefault(name, {"wall": float("inf"), "cpu": float("inf")})
            entry["wall"] = min(entry["wall"], float(wall))
            entry["cpu"] = min(entry["cpu"], float(cpu))
            entry["sha"] = sha  # type: ignore[assignment]
    return out


def report_demo(args: argparse.Namespace, work: Path) -> None:
    """Print the demo step's figures (see :func:`demo_console`)."""
    against = Path(args.demo_against) if args.demo_against else None
    console = demo_console(args.boot, work, against)
    if console is None:
        return
    for name, m in console.items():
        print(
            f"console scoring of the demo wave (5,087 responses, B={args.boot}), {name}: "
            f"median {m['wall']:.2f} s wall, CPU (user+sys) {m['cpu']:.2f} s "
            f"(data_sha256 {str(m['sha'])[:12]})"
        )


def report_variant(
    kind: str, cli: list[str], csv_path: Path, work: Path, boot: str, plain: float
) -> None:
    """One run on the same responses written another way.

    ``quoted``: every cell quoted (R's ``write.csv``, QUOTE_ALL); the scores
    must be those of the plain file (only ``data_sha256`` differs).
    ``shuffled``: the rows in random order, as an export in submission order
    has them; the point estimates must be those of the plain file (the
    bootstrap's draws follow the rows' order within a cell, so the intervals
    differ within their noise).
    """
    import csv
    import json
    import random

    copy = csv_path.with_name(f"{csv_path.stem}-{kind}.csv")
    if not copy.exists():
        with csv_path.open(encoding="utf-8-sig", newline="") as src:
            rows = list(csv.reader(src))
        if kind == "shuffled":
            body = rows[1:]
            random.Random(7).shuffle(body)
            rows = rows[:1] + body
        with copy.open("w", encoding="utf-8", newline="") as dst:
            quoting = csv.QUOTE_ALL if kind == "quoted" else csv.QUOTE_MINIMAL
            csv.writer(dst, quoting=quoting, lineterminator="\n").writerows(rows)
    out = work / f"{kind}.json"
    run = timed([*cli[:-1], str(copy), "--out", str(out), "--boot", boot])

    def scores(path: Path) -> object:
        doc = json.loads(path.read_text("utf-8"))
        doc["method"].pop("data_sha256", None)
        if kind == "shuffled":
            return [(s["street"], s["score"], s["se"]) for s in doc["streets"]]
        return doc

    same = scores(out) == scores(work / "s0.json")
    what = "scores" if kind == "quoted" else "street scores"
    print(
        f"  {kind} ({copy.stat().st_size / 1e6:.0f} MB): {run['wall']:.2f} s wall, "
        f"CPU {run['cpu']:.2f} s ({run['wall'] / plain:.2f}x the plain file's median); "
        f"same {what}: {same}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--streets", type=int, default=300)
    ap.add_argument("--boot", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--svy-python", default="/tmp/svy-venv/bin/python")
    ap.add_argument("--big", type=int, default=1_000_000)
    ap.add_argument("--skip-big", action="store_true")
    ap.add_argument("--skip-svy", action="store_true")
    ap.add_argument("--skip-demo", action="store_true")
    ap.add_argument("--skip-quoted", action="store_true")
    ap.add_argument("--skip-shuffled", action="store_true")
    ap.add_argument("--demo-against", help="another source tree to time the demo step against")
    ap.add_argument("--demo-only", action="store_true", help="only the console demo step")
    ap.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "minping-bench"))
    ap.add_argument("--against", help="another source tree to time the same CLI from")
    ap.add_argument(
        "--responses",
        type=Path,
        help="time this exchange CSV instead of the generated one (e.g. outsider_csv.py's)",
    )
    args = ap.parse_args()
    other_env = None if args.against is None else {**ENV, "PYTHONPATH": args.against}
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    if args.demo_only:
        print(f"load average before: {load()}  (2 cores shared)")
        report_demo(args, work)
        print(f"load average after: {load()}")
        return
    fw = work / "framework.toml"
    shutil.copy(ROOT / "scoring" / "data" / "gulou-default.toml", fw)
    csv_path = args.responses or work / f"responses-{args.n}-{args.streets}.csv"
    if not csv_path.exists():
        write_responses_csv(csv_path, args.n, args.streets)
    shape = (
        f"{args.responses.name}"
        if args.responses
        else f"{args.n:,} x 17 x {args.streets} streets x 3 groups"
    )
    B = str(args.boot)
    print(f"load average before: {load()}  (2 cores shared)")
    print(
        bytecode(ROOT)
        + (f"; {args.against}: {bytecode(Path(args.against))}" if args.against else "")
    )
    cli = [MINPING, "score", "--framework", str(fw), "--responses", str(csv_path)]
    ours, theirs, rss, ours_cpu, theirs_cpu = [], [], [], [], []
    base, base_cpu, base_rss = [], [], []
    for r in range(args.repeats):
        run = timed([*cli, "--out", str(work / f"s{r}.json"), "--boot", B])
        ours.append(run["wall"])
        ours_cpu.append(run["cpu"])
        rss.append(run["rss_mb"])
        if other_env is not None:
            ob = timed([*cli, "--out", str(work / f"base{r}.json"), "--boot", B], env=other_env)
            base.append(ob["wall"])
            base_cpu.append(ob["cpu"])
            base_rss.append(ob["rss_mb"])
        if not args.skip_svy:
            sv = timed([args.svy_python, "-c", SVY_SCRIPT, str(csv_path), B], env=dict(os.environ))
            theirs.append(sv["wall"])
            theirs_cpu.append(sv["cpu"])
            svy_phases = phases(str(sv["out"]))
    same = (work / "s0.json").read_bytes() == (work / f"s{args.repeats - 1}.json").read_bytes()
    m_ours = statistics.median(ours)
    print(
        f"minping score, {shape}, B={B}: "
        f"median {m_ours:.2f} s wall (runs {', '.join(f'{x:.2f}' for x in ours)}), "
        f"peak RSS {max(rss):.0f} MB, CPU (user+sys) median {statistics.median(ours_cpu):.2f} s; "
        f"same seed, same bytes: {same}"
    )
    if base:
        same_base = (work / "s0.json").read_bytes() == (work / "base0.json").read_bytes()
        print(
            f"  the same CLI from {args.against}: median {statistics.median(base):.2f} s wall "
            f"(runs {', '.join(f'{x:.2f}' for x in base)}), peak RSS {max(base_rss):.0f} MB, "
            f"CPU median {statistics.median(base_cpu):.2f} s; same JSON bytes: {same_base}"
        )
    for label, env in (("", ENV), (f" from {args.against}", other_env)):
        if env is None:
            continue
        # cwd: ``python -c`` puts the current directory first on sys.path, which
        # would import this tree whatever PYTHONPATH says
        ph = phases(subprocess.run(
            [PY, "-c", PHASES_SCRIPT, str(fw), str(csv_path), B],
            capture_output=True, text=True, env=env, check=True, cwd=work,
        ).stdout)  # fmt: skip
        print(
            f"  phases (in process){label}: " + ", ".join(f"{k} {v:.2f} s" for k, v in ph.items())
        )
    if theirs:
        m_svy = statistics.median(theirs)
        print(
            f"svy replication means of 17 items by street, same CSV and B: median {m_svy:.2f} s "
            f"wall (runs {', '.join(f'{x:.2f}' for x in theirs)}; last: "
            + ", ".join(f"{k} {v:.2f} s" for k, v in svy_phases.items())
            + ")"
        )
        c_svy, c_ours = statistics.median(theirs_cpu), statistics.median(ours_cpu)
        print(f"  svy CPU (user+sys) median {c_svy:.2f} s")
        print(
            f"ratio svy / minping (whole processes): wall {m_svy / m_ours:.1f}x, "
            f"CPU {c_svy / c_ours:.1f}x"
        )
    if not args.skip_quoted:
        report_variant("quoted", cli, csv_path, work, B, m_ours)
    if not args.skip_shuffled:
        report_variant("shuffled", cli, csv_path, work, B, m_ours)
    if not args.skip_big:
        big_csv = work / f"responses-{args.big}-{args.streets}.csv"
        if not big_csv.exists():
            write_responses_csv(big_csv, args.big, args.streets)
        big_cli = [MINPING, "score", "--framework", str(fw), "--responses", str(big_csv),
                   "--boot", B]  # fmt: skip
        for label, env in (("", ENV), (f" from {args.against}", other_env)):
            if env is None:
                continue
            big = timed([*big_cli, "--out", str(work / "big.json")], env=env)
            print(
                f"minping score{label}, {args.big:,} responses, B={B}: {big['wall']:.2f} s wall, "
                f"CPU {big['cpu']:.2f} s, peak RSS {big['rss_mb']:.0f} MB  (load {load()})"
            )
    if not args.skip_demo:
        report_demo(args, work)
    print(f"load average after: {load()}")


if __name__ == "__main__":
    main()
