"""Fixed notes in a rectification item's history, in the reader's language.

The system writes some history notes itself (上传佐证材料：…, 报送验收, 督办…).
They are stored in Chinese whatever the writer's language, so the record is
the same for everyone, and :func:`shown` puts them into the reader's language
when a page lists the history.  Notes people type (progress, reasons for a
return) are stored and shown as typed.
"""

from __future__ import annotations

import re

from ..i18n import _

PLAN_MADE = "制定整改方案"
PLAN_CHANGED = "修改整改方案"
SUBMITTED = "报送验收"
ACCEPTED = "通过验收"
EVIDENCE_ADDED = "上传佐证材料：%(f)s"
EVIDENCE_DELETED = "删除佐证材料：%(f)s"
ESCALATED = "督办（%(doc)s）：期限由%(old)s延至%(new)s"
REDETERMINED = (
    "整改期限重新核定：%(old)s（暂定）→ %(new)s；"
    "依据%(year)s年法定节假日安排，见%(doc)s补充说明（%(date)s）"
)
REDETERMINED_STILL = (
    "整改期限重新核定：%(old)s（暂定）→ %(new)s（仍为暂定）；"
    "依据%(year)s年法定节假日安排，见%(doc)s补充说明（%(date)s）"
)

NOTES = (
    PLAN_MADE,
    PLAN_CHANGED,
    SUBMITTED,
    ACCEPTED,
    EVIDENCE_ADDED,
    EVIDENCE_DELETED,
    ESCALATED,
    REDETERMINED_STILL,
    REDETERMINED,
)


def _pattern(msgid: str) -> re.Pattern[str]:
    body = re.sub(r"%\\\((\w+)\\\)s", r"(?P<\1>.+?)", re.escape(msgid))
    return re.compile(f"^{body}$", re.S)


_PATTERNS = [(msgid, _pattern(msgid)) for msgid in NOTES]


def stored(msgid: str, **params: object) -> str:
    """The Chinese note to store for the fixed note ``msgid`` (one of :data:`NOTES`)."""
    assert msgid in NOTES, msgid
    return msgid % params if params else msgid


def shown(note: str | None) -> str:
    """``note`` in the reader's language when it is a fixed note; otherwise as stored."""
    if not note:
        return ""
    for msgid, pattern in _PATTERNS:
        match = pattern.match(note)
        if match:
            return _(msgid, **match.groupdict())
    return note
