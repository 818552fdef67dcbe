"""Table rows computed from score maps, so templates do no arithmetic on missing values."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


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


def score_row(label: str, est: Mapping[str, Any], ref: Mapping[str, Any] | None) -> ScoreRow:
    """Build a row from a street estimate and the district estimate (scores-JSON maps)."""
    ref = ref or {}
    n = est.get("n")
    return ScoreRow(
        label=label,
        score=number(est.get("score")),
        ci_low=number(est.get("ci_low")),
        ci_high=number(est.get("ci_high")),
        district=number(ref.get("score")),
        gap=difference(est.get("score"), ref.get("score")),
        satisfaction_rate=number(est.get("satisfaction_rate")),
        n=int(n) if isinstance(n, int | float) and not isinstance(n, bool) else None,
    )


def dimension_rows(
    street: Mapping[str, Any], district: Mapping[str, Any], names: Mapping[str, str]
) -> list[ScoreRow]:
    """Rows for each dimension in ``names`` order, then the overall score."""
    dims = street.get("dimensions", {})
    refs = district.get("dimensions", {})
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
