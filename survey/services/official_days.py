"""The official-day table in the database (holidays and make-up working days).

Seeded from ``chinesecalendar`` on first use; a bureau admin adds a later year
from the State Council's annual notice.  :func:`official_calendar` turns the
table into the pure :class:`reports.calendar.OfficialCalendar`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import delete, func, select

from reports.calendar import OfficialCalendar

from ..extensions import db
from ..models import OfficialDay
from .audit import record


def ensure_seeded() -> int:
    """Fill an empty table from ``chinesecalendar``; return the rows added (commits)."""
    if db.session.scalar(select(func.count(OfficialDay.id))):
        return 0
    seeded = OfficialCalendar.seeded()
    rows = []
    for year, entry in seeded.years.items():
        rows += [OfficialDay(day=d, year=year, kind="holiday") for d in entry.holidays]
        rows += [OfficialDay(day=d, year=year, kind="workday") for d in entry.workdays]
    db.session.add_all(rows)
    db.session.commit()
    return len(rows)


def official_calendar() -> OfficialCalendar:
    """Return the official calendar built from the table (seeding it if empty)."""
    ensure_seeded()
    by_year: dict[int, tuple[list[dt.date], list[dt.date]]] = {}
    for day, year, kind in db.session.execute(
        select(OfficialDay.day, OfficialDay.year, OfficialDay.kind)
    ):
        by_year.setdefault(year, ([], []))[0 if kind == "holiday" else 1].append(day)
    calendar = OfficialCalendar()
    for year, (holidays, workdays) in sorted(by_year.items()):
        calendar = calendar.with_year(year, holidays, workdays)
    return calendar


def parse_days(text: str) -> list[str]:
    """Split ``2027-01-01, 2027-02-10..2027-02-16`` into ISO dates (ranges expanded).

    Unreadable parts are returned as they are, so validation can name them.
    """
    out: list[str] = []
    for part in text.replace("，", ",").replace("\n", ",").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if ".." in part:
            first, _, last = part.partition("..")
            try:
                start, end = (
                    dt.date.fromisoformat(first.strip()),
                    dt.date.fromisoformat(last.strip()),
                )
            except ValueError:
                out.append(part)
                continue
            if end < start or (end - start).days > 31:
                out.append(part)
                continue
            out += [
                (start + dt.timedelta(days=k)).isoformat() for k in range((end - start).days + 1)
            ]
        else:
            out.append(part)
    return out


def set_year(
    year: int,
    holidays: Iterable[str | dt.date],
    workdays: Iterable[str | dt.date],
    *,
    user_id: int | None = None,
) -> OfficialCalendar:
    """Replace ``year`` in the table with the State Council's holidays and make-up days.

    Validates first (dates inside the year, no day both holiday and working day,
    make-up days on weekends): :raises reports.calendar.CalendarError: listing
    every problem, nothing changed.  Adds rows and an audit entry (not committed).
    """
    calendar = official_calendar().with_year(year, holidays, workdays)
    entry = calendar.years[year]
    before = db.session.scalar(select(func.count(OfficialDay.id)).where(OfficialDay.year == year))
    db.session.execute(delete(OfficialDay).where(OfficialDay.year == year))
    db.session.add_all(
        [OfficialDay(day=d, year=year, kind="holiday", source="admin") for d in entry.holidays]
        + [OfficialDay(day=d, year=year, kind="workday", source="admin") for d in entry.workdays]
    )
    record(
        "calendar.set_year",
        "OfficialCalendar",
        user_id=user_id,
        before={"year": year, "days": before},
        after={"year": year, "holidays": len(entry.holidays), "workdays": len(entry.workdays)},
    )
    return calendar
