"""Simulated waves whose samples miss the population's age mix, for raking checks.

Each street x resident group has a population with known age band and gender
shares; satisfaction depends on age band (older residents are more satisfied
by ``age_effect`` latent units per band) and gender.  The sample draws age
bands with distorted shares (``oversample`` multiplies the oldest bands'
chances), so the unweighted score is biased and raking to the margins removes
the bias.  Answers follow the ordinal-probit model of :mod:`scoring.simulate`
(respondent effect + item noise, cut into scale points); the population scores
are computed exactly.  Groups without an age structure (resident units) are
sampled without margins and left unraked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from .dataset import FloatArray, ResponseData, from_points
from .framework import Framework
from .population import AGE_BANDS, Margins
from .simulate import _composite, _cut_points, _expected_score

__all__ = ["WeightingSimulation", "simulate_weighting"]

# age bands each resident group covers (others have no population)
GROUP_AGES = {"elderly": (2, 3, 4), "adult": (0, 1)}


@dataclass(frozen=True, slots=True, eq=False)
class WeightingSimulation:
    """Responses (with age band and gender), the margins, and the population scores."""

    data: ResponseData
    margins: Margins
    true_indicator: FloatArray  # (S, J)
    true_overall: FloatArray  # (S,)


def simulate_weighting(
    framework: Framework,
    streets: Sequence[str],
    per_cell: int,
    seed: int,
    *,
    age_effect: float = 0.5,
    gender_effect: float = 0.15,
    oversample: float = 3.0,
    street_sd: float = 0.25,
    respondent_sd: float = 0.6,
    item_sd: float = 0.8,
    undisclosed: float = 0.0,
    dk_rate: float = 0.0,
) -> WeightingSimulation:
    """Simulate a wave whose sample over-represents the oldest age bands.

    :param per_cell: respondents per street x group.
    :param oversample: sampling odds of the oldest band relative to the
        youngest within a group (geometric in between); 1 = representative.
    :param undisclosed: share of respondents who do not give their gender.
    :param dk_rate: probability that an asked item is answered 不了解 (MCAR, as in
        :func:`scoring.simulate.simulate`); drawn from a generator of its own, so
        the other answers are the same whatever the rate.
    """
    rng = np.random.default_rng(seed)
    S, J = len(streets), len(framework.indicators)
    groups = framework.group_codes
    G = len(groups)
    scale = np.asarray(framework.scale.scores, dtype=np.float64)
    cuts = _cut_points(framework.scale.points, 1.6)
    sd = float(np.hypot(respondent_sd, item_sd))
    street_eff = rng.normal(0, street_sd, S)
    item_eff = rng.normal(0, 0.2, J)
    A = len(AGE_BANDS)
    age_m = np.full((S, G, A), np.nan)
    gender_m = np.full((S, G, 2), np.nan)
    total = np.full((S, G), np.nan)
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("street", "group", "age", "gen", "pts")}
    true_cell = np.zeros((S, G, J))
    for s in range(S):
        for g, code in enumerate(groups):
            ages = GROUP_AGES.get(code)
            mu = street_eff[s] + item_eff + (0.3 if code == "unit" else 0.0)
            if ages is None:  # no margins: one homogeneous class
                a = np.full(per_cell, A)
                gen = np.full(per_cell, 2)
                mean = np.broadcast_to(mu, (per_cell, J))
                true_cell[s, g] = _expected_score(mu[None], sd, cuts, scale)[0]
            else:
                pop_share = 0.6 / len(ages) + 0.4 * rng.dirichlet(np.full(len(ages), 8.0))
                female = rng.uniform(0.45, 0.58)
                size = float(rng.integers(2000, 9000))
                age_m[s, g] = 0.0
                age_m[s, g, list(ages)] = np.round(pop_share * size)
                n_pop = age_m[s, g].sum()
                gender_m[s, g] = (round(female * n_pop), n_pop - round(female * n_pop))
                total[s, g] = n_pop
                odds = oversample ** np.linspace(0, 1, len(ages))
                samp = pop_share * odds
                a = rng.choice(np.array(ages), per_cell, p=samp / samp.sum())
                is_f = rng.random(per_cell) < female
                gen = np.where(is_f, 0, 1)
                eff = age_effect * (a - ages[0])[:, None] + gender_effect * is_f[:, None]
                mean = mu[None] + eff
                # population score: mixture over age bands x genders
                p_f = gender_m[s, g, 0] / n_pop
                for k, band in enumerate(ages):
                    for is_female, p_g in ((True, p_f), (False, 1 - p_f)):
                        m_ag = mu + age_effect * (band - ages[0]) + gender_effect * is_female
                        share = age_m[s, g, band] / n_pop * p_g
                        true_cell[s, g] += share * _expected_score(m_ag[None], sd, cuts, scale)[0]
                    del k
                if undisclosed > 0:
                    gen = np.where(rng.random(per_cell) < undisclosed, 2, gen)
            z = mean + rng.normal(0, respondent_sd, (per_cell, 1))
            z = z + rng.normal(0, item_sd, (per_cell, J))
            pts = 1 + (z[..., None] > cuts).sum(axis=-1)
            cols["street"].append(np.full(per_cell, s))
            cols["group"].append(np.full(per_cell, g))
            cols["age"].append(a)
            cols["gen"].append(gen)
            cols["pts"].append(pts)
    street = np.concatenate(cols["street"])
    group = np.concatenate(cols["group"])
    n = street.size
    points = np.concatenate(cols["pts"])
    no = np.zeros(points.shape, dtype=bool)
    data = from_points(
        framework, streets, street, group, np.ones(n), points, no, no, np.zeros(n, dtype=np.int64)
    )
    if dk_rate > 0:
        dont_know = (np.random.default_rng([seed, 1]).random(points.shape) < dk_rate) & data.asked
        points = np.where(dont_know, 0, points)
        data = from_points(
            framework, streets, street, group, np.ones(n), points, dont_know, no,
            np.zeros(n, dtype=np.int64), asked=data.asked,
        )  # fmt: skip
    data = replace(data, age_band=np.concatenate(cols["age"]), gender=np.concatenate(cols["gen"]))
    shares = np.array([gr.share for gr in framework.groups])
    true_ind = (true_cell * shares[None, :, None]).sum(axis=1) / shares.sum()
    _, true_ovr = _composite(framework, true_ind)
    return WeightingSimulation(
        data=data,
        margins=Margins(age=age_m, gender=gender_m, total=total),
        true_indicator=true_ind,
        true_overall=np.asarray(true_ovr, dtype=np.float64),
    )
