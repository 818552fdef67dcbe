"""Plain input data for the documents; no database objects ever reach a template.

Scores are the typed results of :mod:`scoring.result` (a stored run is read back
with :func:`scoring.result.from_json`); their fields are described in
``docs/scores-json.md``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from reports.calendar import Deadline
from scoring.result import (
    DistrictResult,
    MethodInfo,
    RankSensitivity,
    SensitivityStreet,
    StreetResult,
)


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


@dataclass(frozen=True, slots=True)
class ShareRow:
    """One category of a sample-vs-population comparison (shares in 0..1, None: unknown)."""

    category: str
    n: int
    sample: float | None
    population: float | None


@dataclass(frozen=True, slots=True)
class SampleComposition:
    """A street x respondent group's sample beside its population, for age band or gender.

    ``group`` is the group's display name; ``variable`` is ``age_band`` or
    ``gender``; ``undisclosed`` respondents did not say.  A category is *far*
    when its sample share is more than ``share_warning`` from the population
    share; the cell is *below quota* under ``quota_warning`` of its ``quota``.
    """

    street: str
    group: str
    variable: str
    rows: tuple[ShareRow, ...]
    undisclosed: int = 0
    n: int = 0
    quota: int | None = None
    share_warning: float = 0.10
    quota_warning: float = 0.80

    @property
    def far(self) -> tuple[ShareRow, ...]:
        """Categories whose sample share is far from the population share."""
        return tuple(
            r
            for r in self.rows
            if r.sample is not None
            and r.population is not None
            and abs(r.sample - r.population) > self.share_warning
        )

    @property
    def has_population(self) -> bool:
        """Whether population shares are known for this cell."""
        return any(r.population is not None for r in self.rows)

    @property
    def below_quota(self) -> bool:
        """Whether the cell has fewer respondents than ``quota_warning`` of its quota."""
        return bool(self.quota) and self.n < self.quota_warning * (self.quota or 0)

    @property
    def warned(self) -> bool:
        """Whether the cell carries any warning."""
        return bool(self.far) or self.below_quota


@dataclass(frozen=True, slots=True)
class SampleCell:
    """A street x group's compositions side by side (age band, gender), for one table row."""

    street: str
    group: str
    age: SampleComposition | None
    gender: SampleComposition | None

    @property
    def parts(self) -> tuple[SampleComposition, ...]:
        """The compositions present, age band first."""
        return tuple(c for c in (self.age, self.gender) if c is not None)

    @property
    def warned(self) -> bool:
        """Whether any of them carries a warning."""
        return any(c.warned for c in self.parts)


def sample_cells(compositions: Sequence[SampleComposition]) -> list[SampleCell]:
    """Pair each street x group's age and gender compositions, in the given order."""
    order: dict[tuple[str, str], dict[str, SampleComposition]] = {}
    for c in compositions:
        order.setdefault((c.street, c.group), {})[c.variable] = c
    return [
        SampleCell(street, group, parts.get("age_band"), parts.get("gender"))
        for (street, group), parts in order.items()
    ]


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
    street_scores: StreetResult
    district_scores: DistrictResult
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
    sensitivity: SensitivityStreet | None = None
    composition: tuple[SampleComposition, ...] = ()

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
    method: MethodInfo
    district: DistrictResult
    streets: tuple[StreetResult, ...]
    dimension_names: Mapping[str, str]
    indicator_names: Mapping[str, str] = field(default_factory=dict)
    documents: tuple[IssuedDocument, ...] = ()
    district_reference: str = "全区平均"
    band_rule_words: str = ""
    expected_false_flags: float | None = None
    funnel_points: tuple[FunnelPoint, ...] = ()
    funnel_tau: float = 0.0
    framework_name: str = ""
    sensitivity: RankSensitivity | None = None
    composition: tuple[SampleComposition, ...] = ()


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
