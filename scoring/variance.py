"""Cell covariance of the group means, the tiny-cell rule, and Satterthwaite df.

Every score minping publishes (street, district, gap to the district) is, to
first order, a linear combination ``θ = Σ_c a_c' ȳ_c`` of the street x group
cell mean vectors ``ȳ_c = (ȳ_c1, …, ȳ_cJ)`` with known coefficients ``a_c``
(group shares, indicator and dimension weights, district weights).  Cells are
independent strata, so

    V(θ̂) = Σ_c a_c' Q_c a_c,

with ``Q_c`` the covariance matrix of the cell's weighted ratio means.  From the
cell's own respondents (Taylor linearisation, sampling with replacement)

    u_rj = w_r m_rj (x_rj − ȳ_cj) / Σ_{r'∈c} w_r' m_r'j,
    Q_c  = n_c / (n_c − 1) Σ_{r∈c} u_r u_r',

which carries the covariance between a respondent's items (treating items as
independent understates a composite's SE by about half).  For an item answered
by ``a_cj`` of the cell's respondents (不了解 and skips are domain non-response)
the factor ``n_c/(n_c − 1)`` becomes ``a_cj/(a_cj − 1)`` (entry (j, k) of ``Q_c``
takes the geometric mean of the two items' factors): with 15% 不了解 and cells
of 6, the plain factor understates the variance by about 4%.

**Tiny cells.**  A cell with fewer than :data:`TINY_CELL` respondents cannot
estimate its own variance (one respondent gives 0).  It borrows the district's
pooled within-group covariance ``P_g`` (residuals of every other cell of the
same group around their cell means, pooled over the district's streets) and
its own weights:

    Q_c[j, k] = P_g[j, k] · Σ_r w_r² m_rj m_rk / (Σ_r w_r m_rj · Σ_r w_r m_rk).

The same applies to one indicator of a larger cell answered by fewer than
:data:`TINY_CELL` respondents, or whose answers do not vary (its variance is
raised to the pooled one).  ``P_g`` falls back to all groups pooled, and carries
one pseudo-answer at the scale's extremes, so no published SE is ever 0.

**Degrees of freedom.**  Satterthwaite's rule over the cells' contributions
``v_c = a_c' Q_c a_c``: ``df = (Σ v_c)² / Σ v_c² / df_c`` with ``df_c = n_c − 1``
(own variance) or the pooled degrees of freedom (borrowed variance).  A street
whose variance comes mostly from one small cell gets few df and a wide t
interval.

References: Wolter, K. M. (2007), *Introduction to Variance Estimation*, 2nd ed.,
ch. 6; Binder, D. A. (1983), *Int. Stat. Rev.* 51, 279-292; Satterthwaite, F. E.
(1946), *Biometrics Bulletin* 2, 110-114; Kish, L. (1965), *Survey Sampling*,
§11.7 (weighting effect).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .dataset import BoolArray, FloatArray, ResponseData
from .estimators import CellLayout, cell_sums

__all__ = [
    "TINY_CELL",
    "CellCovariance",
    "LevelVariance",
    "cell_covariance",
    "form_contributions",
    "item_contributions",
    "level_variance",
    "satterthwaite",
]

TINY_CELL = 5


@dataclass(frozen=True, slots=True, eq=False)
class CellCovariance:
    """Per street x group cell: means, covariance of the means, df.

    Attributes
    ----------
    means : (S, G, J) array
        Weighted ratio means ȳ_cj (0 where unanswered).
    answered : (S, G, J) bool array
        The cell has at least one answer for indicator j.
    own : (S, G, J, J) array
        ``Q_c`` from the cell's own respondents (0 for tiny cells).
    final : (S, G, J, J) array
        ``Q_c`` after the tiny-cell and sparse-item rule (what is published).
    df : (S, G) array
        Degrees of freedom of each cell's variance estimate.
    tiny : (S, G) bool array
        Cells below :data:`TINY_CELL` respondents (borrowing the pooled variance).
    pooled : (G, J, J) array
        Pooled within-group covariance of one answer.
    """

    means: FloatArray
    answered: BoolArray
    own: FloatArray
    final: FloatArray
    df: FloatArray
    tiny: BoolArray
    pooled: FloatArray


def _pooled(
    ee: FloatArray, mm: FloatArray, use: BoolArray, span: float
) -> tuple[FloatArray, FloatArray]:
    """Pooled covariance per group (G, J, J) and its df (G,) from cell cross-products."""
    G, J = ee.shape[1], ee.shape[2]
    out = np.zeros((G, J, J))
    dfs = np.zeros(G)
    ok = use[..., None, None]
    all_ss = (ee * ok).sum(axis=(0, 1))
    all_n = (np.maximum(mm - 1.0, 0.0) * ok).sum(axis=(0, 1))
    for g in range(G):
        ss = (ee[:, g] * ok[:, g]).sum(axis=0)
        nn = (np.maximum(mm[:, g] - 1.0, 0.0) * ok[:, g]).sum(axis=0)
        thin = nn < 2  # too few answers in this group: use all groups pooled
        ss, nn = np.where(thin, all_ss, ss), np.where(thin, all_n, nn)
        # two pseudo-answers at the scale's extremes: never a zero variance
        diag = np.diag(ss) + span**2 / 2.0
        ndiag = np.diag(nn) + 2.0
        cov = np.divide(ss, np.maximum(nn, 1.0))
        cov[np.diag_indices(J)] = diag / ndiag
        out[g] = cov
        dfs[g] = float(np.median(np.diag(nn))) + 1.0
    return out, dfs


def cell_covariance(
    data: ResponseData, layout: CellLayout, *, span: float, tiny: int = TINY_CELL
) -> CellCovariance:
    """Covariance of every cell's mean vector (see the module docstring).

    :param span: distance between the scale's lowest and highest score (e.g. 100).
    :param tiny: cells (and cell x indicator answer counts) below this borrow
        the pooled within-group variance.
    """
    S, G, J = layout.n_streets, layout.n_groups, data.points.shape[1]
    m = data.points > 0
    w = data.weight
    x = np.where(m, data.values, 0.0)
    wm = w[:, None] * m
    tot = cell_sums(np.concatenate([wm * x, wm, wm * w[:, None], m], axis=1), layout)
    num, den, w2, cnt = (tot[..., i * J : (i + 1) * J] for i in range(4))
    answered = den > 0
    means = np.divide(num, den, out=np.zeros_like(num), where=answered)
    order = layout.order
    ms = m[order]
    cell = layout.cell[order]
    flat_means = means.reshape(S * G, J)
    flat_den = den.reshape(S * G, J)
    resid = np.where(ms, x[order] - flat_means[cell], 0.0)
    u = np.divide(
        w[order][:, None] * resid,
        flat_den[cell],
        out=np.zeros_like(resid),
        where=flat_den[cell] > 0,
    )
    size = layout.size
    C = S * G
    uu = np.zeros((C, J, J))
    ee = np.zeros((C, J, J))
    mm = np.zeros((C, J, J))
    kish = np.zeros((C, J, J))
    msf = ms.astype(np.float64)
    wms = (w[order][:, None] * msf).astype(np.float64)
    for c in range(C):
        lo, hi = int(layout.starts[c]), int(layout.starts[c + 1])
        if hi == lo:
            continue
        mc = msf[lo:hi]
        mm[c] = mc.T @ mc
        if hi - lo >= tiny:
            uc, ec = u[lo:hi], resid[lo:hi]
            uu[c] = uc.T @ uc * ((hi - lo) / (hi - lo - 1))
            ee[c] = ec.T @ ec
        else:
            wc = wms[lo:hi]
            kish[c] = wc.T @ wc
    tiny_cell = (size < tiny).reshape(S, G)
    full = (size >= tiny).reshape(S, G)
    uu = uu.reshape(S, G, J, J)
    ee4 = ee.reshape(S, G, J, J)
    mm4 = mm.reshape(S, G, J, J)
    pooled, pooled_df = _pooled(ee4, mm4, full, span)
    # tiny cells: pooled covariance times the cell's own weighting (Kish) matrix
    dd = np.einsum("sgj,sgk->sgjk", den, den)
    kmat = np.divide(
        kish.reshape(S, G, J, J), dd, out=np.zeros((S, G, J, J)), where=dd > 0
    )
    # domain correction: an item answered by a_cj respondents of the cell has
    # a_cj/(a_cj - 1), not n_c/(n_c - 1) (the bootstrap's), as its small-sample factor
    nn = size.reshape(S, G, 1).astype(np.float64)
    f_own = np.divide(nn, nn - 1, out=np.ones_like(nn), where=nn > 1)
    f_dom = np.divide(cnt, cnt - 1, out=np.ones_like(cnt), where=cnt > 1) / f_own
    dom = np.sqrt(f_dom[..., :, None] * f_dom[..., None, :])
    final = np.where(tiny_cell[..., None, None], pooled[None] * kmat, uu * dom)
    # sparse or non-varying items of larger cells: raise the variance to the pooled one
    a = cnt
    own_var = np.diagonal(uu * dom, axis1=-2, axis2=-1)
    pooled_var = np.diagonal(pooled, axis1=-2, axis2=-1)[None] * np.divide(
        w2, den * den, out=np.zeros_like(w2), where=den > 0
    )
    sparse = full[..., None] & answered & ((a < tiny) | (own_var <= 0))
    raised = np.where(sparse, np.maximum(own_var, pooled_var), own_var)
    jj = np.arange(J)
    final[..., jj, jj] = np.where(full[..., None], raised, final[..., jj, jj])
    df = np.where(tiny_cell, pooled_df[None, :], np.maximum(size.reshape(S, G) - 1, 1))
    return CellCovariance(
        means=means,
        answered=answered,
        own=uu,
        final=final,
        df=df.astype(np.float64),
        tiny=tiny_cell,
        pooled=pooled,
    )


def satterthwaite(v: FloatArray, df: FloatArray, axis: tuple[int, ...]) -> FloatArray:
    """Satterthwaite df of ``Σ v`` over ``axis`` (cells), each with ``df``.

    ``v`` and ``df`` broadcast; a sum of zero gets df = inf (no uncertainty is
    left to be uncertain about).
    """
    tot = v.sum(axis=axis)
    den = (v * v / df).sum(axis=axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        out: FloatArray = np.where(den > 0, tot * tot / den, np.inf)
    return np.maximum(out, 1.0)


def item_contributions(cov: FloatArray, coef: FloatArray) -> FloatArray:
    """Per-cell contributions to the variance of each indicator-level figure.

    :param cov: (S, G, J, J) cell covariances; :param coef: (S, G, J)
        coefficients, one figure per indicator j.  Returns (S, G, J).
    """
    out: FloatArray = coef * coef * np.diagonal(cov, axis1=-2, axis2=-1)
    return out


def form_contributions(cov: FloatArray, coef: FloatArray) -> FloatArray:
    """Per-cell contributions ``a_c' Q_c a_c`` for figures f: coef (S, G, J, F) → (S, G, F)."""
    out: FloatArray = np.einsum("sgjf,sgjk,sgkf->sgf", coef, cov, coef, optimize=True)
    return out


@dataclass(frozen=True, slots=True, eq=False)
class LevelVariance:
    """Variances and df of one level (indicators, dimensions or overall).

    Street arrays have the street axis first; district arrays drop it.
    ``*_own`` use the cells' own variances only (what the bootstrap sees).
    """

    street: FloatArray
    street_own: FloatArray
    street_df: FloatArray
    district: FloatArray
    district_own: FloatArray
    district_df: FloatArray
    gap: FloatArray
    gap_df: FloatArray


def level_variance(
    cov: CellCovariance,
    own_coef: FloatArray,
    district_coef: FloatArray,
    contributions: Callable[[FloatArray, FloatArray], FloatArray],
) -> LevelVariance:
    """Street, district and gap (street − district) variances of one level.

    ``own_coef`` holds each street's coefficients on its own cells;
    ``district_coef`` the reference's on every cell.  The gap of street s puts
    ``own − district`` on s's cells and ``−district`` elsewhere, so its variance
    carries the street's share in the reference.
    """
    dfc = cov.df[..., None]  # every contribution array is (S, G, F)
    va, vd = contributions(cov.final, own_coef), contributions(cov.final, district_coef)
    vg = contributions(cov.final, own_coef - district_coef)
    va_own = contributions(cov.own, own_coef)
    vd_own = contributions(cov.own, district_coef)
    d_tot, d_sq = vd.sum(axis=(0, 1)), (vd * vd / dfc).sum(axis=(0, 1))
    gap = d_tot[None] - vd.sum(axis=1) + vg.sum(axis=1)
    gap_sq = d_sq[None] - (vd * vd / dfc).sum(axis=1) + (vg * vg / dfc).sum(axis=1)
    gap = np.maximum(gap, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        gap_df = np.where(gap_sq > 0, gap * gap / gap_sq, np.inf)
    return LevelVariance(
        street=va.sum(axis=1),
        street_own=va_own.sum(axis=1),
        street_df=satterthwaite(va, dfc, axis=(1,)),
        district=d_tot,
        district_own=vd_own.sum(axis=(0, 1)),
        district_df=satterthwaite(vd, dfc, axis=(0, 1)),
        gap=gap,
        gap_df=np.maximum(gap_df, 1.0),
    )
