"""Read a street's verdict from a scoring result: gap, its SE, completeness, funnel data.

Runs stored before the funnel keys existed lack ``gap``, ``gap_se``, ``complete``,
``district.reference`` and ``method.band_rule`` (they read back as ``None`` or the
field's default, see :func:`scoring.result.from_dict`); each reader here falls back
to what such a run does hold (the score, the CI) and says so in its docstring.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TypeVar, cast

from reports import wording
from reports.models import FunnelPoint
from reports.tables import number
from scoring.result import DistrictResult, ScoreResult, StreetResult

T = TypeVar("T")
Z95 = 1.959963984540054
# share of streets flagged by chance per band rule when every street equals the district
_CHANCE = {"alarm": 0.002, "alert": 0.05}


def complete(row: StreetResult) -> bool:
    """Whether a street's result is complete (older runs: always)."""
    return row.complete is not False


def incomplete_reason(row: StreetResult) -> str:
    """Why a street is 数据不全 (empty for a complete street)."""
    if complete(row):
        return ""
    return str(row.incomplete_reason or "数据不全")


def gap(row: StreetResult, district: DistrictResult) -> float | None:
    """Street minus district score in points (``gap``; older runs: the difference)."""
    value = number(row.gap)
    if value is not None:
        return value
    own, ref = number(row.score), number(district.score)
    return None if own is None or ref is None else own - ref


def gap_se(row: StreetResult) -> float | None:
    """Standard error of the gap (``gap_se``; older runs: the street's SE, or CI/3.92)."""
    for candidate in (row.gap_se, row.se):
        value = number(candidate)
        if value is not None and value > 0:
            return value
    low, high = number(row.ci_low), number(row.ci_high)
    if low is None or high is None or high <= low:
        return None
    return (high - low) / (2 * Z95)


def overdispersion_tau(scores: ScoreResult) -> float:
    """Between-street SD (points) to widen the funnel limits with, 0 when not applied.

    Read from ``method.funnel`` (``tau2`` when ``overdispersion`` is true), else
    from an older run's ``method.overdispersion``: a number (tau), or a mapping
    with ``tau`` or ``tau2`` and an optional ``applied`` flag.
    """
    info = scores.info
    if info.funnel is not None:
        tau2 = number(info.funnel.tau2)
        if not info.funnel.overdispersion or tau2 is None or tau2 <= 0:
            return 0.0
        return math.sqrt(tau2)
    value = info.raw.get("overdispersion")
    if isinstance(value, Mapping):
        if value.get("applied") is False:
            return 0.0
        tau = number(value.get("tau"))
        if tau is None:
            tau2 = number(value.get("tau2"))
            tau = math.sqrt(tau2) if tau2 is not None and tau2 > 0 else None
        return tau if tau is not None and tau > 0 else 0.0
    tau = number(value)
    return tau if tau is not None and tau > 0 else 0.0


def band_rule(scores: ScoreResult) -> str | None:
    """The rule that chose ``band`` (alarm / fdr / alert); ``None`` for older runs."""
    return scores.info.band_rule


def band_rule_words(scores: ScoreResult) -> str:
    """What a street must show to be judged 高于 / 低于, in words (:mod:`reports.wording`)."""
    return wording.band_rule_words(band_rule(scores))


def expected_false_flags(scores: ScoreResult) -> float | None:
    """Streets expected to be banded by chance alone if all equalled the district.

    ``method.expected_false_flags`` when the run states it; else the band rule's
    per-street rate times the number of complete streets (older runs: 5%).
    ``None`` when it cannot be told (FDR without the run's figure).
    """
    stated = number(scores.info.expected_false_flags)
    if stated is not None:
        return stated
    rule = band_rule(scores) or "alert"
    rate = _CHANCE.get(rule)
    if rate is None:
        return None
    return rate * sum(1 for s in scores.streets if complete(s))


def plotted_se(row: StreetResult, g: float, se: float, tau: float) -> float:
    """The SE that puts a street on the funnel where its verdict says it is.

    The run judges ``z`` (normal-equivalent of a t statistic with the street's
    degrees of freedom, limits widened by ``tau``); the plot draws normal limits
    ``z_a * sqrt(se**2 + tau**2)``.  For a street with ``|z| >= 1`` the SE is
    taken as ``sqrt((g / z)**2 - tau**2)``, so that a point is outside a plotted
    limit exactly when the run flagged it; near the centre line the gap's own SE.
    """
    z = number(row.z)
    if z is None or abs(z) < 1.0:
        return se
    effective = (g / z) ** 2 - tau**2
    return math.sqrt(effective) if effective > 0 else se


_MEMO: dict[tuple[int, str], tuple[ScoreResult, object]] = {}


def per_result(scores: ScoreResult, name: str, compute: Callable[[ScoreResult], T]) -> T:
    """``compute(scores)``, computed once per result object and ``name`` (the last few kept).

    A wave's notices are built from one parsed result, and each of them used to
    derive the same district-wide things again (every street's funnel point:
    300 x 300 for a 300-street wave).  Results are immutable; the entry holds
    the result itself, so its ``id`` is never reused while the entry lives.
    """
    key = (id(scores), name)
    found = _MEMO.get(key)
    if found is not None and found[0] is scores:
        return cast(T, found[1])
    value = compute(scores)
    if len(_MEMO) >= 8:
        _MEMO.pop(next(iter(_MEMO)))
    _MEMO[key] = (scores, value)
    return value


def funnel_points(scores: ScoreResult, highlight: str | None = None) -> tuple[FunnelPoint, ...]:
    """One funnel point per complete street with a gap and an SE (``highlight``: one street)."""
    plain = per_result(scores, "funnel_points", _funnel_points)
    if highlight is None:
        return plain
    return tuple(replace(p, highlight=True) if p.label == highlight else p for p in plain)


def _funnel_points(scores: ScoreResult) -> tuple[FunnelPoint, ...]:
    tau = overdispersion_tau(scores)
    out = []
    for row in scores.streets:
        if not complete(row):
            continue
        g, se = gap(row, scores.district), gap_se(row)
        if g is None or se is None:
            continue
        se = plotted_se(row, g, se, tau)
        out.append(
            FunnelPoint(
                label=row.street,
                gap=g,
                se=se,
                band=row.band or "",
            )
        )
    return tuple(out)


def incomplete_streets(streets: Sequence[StreetResult]) -> list[tuple[str, str]]:
    """(street, reason) of every 数据不全 street, in the given order."""
    return [(s.street, incomplete_reason(s)) for s in streets if not complete(s)]
