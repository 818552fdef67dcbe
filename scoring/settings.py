"""Scoring settings: every default and allowed range in one frozen object.

The command line (``minping score``, ``minping score-wave``), the console's
scoring form and the services take their defaults and limits from here, and
validate through :meth:`ScoringSettings.problems` (problems with codes, see
:mod:`scoring.problems`), so a default or a range is changed in one place.
The method behind each setting is described in ``docs/method.md``.

This module is pure Python (no NumPy): the command line's option definitions
import it without loading the numeric stack.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .problems import Problem, ProblemError

__all__ = [
    "BAND_RULES",
    "BOOT_RANGE",
    "DEFAULTS",
    "MIN_N_RANGE",
    "SEED_RANGE",
    "TOP_K_RANGE",
    "ScoringSettings",
    "check_boot",
    "wave_seed",
]

#: Allowed number of bootstrap replicates B: fewer gives unstable 95% limits
#: (the 2.5% tail rests on under 3 replicates); more only costs time and memory.
BOOT_RANGE = (100, 10_000)
#: Seeds NumPy's generator takes on every platform (a signed 32-bit integer).
SEED_RANGE = (0, 2**31 - 1)
#: Minimum responses per street x group cell for the cell to be scored on its own.
MIN_N_RANGE = (1, 10_000)
#: Number of priority indicators named per street.
TOP_K_RANGE = (0, 17)
#: Funnel verdict rules (``scoring.funnel``): 99.8% limits, 95% limits, or FDR q < 0.05.
BAND_RULES = ("alarm", "alert", "fdr")


@dataclass(frozen=True, slots=True)
class ScoringSettings:
    """The settings of one scoring run, with their defaults.

    Attributes
    ----------
    boot : int
        Bootstrap replicates B (``BOOT_RANGE``).
    seed : int
        Seed of the replicate draws (``SEED_RANGE``).  Also the base that
        :func:`wave_seed` mixes with a wave's code for the wave's own default.
    min_n : int
        Responses a street x group cell needs to be scored on its own.
    top_k : int
        Priority indicators named per street.
    band_rule : {"alarm", "alert", "fdr"}
        Which funnel limits decide a street's band.
    min_gap : float
        Points an indicator must fall below the district to be a priority.
    level : float
        Coverage of the confidence intervals.
    """

    boot: int = 1000
    seed: int = 20260101
    min_n: int = 30
    top_k: int = 3
    band_rule: str = "alarm"
    min_gap: float = 3.0
    level: float = 0.95

    def problems(self) -> list[Problem]:
        """Every setting outside its range, as problems with codes (empty: valid)."""
        out = []
        for name, (low, high) in (
            ("boot", BOOT_RANGE),
            ("seed", SEED_RANGE),
            ("min_n", MIN_N_RANGE),
            ("top_k", TOP_K_RANGE),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                out.append(
                    Problem(
                        f"settings.{name}.range",
                        f"{name} must be a whole number from {low} to {high}, not {value}",
                        {"name": name, "value": value, "min": low, "max": high},
                    )
                )
        if self.band_rule not in BAND_RULES:
            out.append(
                Problem(
                    "settings.band_rule",
                    f"band_rule must be one of {', '.join(BAND_RULES)}, not {self.band_rule!r}",
                    {"value": self.band_rule, "choices": ", ".join(BAND_RULES)},
                )
            )
        if not self.min_gap >= 0:
            out.append(
                Problem(
                    "settings.min_gap",
                    f"min_gap must be at least 0 points, not {self.min_gap}",
                    {"value": self.min_gap},
                )
            )
        if not 0 < self.level < 1:
            out.append(
                Problem(
                    "settings.level",
                    f"level must be between 0 and 1, not {self.level}",
                    {"value": self.level},
                )
            )
        return out

    def validated(self) -> ScoringSettings:
        """``self`` if every setting is in range.

        :raises ProblemError: listing every setting out of range.
        """
        found = self.problems()
        if found:
            raise ProblemError(found)
        return self


#: The defaults every entry point starts from.
DEFAULTS = ScoringSettings()


def check_boot(boot: int) -> None:
    """Raise :class:`ProblemError` unless ``boot`` is in ``BOOT_RANGE``."""
    found = [p for p in ScoringSettings(boot=boot).problems() if p.params.get("name") == "boot"]
    if found:
        raise ProblemError(found)


def wave_seed(code: str, base: int = DEFAULTS.seed) -> int:
    """Bootstrap seed of a wave: ``base`` mixed with the wave code (sha256), in [0, 2³¹).

    Independent waves get independent replicate draws (a change between two
    waves then gets its full variance); the same wave and base always give the
    same seed (reproducible runs).
    """
    digest = hashlib.sha256(f"{int(base)}:{code}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % (2**31 - 1)
