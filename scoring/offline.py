"""Offline scorer: framework TOML + responses CSV/XLSX → scores JSON file."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .dataset import from_table
from .engine import score
from .exchange import ExchangeError, read_table
from .framework import load_framework
from .result import to_json

__all__ = ["score_file"]


def score_file(
    framework_path: str | Path,
    responses_path: str | Path,
    out_path: str | Path,
    *,
    boot: int = 1000,
    seed: int = 20260101,
    min_n: int = 30,
    top_k: int = 3,
    population_totals: Mapping[str, Mapping[str, float]] | None = None,
    band_rule: str = "alarm",
    min_gap: float = 3.0,
) -> dict[str, Any]:
    """Score a responses file and write the scores JSON (docs/scores-json.md).

    The recorded data sha256 is that of the responses file's bytes.  Streets
    are those found in the file, in sorted order.

    :param population_totals: street → group → population count, for the
        population-weighted district reference (streets or groups not given
        count 0).

    :returns: the JSON document as a dict (as written, rounded).
    :raises FrameworkError: the framework file is unusable (every problem listed).
    :raises ExchangeError: the responses file is unreadable or invalid.
    :raises ValueError: bad settings (e.g. ``boot`` < 100) or data that do not fit.
    """
    framework = load_framework(framework_path)
    path = Path(responses_path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ExchangeError([f"{path.name}: cannot read the file ({exc.strerror})"]) from None
    fmt = "xlsx" if path.suffix.lower() == ".xlsx" else "csv"
    digest = hashlib.sha256(raw).hexdigest()
    data = from_table(read_table(raw, framework, fmt=fmt), framework)
    del raw  # the file's bytes are not needed while scoring
    population = None
    if population_totals is not None:
        population = np.array(
            [
                [float(population_totals.get(s, {}).get(g, 0.0)) for g in data.groups]
                for s in data.streets
            ]
        )
    result = score(
        framework,
        data,
        boot=boot,
        seed=seed,
        min_n=min_n,
        top_k=top_k,
        data_sha256=digest,
        population_totals=population,
        band_rule=band_rule,
        min_gap=min_gap,
    )
    text = to_json(result)
    Path(out_path).write_text(text, encoding="utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc
