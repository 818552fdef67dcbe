"""Sizes and line breaks of the GB/T 9704-2012 header that depend on the text."""

from __future__ import annotations

import math
from typing import Any

from reports.models import Letterhead

TEXT_WIDTH_PT = 156 / 25.4 * 72  # 版心 width: 210 - 28 - 26 mm
MAX_MARK_PT = 42.0
TITLE_PT = 22.0  # 2号
TITLE_EM = (TEXT_WIDTH_PT - 2 * TITLE_PT) / TITLE_PT  # half an em margin each side, one spare
# a title line should rather end after one of these (end of a word or phrase)
_GOOD_ENDS = "道镇区评果度的于及和与知报告"


def _width(text: str) -> float:
    return sum(1.0 if ord(c) > 0x2E7F else 0.6 for c in text)


def mark_size(mark: str) -> float:
    """Font size (pt) fitting the red 发文机关标志 on one line of the 版心."""
    return round(min(MAX_MARK_PT, 0.96 * TEXT_WIDTH_PT / (_width(mark) or 1.0)), 1)


def title_lines(title: str, max_em: float = TITLE_EM) -> list[str]:
    """Split a title into balanced lines (GB/T 9704: 回行时要做到词意完整，排列对称).

    Lines get about the same width; a break falls after a phrase end when one is
    close, never inside a run of digits or Latin letters, and no line is left with
    a single character.
    """
    total = _width(title)
    if total <= max_em:
        return [title]
    count = math.ceil(total / max_em)
    target = total / count
    best: tuple[float, int] | None = None
    for cut in range(2, len(title) - 1):
        head, tail = title[:cut], title[cut:]
        if head[-1].isascii() and tail[0].isascii() and head[-1].isalnum():
            continue
        width = _width(head)
        if width > max_em:
            break
        cost = abs(width - target) - (3.0 if head[-1] in _GOOD_ENDS else 0.0)
        if best is None or cost < best[0]:
            best = (cost, cut)
    if best is None:
        return [title]
    cut = best[1]
    return [title[:cut], *title_lines(title[cut:], max_em)]


def official_context(letterhead: Letterhead, title: str = "") -> dict[str, Any]:
    """Template context shared by the red-header documents."""
    return {
        "letterhead": letterhead,
        "mark_pt": mark_size(letterhead.mark),
        "title_lines": title_lines(title),
    }
