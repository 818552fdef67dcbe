"""Raking: calibrate respondent weights to population margins within each cell.

Raking (iterative proportional fitting, Deming & Stephan 1940) adjusts the
weights of the respondents of one street x group so that their weighted age
bands and genders match the population's, starting from the responses' own
weights.  Every respondent with the same age band and gender in a cell gets
the same adjustment, so the whole computation runs on a small (age x gender)
table per cell: one (cells, 6, 3) array for the point estimate, and one
(replicates x cells, 6, 3) array inside the bootstrap.  Both go through
:func:`ipf`.

Respondents whose age band (or gender) is missing or ``undisclosed`` form an
extra "unknown" row (column) of the table.  In the age step it receives the
cell's average adjustment ``N / T`` (population over current weighted total),
so it keeps its share of the cell's weight; the known age bands share the
rest in the population's proportions.  The result: among respondents who gave
their age band the weighted distribution equals the population's, and the
cell's weights add up to its population.  The gender step works the same way.

Optional trimming bounds every adjustment to ``[low, high]`` times the cell's
average adjustment (bounded raking: the factors are clipped after each step);
margins are then met only as far as the bounds allow.  Off by default.

References: Deming, W. E. & Stephan, F. F. (1940), *Ann. Math. Stat.* 11, 427-444;
Lumley, T. (2010), *Complex Surveys*, section 7.4 (``survey::rake``).
See also ``docs/weighting.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .population import AGE_BANDS, GENDERS, Margins

__all__ = [
    "N_AGE",
    "N_CLASS",
    "N_GENDER",
    "Raked",
    "RakingError",
    "IPFResult",
    "category_codes",
    "class_tables",
    "ipf",
    "rake",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

N_AGE = len(AGE_BANDS) + 1  # known bands + unknown
N_GENDER = len(GENDERS) + 1  # female, male + unknown (missing or undisclosed)
N_CLASS = N_AGE * N_GENDER
TOL = 1e-10
MAX_ITER = 1000


class RakingError(ValueError):
    """Raking cannot be done as asked; ``problems`` names every street x group concerned."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(
            "raking failed: "
            + "; ".join(self.problems[:20])
            + (f"; ... and {len(self.problems) - 20} more" if len(self.problems) > 20 else "")
        )


@dataclass(frozen=True, slots=True, eq=False)
class IPFResult:
    """Adjustment factors of a stack of (age x gender) tables.

    Attributes
    ----------
    factor : (..., 6, 3) float array
        Multiplier of every class's weight (1 where a cell has no margins).
    iterations : int
        Full sweeps (age step + gender step) done.
    error : (...) float array
        Largest relative misfit ``|achieved - target| / population`` per table.
    converged : (...) bool array
    """

    factor: FloatArray
    iterations: int
    error: FloatArray
    converged: BoolArray


@dataclass(frozen=True, slots=True, eq=False)
class Raked:
    """Raked weights of n respondents.

    Attributes
    ----------
    weight : (n,) float array
        Calibrated weights; in a raked cell they add up to its population.
    factor : (n,) float array
        ``weight / base weight``.
    cell_factor : (C, 6, 3) float array
        Adjustment of every cell x (age, gender) class (C = streets x groups).
    raked_cells : (C,) bool array
        Cells with margins (the others keep their base weights).
    iterations : int
    max_error : float
        Largest relative margin misfit left (≤ tol unless trimming binds).
    """

    weight: FloatArray
    factor: FloatArray
    cell_factor: FloatArray
    raked_cells: BoolArray
    iterations: int
    max_error: float


def category_codes(values: Sequence[str | None], categories: Sequence[str]) -> IntArray:
    """Codes 0..K-1 of ``values`` in ``categories``; K (unknown) for missing or other."""
    index = {c: i for i, c in enumerate(categories)}
    unknown = len(categories)
    return np.fromiter(
        (index.get(v, unknown) if v else unknown for v in values),
        dtype=np.int64,
        count=len(values),
    )


def class_tables(
    cell: IntArray, age: IntArray, gender: IntArray, weight: FloatArray, n_cells: int
) -> FloatArray:
    """Sum of ``weight`` per cell x age code x gender code → (n_cells, 6, 3)."""
    key = (cell * N_AGE + age) * N_GENDER + gender
    sums = np.bincount(key, weights=weight, minlength=n_cells * N_CLASS).astype(np.float64)
    out: FloatArray = sums.reshape(n_cells, N_AGE, N_GENDER)
    return out


def _step(
    table: FloatArray, factor: FloatArray, target: FloatArray, axis: int
) -> tuple[FloatArray, FloatArray]:
    """One raking step on ``axis`` (-2 age, -1 gender); returns (ratio, misfit before).

    ``target`` (..., K) holds the population counts (NaN rows: margin not used).
    Categories without respondents give their population to the others (only
    bootstrap replicates meet this: :func:`rake` refuses such margins).
    """
    other = -1 if axis == -2 else -2
    weighted = table * factor
    rows = weighted.sum(axis=other)  # (..., K + 1)
    k = target.shape[-1]
    known, unknown = rows[..., :k], rows[..., k]
    total = rows.sum(axis=-1)
    pop = target.sum(axis=-1)
    use = np.isfinite(pop) & (total > 0)
    safe_total = np.where(use, total, 1.0)
    present = known > 0
    tgt = np.where(present & use[..., None], np.nan_to_num(target), 0.0)
    tsum = tgt.sum(axis=-1)
    known_share = (safe_total - unknown) / safe_total
    scale = np.where(tsum > 0, np.nan_to_num(pop) * known_share / np.where(tsum > 0, tsum, 1), 0)
    goal = tgt * scale[..., None]
    ratio = np.ones_like(rows)
    ratio[..., :k] = np.where(present, goal / np.where(present, known, 1.0), 1.0)
    ratio[..., k] = np.where(use, np.nan_to_num(pop) / safe_total, 1.0)
    ratio = np.where(use[..., None], ratio, 1.0)
    misfit = np.where(use, np.abs(known - goal).max(axis=-1) / np.where(pop > 0, pop, 1.0), 0.0)
    return ratio, misfit


def ipf(
    table: FloatArray,
    age: FloatArray,
    gender: FloatArray,
    *,
    trim: tuple[float, float] | None = None,
    tol: float = TOL,
    max_iter: int = MAX_ITER,
) -> IPFResult:
    """Rake a stack of (age x gender) weight tables to their margins.

    Parameters
    ----------
    table : (..., 6, 3) float array
        Current weight of each class (last row/column: unknown category).
    age : (..., 5) float array
        Population by age band; NaN rows where the age margin is not used.
    gender : (..., 2) float array
        Population by gender; NaN rows where not used.
    trim : (low, high), optional
        Bounds of every class's adjustment relative to the cell's average
        adjustment (population / weighted total); None: unbounded.
    tol : float
        Stop when every margin is met to ``tol`` x the cell's population.
    max_iter : int
        Most sweeps.

    Returns
    -------
    IPFResult
    """
    factor = np.ones_like(table)
    lead = table.shape[:-2]
    error = np.zeros(lead)
    bounds: tuple[FloatArray, FloatArray] | None = None
    if trim is not None:
        low, high = trim
        pop = np.where(np.isfinite(age).all(axis=-1), age.sum(axis=-1), gender.sum(axis=-1))
        total = table.sum(axis=(-2, -1))
        avg = np.where(np.isfinite(pop) & (total > 0), pop / np.where(total > 0, total, 1), 1.0)
        bounds = ((low * avg)[..., None, None], (high * avg)[..., None, None])
    iterations = 0
    for iterations in range(1, max_iter + 1):  # noqa: B007 (used after the loop)
        ratio, err_age = _step(table, factor, age, -2)
        factor *= ratio[..., :, None]
        if bounds is not None:
            np.clip(factor, bounds[0], bounds[1], out=factor)
        ratio, err_gender = _step(table, factor, gender, -1)
        factor *= ratio[..., None, :]
        if bounds is not None:
            np.clip(factor, bounds[0], bounds[1], out=factor)
        # misfit of the age margin after the gender step (gender's is 0 unbounded)
        _, error = _step(table, factor, age, -2)
        if bounds is not None:
            error = np.maximum(error, _step(table, factor, gender, -1)[1])
        if not error.size or error.max() <= tol:
            break
    return IPFResult(factor=factor, iterations=iterations, error=error, converged=error <= tol)


def _check_margins(
    counts: FloatArray,
    age: FloatArray,
    gender: FloatArray,
    labels: Sequence[str],
) -> list[str]:
    """Margin cells with population but no respondent, or respondents but no population."""
    problems: list[str] = []
    C = counts.shape[0]
    n_cell = counts.sum(axis=(1, 2))
    for variable, names, target, axis in (
        ("age band", AGE_BANDS, age, 2),
        ("gender", GENDERS, gender, 1),
    ):
        by_cat = counts.sum(axis=axis)[:, : len(names)]  # (C, K) respondents per category
        for c in range(C):
            if n_cell[c] == 0 or not np.isfinite(target[c]).all():
                continue
            if by_cat[c].sum() == 0:
                problems.append(
                    f"{labels[c]}: no respondent gave their {variable}, so the {variable} margin "
                    "cannot be used (leave it out of the population file for this cell)"
                )
                continue
            for k, name in enumerate(names):
                pop, n = target[c, k], int(by_cat[c, k])
                if pop > 0 and n == 0:
                    problems.append(
                        f"{labels[c]}: the population has {pop:g} people in {variable} {name} "
                        "but no respondent is in it (merge it with a neighbouring category in "
                        "the population file, or collect responses there)"
                    )
                elif pop == 0 and n > 0:
                    problems.append(
                        f"{labels[c]}: {n} respondents are in {variable} {name} but the "
                        "population has nobody there (check their group or the population file)"
                    )
    return problems


def rake(
    cell: npt.ArrayLike,
    age: npt.ArrayLike,
    gender: npt.ArrayLike,
    weight: npt.ArrayLike,
    margins: Margins,
    *,
    labels: Sequence[str] | None = None,
    trim: tuple[float, float] | None = None,
    tol: float = TOL,
    max_iter: int = MAX_ITER,
) -> Raked:
    """Rake respondent weights to age band and gender margins within each cell.

    Parameters
    ----------
    cell : (n,) int array
        Street x group cell of each respondent, ``street * G + group``.
    age, gender : (n,) int arrays
        Category codes from :func:`category_codes` (unknown = last code).
    weight : (n,) float array
        Base (imported) weights, positive.
    margins : Margins
        Population margins over the same streets x groups (C = S x G cells).
    labels : sequence of str, optional
        Names of the C cells for messages (default ``cell c``).
    trim : (low, high), optional
        Bound every adjustment to ``[low, high]`` x the cell's average; off by default.
    tol, max_iter : float, int
        Convergence tolerance (relative to the cell's population) and sweep cap.

    Returns
    -------
    Raked

    Raises
    ------
    RakingError
        A margin category has population but no respondent (or respondents but
        no population), nobody in a cell answered a margin's variable, or IPF
        did not converge; every street x group concerned is named.
    """
    c = np.asarray(cell, dtype=np.int64)
    a = np.asarray(age, dtype=np.int64)
    g = np.asarray(gender, dtype=np.int64)
    w = np.asarray(weight, dtype=np.float64)
    S, G = margins.total.shape
    C = S * G
    if trim is not None and not (0 < trim[0] <= 1 <= trim[1]):
        raise ValueError(f"trimming bounds {trim} must satisfy 0 < low ≤ 1 ≤ high")
    names = list(labels) if labels is not None else [f"cell {i}" for i in range(C)]
    age_m = margins.age.reshape(C, -1)
    gender_m = margins.gender.reshape(C, -1)
    counts = class_tables(c, a, g, np.ones_like(w), C)
    problems = _check_margins(counts, age_m, gender_m, names)
    if problems:
        raise RakingError(problems)
    table = class_tables(c, a, g, w, C)
    fit = ipf(table, age_m, gender_m, trim=trim, tol=tol, max_iter=max_iter)
    bad = ~fit.converged
    if bad.any() and trim is None:
        raise RakingError(
            [
                f"{names[i]}: raking did not converge after {fit.iterations} sweeps (margin "
                f"misfit {fit.error[i]:.2%}): the respondents' combinations of age band and "
                "gender cannot meet both margins (e.g. every respondent of one age band has "
                "the same gender); rake to one variable for this cell"
                for i in np.flatnonzero(bad)
            ]
        )
    factor = fit.factor[c, a, g]
    raked = np.isfinite(margins.total.reshape(C))
    return Raked(
        weight=w * factor,
        factor=factor,
        cell_factor=fit.factor,
        raked_cells=raked,
        iterations=fit.iterations,
        max_error=float(fit.error.max()) if fit.error.size else 0.0,
    )
