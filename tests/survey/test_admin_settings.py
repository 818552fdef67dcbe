"""Document settings: stored, audit-logged, validated, and used by the next notices."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from survey.extensions import db
from survey.models import AuditLog
from survey.services.notices import render_street_notice
from survey.services.scoring_runs import score_wave
from survey.services.waves import transition

from .test_notices import fill, pdf_text

FORM = {
    "authority": "测试区民政局",
    "doc_prefix": "测整改",
    "reply_address": "测试区民政局基层科",
    "deadline_days": "20",
    "top_k": "2",
}


def test_settings_saved_and_used_in_notices(
    client, login, make_user, make_wave, framework_spec, district
):
    login(make_user("admin"))
    assert client.get("/admin/settings/documents").status_code == 200
    data = dict(FORM, req_I07="请{street}在一个月内清理楼道内的电动车，落实集中充电。")
    response = client.post("/admin/settings/documents", data=data)
    assert response.status_code == 303
    assert (district.doc_prefix, district.deadline_days, district.top_k) == ("测整改", 20, 2)
    assert district.requirement_templates == {"I07": data["req_I07"]}
    entry = db.session.scalar(
        select(AuditLog).where(AuditLog.action == "district.document_settings")
    )
    assert entry.before["doc_prefix"] == "测民整" and entry.after["doc_prefix"] == "测整改"

    wave = make_wave("ds", name="2026年度居民满意度测评")
    fill(wave, framework_spec)
    transition(wave, "close")
    score_wave(wave, boot=100, seed=1, min_n=10)
    street = district.streets[0]
    pdf, notice = render_street_notice(wave, street, dt.date(2026, 3, 31))
    assert notice.letterhead.doc_number.startswith("测整改〔2026〕")
    assert len(notice.items) <= 2 and notice.deadline_days == 20
    text = pdf_text(pdf).replace("\n", "")
    assert "测整改" in text
    if any(item.code == "I07" for item in notice.items):
        assert f"请{street.name}在一个月内清理楼道内的电动车" in text


def test_bad_template_refused_and_nothing_changed(client, login, make_user, district):
    login(make_user("admin"))
    data = dict(FORM, req_I01="请{街道}整改")
    response = client.post("/admin/settings/documents", data=data)
    assert response.status_code == 400
    assert "unknown placeholder" in response.get_data(as_text=True)
    assert district.doc_prefix == "测民整" and district.requirement_templates in ({}, None)


def test_viewer_reads_but_cannot_change(client, login, make_user, district):
    login(make_user("viewer"))
    assert client.get("/admin/settings/documents").status_code == 200
    assert client.post("/admin/settings/documents", data=FORM).status_code == 403
