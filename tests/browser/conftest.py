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
        district,
        save_framework(load_default_framework()),
        "live-2026",
        "2026年度居民满意度测评",
        agency_name="南京民意调查中心",
        hotline="025-8888 1234",
    )
    district.streets[0].communities[0].phone = "025-5555 0001"
    transition(wave, "open")
    street = district.streets[0]
    _, tokens = create_batch(wave, street, "elderly", 4, community=street.communities[0])
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
def browser(live: Live, session_browser):  # type: ignore[no-untyped-def]
    """The one Chromium of the session (Playwright's sync API allows one at a time)."""
    return session_browser


@pytest.fixture
def shots() -> Path | None:
    """Directory for screenshots when ``MINPING_SCREENSHOTS`` is set, else None."""
    target = os.environ.get("MINPING_SCREENSHOTS")
    if not target:
        return None
    path = Path(target)
    path.mkdir(parents=True, exist_ok=True)
    return path


AXE_SOURCE = Path(__file__).with_name("vendor") / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_problems(page) -> list[str]:  # type: ignore[no-untyped-def]
    """Run axe-core (vendored, MPL-2.0) with the WCAG 2.1 A/AA rules on ``page``.

    Returns one line per serious or critical violation (rule, impact, first targets);
    an empty list means the page passes.
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "tags => axe.run(document, "
        "{runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        AXE_TAGS,
    )
    out = []
    for v in result["violations"]:
        if v["impact"] in ("serious", "critical"):
            targets = ", ".join(str(n["target"]) for n in v["nodes"][:3])
            out.append(f"{page.url}: {v['id']} ({v['impact']}, {len(v['nodes'])}x) {targets}")
    return out


WIDE_ELEMENTS = """() => {
  const w = window.innerWidth, out = [];
  for (const e of document.querySelectorAll('body *')) {
    const r = e.getBoundingClientRect();
    if (r.right <= w + 1) continue;
    let p = e.parentElement, clipped = false;
    while (p) {
      if (getComputedStyle(p).overflowX !== 'visible') { clipped = true; break; }
      p = p.parentElement;
    }
    if (!clipped) out.push(e.tagName + '.' + e.className + ' ' + Math.round(r.right));
  }
  return out.slice(0, 10);
}"""


class Walk:
    """A role's walk through the site: every page visited is checked with axe."""

    def __init__(self, page, shots: Path | None, prefix: str) -> None:  # type: ignore[no-untyped-def]
        self.page = page
        self.shots = shots
        self.prefix = prefix
        self.problems: list[str] = []
        self.checked: list[str] = []

    def check(self, name: str | None = None) -> None:
        """Run axe on the current page (and keep a screenshot when asked to)."""
        self.page.wait_for_load_state("load")
        self.problems += axe_problems(self.page)
        self.checked.append(self.page.url)
        if name and self.shots is not None:
            self.page.screenshot(path=str(self.shots / f"{self.prefix}-{name}.png"), full_page=True)

    def assert_clean(self) -> None:
        assert not self.problems, "axe found serious/critical problems:\n" + "\n".join(
            self.problems
        )

    def no_horizontal_overflow(self) -> None:
        """The page does not scroll sideways (200% zoom is a 640 px wide viewport at 1280)."""
        width = self.page.evaluate("document.documentElement.scrollWidth")
        inner = self.page.evaluate("window.innerWidth")
        wide = self.page.evaluate(WIDE_ELEMENTS) if width > inner + 1 else []
        assert width <= inner + 1, f"{self.page.url} overflows: {width} > {inner}: {wide}"


@dataclass
class DemoLive:
    url: str
    closed_wave: str  # a closed wave for the bureau to score, issue and publish
    app: object = field(repr=False)


@pytest.fixture(scope="session")
def demo_live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoLive]:
    """The demo district (published wave, items in every state) plus a closed wave, served."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Debian's Chromium is not installed at {CHROMIUM}")
    import numpy as np

    from survey.services.demo import _simulate_wave, build_demo, demo_wave
    from survey.services.frameworks import spec_of
    from survey.services.waves import create_wave, transition

    db_file = tmp_path_factory.mktemp("demo-live") / "demo.sqlite"
    config = type(
        "DemoLiveConfig",
        (TestConfig,),
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_file}", "WTF_CSRF_ENABLED": True},
    )
    app = create_app(config)
    with app.app_context():
        build_demo(seed=7, force=True)
        base = demo_wave()
        wave = create_wave(
            base.district,
            base.framework,
            "walk-2027",
            "2027年度居民满意度测评",
            agency_name="南京民意调查中心（演示）",
            hotline="025-8888 1234",
        )
        transition(wave, "open")
        streets = base.district.streets
        _simulate_wave(
            wave,
            base.district,
            spec_of(base.framework),
            np.random.default_rng(3),
            3,
            sizes=[60] * len(streets),
        )
        transition(wave, "close")
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield DemoLive(f"http://127.0.0.1:{server.server_port}", "walk-2027", app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="session")
def session_browser():  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Debian's Chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def sign_in(page, url: str, user: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{url}/auth/login")
    page.get_by_label("用户名").fill(user)
    page.get_by_label("密码").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
