"""Provisional deadlines are re-determined when their year's holidays are entered.

Notices issued on 2026-12-15 with 30 working days count into 2027, which the
official table does not know yet: Monday-Friday is assumed and the deadline is
marked 暂定.  Entering 2027 (New Year's Day, Friday 1 January, is a holiday)
moves every such deadline one working day later.  The issued notices stay as
they were; a dated 补充说明 per notice tells the street, each item gets an event.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import pdfplumber
import pytest
from sqlalchemy import select

from survey.extensions import db
from survey.models import AuditLog, ItemEvent, Notice, RectificationItem
from survey.services.notices import issue_notices
from survey.services.official_days import official_calendar

from .test_notices import scored  # noqa: F401  (fixture)

ISSUED = dt.date(2026, 12, 15)
OLD = dt.date(2027, 1, 26)  # 30 weekdays after 2026-12-15, 1 January counted
NEW = dt.date(2027, 1, 27)  # 1 January is a holiday
HOLIDAYS_2027 = "2027-01-01..2027-01-03, 2027-02-06..2027-02-12"


def _text(pdf: bytes) -> str:
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return "\n".join(page.extract_text() or "" for page in doc.pages)


@pytest.fixture
def provisional(scored):  # noqa: F811
    if 2027 in official_calendar().known_years:
        pytest.skip("the seeded calendar already knows 2027")
    notices = issue_notices(scored, issue_date=ISSUED, days=30)
    db.session.flush()
    with_items = [n for n in notices if n.kind == "notice" and n.items]
    assert with_items and all(n.deadline == OLD and n.deadline_provisional for n in with_items)
    return scored, with_items


def test_console_entry_redetermines_items_and_issues_supplements(
    client, make_user, login, provisional
):
    wave, notices = provisional
    issued = {n.id: (n.sha256, hashlib.sha256(n.pdf).hexdigest(), n.deadline) for n in notices}
    items = [i for n in notices for i in n.items]
    login(make_user("admin", username="admin-cal"))

    saved = client.post("/admin/calendar", data={"year": 2027, "holidays": HOLIDAYS_2027})
    assert saved.status_code == 303, saved.get_data(as_text=True)[-2000:]
    assert "redetermined=" in saved.headers["Location"]
    page = client.get(saved.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "重新核定的整改期限" in html and OLD.isoformat() in html and NEW.isoformat() in html
    for item in items:
        assert item.street.name in html

    db.session.expire_all()
    for item in items:
        fresh = db.session.get(RectificationItem, item.id)
        assert fresh.deadline == NEW and not fresh.deadline_provisional
        assert (fresh.deadline_start, fresh.deadline_days) == (ISSUED, 30)
        notes = [e.note for e in db.session.scalars(select(ItemEvent).filter_by(item_id=item.id))]
        assert any("重新核定" in n and OLD.isoformat() in n and NEW.isoformat() in n for n in notes)

    supplements = db.session.scalars(select(Notice).filter_by(kind="supplement")).all()
    assert sorted(s.supplement_to_id for s in supplements) == sorted(issued)
    for notice_id, (sha, pdf_sha, deadline) in issued.items():
        original = db.session.get(Notice, notice_id)
        # the issued document is never edited
        assert original.sha256 == sha and hashlib.sha256(original.pdf).hexdigest() == pdf_sha
        assert original.deadline == deadline and original.deadline_provisional
        (supplement,) = [s for s in supplements if s.supplement_to_id == notice_id]
        assert supplement.street_id == original.street_id and supplement.doc_number
        assert supplement.deadline == NEW and not supplement.deadline_provisional
        assert supplement.sha256 == hashlib.sha256(supplement.pdf).hexdigest()
        text = _text(supplement.pdf).replace(" ", "").replace("\n", "")
        assert "补充说明" in text and original.doc_number in text
        assert "2027年1月26日" in text and "2027年1月27日" in text and "原文件其他内容不变" in text

    assert db.session.scalar(select(AuditLog).filter_by(action="deadline.redetermine"))

    # the console's document list shows the supplement beside the notice
    listing = client.get(f"/admin/waves/{wave.code}/notices").get_data(as_text=True)
    assert "补充说明" in listing and f"已重新核定为 {NEW.isoformat()}" in listing

    # entering the year again finds nothing provisional left
    again = client.post("/admin/calendar", data={"year": 2027, "holidays": HOLIDAYS_2027})
    assert again.status_code == 303 and "redetermined" not in again.headers["Location"]
    assert len(db.session.scalars(select(Notice).filter_by(kind="supplement")).all()) == len(issued)


def test_the_street_is_told_and_signs_for_the_supplement(app, make_user, provisional):
    from survey.services.deadlines import enter_year
    from survey.services.official_days import parse_days

    from ..conftest import STAFF_PASSWORD, OwnUserClient

    wave, notices = provisional
    notice = notices[0]
    enter_year(2027, parse_days(HOLIDAYS_2027), [], issue_date=dt.date(2027, 1, 5))
    db.session.flush()
    supplement = db.session.scalar(select(Notice).filter_by(supplement_to_id=notice.id))
    officer = make_user("street", street=notice.street.name, username="street-cal")
    app.test_client_class = OwnUserClient
    browser = app.test_client()
    browser.post("/auth/login", data={"username": officer.username, "password": STAFF_PASSWORD})
    page = browser.get("/street/notices").get_data(as_text=True)
    assert supplement.title in page
    assert f"期限已重新核定为 {NEW.isoformat()}，见 2027-01-05 的补充说明" in page
    pdf = browser.get(f"/street/notices/{supplement.id}.pdf")
    assert pdf.status_code == 200 and pdf.data == supplement.pdf
    signed = browser.post(f"/street/notices/{supplement.id}/acknowledge")
    assert signed.status_code in (302, 303)
    assert db.session.get(Notice, supplement.id).acknowledged_at is not None


def test_cli_set_year_reports_the_moved_deadlines(runner, provisional):
    wave, notices = provisional
    result = runner.invoke(args=["calendar", "set-year", "2027", "--holidays", HOLIDAYS_2027])
    assert result.exit_code == 0, result.output
    moved = sum(len(n.items) for n in notices)
    assert f"re-determined {moved} provisional deadlines" in result.output
    assert f"{OLD.isoformat()} -> {NEW.isoformat()}" in result.output
    assert notices[0].doc_number in result.output


def test_deadlines_in_other_unknown_years_are_left_alone(make_user, provisional):
    from survey.services.deadlines import enter_year
    from survey.services.official_days import parse_days

    _wave, notices = provisional
    _table, changes = enter_year(2028, parse_days("2028-01-01"), [])
    assert changes == []
    assert all(i.deadline == OLD and i.deadline_provisional for n in notices for i in n.items)


def test_a_provisional_escalation_gets_its_own_supplement(provisional):
    """Items whose deadline a 督办 set count from the 督办, and it gets the supplement."""
    from reports.calendar import add_working_days
    from survey.services.deadlines import enter_year
    from survey.services.official_days import parse_days
    from survey.services.rectification import issue_escalation

    wave, notices = provisional
    notice = notices[0]
    escalated_on = dt.date(2027, 2, 1)
    escalation = issue_escalation(notice.street, wave, days=10, issue_date=escalated_on)
    db.session.flush()
    assert escalation.deadline_provisional
    before = official_calendar()
    _table, changes = enter_year(2027, parse_days(HOLIDAYS_2027), [])
    moved = {c.item_id: c for c in changes}
    for item in notice.items:
        change = moved[item.id]
        assert change.document == escalation.doc_number
        assert change.old == add_working_days(escalated_on, 10, before).date
        # 6-12 February 2027 are holidays: ten working days now end later
        assert change.new == dt.date(2027, 2, 22) and not change.still_provisional
    supplements = db.session.scalars(select(Notice).filter_by(kind="supplement")).all()
    assert escalation.id in {s.supplement_to_id for s in supplements}
    assert notice.id not in {s.supplement_to_id for s in supplements}
