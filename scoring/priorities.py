"""Rectification priorities: importance x dissatisfaction among weak indicators.

Importance ``I_j`` is the attention share (residents naming j among their top-3
concerns); when the data hold no concerns at all, the fallback is the
district-wide weighted correlation of ``x_j`` with the overall answer (clipped
at 0).  ``I-S_sj = I_sj × (1 − satisfaction rate_sj)``.  Candidates are
indicators whose street score is significantly below the district (bootstrap
CI of S_sj − S_dj entirely below 0) answered by at least ``min_n`` residents;
the top ``k`` by I-S (ties: framework order) become rectification items.

Reference: Martilla, J. A. and James, J. C. (1977), "Importance-performance
analysis", *J. Marketing* 41, 77-79.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .dataset import FloatArray, IntArray, ResponseData

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
    gap_high: FloatArray,
    n: IntArray,
    importance: FloatArray,
    satisfaction: FloatArray,
    *,
    min_n: int,
    top_k: int,
) -> tuple[Priority, ...]:
    """Top ``top_k`` candidates of one street, most urgent first (all arrays (J,))."""
    found = []
    for j, code in enumerate(codes):
        values = (score[j], district[j], gap_high[j], importance[j], satisfaction[j])
        if not all(np.isfinite(v) for v in values) or n[j] < min_n or gap_high[j] >= 0:
            continue
        i_s = float(importance[j] * (1.0 - satisfaction[j]))
        found.append(
            Priority(
                indicator=code,
                score=float(score[j]),
                district_score=float(district[j]),
                gap=float(score[j] - district[j]),
                importance=float(importance[j]),
                satisfaction_rate=float(satisfaction[j]),
                importance_satisfaction=i_s,
            )
        )
    found.sort(key=lambda p: -p.importance_satisfaction)
    return tuple(found[:top_k])
