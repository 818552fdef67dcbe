"""Console results: scores with and without flagged responses, the funnel plot, the
district reference, labelled rank intervals, 数据不全 streets."""

from __future__ import annotations

import json

from sqlalchemy import select

from survey.extensions import db
from survey.models import Response
from survey.models.response import AUTO_PREFIX
from survey.services.scoring_runs import current_run, score_wave
from survey.services.waves import transition

from .test_notices import fill


def flag(wave, every=4, exclude_every=12):  # type: ignore[no-untyped-def]
    rows = db.session.scalars(
        select(Response).where(Response.wave_id == wave.id).order_by(Response.id)
    ).all()
    for k, r in enumerate(rows):
        if k % every == 0:
            r.quality_flags = "straightline: 17 items the same"
            if k % exclude_every == 0:
                r.excluded = True
                r.exclusion_reason = AUTO_PREFIX + r.quality_flags
    db.session.flush()
    return sum(1 for k in range(len(rows)) if k % every == 0)


def test_run_stores_scores_with_and_without_flagged(make_wave, framework_spec):
    wave = make_wave("fs")
    fill(wave, framework_spec, n=40)
    transition(wave, "close")
    n_flagged = flag(wave)
    run = score_wave(wave, boot=100, seed=3, min_n=5)
    sens = run.settings["flagged_sensitivity"]
    assert sens["n_flagged"] == n_flagged
    assert 0 < sens["n_excluded_by_rule"] < n_flagged
    assert {s["street"] for s in sens["streets"]} == {s.name for s in wave.district.streets}
    moved = sum(s["rank_with"] != s["rank_without"] for s in sens["streets"])
    assert sens["ranks_moved"] == moved
    assert any(abs(s["change"]) > 0 for s in sens["streets"])
    # the "without" side leaves out every flagged response: fewer than the run scored
    doc = json.loads(run.result_json)
    run_scores = {s["street"]: s["score"] for s in doc["streets"]}
    assert any(abs(s["score_without"] - run_scores[s["street"]]) > 1e-6 for s in sens["streets"])


def test_no_flags_no_comparison(make_wave, framework_spec):
    wave = make_wave("nf")
    fill(wave, framework_spec, n=20)
    transition(wave, "close")
    assert score_wave(wave, boot=100, seed=3, min_n=5).settings["flagged_sensitivity"] is None


def test_results_page_shows_verdict_context(make_wave, framework_spec, client, login, make_user):
    wave = make_wave("rv")
    fill(wave, framework_spec, n=40)
    transition(wave, "close")
    flag(wave)
    run = score_wave(wave, boot=100, seed=3, min_n=5)
    doc = json.loads(run.result_json)
    odd = doc["streets"][0]
    odd.update(complete=False, incomplete_reason="缺少驻区单位受访群体")
    odd.update(rank=None, rank_low=None, rank_high=None, band=None)
    run.result_json = json.dumps(doc, ensure_ascii=False)
    db.session.commit()
    login(make_user("admin"))
    page = client.get(f"/admin/waves/{wave.code}/results").get_data(as_text=True)
    reference = doc["district"]["reference"]
    words = (
        "全区平均（按各街道人口加权）"
        if reference == "population"
        else "全区平均（各街道简单平均）"
    )
    assert words in page
    assert "被质量检查标记" in page and "计入标记答卷" in page and "不计入标记答卷" in page
    sens = current_run(wave).settings["flagged_sensitivity"]
    assert f"{sens['ranks_moved']} 个街道名次变化" in page
    assert "数据不全" in page and "缺少驻区单位受访群体" in page
    simultaneous = any(s.get("rank_low_sim") is not None for s in doc["streets"])
    assert ("排名区间（联合）" if simultaneous else "排名区间（边际）") in page
    assert "预计误判" in page
    assert f"/admin/runs/{run.id}/funnel.svg" in page
    svg = client.get(f"/admin/runs/{run.id}/funnel.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    text = svg.get_data(as_text=True)
    assert "99.8% 警戒线" in text and doc["streets"][1]["street"] in text
    assert odd["street"] not in text  # 数据不全: not on the funnel
    odd_id = next(s.id for s in wave.district.streets if s.name == odd["street"])
    street_page = client.get(f"/admin/waves/{wave.code}/streets/{odd_id}").get_data(as_text=True)
    assert "数据不全（缺少驻区单位受访群体）：不排名" in street_page
    client.get("/lang/en")
    english = client.get(f"/admin/runs/{run.id}/funnel.svg").get_data(as_text=True)
    assert "alarm limit" in english
