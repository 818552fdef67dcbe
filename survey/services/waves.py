"""Wave lifecycle: draft -> fieldwork -> closed -> scored -> notices_issued -> published."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import func, select

from scoring.settings import DEFAULTS

from ..errors import UserError
from ..extensions import db
from ..i18n import _
from ..models import District, Framework, Response, Wave
from ..models._base import utcnow
from .audit import record

STATE_NAMES = {
    "draft": _("草稿"),
    "fieldwork": _("调查中"),
    "closed": _("已结束收集"),
    "scored": _("已计分"),
    "notices_issued": _("已下发通知书"),
    "published": _("已公布"),
}

# action -> (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "open": (("draft",), "fieldwork"),
    "close": (("fieldwork",), "closed"),
    "score": (("closed", "scored"), "scored"),
    "issue": (("scored",), "notices_issued"),
    "publish": (("notices_issued",), "published"),
}
ACTION_NAMES = {
    "open": _("开始调查"),
    "close": _("结束收集"),
    "score": _("计分"),
    "issue": _("下发通知书"),
    "publish": _("公布结果"),
}


class WaveStateError(UserError):
    """A wave transition attempted out of order."""

    status = 409


def check_transition(wave: Wave, action: str) -> str:
    """Return the state ``action`` leads to, or raise :class:`WaveStateError`."""
    if action not in TRANSITIONS:
        raise WaveStateError(f"未知操作：{action}")
    sources, target = TRANSITIONS[action]
    if wave.state not in sources:
        allowed = "、".join(STATE_NAMES[s] for s in sources)
        raise WaveStateError(
            f"测评批次“{wave.name}”当前状态为“{STATE_NAMES.get(wave.state, wave.state)}”，"
            f"不能{ACTION_NAMES[action]}（只有“{allowed}”状态可以）。"
        )
    return target


def transition(wave: Wave, action: str, user_id: int | None = None) -> Wave:
    """Move ``wave`` along its lifecycle and audit-log it (not committed).

    Opening fieldwork freezes the framework version; closing records the time,
    after which no response can be added or changed.
    """
    target = check_transition(wave, action)
    before = wave.state
    if action == "open":
        wave.framework.frozen = True
    elif action == "close":
        wave.closed_at = utcnow()
    elif action == "publish":
        wave.published_at = utcnow()
    wave.state = target
    record(
        "wave." + action, wave, user_id=user_id, before={"state": before}, after={"state": target}
    )
    return wave


WAVE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")


def code_rule() -> str:
    """The wave-code rule in the reader's language."""
    return _("测评批次代码只能由字母、数字和连字符组成（以字母或数字开头）。")


def create_wave(
    district: District,
    framework: Framework,
    code: str,
    name: str,
    *,
    year: int | None = None,
    starts_on: date | None = None,
    ends_on: date | None = None,
    allow_open_links: bool = False,
    min_n: int = DEFAULTS.min_n,
    agency_name: str = "",
    hotline: str = "",
    user_id: int | None = None,
) -> Wave:
    """Add a draft wave (not committed).  :raises UserError: on a taken code.

    :param agency_name: the survey agency residents see on the privacy notice and cards.
    :param hotline: the phone number residents can call to check an invitation is genuine.
    """
    if not code or len(code) > 60:
        raise UserError(_("测评批次代码不能为空，且不超过60个字符。"))
    if not WAVE_CODE.fullmatch(code):
        raise UserError(code_rule())
    if db.session.scalar(select(Wave).where(Wave.code == code)):
        raise UserError(_("测评批次代码 %(code)s 已被使用。", code=code))
    if starts_on and ends_on and ends_on < starts_on:
        raise UserError(_("结束日期不能早于开始日期。"))
    wave = Wave(
        code=code,
        name=name,
        district=district,
        framework=framework,
        year=year or (starts_on.year if starts_on else utcnow().year),
        starts_on=starts_on,
        ends_on=ends_on,
        allow_open_links=allow_open_links,
        min_n=min_n,
        agency_name=agency_name.strip()[:120],
        hotline=hotline.strip()[:40],
        state="draft",
    )
    db.session.add(wave)
    db.session.flush()
    record("wave.create", wave, user_id=user_id, after={"code": code, "name": name})
    return wave


def response_count(wave: Wave) -> int:
    return (
        db.session.scalar(select(func.count(Response.id)).where(Response.wave_id == wave.id)) or 0
    )


def get_wave(code: str) -> Wave:
    """Return the wave with ``code``.  :raises LookupError: naming the known codes."""
    wave = db.session.scalar(select(Wave).where(Wave.code == code))
    if wave is None:
        known = ", ".join(db.session.scalars(select(Wave.code).order_by(Wave.code))) or "none"
        raise LookupError(f"no wave with code {code!r} (known: {known})")
    return wave


def set_weighting(wave: Wave, weighting: str, user_id: int | None = None) -> Wave:
    """Choose how the wave's scoring weights respondents (audit-logged, not committed).

    :param weighting: ``unweighted`` (every respondent alike), ``imported``
        (the responses' own weights) or ``raked`` (the responses' weights raked
        to the district's population margins).
    :raises UserError: an unknown setting.
    """
    from ..models import WEIGHTINGS

    if weighting not in WEIGHTINGS:
        raise UserError(_("加权方式须为 %(choices)s 之一。", choices=", ".join(WEIGHTINGS)))
    if wave.weighting != weighting:
        record(
            "wave.weighting",
            wave,
            user_id=user_id,
            before={"weighting": wave.weighting},
            after={"weighting": weighting},
        )
        wave.weighting = weighting
    return wave


def set_contacts(wave: Wave, agency_name: str, hotline: str, *, user_id: int | None = None) -> None:
    """Set the agency name and hotline residents see (not committed; audit-logged)."""
    before = {"agency_name": wave.agency_name, "hotline": wave.hotline}
    wave.agency_name = agency_name.strip()[:120]
    wave.hotline = hotline.strip()[:40]
    record(
        "wave.contacts",
        wave,
        user_id=user_id,
        before=before,
        after={"agency_name": wave.agency_name, "hotline": wave.hotline},
    )
