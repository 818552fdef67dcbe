"""Weights for a scoring run: raking to population margins, and design effects.

:func:`prepare_weighting` rakes the respondents' weights to the population
margins (:mod:`scoring.raking`) and sets up the re-raking of every bootstrap
replicate; :func:`design_effects` gives n, effective n and Kish's design effect
due to weighting per street x group cell and per street.

Effective n (Kish 1965, §11.7): ``n_eff = (Σ w)² / Σ w²`` over a cell's
respondents, and ``deff = n / n_eff`` (1 for equal weights).  A street's score
combines its cells with the group shares, so its respondents' effective weights
are ``v_r = π_g w_r / Σ_{r'∈(s,g)} w_r'`` (shares renormalised over the groups
present) and the street's ``n_eff = (Σ v)² / Σ v²``: the design effect of the
street's score includes the group-share weighting.  See ``docs/weighting.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt

from .dataset import FloatArray, IntArray, ResponseData
from .estimators import cell_layout
from .population import Margins
from .raking import N_AGE, N_GENDER, rake
from .raking_replicates import ReplicateRaking, replicate_raking

__all__ = [
    "DesignEffects",
    "Weighting",
    "calibration_values",
    "design_effects",
    "prepare_weighting",
]

_ROWS = 4096  # rows of calibration_values' temporaries at once

MISSING_RULE = (
    "respondents whose age band or gender is missing or undisclosed keep their "
    "street x group cell's average adjustment (population / weighted respondents)"
)


@dataclass(frozen=True, slots=True, eq=False)
class Weighting:
    """Responses with their final weights, and what the bootstrap and the record need."""

    data: ResponseData
    base: FloatArray  # (n,) weights before raking
    replicate: ReplicateRaking | None
    #: raked runs: the answers for the linearised variance (:func:`calibration_values`)
    #: of these responses' rows in any order (e.g. the engine's cell order), worked
    #: out when asked for, so that the bootstrap's draws need not wait for them
    variance_values: Callable[[ResponseData], FloatArray] | None
    totals: FloatArray | None  # (S, G) population counts for the district reference
    method: dict[str, Any]


def _codes(data: ResponseData) -> tuple[IntArray, IntArray]:
    age = data.age_band if data.age_band is not None else np.full(data.n, N_AGE - 1)
    gender = data.gender if data.gender is not None else np.full(data.n, N_GENDER - 1)
    return np.asarray(age, dtype=np.int64), np.asarray(gender, dtype=np.int64)


def prepare_weighting(
    data: ResponseData,
    population: Margins | None,
    *,
    trim: tuple[float, float] | None = None,
) -> Weighting:
    """Rake ``data``'s weights to ``population`` (None: keep the weights as given).

    :raises RakingError: a margin category without respondents, respondents in
        a category without population, or margins that cannot both be met.
    :raises ValueError: margins whose shape does not fit the streets and groups.
    """
    if population is None:
        return Weighting(data, data.weight, None, None, None, {"kind": "as_given"})
    S, G = len(data.streets), len(data.groups)
    if population.total.shape != (S, G):
        raise ValueError(
            f"population margins cover {population.total.shape} streets x groups, "
            f"the responses {(S, G)}"
        )
    age, gender = _codes(data)
    cell = data.street * G + data.group
    labels = [f"{s} / {g}" for s in data.streets for g in data.groups]
    raked = rake(
        cell, age, gender, data.weight, population, labels=labels, trim=trim,
        on_infeasible="age_only",
    )  # fmt: skip
    if raked.age_only:  # those cells are raked (and re-raked) to age bands only
        gender_m = population.gender.copy().reshape(S * G, -1)
        gender_m[list(raked.age_only)] = np.nan
        population = replace(population, gender=gender_m.reshape(population.gender.shape))
    order = cell_layout(data).order
    rep = replicate_raking(cell, age, gender, data.weight, order, population, trim)
    totals: FloatArray | None = population.total.copy()
    present = np.bincount(cell, minlength=S * G).reshape(S, G) > 0
    missing = ~np.isfinite(population.total) & present
    note = None
    if missing.any():
        totals = None
        note = (
            f"{int(missing.sum())} street x group cells with responses have no population "
            "counts: the district reference is the plain mean of streets"
        )
    else:
        totals = np.where(np.isfinite(population.total), population.total, 0.0)
    unknown = ((age == N_AGE - 1) | (gender == N_GENDER - 1)) & raked.raked_cells[cell]
    method: dict[str, Any] = {
        "kind": "raked",
        "variables": ["age_band", "gender"],
        "cells_raked": int((raked.raked_cells & present.ravel()).sum()),
        "cells": int(present.sum()),
        "trim": list(trim) if trim is not None else None,
        "max_misfit": raked.max_error,
        "missing_rule": MISSING_RULE,
        "respondents_missing_category": int(unknown.sum()),
        "replicates": "re-raked in every bootstrap replicate",
    }
    if raked.age_only:
        method["age_only_cells"] = [labels[i] for i in raked.age_only]
        method["age_only_reason"] = (
            "the sample's age band x gender combinations cannot meet both margins "
            "(e.g. every sampled respondent of an age band has the same gender): "
            "raked to age bands only"
        )
    if note:
        method["reference_note"] = note
    raked_data = replace(data, weight=raked.weight)
    values = partial(_variance_values, population)
    method["variance"] = "linearised with residuals from the raking variables within each cell"
    return Weighting(raked_data, data.weight, rep, values, totals, method)


def _variance_values(margins: Margins, data: ResponseData) -> FloatArray:
    return calibration_values(data, margins, *_codes(data))


@dataclass(frozen=True, slots=True, eq=False)
class DesignEffects:
    """n, effective n and design effect per cell (S, G) and per street (S,)."""

    cell_n: IntArray
    cell_n_eff: FloatArray
    cell_deff: FloatArray
    street_n: IntArray
    street_n_eff: FloatArray
    street_deff: FloatArray


def design_effects(data: ResponseData, shares: npt.ArrayLike) -> DesignEffects:
    """Kish effective n and design effect due to weighting (module docstring)."""
    S, G = len(data.streets), len(data.groups)
    cell = data.street * G + data.group
    w = data.weight
    n = np.bincount(cell, minlength=S * G).reshape(S, G)
    sw = np.bincount(cell, weights=w, minlength=S * G).reshape(S, G)
    sw2 = np.bincount(cell, weights=w * w, minlength=S * G).reshape(S, G)
    n_eff = np.divide(sw * sw, sw2, out=np.zeros_like(sw), where=sw2 > 0)
    deff = np.divide(n, n_eff, out=np.full_like(sw, np.nan), where=n_eff > 0)
    pi = np.asarray(shares, dtype=np.float64)[None, :] * (n > 0)
    pi = np.divide(pi, pi.sum(axis=1, keepdims=True), out=np.zeros_like(pi), where=pi > 0)
    per_w = np.divide(pi, sw, out=np.zeros_like(sw), where=sw > 0)  # v_r / w_r per cell
    v = w * per_w.ravel()[cell]
    sv = np.bincount(data.street, weights=v, minlength=S)
    sv2 = np.bincount(data.street, weights=v * v, minlength=S)
    s_n = n.sum(axis=1)
    s_eff = np.divide(sv * sv, sv2, out=np.zeros_like(sv), where=sv2 > 0)
    s_deff = np.divide(s_n, s_eff, out=np.full_like(sv, np.nan), where=s_eff > 0)
    return DesignEffects(n, n_eff, deff, s_n, s_eff, s_deff)


def _class_design() -> FloatArray:
    """(18, 8) design rows of the (age x gender) classes: intercept, the five known
    age bands, the two known genders (the unknown categories are the baseline)."""
    Q, P = N_AGE * N_GENDER, 1 + (N_AGE - 1) + (N_GENDER - 1)
    a_idx, g_idx = np.divmod(np.arange(Q), N_GENDER)
    D = np.zeros((Q, P))
    D[:, 0] = 1.0
    D[:, 1:N_AGE] = a_idx[:, None] == np.arange(N_AGE - 1)
    D[:, N_AGE:] = g_idx[:, None] == np.arange(N_GENDER - 1)
    return D


def _main_effects(
    W: FloatArray, xtwx: FloatArray, xtwy: FloatArray, use: FloatArray
) -> tuple[FloatArray, IntArray]:
    """Coefficients (C, J, P) and rank (C, J) of every cell and item's weighted fit.

    ``W`` (C, J, 18): the classes' weights; ``xtwx``, ``xtwy``: the normal
    equations of the design intercept + known age bands + known genders
    (columns of a margin not used zeroed, ``use``).  Categories without weight
    give zero columns, and an absent unknown category makes its variable's
    dummies add up to the intercept; so each fit keeps the columns of the
    categories with weight, less one of a variable whose unknown category is
    absent (its largest), which leaves the same column space with independent
    columns whenever the genders present are linked through the age bands
    (always but in pathological cells), and solves that system.  Fits where
    they are not linked (two separate age x gender blocks) take the
    pseudo-inverse from an eigendecomposition, as every fit did before (same
    fitted values; a tenth of the time).  The rank is the number of columns
    kept.
    """
    C, J, _ = W.shape
    P = xtwx.shape[-1]
    table = W.reshape(C, J, N_AGE, N_GENDER)
    age_w, gen_w = table.sum(axis=-1), table.sum(axis=-2)
    use_a = (use[:, 1] > 0)[:, None]
    use_g = (use[:, N_AGE] > 0)[:, None]
    keep = np.zeros((C, J, P), dtype=bool)
    keep[..., 0] = age_w.sum(axis=-1) > 0
    for lo, hi, w, used in ((1, N_AGE, age_w, use_a), (N_AGE, P, gen_w, use_g)):
        known = (w[..., :-1] > 0) & used[..., None]
        drop = (w[..., -1] <= 0) & known.any(axis=-1)
        largest = np.argmax(np.where(known, w[..., :-1], -1.0), axis=-1)
        known &= ~(drop[..., None] & (np.arange(hi - lo) == largest[..., None]))
        keep[..., lo:hi] = known
    # genders present linked through age bands with both (connected components)
    present = table > 0
    n_gender = (gen_w > 0).sum(axis=-1)
    links = sum(
        (present[..., g] & present[..., h]).any(axis=-1)
        for g in range(N_GENDER)
        for h in range(g + 1, N_GENDER)
    )
    apart = (use_a & use_g) & (n_gender - np.minimum(n_gender - 1, links) > 1)
    kept = keep[..., :, None] & keep[..., None, :]
    system = np.where(kept, xtwx, 0.0) + np.eye(P) * ~keep[..., None, :]
    beta = np.linalg.solve(np.where(apart[..., None, None], np.eye(P), system),
                           np.where(keep, xtwy, 0.0)[..., None])[..., 0]  # fmt: skip
    rank = keep.sum(axis=-1)
    if apart.any():  # pseudo-inverse and rank from an eigendecomposition
        vals, vecs = np.linalg.eigh(xtwx[apart])
        cut = 1e-10 * np.maximum(vals.max(axis=-1, keepdims=True), 1e-300)
        pos = vals > cut
        inv_vals = np.divide(1.0, vals, out=np.zeros_like(vals), where=pos)
        t = (np.swapaxes(vecs, -1, -2) @ xtwy[apart][..., None])[..., 0] * inv_vals
        beta[apart] = (vecs @ t[..., None])[..., 0]
        rank[apart] = pos.sum(axis=-1)
    return beta, rank


def calibration_values(
    data: ResponseData, margins: Margins, age: IntArray, gender: IntArray
) -> FloatArray:
    """Answer scores with the calibration variables' part taken out, for the linearised variance.

    A raked mean's Taylor linearisation uses each answer's residual from the
    weighted regression on the raking variables within its cell (Deville &
    Särndal 1992: raking and regression calibration share their first-order
    variance).  Returned: ``ȳ_cj + e_rj`` (the cell's mean plus the residual of
    a main-effects regression on age band and gender classes, the unknown
    category as baseline), so the variance module's ``x − ȳ`` becomes ``e``.
    Each residual is scaled by ``√((a − 1)/(a − p))`` (a answers, p fitted
    parameters in the cell), so the variance module's ``a/(a − 1)`` becomes the
    regression's ``a/(a − p)``.  Cells without margins keep their answers.
    NaN where not answered.  The rows may be in any order (the engine passes
    them in cell order, as its variance step takes them).

    Every regression runs on its cell's (age x gender) class sums: the normal
    equations are matrix products with the one design of the classes (columns
    of a margin the cell does not use set to zero), and each answer's value is
    ``g x + h`` with a cell's scale ``g`` and a class's shift ``h``.
    """
    S, G = len(data.streets), len(data.groups)
    C, J, Q = S * G, data.points.shape[1], N_AGE * N_GENDER
    cell = data.street * G + data.group
    key = cell * Q + (age * N_GENDER + gender)
    # class sums of w m and w m x, and answers per cell, a block of rows at a time
    # (temporaries of a few hundred kB, reused, instead of n x J arrays faulted in)
    sums = np.zeros((2, C * Q * J))
    answered = np.zeros(C * J)
    col = np.arange(J)
    for r0 in range(0, data.n, _ROWS):
        r1 = min(data.n, r0 + _ROWS)
        m = data.points[r0:r1] > 0
        wm = data.weight[r0:r1, None] * m
        wmx = wm * np.where(m, data.values[r0:r1], 0.0)
        for acc, k, f in ((sums[0], key, wm), (sums[1], key, wmx), (answered, cell, m)):
            at = k[r0:r1]  # (cell, class) or cell, x J items: one bincount
            lo, hi = int(at.min()), int(at.max()) + 1
            idx = ((at - lo)[:, None] * J + col).ravel()
            acc[lo * J : hi * J] += np.bincount(idx, f.ravel(), minlength=(hi - lo) * J)
    W, Y = (a.reshape(C, Q, J).transpose(0, 2, 1) for a in sums)  # (C, J, Q)
    answered = answered.reshape(C, J)
    D = _class_design()
    P = D.shape[1]
    use = np.ones((C, P))
    use[:, 1:N_AGE] = np.all(np.isfinite(margins.age.reshape(C, -1)), axis=1, keepdims=True)
    use[:, N_AGE:] = np.all(np.isfinite(margins.gender.reshape(C, -1)), axis=1, keepdims=True)
    outer = (D[:, :, None] * D[:, None, :]).reshape(Q, P * P)
    xtwx = (W @ outer).reshape(C, J, P, P) * (use[:, :, None] * use[:, None, :])[:, None]
    xtwy = (Y @ D) * use[:, None, :]  # (C, J, P)
    beta, rank = _main_effects(W, xtwx, xtwy, use)
    fitted = (beta * use[:, None, :]) @ D.T  # (C, J, Q)
    den = W.sum(axis=-1)
    mean = np.divide(Y.sum(axis=-1), den, out=np.zeros_like(den), where=den > 0)  # (C, J)
    raked = margins.raked.reshape(C)
    # residuals lose one degree of freedom per fitted parameter: a/(a − p) instead of a/(a − 1)
    ok = raked[:, None] & (answered > rank)
    grow = np.sqrt(np.divide(answered - 1, answered - rank, out=np.ones_like(answered), where=ok))
    # raked cells: ȳ + (x − fitted) grow = x grow + (ȳ − fitted grow); the others: x
    # (x NaN where not answered stays NaN)
    scale = np.where(raked[:, None], grow, 1.0)  # (C, J)
    shift = np.where(raked[:, None, None], mean[..., None] - fitted * grow[..., None], 0.0)
    shift_rows = np.ascontiguousarray(shift.transpose(0, 2, 1)).reshape(C * Q, J)
    out: FloatArray = np.empty(data.values.shape)
    for r0 in range(0, data.n, _ROWS):
        r1 = min(data.n, r0 + _ROWS)
        part = out[r0:r1]
        np.multiply(data.values[r0:r1], np.take(scale, cell[r0:r1], axis=0), out=part)
        part += np.take(shift_rows, key[r0:r1], axis=0)
    return out
