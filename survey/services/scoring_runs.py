"""Scoring a closed wave: load rows, call :mod:`scoring`, store the run.

The wave's included responses are turned into exactly the CSV that
``minping export-responses --included-only`` writes, and scored the way the
offline scorer scores that file, so both give byte-identical JSON.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import replace

import numpy as np
from sqlalchemy import func, select, update

import scoring
from scoring.bootstrap import MIN_REPLICATES
from scoring.exchange import write_csv
from scoring.population import Margins

from ..extensions import db
from ..models import PopulationVersion, Response, ScoringRun, StreetResult, Wave
from .audit import record
from .frameworks import spec_of
from .population import current_population, population_of
from .responses import wave_records
from .waves import check_transition, transition


def score_wave(
    wave: Wave,
    *,
    boot: int = 1000,
    seed: int = 20260101,
    min_n: int | None = None,
    top_k: int | None = None,
    user_id: int | None = None,
) -> ScoringRun:
    """Score ``wave`` and store a :class:`ScoringRun` marked current (not committed).

    Excluded responses (quality exclusions, and the open channel when the wave
    leaves it out) are not scored.  When some scored responses carry quality
    flags (kept for review, e.g. uniform answers), the JSON also reports the
    scores without them (``flagged_sensitivity``: scores, ranks and bands with
    and without, and how many moved).  Moves the wave to ``scored``.

    :raises WaveStateError: the wave is not closed or scored.
    :raises ValueError: bad settings or nothing to score.
    """
    check_transition(wave, "score")
    min_n = wave.min_n if min_n is None else min_n
    top_k = wave.district.top_k if top_k is None else top_k
    spec = spec_of(wave.framework)
    records = wave_records(wave, included_only=True)
    if not records:
        raise ValueError(f"wave {wave.code} has no responses to score")
    if wave.weighting == "unweighted":
        records = [dataclasses.replace(r, weight=1.0) for r in records]
    csv_bytes = write_csv(records, spec)
    data = scoring.from_records(records, spec)
    version, margins, totals = _population_for(wave, data)
    reference_wave, entropy = _entropy_reference(wave, spec)
    result = scoring.score(
        spec,
        data,
        boot=boot,
        seed=seed,
        min_n=min_n,
        top_k=top_k,
        data_sha256=hashlib.sha256(csv_bytes).hexdigest(),
        margins=margins,
        population_totals=totals,
        entropy_reference=entropy,
    )
    flagged_ids = set(
        db.session.scalars(
            select(Response.public_id).where(
                Response.wave_id == wave.id,
                Response.excluded.is_(False),
                Response.quality_flags != "",
            )
        )
    )
    flagged = np.array([r.response_id in flagged_ids for r in records], dtype=bool)
    if flagged.any() and not flagged.all():
        # ranks and bands need no more replicates than the minimum
        without = scoring.score(
            spec,
            data,
            boot=MIN_REPLICATES,
            seed=seed,
            min_n=min_n,
            top_k=top_k,
            exclude=flagged,
            shrink=False,
            margins=margins,
            population_totals=totals,
            sensitivity=False,
        )
        result = replace(result, flagged_sensitivity=scoring.flagged_sensitivity(result, without))
    if version is not None:
        weighting = {
            **result.method["weighting"],
            "population_sha256": version.sha256,
            "population_version": version.version,
        }
        result = dataclasses.replace(result, method={**result.method, "weighting": weighting})
    text = scoring.to_json(result)
    doc = json.loads(text)
    total = db.session.scalar(select(func.count(Response.id)).where(Response.wave_id == wave.id))
    db.session.execute(
        update(ScoringRun).where(ScoringRun.wave_id == wave.id).values(is_current=False)
    )
    run = ScoringRun(
        wave=wave,
        boot=boot,
        seed=seed,
        min_n=min_n,
        settings={
            **doc["method"],
            "weighting_setting": wave.weighting,
            "entropy_reference_wave": reference_wave,
        },
        population_version_id=version.id if version is not None else None,
        framework_sha256=spec.sha256,
        data_sha256=hashlib.sha256(csv_bytes).hexdigest(),
        n_responses=len(records),
        n_excluded=(total or 0) - len(records),
        result_json=text,
        created_by_id=user_id,
        is_current=True,
    )
    streets = {s.name: s.id for s in wave.district.streets}
    for entry in doc["streets"]:
        run.street_results.append(
            StreetResult(
                street_id=streets[entry["street"]],
                n=entry["n"],
                score=entry["score"],
                ci_low=entry["ci_low"],
                ci_high=entry["ci_high"],
                rank=entry["rank"],
                rank_low=entry["rank_low"],
                rank_high=entry["rank_high"],
                band=entry["band"] or "similar",
                priorities=";".join(entry.get("priorities", [])),
            )
        )
    db.session.add(run)
    transition(wave, "score", user_id=user_id)
    db.session.flush()
    record(
        "wave.score_run",
        run,
        user_id=user_id,
        after={"boot": boot, "seed": seed, "min_n": min_n, "data_sha256": run.data_sha256},
    )
    return run


def _entropy_reference(
    wave: Wave, spec: scoring.Framework
) -> tuple[str | None, list[float] | None]:
    """Entropy weights frozen from the district's first scored wave (same indicators).

    The rank sensitivity's entropy scheme then uses the reference wave's
    weights instead of this wave's own (which would be data-driven).  The
    offline scorer does the same with ``--entropy-from`` that wave's JSON.
    """
    runs = db.session.execute(
        select(Wave, ScoringRun)
        .join(ScoringRun, ScoringRun.wave_id == Wave.id)
        .where(
            Wave.district_id == wave.district_id,
            Wave.id != wave.id,
            ScoringRun.is_current.is_(True),
        )
        .order_by(Wave.created_at, Wave.id)
    ).all()
    for other, run in runs:
        weights = (json.loads(run.result_json).get("sensitivity") or {}).get("entropy_weights")
        if weights and len(weights) == len(spec.indicators) and other.framework.code == spec.code:
            return other.code, [float(w) for w in weights]
    return None, None


def _population_for(
    wave: Wave, data: scoring.ResponseData
) -> tuple[PopulationVersion | None, Margins | None, np.ndarray | None]:
    """The district's population version and what this wave's scoring takes from it.

    A raked wave rakes to the newest version's margins (their totals weight the
    district reference).  Other waves use only its street x group totals, for
    the district reference, when every cell with responses has one.

    :raises ValueError: a raked wave in a district without population margins.
    """
    version = current_population(wave.district)
    if wave.weighting == "raked":
        if version is None:
            raise ValueError(
                f"wave {wave.code} is set to rake to population margins, but district "
                f"{wave.district.code} has none: import them (console 人口数, or minping "
                "population import) or choose imported weights"
            )
        return version, population_of(version).arrays(data.streets, data.groups), None
    if version is None:
        return None, None, None
    total = population_of(version).totals(data.streets, data.groups)
    G = len(data.groups)
    present = np.bincount(data.street * G + data.group, minlength=total.size).reshape(total.shape)
    if np.any(~np.isfinite(total) & (present > 0)):
        return None, None, None
    return version, None, np.where(np.isfinite(total), total, 0.0)


def current_run(wave: Wave) -> ScoringRun | None:
    """Return the wave's current scoring run, if any."""
    return db.session.scalar(
        select(ScoringRun)
        .where(ScoringRun.wave_id == wave.id, ScoringRun.is_current.is_(True))
        .order_by(ScoringRun.id.desc())
    )
