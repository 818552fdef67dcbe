"""Framework problems in the reader's language.

:mod:`scoring.framework` reports problems in English as ``source: key: problem``
(it is a pure library, also used from the command line).  The console shows
them in Chinese (or English) with the key in words, e.g. ``维度 D2 · 权重：…``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from ..i18n import _

SECTIONS = {
    "framework": "指标体系",
    "scale": "量表",
    "groups": "受访群体",
    "dimensions": "维度",
    "indicators": "指标",
}
FIELDS = {
    "weight": "权重",
    "share": "占比",
    "name": "名称",
    "name_en": "英文名称",
    "code": "代码",
    "question": "题目",
    "question_en": "英文题目",
    "labels": "选项",
    "labels_en": "英文选项",
    "scores": "分值",
    "dont_know": "“不了解”选项",
    "satisfied_from": "“满意”起点",
    "version": "版本",
    "dimension": "所属维度",
    "groups": "适用群体",
}

Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]


def _rules() -> list[Rule]:
    def r(pattern: str, make: Callable[[re.Match[str]], str]) -> Rule:
        return re.compile(pattern + r"$"), make

    return [
        r(
            r"weights add up to (?P<t>[\d.eE+-]+), they must add up to 1",
            lambda m: _("权重合计为 %(t)s，必须正好等于 1。", t=m["t"]),
        ),
        r(
            r"is missing: add a \[framework\] table.*",
            lambda m: _("缺少 [framework]（代码、名称、版本）。"),
        ),
        r(r"is missing: add a \[scale\] table.*", lambda m: _("缺少 [scale]（选项和分值）。")),
        r(
            r"is (?:missing|empty): add at least one \[\[\w+\]\] table",
            lambda m: _("至少需要一项。"),
        ),
        r(r"is missing", lambda m: _("缺少这一项。")),
        r(r"must be a non-empty text", lambda m: _("必须填写文字。")),
        r(r"duplicate code '(?P<c>.*)'", lambda m: _("代码 %(c)s 重复。", c=m["c"])),
        r(r"must be a number, not (?P<v>.*)", lambda m: _("必须是数字（现为 %(v)s）。", v=m["v"])),
        r(r"must be positive, not (?P<v>.*)", lambda m: _("必须大于 0（现为 %(v)s）。", v=m["v"])),
        r(r"unknown dimension '(?P<c>.*)'", lambda m: _("没有代码为 %(c)s 的维度。", c=m["c"])),
        r(r"unknown group '(?P<c>.*)'", lambda m: _("没有代码为 %(c)s 的受访群体。", c=m["c"])),
        r(r"has no indicators", lambda m: _("没有任何指标。")),
        r(r"is asked no indicator", lambda m: _("这个群体没有要回答的指标。")),
        r(r"labels must differ from each other", lambda m: _("选项文字不能重复。")),
        r(r"must be a list of group codes", lambda m: _("必须是受访群体代码的列表。")),
        r(
            r"must be a list of numbers, one per label",
            lambda m: _("必须是数字列表，每个选项一个。"),
        ),
        r(
            r"must be a list of texts, worst answer first",
            lambda m: _("必须是文字列表，从最差到最好。"),
        ),
        r(r"must have one English label per label", lambda m: _("英文选项的个数必须与选项相同。")),
        r(
            r"must increase strictly from the worst to the best answer",
            lambda m: _("必须从最差到最好逐个增大。"),
        ),
        r(r"needs at least 2 points", lambda m: _("至少要有2个选项。")),
        r(
            r"has (?P<s>\d+) scores for (?P<l>\d+) labels: give one each",
            lambda m: _(
                "有 %(s)s 个分值、%(l)s 个选项：每个选项要有一个分值。", s=m["s"], l=m["l"]
            ),
        ),
        r(r"must be a list of \[\[\w+\]\] tables", lambda m: _("格式不对，应写成多个表。")),
        r(
            r"must be a scale point from 1 to (?P<n>\d+)",
            lambda m: _("必须是 1 到 %(n)s 之间的选项序号。", n=m["n"]),
        ),
        r(
            r"must be a whole number >= 1, not (?P<v>.*)",
            lambda m: _("必须是不小于 1 的整数（现为 %(v)s）。", v=m["v"]),
        ),
        r(
            r"'(?P<c>.*)' is also a scale label",
            lambda m: _("“%(c)s”与某个选项文字相同。", c=m["c"]),
        ),
        r(r"file not found", lambda m: _("找不到文件。")),
        r(r"the file is not UTF-8 text", lambda m: _("文件不是 UTF-8 文本。")),
        r(r"not valid TOML: (?P<e>.*)", lambda m: _("不是有效的 TOML 格式：%(e)s", e=m["e"])),
    ]


def key_words(key: str) -> str:
    """``dimensions.D2.weight`` -> ``维度 D2 · 权重``; unknown parts are kept."""
    parts = [p for p in re.split(r"[.\[\]]", key) if p]
    if not parts:
        return key
    out = [_(SECTIONS[parts[0]]) if parts[0] in SECTIONS else parts[0]]
    for part in parts[1:]:
        if part in FIELDS:
            out.append(_(FIELDS[part]))
        elif part.isdigit():
            out.append(_("第%(n)s项", n=int(part) + 1))
        else:
            out.append(part)
    head = out[0] + (" " + out[1] if len(out) > 1 and parts[1] not in FIELDS else "")
    rest = out[2:] if len(out) > 1 and parts[1] not in FIELDS else out[1:]
    return " · ".join([head, *rest])


def problem_words(problem: str) -> str:
    """One ``source: key: problem`` line in the reader's language (unchanged if not English)."""
    if not re.search(r"[A-Za-z]{3}", problem.split(": ")[-1]):
        return problem  # already in words (the console's own checks)
    parts = problem.split(": ")
    candidates = [("", problem)]
    if len(parts) >= 2:
        candidates.insert(0, ("", ": ".join(parts[1:])))
    if len(parts) >= 3:
        candidates.insert(0, (parts[1], ": ".join(parts[2:])))
    for key, text in candidates:
        for pattern, make in _rules():
            found = pattern.match(text)
            if found:
                said = make(found)
                return f"{key_words(key)}：{said}" if key else said
    return problem


def problems_words(problems: Iterable[str]) -> list[str]:
    return [problem_words(p) for p in problems]
