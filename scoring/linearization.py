"""Analytic (Taylor-linearised, delta-method) standard errors.

Each score θ is a smooth function of weighted cell totals, so to first order
θ̂ − θ ≈ Σ_r z_r with the linearised variable (influence value)

    u_rj = w_r m_rj (x_rj − ȳ_cj) / Σ_{r'∈c} w_r' m_r'j        (ratio mean ȳ_cj)
    z_r  = Σ_j c_cj u_rj,

where ``c_cj = ∂θ/∂ȳ_cj`` collects the group shares, indicator and dimension
weights (after the renormalisations of :mod:`scoring.estimators`).  Because a
respondent's items enter one z_r together, the covariance between items is
carried automatically.  Cells are strata sampled with replacement:

    V(θ̂) = Σ_c n_c/(n_c − 1) Σ_{r∈c} (z_r − z̄_c)²,

and a one-respondent cell contributes 0 (as it does to the bootstrap).

Reference: Wolter, K. M. (2007), *Introduction to Variance Estimation*, 2nd ed.,
Springer, ch. 6; Binder, D. A. (1983), *Int. Stat. Rev.* 51, 279-292.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .dataset import FloatArray, ResponseData
from .estimators import CellLayout, Weights, cell_sums

__all__ = ["LinearizedSE", "linearized_se"]


@dataclass(frozen=True, slots=True, eq=False)
class LinearizedSE:
    """Delta-method SEs: street (S, J), (S, K), (S,); district (J,), (K,), float."""

    indicator: FloatArray
    dimension: FloatArray
    overall: FloatArray
    district_indicator: FloatArray
    district_dimension: FloatArray
    district_overall: float


def _coefficients(
    ok_cell: FloatArray, weights: Weights
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """∂S/∂ȳ (…, G, J), and ∂D/∂S (…, J), ∂O/∂S (…, J) given answered cells."""
    pi = weights.shares[:, None] * ok_cell
    tot = pi.sum(axis=-2, keepdims=True)
    alpha = np.divide(pi, tot, out=np.zeros_like(pi), where=tot > 0)
    ind_ok = (tot[..., 0, :] > 0).astype(np.float64)
    a = weights.indicator * ind_ok
    dim_tot = a @ weights.member  # (…, K)
    dim_of = weights.member @ np.arange(weights.member.shape[1])
    dim_of_j = dim_of.astype(np.int64)
    dim_tot_j = dim_tot[..., dim_of_j]
    c_dim = np.divide(a, dim_tot_j, out=np.zeros_like(a), where=dim_tot_j > 0)
    b = weights.dimension * (dim_tot > 0)
    beta = b / np.maximum(b.sum(axis=-1, keepdims=True), 1e-300)
    c_ovr = c_dim * beta[..., dim_of_j]
    return alpha, c_dim, c_ovr


def _stratified_var(z: FloatArray, layout: CellLayout) -> FloatArray:
    """Σ_g n_c/(n_c−1) Σ_{r∈c}(z_r − z̄_c)² per street → (S, F)."""
    s1 = cell_sums(z, layout)
    s2 = cell_sums(z * z, layout)
    n = layout.size.reshape(layout.n_streets, layout.n_groups, 1).astype(np.float64)
    ss = s2 - np.divide(s1 * s1, n, out=np.zeros_like(s1), where=n > 0)
    f = np.divide(n, n - 1, out=np.zeros_like(n), where=n > 1)
    out: FloatArray = (f * np.maximum(ss, 0.0)).sum(axis=1)
    return out


def linearized_se(data: ResponseData, layout: CellLayout, weights: Weights) -> LinearizedSE:
    """Delta-method SEs of every street and district score (see module docstring)."""
    m = data.points > 0
    wm = data.weight[:, None] * m
    x = np.where(m, data.values, 0.0)
    totals = cell_sums(np.concatenate([wm * x, wm], axis=1), layout)
    J = x.shape[1]
    num, den = totals[..., :J], totals[..., J:]
    member = weights.member

    def parts(
        ybar: FloatArray, nden: FloatArray, alpha: FloatArray, c_dim: FloatArray, c_ovr: FloatArray
    ) -> FloatArray:
        # ybar, nden, alpha indexed per respondent (n, J); c_* per respondent (n, J)
        u = np.divide(wm * (x - ybar), nden, out=np.zeros_like(x), where=nden > 0)
        t = alpha * u
        zk = (t * c_dim) @ member
        zo = (t * c_ovr).sum(axis=1, keepdims=True)
        return np.concatenate([t, zk, zo], axis=1)

    # streets
    ok = (den > 0).astype(np.float64)
    ybar = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    alpha, c_dim, c_ovr = _coefficients(ok, weights)
    s, g = data.street, data.group
    z = parts(ybar[s, g], den[s, g], alpha[s, g], c_dim[s], c_ovr[s])
    var = _stratified_var(z, layout)
    K = member.shape[1]
    # district: all streets pooled per group, strata still the cells
    dnum, dden = num.sum(axis=0), den.sum(axis=0)
    dok = (dden > 0).astype(np.float64)
    dybar = np.divide(dnum, dden, out=np.zeros_like(dnum), where=dden > 0)
    dalpha, dc_dim, dc_ovr = _coefficients(dok, weights)
    zd = parts(dybar[g], dden[g], dalpha[g], dc_dim[None, :], dc_ovr[None, :])
    dvar = _stratified_var(zd, layout).sum(axis=0)
    se = np.sqrt(var)
    dse = np.sqrt(dvar)
    ind_missing = ~(ok.sum(axis=1) > 0)
    return LinearizedSE(
        indicator=np.where(ind_missing, np.nan, se[:, :J]),
        dimension=se[:, J : J + K],
        overall=se[:, J + K],
        district_indicator=dse[:J],
        district_dimension=dse[J : J + K],
        district_overall=float(dse[J + K]),
    )
