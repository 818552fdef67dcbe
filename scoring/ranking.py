"""Ranks and rank confidence sets from pairwise differences (csranks).

Only ranked streets (complete, with a score) take part.  The rank of street s
is ``1 + #{t: θ_t > θ_s}``.  Following Mogstad, Romano, Shaikh and Wilhelm
(2024), a rank confidence set follows from confidence intervals for the
pairwise differences ``Δ_ts = θ_t − θ_s``:

    rank_low_s  = 1 + #{t: Δ_ts is significantly > 0},
    rank_high_s = I − #{t: Δ_ts is significantly < 0},

with ``Δ̂_ts ± c σ_ts``, ``σ_ts² = V_s + V_t`` (streets are independent samples;
``V`` from :mod:`scoring.variance`), and the critical value ``c`` from the
bootstrap distribution of ``max |(Δ*_ts − Δ̂_ts)| / σ_ts`` (the replicate
deviations of :mod:`scoring.bootstrap`):

* **marginal** (``rank_low``/``rank_high``): for each street separately, the
  max over t ≠ s, so that street's interval holds with 95% probability;
* **simultaneous** (``rank_low_sim``/``rank_high_sim``): the max over all pairs,
  so that all streets' intervals hold together with 95% probability (what a
  league table of all streets needs).

Both contain the point rank.  Quantiles of bootstrap ranks (the earlier rule)
missed the named top or bottom street's true rank 14-19% of the time when
streets were close; these sets do not rely on the ranks' bootstrap
distribution.

References: Mogstad, M., Romano, J. P., Shaikh, A. M. and Wilhelm, D. (2024),
"Inference for ranks with applications to mobility across neighbourhoods and
academic achievement across countries", *Rev. Econ. Stud.* 91, 476-518 (R
package ``csranks``); Goldstein, H. and Spiegelhalter, D. J. (1996), "League
tables and their limitations", *JRSS A* 159, 385-443.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .dataset import BoolArray, FloatArray, IntArray

__all__ = ["RankSets", "rank_sets", "ranks"]

F32 = npt.NDArray[np.float32]
_PAIR_BUDGET = 4_000_000  # replicate x pair entries held at once


@dataclass(frozen=True, slots=True, eq=False)
class RankSets:
    """Point ranks and rank sets (0 where a street is not ranked)."""

    rank: IntArray
    low: IntArray
    high: IntArray
    low_sim: IntArray
    high_sim: IntArray
    critical: FloatArray  # marginal critical value per street (NaN if not ranked)
    critical_sim: float


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


def _max_t_all_pairs(dev: F32, sigma: F32) -> F32:
    """``max_t |d_bs − d_bt| / σ_st`` for every replicate b and street s, over all pairs."""
    B, n = dev.shape
    per = np.empty((B, n), dtype=np.float32)
    step = max(1, _PAIR_BUDGET // (n * n))

    def run(b0: int) -> None:
        d = dev[b0 : b0 + step]
        t = np.abs(d[:, :, None] - d[:, None, :])
        t /= sigma[None]
        t.max(axis=2, out=per[b0 : b0 + step])

    workers = min(os.cpu_count() or 1, 4)
    if workers > 1 and B > step:  # NumPy releases the GIL: replicates in parallel
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(run, range(0, B, step)))
    else:
        for b0 in range(0, B, step):
            run(b0)
    return per


def _frontier(dev: F32, var: FloatArray) -> tuple[IntArray, IntArray]:
    """Per replicate, the streets not dominated in (deviation up, variance down), and a few more.

    Street s dominates t when ``dev[b, s] ≥ dev[b, t]`` and ``V_s ≤ V_t``.  In
    ascending variance (one order for every replicate), row b keeps each
    street whose deviation is at least that of every street before it: every
    undominated street is kept (all streets before it have no larger variance,
    so a smaller deviation), and a street kept besides (a tie) changes no
    maximum.  Rows are padded with the street of least variance, which every
    row keeps (a repeat changes no maximum).  Returns the (B, P) street indices
    and each row's count.
    """
    B, n = dev.shape
    order = np.argsort(var, kind="stable")
    dv = dev[:, order]
    prev = np.empty_like(dv)
    prev[:, 0] = -np.inf
    np.maximum.accumulate(dv[:, :-1], axis=1, out=prev[:, 1:])
    keep = dv >= prev
    slot = np.cumsum(keep, axis=1) - 1
    count = slot[:, -1] + 1
    cand = np.full((B, int(count.max())), order[0], dtype=order.dtype)
    rows = np.broadcast_to(np.arange(B)[:, None], keep.shape)
    cand[rows[keep], slot[keep]] = np.broadcast_to(order, keep.shape)[keep]
    return cand, count


def _max_t_frontier(dev: F32, sigma: F32, var: FloatArray) -> F32:
    """:func:`_max_t_all_pairs` without visiting every pair: bit-identical, much faster.

    ``(d_t − d_s) / σ_st`` with ``σ_st² = V_s + V_t`` is, where positive,
    increasing in d_t and decreasing in V_t (and rounding keeps both
    monotone), so its maximum over t is reached on the streets that no other
    street beats in both (the replicate's Pareto frontier, a dozen streets of
    300); the same for ``d_s − d_t`` on the downward frontier.  The pair t = s
    gives 0, so the maximum is at least 0.  Requires every V > 0.
    """
    B, n = dev.shape
    up, _ = _frontier(dev, var)
    down, _ = _frontier(-dev, var)
    per = np.zeros((n, B), dtype=np.float32)
    step = max(1, _PAIR_BUDGET // (n * max(up.shape[1], down.shape[1])))
    for b0 in range(0, B, step):
        d = dev[b0 : b0 + step]
        ds = np.ascontiguousarray(d.T)[:, None, :]  # (n, 1, b): d_s
        out = per[:, b0 : b0 + step]
        for cand, sign in ((up[b0 : b0 + step], 1), (down[b0 : b0 + step], -1)):
            # candidates on the middle axis: the maximum is taken row against row
            dt = np.ascontiguousarray(np.take_along_axis(d, cand, axis=1).T)[None]  # (1, P, b)
            t = dt - ds if sign > 0 else ds - dt
            t /= np.take(sigma, cand.T, axis=1)  # σ_st, (n, P, b)
            np.maximum(out, t.max(axis=1), out=out)
    return np.ascontiguousarray(per.T)


def rank_sets(
    point: FloatArray,
    replicates: FloatArray,
    variance: FloatArray,
    ranked: BoolArray,
    level: float = 0.95,
) -> RankSets:
    """Point ranks, marginal and simultaneous rank sets of the ranked streets.

    :param point: (S,) scores; :param replicates: (B, S) bootstrap replicates;
    :param variance: (S,) variances of the scores; :param ranked: (S,) mask.
    """
    S = point.shape[0]
    idx = np.flatnonzero(ranked & np.isfinite(point))
    zeros = np.zeros(S, dtype=np.int64)
    rank, low, high, low_s, high_s = (zeros.copy() for _ in range(5))
    crit = np.full(S, np.nan)
    n = idx.size
    if n == 0:
        return RankSets(rank, low, high, low_s, high_s, crit, float("nan"))
    th = point[idx]
    rank[idx] = ranks(th)
    if n == 1:
        for arr in (low, high, low_s, high_s):
            arr[idx] = 1
        crit[idx] = 0.0
        return RankSets(rank, low, high, low_s, high_s, crit, 0.0)
    v = variance[idx]
    sigma = np.sqrt(v[:, None] + v[None, :]).astype(np.float32)
    sigma[sigma <= 0] = np.float32(np.inf)
    dev = np.nan_to_num(replicates[:, idx] - th[None, :]).astype(np.float32)
    if np.all(np.isfinite(v) & (v > 0)):
        per = _max_t_frontier(dev, sigma, v)
    else:
        per = _max_t_all_pairs(dev, sigma)
    c_marg = np.quantile(per, level, axis=0).astype(np.float64)
    c_sim = float(np.quantile(per.max(axis=1), level))
    diff = th[None, :] - th[:, None]  # diff[s, t] = θ_t − θ_s
    sig = sigma.astype(np.float64)

    def bounds(c: FloatArray) -> tuple[IntArray, IntArray]:
        better = (diff - c[:, None] * sig > 0).sum(axis=1)
        worse = (diff + c[:, None] * sig < 0).sum(axis=1)
        return 1 + better, n - worse

    lo, hi = bounds(c_marg)
    lo_s, hi_s = bounds(np.full(n, c_sim))
    low[idx], high[idx], low_s[idx], high_s[idx] = lo, hi, lo_s, hi_s
    crit[idx] = c_marg
    return RankSets(rank, low, high, low_s, high_s, crit, c_sim)
