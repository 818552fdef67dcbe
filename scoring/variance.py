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
independent understates a composite's SE by about half).  That is what the
Rao-Wu bootstrap reproduces.  With few respondents and weights correlated with
satisfaction it is too small (for cells of 8 with informative weights, by
15%), so the published ``Q_c`` uses the delete-one jackknife instead:

    v_rj = w_r m_rj (x_rj − ȳ_cj) / (Σ_{r'∈c} w_r' m_r'j − w_r m_rj)
           (= ȳ_cj − ȳ_cj(−r), exactly, for a ratio mean),
    Q_c^own = (n_c − 1)/n_c Σ_r (v_r − v̄)(v_r − v̄)',

nearly unbiased for a ratio mean even at n_c = 6-8 (Wolter 2007, ch. 4), and
it handles 不了解 (domain non-response: a respondent who did not answer j does
not move ȳ_cj).  The same values give the jackknife estimate of the ratio's
O(1/n) bias, ``b_cj = −(n_c − 1) v̄_j``, used to centre the intervals.

**Small cells borrow strength.**  A cell's own variance estimate is poor when
it has few respondents, and worse, with informative weights it is correlated
with the estimate's error: a small sample that happens to miss the rare,
heavily weighted dissatisfied residents gives both a high score and a small
variance (in the calibration model, SEs at n = 40 were 20% too small for this
reason alone).  Every cell's ``Q_c`` is therefore a precision-weighted mix of
its own estimate and the district's pooled within-group covariance:

    Q_c = λ_c Q_c^own + (1 − λ_c) Q_c^pool,   λ_c = (n_c − 1) / (n_c − 1 + ν₀),

with ν₀ = :data:`PRIOR_DF` (20), i.e. the pooled covariance counts as 20
respondents' worth of information (the conjugate-prior form of variance
shrinkage).  ``Q_c^pool[j, k] = P_g[j, k] · a_cjk / (a_cj a_ck)`` from the
per-answer covariance ``P_g`` of ``w̃_r (x_rj − ȳ_cj)`` (weights relative to the
cell's mean weight, so informative weights are carried) pooled over the
district's cells of group g with at least :data:`TINY_CELL` respondents.  Cells
below :data:`TINY_CELL` (one respondent gives no variance at all) use
``Q_c^pool`` alone.  ``P_g`` falls back to all groups pooled, and carries two
pseudo-answers at the scale's extremes, so no published SE is ever 0.

**Degrees of freedom.**  Satterthwaite's rule over the cells' contributions
``v_c = a_c' Q_c a_c``: ``df = (Σ v_c)² / Σ v_c² / df_c`` with
``df_c = n_c − 1`` (the pooled share is not counted as extra df: with
informative weights the standardised errors' tails are heavier than that would
suggest), or ν₀ for tiny cells.  A street
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
import numpy.typing as npt

from .dataset import BoolArray, FloatArray, ResponseData
from .estimators import CellLayout, block_sums, cell_blocks

__all__ = [
    "PRIOR_DF",
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
PRIOR_DF = 20.0


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
        ``Q_c`` from the cell's own respondents with the bootstrap's factor
        ``n_c/(n_c − 1)`` (0 for tiny cells): what the bootstrap sees.
    final : (S, G, J, J) array
        ``Q_c`` mixed with the pooled covariance (what is published).
    df : (S, G) array
        Degrees of freedom of each cell's variance estimate.
    tiny : (S, G) bool array
        Cells below :data:`TINY_CELL` respondents (pooled covariance only).
    pooled : (G, J, J) array
        Pooled within-group covariance of one answer.
    bias : (S, G, J) array
        Jackknife estimate of each cell mean's ratio bias (0 for tiny cells).
    """

    means: FloatArray
    answered: BoolArray
    own: FloatArray
    final: FloatArray
    df: FloatArray
    tiny: BoolArray
    pooled: FloatArray
    bias: FloatArray


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


def _cell_terms(
    m: BoolArray,
    x: FloatArray,
    w: FloatArray,
    cell: npt.NDArray[np.int64],
    means: FloatArray,
    dens: FloatArray,
    starts: npt.NDArray[np.int64],
    tiny: int,
    uu: FloatArray,
    jj: FloatArray,
    mm: FloatArray,
    bias: FloatArray,
) -> None:
    """Cross-products of a block of whole cells' rows (in cell order), filled in place.

    ``uu``: linearisation ``Σ u u'`` with the factor ``k/(k − 1)``; ``jj``: the
    delete-one jackknife covariance; ``mm``: answer co-counts; ``bias``: the
    jackknife ratio-bias estimate (cells below ``tiny`` get ``mm`` only).
    """
    d = dens[cell]
    wc = w[:, None]
    wr = wc * np.where(m, x - means[cell], 0.0)
    u = np.divide(wr, d, out=np.zeros_like(wr), where=d > 0)
    # delete-one jackknife values: leaving r out moves ȳ_cj by w_r e_rj / (den_cj - w_r)
    left = d - wc * m
    del d
    uj = np.divide(wr, left, out=np.zeros_like(wr), where=left > 0)
    del wr, left
    mf = m.astype(np.float64)
    for c in np.flatnonzero(np.diff(starts)):
        lo, hi = int(starts[c]), int(starts[c + 1])
        mc = mf[lo:hi]
        mm[c] = mc.T @ mc
        if hi - lo >= tiny:
            k = hi - lo
            uc = u[lo:hi]
            ujc = uj[lo:hi]
            uu[c] = uc.T @ uc * (k / (k - 1))
            mean_j = ujc.mean(axis=0)
            dj = ujc - mean_j
            jj[c] = dj.T @ dj * ((k - 1) / k)
            bias[c] = -(k - 1) * mean_j


def cell_covariance(
    data: ResponseData,
    layout: CellLayout,
    *,
    span: float,
    tiny: int = TINY_CELL,
    prior_df: float = PRIOR_DF,
    totals: tuple[FloatArray, FloatArray, FloatArray] | None = None,
) -> CellCovariance:
    """Covariance of every cell's mean vector (see the module docstring).

    :param span: distance between the scale's lowest and highest score (e.g. 100).
    :param totals: the (C, J) cell sums of ``w m x``, ``w m`` and ``m`` of these
        rows when the caller has them already (the engine's point estimates);
        default summed here.
    :param tiny: cells below this many respondents use the pooled covariance only.
    :param prior_df: weight (in degrees of freedom) of the pooled covariance in
        every other cell's estimate.
    """
    S, G, J = layout.n_streets, layout.n_groups, data.points.shape[1]
    C = S * G
    points, values, w = data.points, data.values, data.weight
    if not layout.contiguous:  # one gather here instead of one per cell
        order = layout.order
        points, values, w = points[order], values[order], w[order]

    def block(r0: int, r1: int) -> tuple[BoolArray, FloatArray]:
        m = points[r0:r1] > 0
        return m, np.where(m, values[r0:r1], 0.0)

    # cell totals, then the per-respondent terms, a block of whole cells at a time:
    # memory stays a few block x J arrays at a million respondents
    if totals is None:
        tot = np.zeros((3, C, J))
        for r0, r1, c0, c1 in cell_blocks(layout):
            m, x = block(r0, r1)
            wm = w[r0:r1, None] * m
            block_sums(wm * x, layout, c0, c1, tot[0])
            block_sums(wm, layout, c0, c1, tot[1])
            block_sums(m.astype(np.float64), layout, c0, c1, tot[2])
        totals = (tot[0], tot[1], tot[2])
    num, den, cnt = (t.reshape(S, G, J) for t in totals)
    answered = den > 0
    means = np.divide(num, den, out=np.zeros_like(num), where=answered)
    size = layout.size
    flat_means = means.reshape(C, J)
    flat_dens = den.reshape(C, J)
    uu = np.zeros((C, J, J))
    jj = np.zeros((C, J, J))
    mm = np.zeros((C, J, J))
    bias = np.zeros((C, J))
    starts = layout.starts
    for r0, r1, c0, c1 in cell_blocks(layout):
        m, x = block(r0, r1)
        _cell_terms(
            m, x, w[r0:r1], np.repeat(np.arange(c1 - c0), size[c0:c1]),
            flat_means[c0:c1], flat_dens[c0:c1], starts[c0 : c1 + 1] - r0, tiny,
            uu[c0:c1], jj[c0:c1], mm[c0:c1], bias[c0:c1],
        )  # fmt: skip
    tiny_cell = (size < tiny).reshape(S, G)
    full = ~tiny_cell
    own = uu.reshape(S, G, J, J)
    jack = jj.reshape(S, G, J, J)
    mm4 = mm.reshape(S, G, J, J)
    # per-answer covariance of each cell, weighted by its df for pooling
    aa = np.einsum("sgj,sgk->sgjk", cnt, cnt)
    per_answer = np.divide(jack * aa, mm4, out=np.zeros_like(jack), where=mm4 > 0)
    pooled, pooled_df = _pooled(per_answer * np.maximum(mm4 - 1.0, 0.0), mm4, full, span)
    # pooled covariance of one answer → covariance of this cell's means
    pooled_c = pooled[None] * np.divide(mm4, aa, out=np.zeros_like(mm4), where=aa > 0)
    n_df = np.maximum(size.reshape(S, G) - 1.0, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = np.where(full, n_df / np.maximum(n_df + prior_df, 1e-300), 0.0)[..., None, None]
    final = lam * jack + (1.0 - lam) * pooled_c
    # df stay n_c - 1: with informative weights the errors' tails are heavier than
    # the pooled information would suggest (calibration suite), so the pooled
    # share is not counted as extra degrees of freedom
    df = np.where(tiny_cell, np.minimum(prior_df, pooled_df[None, :]), n_df)
    return CellCovariance(
        means=means,
        answered=answered,
        own=own,
        final=final,
        df=np.maximum(df, 1.0).astype(np.float64),
        tiny=tiny_cell,
        pooled=pooled,
        bias=bias.reshape(S, G, J),
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
