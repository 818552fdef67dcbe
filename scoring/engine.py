"""The scoring entry point: :func:`score` (DESIGN.md section 6).

Choices recorded in ``ScoreResult.method``:

* all per-street figures (scores, satisfaction, 不了解 and attention rates) use
  the same group-share estimator ``Σ_g π_g r_sg / Σ_g π_g`` over groups with a
  denominator, so they describe the same population mix;
* missing indicators drop out of their dimension and missing dimensions out of
  the overall score, with weights renormalised over what is present;
* a street listed in ``data.streets`` without responses is reported with
  ``n = 0`` and null scores, rank and band (it is not ranked);
* a one-respondent cell contributes zero variance (delta method and
  bootstrap alike) and is flagged with every other cell below ``min_n``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt

from .bootstrap import (
    MIN_REPLICATES,
    bootstrap_replicates,
    percentile_interval,
)
from .dataset import FloatArray, ResponseData
from .estimators import Weights, cell_layout, cell_sums, combine_groups, composite
from .framework import Framework
from .linearization import linearized_se
from .priorities import overall_correlation, select_priorities
from .ranking import band_of, rank_intervals, ranks
from .result import DistrictResult, Estimate, ScoreResult, Shrunk, SmallCell, StreetResult
from .shrinkage import fay_herriot

__all__ = ["data_digest", "score", "subset"]

ESTIMATORS = {
    "group_mean": "weighted ratio mean Σ w m x / Σ w m per street x group cell",
    "indicator": "group-share combination Σ π_g ȳ_g / Σ π_g over groups with answers",
    "dimension": "Σ a_j S_j / Σ a_j over indicators with answers",
    "overall": "Σ b_k D_k / Σ b_k over dimensions with answers (weights renormalised)",
    "district": "same estimators over all respondents, one street with the same group shares",
    "interval": "percentile bootstrap, respondents resampled within street x group cells",
    "rank_interval": "2.5%/97.5% quantiles of bootstrap ranks (1 = best)",
    "band": "bootstrap percentile CI of street - district excludes 0",
    "se": "Taylor linearisation, cells as strata, with replacement (n/(n-1))",
    "shrinkage": "Fay-Herriot intercept-only, REML, Prasad-Rao/Datta-Lahiri MSE",
    "priorities": "I-S = importance x (1 - satisfaction rate) among indicators "
    "significantly below the district with n >= min_n",
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


def subset(data: ResponseData, keep: npt.NDArray[np.bool_]) -> ResponseData:
    """Rows of ``data`` where ``keep`` is True (streets list unchanged)."""
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
) -> ScoreResult:
    """Score every street and the district, with intervals, ranks and priorities.

    Parameters
    ----------
    framework : Framework
        Weights, groups and scale; must match ``data``'s indicators and groups.
    data : ResponseData
        Responses (see :mod:`scoring.dataset`).
    boot : int
        Bootstrap replicates B (≥ 100).
    seed : int
        Seed of the bootstrap; same input and seed → identical result.
    min_n : int
        Cells below this many respondents are flagged; priorities need at
        least this many answers.
    top_k : int
        Number of priorities per street.
    exclude : bool mask (n,) or row indices, optional
        Responses to leave out (e.g. quality flags).
    level : float
        Confidence level of every interval.
    shrink : bool
        Also compute Fay-Herriot shrunken overall scores.
    data_sha256 : str, optional
        Digest recorded in ``method`` (the offline scorer passes the file's);
        default :func:`data_digest`.

    Returns
    -------
    ScoreResult

    Raises
    ------
    ValueError
        Framework/response mismatch, NaN or non-positive weights, ``boot`` < 100,
        or no responses left.
    """
    _check(framework, data, boot, min_n, top_k)
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

    W = Weights.of(framework)
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
    num, den, satn, dkn, askn, conn, cond, cnt = blocks
    member = W.member

    def figures(
        tb: list[FloatArray],
    ) -> dict[str, FloatArray]:
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
    # respondents answering at least one indicator of a dimension
    dim_any = (m.astype(np.float64) @ member) > 0
    n_dim = np.zeros((S, K), dtype=np.int64)
    np.add.at(n_dim, data.street, dim_any.astype(np.int64))
    n_street = np.bincount(data.street, minlength=S)

    lse = linearized_se(data, lay, W)
    feat_boot = np.empty((data.n, 2 * J), dtype=np.float32)
    feat_boot[:, :J] = (wm * x)[lay.order]
    feat_boot[:, J:] = wm[lay.order]
    rep = bootstrap_replicates(feat_boot, lay, W, boot, seed)
    ind_lo, ind_hi = percentile_interval(rep.indicator, level)
    dim_lo, dim_hi = percentile_interval(rep.dimension, level)
    ovr_lo, ovr_hi = percentile_interval(rep.overall, level)
    d_ind_lo, d_ind_hi = percentile_interval(rep.district_indicator, level)
    d_dim_lo, d_dim_hi = percentile_interval(rep.district_dimension, level)
    d_ovr_lo, d_ovr_hi = percentile_interval(rep.district_overall[:, None], level)
    gap_lo, gap_hi = percentile_interval(rep.indicator - rep.district_indicator[:, None, :], level)
    ogap_lo, ogap_hi = percentile_interval(rep.overall - rep.district_overall[:, None], level)
    point_rank = ranks(st["ovr"])
    rank_lo, rank_hi = rank_intervals(rep.overall, level)

    has_concerns = bool(data.concerns.any())
    importance = st["att"] if has_concerns else np.broadcast_to(overall_correlation(data), (S, J))
    shrunk = fay_herriot(st["ovr"], lse.overall**2) if shrink else None

    codes, dcodes = framework.indicator_codes, framework.dimension_codes
    d_ind, d_ovr = di["ind"][0], float(di["ovr"][0])

    def est(
        score: float,
        lo: float,
        hi: float,
        se: float,
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
            se=_opt(se) if ok else None,
            n=int(n),
            dk_rate=_opt(dk),
            satisfaction_rate=_opt(sat),
            **{k: (v if ok else None) for k, v in extra.items()},
        )

    streets = []
    for s, label in enumerate(data.streets):
        inds = {
            c: est(
                st["ind"][s, j],
                ind_lo[s, j],
                ind_hi[s, j],
                lse.indicator[s, j],
                st["n_ind"][s, j],
                st["dk"][s, j],
                st["sat"][s, j],
                attention=_opt(st["att"][s, j]),
                district_gap=_opt(st["ind"][s, j] - d_ind[j]),
                gap_ci_low=_opt(gap_lo[s, j]),
                gap_ci_high=_opt(gap_hi[s, j]),
            )
            for j, c in enumerate(codes)
        }
        dims = {
            c: est(
                st["dim"][s, k],
                dim_lo[s, k],
                dim_hi[s, k],
                lse.dimension[s, k],
                n_dim[s, k],
                st["ddk"][s, k],
                st["dsat"][s, k],
            )
            for k, c in enumerate(dcodes)
        }
        pri = select_priorities(
            codes,
            st["ind"][s],
            d_ind,
            gap_hi[s],
            st["n_ind"][s].astype(np.int64),
            importance[s],
            st["sat"][s],
            min_n=min_n,
            top_k=top_k,
        )
        o = st["ovr"][s]
        ok = bool(np.isfinite(o))
        streets.append(
            StreetResult(
                street=label,
                n=int(n_street[s]),
                score=_opt(o),
                ci_low=_opt(ovr_lo[s]) if ok else None,
                ci_high=_opt(ovr_hi[s]) if ok else None,
                se=_opt(lse.overall[s]) if ok else None,
                rank=int(point_rank[s]) if ok else None,
                rank_low=int(rank_lo[s]) if ok and rank_lo[s] else None,
                rank_high=int(rank_hi[s]) if ok and rank_hi[s] else None,
                band=band_of(ogap_lo[s], ogap_hi[s]) if ok else None,
                district_gap=_opt(o - d_ovr) if ok else None,
                dimensions=dims,
                indicators=inds,
                priorities=tuple(p.indicator for p in pri),
                priority_details=pri,
                shrunk=Shrunk(
                    score=_opt(shrunk.estimate[s]) if shrunk else None,
                    mse=_opt(shrunk.mse[s]) if shrunk else None,
                ),
            )
        )
    district = DistrictResult(
        score=_opt(d_ovr),
        ci_low=_opt(d_ovr_lo[0]),
        ci_high=_opt(d_ovr_hi[0]),
        se=_opt(lse.district_overall),
        n=data.n,
        dimensions={
            c: est(
                di["dim"][0, k],
                d_dim_lo[k],
                d_dim_hi[k],
                lse.district_dimension[k],
                int(dim_any[:, k].sum()),
                di["ddk"][0, k],
                di["dsat"][0, k],
            )
            for k, c in enumerate(dcodes)
        },
        indicators={
            c: est(
                d_ind[j],
                d_ind_lo[j],
                d_ind_hi[j],
                lse.district_indicator[j],
                di["n_ind"][0, j],
                di["dk"][0, j],
                di["sat"][0, j],
                attention=_opt(di["att"][0, j]),
            )
            for j, c in enumerate(codes)
        },
    )
    small = tuple(
        SmallCell(street=data.streets[s], group=data.groups[g], n=int(lay.size[s * G + g]))
        for s in range(S)
        for g in range(G)
        if lay.size[s * G + g] < min_n
    )
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
        "importance": "attention" if has_concerns else "overall_correlation",
        "shrinkage": shrink,
        "estimators": ESTIMATORS,
    }
    return ScoreResult(
        method=method,
        district=district,
        streets=tuple(streets),
        small_cells=small,
        replicates=rep,
    )
