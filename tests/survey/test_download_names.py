"""Every download name goes through one RFC 6266 helper: no header injection, Chinese kept."""

from __future__ import annotations

import html
import re
from urllib.parse import quote, unquote

import pytest
from werkzeug.http import parse_options_header

from survey.downloads import content_disposition

from . import admin_support as support

HOSTILE = [
    "w\";x=1; filename*=UTF-8''evil.exe",
    "w\r\nSet-Cookie: pwned=1",
    "../../etc/passwd",
    "宁海路街道-整改通知书-测民整〔2026〕1号.pdf",
    "a\x00b\x7fc.csv",
    "",
    "；＝HYPERLINK.csv",
]
ATTR_CHARS = re.compile(r"[A-Za-z0-9!#$&+\-.^_`|~%]*")


def check_header(value: str) -> str:
    """Assert one ASCII ``filename`` and one ``filename*`` (RFC 6266); return the name."""
    assert "\r" not in value and "\n" not in value and "\x00" not in value
    kind, rest = value.split(";", 1)
    assert kind in ("attachment", "inline")
    fallback = re.fullmatch(r' filename="([\x20-\x7e]*)"; filename\*=UTF-8\'\'(.*)', rest)
    assert fallback, value
    ascii_name, encoded = fallback.groups()
    assert '"' not in ascii_name and "\\" not in ascii_name and "/" not in ascii_name
    assert ATTR_CHARS.fullmatch(encoded), encoded
    name = unquote(encoded)
    assert not set(name) & set('"\\/\r\n\x00')
    parsed = parse_options_header(value)[1]
    assert parsed["filename"] == name  # browsers prefer filename*
    return name


@pytest.mark.parametrize("name", HOSTILE)
def test_helper_never_lets_a_name_break_the_header(name):
    value = content_disposition(name)
    shown = check_header(value)
    assert shown
    if name.startswith("宁海路"):
        assert shown == name  # Chinese names survive in filename*
    assert check_header(content_disposition(name, inline=True))


BAD_CODE = "w\";x=1; filename*=UTF-8''evil.exe\r\nX-Injected: 1"


def _rename(wave) -> str:  # type: ignore[no-untyped-def]
    from survey.extensions import db

    wave.code = BAD_CODE  # as a row from before codes were checked
    db.session.flush()
    return quote(BAD_CODE, safe="")


def test_download_routes_with_a_hostile_wave_code(client, make_wave, make_user, district):
    wave = support.scored_wave(make_wave, code="w-dl", per_street=30)
    path = _rename(wave)
    admin = make_user("admin", username="dl-admin")
    support.sign_in(client, admin)
    for url in (
        f"/admin/waves/{path}/export/responses.csv",
        f"/admin/waves/{path}/export/responses.xlsx",
        f"/admin/waves/{path}/export/scores.csv",
        f"/agency/waves/{path}/progress.csv",
    ):
        response = support.call(client, "GET", url)
        assert response.status_code == 200, (url, response.status_code)
        name = check_header(response.headers["Content-Disposition"])
        assert "evil.exe" not in name.split(";")[-1] or name.endswith((".csv", ".xlsx"))
        assert "X-Injected" not in response.headers


def test_links_csv_with_a_hostile_wave_code(client, make_wave, make_user, district):
    wave = make_wave("w-links")
    path = _rename(wave)
    support.sign_in(client, make_user("agency", username="dl-agency"))
    street = district.streets[0]
    response = support.call(
        client,
        "POST",
        f"/agency/waves/{path}/invitations",
        data={
            "street": street.id,
            "group": "elderly",
            "community": street.communities[0].id,
            "count": 2,
            "output": "csv",
        },
    )
    assert response.status_code == 200
    # the links page offers the file through a download attribute, cleaned the same way
    name = html.unescape(re.search(r'download="([^"]*)"', response.get_data(as_text=True))[1])
    assert name.endswith(".csv") and not set(name) & set(";\r\n\\/")


def test_framework_export_with_a_hostile_code(client, make_user, make_wave):
    from survey.extensions import db

    wave = make_wave("w-fw")
    row = wave.framework
    row.code = 'gulou"\r\n; filename*=x'
    db.session.flush()
    support.sign_in(client, make_user("admin", username="fw-dl"))
    response = support.call(client, "GET", f"/admin/frameworks/{row.id}/export")
    assert response.status_code == 200
    assert check_header(response.headers["Content-Disposition"]).endswith(".toml")
