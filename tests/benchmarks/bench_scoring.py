"""Scoring benchmark (DESIGN.md §10): run ``python tests/benchmarks/bench_scoring.py``.

1. 100,000 responses x 17 indicators x 300 streets, B = 1000: everything that
   ``scoring.score`` computes (delta SEs, bootstrap CIs, rank intervals, bands,
   priorities, Fay-Herriot) → seconds and peak RSS, measured in a subprocess.
2. Side by side: svy's replication (bootstrap) estimate of the 17 item means by
   street on the same data and B.  svy builds B replicate-weight columns and
   estimates per item; at full size it is slow, so it runs on a subset of
   streets (``--svy-streets``, default 30, i.e. 1/10 of the data) and its time
   is scaled linearly by the number of respondents (stated in the output).
3. 1,000,000 responses, same settings → seconds and peak RSS (subprocess).

Never asserts times; prints ratios.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np


def _run_scoring(n: int, streets: int, boot: int) -> dict[str, float]:
    from scoring import load_default_framework, score, simulate, to_json

    fw = load_default_framework()
    per = [n // streets + (1 if i < n % streets else 0) for i in range(streets)]
    sim = simulate(fw, [f"街道{i:04d}" for i in range(streets)], per, seed=1, weight_cv=0.3)
    t0 = time.perf_counter()
    res = score(fw, sim.data, boot=boot, seed=20260101)
    t1 = time.perf_counter()
    text = to_json(res)
    t2 = time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "n": sim.data.n,
        "score_s": t1 - t0,
        "json_s": t2 - t1,
        "peak_rss_mb": rss,
        "json_bytes": len(text.encode()),
    }


def _run_svy(n: int, streets: int, boot: int, svy_streets: int) -> dict[str, float]:
    import polars as pl
    import svy

    from scoring import load_default_framework, simulate

    fw = load_default_framework()
    per = n // streets
    sim = simulate(fw, [f"S{i}" for i in range(svy_streets)], per, seed=1, weight_cv=0.3)
    d = sim.data
    cols = {"street": d.street, "w": d.weight, "id": np.arange(d.n)}
    for j, code in enumerate(d.indicators):
        cols[code] = np.where(d.points[:, j] > 0, d.values[:, j], np.nan)
    df = pl.DataFrame(cols)
    t0 = time.perf_counter()
    sample = svy.Sample(df, svy.Design(stratum="street", psu="id", wgt="w"))
    sample = sample.weighting.create_bs_wgts(n_reps=boot, rep_prefix="bw", rstate=7)
    t1 = time.perf_counter()
    for code in d.indicators:
        sample.estimation.mean(code, by="street", method="replication", drop_nulls=True)
    t2 = time.perf_counter()
    return {"n": d.n, "replicate_weights_s": t1 - t0, "estimate_s": t2 - t1, "total_s": t2 - t0}


def _sub(kind: str, *args: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, *map(str, args)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--boot", type=int, default=1000)
    ap.add_argument("--svy-streets", type=int, default=30)
    ap.add_argument("--skip-million", action="store_true")
    ap.add_argument("--child", nargs="+")
    args = ap.parse_args()
    if args.child:
        kind, *rest = args.child
        nums = [int(x) for x in rest]
        res = _run_scoring(*nums) if kind == "score" else _run_svy(*nums)
        print(json.dumps(res))
        return
    B = args.boot
    small = _sub("score", 100_000, 300, B)
    print(
        f"minping 100k x 17 x 300 streets, B={B}: {small['score_s']:.2f} s scoring "
        f"(+ {small['json_s']:.2f} s JSON), peak RSS {small['peak_rss_mb']:.0f} MB"
    )
    sv = _sub("svy", 100_000, 300, B, args.svy_streets)
    scale = 100_000 / sv["n"]
    svy_full = sv["total_s"] * scale
    print(
        f"svy replication means, {args.svy_streets} streets ({sv['n']} responses), B={B}: "
        f"{sv['total_s']:.2f} s (replicate weights {sv['replicate_weights_s']:.2f} s, "
        f"17 estimates {sv['estimate_s']:.2f} s); scaled x{scale:.1f} to 100k: {svy_full:.1f} s"
    )
    print(
        f"ratio svy / minping (item means only vs everything): {svy_full / small['score_s']:.1f}x"
    )
    if not args.skip_million:
        big = _sub("score", 1_000_000, 300, B)
        print(
            f"minping 1M x 17 x 300 streets, B={B}: {big['score_s']:.2f} s scoring "
            f"(+ {big['json_s']:.2f} s JSON), peak RSS {big['peak_rss_mb']:.0f} MB"
        )


if __name__ == "__main__":
    main()
