"""Coverage of the bootstrap intervals against a simulated truth (slow).

Run with ``pytest -m slow tests/scoring/test_coverage.py -s``: prints the
coverage of the 95% percentile CIs of the street overall scores, the delta
CIs, and the 95% rank intervals.  Each simulated wave draws new street
effects, so coverage is averaged over populations and samples.
"""

from __future__ import annotations

import pytest

from scoring import load_default_framework, score, simulate

REPS = 40
STREETS = 30
N = 200


@pytest.mark.slow
def test_interval_coverage():
    fw = load_default_framework()
    hit_boot = hit_delta = hit_rank = hit_district = total = 0
    for rep in range(REPS):
        sim = simulate(fw, [f"S{i}" for i in range(STREETS)], N, seed=1000 + rep, weight_cv=0.3)
        res = score(fw, sim.data, boot=1000, seed=rep, shrink=False)
        for s, truth, true_rank in zip(res.streets, sim.true_overall, sim.true_rank, strict=True):
            total += 1
            hit_boot += s.ci_low <= truth <= s.ci_high
            hit_delta += abs(s.score - truth) <= 1.96 * s.se
            hit_rank += s.rank_low <= true_rank <= s.rank_high
        d = res.district
        hit_district += d.ci_low <= sim.true_district_overall <= d.ci_high
    cov = hit_boot / total
    print(
        f"\ncoverage over {REPS} waves x {STREETS} streets (n={N}): bootstrap 95% CI {cov:.3f}, "
        f"delta 95% CI {hit_delta / total:.3f}, rank interval {hit_rank / total:.3f}, "
        f"district {hit_district / REPS:.3f}"
    )
    assert 0.93 <= cov <= 0.97
    assert 0.92 <= hit_delta / total <= 0.97
    assert hit_rank / total >= 0.90
