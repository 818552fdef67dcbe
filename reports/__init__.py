"""Pure documents: rectification notices, ranking reports, publications, escalations.

``reports`` takes plain data (dataclasses and scores-JSON dicts, never a database
session), renders the Jinja templates in ``templates/reports/`` and writes PDFs
with WeasyPrint; it also holds the official working-day calendar for deadlines.

Names are imported lazily so that ``from reports.calendar import ...`` does not
load WeasyPrint or matplotlib.

Modules
-------
calendar     official-day table, ``add_working_days``, ``working_days_between``
models       input dataclasses (``NoticeData``, ``RankingData``, ...)
notice       ``build_notice_data``, ``render_notice_pdf``
ranking      ``build_ranking_data``, ``render_ranking_pdf``
followup     ``render_publication_pdf``, ``render_escalation_pdf``
bulk         ``generate_notices`` in parallel processes
pdf          ``create_pdf`` with a local-only URL fetcher
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "CalendarError": "calendar",
    "Deadline": "calendar",
    "OfficialCalendar": "calendar",
    "add_working_days": "calendar",
    "working_days_between": "calendar",
    "EscalationData": "models",
    "Letterhead": "models",
    "NoticeData": "models",
    "NoticeItem": "models",
    "OverdueItem": "models",
    "PublicationData": "models",
    "PublicationItem": "models",
    "RankingData": "models",
    "NoticeSettings": "notice",
    "build_notice_data": "notice",
    "render_notice_pdf": "notice",
    "RankingSettings": "ranking",
    "build_ranking_data": "ranking",
    "render_ranking_pdf": "ranking",
    "escalation_title": "wording",
    "render_escalation_pdf": "followup",
    "render_publication_pdf": "followup",
    "NoticeResult": "bulk",
    "generate_notices": "bulk",
    "create_pdf": "pdf",
    "DEFAULT_REQUIREMENT": "requirements",
    "check_templates": "requirements",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'reports' has no attribute {name!r}")
    return getattr(importlib.import_module(f"reports.{module}"), name)
