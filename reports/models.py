"""Plain input data for the documents; no database objects ever reach a template.

Score maps (``street_scores``, ``district_scores``) keep the shape of the scores
JSON (DESIGN.md section 5): ``{"score", "ci_low", "ci_high", "n", "dimensions":
{"D1": {...}}, "indicators": {"I01": {...}}}`` plus, for a street, ``rank``,
``rank_low``, ``rank_high`` and ``band``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reports.calendar import Deadline

ScoreMap = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Letterhead:
    """The red header of an official document (版头).

    Attributes
    ----------
    authority
        Issuing authority as signed under the text, e.g. ``南京市鼓楼区民政局``.
    mark
        发文机关标志 printed in red at the top, e.g. ``南京市鼓楼区民政局文件``.
    doc_number
        发文字号, e.g. ``鼓民整〔2026〕3号``.
    copy_to
        抄送 line of the 版记 (empty: none).
    printed_by
        印发机关 of the 版记, e.g. ``南京市鼓楼区民政局办公室`` (empty: the authority).
    """

    authority: str
    mark: str
    doc_number: str
    copy_to: str = ""
    printed_by: str = ""


@dataclass(frozen=True, slots=True)
class NoticeItem:
    """One rectification item (整改事项) in a notice.

    ``gap`` is street minus district score (negative when the street is behind);
    ``attention`` and ``satisfaction_rate`` are shares in 0..1 or ``None``;
    ``comments`` are redacted excerpts of what residents said, with no identities.
    """

    code: str
    name: str
    street_score: float
    district_score: float
    gap: float
    attention: float | None
    satisfaction_rate: float | None
    comments: tuple[str, ...]
    requirement: str
    street_ci: tuple[float, float] | None = None


@dataclass(frozen=True, slots=True)
class NoticeData:
    """Everything a rectification notice (整改通知书) shows, for one street."""

    letterhead: Letterhead
    title: str
    addressee: str
    street: str
    wave_name: str
    issue_date: dt.date
    deadline: Deadline
    deadline_days: int
    reply_address: str
    street_scores: ScoreMap
    district_scores: ScoreMap
    n_streets: int
    items: tuple[NoticeItem, ...]
    dimension_names: Mapping[str, str]
    indicator_names: Mapping[str, str]
    contact: str = ""
    min_n: int = 30


@dataclass(frozen=True, slots=True)
class RankingData:
    """The district ranking report (通报): every street of one scored wave."""

    letterhead: Letterhead
    title: str
    addressee: str
    wave_name: str
    issue_date: dt.date
    method: ScoreMap
    district: ScoreMap
    streets: tuple[ScoreMap, ...]
    dimension_names: Mapping[str, str]
    indicator_names: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PublicationItem:
    """One item of a public rectification list (整改公示).

    ``status`` is a plain word such as ``已完成`` / ``整改中``; ``result`` says what
    changed (may be empty while in progress).
    """

    indicator: str
    problem: str
    measures: str
    status: str
    result: str = ""
    deadline: dt.date | None = None


@dataclass(frozen=True, slots=True)
class PublicationData:
    """A street's public rectification list, signed by the street office."""

    street: str
    publisher: str
    wave_name: str
    issue_date: dt.date
    items: tuple[PublicationItem, ...]
    period_days: int = 7
    contact: str = ""


@dataclass(frozen=True, slots=True)
class OverdueItem:
    """An item past its deadline, with the new deadline set by the bureau.

    ``days_overdue`` counts working days after the original deadline.
    """

    indicator: str
    requirement: str
    original_deadline: dt.date
    days_overdue: int
    status: str
    new_deadline: Deadline


@dataclass(frozen=True, slots=True)
class EscalationData:
    """A follow-up notice (督办通知) for a street's overdue items."""

    letterhead: Letterhead
    title: str
    addressee: str
    street: str
    notice_number: str
    issue_date: dt.date
    items: tuple[OverdueItem, ...]
    reply_address: str = ""
    contact: str = ""
