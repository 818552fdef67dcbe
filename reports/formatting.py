"""Chinese official-document wording for dates, scores, ranks and bands."""

from __future__ import annotations

import datetime as dt
import math
import re

from scoring.result import POOLED

BAND_WORDS = {
    "above": "高于全区平均",
    "similar": "与全区平均持平",
    "below": "低于全区平均",
}

DISTRICT_REFERENCE_WORDS = {
    "population": "全区平均（按各街道人口加权）",
    "street_mean": "全区平均（各街道简单平均）",
}
# runs scored before the district reference was defined pooled all respondents
POOLED_REFERENCE_WORDS = "全区平均（全部受访者合并计算）"

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


def band_words(band: str | None) -> str:
    """Plain words for a band code (above / similar / below; ``None``: no data)."""
    if band is None:
        return "暂无法判定（有效样本不足）"
    try:
        return BAND_WORDS[band]
    except KeyError:
        raise ValueError(f"unknown band {band!r}: expected above, similar or below") from None


def district_reference(reference: str | None) -> str:
    """Name the district reference a score is compared with.

    ``population``: streets weighted by their population counts; ``street_mean``:
    the plain mean of the streets; ``pooled`` or ``None`` (a run stored before the
    reference was recorded): the mean over all respondents pooled.
    """
    if reference is None or reference == POOLED:
        return POOLED_REFERENCE_WORDS
    return DISTRICT_REFERENCE_WORDS.get(reference, DISTRICT_REFERENCE_WORDS["street_mean"])


def cn_date_provisional(day: dt.date, provisional: bool) -> str:
    """A deadline as 2027年1月11日, followed by （暂定） when it is provisional."""
    return cn_date(day) + ("（暂定）" if provisional else "")


def band_with_gap(band: str | None, gap: float | None) -> str:
    """Band words with the gap in points beside them: 低于全区平均（-3.2分）.

    A street without a band (数据不全) reads 不作判定; the gap is still shown.
    """
    words = BAND_WORDS.get(band, "不作判定") if band is not None else "不作判定"
    if gap is None or not math.isfinite(gap):
        return words
    return f"{words}（{signed(gap)}分）"


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
