"""Sample-size planner: respondents per street x group for a target interval width.

A street's overall score is (to first order) ``O = Σ_g p_g ō_g``, the group
means of each respondent's composite score combined with the group shares
``p_g`` (renormalised).  With ``n_g`` respondents in group g, a per-respondent
standard deviation ``σ_g`` of the composite, a design effect ``d_g`` (unequal
weights) and a share ``a_g`` of respondents who give an answer (1 − the 不了解
rate, for one indicator),

    V(O) = Σ_g p_g² σ_g² d_g / (a_g n_g).

For a fixed total the variance is smallest with ``n_g ∝ p_g σ_g √(d_g / a_g)``
(Neyman allocation), and then ``V = (Σ_g p_g σ_g √(d_g/a_g))² / n``.  A 95%
half-width h needs ``n = (z / h)² (Σ_g p_g σ_g √(d_g/a_g))²`` with z = 1.96; the
wave-over-wave change of a street (two independent samples of this size) has
twice the variance, so n doubles.  A one-indicator target uses that
indicator's σ and 不了解 rate.

``σ_g``, ``d_g`` and ``a_g`` come from the last scored wave
(:func:`design_inputs`) or, without one, the defaults below.  See
``docs/weighting.md``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .dataset import FloatArray, ResponseData
from .estimators import Weights
from .framework import Framework

__all__ = ["DEFAULT_DEFF", "DEFAULT_SD", "DesignInputs", "Plan", "design_inputs", "plan_sizes"]

DEFAULT_SD = 20.0  # points on a 0-100 scale: a typical per-respondent SD of the composite
DEFAULT_DEFF = 1.2
DEFAULT_DK = 0.10
TARGETS = ("overall", "indicator", "change")
Z95 = 1.959963984540054


@dataclass(frozen=True, slots=True)
class DesignInputs:
    """Per group: respondent SD σ_g, design effect d_g, answer rate a_g (and where from)."""

    groups: tuple[str, ...]
    sd: tuple[float, ...]
    deff: tuple[float, ...]
    answer_rate: tuple[float, ...]
    source: str  # "last wave <code>" or "defaults"


@dataclass(frozen=True, slots=True)
class Plan:
    """Respondents per group (the same for every street) for a target half-width."""

    target: str
    indicator: str | None
    half_width: float
    groups: tuple[str, ...]
    per_group: tuple[int, ...]
    inputs: DesignInputs

    @property
    def per_street(self) -> int:
        return sum(self.per_group)


def _composite_coefficients(framework: Framework) -> FloatArray:
    w = Weights.of(framework)
    dim_tot = w.indicator @ w.member
    coef: FloatArray = (w.indicator[:, None] * w.member / dim_tot) @ (
        w.dimension / w.dimension.sum()
    )
    return coef


def respondent_composite(framework: Framework, data: ResponseData) -> FloatArray:
    """Each respondent's composite score (weights renormalised over answered items)."""
    coef = _composite_coefficients(framework)
    m = data.points > 0
    x = np.where(m, data.values, 0.0)
    num = x @ coef
    den = m.astype(np.float64) @ coef
    out: FloatArray = np.divide(num, den, out=np.full(data.n, np.nan), where=den > 0)
    return out


def design_inputs(
    framework: Framework,
    data: ResponseData,
    *,
    indicator: str | None = None,
    source: str = "last wave",
) -> DesignInputs:
    """σ_g (pooled within street x group cells), Kish deff and answer rate per group.

    :param indicator: an indicator code for a one-indicator plan; default the composite.
    """
    G = len(data.groups)
    if indicator is None:
        y = respondent_composite(framework, data)
        answered = np.isfinite(y)
    else:
        j = data.indicators.index(indicator)
        answered = data.points[:, j] > 0
        y = np.where(answered, data.values[:, j], np.nan)
    sd, deff, rate = [], [], []
    cell = data.street * G + data.group
    for g in range(G):
        in_g = data.group == g
        ok = in_g & answered
        # pooled within-cell variance (street means removed)
        cells = cell[ok]
        vals = y[ok]
        if vals.size >= 2:
            sums = np.bincount(cells, weights=vals, minlength=cell.max() + 1)
            cnt = np.bincount(cells, minlength=cell.max() + 1)
            means = np.divide(sums, cnt, out=np.zeros_like(sums), where=cnt > 0)
            resid = vals - means[cells]
            dof = vals.size - int((cnt > 0).sum())
            sd.append(float(math.sqrt(resid @ resid / dof)) if dof > 0 else DEFAULT_SD)
        else:
            sd.append(DEFAULT_SD)
        w = data.weight[in_g]
        c = cell[in_g]
        if w.size:
            sw = np.bincount(c, weights=w)
            sw2 = np.bincount(c, weights=w * w)
            n = np.bincount(c)
            has = n > 0
            n_eff = sw[has] ** 2 / sw2[has]
            deff.append(float(n[has].sum() / n_eff.sum()))
            asked = data.asked[in_g].any(axis=1) if indicator is None else None
            base = int(in_g.sum()) if asked is None else int(asked.sum())
            rate.append(float(ok.sum() / base) if base else 1.0 - DEFAULT_DK)
        else:
            deff.append(DEFAULT_DEFF)
            rate.append(1.0 - DEFAULT_DK)
    return DesignInputs(data.groups, tuple(sd), tuple(deff), tuple(rate), source)


def default_inputs(groups: Sequence[str], indicator: bool = False) -> DesignInputs:
    """Defaults when there is no earlier wave: σ 20 points, deff 1.2, 10% 不了解 (one indicator)."""
    rate = 1.0 - DEFAULT_DK if indicator else 1.0
    G = len(groups)
    return DesignInputs(
        tuple(groups), (DEFAULT_SD,) * G, (DEFAULT_DEFF,) * G, (rate,) * G, "defaults"
    )


def plan_sizes(
    framework: Framework,
    inputs: DesignInputs,
    half_width: float,
    *,
    target: str = "overall",
    indicator: str | None = None,
    level: float = 0.95,
    min_per_group: int = 10,
) -> Plan:
    """Respondents per group so that a street's score has the given 95% half-width.

    Parameters
    ----------
    framework : Framework
        Group shares.
    inputs : DesignInputs
        σ_g, d_g, a_g (from :func:`design_inputs` or :func:`default_inputs`).
    half_width : float
        Target half-width of the interval, in points.
    target : {"overall", "indicator", "change"}
        The street's overall score, one indicator (give ``indicator``; pass
        inputs for that indicator), or the wave-over-wave change of the overall score.
    level : float
        Confidence level (0.95).
    min_per_group : int
        Least respondents per group (a cell must estimate its own variance).

    Returns
    -------
    Plan

    Raises
    ------
    ValueError
        Unknown target, a non-positive half-width, or an indicator target without
        an indicator.
    """
    if target not in TARGETS:
        raise ValueError(f"target must be one of {', '.join(TARGETS)}, not {target!r}")
    if not (half_width > 0 and math.isfinite(half_width)):
        raise ValueError(f"the half-width must be a positive number of points, not {half_width}")
    if target == "indicator" and indicator not in framework.indicator_codes:
        raise ValueError(f"unknown indicator {indicator!r} for a one-indicator plan")
    from scipy.stats import norm

    z = float(norm.ppf(0.5 + level / 2)) if level != 0.95 else Z95
    shares = np.array([g.share for g in framework.groups], dtype=np.float64)
    if target == "indicator" and indicator is not None:
        asked = [
            any(i.code == indicator for i in framework.indicators_for(g))
            for g in framework.group_codes
        ]
        shares = shares * np.array(asked)
    p = shares / shares.sum()
    sd = np.asarray(inputs.sd)
    d = np.asarray(inputs.deff)
    a = np.maximum(np.asarray(inputs.answer_rate), 0.05)
    k = p * sd * np.sqrt(d / a)
    factor = 2.0 if target == "change" else 1.0
    total = factor * (z / half_width) ** 2 * k.sum() ** 2
    per = np.where(k > 0, np.ceil(total * k / k.sum()), 0).astype(int)
    per = np.where(p > 0, np.maximum(per, min_per_group), 0)
    return Plan(
        target=target,
        indicator=indicator if target == "indicator" else None,
        half_width=float(half_width),
        groups=framework.group_codes,
        per_group=tuple(int(x) for x in per),
        inputs=inputs,
    )
