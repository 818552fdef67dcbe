"""Official working-day calendar for rectification deadlines.

Deadlines count working days on China's official calendar: public holidays
(放假) are days off even on weekdays, and make-up working days (调休上班) are
working days even on weekends.  The table is seeded from ``chinesecalendar``
(which covers up to 2026); a bureau admin adds later years from the State
Council notice (国务院办公厅关于某年部分节假日安排的通知).  For a year missing
from the table we fall back to Monday-Friday and mark the deadline provisional
(暂定).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


class CalendarError(ValueError):
    """An official-year entry that cannot be used; ``problems`` lists every reason."""

    def __init__(self, year: int, problems: list[str]) -> None:
        self.year = year
        self.problems = problems
        lines = "\n".join(f"- {p}" for p in problems)
        super().__init__(f"the official holidays entered for {year} have problems:\n{lines}")


@dataclass(frozen=True, slots=True)
class OfficialYear:
    """One year of the official calendar: holiday dates and make-up working dates."""

    year: int
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]


@dataclass(frozen=True, slots=True)
class Deadline:
    """A computed deadline; ``provisional`` when any counted day lay in a year missing
    from the official table (Monday-Friday assumed there)."""

    date: dt.date
    provisional: bool = False


def _validate_year(year: int, holidays: set[dt.date], workdays: set[dt.date]) -> list[str]:
    problems: list[str] = []
    for label, days in (("holiday", holidays), ("make-up working day", workdays)):
        for d in sorted(days):
            if d.year != year:
                problems.append(f"{d.isoformat()} ({label}) is not in {year}")
    for d in sorted(holidays & workdays):
        problems.append(f"{d.isoformat()} is listed both as a holiday and as a working day")
    for d in sorted(workdays):
        if d.weekday() < 5:
            problems.append(
                f"{d.isoformat()} is a {d.strftime('%A')}: "
                "make-up working days must fall on a Saturday or Sunday"
            )
    return problems


def _as_dates(values: Iterable[dt.date | str], problems: list[str]) -> set[dt.date]:
    out: set[dt.date] = set()
    for value in values:
        if isinstance(value, dt.datetime):
            out.add(value.date())
        elif isinstance(value, dt.date):
            out.add(value)
        else:
            try:
                out.add(dt.date.fromisoformat(str(value).strip()))
            except ValueError:
                problems.append(f"{value!r} is not a date (write it as YYYY-MM-DD)")
    return out


@dataclass(frozen=True, slots=True)
class OfficialCalendar:
    """Table of official years; immutable, extended with :meth:`with_year`."""

    years: Mapping[int, OfficialYear] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def seeded(cls) -> OfficialCalendar:
        """Return the table seeded from ``chinesecalendar`` (2004 up to its last year)."""
        return _seeded()

    @property
    def known_years(self) -> tuple[int, ...]:
        """Years present in the table, ascending."""
        return tuple(sorted(self.years))

    def with_year(
        self,
        year: int,
        holidays: Iterable[dt.date | str],
        workdays: Iterable[dt.date | str] = (),
    ) -> OfficialCalendar:
        """Return a copy with ``year`` set from the State Council notice.

        Parameters
        ----------
        year
            The calendar year, e.g. 2027.
        holidays
            Every day off of the official holidays, weekends inside a holiday span included.
        workdays
            Make-up working days (调休上班); each must be a Saturday or Sunday.

        Raises
        ------
        CalendarError
            A ``ValueError`` listing every problem: dates outside ``year``, a day both
            holiday and working day, a make-up working day on a weekday, unreadable dates.
        """
        problems: list[str] = []
        if not 1900 <= year <= 2200:
            raise CalendarError(year, [f"{year} is not a plausible year"])
        hols = _as_dates(holidays, problems)
        works = _as_dates(workdays, problems)
        problems += _validate_year(year, hols, works)
        if problems:
            raise CalendarError(year, problems)
        table = dict(self.years)
        table[year] = OfficialYear(year, frozenset(hols), frozenset(works))
        return OfficialCalendar(MappingProxyType(table))

    def knows(self, day: dt.date) -> bool:
        """Whether ``day``'s year is in the official table."""
        return day.year in self.years

    def is_working_day(self, day: dt.date) -> bool:
        """Whether ``day`` is a working day (Monday-Friday for a year not in the table)."""
        entry = self.years.get(day.year)
        if entry is None:
            return day.weekday() < 5
        if day in entry.workdays:
            return True
        return day.weekday() < 5 and day not in entry.holidays


def add_working_days(start: dt.date, n: int, calendar: OfficialCalendar) -> Deadline:
    """Return the date ``n`` working days after ``start`` (``start`` itself not counted).

    Parameters
    ----------
    start
        The issue date.
    n
        Number of working days, ``n >= 0``; ``0`` returns ``start``.
    calendar
        The official-day table.

    Returns
    -------
    Deadline
        ``provisional`` is true when a day from ``start`` to the deadline lies in a year
        missing from the table.
    """
    if n < 0:
        raise ValueError(f"the number of working days must be 0 or more, not {n}")
    day = start
    provisional = not calendar.knows(day)
    counted = 0
    while counted < n:
        day += dt.timedelta(days=1)
        provisional = provisional or not calendar.knows(day)
        if calendar.is_working_day(day):
            counted += 1
    return Deadline(day, provisional)


def working_days_between(start: dt.date, end: dt.date, calendar: OfficialCalendar) -> int:
    """Count working days after ``start`` up to and including ``end``.

    Negative when ``end`` is before ``start`` (e.g. working days left before a
    deadline seen from after it); ``add_working_days(s, n).date`` gives back ``n``.
    """
    if end < start:
        return -working_days_between(end, start, calendar)
    count = 0
    day = start
    while day < end:
        day += dt.timedelta(days=1)
        if calendar.is_working_day(day):
            count += 1
    return count


def _seeded() -> OfficialCalendar:
    # chinesecalendar's tables: ``holidays`` are days off (weekends inside a holiday span
    # included), ``workdays`` are the make-up working days.
    from chinese_calendar import constants

    years: dict[int, tuple[set[dt.date], set[dt.date]]] = {}
    for d in constants.holidays:
        years.setdefault(d.year, (set(), set()))[0].add(d)
    for d in constants.workdays:
        years.setdefault(d.year, (set(), set()))[1].add(d)
    table = {y: OfficialYear(y, frozenset(h), frozenset(w)) for y, (h, w) in sorted(years.items())}
    return OfficialCalendar(MappingProxyType(table))
