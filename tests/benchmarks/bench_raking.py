"""Raking benchmark: ``python tests/benchmarks/bench_raking.py [--boot B]``.

100,000 responses x 17 indicators x 300 streets (elderly and adult cells raked
to age band and gender margins, units not), B = 1000: the whole ``minping
score`` command with and without ``--population``, each in its own process, on
the same files.  Prints wall-clock and CPU times and their ratio; never asserts.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]


def _files(out: Path, n: int, streets: int) -> tuple[Path, Path]:
    from scoring import load_default_framework
    from scoring.dataset import to_records
    from scoring.exchange import write_csv
    from scoring.population import AGE_BANDS, GENDERS
    from scoring.simulate_weighting import simulate_weighting

    fw = load_default_framework()
    names = [f"街道{i:04d}" for i in range(streets)]
    per_cell = n // (streets * len(fw.groups))
    sim = simulate_weighting(fw, names, per_cell, seed=1, undisclosed=0.03)
    responses = out / "responses.csv"
    responses.write_bytes(write_csv(to_records(sim.data), fw))
    lines = ["street,group,variable,category,count"]
    m = sim.margins
    for s, name in enumerate(names):
        for g, group in enumerate(fw.group_codes):
            if np.isfinite(m.total[s, g]):
                lines += [
                    f"{name},{group},age_band,{b},{m.age[s, g, k]:g}"
                    for k, b in enumerate(AGE_BANDS)
                ]
                lines += [
                    f"{name},{group},gender,{x},{m.gender[s, g, k]:g}"
                    for k, x in enumerate(GENDERS)
                ]
    population = out / "population.csv"
    population.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return responses, population


def _run(args: list[str]) -> tuple[float, float]:
    """Wall-clock and CPU (user + system) seconds of one ``minping`` process."""
    exe = Path(sys.executable).parent / "minping"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run([str(exe), *args], capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise SystemExit(f"minping {args[0]} failed: {done.stderr.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--boot", type=int, default=1000)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--streets", type=int, default=300)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        responses, population = _files(out, args.n, args.streets)
        base = ["score", "--framework", "scoring/data/gulou-default.toml", "--responses",
                str(responses), "--boot", str(args.boot)]  # fmt: skip
        plain = _run([*base, "--out", str(out / "plain.json")])
        raked = _run([*base, "--out", str(out / "raked.json"), "--population", str(population)])
    print(
        f"minping score {args.n} responses x 17 x {args.streets} streets, B={args.boot}: "
        f"as weighted {plain[0]:.2f} s wall / {plain[1]:.2f} s CPU; raked (--population) "
        f"{raked[0]:.2f} s wall / {raked[1]:.2f} s CPU; raked / plain CPU = "
        f"{raked[1] / plain[1]:.2f} (CPU time: the machine may be shared)"
    )


if __name__ == "__main__":
    main()
