"""The engine's threaded paths give the numbers of the one-step-after-another ones, bit for bit."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

from scoring import bootstrap
from scoring.bootstrap import (
    bootstrap_replicates,
    indicator_replicates,
    nan_mean,
    replicate_cell_totals,
    streetwise,
)
from scoring.engine import score
from scoring.estimators import Weights, cell_layout, combine_groups, composite
from scoring.framework import load_default_framework
from scoring.result import to_json
from scoring.simulate import simulate


def _data():  # type: ignore[no-untyped-def]
    """12 streets of 40-150 respondents; one street without units, one without anyone."""
    fw = load_default_framework()
    sizes = [150, 40, 90, 60, 120, 45, 80, 100, 55, 70, 65, 110]
    sim = simulate(fw, [f"S{i}" for i in range(12)], sizes, seed=5, weight_cv=0.4)
    d = sim.data
    keep = ~((d.street == 3) & (d.group == 2)) & (d.street != 7)
    from scoring.engine import subset

    return fw, subset(d, keep)


def _features(data):  # type: ignore[no-untyped-def]
    lay = cell_layout(data)
    m = data.points > 0
    wm = data.weight[:, None] * m
    f = np.concatenate([wm * np.where(m, data.values, 0.0), wm], axis=1)[lay.order]
    return f.astype(np.float32), lay


def _all_cells(f, lay, W, boot, seed):  # type: ignore[no-untyped-def]
    """The earlier route: every cell's totals of a chunk, then combination and composites."""
    J = f.shape[1] // 2
    parts: dict[str, list[np.ndarray]] = {k: [] for k in range(6)}  # type: ignore[misc]
    for tot in replicate_cell_totals(f, lay, boot, seed):
        ind = combine_groups(tot[..., :J], tot[..., J:], W.shares, axis=1)
        ind = ind.transpose(1, 0, 2).astype(np.float64)
        dim, ovr = composite(ind, W)
        use = np.ones(lay.n_streets, dtype=bool)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            district = [
                np.nanmean(a[:, use], axis=1) if np.isnan(a).any() else a[:, use].mean(axis=1)
                for a in (ind, dim, ovr)
            ]
        for k, a in enumerate((ind, dim, ovr, *district)):
            parts[k].append(a)
    return [np.concatenate(v, axis=0) for v in parts.values()]


@pytest.mark.parametrize("budget", [None, 20_000])
def test_streetwise_replicates_equal_the_all_cells_route(monkeypatch, budget) -> None:  # type: ignore[no-untyped-def]
    fw, data = _data()
    W = Weights.of(fw)
    assert streetwise(W.shares, raking=None, population=False)
    if budget is not None:  # several chunks of replicates
        monkeypatch.setattr(bootstrap, "_TOTALS_BUDGET", budget)
    f, lay = _features(data)
    want = _all_cells(f, lay, W, 300, 17)
    got = bootstrap_replicates(f, lay, W, 300, 17)
    for g, w in zip(
        (got.indicator, got.dimension, got.overall, got.district_indicator,
         got.district_dimension, got.district_overall),
        want,
        strict=True,
    ):  # fmt: skip
        assert g.shape == w.shape
        assert np.array_equal(g, w, equal_nan=True)
    assert np.isnan(got.indicator[:, 7]).all()  # the street without anyone
    # features made a street at a time by the workers: the same again
    rows = indicator_replicates(lambda r0, r1: f[r0:r1], lay, W.shares, 300, 17)
    assert np.array_equal(rows, got.indicator, equal_nan=True)


def test_streetwise_only_where_the_share_totals_agree() -> None:
    assert not streetwise(np.array([0.4, 0.4, 0.2]), raking=object(), population=False)
    assert not streetwise(np.array([0.4, 0.4, 0.2]), raking=None, population=True)
    pi = np.array([0.1, 0.2, 0.3], dtype=np.float32)  # 0.1 + (0.2 + 0.3) != (0.1 + 0.2) + 0.3
    agree = bool(pi.sum() == (pi[0] + pi[1]) + pi[2])
    assert streetwise(pi.astype(np.float64), raking=None, population=False) is agree


def test_nan_mean_is_numpys() -> None:
    rng = np.random.default_rng(2)
    a = rng.normal(60, 5, size=(500, 30))
    assert np.array_equal(nan_mean(a, axis=0), np.nanmean(a, axis=0))
    a[::3, 4] = np.nan
    a[:, 7] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = np.nanmean(a, axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning for the all-NaN column
        got = nan_mean(a, axis=0)
    assert np.array_equal(got, want, equal_nan=True)


def test_composite_halves_take_the_whole_arithmetic() -> None:
    fw = load_default_framework()
    W = Weights.of(fw)
    rng = np.random.default_rng(8)
    ind = rng.uniform(40, 95, size=(200, 9, len(W.indicator)))
    ind[150, 2, 3] = np.nan  # one NaN in the second half only
    dim, ovr = composite(ind, W)
    for b0, b1 in ((0, 100), (100, 200)):
        d, o = composite(ind[b0:b1], W, masked=True)
        assert np.array_equal(d, dim[b0:b1], equal_nan=True)
        assert np.array_equal(o, ovr[b0:b1], equal_nan=True)


@pytest.mark.parametrize("cores", [1, 3])
def test_engine_same_bytes_whatever_the_cores(monkeypatch, cores) -> None:  # type: ignore[no-untyped-def]
    fw, data = _data()
    want = to_json(score(fw, data, boot=200, seed=4))
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    assert to_json(score(fw, data, boot=200, seed=4)) == want


def test_rows_already_in_cell_order_are_not_copied_and_score_the_same() -> None:
    from dataclasses import replace

    fw, data = _data()
    lay = cell_layout(data)
    from scoring.engine import _prepare, subset

    ordered = subset(data, lay.order)  # sorted by street and group, C-ordered arrays
    prep = _prepare(ordered, None, None, None, None)
    assert prep.data is ordered  # no copy
    fortran = replace(ordered, points=np.asfortranarray(ordered.points))
    assert _prepare(fortran, None, None, None, None).data is not fortran
    assert to_json(score(fw, fortran, boot=150, seed=2)) == to_json(
        score(fw, ordered, boot=150, seed=2)
    )
