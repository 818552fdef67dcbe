"""Scoring results as frozen dataclasses, and their canonical JSON (DESIGN.md §5).

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
    "DistrictResult",
    "Estimate",
    "ScoreResult",
    "Shrunk",
    "SmallCell",
    "StreetResult",
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
    gap_ci_low: float | None = None
    gap_ci_high: float | None = None


@dataclass(frozen=True, slots=True)
class SmallCell:
    """A street x group cell with fewer than ``min_n`` respondents."""

    street: str
    group: str
    n: int


@dataclass(frozen=True, slots=True)
class Shrunk:
    """Fay-Herriot shrunken overall score and its estimated MSE."""

    score: float | None
    mse: float | None


@dataclass(frozen=True, slots=True)
class StreetResult:
    """Everything scored for one street; ``rank``/``band`` None without data."""

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


@dataclass(frozen=True, slots=True)
class DistrictResult:
    """The district reference: the same estimators over all respondents."""

    score: float | None
    ci_low: float | None
    ci_high: float | None
    se: float | None
    n: int
    dimensions: Mapping[str, Estimate]
    indicators: Mapping[str, Estimate]


@dataclass(frozen=True, slots=True, eq=False)
class ScoreResult:
    """A scoring run: settings, district reference, streets, flagged cells.

    ``replicates`` keeps the bootstrap replicates (not written to JSON) for
    wave-over-wave comparisons (:mod:`scoring.change`).
    """

    method: Mapping[str, Any]
    district: DistrictResult
    streets: tuple[StreetResult, ...]
    small_cells: tuple[SmallCell, ...]
    replicates: Replicates | None = field(default=None, repr=False)


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
    return out


def to_dict(result: ScoreResult) -> dict[str, Any]:
    """Plain-data form of ``result`` (the JSON document before rounding)."""
    d = result.district
    district = {
        "score": d.score,
        "ci_low": d.ci_low,
        "ci_high": d.ci_high,
        "se": d.se,
        "n": d.n,
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
            }
        )
    return {
        "method": dict(result.method),
        "district": district,
        "streets": streets,
        "small_cells": [
            {"street": c.street, "group": c.group, "n": c.n} for c in result.small_cells
        ],
    }


def to_json(result: ScoreResult) -> str:
    """Canonical JSON text of ``result`` (DESIGN.md §5); same result → same bytes."""
    return json.dumps(_num(to_dict(result)), sort_keys=True, ensure_ascii=False, indent=2) + "\n"
