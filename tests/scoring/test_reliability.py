"""Composite reliability: Cronbach's α by hand, parallel analysis on simulated answers."""

from __future__ import annotations

import numpy as np
import pytest

from scoring import load_default_framework, simulate
from scoring.reliability import cronbach_alpha, reliability


def test_alpha_by_hand() -> None:
    # 4 respondents x 3 items; item variances 1, 1, 1 (ddof 1: 4/3 each? computed below)
    x = np.array([[1.0, 2, 3], [2, 3, 4], [3, 4, 5], [4, 5, 7]])
    # item variances: 1.6667, 1.6667, 2.9167 → 6.25; totals 6, 9, 12, 16 → var 18.25
    # α = 3/2 (1 - 6.25/18.25) = 0.98630137
    assert cronbach_alpha(x) == pytest.approx(1.5 * (1 - 6.25 / 18.25))
    assert np.isnan(cronbach_alpha(x[:, :1]))


def test_simulated_wave_is_one_factor_and_consistent() -> None:
    fw = load_default_framework()
    sim = simulate(fw, [f"S{i}" for i in range(10)], 200, seed=2)
    out = reliability(fw, sim.data, draws=20)
    # the simulation's respondent effect makes every item load on one factor
    assert out["factors_retained"] == 1
    assert out["eigenvalues"][0] > out["parallel_95"][0]
    for d in out["dimensions"].values():
        assert 0.3 < d["alpha"] < 0.95
        assert all(0 < r < 1 for r in d["item_rest"].values())
    assert out["composite_overall_r"] > 0.3
