"""数据不全: which streets rest on too little of the intended design to be compared.

A street's overall score renormalises over the groups, indicators and
dimensions that have answers, so a street without its 驻区单位 respondents is
scored on a different mix of people than the others.  Such a street is still
scored (its figures are published with the reason) but it is not ranked,
banded, given rectification items or used in the district reference.

A street is *incomplete* when

* it has no responses;
* a respondent group with a positive share has no respondents in it;
* a dimension has no answers at all; or
* the answered street x group x indicator combinations carry less than
  :data:`MIN_COVERAGE` (90%) of the intended weight, where indicator j's
  intended weight is ``b_k a_j / Σ_{j'∈k} a_j'`` and within an indicator each
  group asked it counts with its share.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .dataset import BoolArray, FloatArray, IntArray
from .framework import Framework

__all__ = ["MIN_COVERAGE", "Completeness", "completeness"]

MIN_COVERAGE = 0.9


@dataclass(frozen=True, slots=True, eq=False)
class Completeness:
    """Per street: complete?, the reason if not, and the weight coverage (0-1)."""

    complete: BoolArray
    reasons: tuple[str | None, ...]
    coverage: FloatArray


def _asked(framework: Framework) -> BoolArray:
    codes = framework.indicator_codes
    asked = np.zeros((len(framework.groups), len(codes)), dtype=bool)
    for g, code in enumerate(framework.group_codes):
        for ind in framework.indicators_for(code):
            asked[g, codes.index(ind.code)] = True
    return asked


def completeness(framework: Framework, cell_n: IntArray, answered: BoolArray) -> Completeness:
    """Completeness of every street from cell sizes (S, G) and answered cells (S, G, J)."""
    asked = _asked(framework)
    shares = np.array([g.share for g in framework.groups], dtype=np.float64)
    a = np.array([i.weight for i in framework.indicators], dtype=np.float64)
    dims = framework.dimension_codes
    k_of = np.array([dims.index(i.dimension) for i in framework.indicators])
    b = np.array([d.weight for d in framework.dimensions], dtype=np.float64)
    a_tot = np.bincount(k_of, weights=a, minlength=len(dims))
    intended = b[k_of] * a / a_tot[k_of] / b.sum()  # (J,)
    pi = shares[:, None] * asked  # (G, J)
    pi_tot = pi.sum(axis=0)
    got = (pi[None] * answered).sum(axis=1)  # (S, J)
    per_ind = np.divide(got, pi_tot[None], out=np.zeros_like(got), where=pi_tot[None] > 0)
    coverage: FloatArray = per_ind @ intended / max(float(intended.sum()), 1e-300)
    dim_any = np.zeros((cell_n.shape[0], len(dims)), dtype=bool)
    for k in range(len(dims)):
        dim_any[:, k] = answered[:, :, k_of == k].any(axis=(1, 2))
    complete = np.ones(cell_n.shape[0], dtype=bool)
    reasons: list[str | None] = []
    for s in range(cell_n.shape[0]):
        why: list[str] = []
        if cell_n[s].sum() == 0:
            why.append("no responses")
        else:
            for g, grp in enumerate(framework.groups):
                if grp.share > 0 and cell_n[s, g] == 0:
                    why.append(f"no respondents in group {grp.code} ({grp.name})")
            for k, dim in enumerate(framework.dimensions):
                if not dim_any[s, k]:
                    why.append(f"no answers for dimension {dim.code} ({dim.name})")
            if coverage[s] < MIN_COVERAGE:
                why.append(
                    f"answers carry {100 * coverage[s]:.0f}% of the intended weight "
                    f"(at least {100 * MIN_COVERAGE:.0f}% needed)"
                )
        complete[s] = not why
        reasons.append("; ".join(why) if why else None)
    return Completeness(complete, tuple(reasons), coverage)
