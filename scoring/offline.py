"""Offline scorer: framework TOML + responses CSV/XLSX → scores JSON file."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

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
) -> dict[str, Any]:
    """Score a responses file and write the JSON of DESIGN.md section 5.

    The recorded data sha256 is that of the responses file's bytes.  Streets
    are those found in the file, in sorted order.

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
    data = from_table(read_table(raw, framework, fmt=fmt), framework)
    result = score(
        framework,
        data,
        boot=boot,
        seed=seed,
        min_n=min_n,
        top_k=top_k,
        data_sha256=hashlib.sha256(raw).hexdigest(),
    )
    text = to_json(result)
    Path(out_path).write_text(text, encoding="utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc
