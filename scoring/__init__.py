"""minping scoring: pure statistics over numpy arrays (no web, no database).

Public API: framework loading, the responses exchange format, response arrays,
simulation, and (see :mod:`scoring.engine`) the scoring entry point.
"""

from .dataset import ResponseData, from_points, from_records
from .exchange import ExchangeError, read_responses, write_csv
from .framework import Framework, FrameworkError, load_default_framework, load_framework
from .simulate import Simulation, simulate

__all__ = [
    "ExchangeError",
    "Framework",
    "FrameworkError",
    "ResponseData",
    "Simulation",
    "from_points",
    "from_records",
    "load_default_framework",
    "load_framework",
    "read_responses",
    "simulate",
    "write_csv",
]
