"""The one scoring-settings object: defaults, ranges, problems with codes."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

from scoring import engine, offline
from scoring.problems import ProblemError
from scoring.settings import (
    BOOT_RANGE,
    DEFAULTS,
    MIN_N_RANGE,
    SEED_RANGE,
    ScoringSettings,
    check_boot,
    wave_seed,
)


def test_defaults_are_valid_and_frozen():
    assert DEFAULTS.validated() is DEFAULTS
    with pytest.raises(AttributeError):
        DEFAULTS.boot = 5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("field", "bounds"), [("boot", BOOT_RANGE), ("seed", SEED_RANGE), ("min_n", MIN_N_RANGE)]
)
def test_each_range_is_checked_at_both_ends(field, bounds):
    low, high = bounds
    for ok in (low, high):
        assert ScoringSettings(**{field: ok}).problems() == []
    for bad in (low - 1, high + 1):
        (problem,) = ScoringSettings(**{field: bad}).problems()
        assert problem.code == f"settings.{field}.range"
        assert problem.params == {"name": field, "value": bad, "min": low, "max": high}
        assert f"{field} must be a whole number from {low} to {high}, not {bad}" == str(problem)


def test_every_problem_reported_at_once():
    with pytest.raises(ProblemError) as info:
        ScoringSettings(boot=5, min_n=0, band_rule="loud", min_gap=-1, level=1.5).validated()
    codes = [p.code for p in info.value.found]
    assert codes == [
        "settings.boot.range",
        "settings.min_n.range",
        "settings.band_rule",
        "settings.min_gap",
        "settings.level",
    ]
    assert isinstance(info.value, ValueError) and "band_rule must be one of" in str(info.value)
    with pytest.raises(ProblemError):
        check_boot(99)
    check_boot(100)


def test_engine_and_offline_defaults_come_from_settings():
    for fn in (engine.score, offline.score_file):
        params = inspect.signature(fn).parameters
        for name in ("boot", "seed", "min_n", "top_k", "band_rule", "min_gap"):
            assert params[name].default == getattr(DEFAULTS, name), (fn.__name__, name)


def test_wave_seed_rule():
    assert wave_seed("demo-2026") == wave_seed("demo-2026", DEFAULTS.seed)
    assert wave_seed("demo-2026") != wave_seed("demo-2027")
    assert SEED_RANGE[0] <= wave_seed("x") <= SEED_RANGE[1]


def test_settings_import_stays_light():
    code = "import sys, scoring.settings; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
