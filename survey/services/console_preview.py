"""What the bureau is about to do, shown before it does it: issuing notices, publishing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from reports.calendar import add_working_days
from reports.notice import build_notice_data

from ..models import Street, Wave
from .notices import _names, _scores, next_sequence, notice_settings


@dataclass(frozen=True, slots=True)
class IssueRow:
    street: Street
    doc_number: str
    items: int  # rectification items the notice will carry (0: nothing to rectify)
    title: str  # 关于…的整改通知书, or the 测评结果告知书 of a street with nothing to rectify


@dataclass(frozen=True, slots=True)
class IssuePreview:
    rows: list[IssueRow]
    ranking_number: str  # the 通报 takes the number after the streets'
    first_number: str
    last_number: str
    deadline: dt.date
    deadline_provisional: bool
    days: int
    issue_date: dt.date

    @property
    def documents(self) -> int:
        return len(self.rows) + 1

    @property
    def items(self) -> int:
        return sum(r.items for r in self.rows)

    @property
    def without_items(self) -> list[IssueRow]:
        return [r for r in self.rows if r.items == 0]


def issue_preview(wave: Wave, issue_date: dt.date, days: int | None) -> IssuePreview:
    """The documents that issuing would create now: numbers, streets, items, deadline.

    Reads only; numbers, kinds and items come from the same document builder as
    issuing (consecutive from the next free number of the year, streets in the
    district's order, then the 通报), without rendering any PDF.

    :raises UserError: the wave has no scoring run.
    """
    settings = notice_settings(wave, issue_date, days)
    scores = _scores(wave)
    dims, inds = _names(wave)
    scored = {r["street"] for r in scores["streets"]}
    seq = next_sequence(settings.doc_prefix, issue_date.year)
    rows: list[IssueRow] = []
    for street in wave.district.streets:
        if street.name not in scored:
            continue
        data = build_notice_data(
            scores,
            street.name,
            settings,
            seq=seq + len(rows),
            dimension_names=dims,
            indicator_names=inds,
        )
        rows.append(IssueRow(street, data.letterhead.doc_number, len(data.items), data.title))
    deadline = add_working_days(issue_date, settings.deadline_days, settings.calendar)
    ranking = settings.doc_number(seq + len(rows))
    return IssuePreview(
        rows=rows,
        ranking_number=ranking,
        first_number=rows[0].doc_number if rows else ranking,
        last_number=ranking,
        deadline=deadline.date,
        deadline_provisional=deadline.provisional,
        days=settings.deadline_days,
        issue_date=issue_date,
    )
