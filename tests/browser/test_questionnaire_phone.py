"""A resident on a phone: answer with some 不了解, leave, come back, submit once.

Drives Debian's Chromium through Playwright against a live server (CSRF on).
Set ``MINPING_SCREENSHOTS=DIR`` to keep phone and desktop screenshots.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "is_mobile": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


def answer(page, code: str, label: str) -> None:  # type: ignore[no-untyped-def]
    """Tap the whole option row (the label) of one question."""
    page.locator(f"#q-{code} label.q-option", has_text=re.compile(f"^\\s*{label}\\s*$")).click()


def shot(page, shots, name: str) -> None:  # type: ignore[no-untyped-def]
    if shots is not None:
        page.screenshot(path=str(shots / f"{name}.png"), full_page=False)


def test_resident_answers_leaves_resumes_and_submits_once(live, browser, shots):
    token = live.tokens[0]
    link = f"{live.url}/s/{token}"

    phone = browser.new_context(**PHONE)
    page = phone.new_page()
    page.goto(link)
    assert "不收集姓名、电话、身份证号和住址" in page.content()
    shot(page, shots, "phone-1-privacy")
    page.get_by_role("button", name="同意，开始填写").click()

    # page 1 (党建引领): one ordinary answer, two 不了解; the option rows are big targets
    page.wait_for_url(re.compile(r"/p/1$"))
    box = page.locator("#q-I01 label.q-option").first.bounding_box()
    assert box["height"] >= 48 and box["width"] >= 300
    answer(page, "I01", "满意")
    shot(page, shots, "phone-2-dimension")
    answer(page, "I02", "不了解")
    answer(page, "I03", "不了解")
    assert page.locator("#a_I02-dk").is_checked()
    page.get_by_role("button", name="下一页").click()

    # page 2: answer two, then save and leave
    page.wait_for_url(re.compile(r"/p/2$"))
    answer(page, "I04", "满意")
    answer(page, "I05", "一般")
    page.get_by_role("button", name="先保存，稍后再填").click()
    page.wait_for_url(re.compile(r"/saved$"))
    assert token in page.content()
    phone.close()

    # later, a fresh browser opens the same link and continues where it stopped
    phone = browser.new_context(**PHONE)
    page = phone.new_page()
    page.goto(link)
    page.get_by_role("button", name="继续填写").click()
    page.wait_for_url(re.compile(r"/p/2$"))
    assert page.locator("#a_I04-4").is_checked() and page.locator("#a_I05-3").is_checked()
    # skipping a question is caught with an error summary that links to it
    with page.expect_navigation():
        page.get_by_role("button", name="下一页").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    assert summary.get_by_role("link").count() == 4
    for code in ("I06", "I07", "I08", "I09"):
        answer(page, code, "不满意" if code == "I07" else "满意")
    page.get_by_role("button", name="下一页").click()
    for n, codes in ((3, ("I10", "I11", "I12", "I13", "I14")), (4, ("I15", "I16", "I17"))):
        page.wait_for_url(re.compile(f"/p/{n}$"))
        for code in codes:
            answer(page, code, "非常满意" if code != "I12" else "不了解")
        page.get_by_role("button", name="下一页").click()

    page.wait_for_url(re.compile(r"/p/5$"))
    page.locator("label[for=concern-I07]").click()
    page.locator("label[for=concern-I08]").click()
    answer(page, "overall", "满意")
    page.get_by_label("其他意见和建议（可不填）").fill("<b>路灯</b>不亮")
    page.get_by_role("button", name="检查答案").click()

    page.wait_for_url(re.compile(r"/review$"))
    body = page.locator("main").inner_text()
    assert body.count("不了解") == 3 and "<b>路灯</b>不亮" in body
    shot(page, shots, "phone-3-review")

    # a second tab had the review page open too: its submit must be refused
    stale = phone.new_page()
    stale.goto(f"{link}/review")
    page.get_by_role("button", name="提交问卷").click()
    page.get_by_text("提交成功").wait_for()
    assert "提交成功" in page.content()
    shot(page, shots, "phone-5-thanks")
    refused = stale.get_by_role("button", name="提交问卷")
    with stale.expect_response(lambda r: r.url.endswith("/review")) as info:
        refused.click()
    assert info.value.status == 409
    assert "已经提交过了" in stale.content()
    assert page.goto(link).status == 409
    # the thanks page came with the POST; switching language from it stays on it
    thanks = phone.new_page()
    thanks.goto(f"{link}/thanks")
    thanks.get_by_role("link", name="English").click()
    thanks.wait_for_url(re.compile(r"/thanks$"))
    assert "Submitted. Thank you!" in thanks.content()
    phone.close()


def test_screens_at_desktop_width_and_agency_dashboard(live, browser, shots):
    desktop = browser.new_context(**DESKTOP)
    page = desktop.new_page()
    page.goto(f"{live.url}/s/{live.tokens[1]}")
    shot(page, shots, "desktop-1-privacy")
    page.get_by_role("button", name="同意，开始填写").click()
    page.wait_for_url(re.compile(r"/p/1$"))
    answer(page, "I01", "满意")
    shot(page, shots, "desktop-2-dimension")
    for n in range(1, 5):
        for fieldset in page.locator("fieldset.q-question").all():
            fieldset.locator("label.q-option").nth(n % 3).click()
        page.get_by_role("button", name="下一页").click()
    answer(page, "overall", "一般")
    page.get_by_role("button", name="检查答案").click()
    page.wait_for_url(re.compile(r"/review$"))
    shot(page, shots, "desktop-3-review")

    page.goto(f"{live.url}/auth/login")
    page.get_by_label("用户名").fill(live.agency_user)
    page.get_by_label("密码").fill(live.agency_password)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
    page.goto(f"{live.url}/agency/waves/{live.wave_code}")
    assert page.locator("table.fieldwork tbody tr").count() == 9
    assert "2026年度居民满意度测评" in page.content()
    shot(page, shots, "desktop-4-dashboard")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, shots, "phone-4-dashboard")
    desktop.close()
