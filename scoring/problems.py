"""Problems with codes: one validation, its message in the reader's language.

Validation in :mod:`scoring` (frameworks, scoring settings) reports each
problem as a :class:`Problem`: a stable ``code``, the ``params`` the message
needs, and the English ``message`` the command line prints.  ``scoring`` stays
free of Flask; the console renders the same problems in the reader's language
from ``code`` and ``params`` (``survey/services/problem_text.py``), so a rule
is checked in one place whatever language shows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Problem", "ProblemError"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One validation problem.

    Attributes
    ----------
    code : str
        Stable identifier, e.g. ``"weights.sum"``; never reworded.
    params : mapping
        Values the message refers to (``{"where": "dimensions", "total": 0.9}``).
    message : str
        The English sentence, as the command line prints it.
    """

    code: str
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


class ProblemError(ValueError):
    """Invalid input: ``found`` lists every :class:`Problem`.

    ``str(error)`` is the English messages joined by ``"; "`` (as before codes
    existed), so code that shows ``str(exc)`` keeps working.
    """

    def __init__(self, problems: list[Problem]) -> None:
        self.found = list(problems)
        super().__init__("; ".join(p.message for p in problems))
