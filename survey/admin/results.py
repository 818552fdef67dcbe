"""Results of a scored wave: ranking, charts, street pages, exports."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping

from flask import Response, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from scoring.result import Estimate

from ..auth.decorators import ADMIN, BUREAU, roles_required
from ..auth.scope import require_wave
from ..downloads import content_disposition
from ..edges import bounded_int
from ..extensions import db
from ..models import ScoringRun, Street, Wave
from ..services import charts, exports, jobs
from ..services import results as res
from ..services.frameworks import spec_of
from ..services.scoring_runs import current_run
from . import bp
from .waves import get_wave_or_404

_charts: OrderedDict[tuple[object, ...], bytes] = OrderedDict()
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "sav": "application/x-spss-sav",
}


def _run_of(code: str) -> tuple[Wave, ScoringRun]:
    wave = get_wave_or_404(code)
    run = current_run(wave)
    if run is None:
        abort(404, _("该测评批次还没有计分结果。"))
    return wave, run


def _score(estimates: Mapping[str, Estimate], code: str) -> float | None:
    est = estimates.get(code)
    return est.score if est is not None else None


def _streets(wave: Wave) -> dict[str, Street]:
    return {s.name: s for s in wave.district.streets}


@bp.get("/waves/<code>/results")
@roles_required(*BUREAU)
def results(code: str) -> ResponseReturnValue:
    """Show the district overview: ranking table, caterpillar chart, heat map."""
    wave, run = _run_of(code)
    doc = res.result_of(run)
    sort = request.args.get("sort", "rank")
    desc = request.args.get("order") == "desc"
    rows = res.ranking_rows(doc, _streets(wave), sort, desc)
    return render_template(
        "admin/results.html",
        wave=wave,
        run=run,
        doc=doc,
        rows=rows,
        verdicts=res.verdict_summary(doc),
        sensitivity=(run.settings or {}).get("flagged_sensitivity") or doc.flagged_sensitivity,
        sort=sort if sort in res.SORT_KEYS else "rank",
        desc=desc,
        spec=spec_of(wave.framework),
    )


def _cached_svg(key: tuple[object, ...], draw: Callable[[], bytes]) -> Response:
    svg = _charts.get(key)
    if svg is None:
        svg = draw()
        _charts[key] = svg
        while len(_charts) > 64:
            _charts.popitem(last=False)
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


def _run(run_id: int) -> ScoringRun:
    run = db.session.get(ScoringRun, run_id)
    if run is None:
        abort(404)
    require_wave(run.wave_id)
    return run


@bp.get("/runs/<int(max=9223372036854775807):run_id>/<any(caterpillar, heatmap, funnel):name>.svg")
@roles_required(*BUREAU)
def run_chart(run_id: int, name: str) -> ResponseReturnValue:
    """Draw a district chart of a scoring run (cached per run)."""
    run = _run(run_id)
    doc = res.result_of(run)
    spec = spec_of(run.wave.framework)

    def draw() -> bytes:
        if name == "funnel":
            from reports import charts as pdf_charts
            from reports import verdicts

            labels = pdf_charts.FunnelLabels(
                xlabel=_("精确度（1 / 与全区之差的标准误）"),
                ylabel=_("与全区平均之差（分）"),
                reference=res.district_reference_label(doc.district.reference),
                alert=_("95% 预警线"),
                alarm=_("99.8% 警戒线"),
                adjusted=_("（已按街道间离散度调整）"),
            )
            return pdf_charts.funnel(
                verdicts.funnel_points(doc), tau=verdicts.overdispersion_tau(doc), labels=labels
            ).encode()
        if name == "caterpillar":
            return charts.caterpillar(
                doc.streets,
                doc.district,
                xlabel=_("得分（95% 置信区间）"),
                district_label=_("全区"),
                band_labels={
                    "above": _("高于全区"),
                    "similar": _("与全区相当"),
                    "below": _("低于全区"),
                },
            )
        ordered = sorted(doc.streets, key=lambda s: (s.rank is None, s.rank or 0))
        return charts.heatmap(
            [s.street for s in ordered],
            [d.name for d in spec.dimensions],
            [[_score(s.dimensions, d.code) for d in spec.dimensions] for s in ordered],
            [_score(doc.district.dimensions, d.code) for d in spec.dimensions],
            cbar_label=_("与全区之差"),
        )

    return _cached_svg((run.id, run.data_sha256, name, str(get_locale())), draw)


def _street(wave: Wave, street_id: int) -> Street:
    street = db.session.get(Street, street_id)
    if street is None or street.district_id != wave.district_id:
        abort(404)
    return street


@bp.get(
    "/runs/<int(max=9223372036854775807):run_id>"
    "/streets/<int(max=9223372036854775807):street_id>/<any(radar, indicators):name>.svg"
)
@roles_required(*BUREAU)
def street_chart(run_id: int, street_id: int, name: str) -> ResponseReturnValue:
    """Draw a street chart of a scoring run (cached per run)."""
    run = _run(run_id)
    street = _street(run.wave, street_id)
    doc = res.result_of(run)
    entry = res.street_entry(doc, street.name)
    if entry is None:
        abort(404)
    spec = spec_of(run.wave.framework)

    def draw() -> bytes:
        if name == "radar":
            return charts.radar(
                [d.name for d in spec.dimensions],
                [_score(entry.dimensions, d.code) for d in spec.dimensions],
                [_score(doc.district.dimensions, d.code) for d in spec.dimensions],
                street_label=street.name,
                district_label=_("全区"),
            )
        rows = res.indicator_rows(doc, entry, spec)
        return charts.indicator_bars(
            [f"{r['code']} {r['name']}" for r in rows],
            rows,
            [r["district"] for r in rows],
            highlight=[r["priority"] for r in rows],
            xlabel=_("得分（95% 置信区间）"),
            district_label=_("全区"),
            street_label=street.name,
            priority_label=_("整改优先事项"),
        )

    return _cached_svg((run.id, run.data_sha256, street.id, name), draw)


@bp.get("/waves/<code>/streets/<int(max=9223372036854775807):street_id>")
@roles_required(*BUREAU)
def street(code: str, street_id: int) -> ResponseReturnValue:
    """Show one street: dimensions, indicators, priorities, comments, change."""
    wave, run = _run_of(code)
    street = _street(wave, street_id)
    doc = res.result_of(run)
    entry = res.street_entry(doc, street.name)
    if entry is None:
        abort(404, _("该街道没有计分结果。"))
    spec = spec_of(wave.framework)
    indicator = request.args.get("indicator") or None
    if indicator not in spec.indicator_codes:
        indicator = None
    page = max(request.args.get("page", 1, type=bounded_int) or 1, 1)
    group = request.args.get("group") or None
    if group not in spec.group_codes:
        group = None
    search = (request.args.get("q") or "").strip()[:50]
    notes, total = res.comments(
        wave, street, indicator, page=page, per_page=30, group=group, search=search
    )
    earlier = res.earlier_run(wave)
    change = []
    if earlier is not None:
        change = res.street_change(res.result_of(earlier[1]), doc, street.name)
    return render_template(
        "admin/street.html",
        wave=wave,
        run=run,
        street=street,
        entry=entry,
        doc=doc,
        spec=spec,
        rows=res.indicator_rows(doc, entry, spec),
        details={p.indicator: p for p in entry.priority_details},
        names={i.code: i.name for i in spec.indicators},
        comments=notes,
        comment_total=total,
        indicator=indicator,
        group=group,
        search=search,
        group_names={g.code: g.name for g in spec.groups},
        page=page,
        earlier=earlier[0] if earlier else None,
        change=change,
    )


@bp.get("/waves/<code>/export/scores.<any(csv, xlsx):fmt>")
@roles_required(*BUREAU)
def export_scores(code: str, fmt: str) -> ResponseReturnValue:
    """Download one row per street of the current run (CSV or XLSX)."""
    wave, run = _run_of(code)
    header, rows = exports.scores_table(res.result_of(run), spec_of(wave.framework))
    data = exports.table_csv(header, rows) if fmt == "csv" else exports.table_xlsx(header, rows)
    return _download(data, fmt, f"{wave.code}-scores-run{run.id}.{fmt}")


@bp.get("/waves/<code>/export/responses.<any(csv, xlsx, sav):fmt>")
@roles_required(*ADMIN)
def export_responses(code: str, fmt: str) -> ResponseReturnValue:
    """Download the wave's responses (exchange format, or SPSS .sav with value labels)."""
    wave = get_wave_or_404(code)
    included = request.args.get("scope") == "included"
    suffix = "-included" if included else ""
    name = f"{wave.code}-responses{suffix}.{fmt}"
    if jobs.is_large(wave):  # written by a background job, downloaded from its page
        try:
            job = jobs.start_export_job(wave, fmt, included, name, current_user.id)
        except jobs.JobBusy as busy:
            if busy.job is None:
                abort(409)
            job = busy.job
        return redirect(url_for("admin.job", code=wave.code, job_id=job.id)), 303
    data = exports.responses_export(wave, fmt, included_only=included)
    return _download(data, fmt, name)


def _download(data: bytes, fmt: str, filename: str) -> Response:
    response = Response(data, mimetype=MIMETYPES[fmt])
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["Cache-Control"] = "no-store"
    return response


def chart_url(run: ScoringRun, name: str) -> str:
    return url_for("admin.run_chart", run_id=run.id, name=name)
