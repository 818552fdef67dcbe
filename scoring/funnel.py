"""Bands as a funnel: each street's gap to the district against its precision.

For street s the gap ``g_s = O_s − R`` (points) has standard error ``se_s``
from :mod:`scoring.variance`, which carries the covariance between the street
and the reference when the street is part of it (a street in a 13-street mean
is 1/13 of its own reference).  The test statistic ``t_s = g_s / se_s`` has
Satterthwaite df ``ν_s``; it is reported as the normal-equivalent
``z_s = Φ⁻¹(F_t(t_s; ν_s))`` so that one pair of limits applies to every street:

* ``alert``: outside the 95% limits, |z| > 1.960;
* ``alarm``: outside the 99.8% limits, |z| > 3.090.

**Overdispersion** (Spiegelhalter 2005, §3.3-3.4).  With at least
:data:`MIN_STREETS_OVERDISPERSION` ranked streets, the z-scores are winsorised
at their 10% and 90% points and ``φ = Σ z_w² / I`` estimated; the additive
random-effects variance (DerSimonian-Laird form)

    τ² = max(0, (I φ − (I − 1)) / (Σ w_s − Σ w_s² / Σ w_s)),  w_s = 1 / se_s²,

widens every street's limits to ``g_s / sqrt(se_s² + τ²)``: a street is then
flagged only when it lies outside the spread that streets of a real district
show, not merely because a large sample makes a small real gap significant.
With fewer streets φ cannot be estimated usefully and τ² = 0.

**FDR.**  Two-sided p-values of the (adjusted) z-scores are turned into
Benjamini-Hochberg q-values across the ranked streets.

``band`` is the verdict at the level the bureau chose (``band_rule``):
``alarm`` (default), ``alert``, or ``fdr`` (q < 0.05).  With all streets truly
equal the expected number of flagged streets per wave is ``0.002 I`` (alarm),
``0.05 I`` (alert) or at most about 0.05 (fdr: the chance of any flag).

References: Spiegelhalter, D. J. (2005), "Funnel plots for comparing
institutional performance", *Stat. Med.* 24, 1185-1202; Spiegelhalter, D. J.
(2005), "Handling over-dispersion of performance indicators", *Qual. Saf.
Health Care* 14, 347-351; DerSimonian, R. and Laird, N. (1986), *Controlled
Clinical Trials* 7, 177-188; Benjamini, Y. and Hochberg, Y. (1995), *JRSS B*
57, 289-300.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import tdist as t_dist
from .dataset import BoolArray, FloatArray
from .settings import BAND_RULES
from .special import ndtr, ndtri

__all__ = [
    "ALARM_Z",
    "ALERT_Z",
    "BAND_RULES",
    "FDR_LEVEL",
    "MIN_STREETS_OVERDISPERSION",
    "Funnel",
    "bh_qvalues",
    "expected_false_flags",
    "funnel",
    "normal_equivalent",
]

ALERT_Z = float(ndtri(0.975))
ALARM_Z = float(ndtri(0.999))
FDR_LEVEL = 0.05
MIN_STREETS_OVERDISPERSION = 20


@dataclass(frozen=True, slots=True, eq=False)
class Funnel:
    """Funnel verdicts per street (NaN / None where not ranked)."""

    z: FloatArray
    p: FloatArray
    q: FloatArray
    alert: tuple[str | None, ...]
    alarm: tuple[str | None, ...]
    band: tuple[str | None, ...]
    phi: float | None
    tau2: float
    n_streets: int


def normal_equivalent(t: FloatArray, df: FloatArray) -> FloatArray:
    """``Φ⁻¹(F_t(t; df))``: a t statistic as the z with the same tail probability."""
    t = np.asarray(t, dtype=np.float64)
    df = np.broadcast_to(np.asarray(df, dtype=np.float64), t.shape)
    out = np.full(t.shape, np.nan)
    ok = np.isfinite(t)
    finite_df = ok & np.isfinite(df)
    # tail probabilities on the smaller side keep precision far out
    lower = np.where(t < 0, t, -t)
    p = np.where(finite_df, t_dist.cdf(lower, np.where(finite_df, df, 1.0)), ndtr(lower))
    z = ndtri(np.clip(p, 1e-300, 0.5))
    out[ok] = np.where(t[ok] < 0, z[ok], -z[ok])
    return out


def bh_qvalues(p: FloatArray) -> FloatArray:
    """Benjamini-Hochberg q-values of the finite entries of ``p`` (NaN stays NaN)."""
    p = np.asarray(p, dtype=np.float64)
    q = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m == 0:
        return q
    pv = p[ok]
    order = np.argsort(pv, kind="stable")
    ranked = pv[order] * m / np.arange(1, m + 1)
    mono = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(mono, 1.0)
    q[ok] = out
    return q


def _verdict(z: float, limit: float) -> str | None:
    if not np.isfinite(z):
        return None
    if z > limit:
        return "above"
    if z < -limit:
        return "below"
    return "similar"


def expected_false_flags(rule: str, n_streets: int) -> float:
    """Expected streets flagged per wave by ``rule`` when all streets are equal."""
    if rule == "alarm":
        return 2 * (1 - float(ndtr(ALARM_Z))) * n_streets
    if rule == "alert":
        return 2 * (1 - float(ndtr(ALERT_Z))) * n_streets
    if rule == "fdr":
        return FDR_LEVEL if n_streets else 0.0
    raise ValueError(f"band_rule must be one of {', '.join(BAND_RULES)}, not {rule!r}")


def funnel(
    gap: FloatArray, se: FloatArray, df: FloatArray, ranked: BoolArray, rule: str = "alarm"
) -> Funnel:
    """Funnel verdicts of the ranked streets (module docstring).

    :param gap: street − district (points), (S,).
    :param se: its standard error (S,); :param df: its df (S,).
    :param ranked: streets that take part (complete, with a score).
    :param rule: ``alarm`` | ``alert`` | ``fdr``: which verdict is ``band``.
    """
    if rule not in BAND_RULES:
        raise ValueError(f"band_rule must be one of {', '.join(BAND_RULES)}, not {rule!r}")
    gap = np.asarray(gap, dtype=np.float64)
    se = np.asarray(se, dtype=np.float64)
    use = ranked & np.isfinite(gap) & np.isfinite(se) & (se > 0)
    z0 = np.full(gap.shape, np.nan)
    z0[use] = normal_equivalent(gap[use] / se[use], df[use])
    n = int(use.sum())
    phi: float | None = None
    tau2 = 0.0
    if n >= MIN_STREETS_OVERDISPERSION:
        zu = z0[use]
        lo, hi = np.quantile(zu, [0.1, 0.9])
        zw = np.clip(zu, lo, hi)
        phi = float(np.mean(zw**2))
        wts = 1.0 / se[use] ** 2
        denom = wts.sum() - (wts**2).sum() / wts.sum()
        if denom > 0:
            tau2 = max(0.0, (n * phi - (n - 1)) / denom)
    z = np.full(gap.shape, np.nan)
    if n:
        t_adj = gap[use] / np.sqrt(se[use] ** 2 + tau2)
        z[use] = normal_equivalent(t_adj, df[use])
    p = np.where(use, 2 * ndtr(-np.abs(np.nan_to_num(z))), np.nan)
    q = bh_qvalues(p)
    alert = tuple(_verdict(float(v), ALERT_Z) if u else None for v, u in zip(z, use, strict=True))
    alarm = tuple(_verdict(float(v), ALARM_Z) if u else None for v, u in zip(z, use, strict=True))
    if rule == "alarm":
        band = alarm
    elif rule == "alert":
        band = alert
    else:
        band = tuple(
            None
            if not u
            else ("similar" if not qv < FDR_LEVEL else ("above" if zv > 0 else "below"))
            for zv, qv, u in zip(z, q, use, strict=True)
        )
    return Funnel(z, p, q, alert, alarm, band, phi, tau2, n)
