"""Table rows computed from scoring results, so templates do no arithmetic on missing values."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from scoring.result import DistrictResult, Estimate, StreetResult


def number(value: Any) -> float | None:
    """``value`` as a finite float, or ``None`` (JSON null, NaN, missing)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def difference(a: Any, b: Any) -> float | None:
    """``a - b`` when both are numbers, else ``None``."""
    x, y = number(a), number(b)
    return None if x is None or y is None else x - y


@dataclass(frozen=True, slots=True)
class ScoreRow:
    """One line of a score table: an estimate beside the district reference."""

    label: str
    score: float | None
    ci_low: float | None
    ci_high: float | None
    district: float | None
    gap: float | None
    satisfaction_rate: float | None
    n: int | None


class Scored(Protocol):
    """What a score table reads: an :class:`Estimate`, a street or the district."""

    @property
    def score(self) -> float | None: ...
    @property
    def ci_low(self) -> float | None: ...
    @property
    def ci_high(self) -> float | None: ...
    @property
    def n(self) -> int: ...


def score_row(label: str, est: Scored, ref: Scored | None) -> ScoreRow:
    """Build a row from a street estimate and the district estimate beside it."""
    ref_score = ref.score if ref is not None else None
    return ScoreRow(
        label=label,
        score=number(est.score),
        ci_low=number(est.ci_low),
        ci_high=number(est.ci_high),
        district=number(ref_score),
        gap=difference(est.score, ref_score),
        satisfaction_rate=number(est.satisfaction_rate) if isinstance(est, Estimate) else None,
        n=int(est.n) if isinstance(est.n, int | float) and not isinstance(est.n, bool) else None,
    )


def dimension_rows(
    street: StreetResult, district: DistrictResult, names: Mapping[str, str]
) -> list[ScoreRow]:
    """Rows for each dimension in ``names`` order, then the overall score."""
    dims = street.dimensions
    refs = district.dimensions
    rows = [
        score_row(name, dims[code], refs.get(code)) for code, name in names.items() if code in dims
    ]
    overall = score_row("综合得分", street, district)
    rows.append(
        ScoreRow(
            overall.label,
            overall.score,
            overall.ci_low,
            overall.ci_high,
            overall.district,
            overall.gap,
            None,
            overall.n,
        )
    )
    return rows
