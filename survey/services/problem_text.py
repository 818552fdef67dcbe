"""Validation problems (:mod:`scoring.problems`) in the reader's language.

``scoring`` reports each problem with a code, its parameters and an English
message (for the command line).  The console shows the same problem from its
code through the translations here, so the rule itself is checked once, in
``scoring`` (scoring settings: :mod:`scoring.settings`; frameworks:
:mod:`scoring.framework`).  A code without an entry here falls back to the
English message.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l

from scoring.problems import Problem

#: problem code -> message template (Chinese msgid; %(name)s placeholders are the params)
TEXTS = {
    "settings.boot.range": _l("重复抽样次数须在 %(min)s 到 %(max)s 之间。"),
    "settings.seed.range": _l("随机数起点须是 %(min)s 到 %(max)s 之间的整数。"),
    "settings.min_n.range": _l("最少答卷数须在 %(min)s 到 %(max)s 之间。"),
    "settings.top_k.range": _l("每个街道的整改事项数须在 %(min)s 到 %(max)s 之间。"),
    "settings.band_rule": _l("分档规则须是 %(choices)s 之一。"),
    "settings.min_gap": _l("整改事项的最小差距不能为负数。"),
    "settings.level": _l("置信水平须在 0 到 1 之间。"),
}


def problem_text(problem: Problem) -> str:
    """``problem`` in the current locale (its English message if the code is unknown)."""
    if problem.code.startswith("framework."):
        from .framework_words import problem_words

        return problem_words(problem)
    template = TEXTS.get(problem.code)
    if template is None:
        return problem.message
    try:
        return str(template) % dict(problem.params)
    except (KeyError, TypeError, ValueError):
        return problem.message


def problems_text(problems: Iterable[Problem]) -> str:
    """Several problems as one paragraph (each sentence in the current locale)."""
    return " ".join(problem_text(p) for p in problems)
