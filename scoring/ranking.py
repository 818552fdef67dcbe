"""Ranks, bootstrap rank intervals and bands against the district.

A street's rank in each bootstrap replicate (1 = best, among streets with a
score) gives a 95% rank interval from the replicate ranks' 2.5% and 97.5%
quantiles.  The band compares the street with the district in the *same*
replicates: ``above`` if the percentile CI of (street − district) lies above 0,
``below`` if it lies below 0, else ``similar``.

Reference: Goldstein, H. and Spiegelhalter, D. J. (1996), "League tables and
their limitations", *JRSS A* 159, 385-443; Hall, P. and Miller, H. (2009),
"Using the bootstrap to quantify the authority of an empirical ranking",
*Ann. Statist.* 37, 3929-3959.
"""

from __future__ import annotations

import numpy as np

from .dataset import FloatArray, IntArray

__all__ = ["BANDS", "band_of", "rank_intervals", "ranks"]

BANDS = ("above", "similar", "below")


def ranks(scores: FloatArray) -> IntArray:
    """Rank along the last axis, 1 = highest score; NaN scores get rank 0.

    Ties keep street order (stable sort).
    """
    key = np.where(np.isnan(scores), np.inf, -scores)
    order = np.argsort(key, axis=-1, kind="stable")
    out = np.empty(scores.shape, dtype=np.int64)
    pos = np.broadcast_to(np.arange(1, scores.shape[-1] + 1), scores.shape)
    np.put_along_axis(out, order, pos, axis=-1)
    out[np.isnan(scores)] = 0
    return out


def rank_intervals(replicates: FloatArray, level: float = 0.95) -> tuple[IntArray, IntArray]:
    """Rank interval per street from (B, S) replicate scores.

    Bounds are order statistics of the replicate ranks (``inverted_cdf``),
    so they are whole ranks.  Streets without a score get 0.
    """
    r = ranks(replicates).astype(np.float64)
    r[r == 0] = np.nan
    alpha = (1.0 - level) / 2.0
    low = np.zeros(r.shape[1], dtype=np.int64)
    high = np.zeros(r.shape[1], dtype=np.int64)
    for s in range(r.shape[1]):
        col = r[:, s][~np.isnan(r[:, s])]
        if col.size:
            q = np.quantile(col, [alpha, 1 - alpha], method="inverted_cdf")
            low[s], high[s] = int(q[0]), int(q[1])
    return low, high


def band_of(low: float, high: float) -> str | None:
    """Band from the CI of (street − district); None when the CI is missing."""
    if np.isnan(low) or np.isnan(high):
        return None
    if low > 0:
        return "above"
    if high < 0:
        return "below"
    return "similar"
