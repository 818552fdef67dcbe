"""A responses file made the way an outsider would make one, not with minping's simulator.

``python tests/benchmarks/outsider_csv.py OUT.csv [--n 100000] [--streets 300]
[--dont-know 0.05] [--blank 0.02]``: rows in random order (as an export in
submission order has them), answers 1-5 around a mean per street and
indicator, a share of 不了解 (``DK``) and of blank answers, lognormal weights
with 4 decimals, a submission time.  ``bench_scoring.py --responses OUT.csv``
times it against svy.  How many answers are missing decides most of svy's
time (docs/performance-scoring.md, seventh pass).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def write(path: Path, n: int, streets: int, dont_know: float, blank: float, seed: int) -> None:
    """Write ``n`` responses over ``streets`` streets and the 3 default groups."""
    rng = np.random.default_rng(seed)
    names = np.array([f"鼓楼区{i:03d}街道" for i in range(streets)])
    groups = np.array(["elderly", "adult", "unit"])
    street = rng.integers(0, streets, n)
    group = rng.choice(3, n, p=[0.4, 0.45, 0.15])
    mean = rng.normal(3.6, 0.3, (streets, 17))
    points = np.clip(np.rint(mean[street] + rng.normal(0, 1.0, (n, 17))), 1, 5).astype(int)
    u = rng.random((n, 17))
    cells = np.where(u < dont_know, "DK", np.where(u < dont_know + blank, "", points.astype(str)))
    weight = np.exp(rng.normal(0, 0.3, n))
    codes = ",".join(f"I{k:02d}" for k in range(1, 18))
    with path.open("w", encoding="utf-8") as fh:
        fh.write(
            f"response_id,street,group,submitted_at,channel,weight,{codes},concerns,overall,comment\n"
        )
        for i in range(n):
            fh.write(
                f"R{i:06d},{names[street[i]]},{groups[group[i]]},"
                f"2026-11-{1 + i % 28:02d}T10:00:00,paper,{weight[i]:.4f},"
                + ",".join(cells[i])
                + ",,,\n"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out", type=Path)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--streets", type=int, default=300)
    ap.add_argument("--dont-know", type=float, default=0.05)
    ap.add_argument("--blank", type=float, default=0.02)
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    write(args.out, args.n, args.streets, args.dont_know, args.blank, args.seed)


if __name__ == "__main__":
    main()
