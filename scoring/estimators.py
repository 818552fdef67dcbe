"""Point estimators (docs/method.md) over street x group cell sums.

Every estimate is a smooth function of weighted cell totals, so the same code
serves the point estimates, the bootstrap replicates (extra leading axes) and
the district reference (all streets summed into one).

Notation: respondent r in street s and group g (cell c = (s, g)), weight
``w_r``, score ``x_rj``, ``m_rj = 1`` if answered.

* group mean      ȳ_sgj = Σ w m x / Σ w m
* indicator score S_sj = Σ_g π_g ȳ_sgj / Σ_g π_g   (groups with answers)
* dimension score D_sk = Σ_{j∈k} a_j S_sj / Σ a_j   (indicators with answers)
* overall score   O_s  = Σ_k b_k D_sk / Σ b_k       (dimensions with answers;
  with complete data Σ b_k = 1 and this is the plain weighted sum)

Reference: Kish, L. (1965), *Survey Sampling*, Wiley, §6.3 (ratio means) and
§12.4 (combined domain estimates).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .dataset import FloatArray, IntArray, ResponseData
from .framework import Framework

__all__ = [
    "CellLayout",
    "Weights",
    "block_sums",
    "cell_blocks",
    "cell_layout",
    "cell_sums",
    "combine_groups",
    "composite",
]


@dataclass(frozen=True, slots=True, eq=False)
class Weights:
    """Framework weights as arrays: shares π (G,), a (J,), membership (J, K), b (K,)."""

    shares: FloatArray
    indicator: FloatArray
    member: FloatArray
    dimension: FloatArray

    @classmethod
    def of(cls, framework: Framework) -> Weights:
        dims = framework.dimension_codes
        member = np.array(
            [[i.dimension == d for d in dims] for i in framework.indicators], dtype=np.float64
        )
        return cls(
            shares=np.array([g.share for g in framework.groups], dtype=np.float64),
            indicator=np.array([i.weight for i in framework.indicators], dtype=np.float64),
            member=member,
            dimension=np.array([d.weight for d in framework.dimensions], dtype=np.float64),
        )


@dataclass(frozen=True, slots=True, eq=False)
class CellLayout:
    """Respondents sorted by cell ``c = s * G + g``; every (s, g) pair is a cell.

    ``order`` sorts the rows, ``starts[c]:starts[c + 1]`` are cell c's sorted
    rows, ``size[c]`` its respondent count (possibly 0).  ``contiguous``: the
    rows are already in cell order (``order`` is the identity), so cell sums
    need no gather.
    """

    n_streets: int
    n_groups: int
    order: IntArray
    starts: IntArray
    size: IntArray
    cell: IntArray  # (n,) cell of each original row
    contiguous: bool = False

    @property
    def n_cells(self) -> int:
        return self.n_streets * self.n_groups


def cell_layout(data: ResponseData) -> CellLayout:
    """Sort respondents by street x group cell."""
    S, G = len(data.streets), len(data.groups)
    cell = data.street * G + data.group
    contiguous = bool(np.all(cell[:-1] <= cell[1:]))
    order = np.arange(cell.size) if contiguous else np.argsort(cell, kind="stable")
    size = np.bincount(cell, minlength=S * G).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(size)]).astype(np.int64)
    return CellLayout(S, G, order, starts, size, cell, contiguous)


def cell_sums(values: FloatArray, layout: CellLayout) -> FloatArray:
    """Sum rows of ``values`` (n, F) over each cell → (S, G, F)."""
    F = values.shape[1]
    out = np.zeros((layout.n_cells, F), dtype=np.float64)
    full = layout.size > 0
    if full.any():
        rows = values if layout.contiguous else values[layout.order]
        sums = np.add.reduceat(rows, layout.starts[:-1][full], axis=0)
        out[full] = sums
    return out.reshape(layout.n_streets, layout.n_groups, F)


BLOCK_ROWS = 16_384  # rows (whole cells) whose n x J temporaries are held at once


def cell_blocks(layout: CellLayout, rows: int = BLOCK_ROWS) -> Iterator[tuple[int, int, int, int]]:
    """Runs of whole cells of about ``rows`` rows: ``(r0, r1, c0, c1)``.

    Rows ``r0:r1`` (in cell order) are exactly cells ``c0:c1``.  Working a block
    at a time keeps the n x J temporaries in cache and memory bounded; a cell's
    sum adds the same rows in the same order as over all rows.
    """
    starts = layout.starts
    C = layout.n_cells
    c0 = 0
    while c0 < C:
        c1 = int(np.searchsorted(starts, starts[c0] + rows, side="right")) - 1
        c1 = min(max(c1, c0 + 1), C)
        yield int(starts[c0]), int(starts[c1]), c0, c1
        c0 = c1


def block_sums(values: FloatArray, layout: CellLayout, c0: int, c1: int, out: FloatArray) -> None:
    """Cell sums of a block's rows ``values`` (cells ``c0:c1``) into ``out[c0:c1]`` (C, F).

    ``out`` starts at zero; empty cells stay zero (as in :func:`cell_sums`).
    """
    full = layout.size[c0:c1] > 0
    if full.any():
        rel = layout.starts[c0:c1][full] - layout.starts[c0]
        out[c0:c1][full] = np.add.reduceat(values, rel, axis=0)


def combine_groups(
    num: npt.NDArray[Any], den: npt.NDArray[Any], shares: FloatArray, axis: int = -2
) -> npt.NDArray[Any]:
    """Group-share combination of cell ratios: the one implementation.

    ``Σ_g π_g (num/den) / Σ_g π_g`` over the groups with ``den > 0`` along
    ``axis`` (the group axis; default: ``num``, ``den`` are (..., S, G, J) and the
    result (..., S, J)), NaN where no group has a denominator.  Computed in the
    arrays' dtype (float32 for the bootstrap's replicate totals) with one ratio
    buffer and a loop over the few groups; where every cell has a denominator
    (the usual case) the share total is a constant.
    """
    num = np.moveaxis(num, axis, 0)
    den = np.moveaxis(den, axis, 0)
    pi = shares.astype(num.dtype)
    ok = den > 0
    if ok.all():  # two buffers of the result's size, whatever the number of groups
        combined: npt.NDArray[Any] = np.divide(num[0], den[0])
        combined *= pi[0]
        part = np.empty_like(combined)
        for g in range(1, pi.shape[0]):
            np.divide(num[g], den[g], out=part)
            part *= pi[g]
            combined += part
        combined /= pi.sum()
        return combined
    ratio = np.divide(num, den, out=np.zeros(num.shape, dtype=num.dtype), where=ok)
    acc = ratio[0] * pi[0]
    for g in range(1, pi.shape[0]):
        acc += ratio[g] * pi[g]
    pis = ok[0] * pi[0]
    for g in range(1, pi.shape[0]):
        pis += ok[g] * pi[g]
    with np.errstate(invalid="ignore", divide="ignore"):
        out: npt.NDArray[Any] = np.where(pis > 0, acc / pis, np.nan)
    return out


def composite(
    ind: FloatArray, weights: Weights, *, masked: bool | None = None
) -> tuple[FloatArray, FloatArray]:
    """Dimension (..., K) and overall (...) scores from indicator scores (..., J).

    Missing (NaN) indicators drop out of their dimension and the indicator
    weights are renormalised; missing dimensions drop out of the overall score
    and the dimension weights are renormalised.  ``masked``: take the masked
    arithmetic (True) or the unmasked one where it applies (False) whatever
    ``ind`` holds, so that parts of one array are computed as the whole would
    be (the two can differ in the last bit); default: masked when ``ind`` has
    a NaN.
    """
    a = weights.indicator
    if not (bool(np.isnan(ind).any()) if masked is None else masked):
        full = _full_composite(ind, weights)  # the usual case, the arithmetic without masks
        if full is not None:
            return full
    ok = ~np.isnan(ind)
    filled = np.where(ok, ind, 0.0)
    num = (filled * a) @ weights.member
    den = (ok * a) @ weights.member
    with np.errstate(invalid="ignore", divide="ignore"):
        dim = np.where(den > 0, num / den, np.nan)
    dok = den > 0
    b = weights.dimension
    tot = (dok * b).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        overall = np.where(tot > 0, (np.where(dok, dim, 0.0) * b).sum(axis=-1) / tot, np.nan)
    return dim, overall


def _full_composite(ind: FloatArray, weights: Weights) -> tuple[FloatArray, FloatArray] | None:
    """:func:`composite` where every indicator has a score (None: a dimension has no weight)."""
    a, b = weights.indicator, weights.dimension
    den = (np.ones((1, a.size)) * a) @ weights.member  # one row of (ok * a) @ member
    if not (den > 0).all():
        return None
    dim: FloatArray = ((ind * a) @ weights.member) / den
    tot = float((np.ones((1, b.size)) * b).sum(axis=-1)[0])
    if not tot > 0:
        return None
    overall: FloatArray = (dim * b).sum(axis=-1) / tot
    return dim, overall
