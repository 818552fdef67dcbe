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
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import orjson

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
    "FlaggedSensitivity",
    "FunnelSettings",
    "FlaggedStreet",
    "MethodInfo",
    "RankSensitivity",
    "SensitivityStreet",
    "from_dict",
    "from_json",
    "reliability_dict",
    "document_json",
    "to_dict",
    "to_document",
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

    @property
    def info(self) -> MethodInfo:
        """``method`` as a typed record."""
        return MethodInfo.of(self.method)

    @property
    def rank_sensitivity(self) -> RankSensitivity | None:
        """``sensitivity`` as a typed record (None when the run has none)."""
        return RankSensitivity.of(self.sensitivity) if self.sensitivity is not None else None

    @property
    def flagged(self) -> FlaggedSensitivity | None:
        """``flagged_sensitivity`` as a typed record (None when the run has none)."""
        if self.flagged_sensitivity is None:
            return None
        return FlaggedSensitivity.of(self.flagged_sensitivity)

    def street(self, name: str) -> StreetResult | None:
        """The result of street ``name`` (None when it was not scored)."""
        return next((s for s in self.streets if s.street == name), None)


@dataclass(frozen=True, slots=True)
class FunnelSettings:
    """``method.funnel``: the funnel limits and the overdispersion adjustment."""

    alert_z: float | None = None
    alarm_z: float | None = None
    fdr_level: float | None = None
    phi: float | None = None
    tau2: float | None = None
    overdispersion: bool = False


@dataclass(frozen=True, slots=True)
class MethodInfo:
    """Typed view of ``method`` (docs/scores-json.md); keys a run lacks read as None.

    ``raw`` is the whole mapping (it also holds undocumented, per-weighting entries).
    """

    raw: Mapping[str, Any]
    boot: int | None
    seed: int | None
    level: float | None
    min_n: int
    top_k: int | None
    band_rule: str | None
    expected_false_flags: float | None
    district_reference: str | None
    funnel: FunnelSettings | None
    rank_interval: str | None
    rank_critical_sim: float | None
    n_responses: int | None
    n_excluded: int | None
    data_sha256: str | None
    n_streets_ranked: int | None
    n_streets_incomplete: int | None
    weighting: Mapping[str, Any]
    framework: Mapping[str, Any]

    @classmethod
    def of(cls, method: Mapping[str, Any]) -> MethodInfo:
        """Read the method record of a scores JSON (any age)."""
        funnel = method.get("funnel")
        fw = method.get("framework")
        return cls(
            raw=method,
            boot=method.get("boot"),
            seed=method.get("seed"),
            level=method.get("level"),
            min_n=int(method.get("min_n", 30)),
            top_k=method.get("top_k"),
            band_rule=method.get("band_rule") or None,
            expected_false_flags=method.get("expected_false_flags"),
            district_reference=method.get("district_reference"),
            funnel=(
                FunnelSettings(
                    alert_z=funnel.get("alert_z"),
                    alarm_z=funnel.get("alarm_z"),
                    fdr_level=funnel.get("fdr_level"),
                    phi=funnel.get("phi"),
                    tau2=funnel.get("tau2"),
                    overdispersion=bool(funnel.get("overdispersion")),
                )
                if isinstance(funnel, Mapping)
                else None
            ),
            rank_interval=method.get("rank_interval"),
            rank_critical_sim=method.get("rank_critical_sim"),
            n_responses=method.get("n_responses"),
            n_excluded=method.get("n_excluded"),
            data_sha256=method.get("data_sha256"),
            n_streets_ranked=method.get("n_streets_ranked"),
            n_streets_incomplete=method.get("n_streets_incomplete"),
            weighting=method.get("weighting") or {},
            framework=fw if isinstance(fw, Mapping) else {},
        )


@dataclass(frozen=True, slots=True)
class SensitivityStreet:
    """One street's ranks under alternative weighting schemes (``sensitivity.streets``).

    ``ranks`` maps a scheme to the street's rank; ``perturbed_low``/``_high`` are
    the 5th-95th percentile ranks under random perturbation; ``rank_min``/``rank_max``
    span everything.  All None/empty for a street that is not ranked.
    """

    street: str
    rank: int | None
    ranks: Mapping[str, int] = field(default_factory=dict)
    perturbed_low: int | None = None
    perturbed_high: int | None = None
    rank_min: int | None = None
    rank_max: int | None = None

    @property
    def moves(self) -> bool:
        """Whether the street's rank changes under some scheme."""
        return (
            self.rank_min is not None
            and self.rank_max is not None
            and self.rank_max > self.rank_min
        )


@dataclass(frozen=True, slots=True)
class RankSensitivity:
    """Typed view of ``sensitivity`` (:func:`scoring.sensitivity.rank_sensitivity`)."""

    schemes: Mapping[str, bool]  # scheme -> data-driven
    streets: tuple[SensitivityStreet, ...]
    streets_moving: int
    draws: int | None
    entropy_weights: tuple[float, ...] | None = None

    @classmethod
    def of(cls, doc: Mapping[str, Any]) -> RankSensitivity:
        """Read a ``sensitivity`` mapping."""
        streets = tuple(
            SensitivityStreet(
                street=s["street"],
                rank=s.get("rank"),
                ranks=dict(s.get("ranks") or {}),
                perturbed_low=s.get("perturbed_low"),
                perturbed_high=s.get("perturbed_high"),
                rank_min=s.get("rank_min"),
                rank_max=s.get("rank_max"),
            )
            for s in doc.get("streets") or ()
        )
        return cls(
            schemes={k: bool(v.get("data_driven")) for k, v in (doc.get("schemes") or {}).items()},
            streets=streets,
            streets_moving=int(doc.get("streets_moving", sum(s.moves for s in streets))),
            draws=(doc.get("perturbation") or {}).get("draws"),
            entropy_weights=(
                tuple(float(w) for w in doc["entropy_weights"])
                if doc.get("entropy_weights")
                else None
            ),
        )

    def street(self, name: str) -> SensitivityStreet | None:
        """The row of street ``name`` (None when absent)."""
        return next((s for s in self.streets if s.street == name), None)


@dataclass(frozen=True, slots=True)
class FlaggedStreet:
    """One street with and without the quality-flagged responses."""

    street: str
    score_with: float | None
    score_without: float | None
    change: float | None
    rank_with: int | None
    rank_without: int | None
    band_with: str | None
    band_without: str | None


@dataclass(frozen=True, slots=True)
class FlaggedSensitivity:
    """Typed view of ``flagged_sensitivity`` (:func:`scoring.quality.flagged_sensitivity`)."""

    n_flagged: int
    ranks_moved: int
    bands_moved: int
    max_abs_change: float | None
    district_with: float | None
    district_without: float | None
    streets: tuple[FlaggedStreet, ...]

    @classmethod
    def of(cls, doc: Mapping[str, Any]) -> FlaggedSensitivity:
        """Read a ``flagged_sensitivity`` mapping."""
        return cls(
            n_flagged=int(doc.get("n_flagged", 0)),
            ranks_moved=int(doc.get("ranks_moved", 0)),
            bands_moved=int(doc.get("bands_moved", 0)),
            max_abs_change=doc.get("max_abs_change"),
            district_with=doc.get("district_with"),
            district_without=doc.get("district_without"),
            streets=tuple(
                FlaggedStreet(
                    street=s["street"],
                    score_with=s.get("score_with"),
                    score_without=s.get("score_without"),
                    change=s.get("change"),
                    rank_with=s.get("rank_with"),
                    rank_without=s.get("rank_without"),
                    band_with=s.get("band_with"),
                    band_without=s.get("band_without"),
                )
                for s in doc.get("streets") or ()
            ),
        )


def _num(value: Any) -> Any:
    """``value`` with every float rounded to ``DECIMALS`` (non-finite: None, -0.0: 0.0).

    Exact built-in types are dispatched first (an ``isinstance`` check against
    ``Mapping`` is slow, and a scores document holds some 100,000 values); the
    general checks below give the same answers for everything else.
    """
    kind = type(value)
    if kind is float:
        return _round(value)
    if kind is dict:
        return {str(k): _num(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_round(v) if type(v) is float else _num(v) for v in value]
    if kind is int or kind is str or kind is bool or value is None:
        return value
    if isinstance(value, float):
        return _round(value)
    if isinstance(value, Mapping):
        return {str(k): _num(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_num(v) for v in value]
    return value


def _round(value: float) -> float | None:
    if not math.isfinite(value):
        return None
    r = round(value, DECIMALS)
    return 0.0 if r == 0 else r


def _same(value: Any) -> Any:
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
    return _plain(result, _same)


def _plain(result: ScoreResult, deep: Any) -> dict[str, Any]:
    """:func:`to_dict` with ``deep`` applied to the parts besides the streets and the
    district (:func:`_same`, or :func:`_num` for the document, whose figures
    :func:`to_document` then rounds all at once)."""
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
        "method": deep(dict(result.method)),
        "district": district,
        "streets": streets,
        "small_cells": [
            {"street": c.street, "group": c.group, "n": c.n} for c in result.small_cells
        ],
    }
    if result.flagged_sensitivity is not None:
        out["flagged_sensitivity"] = deep(dict(result.flagged_sensitivity))
    if result.sensitivity is not None:
        out["sensitivity"] = deep(dict(result.sensitivity))
    if result.reliability is not None:
        out["reliability"] = deep(reliability_dict(result.reliability))
    return out


def to_document(result: ScoreResult) -> dict[str, Any]:
    """The scores JSON document of ``result`` as plain data (rounded; NaN as None).

    Equal to ``json.loads(to_json(result))`` and to ``_num(to_dict(result))``;
    the streets' and the district's figures, most of the document, are
    rounded together at the end (:func:`round_figures`), the other parts as
    they are copied.  :func:`document_json` writes it.
    """
    doc: dict[str, Any] = _plain(result, _num)
    figures: list[dict[str, Any]] = [doc["district"]]
    figures += doc["district"]["dimensions"].values()
    figures += doc["district"]["indicators"].values()
    for s in doc["streets"]:
        figures.append(s)
        figures += s["dimensions"].values()
        figures += s["indicators"].values()
        figures += s["priority_details"]
        figures.append(s["shrunk"])
        figures += s["cells"]
    _round_in_place(figures)
    return doc


def _round_in_place(containers: list[dict[str, Any]]) -> None:
    """Every float value of ``containers`` as :func:`_round` gives it, rounded at NumPy speed.

    The streets' and the district's figures: some 80,000 values for 300
    streets, where Python's ``round(x, 4)`` costs about 0.5 µs each.
    """
    values = [v for d in containers for v in d.values() if type(v) is float]
    if not values:
        return
    rounded = iter(round_figures(np.array(values, dtype=np.float64)))
    for d in containers:
        for k, v in d.items():
            if type(v) is float:
                d[k] = next(rounded)


def round_figures(x: npt.NDArray[np.float64]) -> list[float | None]:
    """``[_round(v) for v in x]``: ``round(v, DECIMALS)``, 0.0 for zero, None where not finite.

    ``rint(v · 10⁴) / 10⁴`` is Python's ``round(v, 4)`` (the double nearest
    to the decimal that is the exact ``v · 10⁴`` rounded half to even, over
    10⁴) wherever the product's rounding cannot move ``rint`` across a half:
    values whose product is within two units in the last place of a half, or
    beyond 2^51 or not finite, take Python's ``round`` itself.
    """
    scale = 10.0**DECIMALS
    with np.errstate(invalid="ignore", over="ignore"):
        t = x * scale
        r = np.rint(t) / scale
        mag = np.abs(t)
        odd = ~(mag < 2.0**51) | (np.abs(t - np.floor(t) - 0.5) <= 2 * np.spacing(mag))
    r[r == 0] = 0.0
    out: list[float | None] = r.tolist()
    for i in np.flatnonzero(odd).tolist():
        out[i] = _round(float(x[i]))
    return out


def document_json(doc: Mapping[str, Any]) -> str:
    """Canonical JSON text of a document from :func:`to_document`.

    orjson writes the same bytes as ``json.dumps(doc, sort_keys=True,
    ensure_ascii=False, indent=2)`` for these documents (both sort keys by code
    point, indent by two spaces and print the shortest round-trip float; every
    float is rounded to 4 decimals, so none is below 1e-4, where the two write
    exponents differently), about ten times faster.  Anything orjson refuses
    (a NumPy scalar, an integer beyond 64 bits) goes to the standard library
    as before.
    """
    try:
        text = orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        text = json.dumps(doc, sort_keys=True, ensure_ascii=False, indent=2)
    return text + "\n"


def to_json(result: ScoreResult) -> str:
    """Canonical JSON text of ``result`` (docs/scores-json.md); same result → same bytes."""
    return document_json(to_document(result))


# --- reading a stored result back -------------------------------------------------------------

_NAN = float("nan")


def _opt(d: Mapping[str, Any], key: str) -> Any:
    """``d[key]``; ``null`` for a key written only when set means NaN (see :func:`_num`)."""
    if key not in d:
        return None
    value = d[key]
    return _NAN if value is None else value


def _estimate_from(d: Mapping[str, Any], indicator: bool) -> Estimate:
    return Estimate(
        score=d.get("score"),
        ci_low=d.get("ci_low"),
        ci_high=d.get("ci_high"),
        se=d.get("se"),
        n=d.get("n", 0),
        dk_rate=d.get("dk_rate"),
        satisfaction_rate=d.get("satisfaction_rate"),
        attention=d.get("attention"),
        # written whenever set, and always for indicators
        district_gap=d.get("district_gap") if indicator else _opt(d, "district_gap"),
        gap_se=_opt(d, "gap_se"),
        gap_ci_low=d.get("gap_ci_low"),
        gap_ci_high=d.get("gap_ci_high"),
        q_below=d.get("q_below"),
    )


def _estimates(d: Mapping[str, Any] | None, indicator: bool) -> dict[str, Estimate]:
    return {k: _estimate_from(v, indicator) for k, v in (d or {}).items()}


def _priority_from(d: Mapping[str, Any]) -> Priority:
    def f(key: str) -> float:
        value = d.get(key)
        return _NAN if value is None else cast(float, value)

    return Priority(
        indicator=d["indicator"],
        score=f("score"),
        district_score=f("district_score"),
        gap=f("gap"),
        importance=f("importance"),
        satisfaction_rate=f("satisfaction_rate"),
        importance_satisfaction=f("importance_satisfaction"),
    )


def _street_from(d: Mapping[str, Any]) -> StreetResult:
    shrunk = d.get("shrunk") or {}
    return StreetResult(
        street=d["street"],
        n=d.get("n", 0),
        score=d.get("score"),
        ci_low=d.get("ci_low"),
        ci_high=d.get("ci_high"),
        se=d.get("se"),
        rank=d.get("rank"),
        rank_low=d.get("rank_low"),
        rank_high=d.get("rank_high"),
        band=d.get("band"),
        district_gap=d.get("district_gap"),
        dimensions=_estimates(d.get("dimensions"), False),
        indicators=_estimates(d.get("indicators"), True),
        priorities=tuple(d.get("priorities") or ()),
        priority_details=tuple(_priority_from(p) for p in d.get("priority_details") or ()),
        shrunk=Shrunk(score=shrunk.get("score"), mse=shrunk.get("mse")),
        complete=d.get("complete", True),
        incomplete_reason=d.get("incomplete_reason"),
        coverage=d.get("coverage"),
        df=d.get("df"),
        gap=d.get("gap"),
        gap_se=d.get("gap_se"),
        z=d.get("z"),
        alert=d.get("alert"),
        alarm=d.get("alarm"),
        fdr_q=d.get("fdr_q"),
        rank_low_sim=d.get("rank_low_sim"),
        rank_high_sim=d.get("rank_high_sim"),
        n_eff=d.get("n_eff"),
        deff=d.get("deff"),
        cells=tuple(
            CellDesign(group=c["group"], n=c["n"], n_eff=c.get("n_eff"), deff=c.get("deff"))
            for c in d.get("cells") or ()
        ),
    )


def _reliability_from(d: Mapping[str, Any]) -> Reliability:
    return Reliability(
        dimensions=tuple(
            DimensionReliability(
                dimension=code,
                items=tuple(v["items"]),
                n=v["n"],
                alpha=v.get("alpha"),
                item_rest=dict(v.get("item_rest") or {}),
            )
            for code, v in d["dimensions"].items()
        ),
        eigenvalues=tuple(d["eigenvalues"]),
        parallel_95=tuple(d["parallel_95"]),
        parallel_n=d["parallel_n"],
        parallel_draws=d["parallel_draws"],
        factors_retained=d["factors_retained"],
        first_factor_share=d.get("first_factor_share"),
        composite_overall_r=d.get("composite_overall_r"),
        composite_overall_n=d["composite_overall_n"],
        weighted=d.get("weighted", False),
    )


#: ``district.reference`` of a run stored before the key existed: every respondent pooled.
POOLED = "pooled"


def from_dict(doc: Mapping[str, Any]) -> ScoreResult:
    """The result a plain scores-JSON document describes: the inverse of :func:`to_dict`.

    ``to_json(from_dict(json.loads(text))) == text`` for every ``text`` written by
    :func:`to_json`.  Runs stored before a key existed read with the field's
    default; a district without ``reference`` reads as :data:`POOLED`.  The
    bootstrap replicates and covariances are not in the JSON (None).
    """
    d = doc["district"]
    district = DistrictResult(
        score=d.get("score"),
        ci_low=d.get("ci_low"),
        ci_high=d.get("ci_high"),
        se=d.get("se"),
        n=d.get("n", 0),
        dimensions=_estimates(d.get("dimensions"), False),
        indicators=_estimates(d.get("indicators"), True),
        reference=d.get("reference", POOLED),
        n_streets=d.get("n_streets", 0),
    )
    return ScoreResult(
        method=dict(doc.get("method") or {}),
        district=district,
        streets=tuple(_street_from(s) for s in doc.get("streets") or ()),
        small_cells=tuple(
            SmallCell(street=c["street"], group=c["group"], n=c["n"])
            for c in doc.get("small_cells") or ()
        ),
        flagged_sensitivity=doc.get("flagged_sensitivity"),
        sensitivity=doc.get("sensitivity"),
        reliability=_reliability_from(doc["reliability"]) if "reliability" in doc else None,
    )


def from_json(text: str | bytes) -> ScoreResult:
    """Parse scores-JSON text (docs/scores-json.md): the inverse of :func:`to_json`."""
    doc = json.loads(text)
    if not isinstance(doc, Mapping) or "district" not in doc:
        raise ValueError("not a scores JSON document: no district")
    return from_dict(doc)
