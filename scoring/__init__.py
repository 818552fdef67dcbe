"""minping scoring: pure statistics over numpy arrays (no web, no database).

Entry points: :func:`score` (a wave's street scores with intervals, ranks,
bands and priorities), :func:`to_json` (the scores JSON of docs/scores-json.md) and
:func:`score_file` (the offline scorer).  Also framework loading, the
responses exchange format, weights, response quality checks, wave-over-wave
change and simulation.
"""

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
