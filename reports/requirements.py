"""Requirement texts (整改要求) per indicator, editable by the bureau.

A template is plain text with the placeholders ``{street}`` and ``{indicator}``;
the bureau may set one per indicator code, the default covers the rest.
"""

from __future__ import annotations

import string
from collections.abc import Mapping

DEFAULT_REQUIREMENT = (
    "针对居民反映的“{indicator}”方面问题，{street}要深入社区逐一核实，查找原因，"
    "制定具体整改措施，明确责任人和完成时限，整改情况及时向居民反馈。"
)
PLACEHOLDERS = frozenset({"street", "indicator"})


def check_templates(templates: Mapping[str, str]) -> None:
    """Raise ``ValueError`` listing every template that cannot be filled in.

    Allowed placeholders are ``{street}`` and ``{indicator}``; a literal brace is
    written ``{{`` or ``}}``.
    """
    problems: list[str] = []
    for code, text in sorted(templates.items()):
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
        except ValueError as exc:
            problems.append(f"{code}: {exc} (write a literal brace as {{{{ or }}}})")
            continue
        for name in fields:
            if name not in PLACEHOLDERS:
                problems.append(
                    f"{code}: unknown placeholder {{{name}}}: use {{street}} or {{indicator}}"
                )
        if not text.strip():
            problems.append(f"{code}: the requirement text is empty")
    if problems:
        raise ValueError("requirement templates have problems:\n" + "\n".join(problems))


def requirement_text(
    code: str, street: str, indicator: str, templates: Mapping[str, str] | None = None
) -> str:
    """Fill in the requirement for indicator ``code`` (the default when none is set)."""
    template = (templates or {}).get(code) or DEFAULT_REQUIREMENT
    return template.format(street=street, indicator=indicator)
