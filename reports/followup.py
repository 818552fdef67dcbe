"""Public rectification list (整改公示) and follow-up notice for overdue items (督办通知)."""

from __future__ import annotations

import datetime as dt

from reports import wording
from reports.layout import official_context, title_lines
from reports.models import EscalationData, PublicationData
from reports.pdf import create_pdf
from reports.templating import render

STYLESHEETS = ("official.css",)


def render_publication_html(data: PublicationData) -> str:
    """Render a street's public rectification list as HTML."""
    title = wording.publication_title(data.street, data.wave_name)
    period_end = data.issue_date + dt.timedelta(days=max(data.period_days, 1) - 1)
    context = {
        "data": data,
        "title": title,
        "title_lines": title_lines(title),
        "period_end": period_end,
    }
    return render("publication.html", context)


def render_publication_pdf(data: PublicationData) -> bytes:
    """Render a street's public rectification list (整改公示) as PDF bytes."""
    return create_pdf(render_publication_html(data), stylesheets=STYLESHEETS)


def render_escalation_html(data: EscalationData) -> str:
    """Render a follow-up notice (督办通知) as HTML."""
    context = official_context(data.letterhead, data.title)
    context.update(data=data, provisional=any(i.new_deadline.provisional for i in data.items))
    return render("escalation.html", context)


def render_escalation_pdf(data: EscalationData) -> bytes:
    """Render a follow-up notice (督办通知) for overdue items as PDF bytes."""
    return create_pdf(render_escalation_html(data), stylesheets=STYLESHEETS)
