"""Template filters for dates and times as readers expect them (北京时间, 2027年1月11日)."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from flask_babel import get_locale

from .services import event_notes

BEIJING = dt.timezone(dt.timedelta(hours=8), "CST")


def _english() -> bool:
    locale = get_locale()
    return locale is not None and locale.language == "en"


def zh_date(value: dt.date | dt.datetime | None) -> str:
    """``2027年1月11日`` (no zero padding) in Chinese, ``11 Jan 2027`` in English."""
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        value = beijing_time(value).date()
    if _english():
        return f"{value.day} {value.strftime('%b')} {value.year}"
    return f"{value.year}年{value.month}月{value.day}日"


def beijing_time(value: dt.datetime) -> dt.datetime:
    """A stored UTC time (naive or aware) in Beijing time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(BEIJING)


def beijing(value: dt.datetime | None) -> str:
    """``2026-11-30 18:54（北京时间）`` from a stored UTC time."""
    if value is None:
        return "—"
    local = beijing_time(value)
    suffix = " (Beijing time)" if _english() else "（北京时间）"
    return local.strftime("%Y-%m-%d %H:%M") + suffix


def beijing_short(value: dt.datetime | None) -> str:
    """``2026-11-30 18:54:07`` in Beijing time (the column header says so)."""
    return "—" if value is None else beijing_time(value).strftime("%Y-%m-%d %H:%M:%S")


def init_app(app: Flask) -> None:
    app.add_template_filter(beijing_short, "beijing_short")
    app.add_template_filter(zh_date, "zh_date")
    app.add_template_filter(beijing, "beijing")
    app.add_template_filter(event_notes.shown, "event_note")
