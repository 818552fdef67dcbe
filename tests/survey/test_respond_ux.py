"""What a resident meets: typed codes, inline errors, the concern cap, review round trips."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from survey.extensions import db
from survey.models import Invitation, ResponseDraft
from survey.services.frameworks import spec_of
from survey.services.invitations import (
    CODE_ALPHABET,
    create_batch,
    hash_code,
    normalise_code,
    typed_code,
)
from survey.services.questionnaire import pages_for


@pytest.fixture
def started(make_wave, district):  # type: ignore[no-untyped-def]
    """A fieldwork wave with one elderly invitation; returns (wave, token)."""
    wave = make_wave("ux1", agency_name="南京民意调查中心", hotline="025-8888 1234")
    street = district.streets[0]
    street.communities[0].phone = "025-5555 0001"
    _, (token, _other) = create_batch(wave, street, "elderly", 2, community=street.communities[0])
    db.session.flush()
    return wave, token


def test_typed_code_alphabet_length_and_entropy():
    assert len(CODE_ALPHABET) == 30 and not set("01ILOU") & set(CODE_ALPHABET)
    code = typed_code("some-token-value-123456")
    assert re.fullmatch(r"[2-9A-HJKMNP-TV-Z]{5}-[2-9A-HJKMNP-TV-Z]{5}", code)
    # 30**10 possible codes: at least 40 bits
    assert 30**10 > 2**49
    assert normalise_code(code.lower().replace("-", " ")) == code
    assert normalise_code(" " + code[:3] + " - " + code[3:].lower()) == code
    assert normalise_code("ABCDE-FGHJ") is None  # too short
    assert normalise_code("ABCDE-FGHJI") is None  # I is not in the alphabet


def test_typed_code_is_stored_only_as_keyed_hash(started):
    _wave, token = started
    code = typed_code(token)
    inv = db.session.scalar(select(Invitation).where(Invitation.code_hash == hash_code(code)))
    assert inv is not None
    columns = [str(getattr(inv, c.key)) for c in Invitation.__table__.columns]
    assert code not in columns and code.replace("-", "") not in "".join(columns)


def test_code_entry_accepts_lower_case_spaces_and_hyphens(client, started):
    _wave, token = started
    code = typed_code(token)
    typed = code.lower().replace("-", " ")
    response = client.post("/s/", data={"code": typed})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/s/{code}")
    page = client.get(f"/s/{code}")
    assert page.status_code == 200 and "同意，开始填写" in page.get_data(as_text=True)
    # the typed code works for the whole questionnaire
    assert client.post(f"/s/{code}").status_code == 302
    assert client.get(f"/s/{code}/p/1").status_code == 200


def test_code_entry_explains_a_malformed_code(client):
    response = client.post("/s/", data={"code": "ABC"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "10位字母和数字" in page and "<title>错误：" in page


def test_fourth_concern_comes_back_inline_with_answers_kept(client, started):
    wave, token = started
    pages = pages_for(spec_of(wave.framework), "elderly")
    client.post(f"/s/{token}")
    final = pages[-1].number
    data = {
        "concerns": ["I01", "I04", "I07", "I09"],
        "overall": "4",
        "comment": "路灯坏了很久",
        "age_band": "70-79",
    }
    response = client.post(f"/s/{token}/p/{final}", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "最多选3项，您选了4项" in page and 'id="concerns-error"' in page
    assert "已选 4/3" in page and "<title>错误：" in page
    assert "autofocus" in page
    for code in ("I01", "I04", "I07", "I09"):
        assert re.search(f'id="concern-{code}" value="{code}" checked', page)
    assert "路灯坏了很久" in page and re.search(r'id="overall-4" value="4" checked', page)
    assert re.search(r'value="70-79" checked', page)
    draft = db.session.scalar(select(ResponseDraft))
    assert draft.data["final"] == {}  # nothing saved


def test_fourth_concern_error_in_english(client, started):
    wave, token = started
    pages = pages_for(spec_of(wave.framework), "elderly")
    client.get("/lang/en")
    client.post(f"/s/{token}")
    response = client.post(
        f"/s/{token}/p/{pages[-1].number}", data={"concerns": ["I01", "I04", "I07", "I09"]}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "at most 3" in page and "最多选" not in page


def test_concern_count_is_shown(client, started):
    wave, token = started
    pages = pages_for(spec_of(wave.framework), "elderly")
    client.post(f"/s/{token}")
    client.post(
        f"/s/{token}/p/{pages[-1].number}", data={"concerns": ["I01", "I04"], "nav": "save"}
    )
    page = client.get(f"/s/{token}/p/{pages[-1].number}").get_data(as_text=True)
    assert "已选 2/3" in page


def test_edit_from_review_returns_to_review(client, started):
    wave, token = started
    pages = pages_for(spec_of(wave.framework), "elderly")
    client.post(f"/s/{token}")
    for p in pages[1:-1]:
        client.post(f"/s/{token}/p/{p.number}", data={f"a_{i.code}": "4" for i in p.indicators})
    client.post(f"/s/{token}/p/{pages[-1].number}", data={"overall": "4"})
    review = client.get(f"/s/{token}/review").get_data(as_text=True)
    assert f"/s/{token}/p/1?return=review" in review
    form = client.get(f"/s/{token}/p/1?return=review").get_data(as_text=True)
    assert 'name="return" value="review"' in form and "保存，回到检查页" in form
    data = {f"a_{i.code}": "2" for i in pages[1].indicators}
    response = client.post(f"/s/{token}/p/1", data={**data, "return": "review"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/review")


def test_privacy_page_lets_a_resident_check_it_is_genuine(client, started):
    _wave, token = started
    page = client.get(f"/s/{token}").get_data(as_text=True)
    assert "怎样确认这份问卷是真的" in page
    assert "南京民意调查中心" in page and 'href="tel:02588881234"' in page
    assert "025-5555 0001" in page


def test_resume_page_says_how_far_you_got(client, started):
    wave, token = started
    pages = pages_for(spec_of(wave.framework), "elderly")
    client.post(f"/s/{token}")
    first = pages[1]
    client.post(f"/s/{token}/p/1", data={f"a_{i.code}": "4" for i in first.indicators})
    page = client.get(f"/s/{token}").get_data(as_text=True)
    total = len(spec_of(wave.framework).indicators_for("elderly"))
    assert f"已经回答 {len(first.indicators)} 题，共 {total} 题" in page
    assert 'role="progressbar" aria-label="已答题目"' in page


def test_large_text_scales_the_root(client, started):
    _wave, token = started
    client.get("/text-size/large")
    page = client.get(f"/s/{token}").get_data(as_text=True)
    assert '<html lang="zh-CN" class="large-text">' in page


def test_bureau_sets_community_phones_residents_see(client, make_user, login, started, district):
    _wave, token = started
    login(make_user("admin"))
    community = district.streets[0].communities[0]
    bad = client.post("/admin/settings/communities", data={f"phone_{community.id}": "call me"})
    assert bad.status_code == 400 and "只能填写数字" in bad.get_data(as_text=True)
    ok = client.post("/admin/settings/communities", data={f"phone_{community.id}": "025-1234 5678"})
    assert ok.status_code == 303 and community.phone == "025-1234 5678"
    client.post("/auth/logout")
    assert "025-1234 5678" in client.get(f"/s/{token}").get_data(as_text=True)


def test_review_shows_answers_in_english(client, started):
    wave, token = started
    pages = pages_for(spec_of(wave.framework), "elderly")
    client.get("/lang/en")
    client.post(f"/s/{token}")
    for p in pages[1:-1]:
        data = {f"a_{i.code}": "4" for i in p.indicators}
        data[f"a_{p.indicators[0].code}"] = "DK"
        client.post(f"/s/{token}/p/{p.number}", data=data)
    client.post(f"/s/{token}/p/{pages[-1].number}", data={"overall": "5"})
    review = client.get(f"/s/{token}/review").get_data(as_text=True)
    assert "Satisfied" in review and "Very satisfied" in review and "Don&#39;t know" in review
    assert "满意" not in review and "不了解" not in review
