"""Rectification notice PDF read back: text, deadline, fonts, page size, escaping."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pdfplumber
import pytest

from reports.calendar import OfficialCalendar, add_working_days
from reports.models import NoticeData
from reports.notice import NoticeSettings, build_notice_data, render_notice_html, render_notice_pdf
from reports.requirements import DEFAULT_REQUIREMENT
from scoring.result import from_dict

COMMENTS = {
    "I07": [
        "楼道里充电太危险 <script>alert('x')</script> & 没人管",
        "打过电话13912345678反映，身份证号320102198001011234",
    ],
    "I08": ["晚上停车位不够"],
}


Build = Callable[[NoticeSettings], NoticeData]


@pytest.fixture(scope="module")
def build(scores: dict[str, Any], names: tuple[dict[str, str], dict[str, str]]) -> Build:
    """Factory: Ning Hai Road's notice data under the given settings."""
    dims, inds = names

    def make(settings: NoticeSettings) -> NoticeData:
        return build_notice_data(
            from_dict(scores),
            "宁海路街道",
            settings,
            seq=3,
            dimension_names=dims,
            indicator_names=inds,
            comments=COMMENTS,
        )

    return make


@pytest.fixture(scope="module")
def notice(build: Build, settings: NoticeSettings, tmp_path_factory: Any) -> Path:
    path = tmp_path_factory.mktemp("notice") / "notice.pdf"
    path.write_bytes(render_notice_pdf(build(settings)))
    return path


def test_builds_items_from_priorities(build: Build, settings: NoticeSettings) -> None:
    data = build(settings)
    assert data.letterhead.doc_number == "鼓民整〔2026〕3号"
    assert data.title == "关于宁海路街道2026年度居民满意度测评结果及整改要求的通知"
    assert data.addressee == "宁海路街道办事处："
    assert [i.code for i in data.items] == ["I07", "I08", "I06"]
    first = data.items[0]
    assert first.gap == pytest.approx(first.street_score - 86.0)
    assert first.attention == pytest.approx(0.41)
    assert "［电话已隐去］" in first.comments[1] and "13912345678" not in first.comments[1]
    assert "320102198001011234" not in first.comments[1]
    assert first.requirement == DEFAULT_REQUIREMENT.format(
        street="宁海路街道", indicator="电动车停放充电"
    )


def test_requirement_templates(build: Build, settings: NoticeSettings) -> None:
    from dataclasses import replace

    custom = replace(
        settings, requirement_templates={"I07": "{street}要在小区增设{indicator}设施。"}
    )
    data = build(custom)
    assert data.items[0].requirement == "宁海路街道要在小区增设电动车停放充电设施。"
    bad = replace(settings, requirement_templates={"I07": "{street}{name}", "I08": "{"})
    with pytest.raises(ValueError) as caught:
        build(bad)
    assert "I07: unknown placeholder {name}" in str(caught.value)
    assert "I08:" in str(caught.value)


def test_unknown_street(scores: dict[str, Any], settings: NoticeSettings) -> None:
    with pytest.raises(ValueError, match="not in the scores"):
        build_notice_data(
            from_dict(scores), "不存在街道", settings, seq=1, dimension_names={}, indicator_names={}
        )


def test_pdf_text_holds_street_number_score_and_deadline(notice: Path, read_text: Any) -> None:
    text = read_text(notice)
    # deadline counted independently: see test_report_calendar (30 working days -> May 15)
    assert "请于2026年5月15日前（30个工作日内）报送整改报告并向居民公示" in text
    assert "宁海路街道" in text
    assert "鼓民整〔2026〕3号" in text
    assert "综合得分86.9分" in text  # 88.4 - 1.5 from the fixture
    assert "95%置信区间为85.1—88.7分" in text
    assert "第1—2名" in text and "高于全区平均" in text
    assert "2026年3月31日" in text
    assert "暂定" not in text
    assert "附件1" in text and "附件2" in text


def test_page_numbers_alternate_sides(notice: Path) -> None:
    with pdfplumber.open(notice) as pdf:
        assert len(pdf.pages) >= 2
        for number, page in enumerate(pdf.pages[:2], start=1):
            words = [w for w in page.extract_words() if w["text"] == str(number)]
            footer = [w for w in words if w["top"] > page.height - 35 / 25.4 * 72]
            assert footer, f"no page number on page {number}"
            x = footer[-1]["x0"]
            assert (x > page.width / 2) if number % 2 else (x < page.width / 2)


def test_user_text_is_escaped(
    build: Build, settings: NoticeSettings, notice: Path, read_text: Any
) -> None:
    html = render_notice_html(build(settings))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; 没人管" in html
    assert "<script>alert('x')</script>&没人管" in read_text(notice)


def test_every_font_embedded_and_subset(notice: Path, pdffonts: Any) -> None:
    rows = pdffonts(notice)
    assert rows
    for row in rows:
        assert row["emb"] == "yes" and row["sub"] == "yes", row
        assert re.match(r"^[A-Z]{6}\+", row["name"]), row
    names = " ".join(r["name"] for r in rows)
    assert "UKai" in names
    # the bold serif, or its cached copy without the rarer ideographs (reports/fonts.py)
    assert "Noto-Serif-CJK-SC" in names or "Minping-Serif" in names
    assert "DejaVu" not in names  # no silent fallback to a Latin font


def test_a4_pages(notice: Path) -> None:
    with pdfplumber.open(notice) as pdf:
        for page in pdf.pages:
            assert page.width == pytest.approx(595, abs=1)
            assert page.height == pytest.approx(842, abs=1)


def test_deadline_in_missing_year_is_provisional(
    build: Build, settings: NoticeSettings, tmp_path: Path, read_text: Any
) -> None:
    from dataclasses import replace

    late = replace(settings, issue_date=dt.date(2026, 12, 1), calendar=OfficialCalendar.seeded())
    data = build(late)
    expected = add_working_days(dt.date(2026, 12, 1), 30, OfficialCalendar.seeded())
    assert expected.provisional and expected.date.year == 2027
    path = tmp_path / "late.pdf"
    path.write_bytes(render_notice_pdf(data))
    text = read_text(path)
    day = f"{expected.date.year}年{expected.date.month}月{expected.date.day}日"
    assert f"请于{day}前（30个工作日内，暂定）报送整改报告" in text
    assert "按周一至周五工作日暂定" in text
