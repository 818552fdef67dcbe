"""Simulated survey waves from a known population, for demos and method checks.

The population model is an ordinal-probit one.  Respondent r in street s and
group g has a latent satisfaction with indicator j

    z_rj = mu + e_s + e_j + e_sj + e_g + u_r + eps_rj,

with street effects ``e_s ~ N(0, street_sd²)``, indicator effects
``e_j ~ N(0, indicator_sd²)``, street x indicator effects
``e_sj ~ N(0, interaction_sd²)``, fixed group offsets, a respondent effect
``u_r ~ N(0, respondent_sd²)`` (this makes a respondent's answers correlated,
as real ones are) and item noise ``eps_rj ~ N(0, item_sd²)``.  The answer is the
scale point ``1 + #{cut points below z_rj}``.  Items are answered 不了解 at
random with probability ``dk_rate`` (missing completely at random), so the
population score of a cell is the expected scale score of the ordinal answer,
computed exactly from the normal distribution function.  The top-3 concerns
are drawn towards the respondent's worst indicators (Gumbel top-k on
``-z_rj / concern_temperature``), and the overall answer is cut from the mean
of the respondent's latent item satisfaction plus noise.

Reference: Agresti, A. (2010), *Analysis of Ordinal Categorical Data*, 2nd ed.,
Wiley, ch. 5 (cumulative link models).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .dataset import FloatArray, IntArray, ResponseData, from_points
from .framework import Framework

__all__ = ["DK_RATE", "Simulation", "simulate"]

#: default share of asked items answered 不了解 (the demo wave has 7.9%)
DK_RATE = 0.08


@dataclass(frozen=True, slots=True, eq=False)
class Simulation:
    """A simulated wave and the population values it was drawn from.

    Attributes
    ----------
    data : ResponseData
        The simulated responses.
    true_indicator : (S, J) array
        Population indicator scores ``S_sj`` (same estimator as scoring, with
        the framework's group shares, on the population).
    true_dimension : (S, K) array
        Population dimension scores ``D_sk``.
    true_overall : (S,) array
        Population overall scores ``O_s``.
    true_district_indicator, true_district_overall : (J,) array, float
        District population values, pooling streets in proportion to their
        cell sample sizes (what the district estimator targets).
    true_rank : (S,) int array
        Rank of each street by ``true_overall`` (1 = best).
    """

    data: ResponseData
    true_indicator: FloatArray
    true_dimension: FloatArray
    true_overall: FloatArray
    true_district_indicator: FloatArray
    true_district_overall: float
    true_rank: IntArray


def _cut_points(points: int, spread: float) -> FloatArray:
    """Evenly spaced cut points on the latent scale, centred at 0."""
    return np.linspace(-spread, spread, points - 1)


def _expected_score(
    mean: FloatArray, sd: float, cuts: FloatArray, scores: FloatArray
) -> FloatArray:
    """E[score(point)] for a latent N(mean, sd²) answer cut at ``cuts``."""
    from .special import ndtr

    cdf: FloatArray = np.asarray(ndtr((cuts[None, :] - mean.reshape(-1, 1)) / sd), float)
    lower = np.concatenate([np.zeros((cdf.shape[0], 1)), cdf], axis=1)
    upper = np.concatenate([cdf, np.ones((cdf.shape[0], 1))], axis=1)
    out: FloatArray = ((upper - lower) @ scores).reshape(mean.shape)
    return out


def _composite(framework: Framework, ind: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Dimension and overall scores from complete indicator scores (rows = units)."""
    a = np.array([i.weight for i in framework.indicators])
    dims = framework.dimension_codes
    member = np.array([[i.dimension == d for d in dims] for i in framework.indicators], float)
    dim = (ind * a) @ member / (a @ member)
    b = np.array([d.weight for d in framework.dimensions])
    return dim, dim @ b / b.sum()


def simulate(
    framework: Framework,
    streets: Sequence[str],
    n_per_street: int | Sequence[int],
    seed: int,
    *,
    dk_rate: float = DK_RATE,
    group_mix: Sequence[float] | None = None,
    mu: float = 0.9,
    street_sd: float = 0.25,
    indicator_sd: float = 0.3,
    interaction_sd: float = 0.2,
    respondent_sd: float = 0.6,
    item_sd: float = 0.7,
    group_offsets: Sequence[float] | None = None,
    concern_temperature: float = 0.5,
    weight_cv: float = 0.0,
    indicator_offsets: Mapping[str, float] | None = None,
) -> Simulation:
    """Simulate one survey wave with known population scores.

    Parameters
    ----------
    framework : Framework
        Scale, groups (and which indicators each is asked), dimensions.
    streets : sequence of str
        Street labels.
    n_per_street : int or sequence of int
        Respondents per street (one number for all, or one per street).
    seed : int
        Seed of the ``numpy.random.Generator``; same seed, same data.
    dk_rate : float
        Probability that an asked item is answered 不了解 (MCAR).
    group_mix : sequence of float, optional
        Share of each group among a street's respondents; default the
        framework's group shares.  Cell sizes are fixed (rounded), not random.
    mu, street_sd, indicator_sd, interaction_sd, respondent_sd, item_sd : float
        Latent-scale mean and effect standard deviations (see module docstring).
    group_offsets : sequence of float, optional
        Fixed latent offset per group; default 0.1, 0, -0.1, ... in framework order.
    concern_temperature : float
        Smaller values concentrate concerns more on the worst indicators.
    weight_cv : float
        Coefficient of variation of lognormal survey weights, drawn
        independently of the answers (0: all weights 1).
    indicator_offsets : mapping of str to float, optional
        Fixed latent offsets added to named indicators' effects (e.g. to make
        e-bike charging a district-wide weak spot in the demo).

    Returns
    -------
    Simulation
        ``data`` plus the population scores it was drawn from.
    """
    if not 0.0 <= dk_rate < 1.0:
        raise ValueError(f"dk_rate must be in [0, 1), not {dk_rate}")
    rng = np.random.default_rng(seed)
    S, J, G = len(streets), len(framework.indicators), len(framework.groups)
    sizes = np.broadcast_to(np.asarray(n_per_street, dtype=np.int64), (S,))
    if S == 0 or (sizes < 0).any():
        raise ValueError("give at least one street and non-negative sample sizes")
    mix = np.asarray(
        group_mix if group_mix is not None else [g.share for g in framework.groups], float
    )
    if mix.shape != (G,) or (mix < 0).any() or mix.sum() <= 0:
        raise ValueError(f"group_mix needs {G} non-negative shares")
    mix = mix / mix.sum()
    offsets = np.asarray(
        group_offsets if group_offsets is not None else 0.1 - 0.1 * np.arange(G), float
    )
    scale = framework.scale
    K = scale.points
    cuts = _cut_points(K, 1.5)
    scores = np.asarray(scale.scores, float)

    e_street = rng.normal(0.0, street_sd, S)
    e_ind = rng.normal(0.0, indicator_sd, J)
    for code, offset in (indicator_offsets or {}).items():
        e_ind[framework.indicator_codes.index(code)] += offset
    e_si = rng.normal(0.0, interaction_sd, (S, J))
    cell_mean = mu + e_street[:, None, None] + e_ind[None, None, :] + e_si[:, None, :]
    cell_mean = cell_mean + offsets[None, :, None]  # (S, G, J)

    # fixed cell sizes: largest-remainder rounding of n_s * mix
    raw = sizes[:, None] * mix[None, :]
    cell_n = np.floor(raw).astype(np.int64)
    short = sizes - cell_n.sum(axis=1)
    order = np.argsort(-(raw - cell_n), axis=1, kind="stable")
    for s in range(S):
        cell_n[s, order[s, : short[s]]] += 1
    street = np.repeat(np.repeat(np.arange(S), G), cell_n.ravel())
    group = np.repeat(np.tile(np.arange(G), S), cell_n.ravel())
    n = street.shape[0]

    codes = framework.indicator_codes
    asked_g = np.zeros((G, J), dtype=bool)
    for gi, g in enumerate(framework.group_codes):
        for ind in framework.indicators_for(g):
            asked_g[gi, codes.index(ind.code)] = True
    asked = asked_g[group]

    latent = cell_mean[street, group] + rng.normal(0.0, respondent_sd, n)[:, None]
    latent += rng.normal(0.0, item_sd, (n, J))
    points = 1 + (latent[:, :, None] > cuts[None, None, :]).sum(axis=2)
    dk = (rng.random((n, J)) < dk_rate) & asked
    points[dk | ~asked] = 0

    gumbel = rng.gumbel(size=(n, J))
    key = np.where(asked, -latent / concern_temperature + gumbel, -np.inf)
    top = np.argpartition(-key, min(3, J) - 1, axis=1)[:, : min(3, J)]
    concerns = np.zeros((n, J), dtype=bool)
    np.put_along_axis(concerns, top, True, axis=1)
    concerns &= asked

    mean_latent = np.where(asked, latent, 0.0).sum(1) / np.maximum(asked.sum(1), 1)
    overall_latent = mean_latent + rng.normal(0.0, 0.3, n)
    overall_points = 1 + (overall_latent[:, None] > cuts[None, :]).sum(axis=1)

    if weight_cv > 0:
        sigma = np.sqrt(np.log1p(weight_cv**2))
        weight = rng.lognormal(-(sigma**2) / 2, sigma, n)
    else:
        weight = np.ones(n)

    data = from_points(
        framework,
        tuple(streets),
        street,
        group,
        weight,
        points,
        dk,
        concerns,
        overall_points,
        asked=asked,
    )

    # population values: expected score of an answer, per cell and indicator
    sd = float(np.hypot(respondent_sd, item_sd))
    y = _expected_score(cell_mean, sd, cuts, scores)  # (S, G, J)
    share = np.array([g.share for g in framework.groups])
    pi = share[None, :, None] * asked_g[None, :, :]
    true_ind = (pi * y).sum(1) / pi.sum(1)
    true_dim, true_overall = _composite(framework, true_ind)
    pooled = (cell_n[:, :, None] * y).sum(0) / np.maximum(cell_n.sum(0), 1)[:, None]  # (G, J)
    pi_d = share[:, None] * asked_g
    true_d_ind = (pi_d * pooled).sum(0) / pi_d.sum(0)
    _, true_d_overall = _composite(framework, true_d_ind[None, :])
    rank = np.empty(S, dtype=np.int64)
    rank[np.argsort(-true_overall, kind="stable")] = np.arange(1, S + 1)
    return Simulation(
        data=data,
        true_indicator=true_ind,
        true_dimension=true_dim,
        true_overall=true_overall,
        true_district_indicator=true_d_ind,
        true_district_overall=float(true_d_overall[0]),
        true_rank=rank,
    )
