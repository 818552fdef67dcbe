"""Sizes of the GB/T 9704-2012 header that depend on the text."""

from __future__ import annotations

from typing import Any

from reports.models import Letterhead

TEXT_WIDTH_PT = 156 / 25.4 * 72  # 版心 width: 210 - 28 - 26 mm
MAX_MARK_PT = 42.0


def mark_size(mark: str) -> float:
    """Font size (pt) fitting the red 发文机关标志 on one line of the 版心."""
    chars = sum(1.0 if ord(c) > 0x2E7F else 0.55 for c in mark) or 1.0
    return round(min(MAX_MARK_PT, 0.96 * TEXT_WIDTH_PT / chars), 1)


def official_context(letterhead: Letterhead) -> dict[str, Any]:
    """Template context shared by the red-header documents."""
    return {"letterhead": letterhead, "mark_pt": mark_size(letterhead.mark)}
