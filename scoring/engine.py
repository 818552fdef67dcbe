"""The scoring entry point: :func:`score` (the method is described in docs/method.md).

Choices recorded in ``ScoreResult.method``:

* all per-street figures (scores, satisfaction, 不了解 and attention rates) use
  the same group-share estimator ``Σ_g π_g r_sg / Σ_g π_g`` over groups with a
  denominator, so they describe the same population mix;
* missing indicators drop out of their dimension and missing dimensions out of
  the overall score, with weights renormalised over what is present; a street
  resting on too little of the design is 数据不全 (:mod:`scoring.completeness`):
  scored, not ranked, banded, given items or used in the district reference;
* variances come from the cell covariances of :mod:`scoring.variance` (jackknife
  within cells, pooled with the district's within-group covariance; cells
  below 5 respondents use the pooled covariance alone);
  intervals are expanded percentile intervals of the Rao-Wu rescaled bootstrap
  (:mod:`scoring.bootstrap`), with t quantiles at Satterthwaite df;
* the district reference is population-weighted or the plain mean of streets
  (:mod:`scoring.reference`); bands are funnel verdicts (:mod:`scoring.funnel`);
  rank sets follow csranks (:mod:`scoring.ranking`); rectification items need
  FDR control and a minimum gap (:mod:`scoring.priorities`).
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt

from . import tdist as t_dist
from .bootstrap import MIN_REPLICATES, Replicates, bootstrap_replicates, expanded_interval
from .completeness import completeness
from .dataset import FloatArray, ResponseData
from .estimators import Weights, cell_layout, cell_sums, combine_groups, composite
from .framework import Framework
from .funnel import ALARM_Z, ALERT_Z, BAND_RULES, FDR_LEVEL, expected_false_flags, funnel
from .population import Margins
from .priorities import overall_correlation, select_priorities
from .ranking import rank_sets
from .reference import district_reference, street_coefficients
from .result import (
    CellDesign,
    DistrictResult,
    Estimate,
    ScoreResult,
    Shrunk,
    SmallCell,
    StreetResult,
)
from .sensitivity import rank_sensitivity
from .shrinkage import fay_herriot
from .variance import (
    PRIOR_DF,
    TINY_CELL,
    LevelVariance,
    cell_covariance,
    form_contributions,
    item_contributions,
    level_variance,
)
from .weighting import design_effects, prepare_weighting

__all__ = ["data_digest", "score", "subset"]

ESTIMATORS = {
    "group_mean": "weighted ratio mean Σ w m x / Σ w m per street x group cell",
    "indicator": "group-share combination Σ π_g ȳ_g / Σ π_g over groups with answers",
    "dimension": "Σ a_j S_j / Σ a_j over indicators with answers",
    "overall": "Σ b_k D_k / Σ b_k over dimensions with answers (weights renormalised)",
    "complete": "数据不全 when a group or dimension has no answers or answered cells carry "
    "< 90% of the intended weight: scored, not ranked, banded or given items",
    "district_population": "population-weighted: each group's mean over streets weighted by "
    "street x group population counts, then scored like one street",
    "district_street_mean": "plain mean of the complete streets' scores (each street once)",
    "se": "delete-one jackknife of each street x group cell's ratio means (item covariance "
    "carried), mixed with the district's pooled within-group covariance with weight "
    "(n_c - 1)/(n_c - 1 + 20); cells < 5 respondents use the pooled covariance alone",
    "df": "Satterthwaite over cells: (Σ v_c)² / Σ v_c²/(n_c - 1)",
    "interval": "expanded percentile interval (quantiles at Φ(∓t_df)) of the Rao-Wu "
    "rescaled bootstrap (n_c - 1 draws per cell, weights x n_c/(n_c - 1)), replicates "
    "centred on the estimate and scaled to its SE, less the jackknife ratio-bias estimate",
    "gap_interval": "gap ± t_df SE(gap), SE carrying the street's share in the reference",
    "band": "funnel: z = normal equivalent of gap / sqrt(SE² + τ²); alert |z| > 1.960, "
    "alarm |z| > 3.090; τ² by DerSimonian-Laird on z winsorised at 10%/90% when >= 20 "
    "ranked streets; fdr: Benjamini-Hochberg q < 0.05 across ranked streets",
    "rank_interval": "marginal csranks rank set: bootstrap max-|t| over one street's "
    "pairwise differences (Mogstad et al. 2024)",
    "rank_interval_sim": "simultaneous csranks rank sets: bootstrap max-|t| over all pairs",
    "shrinkage": "Fay-Herriot intercept-only, REML, Prasad-Rao/Datta-Lahiri MSE "
    "(a model estimate, never used for ranks, bands or items)",
    "priorities": "candidates: below the district with Benjamini-Hochberg q <= 0.05 across "
    "the street's indicators and gap <= -min_gap; importance = district attention; "
    "top k by I x (1 - satisfaction rate)",
}


def data_digest(data: ResponseData) -> str:
    """sha256 of the arrays scoring uses (for runs not read from a file)."""
    h = hashlib.sha256()
    for label in (*data.streets, "|", *data.groups, "|", *data.indicators):
        h.update(label.encode("utf-8") + b"\0")
    for arr in (data.street, data.group, data.weight, data.points, data.dont_know):
        h.update(np.ascontiguousarray(arr).tobytes())
    for arr in (data.asked, data.concerns, np.nan_to_num(data.overall, nan=-1.0)):
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def subset(data: ResponseData, keep: npt.NDArray[np.bool_] | npt.NDArray[np.int64]) -> ResponseData:
    """Rows of ``data`` where ``keep`` is True, or at indices ``keep`` (streets list unchanged)."""
    return replace(
        data,
        street=data.street[keep],
        group=data.group[keep],
        weight=data.weight[keep],
        points=data.points[keep],
        values=data.values[keep],
        dont_know=data.dont_know[keep],
        asked=data.asked[keep],
        concerns=data.concerns[keep],
        overall=data.overall[keep],
        age_band=None if data.age_band is None else data.age_band[keep],
        gender=None if data.gender is None else data.gender[keep],
    )


def _check(framework: Framework, data: ResponseData, boot: int, min_n: int, top_k: int) -> None:
    if data.indicators != framework.indicator_codes:
        raise ValueError(
            f"the responses use indicators {', '.join(data.indicators)} but framework "
            f"{framework.code} v{framework.version} has {', '.join(framework.indicator_codes)}"
        )
    if data.groups != framework.group_codes:
        raise ValueError(
            f"the responses use groups {', '.join(data.groups)} but framework "
            f"{framework.code} has {', '.join(framework.group_codes)}"
        )
    if boot < MIN_REPLICATES:
        raise ValueError(f"boot must be at least {MIN_REPLICATES} replicates, not {boot}")
    if min_n < 1 or top_k < 0:
        raise ValueError("min_n must be at least 1 and top_k at least 0")
    w = data.weight
    if not np.all(np.isfinite(w)):
        raise ValueError(f"{int((~np.isfinite(w)).sum())} response weights are missing (NaN)")
    if np.any(w <= 0):
        raise ValueError(f"{int((w <= 0).sum())} response weights are zero or negative")
    if data.n and (data.street.min() < 0 or data.street.max() >= len(data.streets)):
        raise ValueError("a response's street index is outside the streets list")
    if data.n and (data.group.min() < 0 or data.group.max() >= len(data.groups)):
        raise ValueError("a response's group index is outside the groups list")


def _opt(x: Any) -> float | None:
    v = float(x)
    return v if np.isfinite(v) else None


def _adjust(reps: FloatArray, point: FloatArray, final: FloatArray, own: FloatArray) -> FloatArray:
    """Replicates centred on the point estimate, deviations scaled by sqrt(final / own).

    Centring on the replicates' own mean keeps the bootstrap's shape but not its
    bias: a ratio mean of 8-16 respondents with informative weights is biased
    by O(1/n), and an uncentred percentile interval shifts by that bias again.
    The scale factor brings the spread to the published variance (pooled
    small-cell rule, domain correction; :mod:`scoring.variance`).
    """
    f = np.sqrt(np.divide(final, own, out=np.ones_like(final), where=own > 0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns stay NaN
        centre = np.nanmean(reps, axis=0)
    out: FloatArray = point + f * (reps - centre)
    return out


def _interval(
    reps: FloatArray,
    point: FloatArray,
    var: FloatArray,
    df: FloatArray,
    level: float,
    bias: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Expanded percentile interval, less the jackknife bias estimate.

    ``point ± t SE`` where the replicates do not vary.
    """
    lo, hi = expanded_interval(reps, df, level)
    se = np.sqrt(var)
    dff = np.broadcast_to(df, se.shape)
    tq = t_dist.ppf(0.5 + level / 2, np.where(np.isfinite(dff), dff, 1e6))
    flat = ~(hi - lo > 1e-9) & (se > 0) & np.isfinite(point)
    lo = np.where(flat, point - tq * se, lo) - bias
    hi = np.where(flat, point + tq * se, hi) - bias
    return lo, hi


def _squeeze(v: LevelVariance) -> LevelVariance:
    """Drop the trailing figure axis of a one-figure (overall) level."""
    return LevelVariance(*(np.asarray(a)[..., 0] for a in (
        v.street, v.street_own, v.street_df, v.district, v.district_own, v.district_df,
        v.gap, v.gap_df,
    )))  # fmt: skip


def score(
    framework: Framework,
    data: ResponseData,
    *,
    boot: int = 1000,
    seed: int = 20260101,
    min_n: int = 30,
    top_k: int = 3,
    exclude: npt.ArrayLike | None = None,
    level: float = 0.95,
    shrink: bool = True,
    data_sha256: str | None = None,
    population_totals: npt.ArrayLike | None = None,
    band_rule: str = "alarm",
    min_gap: float = 3.0,
    fdr: float = FDR_LEVEL,
    margins: Margins | None = None,
    trim: tuple[float, float] | None = None,
    sensitivity: bool = True,
    entropy_reference: npt.ArrayLike | None = None,
) -> ScoreResult:
    """Score every street and the district, with intervals, bands, ranks and items.

    Parameters
    ----------
    framework : Framework
        Weights, groups and scale; must match ``data``'s indicators and groups.
    data : ResponseData
        Responses (see :mod:`scoring.dataset`).
    boot : int
        Bootstrap replicates B (≥ 100).
    seed : int
        Seed of the bootstrap; same input and seed → identical result.  Give
        independent waves different seeds (:func:`scoring.change.wave_seed`).
    min_n : int
        Street x group cells below this many respondents are listed in
        ``small_cells`` (a fieldwork warning; intervals handle small cells).
    top_k : int
        Number of rectification items per street.
    exclude : bool mask (n,) or row indices, optional
        Responses to leave out (e.g. quality exclusions).
    level : float
        Confidence level of every interval.
    shrink : bool
        Also compute Fay-Herriot shrunken overall scores.
    data_sha256 : str, optional
        Digest recorded in ``method`` (the offline scorer passes the file's);
        default :func:`data_digest`.
    population_totals : (streets, groups) array, optional
        Population counts per street x group: the district reference becomes
        population-weighted (:mod:`scoring.reference`); default the plain mean
        of streets.
    band_rule : {"alarm", "alert", "fdr"}
        Which funnel verdict is ``band`` (:mod:`scoring.funnel`).
    min_gap : float
        Points an indicator must fall below the district to become an item.
    fdr : float
        False discovery rate of the item selection across a street's indicators.
    margins : Margins, optional
        Population margins (:mod:`scoring.population`): the weights are raked
        to them within each street x group and re-raked in every bootstrap
        replicate (:mod:`scoring.weighting`); their street x group totals are
        the district reference's counts unless ``population_totals`` is given.
    trim : (low, high), optional
        Raking's weight trimming bounds (off by default).
    sensitivity : bool
        Also report each street's ranks under alternative weighting schemes
        (:mod:`scoring.sensitivity`).
    entropy_reference : (J,) array, optional
        Entropy weights frozen from a reference wave for that scheme; default
        this wave's own (marked data-driven).

    Returns
    -------
    ScoreResult

    Raises
    ------
    ValueError
        Framework/response mismatch, NaN or non-positive weights, ``boot`` < 100,
        bad settings, or no responses left.
    """
    _check(framework, data, boot, min_n, top_k)
    if band_rule not in BAND_RULES:
        raise ValueError(f"band_rule must be one of {', '.join(BAND_RULES)}, not {band_rule!r}")
    if not (np.isfinite(min_gap) and min_gap >= 0):
        raise ValueError(f"min_gap must be a number of points >= 0, not {min_gap}")
    if not 0 < fdr < 1:
        raise ValueError(f"fdr must be between 0 and 1, not {fdr}")
    if not 0.5 <= level < 1:
        raise ValueError(f"level must be in [0.5, 1), not {level}")
    digest = data_sha256 or data_digest(data)
    n_in = data.n
    if exclude is not None:
        ex = np.asarray(exclude)
        keep = np.ones(data.n, dtype=bool)
        if ex.dtype == np.bool_:
            if ex.shape != (data.n,):
                raise ValueError(f"exclude mask has {ex.size} entries for {data.n} responses")
            keep = ~ex
        else:
            keep[ex.astype(np.int64)] = False
        data = subset(data, keep)
    if data.n == 0:
        raise ValueError("there are no responses to score")
    weighting = prepare_weighting(data, margins, trim=trim)
    data = weighting.data
    if population_totals is None:
        population_totals = weighting.totals
    population = None if population_totals is None else np.asarray(population_totals, float)

    W = Weights.of(framework)
    # rows in cell order once: every cell sum below is then a plain reduceat over
    # contiguous rows, added in the same order as gathering them would
    data_in = data
    order = cell_layout(data).order
    data = subset(data, order)
    lay = cell_layout(data)
    J, K = len(framework.indicators), len(framework.dimensions)
    S, G = len(data.streets), len(data.groups)
    m = data.points > 0
    w = data.weight[:, None]
    wm = w * m
    x = np.where(m, data.values, 0.0)
    sat = (data.points >= framework.scale.satisfied_from) & m
    any_concern = data.concerns.any(axis=1, keepdims=True)
    # one (n, J) feature block at a time keeps memory at a few n x J arrays
    makers: list[Callable[[], FloatArray]] = [
        lambda: wm * x,
        lambda: wm,
        lambda: wm * sat,
        lambda: w * data.dont_know,
        lambda: w * data.asked,
        lambda: w * data.concerns,
        lambda: np.broadcast_to(w * any_concern, m.shape),
        lambda: m.astype(np.float64),
    ]
    blocks = [cell_sums(make(), lay) for make in makers]  # each (S, G, J)
    member = W.member

    def figures(tb: list[FloatArray]) -> dict[str, FloatArray]:
        num, den, satn, dkn, askn, conn, cond, cnt = tb
        ind = combine_groups(num, den, W.shares)
        dim, ovr = composite(ind, W)
        return {
            "ind": ind,
            "dim": dim,
            "ovr": ovr,
            "sat": combine_groups(satn, den, W.shares),
            "dk": combine_groups(dkn, askn, W.shares),
            "att": combine_groups(conn, cond, W.shares),
            "dsat": combine_groups(satn @ member, den @ member, W.shares),
            "ddk": combine_groups(dkn @ member, askn @ member, W.shares),
            "n_ind": cnt.sum(axis=-2),
        }

    st = figures(blocks)
    di = figures([b.sum(axis=0, keepdims=True) for b in blocks])
    dim_any = (m.astype(np.float64) @ member) > 0
    n_dim = np.zeros((S, K), dtype=np.int64)
    np.add.at(n_dim, data.street, dim_any.astype(np.int64))
    n_street = np.bincount(data.street, minlength=S)

    # variances, completeness, the district reference
    scores_ = np.asarray(framework.scale.scores, dtype=np.float64)
    var_data = data
    if weighting.variance_values is not None:  # raked: residuals on the raking variables
        var_data = replace(data, values=weighting.variance_values[order])
    cov = cell_covariance(var_data, lay, span=float(scores_.max() - scores_.min()))
    comp = completeness(framework, lay.size.reshape(S, G), cov.answered)
    scoreable = np.isfinite(st["ovr"])
    ranked = comp.complete & scoreable
    use = ranked if ranked.sum() >= 2 else scoreable
    sc = street_coefficients(cov.answered, W)
    ref = district_reference(
        cov.means, cov.answered, sc, st["ind"], st["dim"], st["ovr"], use, W, population
    )
    v_ind = level_variance(cov, sc.indicator, ref.coef.indicator, item_contributions)
    v_dim = level_variance(cov, sc.dimension, ref.coef.dimension, form_contributions)
    v_ovr = _squeeze(
        level_variance(cov, sc.overall[..., None], ref.coef.overall[..., None], form_contributions)
    )

    # rescaled bootstrap, deviations scaled to the variance with the tiny-cell rule
    feat_boot = np.empty((data.n, 2 * J), dtype=np.float32)
    wm_base = wm if weighting.replicate is None else weighting.base[order, None] * m
    feat_boot[:, :J] = wm_base * x
    feat_boot[:, J:] = wm_base
    raw = bootstrap_replicates(
        feat_boot,
        lay,
        W,
        boot,
        seed,
        reference_streets=use,
        population_coef=ref.coef.indicator if population is not None else None,
        point_means=cov.means,
        raking=weighting.replicate,
    )
    d_ovr_pt = np.asarray(ref.overall)
    rep = Replicates(
        indicator=_adjust(raw.indicator, st["ind"], v_ind.street, v_ind.street_own),
        dimension=_adjust(raw.dimension, st["dim"], v_dim.street, v_dim.street_own),
        overall=_adjust(raw.overall, st["ovr"], v_ovr.street, v_ovr.street_own),
        district_indicator=_adjust(
            raw.district_indicator, ref.indicator, v_ind.district, v_ind.district_own
        ),
        district_dimension=_adjust(
            raw.district_dimension, ref.dimension, v_dim.district, v_dim.district_own
        ),
        district_overall=_adjust(
            raw.district_overall, d_ovr_pt, v_ovr.district, v_ovr.district_own
        ),
    )
    # jackknife ratio-bias estimates of every figure (linear in the cell biases)
    b = cov.bias
    b_ind = np.einsum("sgj,sgj->sj", sc.indicator, b)
    b_dim = np.einsum("sgjk,sgj->sk", sc.dimension, b)
    b_ovr = np.einsum("sgj,sgj->s", sc.overall, b)
    bd_ind = np.einsum("sgj,sgj->j", ref.coef.indicator, b)
    bd_dim = np.einsum("sgjk,sgj->k", ref.coef.dimension, b)
    bd_ovr = np.einsum("sgj,sgj->", ref.coef.overall, b)
    ind_lo, ind_hi = _interval(
        rep.indicator, st["ind"], v_ind.street, v_ind.street_df, level, b_ind
    )
    dim_lo, dim_hi = _interval(
        rep.dimension, st["dim"], v_dim.street, v_dim.street_df, level, b_dim
    )
    ovr_lo, ovr_hi = _interval(rep.overall, st["ovr"], v_ovr.street, v_ovr.street_df, level, b_ovr)
    d_ind_lo, d_ind_hi = _interval(
        rep.district_indicator, ref.indicator, v_ind.district, v_ind.district_df, level, bd_ind
    )
    d_dim_lo, d_dim_hi = _interval(
        rep.district_dimension, ref.dimension, v_dim.district, v_dim.district_df, level, bd_dim
    )
    d_ovr_lo, d_ovr_hi = _interval(
        rep.district_overall[:, None],
        d_ovr_pt[None],
        np.asarray(v_ovr.district)[None],
        np.asarray(v_ovr.district_df)[None],
        level,
        np.asarray(bd_ovr)[None],
    )

    # gaps, funnel bands, rank sets
    gap_ind = st["ind"] - ref.indicator[None, :]
    gse_ind = np.sqrt(v_ind.gap)
    tq_ind = t_dist.ppf(0.5 + level / 2, np.where(np.isfinite(v_ind.gap_df), v_ind.gap_df, 1e6))
    gap_o = st["ovr"] - ref.overall
    gse_o = np.sqrt(v_ovr.gap)
    fun = funnel(gap_o, gse_o, v_ovr.gap_df, ranked, band_rule)
    rs = rank_sets(st["ovr"], rep.overall, v_ovr.street, ranked, level)

    has_concerns = bool(data.concerns.any())
    importance = di["att"][0] if has_concerns else overall_correlation(data_in)
    shrunk = fay_herriot(st["ovr"], v_ovr.street) if shrink else None

    codes, dcodes = framework.indicator_codes, framework.dimension_codes

    def est(
        score: float,
        lo: float,
        hi: float,
        var: float,
        n: int,
        dk: float,
        sat: float,
        **extra: float | None,
    ) -> Estimate:
        ok = np.isfinite(score)
        return Estimate(
            score=_opt(score),
            ci_low=_opt(lo) if ok else None,
            ci_high=_opt(hi) if ok else None,
            se=_opt(np.sqrt(var)) if ok else None,
            n=int(n),
            dk_rate=_opt(dk),
            satisfaction_rate=_opt(sat),
            **{k: (v if ok else None) for k, v in extra.items()},
        )

    deff = design_effects(data_in, W.shares)
    streets = []
    for s, label in enumerate(data.streets):
        pri, q_below = select_priorities(
            codes,
            st["ind"][s],
            ref.indicator,
            gse_ind[s],
            v_ind.gap_df[s],
            importance,
            st["sat"][s],
            min_gap=min_gap,
            fdr=fdr,
            top_k=top_k,
        )
        if not ranked[s]:
            pri = ()
        inds = {
            c: est(
                st["ind"][s, j],
                ind_lo[s, j],
                ind_hi[s, j],
                v_ind.street[s, j],
                st["n_ind"][s, j],
                st["dk"][s, j],
                st["sat"][s, j],
                attention=_opt(st["att"][s, j]),
                district_gap=_opt(gap_ind[s, j]),
                gap_se=_opt(gse_ind[s, j]),
                gap_ci_low=_opt(gap_ind[s, j] - tq_ind[s, j] * gse_ind[s, j]),
                gap_ci_high=_opt(gap_ind[s, j] + tq_ind[s, j] * gse_ind[s, j]),
                q_below=_opt(q_below[j]),
            )
            for j, c in enumerate(codes)
        }
        dims = {
            c: est(
                st["dim"][s, k],
                dim_lo[s, k],
                dim_hi[s, k],
                v_dim.street[s, k],
                n_dim[s, k],
                st["ddk"][s, k],
                st["dsat"][s, k],
            )
            for k, c in enumerate(dcodes)
        }
        o = st["ovr"][s]
        ok = bool(np.isfinite(o))
        rk = bool(ranked[s])
        streets.append(
            StreetResult(
                street=label,
                n=int(n_street[s]),
                score=_opt(o),
                ci_low=_opt(ovr_lo[s]) if ok else None,
                ci_high=_opt(ovr_hi[s]) if ok else None,
                se=_opt(np.sqrt(v_ovr.street[s])) if ok else None,
                rank=int(rs.rank[s]) if rk else None,
                rank_low=int(rs.low[s]) if rk else None,
                rank_high=int(rs.high[s]) if rk else None,
                band=fun.band[s] if rk else None,
                district_gap=_opt(gap_o[s]) if ok else None,
                dimensions=dims,
                indicators=inds,
                priorities=tuple(p.indicator for p in pri),
                priority_details=pri,
                shrunk=Shrunk(
                    score=_opt(shrunk.estimate[s]) if shrunk else None,
                    mse=_opt(shrunk.mse[s]) if shrunk else None,
                ),
                complete=bool(comp.complete[s]),
                incomplete_reason=comp.reasons[s],
                coverage=_opt(comp.coverage[s]),
                df=_opt(v_ovr.street_df[s]) if ok else None,
                gap=_opt(gap_o[s]) if ok else None,
                gap_se=_opt(gse_o[s]) if ok else None,
                z=_opt(fun.z[s]) if rk else None,
                alert=fun.alert[s] if rk else None,
                alarm=fun.alarm[s] if rk else None,
                fdr_q=_opt(fun.q[s]) if rk else None,
                rank_low_sim=int(rs.low_sim[s]) if rk else None,
                rank_high_sim=int(rs.high_sim[s]) if rk else None,
                n_eff=_opt(deff.street_n_eff[s]) if n_street[s] else None,
                deff=_opt(deff.street_deff[s]) if n_street[s] else None,
                cells=tuple(
                    CellDesign(
                        group=data.groups[g],
                        n=int(deff.cell_n[s, g]),
                        n_eff=_opt(deff.cell_n_eff[s, g]),
                        deff=_opt(deff.cell_deff[s, g]),
                    )
                    for g in range(G)
                    if deff.cell_n[s, g]
                ),
            )
        )
    district = DistrictResult(
        score=_opt(ref.overall),
        ci_low=_opt(d_ovr_lo[0]),
        ci_high=_opt(d_ovr_hi[0]),
        se=_opt(np.sqrt(v_ovr.district)),
        n=data.n,
        dimensions={
            c: est(
                ref.dimension[k],
                d_dim_lo[k],
                d_dim_hi[k],
                v_dim.district[k],
                int(dim_any[:, k].sum()),
                di["ddk"][0, k],
                di["dsat"][0, k],
            )
            for k, c in enumerate(dcodes)
        },
        indicators={
            c: est(
                ref.indicator[j],
                d_ind_lo[j],
                d_ind_hi[j],
                v_ind.district[j],
                di["n_ind"][0, j],
                di["dk"][0, j],
                di["sat"][0, j],
                attention=_opt(di["att"][0, j]),
            )
            for j, c in enumerate(codes)
        },
        reference=ref.kind,
        n_streets=int(use.sum()),
    )
    small = tuple(
        SmallCell(street=data.streets[s], group=data.groups[g], n=int(lay.size[s * G + g]))
        for s in range(S)
        for g in range(G)
        if lay.size[s * G + g] < min_n
    )
    n_ranked = int(ranked.sum())
    method = {
        "boot": boot,
        "seed": seed,
        "min_n": min_n,
        "top_k": top_k,
        "level": level,
        "decimals": 4,
        "framework": {
            "code": framework.code,
            "version": framework.version,
            "sha256": framework.sha256,
        },
        "data_sha256": digest,
        "n_responses": n_in,
        "n_excluded": n_in - data.n,
        "importance": "district_attention" if has_concerns else "overall_correlation",
        "shrinkage": shrink,
        "estimators": ESTIMATORS,
        "district_reference": ref.kind,
        "weighting": weighting.method,
        "tiny_cell": TINY_CELL,
        "prior_df": PRIOR_DF,
        "n_streets_ranked": n_ranked,
        "n_streets_incomplete": int((~comp.complete).sum()),
        "band_rule": band_rule,
        "expected_false_flags": expected_false_flags(band_rule, n_ranked),
        "funnel": {
            "alert_z": ALERT_Z,
            "alarm_z": ALARM_Z,
            "fdr_level": FDR_LEVEL,
            "phi": fun.phi,
            "tau2": float(fun.tau2),
            "overdispersion": bool(fun.tau2 > 0),
        },
        "rank_interval": "marginal",
        "rank_critical_sim": _opt(rs.critical_sim),
        "priority_min_gap": float(min_gap),
        "priority_fdr": float(fdr),
    }
    return ScoreResult(
        method=method,
        district=district,
        streets=tuple(streets),
        small_cells=small,
        replicates=rep,
        sensitivity=rank_sensitivity(
            framework,
            data,
            ranked,
            seed=seed,
            entropy_reference=None
            if entropy_reference is None
            else np.asarray(entropy_reference, dtype=np.float64),
        )
        if sensitivity and n_ranked >= 2
        else None,
        indicator_cov=np.einsum(
            "sgj,sgjk,sgk->sjk", sc.indicator, cov.final, sc.indicator, optimize=True
        ),
    )
