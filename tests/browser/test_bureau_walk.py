"""A bureau official's first hour on a desktop (and a phone), every page checked with axe-core.

Scores a closed wave from 流程操作, checks the documents before issuing them,
watches the issuing job, checks what the public will see before publishing, then
reads the audit log, a framework error, AHP, residents' comments and the
rectification list.
"""

from __future__ import annotations

import re

import pytest

from .conftest import Walk, sign_in

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1280, "height": 900}, "bypass_csp": True}


def test_bureau_walk(demo_live, session_browser, shots):
    url, code = demo_live.url, demo_live.closed_wave
    context = session_browser.new_context(**DESKTOP)
    context.set_default_timeout(180_000)  # issuing 14 documents on a busy machine
    page = context.new_page()
    walk = Walk(page, shots, "bureau")
    sign_in(page, url, "admin", "Demo-Admin-2026")
    walk.check("1-home")

    # a closed wave: 流程操作 offers scoring in plain words
    page.goto(f"{url}/admin/waves/{code}")
    steps = page.locator("#next-step")
    assert "下一步：计分" in steps.inner_text()
    assert "重复抽样次数（默认1000，一般无需修改）" in page.content()
    walk.check("2-wave-closed")
    with page.expect_navigation():
        steps.get_by_role("button", name="开始计分").click()
    assert "计分完成" in page.content()
    walk.check("3-results")

    # issuing: a confirmation page with how many documents and which numbers
    page.goto(f"{url}/admin/waves/{code}/notices")
    walk.check()
    with page.expect_navigation():
        page.get_by_role("button", name="下一步：核对将要下发的文件").click()
    text = page.locator("main").inner_text()
    assert "共 14 份正式文件" in text and re.search(r"鼓民整〔\d{4}〕\d+号 — 鼓民整", text)
    walk.check("4-issue-confirm")
    with page.expect_navigation():
        page.get_by_role("button", name="确认下发 14 份文件").click()
    bar = page.get_by_role("progressbar", name="生成进度")
    assert bar.count() == 1 and bar.get_attribute("aria-valuenow") == "100"
    walk.check("5-issue-job")

    # publishing: first what the public will see
    with page.expect_navigation():
        page.get_by_role("link", name="公布结果…").click()
    assert "公众将看到什么" in page.content() and "待制定方案" in page.content()
    walk.check("6-publish-confirm")
    with page.expect_navigation():
        page.get_by_role("button", name="确认公布").click()
    assert "结果已公布" in page.content()
    walk.check()
    page.get_by_role("link", name="打开公示页面").click()
    page.wait_for_url(re.compile(f"/public/{code}/$"))
    walk.check()

    # the audit log in plain words, Beijing time
    page.goto(f"{url}/admin/audit")
    body = page.locator("main").inner_text()
    assert "公布结果" in body and "北京时间" in body and "wave.publish" not in body
    assert "退回整改事项" in body
    walk.check("7-audit")

    # a weight error in Chinese, on the framework a running wave uses
    page.goto(f"{url}/admin/waves/{code}")
    with page.expect_navigation():
        page.locator("dl.facts a[href*='/admin/frameworks/']").click()
    assert "不会用于已经开始调查的测评批次" in page.content()
    page.locator("#dim_w_D1").fill("0.25")
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("保存修改|另存为新版本")).click()
    assert "权重合计为 1.05，必须正好等于 1" in page.content()
    assert page.title().startswith("错误：")
    walk.check("8-framework-error")
    page.goto(page.url.rstrip("/") + "/ahp")
    values = [page.locator(f"#a_{i}_{j}").input_value() for i, j in ((0, 1), (0, 2), (1, 2))]
    assert values != ["1", "1", "1"], values
    walk.check("9-ahp")

    # residents' comments: group names and search
    page.goto(f"{url}/admin/waves/demo-2026/results")
    with page.expect_navigation():
        page.locator("main a[href*='/streets/']").first.click()
    page.get_by_label("搜索意见中的文字").fill("电动车")
    with page.expect_navigation():
        page.get_by_role("button", name="筛选").click()
    comments = page.locator("ul.comments").inner_text()
    assert "电动车" in comments and ("老年" in comments or "居民" in comments or "单位" in comments)
    assert "elderly" not in comments and "adult" not in comments
    walk.check("10-street-comments")

    # the rectification list: counts, reports waiting for acceptance first
    page.goto(f"{url}/admin/rectification/?wave=demo-2026")
    assert page.locator(".state-counts").count() == 1
    first_state = page.locator("table.items-table tbody tr").first.inner_text()
    assert "待验收" in first_state, first_state
    walk.check("11-rectification")

    # the same pages on a phone, and at 200% zoom (a 640 px wide viewport)
    page.set_viewport_size({"width": 390, "height": 844})
    for path, name in (
        (f"/admin/waves/{code}", "12-wave-phone"),
        ("/admin/rectification/?wave=demo-2026", "13-rectification-phone"),
        (f"/admin/waves/{code}/results", "14-results-phone"),
    ):
        page.goto(url + path)
        walk.check(name)
        walk.no_horizontal_overflow()
    page.set_viewport_size({"width": 640, "height": 800})
    page.goto(f"{url}/admin/")
    walk.no_horizontal_overflow()
    context.close()
    walk.assert_clean()
