"""Funnel bands, FDR, rank sets, rectification items, change and quality rules."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy.stats import t as t_dist

from scoring import (
    exclusion_rule,
    flagged_sensitivity,
    load_default_framework,
    score,
    simulate,
    targeted_change,
    to_json,
    wave_seed,
)
from scoring.change import compare_waves
from scoring.funnel import bh_qvalues, expected_false_flags, funnel, normal_equivalent
from scoring.quality import QualityFlags
from scoring.ranking import rank_sets


@pytest.fixture(scope="module")
def fw():
    return load_default_framework()


def test_bh_qvalues_by_hand():
    # p = .01 .04 .03 .20 (m = 4): sorted .01 .03 .04 .20 → .04 .06 .0533 .20,
    # monotone from the top: .04 .0533 .0533 .20
    q = bh_qvalues(np.array([0.01, 0.04, 0.03, 0.20, np.nan]))
    assert q[:4] == pytest.approx([0.04, 0.0533333, 0.0533333, 0.20])
    assert np.isnan(q[4])


def test_normal_equivalent_matches_t_tails():
    t = np.array([-4.0, -2.0, 0.5, 3.0])
    z = normal_equivalent(t, np.array([5.0, 20.0, 8.0, np.inf]))
    assert z[3] == pytest.approx(3.0)
    from scipy.special import ndtr

    assert ndtr(z[0]) == pytest.approx(t_dist.cdf(-4.0, 5), rel=1e-6)
    assert ndtr(z[1]) == pytest.approx(t_dist.cdf(-2.0, 20), rel=1e-6)
    assert abs(z[0]) < 4.0 and abs(z[2]) < 0.5  # t tails are heavier


def test_funnel_limits_and_overdispersion():
    rng = np.random.default_rng(1)
    se = rng.uniform(1, 3, 40)
    gap = rng.normal(0, 1, 40) * se
    gap[0] = -4 * se[0]
    f = funnel(gap, se, np.full(40, np.inf), np.ones(40, bool), "alarm")
    assert f.band[0] == "below" and f.alarm[0] == "below" and f.alert[0] == "below"
    assert f.phi is not None
    # real spread between streets (sd 5 points): τ² absorbs it, so fewer alarms
    spread = gap + rng.normal(0, 5, 40)
    wide = funnel(spread, se, np.full(40, np.inf), np.ones(40, bool), "alert")
    plain = funnel(spread[:19], se[:19], np.full(19, np.inf), np.ones(19, bool), "alert")
    assert wide.tau2 > 10 and plain.tau2 == 0.0 and plain.phi is None
    assert wide.band == wide.alert
    f = funnel(gap, se, np.full(40, np.inf), np.ones(40, bool), "fdr")
    assert all((b != "similar") == (q < 0.05) for b, q in zip(f.band, f.q, strict=True))
    assert expected_false_flags("alarm", 300) == pytest.approx(0.6, abs=1e-3)
    with pytest.raises(ValueError, match="band_rule"):
        funnel(gap, se, se, np.ones(40, bool), "strict")


def test_rank_sets_contain_point_and_nest():
    rng = np.random.default_rng(3)
    point = np.array([80.0, 79.0, 70.0, 60.0, np.nan])
    var = np.array([1.0, 1.0, 1.0, 1.0, 1.0])
    reps = point + rng.normal(0, 1, (500, 5))
    rs = rank_sets(point, reps, var, np.array([True, True, True, True, True]))
    assert rs.rank.tolist() == [1, 2, 3, 4, 0]
    assert rs.low[:2].tolist() == [1, 1] and rs.high[:2].tolist() == [2, 2]
    assert rs.low[3] == rs.high[3] == 4 and rs.low[4] == 0
    assert np.all(rs.low_sim <= rs.low) and np.all(rs.high_sim >= rs.high)
    assert rs.critical_sim >= np.nanmax(rs.critical)


def test_band_rule_setting_and_expected_false_flags(fw):
    sim = simulate(fw, [f"S{i}" for i in range(13)], 60, seed=4, street_sd=0.5)
    a = score(fw, sim.data, boot=200, seed=1, band_rule="alert")
    assert all(s.band == s.alert for s in a.streets)
    assert a.method["band_rule"] == "alert"
    assert a.method["expected_false_flags"] == pytest.approx(0.05 * 13, rel=1e-3)
    with pytest.raises(ValueError, match="band_rule"):
        score(fw, sim.data, boot=200, band_rule="nope")


def test_incomplete_street_is_scored_not_ranked(fw):
    sim = simulate(fw, [f"S{i}" for i in range(6)], 60, seed=5)
    d = sim.data
    keep = ~((d.street == 2) & (d.group == 2))  # street S2 without its units
    res = score(fw, replace_rows(d, keep), boot=200, seed=1)
    s2 = res.streets[2]
    assert not s2.complete and "group unit" in s2.incomplete_reason
    assert s2.score is not None and s2.ci_low < s2.score < s2.ci_high
    assert (s2.rank, s2.rank_low, s2.rank_high, s2.band, s2.rank_low_sim) == (None,) * 5
    assert s2.priorities == () and s2.alarm is None
    assert sorted(s.rank for s in res.streets if s.complete) == [1, 2, 3, 4, 5]
    assert res.district.n_streets == 5  # the reference leaves S2 out


def replace_rows(data, keep):
    from scoring.engine import subset

    return subset(data, keep)


def test_no_item_for_small_gaps_and_fdr_recorded(fw):
    sim = simulate(fw, [f"S{i}" for i in range(8)], 400, seed=8, interaction_sd=0.5)
    res = score(fw, sim.data, boot=200, seed=1, min_gap=50.0)
    assert all(s.priorities == () for s in res.streets)
    res = score(fw, sim.data, boot=200, seed=1)
    assert any(s.priorities for s in res.streets)
    assert res.method["priority_min_gap"] == 3.0 and res.method["priority_fdr"] == 0.05


def test_wave_seed_is_stable_and_distinct():
    assert wave_seed("demo-2026", 20260101) == wave_seed("demo-2026", 20260101)
    assert wave_seed("demo-2026", 20260101) != wave_seed("demo-2027", 20260101)
    assert wave_seed("demo-2026", 1) != wave_seed("demo-2026", 2)
    assert 0 <= wave_seed("x", 0) < 2**31


def test_change_refuses_other_framework_versions(fw):
    streets = [f"S{i}" for i in range(6)]
    a = score(fw, simulate(fw, streets, 80, seed=1).data, boot=200, seed=1)
    b = score(fw, simulate(fw, streets, 80, seed=2).data, boot=200, seed=2)
    other = replace(b, method={**b.method, "framework": {**b.method["framework"], "sha256": "f"}})
    with pytest.raises(ValueError, match="different framework"):
        compare_waves(a, other)
    with pytest.raises(ValueError, match="different framework"):
        targeted_change(a, other, {"S0": ["I01"]})
    marked = compare_waves(a, other, allow_mismatch=True)
    assert marked and not any(c.comparable for c in marked)
    assert all(c.comparable for c in compare_waves(a, b))


def test_exclusion_rule_needs_agreeing_signals():
    def flags(*v):
        return QualityFlags(np.array(v, dtype=bool), tuple("x" if f else "" for f in v))

    checks = {
        "speeder": flags(1, 0, 1, 0, 0),
        "straightline": flags(0, 1, 1, 0, 0),
        "duplicate": flags(0, 0, 0, 1, 0),
        "burst": flags(0, 0, 0, 0, 1),
    }
    assert exclusion_rule(checks).tolist() == [False, False, True, True, True]
    assert exclusion_rule({"straightline": flags(1, 1)}).tolist() == [False, False]


def test_flagged_sensitivity_counts_moves(fw):
    sim = simulate(fw, [f"S{i}" for i in range(6)], 80, seed=6)
    top = sim.data.points.max(axis=1) == sim.data.points.min(axis=1)
    happy = (sim.data.points == 5).sum(axis=1) >= 12
    flagged = top | happy
    with_f = score(fw, sim.data, boot=200, seed=1)
    without = score(fw, sim.data, boot=200, seed=1, exclude=flagged)
    sens = flagged_sensitivity(with_f, without)
    assert sens["n_flagged"] == int(flagged.sum()) > 0
    assert len(sens["streets"]) == 6 and sens["max_abs_change"] > 0
    moved = sum(r["rank_with"] != r["rank_without"] for r in sens["streets"])
    assert sens["ranks_moved"] == moved
    doc = to_json(replace(without, flagged_sensitivity=sens))
    assert '"flagged_sensitivity"' in doc and '"ranks_moved"' in doc


def test_expanded_percentile_interval_uses_t_quantiles():
    from scoring.bootstrap import expanded_interval

    reps = np.sort(np.random.default_rng(0).normal(0, 1, 200_000))[:, None].repeat(2, axis=1)
    lo, hi = expanded_interval(reps, np.array([5.0, np.inf]))
    assert hi[0] == pytest.approx(t_dist.ppf(0.975, 5), rel=0.01)
    assert hi[1] == pytest.approx(1.96, rel=0.01) and lo[1] == pytest.approx(-1.96, rel=0.01)


def test_rao_wu_bootstrap_matches_unbiased_cell_variance():
    """n_c - 1 draws: the bootstrap variance of a cell mean is s²/n, not (n-1)/n of it."""
    from scoring.bootstrap import replicate_cell_totals
    from scoring.dataset import from_points
    from scoring.estimators import cell_layout

    fw = load_default_framework()
    x = np.array([1, 2, 3, 4, 5, 5, 4, 2])
    pts = np.tile(x[:, None], (1, 17))
    data = from_points(
        fw, ["A"], np.zeros(8, int), np.zeros(8, int), np.ones(8), pts,
        np.zeros_like(pts, bool), np.zeros_like(pts, bool), np.zeros(8, int),
    )  # fmt: skip
    lay = cell_layout(data)
    feats = np.column_stack([data.values[:, :1], np.ones(8)]).astype(np.float32)[lay.order]
    tot = np.concatenate(list(replicate_cell_totals(feats, lay, 20_000, 1)), axis=2)[0, 0]
    means = tot[:, 0] / tot[:, 1]
    unbiased = np.var(data.values[:, 0], ddof=1) / 8
    assert np.var(means) == pytest.approx(unbiased, rel=0.04)
