"""The rectification loop end to end: notice -> plan -> evidence -> return -> accept -> public."""

from __future__ import annotations

import datetime as dt
import io
from types import SimpleNamespace
from urllib.parse import unquote

import pdfplumber
import pytest
from PIL import Image
from sqlalchemy import func, select

from reports.calendar import OfficialCalendar
from survey.extensions import db
from survey.models import AuditLog, Evidence, Notice
from survey.services import rectification as rect
from survey.services.waves import transition

from . import rectification_support as S

PASSWORD = "Test-Password-2026"


def signed_in(app, user):  # type: ignore[no-untyped-def]
    client = S.OwnUserClient(app, app.response_class, use_cookies=True)
    response = client.post("/auth/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def pdf_text(data: bytes) -> str:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def test_loop_end_to_end(app, make_wave, make_user, district):
    wave = S.score(S.simulated_wave(make_wave, "loop-1"))
    notices = S.issue(wave)
    assert wave.state == "notices_issued"
    street = district.streets[0]
    officer = signed_in(app, make_user("street", street="宁海路", username="nhl-officer"))
    bureau = signed_in(app, make_user("admin", username="bureau-admin"))

    # The portal shows the scored run: score, band, rank interval, priorities.
    home = officer.get("/street/").get_data(as_text=True)
    assert "宁海路街道" in home and "名次范围" in home and "整改优先事项" in home
    assert "有1份通知书尚未签收" in home
    comments = officer.get("/street/comments").get_data(as_text=True)
    assert "居民意见" in comments and "条" in comments

    # Inbox: download the street-named PDF and acknowledge it.
    notice = next(n for n in notices if n.street_id == street.id)
    pdf = officer.get(f"/street/notices/{notice.id}.pdf")
    assert pdf.status_code == 200 and pdf.data == notice.pdf
    assert "宁海路街道-整改通知书" in unquote(pdf.headers["Content-Disposition"])
    assert officer.post(f"/street/notices/{notice.id}/acknowledge").status_code == 302
    assert notice.acknowledged_at is not None and notice.acknowledged_by_id is not None

    item = notice.items[0]
    base = f"/street/items/{item.id}"
    assert item.state == "issued"
    assert officer.post(base + "/plan", data=S.plan_data()).status_code == 302
    assert item.state == "planned" and item.responsible_person == "王科长"
    assert officer.post(base + "/progress", data={"note": "已完成选址"}).status_code == 302
    assert item.state == "in_progress"
    # Submitting without evidence is refused, nothing changed.
    refused = officer.post(base + "/submit", data={"result": "已建成"})
    assert refused.status_code == 400 and "请至少上传一份佐证材料" in refused.get_data(as_text=True)
    assert item.state == "in_progress"
    upload = officer.post(
        base + "/evidence",
        data={"file": (io.BytesIO(S.photo()), "现场.jpg")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 302
    evidence = item.evidence[0]
    assert evidence.content_type == "image/jpeg" and evidence.thumbnail
    assert not Image.open(io.BytesIO(evidence.data)).getexif()  # GPS gone
    result = "新增充电桩40个，楼道电动车清理完毕。"
    assert officer.post(base + "/submit", data={"result": result}).status_code == 302
    assert item.state == "submitted"

    # The bureau returns it once: a reason is required.
    admin_item = f"/admin/rectification/items/{item.id}"
    assert "通过验收" in bureau.get(admin_item).get_data(as_text=True)
    no_reason = bureau.post(admin_item + "/return", data={"reason": " "})
    assert no_reason.status_code == 400 and item.state == "submitted"
    reason = "照片未能反映充电桩投入使用情况，请补充。"
    assert bureau.post(admin_item + "/return", data={"reason": reason}).status_code == 302
    assert item.state == "returned"
    assert reason in officer.get(base).get_data(as_text=True)
    officer.post(base + "/progress", data={"note": "补充使用情况照片"})
    officer.post(
        base + "/evidence",
        data={"file": (io.BytesIO(S.photo((10, 10, 200), fmt="PNG")), "使用中.png")},
        content_type="multipart/form-data",
    )
    officer.post(base + "/submit", data={"result": result})
    assert item.state == "submitted" and len(item.evidence) == 2
    assert bureau.post(admin_item + "/accept", data={"note": "同意"}).status_code == 302
    assert item.state == "accepted" and item.accepted_at is not None

    states = [(e.from_state, e.to_state) for e in item.events if e.from_state != e.to_state]
    assert states == [
        ("issued", "planned"),
        ("planned", "in_progress"),
        ("in_progress", "submitted"),
        ("submitted", "returned"),
        ("returned", "in_progress"),
        ("in_progress", "submitted"),
        ("submitted", "accepted"),
    ]
    assert all(e.user_id and e.at for e in item.events)
    actions = set(
        db.session.scalars(select(AuditLog.action).where(AuditLog.object_id == str(item.id)))
    )
    assert {"item.accept", "item.return"} <= actions

    # Published: the public street page shows measures, status, result and the photos.
    transition(wave, "publish")
    db.session.flush()
    public = app.test_client()
    page = public.get(f"/public/{wave.code}/streets/{street.code}").get_data(as_text=True)
    assert "新增集中充电桩40个" in page and result in page and "已完成" in page
    for ev in item.evidence:
        assert f"/public/evidence/{ev.id}.jpg" in page
        thumb = public.get(f"/public/evidence/{ev.id}.jpg")
        assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    board = public.get(f"/public/{wave.code}/").get_data(as_text=True)
    assert "宁海路街道" in board and "名次范围" in board and "可能范围" in board
    printable = public.get(f"/public/{wave.code}/streets/{street.code}/publication.pdf")
    assert printable.status_code == 200 and printable.mimetype == "application/pdf"
    text = pdf_text(printable.data)
    assert "宁海路街道" in text and "已完成" in text


def test_overdue_item_gets_an_escalation_pdf(app, make_wave, make_user, district):
    wave = make_wave("late-1", state="closed")
    street = district.streets[1]
    late = S.direct_items(wave, street, deadline=dt.date(2026, 1, 9))
    late[1].state = "accepted"  # accepted items are never overdue
    on_time = S.direct_items(wave, district.streets[2], deadline=dt.date(2099, 1, 9), n=1)
    today = dt.date.today()
    assert rect.is_overdue(late[0], today) and not rect.is_overdue(late[1], today)
    assert not rect.is_overdue(on_time[0], today)

    bureau = signed_in(app, make_user("admin", username="bureau-admin"))
    listing = bureau.get(f"/admin/rectification/?wave={wave.code}").get_data(as_text=True)
    assert "is-overdue" in listing and "下发督办通知" in listing
    response = bureau.post(
        f"/admin/rectification/{wave.code}/escalate", data={"street_id": street.id, "days": 10}
    )
    assert response.status_code == 302
    notice = db.session.scalar(select(Notice).where(Notice.kind == "escalation"))
    assert notice.street_id == street.id and notice.doc_number and len(notice.sha256) == 64
    text = pdf_text(notice.pdf)
    assert "华侨路街道" in text and "电动车停放充电" in text and "停车秩序" not in text
    assert late[0].deadline == notice.deadline > today and late[1].deadline == dt.date(2026, 1, 9)
    assert "督办" in late[0].events[-1].note
    assert not rect.is_overdue(late[0], today)
    # Nothing left to escalate: a clear message, no second notice.
    again = bureau.post(
        f"/admin/rectification/{wave.code}/escalate",
        data={"street_id": street.id, "days": 10},
        follow_redirects=True,
    )
    assert "没有逾期未验收的整改事项" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Notice.id)).where(Notice.kind == "escalation")) == 1
    officer = signed_in(app, make_user("street", street="华侨路", username="hql"))
    inbox = officer.get("/street/notices").get_data(as_text=True)
    assert notice.doc_number in inbox


def test_overdue_counts_working_days_only():
    """A Friday deadline is not overdue over the weekend nor during the National Day holiday."""
    calendar = OfficialCalendar.seeded()
    friday = SimpleNamespace(state="in_progress", deadline=dt.date(2026, 3, 6))
    assert not rect.is_overdue(friday, dt.date(2026, 3, 7), calendar)  # Saturday
    assert not rect.is_overdue(friday, dt.date(2026, 3, 8), calendar)  # Sunday
    assert rect.days_overdue(friday, dt.date(2026, 3, 9), calendar) == 1  # Monday
    before_holiday = SimpleNamespace(state="planned", deadline=dt.date(2026, 9, 30))
    assert not rect.is_overdue(before_holiday, dt.date(2026, 10, 5), calendar)
    assert rect.is_overdue(before_holiday, dt.date(2026, 10, 9), calendar)


def test_invalid_transitions_change_nothing(app, make_wave, make_user, district):
    wave = make_wave("sm-1", state="closed")
    item = S.direct_items(wave, district.streets[0], deadline=dt.date(2026, 5, 15), n=1)[0]
    events = len(item.events)
    for step in (
        lambda: rect.submit_item(item, result="done", user_id=None),
        lambda: rect.accept_item(item, user_id=None),
        lambda: rect.return_item(item, reason="x", user_id=None),
        lambda: rect.record_progress(item, note="x", user_id=None),
    ):
        with pytest.raises(rect.TransitionError, match="当前状态为“待制定方案”"):
            step()
    assert item.state == "issued" and len(item.events) == events
    with pytest.raises(ValueError, match="不能晚于整改期限"):
        rect.plan_item(
            item,
            measures="m",
            responsible_unit="u",
            responsible_person="p",
            planned_date=dt.date(2026, 6, 1),
            user_id=None,
        )
    assert item.state == "issued" and item.measures == ""
    rect.plan_item(
        item,
        measures="m",
        responsible_unit="u",
        responsible_person="p",
        planned_date=dt.date(2026, 5, 1),
        user_id=None,
    )
    with pytest.raises(ValueError, match="退回理由"):
        item.state = "submitted"
        rect.return_item(item, reason="  ", user_id=None)
    assert item.state == "submitted"
    # A viewer may read but not accept.
    viewer = signed_in(app, make_user("viewer", username="viewer-1"))
    assert viewer.get(f"/admin/rectification/items/{item.id}").status_code == 200
    assert viewer.post(f"/admin/rectification/items/{item.id}/accept").status_code == 403
    assert item.state == "submitted"


BAD_UPLOADS = {
    "script renamed .jpg": ("photo.jpg", b"#!/bin/sh\nrm -rf ~\n", "不是照片或PDF"),
    "svg with script": (
        "plan.svg",
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
        b"<script>alert(1)</script></svg>",
        "不是照片或PDF",
    ),
    "enormous dimensions": ("big.png", None, "尺寸过大"),
    "pdf with javascript": (
        "report.pdf",
        b"%PDF-1.4\n1 0 obj << /Type /Catalog "
        b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >> >> endobj\n"
        b"trailer << /Root 1 0 R >>\n%%EOF\n",
        "安全原因",
    ),
    "fifty megabytes": ("huge.jpg", b"\xff\xd8\xff\xe0" + bytes(50 * 1024 * 1024), "文件太大"),
}


@pytest.mark.parametrize("case", list(BAD_UPLOADS))
def test_bad_uploads_refused_and_nothing_stored(case, app, make_wave, make_user, district):
    name, data, words = BAD_UPLOADS[case]
    data = S.enormous_png() if data is None else data
    wave = make_wave("bad-1", state="closed")
    item = S.direct_items(wave, district.streets[0], deadline=dt.date(2026, 5, 15), n=1)[0]
    item.state = "in_progress"
    db.session.flush()
    officer = signed_in(app, make_user("street", street="宁海路", username="nhl"))
    response = officer.post(
        f"/street/items/{item.id}/evidence",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert words in response.get_data(as_text=True)
    assert "未保存" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Evidence.id))) == 0
    assert not [e for e in item.events if "佐证" in e.note]
