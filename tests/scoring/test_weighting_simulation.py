"""Simulation: a sample that over-represents the elderly, unweighted vs raked (slow)."""

from __future__ import annotations

import numpy as np
import pytest

from scoring import load_default_framework
from scoring.engine import score
from scoring.simulate_weighting import simulate_weighting


@pytest.mark.slow
def test_raking_removes_the_age_bias_and_its_intervals_cover() -> None:
    fw = load_default_framework()
    streets = [f"街道{i:02d}" for i in range(30)]
    bias_un, bias_rk, covered, total = [], [], 0, 0
    for rep in range(50):
        sim = simulate_weighting(fw, streets, 60, seed=1000 + rep, oversample=3.0)
        un = score(fw, sim.data, boot=300, seed=rep, shrink=False)
        rk = score(fw, sim.data, boot=300, seed=rep, shrink=False, margins=sim.margins)
        truth = sim.true_overall
        u = np.array([s.score for s in un.streets])
        r = np.array([s.score for s in rk.streets])
        lo = np.array([s.ci_low for s in rk.streets])
        hi = np.array([s.ci_high for s in rk.streets])
        bias_un.append(np.mean(u - truth))
        bias_rk.append(np.mean(r - truth))
        covered += int(np.sum((lo <= truth) & (truth <= hi)))
        total += len(streets)
    b_un, b_rk = float(np.mean(bias_un)), float(np.mean(bias_rk))
    coverage = covered / total
    print(f"bias unweighted {b_un:.2f} points, raked {b_rk:.2f}; raked coverage {coverage:.3f}")
    assert b_un > 1.5  # the elderly are more satisfied and over-represented
    assert abs(b_rk) < 0.3
    assert 0.93 <= coverage <= 0.97
