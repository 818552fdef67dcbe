"""Rescaled respondent-level bootstrap within street x group cells, vectorised.

Each replicate resamples every cell's respondents with replacement, which is
the same as giving respondent r a multinomial resampling count k_rb.  The
replicate cell totals are then one matrix product per cell,
``K_c (B x m_c) @ X_c (n_c x F)``, with ``X`` the respondent features
``[w m x, w m]``; every score is a smooth function of these totals
(:mod:`scoring.estimators`), so street, dimension, overall and district
replicates all come from the same draws.

**Rescaling (Rao-Wu).**  The naive bootstrap (n_c draws out of n_c) estimates a
cell mean's variance as ``(n_c − 1)/n_c`` of the unbiased value: 8% too small
for a cell of 12, which is what made 95% intervals cover 0.89 at n = 30 per
street.  Each cell of ``n_c ≥ TINY_CELL`` respondents instead draws
``m_c = n_c − 1`` respondents and scales their weights by ``n_c / m_c``: the Rao-Wu
rescaled bootstrap with ``m_c = n_c − 1``, whose variance of a cell mean equals
the unbiased with-replacement variance ``s_c² / n_c``.  Cells below
:data:`~scoring.variance.TINY_CELL` cannot estimate their own variance; they are
held at their observed totals here and their (borrowed) variance is added by
the engine (see :mod:`scoring.variance`).

Counts are exact multinomial draws: indices drawn uniformly (:class:`CellStream`:
``Generator.integers``, or for cells of 512 or more Lemire's method on 16-bit
slices of PCG64's output) and tallied with
``np.add.at``.  Each cell has its own generator spawned from
``SeedSequence(seed)`` and each replicate starts at a fixed place in its
stream, so results do not depend on chunk sizes, workers or route.
Replicates are processed in chunks, keeping memory bounded.

References: Rao, J. N. K. and Wu, C. F. J. (1988), "Resampling inference with
complex survey data", *JASA* 83, 231-241; Rao, J. N. K., Wu, C. F. J. and Yue,
K. (1992), "Some recent work on resampling methods for complex surveys",
*Survey Methodology* 18, 209-217; Hesterberg, T. (2015), "What teachers should
know about the bootstrap", *Am. Stat.* 69, 371-386 (expanded percentile
interval, :func:`expanded_interval`).
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from . import tdist as t_dist
from .dataset import BoolArray, FloatArray
from .estimators import CellLayout, Weights, combine_groups, composite
from .raking_replicates import ReplicateRaking
from .raking_solver import N_CLASS
from .settings import BOOT_RANGE
from .special import ndtr
from .variance import TINY_CELL

__all__ = [
    "MAX_REPLICATES",
    "MIN_REPLICATES",
    "Replicates",
    "blas_single_thread",
    "bootstrap_replicates",
    "FeatureRows",
    "expanded_interval",
    "indicator_replicates",
    "nan_mean",
    "replicate_cell_totals",
    "streetwise",
]

MIN_REPLICATES, MAX_REPLICATES = BOOT_RANGE  # checked by scoring.settings.check_boot
_COUNT_BUDGET = 262_144  # resampling counts drawn at once per worker (x 8 bytes: in cache)
#: cells whose draws are 16-bit slices (:class:`CellStream`); the others use 64-bit
#: ``Generator.integers``, cheaper per call, so faster for small cells
_SLICED_CELLS = (512, 1 << 16)
#: streets a worker draws and combines together (:func:`indicator_replicates`): one
#: group combination for all of them instead of one per street
STREETS_TOGETHER = 8
_TOTALS_BUDGET = 32_000_000  # replicate cell totals held at once (x 4 bytes)
_RAKE_COUNT_BUDGET = 48_000_000  # resampling counts of all cells held at once when raking
_TAIL_BUDGET = 524_288  # replicate values partitioned at once by expanded_interval (4 MB)
_PART_REPLICATES = 64  # replicates per piece of the dimension and overall composites


@dataclass(frozen=True, slots=True, eq=False)
class Replicates:
    """Bootstrap replicates of every score (leading axis: replicate b)."""

    indicator: FloatArray  # (B, S, J)
    dimension: FloatArray  # (B, S, K)
    overall: FloatArray  # (B, S)
    district_indicator: FloatArray  # (B, J)
    district_dimension: FloatArray  # (B, K)
    district_overall: FloatArray  # (B,)

    @property
    def size(self) -> int:
        return int(self.overall.shape[0])


def _blas_threads() -> tuple[Callable[[int], object] | None, int]:
    """Setter and current count of OpenBLAS threads, if numpy's OpenBLAS is found."""
    libs = Path(np.__file__).parent.parent / "numpy.libs"
    for lib in sorted(libs.glob("libscipy_openblas*.so*")) if libs.is_dir() else []:
        try:
            handle = ctypes.CDLL(str(lib))
            setter = handle.scipy_openblas_set_num_threads64_
            getter = handle.scipy_openblas_get_num_threads64_
        except (OSError, AttributeError):
            continue
        setter.argtypes = [ctypes.c_int]
        return setter, int(getter())
    return None, 1


@contextmanager
def blas_single_thread() -> Iterator[None]:
    """OpenBLAS on one thread meanwhile (the caller runs its own threads).

    Every BLAS call gives the same numbers on one thread as on several (the
    products split their outputs, not their sums, between threads).
    """
    setter, before = _blas_threads()
    if setter is None or before == 1:
        yield
        return
    setter(1)
    try:
        yield
    finally:
        setter(before)


@contextmanager
def _parallel_workers() -> Iterator[int]:
    """Worker threads to use, with BLAS pinned to one thread meanwhile.

    Many small matrix products run faster on separate cores than one product
    split across cores.  Without control over BLAS threads, use one worker.
    """
    setter, before = _blas_threads()
    workers = min(os.cpu_count() or 1, 8)
    if setter is None or workers < 2:
        yield 1
        return
    setter(1)
    try:
        yield workers
    finally:
        setter(before)


class CellStream:
    """The resampling draws of one cell (street x group): uniform indices in ``[0, n_c)``.

    The cell's own PCG64 is child ``c`` of ``SeedSequence(seed)``.  Each
    replicate takes ``ceil((n_c − 1) / 4)`` whole 64-bit outputs, read as 16-bit
    slices ``u``, and maps each to ``(u n_c) >> 16`` (Lemire 2019, "Fast random
    integer generation in an interval", *ACM TOMACS* 29(1)).  A slice whose low
    16 bits of ``u n_c`` fall below ``2^16 mod n_c`` is rejected, which makes
    the mapping exactly uniform, and redrawn from a second generator (child 1
    of the cell's SeedSequence, made on first need) in replicate order.  So
    every replicate starts at a fixed place in the stream and a replicate's
    draws do not depend on how replicates are grouped into calls (chunks,
    workers, routes).  NumPy's own 16-bit ``Generator.integers`` would be as
    fast but discards the rest of its last 32-bit word at the end of every
    call, which makes its draws depend on that grouping.

    This costs half as much per draw as 64-bit ``Generator.integers`` but more
    per call, so only cells of 512 to 2^16 respondents draw this way; the
    others draw with ``Generator.integers`` on the same PCG64 (grouping-free
    too, and the draws of every release before this one).
    """

    __slots__ = ("_bits", "_seed", "_cell", "_spare")

    def __init__(self, seed: int, cell: int) -> None:
        self._bits = np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(cell,)))
        self._seed, self._cell = seed, cell
        self._spare: np.random.Generator | None = None

    def _redraws(self) -> np.random.Generator:
        if self._spare is None:
            seq = np.random.SeedSequence(self._seed, spawn_key=(self._cell, 1))
            self._spare = np.random.Generator(np.random.PCG64(seq))
        return self._spare

    @staticmethod
    def sliced(nc: int) -> bool:
        """Whether a cell of ``nc`` respondents draws by 16-bit slices."""
        low, high = _SLICED_CELLS
        return low <= nc <= high

    def indices(
        self, nc: int, rows: int, buf: npt.NDArray[np.uint32] | None = None
    ) -> npt.NDArray[np.uint32] | npt.NDArray[np.int64]:
        """The next ``rows`` replicates' ``nc − 1`` draws, (rows, nc − 1).

        Sliced cells (:meth:`sliced`) write them into ``buf`` (at least
        ``rows (nc − 1)`` long) when given; the others return a new array.
        """
        if not self.sliced(nc):
            return np.random.Generator(self._bits).integers(0, nc, size=(rows, nc - 1))
        if buf is None:
            buf = np.empty(rows * (nc - 1), dtype=np.uint32)
        words = -(-(nc - 1) // 4)
        u = self._bits.random_raw(rows * words).view(np.uint16).reshape(rows, 4 * words)
        m = buf[: rows * (nc - 1)].reshape(rows, nc - 1)
        np.multiply(u[:, : nc - 1], np.uint32(nc), out=m, dtype=np.uint32)
        reject = (1 << 16) % nc
        bad = np.flatnonzero(m.astype(np.uint16) < reject) if reject else None
        m >>= np.uint32(16)
        if bad is not None and bad.size:
            m.flat[bad] = self._redraws().integers(0, nc, size=bad.size)
        return m


class _Tally:
    """One worker's reusable buffers for drawing resampling counts.

    Fresh arrays of a few MB per cell (what ``np.bincount`` returns) cost page
    faults that took more time than the counting itself at a million
    respondents; these buffers are allocated once per worker.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.buffers: dict[np.dtype[Any], npt.NDArray[Any]] = {}

    def _buffer(self, dtype: npt.DTypeLike, n: int) -> npt.NDArray[Any]:
        key = np.dtype(dtype)
        buf = self.buffers.get(key)
        if buf is None:
            buf = self.buffers[key] = np.empty(self.size, dtype=key)
        return buf[:n]

    def draw(
        self,
        stream: CellStream,
        nc: int,
        rows: int,
        dtype: np.dtype[Any],
        out: npt.NDArray[Any] | None = None,
    ) -> npt.NDArray[Any]:
        """Counts (rows, nc) of ``nc − 1`` uniform draws out of ``nc``, per row, as ``dtype``.

        Exact multinomial counts (:class:`CellStream`), tallied straight into
        the real type of the matrix product (whole numbers below 2^24 are exact
        in float32); into ``out`` (C-contiguous, (rows, nc)) when given, else
        into the tally's own buffer.
        """
        offsets = (np.arange(rows) * nc)[:, None]
        if stream.sliced(nc):
            idx = stream.indices(nc, rows, self._buffer(np.uint32, rows * (nc - 1)))
            flat = self._buffer(np.intp, rows * (nc - 1)).reshape(rows, nc - 1)
            np.add(idx, offsets, out=flat)
        else:  # a new intp array: offset in place
            flat = stream.indices(nc, rows)
            flat += offsets
        counts = self._buffer(dtype, rows * nc) if out is None else out.reshape(-1)
        counts[:] = 0
        np.add.at(counts, flat.ravel(), counts.dtype.type(1))  # same type: NumPy's fast path
        return counts.reshape(rows, nc)


def _tally(cells_max: int) -> _Tally:
    return _Tally(max(_COUNT_BUDGET, cells_max))


def _cell_totals(
    gen: CellStream,
    x: npt.NDArray[np.float32],
    out: npt.NDArray[np.float32],
    tally: _Tally,
    chunk: int | None = None,
) -> None:
    """Fill ``out`` (B, F) with B Rao-Wu resampled totals of the rows of ``x``.

    ``n_c − 1`` draws out of ``n_c``, weights scaled by ``n_c / (n_c − 1)``; cells
    below :data:`TINY_CELL` keep their observed totals.  ``chunk``: the
    replicates are the chunks of ``chunk`` (default: all of ``out``) that
    :func:`replicate_cell_totals` forms one at a time, with the same matrix
    products (the same rows each), so the same numbers; the draws, which do
    not depend on how they are split, are made for several chunks at once
    (one call per cell instead of one per cell and chunk).
    """
    nc = x.shape[0]
    B = out.shape[0]
    if nc < TINY_CELL:
        out[:] = x.sum(axis=0, dtype=np.float64).astype(out.dtype)
        return
    step = max(1, _COUNT_BUDGET // nc)
    chunk = B if chunk is None else chunk
    blocks = [
        (b0 + s0, min(b0 + s0 + step, b0 + chunk, B))
        for b0 in range(0, B, chunk)
        for s0 in range(0, min(chunk, B - b0), step)
    ]
    i = 0
    while i < len(blocks):  # consecutive blocks drawn together, at most ``step`` rows
        lo, j = blocks[i][0], i + 1
        while j < len(blocks) and blocks[j][1] - lo <= step:
            j += 1
        counts = tally.draw(gen, nc, blocks[j - 1][1] - lo, x.dtype)
        for r0, r1 in blocks[i:j]:
            np.matmul(counts[r0 - lo : r1 - lo], x, out=out[r0:r1])
        i = j
    out *= out.dtype.type(nc / (nc - 1))


def _cell_counts(gen: CellStream, nc: int, bc: int) -> npt.NDArray[np.float32]:
    """Rao-Wu resampling counts (bc, nc), scaled: the draws :func:`_cell_totals` makes."""
    if nc < TINY_CELL:
        return np.ones((bc, nc), dtype=np.float32)
    counts = np.empty((bc, nc), dtype=np.float32)
    step = max(1, _COUNT_BUDGET // nc)
    tally = _tally(nc)
    for s0 in range(0, bc, step):
        sc = min(step, bc - s0)
        tally.draw(gen, nc, sc, counts.dtype, out=counts[s0 : s0 + sc])
    counts *= np.float32(nc / (nc - 1))
    return counts


def _raked_cell_totals(
    features: npt.NDArray[np.float32],
    layout: CellLayout,
    boot: int,
    gens: Sequence[CellStream],
    raking: ReplicateRaking,
) -> Iterator[npt.NDArray[np.float32]]:
    """:func:`replicate_cell_totals` with every replicate re-raked (see :class:`ReplicateRaking`).

    Per chunk of replicates: draw every cell's counts, form the class tables
    ``counts @ onehot``, rake all of them at once, then multiply each count by
    its class's factor before the cell's matrix product.
    """
    C, F = layout.n_cells, features.shape[1]
    chunk = raked_chunk(layout, F, boot)
    cells = [c for c in range(C) if layout.size[c] > 0]
    with _parallel_workers() as workers, ThreadPoolExecutor(workers) as pool:
        for b0 in range(0, boot, chunk):
            bc = min(chunk, boot - b0)
            out = np.zeros((C, bc, F), dtype=features.dtype)
            tables = np.zeros((N_CLASS, C, bc), dtype=np.float64)  # class-first
            counts: list[npt.NDArray[np.float32] | None] = [None] * C

            def draw(
                part: Sequence[int],
                tables: FloatArray = tables,
                counts: list[npt.NDArray[np.float32] | None] = counts,
                bc: int = bc,
            ) -> None:
                for c in part:
                    lo, hi = int(layout.starts[c]), int(layout.starts[c + 1])
                    k = _cell_counts(gens[c], hi - lo, bc)
                    counts[c] = k
                    tables[:, c, :] = (k @ raking.onehot[lo:hi]).T

            list(pool.map(draw, [cells[i::workers] for i in range(workers)]))
            factor = raking.factors(tables, pool.map)

            def product(
                part: Sequence[int],
                out: npt.NDArray[np.float32] = out,
                counts: list[npt.NDArray[np.float32] | None] = counts,
                factor: npt.NDArray[np.float32] = factor,
            ) -> None:
                for c in part:
                    lo, hi = int(layout.starts[c]), int(layout.starts[c + 1])
                    k = counts[c]
                    assert k is not None
                    k *= factor[raking.classes[lo:hi], c, :].T
                    np.matmul(k.astype(features.dtype, copy=False), features[lo:hi], out=out[c])
                    counts[c] = None

            list(pool.map(product, [cells[i::workers] for i in range(workers)]))
            yield out.reshape(layout.n_streets, layout.n_groups, bc, F)


def _cell_streams(seed: int, cells: int) -> list[CellStream]:
    """One :class:`CellStream` per cell: child c of ``SeedSequence(seed)`` for cell c.

    Child c of ``SeedSequence(seed).spawn(cells)`` is ``SeedSequence(seed,
    spawn_key=(c,))``; made directly, 900 of them take 8 ms instead of the
    50 ms of ``spawn``, with the same streams.
    """
    return [CellStream(seed, c) for c in range(cells)]


def replicate_cell_totals(
    features: npt.NDArray[np.float32],
    layout: CellLayout,
    boot: int,
    seed: int,
    raking: ReplicateRaking | None = None,
) -> Iterator[npt.NDArray[np.float32]]:
    """Yield replicate cell totals in chunks of shape (S, G, Bc, F).

    :param features: (n, F) respondent features in *sorted* cell order; float32
        (the engine: products at twice the speed, scores within 5e-5 of float64,
        below the JSON's 4 decimals) or float64 (the same draws, for checks);
        with the base weights when ``raking`` is given.
    :param raking: re-rake every replicate to population margins
        (:mod:`scoring.raking`); None: the features' weights as they are.
    """
    C, F = layout.n_cells, features.shape[1]
    gens = _cell_streams(seed, C)
    if raking is not None:
        yield from _raked_cell_totals(features, layout, boot, gens, raking)
        return
    chunk = _chunk(layout, F, boot)
    cells = [c for c in range(C) if layout.size[c] > 0]
    with _parallel_workers() as workers, ThreadPoolExecutor(workers) as pool:
        for b0 in range(0, boot, chunk):
            bc = min(chunk, boot - b0)
            out = np.zeros((C, bc, F), dtype=features.dtype)

            def run(part: Sequence[int], out: npt.NDArray[np.float32] = out) -> None:
                tally = _tally(int(layout.size.max()))
                for c in part:
                    lo, hi = int(layout.starts[c]), int(layout.starts[c + 1])
                    _cell_totals(gens[c], features[lo:hi], out[c], tally)

            list(pool.map(run, [cells[i::workers] for i in range(workers)]))
            yield out.reshape(layout.n_streets, layout.n_groups, bc, F)


def bootstrap_replicates(
    features: npt.NDArray[np.float32],
    layout: CellLayout,
    weights: Weights,
    boot: int,
    seed: int,
    *,
    reference_streets: BoolArray | None = None,
    population_coef: FloatArray | None = None,
    point_means: FloatArray | None = None,
    raking: ReplicateRaking | None = None,
    indicator: FloatArray | None = None,
) -> Replicates:
    """Bootstrap replicates of street and district scores.

    :param features: (n, 2J) sorted features ``[w m x, w m]``.
    :param boot: number of replicates B (checked by :func:`scoring.settings.check_boot`).
    :param reference_streets: streets in the district reference (default all).
    :param population_coef: (S, G, J) coefficients of the cell means in the
        population-weighted district indicator scores
        (:func:`scoring.reference.district_reference`); None: the reference is
        the plain mean of the reference streets.
    :param point_means: (S, G, J) observed cell means, used where a replicate
        cell has no answer to an indicator (population reference only).
    :param raking: re-rake every replicate (``features`` then carry the base weights).
    :param indicator: the (B, S, J) indicator replicates of these features,
        boot and seed, already drawn by :func:`indicator_replicates` (only
        where :func:`streetwise` holds; ``features`` are then not read and may
        be an empty (0, 2J) array); default drawn here.
    """
    J = features.shape[1] // 2 if indicator is None else indicator.shape[2]
    use = np.ones(layout.n_streets, dtype=bool) if reference_streets is None else reference_streets
    population = population_coef is not None and point_means is not None
    chunk = _chunk(layout, 2 * J, boot)
    if indicator is None and streetwise(weights.shares, raking=raking, population=population):
        indicator = indicator_replicates(features, layout, weights.shares, boot, seed)
    if indicator is not None:
        dim, ovr, dind, ddim, dovr = _by_replicate_parts(indicator, weights, use, chunk)
        return Replicates(indicator, dim, ovr, dind, ddim, dovr)
    parts: dict[str, list[FloatArray]] = {
        k: [] for k in ("ind", "dim", "ovr", "dind", "ddim", "dovr")
    }
    for tot in replicate_cell_totals(features, layout, boot, seed, raking):
        num, den = tot[..., :J], tot[..., J:]
        ind = combine_groups(num, den, weights.shares, axis=1).transpose(1, 0, 2).astype(np.float64)
        dim, ovr = composite(ind, weights)
        if population_coef is not None and point_means is not None:
            ok = den > 0
            ratio = np.divide(num, den, out=np.zeros_like(num), where=ok).astype(np.float64)
            ratio = np.where(ok, ratio, point_means[:, :, None, :])
            dind = np.einsum("sgbj,sgj->bj", ratio, population_coef)
            ddim, dovr = composite(dind, weights)
        else:
            dind, ddim, dovr = (nan_mean(a[:, use], axis=1) for a in (ind, dim, ovr))
        for key, arr in zip(parts, (ind, dim, ovr, dind, ddim, dovr), strict=True):
            parts[key].append(arr)
    cat = {k: np.concatenate(v, axis=0) for k, v in parts.items()}
    return Replicates(
        indicator=cat["ind"],
        dimension=cat["dim"],
        overall=cat["ovr"],
        district_indicator=cat["dind"],
        district_dimension=cat["ddim"],
        district_overall=cat["dovr"],
    )


def raked_chunk(layout: CellLayout, features: int, boot: int) -> int:
    """Replicates per chunk when re-raking (every cell's resampling counts held at once)."""
    C, n = layout.n_cells, int(layout.size.sum())
    return max(
        1, min(boot, _TOTALS_BUDGET // max(C * features, 1), _RAKE_COUNT_BUDGET // max(n, 1))
    )


def _chunk(layout: CellLayout, features: int, boot: int) -> int:
    """Replicates per chunk of :func:`replicate_cell_totals` (the cells' totals held at once)."""
    return max(1, min(boot, _TOTALS_BUDGET // max(layout.n_cells * features, 1)))


def streetwise(shares: FloatArray, *, raking: object | None, population: bool) -> bool:
    """Whether :func:`indicator_replicates` gives :func:`bootstrap_replicates`' numbers.

    Not with re-raking (every cell's counts are needed before any product) or a
    population-weighted reference (it needs every cell's replicate ratios);
    and only where :func:`combine_groups`' two share totals are the same
    float32 number (with every group present it divides by ``π.sum()``, else
    by the running sum ``π_0 + π_1 + ...`` of the present groups' shares;
    almost always equal), so that a street combines the same whether or not
    another street has an empty cell.
    """
    if raking is not None or population:
        return False
    pi = shares.astype(np.float32)
    running = pi[0]
    for g in range(1, pi.shape[0]):
        running = running + pi[g]
    return bool(pi.sum() == running)


FeatureRows = Callable[[int, int], npt.NDArray[np.float32]]
"""The bootstrap features of rows ``r0:r1`` (sorted cell order): ``rows(r0, r1)``."""


def indicator_replicates(
    features: npt.NDArray[np.float32] | FeatureRows,
    layout: CellLayout,
    shares: FloatArray,
    boot: int,
    seed: int,
) -> FloatArray:
    """The (B, S, J) indicator replicates, float64: each street drawn and combined by one worker.

    The same draws and products as :func:`replicate_cell_totals` (each cell
    in the same chunks of replicates), and each street's groups combined right
    after its cells are drawn (in cache, on every worker) instead of all cells'
    totals being held first: the same numbers (:func:`streetwise`).
    ``features`` may be a function giving a street's rows' features, so that
    they are made by the worker too and never held for all rows.
    """
    rows = features if callable(features) else _slicer(features)
    empty = rows(0, 0)
    G, F = layout.n_groups, empty.shape[1]
    J = F // 2
    gens = _cell_streams(seed, layout.n_cells)
    chunk = _chunk(layout, F, boot)
    ind, blocks = street_blocks(layout, boot, J)
    starts = layout.starts

    def run(part: Sequence[Sequence[int]]) -> None:
        tally = _tally(int(layout.size.max()))
        for block in part:  # consecutive streets with respondents: contiguous rows
            first = int(starts[block[0] * G])
            x = rows(first, int(starts[(block[-1] + 1) * G]))
            tot = np.empty((len(block), G, boot, F), dtype=empty.dtype)
            for k, s in enumerate(block):
                for g in range(G):
                    c = s * G + g
                    lo, hi = int(starts[c]) - first, int(starts[c + 1]) - first
                    if hi == lo:
                        tot[k, g] = 0
                    else:
                        _cell_totals(gens[c], x[lo:hi], tot[k, g], tally, chunk)
            combined = combine_groups(tot[..., :J], tot[..., J:], shares, axis=1)
            ind[:, block] = combined.transpose(1, 0, 2)

    with _parallel_workers() as workers, ThreadPoolExecutor(workers) as pool:
        list(pool.map(run, [blocks[i::workers] for i in range(workers)]))
    return ind


def street_blocks(layout: CellLayout, boot: int, J: int) -> tuple[FloatArray, list[list[int]]]:
    """The (B, S, J) indicator replicates to fill (NaN for streets without respondents)
    and the streets with respondents in blocks of :data:`STREETS_TOGETHER`
    consecutive ones (each block's rows are contiguous)."""
    S, G = layout.n_streets, layout.n_groups
    streets = [s for s in range(S) if layout.size[s * G : (s + 1) * G].any()]
    ind = np.empty((boot, S, J))
    ind[:, np.setdiff1d(np.arange(S), streets)] = np.nan
    step = STREETS_TOGETHER
    return ind, [streets[i : i + step] for i in range(0, len(streets), step)]


def _slicer(features: npt.NDArray[np.float32]) -> FeatureRows:
    def rows(r0: int, r1: int) -> npt.NDArray[np.float32]:
        return features[r0:r1]

    return rows


def _by_replicate_parts(
    ind: FloatArray, weights: Weights, use: BoolArray, chunk: int
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Dimension and overall replicates and the district's means, two pieces at once.

    Every step works replicate by replicate (matrix products per replicate,
    sums over the last axes), so pieces of B give the whole's numbers; as
    before, each chunk of :func:`replicate_cell_totals` takes the masked
    arithmetic when it has a NaN (:func:`composite`), and is split into
    pieces of 64 replicates.
    """
    B = ind.shape[0]
    pieces: list[tuple[int, int, bool]] = []
    for b0 in range(0, B, chunk):
        b1 = min(B, b0 + chunk)
        masked = bool(np.isnan(ind[b0:b1]).any())
        step = _PART_REPLICATES  # small pieces: temporaries of a few MB, reused
        pieces += [(p0, min(b1, p0 + step), masked) for p0 in range(b0, b1, step)]

    def part(
        piece: tuple[int, int, bool],
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
        b0, b1, masked = piece
        dim, ovr = composite(ind[b0:b1], weights, masked=masked)
        dind, ddim, dovr = (nan_mean(a[:, use], axis=1) for a in (ind[b0:b1], dim, ovr))
        return dim, ovr, dind, ddim, dovr

    with ThreadPoolExecutor(2) as pool:
        done = list(pool.map(part, pieces))
    dim, ovr, dind, ddim, dovr = (np.concatenate(arrs, axis=0) for arrs in zip(*done, strict=True))
    return dim, ovr, dind, ddim, dovr


def nan_mean(a: FloatArray, axis: int) -> FloatArray:
    """``np.nanmean(a, axis)``, the same numbers: a plain mean when nothing is NaN.

    Slices without a finite value give NaN without ``np.nanmean``'s warning
    (whose ``warnings.catch_warnings`` is not safe in threads).
    """
    mask = np.isnan(a)
    if not mask.any():
        mean: FloatArray = a.mean(axis=axis)
        return mean
    count = np.sum(~mask, axis=axis, dtype=np.intp)
    total = np.sum(np.where(mask, 0.0, a), axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        out: FloatArray = np.true_divide(total, count, out=total, casting="unsafe")
    return out


def expanded_interval(
    reps: FloatArray, df: FloatArray, level: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Expanded percentile interval over the leading (replicate) axis.

    The quantiles are taken at ``Φ(∓t_{ν, 1−α/2})`` instead of ``α/2``, so that a
    normal bootstrap distribution gives ``θ̂ ± t_ν SE``: Hesterberg's (2015) fix
    for the narrowness of percentile intervals in small samples, with ν the
    Satterthwaite df of the figure (inf: the plain percentile interval).  NaN
    replicates are ignored; columns with fewer than 2 finite replicates give NaN.
    """
    alpha = (1.0 - level) / 2.0
    B = reps.shape[0]
    flat = reps.reshape(B, -1)
    dfl = np.broadcast_to(np.asarray(df, dtype=np.float64), reps.shape[1:]).reshape(-1)
    tq = np.where(
        np.isfinite(dfl), t_dist.ppf(1 - alpha, np.where(np.isfinite(dfl), dfl, 1.0)), np.inf
    )
    p_lo = np.where(np.isfinite(tq), ndtr(-tq), alpha)
    k = (~np.isnan(flat)).sum(axis=0)
    low = np.full(flat.shape[1], np.nan)
    high = np.full(flat.shape[1], np.nan)
    lo_pos = p_lo * np.maximum(k - 1, 0)
    hi_pos = (1.0 - p_lo) * np.maximum(k - 1, 0)
    complete = (k == B) & (B >= 2)
    # Columns without NaN: only the order statistics near the two tails are
    # needed, found by partitioning (linear time) instead of sorting B values.
    m = int(np.ceil(lo_pos[complete].max())) + 2 if complete.any() else 0
    if complete.any() and 2 * m < B:
        cols = np.flatnonzero(complete)
        step = max(1, _TAIL_BUDGET // B)  # columns at a time: a few MB, reused
        for c0 in range(0, cols.size, step):
            part = cols[c0 : c0 + step]
            tails = flat.T[part]  # (columns, B), one copy
            tails.partition((m, B - 1 - m), axis=1)
            bottom = np.sort(tails[:, : m + 1], axis=1)
            top = np.sort(tails[:, B - 1 - m :], axis=1)  # order statistics B-1-m .. B-1
            low[part] = _interpolate(bottom, lo_pos[part], 0, B)
            high[part] = _interpolate(top, hi_pos[part], B - 1 - m, B)
        rest = ~complete & (k >= 2)
    else:
        rest = k >= 2
    if rest.any():  # NaN replicates (or a wide level): sort those columns, NaN last
        rows = np.sort(flat[:, rest].T, axis=1)
        low[rest] = _interpolate(rows, lo_pos[rest], 0, k[rest])
        high[rest] = _interpolate(rows, hi_pos[rest], 0, k[rest])
    shape = reps.shape[1:]
    return low.reshape(shape), high.reshape(shape)


def _interpolate(ordered: FloatArray, pos: FloatArray, first: int, k: npt.ArrayLike) -> FloatArray:
    """Linear interpolation between order statistics ``floor(pos)`` and the next.

    ``ordered[i]`` holds the order statistics ``first, first + 1, ...`` of
    column i, which has ``k`` finite values (the next one is capped at k − 1).
    """
    i0 = np.floor(pos).astype(np.int64)
    i1 = np.minimum(i0 + 1, np.maximum(np.asarray(k) - 1, 0))
    frac = pos - i0
    v0 = np.take_along_axis(ordered, (i0 - first)[:, None], axis=1)[:, 0]
    v1 = np.take_along_axis(ordered, (i1 - first)[:, None], axis=1)[:, 0]
    out: FloatArray = v0 + frac * (v1 - v0)
    return out


def replicate_se(reps: FloatArray) -> FloatArray:
    """Bootstrap standard error over the leading axis (NaN replicates ignored)."""
    flat = reps.reshape(reps.shape[0], -1)
    ok = ~np.isnan(flat)
    cnt = ok.sum(axis=0)
    filled = np.where(ok, flat, 0.0)
    mean = filled.sum(axis=0) / np.maximum(cnt, 1)
    var = (np.where(ok, flat - mean, 0.0) ** 2).sum(axis=0) / np.maximum(cnt - 1, 1)
    out: FloatArray = np.where(cnt > 1, np.sqrt(var), np.nan).reshape(reps.shape[1:])
    return out
