"""Raking benchmark: ``python tests/benchmarks/bench_raking.py [--boot B]``.

100,000 responses x 17 indicators x 300 streets (elderly and adult cells raked
to age band and gender margins, units not; 8% of answers 不了解 as in the
scoring benchmark's file, ``--dont-know 0`` for none), B = 1000: the whole ``minping
score`` command with and without ``--population``, each in its own process, on
the same files; and svy's rake + replication means of the 17 items by street on
the same two files and B (``--svy-python``, default ``/tmp/svy-venv/bin/python``;
``--skip-svy`` to leave it out), whole process too; and svy's replication means of
the 17 items by street without raking (the scoring speed target's peer,
``bench_scoring.py``) on the same responses file.  ``--repeats N`` runs them
interleaved N times and prints medians; ``--keep DIR`` keeps the files.
Prints wall-clock and CPU times, their ratios and the load average; never asserts.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from scoring.simulate import DK_RATE

ROOT = Path(__file__).resolve().parents[2]

# svy rakes within each street x group with margins on cell x age band and cell
# x gender (raking on the interactions is raking every cell separately).
SVY_SCRIPT = r"""
import sys, time
t0 = time.perf_counter()
import polars as pl
import svy
path, pop_path, boot = sys.argv[1], sys.argv[2], int(sys.argv[3])
codes = [f"I{k:02d}" for k in range(1, 18)]
df = pl.read_csv(path, infer_schema=False)
df = df.with_columns(
    [pl.col(c).cast(pl.Float64, strict=False) for c in codes]
    + [pl.col("weight").cast(pl.Float64, strict=False).fill_null(1.0)]
    + [pl.col("age_band").fill_null("undisclosed"), pl.col("gender").fill_null("undisclosed")]
).with_row_index("rid")
pop = pl.read_csv(pop_path, infer_schema=False).with_columns(pl.col("count").cast(pl.Float64))
t1 = time.perf_counter()
# rake within each street x group: margins on cell x age band and cell x gender;
# respondents without an age band / gender keep the cell's average adjustment
# (their level's control = their weight x N / T, known levels scaled by (T - U) / T)
raked_groups = pop.get_column("group").unique().to_list()
df = df.with_columns(
    (pl.col("street") + "|" + pl.col("group")).alias("cell"),
)
df = df.with_columns(
    (pl.col("cell") + "|" + pl.col("age_band")).alias("ca"),
    (pl.col("cell") + "|" + pl.col("gender")).alias("cg"),
    pl.col("group").is_in(raked_groups).alias("raked"),
)
T = df.filter(pl.col("raked")).group_by("cell").agg(pl.col("weight").sum().alias("T"))
U = {}
for var, col in (("age_band", "ca"), ("gender", "cg")):
    u = (
        df.filter(pl.col("raked") & (pl.col(var) == "undisclosed"))
        .group_by("cell").agg(pl.col("weight").sum().alias("U"))
    )
    U[var] = u
N = (
    pop.filter(pl.col("variable") == "gender")
    .with_columns((pl.col("street") + "|" + pl.col("group")).alias("cell"))
    .group_by("cell").agg(pl.col("count").sum().alias("N"))
)
controls = {}
for var, col in (("age_band", "ca"), ("gender", "cg")):
    t = T.join(N, on="cell").join(U[var], on="cell", how="left")
    t = t.with_columns(pl.col("U").fill_null(0.0))
    known = (
        pop.filter(pl.col("variable") == var)
        .with_columns((pl.col("street") + "|" + pl.col("group")).alias("cell"))
        .join(t, on="cell")
        .with_columns((pl.col("count") * (pl.col("T") - pl.col("U")) / pl.col("T")).alias("c"))
    )
    ctl = {f"{c}|{k}": v for c, k, v in known.select("cell", "category", "c").iter_rows() if v > 0}
    for c, tt, n, u in t.select("cell", "T", "N", "U").iter_rows():
        if u > 0:
            ctl[f"{c}|undisclosed"] = u * n / tt
    controls[col] = ctl
sample = svy.Sample(df, svy.Design(stratum="street", psu="rid", wgt="weight"))
t2 = time.perf_counter()
# svy cannot re-rake bootstrap replicates here (a replicate that empties a margin
# category stops it: "All weights are zero in group"), so it rakes once and the
# replicates resample the raked weights: less work than minping's re-raking
sample = sample.weighting.rake(controls=controls, where=pl.col("raked"), tol=1e-8, max_iter=1000)
sample = sample.weighting.create_bs_wgts(n_reps=boot, rep_prefix="bw", rstate=7)
t3 = time.perf_counter()
for code in codes:
    sample.estimation.mean(code, by="street", method="replication", drop_nulls=True)
t4 = time.perf_counter()
print(f"PHASES read={t1 - t0:.3f} design={t2 - t1:.3f} "
      f"rake_and_replicate_weights={t3 - t2:.3f} estimates={t4 - t3:.3f}")
"""


def _files(out: Path, n: int, streets: int, dont_know: float = 0.0) -> tuple[Path, Path]:
    from scoring import load_default_framework
    from scoring.dataset import to_records
    from scoring.exchange import write_csv
    from scoring.population import AGE_BANDS, GENDERS
    from scoring.simulate_weighting import simulate_weighting

    fw = load_default_framework()
    names = [f"街道{i:04d}" for i in range(streets)]
    per_cell = n // (streets * len(fw.groups))
    sim = simulate_weighting(fw, names, per_cell, seed=1, undisclosed=0.03, dk_rate=dont_know)
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


def _run(args: list[str], exe: str | None = None) -> tuple[float, float]:
    """Wall-clock and CPU (user + system) seconds of one ``minping`` (or ``exe``) process."""
    cmd = [exe, *args] if exe else [str(Path(sys.executable).parent / "minping"), *args]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
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
    ap.add_argument("--svy-python", default="/tmp/svy-venv/bin/python")
    ap.add_argument("--skip-svy", action="store_true")
    ap.add_argument("--repeats", type=int, default=1, help="interleaved rounds; medians")
    ap.add_argument(
        "--dont-know",
        type=float,
        default=DK_RATE,  # the scoring benchmark's share: missing answers decide svy's time
        help="share of 不了解 answers (default: the scoring benchmark's; 0: none)",
    )
    ap.add_argument("--keep", type=Path, help="write the two files here and keep them")
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()}")
    from bench_scoring import SVY_SCRIPT as SVY_MEANS  # the scoring target's peer

    runs: dict[str, list[tuple[float, float]]] = {"plain": [], "raked": [], "svy": [], "means": []}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
        responses, population = _files(args.keep or out, args.n, args.streets, args.dont_know)
        base = ["score", "--framework", "scoring/data/gulou-default.toml", "--responses",
                str(responses), "--boot", str(args.boot)]  # fmt: skip
        for _ in range(args.repeats):
            runs["plain"].append(_run([*base, "--out", str(out / "plain.json")]))
            runs["raked"].append(
                _run([*base, "--out", str(out / "raked.json"), "--population", str(population)])
            )
            if not args.skip_svy:
                runs["svy"].append(
                    _run(
                        ["-c", SVY_SCRIPT, str(responses), str(population), str(args.boot)],
                        exe=args.svy_python,
                    )
                )
                runs["means"].append(
                    _run(["-c", SVY_MEANS, str(responses), str(args.boot)], exe=args.svy_python)
                )
    plain, raked, svy, means = (
        (statistics.median(w for w, _ in r), statistics.median(c for _, c in r)) if r else None
        for r in runs.values()
    )
    assert plain is not None and raked is not None
    print(
        f"minping score {args.n} responses x 17 x {args.streets} streets "
        f"({args.dont_know:.0%} 不了解), B={args.boot}, "
        f"medians of {args.repeats}: as weighted {plain[0]:.2f} s wall / {plain[1]:.2f} s CPU; "
        f"raked (--population) {raked[0]:.2f} s wall / {raked[1]:.2f} s CPU (runs "
        f"{', '.join(f'{w:.2f}' for w, _ in runs['raked'])}); raked / plain CPU = "
        f"{raked[1] / plain[1]:.2f} (CPU time: the machine may be shared)"
    )
    if svy is not None and means is not None:
        print(
            f"svy rake + replication means of 17 items by street, same files and B: "
            f"{svy[0]:.2f} s wall / {svy[1]:.2f} s CPU; svy / minping raked: "
            f"wall {svy[0] / raked[0]:.1f}x, CPU {svy[1] / raked[1]:.1f}x "
            "(svy rakes once; minping also re-rakes every replicate)"
        )
        print(
            f"svy replication means of the 17 items by street without raking (the scoring "
            f"target's peer, bench_scoring.py), same responses file: {means[0]:.2f} s wall / "
            f"{means[1]:.2f} s CPU; svy / minping raked: wall {means[0] / raked[0]:.1f}x, "
            f"CPU {means[1] / raked[1]:.1f}x; svy / minping as weighted: wall "
            f"{means[0] / plain[0]:.1f}x"
        )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
