"""Wave-over-wave change with intervals, and targeted vs untargeted indicators.

The two waves are independent samples, so ``SE(Δ) = sqrt(SE_1² + SE_2²)`` with
the delta-method SEs of each wave, and the CI is ``Δ ± z SE(Δ)``.  For the
mean change over a *set* of indicators (targeted by rectification or not)
the correlation between a street's indicators matters; it is carried by
pairing bootstrap replicate b of one wave with replicate b of the other (a
valid draw from the product of two independent bootstrap distributions).

Reference: Kish, L. (1965), *Survey Sampling*, §12.5 (comparisons of
independent samples).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .result import ScoreResult

__all__ = ["Change", "TargetedChange", "compare_waves", "targeted_change"]


@dataclass(frozen=True, slots=True)
class Change:
    """Change of one score between waves (``street`` None = district)."""

    street: str | None
    item: str  # indicator code or "overall"
    before: float
    after: float
    change: float
    se: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True, slots=True)
class TargetedChange:
    """Mean change of a street's targeted and untargeted indicators."""

    street: str
    targeted: tuple[str, ...]
    targeted_change: float
    targeted_ci: tuple[float, float]
    untargeted_change: float
    untargeted_ci: tuple[float, float]
    difference: float
    difference_ci: tuple[float, float]


def _change(street: str | None, item: str, a: object, b: object, z: float) -> Change | None:
    sa, ea = getattr(a, "score", None), getattr(a, "se", None)
    sb, eb = getattr(b, "score", None), getattr(b, "se", None)
    if sa is None or sb is None or ea is None or eb is None:
        return None
    d, se = sb - sa, float(np.hypot(ea, eb))
    return Change(street, item, sa, sb, d, se, d - z * se, d + z * se)


def compare_waves(
    before: ScoreResult, after: ScoreResult, *, level: float = 0.95
) -> tuple[Change, ...]:
    """Change of every indicator and the overall score, district and streets.

    Streets are matched by label; streets or indicators without a score in
    either wave are left out.
    """
    from scipy.stats import norm  # local: scipy.stats costs the offline scorer ~0.5 s

    z = float(norm.ppf(0.5 + level / 2))
    out: list[Change | None] = [_change(None, "overall", before.district, after.district, z)]
    for code, est in after.district.indicators.items():
        if code in before.district.indicators:
            out.append(_change(None, code, before.district.indicators[code], est, z))
    old = {s.street: s for s in before.streets}
    for s in after.streets:
        if s.street not in old:
            continue
        o = old[s.street]
        out.append(_change(s.street, "overall", o, s, z))
        for code, est in s.indicators.items():
            if code in o.indicators:
                out.append(_change(s.street, code, o.indicators[code], est, z))
    return tuple(c for c in out if c is not None)


def targeted_change(
    before: ScoreResult,
    after: ScoreResult,
    targeted: Mapping[str, Sequence[str]],
    *,
    level: float = 0.95,
) -> tuple[TargetedChange, ...]:
    """Mean change of targeted vs untargeted indicators per street.

    :param targeted: street → indicator codes that were rectification items.
    :raises ValueError: if either result has no replicates or they differ in
        indicators or number of replicates.
    """
    ra, rb = before.replicates, after.replicates
    if ra is None or rb is None:
        raise ValueError("both scoring results need their bootstrap replicates")
    if ra.size != rb.size:
        raise ValueError("both waves must be scored with the same number of replicates")
    codes = list(after.district.indicators)
    if list(before.district.indicators) != codes:
        raise ValueError("the two waves use different indicators")
    ia = {s.street: i for i, s in enumerate(before.streets)}
    ib = {s.street: i for i, s in enumerate(after.streets)}
    alpha = (1 - level) / 2
    out = []
    for street, items in targeted.items():
        if street not in ia or street not in ib:
            continue
        tmask = np.array([c in set(items) for c in codes])
        if not tmask.any() or tmask.all():
            continue
        diff = rb.indicator[:, ib[street], :] - ra.indicator[:, ia[street], :]
        pa = np.array([before.streets[ia[street]].indicators[c].score for c in codes], float)
        pb = np.array([after.streets[ib[street]].indicators[c].score for c in codes], float)
        point = pb - pa
        t_rep = np.nanmean(diff[:, tmask], axis=1)
        u_rep = np.nanmean(diff[:, ~tmask], axis=1)

        def ci(x: np.ndarray) -> tuple[float, float]:
            q = np.nanquantile(x, [alpha, 1 - alpha])
            return float(q[0]), float(q[1])

        tc, uc = float(np.nanmean(point[tmask])), float(np.nanmean(point[~tmask]))
        out.append(
            TargetedChange(
                street=street,
                targeted=tuple(c for c, t in zip(codes, tmask, strict=True) if t),
                targeted_change=tc,
                targeted_ci=ci(t_rep),
                untargeted_change=uc,
                untargeted_ci=ci(u_rep),
                difference=tc - uc,
                difference_ci=ci(t_rep - u_rep),
            )
        )
    return tuple(out)
