"""Sample-size planner: the formula by hand, and the achieved half-width by simulation."""

from __future__ import annotations

import numpy as np
import pytest

from scoring import load_default_framework, score, simulate
from scoring.planning import DesignInputs, design_inputs, plan_sizes


def test_plan_by_hand() -> None:
    fw = load_default_framework()  # shares 0.4, 0.4, 0.2
    inputs = DesignInputs(("elderly", "adult", "unit"), (10.0, 20.0, 10.0), (1.0, 1.5, 1.0),
                          (1.0, 0.8, 1.0), "test")  # fmt: skip
    plan = plan_sizes(fw, inputs, 2.0)
    # k = p σ √(d/a) = 0.4*10, 0.4*20*√(1.5/0.8), 0.2*10 = 4, 10.954, 2; Σk = 16.954
    # n = (1.96/2)² Σk² = 276.06; n_g = n k_g / Σk = 65.13, 178.37, 32.57 → 66, 179, 33
    assert plan.per_group == (66, 179, 33)
    change = plan_sizes(fw, inputs, 2.0, target="change")
    assert change.per_group == (131, 357, 66)  # twice the variance
    with pytest.raises(ValueError, match="unknown indicator"):
        plan_sizes(fw, inputs, 2.0, target="indicator", indicator="I99")


def test_design_inputs_from_a_wave() -> None:
    fw = load_default_framework()
    sim = simulate(fw, [f"S{i}" for i in range(8)], 90, seed=3, weight_cv=0.4)
    inp = design_inputs(fw, sim.data)
    assert all(8 < sd < 25 for sd in inp.sd)
    assert all(1.05 < d < 1.4 for d in inp.deff)  # lognormal weights, CV 0.4: 1 + CV² ≈ 1.16
    one = design_inputs(fw, sim.data, indicator="I05")
    assert all(0.85 < a < 0.98 for a in one.answer_rate)  # 8% 不了解


@pytest.mark.slow
def test_planned_n_achieves_the_half_width() -> None:
    fw = load_default_framework()
    streets = [f"S{i}" for i in range(30)]
    last = simulate(fw, streets, 120, seed=1, weight_cv=0.3)
    plan = plan_sizes(fw, design_inputs(fw, last.data), 2.0)
    n = plan.per_street
    mix = [k / n for k in plan.per_group]
    widths = []
    for rep in range(4):
        sim = simulate(fw, streets, n, seed=100 + rep, weight_cv=0.3, group_mix=mix)
        res = score(fw, sim.data, boot=300, seed=rep, shrink=False)
        widths += [(s.ci_high - s.ci_low) / 2 for s in res.streets]
    achieved = float(np.mean(widths))
    print(f"planned {plan.per_group} per street; achieved half-width {achieved:.3f}")
    assert abs(achieved - 2.0) <= 0.2
