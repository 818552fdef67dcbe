"""Numbers, dates, ranks and residents' words as the documents print them.

Sentences and words built in code (titles, bands, the district reference) are in
:mod:`reports.wording`.
"""

from __future__ import annotations

import datetime as dt
import math
import re

_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_LANDLINE = re.compile(r"(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)")


def cn_date(day: dt.date) -> str:
    """Write a date as 2026年3月31日 (no leading zeros, GB/T 9704 style)."""
    return f"{day.year}年{day.month}月{day.day}日"


def score(value: float | None, digits: int = 1) -> str:
    """Format a score, ``—`` when missing."""
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:.{digits}f}"


def signed(value: float | None, digits: int = 1) -> str:
    """Format a difference with its sign (+1.2 / -3.4), ``—`` when missing."""
    if value is None or not math.isfinite(value):
        return "—"
    text = f"{abs(value):.{digits}f}"
    if round(value, digits) == 0:
        return text
    return ("+" if value > 0 else "-") + text


def percent(value: float | None, digits: int = 0) -> str:
    """Format a share in 0..1 as a percentage, ``—`` when missing."""
    if value is None or not math.isfinite(value):
        return "—"
    return f"{100 * value:.{digits}f}%"


def rank_interval(low: int | None, high: int | None) -> str:
    """Write a rank interval as 第3—9名 (第3名 when both ends agree)."""
    if low is None or high is None:
        return "—"
    if low == high:
        return f"第{low}名"
    return f"第{low}—{high}名"


def cn_date_provisional(day: dt.date, provisional: bool) -> str:
    """A deadline as 2027年1月11日, followed by （暂定） when it is provisional."""
    return cn_date(day) + ("（暂定）" if provisional else "")


def expected_count(value: float | None) -> str:
    """An expected number of streets: one decimal from 1 up, two below (0.03)."""
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:.1f}" if value >= 1 else f"{value:.2f}"


def redact(text: str) -> str:
    """Hide phone numbers and ID numbers a resident may have typed into a comment."""
    text = _ID_NUMBER.sub("［证件号已隐去］", text)
    text = _MOBILE.sub("［电话已隐去］", text)
    return _LANDLINE.sub("［电话已隐去］", text)


def excerpt(text: str, limit: int = 60) -> str:
    """Redact and shorten a comment to ``limit`` characters, whitespace collapsed."""
    clean = " ".join(redact(text).split())
    if len(clean) <= limit:
        return clean
    return clean[: limit - 1] + "…"
