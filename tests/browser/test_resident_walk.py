"""A resident's first hour on a phone, every page checked with axe-core (WCAG 2.1 A/AA).

Types the short code from a card (lower case, with spaces), checks the link is
genuine, meets inline errors (an unanswered page, a 4th concern), edits from the
review page, saves and resumes, and submits.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from survey.services.invitations import typed_code

from .conftest import Walk

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "bypass_csp": True}


def answer(page, code: str, label: str) -> None:  # type: ignore[no-untyped-def]
    page.locator(f"#q-{code} label.q-option", has_text=re.compile(f"^\\s*{label}\\s*$")).click()


def answer_page(page) -> None:  # type: ignore[no-untyped-def]
    for fieldset in page.locator("fieldset.q-question").all():
        fieldset.locator("label.q-option").nth(1).click()


def test_resident_walk_with_typed_code(live, browser, shots):
    token = live.tokens[3]
    code = typed_code(token)
    context = browser.new_context(**PHONE)
    page = context.new_page()
    walk = Walk(page, shots, "resident")

    page.goto(f"{live.url}/s/")
    walk.check("1-enter-code")
    page.get_by_label("邀请码").fill(code.lower().replace("-", " "))
    page.get_by_role("button", name="打开问卷").click()
    page.wait_for_url(re.compile(f"/s/{code}$"))
    body = page.locator("main").inner_text()
    assert "怎样确认这份问卷是真的" in body and "南京民意调查中心" in body
    assert "025-8888 1234" in body and "025-5555 0001" in body
    walk.check("2-privacy-genuine")
    page.get_by_role("button", name="同意，开始填写").click()

    # an unanswered page: error summary focused, title says so
    page.wait_for_url(re.compile(r"/p/1$"))
    with page.expect_navigation():
        page.get_by_role("button", name="下一页").click()
    assert page.title().startswith("错误：")
    # autofocus is applied by the browser after the page renders: wait for it
    expect(page.locator(".error-summary")).to_be_focused()
    walk.check("3-missing-answers")

    # 大字号 really enlarges question and option text
    option = page.locator("#q-I01 label.q-option").first
    legend = page.locator("#q-I01 legend")
    before = (
        option.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"),
        legend.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"),
    )
    with page.expect_navigation():
        page.get_by_role("link", name="大字号").click()
    after = (
        page.locator("#q-I01 label.q-option").first.evaluate(
            "e => parseFloat(getComputedStyle(e).fontSize)"
        ),
        page.locator("#q-I01 legend").evaluate("e => parseFloat(getComputedStyle(e).fontSize)"),
    )
    assert after[0] >= 1.2 * before[0] and after[1] >= 1.2 * before[1], (before, after)
    walk.check("4-large-text")
    walk.no_horizontal_overflow()
    with page.expect_navigation():
        page.get_by_role("link", name="标准字号").click()

    answer_page(page)
    page.get_by_role("button", name="下一页").click()
    page.wait_for_url(re.compile(r"/p/2$"))
    answer_page(page)
    page.get_by_role("button", name="先保存，稍后再填").click()
    page.wait_for_url(re.compile(r"/saved$"))
    walk.check()

    # come back later: the start page says how far you got
    page.goto(f"{live.url}/s/{code}")
    assert "您上次填到这里" in page.content()
    progress = page.get_by_role("progressbar", name="已答题目")
    assert progress.count() == 1
    walk.check("5-resume")
    page.get_by_role("button", name="继续填写").click()
    page.wait_for_url(re.compile(r"/p/2$"))
    page.get_by_role("button", name="下一页").click()
    for n in (3, 4):
        page.wait_for_url(re.compile(f"/p/{n}$"))
        answer_page(page)
        page.get_by_role("button", name="下一页").click()

    # the final page: a 4th concern comes back inline, answers kept
    page.wait_for_url(re.compile(r"/p/5$"))
    assert "已选 0/3" in page.content()
    for c in ("I01", "I04", "I07", "I09"):
        page.locator(f"label[for=concern-{c}]").click()
    answer(page, "overall", "满意")
    page.get_by_label("其他意见和建议（可不填）").fill("路灯坏了很久")
    with page.expect_navigation():
        page.get_by_role("button", name="检查答案").click()
    assert page.title().startswith("错误：")
    assert "最多选3项，您选了4项" in page.locator("#concerns-error").inner_text()
    assert "已选 4/3" in page.content()
    assert page.locator("#concern-I09").is_checked() and page.locator("#overall-4").is_checked()
    assert page.get_by_label("其他意见和建议（可不填）").input_value() == "路灯坏了很久"
    walk.check("6-fourth-concern")
    page.locator("label[for=concern-I09]").click()
    page.get_by_role("button", name="检查答案").click()

    # 修改 from the review page returns straight to the review page
    page.wait_for_url(re.compile(r"/review$"))
    walk.check("7-review")
    edit = page.locator("a.q-edit").nth(1)
    box = edit.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44
    edit.click()
    page.wait_for_url(re.compile(r"/p/2\?return=review$"))
    answer(page, "I04", "非常满意")
    page.get_by_role("button", name="保存，回到检查页").click()
    page.wait_for_url(re.compile(r"/review$"))
    walk.check()

    # English: the same error, all in English, Chinese data marked lang=zh
    page.goto(f"{live.url}/lang/en?next=/s/{code}/p/5")
    for c in ("I01", "I02", "I03", "I04"):
        if not page.locator(f"#concern-{c}").is_checked():
            page.locator(f"label[for=concern-{c}]").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Check answers").click()
    text = page.locator("#concerns-error").inner_text()
    assert "at most 3" in text and not re.search(r"[\u4e00-\u9fff]", text)
    walk.check("8-english-error")
    page.goto(f"{live.url}/lang/zh?next=/s/{code}/review")
    page.get_by_role("button", name="提交问卷").click()
    page.get_by_text("提交成功").wait_for()
    walk.check("9-thanks")
    context.close()
    walk.assert_clean()


def test_axe_helper_reports_serious_problems(live, browser):
    """The checker itself can fail: an unlabelled field and an image without text."""
    from .conftest import axe_problems

    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.set_content(
        '<html lang="en"><title>t</title><main><input type="text"><img src="x.png"></main></html>'
    )
    problems = axe_problems(page)
    context.close()
    assert any("label" in p for p in problems) and any("image-alt" in p for p in problems)
