"""An agency clerk's first hour, desktop and phone, every page checked with axe-core.

Issues a batch in two steps (street, then its communities), gets a result page
with the QR sheet, decodes a QR code on every card, and revokes a batch through
its confirmation page.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from .conftest import Walk

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1280, "height": 900}, "bypass_csp": True, "accept_downloads": True}


def login(page, url: str, user: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{url}/auth/login")
    page.get_by_label("用户名").fill(user)
    page.get_by_label("密码").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()


def decode_pdf_qr_codes(pdf: Path, tmp_path: Path) -> list[list[str]]:
    """Decoded QR texts per page of ``pdf`` (pdftoppm at 150 dpi, zxing-cpp)."""
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    subprocess.run(["pdftoppm", "-png", "-r", "150", str(pdf), str(tmp_path / "p")], check=True)
    pages = []
    for png in sorted(tmp_path.glob("p-*.png")):
        pages.append([r.text for r in zxingcpp.read_barcodes(Image.open(png))])
    return pages


def test_agency_walk(live, browser, shots, tmp_path):
    context = browser.new_context(**DESKTOP)
    page = context.new_page()
    walk = Walk(page, shots, "agency")
    login(page, live.url, live.agency_user, live.agency_password)
    walk.check()
    page.goto(f"{live.url}/agency/waves/{live.wave_code}")
    bars = page.get_by_role("progressbar")
    assert bars.count() >= 9
    assert bars.first.get_attribute("aria-label")
    walk.check("1-dashboard-desktop")

    with page.expect_navigation():
        page.get_by_role("link", name="发放邀请码", exact=True).click()
    walk.check("2-issue-step1")
    page.get_by_label("第一步：选择街道").select_option(label="华侨路街道")
    with page.expect_navigation():
        page.get_by_role("button", name="下一步").click()
    options = page.locator("select#community option").all_inner_texts()
    assert options == ["不指定社区", "华侨路南村社区"], options
    page.get_by_label("数量").fill("0")
    with page.expect_navigation():
        page.get_by_role("button", name="创建并下载").click()
    assert page.title().startswith("错误：")
    assert "数量须在" in page.locator("#count-error").inner_text()
    walk.check("3-issue-error")

    page.get_by_label("社区（可不选）").select_option(label="华侨路南村社区")
    page.get_by_label("数量").fill("30")
    page.get_by_label("A4 二维码打印页（PDF）").check()
    page.get_by_role("button", name="创建并下载").click()
    page.wait_for_url(re.compile(r"/invitations\?street=\d+$"))
    assert "已创建 30 个邀请码" in page.content()
    walk.check("4-issue-done")
    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile("下载二维码打印页")).click()
    pdf = tmp_path / "sheet.pdf"
    info.value.save_as(pdf)
    decoded = decode_pdf_qr_codes(pdf, tmp_path)
    assert [len(p) for p in decoded] == [8, 8, 8, 6], decoded
    assert all(re.search(r"/s/[A-Za-z0-9_-]{22}$", t) for p in decoded for t in p)
    assert len({t for p in decoded for t in p}) == 30

    # bulk 作废 asks first
    page.goto(f"{live.url}/agency/waves/{live.wave_code}/invitations")
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("作废未用的")).first.click()
    assert "不能撤销" in page.content()
    walk.check("5-revoke-confirm")
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("确认作废")).click()
    assert "已作废" in page.content()
    walk.check()

    # the same screens on a phone
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live.url}/agency/waves/{live.wave_code}")
    walk.check("6-dashboard-phone")
    page.goto(f"{live.url}/agency/waves/{live.wave_code}/invitations?street=1")
    walk.check("7-issue-phone")
    walk.no_horizontal_overflow()
    context.close()
    walk.assert_clean()
