"""Sample-size plans from the last scored wave, and turning a plan into quotas."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from sqlalchemy import select

import scoring
from scoring.planning import Plan, default_inputs, design_inputs, plan_sizes

from ..errors import UserError
from ..extensions import db
from ..models import District, ScoringRun, Wave
from .console import set_quotas
from .frameworks import spec_of
from .responses import wave_records
from .results import result_doc


def scored_waves(district: District) -> list[Wave]:
    """Waves of the district with a current scoring run, newest first."""
    return list(
        db.session.scalars(
            select(Wave)
            .join(ScoringRun, ScoringRun.wave_id == Wave.id)
            .where(Wave.district_id == district.id, ScoringRun.is_current.is_(True))
            .order_by(Wave.created_at.desc(), Wave.id.desc())
        ).unique()
    )


def make_plan(
    district: District,
    half_width: float,
    *,
    target: str = "overall",
    indicator: str | None = None,
    source: Wave | None = None,
    framework: scoring.Framework | None = None,
) -> Plan:
    """Plan respondents per street x group from ``source`` (a scored wave) or defaults.

    The per-respondent SD and 不了解 rate come from the source wave's scored
    responses, the design effect from its scoring run (so a raked run's
    weights count).  :raises UserError: bad target or half-width.
    """
    if source is None:
        if framework is None:
            raise UserError("a plan needs a framework or an earlier scored wave")
        inputs = default_inputs(framework.group_codes, indicator=target == "indicator")
        return plan_sizes(framework, inputs, half_width, target=target, indicator=indicator)
    spec = spec_of(source.framework)
    if target == "indicator" and indicator not in spec.indicator_codes:
        raise UserError(f"unknown indicator {indicator!r} for a one-indicator plan")
    records = wave_records(source, included_only=True)
    data = scoring.from_records(records, spec)
    inputs = design_inputs(
        spec,
        data,
        indicator=indicator if target == "indicator" else None,
        source=f"last wave {source.code}",
    )
    runs = db.session.scalars(
        select(ScoringRun).where(ScoringRun.wave_id == source.id, ScoringRun.is_current.is_(True))
    ).all()
    if runs:
        doc = result_doc(runs[0])
        per_group: dict[str, list[float]] = {}
        for street in doc.get("streets", []):
            for cell in street.get("cells") or []:
                if cell.get("deff"):
                    per_group.setdefault(cell["group"], []).append(cell["deff"])
        deff = tuple(
            float(np.mean(per_group[g])) if g in per_group else d
            for g, d in zip(inputs.groups, inputs.deff, strict=True)
        )
        inputs = replace(inputs, deff=deff)
    return plan_sizes(spec, inputs, half_width, target=target, indicator=indicator)


def apply_plan(plan: Plan, wave: Wave, *, user_id: int | None = None) -> int:
    """Set every street x group quota of ``wave`` to the plan (not committed); return changes.

    :raises UserError: the wave is past fieldwork or uses other groups.
    """
    groups = {g.code for g in wave.framework.groups}
    if set(plan.groups) != groups:
        raise UserError("the plan's respondent groups differ from the wave's framework")
    targets = {
        (s.id, g): n
        for s in wave.district.streets
        for g, n in zip(plan.groups, plan.per_group, strict=True)
    }
    return set_quotas(wave, targets, user_id=user_id)
