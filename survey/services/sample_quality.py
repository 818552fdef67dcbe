"""Response rates and representativeness of a wave's sample (read-only).

**Response rates** follow AAPOR's Standard Definitions (2023) for invitations,
whose number gives a denominator: ``RR1 = I / issued`` (complete questionnaires
over all invitations issued and not revoked, every invitation counted as
eligible: the conservative choice when eligibility is unknown) and
``RR2 = (I + P) / issued`` (P: started but not submitted).  Open links (a poster
QR code), paper forms and imported interviews have no denominator: their
responses are counted, and no rate is given for them.

**Sample vs population** compares each street x group's sample shares by age
band and gender (among respondents who gave them) with the population's shares
from the district's newest population version; a cell more than
:data:`SHARE_WARNING` points from its population share, or a street x group
under :data:`QUOTA_WARNING` of its quota, is flagged.  See ``docs/weighting.md``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select

from scoring.population import AGE_BANDS, GENDERS

from ..extensions import db
from ..models import Invitation, Quota, Response, Wave
from .population import current_population

SHARE_WARNING = 0.10  # 10 percentage points from the population share
QUOTA_WARNING = 0.80  # fewer than 80% of the quota


@dataclass
class CellRates:
    """Invitations and responses of one street x group."""

    street: str
    group: str
    issued: int = 0
    opened: int = 0
    started: int = 0
    completed: int = 0  # responses from those invitations
    open_link: int = 0  # responses through open (poster) links: no denominator
    other: int = 0  # paper, phone, face, imports: no invitation
    quota: int | None = None
    n: int = 0

    @property
    def rr1(self) -> float | None:
        return self.completed / self.issued if self.issued else None

    @property
    def rr2(self) -> float | None:
        partial = max(self.started - self.completed, 0)
        return (self.completed + partial) / self.issued if self.issued else None

    @property
    def quota_share(self) -> float | None:
        return self.n / self.quota if self.quota else None

    @property
    def below_quota(self) -> bool:
        return self.quota_share is not None and self.quota_share < QUOTA_WARNING


def response_rates(wave: Wave) -> list[CellRates]:
    """Per street x group: invitations issued, opened, started, completed; RR1 and RR2."""
    names = {s.id: s.name for s in wave.district.streets}
    groups = [g.code for g in wave.framework.groups]
    cells = {(sid, g): CellRates(names[sid], g) for sid in names for g in groups}
    inv = db.session.execute(
        select(
            Invitation.street_id,
            Invitation.group_code,
            func.count(Invitation.id),
            func.count(Invitation.opened_at),
            func.count(Invitation.started_at),
        )
        .where(
            Invitation.wave_id == wave.id,
            Invitation.is_open.is_(False),
            Invitation.revoked_at.is_(None),
        )
        .group_by(Invitation.street_id, Invitation.group_code)
    )
    for sid, group, issued, opened, started in inv:
        if (sid, group) in cells:
            c = cells[(sid, group)]
            c.issued, c.opened, c.started = issued, opened, started
    resp = db.session.execute(
        select(
            Response.street_id,
            Response.group_code,
            Invitation.is_open,
            func.count(Response.id),
        )
        .outerjoin(Invitation, Invitation.id == Response.invitation_id)
        .where(Response.wave_id == wave.id)
        .group_by(Response.street_id, Response.group_code, Invitation.is_open)
    )
    for sid, group, is_open, count in resp:
        cell = cells.get((sid, group))
        if cell is None:
            continue
        cell.n += count
        if is_open is None:
            cell.other += count
        elif is_open:
            cell.open_link += count
        else:
            cell.completed += count
    for q in db.session.scalars(select(Quota).where(Quota.wave_id == wave.id)):
        quota_cell = cells.get((q.street_id, q.group_code))
        if quota_cell is not None and q.target:
            quota_cell.quota = q.target
    return [cells[(sid, g)] for sid in names for g in groups]


@dataclass
class Composition:
    """Sample vs population shares of one street x group for one variable."""

    street: str
    group: str
    variable: str
    rows: list[tuple[str, int, float | None, float | None]] = field(default_factory=list)
    # (category, respondents, sample share, population share)
    undisclosed: int = 0

    @property
    def warnings(self) -> list[str]:
        return [
            cat
            for cat, _, sample, pop in self.rows
            if sample is not None and pop is not None and abs(sample - pop) > SHARE_WARNING
        ]


def sample_vs_population(wave: Wave) -> list[Composition]:
    """Age band and gender composition of each street x group, beside the population's."""
    names = {s.id: s.name for s in wave.district.streets}
    version = current_population(wave.district)
    pop: dict[tuple[int, str, str], dict[str, float]] = defaultdict(dict)
    for m in version.margins if version is not None else []:
        pop[(m.street_id, m.group_code, m.variable)][m.category] = m.count
    counts: dict[tuple[int, str, str], dict[str | None, int]] = defaultdict(dict)
    for variable, column in (("age_band", Response.age_band), ("gender", Response.gender)):
        rows = db.session.execute(
            select(Response.street_id, Response.group_code, column, func.count(Response.id))
            .where(Response.wave_id == wave.id, Response.excluded.is_(False))
            .group_by(Response.street_id, Response.group_code, column)
        )
        for sid, group, value, count in rows:
            counts[(sid, group, variable)][value] = count
    out: list[Composition] = []
    for sid in names:
        for g in wave.framework.groups:
            for variable, cats in (("age_band", AGE_BANDS), ("gender", GENDERS)):
                got = counts.get((sid, g.code, variable), {})
                p = pop.get((sid, g.code, variable))
                if not got and p is None:
                    continue
                known = sum(got.get(c, 0) for c in cats)
                p_total = sum(p.values()) if p else 0.0
                comp = Composition(names[sid], g.code, variable)
                comp.undisclosed = sum(v for k, v in got.items() if k not in cats)
                for c in cats:
                    n = got.get(c, 0)
                    comp.rows.append(
                        (
                            c,
                            n,
                            n / known if known else None,
                            (p.get(c, 0.0) / p_total) if p and p_total else None,
                        )
                    )
                out.append(comp)
    return out


# -- raking's weight trimming (a wave setting) ----------------------------------


def wave_trim(wave: Wave) -> tuple[float, float] | None:
    """The wave's trimming bounds for raking, or None (no trimming, the default)."""
    from scoring.raking import check_trim

    return check_trim(wave.trim_low, wave.trim_high)


def set_trim(
    wave: Wave, low: float | None, high: float | None, *, user_id: int | None = None
) -> tuple[float, float] | None:
    """Set the wave's trimming bounds (both None: no trimming); audit-logged, not committed.

    Used by the next raked scoring of the wave (docs/weighting.md, Trimming) and
    recorded in its run (``method.weighting.trim``).

    :raises UserError: bounds :func:`scoring.raking.check_trim` refuses; nothing changes.
    """
    from flask_babel import gettext as _

    from scoring.raking import check_trim

    from ..errors import UserError
    from .audit import record

    try:
        bounds = check_trim(low, high)
    except ValueError as exc:
        raise UserError(
            _("权重截尾的上下限无效：%(reason)s", reason=str(exc)), field="trim_low"
        ) from None
    before = wave_trim(wave)
    if bounds != before:
        record(
            "wave.trim",
            wave,
            user_id=user_id,
            before={"trim": list(before) if before else None},
            after={"trim": list(bounds) if bounds else None},
        )
        wave.trim_low, wave.trim_high = bounds if bounds else (None, None)
    return bounds
