"""The demo's second district, 玄武区: four streets and a closed, scored wave.

It shows one installation serving several districts (docs/districts.md): its
own streets, wave, document settings (发文字号 ``玄民整``) and accounts scoped to
it, next to 鼓楼区; the demo's ``city`` account sees both.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np

from scoring.framework import Framework as FrameworkSpec

from ..models import District, Framework
from .accounts import create_user
from .districts import create_district
from .scoring_runs import score_wave
from .waves import create_wave, transition

CODE = "xuanwu-demo"
WAVE = "xuanwu-2026"
STREETS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("XWM", "玄武门街道", ("玄武门东苑社区", "玄武门西园社区")),
    ("XJK", "新街口街道", ("新街口南村社区", "新街口北街社区")),
    ("MLQ", "梅园新村街道", ("梅园新村社区", "梅园和园社区")),
    ("SZQ", "锁金村街道", ("锁金村银杏社区", "锁金村梧桐社区")),
)
ACCOUNTS: tuple[tuple[str, str, str | None, str], ...] = (
    ("xw-admin", "admin", None, "Demo-Xuanwu-2026"),
    ("xw-street", "street", "玄武门街道", "Demo-XwStreet-2026"),
)


def build_xuanwu(
    framework: Framework, spec: FrameworkSpec, seed: int, simulate_wave: Callable[..., int]
) -> tuple[District, int, list[Any]]:
    """Add 玄武区 with a scored wave; return (district, responses, accounts).  Not committed.

    ``simulate_wave(wave, district, spec, rng, seed)`` fills the wave (the same
    simulation as 鼓楼区, from its own seed).
    """
    district = create_district(
        CODE,
        "玄武区",
        [(code, name, list(communities)) for code, name, communities in STREETS],
        authority="南京市玄武区民政局",
        doc_prefix="玄民整",
    )
    district.reply_address = "玄武区民政局基层政权建设科（电话：025-0000 0001）"
    wave = create_wave(
        district,
        framework,
        WAVE,
        "2026年度玄武区居民满意度测评",
        starts_on=date(2026, 3, 1),
        ends_on=date(2026, 3, 20),
        year=2026,
    )
    transition(wave, "open")
    responses = simulate_wave(wave, district, spec, np.random.default_rng(seed + 1000), seed + 1000)
    transition(wave, "close")
    score_wave(wave, seed=seed)  # the default number of replicates
    streets = {s.name: s for s in district.streets}
    accounts = []
    for username, role, street_name, password in ACCOUNTS:
        create_user(
            username,
            password,
            role,
            streets.get(street_name) if street_name else None,
            None if street_name else district,
        )
        accounts.append((username, role, password))
    return district, responses, accounts
