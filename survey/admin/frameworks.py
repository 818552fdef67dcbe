"""Framework versions: view, edit, TOML import/export, AHP dimension weights."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from scoring.framework import FrameworkError
from scoring.weights import AHPResult

from ..auth.decorators import ADMIN, BUREAU, roles_required
from ..auth.scope import in_visible
from ..downloads import content_disposition
from ..errors import UserError, attempt
from ..extensions import db
from ..models import Framework, Wave
from ..services import framework_edit
from ..services.framework_words import problems_words
from ..services.frameworks import spec_of
from . import bp
from .forms import FrameworkImportForm, ahp_form, framework_form

MAX_TOML = 256 * 1024


def _framework(fid: int) -> Framework:
    row = db.session.get(Framework, fid)
    if row is None:
        abort(404)
    return row


def _frameworks_page(
    import_form: FrameworkImportForm | None = None,
    problems: list[str] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    rows = db.session.scalars(select(Framework).order_by(Framework.code, Framework.version)).all()
    used: dict[int, list[str]] = {}
    for code, fid in db.session.execute(
        in_visible(select(Wave.code, Wave.framework_id), Wave.district_id).order_by(Wave.id)
    ):
        used.setdefault(fid, []).append(code)
    return render_template(
        "admin/frameworks.html",
        rows=rows,
        used=used,
        import_form=import_form or FrameworkImportForm(),
        problems=problems or [],
    ), status


@bp.get("/frameworks")
@roles_required(*BUREAU)
def frameworks() -> ResponseReturnValue:
    """List framework versions, with TOML import."""
    return _frameworks_page()


@bp.post("/frameworks/import")
@roles_required(*ADMIN)
def import_framework() -> ResponseReturnValue:
    """Validate an uploaded TOML framework and store it (a new version if frozen)."""
    form = FrameworkImportForm()
    if not form.validate_on_submit():
        return _frameworks_page(form, status=400)
    upload = form.file.data
    data = upload.read(MAX_TOML + 1)
    if len(data) > MAX_TOML:
        return _frameworks_page(form, [_("文件超过 256 KB。")], 400)
    try:
        text = data.decode("utf-8-sig")
        row = framework_edit.import_framework(
            text, filename=upload.filename or "framework.toml", user_id=current_user.id
        )
    except UnicodeDecodeError:
        return _frameworks_page(form, [_("文件不是 UTF-8 文本。")], 400)
    except FrameworkError as exc:
        db.session.rollback()
        return _frameworks_page(form, problems_words(exc.found), 400)
    db.session.commit()
    flash(_("已导入指标体系 %(label)s。", label=row.label), "success")
    return redirect(url_for("admin.framework", fid=row.id))


@bp.get("/frameworks/<int(max=9223372036854775807):fid>/export")
@roles_required(*BUREAU)
def export_framework(fid: int) -> ResponseReturnValue:
    """Download a framework version as TOML."""
    row = _framework(fid)
    return Response(
        row.toml,
        mimetype="application/toml",
        headers={"Content-Disposition": content_disposition(f"{row.code}-v{row.version}.toml")},
    )


def _framework_page(
    row: Framework, form: FlaskForm, problems: Iterable[str] = (), status: int = 200
) -> tuple[str, int]:
    spec = spec_of(row)
    waves = db.session.scalars(
        in_visible(select(Wave).where(Wave.framework_id == row.id), Wave.district_id)
    ).all()
    return render_template(
        "admin/framework.html", row=row, spec=spec, form=form, problems=list(problems), waves=waves
    ), status


@bp.get("/frameworks/<int(max=9223372036854775807):fid>")
@roles_required(*BUREAU)
def framework(fid: int) -> ResponseReturnValue:
    """Show a framework version with its editor."""
    row = _framework(fid)
    return _framework_page(row, framework_form(spec_of(row)))


@bp.post("/frameworks/<int(max=9223372036854775807):fid>")
@roles_required(*ADMIN)
def edit_framework(fid: int) -> ResponseReturnValue:
    """Save texts, shares and weights (a frozen version becomes a new version)."""
    row = _framework(fid)
    spec = spec_of(row)
    form = framework_form(spec, formdata=request.form)
    if not form.validate_on_submit():
        return _framework_page(row, form, [_("请检查标红的字段。")], 400)
    edit = framework_edit.FrameworkEdit(
        name=form.name.data.strip(),
        indicator_names={i.code: form[f"ind_name_{i.code}"].data.strip() for i in spec.indicators},
        indicator_questions={i.code: form[f"ind_q_{i.code}"].data.strip() for i in spec.indicators},
        indicator_weights={i.code: form[f"ind_w_{i.code}"].data for i in spec.indicators},
        group_names={g.code: form[f"grp_name_{g.code}"].data.strip() for g in spec.groups},
        group_shares={g.code: form[f"grp_share_{g.code}"].data for g in spec.groups},
        dimension_weights={d.code: form[f"dim_w_{d.code}"].data for d in spec.dimensions},
    )
    try:
        stored = framework_edit.edit_framework(row, edit, user_id=current_user.id)
    except FrameworkError as exc:
        db.session.rollback()
        return _framework_page(row, form, problems_words(exc.found), 400)
    db.session.commit()
    if stored.id == row.id:
        flash(_("已保存。") if stored.sha256 != row.sha256 else _("没有改动。"), "success")
    else:
        flash(
            _("该版本已被测评批次使用，修改已保存为新版本 %(label)s。", label=stored.label),
            "success",
        )
    return redirect(url_for("admin.framework", fid=stored.id))


def _ahp_page(
    row: Framework,
    form: FlaskForm,
    result: AHPResult | None = None,
    error: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    spec = spec_of(row)
    return render_template(
        "admin/ahp.html", row=row, spec=spec, form=form, result=result, error=error
    ), status


@bp.get("/frameworks/<int(max=9223372036854775807):fid>/ahp")
@roles_required(*BUREAU)
def ahp(fid: int) -> ResponseReturnValue:
    """Show the AHP pairwise-comparison editor for dimension weights."""
    row = _framework(fid)
    weights = [d.weight for d in spec_of(row).dimensions]
    return _ahp_page(row, ahp_form(len(weights), framework_edit.ahp_defaults(weights)))


@bp.post("/frameworks/<int(max=9223372036854775807):fid>/ahp")
@roles_required(*ADMIN)
def ahp_post(fid: int) -> ResponseReturnValue:
    """Compute AHP weights (and apply them to a new or draft version when asked)."""
    row = _framework(fid)
    n = len(spec_of(row).dimensions)
    form = ahp_form(n)
    if not form.validate_on_submit():
        return _ahp_page(row, form, error=_("请填写上三角的每一格（1/9 到 9）。"), status=400)
    upper = {(i, j): form[f"a_{i}_{j}"].data for i in range(n) for j in range(i + 1, n)}

    def compute() -> tuple[Framework | None, AHPResult]:
        try:
            matrix = framework_edit.ahp_matrix(upper, n)
            if form.do.data == "apply":
                return framework_edit.apply_ahp(row, matrix, user_id=current_user.id)
            labels = [f"{d.code} {d.name}" for d in spec_of(row).dimensions]
            return None, framework_edit.ahp_for(matrix, labels)
        except FrameworkError as exc:  # the framework's problems, in the reader's words
            raise UserError("；".join(problems_words(exc.found))) from exc

    done = attempt(compute, show=False)
    if done.failed:
        return _ahp_page(row, form, error=done.message, status=done.status)
    stored, result = done.result
    if stored is None:
        return _ahp_page(row, form, result=result)
    flash(
        _(
            "已按层次分析法更新维度权重（CR = %(cr).3f），保存为 %(label)s。",
            cr=result.cr,
            label=stored.label,
        ),
        "success",
    )
    return redirect(url_for("admin.framework", fid=stored.id))


@bp.app_template_filter("reciprocal")
def reciprocal(text: object) -> str:
    """Show the implied lower-triangle judgement, e.g. ``3`` -> ``1/3``, ``2/3`` -> ``3/2``."""
    from fractions import Fraction

    try:
        value = Fraction(str(text).strip().replace("／", "/")).limit_denominator(100)
    except (ValueError, ZeroDivisionError):
        return "—"
    if value <= 0:
        return "—"
    return str(1 / value)
