"""Sample and weighting of a wave: design effects, response rates, sample vs population."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import FloatField
from wtforms.validators import NumberRange, Optional

from scoring.population import AGE_BANDS, GENDERS
from scoring.raking import TRIM_RANGE

from ..auth.decorators import ADMIN, BUREAU, roles_required
from ..errors import attempt
from ..services import results as res
from ..services.population import current_population
from ..services.sample_quality import (
    QUOTA_WARNING,
    SHARE_WARNING,
    response_rates,
    sample_vs_population,
    set_trim,
)
from ..services.scoring_runs import current_run
from . import bp
from .waves import get_wave_or_404


class TrimForm(FlaskForm):
    """Raking's weight trimming bounds for a wave (both empty: no trimming)."""

    trim_low = FloatField(
        _l("下限（格平均调整系数的倍数）"),
        validators=[
            Optional(),
            NumberRange(TRIM_RANGE[0], 0.99, _l("下限须在 0.01 到 0.99 之间。")),
        ],
    )
    trim_high = FloatField(
        _l("上限（格平均调整系数的倍数）"),
        validators=[
            Optional(),
            NumberRange(1.01, TRIM_RANGE[1], _l("上限须在 1.01 到 100 之间。")),
        ],
    )

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        ok = bool(super().validate(extra_validators))
        if ok and (self.trim_low.data is None) != (self.trim_high.data is None):
            empty = self.trim_low if self.trim_low.data is None else self.trim_high
            empty.errors = [_("上下限要么都填，要么都不填（不截尾）。")]
            ok = False
        return ok


@bp.get("/waves/<code>/sample")
@roles_required(*BUREAU)
def sample(code: str, trim_form: TrimForm | None = None, status: int = 200) -> ResponseReturnValue:
    """Show the wave's weighting, design effects, response rates and sample composition."""
    wave = get_wave_or_404(code)
    if trim_form is None:
        trim_form = TrimForm(
            formdata=None, data={"trim_low": wave.trim_low, "trim_high": wave.trim_high}
        )
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
        trim_form=trim_form,
    ), status


@bp.post("/waves/<code>/sample/trim")
@roles_required(*ADMIN)
def sample_trim(code: str) -> ResponseReturnValue:
    """Set the wave's weight trimming bounds (used by its next raked scoring)."""
    wave = get_wave_or_404(code)
    form = TrimForm()
    if not form.validate_on_submit():
        return sample(code, trim_form=form, status=400)
    done = attempt(
        lambda: set_trim(wave, form.trim_low.data, form.trim_high.data, user_id=current_user.id),
        form=form,
    )
    if done.failed:
        return sample(code, trim_form=form, status=done.status)
    bounds = done.result
    if bounds is None:
        flash(_("已设为不截尾；下次按人口数加权计分时生效。"), "success")
    else:
        flash(
            _(
                "已设置权重截尾：调整系数限制在格平均的 %(lo)s 至 %(hi)s 倍；"
                "下次按人口数加权计分时生效。",
                lo=f"{bounds[0]:g}",
                hi=f"{bounds[1]:g}",
            ),
            "success",
        )
    return redirect(url_for("admin.sample", code=wave.code) + "#trim")


@bp.get("/waves/<code>/methods")
@roles_required(*BUREAU)
def methods(code: str) -> ResponseReturnValue:
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
def methods_pdf(code: str) -> ResponseReturnValue:
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
