"""Reliability of the composite: Cronbach's α, item-rest correlations, factor summary.

Computed on the respondents' answers (unweighted, as psychometric checks
usually are), per wave:

* **Cronbach's α** per dimension on respondents who answered every item of it
  (listwise): ``α = k/(k−1) · (1 − Σ s_i² / s_T²)`` (Cronbach 1951).
* **Item-rest correlation**: each item with the sum of the dimension's other
  items, same respondents.
* **Eigenvalues** of the item correlation matrix (pairwise complete) and
  **parallel analysis** (Horn 1965): the 95th percentile of the eigenvalues of
  random normal data of the same size; factors whose eigenvalue exceeds it are
  retained.  One dominant factor supports adding the items into one score.
* **Composite vs overall question**: correlation of each respondent's
  composite (weights renormalised over answered items) with their answer to
  the overall-satisfaction question.

References: Cronbach, L. J. (1951), *Psychometrika* 16, 297-334; Horn, J. L.
(1965), *Psychometrika* 30, 179-185.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .dataset import FloatArray, ResponseData
from .framework import Framework
from .planning import respondent_composite

__all__ = ["cronbach_alpha", "reliability"]

PARALLEL_MAX_N = 5000  # beyond this, the Marchenko-Pastur edge replaces simulation


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


def _corr(a: FloatArray, b: FloatArray) -> float:
    if a.size < 3 or a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def reliability(
    framework: Framework, data: ResponseData, *, draws: int = 50, seed: int = 1
) -> dict[str, Any]:
    """α and item-rest correlations per dimension, eigenvalues and parallel analysis,
    and the composite's correlation with the overall question (module docstring)."""
    x = np.where(data.points > 0, data.values, np.nan)
    codes = data.indicators
    dims: dict[str, Any] = {}
    for d in framework.dimensions:
        idx = [j for j, i in enumerate(framework.indicators) if i.dimension == d.code]
        block = x[:, idx]
        complete = block[np.isfinite(block).all(axis=1)]
        rest = {}
        for pos, j in enumerate(idx):
            others = np.delete(complete, pos, axis=1).sum(axis=1)
            rest[codes[j]] = _corr(complete[:, pos], others) if len(idx) > 1 else None
        dims[d.code] = {
            "items": [codes[j] for j in idx],
            "n": int(complete.shape[0]),
            "alpha": cronbach_alpha(complete) if len(idx) > 1 else None,
            "item_rest": rest,
        }
    # pairwise-complete correlation matrix of all items
    J = x.shape[1]
    corr = np.eye(J)
    for a in range(J):
        for b in range(a + 1, J):
            ok = np.isfinite(x[:, a]) & np.isfinite(x[:, b])
            corr[a, b] = corr[b, a] = _corr(x[ok, a], x[ok, b]) if ok.sum() > 2 else 0.0
    corr = np.nan_to_num(corr)
    eig = np.sort(np.linalg.eigvalsh(corr))[::-1]
    n_eff = int(np.isfinite(x).all(axis=1).sum()) or int(np.isfinite(x).any(axis=1).sum())
    n_sim = max(n_eff, J + 2)
    if n_sim <= PARALLEL_MAX_N:
        rng = np.random.default_rng(seed)
        rand = np.empty((draws, J))
        for t in range(draws):
            z = rng.standard_normal((n_sim, J))
            rand[t] = np.sort(np.linalg.eigvalsh(np.corrcoef(z, rowvar=False)))[::-1]
        threshold = np.percentile(rand, 95, axis=0)
    else:  # large n: random eigenvalues stay below the Marchenko-Pastur edge
        threshold = np.full(J, (1 + np.sqrt(J / n_sim)) ** 2)
    retained = int(np.argmin(eig > threshold)) if (eig <= threshold).any() else J
    comp = respondent_composite(framework, data)
    ok = np.isfinite(comp) & np.isfinite(data.overall)
    return {
        "dimensions": dims,
        "eigenvalues": [float(v) for v in eig],
        "parallel_95": [float(v) for v in threshold],
        "factors_retained": retained,
        "first_factor_share": float(eig[0] / eig.sum()),
        "composite_overall_r": _corr(comp[ok], data.overall[ok]) if ok.any() else None,
        "composite_overall_n": int(ok.sum()),
        "weighted": False,
    }
