"""Ranking report, publication and escalation PDFs, and the text helpers they use."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pdfplumber
import pytest

from reports.calendar import Deadline, OfficialCalendar, add_working_days, working_days_between
from reports.followup import (
    render_escalation_pdf,
    render_publication_html,
    render_publication_pdf,
)
from reports.formatting import excerpt, redact, signed
from reports.layout import title_lines
from reports.models import (
    EscalationData,
    Letterhead,
    OverdueItem,
    PublicationData,
    PublicationItem,
)
from reports.ranking import RankingSettings, build_ranking_data, chunks, render_ranking_pdf
from reports.wording import escalation_title
from scoring.result import from_dict

LETTERHEAD = Letterhead("南京市鼓楼区民政局", "南京市鼓楼区民政局文件", "鼓民督〔2026〕1号")


def write(tmp_path: Path, name: str, pdf: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(pdf)
    return path


def test_ranking_report(
    scores: dict[str, Any],
    names: tuple[dict[str, str], dict[str, str]],
    tmp_path: Path,
    read_text: Any,
    pdffonts: Any,
) -> None:
    settings = RankingSettings(
        authority="南京市鼓楼区民政局",
        mark="南京市鼓楼区民政局文件",
        doc_number="鼓民通〔2026〕2号",
        wave_name="2026年度居民满意度测评",
        issue_date=dt.date(2026, 3, 31),
    )
    data = build_ranking_data(from_dict(scores), settings, dimension_names=names[0])
    assert [s.street for s in data.streets] == ["宁海路街道", "华侨路街道", "湖南路街道"]
    path = write(tmp_path, "ranking.pdf", render_ranking_pdf(data))
    text = read_text(path)
    assert "关于2026年度居民满意度测评结果的通报" in text
    assert "鼓民通〔2026〕2号" in text
    assert "1个街道高于全区平均，1个街道与全区平均持平，1个街道低于全区平均" in text
    assert "湖南路街道" in text and "第2—3名" in text and "低于" in text
    assert "重复抽样1000次" in text
    assert all(r["emb"] == "yes" and r["sub"] == "yes" for r in pdffonts(path))
    with pdfplumber.open(path) as pdf:
        assert pdf.pages[0].width == pytest.approx(595, abs=1)


@pytest.mark.parametrize("count", [1, 13, 42, 43, 95, 300])
def test_caterpillar_chunks_cover_every_street_once(count: int) -> None:
    parts = chunks(count)
    assert [i for part in parts for i in part] == list(range(count))
    assert len(parts[0]) <= 42 and all(len(p) <= 52 for p in parts)
    assert max(len(p) for p in parts) - min(len(p) for p in parts[1:] or parts) <= 1


def test_publication(tmp_path: Path, read_text: Any) -> None:
    data = PublicationData(
        street="宁海路街道",
        publisher="宁海路街道办事处",
        wave_name="2026年度居民满意度测评",
        issue_date=dt.date(2026, 6, 1),
        items=(
            PublicationItem("电动车停放充电", "楼道充电", "新建充电桩12处", "已完成", "投诉减少"),
            PublicationItem(
                "停车秩序", "请加强停车管理", "施划泊位", "整改中", comments=("乱停车 <b>&</b>",)
            ),
        ),
    )
    text = read_text(write(tmp_path, "pub.pdf", render_publication_pdf(data)))
    assert "宁海路街道2026年度居民满意度测评整改情况公示" in text
    assert "新建充电桩12处" in text and "已完成" in text and "整改中" in text
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in render_publication_html(data)
    assert "乱停车<b>&</b>" in text  # residents' words shown as text
    assert "请加强停车管理" not in text  # the bureau's requirement is not passed off as theirs
    assert "2026年6月1日" in text


def test_escalation_with_provisional_new_deadline(tmp_path: Path, read_text: Any) -> None:
    calendar = OfficialCalendar.seeded()
    issued = dt.date(2026, 12, 21)
    overdue = working_days_between(dt.date(2026, 5, 15), issued, calendar)
    new = add_working_days(issued, 15, calendar)
    assert new.provisional  # runs into 2027, which the table does not have
    data = EscalationData(
        letterhead=LETTERHEAD,
        title=escalation_title("宁海路街道"),
        addressee="宁海路街道办事处：",
        street="宁海路街道",
        notice_number="鼓民整〔2026〕3号",
        issue_date=issued,
        items=(
            OverdueItem("停车秩序", "施划泊位", dt.date(2026, 5, 15), overdue, "整改中", new),
            OverdueItem(
                "垃圾分类",
                "增设投放点",
                dt.date(2026, 5, 15),
                overdue,
                "已退回",
                Deadline(dt.date(2026, 12, 31)),
            ),
        ),  # fmt: skip
    )
    text = read_text(write(tmp_path, "esc.pdf", render_escalation_pdf(data)))
    assert "关于督促宁海路街道加快整改逾期事项的通知" in text
    assert "鼓民督〔2026〕1号" in text and "鼓民整〔2026〕3号" in text
    assert str(overdue) in text
    # table cells wrap, so the date and its mark are read separately
    assert f"{new.date.year}年{new.date.month}月{new.date.day}日" in text and "（暂定）" in text
    assert "按周一至周五工作日计算" in text
    assert "2026年12月31日" in text


def test_titles_break_into_balanced_lines() -> None:
    assert title_lines("关于2026年度居民满意度测评结果的通报") == [
        "关于2026年度居民满意度",
        "测评结果的通报",
    ]
    lines = title_lines("关于宁海路街道2026年度居民满意度测评结果及整改要求的通知")
    assert "".join(lines) == "关于宁海路街道2026年度居民满意度测评结果及整改要求的通知"
    assert len(lines) == 2 and min(len(x) for x in lines) > 1
    assert title_lines("整改公示") == ["整改公示"]


def test_redaction_and_formatting() -> None:
    assert redact("电话13912345678") == "电话［电话已隐去］"
    assert redact("座机025-83001234") == "座机［电话已隐去］"
    assert redact("证件32010219800101123X") == "证件［证件号已隐去］"
    assert excerpt("很长" * 50, limit=10) == "很长很长很长很长很…"
    assert signed(-1.26) == "-1.3" and signed(0.04) == "0.0" and signed(None) == "—"
