"""Results letters (测评结果告知书) beside notices: kinds, deadlines, items, numbering, 通报."""

from __future__ import annotations

import datetime as dt
import io
import re

import pdfplumber
from sqlalchemy import select

from survey.extensions import db
from survey.models import Notice, RectificationItem
from survey.services.notices import correct_notice, issue_notices

from .test_notices import scored, set_verdicts  # noqa: F401  (fixture)


def text_of(data: bytes) -> str:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return "".join("".join((p.extract_text() or "").split()) for p in pdf.pages)


def issue(wave):  # type: ignore[no-untyped-def]
    a, b, c = (s.name for s in wave.district.streets)
    set_verdicts(wave, {a: ["I07", "I08"], b: [], c: None})
    return issue_notices(wave, issue_date=dt.date(2026, 3, 31), days=30), (a, b, c)


def test_street_without_items_gets_a_letter_without_deadline(scored):  # noqa: F811
    notices, (a, b, c) = issue(scored)
    by_street = {n.street.name: n for n in notices if n.street}
    assert by_street[a].kind == "notice" and by_street[a].deadline == dt.date(2026, 5, 15)
    for name in (b, c):
        letter = by_street[name]
        assert letter.kind == "letter" and letter.deadline is None
        assert not letter.deadline_provisional
        assert letter.title == f"关于{name}2026年度居民满意度测评结果的告知书"
        text = text_of(letter.pdf)
        assert "结果的告知书" in text and "本告知书不设整改期限" in text
        assert "整改要求的通知" not in text and "表2整改事项" not in text
        assert "个工作日内" not in text and "2026年5月15日" not in text
    assert "数据不全" in text_of(by_street[c].pdf)
    assert "缺少驻区单位受访群体" in text_of(by_street[c].pdf)
    notice_text = text_of(by_street[a].pdf)
    assert "整改要求的通知" in notice_text and "2026年5月15日前（30个工作日内）" in notice_text


def test_items_only_for_notices(scored):  # noqa: F811
    notices, (a, _b, _c) = issue(scored)
    items = db.session.scalars(
        select(RectificationItem).where(RectificationItem.wave_id == scored.id)
    ).all()
    assert sorted(i.indicator_code for i in items) == ["I07", "I08"]
    assert {i.street.name for i in items} == {a}
    assert all(i.notice.kind == "notice" for i in items)


def test_one_number_sequence_across_kinds(scored):  # noqa: F811
    notices, _ = issue(scored)
    assert [n.kind for n in notices] == ["notice", "letter", "letter", "ranking"]
    assert [n.sequence for n in notices] == [1, 2, 3, 4]
    assert [n.doc_number for n in notices] == [f"测民整〔2026〕{k}号" for k in (1, 2, 3, 4)]
    again = correct_notice(notices[1], issue_date=dt.date(2026, 4, 2))
    assert again.kind == "letter" and again.deadline is None
    assert again.doc_number == "测民整〔2026〕5号" and again.replaces_id == notices[1].id


def test_ranking_report_lists_notices_and_letters(scored):  # noqa: F811
    notices, (a, b, c) = issue(scored)
    text = text_of(notices[-1].pdf)
    assert "表2各街道收到的文件" in text
    assert "对1个有整改事项的街道下发了整改通知书" in text
    assert "对2个没有整改事项或数据不全的街道下发了测评结果告知书" in text
    for n in notices[:-1]:
        kind = "整改通知书" if n.kind == "notice" else "测评结果告知书"
        assert re.search(re.escape(n.street.name) + kind + re.escape(n.doc_number), text), kind
    assert f"{a}整改通知书测民整〔2026〕1号22026年5月15日" in text
    assert f"{b}测评结果告知书测民整〔2026〕2号—不设期限" in text
    assert "数据不全" in text and "1个街道数据不全、不作排名和判定" in text


def test_street_officer_sees_the_letter(scored, client, login, make_user):  # noqa: F811
    notices, (a, b, c) = issue(scored)
    db.session.commit()
    login(make_user("street", street=b))
    page = client.get("/street/notices")
    assert page.status_code == 200
    assert notices[1].doc_number in page.get_data(as_text=True)
    letter = db.session.scalar(select(Notice).where(Notice.id == notices[1].id))
    response = client.get(f"/street/notices/{letter.id}.pdf")
    assert response.status_code == 200 and response.data[:5] == b"%PDF-"
    assert (
        "测评结果告知书" in response.headers["Content-Disposition"]
        or "%E6%B5%8B" in (response.headers["Content-Disposition"])
    )
