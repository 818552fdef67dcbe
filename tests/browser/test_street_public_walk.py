"""A street officer and a member of the public on a phone, every page checked with axe-core.

The officer opens the returned item (the bureau's reason shown), uploads two
photos with captions, sees the reason still there, opens and cancels a delete,
resubmits without a progress note.  The public finds a street among many,
reads 待制定方案 and provisional deadlines, switches to English, and meets a 404.
"""

from __future__ import annotations

import io
import re

import pytest

from survey.services.demo_data import RETURN_REASON

from .conftest import Walk, sign_in

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "bypass_csp": True}


def _photo(color: tuple[int, int, int]) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (320, 240), color).save(out, "JPEG")
    return out.getvalue()


def test_street_officer_walk(demo_live, session_browser, shots, tmp_path):
    url = demo_live.url
    context = session_browser.new_context(**PHONE)
    context.set_default_timeout(120_000)
    page = context.new_page()
    walk = Walk(page, shots, "street")
    sign_in(page, url, "ninghailu", "Demo-Street-2026")
    page.goto(f"{url}/street/?wave=demo-2026")
    assert page.locator("ul.indicator-cards > li").count() == 17
    walk.check("1-home")
    walk.no_horizontal_overflow()

    page.goto(f"{url}/street/items")
    assert "剩余工作日" in page.content()
    walk.check("2-inbox")
    with page.expect_navigation():
        page.locator("tr", has_text="已退回").get_by_role("link").first.click()
    assert RETURN_REASON in page.locator("main").inner_text()
    walk.check("3-returned-item")

    files = []
    for n, color in enumerate(((200, 60, 40), (40, 60, 200))):
        path = tmp_path / f"photo{n}.jpg"
        path.write_bytes(_photo(color))
        files.append(path)
    page.get_by_label("文件 1", exact=True).set_input_files(str(files[0]))
    page.get_by_label("文件 1 的说明（可不填）").fill("充电口投入使用")
    page.get_by_label("文件 2（可不选）").set_input_files(str(files[1]))
    page.get_by_label("文件 2 的说明（可不填）").fill("居民正在充电")
    with page.expect_navigation():
        page.get_by_role("button", name="上传").click()
    main = page.locator("main").inner_text()
    assert "已上传 2 份佐证材料" in main
    assert RETURN_REASON in main  # still the bureau's reason, not the upload note
    assert "充电口投入使用" in main and "居民正在充电" in main
    walk.check("4-after-upload")

    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("删除 充电口投入使用")).click()
    assert "删除这份佐证材料？" in page.content()
    walk.check("5-delete-confirm")
    with page.expect_navigation():
        page.get_by_role("link", name="取消").click()

    page.get_by_label("整改成效").fill("已补充充电口使用中的照片。")
    with page.expect_navigation():
        page.get_by_role("button", name="报送验收").click()
    assert "已报送区民政局验收" in page.content()
    walk.check()
    page.goto(f"{url}/street/notices")
    walk.check()
    context.close()
    walk.assert_clean()


def test_public_walk(demo_live, session_browser, shots):
    url = demo_live.url
    context = session_browser.new_context(**PHONE)
    page = context.new_page()
    walk = Walk(page, shots, "public")
    page.goto(f"{url}/public/")
    walk.check()
    page.goto(f"{url}/public/demo-2026/")
    walk.check("1-wave")
    page.get_by_label("街道名称").fill("湖南")
    with page.expect_navigation():
        page.get_by_role("button", name="查找").click()
    assert page.locator("ol.street-cards > li").count() == 1
    walk.check("2-search")
    with page.expect_navigation():
        page.get_by_role("link", name="湖南路街道").click()
    main = page.locator("main").inner_text()
    assert "待制定方案" in main
    assert not re.search(r"年0\d月|月0\d日", main)  # dates are not zero-padded
    walk.check("3-street")
    walk.no_horizontal_overflow()

    # large text and 200% zoom (a 195 px-wide phone is too narrow to mean anything: use 640/2)
    with page.expect_navigation():
        page.get_by_role("link", name="大字号").click()
    walk.check("4-street-large")
    walk.no_horizontal_overflow()

    # English: the 404 page wholly in English, Chinese data marked
    page.goto(f"{url}/lang/en?next=/public/demo-2026/streets/HNL")
    walk.check("5-street-english")
    marked = page.locator("main [lang='zh-CN']").count()
    assert marked > 0
    page.goto(f"{url}/public/no-such-wave/")
    text = page.locator("main").inner_text()
    assert "Page not found" in text or "not found" in text.lower()
    assert not re.search(r"[\u4e00-\u9fff]", text), text
    walk.check("6-404-english")
    context.close()
    walk.assert_clean()
