"""Offline scorer: framework TOML + responses CSV/XLSX → scores JSON file."""

from __future__ import annotations

import hashlib
import importlib
import json
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import partial, wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import numpy as np

from .dataset import from_table
from .exchange import ExchangeError, read_table
from .framework import Framework, load_framework
from .population import Population, PopulationError, read_population
from .settings import DEFAULTS

__all__ = ["score_file"]

#: what scoring needs beyond reading, loaded in a thread while the file is read:
#: the engine (with SciPy's special functions, :mod:`scoring.special`) and
#: NumPy's random generators (``numpy.random`` is imported lazily, 0.03 s, and
#: would otherwise be imported by the first bootstrap draw)
_ENGINE_MODULES = ("numpy.random", "scoring.engine", "scoring.result")


#: the GIL switch interval while a file is scored.  The bootstrap's workers make
#: many short NumPy calls and, at each, wait for the thread running Python
#: (variances, reliability, rank sensitivity) to give up the GIL, which it is
#: asked to do only after the interval.  At Python's default of 5 ms the 100k
#: responses over 1,000 streets took 3.19 s (median of 5), at 1 ms 2.74 s
#: (docs/performance-scoring.md, sixth pass).
SWITCH_INTERVAL = 0.001

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _switch_interval(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run ``func`` with the GIL switch interval at :data:`SWITCH_INTERVAL` (then restored)."""

    @wraps(func)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        before = sys.getswitchinterval()
        sys.setswitchinterval(min(before, SWITCH_INTERVAL))
        try:
            return func(*args, **kwargs)
        finally:
            sys.setswitchinterval(before)

    return run


def _import_meanwhile(names: tuple[str, ...]) -> threading.Thread:
    """Start importing ``names`` in a daemon thread (join it before using them).

    Everything the main thread imports while reading (this module's imports,
    :mod:`scoring.exchange`) is loaded before the thread starts, so the two
    never wait on each other's modules.
    """

    def load() -> None:
        for name in names:
            importlib.import_module(name)

    thread = threading.Thread(target=load, name="import-engine", daemon=True)
    thread.start()
    return thread


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _meanwhile(func: Callable[[], _R], name: str) -> Callable[[], _R]:
    """Run ``func`` in a thread; the function returned waits for it and gives its
    result or raises its error (in the caller's thread, when the caller asks)."""
    done: list[_R] = []
    failed: list[BaseException] = []

    def run() -> None:
        try:
            done.append(func())
        except BaseException as exc:  # noqa: BLE001 (re-raised in the caller's thread)
            failed.append(exc)

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()

    def result() -> _R:
        thread.join()
        if failed:
            raise failed[0]
        return done[0]

    return result


def _read_population(path: Path, groups: tuple[str, ...]) -> tuple[Population, str]:
    """The population margins file and its sha256 (:func:`score_file`'s ``population_path``)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PopulationError([f"{path.name}: cannot read the file ({exc.strerror})"]) from None
    fmt = "xlsx" if path.suffix.lower() == ".xlsx" else "csv"
    return read_population(raw, groups=groups, fmt=fmt), _sha256(raw)


@_switch_interval
def score_file(
    framework_path: str | Path,
    responses_path: str | Path,
    out_path: str | Path,
    *,
    boot: int = DEFAULTS.boot,
    seed: int = DEFAULTS.seed,
    min_n: int = DEFAULTS.min_n,
    top_k: int = DEFAULTS.top_k,
    population_totals: Mapping[str, Mapping[str, float]] | None = None,
    band_rule: str = DEFAULTS.band_rule,
    min_gap: float = DEFAULTS.min_gap,
    population_path: str | Path | None = None,
    trim: tuple[float, float] | None = None,
    rake: bool = True,
    entropy_from: str | Path | None = None,
) -> dict[str, Any]:
    """Score a responses file and write the scores JSON (docs/scores-json.md).

    The recorded data sha256 is that of the responses file's bytes.  Streets
    are those found in the file, in sorted order.  With ``population_path`` (a
    population margins CSV/XLSX, :mod:`scoring.population`) the weights are
    raked to its margins and its street x group totals make the district
    reference population-weighted; the file's sha256 is recorded.  With
    ``rake=False`` only the totals are used (for the district reference, when
    every street x group with responses has one).

    :param entropy_from: an earlier scores JSON whose entropy weights the rank
        sensitivity uses (frozen from that reference wave).
    :param population_totals: street → group → population count, for the
        population-weighted district reference (streets or groups not given
        count 0); ignored when ``population_path`` is given.

    :returns: the JSON document as a dict (as written, rounded).
    :raises FrameworkError: the framework file is unusable (every problem listed).
    :raises ExchangeError: the responses file is unreadable or invalid.
    :raises PopulationError: the population file is unreadable or invalid.
    :raises RakingError: the margins cannot be met (every cell named).
    :raises ValueError: bad settings (e.g. ``boot`` < 100) or data that do not fit.
    """
    engine_import = _import_meanwhile(_ENGINE_MODULES)
    framework = load_framework(framework_path)
    # read alongside the responses; its error is raised after theirs
    population_read = (
        None
        if population_path is None
        else _meanwhile(
            partial(_read_population, Path(population_path), framework.group_codes),
            "read-population",
        )
    )
    path = Path(responses_path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ExchangeError([f"{path.name}: cannot read the file ({exc.strerror})"]) from None
    fmt = "xlsx" if path.suffix.lower() == ".xlsx" else "csv"
    # hashed alongside the read (hashlib releases the GIL)
    hashing = _meanwhile(partial(_sha256, raw), "sha256")
    try:
        data = from_table(read_table(raw, framework, fmt=fmt), framework)
    finally:
        digest = hashing()
    del raw  # the file's bytes are not needed while scoring
    engine_import.join()
    from .engine import score
    from .result import document_json, to_document

    margins = None
    totals_array = None
    if population_totals is not None:
        totals_array = np.array(
            [
                [float(population_totals.get(s, {}).get(g, 0.0)) for g in data.groups]
                for s in data.streets
            ]
        )
    pop_digest = None
    if population_read is not None:
        population, pop_digest = population_read()
        margins = population.arrays(data.streets, data.groups)
        if not rake:
            totals = margins.total
            G = len(data.groups)
            present = np.bincount(data.street * G + data.group, minlength=totals.size)
            if np.any(~np.isfinite(totals.ravel()) & (present > 0)):
                raise ValueError(
                    "the population file lacks counts for some street x group with responses; "
                    "without them the district reference cannot be population-weighted"
                )
            totals_array = np.where(np.isfinite(totals), totals, 0.0)
            margins = None
    entropy = None
    if entropy_from is not None:
        entropy = entropy_reference(entropy_from, framework)
    result = score(
        framework,
        data,
        entropy_reference=entropy,
        boot=boot,
        seed=seed,
        min_n=min_n,
        top_k=top_k,
        data_sha256=digest,
        population_totals=totals_array,
        band_rule=band_rule,
        min_gap=min_gap,
        margins=margins,
        trim=trim,
    )
    if pop_digest is not None:
        weighting = {**result.method["weighting"], "population_sha256": pop_digest}
        result = replace(result, method={**result.method, "weighting": weighting})
    doc = to_document(result)
    Path(out_path).write_text(document_json(doc), encoding="utf-8")
    return doc


def entropy_reference(path: str | Path, framework: Framework) -> list[float]:
    """Entropy weights frozen in an earlier scores JSON (its ``sensitivity.entropy_weights``).

    :raises ValueError: the file has none, or a different number of indicators.
    """
    p = Path(path)
    try:
        doc = json.loads(p.read_text("utf-8"))
        weights = doc["sensitivity"]["entropy_weights"]
    except (OSError, ValueError, KeyError, TypeError):
        raise ValueError(
            f"{p.name}: no entropy weights to freeze (sensitivity.entropy_weights)"
        ) from None
    if not isinstance(weights, list) or len(weights) != len(framework.indicators):
        raise ValueError(f"{p.name}: its entropy weights do not fit framework {framework.code}")
    return [float(w) for w in weights]
