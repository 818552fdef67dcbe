"""Weights: direct entry, AHP from a pairwise comparison matrix, entropy.

References: Saaty, T. L. (1980), *The Analytic Hierarchy Process*,
McGraw-Hill (principal eigenvector, CI = (λmax − n)/(n − 1), CR = CI/RI, random
index table); Shannon-entropy weights as in Zeleny, M. (1982), *Multiple
Criteria Decision Making*, McGraw-Hill, and Hwang, C.-L. and Yoon, K. (1981),
*Multiple Attribute Decision Making*, Springer, §4.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .dataset import FloatArray

__all__ = [
    "RANDOM_INDEX",
    "AHPResult",
    "ahp_analysis",
    "ahp_weights",
    "direct_weights",
    "entropy_weights",
]

# Saaty (1980), random consistency index RI by matrix order n
RANDOM_INDEX: Mapping[int, float] = {
    1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41,
    9: 1.45, 10: 1.49, 11: 1.51, 12: 1.48, 13: 1.56, 14: 1.57, 15: 1.59,
}  # fmt: skip
CR_LIMIT = 0.1


def direct_weights(values: Sequence[float] | npt.ArrayLike) -> FloatArray:
    """Validate positive finite weights and normalise them to sum 1."""
    w = np.asarray(values, dtype=np.float64).ravel()
    if w.size == 0:
        raise ValueError("give at least one weight")
    if not np.all(np.isfinite(w)) or np.any(w <= 0):
        bad = [i + 1 for i, v in enumerate(w) if not (np.isfinite(v) and v > 0)]
        raise ValueError(f"weights must be positive numbers; check entries {bad}")
    out: FloatArray = w / w.sum()
    return out


@dataclass(frozen=True, slots=True)
class AHPResult:
    """AHP weights with the consistency figures and the RI table used."""

    weights: tuple[float, ...]
    lambda_max: float
    ci: float
    cr: float
    ri: float
    n: int
    ri_table: tuple[tuple[int, float], ...] = tuple(RANDOM_INDEX.items())
    ri_source: str = "Saaty (1980), The Analytic Hierarchy Process, random index table"


def ahp_weights(matrix: npt.ArrayLike, labels: Sequence[str] | None = None) -> AHPResult:
    """AHP weights, refusing judgements with CR ≥ 0.1; see :func:`ahp_analysis`."""
    result = ahp_analysis(matrix, labels)
    if result.cr >= CR_LIMIT:
        a = np.asarray(matrix, dtype=np.float64)
        w = np.asarray(result.weights)
        names = list(labels) if labels is not None else [str(i + 1) for i in range(result.n)]
        err = np.abs(np.log(a * w[None, :] / w[:, None]))
        i, j = np.unravel_index(int(np.argmax(err)), a.shape)
        raise ValueError(
            f"the judgements are inconsistent (CR = {result.cr:.3f}, must be below {CR_LIMIT}); "
            f"the most inconsistent pair is {names[i]} vs {names[j]} "
            f"(judged {a[i, j]:g}, the weights imply {w[i] / w[j]:.3g})"
        )
    return result


def ahp_analysis(matrix: npt.ArrayLike, labels: Sequence[str] | None = None) -> AHPResult:
    """Weights from a reciprocal pairwise comparison matrix (principal eigenvector).

    ``a_ij`` says how much more important item i is than item j (Saaty's
    1-9 scale), with ``a_ji = 1 / a_ij``.

    :raises ValueError: if the matrix is not square, has non-positive or
        non-finite entries, is not reciprocal (within 1%) or is larger than 15.
        :func:`ahp_weights` also refuses CR ≥ 0.1, naming the most
        inconsistent pair (largest ``|log(a_ij w_j / w_i)|``).
    """
    a = np.asarray(matrix, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] == 0:
        raise ValueError("the pairwise matrix must be square")
    n = a.shape[0]
    names = list(labels) if labels is not None else [str(i + 1) for i in range(n)]
    if len(names) != n:
        raise ValueError(f"{len(names)} labels for a {n} x {n} matrix")
    if n > max(RANDOM_INDEX):
        raise ValueError(f"AHP supports at most {max(RANDOM_INDEX)} items, not {n}")
    if not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise ValueError("every pairwise judgement must be a positive number")
    recip = np.abs(np.log(a * a.T))
    if recip.max() > np.log(1.01) or np.any(np.abs(np.diag(a) - 1) > 1e-9):
        i, j = np.unravel_index(int(np.argmax(recip)), a.shape)
        raise ValueError(
            f"the matrix is not reciprocal: {names[i]} vs {names[j]} is {a[i, j]:g} "
            f"but {names[j]} vs {names[i]} is {a[j, i]:g} (should be {1 / a[i, j]:g})"
        )
    vals, vecs = np.linalg.eig(a)
    k = int(np.argmax(vals.real))
    lam = float(vals[k].real)
    w = np.abs(vecs[:, k].real)
    w = w / w.sum()
    ci = (lam - n) / (n - 1) if n > 2 else 0.0
    ri = RANDOM_INDEX[n]
    cr = ci / ri if ri > 0 else 0.0
    return AHPResult(
        weights=tuple(float(v) for v in w), lambda_max=lam, ci=float(ci), cr=float(cr), ri=ri, n=n
    )


def entropy_weights(scores: npt.ArrayLike) -> FloatArray:
    """Entropy weights of the columns of an (m units x n criteria) score matrix.

    ``p_ij = x_ij / Σ_i x_ij``, ``e_j = −Σ_i p_ij ln p_ij / ln m`` (0 ln 0 = 0),
    ``d_j = 1 − e_j``, ``w_j = d_j / Σ d_j``.  Scores must be non-negative with
    a positive column sum; if every column is uniform the weights are equal.
    """
    x = np.asarray(scores, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 1:
        raise ValueError("entropy weights need a matrix with at least 2 rows (units)")
    if not np.all(np.isfinite(x)) or np.any(x < 0):
        raise ValueError("entropy weights need non-negative numbers (no missing values)")
    col = x.sum(axis=0)
    if np.any(col <= 0):
        raise ValueError("every criterion needs at least one positive score")
    p = x / col
    plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    e = -plogp.sum(axis=0) / np.log(x.shape[0])
    d = 1.0 - e
    if d.sum() <= 1e-15:
        return np.full(x.shape[1], 1.0 / x.shape[1])
    out: FloatArray = d / d.sum()
    return out
