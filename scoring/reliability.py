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
    if k < 2:
        return DimensionReliability(code, tuple(items), n, None, {items[0]: None})
    rest: dict[str, float | None] = dict.fromkeys(items)
    alpha: float | None = None
    if n >= 3:
        c = np.cov(complete, rowvar=False)
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
    n, J = x.shape
    present = np.isfinite(x)
    counts = present.sum(axis=0)
    centre = np.divide(
        np.where(present, x, 0.0).sum(axis=0), counts, out=np.zeros(J), where=counts > 0
    )
    N = np.zeros((J, J))
    S = np.zeros((J, J))  # S[a, b] = Σ x_a over rows where a and b are present
    Q = np.zeros((J, J))  # Q[a, b] = Σ x_a² over the same rows
    P = np.zeros((J, J))  # P[a, b] = Σ x_a x_b
    for start in range(0, n, CHUNK):
        p = present[start : start + CHUNK]
        m = p.astype(np.float64)
        v = np.where(p, x[start : start + CHUNK] - centre, 0.0)
        N += m.T @ m
        S += v.T @ m
        Q += (v * v).T @ m
        P += v.T @ v
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


def composite_reliability(
    framework: Framework, data: ResponseData, *, draws: int = PARALLEL_DRAWS, seed: int = 1
) -> Reliability:
    """α and item-rest correlations per dimension, eigenvalues and parallel analysis,
    and the composite's correlation with the overall question (module docstring)."""
    x = np.where(data.points > 0, data.values, np.nan)
    codes = data.indicators
    dims = []
    for d in framework.dimensions:
        idx = [j for j, i in enumerate(framework.indicators) if i.dimension == d.code]
        dims.append(_dimension(d.code, [codes[j] for j in idx], x[:, idx]))
    J = x.shape[1]
    eig = np.sort(np.linalg.eigvalsh(pairwise_correlation(x)))[::-1]
    answered = np.isfinite(x)
    n_par = int(answered.all(axis=1).sum()) or int(answered.any(axis=1).sum())
    threshold = parallel_threshold(n_par, J, draws=draws, seed=seed)
    above = eig > threshold
    retained = int(np.argmin(above)) if not above.all() else J
    comp = respondent_composite(framework, data)
    ok = np.isfinite(comp) & np.isfinite(data.overall)
    r_overall = None
    if ok.sum() >= 3 and comp[ok].std() > 0 and data.overall[ok].std() > 0:
        r_overall = _opt(np.corrcoef(comp[ok], data.overall[ok])[0, 1])
    return Reliability(
        dimensions=tuple(dims),
        eigenvalues=tuple(float(v) for v in eig),
        parallel_95=tuple(float(v) for v in threshold),
        parallel_n=max(n_par, J + 2),
        parallel_draws=draws,
        factors_retained=retained,
        first_factor_share=_opt(eig[0] / eig.sum()) if eig.sum() > 0 else None,
        composite_overall_r=r_overall,
        composite_overall_n=int(ok.sum()),
    )


def reliability(
    framework: Framework, data: ResponseData, *, draws: int = PARALLEL_DRAWS, seed: int = 1
) -> dict[str, Any]:
    """:func:`composite_reliability` as plain data (the JSON key ``reliability``)."""
    return reliability_dict(composite_reliability(framework, data, draws=draws, seed=seed))
