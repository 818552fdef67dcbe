"""Wave-over-wave change, and whether rectification worked (regression to the mean corrected).

**Independent waves.**  Two waves are independent samples, so
``SE(Δ) = sqrt(SE_1² + SE_2²)``; the variance of a *mean* change over several
indicators of a street takes each wave's covariance matrix of the street's
indicator scores (``ScoreResult.indicator_cov``, from the cell covariances of
:mod:`scoring.variance`) and adds the two waves' variances.  Bootstrap
replicates of different waves are never paired (pairing replicate b with
replicate b of a wave scored with the same seed and cell sizes reuses the same
resampling counts and made the CI about half as wide as it should be).  Score
every wave with its own seed all the same: :func:`wave_seed`.

**Regression to the mean.**  Rectification items are the indicators that
looked worst in wave 1, so their wave-1 estimates are, on average, too low: with
nothing changed at all they "improve" in wave 2 (by +0.4 to +1.5 points in the
simulations that found it).  We compare wave 2 with the **empirical-Bayes
prediction** of wave 1 instead of the raw wave-1 estimate (:func:`eb_prediction`):
a two-way model ``θ_sj = μ_j + a_s + e_sj`` whose street x indicator part is
shrunk towards the street's level,

    θ̃_sj = μ̂_j + â_s + γ_sj (Y1_sj − μ̂_j − â_s),   γ_sj = τ² / (τ² + v1_sj),

the best prediction of the street's true wave-1 value *given* its estimates,
which is what selection conditioned on.  Items are a street's *worst*
indicators, so the within-street residual is what regresses (a per-indicator
Fay-Herriot model, shrinking towards the district, left +0.6 points of the
+2.5-point artefact in the calibration suite).  The corrected change is
``c_sj = Y2_sj − θ̃_sj`` with variance ``v2_sj + MSE(θ̃_sj)``.  With no real
change, ``E[c_sj | Y1] ≈ 0`` whether or not the indicator was selected.

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

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .settings import wave_seed

__all__ = [
    "Change",
    "TargetedChange",
    "compare_waves",
    "eb_prediction",
    "framework_mismatch",
    "targeted_change",
    "wave_seed",
]


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


@dataclass(frozen=True, slots=True, eq=False)
class EBPrediction:
    """Two-way empirical-Bayes model of wave-1 street x indicator scores."""

    mu: np.ndarray  # (J,) indicator means
    gamma: np.ndarray  # (S, J) shrinkage factors of the residuals
    v_res: np.ndarray  # (S, J) sampling variance of the residuals
    tau2: float
    mu_var: np.ndarray  # (J,) variance of μ̂_j (estimated from the streets)

    def predict(self, y: np.ndarray, street: int) -> np.ndarray:
        """θ̃ for one street's estimates ``y`` (…, J) (replicates on leading axes)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            a = np.nanmean(y - self.mu, axis=-1, keepdims=True)
        out: np.ndarray = self.mu + a + self.gamma[street] * (y - self.mu - a)
        return out


def _residual_variance(result: Any, v: np.ndarray) -> np.ndarray:
    """Sampling variance of ``Y_sj − mean_k Y_sk`` per street x indicator.

    From the result's indicator covariance matrices (a respondent's items share
    errors, so the residual's variance is well below ``v``); without them, ``v``.
    """
    cov = getattr(result, "indicator_cov", None)
    if cov is None:
        return v
    ok = np.isfinite(v)
    out = np.full_like(v, np.nan)
    for s in range(v.shape[0]):
        m = ok[s]
        k = int(m.sum())
        if k < 2:
            continue
        c = cov[s][np.ix_(m, m)]
        res = np.eye(k) - 1.0 / k
        out[s, m] = np.einsum("ij,jk,ik->i", res, c, res)
    return np.where(np.isfinite(out), out, v)


def eb_prediction(y: np.ndarray, v_res: np.ndarray, use: np.ndarray) -> EBPrediction:
    """Fit ``θ_sj = μ_j + a_s + e_sj``, ``e_sj ~ N(0, τ²)`` to wave-1 scores (S, J).

    μ̂_j and â_s by averaging (each rests on many streets or 17 indicators),
    τ² by moments from the residuals ``r_sj = Y_sj − μ̂_j − â_s``:
    ``(mean(r²) / (1 − 1/S) − mean(v_res)) / (1 − 1/J)`` (at least 0), and
    ``γ_sj = τ² / (τ² + v_res,sj)``.  Selection of rectification items is
    *within* a street (its worst indicators), so the residual, not the
    street's level, is what regresses to the mean.

    :param v_res: sampling variance of the within-street residuals.
    :param use: streets that enter the fit (ranked streets).
    """
    yy = np.where(use[:, None] & np.isfinite(v_res), y, np.nan)
    ok = np.isfinite(yy)
    n_s = int(ok.any(axis=1).sum())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mu = np.nan_to_num(np.nanmean(yy, axis=0))
        a = np.nanmean(yy - mu, axis=1, keepdims=True)
        r = yy - mu - a
        n_j = int(ok.any(axis=0).sum())
        if n_s > 2 and n_j > 1:
            excess = float(np.nanmean(r * r)) / (1 - 1 / n_s) - float(np.nanmean(v_res[ok]))
            tau2 = max(0.0, excess / (1 - 1 / n_j))
        else:
            tau2 = float("inf")  # nothing to fit: no correction
        gamma = np.where(np.isinf(tau2), 1.0, tau2 / (tau2 + v_res))
        spread = 0.0 if np.isinf(tau2) else tau2
        mu_var = np.nan_to_num((spread + np.nanmean(np.where(ok, v_res, np.nan), axis=0)) / n_s)
    return EBPrediction(
        mu=mu, gamma=np.nan_to_num(gamma, nan=1.0), v_res=v_res, tau2=tau2, mu_var=mu_var
    )


def _combo_var(result: Any, street: int, b: np.ndarray, se: np.ndarray) -> float:
    """Variance of Σ_j b_j Y_sj: the result's indicator covariance, else diagonal."""
    cov = getattr(result, "indicator_cov", None)
    use = b != 0
    if cov is not None:
        c = np.nan_to_num(cov[street][np.ix_(use, use)])
        return float(b[use] @ c @ b[use])
    return float(np.nansum((b * se) ** 2))


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
    eb = eb_prediction(y1, _residual_variance(before, se1**2), ranked)
    ia = {s.street: i for i, s in enumerate(before.streets)}
    ib = {s.street: i for i, s in enumerate(after.streets)}
    from scipy.stats import norm

    z = float(norm.ppf(0.5 + level / 2))
    out = []
    for street, items in targeted.items():
        if street not in ia or street not in ib:
            continue
        sa, sb = ia[street], ib[street]
        if not ranked[sa]:
            continue
        ok = np.isfinite(y1[sa]) & np.isfinite(y2[sb])
        tmask = np.array([c in set(items) for c in codes]) & ok
        umask = ~np.array([c in set(items) for c in codes]) & ok
        if not tmask.any() or not umask.any():
            continue
        pred = eb.predict(np.where(ok, y1[sa], np.nan), sa)
        corrected = y2[sb] - pred
        naive = y2[sb] - y1[sa]
        # what the model cannot know: e_sj given its estimate (independent across
        # j), and the estimated indicator means the residuals are shrunk towards
        g = eb.gamma[sa]
        prior = g * (1 - g) * eb.v_res[sa] + (1 - g) ** 2 * eb.mu_var

        def summary(
            a: np.ndarray,
            sa: int = sa,
            sb: int = sb,
            corrected: np.ndarray = corrected,
            naive: np.ndarray = naive,
            prior: np.ndarray = prior,
            ok: np.ndarray = ok,
        ) -> tuple[float, float, float, float]:
            est = float(np.nansum(a * corrected))
            # the prediction is linear in wave 1: γ_j Y_j + (1 − γ_j) mean_k Y_k + const
            g = eb.gamma[sa]
            b1 = np.where(ok, a * g + np.nansum(a * (1 - g)) / max(int(ok.sum()), 1), 0.0)
            var = (
                _combo_var(after, sb, a, se2[sb])
                + _combo_var(before, sa, b1, se1[sa])
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
