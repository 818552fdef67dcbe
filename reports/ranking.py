"""District ranking report (通报): all streets with intervals, bands and a caterpillar chart."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reports import charts, verdicts, wording
from reports.layout import official_context
from reports.models import (
    IssuedDocument,
    Letterhead,
    RankingData,
    SampleComposition,
    sample_cells,
)
from reports.pdf import GENERATED, create_pdf
from reports.tables import number, score_row
from reports.templating import render
from reports.wording import SCHEME_WORDS
from scoring.result import ScoreResult, StreetResult

STYLESHEETS = ("official.css",)
FIRST_CHART_ROWS = 42  # the first chart page also carries the 附件 heading
CHART_ROWS = 52


@dataclass(frozen=True, slots=True)
class RankingSettings:
    """Bureau settings of a ranking report (通报)."""

    authority: str
    mark: str
    doc_number: str
    wave_name: str
    issue_date: dt.date
    addressee: str = "各街道办事处、镇人民政府："
    framework_name: str = ""
    copy_to: str = ""
    printed_by: str = ""


def build_ranking_data(
    scores: ScoreResult,
    settings: RankingSettings,
    *,
    dimension_names: Mapping[str, str],
    indicator_names: Mapping[str, str] | None = None,
    documents: Sequence[IssuedDocument] = (),
    composition: Sequence[SampleComposition] = (),
) -> RankingData:
    """Build the ranking report's data from a scoring result.

    Streets are ordered by rank, 数据不全 streets (no rank) last.  ``documents``
    lists what each street received (整改通知书 or 测评结果告知书), in the
    order issued; ``composition`` each street x group's sample against its
    population (附件4, with the design effects).
    """

    def order(s: StreetResult) -> tuple[bool, float, float, str]:
        rank = number(s.rank)
        score = number(s.score)
        return (
            not verdicts.complete(s),
            rank if rank is not None else math.inf,
            -(score or 0.0),
            s.street,
        )

    return RankingData(
        letterhead=Letterhead(
            authority=settings.authority,
            mark=settings.mark,
            doc_number=settings.doc_number,
            copy_to=settings.copy_to,
            printed_by=settings.printed_by,
        ),
        title=wording.ranking_title(settings.wave_name),
        addressee=settings.addressee,
        wave_name=settings.wave_name,
        issue_date=settings.issue_date,
        method=scores.info,
        district=scores.district,
        streets=tuple(sorted(scores.streets, key=order)),
        dimension_names=dict(dimension_names),
        indicator_names=dict(indicator_names or {}),
        documents=tuple(documents),
        district_reference=wording.district_reference(scores.district.reference),
        band_rule_words=verdicts.band_rule_words(scores),
        expected_false_flags=verdicts.expected_false_flags(scores),
        funnel_points=verdicts.funnel_points(scores),
        funnel_tau=verdicts.overdispersion_tau(scores),
        framework_name=settings.framework_name,
        sensitivity=scores.rank_sensitivity,
        composition=tuple(composition),
    )


def chunks(count: int, first: int = FIRST_CHART_ROWS, rest: int = CHART_ROWS) -> list[range]:
    """Split ``count`` rows into page-sized, evenly filled chart chunks."""
    if count <= first:
        return [range(count)]
    pages = 1 + math.ceil((count - first) / rest)
    size = math.ceil(count / pages)
    head = min(first, size)
    out = [range(head)]
    remaining = count - head
    tail_pages = pages - 1
    start = head
    for i in range(tail_pages):
        size = math.ceil(remaining / (tail_pages - i))
        out.append(range(start, start + size))
        start += size
        remaining -= size
    return out


def caterpillar_charts(data: RankingData) -> list[str]:
    """Return the caterpillar chart as SVG pages, sorted by score, on one shared axis."""
    rows = []
    for s in data.streets:
        values = [number(v) for v in (s.score, s.ci_low, s.ci_high)]
        if any(v is None for v in values):
            continue
        score, low, high = (float(v or 0.0) for v in values)
        label = f"{s.street} {s.rank}" if s.rank is not None else s.street
        if not verdicts.complete(s):
            label = f"{s.street}（数据不全）"
        rows.append(charts.Interval(label, score, low, high, band=s.band or ""))
    if not rows:
        return [charts.empty()]
    rows.sort(key=lambda r: -r.score)
    district = number(data.district.score)
    xlim = charts.axis_range(rows, district)
    parts = chunks(len(rows))
    row_cm = 0.5 if len(parts) == 1 else 0.36
    return [
        charts.interval_chart(
            [rows[i] for i in part],
            reference=district,
            xlim=xlim,
            row_cm=row_cm,
            colour_by_band=True,
        )
        for part in parts
    ]


def band_counts(streets: Sequence[StreetResult]) -> dict[str, int]:
    """Number of streets per band (``incomplete``: 数据不全; ``none``: other unbanded)."""
    counts = {"above": 0, "similar": 0, "below": 0, "none": 0, "incomplete": 0}
    for s in streets:
        if not verdicts.complete(s):
            counts["incomplete"] += 1
        else:
            counts[s.band if s.band in counts else "none"] += 1
    return counts


def has_simultaneous_ranks(streets: Sequence[StreetResult]) -> bool:
    """Whether the run holds simultaneous rank intervals (``rank_low_sim``)."""
    return any(s.rank_low_sim is not None for s in streets)


FULL_COMPOSITION_STREETS = 40  # above this many streets 附件4 lists only cells with a warning


def sample_summary(data: RankingData) -> dict[str, object]:
    """What the 通报 says about design effects, rank sensitivity and sample composition."""
    deffs = [s.deff for s in data.streets if s.deff is not None]
    sens = data.sensitivity
    moving = [s for s in sens.streets if s.moves] if sens is not None else []
    largest = max(
        ((s.rank_max or 0) - (s.rank_min or 0) for s in moving),
        default=0,
    )
    cells = sample_cells(data.composition)
    full = len(data.streets) <= FULL_COMPOSITION_STREETS
    return {
        "deff_min": min(deffs) if deffs else None,
        "deff_max": max(deffs) if deffs else None,
        "sensitivity": sens,
        "moving": len(moving),
        "largest": largest,
        "ranks": {s.street: s for s in sens.streets} if sens is not None else {},
        "schemes": [SCHEME_WORDS.get(k, k) for k in sens.schemes] if sens is not None else [],
        "has_population": any(c.has_population for c in data.composition),
        "far": sum(len(c.far) for c in data.composition),
        "below_quota": len({(c.street, c.group) for c in data.composition if c.below_quota}),
        "cells": cells if full else [c for c in cells if c.warned],
        "composition_full": full,
    }


def funnel_chart(data: RankingData) -> str:
    """The funnel plot of every complete street's gap to the district, as SVG."""
    if not data.funnel_points:
        return charts.empty()
    return charts.funnel(
        data.funnel_points,
        tau=data.funnel_tau,
        labels=charts.FunnelLabels(reference=data.district_reference),
        height_cm=13.0,
    )


def render_ranking_html(data: RankingData, chart_urls: Sequence[str] | None = None) -> str:
    """Render the ranking report as HTML; ``chart_urls`` are the caterpillar pages."""
    context = official_context(data.letterhead, data.title)
    rows = [(s, score_row(s.street, s, data.district), s.dimensions) for s in data.streets]
    notices = [d for d in data.documents if d.kind == "notice"]
    letters = [d for d in data.documents if d.kind != "notice"]
    context.update(
        data=data,
        rows=rows,
        counts=band_counts(data.streets),
        chart_urls=list(chart_urls or []),
        district_dims=data.district.dimensions,
        simultaneous=has_simultaneous_ranks(data.streets),
        gaps={s.street: verdicts.gap(s, data.district) for s in data.streets},
        complete={s.street: verdicts.complete(s) for s in data.streets},
        incomplete=verdicts.incomplete_streets(data.streets),
        notices=notices,
        letters=letters,
        sample=sample_summary(data),
        funnel_url=f"{GENERATED}funnel.svg",
    )
    return render("ranking.html", context)


def render_ranking_pdf(data: RankingData) -> bytes:
    """Render the ranking report as PDF bytes."""
    svgs = caterpillar_charts(data)
    resources = {f"caterpillar-{i}.svg": svg.encode() for i, svg in enumerate(svgs)}
    urls = [f"{GENERATED}{name}" for name in resources]
    resources["funnel.svg"] = funnel_chart(data).encode()
    html = render_ranking_html(data, urls)
    return create_pdf(html, stylesheets=STYLESHEETS, resources=resources)
