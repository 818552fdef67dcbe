"""Empirical-Bayes (Fay-Herriot) shrinkage of street scores.

Area-level model with intercept only: direct estimate ``y_s = μ + v_s + e_s``,
``v_s ~ N(0, σ²_v)``, ``e_s ~ N(0, ψ_s)`` with ψ_s the (delta-method) sampling
variance.  σ²_v is estimated by REML (Fisher scoring, truncated at 0), and

    θ̃_s = γ_s y_s + (1 − γ_s) μ̂,  γ_s = σ²_v / (σ²_v + ψ_s),
    MSE_s ≈ g1 + g2 + 2 g3   (Prasad-Rao / Datta-Lahiri for REML),
    g1 = γ_s ψ_s, g2 = (1 − γ_s)² / Σ_t 1/(σ²_v + ψ_t),
    g3 = ψ_s² / (σ²_v + ψ_s)³ · 2 / Σ_t (σ²_v + ψ_t)⁻².

Reference: Fay, R. E. and Herriot, R. A. (1979), *JASA* 74, 269-277;
Rao, J. N. K. and Molina, I. (2015), *Small Area Estimation*, 2nd ed., Wiley,
§6.1-6.2; Datta, G. S. and Lahiri, P. (2000), *Statistica Sinica* 10, 613-627.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .dataset import FloatArray

__all__ = ["FayHerriot", "fay_herriot"]


@dataclass(frozen=True, slots=True, eq=False)
class FayHerriot:
    """Shrunken estimates and their MSE (NaN where a street was not used)."""

    estimate: FloatArray
    mse: FloatArray
    gamma: FloatArray
    mean: float
    sigma2_v: float
    method: str = "REML (Fisher scoring), Prasad-Rao/Datta-Lahiri MSE"


def _reml(y: FloatArray, psi: FloatArray, tol: float = 1e-10, max_iter: int = 200) -> float:
    s2 = max(float(np.var(y, ddof=1) - psi.mean()), 0.0) if y.size > 1 else 0.0
    for _ in range(max_iter):
        v = 1.0 / (s2 + psi)
        sv = v.sum()
        mu = (v * y).sum() / sv
        py = v * (y - mu)
        tr_p = sv - (v * v).sum() / sv
        tr_pp = (v * v).sum() - 2 * (v**3).sum() / sv + ((v * v).sum() / sv) ** 2
        score = -0.5 * tr_p + 0.5 * (py * py).sum()
        new = max(s2 + score / (0.5 * tr_pp), 0.0)
        if abs(new - s2) < tol * max(1.0, s2):
            return float(new)
        s2 = float(new)
    return s2


def fay_herriot(direct: FloatArray, variance: FloatArray) -> FayHerriot:
    """Fit the intercept-only Fay-Herriot model and shrink ``direct``.

    Streets with a missing estimate or a non-positive sampling variance (e.g.
    one respondent) are left out of the fit and get NaN.  Needs at least 3
    usable streets, else every estimate is NaN.
    """
    y = np.asarray(direct, dtype=np.float64)
    psi = np.asarray(variance, dtype=np.float64)
    use = np.isfinite(y) & np.isfinite(psi) & (psi > 0)
    est = np.full(y.shape, np.nan)
    mse = np.full(y.shape, np.nan)
    gamma = np.full(y.shape, np.nan)
    if use.sum() < 3:
        return FayHerriot(est, mse, gamma, float("nan"), float("nan"))
    yu, pu = y[use], psi[use]
    s2 = _reml(yu, pu)
    v = 1.0 / (s2 + pu)
    mu = float((v * yu).sum() / v.sum())
    g = s2 / (s2 + pu)
    g1 = g * pu
    g2 = (1 - g) ** 2 / v.sum()
    g3 = pu**2 * v**3 * 2.0 / (v * v).sum()
    est[use] = g * yu + (1 - g) * mu
    mse[use] = g1 + g2 + 2 * g3
    gamma[use] = g
    return FayHerriot(est, mse, gamma, mu, s2)
