"""The 整改公示 PDF and the public street page: residents' words, a contact line,
暂定 on provisional deadlines, dates without zero padding, 待制定方案."""

from __future__ import annotations

import datetime as dt
import io

import pdfplumber
from sqlalchemy import select

from survey.extensions import db
from survey.models import RectificationItem
from survey.services.notices import issue_notices
from survey.services.publication import publication_pdf
from survey.services.waves import transition

from .test_notices import scored, set_verdicts  # noqa: F401  (fixture)

CONTACT = "区民政局基层政权建设科（鼓楼区中山北路1号，电话025-83001234）"


def text_of(data: bytes) -> str:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return "".join("".join((p.extract_text() or "").split()) for p in pdf.pages)


def rows_of(data: bytes) -> list[list[str]]:
    """Every table row of the PDF, each cell's text without whitespace."""
    out = []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            for table in page.extract_tables():
                out += [["".join((c or "").split()) for c in row] for row in table]
    return out


def publish(wave):  # type: ignore[no-untyped-def]
    street = wave.district.streets[0]
    set_verdicts(wave, {street.name: ["I07", "I08"]})
    wave.district.reply_address = CONTACT
    issue_notices(wave, issue_date=dt.date(2026, 3, 31), days=30)
    items = db.session.scalars(
        select(RectificationItem)
        .where(RectificationItem.street_id == street.id)
        .order_by(RectificationItem.indicator_code)
    ).all()
    first, second = items
    # I07: quoted in the notice; one resident typed a phone number
    first.evidence_comments = (
        "楼道里电动车充电<script>alert(1)</script>\n联系我13912345678，车棚太少"
    )
    first.deadline, first.deadline_provisional = dt.date(2027, 1, 11), True
    # I08: nothing quoted in the notice: the PDF looks the comments up
    second.evidence_comments = ""
    second.state = "in_progress"
    transition(wave, "publish")
    db.session.commit()
    return street, first, second


def test_publication_quotes_residents_with_contact_and_provisional_deadline(scored):  # noqa: F811
    street, first, second = publish(scored)
    pdf = publication_pdf(scored, street)
    text = text_of(pdf)
    rows = rows_of(pdf)
    by_indicator = {row[1]: row for row in rows if len(row) == 6}
    words, status = by_indicator["电动车停放充电"][2], by_indicator["电动车停放充电"][4]
    assert "“楼道里电动车充电<script>alert(1)</script>”" in words
    assert "“联系我［电话已隐去］，车棚太少”" in words and "13912345678" not in text
    assert status == "待制定方案（2027年1月11日，暂定）"
    assert by_indicator["停车秩序"][4].startswith("整改中（2026年5月15日")
    assert "2027年01月11日" not in text
    assert "标注“暂定”的期限按周一至周五工作日计算" in text
    assert "联系方式：" + CONTACT in text
    assert "公示期为7天（" in text
    # the bureau's requirement text is not passed off as residents' words
    assert first.requirement.replace(" ", "") not in text
    # I08 has no quoted comment in the fixture data: its scores stand in, never boilerplate
    assert by_indicator["停车秩序"][2].startswith("居民未留具体意见；本项得分")


def test_publication_looks_up_comments_when_none_were_quoted(scored):  # noqa: F811
    street, first, second = publish(scored)
    second.indicator_code = "I07"  # the fixture's residents commented on I07 only
    db.session.commit()
    rows = rows_of(publication_pdf(scored, street))
    quoted = [
        r for r in rows if len(r) == 6 and "“楼道里电动车充电<script>alert(1)</script>”" in r[2]
    ]
    assert len(quoted) == 2


def test_public_page_states_and_dates(scored, client):  # noqa: F811
    street, first, second = publish(scored)
    page = client.get(f"/public/{scored.code}/streets/{street.code}").get_data(as_text=True)
    assert "待制定方案" in page
    assert "2027年1月11日" in page and "2027年01月11日" not in page
    start = page.index("2027年1月11日")
    assert "暂定" in page[start : start + 80]
