"""The English catalogue is complete and the pages switch language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import g

from survey.extensions import db
from survey.services.invitations import create_batch

CATALOG = Path(__file__).resolve().parents[2] / "survey/translations/en/LC_MESSAGES/messages.po"
CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")
NAMED = re.compile(r"%\([^)]*\)[-#0 +]?\d*(?:\.\d+)?[a-zA-Z]")
H1 = re.compile(r"<h1[^>]*>(.*?)</h1>", re.S)


def _messages():  # type: ignore[no-untyped-def]
    with CATALOG.open("rb") as f:
        catalog = read_po(f)
    return [m for m in catalog if m.id]


def _strings(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return value if isinstance(value, tuple) else (value,)


def test_catalogue_is_complete_and_not_fuzzy():
    messages = _messages()
    assert len(messages) > 600
    empty = [m.id for m in messages if not all(_strings(m.string))]
    fuzzy = [m.id for m in messages if m.fuzzy]
    assert empty == [] and fuzzy == []


def test_translations_keep_placeholders():
    for m in _messages():
        msgid = _strings(m.id)[0]
        for msgstr in _strings(m.string):
            assert set(NAMED.findall(msgstr)) == set(NAMED.findall(msgid)), (msgid, msgstr)
            # "%%" (templates with variables) and a bare "%" must survive as they are
            rest_id, rest_str = NAMED.sub("", msgid), NAMED.sub("", msgstr)
            assert rest_str.count("%%") == rest_id.count("%%"), (msgid, msgstr)
            assert rest_str.count("%") == rest_id.count("%"), (msgid, msgstr)


def test_translations_have_no_chinese():
    # the logo keeps its Chinese name beside the romanised "minping" (base.html)
    allowed = {"民评"}
    for m in _messages():
        for msgstr in _strings(m.string):
            if msgstr not in allowed:
                assert not CJK.search(msgstr), (m.id, msgstr)


@pytest.fixture
def client(client):  # type: ignore[no-untyped-def]
    """The shared client, choosing the language afresh on every request.

    Each test runs inside one app context, so Flask-Babel would otherwise keep
    the locale of the test's first request (in production each request has its own).
    """
    send = client.open

    def open_(*args, **kwargs):  # type: ignore[no-untyped-def]
        g.pop("_flask_babel", None)
        return send(*args, **kwargs)

    client.open = open_
    return client


@pytest.fixture
def token(make_wave, district):  # type: ignore[no-untyped-def]
    wave = make_wave("w1", state="draft")
    street = district.streets[0]
    _, tokens = create_batch(wave, street, "elderly", 1, community=street.communities[0])
    from survey.services.waves import transition

    transition(wave, "open")
    db.session.flush()
    return tokens[0]


def _page(client, url: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code == 200, url
    html = response.get_data(as_text=True)
    match = H1.search(html)
    assert match, url
    return html, re.sub(r"<[^>]+>", "", match.group(1)).strip()


PUBLIC_PAGES = {
    "/": ("Staff", "Residents and resident units", "Public results"),
    "/auth/login": ("Staff login", "Username", "Password", "Log in"),
}


def test_public_pages_in_english(client):
    client.get("/lang/en")
    for url, words in PUBLIC_PAGES.items():
        html, h1 = _page(client, url)
        assert not CJK.search(h1), (url, h1)
        for word in words:
            assert word in html, (url, word)
        assert '<html lang="en">' in html


def test_privacy_page_in_english(client, token):
    client.get("/lang/en")
    html, h1 = _page(client, f"/s/{token}")
    assert h1 == "Resident satisfaction questionnaire"
    for word in ("Who runs this survey", "What is stored", "Taking part is voluntary", "I agree"):
        assert word in html


def test_admin_page_in_english(client, login, make_user, make_wave):
    make_wave("w1")
    login(make_user("admin"))
    client.get("/lang/en")
    html, h1 = _page(client, "/admin/users")
    assert h1 == "Accounts"
    for word in ("New account", "Username", "Log out", "District Civil Affairs Bureau"):
        assert word in html
    html, h1 = _page(client, "/admin/")
    assert h1.startswith("Survey wave") and "In fieldwork" in html


def test_chinese_by_default(client, login, make_user, token):
    for url in ("/", "/auth/login", f"/s/{token}"):
        _, h1 = _page(client, url)
        assert CJK.search(h1), (url, h1)
    login(make_user("admin"))
    html, h1 = _page(client, "/admin/users")
    assert h1 == "账号管理" and "新建账号" in html and "Accounts" not in html


def test_back_to_chinese(client, token):
    client.get("/lang/en")
    assert _page(client, f"/s/{token}")[1] == "Resident satisfaction questionnaire"
    client.get("/lang/zh")
    assert _page(client, f"/s/{token}")[1] == "居民满意度问卷"
