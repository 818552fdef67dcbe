"""Methods appendix of a scoring run: web page and PDF, in plain Chinese."""

from __future__ import annotations

import io

from scoring.dataset import to_records
from scoring.population import AGE_BANDS, parse_population_rows
from scoring.simulate_weighting import simulate_weighting
from survey.extensions import db
from survey.services.population import store_population
from survey.services.responses import insert_records
from survey.services.scoring_runs import score_wave
from survey.services.waves import set_weighting, transition


def raked_wave(make_wave, framework_spec, district):
    wave = make_wave("ma")
    names = [s.name for s in district.streets]
    sim = simulate_weighting(framework_spec, names, 40, seed=8)
    insert_records(wave, to_records(sim.data, id_prefix="ma"))
    rows = [["street", "group", "variable", "category", "count"]]
    for s, name in enumerate(names):
        for g, group in enumerate(sim.data.groups):
            if sim.margins.total[s, g] == sim.margins.total[s, g]:
                for k, band in enumerate(AGE_BANDS):
                    rows.append([name, group, "age_band", band, str(sim.margins.age[s, g, k])])
                for k, sex in enumerate(("female", "male")):
                    rows.append([name, group, "gender", sex, str(sim.margins.gender[s, g, k])])
    store_population(district, parse_population_rows(rows))
    transition(wave, "close")
    set_weighting(wave, "raked")
    score_wave(wave, boot=100, seed=2)
    db.session.flush()
    return wave


def test_methods_page_and_pdf(
    client, login, make_user, make_wave, framework_spec, district, monkeypatch
):
    raked_wave(make_wave, framework_spec, district)
    login(make_user("viewer"))

    def not_recomputed(*args, **kwargs):  # the run's JSON carries its reliability
        raise AssertionError("reliability recomputed")

    monkeypatch.setattr("survey.services.methods.reliability", not_recomputed)
    page = client.get("/admin/waves/ma/methods")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    for phrase in (
        "计分方法说明",
        "按人口数加权（第 1 版人口数）",
        "保留所在格的平均调整系数",
        "设计效应中位数",
        "无法计算回应率",
        "每个自助样本都按人口数重新校准",
        "排名对权重的敏感性",
        "Cronbach α",
        "平行分析",
    ):
        assert phrase in text, phrase
    sample = client.get("/admin/waves/ma/sample").get_data(as_text=True)
    assert "排名对权重的敏感性" in sample and "n_eff" in sample
    pdf = client.get("/admin/waves/ma/methods.pdf")
    assert pdf.status_code == 200 and pdf.data[:4] == b"%PDF"
    import pdfplumber

    with pdfplumber.open(io.BytesIO(pdf.data)) as doc:
        body = "".join(p.extract_text() or "" for p in doc.pages)
    assert "计分方法说明" in body and "Cronbach" in body
    assert client.get("/admin/waves/nope/methods").status_code == 404
