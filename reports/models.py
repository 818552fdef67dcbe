"""Plain input data for the documents; no database objects ever reach a template.

Score maps (``street_scores``, ``district_scores``) keep the shape of the scores
JSON (docs/scores-json.md): ``{"score", "ci_low", "ci_high", "n", "dimensions":
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
class FunnelPoint:
    """One street on a funnel plot: its gap to the district and the gap's standard error.

    ``band`` is the consequence band (above / similar / below, ``""`` without one);
    ``highlight`` draws the point larger, in red, with its label in bold.
    """

    label: str
    gap: float
    se: float
    band: str = ""
    highlight: bool = False

    @property
    def precision(self) -> float:
        """``1 / se``: the funnel's horizontal axis."""
        return 1.0 / self.se


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


NOTICE = "notice"
LETTER = "letter"


@dataclass(frozen=True, slots=True)
class NoticeData:
    """Everything a street's results document shows.

    ``kind`` is ``notice`` (整改通知书: items and a ``deadline``) or ``letter``
    (测评结果告知书: no item, so no deadline; also every 数据不全 street).
    ``district_reference`` names the district mean compared with;
    ``funnel_points`` are every complete street on the funnel plot, this one
    highlighted, and ``funnel_tau`` widens the limits for overdispersion.
    """

    letterhead: Letterhead
    title: str
    addressee: str
    street: str
    wave_name: str
    issue_date: dt.date
    deadline: Deadline | None
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
    kind: str = NOTICE
    district_reference: str = "全区平均"
    band_rule_words: str = ""
    complete: bool = True
    incomplete_reason: str = ""
    gap: float | None = None
    funnel_points: tuple[FunnelPoint, ...] = ()
    funnel_tau: float = 0.0

    @property
    def is_letter(self) -> bool:
        """Whether this is a results letter (测评结果告知书) without a deadline."""
        return self.kind == LETTER


@dataclass(frozen=True, slots=True)
class IssuedDocument:
    """One street's document as listed in the ranking report (通报).

    ``kind`` is ``notice`` (整改通知书 with ``deadline``) or ``letter`` (测评结果告知书).
    """

    street: str
    kind: str
    doc_number: str
    items: int = 0
    deadline: dt.date | None = None
    deadline_provisional: bool = False
    incomplete: bool = False


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
    documents: tuple[IssuedDocument, ...] = ()
    district_reference: str = "全区平均"
    band_rule_words: str = ""
    expected_false_flags: float | None = None
    funnel_points: tuple[FunnelPoint, ...] = ()
    funnel_tau: float = 0.0


@dataclass(frozen=True, slots=True)
class PublicationItem:
    """One item of a public rectification list (整改公示).

    ``status`` is a plain word such as ``待制定方案`` / ``整改中`` / ``已完成``;
    ``result`` says what changed (may be empty while in progress).  ``comments``
    are residents' own words on the indicator in this street (redacted excerpts,
    no identities), shown as 居民反映的问题; without any, the scores are shown.
    ``problem`` is the bureau's requirement.
    """

    indicator: str
    problem: str
    measures: str
    status: str
    result: str = ""
    deadline: dt.date | None = None
    deadline_provisional: bool = False
    comments: tuple[str, ...] = ()
    street_score: float | None = None
    district_score: float | None = None


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
