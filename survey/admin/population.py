"""Population margins: the counts raking and the district reference use (versioned)."""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from scoring.population import AGE_BANDS, GENDERS, TOTAL, TOTAL_CATEGORY, PopulationError

from ..auth.decorators import ADMIN, BUREAU, roles_required
from ..auth.scope import current_district
from ..extensions import db
from ..models import District
from ..services import population as pop_service
from . import bp
from .forms import ConfirmForm, PopulationImportForm

MAX_POPULATION_FILE = 5 * 1024 * 1024


def _district() -> District:
    district = current_district()
    if district is None:
        abort(409, _("还没有区县数据。"))
    return district


def _page(
    district: District,
    form: PopulationImportForm | None = None,
    problems: list[str] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    current = pop_service.current_population(district)
    return render_template(
        "admin/population.html",
        district=district,
        current=current,
        versions=pop_service.versions(district),
        table=pop_service.street_table(district, current),
        groups=pop_service.group_names(),
        age_bands=AGE_BANDS,
        genders=GENDERS,
        form=form or PopulationImportForm(),
        problems=problems or [],
    ), status


@bp.get("/population")
@roles_required(*BUREAU)
def population() -> ResponseReturnValue:
    """Show the current population margins, their versions and the import form."""
    return _page(_district())


@bp.post("/population/import")
@roles_required(*ADMIN)
def import_population() -> ResponseReturnValue:
    """Import a margins CSV/XLSX as a new version (all or nothing, every problem listed)."""
    district = _district()
    form = PopulationImportForm()
    if not form.validate_on_submit():
        return _page(district, form, status=400)
    upload = form.file.data
    data = upload.read(MAX_POPULATION_FILE + 1)
    if len(data) > MAX_POPULATION_FILE:
        return _page(district, form, [_("文件不能超过 5 MB。")], 400)
    try:
        parsed = pop_service.parse_population(district, data, upload.filename or "")
    except PopulationError as exc:
        return _page(district, form, exc.problems, 400)
    version, created = pop_service.store_population(
        district,
        parsed,
        filename=upload.filename or "",
        note=form.note.data or "",
        user_id=current_user.id,
    )
    db.session.commit()
    if created:
        flash(_("已导入人口数，保存为第 %(v)s 版。", v=version.version), "success")
    else:
        flash(_("文件与第 %(v)s 版完全相同，未新建版本。", v=version.version), "info")
    return redirect(url_for("admin.population"))


def _edit_page(
    district: District, values: dict[str, str], problems: list[str], status: int = 200
) -> tuple[str, int]:
    return render_template(
        "admin/population_edit.html",
        district=district,
        groups=pop_service.group_names(),
        variables=(("age_band", AGE_BANDS), ("gender", GENDERS), (TOTAL, (TOTAL_CATEGORY,))),
        values=values,
        problems=problems,
        confirm=ConfirmForm(),
    ), status


@bp.get("/population/edit")
@roles_required(*BUREAU)
def edit_population() -> ResponseReturnValue:
    """Show the entry grid, filled with the current version's counts."""
    district = _district()
    current = pop_service.current_population(district)
    values: dict[str, str] = {}
    for m in current.margins if current is not None else []:
        count = int(m.count) if float(m.count).is_integer() else m.count
        values[f"m-{m.street_id}-{m.group_code}-{m.variable}-{m.category}"] = str(count)
    return _edit_page(district, values, [])


@bp.post("/population/edit")
@roles_required(*ADMIN)
def save_population() -> ResponseReturnValue:
    """Store the entry grid as a new version (validated like an imported file)."""
    district = _district()
    form = ConfirmForm()
    values = {k: v for k, v in request.form.items() if k.startswith("m-")}
    if not form.validate_on_submit():
        return _edit_page(district, values, [_("表单已过期，请重新提交。")], 400)
    try:
        parsed = pop_service.parse_form(district, values)
    except PopulationError as exc:
        return _edit_page(district, values, exc.problems, 400)
    version, created = pop_service.store_population(
        district, parsed, source="form", user_id=current_user.id
    )
    db.session.commit()
    if created:
        flash(_("已保存人口数为第 %(v)s 版。", v=version.version), "success")
    else:
        flash(_("人口数没有变化，未新建版本。"), "info")
    return redirect(url_for("admin.population"))


@bp.get("/population/v<int:n>.<fmt>")
@roles_required(*BUREAU)
def download_population(n: int, fmt: str) -> ResponseReturnValue:
    """Download a population version as CSV or XLSX."""
    if fmt not in ("csv", "xlsx"):
        abort(404)
    district = _district()
    try:
        version = pop_service.get_version(district, n)
    except LookupError:
        abort(404)
    data = pop_service.export_population(version, fmt)
    response = make_response(data)
    response.headers["Content-Type"] = (
        "text/csv; charset=utf-8"
        if fmt == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response.headers["Content-Disposition"] = (
        f'attachment; filename="population-{district.code}-v{n}.{fmt}"'
    )
    return response
