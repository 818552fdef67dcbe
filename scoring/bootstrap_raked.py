"""Re-raked bootstrap replicates, a few streets at a time (docs/performance-scoring.md).

The same draws, raking and products as :func:`scoring.bootstrap.replicate_cell_totals`
with ``raking`` (each replicate table raked on its own), but each worker takes
a few streets (:data:`scoring.bootstrap.STREETS_TOGETHER`: one raking solve per
chunk of replicates for all their cells) through every step (draw their cells'
counts, rake their tables, form their totals, combine their groups) while the
counts are in cache, instead of every cell's counts being drawn, held and
raked before any product.  Only a block's counts are held, so its chunks of
replicates are larger (:func:`block_chunk`: every replicate at once for a
district-sized file).  With the same chunks the numbers are the same bits
(:func:`raked_streetwise` says when); the draws never depend on the chunks,
and other chunks change the float32 products' last bits at most.  Without
trimming only: a trimmed replicate table is solved by sweeps over all tables
together.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .bootstrap import (
    CellStream,
    FeatureRows,
    Replicates,
    _by_replicate_parts,
    _cell_counts,
    _cell_streams,
    _parallel_workers,
    _slicer,
    street_blocks,
    streetwise,
)
from .dataset import FloatArray
from .estimators import CellLayout, Weights, combine_groups, composite
from .raking_replicates import ReplicateRaking
from .raking_solver import N_CLASS

__all__ = [
    "BLOCK_COUNT_BUDGET",
    "RakedDraws",
    "block_chunk",
    "raked_indicator_replicates",
    "raked_replicates",
    "raked_streetwise",
]

#: resampling counts a worker holds at once for its block of streets (x 4 bytes: 16 MB)
BLOCK_COUNT_BUDGET = 4_000_000


@dataclass(frozen=True, slots=True, eq=False)
class RakedDraws:
    """The re-raked indicator replicates and what the district reference needs.

    Attributes
    ----------
    indicator : (B, S, J) float array
        Street indicator replicates (NaN rows for streets without respondents).
    chunks : list of (b0, b1)
        The chunks of replicates the draws were made in.
    ratios : list of (S, G, b1 - b0, J) float32 arrays, or None
        Per chunk, each cell's replicate ratio ``Σ w m x / Σ w m`` (NaN where the
        cell has no answer): kept only for a population-weighted reference.
    raked, redone : int
        Tables raked, and tables raked to age bands only.
    """

    indicator: FloatArray
    chunks: list[tuple[int, int]]
    ratios: list[npt.NDArray[np.float32]] | None
    raked: int
    redone: int


def raked_streetwise(shares: FloatArray, raking: ReplicateRaking | None) -> bool:
    """Whether :func:`raked_indicator_replicates` gives the all-cells route's numbers.

    Without trimming, and where groups combine the same street by street
    (:func:`scoring.bootstrap.streetwise`'s share condition).
    """
    return (
        raking is not None
        and raking.trim is None
        and streetwise(shares, raking=None, population=False)
    )


def block_chunk(layout: CellLayout, blocks: Sequence[Sequence[int]], boot: int) -> int:
    """Replicates per chunk: a worker holds one block's resampling counts for a chunk.

    At most :data:`BLOCK_COUNT_BUDGET` counts for the largest block, in
    near-equal chunks (no short last chunk); every replicate at once for
    district-sized files (one raking solve per block instead of three: fewer,
    larger NumPy calls, which matters most with two workers sharing the GIL).
    """
    G, starts = layout.n_groups, layout.starts
    rows = max((int(starts[(b[-1] + 1) * G] - starts[b[0] * G]) for b in blocks), default=1)
    most = max(1, min(boot, BLOCK_COUNT_BUDGET // max(rows, 1)))
    n_chunks = -(-boot // most)
    return -(-boot // n_chunks)


def raked_indicator_replicates(
    features: npt.NDArray[np.float32] | FeatureRows,
    layout: CellLayout,
    shares: FloatArray,
    boot: int,
    seed: int,
    raking: ReplicateRaking,
    *,
    keep_ratios: bool,
) -> RakedDraws:
    """Re-raked (B, S, J) indicator replicates, each worker taking a few streets at a time.

    :param features: (n, 2J) ``[w m x, w m]`` with the base weights, in sorted
        cell order, or a function giving rows ``r0:r1`` of them.
    :param keep_ratios: keep each cell's replicate ratios (population-weighted
        district reference, :func:`raked_replicates`).
    """
    rows = features if callable(features) else _slicer(features)
    empty = rows(0, 0)
    S, G, F = layout.n_streets, layout.n_groups, empty.shape[1]
    J = F // 2
    ind, blocks = street_blocks(layout, boot, J)
    chunk = block_chunk(layout, blocks, boot)
    chunks = [(b0, min(boot, b0 + chunk)) for b0 in range(0, boot, chunk)]
    gens = _cell_streams(seed, layout.n_cells)
    raked_cells = raking.raked_cells
    ratios = (
        [np.full((S, G, b1 - b0, J), np.nan, dtype=np.float32) for b0, b1 in chunks]
        if keep_ratios
        else None
    )

    def run(part: Sequence[Sequence[int]]) -> tuple[int, int]:
        done = [0, 0]
        for block in part:
            _street_block(block, rows, layout, chunks, gens, raking, raked_cells, shares, ind,
                          ratios, done)  # fmt: skip
        return done[0], done[1]

    with _parallel_workers() as workers, ThreadPoolExecutor(workers) as pool:
        counted = list(pool.map(run, [blocks[i::workers] for i in range(workers)]))
    return RakedDraws(ind, chunks, ratios, sum(c[0] for c in counted), sum(c[1] for c in counted))


def _street_block(
    block: Sequence[int],
    rows: FeatureRows,
    layout: CellLayout,
    chunks: Sequence[tuple[int, int]],
    gens: Sequence[CellStream],
    raking: ReplicateRaking,
    raked_cells: npt.NDArray[np.bool_],
    shares: FloatArray,
    ind: FloatArray,
    ratios: list[npt.NDArray[np.float32]] | None,
    done: list[int],
) -> None:
    """Streets ``block`` (ascending, with respondents; their rows are contiguous) through
    every step, chunk by chunk of replicates."""
    G = layout.n_groups
    starts = layout.starts
    first, last = int(starts[block[0] * G]), int(starts[(block[-1] + 1) * G])
    x = rows(first, last)
    F = x.shape[1]
    J = F // 2
    cells = np.array(
        [c for s in block for c in range(s * G, (s + 1) * G) if layout.size[c] > 0],
        dtype=np.int64,
    )
    raked = raked_cells[cells]
    place = {s: j for j, s in enumerate(block)}
    for k, (b0, b1) in enumerate(chunks):
        bc = b1 - b0
        counts = []
        tables = np.zeros((N_CLASS, cells.size, bc))
        for i, c in enumerate(cells):
            lo, hi = int(starts[c]), int(starts[c + 1])
            counts.append(_cell_counts(gens[c], hi - lo, bc))
            if raked[i]:
                tables[:, i, :] = (counts[i] @ raking.onehot[lo:hi]).T
        factor, raked_n, redone = raking.cell_factors(tables, cells, raked)
        done[0] += raked_n
        done[1] += redone
        tot = np.zeros((len(block), G, bc, F), dtype=x.dtype)
        for i, c in enumerate(cells):
            lo, hi = int(starts[c]), int(starts[c + 1])
            kc = counts[i]
            if raked[i]:  # the others' factors are 1
                kc *= factor[raking.classes[lo:hi], i, :].T
            s, g = divmod(int(c), G)
            np.matmul(kc, x[lo - first : hi - first], out=tot[place[s], g])
        num, den = tot[..., :J], tot[..., J:]
        ind[b0:b1, block] = combine_groups(num, den, shares, axis=1).transpose(1, 0, 2)
        if ratios is not None:
            r = ratios[k]
            for j, s in enumerate(block):
                np.divide(num[j], den[j], out=r[s], where=den[j] > 0)


def raked_replicates(
    draws: RakedDraws,
    weights: Weights,
    reference_streets: npt.NDArray[np.bool_],
    population_coef: FloatArray | None,
    point_means: FloatArray | None,
) -> Replicates:
    """Every replicate from :func:`raked_indicator_replicates`' draws.

    The dimension and overall replicates and the district's as
    :func:`scoring.bootstrap.bootstrap_replicates` forms them from the same
    chunks: the plain mean of the reference streets, or (with
    ``population_coef`` and ``point_means``, and ratios kept) population-weighted.
    """
    ind = draws.indicator
    chunk = draws.chunks[0][1] - draws.chunks[0][0]
    dim, ovr, dind, ddim, dovr = _by_replicate_parts(ind, weights, reference_streets, chunk)
    if population_coef is not None and point_means is not None:
        dind, ddim, dovr = _raked_district(draws, population_coef, point_means, weights)
    return Replicates(ind, dim, ovr, dind, ddim, dovr)


def _raked_district(
    draws: RakedDraws,
    population_coef: FloatArray,
    point_means: FloatArray,
    weights: Weights,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Population-weighted district replicates (indicator, dimension, overall) from the ratios.

    Chunk by chunk as :func:`scoring.bootstrap.bootstrap_replicates` does:
    a cell without answers in a replicate takes its observed mean.
    """
    if draws.ratios is None:
        raise ValueError("the draws kept no cell ratios for a population-weighted reference")
    dind, ddim, dovr = [], [], []
    for r in draws.ratios:
        ok = ~np.isnan(r)
        ratio = np.where(ok, r.astype(np.float64), point_means[:, :, None, :])
        d = np.einsum("sgbj,sgj->bj", ratio, population_coef)
        dd, do = composite(d, weights)
        dind.append(d)
        ddim.append(dd)
        dovr.append(do)
    return np.concatenate(dind), np.concatenate(ddim), np.concatenate(dovr)
