"""Sensitivity of street ranks to the weighting scheme (uncertainty of a composite).

A composite indicator's ranks move with its weights, so beside each street's
rank interval (sampling uncertainty) we report the range of ranks it takes
under defensible alternative schemes (OECD/JRC *Handbook on Constructing
Composite Indicators*, 2008, step 7; Saisana, Saltelli & Tarantola 2005,
*J. R. Stat. Soc. A* 168, 307-323):

* ``equal_shares`` — every respondent group counts equally;
* ``residents_only`` — resident units (group ``unit``) left out;
* ``equal_dimensions`` — every dimension counts equally;
* ``equal_indicators`` — every indicator counts equally (dimension grouping ignored);
* ``entropy`` — indicator weights from the entropy of the streets' indicator
  scores (data-driven: marked so; freeze them from a reference wave by passing
  ``entropy_reference``);
* ``ahp`` — dimension weights from an AHP pairwise matrix: the one passed in,
  else the framework's stored matrix (its ``[ahp]`` table) when it has one;
* ``perturbed`` — ``draws`` random perturbations of the dimension weights and
  group shares (Dirichlet around the framework's, concentration ``alpha``):
  the 5th-95th percentile of each street's rank.

Scores under every scheme are recomputed from the same cell means (the
respondents and their weights do not change).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt

from .dataset import FloatArray, ResponseData
from .estimators import Weights, cell_layout, cell_sums, combine_groups, composite
from .framework import Framework
from .settings import DEFAULTS
from .weights import ahp_weights, entropy_weights

__all__ = ["AHP_SOURCES", "SCHEMES", "rank_sensitivity", "summary"]

SCHEMES = {
    "equal_shares": "every respondent group counts equally",
    "residents_only": "resident units left out",
    "equal_dimensions": "every dimension counts equally",
    "equal_indicators": "every indicator counts equally",
    "entropy": "entropy indicator weights (data-driven)",
    "ahp": "AHP dimension weights",
}
AHP_SOURCES = {
    "given": "the pairwise matrix given for this run",
    "framework": "the framework's stored pairwise matrix",
}


def _ranks(overall: FloatArray, ranked: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """Ranks (1 = best) of ``overall`` (..., S) among ranked streets; 0 for the others."""
    x = np.where(ranked & np.isfinite(overall), overall, -np.inf)
    order = np.argsort(-x, axis=-1, kind="stable")
    r = np.empty_like(order)
    np.put_along_axis(r, order, np.arange(1, x.shape[-1] + 1), axis=-1)
    out: npt.NDArray[np.int64] = np.where(ranked, r, 0)
    return out


#: draws combined at once by :func:`_perturbed`: (draws, streets, indicators)
#: arrays of about 2 MB stay in cache and are not faulted in afresh (at 1,000
#: streets the whole (500, 1000, 17) arrays took 0.35 s in a fresh process)
_PERTURBED_BUDGET = 262_144


def _perturbed(
    num: FloatArray, den: FloatArray, W: Weights, dims: FloatArray, shares: FloatArray
) -> FloatArray | None:
    """Overall scores (D, S) under D perturbed dimension weights and group shares at once.

    The arithmetic of :func:`combine_groups` and :func:`composite`, operation
    for operation, with a leading draw axis (the same numbers as one draw at a
    time), a block of draws at a time; None where the draws would not all
    take the same branch.
    """
    D = dims.shape[0]
    step = max(1, _PERTURBED_BUDGET // max(1, num.shape[0] * num.shape[-1]))  # S x J a draw
    out = np.empty((D, num.shape[0]))
    branch: set[bool] = set()
    for d0 in range(0, D, step):
        block = _perturbed_block(num, den, W, dims[d0 : d0 + step], shares[d0 : d0 + step])
        if block is None:
            return None
        out[d0 : d0 + step], nan = block
        branch.add(nan)
    return out if len(branch) <= 1 else None


def _perturbed_block(
    num: FloatArray, den: FloatArray, W: Weights, dims: FloatArray, shares: FloatArray
) -> tuple[FloatArray, bool] | None:
    """:func:`_perturbed` of some draws, and whether they took the masked arithmetic."""
    D = dims.shape[0]
    n = np.moveaxis(num, -2, 0)  # (G, S, J)
    d_ = np.moveaxis(den, -2, 0)
    ok = d_ > 0
    p = shares[:, :, None, None]  # (D, G, 1, 1)
    totals = np.array([shares[d].sum() for d in range(D)])[:, None, None]
    if ok.all():
        ind = np.divide(n[0], d_[0])[None] * p[:, 0]
        for g in range(1, n.shape[0]):
            ind += np.divide(n[g], d_[g])[None] * p[:, g]
        ind /= totals
    else:
        ratio = np.divide(n, d_, out=np.zeros(n.shape), where=ok)
        acc = ratio[0][None] * p[:, 0]
        for g in range(1, n.shape[0]):
            acc += ratio[g][None] * p[:, g]
        pis = ok[0][None] * p[:, 0]
        for g in range(1, n.shape[0]):
            pis += ok[g][None] * p[:, g]
        with np.errstate(invalid="ignore", divide="ignore"):
            ind = np.where(pis > 0, acc / pis, np.nan)
    nan = np.isnan(ind).any(axis=(1, 2))
    if nan.any() != nan.all():
        return None
    a, member = W.indicator, W.member
    b = dims[:, None, :]  # (D, 1, K)
    if not nan.any() and ((np.ones((1, a.size)) * a) @ member > 0).all():
        tot = np.array(
            [float((np.ones((1, dims.shape[1])) * dims[d]).sum(axis=-1)[0]) for d in range(D)]
        )
        if not (tot > 0).all():
            return None  # some draws would take the masked arithmetic
        dim: FloatArray = ((ind * a) @ member) / ((np.ones((1, a.size)) * a) @ member)
        out: FloatArray = (dim * b).sum(axis=-1) / tot[:, None]
        return out, False
    ok_i = ~np.isnan(ind)
    filled = np.where(ok_i, ind, 0.0)
    num_k = (filled * a) @ member
    den_k = (ok_i * a) @ member
    with np.errstate(invalid="ignore", divide="ignore"):
        dim = np.where(den_k > 0, num_k / den_k, np.nan)
    dok = den_k > 0
    tot2 = (dok * b).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(tot2 > 0, (np.where(dok, dim, 0.0) * b).sum(axis=-1) / tot2, np.nan)
    return out, True


def rank_sensitivity(
    framework: Framework,
    data: ResponseData,
    ranked: npt.ArrayLike,
    *,
    draws: int = 500,
    alpha: float = 100.0,
    seed: int = DEFAULTS.seed,
    entropy_reference: FloatArray | None = None,
    ahp_matrix: npt.ArrayLike | None = None,
    cell_totals: tuple[FloatArray, FloatArray] | None = None,
) -> dict[str, Any]:
    """Each ranked street's rank under alternative weighting schemes.

    Parameters
    ----------
    framework : Framework
        The published weights (the baseline).
    data : ResponseData
        Responses with their final (e.g. raked) weights.
    ranked : (S,) bool
        Streets that are ranked (complete ones).
    draws, alpha : int, float
        Random perturbations and their Dirichlet concentration (larger: smaller
        perturbations; 100 moves a weight of 0.3 by about ±0.045).
    seed : int
        Seed of the perturbations.
    entropy_reference : (J,) array, optional
        Entropy weights frozen from a reference wave; default computed from
        this wave's street indicator scores (then marked data-driven).
    ahp_matrix : (K, K) array, optional
        Pairwise comparison of the dimensions for the ``ahp`` scheme; default
        the framework's stored matrix (``framework.ahp``), if any.
    cell_totals : ((S, G, J), (S, G, J)) arrays, optional
        The street x group cell sums of ``w m x`` and ``w m`` of ``data``, when
        the caller has them already (the engine's point estimates); default
        summed here.

    Returns
    -------
    dict
        ``schemes`` (name → description, data_driven), ``perturbation``,
        ``ahp`` (``{source, weights, cr}`` of the matrix used, or None), and
        ``streets``: per street its ``rank``, ``ranks`` per scheme, and
        ``rank_min``/``rank_max`` over all schemes and the perturbations'
        5th-95th percentiles.
    """
    ranked_b = np.asarray(ranked, dtype=bool)
    W = Weights.of(framework)
    if cell_totals is None:
        lay = cell_layout(data)
        m = data.points > 0
        wm = data.weight[:, None] * m
        num = cell_sums(wm * np.where(m, data.values, 0.0), lay)
        den = cell_sums(wm, lay)
    else:
        num, den = cell_totals

    def overall(w: Weights) -> FloatArray:
        ind = combine_groups(num, den, w.shares)
        return composite(ind, w)[1]

    base = overall(W)
    schemes: dict[str, FloatArray] = {}
    info: dict[str, dict[str, Any]] = {}
    G, K = len(W.shares), len(W.dimension)
    schemes["equal_shares"] = overall(replace(W, shares=np.full(G, 1.0 / G)))
    codes = framework.group_codes
    if "unit" in codes and G > 1:
        shares = W.shares * np.array([c != "unit" for c in codes])
        schemes["residents_only"] = overall(replace(W, shares=shares))
    schemes["equal_dimensions"] = overall(replace(W, dimension=np.full(K, 1.0 / K)))
    J = len(W.indicator)
    per_dim = W.member.sum(axis=0)
    # equal indicator weights overall: each dimension weighs its share of indicators
    schemes["equal_indicators"] = overall(
        replace(W, indicator=np.ones(J), dimension=per_dim / per_dim.sum())
    )
    ind = combine_groups(num, den, W.shares)
    data_driven = entropy_reference is None
    try:
        if entropy_reference is None:
            rows = ind[ranked_b & np.isfinite(ind).all(axis=1)]
            ent = entropy_weights(rows)
        else:
            ent = np.asarray(entropy_reference, dtype=np.float64)
        # entropy weights replace both levels: indicator weights within dimensions,
        # dimension weights as the sum of their indicators'
        dim_w = ent @ W.member
        schemes["entropy"] = overall(replace(W, indicator=ent, dimension=dim_w))
    except ValueError:
        pass
    ahp_info: dict[str, Any] | None = None
    source = "given" if ahp_matrix is not None else "framework"
    matrix = ahp_matrix if ahp_matrix is not None else framework.ahp
    if matrix is not None:
        ahp = ahp_weights(matrix, framework.dimension_codes)
        schemes["ahp"] = overall(replace(W, dimension=np.asarray(ahp.weights)))
        ahp_info = {
            "source": source,
            "description": AHP_SOURCES[source],
            "weights": dict(zip(framework.dimension_codes, ahp.weights, strict=True)),
            "cr": ahp.cr,
        }
    for name in schemes:
        info[name] = {
            "description": SCHEMES[name],
            "data_driven": name == "entropy" and data_driven,
        }
    rng = np.random.default_rng(seed)
    dims = rng.dirichlet(alpha * W.dimension / W.dimension.sum(), size=draws)
    shares = rng.dirichlet(alpha * W.shares / W.shares.sum(), size=draws)
    pert = _perturbed(num, den, W, dims, shares)
    if pert is None:  # the draws do not share one arithmetic: one at a time
        pert = np.empty((draws, len(base)))
        for d in range(draws):
            pert[d] = overall(replace(W, dimension=dims[d], shares=shares[d]))
    base_rank = _ranks(base, ranked_b)
    scheme_ranks = {k: _ranks(v, ranked_b) for k, v in schemes.items()}
    pert_ranks = _ranks(pert, ranked_b)
    p_lo = np.percentile(pert_ranks, 5, axis=0, method="lower")
    p_hi = np.percentile(pert_ranks, 95, axis=0, method="higher")
    streets: list[dict[str, Any]] = []
    for s, label in enumerate(data.streets):
        if not ranked_b[s]:
            streets.append({"street": label, "rank": None})
            continue
        ranks = {k: int(v[s]) for k, v in scheme_ranks.items()}
        allr = [int(base_rank[s]), *ranks.values(), int(p_lo[s]), int(p_hi[s])]
        streets.append(
            {
                "street": label,
                "rank": int(base_rank[s]),
                "ranks": ranks,
                "perturbed_low": int(p_lo[s]),
                "perturbed_high": int(p_hi[s]),
                "rank_min": min(allr),
                "rank_max": max(allr),
            }
        )
    moved = [st for st in streets if st.get("rank") is not None and st["rank_max"] > st["rank_min"]]
    return {
        "schemes": info,
        "perturbation": {
            "draws": draws,
            "alpha": alpha,
            "seed": seed,
            "varies": "dimension weights and group shares",
        },
        "entropy_weights": [float(x) for x in ent] if "entropy" in schemes else None,
        "ahp": ahp_info,
        "streets_moving": len(moved),
        "streets": streets,
    }


def summary(sensitivity: dict[str, Any], scheme: str) -> tuple[int, int]:
    """How many ranked streets move under ``scheme``, and the largest move in places."""
    moved, largest = 0, 0
    for st in sensitivity["streets"]:
        if st.get("rank") is None or scheme not in st["ranks"]:
            continue
        d = abs(st["ranks"][scheme] - st["rank"])
        moved += d > 0
        largest = max(largest, d)
    return moved, largest
