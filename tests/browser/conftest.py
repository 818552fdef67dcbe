"""A live minping server for browser tests: own SQLite file, CSRF on, one thread."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from survey import create_app
from survey.config import TestConfig
from survey.extensions import db

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AGENCY_PASSWORD = "Agency-Password-2026"


@dataclass
class Live:
    url: str
    tokens: list[str]
    wave_code: str
    app: object = field(repr=False)
    agency_user: str = "agency-live"
    agency_password: str = AGENCY_PASSWORD


def _seed() -> tuple[list[str], str]:
    from scoring.framework import load_default_framework
    from survey.models import Quota
    from survey.services.accounts import create_user
    from survey.services.districts import create_district
    from survey.services.frameworks import save_framework
    from survey.services.invitations import create_batch
    from survey.services.waves import create_wave, transition

    district = create_district(
        "gulou",
        "鼓楼区",
        [
            ("NHL", "宁海路", ["宁海路东苑社区", "宁海路西园社区"]),
            ("HQL", "华侨路", ["华侨路南村社区"]),
            ("HNL", "湖南路", ["湖南路新村社区"]),
        ],
        authority="南京市鼓楼区民政局",
    )
    wave = create_wave(
        district, save_framework(load_default_framework()), "live-2026", "2026年度居民满意度测评"
    )
    transition(wave, "open")
    street = district.streets[0]
    _, tokens = create_batch(wave, street, "elderly", 3, community=street.communities[0])
    for n, s in enumerate(district.streets):
        for g, target in (("elderly", 120), ("adult", 120), ("unit", 40)):
            db.session.add(Quota(wave_id=wave.id, street_id=s.id, group_code=g, target=target))
        create_batch(wave, s, "adult", 10 + 5 * n)
    create_user("agency-live", AGENCY_PASSWORD, "agency")
    db.session.commit()
    return tokens, wave.code


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Debian's Chromium is not installed at {CHROMIUM}")
    db_file = tmp_path_factory.mktemp("live") / "live.sqlite"
    config = type(
        "LiveConfig",
        (TestConfig,),
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_file}", "WTF_CSRF_ENABLED": True},
    )
    app = create_app(config)
    with app.app_context():
        db.create_all()
        tokens, wave_code = _seed()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Live(f"http://127.0.0.1:{server.server_port}", tokens, wave_code, app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="module")
def browser(live: Live):  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def shots() -> Path | None:
    """Directory for screenshots when ``MINPING_SCREENSHOTS`` is set, else None."""
    target = os.environ.get("MINPING_SCREENSHOTS")
    if not target:
        return None
    path = Path(target)
    path.mkdir(parents=True, exist_ok=True)
    return path
