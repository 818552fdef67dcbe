"""Influence of each source of responses on every street's overall score.

A *source* is any set of responses that came in one way: one interviewer, one
imported file, one channel.  Its influence on street s is the leave-one-source
-out difference

    Δ_s = O_s(all) − O_s(all without the source),

computed exactly from the cell totals (the score is a smooth function of
weighted street x group sums, so leaving a source out subtracts its sums).
A source is flagged on street s when |Δ_s| exceeds the half-width of the
street's confidence interval (delta-method SE x the normal quantile) while
it holds fewer than half of the street's responses: a minority source should
never move a street more than the sampling error does, whereas a source that
*is* most of a street's sample naturally decides its score.

Reference: Belsley, Kuh & Welsch (1980), *Regression Diagnostics*, ch. 2
(deletion diagnostics, DFFITS), applied to groups of observations.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from .dataset import BoolArray, FloatArray, IntArray, ResponseData
from .estimators import CellLayout, Weights, cell_layout, cell_sums, combine_groups, composite
from .framework import Framework

__all__ = ["InfluenceTable", "SourceInfluence", "source_influence"]

MAJORITY = 0.5


@dataclass(frozen=True, slots=True, eq=False)
class SourceInfluence:
    """One source: its responses per street, the shift Δ_s and the flags."""

    source: str
    n: int
    street_n: IntArray  # (S,)
    shift: FloatArray  # (S,) O_s(all) − O_s(without); NaN if not computable
    flagged: BoolArray  # (S,)

    @property
    def largest(self) -> int | None:
        """Index of the street this source moves most, or None."""
        if not np.isfinite(self.shift).any():
            return None
        return int(np.nanargmax(np.abs(self.shift)))


@dataclass(frozen=True, slots=True, eq=False)
class InfluenceTable:
    """Street scores with their CI half-widths and every source's influence."""

    streets: tuple[str, ...]
    score: FloatArray  # (S,)
    half_width: FloatArray  # (S,)
    street_n: IntArray  # (S,)
    sources: tuple[SourceInfluence, ...]


def _overall_se(data: ResponseData, layout: CellLayout, weights: Weights) -> FloatArray:
    """Delta-method SE of every street's overall score (S,), carrying item covariances.

    ``O_s = Σ_g Σ_j c_sgj ȳ_sgj`` with ``c`` from the group shares and the
    indicator and dimension weights over the answered cells; the linearised
    value of respondent r is ``z_r = Σ_j c_sgj w_r m_rj (x_rj − ȳ_sgj) / Σ w m``
    and ``V(O_s) = Σ_g n_c/(n_c − 1) Σ_{r∈c} (z_r − z̄_c)²`` (Woodruff 1971).
    """
    m = data.points > 0
    wm = data.weight[:, None] * m
    x = np.where(m, data.values, 0.0)
    totals = cell_sums(np.concatenate([wm * x, wm], axis=1), layout)
    J = x.shape[1]
    num, den = totals[..., :J], totals[..., J:]
    ok = den > 0
    ybar = np.divide(num, den, out=np.zeros_like(num), where=ok)
    pi = weights.shares[:, None] * ok  # (S, G, J)
    tot = pi.sum(axis=1, keepdims=True)
    alpha = np.divide(pi, tot, out=np.zeros_like(pi), where=tot > 0)
    a = weights.indicator * (tot[:, 0, :] > 0)  # (S, J) answered indicators
    dim_tot = a @ weights.member  # (S, K)
    dim_of = (weights.member @ np.arange(weights.member.shape[1])).astype(np.int64)
    dim_tot_j = dim_tot[:, dim_of]
    c_dim = np.divide(a, dim_tot_j, out=np.zeros_like(a), where=dim_tot_j > 0)
    b = weights.dimension * (dim_tot > 0)
    beta = b / np.maximum(b.sum(axis=1, keepdims=True), 1e-300)
    c_ovr = c_dim * beta[:, dim_of]  # (S, J)
    s, g = data.street, data.group
    u = np.divide(wm * (x - ybar[s, g]), den[s, g], out=np.zeros_like(x), where=den[s, g] > 0)
    z = (alpha[s, g] * c_ovr[s] * u).sum(axis=1, keepdims=True)
    s1, s2 = cell_sums(z, layout), cell_sums(z * z, layout)
    n = layout.size.reshape(layout.n_streets, layout.n_groups, 1).astype(np.float64)
    ss = s2 - np.divide(s1 * s1, n, out=np.zeros_like(s1), where=n > 0)
    f = np.divide(n, n - 1, out=np.zeros_like(n), where=n > 1)
    var: FloatArray = (f * np.maximum(ss, 0.0)).sum(axis=(1, 2))
    return np.sqrt(var)


def _overall(num: FloatArray, den: FloatArray, weights: Weights) -> FloatArray:
    ind = combine_groups(num, den, weights.shares)
    _, overall = composite(ind, weights)
    return overall


def source_influence(
    framework: Framework,
    data: ResponseData,
    sources: Mapping[str, BoolArray],
    *,
    level: float = 0.95,
) -> InfluenceTable:
    """Leave-one-source-out shifts of every street's overall score.

    Parameters
    ----------
    framework : Framework
        Weights and group shares of the scores.
    data : ResponseData
        The responses that are scored (weights as stored).
    sources : mapping of label -> (n,) bool mask
        The responses of each source; sources may overlap (an interviewer's
        rows are also part of a channel).
    level : float
        Confidence level whose half-width is the flagging threshold.

    Returns
    -------
    InfluenceTable
    """
    weights = Weights.of(framework)
    layout = cell_layout(data)
    m = data.points > 0
    wm = data.weight[:, None] * m
    x = np.where(m, data.values, 0.0)
    block = np.concatenate([wm * x, wm], axis=1)
    J = x.shape[1]
    totals = cell_sums(block, layout)
    score = _overall(totals[..., :J], totals[..., J:], weights)
    z = NormalDist().inv_cdf(0.5 + level / 2)
    half = z * _overall_se(data, layout, weights)
    S = len(data.streets)
    street_n = np.bincount(data.street, minlength=S).astype(np.int64)
    out = []
    for label, mask in sources.items():
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != (data.n,):
            raise ValueError(f"source {label!r}: mask has {mask.size} entries for {data.n}")
        part = cell_sums(block * mask[:, None], layout)
        rest = totals - part
        # sums of positive terms: clip the float residue of a full subtraction
        rest[..., J:] = np.where(part[..., J:] >= totals[..., J:], 0.0, rest[..., J:])
        without = _overall(rest[..., :J], rest[..., J:], weights)
        shift = score - without
        n_src = np.bincount(data.street[mask], minlength=S).astype(np.int64)
        minority = n_src < MAJORITY * street_n
        with np.errstate(invalid="ignore"):
            flagged = minority & (np.abs(shift) > half) & (n_src > 0)
        out.append(
            SourceInfluence(
                source=label,
                n=int(mask.sum()),
                street_n=n_src,
                shift=shift,
                flagged=np.asarray(flagged, dtype=bool),
            )
        )
    return InfluenceTable(
        streets=data.streets,
        score=score,
        half_width=half,
        street_n=street_n,
        sources=tuple(out),
    )
