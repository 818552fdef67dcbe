"""The fast engine paths give the numbers of the plain ones (or stay in the error budget)."""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr
from scipy.stats import t as t_dist

from scoring.bootstrap import expanded_interval, replicate_cell_totals
from scoring.dataset import from_points
from scoring.estimators import Weights, cell_layout, combine_groups
from scoring.framework import load_default_framework
from scoring.simulate import simulate


def _expanded_by_sorting(reps, df, level=0.95):  # type: ignore[no-untyped-def]
    """The full-sort implementation the partition replaces (reference)."""
    alpha = (1.0 - level) / 2.0
    B = reps.shape[0]
    flat = reps.reshape(B, -1)
    dfl = np.broadcast_to(np.asarray(df, dtype=np.float64), reps.shape[1:]).reshape(-1)
    finite = np.isfinite(dfl)
    tq = np.where(finite, t_dist.ppf(1 - alpha, np.where(finite, dfl, 1)), np.inf)
    p_lo = np.where(np.isfinite(tq), ndtr(-tq), alpha)
    srt = np.sort(flat, axis=0)
    k = (~np.isnan(flat)).sum(axis=0)

    def at(p):  # type: ignore[no-untyped-def]
        pos = p * np.maximum(k - 1, 0)
        i0 = np.floor(pos).astype(np.int64)
        i1 = np.minimum(i0 + 1, np.maximum(k - 1, 0))
        v0 = np.take_along_axis(srt, i0[None], axis=0)[0]
        v1 = np.take_along_axis(srt, i1[None], axis=0)[0]
        return np.where(k >= 2, v0 + (pos - i0) * (v1 - v0), np.nan)

    return at(p_lo).reshape(reps.shape[1:]), at(1.0 - p_lo).reshape(reps.shape[1:])


def test_tail_partition_gives_the_sorted_order_statistics():
    rng = np.random.default_rng(4)
    reps = rng.normal(70, 3, size=(1000, 40, 6))
    reps[:, 3, 2] = np.nan  # a street without the item
    reps[::7, 5, 1] = np.nan  # some replicates missing
    reps[:, 6, :] = 71.5  # no variation
    df = rng.uniform(1.0, 80.0, size=(40, 6))
    df[0] = np.inf
    for level in (0.95, 0.9, 0.5):
        got = expanded_interval(reps, df, level)
        want = _expanded_by_sorting(reps, df, level)
        for g, w in zip(got, want, strict=True):
            np.testing.assert_array_equal(g, w)


def test_float32_replicates_stay_below_the_json_decimals():
    """Single-precision totals move replicate scores by < 5e-5 points (JSON: 4 decimals)."""
    fw = load_default_framework()
    sim = simulate(fw, [f"S{i}" for i in range(12)], 150, seed=9, weight_cv=0.4)
    d = sim.data
    data = from_points(
        fw, d.streets, d.street, d.group, d.weight, d.points, d.dont_know, d.concerns,
        np.zeros(d.n, dtype=np.int64),
    )  # fmt: skip
    lay = cell_layout(data)
    J = len(fw.indicators)
    m = data.points > 0
    wm = data.weight[:, None] * m
    x = np.where(m, data.values, 0.0)
    f64 = np.concatenate([wm * x, wm], axis=1)[lay.order]
    shares = Weights.of(fw).shares
    worst = 0.0
    for t64, t32 in zip(
        replicate_cell_totals(f64, lay, 300, 11),
        replicate_cell_totals(f64.astype(np.float32), lay, 300, 11),
        strict=True,
    ):
        s64 = combine_groups(t64[..., :J], t64[..., J:], shares, axis=1)
        s32 = combine_groups(t32[..., :J], t32[..., J:], shares, axis=1).astype(np.float64)
        both = np.isfinite(s64)
        assert (both == np.isfinite(s32)).all()
        worst = max(worst, float(np.abs(s64 - s32)[both].max()))
    assert worst < 5e-5, worst


def test_rank_frontier_gives_the_all_pairs_maximum_bit_for_bit():
    from scoring.ranking import _max_t_all_pairs, _max_t_frontier

    rng = np.random.default_rng(3)
    for trial in range(12):
        n, B = int(rng.integers(2, 200)), int(rng.integers(50, 400))
        var = rng.gamma(2.0, 1.0, n)
        if trial % 3 == 0:
            var = np.round(var) + 1.0  # tied variances
        dev = rng.normal(0.0, 1.0, (B, n)) * np.sqrt(var)
        if trial % 2 == 0:
            dev = np.round(dev, 1)  # tied deviations
        dev = dev.astype(np.float32)
        sigma = np.sqrt(var[:, None] + var[None, :]).astype(np.float32)
        a = _max_t_all_pairs(dev, sigma)
        b = _max_t_frontier(dev, sigma, var)
        assert np.array_equal(a, b)


def test_cell_order_rows_give_the_same_sums_as_gathered_rows():
    from scoring.engine import subset
    from scoring.estimators import cell_sums

    fw = load_default_framework()
    sim = simulate(fw, [f"S{i}" for i in range(12)], 40, seed=5).data
    data = subset(sim, np.random.default_rng(1).permutation(sim.n))
    lay = cell_layout(data)
    assert not lay.contiguous
    sorted_data = subset(data, lay.order)
    lay_s = cell_layout(sorted_data)
    assert lay_s.contiguous
    a, b = cell_sums(data.values, lay), cell_sums(sorted_data.values, lay_s)
    assert np.array_equal(a, b, equal_nan=True)


def test_one_check_of_the_replicate_range():
    import pytest

    from scoring.engine import score
    from scoring.settings import BOOT_RANGE

    fw = load_default_framework()
    data = simulate(fw, ["A", "B"], 20, seed=1).data
    for boot in (BOOT_RANGE[0] - 1, BOOT_RANGE[1] + 1):
        with pytest.raises(
            ValueError, match=f"boot must be a whole number from 100 to 10000, not {boot}"
        ):
            score(fw, data, boot=boot)


def test_subset_gathers_every_row_array_the_way_indexing_does(monkeypatch):
    """``subset`` (np.take, two threads from SUBSET_THREADS_FROM rows) gives exactly
    what indexing gives, for index arrays and masks, with optional arrays kept None."""
    import dataclasses

    from scoring import engine
    from scoring.engine import subset

    fw = load_default_framework()
    sim = simulate(fw, [f"s{i}" for i in range(6)], 40, seed=3).data
    rng = np.random.default_rng(5)
    with_codes = dataclasses.replace(
        sim, age_band=rng.integers(0, 4, sim.n), gender=rng.integers(0, 2, sim.n)
    )
    order = rng.permutation(sim.n)
    mask = rng.random(sim.n) < 0.7
    for threads_from in (10**9, 1):  # one thread, then two
        monkeypatch.setattr(engine, "SUBSET_THREADS_FROM", threads_from)
        for data in (sim, with_codes):
            for keep in (order, mask):
                got = subset(data, keep)
                for field in dataclasses.fields(data):
                    a, b = getattr(data, field.name), getattr(got, field.name)
                    if isinstance(a, np.ndarray):
                        want = a[keep]
                        assert b.dtype == want.dtype and np.array_equal(b, want, equal_nan=True)
                        assert b.flags.c_contiguous
                    else:
                        assert b == a
