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
from .estimators import Weights, cell_layout, cell_sums, combine_groups, composite
from .framework import Framework
from .linearization import linearized_se

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
    half = z * linearized_se(data, layout, weights).overall
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
