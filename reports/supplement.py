"""补充说明: a dated supplement that re-determines provisional deadlines.

A deadline counted into a year whose official holidays were not yet entered is
provisional (暂定: Monday-Friday assumed there), and the notice promises that the
re-determined date applies once the holidays are published.  The issued notice
is never edited: this short document, dated and numbered, states the old and
the re-determined deadlines and the holiday arrangement they rest on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from reports.calendar import Deadline
from reports.layout import official_context
from reports.models import Letterhead
from reports.pdf import create_pdf
from reports.templating import render

STYLESHEETS = ("official.css",)


@dataclass(frozen=True, slots=True)
class RevisedDeadline:
    """One rectification item whose deadline was re-determined."""

    indicator: str
    old: dt.date
    new: Deadline


@dataclass(frozen=True, slots=True)
class SupplementData:
    """A supplement to an issued document (notice or 督办) of one street."""

    letterhead: Letterhead
    title: str
    addressee: str
    street: str
    document_number: str
    document_date: dt.date
    year: int
    issue_date: dt.date
    items: tuple[RevisedDeadline, ...]
    working_days: int


def render_supplement_html(data: SupplementData) -> str:
    """Render a 补充说明 as HTML."""
    context = official_context(data.letterhead, data.title)
    context.update(data=data, still_provisional=any(i.new.provisional for i in data.items))
    return render("supplement.html", context)


def render_supplement_pdf(data: SupplementData) -> bytes:
    """Render a 补充说明 re-determining provisional deadlines as PDF bytes."""
    return create_pdf(render_supplement_html(data), stylesheets=STYLESHEETS)
