"""The city view: streets of several districts side by side, honestly.

Each district is scored against its own district reference, so a street's
band ("above / similar / below the district") and its rank interval only mean
something inside its district.  The city view therefore shows, per street, the
score with its 95% interval, the band against its own district, and the rank
interval within its district -- never a city-wide rank.  Scores of different
districts are comparable only when their waves use the same framework version
and answer scale; otherwise the view says so.  See docs/districts.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from scoring.result import DistrictResult

from ..extensions import db
from ..models import District, ScoringRun, Wave
from .publication import scored_waves
from .results import dk_rate, result_of
from .scoring_runs import current_run


@dataclass
class DistrictColumn:
    district: District
    wave: Wave | None
    run: ScoringRun | None
    summary: DistrictResult | None  # the district reference: score, interval and n
    streets: int = 0


@dataclass
class CityView:
    year: int | None
    years: list[int]
    districts: list[DistrictColumn] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    comparable: bool = True
    frameworks: list[str] = field(default_factory=list)


def _framework_key(wave: Wave) -> tuple[Any, ...]:
    f = wave.framework
    return (f.code, f.version)


def city_view(
    district_ids: Sequence[int], year: int | None = None, sort: str = "district"
) -> CityView:
    """Latest scored wave of ``year`` (default: the newest year scored) in each district.

    ``sort`` is ``district`` (districts in order, streets in official order) or
    ``score`` (all streets by score, highest first; intervals shown beside).
    """
    districts = list(
        db.session.scalars(
            select(District).where(District.id.in_(district_ids)).order_by(District.id)
        )
    )
    scored = {d.id: scored_waves(d.id) for d in districts}
    years = sorted({w.year for waves in scored.values() for w in waves}, reverse=True)
    if year not in years:
        year = years[0] if years else None
    view = CityView(year=year, years=years)
    keys = set()
    for district in districts:
        wave = next((w for w in scored[district.id] if w.year == year), None)
        run = current_run(wave) if wave is not None else None
        if wave is None or run is None:
            view.districts.append(DistrictColumn(district, None, None, None))
            continue
        keys.add(_framework_key(wave))
        view.frameworks.append(f"{district.name}: {wave.framework.label}")
        doc = result_of(run)
        positions = {s.name: (s.position, s.id) for s in district.streets}
        total = len(doc.streets)
        view.districts.append(DistrictColumn(district, wave, run, doc.district, total))
        for s in doc.streets:
            pos, street_id = positions.get(s.street, (10**6, None))
            view.rows.append(
                {
                    "district": district.name,
                    "district_order": district.id,
                    "position": pos,
                    "wave": wave,
                    "street": s.street,
                    "street_id": street_id,
                    "n": s.n,
                    "score": s.score,
                    "ci_low": s.ci_low,
                    "ci_high": s.ci_high,
                    "band": s.band,
                    "complete": s.complete,
                    "rank_low": s.rank_low,
                    "rank_high": s.rank_high,
                    "of": total,
                    "dk": dk_rate(s),
                }
            )
    view.comparable = len(keys) <= 1
    if sort == "score":
        view.rows.sort(key=lambda r: (r["score"] is None, -(r["score"] or 0.0), r["street"]))
    else:
        view.rows.sort(key=lambda r: (r["district_order"], r["position"], r["street"]))
    return view
