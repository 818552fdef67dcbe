"""Raking: calibrate respondent weights to population margins within each cell.

Raking (Deming & Stephan 1940) adjusts the weights of the respondents of one
street x group so that their weighted age bands and genders match the
population's, starting from the responses' own weights.  Every respondent with
the same age band and gender in a cell gets the same adjustment, so the whole
computation runs on a small (age x gender) table per cell: one (cells, 6, 3)
array for the point estimate, and one (cells, replicates, 6, 3) array inside the
bootstrap (:func:`solve`, vectorised over all tables at once).

**Solving.**  Two margins with two genders leave one unknown per table: with the
gender factors ``(1, t)`` each age band's factor is ``a_k = A_k / (f_k + m_k t)``
(``f_k``, ``m_k``: weighted female and male respondents of band k, ``A_k`` its
population), and the female margin ``Σ_k a_k f_k = F`` is one monotone equation
in ``log t``, solved by safeguarded Newton steps to 1e-12 of the population.
This is the fixed point iterative proportional fitting converges to (the
raking solution is unique), reached in a few vectorised steps instead of dozens
of sweeps.  One margin alone is a post-stratification (closed form).

**Missing answers.**  Respondents whose age band or gender is missing or
``undisclosed`` (for a margin the cell uses) keep the cell's *average
adjustment* ``N / T`` (population over the cell's weighted total), so they keep
their share of the cell's weight; the others are raked to the margins scaled by
their share ``(T − U) / T`` (U: the unknowns' weight).  The cell's weights add
up to its population, and among respondents who gave both answers the age and
gender distributions equal the population's.

**Trimming** (optional, off by default) bounds every adjustment to
``[low, high]`` times the cell's average adjustment: after the exact solution,
factors are clipped and the margins refitted by IPF steps until both hold or the
bounds prevent it (margins are then met only as far as the bounds allow).

References: Deming, W. E. & Stephan, F. F. (1940), *Ann. Math. Stat.* 11, 427-444;
Deville, J.-C. & Särndal, C.-E. (1992), *JASA* 87, 376-382 (raking as
calibration, uniqueness); Lumley, T. (2010), *Complex Surveys*, §7.4
(``survey::rake``).  See also ``docs/weighting.md``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .population import AGE_BANDS, GENDERS, Margins
from .raking_solver import MAX_ITER, N_AGE, N_CLASS, N_GENDER, TOL, IPFResult, solve

__all__ = [
    "N_AGE",
    "N_CLASS",
    "N_GENDER",
    "Raked",
    "RakingError",
    "IPFResult",
    "TRIM_RANGE",
    "category_codes",
    "check_trim",
    "class_tables",
    "rake",
    "solve",
]

TRIM_RANGE = (0.01, 100.0)  # the widest trimming bounds accepted


def check_trim(low: float | None, high: float | None) -> tuple[float, float] | None:
    """Validate trimming bounds: both None (no trimming) or ``0.01 ≤ low < 1 < high ≤ 100``.

    The bounds limit every class's raking adjustment to ``low``-``high`` times
    its cell's average adjustment (docs/weighting.md).

    :raises ValueError: one bound without the other, or bounds out of range.
    """
    if low is None and high is None:
        return None
    if low is None or high is None:
        raise ValueError("give both trimming bounds (low and high), or neither for no trimming")
    lo_min, hi_max = TRIM_RANGE
    if not (math.isfinite(low) and lo_min <= low < 1):
        raise ValueError(
            f"the lower trimming bound must be at least {lo_min:g} and below 1, not {low:g}"
        )
    if not (math.isfinite(high) and 1 < high <= hi_max):
        raise ValueError(
            f"the upper trimming bound must be above 1 and at most {hi_max:g}, not {high:g}"
        )
    return (float(low), float(high))


FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


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
    age_only : tuple of int
        Cells whose two margins could not both be met, raked to age bands only
        (``on_infeasible="age_only"``).
    """

    weight: FloatArray
    factor: FloatArray
    cell_factor: FloatArray
    raked_cells: BoolArray
    iterations: int
    max_error: float
    age_only: tuple[int, ...] = ()


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


def _check_margins(
    counts: FloatArray,
    age: FloatArray,
    gender: FloatArray,
    labels: Sequence[str],
) -> list[str]:
    """Margin categories with population but no respondent, or respondents but no population.

    Counts only the respondents raking uses: those who gave every variable the
    cell's margins use (the others keep the cell's average adjustment).
    """
    problems: list[str] = []
    use_a = np.asarray(np.isfinite(age).all(axis=-1))
    use_g = np.asarray(np.isfinite(gender).all(axis=-1))
    n_cell = counts.sum(axis=(1, 2))
    both = counts[:, :-1, :-1]
    by_age = np.where(use_g[:, None], both.sum(axis=2), counts[:, :-1, :].sum(axis=2))
    by_gender = np.where(use_a[:, None], both.sum(axis=1), counts[:, :, :-1].sum(axis=1))
    for variable, names, target, by_cat, use in (
        ("age band", AGE_BANDS, age, by_age, use_a),
        ("gender", GENDERS, gender, by_gender, use_g),
    ):
        n_cat = by_cat.astype(np.int64)  # respondents, as the messages count them
        t = np.nan_to_num(target)
        suspect = (
            (by_cat.sum(axis=1) == 0)
            | ((t > 0) & (n_cat == 0)).any(axis=1)
            | ((t == 0) & (n_cat > 0)).any(axis=1)
        )
        for c in map(int, np.flatnonzero(use & (n_cell > 0) & suspect)):  # usually none
            if by_cat[c].sum() == 0:
                asked = "age band and gender" if use_a[c] and use_g[c] else variable
                problems.append(
                    f"{labels[c]}: no respondent gave their {asked}, so the {variable} margin "
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
    on_infeasible: str = "error",
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
        Required fit (relative to the cell's population) and step cap.
    on_infeasible : {"error", "age_only"}
        What to do with a cell whose age band and gender margins cannot both be
        met (e.g. every sampled 18-34 respondent is a woman but the
        population's 18-34 outnumber its women): raise, or rake that cell to
        its age bands only (listed in ``Raked.age_only``).

    Returns
    -------
    Raked

    Raises
    ------
    RakingError
        A margin category has population but no respondent (or respondents but
        no population), nobody in a cell answered a margin's variable, or the
        margins cannot both be met; every street x group concerned is named.
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
    fit = solve(table, age_m, gender_m, trim=trim, tol=tol, max_iter=max_iter)
    bad = ~fit.converged
    cell_factor, error = fit.factor, fit.error
    age_only: tuple[int, ...] = ()
    if bad.any() and trim is None:
        if on_infeasible != "age_only":
            raise RakingError(
                [
                    f"{names[i]}: raking does not converge (margin misfit {fit.error[i]:.2%} "
                    f"after {fit.iterations} steps): the respondents' combinations of age band "
                    "and gender cannot meet both margins (e.g. every respondent of one age "
                    "band has the same gender); rake this cell to one variable"
                    for i in map(int, np.flatnonzero(bad))
                ]
            )
        age_only = tuple(int(i) for i in np.flatnonzero(bad))
        redo = solve(table[bad], age_m[bad], np.full((len(age_only), 2), np.nan), tol=tol)
        cell_factor = cell_factor.copy()
        cell_factor[bad] = redo.factor
        error = np.where(bad, 0.0, error)
        error[bad] = redo.error
    factor = cell_factor[c, a, g]
    raked = margins.raked.reshape(C)
    return Raked(
        weight=w * factor,
        factor=factor,
        cell_factor=cell_factor,
        raked_cells=raked,
        iterations=fit.iterations,
        max_error=float(error.max()) if error.size else 0.0,
        age_only=age_only,
    )
