"""What a street and the public see of a scored wave: scores, rectification, verification.

Plain dictionaries for the templates, built from the typed result of the wave's
current run (:func:`scoring.result.from_json`, docs/scores-json.md).  Public views pass ``min_n``: a
street or indicator figure computed from fewer respondents is suppressed.
The next-wave verification compares a wave with the next scored wave on the
same framework (:func:`scoring.compare_waves`, :func:`scoring.targeted_change`).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

import scoring
from reports import verdicts
from reports.followup import render_publication_pdf
from reports.formatting import excerpt, redact
from reports.models import PublicationData, PublicationItem
from scoring.result import Estimate, ScoreResult, StreetResult

from ..extensions import db
from ..models import Answer, Evidence, RectificationItem, Response, ScoringRun, Street, Wave
from .comments import comment_rows
from .frameworks import spec_of
from .rectification import PUBLIC_STATUS
from .responses import wave_records
from .results import district_reference_label, result_of
from .scoring_runs import current_run

SCORED_STATES = ("scored", "notices_issued", "published")


def scores_doc(wave: Wave) -> ScoreResult | None:
    """The wave's current scoring result, ``None`` before scoring."""
    run = current_run(wave)
    return result_of(run) if run else None


def names(wave: Wave) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Dimension names, indicator names, and indicator -> dimension code."""
    spec = spec_of(wave.framework)
    return (
        {d.code: d.name for d in spec.dimensions},
        {i.code: i.name for i in spec.indicators},
        {i.code: i.dimension for i in spec.indicators},
    )


def _figure(est: Estimate | None, min_n: int) -> dict[str, Any] | None:
    """Score with CI and n, or ``None`` when missing or below ``min_n`` respondents."""
    if est is None or est.score is None or (est.n or 0) < min_n:
        return None
    return {
        "score": est.score,
        "ci_low": est.ci_low,
        "ci_high": est.ci_high,
        "n": est.n,
        "satisfaction_rate": est.satisfaction_rate,
        "dk_rate": est.dk_rate,
    }


def rank_kind(result: ScoreResult | None) -> str:
    """``simultaneous`` when the run holds simultaneous rank intervals, else ``marginal``."""
    has = result is not None and any(s.rank_low_sim is not None for s in result.streets)
    return "simultaneous" if has else "marginal"


def _ranks(entry: StreetResult) -> tuple[int | None, int | None]:
    """The simultaneous rank interval when the run has it, else the marginal one."""
    low = entry.rank_low_sim if entry.rank_low_sim is not None else entry.rank_low
    high = entry.rank_high_sim if entry.rank_high_sim is not None else entry.rank_high
    return low, high


def street_view(wave: Wave, street: Street, *, min_n: int = 0) -> dict[str, Any] | None:
    """A street's headline, dimension and indicator figures beside the district's.

    Figures from fewer than ``min_n`` respondents are ``None`` (suppressed);
    returns ``None`` when the wave is not scored or the street has no result.
    """
    doc = scores_doc(wave)
    if doc is None:
        return None
    row = doc.street(street.name)
    if row is None:
        return None
    dims, inds, dim_of = names(wave)
    district = doc.district
    shown = (row.n or 0) >= min_n and row.score is not None
    rank_low, rank_high = _ranks(row)
    dimension_rows = [
        {
            "code": code,
            "name": name,
            "street": _figure(row.dimensions.get(code), min_n) if shown else None,
            "district": _figure(district.dimensions.get(code), 0),
        }
        for code, name in dims.items()
    ]
    indicator_rows = [
        {
            "code": code,
            "name": name,
            "dimension": dims.get(dim_of[code], ""),
            "street": _figure(row.indicators.get(code), min_n) if shown else None,
            "district": _figure(district.indicators.get(code), 0),
        }
        for code, name in inds.items()
    ]
    return {
        "street": street,
        "n": row.n,
        "shown": shown,
        "score": row.score if shown else None,
        "ci_low": row.ci_low if shown else None,
        "ci_high": row.ci_high if shown else None,
        "rank_low": rank_low if shown else None,
        "rank_high": rank_high if shown else None,
        "rank_kind": rank_kind(doc),
        "band": row.band if shown else None,
        "n_streets": len(doc.streets),
        "district": {
            "score": district.score,
            "ci_low": district.ci_low,
            "ci_high": district.ci_high,
            "n": district.n,
        },
        "district_reference": district_reference_label(district.reference),
        "complete": verdicts.complete(row),
        "incomplete_reason": verdicts.incomplete_reason(row),
        "gap": verdicts.gap(row, district) if shown else None,
        "dimensions": dimension_rows,
        "indicators": indicator_rows,
        "priorities": [(c, inds.get(c, c)) for c in row.priorities] if shown else [],
    }


def wave_table(wave: Wave, *, min_n: int = 0) -> list[dict[str, Any]]:
    """Every street's score, CI, rank interval and band, ordered by rank (suppressed last)."""
    doc = scores_doc(wave)
    streets = {s.name: s for s in wave.district.streets}
    rows: list[dict[str, Any]] = []
    for entry in doc.streets if doc is not None else ():
        street = streets.get(entry.street)
        if street is None or doc is None:
            continue
        shown = entry.score is not None and (entry.n or 0) >= min_n
        rank_low, rank_high = _ranks(entry)
        rows.append(
            {
                "street": street,
                "n": entry.n,
                "shown": shown,
                "score": entry.score if shown else None,
                "ci_low": entry.ci_low if shown else None,
                "ci_high": entry.ci_high if shown else None,
                "rank_low": rank_low if shown else None,
                "rank_high": rank_high if shown else None,
                "band": entry.band if shown else None,
                "complete": verdicts.complete(entry),
                "gap": verdicts.gap(entry, doc.district) if shown else None,
            }
        )
    rows.sort(key=lambda r: (not r["shown"], -(r["score"] or 0), r["street"].position))
    return rows


def resident_comments(wave: Wave, street: Street, limit: int = 30) -> list[dict[str, Any]]:
    """Residents' comments per indicator (scored responses only, redacted, no identities)."""
    _, inds, _ = names(wave)
    rows = db.session.execute(
        comment_rows(wave, street, Answer.indicator_code, Answer.point, Answer.comment).order_by(
            Answer.indicator_code, Answer.point, Response.id
        )
    )
    grouped: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    for code, _point, comment in rows:
        counts[code] = counts.get(code, 0) + 1
        texts = grouped.setdefault(code, [])
        clean = redact(comment.strip())
        if len(texts) < limit and clean not in texts:
            texts.append(clean)
    return [
        {"code": code, "name": inds.get(code, code), "count": counts[code], "comments": texts}
        for code, texts in sorted(grouped.items(), key=lambda kv: -counts[kv[0]])
    ]


# --- rectification shown to the public -------------------------------------------------


def public_items(wave: Wave, street: Street) -> list[RectificationItem]:
    """The street's rectification items of ``wave`` (the caller checks publication)."""
    return list(
        db.session.scalars(
            select(RectificationItem)
            .where(RectificationItem.wave_id == wave.id, RectificationItem.street_id == street.id)
            .order_by(RectificationItem.id)
        )
    )


def public_evidence(evidence_id: int) -> Evidence | None:
    """An evidence image residents may see: its item accepted, its wave published."""
    evidence = db.session.get(Evidence, evidence_id)
    if evidence is None or evidence.thumbnail is None:
        return None
    item = evidence.item
    wave = db.session.get(Wave, item.wave_id)
    if item.state != "accepted" or wave is None or wave.state != "published":
        return None
    return evidence


_PDF_CACHE: OrderedDict[str, bytes] = OrderedDict()
_PDF_CACHE_SIZE = 32


MAX_PUBLIC_COMMENTS = 3


def _residents_words(
    wave: Wave, street: Street, items: list[RectificationItem]
) -> dict[int, tuple[str, ...]]:
    """A few of residents' own comments per item: those quoted in the notice, else the
    lowest-rated comments on that indicator in that street (redacted, shortened)."""
    out: dict[int, tuple[str, ...]] = {}
    missing = []
    for item in items:
        kept = [c for c in (item.evidence_comments or "").split("\n") if c.strip()]
        if kept:
            out[item.id] = tuple(excerpt(c) for c in kept[:MAX_PUBLIC_COMMENTS])
        else:
            missing.append(item)
    if missing:
        rows = db.session.execute(
            comment_rows(
                wave,
                street,
                Answer.indicator_code,
                Answer.comment,
                indicators=[i.indicator_code for i in missing],
            ).order_by(Answer.point, Response.id)
        )
        found: dict[str, list[str]] = {}
        for code, comment in rows:
            words = found.setdefault(code, [])
            clean = excerpt(comment)
            if clean and clean not in words and len(words) < MAX_PUBLIC_COMMENTS:
                words.append(clean)
        for item in missing:
            out[item.id] = tuple(found.get(item.indicator_code, ()))
    return out


def publication_pdf(wave: Wave, street: Street) -> bytes:
    """The street's 整改公示 PDF, rendered once per distinct content (in-process cache).

    居民反映的问题 quotes residents (redacted, no identities); provisional
    deadlines say 暂定; the contact line gives the bureau's reply address
    (document settings) for the 公示 period.
    """
    issue = (wave.published_at or wave.created_at).date()
    items = public_items(wave, street)
    words = _residents_words(wave, street, items)
    data = PublicationData(
        street=street.full_name,
        publisher=f"{street.full_name}办事处",
        wave_name=wave.name,
        issue_date=issue,
        items=tuple(
            PublicationItem(
                indicator=item.indicator_name,
                problem=item.requirement,
                measures=item.measures or "（整改方案制定中）",
                status=PUBLIC_STATUS[item.state],
                result=item.result if item.state == "accepted" else "",
                deadline=item.deadline if item.state != "accepted" else None,
                deadline_provisional=item.deadline_provisional and item.state != "accepted",
                comments=words.get(item.id, ()),
                street_score=item.street_score,
                district_score=item.district_score,
            )
            for item in items
        ),
        contact=wave.district.reply_address or "",
    )
    key = hashlib.sha256(repr(data).encode()).hexdigest()
    if key in _PDF_CACHE:
        _PDF_CACHE.move_to_end(key)
        return _PDF_CACHE[key]
    pdf = render_publication_pdf(data)
    _PDF_CACHE[key] = pdf
    while len(_PDF_CACHE) > _PDF_CACHE_SIZE:
        _PDF_CACHE.popitem(last=False)
    return pdf


# --- next-wave verification --------------------------------------------------------------


def next_scored_wave(wave: Wave, *, published_only: bool = False) -> Wave | None:
    """The first later wave of the same district and framework code that has been scored."""
    states = ("published",) if published_only else SCORED_STATES
    candidates = db.session.scalars(
        select(Wave)
        .where(Wave.district_id == wave.district_id, Wave.id != wave.id, Wave.state.in_(states))
        .order_by(Wave.created_at, Wave.id)
    )
    for candidate in candidates:
        if (candidate.created_at, candidate.id) <= (wave.created_at, wave.id):
            continue
        if candidate.framework.code == wave.framework.code and current_run(candidate):
            return candidate
    return None


def _n(by_street: Mapping[str, Mapping[str, Estimate]], street: str, item: str) -> int:
    """Answers behind ``item`` of ``street`` (0 when absent)."""
    est = by_street.get(street, {}).get(item)
    return est.n if est is not None else 0


_RESCORED: OrderedDict[tuple[int, int], scoring.ScoreResult] = OrderedDict()


def _rescored(run: ScoringRun, boot: int) -> scoring.ScoreResult:
    """Score the run's wave again with its seed to get the bootstrap replicates."""
    key = (run.id, boot)
    if key not in _RESCORED:
        spec = spec_of(run.wave.framework)
        data = scoring.from_records(wave_records(run.wave, included_only=True), spec)
        _RESCORED[key] = scoring.score(spec, data, boot=boot, seed=run.seed, min_n=run.min_n)
        while len(_RESCORED) > 8:
            _RESCORED.popitem(last=False)
    return _RESCORED[key]


def _verdict(ci_low: float, ci_high: float) -> str:
    if ci_low > 0:
        return "improved"
    if ci_high < 0:
        return "declined"
    return "unclear"


def verification(
    wave: Wave, streets: list[Street], *, published_only: bool = False, min_n: int = 0
) -> dict[str, Any] | None:
    """Change from ``wave`` to the next scored wave, targeted vs untargeted indicators.

    :returns: ``None`` without a later scored wave; else ``{"later": Wave,
        "streets": {street_id: {"targeted": [...], "untargeted": [...],
        "summary": TargetedChange | None}}}`` where each row has the indicator's
        ``before``, ``after``, ``change``, ``ci_low``, ``ci_high`` and ``verdict``
        (improved / declined / unclear at 95%).
    """
    later = next_scored_wave(wave, published_only=published_only)
    if later is None:
        return None
    run_a, run_b = current_run(wave), current_run(later)
    if run_a is None or run_b is None:
        return None
    doc_a, doc_b = result_of(run_a), result_of(run_b)
    # framework versions may differ (the bureau edited weights): compare, marked
    changes = scoring.compare_waves(doc_a, doc_b, allow_mismatch=True)
    n_after = {s.street: s.indicators for s in doc_b.streets}
    n_before = {s.street: s.indicators for s in doc_a.streets}
    _, inds, _ = names(wave)
    targeted: dict[str, list[str]] = {}
    for item in db.session.scalars(
        select(RectificationItem).where(RectificationItem.wave_id == wave.id)
    ):
        targeted.setdefault(item.street.name, []).append(item.indicator_code)
    summaries: dict[str, Any] = {}
    wanted = {s.name for s in streets} & set(targeted)
    if wanted:
        boot = min(run_a.boot, run_b.boot)
        try:
            for tc in scoring.targeted_change(
                _rescored(run_a, boot),
                _rescored(run_b, boot),
                {k: v for k, v in targeted.items() if k in wanted},
            ):
                summaries[tc.street] = tc
        except ValueError:
            pass
    out: dict[int, dict[str, Any]] = {}
    for street in streets:
        rows_t: list[dict[str, Any]] = []
        rows_u: list[dict[str, Any]] = []
        for c in changes:
            if c.street != street.name or c.item == "overall":
                continue
            small = min(_n(n_before, street.name, c.item), _n(n_after, street.name, c.item))
            if small < min_n:
                continue
            row = {
                "code": c.item,
                "name": inds.get(c.item, c.item),
                "before": c.before,
                "after": c.after,
                "change": c.change,
                "ci_low": c.ci_low,
                "ci_high": c.ci_high,
                "verdict": _verdict(c.ci_low, c.ci_high),
            }
            (rows_t if c.item in targeted.get(street.name, []) else rows_u).append(row)
        out[street.id] = {
            "targeted": rows_t,
            "untargeted": rows_u,
            "summary": summaries.get(street.name),
        }
    return {"later": later, "streets": out}


def scored_waves(district_id: int, states: tuple[str, ...] = SCORED_STATES) -> list[Wave]:
    """The district's waves in ``states`` that have a scoring run, newest first."""
    waves = db.session.scalars(
        select(Wave)
        .where(Wave.district_id == district_id, Wave.state.in_(states))
        .order_by(Wave.created_at.desc(), Wave.id.desc())
    )
    return [w for w in waves if current_run(w) is not None]


def page_verification(
    wave: Wave, streets: list[Street], *, published_only: bool = False, min_n: int = 0
) -> dict[str, Any] | None:
    """Verification to show on ``wave``'s pages.

    The change of this wave's rectification items in the next scored wave; or,
    for a wave that is itself the next one, the change of the previous wave's
    items.  Adds ``"base"``: the wave whose items were targeted.
    """
    if db.session.scalar(select(RectificationItem.id).where(RectificationItem.wave_id == wave.id)):
        result = verification(wave, streets, published_only=published_only, min_n=min_n)
        if result is not None:
            return {"base": wave, **result}
    earlier = db.session.scalars(
        select(Wave)
        .join(RectificationItem, RectificationItem.wave_id == Wave.id)
        .where(Wave.district_id == wave.district_id, Wave.id != wave.id)
        .order_by(Wave.created_at.desc(), Wave.id.desc())
        .distinct()
    )
    for base in earlier:
        later = next_scored_wave(base, published_only=published_only)
        if later is not None and later.id == wave.id:
            result = verification(base, streets, published_only=published_only, min_n=min_n)
            return {"base": base, **result} if result else None
    return None
