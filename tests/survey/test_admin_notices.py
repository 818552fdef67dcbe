"""Bureau console: preview, issue with progress, download, correct; the calendar page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from survey.extensions import db
from survey.models import DocumentJob, Notice
from survey.services.scoring_runs import score_wave
from survey.services.waves import transition

from .test_notices import fill


@pytest.fixture
def scored(make_wave, framework_spec):
    wave = make_wave("cw", name="2026年度居民满意度测评")
    fill(wave, framework_spec)
    transition(wave, "close")
    score_wave(wave, boot=100, seed=1, min_n=10)
    return wave


def _page_urls(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The preview's page images (rendered by a job; inline in the tests)."""
    return re.findall(r'src="([^"]+\.png)"', page.get_data(as_text=True))


def test_issue_from_console(client, login, make_user, scored):
    login(make_user("admin"))
    page = client.get(f"/admin/waves/{scored.code}/notices")
    assert page.status_code == 200 and "核对将要下发的文件" in page.get_data(as_text=True)
    street = scored.district.streets[0]
    preview = client.get(f"/admin/waves/{scored.code}/notices/preview/{street.id}?date=2026-03-31")
    assert preview.status_code == 200
    image = client.get(_page_urls(preview)[0])
    assert image.status_code == 200 and image.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert db.session.scalar(select(Notice).where(Notice.wave_id == scored.id)) is None
    response = client.post(
        f"/admin/waves/{scored.code}/notices/issue",
        data={"issue_date": "2026-03-31", "days": "30"},
    )
    assert response.status_code == 303
    job = db.session.scalar(
        select(DocumentJob).where(DocumentJob.wave_id == scored.id, DocumentJob.kind == "notices")
    )
    assert job.state == "done" and job.done == job.total == 4, job.message
    progress = client.get(response.headers["Location"])
    assert "已下发全部通知书" in progress.get_data(as_text=True)
    notices = db.session.scalars(select(Notice).where(Notice.wave_id == scored.id)).all()
    assert len(notices) == 4 and scored.state == "notices_issued"
    pdf = client.get(f"/admin/notices/{notices[0].id}.pdf")
    assert pdf.status_code == 200 and pdf.data == notices[0].pdf
    assert "filename*=UTF-8''" in pdf.headers["Content-Disposition"]
    again = client.post(
        f"/admin/waves/{scored.code}/notices/issue",
        data={"issue_date": "2026-03-31", "days": "30"},
        follow_redirects=True,
    )
    assert "不能下发通知书" in again.get_data(as_text=True)
    assert len(db.session.scalars(select(Notice).where(Notice.wave_id == scored.id)).all()) == 4


def test_issue_form_rejects_bad_days(client, login, make_user, scored):
    login(make_user("admin"))
    response = client.post(
        f"/admin/waves/{scored.code}/notices/issue",
        data={"issue_date": "2026-03-31", "days": "0"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert db.session.scalar(select(DocumentJob)) is None


def test_viewer_cannot_issue(client, login, make_user, scored):
    login(make_user("viewer"))
    assert client.get(f"/admin/waves/{scored.code}/notices").status_code == 200
    response = client.post(
        f"/admin/waves/{scored.code}/notices/issue", data={"issue_date": "2026-03-31", "days": "30"}
    )
    assert response.status_code == 403


def test_calendar_page_validates_and_saves(client, login, make_user):
    login(make_user("admin"))
    assert client.get("/admin/calendar").status_code == 200
    year = dt.date.today().year + 3
    bad = client.post("/admin/calendar", data={"year": year, "holidays": f"{year - 1}-05-01"})
    assert bad.status_code == 400 and "is not in" in bad.get_data(as_text=True)
    ok = client.post(
        "/admin/calendar", data={"year": year, "holidays": f"{year}-10-01..{year}-10-07"}
    )
    assert ok.status_code == 303


def test_issuing_asks_first_with_counts_and_numbers(client, login, make_user, scored):
    login(make_user("admin"))
    url = f"/admin/waves/{scored.code}/notices/issue?issue_date=2026-03-31&days=30"
    page = client.get(url).get_data(as_text=True)
    n = len(scored.district.streets)
    assert f"共 {n + 1} 份正式文件" in page
    assert "〔2026〕1号" in page and f"〔2026〕{n + 1}号" in page
    assert f"确认下发 {n + 1} 份文件" in page and "不能修改或撤回" in page
    assert db.session.scalar(select(Notice)) is None and scored.state == "scored"
    bad = client.get(f"/admin/waves/{scored.code}/notices/issue?issue_date=2026-03-31&days=0")
    assert bad.status_code == 400 and db.session.scalar(select(DocumentJob)) is None


def test_preview_prints_no_number(client, login, make_user, scored):
    from survey.services.notices import render_street_notice

    pdfplumber = pytest.importorskip("pdfplumber")
    import datetime as dt
    import io

    pdf, _data = render_street_notice(
        scored, scored.district.streets[0], dt.date(2026, 3, 31), preview=True
    )
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        text = "".join(doc.pages[0].extract_text().split())
    assert "下发时编号" in text and "〔2026〕1号" not in text


def test_publishing_shows_what_the_public_will_see(client, login, make_user, scored):
    from survey.services.notices import issue_notices

    issue_notices(scored)
    login(make_user("admin"))
    page = client.get(f"/admin/waves/{scored.code}/publish").get_data(as_text=True)
    assert "公众将看到什么" in page and "确认公布" in page
    assert scored.district.streets[0].full_name in page and "待制定方案" in page
    assert scored.state == "notices_issued"
    done = client.post(f"/admin/waves/{scored.code}/transition/publish", follow_redirects=True)
    text = done.get_data(as_text=True)
    assert scored.state == "published" and f'href="/public/{scored.code}/"' in text
