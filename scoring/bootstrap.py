"""Respondent-level bootstrap within street x group cells, vectorised.

Each replicate resamples every cell's respondents with replacement (n_c out
of n_c draws), which is the same as giving respondent r a multinomial
resampling count k_rb.  The replicate cell totals are then one matrix product
per cell, ``K_c (B x n_c) @ X_c (n_c x F)``, with ``X`` the respondent features
``[w m x, w m]``; every score is a smooth function of these totals
(:mod:`scoring.estimators`), so street, dimension, overall and district
replicates all come from the same draws.

Counts are exact multinomial draws (indices drawn uniformly with
``Generator.integers`` and tallied with ``np.bincount``), not a Poisson
approximation.  Each cell has its own generator spawned from
``SeedSequence(seed)``, so results do not depend on chunk sizes.  Replicates
are processed in chunks, keeping memory bounded at any sample size.

Reference: Rao, J. N. K. and Wu, C. F. J. (1988), "Resampling inference with
complex survey data", *JASA* 83, 231-241 (the naive within-stratum bootstrap);
Efron, B. and Tibshirani, R. (1993), *An Introduction to the Bootstrap*, ch. 13
(percentile intervals).
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

from .dataset import FloatArray
from .estimators import CellLayout, Weights, composite

__all__ = ["MIN_REPLICATES", "Replicates", "bootstrap_replicates", "replicate_cell_totals"]

MIN_REPLICATES = 100
_COUNT_BUDGET = 4_000_000  # resampling counts held at once per cell (x 8 bytes)
_TOTALS_BUDGET = 32_000_000  # replicate cell totals held at once (x 4 bytes)


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


def _cell_totals(
    gen: np.random.Generator,
    x: npt.NDArray[np.float32],
    out: npt.NDArray[np.float32],
) -> None:
    """Fill ``out`` (Bc, F) with Bc resampled totals of the rows of ``x``."""
    nc = x.shape[0]
    bc = out.shape[0]
    step = max(1, _COUNT_BUDGET // nc)
    for s0 in range(0, bc, step):
        sc = min(step, bc - s0)
        idx = gen.integers(0, nc, size=(sc, nc))
        idx += (np.arange(sc) * nc)[:, None]
        counts = np.bincount(idx.ravel(), minlength=sc * nc).reshape(sc, nc)
        np.matmul(counts.astype(np.float32), x, out=out[s0 : s0 + sc])


def replicate_cell_totals(
    features: npt.NDArray[np.float32], layout: CellLayout, boot: int, seed: int
) -> Iterator[npt.NDArray[np.float32]]:
    """Yield replicate cell totals in chunks of shape (S, G, Bc, F).

    :param features: (n, F) respondent features in *sorted* cell order.
    """
    C, F = layout.n_cells, features.shape[1]
    seeds = np.random.SeedSequence(seed).spawn(C)
    gens = [np.random.Generator(np.random.PCG64(s)) for s in seeds]
    chunk = max(1, min(boot, _TOTALS_BUDGET // max(C * F, 1)))
    cells = [c for c in range(C) if layout.size[c] > 0]
    with _parallel_workers() as workers, ThreadPoolExecutor(workers) as pool:
        for b0 in range(0, boot, chunk):
            bc = min(chunk, boot - b0)
            out = np.zeros((C, bc, F), dtype=np.float32)

            def run(part: Sequence[int], out: npt.NDArray[np.float32] = out) -> None:
                for c in part:
                    lo, hi = int(layout.starts[c]), int(layout.starts[c + 1])
                    _cell_totals(gens[c], features[lo:hi], out[c])

            list(pool.map(run, [cells[i::workers] for i in range(workers)]))
            yield out.reshape(layout.n_streets, layout.n_groups, bc, F)


def _group_combine(num: npt.NDArray[Any], den: npt.NDArray[Any], shares: FloatArray) -> FloatArray:
    """:func:`combine_groups` for (S, G, Bc, J) totals → (S, Bc, J), memory-lean."""
    acc = np.zeros(num.shape[:1] + num.shape[2:], dtype=num.dtype)
    pis = np.zeros_like(acc)
    for g, pi in enumerate(shares):
        d = den[:, g]
        ok = d > 0
        ratio = num[:, g] / np.where(ok, d, 1)
        acc += np.where(ok, ratio, 0) * pi
        pis += ok * pi
    with np.errstate(invalid="ignore", divide="ignore"):
        out: FloatArray = np.where(pis > 0, acc / pis, np.nan)
    return out


def bootstrap_replicates(
    features: npt.NDArray[np.float32],
    layout: CellLayout,
    weights: Weights,
    boot: int,
    seed: int,
) -> Replicates:
    """Bootstrap replicates of indicator, dimension and overall scores.

    :param features: (n, 2J) sorted features ``[w m x, w m]``.
    :param boot: number of replicates B (at least 100).
    """
    if boot < MIN_REPLICATES:
        raise ValueError(f"boot must be at least {MIN_REPLICATES} replicates, not {boot}")
    J = features.shape[1] // 2
    parts: dict[str, list[FloatArray]] = {
        k: [] for k in ("ind", "dim", "ovr", "dind", "ddim", "dovr")
    }
    for tot in replicate_cell_totals(features, layout, boot, seed):
        num, den = tot[..., :J], tot[..., J:]
        ind = _group_combine(num, den, weights.shares).transpose(1, 0, 2).astype(np.float64)
        dim, ovr = composite(ind, weights)
        dnum = num.sum(axis=0, dtype=np.float64)[None]
        dden = den.sum(axis=0, dtype=np.float64)[None]
        dind = _group_combine(dnum, dden, weights.shares)[0]
        ddim, dovr = composite(dind, weights)
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


def percentile_interval(reps: FloatArray, level: float = 0.95) -> tuple[FloatArray, FloatArray]:
    """Percentile interval over the leading (replicate) axis, ignoring NaN replicates.

    Columns whose replicates are all NaN give NaN bounds.
    """
    alpha = (1.0 - level) / 2.0
    flat = reps.reshape(reps.shape[0], -1)
    low = np.full(flat.shape[1], np.nan)
    high = np.full(flat.shape[1], np.nan)
    nan_any = np.isnan(flat).any(axis=0)
    clean = ~nan_any
    if clean.any():
        q = np.quantile(flat[:, clean], [alpha, 1 - alpha], axis=0)
        low[clean], high[clean] = q[0], q[1]
    partial = nan_any & ~np.isnan(flat).all(axis=0)
    if partial.any():
        q = np.nanquantile(flat[:, partial], [alpha, 1 - alpha], axis=0)
        low[partial], high[partial] = q[0], q[1]
    shape = reps.shape[1:]
    return low.reshape(shape), high.reshape(shape)


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
