"""Read-side helpers for the results pages: a run's JSON as rows, comments, change.

Nothing here writes.  A run's result JSON never changes, so the parsed
document is cached per run (keyed by id and data digest).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

from sqlalchemy import func, select

from reports import verdicts
from scoring.change import Change, compare_waves
from scoring.framework import Framework as FrameworkSpec

from ..extensions import db
from ..i18n import _
from ..models import Answer, Framework, Response, ScoringRun, Street, Wave
from .frameworks import spec_of

SORT_KEYS = ("rank", "score", "street", "n", "dk", "width", "band")
BAND_ORDER = {"above": 0, "similar": 1, "below": 2, None: 1}
_cache: OrderedDict[tuple[int, str, int, int], dict[str, Any]] = OrderedDict()


def result_doc(run: ScoringRun) -> dict[str, Any]:
    """The parsed result JSON of ``run`` (cached; treat as read-only)."""
    key = (run.id, run.data_sha256, run.seed, run.boot)
    doc = _cache.get(key)
    if doc is None:
        doc = json.loads(run.result_json)
        _cache[key] = doc
        while len(_cache) > 16:
            _cache.popitem(last=False)
    return doc


def dk_rate(entry: Mapping[str, Any]) -> float | None:
    """Mean 不了解 rate over a street's indicators (each asked item counts once)."""
    rates = [v.get("dk_rate") for v in entry["indicators"].values() if v.get("dk_rate") is not None]
    return sum(rates) / len(rates) if rates else None


def ranking_rows(
    doc: Mapping[str, Any], streets: Mapping[str, Street], sort: str = "rank", desc: bool = False
) -> list[dict[str, Any]]:
    """One row per street for the ranking table, sorted by ``sort`` (see SORT_KEYS)."""
    rows = []
    for s in doc["streets"]:
        street = streets.get(s["street"])
        lo, hi = s.get("ci_low"), s.get("ci_high")
        rows.append(
            {
                "street": s["street"],
                "street_id": street.id if street else None,
                "code": street.code if street else "",
                "n": s["n"],
                "score": s["score"],
                "ci_low": lo,
                "ci_high": hi,
                "width": (hi - lo) if lo is not None and hi is not None else None,
                "rank": s["rank"],
                "rank_low": s["rank_low"],
                "rank_high": s["rank_high"],
                "band": s["band"],
                "dk": dk_rate(s),
                "priorities": s.get("priorities", []),
                "complete": s.get("complete", True) is not False,
                "incomplete_reason": s.get("incomplete_reason"),
                "gap": verdicts.gap(s, doc["district"]),
                "rank_low_sim": s.get("rank_low_sim"),
                "rank_high_sim": s.get("rank_high_sim"),
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


def verdict_summary(doc: Mapping[str, Any]) -> dict[str, Any]:
    """What the results page says about the verdicts: reference, rule, false flags, ranks."""
    method = doc.get("method", {})
    streets = doc.get("streets", [])
    return {
        "reference": district_reference_label(doc["district"].get("reference")),
        "band_rule": method.get("band_rule"),
        "expected_false_flags": verdicts.expected_false_flags(doc),
        "simultaneous": any(s.get("rank_low_sim") is not None for s in streets),
        "incomplete": verdicts.incomplete_streets(streets),
        "tau": verdicts.overdispersion_tau(doc),
    }


def street_entry(doc: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    """The result entry of street ``name``, or None."""
    return next((s for s in doc["streets"] if s["street"] == name), None)


def indicator_rows(
    doc: Mapping[str, Any], entry: Mapping[str, Any], spec: FrameworkSpec
) -> list[dict[str, Any]]:
    """The street's indicators beside the district's, in framework order."""
    district = doc["district"]["indicators"]
    rows = []
    for ind in spec.indicators:
        est = entry["indicators"].get(ind.code) or {}
        ref = district.get(ind.code) or {}
        rows.append(
            {
                "code": ind.code,
                "name": ind.name,
                "dimension": ind.dimension,
                "score": est.get("score"),
                "ci_low": est.get("ci_low"),
                "ci_high": est.get("ci_high"),
                "n": est.get("n"),
                "dk_rate": est.get("dk_rate"),
                "satisfaction_rate": est.get("satisfaction_rate"),
                "attention": est.get("attention"),
                "gap": est.get("district_gap"),
                "district": ref.get("score"),
                "priority": ind.code in entry.get("priorities", []),
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
    query = (
        select(Answer.indicator_code, Response.group_code, Answer.comment)
        .join(Response, Response.id == Answer.response_id)
        .where(
            Response.wave_id == wave.id,
            Response.street_id == street.id,
            Response.excluded.is_(False),
            Answer.comment != "",
        )
    )
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
    return [tuple(r) for r in rows], total  # type: ignore[misc]


def _as_result(doc: Mapping[str, Any]) -> SimpleNamespace:
    """A duck-typed view of a result document for :func:`scoring.change.compare_waves`."""

    def est(e: Mapping[str, Any]) -> SimpleNamespace:
        return SimpleNamespace(score=e.get("score"), se=e.get("se"))

    d = doc["district"]
    district = SimpleNamespace(
        score=d["score"], se=d.get("se"), indicators={k: est(v) for k, v in d["indicators"].items()}
    )
    streets = tuple(
        SimpleNamespace(
            street=s["street"],
            score=s["score"],
            se=s.get("se"),
            indicators={k: est(v) for k, v in s["indicators"].items()},
        )
        for s in doc["streets"]
    )
    return SimpleNamespace(district=district, streets=streets)


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


def street_change(before: Mapping[str, Any], after: Mapping[str, Any], street: str) -> list[Change]:
    """Wave-over-wave change of the street's overall and indicator scores, with 95% CIs."""
    changes = compare_waves(_as_result(before), _as_result(after))  # type: ignore[arg-type]
    return [c for c in changes if c.street == street]
