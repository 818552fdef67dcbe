"""Standard errors against svy, delta vs bootstrap, determinism."""

from __future__ import annotations

import numpy as np
import pytest

import scoring.bootstrap as bootstrap_mod
from scoring import from_points, load_default_framework, score, simulate, to_json
from scoring.estimators import Weights, cell_layout
from scoring.reference import street_coefficients
from scoring.variance import (
    cell_covariance,
    form_contributions,
    item_contributions,
    level_variance,
)


def linearized_se(data, layout, weights, *, jackknife=False):
    """Street indicator and overall SEs from the cells' own variances.

    Default: the Taylor-linearised variance (``CellCovariance.own``, what the
    bootstrap reproduces); ``jackknife=True``: the delete-one jackknife
    (``prior_df=0``: no pooling with the district's within-group covariance).
    """
    from dataclasses import replace

    cov = cell_covariance(data, layout, span=100.0, prior_df=0.0)
    if not jackknife:
        cov = replace(cov, final=cov.own)
    sc = street_coefficients(cov.answered, weights)
    zero = np.zeros_like(sc.indicator)
    ind = level_variance(cov, sc.indicator, zero, item_contributions)
    ovr = level_variance(cov, sc.overall[..., None], zero[..., None], form_contributions)

    class SE:
        indicator = np.sqrt(ind.street)
        overall = np.sqrt(ovr.street[:, 0])

    return SE


@pytest.fixture(scope="module")
def fw():
    return load_default_framework()


def test_indicator_se_matches_svy_taylor(fw):
    """One group (elderly) so S_sj is the cell ratio mean and strata = streets.

    svy call (svy 0.35): ``svy.Sample(df, svy.Design(stratum="street", wgt="w",
    wr=True)).estimation.mean("y", by="street", drop_nulls=True)``.  svy drops
    the rows without an answer, so its n_h/(n_h - 1) uses the answered count
    where minping uses all respondents of the cell (domain estimation): with
    8% 不了解 and n = 80 the two differ by < 0.2%, hence rel=2e-3.
    """
    pl = pytest.importorskip("polars")
    svy = pytest.importorskip("svy")
    sim = simulate(fw, ["S1", "S2", "S3"], 80, seed=7, group_mix=[1, 0, 0], weight_cv=0.4)
    d = sim.data
    lse = linearized_se(d, cell_layout(d), Weights.of(fw))
    for j in (0, 9):
        y = np.where(d.points[:, j] > 0, d.values[:, j], np.nan)
        df = pl.DataFrame({"street": d.street, "w": d.weight, "y": y})
        sample = svy.Sample(df, svy.Design(stratum="street", wgt="w", wr=True))
        est = sample.estimation.mean("y", by="street", drop_nulls=True)
        table = est.to_polars().sort("street")
        se_svy = table["se"].to_numpy()
        assert lse.indicator[:, j] == pytest.approx(se_svy, rel=2e-3)
        jk = linearized_se(d, cell_layout(d), Weights.of(fw), jackknife=True)
        assert jk.indicator[:, j] == pytest.approx(se_svy, rel=0.02)


def test_delta_se_agrees_with_bootstrap(fw):
    sim = simulate(fw, [f"S{i}" for i in range(40)], 150, seed=3, weight_cv=0.3)
    res = score(fw, sim.data, boot=500, seed=11, shrink=False)
    from scoring.bootstrap import replicate_se

    boot_se = replicate_se(res.replicates.overall)
    delta_se = np.array([s.se for s in res.streets])
    ratio = delta_se / boot_se
    # MC error of a B=500 bootstrap SE is ~1/sqrt(2B) = 3%
    assert 0.9 <= float(np.sqrt(np.mean(delta_se**2) / np.mean(boot_se**2))) <= 1.1
    assert 0.8 < ratio.min() and ratio.max() < 1.2
    ind = np.array([[s.indicators[c].se for c in fw.indicator_codes] for s in res.streets])
    ind_ratio = np.sqrt(np.mean(ind**2) / np.mean(replicate_se(res.replicates.indicator) ** 2))
    assert 0.9 <= ind_ratio <= 1.1
    d_ratio = res.district.se / float(replicate_se(res.replicates.district_overall))
    assert 0.85 <= d_ratio <= 1.15


def test_items_independent_would_understate(fw):
    """The composite SE carries item covariance: it is well above the naive one."""
    sim = simulate(fw, [f"S{i}" for i in range(5)], 300, seed=5)
    lse = linearized_se(sim.data, cell_layout(sim.data), Weights.of(fw))
    w = Weights.of(fw)
    coef = (
        (w.member @ w.dimension)
        * w.indicator
        / (w.indicator @ w.member)[(w.member @ np.arange(4)).astype(int)]
    )
    naive = np.sqrt(((coef * lse.indicator) ** 2).sum(axis=1))
    assert np.all(lse.overall > 1.5 * naive)


def test_same_seed_same_bytes_and_chunking(fw, monkeypatch):
    sim = simulate(fw, [f"S{i}" for i in range(12)], 60, seed=2)
    a = to_json(score(fw, sim.data, boot=150, seed=9))
    b = to_json(score(fw, sim.data, boot=150, seed=9))
    assert a == b
    monkeypatch.setattr(bootstrap_mod, "_TOTALS_BUDGET", 5000)
    monkeypatch.setattr(bootstrap_mod, "_COUNT_BUDGET", 100)
    assert to_json(score(fw, sim.data, boot=150, seed=9)) == a
    assert to_json(score(fw, sim.data, boot=150, seed=10)) != a


def test_rank_intervals_and_bands(fw):
    # 15 streets: below the 20 needed to estimate overdispersion, so the plain funnel
    sim = simulate(fw, [f"S{i}" for i in range(15)], 200, seed=4, street_sd=0.4)
    res = score(fw, sim.data, boot=300, seed=1)
    assert res.method["funnel"]["phi"] is None
    for s in res.streets:
        assert s.rank_low <= s.rank <= s.rank_high
        assert s.rank_low_sim <= s.rank_low and s.rank_high <= s.rank_high_sim
        assert s.ci_low < s.score < s.ci_high
        assert s.band in ("above", "similar", "below")
        assert s.band == s.alarm
        assert abs(s.z) > 3.09 if s.alarm != "similar" else abs(s.z) <= 3.09
        if s.alert == "similar":
            assert s.alarm == "similar"
        if s.band == "above":
            assert s.district_gap > 0
        if s.band == "below":
            assert s.district_gap < 0
    assert {s.band for s in res.streets} >= {"above", "below"}


def test_priorities_are_significantly_below(fw):
    sim = simulate(fw, [f"S{i}" for i in range(10)], 300, seed=8, interaction_sd=0.5)
    res = score(fw, sim.data, boot=300, seed=1, top_k=3)
    seen = 0
    for s in res.streets:
        assert len(s.priorities) <= 3
        urgency = [p.importance_satisfaction for p in s.priority_details]
        assert urgency == sorted(urgency, reverse=True)
        for p in s.priority_details:
            ind = s.indicators[p.indicator]
            assert ind.gap_ci_high < 0 and ind.district_gap <= -3.0 and ind.q_below <= 0.05
            # importance is the district's attention share, not the street's own
            assert p.importance == pytest.approx(res.district.indicators[p.indicator].attention)
            seen += 1
    assert seen > 0


def test_correlation_fallback_without_concerns(fw):
    sim = simulate(fw, [f"S{i}" for i in range(6)], 200, seed=8, interaction_sd=0.5)
    d = sim.data
    no_concerns = from_points(
        fw, d.streets, d.street, d.group, d.weight, d.points, d.dont_know,
        np.zeros_like(d.concerns), np.searchsorted([0, 25, 50, 75, 100], d.overall) + 1,
    )  # fmt: skip
    res = score(fw, no_concerns, boot=200, seed=1)
    assert res.method["importance"] == "overall_correlation"


def test_fay_herriot_shrinks_towards_mean(fw):
    sizes = [10, 15, 20, 200, 250, 300, 12, 400, 30, 18]
    sim = simulate(fw, [f"S{i}" for i in range(10)], sizes, seed=12)
    res = score(fw, sim.data, boot=200, seed=1, min_n=30)
    for s in res.streets:
        assert s.shrunk.score is not None and s.shrunk.mse is not None
        assert s.shrunk.mse <= s.se**2 * 1.05 + 1e-9
    small = {c.street for c in res.small_cells}
    assert "S0" in small and "S7" not in small
