"""The official working-day calendar: see known years, enter a new year."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from reports.calendar import CalendarError

from ..auth.decorators import ADMIN, BUREAU, roles_required
from ..extensions import db
from ..models import AuditLog
from ..services.deadlines import DeadlineChange, enter_year, recorded_changes
from ..services.official_days import official_calendar, parse_days
from . import bp
from .forms import CalendarYearForm


def _page(
    form: CalendarYearForm,
    problems: list[str] | None = None,
    status: int = 200,
    changes: list[DeadlineChange] | None = None,
) -> tuple[str, int]:
    table = official_calendar()
    years = [
        (y, len(table.years[y].holidays), len(table.years[y].workdays))
        for y in sorted(table.years, reverse=True)[:8]
    ]
    return render_template(
        "admin/notices/calendar.html",
        form=form,
        years=years,
        problems=problems or [],
        last=max(table.known_years),
        changes=changes,
    ), status


@bp.get("/calendar")
@roles_required(*BUREAU)
def calendar() -> ResponseReturnValue:
    """Show the official calendar's years (and the deadlines a year entry moved)."""
    changes = None
    wanted = request.args.get("redetermined", "")
    if wanted.isdigit() and len(wanted) < 19:
        changes = recorded_changes(int(wanted))
    return _page(CalendarYearForm(), changes=changes)


@bp.post("/calendar")
@roles_required(*ADMIN)
def calendar_set_year() -> ResponseReturnValue:
    """Enter (or replace) a year from the State Council's holiday notice."""
    form = CalendarYearForm()
    if not form.validate_on_submit():
        return _page(form, status=400)
    try:
        _table, changes = enter_year(
            form.year.data,
            parse_days(form.holidays.data),
            parse_days(form.workdays.data or ""),
            user_id=current_user.id,
        )
    except CalendarError as exc:
        db.session.rollback()
        return _page(form, exc.problems, status=400)
    db.session.commit()
    flash(_("已保存 %(year)s 年的法定节假日安排。", year=form.year.data), "success")
    if changes:
        flash(
            _(
                "%(n)s 项整改事项的暂定期限已重新核定，已向有关街道下发补充说明。",
                n=len(changes),
            ),
            "success",
        )
    if changes:
        entry = db.session.scalar(
            select(AuditLog)
            .where(AuditLog.action == "deadline.redetermine")
            .order_by(AuditLog.id.desc())
            .limit(1)
        )
        if entry is not None:
            return redirect(
                url_for("admin.calendar", redetermined=entry.id, _anchor="redetermined"), 303
            )
    return redirect(url_for("admin.calendar"), 303)
