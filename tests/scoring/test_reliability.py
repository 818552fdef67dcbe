"""Composite reliability: reference values computed independently, and the scores JSON key.

The reference values below were computed with Python's ``statistics`` module
(``variance``, ``correlation``: no numpy) from the matrices written here.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from scoring import load_default_framework, simulate
from scoring.engine import score
from scoring.reliability import (
    _dimension,
    composite_reliability,
    cronbach_alpha,
    pairwise_correlation,
    parallel_threshold,
    reliability,
)
from scoring.result import reliability_dict, to_json

X = [[75, 50, 75], [100, 75, 100], [50, 50, 25], [25, 0, 50], [75, 100, 75], [50, 25, 50],
     [100, 100, 75]]  # fmt: skip
REF_ALPHA = 0.8744394618834079  # k/(k-1) (1 - Σ variance(item) / variance(total))
REF_ITEM_REST = [0.9366856707011575, 0.7570803997643296, 0.6786208925382962]
# pairwise complete: each pair on the 6 rows where both are given
Y = [[75, 50, None], [100, 75, 100], [50, None, 25], [25, 0, 50], [75, 100, 75], [None, 25, 50],
     [100, 100, 75], [50, 50, 50]]  # fmt: skip
REF_PAIRWISE = {(0, 1): 0.8460500199558134, (0, 2): 0.7872958216222169, (1, 2): 0.7}


def test_alpha_by_hand() -> None:
    x = np.array([[1.0, 2, 3], [2, 3, 4], [3, 4, 5], [4, 5, 7]])
    # item variances 1.6667, 1.6667, 2.9167 → 6.25; totals 6, 9, 12, 16 → var 18.25
    assert cronbach_alpha(x) == pytest.approx(1.5 * (1 - 6.25 / 18.25))
    assert np.isnan(cronbach_alpha(x[:, :1]))


def test_dimension_alpha_and_item_rest_equal_reference() -> None:
    block = np.array(X, dtype=float)
    # a respondent missing one item is left out of the dimension (listwise)
    block = np.vstack([block, [np.nan, 50, 50]])
    d = _dimension("D1", ["I01", "I02", "I03"], block)
    assert d.n == 7
    assert d.alpha == pytest.approx(REF_ALPHA, abs=1e-12)
    assert cronbach_alpha(np.array(X, dtype=float)) == pytest.approx(REF_ALPHA, abs=1e-12)
    for code, ref in zip(("I01", "I02", "I03"), REF_ITEM_REST, strict=True):
        assert d.item_rest[code] == pytest.approx(ref, abs=1e-12)
    one = _dimension("D9", ["I09"], block[:, :1])
    assert one.alpha is None and one.item_rest == {"I09": None}


def test_pairwise_correlation_equals_reference() -> None:
    y = np.array([[np.nan if v is None else v for v in row] for row in Y], dtype=float)
    r = pairwise_correlation(y)
    for (a, b), ref in REF_PAIRWISE.items():
        assert r[a, b] == pytest.approx(ref, abs=1e-12)
        assert r[b, a] == pytest.approx(ref, abs=1e-12)
    assert np.allclose(np.diag(r), 1)
    # chunked sums give the same matrix
    import scoring.reliability as rel

    old, rel.CHUNK = rel.CHUNK, 3
    try:
        assert np.allclose(pairwise_correlation(y), r, atol=1e-12)
    finally:
        rel.CHUNK = old


def test_parallel_threshold_matches_simulated_normal_data() -> None:
    # Horn's parallel analysis by brute force: eigenvalues of corrcoef of n x J normals
    n, J, draws = 60, 5, 4000
    rng = np.random.default_rng(5)
    eig = np.empty((draws, J))
    for t in range(draws):
        z = rng.standard_normal((n, J))
        eig[t] = np.sort(np.linalg.eigvalsh(np.corrcoef(z, rowvar=False)))[::-1]
    brute = np.percentile(eig, 95, axis=0)
    fast = parallel_threshold(n, J, draws=draws, seed=9)
    assert np.allclose(fast, brute, rtol=0.03)
    assert fast[0] > 1 > fast[-1]


def test_simulated_wave_is_one_factor_and_consistent() -> None:
    fw = load_default_framework()
    sim = simulate(fw, [f"S{i}" for i in range(10)], 200, seed=2)
    out = reliability(fw, sim.data, draws=200)
    # the simulation's respondent effect makes every item load on one factor
    assert out["factors_retained"] == 1
    assert out["eigenvalues"][0] > out["parallel_95"][0]
    for d in out["dimensions"].values():
        assert 0.3 < d["alpha"] < 0.95
        assert all(0 < r < 1 for r in d["item_rest"].values())
    assert out["composite_overall_r"] > 0.3


def test_scores_json_carries_reliability() -> None:
    fw = load_default_framework()
    sim = simulate(fw, [f"S{i}" for i in range(4)], 60, seed=3)
    res = score(fw, sim.data, boot=100, seed=1)
    assert res.reliability is not None
    doc = json.loads(to_json(res))
    rel = doc["reliability"]
    expect = json.loads(json.dumps(reliability_dict(composite_reliability(fw, sim.data))))
    assert rel["factors_retained"] == expect["factors_retained"]
    assert rel["dimensions"]["D1"]["alpha"] == pytest.approx(
        expect["dimensions"]["D1"]["alpha"], abs=1e-4
    )
    assert rel["parallel_draws"] == 1000 and rel["weighted"] is False
    assert len(rel["eigenvalues"]) == len(fw.indicators)
    # α of the first dimension by the textbook formula on the complete rows
    x = np.where(sim.data.points > 0, sim.data.values, np.nan)[:, :3]
    x = x[np.isfinite(x).all(axis=1)]
    assert rel["dimensions"]["D1"]["alpha"] == pytest.approx(cronbach_alpha(x), abs=1e-4)
