"""Design effects, rank sensitivity and sample composition in the 通报 and the notice.

The PDFs are read back with ``pdftotext`` (poppler-utils).
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from reports.models import SampleComposition, ShareRow
from reports.notice import NoticeSettings, build_notice_data, render_notice_pdf
from reports.ranking import RankingSettings, build_ranking_data, render_ranking_pdf
from scoring.result import from_dict

from .conftest import DIMENSIONS, INDICATORS

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")


def text_of(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    return "".join(out.split())


def with_sample(scores: dict[str, Any]) -> dict[str, Any]:
    """The conftest scores plus design effects and a rank sensitivity."""
    doc = {**scores, "streets": [dict(s) for s in scores["streets"]]}
    ranges = {"宁海路街道": (1, 2), "华侨路街道": (1, 3), "湖南路街道": (3, 3)}
    for s in doc["streets"]:
        s.update(n_eff=round(s["n"] / 1.25, 1), deff=1.25, complete=True)
    doc["sensitivity"] = {
        "schemes": {"equal_shares": {"data_driven": False}, "entropy": {"data_driven": True}},
        "perturbation": {"draws": 500},
        "streets": [
            {
                "street": s["street"],
                "rank": s["rank"],
                "ranks": {"equal_shares": ranges[s["street"]][1], "entropy": s["rank"]},
                "perturbed_low": ranges[s["street"]][0],
                "perturbed_high": ranges[s["street"]][1],
                "rank_min": ranges[s["street"]][0],
                "rank_max": ranges[s["street"]][1],
            }
            for s in doc["streets"]
        ],
        "streets_moving": 2,
    }
    return doc


COMPOSITION = (
    SampleComposition(
        street="湖南路街道",
        group="老年居民",
        variable="age_band",
        rows=(
            ShareRow("18-34", 0, 0.0, 0.0),
            ShareRow("60-69", 30, 0.25, 0.45),
            ShareRow("70-79", 60, 0.5, 0.35),
            ShareRow("80+", 30, 0.25, 0.20),
        ),
        n=120,
        quota=200,
    ),
    SampleComposition(
        street="湖南路街道",
        group="老年居民",
        variable="gender",
        rows=(ShareRow("female", 66, 0.55, 0.52), ShareRow("male", 54, 0.45, 0.48)),
        undisclosed=2,
        n=120,
    ),
    SampleComposition(
        street="宁海路街道",
        group="老年居民",
        variable="gender",
        rows=(ShareRow("female", 60, 0.5, 0.52), ShareRow("male", 60, 0.5, 0.48)),
        n=120,
        quota=120,
    ),
)


def test_ranking_report_prints_deff_sensitivity_and_composition(
    scores: dict[str, Any], tmp_path: Path
) -> None:
    settings = RankingSettings(
        authority="南京市鼓楼区民政局",
        mark="南京市鼓楼区民政局文件",
        doc_number="鼓民整〔2026〕4号",
        wave_name="2026年度居民满意度测评",
        issue_date=dt.date(2026, 3, 31),
    )
    data = build_ranking_data(
        from_dict(with_sample(scores)),
        settings,
        dimension_names=DIMENSIONS,
        composition=COMPOSITION,
    )
    text = text_of(render_ranking_pdf(data), tmp_path)
    # the rank range under the weighting schemes stands beside the rank interval
    assert "不同权重下的名次" in text
    # 华侨路街道: marginal rank interval 1-3, 1-3 under the schemes; 湖南路街道 2-3 and 3
    assert "第1—3名第1—3名持平" in text and "第2—3名第3名低于" in text
    assert "2个街道的名次发生变化，最多变动2位" in text
    assert "各群体等权、熵权以及维度权重和群体份额的500次随机扰动" in text
    # design effects and effective n per street
    assert "各街道的设计效应在1.25至1.25之间" in text
    assert "湖南路街道3903121.25" in text  # n, n_eff, deff
    # the sample against the population, with its warnings
    # table cells wrap: check fragments that stay on one line
    assert "60—69岁25%（45%）" in text and "—79岁50%（35%）" in text and "未填2" in text
    assert "60—69岁偏低20个百" in text and "仅为配额200份的60%" in text
    assert "2处样本构成与人口构成相差超过10个百分点，1个街道群体的样本不足配额的80%" in text
    assert "18—34岁0%" not in text  # a category neither side has is left out
    assert "附件4" in text


def test_notice_note_prints_the_street_s_deff_sensitivity_and_composition(
    scores: dict[str, Any], settings: NoticeSettings, tmp_path: Path
) -> None:
    data = build_notice_data(
        from_dict(with_sample(scores)),
        "湖南路街道",
        settings,
        seq=3,
        dimension_names=DIMENSIONS,
        indicator_names=INDICATORS,
        composition=COMPOSITION,
    )
    assert data.sensitivity is not None and data.sensitivity.rank_min == 3
    assert [c.street for c in data.composition] == ["湖南路街道", "湖南路街道"]
    text = text_of(render_notice_pdf(data), tmp_path)
    assert "你街道390份问卷按权重折算，相当于约312份等权问卷（有效样本量；设计效应1.25）" in text
    assert "你街道的名次在第3名，不随权重方案而变" in text
    assert (
        "样本的年龄、性别构成与人口构成的对照见附件4，其中老年居民：60—69岁偏低20个百分点" in text
    )
    assert "4．样本构成与人口构成对照" in text and "湖南路街道样本构成与人口构成对照" in text


def test_without_sample_data_the_documents_say_nothing_new(
    scores: dict[str, Any], settings: NoticeSettings, tmp_path: Path
) -> None:
    data = build_notice_data(
        from_dict(scores), "湖南路街道", settings, seq=3,
        dimension_names=DIMENSIONS, indicator_names=INDICATORS,
    )  # fmt: skip
    text = text_of(render_notice_pdf(data), tmp_path)
    assert "有效样本量" not in text and "附件4" not in text and "不随权重" not in text
