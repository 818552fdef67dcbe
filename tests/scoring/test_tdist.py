"""scoring.tdist gives scipy.stats.t's numbers without importing scipy.stats."""

from __future__ import annotations

import numpy as np
from scipy import stats

from scoring import tdist


def test_same_numbers_as_scipy_stats():
    rng = np.random.default_rng(3)
    df = np.concatenate([rng.uniform(0.3, 60, 2000), [1.0, 2.0, 1e6, 0.0, -1.0, np.nan]])
    q = rng.uniform(0.0, 1.0, df.size)
    q[:3] = [0.0, 1.0, 0.975]
    x = rng.normal(0, 4, df.size)
    x[:2] = [np.inf, -np.inf]
    np.testing.assert_array_equal(tdist.ppf(q, df), stats.t.ppf(q, df))
    np.testing.assert_array_equal(tdist.cdf(x, df), stats.t.cdf(x, df))
    assert tdist.ppf(0.975, 10.0) == stats.t.ppf(0.975, 10.0)
