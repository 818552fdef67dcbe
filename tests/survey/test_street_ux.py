"""What a street officer meets after a return: the bureau's reason, resubmitting, uploads."""

from __future__ import annotations

import datetime as dt
import io

from survey.extensions import db

from . import rectification_support as S

PASSWORD = "Test-Password-2026"


def signed_in(app, user):  # type: ignore[no-untyped-def]
    client = S.OwnUserClient(app, app.response_class, use_cookies=True)
    assert (
        client.post(
            "/auth/login", data={"username": user.username, "password": PASSWORD}
        ).status_code
        == 302
    )
    return client


def _returned_item(app, make_wave, make_user, district, code):  # type: ignore[no-untyped-def]
    wave = S.score(S.simulated_wave(make_wave, code))
    notices = S.issue(wave)
    street = district.streets[0]
    officer = signed_in(app, make_user("street", street="宁海路", username=f"{code}-officer"))
    bureau = signed_in(app, make_user("admin", username=f"{code}-admin"))
    item = next(n for n in notices if n.street_id == street.id).items[0]
    base = f"/street/items/{item.id}"
    officer.post(base + "/plan", data=S.plan_data())
    officer.post(base + "/progress", data={"note": "已完成选址"})
    officer.post(
        base + "/evidence",
        data={"file": (io.BytesIO(S.photo()), "现场.jpg")},
        content_type="multipart/form-data",
    )
    officer.post(base + "/submit", data={"result": "已建成"})
    reason = "照片未能反映充电桩投入使用情况，请补充。"
    bureau.post(f"/admin/rectification/items/{item.id}/return", data={"reason": reason})
    assert item.state == "returned"
    return item, officer, base, reason


def test_return_reason_survives_an_upload_and_resubmit_needs_no_progress_note(
    app, make_wave, make_user, district
):
    item, officer, base, reason = _returned_item(app, make_wave, make_user, district, "ux-r1")
    upload = officer.post(
        base + "/evidence",
        data={
            "file": (io.BytesIO(S.photo()), "a.jpg"),
            "caption": "充电桩投入使用",
            "file2": (io.BytesIO(S.photo((10, 10, 200), fmt="PNG")), "b.png"),
            "caption2": "楼道清理后",
        },
        content_type="multipart/form-data",
    )
    assert upload.status_code == 302
    page = officer.get(base).get_data(as_text=True)
    assert f"退回理由：</strong>{reason}" in page
    assert "充电桩投入使用" in page and "楼道清理后" in page
    assert [e.caption for e in item.evidence][-2:] == ["充电桩投入使用", "楼道清理后"]
    assert "重新报送验收" in page
    assert officer.post(base + "/submit", data={"result": "已补充照片"}).status_code == 302
    assert item.state == "submitted"


def test_evidence_delete_asks_first(app, make_wave, make_user, district):
    item, officer, base, _reason = _returned_item(app, make_wave, make_user, district, "ux-r2")
    evidence = item.evidence[0]
    confirm = officer.get(f"/street/evidence/{evidence.id}/delete").get_data(as_text=True)
    assert "删除这份佐证材料？" in confirm and "现场.jpg" in confirm
    assert len(item.evidence) == 1
    assert officer.post(f"/street/evidence/{evidence.id}/delete").status_code == 302
    db.session.expire_all()
    assert len(item.evidence) == 0


def test_plan_date_error_sits_under_the_date(app, make_wave, make_user, district):
    wave = S.score(S.simulated_wave(make_wave, "ux-r3"))
    notices = S.issue(wave)
    officer = signed_in(app, make_user("street", street="宁海路", username="ux-r3-officer"))
    item = next(n for n in notices if n.street_id == district.streets[0].id).items[0]
    late = (item.deadline + dt.timedelta(days=30)).isoformat()
    response = officer.post(
        f"/street/items/{item.id}/plan", data={**S.plan_data(), "planned_date": late}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="planned_date-error"' in page and "不能晚于整改期限" in page
    assert "<title>错误：" in page


def test_inbox_shows_working_days_left(app, make_wave, make_user, district):
    wave = S.score(S.simulated_wave(make_wave, "ux-r4"))
    S.issue(wave)
    officer = signed_in(app, make_user("street", street="宁海路", username="ux-r4-officer"))
    page = officer.get("/street/items").get_data(as_text=True)
    assert "剩余工作日" in page
    assert "还剩" in page or "已逾期" in page or "今天到期" in page
