"""Student t quantile and distribution function without importing ``scipy.stats``.

``scipy.stats`` takes ~0.4 s to import, most of the offline scorer's start-up;
its ``t.ppf`` and ``t.cdf`` are ``scipy.special.stdtrit`` and ``stdtr`` behind
argument checks.  These give the same numbers (bit for bit, tested), with NaN
where ``df`` is not positive, as ``scipy.stats.t`` does.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .special import stdtr, stdtrit

__all__ = ["cdf", "ppf"]


def ppf(q: npt.ArrayLike, df: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Quantile ``t_df(q)`` (``scipy.stats.t.ppf``)."""
    q_, df_ = np.broadcast_arrays(np.asarray(q, dtype=np.float64), np.asarray(df, dtype=float))
    with np.errstate(invalid="ignore"):
        ok = (df_ > 0) & (q_ >= 0) & (q_ <= 1)
    inner = np.where(ok, stdtrit(np.where(ok, df_, 1.0), q_), np.nan)
    out: npt.NDArray[np.float64] = np.where(ok & (q_ == 0), -np.inf, inner)
    out = np.where(ok & (q_ == 1), np.inf, out)
    return out


def cdf(x: npt.ArrayLike, df: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Distribution function ``P(T_df <= x)`` (``scipy.stats.t.cdf``)."""
    x_, df_ = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(df, dtype=float))
    with np.errstate(invalid="ignore"):
        ok = df_ > 0
    out: npt.NDArray[np.float64] = np.where(ok, stdtr(np.where(ok, df_, 1.0), x_), np.nan)
    return out
