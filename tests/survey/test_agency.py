"""Agency pages: invitations and QR sheets, dashboard, revoke/reissue, imports, interviews."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import func, select

from survey.extensions import db
from survey.models import Invitation, Quota, Response
from survey.services.frameworks import spec_of
from survey.services.invitations import create_batch
from survey.services.questionnaire import pages_for


@pytest.fixture
def agency(make_user, login):  # type: ignore[no-untyped-def]
    user = make_user("agency")
    return login(user)


def _batch_form(wave, district, **extra):  # type: ignore[no-untyped-def]
    street = district.streets[0]
    data = {
        "street": street.id,
        "group": "elderly",
        "community": street.communities[0].id,
        "count": 3,
        "output": "csv",
    }
    data.update(extra)
    return data


def download(response) -> bytes:  # type: ignore[no-untyped-def]
    """The one-time file offered on the batch result page (a ``data:`` link)."""
    import base64
    import re

    page = response.get_data(as_text=True)
    found = re.search(r'href="data:[^;]+;base64,([^"]+)" download="([^"]+)"', page)
    assert found, page[:2000]
    return base64.b64decode(found.group(1))


def test_roles(client, make_wave, make_user, login):
    wave = make_wave()
    assert client.get("/agency/").status_code == 302  # to login
    login(make_user("street"))
    assert client.get(f"/agency/waves/{wave.code}").status_code == 403


def test_interviewer_sees_only_interview_pages(client, make_wave, make_user, login):
    wave = make_wave()
    login(make_user("interviewer"))
    assert client.get("/agency/").headers["Location"].endswith("/agency/interview")
    assert client.get(f"/agency/waves/{wave.code}").status_code == 403
    assert client.get(f"/agency/waves/{wave.code}/invitations").status_code == 403
    assert client.get("/agency/interview").status_code == 200


def test_admin_may_view_but_not_issue(client, make_wave, make_user, login, district):
    wave = make_wave()
    login(make_user("admin"))
    assert client.get(f"/agency/waves/{wave.code}").status_code == 200
    assert client.get(f"/agency/waves/{wave.code}/progress.csv").status_code == 200
    assert client.post(f"/agency/waves/{wave.code}/invitations").status_code == 403


def test_create_batch_csv_once(agency, make_wave, district):
    wave = make_wave()
    response = agency.post(
        f"/agency/waves/{wave.code}/invitations", data=_batch_form(wave, district)
    )
    assert response.status_code == 200
    assert "已创建 3 个邀请码" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(download(response).decode("utf-8"))))
    assert len(rows) == 3 and rows[0]["url"].endswith("/s/" + rows[0]["token"])
    # the plain token is nowhere in the database, and the link works
    assert db.session.scalar(select(func.count(Invitation.id))) == 3
    assert agency.get(f"/s/{rows[0]['token']}").status_code == 200
    page = agency.get(f"/agency/waves/{wave.code}/invitations").get_data(as_text=True)
    assert rows[0]["token"] not in page and "宁海路东苑社区" in page


def test_create_batch_qr_pdf(agency, make_wave, district):
    pdfplumber = pytest.importorskip("pdfplumber")
    wave = make_wave()
    data = _batch_form(wave, district, output="pdf", count=9)
    response = agency.post(f"/agency/waves/{wave.code}/invitations", data=data)
    assert response.status_code == 200
    with pdfplumber.open(io.BytesIO(download(response))) as pdf:
        assert len(pdf.pages) == 2  # 8 slips a page
        text = "".join(pdf.pages[0].extract_text().split())
        width, height = pdf.pages[0].width, pdf.pages[0].height
    assert abs(width - 595.3) < 1 and abs(height - 841.9) < 1  # A4 in points
    assert "宁海路街道" in text and "老年居民" in text and "东苑社区" in text
    assert "不收集姓名和电话" in text and "邀请码" in text


def test_batch_errors_are_form_errors(agency, make_wave, district):
    wave = make_wave()
    bad = agency.post(
        f"/agency/waves/{wave.code}/invitations", data=_batch_form(wave, district, count=0)
    )
    assert bad.status_code == 400 and "数量须在" in bad.get_data(as_text=True)
    other = district.streets[1]
    wrong = agency.post(
        f"/agency/waves/{wave.code}/invitations",
        data=_batch_form(wave, district, street=other.id),
    )
    assert wrong.status_code == 400 and "不属于所选街道" in wrong.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Invitation.id))) == 0


def test_revoke_and_reissue_one_token(agency, make_wave, district):
    wave = make_wave()
    _, tokens = create_batch(wave, district.streets[0], "adult", 2)
    db.session.flush()
    url = f"/agency/waves/{wave.code}/token"
    assert agency.post(url, data={"token": tokens[0], "action": "revoke"}).status_code == 302
    assert agency.get(f"/s/{tokens[0]}").status_code == 410
    again = agency.post(url, data={"token": tokens[0], "action": "revoke"}, follow_redirects=True)
    assert "已经作废" in again.get_data(as_text=True)
    reissued = agency.post(url, data={"token": f"http://x/s/{tokens[1]}", "action": "reissue"})
    page = reissued.get_data(as_text=True)
    assert reissued.status_code == 200 and "只在这一页提供这一次" in page
    assert agency.get(f"/s/{tokens[1]}").status_code == 410
    new = db.session.scalars(select(Invitation).where(Invitation.revoked_at.is_(None))).all()
    assert len(new) == 1


def test_revoke_and_reissue_batch(agency, make_wave, district):
    wave = make_wave()
    batch, tokens = create_batch(wave, district.streets[0], "adult", 4)
    db.session.flush()
    base = f"/agency/waves/{wave.code}/batches/{batch.id}"
    response = agency.post(f"{base}/reissue", data={"output": "csv"})
    rows = list(csv.DictReader(io.StringIO(download(response).decode("utf-8"))))
    assert len(rows) == 4 and not set(r["token"] for r in rows) & set(tokens)
    assert agency.get(f"/s/{tokens[0]}").status_code == 410
    assert agency.get(f"/s/{rows[0]['token']}").status_code == 200
    revoke = agency.post(f"{base}/revoke", follow_redirects=True)
    assert "已作废 0 个" in revoke.get_data(as_text=True)


def test_dashboard_counts_and_csv(agency, make_wave, district):
    wave = make_wave()
    street = district.streets[0]
    _, tokens = create_batch(wave, street, "elderly", 5)
    db.session.add(Quota(wave_id=wave.id, street_id=street.id, group_code="elderly", target=4))
    db.session.flush()
    agency.get(f"/s/{tokens[0]}")
    agency.get(f"/s/{tokens[1]}")
    agency.post(f"/s/{tokens[1]}")
    spec = spec_of(wave.framework)
    for page in pages_for(spec, "elderly")[1:-1]:
        agency.post(
            f"/s/{tokens[1]}/p/{page.number}", data={f"a_{i.code}": "3" for i in page.indicators}
        )
    agency.post(f"/s/{tokens[1]}/p/5", data={"overall": "3"})
    assert agency.post(f"/s/{tokens[1]}/review").status_code == 200
    page = agency.get(f"/agency/waves/{wave.code}").get_data(as_text=True)
    assert "宁海路" in page and 'class="progress"' in page and "25%" in page
    rows = list(
        csv.DictReader(
            io.StringIO(
                agency.get(f"/agency/waves/{wave.code}/progress.csv").data.decode("utf-8-sig")
            )
        )
    )
    cell = next(r for r in rows if r["street"] == "宁海路" and r["group"] == "elderly")
    assert (cell["issued"], cell["opened"], cell["started"], cell["completed"]) == (
        "5",
        "2",
        "1",
        "1",
    )
    assert (cell["target"], cell["percent"]) == ("4", "25")
    # straight-lined (all "3" on 17 items) -> flagged and excluded at submit
    assert cell["flagged"] == "1" and cell["excluded"] == "1"
    response = db.session.scalar(select(Response))
    assert "same answer" in response.quality_flags and response.excluded


def test_flag_wave_keeps_restores(agency, make_wave, district):
    from survey.services.quality import AUTO_REASON, flag_wave

    wave = make_wave()
    data = "response_id,street,group,submitted_at,channel,weight," + ",".join(
        f"I{k:02d}" for k in range(1, 18)
    )
    data += ",concerns,overall,comment\n"
    data += "p1,宁海路,elderly,,paper,," + ",".join(["4"] * 17) + ",,4,\n"
    data += "p2,宁海路,elderly,,paper,," + ",".join(["4", "3"] * 8 + ["5"]) + ",,4,\n"
    response = agency.post(
        f"/agency/waves/{wave.code}/import",
        data={"file": (io.BytesIO(data.encode()), "paper.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    counts = flag_wave(wave)
    # straight-lining alone (no duration, no device): flagged for review, not excluded
    assert (
        counts["responses"] == 2 and counts["straightline"] == 1 and counts["newly_excluded"] == 0
    )
    flagged = db.session.scalar(select(Response).where(Response.public_id == "p1"))
    assert "same answer" in flagged.quality_flags and not flagged.excluded
    # an automatic exclusion whose excluding signals are gone is lifted; a
    # reviewer's own decision stands
    flagged.excluded, flagged.exclusion_reason = True, AUTO_REASON
    db.session.flush()
    assert flag_wave(wave)["restored"] == 1
    flagged.excluded, flagged.exclusion_reason = True, "reviewed"
    db.session.flush()
    again = agency.post(f"/agency/waves/{wave.code}/quality", follow_redirects=True)
    assert "1 份有质量标记" in again.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(Response).where(Response.public_id == "p1")).excluded


def test_import_lists_every_problem_and_writes_nothing(agency, make_wave):
    wave = make_wave()
    header = "response_id,street,group,submitted_at,channel,weight," + ",".join(
        f"I{k:02d}" for k in range(1, 18)
    )
    body = header + ",concerns,overall,comment\n"
    body += "a1,宁海路,elderly,,paper,," + ",".join(["9"] + ["4"] * 16) + ",,4,\n"
    body += "a2,无此街道,elderly,,paper,," + ",".join(["4"] * 17) + ",,4,<b>x</b>\n"
    response = agency.post(
        f"/agency/waves/{wave.code}/import",
        data={"file": (io.BytesIO(body.encode()), "bad.csv")},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "line 2, column 7" in page and "line 3, column 2" in page
    assert db.session.scalar(select(func.count(Response.id))) == 0


def test_import_refuses_other_file_types(agency, make_wave):
    wave = make_wave()
    response = agency.post(
        f"/agency/waves/{wave.code}/import",
        data={"file": (io.BytesIO(b"MZ..."), "virus.exe")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400 and "只接受" in response.get_data(as_text=True)


def test_interviewer_mode(client, make_wave, make_user, login, district):
    wave = make_wave()
    interviewer = make_user("interviewer", username="iv-wang")
    login(interviewer)
    street = district.streets[1]
    start = client.post(
        "/agency/interview",
        data={
            "wave": wave.id,
            "street": street.id,
            "group": "adult",
            "community": street.communities[1].id,
            "channel": "phone",
        },
    )
    assert start.status_code == 302
    base = start.headers["Location"]
    token = base.rsplit("/", 1)[-1]
    assert "访问员模式" in client.get(base).get_data(as_text=True)
    # residents cannot use an interview token
    assert client.get(f"/s/{token}").status_code == 404
    assert client.post(base).headers["Location"].endswith(f"{token}/p/1")
    spec = spec_of(wave.framework)
    for n, page in enumerate(pages_for(spec, "adult")[1:-1], start=1):
        data = {f"a_{i.code}": str(1 + (n + k) % 5) for k, i in enumerate(page.indicators)}
        assert client.post(f"{base}/p/{page.number}", data=data).status_code == 302
    client.post(f"{base}/p/5", data={"overall": "4"})
    done = client.post(f"{base}/review").get_data(as_text=True)
    assert "提交成功" in done and "开始下一份访问" in done
    response = db.session.scalar(select(Response))
    assert response.channel == "phone" and response.interviewer_id == interviewer.id
    assert response.community_id == street.communities[1].id
    assert response.device_hash is None


def test_interviewer_stats_on_dashboard(client, make_wave, make_user, login):
    from survey.services.fieldwork import interviewer_stats

    wave = make_wave()
    iv = make_user("interviewer", username="iv-li")
    street = wave.district.streets[0]
    for k in range(3):
        db.session.add(
            Response(
                public_id=f"x{k}",
                wave_id=wave.id,
                street_id=street.id,
                group_code="adult",
                channel="face",
                interviewer_id=iv.id,
                quality_flags="speeder" if k == 0 else "",
            )
        )
    db.session.flush()
    (stats,) = interviewer_stats(wave)
    assert (stats.username, stats.responses, stats.flagged) == ("iv-li", 3, 1)
    login(make_user("agency"))
    page = client.get(f"/agency/waves/{wave.code}").get_data(as_text=True)
    assert "iv-li" in page and "33%" in page


def test_other_interviewer_cannot_continue(client, app, make_wave, make_user, login, district):
    from survey.services.questionnaire import start_interview

    wave = make_wave()
    owner = make_user("interviewer", username="iv-a")
    token, _ = start_interview(wave.id, district.streets[0].id, "adult", None, "face", owner.id)
    db.session.flush()
    login(make_user("interviewer", username="iv-b"))
    assert client.get(f"/agency/interview/{token}/p/1").status_code == 403


def test_open_poster_pdf_and_scoring_switch(agency, make_wave, district):
    """Open links make a one-page poster; ``include_open_channel`` decides scoring."""
    pdfplumber = pytest.importorskip("pdfplumber")
    from survey.services.responses import wave_records

    wave = make_wave(allow_open_links=True)
    data = _batch_form(wave, district, output="pdf", is_open="y", count=50)
    response = agency.post(f"/agency/waves/{wave.code}/invitations", data=data)
    with pdfplumber.open(io.BytesIO(download(response))) as pdf:
        assert len(pdf.pages) == 1
        assert "不收集姓名和电话" in "".join(pdf.pages[0].extract_text().split())
    poster = db.session.scalar(select(Invitation).where(Invitation.is_open.is_(True)))
    assert poster is not None
    street = district.streets[0]
    for k, channel in enumerate(("open", "online")):
        db.session.add(
            Response(
                public_id=f"o{k}",
                wave_id=wave.id,
                street_id=street.id,
                group_code="adult",
                channel=channel,
            )
        )
    db.session.flush()
    assert len(wave_records(wave, included_only=True)) == 2
    wave.include_open_channel = False
    assert [r.channel for r in wave_records(wave, included_only=True)] == ["online"]


def test_open_links_refused_when_wave_does_not_allow_them(agency, make_wave, district):
    wave = make_wave()
    data = _batch_form(wave, district, is_open="y")
    response = agency.post(f"/agency/waves/{wave.code}/invitations", data=data)
    assert response.status_code == 400 and "未开放公开二维码" in response.get_data(as_text=True)


def test_second_press_of_the_same_form_creates_nothing(agency, make_wave, district):
    from survey.models import InvitationBatch

    wave = make_wave()
    data = _batch_form(wave, district, request_key="press-once-123")
    first = agency.post(f"/agency/waves/{wave.code}/invitations", data=data)
    assert first.status_code == 200 and "发放号" in first.get_data(as_text=True)
    second = agency.post(f"/agency/waves/{wave.code}/invitations", data=data)
    page = second.get_data(as_text=True)
    assert second.status_code == 409 and "已经创建过了" in page and "作废并补发" in page
    assert db.session.scalar(select(func.count(InvitationBatch.id))) == 1
    assert db.session.scalar(select(func.count(Invitation.id))) == 3


def test_step_two_lists_only_the_chosen_streets_communities(agency, make_wave, district):
    wave = make_wave()
    first, second = district.streets[0], district.streets[1]
    step1 = agency.get(f"/agency/waves/{wave.code}/invitations").get_data(as_text=True)
    assert "第一步：选择街道" in step1 and 'name="community"' not in step1
    page = agency.get(f"/agency/waves/{wave.code}/invitations?street={second.id}")
    text = page.get_data(as_text=True)
    assert all(c.name in text for c in second.communities)
    assert not any(f">{c.name}<" in text for c in first.communities)
    # a community of another street: the error sits under 社区, not under 数量
    bad = agency.post(
        f"/agency/waves/{wave.code}/invitations",
        data=_batch_form(wave, district, street=second.id),
    )
    body = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert 'id="community-error"' in body and "不属于所选街道" in body
    assert 'id="count-error"' not in body


def test_bulk_revoke_asks_first(agency, make_wave, district):
    wave = make_wave()
    batch, tokens = create_batch(wave, district.streets[0], "adult", 4)
    db.session.flush()
    base = f"/agency/waves/{wave.code}/batches/{batch.id}/revoke"
    confirm = agency.get(base).get_data(as_text=True)
    assert "4 个未使用的邀请码" in confirm and "不能撤销" in confirm
    assert agency.get(f"/s/{tokens[0]}").status_code == 200  # nothing revoked by looking
    done = agency.post(base, follow_redirects=True)
    assert "已作废 4 个" in done.get_data(as_text=True)


def test_qr_cards_print_the_typed_code_and_contacts(agency, make_wave, district):
    pdfplumber = pytest.importorskip("pdfplumber")
    from datetime import date

    wave = make_wave(agency_name="南京民意调查中心", hotline="025-8888 1234")
    wave.ends_on = date(2026, 12, 15)
    data = _batch_form(wave, district, output="pdf", count=2)
    response = agency.post(f"/agency/waves/{wave.code}/invitations", data=data)
    with pdfplumber.open(io.BytesIO(download(response))) as pdf:
        page = pdf.pages[0]
        text = "".join(page.extract_text().split())
        codes = [
            w for w in page.extract_words() if re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", w["text"])
        ]
    assert "南京民意调查中心" in text and "025-88881234" in text and "2026年12月15日截止" in text
    assert wave.name.replace(" ", "") in text
    assert len(codes) == 2 and all(w["bottom"] - w["top"] >= 12 for w in codes)  # >= 12 pt
    for word in codes:  # each printed code opens its questionnaire
        assert agency.get(f"/s/{word['text'].lower()}").status_code == 200


def test_tokens_never_start_like_a_spreadsheet_formula(monkeypatch):
    """A token starting with '-' would be quoted in the CSV and no longer match its link."""
    import secrets

    from survey.services import invitations

    draws = iter(["-abc", "_def", "Qxyz"])
    monkeypatch.setattr(secrets, "token_urlsafe", lambda n: next(draws))
    assert invitations.new_token() == "Qxyz"
    monkeypatch.undo()
    assert all(invitations.new_token()[0].isalnum() for _ in range(2000))
