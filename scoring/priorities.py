"""Rectification items: importance x dissatisfaction among clearly weak indicators.

**Candidates.**  For each indicator j of a ranked street, the gap to the
district ``g_sj = S_sj − R_j`` has a standard error and Satterthwaite df from
:mod:`scoring.variance` (covariance with the reference included).  Its
one-sided p-value for "below the district" is ``F_t(g_sj / se_sj; ν_sj)``.  The
street's indicators are tested together with Benjamini-Hochberg at
``fdr`` (default 0.05), and a candidate must also fall at least ``min_gap``
points below the district (default 3, a bureau setting): a statistically clear
but negligible gap is not worth a rectification order.  There is no minimum
number of answers: a small street's interval is wide, so it becomes a candidate
only on a large gap, instead of escaping altogether.

**Importance.**  ``I_j`` is the *district-level* attention share (residents
naming j among their top-3 concerns, group-share weighted), one value per
indicator for every street; a street's own share from 30 respondents is too
noisy to rank its problems.  Without any concerns in the data, the fallback is
the district-wide weighted correlation of ``x_j`` with the overall answer
(clipped at 0).  ``I-S_sj = I_j × (1 − satisfaction rate_sj)``; the top ``k`` by
I-S (ties: framework order) become rectification items.

With 17 indicators tested one-sided at 2.5% each and no multiplicity control,
24-32% of streets got an item when no street differed; BH across the street's
indicators holds this to at most ``fdr`` (measured in the calibration suite).

References: Benjamini, Y. and Hochberg, Y. (1995), *JRSS B* 57, 289-300;
Martilla, J. A. and James, J. C. (1977), "Importance-performance analysis",
*J. Marketing* 41, 77-79.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import tdist as t_dist
from .dataset import FloatArray, ResponseData
from .funnel import bh_qvalues

__all__ = ["Priority", "overall_correlation", "select_priorities"]


@dataclass(frozen=True, slots=True)
class Priority:
    """One rectification candidate with the figures that selected it."""

    indicator: str
    score: float
    district_score: float
    gap: float
    importance: float
    satisfaction_rate: float
    importance_satisfaction: float


def overall_correlation(data: ResponseData) -> FloatArray:
    """Weighted Pearson correlation of each x_j with the overall answer (J,), ≥ 0."""
    J = data.values.shape[1]
    out = np.zeros(J)
    for j in range(J):
        ok = (data.points[:, j] > 0) & ~np.isnan(data.overall)
        if ok.sum() < 3:
            continue
        w, x, y = data.weight[ok], data.values[ok, j], data.overall[ok]
        mx, my = np.average(x, weights=w), np.average(y, weights=w)
        cov = np.average((x - mx) * (y - my), weights=w)
        vx, vy = np.average((x - mx) ** 2, weights=w), np.average((y - my) ** 2, weights=w)
        if vx > 0 and vy > 0:
            out[j] = max(cov / np.sqrt(vx * vy), 0.0)
    return out


def select_priorities(
    codes: tuple[str, ...],
    score: FloatArray,
    district: FloatArray,
    gap_se: FloatArray,
    df: FloatArray,
    importance: FloatArray,
    satisfaction: FloatArray,
    *,
    min_gap: float = 3.0,
    fdr: float = 0.05,
    top_k: int = 3,
) -> tuple[tuple[Priority, ...], FloatArray]:
    """Top ``top_k`` candidates of one street, most urgent first (all arrays (J,)).

    :returns: the priorities and the BH q-values of "below" per indicator
        (NaN where an indicator has no score).
    """
    gap = score - district
    ok = np.isfinite(gap) & np.isfinite(gap_se) & (gap_se > 0)
    p = np.full(gap.shape, np.nan)
    if ok.any():
        p[ok] = t_dist.cdf(gap[ok] / gap_se[ok], np.where(np.isfinite(df[ok]), df[ok], 1e6))
    q = bh_qvalues(p)
    found = []
    for j, code in enumerate(codes):
        if not ok[j] or not q[j] <= fdr or gap[j] > -min_gap:
            continue
        if not (np.isfinite(importance[j]) and np.isfinite(satisfaction[j])):
            continue
        i_s = float(importance[j] * (1.0 - satisfaction[j]))
        found.append(
            Priority(
                indicator=code,
                score=float(score[j]),
                district_score=float(district[j]),
                gap=float(gap[j]),
                importance=float(importance[j]),
                satisfaction_rate=float(satisfaction[j]),
                importance_satisfaction=i_s,
            )
        )
    found.sort(key=lambda pr: -pr.importance_satisfaction)
    return tuple(found[:top_k]), q
