"""Reliability of the composite: Cronbach's α, item-rest correlations, factor summary.

Computed on the respondents' answers (unweighted, as psychometric checks
usually are), per wave, and written to the scores JSON as ``reliability``
(docs/scores-json.md, docs/weighting.md):

* **Cronbach's α** per dimension on respondents who answered every item of it
  (listwise): ``α = k/(k−1) · (1 − Σ s_i² / s_T²)`` (Cronbach 1951).
* **Item-rest correlation**: each item with the sum of the dimension's other
  items, same respondents.
* **Eigenvalues** of the item correlation matrix (pairwise complete) and
  **parallel analysis** (Horn 1965): the 95th percentile of the eigenvalues of
  the correlation matrices of random normal data of the same size; factors
  whose eigenvalue exceeds it are retained.  One dominant factor supports
  adding the items into one score.  The random correlation matrices are drawn
  through their Wishart distribution (Bartlett's decomposition: the sums of
  squares and products of ``n`` independent normal rows, centred, are
  Wishart(n − 1, I)), which is exact and costs ``J³`` per draw instead of
  ``n·J²``.
* **Composite vs overall question**: correlation of each respondent's
  composite (weights renormalised over answered items) with their answer to
  the overall-satisfaction question.

References: Cronbach, L. J. (1951), *Psychometrika* 16, 297-334; Horn, J. L.
(1965), *Psychometrika* 30, 179-185; Bartlett, M. S. (1933), *Proc. R. Soc.
Edinburgh* 53, 260-283.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from .dataset import FloatArray, ResponseData
from .framework import Framework
from .planning import respondent_composite
from .result import DimensionReliability, Reliability, reliability_dict

__all__ = [
    "PARALLEL_DRAWS",
    "composite_reliability",
    "cronbach_alpha",
    "pairwise_correlation",
    "parallel_threshold",
    "reliability",
]

PARALLEL_DRAWS = 1000
CHUNK = 200_000  # rows per block of the pairwise sums (bounds the memory)


def cronbach_alpha(items: FloatArray) -> float:
    """Cronbach's α of an (n respondents x k items) matrix without missing values."""
    n, k = items.shape
    if k < 2 or n < 3:
        return float("nan")
    item_var = items.var(axis=0, ddof=1).sum()
    total_var = items.sum(axis=1).var(ddof=1)
    if total_var <= 0:
        return float("nan")
    return float(k / (k - 1) * (1 - item_var / total_var))


def _opt(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None


def _dimension(code: str, items: list[str], block: FloatArray) -> DimensionReliability:
    """α and item-rest correlations of one dimension's (n, k) answers (NaN = missing)."""
    complete = block[np.isfinite(block).all(axis=1)]
    n, k = complete.shape
    cov = np.cov(complete, rowvar=False) if n >= 3 and k >= 2 else None
    return _from_cov(code, items, n, cov)


def _from_cov(code: str, items: list[str], n: int, c: FloatArray | None) -> DimensionReliability:
    """:func:`_dimension` from the covariance ``c`` of its ``n`` complete rows (None: n < 3)."""
    k = len(items)
    if k < 2:
        return DimensionReliability(code, tuple(items), n, None, {items[0]: None})
    rest: dict[str, float | None] = dict.fromkeys(items)
    alpha: float | None = None
    if n >= 3 and c is not None:
        row = c.sum(axis=1)  # cov(item, total)
        total = row.sum()
        if total > 0:
            alpha = _opt(k / (k - 1) * (1 - np.trace(c) / total))
        for i, code_i in enumerate(items):
            var_rest = total - 2 * row[i] + c[i, i]
            denom = c[i, i] * var_rest
            rest[code_i] = _opt((row[i] - c[i, i]) / np.sqrt(denom)) if denom > 0 else None
    return DimensionReliability(code, tuple(items), n, alpha, rest)


def pairwise_correlation(x: FloatArray) -> FloatArray:
    """Pearson correlations of the columns of ``x`` (NaN = missing), pairwise complete.

    Each pair uses the rows where both are present.  A pair with fewer than 3
    such rows, or no variance among them, gets 0; the diagonal is 1.
    """
    acc = _Pairwise(x.shape[1])
    for start in range(0, x.shape[0], CHUNK):
        acc.first(x[start : start + CHUNK])
    acc.centre()
    for start in range(0, x.shape[0], CHUNK):
        acc.second(x[start : start + CHUNK])
    return acc.correlation()


class _Pairwise:
    """Pairwise-complete correlations in two passes over blocks of rows (bounded memory).

    First pass: each column's mean over its present rows (the centre, which
    keeps the sums of products small); second: per pair a, b over the rows
    where both are present, the count N, Σ v_a, Σ v_a² and Σ v_a v_b of the
    centred values v.
    """

    def __init__(self, J: int) -> None:
        self.counts = np.zeros(J, dtype=np.int64)
        self.sums = np.zeros(J)
        self.mean = np.zeros(J)
        self.N, self.S, self.Q, self.P = (np.zeros((J, J)) for _ in range(4))

    def first(self, x: FloatArray) -> None:
        present = np.isfinite(x)
        self.counts += present.sum(axis=0)
        self.sums += np.where(present, x, 0.0).sum(axis=0)

    def centre(self) -> None:
        c = self.counts
        self.mean = np.divide(self.sums, c, out=np.zeros_like(self.sums), where=c > 0)

    def second(self, x: FloatArray) -> None:
        p = np.isfinite(x)
        m = p.astype(np.float64)
        v = np.where(p, x - self.mean, 0.0)
        self.N += m.T @ m
        self.S += v.T @ m
        self.Q += (v * v).T @ m
        self.P += v.T @ v

    def correlation(self) -> FloatArray:
        N, S, Q, P = self.N, self.S, self.Q, self.P
        with np.errstate(invalid="ignore", divide="ignore"):
            cov = P - S * S.T / N
            var_a = Q - S * S / N
            denom = var_a * var_a.T
            r = cov / np.sqrt(denom)
        r = np.where((N > 2) & (var_a > 0) & (var_a.T > 0) & np.isfinite(r), r, 0.0)
        r = np.clip(r, -1.0, 1.0)
        np.fill_diagonal(r, 1.0)
        out: FloatArray = r
        return out


def parallel_threshold(n: int, J: int, *, draws: int = PARALLEL_DRAWS, seed: int = 1) -> FloatArray:
    """95th percentiles of the J ordered eigenvalues of random correlation matrices.

    The correlation matrix of ``n`` rows of independent standard normals, through
    Bartlett's decomposition of its Wishart(n − 1, I) scatter matrix ``A Aᵀ``
    (``A`` lower triangular, ``A_ii² ~ χ²(n − 1 − i)``, ``A_ij ~ N(0, 1)`` below
    the diagonal).
    """
    df = max(n, J + 2) - 1
    rng = np.random.default_rng(seed)
    a = np.tril(rng.standard_normal((draws, J, J)), k=-1)
    diag = np.sqrt(rng.chisquare(df - np.arange(J), size=(draws, J)))
    a[:, np.arange(J), np.arange(J)] = diag
    s = a @ a.transpose(0, 2, 1)
    d = 1 / np.sqrt(np.einsum("tii->ti", s))
    r = s * d[:, :, None] * d[:, None, :]
    eig = np.sort(np.linalg.eigvalsh(r), axis=1)[:, ::-1]
    out: FloatArray = np.percentile(eig, 95, axis=0)
    return out


class _Complete:
    """One dimension's covariance over its complete rows, in two passes over blocks of rows."""

    def __init__(self, idx: list[int]) -> None:
        self.idx = np.asarray(idx)
        self.n = 0
        self.sums = np.zeros(len(idx))
        self.cross = np.zeros((len(idx), len(idx)))

    def rows(self, x: FloatArray) -> FloatArray:
        block = x[:, self.idx]
        out: FloatArray = block[np.isfinite(block).all(axis=1)]
        return out

    def first(self, x: FloatArray) -> None:
        rows = self.rows(x)
        self.n += rows.shape[0]
        self.sums += rows.sum(axis=0)

    def second(self, x: FloatArray) -> None:
        v = self.rows(x) - self.sums / max(self.n, 1)
        self.cross += v.T @ v

    def cov(self) -> FloatArray | None:
        if self.n < 3 or self.idx.size < 2:
            return None
        out: FloatArray = self.cross / (self.n - 1)
        return out


BLOCK = 65_536  # rows of the answers held at once by composite_reliability


def composite_reliability(
    framework: Framework, data: ResponseData, *, draws: int = PARALLEL_DRAWS, seed: int = 1
) -> Reliability:
    """α and item-rest correlations per dimension, eigenvalues and parallel analysis,
    and the composite's correlation with the overall question (module docstring).

    Two passes over blocks of rows (means, then centred sums of products), so
    that no n x J copy of the answers is made.
    """
    codes = data.indicators
    n, J = data.points.shape
    items = [
        [j for j, i in enumerate(framework.indicators) if i.dimension == d.code]
        for d in framework.dimensions
    ]
    dims = [_Complete(idx) for idx in items]
    pairs = _Pairwise(J)
    n_all = n_any = 0
    comp = np.empty(n)

    def answers(r0: int) -> FloatArray:
        x: FloatArray = np.where(
            data.points[r0 : r0 + BLOCK] > 0, data.values[r0 : r0 + BLOCK], np.nan
        )
        return x

    for r0 in range(0, n, BLOCK):
        x = answers(r0)
        pairs.first(x)
        for d in dims:
            d.first(x)
        answered = np.isfinite(x)
        n_all += int(answered.all(axis=1).sum())
        n_any += int(answered.any(axis=1).sum())
        comp[r0 : r0 + BLOCK] = _composite(framework, data, r0, r0 + BLOCK)
    pairs.centre()
    for r0 in range(0, n, BLOCK):
        x = answers(r0)
        pairs.second(x)
        for d in dims:
            d.second(x)
    out_dims = tuple(
        _from_cov(f.code, [codes[j] for j in idx], d.n, d.cov())
        for f, idx, d in zip(framework.dimensions, items, dims, strict=True)
    )
    eig = np.sort(np.linalg.eigvalsh(pairs.correlation()))[::-1]
    n_par = n_all or n_any
    threshold = parallel_threshold(n_par, J, draws=draws, seed=seed)
    above = eig > threshold
    retained = int(np.argmin(above)) if not above.all() else J
    ok = np.isfinite(comp) & np.isfinite(data.overall)
    r_overall = None
    if ok.sum() >= 3 and comp[ok].std() > 0 and data.overall[ok].std() > 0:
        r_overall = _opt(np.corrcoef(comp[ok], data.overall[ok])[0, 1])
    return Reliability(
        dimensions=out_dims,
        eigenvalues=tuple(float(v) for v in eig),
        parallel_95=tuple(float(v) for v in threshold),
        parallel_n=max(n_par, J + 2),
        parallel_draws=draws,
        factors_retained=retained,
        first_factor_share=_opt(eig[0] / eig.sum()) if eig.sum() > 0 else None,
        composite_overall_r=r_overall,
        composite_overall_n=int(ok.sum()),
    )


def _composite(framework: Framework, data: ResponseData, r0: int, r1: int) -> FloatArray:
    """:func:`scoring.planning.respondent_composite` of rows ``r0:r1``."""
    rows = slice(r0, r1)
    part = replace(
        data,
        street=data.street[rows],
        points=data.points[rows],
        values=data.values[rows],
    )
    return respondent_composite(framework, part)


def reliability(
    framework: Framework, data: ResponseData, *, draws: int = PARALLEL_DRAWS, seed: int = 1
) -> dict[str, Any]:
    """:func:`composite_reliability` as plain data (the JSON key ``reliability``)."""
    return reliability_dict(composite_reliability(framework, data, draws=draws, seed=seed))
