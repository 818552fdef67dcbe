"""An independent population model for calibrating minping's verdicts.

Written without reference to ``scoring/simulate.py`` and using only numpy and
the framework TOML (read with ``tomllib``), so that the engine is checked
against a truth it did not help to define.  The engine is reached only through
the exchange CSV and the public scorer (``scoring.offline.score_file``, or
``read_responses`` + ``score`` where the bootstrap replicates are needed).

Model
-----
Each street x group cell is a finite population of ``POP[g]`` members.  Member
r has a general satisfaction ``η_r = a_s + c_g + N(0, 1)``; the latent view of
indicator j is ``y_rj = 0.8 η_r + b_j + d_sj + L_rj`` with logistic noise
``L ~ Logistic(0, 0.6)``, cut at indicator-specific, unevenly spaced cut points
into the 5 answer points.  A member answers 不了解 on j with probability
``p_j (1.4 if η_r < 0 else 0.7)`` (informative 不了解; ``p_j`` = 8%, or 30% on
three indicators).  The truth of a cell is the population mean score over the
members who answer j (the estimand of a ratio mean); streets, dimensions, the
overall score and both district references follow the framework's definitions.

Sampling is informative: a cell's sample is ``n_sg`` draws with replacement with
probability ``∝ exp(0.5 η_r)`` (satisfied residents respond more readily),
weight ``∝ 1 / p_r`` (normalised to mean 1 in the cell), so unweighted means
would be biased upwards.  Sample sizes split 0.4 / 0.4 / 0.2 across the groups.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FRAMEWORK = Path(__file__).resolve().parents[2] / "scoring" / "data" / "gulou-default.toml"
POP = {"elderly": 300, "adult": 400, "unit": 60}
MIX = (0.4, 0.4, 0.2)
HIGH_DK = ("I02", "I12", "I16")


@dataclass
class Design:
    """The framework as plain arrays (read from the TOML, not via scoring)."""

    groups: list[str]
    shares: np.ndarray
    codes: list[str]
    dim_of: np.ndarray
    a: np.ndarray
    b: np.ndarray
    scores: np.ndarray

    @classmethod
    def load(cls) -> Design:
        doc = tomllib.loads(FRAMEWORK.read_text(encoding="utf-8"))
        dims = [d["code"] for d in doc["dimensions"]]
        return cls(
            groups=[g["code"] for g in doc["groups"]],
            shares=np.array([g["share"] for g in doc["groups"]], float),
            codes=[i["code"] for i in doc["indicators"]],
            dim_of=np.array([dims.index(i["dimension"]) for i in doc["indicators"]]),
            a=np.array([i.get("weight", 1.0) for i in doc["indicators"]], float),
            b=np.array([d["weight"] for d in doc["dimensions"]], float),
            scores=np.array(doc["scale"]["scores"], float),
        )

    def overall(self, ind: np.ndarray) -> np.ndarray:
        """Overall score from complete indicator scores (..., J)."""
        K = len(self.b)
        dim = np.stack(
            [
                (ind[..., self.dim_of == k] * self.a[self.dim_of == k]).sum(-1)
                / self.a[self.dim_of == k].sum()
                for k in range(K)
            ],
            axis=-1,
        )
        return (dim * self.b).sum(-1) / self.b.sum()


@dataclass
class Population:
    """Finite populations of every street x group cell, with their truths."""

    answers: list[list[np.ndarray]]  # [s][g] (N, J) points, 0 = 不了解
    eta: list[list[np.ndarray]]
    latent: list[list[np.ndarray]]
    cell_truth: np.ndarray  # (S, G, J)
    street_truth: np.ndarray  # (S, J)
    overall_truth: np.ndarray  # (S,)
    sizes: np.ndarray  # (S, G)


def make_population(
    design: Design,
    n_streets: int,
    rng: np.random.Generator,
    *,
    street_sd: float = 0.3,
    interaction_sd: float = 0.2,
    equal: bool = False,
) -> Population:
    """Streets with their own populations; ``equal``: one population copied to all."""
    G, J = len(design.groups), len(design.codes)
    c_g = np.array([0.15, 0.0, -0.2])[:G]
    b_j = rng.normal(0.9, 0.35, J)
    shift = rng.normal(0, 0.15, J)
    cuts = np.array([-2.2, -1.1, 0.1, 1.3])[None, :] + shift[:, None]  # (J, 4)
    p_dk = np.array([0.30 if c in HIGH_DK else 0.08 for c in design.codes])
    built = 1 if equal else n_streets
    # streets differ in size (0.5x to 2x), so the population-weighted district
    # differs from the plain mean of streets
    scale = np.ones(built) if equal else rng.uniform(0.5, 2.0, built)
    answers, etas, latents = [], [], []
    truth = np.zeros((built, G, J))
    for s in range(built):
        a_s = 0.0 if equal else rng.normal(0, street_sd)
        d_s = np.zeros(J) if equal else rng.normal(0, interaction_sd, J)
        row_a, row_e, row_l = [], [], []
        for g, code in enumerate(design.groups):
            N = int(POP[code] * scale[s])
            eta = a_s + c_g[g] + rng.normal(0, 1, N)
            y = 0.8 * eta[:, None] + b_j + d_s + rng.logistic(0, 0.6, (N, J))
            pts = 1 + (y[:, :, None] > cuts[None]).sum(axis=2)
            dk_p = p_dk[None, :] * np.where(eta < 0, 1.4, 0.7)[:, None]
            pts[rng.random((N, J)) < dk_p] = 0
            sc = np.where(pts > 0, design.scores[np.maximum(pts - 1, 0)], np.nan)
            truth[s, g] = np.nanmean(sc, axis=0)
            row_a.append(pts)
            row_e.append(eta)
            row_l.append(y)
        answers.append(row_a)
        etas.append(row_e)
        latents.append(row_l)
    if equal:
        answers, etas, latents = answers * n_streets, etas * n_streets, latents * n_streets
        truth = np.repeat(truth, n_streets, axis=0)
    street = (design.shares[None, :, None] * truth).sum(1) / design.shares.sum()
    sizes = np.array([[len(e) for e in row] for row in etas])
    return Population(answers, etas, latents, truth, street, design.overall(street), sizes)


def district_truths(design: Design, pop: Population) -> tuple[float, float]:
    """True plain mean of streets and population-weighted district overall scores."""
    plain = float(pop.overall_truth.mean())
    N = pop.sizes[:, :, None].astype(float)
    group_mean = (N * pop.cell_truth).sum(0) / N.sum(0)  # (G, J)
    ind = (design.shares[:, None] * group_mean).sum(0) / design.shares.sum()
    return plain, float(design.overall(ind))


def cell_sizes(n: int, *, unit: int | None = None) -> list[int]:
    """Largest-remainder split of n by MIX; ``unit`` forces the unit cell size."""
    raw = np.array(MIX) * n
    k = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - k))[: n - k.sum()]:
        k[i] += 1
    if unit is not None:
        k[2] = unit
    return k.tolist()


def sample_csv(
    design: Design,
    pop: Population,
    n: int,
    rng: np.random.Generator,
    *,
    unit: int | None = None,
    names: list[str] | None = None,
) -> str:
    """One wave's responses as the exchange CSV (informative PPS-with-replacement sample)."""
    S = len(pop.answers)
    names = names or [f"街道{s:03d}" for s in range(S)]
    head = ["response_id", "street", "group", "submitted_at", "channel", "weight"]
    lines = [",".join(head + design.codes + ["concerns", "overall", "comment"])]
    rid = 0
    for s in range(S):
        for g, k in enumerate(cell_sizes(n, unit=unit)):
            if k == 0:
                continue
            eta = pop.eta[s][g]
            p = np.exp(0.5 * eta)
            p /= p.sum()
            idx = rng.choice(eta.size, size=k, replace=True, p=p)
            w = 1.0 / p[idx]
            w /= w.mean()
            for r, wr in zip(idx, w, strict=True):
                rid += 1
                pts = pop.answers[s][g][r]
                cells = ["DK" if v == 0 else str(int(v)) for v in pts]
                lat = pop.latent[s][g][r] + rng.gumbel(0, 0.5, len(design.codes))
                worst = np.argsort(lat)[:3]
                concerns = ";".join(design.codes[j] for j in sorted(worst))
                row = [f"r{rid}", names[s], design.groups[g], "", "face", f"{wr:.6f}"]
                lines.append(",".join(row + cells + [concerns, "", ""]))
    return "\n".join(lines) + "\n"
