"""Framework problems in the reader's language.

:mod:`scoring.framework` validates a framework once and reports each problem
with a code and params (:class:`scoring.problems.Problem`) plus the English
line ``source: key: problem`` the command line prints.  The console renders
the same problems from their codes in Chinese (or English), with the key in
words, e.g. ``维度 D2 · 权重：…``; it never parses the English text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from scoring.problems import Problem

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


def _said(problem: Problem) -> str | None:
    """The sentence for ``problem``'s code in the current locale (None: no entry)."""
    v = problem.params
    code = problem.code.removeprefix("framework.")
    texts: dict[str, Callable[[], str]] = {
        "weights.sum": lambda: _("权重合计为 %(t)s，必须正好等于 1。", t=v["total"]),
        "head.missing": lambda: _("缺少 [framework]（代码、名称、版本）。"),
        "scale.missing": lambda: _("缺少 [scale]（选项和分值）。"),
        "tables.missing": lambda: _("至少需要一项。"),
        "tables.empty": lambda: _("至少需要一项。"),
        "tables.type": lambda: _("格式不对，应写成多个表。"),
        "missing": lambda: _("缺少这一项。"),
        "text.empty": lambda: _("必须填写文字。"),
        "text.control": lambda: _("含有控制字符（如回车符），请删去。"),
        "code.format": lambda: _(
            "代码 %(c)s 只能由字母、数字和连字符组成（以字母或数字开头），最多 %(n)s 个字符。",
            c=v["value"],
            n=v["limit"],
        ),
        "code.duplicate": lambda: _("代码 %(c)s 重复。", c=v["value"]),
        "number.type": lambda: _("必须是数字（现为 %(v)s）。", v=v["value"]),
        "number.positive": lambda: _("必须大于 0（现为 %(v)s）。", v=v["value"]),
        "number.max": lambda: _("不能大于 %(max)s（现为 %(v)s）。", max=v["max"], v=v["value"]),
        "version": lambda: _(
            "必须是 1 到 %(max)s 之间的整数（现为 %(v)s）。", max=v["max"], v=v["value"]
        ),
        "indicator.dimension": lambda: _("没有代码为 %(c)s 的维度。", c=v["value"]),
        "indicator.group": lambda: _("没有代码为 %(c)s 的受访群体。", c=v["value"]),
        "indicator.groups_type": lambda: _("必须是受访群体代码的列表。"),
        "dimension.empty": lambda: _("没有任何指标。"),
        "group.unasked": lambda: _("这个群体没有要回答的指标。"),
        "scale.labels": lambda: _("必须是文字列表，从最差到最好。"),
        "scale.labels_unique": lambda: _("选项文字不能重复。"),
        "scale.labels_en": lambda: _("英文选项的个数必须与选项相同。"),
        "scale.scores": lambda: _(
            "必须是数字列表（%(min)s 到 %(max)s），每个选项一个。", min=v["min"], max=v["max"]
        ),
        "scale.points": lambda: _("至少要有2个选项。"),
        "scale.count": lambda: _(
            "有 %(s)s 个分值、%(l)s 个选项：每个选项要有一个分值。", s=v["scores"], l=v["labels"]
        ),
        "scale.increase": lambda: _("必须从最差到最好逐个增大。"),
        "scale.dont_know": lambda: _("“%(c)s”与某个选项文字相同。", c=v["value"]),
        "scale.satisfied_from": lambda: _("必须是 1 到 %(n)s 之间的选项序号。", n=v["max"]),
        "file.not_found": lambda: _("找不到文件。"),
        "file.not_utf8": lambda: _("文件不是 UTF-8 文本。"),
        "file.toml": lambda: _("不是有效的 TOML 格式：%(e)s", e=v["detail"]),
        "file.too_long": lambda: _(
            "文件有 %(n)s 个字符，最多 %(max)s 个。", n=v["chars"], max=v["max"]
        ),
        "file.too_deep": lambda: _("嵌套层数太多。"),
        "too_deep": lambda: _("嵌套层数太多。"),
    }
    make = texts.get(code)
    return None if make is None else make()


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


def problem_words(problem: Problem | str) -> str:
    """One framework problem in the reader's language, from its code and params.

    The key is put in words (``dimensions[0].weight`` of dimension D1 ->
    ``维度 D1 · 权重``).  A problem without a known code (or a plain string,
    e.g. one of the console's own checks) is shown as it is.
    """
    if isinstance(problem, str):
        problem = Problem("framework.other", problem)
    said = _said(problem)
    if said is None:
        return problem.message
    key = str(problem.params.get("key", ""))
    item = problem.params.get("item")
    if item:  # name the table entry by its code rather than its position
        key = re.sub(r"^(\w+)\[\d+\]", lambda m: f"{m[1]}.{item}", key)
    return f"{key_words(key)}：{said}" if key else said


def problems_words(problems: Iterable[Problem | str]) -> list[str]:
    """:func:`problem_words` of each problem."""
    return [problem_words(p) for p in problems]
