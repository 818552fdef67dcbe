"""Re-raking inside the bootstrap: replicate weights = counts x base weights, raked again.

Used by :mod:`scoring.bootstrap` when a run is raked (:mod:`scoring.weighting`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from .population import Margins
from .raking import class_tables
from .raking_solver import N_AGE, N_CLASS, N_GENDER, _solve_classfirst, solve

__all__ = ["BLOCK_TABLES", "ReplicateRaking", "replicate_raking"]

BlockMap = Callable[[Callable[[Any], Any], Iterable[Any]], Iterable[Any]]

BLOCK_TABLES = 16_384  # replicate tables solved at once (bounds the solver's temporaries)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


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
    age_rows : tuple of int arrays, optional
        The distinct sets of age rows a cell's tables can fill (bands with
        population or respondents, and the unknown band), ascending;
    age_set : (C,) int array, optional
        each cell's set.  Replicate tables are solved set by set on those rows
        only (:meth:`_solve_block`); None: every row.
    """

    classes: IntArray
    onehot: npt.NDArray[np.float32]
    age: FloatArray
    gender: FloatArray
    start: FloatArray
    trim: tuple[float, float] | None = None
    tol: float = 1e-7
    report: list[int] = field(default_factory=lambda: [0, 0])
    age_rows: tuple[IntArray, ...] | None = None
    age_set: IntArray | None = None

    @property
    def raked_cells(self) -> BoolArray:
        """(C,) cells with margins; the others' factors are 1 (their tables need not be formed)."""
        out: BoolArray = np.logical_or(
            np.isfinite(self.age).all(axis=1), np.isfinite(self.gender).all(axis=1)
        )
        return out

    def factors(
        self, tables: FloatArray, map_blocks: BlockMap | None = None
    ) -> npt.NDArray[np.float32]:
        """Class factors (18, C, Bc) for replicate class tables (18, C, Bc) (class-first).

        ``map_blocks`` (e.g. a thread pool's ``map``) solves the blocks of cells
        concurrently; each block is solved on its own, so the factors are the
        same whichever way the blocks are run.
        """
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
        # only the cells with margins are raked (the others keep their counts), a
        # block of cells at a time: the solver's temporaries stay small enough to
        # be reused from the heap instead of being mapped (and page-faulted) anew
        raked = np.flatnonzero(self.raked_cells)
        out = np.ones((N_CLASS, C, bc), dtype=np.float32)
        per = max(1, BLOCK_TABLES // bc)
        blocks = [raked[b0 : b0 + per] for b0 in range(0, raked.size, per)]

        def solve_block(cells: IntArray) -> tuple[FloatArray, int, int]:
            return self._solve_block(tables[:, cells, :], cells)  # a copy: contiguous

        for cells, (factor, raked_n, redone) in zip(
            blocks, (map_blocks or map)(solve_block, blocks), strict=True
        ):
            out[:, cells, :] = factor
            self.report[0] += raked_n
            self.report[1] += redone
        return out

    def cell_factors(
        self, tables: FloatArray, cells: IntArray, raked: BoolArray
    ) -> tuple[npt.NDArray[np.float32], int, int]:
        """Class factors (18, c, Bc) of the replicate tables (18, c, Bc) of cells ``cells``.

        ``raked`` (c,) marks the cells with margins (the others' factors are 1).
        Without trimming every table is solved on its own, so a cell's factors
        are those :meth:`factors` gives, whichever cells are solved together.
        Also returns how many tables were raked and how many were raked to age
        bands only (for ``report``: callers may run in threads).
        """
        if self.trim is not None:
            raise ValueError("bounded raking solves all cells together (use factors)")
        _, c, bc = tables.shape
        out = np.ones((N_CLASS, c, bc), dtype=np.float32)
        sel = np.flatnonzero(raked)
        if not sel.size:
            return out, 0, 0
        factor, raked_n, redone = self._solve_block(
            np.ascontiguousarray(tables[:, sel, :]), cells[sel]
        )
        out[:, sel, :] = factor
        return out, raked_n, redone

    def _solve_block(self, tables: FloatArray, cells: IntArray) -> tuple[FloatArray, int, int]:
        """Factors (18, c, Bc) of the replicate tables (18, c, Bc) of raked cells ``cells``.

        Cells are solved by their sets of age rows (:attr:`age_rows`): the rows
        no respondent of the cell can be in (bands without population) are left
        out of the solve, whose sums then skip only zeros, so each table's
        factors are the same bits; the factors of those rows are 1 (no count is
        multiplied by them).  Also returns how many tables were raked and how
        many were raked to age bands only (the caller adds them to ``report``:
        blocks may run in threads).
        """
        _, c, bc = tables.shape
        out = np.ones((N_AGE, N_GENDER, c, bc))
        tab = tables.reshape(N_AGE, N_GENDER, c, bc)
        age_rows: tuple[IntArray, ...]
        if self.age_rows is None or self.age_set is None:  # one set: every row
            age_rows, sets = (np.arange(N_AGE, dtype=np.int64),), np.zeros(c, dtype=np.int64)
        else:
            age_rows, sets = self.age_rows, self.age_set[cells]
        redone = 0
        for k in np.unique(sets):
            rows = age_rows[k]
            sel = np.flatnonzero(sets == k)
            part = tab[rows][:, :, sel] if sel.size < c else tab[rows]
            factor, redo = self._solve_rows(part, cells[sel], rows)
            if sel.size < c:
                out[rows[:, None], :, sel] = factor.transpose(0, 2, 1, 3)
            else:
                out[rows] = factor
            redone += redo
        return out.reshape(N_CLASS, c, bc), c * bc, redone

    def _solve_rows(
        self, tables: FloatArray, cells: IntArray, rows: IntArray
    ) -> tuple[FloatArray, int]:
        """Factors (r, 3, c, Bc) of tables (r, 3, c, Bc) holding age rows ``rows``.

        ``rows`` ascending, the unknown band last.  Also returns how many tables
        were raked to age bands only.
        """
        r, _, c, bc = tables.shape
        N = c * bc
        tab = np.ascontiguousarray(tables).reshape(r, N_GENDER, N)
        age = np.repeat(self.age[cells][:, rows[:-1]].T, bc, axis=1)
        gender = np.repeat(self.gender[cells].T, bc, axis=1)
        start = np.repeat(self.start[cells], bc)
        factor, error, _, _, _ = _solve_classfirst(tab, age, gender, start, True, self.tol, 100)
        bad = np.flatnonzero(error > self.tol)
        if bad.size:  # a replicate whose margins cannot both be met: its age bands only
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
        return factor.reshape(r, N_GENDER, c, bc), int(bad.size)


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
    # the age rows each cell's tables can fill: bands with population or respondents
    # (every band where the age margin is not used), and the unknown band
    seen = np.zeros((C, N_AGE), dtype=bool)
    seen[cell, age] = True
    fill = seen | np.isnan(age_m).any(axis=1, keepdims=True)
    fill[:, : N_AGE - 1] |= np.nan_to_num(age_m) > 0
    fill[:, N_AGE - 1] = True
    kinds, age_set = np.unique(fill, axis=0, return_inverse=True)
    return ReplicateRaking(
        classes=cls,
        onehot=onehot,
        age=age_m,
        gender=gender_m,
        start=point.log_ratio,
        trim=trim,
        age_rows=tuple(np.flatnonzero(k) for k in kinds),
        age_set=age_set.reshape(C),
    )
