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

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from .population import AGE_BANDS, GENDERS, Margins

__all__ = [
    "N_AGE",
    "N_CLASS",
    "N_GENDER",
    "Raked",
    "RakingError",
    "ReplicateRaking",
    "IPFResult",
    "category_codes",
    "class_tables",
    "ipf",
    "rake",
    "replicate_raking",
    "solve",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

N_AGE = len(AGE_BANDS) + 1  # known bands + unknown
N_GENDER = len(GENDERS) + 1  # female, male + unknown (missing or undisclosed)
N_CLASS = N_AGE * N_GENDER
TOL = 1e-12
MAX_ITER = 200


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


def _targets(
    table: FloatArray, age: FloatArray, gender: FloatArray, lenient: bool
) -> dict[str, npt.NDArray[Any]]:
    """Known blocks, scaled targets and the unknowns' factor of every table.

    Class-first layout for speed (reductions over short leading axes of long
    rows): ``table`` (6, 3, N), ``age`` (5, N), ``gender`` (2, N).
    """
    use_a = np.isfinite(age).all(axis=0)
    use_g = np.isfinite(gender).all(axis=0)
    age0, gender0 = np.nan_to_num(age), np.nan_to_num(gender)
    pop = np.where(use_a, age0.sum(axis=0), np.where(use_g, gender0.sum(axis=0), 0.0))
    total = table.sum(axis=(0, 1))
    both = table[:-1, :-1]  # (5, 2, N) respondents who gave both answers
    rows = table[:-1].sum(axis=1)  # (5, N) age bands, gender not used
    cols = table[:, :-1].sum(axis=0)  # (2, N) genders, age not used
    known = np.where(
        use_a & use_g, both.sum(axis=(0, 1)), np.where(use_a, rows.sum(0), cols.sum(0))
    )
    active = (use_a | use_g) & (total > 0)
    avg = np.divide(pop, total, out=np.ones_like(total), where=active)
    share = np.divide(known, total, out=np.zeros_like(total), where=total > 0)
    age_t = age0 * share
    gender_t = gender0 * share
    if lenient:  # categories a replicate left empty give their people to the others
        age_w = np.where(use_g, both.sum(axis=1), rows)
        gender_w = np.where(use_a, both.sum(axis=0), cols)
        for t, w in ((age_t, age_w), (gender_t, gender_w)):
            kept = np.where(w > 0, t, 0.0)
            k_sum = kept.sum(axis=0)
            t[...] = np.divide(kept * t.sum(axis=0), k_sum, out=kept, where=k_sum > 0)
    return {
        "use_a": use_a,
        "use_g": use_g,
        "active": active,
        "pop": pop,
        "avg": avg,
        "both": both,
        "rows": rows,
        "cols": cols,
        "age": age_t,
        "gender": gender_t,
    }


def _solve_t(
    f: FloatArray,
    m: FloatArray,
    a_target: FloatArray,
    female: FloatArray,
    pop: FloatArray,
    u0: FloatArray,
    tol: float,
    max_iter: int,
) -> tuple[FloatArray, FloatArray, int]:
    """Solve ``Σ_k A_k f_k / (f_k + m_k e^u) = F`` for u per table (safeguarded Newton).

    ``f``, ``m``, ``a_target`` are (5, N); returns ``(u, misfit, steps)``, the
    misfit being ``|achieved − F| / N``.  The left side falls monotonically in
    u, so a bracket kept around the root makes every step safe.
    """
    af = a_target * f
    afm = af * m
    n = u0.shape[0]
    lo = np.full(n, -50.0)
    hi = np.full(n, 50.0)
    u = np.clip(u0, -49.0, 49.0)
    scale = np.where(pop > 0, pop, 1.0)
    misfit = np.zeros(n)
    idx = np.arange(n)
    sub_f, sub_m, sub_af, sub_afm, sub_fem = f, m, af, afm, female
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 (used after the loop)
        cur = u[idx]
        e = np.exp(cur)
        den = sub_f + sub_m * e
        ok = den > 0
        inv = np.divide(1.0, den, out=np.zeros_like(den), where=ok)
        val = (sub_af * inv).sum(axis=0) - sub_fem
        slope = -(sub_afm * inv * inv).sum(axis=0) * e
        miss = np.abs(val) / scale[idx]
        misfit[idx] = miss
        go = (miss > tol) & (hi[idx] - lo[idx] > 1e-13)
        if not go.any():
            break
        if not go.all():
            idx, cur, val, slope = idx[go], cur[go], val[go], slope[go]
            sub_f, sub_m, sub_af, sub_afm = (
                sub_f[:, go],
                sub_m[:, go],
                sub_af[:, go],
                sub_afm[:, go],
            )
            sub_fem = sub_fem[go]
        up = val > 0  # achieved too high: t must grow
        lo[idx] = np.where(up, cur, lo[idx])
        hi[idx] = np.where(up, hi[idx], cur)
        step = np.divide(-val, slope, out=np.full_like(val, np.inf), where=slope < 0)
        new = cur + step
        inside = (new > lo[idx]) & (new < hi[idx])
        u[idx] = np.where(inside, new, 0.5 * (lo[idx] + hi[idx]))
    return u, misfit, it


@dataclass(frozen=True, slots=True, eq=False)
class IPFResult:
    """Adjustment factors of a stack of (age x gender) tables.

    Attributes
    ----------
    factor : (..., 6, 3) float array
        Multiplier of every class's weight (1 where a table has no margins).
    iterations : int
        Newton steps (or, with trimming, IPF sweeps) done.
    error : (...) float array
        Largest relative misfit ``|achieved − target| / population`` per table.
    converged : (...) bool array
    log_ratio : (...) float array
        ``log t`` of the gender factors (a warm start for replicates).
    """

    factor: FloatArray
    iterations: int
    error: FloatArray
    converged: BoolArray
    log_ratio: FloatArray


def _solve_classfirst(
    tab: FloatArray,
    age_c: FloatArray,
    gender_c: FloatArray,
    start: FloatArray | None,
    lenient: bool,
    tol: float,
    max_iter: int,
) -> tuple[FloatArray, FloatArray, FloatArray, int, dict[str, npt.NDArray[Any]]]:
    """:func:`solve` on class-first arrays: tab (6, 3, N), age (5, N), gender (2, N), start (N,).

    Returns ``(factor (6, 3, N), error (N,), log_ratio (N,), steps, targets)``.
    """
    N = tab.shape[-1]
    p = _targets(tab, age_c, gender_c, lenient)
    avg, active = p["avg"], p["active"]
    factor = np.empty((N_AGE, N_GENDER, N))
    factor[:] = np.where(active, avg, 1.0)
    error = np.zeros(N)
    log_ratio = np.zeros(N)
    iterations = 0
    # one margin: post-stratification
    only_a = active & p["use_a"] & ~p["use_g"]
    if only_a.any():
        fa = np.divide(p["age"], p["rows"], out=np.ones_like(p["rows"]), where=p["rows"] > 0)
        factor[:-1] = np.where(only_a, fa[:, None, :], factor[:-1])
    only_g = active & p["use_g"] & ~p["use_a"]
    if only_g.any():
        fg = np.divide(p["gender"], p["cols"], out=np.ones_like(p["cols"]), where=p["cols"] > 0)
        factor[:, :-1] = np.where(only_g, fg[None], factor[:, :-1])
    # two margins: one equation in log t per table
    two = np.flatnonzero(active & p["use_a"] & p["use_g"])
    if two.size:
        f = p["both"][:, 0, two]
        m = p["both"][:, 1, two]
        a_t, g_t = p["age"][:, two], p["gender"][:, two]
        if start is not None:
            u0 = np.asarray(start, dtype=np.float64)[two]
        else:
            sf, sm = f.sum(axis=0), m.sum(axis=0)
            ok = (sm > 0) & (sf > 0) & (g_t[0] > 0) & (g_t[1] > 0)
            ratio = np.divide(g_t[1] * sf, g_t[0] * sm, out=np.ones_like(sf), where=ok)
            u0 = np.log(ratio)
        u, misfit, iterations = _solve_t(f, m, a_t, g_t[0], p["pop"][two], u0, tol, max_iter)
        t = np.exp(u)
        den = f + m * t
        a = np.divide(a_t, den, out=np.broadcast_to(avg[two], den.shape).copy(), where=den > 0)
        factor[:-1, 0, two] = a
        factor[:-1, 1, two] = a * t
        error[two] = misfit
        log_ratio[two] = u
    return factor, error, log_ratio, iterations, p


def solve(
    table: FloatArray,
    age: FloatArray,
    gender: FloatArray,
    *,
    start: FloatArray | None = None,
    lenient: bool = False,
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
    start : (...) float array, optional
        Initial ``log t`` (e.g. the point estimate's, for bootstrap replicates).
    lenient : bool
        Let categories without weight give their population to the others
        (bootstrap replicates); otherwise the caller has refused such margins.
    trim : (low, high), optional
        Bounds of every class's adjustment relative to the table's average
        adjustment (population / weighted total); None: unbounded.
    tol : float
        Required fit, relative to the table's population.
    max_iter : int
        Most Newton steps (and, with trimming, most IPF sweeps).

    Returns
    -------
    IPFResult
    """
    lead = table.shape[:-2]
    N = int(np.prod(lead, dtype=np.int64))
    tab = np.ascontiguousarray(np.moveaxis(table.reshape(N, N_AGE, N_GENDER), 0, -1))  # (6, 3, N)
    age_c = np.ascontiguousarray(np.broadcast_to(age, (*lead, N_AGE - 1)).reshape(N, -1).T)
    gender_c = np.ascontiguousarray(np.broadcast_to(gender, (*lead, N_GENDER - 1)).reshape(N, -1).T)
    start_flat = None if start is None else np.broadcast_to(start, lead).reshape(N)
    factor, error, log_ratio, iterations, p = _solve_classfirst(
        tab, age_c, gender_c, start_flat, lenient, tol, max_iter
    )
    out = np.ascontiguousarray(np.moveaxis(factor, -1, 0)).reshape(table.shape)
    err = error.reshape(lead)
    if trim is not None:
        back = {k: np.moveaxis(v, -1, 0).reshape((*lead, *v.shape[:-1])) for k, v in p.items()}
        out, err, sweeps = _trimmed(table, out, back, trim, tol, max_iter)
        iterations += sweeps
    return IPFResult(
        factor=out,
        iterations=iterations,
        error=err,
        converged=err <= tol,
        log_ratio=log_ratio.reshape(lead),
    )


def ipf(
    table: FloatArray,
    age: FloatArray,
    gender: FloatArray,
    *,
    trim: tuple[float, float] | None = None,
    tol: float = TOL,
    max_iter: int = MAX_ITER,
) -> IPFResult:
    """:func:`solve` under its classical name (kept for callers raking one stack)."""
    return solve(table, age, gender, trim=trim, tol=tol, max_iter=max_iter)


def _trimmed(
    table: FloatArray,
    factor: FloatArray,
    p: dict[str, npt.NDArray[Any]],
    trim: tuple[float, float],
    tol: float,
    max_iter: int,
) -> tuple[FloatArray, FloatArray, int]:
    """Bounded raking: clip the known classes' factors, refit the margins, repeat."""
    low = (trim[0] * p["avg"])[..., None, None]
    high = (trim[1] * p["avg"])[..., None, None]
    use_a, use_g = p["use_a"] & p["active"], p["use_g"] & p["active"]
    # which classes are raked (the others keep the average adjustment)
    mask = np.zeros(table.shape, dtype=bool)
    mask[..., :-1, :-1] = True
    mask[..., :-1, -1] |= (use_a & ~use_g)[..., None]
    mask[..., -1, :-1] |= (use_g & ~use_a)[..., None]
    mask &= p["active"][..., None, None]
    error = np.zeros(table.shape[:-2])
    sweeps = 0
    for sweeps in range(1, max_iter + 1):  # noqa: B007 (used after the loop)
        factor = np.where(mask, np.clip(factor, low, high), factor)
        for axis, target, use in ((-1, p["age"], use_a), (-2, p["gender"], use_g)):
            w = np.where(mask, table * factor, 0.0)
            sums = w.sum(axis=axis)[..., : target.shape[-1]]
            ratio = np.divide(target, sums, out=np.ones_like(sums), where=sums > 0)
            ratio = np.where(use[..., None], ratio, 1.0)
            if axis == -1:
                factor[..., :-1, :] = np.where(
                    mask[..., :-1, :], factor[..., :-1, :] * ratio[..., None], factor[..., :-1, :]
                )
            else:
                factor[..., :, :-1] = np.where(
                    mask[..., :, :-1],
                    factor[..., :, :-1] * ratio[..., None, :],
                    factor[..., :, :-1],
                )
        factor = np.where(mask, np.clip(factor, low, high), factor)
        w = np.where(mask, table * factor, 0.0)
        miss_a = np.abs(w.sum(axis=-1)[..., :-1] - p["age"]).max(axis=-1)
        miss_g = np.abs(w.sum(axis=-2)[..., :-1] - p["gender"]).max(axis=-1)
        scale = np.where(p["pop"] > 0, p["pop"], 1.0)
        error = np.where(use_a, miss_a, 0.0) / scale
        error = np.maximum(error, np.where(use_g, miss_g, 0.0) / scale)
        if not error.size or error.max() <= tol:
            break
    return factor, error, sweeps


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
        for c in map(int, np.flatnonzero(use & (n_cell > 0))):
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
    raked = np.isfinite(margins.total.reshape(C))
    return Raked(
        weight=w * factor,
        factor=factor,
        cell_factor=cell_factor,
        raked_cells=raked,
        iterations=fit.iterations,
        max_error=float(error.max()) if error.size else 0.0,
        age_only=age_only,
    )


@dataclass(frozen=True, slots=True, eq=False)
class ReplicateRaking:
    """What the bootstrap needs to re-rake every replicate (respondents in sorted cell order).

    Replicate weights are the resampling counts times the base weights; each
    replicate's (age x gender) tables are raked by one vectorised
    :func:`solve` over all cells and replicates, and each respondent's count is
    multiplied by its class's factor before the cell totals are formed.
    Categories a replicate leaves empty give their population to the others;
    a replicate whose two margins cannot both be met is raked to age bands only
    (counted in ``report``).

    Attributes
    ----------
    classes : (n,) int array
        Class code ``age * 3 + gender`` of each respondent.
    onehot : (n, 18) float32 array
        The respondent's base weight in its class's column (class tables are
        ``counts @ onehot``).
    age, gender : (C, 5), (C, 2) float arrays
        Margins per cell (NaN rows: not used).
    start : (C,) float array
        The point estimate's ``log t`` (warm start).
    trim : (low, high) or None
    report : list of int
        Filled while running: ``[tables raked, tables not converged]``.
    """

    classes: IntArray
    onehot: npt.NDArray[np.float32]
    age: FloatArray
    gender: FloatArray
    start: FloatArray
    trim: tuple[float, float] | None = None
    tol: float = 1e-7
    report: list[int] = field(default_factory=lambda: [0, 0])

    def factors(self, tables: FloatArray) -> npt.NDArray[np.float32]:
        """Class factors (18, C, Bc) for replicate class tables (18, C, Bc) (class-first)."""
        _, C, bc = tables.shape
        if self.trim is not None:  # bounded raking: the general (slower) path
            fit = solve(
                np.moveaxis(tables, 0, -1).reshape(C, bc, N_AGE, N_GENDER),
                self.age[:, None, :],
                self.gender[:, None, :],
                start=self.start[:, None],
                lenient=True,
                trim=self.trim,
                tol=self.tol,
                max_iter=100,
            )
            self.report[0] += fit.converged.size
            self.report[1] += int((~fit.converged).sum())
            cf = np.moveaxis(fit.factor.reshape(C, bc, N_CLASS), -1, 0)
            return np.ascontiguousarray(cf, dtype=np.float32)
        N = C * bc
        tab = tables.reshape(N_AGE, N_GENDER, N)
        age = np.repeat(self.age.T, bc, axis=1)
        gender = np.repeat(self.gender.T, bc, axis=1)
        start = np.repeat(self.start, bc)
        factor, error, _, _, _ = _solve_classfirst(tab, age, gender, start, True, self.tol, 100)
        bad = np.flatnonzero(error > self.tol)
        self.report[0] += N
        if bad.size:  # a replicate whose margins cannot both be met: its age bands only
            self.report[1] += int(bad.size)
            redo, _, _, _, _ = _solve_classfirst(
                np.ascontiguousarray(tab[..., bad]),
                np.ascontiguousarray(age[:, bad]),
                np.full((N_GENDER - 1, bad.size), np.nan),
                None,
                True,
                self.tol,
                100,
            )
            factor[..., bad] = redo
        return factor.reshape(N_CLASS, C, bc).astype(np.float32)


def replicate_raking(
    cell: IntArray,
    age: IntArray,
    gender: IntArray,
    base: FloatArray,
    order: IntArray,
    margins: Margins,
    trim: tuple[float, float] | None = None,
) -> ReplicateRaking:
    """Set up :class:`ReplicateRaking` for respondents taken in ``order`` (the bootstrap's)."""
    S, G = margins.total.shape
    C = S * G
    cls = (age * N_GENDER + gender)[order]
    onehot = np.zeros((cls.size, N_CLASS), dtype=np.float32)
    onehot[np.arange(cls.size), cls] = base[order]
    age_m = margins.age.reshape(C, -1)
    gender_m = margins.gender.reshape(C, -1)
    point = solve(class_tables(cell, age, gender, base, C), age_m, gender_m, trim=trim)
    return ReplicateRaking(
        classes=cls,
        onehot=onehot,
        age=age_m,
        gender=gender_m,
        start=point.log_ratio,
        trim=trim,
    )
