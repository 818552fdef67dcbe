"""Read-side helpers for the results pages: a run's typed result as rows, comments, change.

Nothing here writes.  A run's result JSON never changes, so the typed result
(:func:`scoring.result.from_json`) is cached per run (keyed by id and data digest).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from reports import verdicts
from scoring.change import Change, compare_waves
from scoring.framework import Framework as FrameworkSpec
from scoring.result import ScoreResult, StreetResult, from_json

from ..extensions import db
from ..i18n import _
from ..models import Answer, Framework, Response, ScoringRun, Street, Wave
from .comments import comment_rows
from .frameworks import spec_of

SORT_KEYS = ("rank", "score", "street", "n", "dk", "width", "band")
BAND_ORDER = {"above": 0, "similar": 1, "below": 2, None: 1}
_typed: OrderedDict[tuple[int, str, int, int], ScoreResult] = OrderedDict()


def result_of(run: ScoringRun) -> ScoreResult:
    """The typed result of ``run`` (:func:`scoring.result.from_json`; cached, immutable)."""
    key = (run.id, run.data_sha256, run.seed, run.boot)
    result = _typed.get(key)
    if result is None:
        result = from_json(run.result_json)
        _typed[key] = result
        while len(_typed) > 16:
            _typed.popitem(last=False)
    return result


def dk_rate(entry: StreetResult) -> float | None:
    """Mean 不了解 rate over a street's indicators (each asked item counts once)."""
    rates = [v.dk_rate for v in entry.indicators.values() if v.dk_rate is not None]
    return sum(rates) / len(rates) if rates else None


def ranking_rows(
    result: ScoreResult, streets: Mapping[str, Street], sort: str = "rank", desc: bool = False
) -> list[dict[str, Any]]:
    """One row per street for the ranking table, sorted by ``sort`` (see SORT_KEYS)."""
    rows: list[dict[str, Any]] = []
    for s in result.streets:
        street = streets.get(s.street)
        lo, hi = s.ci_low, s.ci_high
        rows.append(
            {
                "street": s.street,
                "street_id": street.id if street else None,
                "code": street.code if street else "",
                "n": s.n,
                "score": s.score,
                "ci_low": lo,
                "ci_high": hi,
                "width": (hi - lo) if lo is not None and hi is not None else None,
                "rank": s.rank,
                "rank_low": s.rank_low,
                "rank_high": s.rank_high,
                "band": s.band,
                "dk": dk_rate(s),
                "priorities": list(s.priorities),
                "complete": verdicts.complete(s),
                "incomplete_reason": s.incomplete_reason,
                "gap": verdicts.gap(s, result.district),
                "rank_low_sim": s.rank_low_sim,
                "rank_high_sim": s.rank_high_sim,
            }
        )
    if sort not in SORT_KEYS:
        sort = "rank"

    def value(row: dict[str, Any]) -> Any:
        return BAND_ORDER.get(row["band"], 1) if sort == "band" else row[sort]

    known = sorted((r for r in rows if value(r) is not None), key=lambda r: (value(r), r["street"]))
    if desc:
        known.reverse()
    rows = known + sorted((r for r in rows if value(r) is None), key=lambda r: r["street"])
    return rows


def district_reference_label(reference: str | None) -> str:
    """The district reference in the user's language (see ``reports.formatting``)."""
    if reference == "population":
        return _("全区平均（按各街道人口加权）")
    if reference == "street_mean":
        return _("全区平均（各街道简单平均）")
    return _("全区平均（全部受访者合并计算）")


def verdict_summary(result: ScoreResult) -> dict[str, Any]:
    """What the results page says about the verdicts: reference, rule, false flags, ranks."""
    return {
        "reference": district_reference_label(result.district.reference),
        "band_rule": result.info.band_rule,
        "expected_false_flags": verdicts.expected_false_flags(result),
        "simultaneous": any(s.rank_low_sim is not None for s in result.streets),
        "incomplete": verdicts.incomplete_streets(result.streets),
        "tau": verdicts.overdispersion_tau(result),
    }


def street_entry(result: ScoreResult, name: str) -> StreetResult | None:
    """The result of street ``name``, or None."""
    return result.street(name)


def indicator_rows(
    result: ScoreResult, entry: StreetResult, spec: FrameworkSpec
) -> list[dict[str, Any]]:
    """The street's indicators beside the district's, in framework order."""
    district = result.district.indicators
    rows = []
    for ind in spec.indicators:
        est = entry.indicators.get(ind.code)
        ref = district.get(ind.code)
        rows.append(
            {
                "code": ind.code,
                "name": ind.name,
                "dimension": ind.dimension,
                "score": est.score if est else None,
                "ci_low": est.ci_low if est else None,
                "ci_high": est.ci_high if est else None,
                "n": est.n if est else None,
                "dk_rate": est.dk_rate if est else None,
                "satisfaction_rate": est.satisfaction_rate if est else None,
                "attention": est.attention if est else None,
                "gap": est.district_gap if est else None,
                "district": ref.score if ref else None,
                "priority": ind.code in entry.priorities,
            }
        )
    return rows


def comments(
    wave: Wave,
    street: Street,
    indicator: str | None = None,
    *,
    page: int = 1,
    per_page: int = 50,
    group: str | None = None,
    search: str = "",
) -> tuple[list[tuple[str, str, str]], int]:
    """Residents' comments on the street's indicators: ``(indicator, group, text)``, and count.

    Excluded responses are left out.  Newest first.

    :param group: only this respondent group's comments.
    :param search: only comments containing this text (case-insensitive, at most 50 characters).
    """
    query = comment_rows(wave, street, Answer.indicator_code, Response.group_code, Answer.comment)
    if indicator:
        query = query.where(Answer.indicator_code == indicator)
    if group:
        query = query.where(Response.group_code == group)
    if search.strip():
        query = query.where(Answer.comment.icontains(search.strip()[:50], autoescape=True))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.execute(
        query.order_by(Response.id.desc(), Answer.indicator_code)
        .offset((max(page, 1) - 1) * per_page)
        .limit(per_page)
    ).all()
    return [tuple(r) for r in rows], total


def earlier_run(wave: Wave) -> tuple[Wave, ScoringRun] | None:
    """The latest earlier wave scored on the same framework (code and indicators), with its run."""
    spec = spec_of(wave.framework)
    candidates = db.session.scalars(
        select(Wave)
        .join(Framework, Framework.id == Wave.framework_id)
        .where(
            Wave.id != wave.id,
            Wave.district_id == wave.district_id,
            Framework.code == wave.framework.code,
            Wave.created_at <= wave.created_at,
            Wave.state.in_(("scored", "notices_issued", "published")),
        )
        .order_by(Wave.created_at.desc(), Wave.id.desc())
    )
    for other in candidates:
        if spec_of(other.framework).indicator_codes != spec.indicator_codes:
            continue
        run = db.session.scalar(
            select(ScoringRun)
            .where(ScoringRun.wave_id == other.id, ScoringRun.is_current.is_(True))
            .order_by(ScoringRun.id.desc())
        )
        if run is not None:
            return other, run
    return None


def street_change(before: ScoreResult, after: ScoreResult, street: str) -> list[Change]:
    """Wave-over-wave change of the street's overall and indicator scores, with 95% CIs.

    Waves scored on different framework versions or weights are compared all the
    same and marked not comparable (``Change.comparable``).
    """
    changes = compare_waves(before, after, allow_mismatch=True)
    return [c for c in changes if c.street == street]
