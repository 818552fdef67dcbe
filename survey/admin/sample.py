"""Sample and weighting of a wave: design effects, response rates, sample vs population."""

from __future__ import annotations

from flask import render_template

from scoring.population import AGE_BANDS, GENDERS

from ..auth.decorators import BUREAU, roles_required
from ..services import results as res
from ..services.population import current_population
from ..services.sample_quality import (
    QUOTA_WARNING,
    SHARE_WARNING,
    response_rates,
    sample_vs_population,
)
from ..services.scoring_runs import current_run
from . import bp
from .waves import get_wave_or_404


@bp.get("/waves/<code>/sample")
@roles_required(*BUREAU)
def sample(code: str):
    """Show the wave's weighting, design effects, response rates and sample composition."""
    wave = get_wave_or_404(code)
    run = current_run(wave)
    doc = res.result_of(run) if run is not None else None
    return render_template(
        "admin/sample.html",
        wave=wave,
        run=run,
        doc=doc,
        weighting=doc.info.weighting if doc is not None else {},
        groups={g.code: g.name for g in wave.framework.groups},
        rates=response_rates(wave),
        compositions=sample_vs_population(wave),
        population=current_population(wave.district),
        age_bands=AGE_BANDS,
        genders=GENDERS,
        share_warning=SHARE_WARNING,
        quota_warning=QUOTA_WARNING,
    )


@bp.get("/waves/<code>/methods")
@roles_required(*BUREAU)
def methods(code: str):
    """Show the current scoring run's methods appendix (plain Chinese)."""
    from flask import abort

    from reports.methods import render_methods_html

    from ..services.methods import appendix_context

    wave = get_wave_or_404(code)
    run = current_run(wave)
    if run is None:
        abort(404)
    return render_methods_html(appendix_context(wave, run))


@bp.get("/waves/<code>/methods.pdf")
@roles_required(*BUREAU)
def methods_pdf(code: str):
    """Download the methods appendix as PDF."""
    from flask import abort, make_response

    from reports.methods import render_methods_pdf

    from ..services.methods import appendix_context

    wave = get_wave_or_404(code)
    run = current_run(wave)
    if run is None:
        abort(404)
    response = make_response(render_methods_pdf(appendix_context(wave, run)))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="methods-{wave.code}.pdf"'
    return response
