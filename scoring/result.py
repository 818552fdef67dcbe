"""Scoring results as frozen dataclasses, and their canonical JSON (docs/scores-json.md).

:func:`to_json` is byte-identical for equal results: keys sorted, floats
rounded to :data:`DECIMALS` places (``-0.0`` written as ``0.0``), NaN and
missing values written as ``null``, UTF-8 text kept as is.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .bootstrap import Replicates
from .priorities import Priority

__all__ = [
    "DECIMALS",
    "CellDesign",
    "DimensionReliability",
    "DistrictResult",
    "Estimate",
    "Reliability",
    "ScoreResult",
    "Shrunk",
    "SmallCell",
    "StreetResult",
    "reliability_dict",
    "to_dict",
    "to_json",
]

DECIMALS = 4


@dataclass(frozen=True, slots=True)
class Estimate:
    """One score with its interval and descriptive rates (None = no answers)."""

    score: float | None
    ci_low: float | None
    ci_high: float | None
    se: float | None
    n: int
    dk_rate: float | None
    satisfaction_rate: float | None
    attention: float | None = None
    district_gap: float | None = None
    gap_se: float | None = None
    gap_ci_low: float | None = None
    gap_ci_high: float | None = None
    q_below: float | None = None


@dataclass(frozen=True, slots=True)
class SmallCell:
    """A street x group cell with fewer than ``min_n`` respondents."""

    street: str
    group: str
    n: int


@dataclass(frozen=True, slots=True)
class CellDesign:
    """One street x group cell's weighting: n, effective n, Kish design effect."""

    group: str
    n: int
    n_eff: float | None
    deff: float | None


@dataclass(frozen=True, slots=True)
class Shrunk:
    """Fay-Herriot shrunken overall score and its estimated MSE."""

    score: float | None
    mse: float | None


@dataclass(frozen=True, slots=True)
class StreetResult:
    """Everything scored for one street.

    ``rank``, rank sets, ``band``, ``alert``, ``alarm``, ``z`` and ``fdr_q`` are
    None for a street that is not ranked (数据不全: ``complete`` False with
    ``incomplete_reason``; or no data).  ``gap`` = ``district_gap`` = score −
    district reference (points).
    """

    street: str
    n: int
    score: float | None
    ci_low: float | None
    ci_high: float | None
    se: float | None
    rank: int | None
    rank_low: int | None
    rank_high: int | None
    band: str | None
    district_gap: float | None
    dimensions: Mapping[str, Estimate]
    indicators: Mapping[str, Estimate]
    priorities: tuple[str, ...]
    priority_details: tuple[Priority, ...]
    shrunk: Shrunk
    complete: bool = True
    incomplete_reason: str | None = None
    coverage: float | None = None
    df: float | None = None
    gap: float | None = None
    gap_se: float | None = None
    z: float | None = None
    alert: str | None = None
    alarm: str | None = None
    fdr_q: float | None = None
    rank_low_sim: int | None = None
    rank_high_sim: int | None = None
    n_eff: float | None = None
    deff: float | None = None
    cells: tuple[CellDesign, ...] = ()


@dataclass(frozen=True, slots=True)
class DistrictResult:
    """The district reference (``population`` or ``street_mean``, see scoring.reference).

    Scores, intervals and SEs are the reference's; ``dk_rate``,
    ``satisfaction_rate`` and ``attention`` describe all respondents pooled.
    """

    score: float | None
    ci_low: float | None
    ci_high: float | None
    se: float | None
    n: int
    dimensions: Mapping[str, Estimate]
    indicators: Mapping[str, Estimate]
    reference: str = "street_mean"
    n_streets: int = 0


@dataclass(frozen=True, slots=True)
class DimensionReliability:
    """One dimension's internal consistency (docs/weighting.md, reliability).

    ``alpha`` (Cronbach) and ``item_rest`` (each item with the sum of the
    dimension's other items) are on the ``n`` respondents who answered every
    item of the dimension; None for a one-item dimension or too few answers.
    """

    dimension: str
    items: tuple[str, ...]
    n: int
    alpha: float | None
    item_rest: Mapping[str, float | None]


@dataclass(frozen=True, slots=True)
class Reliability:
    """Reliability of the composite for the scored responses (unweighted).

    ``eigenvalues`` of the items' (pairwise-complete) correlation matrix, largest
    first; ``parallel_95`` the 95th percentiles of random-data eigenvalues of the
    same size (Horn's parallel analysis, ``parallel_draws`` draws, ``parallel_n``
    respondents); ``factors_retained`` how many leading eigenvalues exceed them.
    ``composite_overall_r`` correlates each respondent's composite with their
    overall-satisfaction answer (``composite_overall_n`` respondents with both).
    """

    dimensions: tuple[DimensionReliability, ...]
    eigenvalues: tuple[float, ...]
    parallel_95: tuple[float, ...]
    parallel_n: int
    parallel_draws: int
    factors_retained: int
    first_factor_share: float | None
    composite_overall_r: float | None
    composite_overall_n: int
    weighted: bool = False


@dataclass(frozen=True, slots=True, eq=False)
class ScoreResult:
    """A scoring run: settings, district reference, streets, flagged cells.

    ``replicates`` keeps the bootstrap replicates and ``indicator_cov`` each
    street's (J, J) covariance matrix of its indicator scores (neither written
    to JSON) for wave-over-wave comparisons (:mod:`scoring.change`).  ``flagged_sensitivity``
    (written when present) compares the scores with and without the responses
    flagged by quality checks (:func:`scoring.quality.flagged_sensitivity`).
    """

    method: Mapping[str, Any]
    district: DistrictResult
    streets: tuple[StreetResult, ...]
    small_cells: tuple[SmallCell, ...]
    replicates: Replicates | None = field(default=None, repr=False)
    flagged_sensitivity: Mapping[str, Any] | None = None
    sensitivity: Mapping[str, Any] | None = None
    indicator_cov: Any = field(default=None, repr=False)
    reliability: Reliability | None = None


def _num(value: Any) -> Any:
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        r = round(value, DECIMALS)
        return 0.0 if r == 0 else r
    if isinstance(value, Mapping):
        return {str(k): _num(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_num(v) for v in value]
    return value


def _estimate(e: Estimate, indicator: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "score": e.score,
        "ci_low": e.ci_low,
        "ci_high": e.ci_high,
        "se": e.se,
        "n": e.n,
        "dk_rate": e.dk_rate,
        "satisfaction_rate": e.satisfaction_rate,
    }
    if indicator:
        out["attention"] = e.attention
    if e.district_gap is not None or indicator:
        out["district_gap"] = e.district_gap
    if e.gap_se is not None:
        out["gap_se"] = e.gap_se
        out["gap_ci_low"] = e.gap_ci_low
        out["gap_ci_high"] = e.gap_ci_high
        out["q_below"] = e.q_below
    return out


def reliability_dict(r: Reliability) -> dict[str, Any]:
    """Plain-data form of a :class:`Reliability` (the JSON key ``reliability``)."""
    return {
        "dimensions": {
            d.dimension: {
                "items": list(d.items),
                "n": d.n,
                "alpha": d.alpha,
                "item_rest": dict(d.item_rest),
            }
            for d in r.dimensions
        },
        "eigenvalues": list(r.eigenvalues),
        "parallel_95": list(r.parallel_95),
        "parallel_n": r.parallel_n,
        "parallel_draws": r.parallel_draws,
        "factors_retained": r.factors_retained,
        "first_factor_share": r.first_factor_share,
        "composite_overall_r": r.composite_overall_r,
        "composite_overall_n": r.composite_overall_n,
        "weighted": r.weighted,
    }


def to_dict(result: ScoreResult) -> dict[str, Any]:
    """Plain-data form of ``result`` (the JSON document before rounding)."""
    d = result.district
    district = {
        "score": d.score,
        "ci_low": d.ci_low,
        "ci_high": d.ci_high,
        "se": d.se,
        "n": d.n,
        "reference": d.reference,
        "n_streets": d.n_streets,
        "dimensions": {k: _estimate(v, False) for k, v in d.dimensions.items()},
        "indicators": {k: _estimate(v, True) for k, v in d.indicators.items()},
    }
    streets = []
    for s in result.streets:
        streets.append(
            {
                "street": s.street,
                "n": s.n,
                "score": s.score,
                "ci_low": s.ci_low,
                "ci_high": s.ci_high,
                "se": s.se,
                "rank": s.rank,
                "rank_low": s.rank_low,
                "rank_high": s.rank_high,
                "band": s.band,
                "district_gap": s.district_gap,
                "complete": s.complete,
                "incomplete_reason": s.incomplete_reason,
                "coverage": s.coverage,
                "df": s.df,
                "gap": s.gap,
                "gap_se": s.gap_se,
                "z": s.z,
                "alert": s.alert,
                "alarm": s.alarm,
                "fdr_q": s.fdr_q,
                "rank_low_sim": s.rank_low_sim,
                "rank_high_sim": s.rank_high_sim,
                "dimensions": {k: _estimate(v, False) for k, v in s.dimensions.items()},
                "indicators": {k: _estimate(v, True) for k, v in s.indicators.items()},
                "priorities": list(s.priorities),
                "priority_details": [
                    {
                        "indicator": p.indicator,
                        "score": p.score,
                        "district_score": p.district_score,
                        "gap": p.gap,
                        "importance": p.importance,
                        "satisfaction_rate": p.satisfaction_rate,
                        "importance_satisfaction": p.importance_satisfaction,
                    }
                    for p in s.priority_details
                ],
                "shrunk": {"score": s.shrunk.score, "mse": s.shrunk.mse},
                "n_eff": s.n_eff,
                "deff": s.deff,
                "cells": [
                    {"group": c.group, "n": c.n, "n_eff": c.n_eff, "deff": c.deff} for c in s.cells
                ],
            }
        )
    out: dict[str, Any] = {
        "method": dict(result.method),
        "district": district,
        "streets": streets,
        "small_cells": [
            {"street": c.street, "group": c.group, "n": c.n} for c in result.small_cells
        ],
    }
    if result.flagged_sensitivity is not None:
        out["flagged_sensitivity"] = dict(result.flagged_sensitivity)
    if result.sensitivity is not None:
        out["sensitivity"] = dict(result.sensitivity)
    if result.reliability is not None:
        out["reliability"] = reliability_dict(result.reliability)
    return out


def to_json(result: ScoreResult) -> str:
    """Canonical JSON text of ``result`` (docs/scores-json.md); same result → same bytes."""
    return json.dumps(_num(to_dict(result)), sort_keys=True, ensure_ascii=False, indent=2) + "\n"
