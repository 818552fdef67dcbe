"""The raking solver: every street x group's (age x gender) table raked at once.

See :mod:`scoring.raking` for the method (exact Newton solution of the two
margins, missing answers keeping the cell's average adjustment, optional
trimming).  Arrays are handled class-first internally (classes on the leading
axes, tables on the last) so that reductions run over long contiguous rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .population import AGE_BANDS, GENDERS

__all__ = ["IPFResult", "MAX_ITER", "N_AGE", "N_CLASS", "N_GENDER", "TOL", "solve"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

N_AGE = len(AGE_BANDS) + 1  # known bands + unknown
N_GENDER = len(GENDERS) + 1  # female, male + unknown (missing or undisclosed)
N_CLASS = N_AGE * N_GENDER
TOL = 1e-12
MAX_ITER = 200


def _targets(
    table: FloatArray, age: FloatArray, gender: FloatArray, lenient: bool
) -> dict[str, npt.NDArray[Any]]:
    """Known blocks, scaled targets and the unknowns' factor of every table.

    Class-first layout for speed (reductions over short leading axes of long
    rows): ``table`` (6, 3, N), ``age`` (5, N), ``gender`` (2, N).
    """
    use_a = np.isfinite(age).all(axis=0)
    use_g = np.isfinite(gender).all(axis=0)
    # a margin is used whole or not at all (NaN rows): its zeros where not used
    age0, gender0 = np.where(use_a, age, 0.0), np.where(use_g, gender, 0.0)
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
    # den = f + m e^u > 0 everywhere: a band without weight (f = m = 0) adds
    # nothing (af = 0), so its f can be 1 and no division needs a mask
    f_safe = np.where(f + m > 0, f, 1.0)
    n = u0.shape[0]
    u = np.clip(u0, -49.0, 49.0)
    misfit = np.zeros(n)
    # the tables still being solved, and their state (gathered when many are done)
    idx = np.arange(n)
    cur = u.copy()
    lo = np.full(n, -50.0)
    hi = np.full(n, 50.0)
    scale = np.where(pop > 0, pop, 1.0)
    sub_f, sub_m, sub_af, sub_afm, sub_fem = f_safe, m, af, afm, female
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 (used after the loop)
        e = np.exp(cur)
        inv = sub_m * e
        inv += sub_f
        np.reciprocal(inv, out=inv)
        val = np.einsum("kn,kn->n", sub_af, inv)
        val -= sub_fem
        inv *= inv
        slope = np.einsum("kn,kn->n", sub_afm, inv)
        slope *= -e
        miss = np.abs(val) / scale
        misfit[idx] = miss
        go = (miss > tol) & (hi - lo > 1e-13)
        active = int(np.count_nonzero(go))
        if not active:
            break
        if active < 0.75 * go.size:  # gather the rest (a done table keeps its u)
            u[idx] = cur
            idx, cur, val, slope, lo, hi, scale = (
                a[go] for a in (idx, cur, val, slope, lo, hi, scale)
            )
            sub_f, sub_m, sub_af, sub_afm = (
                sub_f[:, go],
                sub_m[:, go],
                sub_af[:, go],
                sub_afm[:, go],
            )
            sub_fem = sub_fem[go]
            go = np.ones(active, dtype=bool)
        up = val > 0  # achieved too high: t must grow
        lo = np.where(up & go, cur, lo)
        hi = np.where(up | ~go, hi, cur)
        step = np.divide(-val, slope, out=np.full_like(val, np.inf), where=slope < 0)
        new = cur + step
        inside = (new > lo) & (new < hi)
        cur = np.where(go, np.where(inside, new, 0.5 * (lo + hi)), cur)
    u[idx] = cur
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
    factor = np.empty(tab.shape)
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
    two_mask = active & p["use_a"] & p["use_g"]
    which = np.flatnonzero(two_mask)
    # every table (the usual case): views and one C-ordered copy each, not gathers
    two: IntArray | slice = slice(None) if which.size == N else which
    if which.size:
        # row-ordered copies (the solver's sums over bands run row by row)
        f, m, a_t, g_t = (
            np.ascontiguousarray(a)
            for a in (p["both"][:, 0, two], p["both"][:, 1, two], p["age"][:, two],
                      p["gender"][:, two])
        )  # fmt: skip
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
