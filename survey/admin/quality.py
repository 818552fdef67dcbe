"""Data-quality review: flagged responses, exclusion and restore with a reason."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.decorators import ADMIN, BUREAU, roles_required
from ..edges import bounded_int
from ..errors import attempt
from ..extensions import db
from ..models import Response, Wave
from ..services import quality_review
from ..services.scoring_runs import current_run
from ..services.source_influence import channel_names, kind_names, wave_source_summary
from . import bp
from .forms import ConfirmForm, ExclusionForm
from .waves import get_wave_or_404


def _page(wave: Wave, status: int = 200, form: ExclusionForm | None = None) -> tuple[str, int]:
    show = request.args.get("show", "flagged")
    if show not in ("flagged", "excluded", "all"):
        show = "flagged"
    page = max(request.args.get("page", 1, type=bounded_int) or 1, 1)
    rows, total = quality_review.review_page(wave, show=show, page=page)
    run = current_run(wave)
    return render_template(
        "admin/quality.html",
        wave=wave,
        rows=rows,
        total=total,
        show=show,
        page=page,
        per_page=quality_review.PAGE,
        form=form or ExclusionForm(),
        confirm=ConfirmForm(),
        locked=wave.state not in quality_review.REVIEW_STATES,
        stale=wave.state == "scored" and quality_review.run_is_stale(wave, run),
        sources=wave_source_summary(wave),
        source_kinds=kind_names(),
        channel_names=channel_names(),
    ), status


@bp.get("/waves/<code>/quality")
@roles_required(*BUREAU)
def quality(code: str) -> ResponseReturnValue:
    """List flagged and excluded responses with their reasons."""
    return _page(get_wave_or_404(code))


@bp.post("/waves/<code>/quality/check")
@roles_required(*ADMIN)
def quality_check(code: str) -> ResponseReturnValue:
    """Run the speeder and straight-lining checks over the wave's responses."""
    wave = get_wave_or_404(code)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    done = attempt(lambda: quality_review.run_quality_checks(wave, user_id=current_user.id))
    if done.failed:
        return _page(wave, done.status)
    n = done.result
    flash(_("质量检查完成：新标记 %(n)s 份答卷。", n=n), "success")
    return redirect(url_for("admin.quality", code=wave.code))


@bp.post("/waves/<code>/responses/<int(max=9223372036854775807):response_id>/exclusion")
@roles_required(*ADMIN)
def exclusion(code: str, response_id: int) -> ResponseReturnValue:
    """Exclude a response from scoring or restore it; a reason is required."""
    wave = get_wave_or_404(code)
    response = db.session.get(Response, response_id)
    if response is None or response.wave_id != wave.id:
        abort(404)
    form = ExclusionForm()
    if not form.validate_on_submit():
        flash(_("请填写理由（至少 2 个字）。"), "error")
        return _page(wave, 400, form)
    done = attempt(
        lambda: quality_review.set_exclusion(
            response, form.action.data == "exclude", form.reason.data, user_id=current_user.id
        )
    )
    if done.failed:
        return _page(wave, done.status, form)
    flash(
        _(
            "答卷 %(id)s 已%(what)s。",
            id=response.public_id,
            what=_("排除") if response.excluded else _("恢复"),
        ),
        "success",
    )
    if wave.state == "scored":
        flash(_("数据已变化：请重新计分，结果才会反映这次复核。"), "error")
    return redirect(
        url_for("admin.quality", code=wave.code, show=request.args.get("show", "flagged"))
    )
