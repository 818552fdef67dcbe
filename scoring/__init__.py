"""minping scoring: pure statistics over numpy arrays (no web, no database).

Entry points: :func:`score` (a wave's street scores with intervals, ranks,
bands and priorities), :func:`to_json` (the scores JSON of docs/scores-json.md) and
:func:`score_file` (the offline scorer).  Also framework loading, the
responses exchange format, weights, response quality checks, wave-over-wave
change and simulation.
"""

from __future__ import annotations

import sys
import types
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names below load on first use (PEP 562), see __getattr__
    from .change import Change, TargetedChange, compare_waves, targeted_change, wave_seed
    from .dataset import ResponseData, from_points, from_records
    from .engine import data_digest, score, subset
    from .exchange import ExchangeError, read_responses, write_csv
    from .framework import Framework, FrameworkError, load_default_framework, load_framework
    from .offline import score_file
    from .quality import (
        QualityFlags,
        burst_flags,
        duplicate_flags,
        exclusion_rule,
        flagged_sensitivity,
        speeder_flags,
        straightline_flags,
    )
    from .result import (
        DistrictResult,
        Estimate,
        ScoreResult,
        Shrunk,
        SmallCell,
        StreetResult,
        to_dict,
        to_json,
    )
    from .simulate import Simulation, simulate
    from .weights import AHPResult, ahp_weights, direct_weights, entropy_weights

#: public name -> submodule defining it.  Loaded on first use, so importing a
#: light submodule (``scoring.settings``, ``scoring.problems``) does not load
#: NumPy, SciPy and the engine (``minping --help`` stays fast).
_EXPORTS = {
    "Change": "change",
    "TargetedChange": "change",
    "compare_waves": "change",
    "targeted_change": "change",
    "wave_seed": "change",
    "ResponseData": "dataset",
    "from_points": "dataset",
    "from_records": "dataset",
    "data_digest": "engine",
    "score": "engine",
    "subset": "engine",
    "ExchangeError": "exchange",
    "read_responses": "exchange",
    "write_csv": "exchange",
    "Framework": "framework",
    "FrameworkError": "framework",
    "load_default_framework": "framework",
    "load_framework": "framework",
    "score_file": "offline",
    "QualityFlags": "quality",
    "burst_flags": "quality",
    "duplicate_flags": "quality",
    "exclusion_rule": "quality",
    "flagged_sensitivity": "quality",
    "speeder_flags": "quality",
    "straightline_flags": "quality",
    "DistrictResult": "result",
    "Estimate": "result",
    "ScoreResult": "result",
    "Shrunk": "result",
    "SmallCell": "result",
    "StreetResult": "result",
    "to_dict": "result",
    "to_json": "result",
    "Simulation": "simulate",
    "simulate": "simulate",
    "AHPResult": "weights",
    "ahp_weights": "weights",
    "direct_weights": "weights",
    "entropy_weights": "weights",
}


class _Package(types.ModuleType):
    """Keeps ``scoring.simulate`` the function when ``scoring/simulate.py`` is imported.

    The import system records a loaded submodule as an attribute of its
    package; where a public name equals its submodule's name the name keeps
    the function (as an eager ``from .simulate import simulate`` would).
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if _EXPORTS.get(name) == name and isinstance(value, types.ModuleType):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'scoring' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "AHPResult",
    "Change",
    "DistrictResult",
    "Estimate",
    "ExchangeError",
    "Framework",
    "FrameworkError",
    "QualityFlags",
    "ResponseData",
    "ScoreResult",
    "Shrunk",
    "Simulation",
    "SmallCell",
    "StreetResult",
    "TargetedChange",
    "ahp_weights",
    "burst_flags",
    "compare_waves",
    "data_digest",
    "direct_weights",
    "duplicate_flags",
    "entropy_weights",
    "exclusion_rule",
    "flagged_sensitivity",
    "from_points",
    "from_records",
    "load_default_framework",
    "load_framework",
    "read_responses",
    "score",
    "score_file",
    "simulate",
    "speeder_flags",
    "straightline_flags",
    "subset",
    "targeted_change",
    "to_dict",
    "to_json",
    "wave_seed",
    "write_csv",
]
