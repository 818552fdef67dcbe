"""The methods appendix of a scoring run: gathers plain data, calls :mod:`reports.methods`."""

from __future__ import annotations

from typing import Any

import scoring
from reports.methods import methods_context
from scoring.reliability import reliability

from ..models import ScoringRun, Wave
from .frameworks import spec_of
from .responses import wave_records
from .results import result_doc
from .sample_quality import response_rates


def appendix_context(wave: Wave, run: ScoringRun) -> dict[str, Any]:
    """Everything the appendix shows for ``run`` of ``wave`` (plain data)."""
    spec = spec_of(wave.framework)
    doc = result_doc(run)
    # the run's own figures (its JSON key reliability); runs scored before it
    # was recorded get them recomputed from the wave's included responses
    rel = doc.get("reliability")
    if rel is None:
        records = wave_records(wave, included_only=True)
        if len(records) >= 10:
            rel = reliability(spec, scoring.from_records(records, spec))
    cells = response_rates(wave)
    rates = {
        "issued": sum(c.issued for c in cells),
        "completed": sum(c.completed for c in cells),
        "open_link": sum(c.open_link for c in cells),
        "other": sum(c.other for c in cells),
    }
    return methods_context(
        doc,
        district=wave.district.name,
        wave=wave.name,
        run_id=run.id,
        created=run.created_at.strftime("%Y年%m月%d日 %H:%M"),
        reliability=rel,
        rates=rates,
        population_version=run.population_version.version if run.population_version else None,
        group_names={g.code: g.name for g in spec.groups},
        dimension_names={d.code: d.name for d in spec.dimensions},
    )
