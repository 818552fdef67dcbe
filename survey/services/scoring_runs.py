"""Scoring a closed wave: load rows, call :mod:`scoring`, store the run.

The wave's responses are read as columns (:mod:`survey.services.wave_columns`)
and fed to the engine as arrays, the way the offline scorer scores the CSV that
``minping export-responses --included-only`` writes, so both give
byte-identical JSON; the run's ``data_sha256`` is that CSV's sha256, computed
from the same columns.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import numpy as np
from sqlalchemy import select, update

import scoring
from scoring.population import Margins, Population
from scoring.result import from_json
from scoring.settings import DEFAULTS, ScoringSettings, wave_seed

from ..errors import UserError
from ..extensions import db
from ..models import PopulationVersion, ScoringRun, StreetResult, Wave
from .audit import record
from .frameworks import spec_of
from .population import current_population, population_of
from .sample_quality import wave_trim
from .wave_columns import (
    WaveColumns,
    data_sha256,
    included_rows,
    load_wave_columns,
    response_data,
    scored_table,
)
from .waves import check_transition, transition


def default_seed(wave: Wave) -> int:
    """The seed a wave is scored with unless the user gives one.

    Derived from the wave code (:func:`scoring.change.wave_seed`): two waves
    scored with their defaults draw independent replicates, so a change between
    them gets its full variance (one seed for both would pair replicate b with
    replicate b and halve the change's interval).  The same wave always gets
    the same seed.
    """
    return wave_seed(wave.code)


def score_wave(
    wave: Wave,
    *,
    boot: int = DEFAULTS.boot,
    seed: int | None = None,
    min_n: int | None = None,
    top_k: int | None = None,
    user_id: int | None = None,
) -> ScoringRun:
    """Score ``wave`` and store a :class:`ScoringRun` marked current (not committed).

    Excluded responses (quality flags, and the open channel when the wave
    leaves it out) are not scored.  Moves the wave to ``scored``.  ``seed``
    defaults to the wave's own seed (:func:`default_seed`); it is stored in the run.

    :raises WaveStateError: the wave is not closed or scored.
    :raises UserError: a setting out of its range (English messages of
        :meth:`scoring.settings.ScoringSettings.problems`; the console checks
        them first, in the reader's language) or nothing to score.
    """
    check_transition(wave, "score")
    seed = default_seed(wave) if seed is None else seed
    min_n = wave.min_n if min_n is None else min_n
    top_k = wave.district.top_k if top_k is None else top_k
    found = ScoringSettings(boot=boot, seed=seed, min_n=min_n, top_k=top_k).problems()
    if found:
        raise UserError("; ".join(p.message for p in found))
    spec = spec_of(wave.framework)
    columns = load_wave_columns(wave, spec)
    table = scored_table(wave, columns.table.take(included_rows(wave, columns)))
    if table.n == 0:
        raise UserError(f"wave {wave.code} has no responses to score")
    digest = data_sha256(table, spec)
    data = response_data(table, spec)
    version, population = _population_version(wave)
    margins, totals = _population_inputs(wave, population, data)
    reference_wave, entropy = _entropy_reference(wave, spec)
    result = scoring.score(
        spec,
        data,
        boot=boot,
        seed=seed,
        min_n=min_n,
        top_k=top_k,
        data_sha256=digest,
        margins=margins,
        population_totals=totals,
        entropy_reference=entropy,
        trim=wave_trim(wave) if margins is not None else None,
    )
    if version is not None and (margins is not None or totals is not None):
        weighting = {
            **result.method["weighting"],
            "population_sha256": version.sha256,
            "population_version": version.version,
        }
        result = dataclasses.replace(result, method={**result.method, "weighting": weighting})
    else:
        version = None
    text = scoring.to_json(result)
    doc = json.loads(text)
    sensitivity = flagged_comparison(
        wave,
        columns,
        result,
        boot=boot,
        seed=seed,
        min_n=min_n,
        top_k=top_k,
        population=population,
    )
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
            "flagged_sensitivity": sensitivity,
            "weighting_setting": wave.weighting,
            "entropy_reference_wave": reference_wave,
        },
        population_version_id=version.id if version is not None else None,
        framework_sha256=spec.sha256,
        data_sha256=digest,
        n_responses=table.n,
        n_excluded=columns.table.n - table.n,
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
                band=entry["band"] or "",
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


def flagged_comparison(
    wave: Wave,
    columns: WaveColumns,
    result: scoring.ScoreResult,
    *,
    boot: int,
    seed: int,
    min_n: int,
    top_k: int,
    population: Population | None = None,
) -> dict[str, Any] | None:
    """Scores with and without the quality-flagged responses, side by side.

    Flagged responses are those carrying quality flags that no reviewer has
    decided on; the exclusion rule leaves most of them in (only where several
    signals agree is one excluded).  "With" scores every flagged response
    (the run's data plus the flagged ones it excluded, appended after them),
    "without" leaves every flagged one out.  Each side that differs from the
    run's data is scored with the run's settings, seed and number of
    replicates (the bands it compares need the full intervals), without the
    rank sensitivity analysis; both are row subsets of the ``columns`` already
    loaded, so nothing is read again.  Returns :func:`scoring.flagged_sensitivity`
    (``n_flagged``, ``ranks_moved``, ``bands_moved``, per-street scores, ranks
    and bands) plus ``n_excluded_by_rule``, or ``None`` when nothing is flagged.
    """
    flagged = columns.flagged
    if not flagged.any():
        return None
    spec = spec_of(wave.framework)
    scored = included_rows(wave, columns)
    in_run = np.zeros(columns.table.n, dtype=bool)
    in_run[scored] = True
    flagged_in = flagged & in_run
    flagged_out = flagged & columns.excluded

    def rescore(rows: np.ndarray) -> scoring.ScoreResult:
        data = response_data(scored_table(wave, columns.table.take(rows)), spec)
        margins, totals = _population_inputs(wave, population, data)
        return scoring.score(
            spec,
            data,
            boot=boot,
            seed=seed,
            min_n=min_n,
            top_k=top_k,
            margins=margins,
            population_totals=totals,
            sensitivity=False,
            trim=wave_trim(wave) if margins is not None else None,
        )

    with_flagged = result
    if flagged_out.any():
        extra = flagged_out.copy()
        if not wave.include_open_channel:
            extra &= ~columns.open_channel
        with_flagged = rescore(np.concatenate([scored, np.flatnonzero(extra)]))
    without_flagged = result
    if (flagged & ~columns.excluded).any():
        kept = scored[~flagged_in[scored]]
        if kept.size == 0:
            return None
        without_flagged = rescore(kept)
    out = scoring.flagged_sensitivity(with_flagged, without_flagged, n_flagged=int(flagged.sum()))
    out["n_excluded_by_rule"] = int(flagged_out.sum())
    return _plain(out)


def _plain(value: Any) -> Any:
    """``value`` for a JSON column: NaN and infinities as null, NumPy scalars as floats."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return round(number, 4) if math.isfinite(number) else None


def _population_version(wave: Wave) -> tuple[PopulationVersion | None, Population | None]:
    """The district's newest population version and its margins.

    :raises UserError: a raked wave in a district without population margins.
    """
    version = current_population(wave.district)
    if version is None:
        if wave.weighting == "raked":
            raise UserError(
                f"wave {wave.code} is set to rake to population margins, but district "
                f"{wave.district.code} has none: import them (console 人口数, or minping "
                "population import) or choose imported weights"
            )
        return None, None
    return version, population_of(version)


def _population_inputs(
    wave: Wave, population: Population | None, data: scoring.ResponseData
) -> tuple[Margins | None, np.ndarray | None]:
    """What scoring takes from the population: margins to rake to, or reference totals.

    A raked wave rakes to the margins (their totals weight the district
    reference).  Other waves use only the street x group totals, for the
    district reference, when every cell with responses has one.
    """
    if population is None:
        return None, None
    if wave.weighting == "raked":
        return population.arrays(data.streets, data.groups), None
    total = population.totals(data.streets, data.groups)
    G = len(data.groups)
    present = np.bincount(data.street * G + data.group, minlength=total.size).reshape(total.shape)
    if np.any(~np.isfinite(total) & (present > 0)):
        return None, None
    return None, np.where(np.isfinite(total), total, 0.0)


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
        sens = from_json(run.result_json).rank_sensitivity
        weights = sens.entropy_weights if sens is not None else None
        if weights and len(weights) == len(spec.indicators) and other.framework.code == spec.code:
            return other.code, [float(w) for w in weights]
    return None, None


def current_run(wave: Wave) -> ScoringRun | None:
    """Return the wave's current scoring run, if any."""
    return db.session.scalar(
        select(ScoringRun)
        .where(ScoringRun.wave_id == wave.id, ScoringRun.is_current.is_(True))
        .order_by(ScoringRun.id.desc())
    )
