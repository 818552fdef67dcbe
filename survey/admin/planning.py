"""Sample-size planner: respondents per street x group for a target half-width; plan → quotas."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from scoring.framework import load_default_framework

from ..auth.decorators import roles_required
from ..auth.scope import current_district
from ..errors import attempt
from ..extensions import db
from ..models import District, Wave
from ..services.frameworks import spec_of
from ..services.planning import apply_plan, make_plan, scored_waves
from . import bp
from .forms import ConfirmForm

VIEW = ("admin", "viewer", "agency")
CHANGE = ("admin", "agency")


def _district() -> District:
    district = current_district()
    if district is None:
        abort(409, _("还没有区县数据。"))
    return district


def _params() -> tuple[float | None, str, str | None, str | None, list[str]]:
    errors: list[str] = []
    raw = (request.values.get("half_width") or "2").strip()
    try:
        half = float(raw)
        if not 0.2 <= half <= 50:
            raise ValueError
    except ValueError:
        errors.append(_("区间半宽须为 0.2 到 50 之间的分数。"))
        half = None
    target = request.values.get("target", "overall")
    if target not in ("overall", "indicator", "change"):
        target = "overall"
    indicator = request.values.get("indicator") or None
    source = request.values.get("source") or None
    return half, target, indicator, source, errors


def _plan_page(status: int = 200, errors: list[str] | None = None) -> tuple[str, int]:
    district = _district()
    half, target, indicator, source_code, problems = _params()
    problems += errors or []
    waves = scored_waves(district)
    source = next((w for w in waves if w.code == source_code), None)
    if source_code is None and waves:
        source = waves[0]
    framework = spec_of(source.framework) if source else load_default_framework()
    plan = None
    if half is not None:
        done = attempt(
            lambda: make_plan(
                district,
                half,
                target=target,
                indicator=indicator,
                source=source,
                framework=framework,
            ),
            show=False,
            commit=False,
        )
        if done.failed:
            problems.append(done.message)
        else:
            plan = done.result
    open_waves = db.session.scalars(
        select(Wave)
        .where(Wave.district_id == district.id, Wave.state.in_(("draft", "fieldwork")))
        .order_by(Wave.created_at.desc())
    ).all()
    return render_template(
        "admin/planning.html",
        district=district,
        plan=plan,
        half=half,
        target=target,
        indicator=indicator,
        source=source,
        waves=waves,
        open_waves=open_waves,
        framework=framework,
        groups={g.code: g.name for g in framework.groups},
        problems=problems,
        confirm=ConfirmForm(),
    ), status


@bp.get("/planning")
@roles_required(*VIEW)
def planning() -> ResponseReturnValue:
    """Show the sample-size planner and its plan."""
    return _plan_page()


@bp.post("/planning/apply")
@roles_required(*CHANGE)
def apply_planning() -> ResponseReturnValue:
    """Write the plan as the quotas of a draft or fieldwork wave (audit-logged)."""
    form = ConfirmForm()
    district = _district()
    half, target, indicator, source_code, problems = _params()
    wave = db.session.scalar(
        select(Wave).where(
            Wave.code == request.form.get("wave", ""), Wave.district_id == district.id
        )
    )
    if not form.validate_on_submit() or wave is None or half is None or problems:
        return _plan_page(400, [_("请选择要设置配额的测评批次。")] if wave is None else [])
    source = next((w for w in scored_waves(district) if w.code == source_code), None)

    def apply() -> int:
        plan = make_plan(
            district,
            half,
            target=target,
            indicator=indicator,
            source=source,
            framework=spec_of(wave.framework),
        )
        return apply_plan(plan, wave, user_id=current_user.id)

    done = attempt(apply, show=False)
    if done.failed:
        return _plan_page(done.status, [done.message])
    changed = done.result
    flash(_("已按抽样方案设置 %(n)s 个配额。", n=changed), "success")
    if current_user.role == "agency":
        return redirect(url_for("agency.dashboard", code=wave.code))
    return redirect(url_for("admin.quotas", code=wave.code))
