"""Verdict wording in the documents, read back from the PDFs: letters, the signature's
page, the funnel plot, the district reference, bands with gaps, rank intervals."""

from __future__ import annotations

import copy
import dataclasses
import io
import math
import re
from typing import Any

import pdfplumber
import pytest

from reports import charts, verdicts
from reports.models import FunnelPoint, NoticeData
from reports.notice import (
    STYLESHEETS,
    NoticeSettings,
    build_notice_data,
    render_notice_html,
    render_notice_pdf,
)
from reports.pdf import create_pdf
from reports.ranking import RankingSettings, build_ranking_data, render_ranking_pdf
from reports.sample import sample_scores
from scoring.result import from_dict

from .conftest import DIMENSIONS, INDICATORS

AUTHORITY = "南京市鼓楼区民政局"
EMPTY_SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>'


def pages_of(pdf: bytes) -> list[str]:
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return ["".join((p.extract_text() or "").split()) for p in doc.pages]


def scores_with_verdicts(reference: str | None = "population") -> dict[str, Any]:
    """13 made-up streets with the funnel keys: the top street has nothing to rectify,
    one street is 数据不全."""
    doc = sample_scores(13)
    if reference is not None:
        doc["district"]["reference"] = reference
    doc["method"].update(band_rule="alarm", expected_false_flags=0.026)
    for s in doc["streets"]:
        s["gap"] = s["score"] - doc["district"]["score"]
        s["gap_se"] = (s["ci_high"] - s["ci_low"]) / 3.92
        s["complete"] = True
        s["incomplete_reason"] = None
        s["rank_low_sim"] = max(1, s["rank_low"] - 1)
        s["rank_high_sim"] = min(13, s["rank_high"] + 1)
    top = min(doc["streets"], key=lambda s: s["rank"])
    top["priorities"] = []
    odd = doc["streets"][5]
    odd.update(complete=False, incomplete_reason="缺少驻区单位受访群体", priorities=["I07"])
    odd.update(rank=None, rank_low=None, rank_high=None, band=None)
    odd.update(rank_low_sim=None, rank_high_sim=None)
    return doc


def sample_names() -> tuple[dict[str, str], dict[str, str]]:
    return DIMENSIONS, INDICATORS


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return scores_with_verdicts()


def build(doc: dict[str, Any], settings: NoticeSettings, street: str, **kw: Any) -> NoticeData:
    dims, inds = sample_names()
    return build_notice_data(
        from_dict(doc), street, settings, seq=7, dimension_names=dims, indicator_names=inds, **kw
    )


def top_street(doc: dict[str, Any]) -> str:
    return str(min((s for s in doc["streets"] if s["rank"]), key=lambda s: s["rank"])["street"])


def test_top_street_gets_a_letter_without_deadline(
    doc: dict[str, Any], settings: NoticeSettings
) -> None:
    name = top_street(doc)
    data = build(doc, settings, name)
    assert data.kind == "letter" and data.deadline is None and data.items == ()
    text = "".join(pages_of(render_notice_pdf(data)))
    assert f"关于{name}2026年度居民满意度测评结果的告知书" in text
    assert "现将你街道测评结果告知如下" in text and "本告知书不设整改期限" in text
    assert "整改要求的通知" not in text and "表2" not in text and "个工作日内" not in text
    assert "鼓民整〔2026〕7号" in text


def test_incomplete_street_gets_a_letter_even_with_priorities(
    doc: dict[str, Any], settings: NoticeSettings
) -> None:
    data = build(doc, settings, doc["streets"][5]["street"])
    assert data.kind == "letter" and data.deadline is None and not data.items
    text = "".join(pages_of(render_notice_pdf(data)))
    assert "本轮测评数据不全" in text and "缺少驻区单位受访群体" in text
    assert "排名区间" not in text and "不参与排名" in text


def test_street_with_items_gets_a_notice_with_deadline(
    doc: dict[str, Any], settings: NoticeSettings
) -> None:
    name = next(s["street"] for s in doc["streets"] if s["priorities"] and s.get("complete"))
    data = build(doc, settings, name)
    assert data.kind == "notice" and data.deadline is not None and data.items
    assert data.title.endswith("结果及整改要求的通知")


def closing_variants(doc: dict[str, Any], settings: NoticeSettings) -> list[NoticeData]:
    """Notices whose body ends at different heights: without keep-with, requirement
    texts of 225-300 characters left the signature alone on page 4."""
    name = next(s["street"] for s in doc["streets"] if s["priorities"] and s.get("complete"))
    out = []
    for length in (225, 250, 300):
        templates = {c: "请{street}" + "加" * length + "整改{indicator}。" for c in INDICATORS}
        out.append(build(doc, dataclasses.replace(settings, requirement_templates=templates), name))
    out.append(build(doc, settings, top_street(doc)))
    return out


def signature_alone(pages: list[str], authority: str, date: str) -> list[int]:
    """Pages whose only text, besides the page number, is the signature block."""
    alone = []
    for i, text in enumerate(pages, start=1):
        rest = re.sub(r"—\d+—", "", text)
        if authority in rest and rest.replace(authority, "").replace(date, "") == "":
            alone.append(i)
    return alone


def test_signature_never_alone_on_a_page(doc: dict[str, Any], settings: NoticeSettings) -> None:
    names = ("radar", "indicators", "funnel")
    for data in closing_variants(doc, settings):
        # the charts do not move the body: tiny placeholders keep this test quick
        html = render_notice_html(data, {n: f"generated:{n}.svg" for n in names})
        pdf = create_pdf(
            html, stylesheets=STYLESHEETS, resources={f"{n}.svg": EMPTY_SVG for n in names}
        )
        pages = pages_of(pdf)
        assert signature_alone(pages, AUTHORITY, "2026年3月31日") == [], data.street
        signed = next(
            i
            for i, p in enumerate(pages)
            if p.endswith(f"{AUTHORITY}2026年3月31日") or f"{AUTHORITY}2026年3月31日—" in p
        )
        last_words = "持续改进" if data.is_letter else "整改报告请报送"
        assert last_words in pages[signed], data.street


def test_notice_has_funnel_attachment_with_own_street(
    doc: dict[str, Any], settings: NoticeSettings
) -> None:
    name = top_street(doc)
    data = build(doc, settings, name)
    assert sum(p.highlight for p in data.funnel_points) == 1
    assert len(data.funnel_points) == 12  # the 数据不全 street is left out
    pages = pages_of(render_notice_pdf(data))
    funnel_page = next(p for p in pages if "附件3" in p)
    assert "各街道与全区平均之差漏斗图" in funnel_page
    assert "95%预警线" in funnel_page and "99.8%警戒线" in funnel_page
    assert f"红色放大的点为{name}" in funnel_page
    assert name in funnel_page.split("漏斗图", 1)[1]  # its label in the chart itself


def test_funnel_svg_marks_limits_and_streets() -> None:
    points = [
        FunnelPoint("甲街道", 1.0, 1.0),
        FunnelPoint("乙街道", -6.5, 2.0, band="below"),
        FunnelPoint("丙街道", 0.2, 0.5, highlight=True),
    ]
    svg = charts.funnel(points)
    for label in ("甲街道", "乙街道", "丙街道", "95%预警线", "99.8%警戒线", "全区平均"):
        assert label in svg
    assert "已按街道间离散度调整" not in svg
    assert "已按街道间离散度调整" in charts.funnel(points, tau=1.5)


def test_funnel_limits() -> None:
    assert charts.funnel_limit(2.0, charts.ALERT_Z) == pytest.approx(1.959964 / 2, rel=1e-6)
    assert charts.funnel_limit(1.0, charts.ALARM_Z) == pytest.approx(3.090232, rel=1e-6)
    widened = charts.funnel_limit(1.0, charts.ALERT_Z, tau=1.0)
    assert widened == pytest.approx(charts.ALERT_Z * math.sqrt(2))


def run_with(method: dict[str, Any]) -> Any:
    return from_dict({"method": method, "district": {}, "streets": []})


def street_with(**fields: Any) -> Any:
    return from_dict({"district": {}, "streets": [{"street": "x", **fields}]}).streets[0]


def test_overdispersion_from_the_run() -> None:
    assert verdicts.overdispersion_tau(run_with({})) == 0.0
    assert verdicts.overdispersion_tau(run_with({"overdispersion": {"tau2": 4.0}})) == 2.0
    off = {"overdispersion": {"tau": 2.0, "applied": False}}
    assert verdicts.overdispersion_tau(run_with(off)) == 0.0
    engine: dict[str, Any] = {"funnel": {"tau2": 2.25, "overdispersion": True}}
    assert verdicts.overdispersion_tau(run_with(engine)) == 1.5
    engine["funnel"]["overdispersion"] = False
    assert verdicts.overdispersion_tau(run_with(engine)) == 0.0


def test_plotted_point_is_outside_a_limit_exactly_when_flagged() -> None:
    # a street with few degrees of freedom: t = 3.3 is only z = 2.9 (inside the alarm limit)
    row = street_with(gap=-3.3, gap_se=1.0, z=-2.9)
    se = verdicts.plotted_se(row, -3.3, 1.0, 0.0)
    assert abs(-3.3) < charts.funnel_limit(1 / se, charts.ALARM_Z)
    assert abs(-3.3) > charts.funnel_limit(1 / se, charts.ALERT_Z)
    wide = verdicts.plotted_se(street_with(z=-2.0), -3.0, 1.0, 1.0)
    assert charts.funnel_limit(1 / wide, charts.ALERT_Z, 1.0) == pytest.approx(
        3.0 * charts.ALERT_Z / 2.0
    )


@pytest.mark.parametrize(
    ("reference", "words"),
    [
        ("population", "全区平均（按各街道人口加权）"),
        ("street_mean", "全区平均（各街道简单平均）"),
    ],
)
def test_district_reference_words_in_notice_and_report(
    reference: str, words: str, settings: NoticeSettings
) -> None:
    doc = scores_with_verdicts(reference)
    other = next(s["street"] for s in doc["streets"] if s["priorities"] and s.get("complete"))
    text = "".join(pages_of(render_notice_pdf(build(doc, settings, other))))
    assert f"；{words}" in text and f"表中“全区平均”为{words}" in text
    report = "".join(pages_of(render_ranking_pdf(ranking(doc))))
    assert f"本通报中的“全区平均”为{words}" in report


def ranking(doc: dict[str, Any]) -> Any:
    dims, inds = sample_names()
    settings = RankingSettings(
        authority=AUTHORITY,
        mark=f"{AUTHORITY}文件",
        doc_number="鼓民整〔2026〕14号",
        wave_name="2026年度居民满意度测评",
        issue_date=__import__("datetime").date(2026, 3, 31),
    )
    return build_ranking_data(from_dict(doc), settings, dimension_names=dims, indicator_names=inds)


def test_ranking_report_bands_gaps_ranks_and_false_flags(doc: dict[str, Any]) -> None:
    pages = pages_of(render_ranking_pdf(ranking(doc)))
    text = "".join(pages)
    top = min((s for s in doc["streets"] if s["rank"]), key=lambda s: s["rank"])
    gap = top["score"] - doc["district"]["score"]
    band = {"above": "高于", "similar": "持平", "below": "低于"}[top["band"]]
    sign = "+" if gap > 0 else "-"
    assert f"{band}（{sign}{abs(gap):.1f}分）" in text
    assert "（联合）" in text and "全部街道的区间以95%的把握同时成立" in text
    assert "预计误判约0.03个街道" in text
    assert "与全区平均之差超出99.8%警戒线的" in text
    odd = doc["streets"][5]["street"]
    # 数据不全: no rank, no rank interval, no rank range under other weights, no band
    assert re.search(f"—{odd}[0-9.]+[0-9.]+—[0-9.]+——数据不全[0-9]+", text), text
    assert "数据不全：" + odd + "（缺少驻区单位受访群体）" in text
    funnel = next(p for p in pages if p.startswith("附件2"))
    assert "95%预警线" in funnel and "数据不全的街道不在图中" in funnel


def test_marginal_rank_intervals_are_labelled(doc: dict[str, Any]) -> None:
    old = copy.deepcopy(doc)
    for s in old["streets"]:
        s.pop("rank_low_sim"), s.pop("rank_high_sim")
    text = "".join(pages_of(render_ranking_pdf(ranking(old))))
    assert "（边际）" in text and "逐个街道的边际区间" in text
    assert "（联合）" not in text


@pytest.mark.parametrize("n_streets", [13, 24])
def test_funnel_points_agree_with_the_engine_verdicts(n_streets: int) -> None:
    """On a real scoring run a point lies outside a drawn limit exactly when the engine
    flagged the street at that level (24 streets: overdispersion-adjusted limits)."""
    from scoring import score, to_json
    from scoring.framework import load_default_framework
    from scoring.result import from_json
    from scoring.simulate import simulate

    spec = load_default_framework()
    names = [f"街道{k:02d}" for k in range(n_streets)]
    sim = simulate(spec, names, 60, seed=11, street_sd=0.35)
    doc = from_json(to_json(score(spec, sim.data, boot=200, seed=5, min_n=10)))
    tau = verdicts.overdispersion_tau(doc)
    points = {p.label: p for p in verdicts.funnel_points(doc)}
    rows = {s.street: s for s in doc.streets if verdicts.complete(s)}
    assert points and set(points) == set(rows)
    flagged = 0
    for name, p in points.items():
        for level, z in (("alert", charts.ALERT_Z), ("alarm", charts.ALARM_Z)):
            outside = abs(p.gap) > charts.funnel_limit(p.precision, z, tau)
            assert outside == (getattr(rows[name], level) != "similar"), (name, level)
            flagged += outside
    assert flagged, "the simulation should flag at least one street"
