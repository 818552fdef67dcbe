"""Linear coefficients of every score in the cell means, and the district reference.

A street's indicator score is ``S_sj = Σ_g α_sgj ȳ_sgj`` (group shares over
groups with answers), its dimension and overall scores ``D_sk = Σ_j c_sjk S_sj``
and ``O_s = Σ_j c_sj S_sj`` (weights renormalised over what is present).  The
arrays here hold these coefficients per street x group cell, so that
:mod:`scoring.variance` gives every variance, covariance and df.

**The district reference** (what "全区" means in 高于/低于全区):

* ``population`` — when the bureau gives street x group population counts
  ``N_sg``: each group's district mean is the population-weighted mean of the
  streets' cell means, ``ȳ_dgj = Σ_s N_sg ȳ_sgj / Σ_s N_sg``, and the district
  is scored like one street from those means (framework group shares, indicator
  and dimension weights).  It estimates the score of the district's whole
  population and does not move with other streets' sample sizes.
* ``street_mean`` — otherwise the plain mean of the streets' scores, every
  street counting once.

Only complete streets (see the engine) enter the reference, unless fewer than
two are complete.  Pooling respondents (the earlier rule) made the reference
depend on where the agency happened to interview most, so it is not used.

Reference: Spiegelhalter, D. J. (2005), "Funnel plots for comparing
institutional performance", *Stat. Med.* 24, 1185-1202 (§2: the target the
institutions are compared with must be defined before the comparison).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .dataset import BoolArray, FloatArray
from .estimators import Weights

__all__ = ["Coefficients", "Reference", "district_reference", "street_coefficients"]


@dataclass(frozen=True, slots=True, eq=False)
class Coefficients:
    """Coefficients of cell means ȳ_sgj: indicator (S,G,J), dimension (S,G,J,K), overall (S,G,J)."""

    indicator: FloatArray
    dimension: FloatArray
    overall: FloatArray


@dataclass(frozen=True, slots=True, eq=False)
class Reference:
    """The district reference: its kind, streets used, coefficients and point values."""

    kind: str
    streets: BoolArray
    coef: Coefficients
    indicator: FloatArray  # (J,)
    dimension: FloatArray  # (K,)
    overall: float


def _composite_coefficients(ind_ok: FloatArray, weights: Weights) -> tuple[FloatArray, FloatArray]:
    """∂D_k/∂S_j (…, J) (within j's dimension) and ∂O/∂S_j (…, J) given present indicators."""
    a = weights.indicator * ind_ok
    dim_tot = a @ weights.member
    dim_of = (weights.member @ np.arange(weights.member.shape[1])).astype(np.int64)
    dim_tot_j = dim_tot[..., dim_of]
    c_dim = np.divide(a, dim_tot_j, out=np.zeros_like(a), where=dim_tot_j > 0)
    b = weights.dimension * (dim_tot > 0)
    beta = b / np.maximum(b.sum(axis=-1, keepdims=True), 1e-300)
    return c_dim, c_dim * beta[..., dim_of]


def _shares(answered: BoolArray, shares: FloatArray) -> FloatArray:
    """α: group shares renormalised over groups with answers (…, G, J)."""
    pi: FloatArray = shares[:, None] * answered
    tot = pi.sum(axis=-2, keepdims=True)
    out: FloatArray = np.divide(pi, tot, out=np.zeros_like(pi), where=tot > 0)
    return out


def _expand(
    alpha: FloatArray, c_dim: FloatArray, c_ovr: FloatArray, member: FloatArray
) -> Coefficients:
    dim = alpha[..., None] * (c_dim[..., None, :, None] * member)
    return Coefficients(indicator=alpha, dimension=dim, overall=alpha * c_ovr[..., None, :])


def street_coefficients(answered: BoolArray, weights: Weights) -> Coefficients:
    """Coefficients of each street's own scores in its cells' means."""
    alpha = _shares(answered.astype(np.float64), weights.shares)
    ind_ok: FloatArray = np.asarray(answered.any(axis=1), dtype=np.float64)
    c_dim, c_ovr = _composite_coefficients(ind_ok, weights)
    return _expand(alpha, c_dim, c_ovr, weights.member)


def district_reference(
    means: FloatArray,
    answered: BoolArray,
    street: Coefficients,
    street_ind: FloatArray,
    street_dim: FloatArray,
    street_ovr: FloatArray,
    use: BoolArray,
    weights: Weights,
    population: FloatArray | None,
) -> Reference:
    """The district reference (module docstring) from cell means (S, G, J).

    :param street_ind, street_dim, street_ovr: the streets' point scores.
    :param use: streets allowed into the reference (S,).
    :param population: street x group population counts (S, G), or None.
    """
    S, G, J = means.shape
    if population is None:
        ok_i = use[:, None] & np.isfinite(street_ind)
        ok_k = use[:, None] & np.isfinite(street_dim)
        ok_o = use & np.isfinite(street_ovr)
        n_i = np.maximum(ok_i.sum(axis=0), 1)
        n_k = np.maximum(ok_k.sum(axis=0), 1)
        n_o = max(int(ok_o.sum()), 1)
        ind_c = street.indicator * (ok_i / n_i)[:, None, :]
        dim_c = street.dimension * (ok_k / n_k)[:, None, None, :]
        ovr_c = street.overall * (ok_o / n_o)[:, None, None]
        with np.errstate(invalid="ignore"):
            p_ind = np.where(ok_i, street_ind, 0.0).sum(axis=0) / n_i
            p_dim = np.where(ok_k, street_dim, 0.0).sum(axis=0) / n_k
            p_ovr = float(np.where(ok_o, street_ovr, 0.0).sum() / n_o)
        p_ind = np.where(ok_i.any(axis=0), p_ind, np.nan)
        p_dim = np.where(ok_k.any(axis=0), p_dim, np.nan)
        if not ok_o.any():
            p_ovr = float("nan")
        return Reference("street_mean", use, Coefficients(ind_c, dim_c, ovr_c), p_ind, p_dim, p_ovr)
    pop = np.asarray(population, dtype=np.float64)
    if pop.shape != (S, G):
        raise ValueError(f"population_totals must have shape (streets, groups) = {(S, G)}")
    if not np.all(np.isfinite(pop)) or np.any(pop < 0):
        raise ValueError("population_totals must be finite counts >= 0")
    if not pop[use].sum() > 0:
        raise ValueError("population_totals give no population for the scored streets")
    present = answered & use[:, None, None] & (pop[..., None] > 0)
    wts = pop[..., None] * present
    tot = wts.sum(axis=0, keepdims=True)
    p = np.divide(wts, tot, out=np.zeros_like(wts), where=tot > 0)  # (S, G, J)
    g_ok = tot[0] > 0  # (G, J)
    alpha_d = _shares(g_ok.astype(np.float64), weights.shares)  # (G, J)
    ind_ok = g_ok.any(axis=0).astype(np.float64)
    c_dim, c_ovr = _composite_coefficients(ind_ok, weights)
    ind_c = p * alpha_d[None]
    dim_c = ind_c[..., None] * (c_dim[:, None] * weights.member)[None, None]
    ovr_c = ind_c * c_ovr[None, None, :]
    with np.errstate(invalid="ignore"):
        p_ind = np.where(ind_ok > 0, (ind_c * means).sum(axis=(0, 1)), np.nan)
    d_ok = (ind_ok @ weights.member) > 0
    p_dim = np.where(d_ok, np.einsum("sgjk,sgj->k", dim_c, means), np.nan)
    p_ovr = float((ovr_c * means).sum()) if ind_ok.any() else float("nan")
    return Reference("population", use, Coefficients(ind_c, dim_c, ovr_c), p_ind, p_dim, p_ovr)
