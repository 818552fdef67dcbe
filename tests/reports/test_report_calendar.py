"""Working-day deadlines on the official calendar (State Council holiday notices)."""

from __future__ import annotations

import datetime as dt

import pytest

from reports.calendar import (
    CalendarError,
    OfficialCalendar,
    add_working_days,
    working_days_between,
)

D = dt.date


@pytest.fixture(scope="module")
def calendar() -> OfficialCalendar:
    return OfficialCalendar.seeded()


def test_thirty_working_days_after_2026_03_31(calendar: OfficialCalendar) -> None:
    # Counted by hand from 国办发明电〔2025〕7号 (2026 holidays): 清明 4月4日-6日 off,
    # 劳动节 5月1日-5日 off, 5月9日 (Saturday) a working day.
    april = [D(2026, 4, d) for d in (1, 2, 3, 7, 8, 9, 10, 13, 14, 15, 16, 17)]
    april += [D(2026, 4, d) for d in (20, 21, 22, 23, 24, 27, 28, 29, 30)]
    may = [D(2026, 5, d) for d in (6, 7, 8, 9, 11, 12, 13, 14, 15)]
    by_hand = april + may
    assert len(by_hand) == 30
    deadline = add_working_days(D(2026, 3, 31), 30, calendar)
    assert deadline.date == by_hand[-1] == D(2026, 5, 15)
    assert not deadline.provisional
    assert working_days_between(D(2026, 3, 31), D(2026, 5, 15), calendar) == 30
    assert working_days_between(D(2026, 5, 15), D(2026, 3, 31), calendar) == -30


def test_national_day_span_with_make_up_days(calendar: OfficialCalendar) -> None:
    # 2025: 10月1日-8日 off; 9月28日 (Sunday) and 10月11日 (Saturday) are working days.
    start = D(2025, 9, 26)  # Friday
    assert add_working_days(start, 1, calendar).date == D(2025, 9, 28)
    assert add_working_days(start, 3, calendar).date == D(2025, 9, 30)
    assert add_working_days(start, 4, calendar).date == D(2025, 10, 9)
    assert add_working_days(start, 6, calendar).date == D(2025, 10, 11)
    assert calendar.is_working_day(D(2025, 10, 11))
    assert not calendar.is_working_day(D(2025, 10, 6))  # a Monday inside the holiday


def test_issue_date_not_counted_and_zero_days(calendar: OfficialCalendar) -> None:
    assert add_working_days(D(2026, 3, 30), 1, calendar).date == D(2026, 3, 31)
    assert add_working_days(D(2026, 3, 31), 0, calendar).date == D(2026, 3, 31)
    with pytest.raises(ValueError, match="0 or more"):
        add_working_days(D(2026, 3, 31), -1, calendar)


def test_missing_year_falls_back_to_weekdays_and_is_provisional(
    calendar: OfficialCalendar,
) -> None:
    assert 2027 not in calendar.known_years
    deadline = add_working_days(D(2026, 12, 25), 10, calendar)
    # Dec 28-31 (4) + Fri Jan 1 + Jan 4-8 counted Monday-Friday
    assert deadline.date == D(2027, 1, 8)
    assert deadline.provisional


def test_adding_a_year_changes_the_result(calendar: OfficialCalendar) -> None:
    with_2027 = calendar.with_year(2027, ["2027-01-01", "2027-01-02", "2027-01-03"])
    deadline = add_working_days(D(2026, 12, 25), 10, with_2027)
    assert deadline.date == D(2027, 1, 11)  # New Year's Day is off now
    assert not deadline.provisional
    assert 2027 not in calendar.known_years  # the original table is unchanged


def test_make_up_working_day_counts_in_an_added_year(calendar: OfficialCalendar) -> None:
    cal = calendar.with_year(2030, holidays=[D(2030, 2, 4)], workdays=[D(2030, 2, 9)])
    assert cal.is_working_day(D(2030, 2, 9))  # a Saturday
    assert not cal.is_working_day(D(2030, 2, 4))  # a Monday


def test_validation_lists_every_problem(calendar: OfficialCalendar) -> None:
    with pytest.raises(CalendarError) as caught:
        calendar.with_year(
            2027,
            holidays=["2027-01-01", "2026-10-01", "2027-13-01"],
            workdays=["2027-01-01", "2027-01-04"],
        )
    message = str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert "2026-10-01 (holiday) is not in 2027" in message
    assert "2027-01-01 is listed both as a holiday and as a working day" in message
    assert "2027-01-04 is a Monday" in message and "Saturday or Sunday" in message
    assert "'2027-13-01' is not a date" in message
    assert len(caught.value.problems) == 5  # 2027-01-01 is also a Friday
