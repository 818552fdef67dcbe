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
import math
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields, replace
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt

from . import tdist as t_dist
from .bootstrap import (
    Replicates,
    blas_single_thread,
    bootstrap_replicates,
    expanded_interval,
    indicator_replicates,
    nan_mean,
    streetwise,
)
from .bootstrap_raked import (
    RakedDraws,
    raked_indicator_replicates,
    raked_replicates,
    raked_streetwise,
)
from .completeness import Completeness, completeness
from .dataset import BoolArray, FloatArray, ResponseData
from .estimators import (
    CellLayout,
    Weights,
    block_sums,
    cell_blocks,
    cell_layout,
    combine_groups,
    composite,
)
from .framework import Framework
from .funnel import ALARM_Z, ALERT_Z, BAND_RULES, FDR_LEVEL, Funnel, expected_false_flags, funnel
from .population import Margins
from .priorities import Priority, overall_correlation, select_priorities
from .ranking import RankSets, rank_sets
from .reference import Coefficients, Reference, district_reference, street_coefficients
from .reliability import composite_reliability
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
from .settings import DEFAULTS, check_boot
from .shrinkage import FayHerriot, fay_herriot
from .variance import (
    PRIOR_DF,
    TINY_CELL,
    CellCovariance,
    LevelVariance,
    cell_covariance,
    form_contributions,
    item_contributions,
    level_variance,
)
from .weighting import DesignEffects, Weighting, design_effects, prepare_weighting

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


#: rows from which :func:`subset` gathers its arrays in two threads
SUBSET_THREADS_FROM = 20_000
#: every per-row field of ResponseData (all but the label tuples)
_ROW_ARRAYS = tuple(
    f.name for f in fields(ResponseData) if f.name not in ("streets", "groups", "indicators")
)


def subset(data: ResponseData, keep: npt.NDArray[np.bool_] | npt.NDArray[np.int64]) -> ResponseData:
    """Rows of ``data`` where ``keep`` is True, or at indices ``keep`` (streets list unchanged).

    ``np.take`` gathers the rows: the same values as indexing, several times
    faster for the (n, J) arrays (0.027 -> 0.012 s for 100,000 rows), and in
    two threads from :data:`SUBSET_THREADS_FROM` rows (0.006 s; NumPy
    releases the GIL).  Putting a file that is not sorted by street and group
    into cell order is on the path before the bootstrap starts
    (docs/performance-scoring.md, seventh pass).
    """
    idx = np.flatnonzero(keep) if keep.dtype == np.bool_ else keep

    def gather(name: str) -> npt.NDArray[Any] | None:
        a = getattr(data, name)
        return None if a is None else np.take(a, idx, axis=0)

    if idx.size >= SUBSET_THREADS_FROM:
        with ThreadPoolExecutor(2) as pool:
            arrays = list(pool.map(gather, _ROW_ARRAYS))
    else:
        arrays = [gather(name) for name in _ROW_ARRAYS]
    rows: dict[str, Any] = dict(zip(_ROW_ARRAYS, arrays, strict=True))
    return replace(data, **rows)


def _opt(x: Any) -> float | None:
    v = float(x)
    return v if math.isfinite(v) else None


def _adjust(
    reps: FloatArray, point: FloatArray, final: FloatArray, own: FloatArray, out: FloatArray
) -> None:
    """Into ``out``: replicates centred on the estimate, deviations scaled by sqrt(final / own).

    Centring on the replicates' own mean keeps the bootstrap's shape but not its
    bias: a ratio mean of 8-16 respondents with informative weights is biased
    by O(1/n), and an uncentred percentile interval shifts by that bias again.
    The scale factor brings the spread to the published variance (pooled
    small-cell rule, domain correction; :mod:`scoring.variance`).
    """
    f = np.sqrt(np.divide(final, own, out=np.ones_like(final), where=own > 0))
    centre = nan_mean(reps, axis=0)  # all-NaN columns stay NaN
    np.subtract(reps, centre, out=out)  # point + f (reps - centre), in place
    out *= f
    out += point


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


# -- the steps of score(), in order ------------------------------------------


def _check(
    framework: Framework,
    data: ResponseData,
    *,
    boot: int,
    min_n: int,
    top_k: int,
    band_rule: str,
    min_gap: float,
    fdr: float,
    level: float,
) -> None:
    """Step 1: the settings and the data fit together (ValueError naming what does not)."""
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
    check_boot(boot)
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
    if band_rule not in BAND_RULES:
        raise ValueError(f"band_rule must be one of {', '.join(BAND_RULES)}, not {band_rule!r}")
    if not (np.isfinite(min_gap) and min_gap >= 0):
        raise ValueError(f"min_gap must be a number of points >= 0, not {min_gap}")
    if not 0 < fdr < 1:
        raise ValueError(f"fdr must be between 0 and 1, not {fdr}")
    if not 0.5 <= level < 1:
        raise ValueError(f"level must be in [0.5, 1), not {level}")


@dataclass(frozen=True, slots=True, eq=False)
class _Prepared:
    """Step 2: the responses to score, weighted, in cell order."""

    data: ResponseData  # rows in street x group cell order
    data_in: ResponseData  # the same rows in file order (for order-dependent sums)
    order: npt.NDArray[np.int64]  # data = data_in rows at order
    layout: CellLayout
    weighting: Weighting
    population: FloatArray | None  # (S, G) population counts, or None
    n_in: int  # responses before exclusions


def _prepare(
    data: ResponseData,
    exclude: npt.ArrayLike | None,
    margins: Margins | None,
    trim: tuple[float, float] | None,
    population_totals: npt.ArrayLike | None,
) -> _Prepared:
    """Drop excluded rows, weight (rake) the rest, and sort the rows into cell order once.

    In cell order every cell sum is a plain ``reduceat`` over contiguous rows,
    added in the same order as gathering the rows would.
    """
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
    if population_totals is None:
        population_totals = weighting.totals
    population = None if population_totals is None else np.asarray(population_totals, float)
    data_in = weighting.data
    layout = cell_layout(data_in)
    order = layout.order
    in_order = layout.contiguous and all(
        a.flags.c_contiguous
        for a in (
            data_in.points,
            data_in.values,
            data_in.dont_know,
            data_in.asked,
            data_in.concerns,
        )
    )
    if in_order:  # already in cell order (e.g. a file sorted by street and group): no copy
        return _Prepared(data_in, data_in, order, layout, weighting, population, n_in)
    data = subset(data_in, order)
    return _Prepared(data, data_in, order, cell_layout(data), weighting, population, n_in)


@dataclass(frozen=True, slots=True, eq=False)
class _Points:
    """Step 3: point estimates of every street (``st``) and the pooled district (``di``)."""

    st: dict[str, FloatArray]
    di: dict[str, FloatArray]
    n_dim: npt.NDArray[np.int64]  # (S, K) respondents answering each dimension
    n_street: npt.NDArray[np.int64]  # (S,)
    district_n_dim: npt.NDArray[np.int64]  # (K,) respondents answering each dimension
    num: FloatArray  # (S, G, J) cell sums of w m x
    den: FloatArray  # (S, G, J) cell sums of w m
    cnt: FloatArray  # (S, G, J) cell counts of answers m


def _figures(tb: list[FloatArray], W: Weights) -> dict[str, FloatArray]:
    """Every published figure from the cell sums ``tb`` (see ``_point_estimates``)."""
    num, den, satn, dkn, askn, conn, cond, cnt = tb
    member = W.member
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


def _features(data: ResponseData, r0: int, r1: int, satisfied: int) -> Iterator[FloatArray]:
    """The eight (rows, J) features of rows ``r0:r1``, one at a time (they stay in cache).

    ``w m x``, ``w m``, ``w m sat``, ``w dk``, ``w asked``, ``w concern``,
    ``w any-concern``, ``m`` (the sums ``_figures`` takes, in that order).
    """
    points = data.points[r0:r1]
    m = points > 0
    w = data.weight[r0:r1, None]
    wm = w * m
    yield wm * np.where(m, data.values[r0:r1], 0.0)
    yield wm
    yield wm * ((points >= satisfied) & m)
    yield w * data.dont_know[r0:r1]
    yield w * data.asked[r0:r1]
    yield w * data.concerns[r0:r1]
    yield np.broadcast_to(w * data.concerns[r0:r1].any(axis=1, keepdims=True), m.shape)
    yield m.astype(np.float64)


def _point_estimates(framework: Framework, prep: _Prepared, W: Weights) -> _Points:
    """Cell sums of every feature, combined into street and district figures.

    A block of whole cells at a time (:func:`scoring.estimators.cell_blocks`):
    the eight n x J features never exist for all rows at once.
    """
    data, lay = prep.data, prep.layout
    S, G, K = len(data.streets), len(data.groups), len(framework.dimensions)
    J = data.points.shape[1]
    satisfied = framework.scale.satisfied_from
    sums = np.zeros((8, lay.n_cells, J))
    n_dim = np.zeros((S, K), dtype=np.int64)
    d_dim = np.zeros(K, dtype=np.int64)
    for r0, r1, c0, c1 in cell_blocks(lay):
        for out, f in zip(sums, _features(data, r0, r1, satisfied), strict=True):
            block_sums(f, lay, c0, c1, out)
        dim_any = (f @ W.member) > 0  # f: the last feature, m as 0/1
        np.add.at(n_dim, data.street[r0:r1], dim_any.astype(np.int64))
        d_dim += dim_any.sum(axis=0)
    blocks = [t.reshape(S, G, J) for t in sums]  # each (S, G, J)
    st = _figures(blocks, W)
    di = _figures([b.sum(axis=0, keepdims=True) for b in blocks], W)
    n_street = np.bincount(data.street, minlength=S)
    return _Points(st, di, n_dim, n_street, d_dim, blocks[0], blocks[1], blocks[7])


@dataclass(frozen=True, slots=True, eq=False)
class _Variances:
    """Step 4: cell covariances, completeness, the district reference, level variances."""

    cov: CellCovariance
    comp: Completeness
    ranked: BoolArray  # complete streets with a score
    use: BoolArray  # streets in the district reference
    sc: Coefficients
    ref: Reference
    ind: LevelVariance
    dim: LevelVariance
    ovr: LevelVariance


def _variances(framework: Framework, prep: _Prepared, pts: _Points, W: Weights) -> _Variances:
    """Cell covariances (:mod:`scoring.variance`) and what rests on them."""
    data, lay = prep.data, prep.layout
    S, G = len(data.streets), len(data.groups)
    scores_ = np.asarray(framework.scale.scores, dtype=np.float64)
    var_data = data
    if prep.weighting.variance_values is not None:  # raked: residuals on the raking variables
        # (their weighted cell means are the cells' means: a weighted least-squares fit
        # with an intercept leaves residuals summing to zero, so the totals are the same)
        var_data = replace(data, values=prep.weighting.variance_values(data))
    C, J = S * G, data.points.shape[1]
    # the point estimates' cell sums of w m x, w m and m (the same rows)
    totals = (pts.num.reshape(C, J), pts.den.reshape(C, J), pts.cnt.reshape(C, J))
    cov = cell_covariance(var_data, lay, span=float(scores_.max() - scores_.min()), totals=totals)
    comp = completeness(framework, lay.size.reshape(S, G), cov.answered)
    st = pts.st
    scoreable = np.isfinite(st["ovr"])
    ranked = comp.complete & scoreable
    use = ranked if ranked.sum() >= 2 else scoreable
    sc = street_coefficients(cov.answered, W)
    ref = district_reference(
        cov.means, cov.answered, sc, st["ind"], st["dim"], st["ovr"], use, W, prep.population
    )
    v_ind = level_variance(cov, sc.indicator, ref.coef.indicator, item_contributions)
    v_dim = level_variance(cov, sc.dimension, ref.coef.dimension, form_contributions)
    v_ovr = _squeeze(
        level_variance(cov, sc.overall[..., None], ref.coef.overall[..., None], form_contributions)
    )
    return _Variances(cov, comp, ranked, use, sc, ref, v_ind, v_dim, v_ovr)


@dataclass(frozen=True, slots=True, eq=False)
class _Draws:
    """Step 5a: the bootstrap's features and, where it can, its indicator replicates.

    Drawn from the prepared rows alone, so in a thread of its own while the
    point estimates and variances are computed.
    """

    features: npt.NDArray[np.float32]  # (n, 2J) [w m x, w m] in cell order, w: base if raked
    indicator: FloatArray | None  # (B, S, J) (:func:`scoring.bootstrap.indicator_replicates`)
    raked: RakedDraws | None = None  # re-raked street by street (:mod:`scoring.bootstrap_raked`)


def _boot_features(prep: _Prepared, r0: int, r1: int) -> npt.NDArray[np.float32]:
    """``[w m x, w m]`` of rows ``r0:r1`` in cell order, float32 (w: the base weights if raked)."""
    data, weighting = prep.data, prep.weighting
    J = data.points.shape[1]
    out = np.empty((r1 - r0, 2 * J), dtype=np.float32)
    m = data.points[r0:r1] > 0
    if weighting.replicate is None:
        wm_base = data.weight[r0:r1, None] * m
    else:
        wm_base = weighting.base[prep.order[r0:r1], None] * m
    out[:, :J] = wm_base * np.where(m, data.values[r0:r1], 0.0)
    out[:, J:] = wm_base
    return out


def _draws(prep: _Prepared, W: Weights, boot: int, seed: int) -> _Draws:
    J = prep.data.points.shape[1]
    population = prep.population is not None
    raking = prep.weighting.replicate
    if raking is not None and raked_streetwise(W.shares, raking):
        raked = raked_indicator_replicates(
            partial(_boot_features, prep), prep.layout, W.shares, boot, seed, raking,
            keep_ratios=population,
        )  # fmt: skip
        raking.report[0] += raked.raked
        raking.report[1] += raked.redone
        return _Draws(np.empty((0, 2 * J), dtype=np.float32), None, raked)
    if streetwise(W.shares, raking=raking, population=population):
        # each worker makes its streets' features: never held for all rows
        rows = partial(_boot_features, prep)
        indicator = indicator_replicates(rows, prep.layout, W.shares, boot, seed)
        return _Draws(np.empty((0, 2 * J), dtype=np.float32), indicator)
    features = np.empty((prep.data.n, 2 * J), dtype=np.float32)
    for r0, r1, _, _ in cell_blocks(prep.layout):
        features[r0:r1] = _boot_features(prep, r0, r1)
    return _Draws(features, None)


def _replicates(
    prep: _Prepared, var: _Variances, W: Weights, boot: int, seed: int, draws: _Draws
) -> Replicates:
    """Step 5b: Rao-Wu rescaled bootstrap replicates (before :func:`_adjust`)."""
    ref = var.ref
    if draws.raked is not None:
        population = prep.population is not None
        return raked_replicates(
            draws.raked,
            W,
            var.use,
            ref.coef.indicator if population else None,
            var.cov.means if population else None,
        )
    return bootstrap_replicates(
        draws.features,
        prep.layout,
        W,
        boot,
        seed,
        reference_streets=var.use,
        population_coef=ref.coef.indicator if prep.population is not None else None,
        point_means=var.cov.means,
        raking=prep.weighting.replicate,
        indicator=draws.indicator,
    )


@dataclass(frozen=True, slots=True, eq=False)
class _Intervals:
    """Step 6: (low, high) of every street and district figure."""

    ind: tuple[FloatArray, FloatArray]
    dim: tuple[FloatArray, FloatArray]
    ovr: tuple[FloatArray, FloatArray]
    d_ind: tuple[FloatArray, FloatArray]
    d_dim: tuple[FloatArray, FloatArray]
    d_ovr: tuple[FloatArray, FloatArray]


def _intervals(
    pts: _Points, var: _Variances, raw: Replicates, level: float
) -> tuple[_Intervals, Replicates, RankSets]:
    """Replicates scaled to the published variances (:func:`_adjust`); expanded percentile
    intervals less the jackknife ratio-bias estimates.

    The bias of every figure is linear in the cells' biases.  Both steps work
    column by column (a street's figures need only its own replicates), so the
    streets are split between two threads.  ``raw``'s arrays are scaled in
    place (no second copy of the replicates).
    """
    b = var.cov.bias
    sc, coef, ref = var.sc, var.ref.coef, var.ref
    st, v_ind, v_dim, v_ovr = pts.st, var.ind, var.dim, var.ovr
    streets = {  # replicates, point, variance, own variance, df, bias
        "ind": (raw.indicator, st["ind"], v_ind.street, v_ind.street_own, v_ind.street_df,
                np.einsum("sgj,sgj->sj", sc.indicator, b)),
        "dim": (raw.dimension, st["dim"], v_dim.street, v_dim.street_own, v_dim.street_df,
                np.einsum("sgjk,sgj->sk", sc.dimension, b)),
        "ovr": (raw.overall, st["ovr"], v_ovr.street, v_ovr.street_own, v_ovr.street_df,
                np.einsum("sgj,sgj->s", sc.overall, b)),
    }  # fmt: skip
    district = {
        "d_ind": (raw.district_indicator, ref.indicator, v_ind.district, v_ind.district_own,
                  v_ind.district_df, np.einsum("sgj,sgj->j", coef.indicator, b)),
        "d_dim": (raw.district_dimension, ref.dimension, v_dim.district, v_dim.district_own,
                  v_dim.district_df, np.einsum("sgjk,sgj->k", coef.dimension, b)),
        "d_ovr": (raw.district_overall, np.asarray(ref.overall), v_ovr.district,
                  v_ovr.district_own, v_ovr.district_df,
                  np.einsum("sgj,sgj->", coef.overall, b)),
    }  # fmt: skip
    adjusted = {k: f[0] for k, f in (streets | district).items()}  # scaled in place
    bounds: dict[str, tuple[FloatArray, FloatArray]] = {}
    for k, f in (streets | district).items():
        shape = f[0].shape[1:] if f[0].ndim > 1 else (1,)
        bounds[k] = (np.empty(shape), np.empty(shape))

    def street_part(key: str, s0: int, s1: int) -> None:
        reps, point, final, own, df, bias = (a[:, s0:s1] if i == 0 else a[s0:s1]
                                             for i, a in enumerate(streets[key]))  # fmt: skip
        _adjust(reps, point, final, own, reps)
        low, high = bounds[key]
        low[s0:s1], high[s0:s1] = _interval(reps, point, final, df, level, bias)

    def district_part(key: str) -> None:
        reps, point, final, own, df, bias = district[key]
        out = reps
        _adjust(reps, point, final, own, out)
        if out.ndim == 1:  # the overall score: one column
            out, point, final, df, bias = (
                out[:, None],
                *(np.asarray(a)[None] for a in (point, final, df, bias)),
            )
        low, high = bounds[key]
        low[...], high[...] = _interval(out, point, final, df, level, bias)

    S = raw.overall.shape[1]
    halves = [(0, S // 2), (S // 2, S)] if S >= 16 else [(0, S)]
    with ThreadPoolExecutor(2) as pool:
        overall = [pool.submit(street_part, "ovr", s0, s1) for s0, s1 in halves]
        jobs = [pool.submit(district_part, k) for k in district]
        jobs += [pool.submit(street_part, k, s0, s1) for k in ("dim", "ind") for s0, s1 in halves]
        for job in overall:
            job.result()
        # rank sets need only the overall replicates: here, while the rest is scaled
        ranks = rank_sets(st["ovr"], adjusted["ovr"], v_ovr.street, var.ranked, level)
        for job in jobs:
            job.result()
    iv = _Intervals(**bounds)
    rep = Replicates(
        indicator=adjusted["ind"],
        dimension=adjusted["dim"],
        overall=adjusted["ovr"],
        district_indicator=adjusted["d_ind"],
        district_dimension=adjusted["d_dim"],
        district_overall=adjusted["d_ovr"],
    )
    return iv, rep, ranks


@dataclass(frozen=True, slots=True, eq=False)
class _Items:
    """Step 7a: item importance and each street's rectification candidates.

    They need the point estimates and variances only, so they are chosen on
    the side thread while the bootstrap runs.
    """

    has_concerns: bool
    importance: FloatArray  # (J,)
    per_street: list[tuple[tuple[Priority, ...], FloatArray]]  # items, BH q of "below"


def _items(
    framework: Framework,
    prep: _Prepared,
    pts: _Points,
    var: _Variances,
    *,
    min_gap: float,
    fdr: float,
    top_k: int,
) -> _Items:
    st, ref, v_ind = pts.st, var.ref, var.ind
    has_concerns = bool(prep.data.concerns.any())
    importance = pts.di["att"][0] if has_concerns else overall_correlation(prep.data_in)
    gse_ind = np.sqrt(v_ind.gap)
    per_street = [
        select_priorities(
            framework.indicator_codes,
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
        for s in range(len(prep.data.streets))
    ]
    return _Items(has_concerns, importance, per_street)


@dataclass(frozen=True, slots=True, eq=False)
class _Verdicts:
    """Step 7: gaps to the district, funnel bands, rank sets, item importance, shrinkage."""

    gap_ind: FloatArray  # (S, J)
    gse_ind: FloatArray
    tq_ind: FloatArray  # t quantile at each gap's df
    gap_o: FloatArray  # (S,)
    gse_o: FloatArray
    funnel: Funnel
    ranks: RankSets
    has_concerns: bool
    importance: FloatArray  # (J,)
    shrunk: FayHerriot | None


def _verdicts(
    prep: _Prepared,
    pts: _Points,
    var: _Variances,
    rs: RankSets,
    items: _Items,
    *,
    level: float,
    band_rule: str,
    shrink: bool,
) -> _Verdicts:
    """Step 7: gaps to the district, bands, importance and shrinkage (rank sets ``rs`` given)."""
    st, ref, v_ind, v_ovr = pts.st, var.ref, var.ind, var.ovr
    gap_ind = st["ind"] - ref.indicator[None, :]
    gse_ind = np.sqrt(v_ind.gap)
    tq_ind = t_dist.ppf(0.5 + level / 2, np.where(np.isfinite(v_ind.gap_df), v_ind.gap_df, 1e6))
    gap_o = st["ovr"] - ref.overall
    gse_o = np.sqrt(v_ovr.gap)
    fun = funnel(gap_o, gse_o, v_ovr.gap_df, var.ranked, band_rule)
    has_concerns, importance = items.has_concerns, items.importance
    shrunk = fay_herriot(st["ovr"], v_ovr.street) if shrink else None
    return _Verdicts(
        gap_ind, gse_ind, tq_ind, gap_o, gse_o, fun, rs, has_concerns, importance, shrunk
    )


def _py(a: npt.ArrayLike) -> Any:
    """``a`` as (nested) lists of Python floats, None where not finite: ``_opt`` in bulk."""
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim == 0:
        return _opt(arr)
    out = arr.tolist()
    bad = ~np.isfinite(arr)
    if bad.any():  # None where not finite, in the nested lists
        for where in zip(*np.nonzero(bad), strict=True):
            row = out
            for i in where[:-1]:
                row = row[i]
            row[where[-1]] = None
    return out


def _estimate(
    score: float | None,
    lo: float | None,
    hi: float | None,
    se: float | None,
    n: int,
    dk: float | None,
    sat: float | None,
    **extra: float | None,
) -> Estimate:
    """One figure; the interval, SE and ``extra`` only where it has a score."""
    if score is None:
        lo = hi = se = None
        extra = dict.fromkeys(extra)
    return Estimate(
        score=score,
        ci_low=lo,
        ci_high=hi,
        se=se,
        n=int(n),
        dk_rate=dk,
        satisfaction_rate=sat,
        **extra,
    )


def _streets(
    framework: Framework,
    prep: _Prepared,
    pts: _Points,
    var: _Variances,
    iv: _Intervals,
    ver: _Verdicts,
    deff: DesignEffects,
    items: _Items,
) -> tuple[StreetResult, ...]:
    """Step 8: one StreetResult per street, with its rectification items."""
    data = prep.data
    G = len(data.groups)
    codes, dcodes = framework.indicator_codes, framework.dimension_codes
    st, v_ind, v_dim, v_ovr = pts.st, var.ind, var.dim, var.ovr
    ind_lo, ind_hi = iv.ind
    dim_lo, dim_hi = iv.dim
    ovr_lo, ovr_hi = iv.ovr
    gap_ind, gse_ind, tq_ind = ver.gap_ind, ver.gse_ind, ver.tq_ind
    fun, rs, shrunk, comp = ver.funnel, ver.ranks, ver.shrunk, var.comp
    n_street, n_dim, ranked = pts.n_street, pts.n_dim, var.ranked
    # every per-street figure as Python values once (None: not finite)
    with np.errstate(invalid="ignore"):
        ind, ind_l, ind_h, ind_se = (
            _py(a) for a in (st["ind"], ind_lo, ind_hi, np.sqrt(v_ind.street))
        )
        dim, dim_l, dim_h, dim_se = (
            _py(a) for a in (st["dim"], dim_lo, dim_hi, np.sqrt(v_dim.street))
        )
        dk, sat, att = (_py(st[k]) for k in ("dk", "sat", "att"))
        ddk, dsat = _py(st["ddk"]), _py(st["dsat"])
        gap, gse = _py(gap_ind), _py(gse_ind)
        gap_l, gap_h = _py(gap_ind - tq_ind * gse_ind), _py(gap_ind + tq_ind * gse_ind)
    n_ind = st["n_ind"].astype(np.int64).tolist()
    streets = []
    for s, label in enumerate(data.streets):
        pri, q_below = items.per_street[s]
        if not ranked[s]:
            pri = ()
        inds = {
            c: _estimate(
                ind[s][j],
                ind_l[s][j],
                ind_h[s][j],
                ind_se[s][j],
                n_ind[s][j],
                dk[s][j],
                sat[s][j],
                attention=att[s][j],
                district_gap=gap[s][j],
                gap_se=gse[s][j],
                gap_ci_low=gap_l[s][j],
                gap_ci_high=gap_h[s][j],
                q_below=_opt(q_below[j]),
            )
            for j, c in enumerate(codes)
        }
        dims = {
            c: _estimate(
                dim[s][k],
                dim_l[s][k],
                dim_h[s][k],
                dim_se[s][k],
                n_dim[s, k],
                ddk[s][k],
                dsat[s][k],
            )
            for k, c in enumerate(dcodes)
        }
        o = st["ovr"][s]
        ok = bool(np.isfinite(o))
        rk = bool(ranked[s])
        gap_o, gse_o = ver.gap_o, ver.gse_o
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
    return tuple(streets)


def _district(
    framework: Framework, prep: _Prepared, pts: _Points, var: _Variances, iv: _Intervals
) -> DistrictResult:
    """Step 9: the district reference with its intervals."""
    ref, v_ind, v_dim, v_ovr, di = var.ref, var.ind, var.dim, var.ovr, pts.di
    d_ind_lo, d_ind_hi = iv.d_ind
    d_dim_lo, d_dim_hi = iv.d_dim
    d_ovr_lo, d_ovr_hi = iv.d_ovr
    return DistrictResult(
        score=_opt(ref.overall),
        ci_low=_opt(d_ovr_lo[0]),
        ci_high=_opt(d_ovr_hi[0]),
        se=_opt(np.sqrt(v_ovr.district)),
        n=prep.data.n,
        dimensions={
            c: _estimate(
                _opt(ref.dimension[k]),
                _opt(d_dim_lo[k]),
                _opt(d_dim_hi[k]),
                _opt(np.sqrt(v_dim.district[k])),
                int(pts.district_n_dim[k]),
                _opt(di["ddk"][0, k]),
                _opt(di["dsat"][0, k]),
            )
            for k, c in enumerate(framework.dimension_codes)
        },
        indicators={
            c: _estimate(
                _opt(ref.indicator[j]),
                _opt(d_ind_lo[j]),
                _opt(d_ind_hi[j]),
                _opt(np.sqrt(v_ind.district[j])),
                di["n_ind"][0, j],
                _opt(di["dk"][0, j]),
                _opt(di["sat"][0, j]),
                attention=_opt(di["att"][0, j]),
            )
            for j, c in enumerate(framework.indicator_codes)
        },
        reference=ref.kind,
        n_streets=int(var.use.sum()),
    )


def _small_cells(prep: _Prepared, min_n: int) -> tuple[SmallCell, ...]:
    """Street x group cells below ``min_n`` respondents (a fieldwork warning)."""
    data, size = prep.data, prep.layout.size
    S, G = len(data.streets), len(data.groups)
    return tuple(
        SmallCell(street=data.streets[s], group=data.groups[g], n=int(size[s * G + g]))
        for s in range(S)
        for g in range(G)
        if size[s * G + g] < min_n
    )


def _method(
    framework: Framework,
    prep: _Prepared,
    var: _Variances,
    ver: _Verdicts,
    *,
    settings: dict[str, Any],
    digest: str,
    shrink: bool,
    band_rule: str,
    min_gap: float,
    fdr: float,
) -> dict[str, Any]:
    """Step 10: the ``method`` record (docs/scores-json.md)."""
    n_ranked = int(var.ranked.sum())
    fun = ver.funnel
    return {
        **settings,
        "decimals": 4,
        "framework": {
            "code": framework.code,
            "version": framework.version,
            "sha256": framework.sha256,
        },
        "data_sha256": digest,
        "n_responses": prep.n_in,
        "n_excluded": prep.n_in - prep.data.n,
        "importance": "district_attention" if ver.has_concerns else "overall_correlation",
        "shrinkage": shrink,
        "estimators": ESTIMATORS,
        "district_reference": var.ref.kind,
        "weighting": prep.weighting.method,
        "tiny_cell": TINY_CELL,
        "prior_df": PRIOR_DF,
        "n_streets_ranked": n_ranked,
        "n_streets_incomplete": int((~var.comp.complete).sum()),
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
        "rank_critical_sim": _opt(ver.ranks.critical_sim),
        "priority_min_gap": float(min_gap),
        "priority_fdr": float(fdr),
    }


def score(
    framework: Framework,
    data: ResponseData,
    *,
    boot: int = DEFAULTS.boot,
    seed: int = DEFAULTS.seed,
    min_n: int = DEFAULTS.min_n,
    top_k: int = DEFAULTS.top_k,
    exclude: npt.ArrayLike | None = None,
    level: float = DEFAULTS.level,
    shrink: bool = True,
    data_sha256: str | None = None,
    population_totals: npt.ArrayLike | None = None,
    band_rule: str = DEFAULTS.band_rule,
    min_gap: float = DEFAULTS.min_gap,
    fdr: float = FDR_LEVEL,
    margins: Margins | None = None,
    trim: tuple[float, float] | None = None,
    sensitivity: bool = True,
    entropy_reference: npt.ArrayLike | None = None,
) -> ScoreResult:
    """Score every street and the district, with intervals, bands, ranks and items.

    The steps, in order: check the settings, prepare the rows (exclusions,
    weighting, cell order), point estimates, variances and the district
    reference, bootstrap replicates, intervals, verdicts (gaps, bands, rank
    sets, importance, shrinkage), then the street, district and method records.

    Parameters
    ----------
    framework : Framework
        Weights, groups and scale; must match ``data``'s indicators and groups.
    data : ResponseData
        Responses (see :mod:`scoring.dataset`).
    boot : int
        Bootstrap replicates B (:func:`scoring.settings.check_boot`).
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
        Framework/response mismatch, NaN or non-positive weights, ``boot``
        outside the replicate range, bad settings, or no responses left.
    """
    _check(
        framework, data, boot=boot, min_n=min_n, top_k=top_k, band_rule=band_rule,
        min_gap=min_gap, fdr=fdr, level=level,
    )  # fmt: skip
    digest = data_sha256 or data_digest(data)
    prep = _prepare(data, exclude, margins, trim, population_totals)
    W = Weights.of(framework)
    # The steps that need only the prepared rows run in threads while this one
    # computes the point estimates and variances (NumPy releases the GIL): the
    # bootstrap's draws (on every core) and, on a side thread, reliability,
    # design effects and rank sensitivity.  BLAS stays on one thread so that
    # these do not oversubscribe the cores.
    with blas_single_thread(), ThreadPoolExecutor(1) as side, ThreadPoolExecutor(1) as drawer:
        draws = drawer.submit(_draws, prep, W, boot, seed)
        reliability = side.submit(composite_reliability, framework, prep.data_in)
        deff = side.submit(design_effects, prep.data_in, W.shares)
        pts = _point_estimates(framework, prep, W)
        var = _variances(framework, prep, pts, W)
        n_ranked = int(var.ranked.sum())
        items = side.submit(
            _items, framework, prep, pts, var, min_gap=min_gap, fdr=fdr, top_k=top_k
        )
        sens = (
            side.submit(
                rank_sensitivity,
                framework,
                prep.data,
                var.ranked,
                seed=seed,
                entropy_reference=None
                if entropy_reference is None
                else np.asarray(entropy_reference, dtype=np.float64),
                cell_totals=(pts.num, pts.den),
            )
            if sensitivity and n_ranked >= 2
            else None
        )
        raw = _replicates(prep, var, W, boot, seed, draws.result())
        iv, rep, ranks = _intervals(pts, var, raw, level)
        chosen = items.result()
        ver = _verdicts(
            prep, pts, var, ranks, chosen, level=level, band_rule=band_rule, shrink=shrink
        )  # fmt: skip
        streets = _streets(framework, prep, pts, var, iv, ver, deff.result(), chosen)
        sc, cov = var.sc, var.cov
        indicator_cov = np.einsum(
            "sgj,sgjk,sgk->sjk", sc.indicator, cov.final, sc.indicator, optimize=True
        )
        settings = {"boot": boot, "seed": seed, "min_n": min_n, "top_k": top_k, "level": level}
        method = _method(
            framework, prep, var, ver, settings=settings, digest=digest, shrink=shrink,
            band_rule=band_rule, min_gap=min_gap, fdr=fdr,
        )  # fmt: skip
        return ScoreResult(
            method=method,
            district=_district(framework, prep, pts, var, iv),
            streets=streets,
            small_cells=_small_cells(prep, min_n),
            replicates=rep,
            sensitivity=None if sens is None else sens.result(),
            indicator_cov=indicator_cov,
            reliability=reliability.result(),
        )
