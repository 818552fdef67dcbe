"""Wave-over-wave change, and whether rectification worked (regression to the mean corrected).

**Independent waves.**  Two waves are independent samples, so
``SE(Δ) = sqrt(SE_1² + SE_2²)``; the variance of a *mean* change over several
indicators of a street takes each wave's covariance between the indicators
from that wave's own bootstrap replicates, and adds the two waves' variances.
Replicates of different waves are never paired (pairing replicate b with
replicate b of a wave scored with the same seed and cell sizes reuses the same
resampling counts and made the CI about half as wide as it should be).  Score
every wave with its own seed: :func:`wave_seed`.

**Regression to the mean.**  Rectification items are the indicators that
looked worst in wave 1, so their wave-1 estimates are, on average, too low: with
nothing changed at all they "improve" in wave 2 (by +0.4 to +1.5 points in the
simulations that found it).  We compare wave 2 with the **empirical-Bayes
prediction** of wave 1 instead of the raw wave-1 estimate.  Per indicator j, an
intercept-only Fay-Herriot model over the wave-1 streets gives

    θ̃_sj = γ_sj Y1_sj + (1 − γ_sj) μ̂_j,   γ_sj = σ²_vj / (σ²_vj + v1_sj),

the best prediction of the street's true wave-1 value *given* its estimate,
which is what selection conditioned on.  The corrected change is
``c_sj = Y2_sj − θ̃_sj``, with variance ``v2_sj + MSE(θ̃_sj)`` (the prediction
error, Prasad-Rao/Datta-Lahiri).  With no real change, ``E[c_sj | Y1] ≈ 0``
whether or not the indicator was selected.

Why this rather than the alternatives: splitting the wave-1 sample in halves
(select on one, measure on the other) halves the sample that selects the items
and changes which items are chosen; comparing with equally low untargeted
street x indicator pairs needs enough such pairs in every street, which a
district of 13 streets does not have.  The empirical-Bayes prediction uses all
data, needs no extra design, and its assumptions (normal street effects per
indicator) are checked by the calibration suite (mean corrected difference
within ±0.2 points, CI excluding 0 in ≤ 5% of streets when nothing changed).

**Comparability.**  A change between waves scored on different framework
versions (indicator set, scale, weights: the framework sha256 differs) is
refused, unless asked for explicitly, when it is marked ``comparable=False``.

References: Fay, R. E. and Herriot, R. A. (1979), *JASA* 74, 269-277; Barnett,
A. G., van der Pols, J. C. and Dobson, A. J. (2005), "Regression to the mean:
what it is and how to deal with it", *Int. J. Epidemiol.* 34, 215-220; Kish, L.
(1965), *Survey Sampling*, §12.5 (comparisons of independent samples).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .shrinkage import fay_herriot

__all__ = [
    "Change",
    "TargetedChange",
    "compare_waves",
    "framework_mismatch",
    "targeted_change",
    "wave_seed",
]


def wave_seed(code: str, base: int = 20260101) -> int:
    """Bootstrap seed of a wave: ``base`` mixed with the wave code (sha256), in [0, 2³¹).

    Independent waves get independent replicate draws; the same wave and base
    always give the same seed (reproducible runs).
    """
    digest = hashlib.sha256(f"{int(base)}:{code}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % (2**31 - 1)


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
    comparable: bool = True


@dataclass(frozen=True, slots=True)
class TargetedChange:
    """Mean change of a street's targeted and untargeted indicators, RTM-corrected.

    ``targeted_change`` etc. compare wave 2 with the empirical-Bayes prediction
    of wave 1 (module docstring); ``naive_*`` with the raw wave-1 estimates.
    """

    street: str
    targeted: tuple[str, ...]
    targeted_change: float
    targeted_ci: tuple[float, float]
    untargeted_change: float
    untargeted_ci: tuple[float, float]
    difference: float
    difference_ci: tuple[float, float]
    naive_targeted_change: float = float("nan")
    naive_difference: float = float("nan")
    correction: str = "empirical_bayes"
    comparable: bool = True


def _framework(result: object) -> str | None:
    method = getattr(result, "method", None)
    if not isinstance(method, Mapping):
        return None
    fw = method.get("framework")
    return str(fw.get("sha256")) if isinstance(fw, Mapping) and fw.get("sha256") else None


def framework_mismatch(before: object, after: object) -> str | None:
    """Why two results are not comparable (different framework sha256), or None."""
    a, b = _framework(before), _framework(after)
    if a is not None and b is not None and a != b:
        return (
            "the two waves were scored on different framework versions or weights "
            f"(sha256 {a[:12]} vs {b[:12]})"
        )
    return None


def _check(before: object, after: object, allow_mismatch: bool) -> bool:
    why = framework_mismatch(before, after)
    if why and not allow_mismatch:
        raise ValueError(why + "; compare them only with allow_mismatch=True (marked)")
    return why is None


def _change(
    street: str | None, item: str, a: object, b: object, z: float, comparable: bool
) -> Change | None:
    sa, ea = getattr(a, "score", None), getattr(a, "se", None)
    sb, eb = getattr(b, "score", None), getattr(b, "se", None)
    if sa is None or sb is None or ea is None or eb is None:
        return None
    d, se = sb - sa, float(np.hypot(ea, eb))
    return Change(street, item, sa, sb, d, se, d - z * se, d + z * se, comparable)


def compare_waves(
    before: Any, after: Any, *, level: float = 0.95, allow_mismatch: bool = False
) -> tuple[Change, ...]:
    """Change of every indicator and the overall score, district and streets.

    Streets are matched by label; streets or indicators without a score in
    either wave are left out.

    :raises ValueError: the waves use different framework versions or weights
        and ``allow_mismatch`` is False.
    """
    from scipy.stats import norm  # local: scipy.stats costs the offline scorer ~0.5 s

    comparable = _check(before, after, allow_mismatch)
    z = float(norm.ppf(0.5 + level / 2))
    out: list[Change | None] = [
        _change(None, "overall", before.district, after.district, z, comparable)
    ]
    for code, est in after.district.indicators.items():
        if code in before.district.indicators:
            out.append(_change(None, code, before.district.indicators[code], est, z, comparable))
    old = {s.street: s for s in before.streets}
    for s in after.streets:
        if s.street not in old:
            continue
        o = old[s.street]
        out.append(_change(s.street, "overall", o, s, z, comparable))
        for code, est in s.indicators.items():
            if code in o.indicators:
                out.append(_change(s.street, code, o.indicators[code], est, z, comparable))
    return tuple(c for c in out if c is not None)


def _matrix(result: Any, codes: Sequence[str], attr: str) -> np.ndarray:
    return np.array(
        [
            [
                np.nan if getattr(s.indicators[c], attr) is None else getattr(s.indicators[c], attr)
                for c in codes
            ]
            for s in result.streets
        ],
        dtype=np.float64,
    )


def _combo_var(result: Any, street: int, a: np.ndarray, se: np.ndarray) -> float:
    """Variance of Σ_j a_j Y_sj from the result's replicates (diagonal without them)."""
    reps = getattr(result, "replicates", None)
    if reps is not None:
        x = reps.indicator[:, street, :]
        use = a != 0
        val = (np.nan_to_num(x[:, use]) * a[use]).sum(axis=1)
        return float(np.var(val, ddof=1))
    return float(np.nansum((a * se) ** 2))


def targeted_change(
    before: Any,
    after: Any,
    targeted: Mapping[str, Sequence[str]],
    *,
    level: float = 0.95,
    allow_mismatch: bool = False,
) -> tuple[TargetedChange, ...]:
    """Mean change of targeted vs untargeted indicators per street, RTM-corrected.

    :param targeted: street → indicator codes that were rectification items.
    :raises ValueError: different indicators, or different framework versions
        without ``allow_mismatch``.
    """
    comparable = _check(before, after, allow_mismatch)
    codes = list(after.district.indicators)
    if list(before.district.indicators) != codes:
        raise ValueError("the two waves use different indicators")
    y1, se1 = _matrix(before, codes, "score"), _matrix(before, codes, "se")
    y2, se2 = _matrix(after, codes, "score"), _matrix(after, codes, "se")
    ranked = np.array([getattr(s, "rank", 1) is not None for s in before.streets])
    # empirical-Bayes prediction of every wave-1 street x indicator
    pred = np.full_like(y1, np.nan)
    gamma = np.full_like(y1, np.nan)
    mse = np.full_like(y1, np.nan)
    for j in range(len(codes)):
        col = np.where(ranked, y1[:, j], np.nan)
        fh = fay_herriot(col, se1[:, j] ** 2)
        if np.isfinite(fh.mean):
            pred[:, j], gamma[:, j], mse[:, j] = fh.estimate, fh.gamma, fh.mse
    unfit = ~np.isfinite(pred)  # e.g. fewer than 3 streets: no correction possible
    pred[unfit], gamma[unfit], mse[unfit] = y1[unfit], 1.0, se1[unfit] ** 2
    ia = {s.street: i for i, s in enumerate(before.streets)}
    ib = {s.street: i for i, s in enumerate(after.streets)}
    from scipy.stats import norm

    z = float(norm.ppf(0.5 + level / 2))
    out = []
    for street, items in targeted.items():
        if street not in ia or street not in ib:
            continue
        sa, sb = ia[street], ib[street]
        ok = np.isfinite(y1[sa]) & np.isfinite(y2[sb]) & np.isfinite(pred[sa])
        tmask = np.array([c in set(items) for c in codes]) & ok
        umask = ~np.array([c in set(items) for c in codes]) & ok
        if not tmask.any() or not umask.any():
            continue
        corrected = y2[sb] - pred[sa]
        naive = y2[sb] - y1[sa]
        # prior part of the prediction error (independent across indicators)
        prior = np.maximum(mse[sa] - gamma[sa] ** 2 * se1[sa] ** 2, 0.0)

        def summary(
            a: np.ndarray,
            sa: int = sa,
            sb: int = sb,
            corrected: np.ndarray = corrected,
            naive: np.ndarray = naive,
            prior: np.ndarray = prior,
        ) -> tuple[float, float, float, float]:
            est = float(np.nansum(a * corrected))
            var = (
                _combo_var(after, sb, a, se2[sb])
                + _combo_var(before, sa, a * gamma[sa], se1[sa])
                + float(np.nansum(a * a * prior))
            )
            half = z * float(np.sqrt(max(var, 0.0)))
            return est, est - half, est + half, float(np.nansum(a * naive))

        at = np.where(tmask, 1.0 / tmask.sum(), 0.0)
        au = np.where(umask, 1.0 / umask.sum(), 0.0)
        t_est, t_lo, t_hi, t_naive = summary(at)
        u_est, u_lo, u_hi, _ = summary(au)
        d_est, d_lo, d_hi, d_naive = summary(at - au)
        out.append(
            TargetedChange(
                street=street,
                targeted=tuple(c for c, t in zip(codes, tmask, strict=True) if t),
                targeted_change=t_est,
                targeted_ci=(t_lo, t_hi),
                untargeted_change=u_est,
                untargeted_ci=(u_lo, u_hi),
                difference=d_est,
                difference_ci=(d_lo, d_hi),
                naive_targeted_change=t_naive,
                naive_difference=d_naive,
                comparable=comparable,
            )
        )
    return tuple(out)
