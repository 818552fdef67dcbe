"""A public street page on a phone (390x844) in Debian's Chromium, saved as a screenshot.

Requests from the browser are answered by the Flask test client (Playwright
routing), so the page sees this test's rolled-back data and no server runs.
Set ``MINPING_SCREENSHOT`` to a path to keep the picture (docs/public-street-phone.png).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from survey.extensions import db

from . import rectification_support as S

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ORIGIN = "http://minping.test"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]


def test_public_street_page_on_a_phone(app, client, make_wave, district, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    wave = S.score(S.simulated_wave(make_wave, "phone-1"))
    wave.name = "2026年度居民满意度测评"
    street = district.streets[0]
    items = S.accepted_items(wave, street)
    items[1].indicator_name = "停车秩序"
    items[1].measures = "施划夜间错时停车位120个"
    items[1].result = "夜间小区道路不再堵车，消防通道畅通。"
    wave.state = "published"
    db.session.flush()

    # Answer the browser from responses fetched here, in the test's own context: Playwright
    # runs route handlers in another greenlet, where this test's session is not current.
    path = f"/public/{wave.code}/streets/{street.code}"
    fetched = {}
    for url in [
        path,
        *re.findall(
            r'(?:src|href)="(/(?:static|public/evidence)/[^"]+)"',
            client.get(path).get_data(as_text=True),
        ),
    ]:
        response = client.get(url)
        fetched[ORIGIN + url] = (response.status_code, dict(response.headers), response.get_data())
        response.close()  # static files are streamed from an open file

    def forward(route):  # type: ignore[no-untyped-def]
        status, headers, body = fetched.get(route.request.url, (404, {}, b""))
        headers = {k: v for k, v in headers.items() if k.lower() != "content-length"}
        route.fulfill(status=status, headers=headers, body=body)

    shot = tmp_path / "public-street-phone.png"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=1)
            page.route(f"{ORIGIN}/**", forward)
            page.goto(f"{ORIGIN}/public/{wave.code}/streets/{street.code}")
            assert page.locator("h1").inner_text() == "宁海路街道"
            # Readable for elderly readers: body text at least 18 px, no sideways scrolling.
            size = page.evaluate(
                "parseFloat(getComputedStyle(document.querySelector('.rect-item p')).fontSize)"
            )
            assert size >= 18
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            images = page.locator(".photo-row img")
            assert images.count() == 2
            assert all(
                page.evaluate(
                    "(img) => img.complete && img.naturalWidth > 0", images.nth(i).element_handle()
                )
                for i in range(images.count())
            )
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert shot.stat().st_size < 300 * 1024
    keep = os.environ.get("MINPING_SCREENSHOT")
    if keep:
        shutil.copyfile(shot, keep)
