"""Methods appendix (计分方法说明) of one scoring run: HTML page and PDF.

Takes plain data only: the run's scores JSON (``method``, ``streets``), the
wave's reliability figures (:func:`scoring.reliability.reliability`), a
response-rate summary and names.  Plain Chinese, so a street can check how it
was scored.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from reports import wording
from reports.pdf import create_pdf
from reports.templating import render
from scoring.result import ScoreResult, StreetResult

__all__ = ["methods_context", "render_methods_html", "render_methods_pdf"]


def _deff_summary(streets: Sequence[StreetResult]) -> dict[str, Any] | None:
    values = [s.deff for s in streets if s.deff]
    if not values:
        return None
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n_eff_total": sum(s.n_eff or 0 for s in streets),
        "n_total": sum(s.n or 0 for s in streets),
    }


def methods_context(
    doc: ScoreResult,
    *,
    district: str,
    wave: str,
    run_id: int,
    created: str,
    reliability: Mapping[str, Any] | None,
    rates: Mapping[str, Any],
    population_version: int | None,
    group_names: Mapping[str, str],
    dimension_names: Mapping[str, str],
) -> dict[str, Any]:
    """The appendix's plain context (no database objects)."""
    method = doc.info
    sens = doc.rank_sensitivity
    moving = None
    if sens is not None and sens.streets:
        moves = [
            s.rank_max - s.rank_min
            for s in sens.streets
            if s.rank is not None and s.rank_max is not None and s.rank_min is not None
        ]
        moving = {"streets": sum(m > 0 for m in moves), "largest": max(moves or [0])}
    return {
        "district": district,
        "wave": wave,
        "run_id": run_id,
        "created": created,
        "method": method,
        "weighting": method.weighting,
        "band_rule": wording.BAND_RULE_LIMITS.get(method.band_rule or "alarm", method.band_rule),
        "deff": _deff_summary(doc.streets),
        "n_streets": len(doc.streets),
        "sensitivity": sens,
        "moving": moving,
        "reliability": reliability,
        "rates": rates,
        "population_version": population_version,
        "groups": group_names,
        "dimensions": dimension_names,
    }


def render_methods_html(context: Mapping[str, Any]) -> str:
    """The appendix as a complete HTML document."""
    return render("methods.html", context)


def render_methods_pdf(context: Mapping[str, Any]) -> bytes:
    """The appendix as PDF bytes."""
    return create_pdf(render_methods_html(context))
