"""Rectification notice (整改通知书): build its data from scores JSON and render the PDF."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from reports import charts, formatting, verdicts, wording
from reports.calendar import Deadline, OfficialCalendar, add_working_days
from reports.layout import official_context
from reports.models import (
    LETTER,
    NOTICE,
    Letterhead,
    NoticeData,
    NoticeItem,
    SampleComposition,
    sample_cells,
)
from reports.pdf import GENERATED, create_pdf
from reports.requirements import check_templates, requirement_text
from reports.tables import dimension_rows, number
from reports.templating import render
from scoring.result import RankSensitivity, ScoreResult

STYLESHEETS = ("official.css",)
CHART_NAMES = ("radar", "indicators", "funnel")


@dataclass(frozen=True, slots=True)
class NoticeSettings:
    """Bureau settings shared by every notice of one wave.

    Attributes
    ----------
    authority, mark
        Issuing authority (signature) and the red 发文机关标志.
    doc_prefix
        Agency code of the 发文字号: ``鼓民整`` gives ``鼓民整〔2026〕3号``.
    wave_name
        e.g. ``2026年度居民满意度测评``; the title reads
        关于{street}{wave_name}结果及整改要求的通知 (a results letter:
        关于{street}{wave_name}结果的告知书).
    issue_date, deadline_days, calendar
        The deadline is ``deadline_days`` working days after ``issue_date`` on ``calendar``.
    requirement_templates
        Indicator code -> requirement template with ``{street}`` / ``{indicator}``.
    """

    authority: str
    mark: str
    doc_prefix: str
    wave_name: str
    issue_date: dt.date
    reply_address: str
    deadline_days: int = 30
    calendar: OfficialCalendar = field(default_factory=OfficialCalendar.seeded)
    requirement_templates: Mapping[str, str] = field(default_factory=dict)
    contact: str = ""
    copy_to: str = ""
    printed_by: str = ""
    max_items: int = 3
    max_comments: int = 3

    def deadline(self) -> Deadline:
        """The 整改 deadline of a notice: ``deadline_days`` working days after the issue date."""
        return add_working_days(self.issue_date, self.deadline_days, self.calendar)

    def doc_number(self, seq: int) -> str:
        """Return the 发文字号 with sequence number ``seq``."""
        return wording.doc_number(self.doc_prefix, self.issue_date.year, seq)

    def preview_number(self) -> str:
        """The 发文字号 line of a preview (a preview takes no number)."""
        return wording.preview_number(self.doc_prefix, self.issue_date.year)


def build_notice_data(
    scores: ScoreResult,
    street: str,
    settings: NoticeSettings,
    *,
    seq: int,
    dimension_names: Mapping[str, str],
    indicator_names: Mapping[str, str],
    comments: Mapping[str, Sequence[str]] | None = None,
    composition: Sequence[SampleComposition] = (),
) -> NoticeData:
    """Build one street's notice data from a scoring result.

    A street with at least one rectification item gets a notice (整改通知书) with
    a deadline; a street without one, and every 数据不全 street (``complete``
    false), gets a results letter (测评结果告知书) with no deadline and no items.

    Parameters
    ----------
    scores
        The scoring result (a stored run: :func:`scoring.result.from_json`).
    street
        The street's name as in ``scores.streets[i].street``.
    seq
        Sequence number of the 发文字号.
    comments
        Indicator code -> residents' comments on it for this street; redacted and
        shortened here, at most ``settings.max_comments`` each.
    composition
        Sample against population per street x group (this street's are kept).

    Raises
    ------
    ValueError
        Unknown street or unusable requirement templates.
    """
    check_templates(settings.requirement_templates)
    row = scores.street(street)
    if row is None:
        raise ValueError(f"street {street!r} is not in the scores")
    district = scores.district
    is_complete = verdicts.complete(row)
    items = []
    codes = list(row.priorities) if is_complete else []
    for code in codes[: settings.max_items]:
        ind = row.indicators.get(code)
        ref = district.indicators.get(code)
        if ind is None or ref is None:
            continue  # a priority always has scores; skip rather than print a blank item
        own, other = number(ind.score), number(ref.score)
        if own is None or other is None:
            continue
        name = indicator_names.get(code, code)
        said = [formatting.excerpt(c) for c in (comments or {}).get(code, ()) if c.strip()]
        low, high = number(ind.ci_low), number(ind.ci_high)
        items.append(
            NoticeItem(
                code=code,
                name=name,
                street_score=own,
                district_score=other,
                gap=own - other,
                attention=number(ind.attention),
                satisfaction_rate=number(ind.satisfaction_rate),
                comments=tuple(said[: settings.max_comments]),
                requirement=requirement_text(code, street, name, settings.requirement_templates),
                street_ci=(low, high) if low is not None and high is not None else None,
            )
        )
    kind = NOTICE if items else LETTER
    return NoticeData(
        letterhead=Letterhead(
            authority=settings.authority,
            mark=settings.mark,
            doc_number=settings.doc_number(seq),
            copy_to=settings.copy_to,
            printed_by=settings.printed_by,
        ),
        title=wording.notice_title(street, settings.wave_name, letter=kind == LETTER),
        addressee=wording.addressee_for(street),
        street=street,
        wave_name=settings.wave_name,
        issue_date=settings.issue_date,
        deadline=settings.deadline() if kind == NOTICE else None,
        deadline_days=settings.deadline_days,
        reply_address=settings.reply_address,
        street_scores=row,
        district_scores=district,
        n_streets=len(scores.streets),
        items=tuple(items),
        dimension_names=dict(dimension_names),
        indicator_names=dict(indicator_names),
        contact=settings.contact,
        min_n=scores.info.min_n,
        kind=kind,
        district_reference=wording.district_reference(district.reference),
        band_rule_words=verdicts.band_rule_words(scores),
        complete=is_complete,
        incomplete_reason=verdicts.incomplete_reason(row),
        gap=verdicts.gap(row, district),
        funnel_points=verdicts.funnel_points(scores, street),
        funnel_tau=verdicts.overdispersion_tau(scores),
        sensitivity=sens.street(street)
        if (sens := verdicts.per_result(scores, "rank_sensitivity", _rank_sensitivity))
        else None,
        composition=tuple(c for c in composition if c.street == street),
    )


def _rank_sensitivity(scores: ScoreResult) -> RankSensitivity | None:
    return scores.rank_sensitivity  # parsed from the run's dict on every access


def notice_charts(data: NoticeData) -> dict[str, str]:
    """Return the attachment charts (radar, indicator intervals, funnel) as SVG."""
    street_dims = data.street_scores.dimensions
    district_dims = data.district_scores.dimensions
    axes, own, ref = [], [], []
    for code, name in data.dimension_names.items():
        a, b = street_dims.get(code), district_dims.get(code)
        x = number(a.score) if a is not None else None
        y = number(b.score) if b is not None else None
        if x is not None and y is not None:
            axes.append(name)
            own.append(x)
            ref.append(y)
    targeted = {item.code for item in data.items}
    district_inds = data.district_scores.indicators
    rows = []
    for code, ind in data.street_scores.indicators.items():
        values = [number(v) for v in (ind.score, ind.ci_low, ind.ci_high)]
        if any(v is None for v in values):
            continue
        score, low, high = (float(v or 0.0) for v in values)
        rows.append(
            charts.Interval(
                label=data.indicator_names.get(code, code),
                score=score,
                low=low,
                high=high,
                reference=number(ref_ind.score) if (ref_ind := district_inds.get(code)) else None,
                highlight=code in targeted,
            )
        )
    out = {"radar": charts.radar(axes, own, ref, data.street) if len(axes) >= 3 else charts.empty()}
    out["indicators"] = charts.interval_chart(rows, row_cm=0.62) if rows else charts.empty()
    out["funnel"] = funnel_chart(data)
    return out


def funnel_chart(data: NoticeData) -> str:
    """Return the notice's funnel plot (its street highlighted) as SVG.

    The part shared by a wave's notices is drawn once per process
    (:func:`reports.charts.funnel`); drawing one notice's funnel before forking
    renderers hands it to all of them.
    """
    if not data.funnel_points:
        return charts.empty()
    return charts.funnel(
        data.funnel_points,
        tau=data.funnel_tau,
        labels=charts.FunnelLabels(reference=data.district_reference),
    )


def render_notice_html(data: NoticeData, charts: Mapping[str, str] | None = None) -> str:
    """Render the notice as HTML; ``charts`` maps chart names to image URLs."""
    context = official_context(data.letterhead, data.title)
    if charts is None:
        charts = {name: f"{GENERATED}{name}.svg" for name in CHART_NAMES}
    rows = dimension_rows(data.street_scores, data.district_scores, data.dimension_names)
    context.update(
        data=data,
        charts=charts,
        dimension_rows=rows,
        warned=wording.composition_warnings(data.composition),
        cells=sample_cells(data.composition),
    )
    return render("notice.html", context)


def render_notice_pdf(data: NoticeData) -> bytes:
    """Render the notice as PDF bytes."""
    svgs = notice_charts(data)
    resources = {f"{name}.svg": svg.encode() for name, svg in svgs.items()}
    return create_pdf(render_notice_html(data), stylesheets=STYLESHEETS, resources=resources)
