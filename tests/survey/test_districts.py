"""Several districts on one installation: no account reads another district's data.

District A is the shared test district (a scored wave with notices, items,
evidence, a document job, an invitation batch, an interview draft); district B
(玄武区) has its own streets, a wave and accounts of every role scoped to it.
Every console, agency, street and API route that takes a resource argument is
taken from ``app.url_map`` and requested with district A's resources by each
district-B account: the answer must be 403 or 404, never a page, a file or a
redirect to a success page.  A city-level account (no district) sees both.
See docs/districts.md.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from survey.extensions import db
from survey.models import (
    AuditLog,
    DocumentJob,
    Evidence,
    InvitationBatch,
    Notice,
    RectificationItem,
    Response,
    User,
)
from survey.services.api_tokens import issue_token
from survey.services.districts import create_district
from survey.services.scoring_runs import current_run

from . import admin_support as support

ROLES = ("admin", "agency", "interviewer", "street", "viewer")
BLUEPRINTS = ("admin", "agency", "street", "api")
# Shared by every district of an installation (docs/districts.md): frameworks
# and the official working-day calendar.
SHARED_ARGS = {"fid"}
NAME_ARG = {"admin.run_chart": "caterpillar", "admin.street_chart": "radar"}


def _quick(role, *, street=None, district=None, username):  # type: ignore[no-untyped-def]
    user = support.quick_user(role, street, username=username)
    user.district_id = district.id if district is not None else None
    db.session.flush()
    return user


@pytest.fixture
def two(app, make_wave, district):  # type: ignore[no-untyped-def]
    """District A (scored wave and its documents) and district B with its own accounts."""
    from survey.services.frameworks import save_framework
    from survey.services.questionnaire import start_interview
    from survey.services.waves import create_wave

    wave = support.scored_wave(make_wave, code="wave-gulou", per_street=35)
    street_a = district.streets[0]
    notice = Notice(
        kind="notice",
        wave_id=wave.id,
        street_id=street_a.id,
        doc_number="测民整〔2026〕1号",
        issue_date=dt.date(2026, 3, 31),
        pdf=b"%PDF-1.7",
        sha256="0" * 64,
    )
    db.session.add(notice)
    db.session.flush()
    item = RectificationItem(
        notice_id=notice.id,
        street_id=street_a.id,
        wave_id=wave.id,
        indicator_code="I07",
        indicator_name="电动车停放充电",
        deadline=dt.date(2026, 5, 15),
    )
    db.session.add(item)
    db.session.flush()
    evidence = Evidence(
        item_id=item.id,
        filename="a.png",
        content_type="image/png",
        data=b"\x89PNG",
        thumbnail=b"\x89PNG",
        sha256="1" * 64,
    )
    job = DocumentJob(wave_id=wave.id, state="done", done=1, total=1)
    batch = InvitationBatch(wave_id=wave.id, street_id=street_a.id, group_code="elderly", count=1)
    db.session.add_all([evidence, job, batch])
    db.session.flush()

    b = create_district(
        "xuanwu",
        "玄武区",
        [("X1", "玄武门", ["玄武门一社区"]), ("X2", "新街口", ["新街口一社区"])],
        authority="玄武区民政局",
        doc_prefix="玄民整",
    )
    framework = save_framework(support_spec())
    wave_b = create_wave(b, framework, "wave-xuanwu", "玄武区测评")
    users_b = {
        role: _quick(
            role,
            street=b.streets[0] if role == "street" else None,
            district=None if role == "street" else b,
            username=f"b-{role}",
        )
        for role in ROLES
    }
    users_a = {
        role: _quick(
            role,
            street=street_a if role == "street" else None,
            district=None if role == "street" else district,
            username=f"a-{role}",
        )
        for role in ROLES
    }
    city = _quick("admin", username="city-admin")
    interviewer_a = users_a["interviewer"]
    wave_open = make_wave("open-gulou", state="fieldwork")
    token, _draft = start_interview(
        wave_open.id, street_a.id, "elderly", None, "phone", interviewer_a.id
    )
    db.session.flush()
    response = db.session.scalar(select(Response).where(Response.wave_id == wave.id).limit(1))
    values = {
        "code": wave.code,
        "run_id": current_run(wave).id,
        "street_id": street_a.id,
        "street_code": street_a.code,
        "user_id": users_a["viewer"].id,
        "response_id": response.id,
        "notice_id": notice.id,
        "item_id": item.id,
        "evidence_id": evidence.id,
        "job_id": job.id,
        "batch_id": batch.id,
        "token": token,
        "n": 1,
        "page": 1,
        "fmt": "csv",
        "action": "close",
    }
    tokens = {f"b-{r}": issue_token(u) for r, u in users_b.items()}
    tokens["city"] = issue_token(city)
    tokens.update({f"a-{r}": issue_token(u) for r, u in users_a.items()})
    db.session.flush()
    return {
        "a": district,
        "b": b,
        "wave": wave,
        "wave_b": wave_b,
        "users_a": users_a,
        "users_b": users_b,
        "city": city,
        "tokens": tokens,
        "values": values,
        "notice": notice,
        "item": item,
    }


def support_spec():  # type: ignore[no-untyped-def]
    from scoring.framework import load_default_framework

    return load_default_framework()


def _resource_rules(app):  # type: ignore[no-untyped-def]
    """Every staff route that names a district resource (wave, notice, item, ...)."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] not in BLUEPRINTS:
            continue
        args = set(rule.arguments) - {"name", "thumb"}
        if not args or args & SHARED_ARGS:
            continue
        yield rule


def _call(client, two, rule, method, who, user):  # type: ignore[no-untyped-def]
    values = dict(two["values"])
    if rule.endpoint in NAME_ARG:
        values["name"] = NAME_ARG[rule.endpoint]
    url = client.application.url_map.bind("localhost").build(
        rule.endpoint, {a: values[a] for a in rule.arguments if a in values}
    )
    headers = {}
    if rule.endpoint.startswith("api."):
        support.sign_in(client, None)
        headers["Authorization"] = f"Bearer {two['tokens'][who]}"
    else:
        support.sign_in(client, user)
    kwargs = (
        {"json": {"responses": []}}
        if method == "POST" and rule.endpoint.startswith("api.")
        else {"data": {}}
    )
    return url, support.call(client, method, url, headers=headers, **kwargs)


def test_district_b_accounts_never_reach_district_a_resources(app, client, two):
    failures, checked = [], 0
    rules = list(_resource_rules(app))
    assert len(rules) > 50  # the url_map, not a hand-kept list
    for rule in rules:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for role, user in two["users_b"].items():
                url, response = _call(client, two, rule, method, f"b-{role}", user)
                checked += 1
                if response.status_code not in (403, 404):
                    failures.append(f"{method} {url} as B {role}: {response.status_code}")
    assert checked > 300
    assert not failures, "\n".join(failures)


def test_district_a_accounts_still_reach_their_own_resources(client, two):
    """The same URLs work for district A's own accounts (the denial above is not blanket)."""
    v = two["values"]
    pages = {
        "admin": [
            f"/admin/waves/{v['code']}",
            f"/admin/waves/{v['code']}/results",
            f"/admin/notices/{v['notice_id']}.pdf",
            f"/admin/rectification/items/{v['item_id']}",
            f"/admin/rectification/evidence/{v['evidence_id']}",
            f"/admin/runs/{v['run_id']}/caterpillar.svg",
        ],
        "agency": [f"/agency/waves/{v['code']}"],
        "street": [f"/street/items/{v['item_id']}", f"/street/notices/{v['notice_id']}.pdf"],
    }
    for role, urls in pages.items():
        support.sign_in(client, two["users_a"][role])
        for url in urls:
            assert support.call(client, "GET", url).status_code == 200, (role, url)
    support.sign_in(client, None)
    auth = {"Authorization": f"Bearer {two['tokens']['a-admin']}"}
    for url in (f"/api/v1/waves/{v['code']}", f"/api/v1/notices/{v['notice_id']}"):
        assert support.call(client, "GET", url, headers=auth).status_code == 200, url


def test_lists_show_only_the_accounts_district(client, two):
    wave, wave_b = two["wave"], two["wave_b"]
    admin_b = two["users_b"]["admin"]
    support.sign_in(client, admin_b)
    for url in ("/admin/", "/agency/", "/admin/rectification/", "/admin/frameworks"):
        page = support.call(client, "GET", url).get_data(as_text=True)
        assert wave.code not in page, url
    assert wave_b.code in support.call(client, "GET", "/admin/").get_data(as_text=True)
    users_page = support.call(client, "GET", "/admin/users").get_data(as_text=True)
    assert "b-viewer" in users_page
    assert "a-viewer" not in users_page and "city-admin" not in users_page
    settings = support.call(client, "GET", "/admin/settings/documents").get_data(as_text=True)
    assert "玄武区民政局" in settings and "测试区民政局" not in settings

    support.sign_in(client, None)
    auth = {"Authorization": f"Bearer {two['tokens']['b-admin']}"}
    listed = support.call(client, "GET", "/api/v1/waves", headers=auth).get_json()["waves"]
    assert [w["code"] for w in listed] == [wave_b.code]
    assert support.call(client, "GET", "/api/v1/notices", headers=auth).get_json() == {
        "notices": []
    }
    assert support.call(client, "GET", "/api/v1/rectification-items", headers=auth).get_json() == {
        "items": []
    }
    assert support.call(client, "GET", "/api/v1/me", headers=auth).get_json()["districts"] == [
        "xuanwu"
    ]
    street_a = two["values"]["street_code"]
    assert (
        support.call(client, "GET", f"/api/v1/notices?street={street_a}", headers=auth).status_code
        == 404
    )


def test_audit_entries_belong_to_their_district(client, two):
    from survey.services.waves import transition

    transition(two["wave_b"], "open", user_id=two["users_b"]["admin"].id)
    support.call(client, "GET", "/")  # commit
    entry = db.session.scalar(
        select(AuditLog).where(
            AuditLog.action.like("wave.%"), AuditLog.object_id == str(two["wave_b"].id)
        )
    )
    assert entry is not None and entry.district_id == two["b"].id
    support.sign_in(client, two["users_a"]["admin"])
    page_a = support.call(client, "GET", "/admin/audit?object_type=Wave").get_data(as_text=True)
    assert f">{two['wave_b'].id}<" not in page_a.replace(" ", "")
    support.sign_in(client, two["users_b"]["admin"])
    page_b = support.call(client, "GET", "/admin/audit?object_type=Wave").get_data(as_text=True)
    assert "wave." in page_b


def test_city_account_sees_both_and_switches(client, two):
    city = two["city"]
    support.sign_in(client, None)
    auth = {"Authorization": f"Bearer {two['tokens']['city']}"}
    codes = {
        w["code"]
        for w in support.call(client, "GET", "/api/v1/waves", headers=auth).get_json()["waves"]
    }
    assert {two["wave"].code, two["wave_b"].code} <= codes

    support.sign_in(client, city)
    first = support.call(client, "GET", "/admin/").get_data(as_text=True)
    assert 'name="district_id"' in first  # the header switcher
    assert two["wave"].code in first and two["wave_b"].code not in first
    # Single resources of any visible district open without switching.
    assert support.call(client, "GET", f"/admin/waves/{two['wave_b'].code}").status_code == 200
    switched = support.call(
        client, "POST", "/district", data={"district_id": two["b"].id, "next": "/admin/"}
    )
    assert switched.status_code == 303 and switched.headers["Location"].endswith("/admin/")
    second = support.call(client, "GET", "/admin/").get_data(as_text=True)
    assert two["wave_b"].code in second and two["wave"].code not in second


def test_switching_to_an_invisible_district_is_refused(client, two):
    admin_b = two["users_b"]["admin"]
    support.sign_in(client, admin_b)
    page = support.call(client, "GET", "/admin/").get_data(as_text=True)
    assert 'name="district_id"' not in page  # one district: no switcher
    response = support.call(client, "POST", "/district", data={"district_id": two["a"].id})
    assert response.status_code == 404
    # A forged session value is ignored, not trusted.
    with client.session_transaction() as session:
        session["district_id"] = two["a"].id
    assert two["wave"].code not in support.call(client, "GET", "/admin/").get_data(as_text=True)


def test_district_admin_creates_accounts_of_own_district_only(client, two):
    admin_b = two["users_b"]["admin"]
    support.sign_in(client, admin_b)
    form = {"username": "b-clerk", "role": "viewer", "street": "0", "password": "Good-Pass-2026"}
    assert support.call(client, "POST", "/admin/users", data=form).status_code == 302
    clerk = db.session.scalar(select(User).where(User.username == "b-clerk"))
    assert clerk.district_id == two["b"].id
    # A city-level account or one of district A: refused, nothing created.
    for district_id in (0, two["a"].id):
        support.sign_in(client, admin_b)
        bad = dict(form, username=f"b-bad{district_id}", district=str(district_id))
        status = support.call(client, "POST", "/admin/users", data=bad).status_code
        created = db.session.scalar(select(User).where(User.username == bad["username"]))
        if district_id == 0:
            # 0 means "my own district" for a district admin
            assert status == 302 and created.district_id == two["b"].id
        else:
            assert status == 404 and created is None
    # A street of district A cannot be given to a district-B account.
    support.sign_in(client, admin_b)
    street_a = two["a"].streets[0]
    bad = dict(form, username="b-street2", role="street", street=str(street_a.id))
    assert support.call(client, "POST", "/admin/users", data=bad).status_code in (400, 404)
    assert db.session.scalar(select(User).where(User.username == "b-street2")) is None


def test_city_admin_creates_city_and_district_accounts(client, two):
    support.sign_in(client, two["city"])
    base = {"role": "agency", "street": "0", "password": "Good-Pass-2026"}
    support.call(client, "POST", "/admin/users", data=dict(base, username="c-agency", district="0"))
    support.call(
        client,
        "POST",
        "/admin/users",
        data=dict(base, username="c-b-agency", district=str(two["b"].id)),
    )
    rows = {
        u.username: u.district_id
        for u in db.session.scalars(select(User).where(User.username.like("c-%")))
    }
    assert rows == {"c-agency": None, "c-b-agency": two["b"].id}


def test_document_prefixes_must_differ_between_districts(two):
    from survey.services.document_settings import update_document_settings

    with pytest.raises(ValueError, match="已由测试区使用"):
        update_document_settings(
            two["b"],
            authority="玄武区民政局",
            doc_prefix="测民整",
            reply_address="",
            deadline_days=30,
            top_k=3,
            templates={},
        )
    assert two["b"].doc_prefix == "玄民整"


def test_users_create_cli_with_district(app, runner, two):
    from survey.cli import users_create  # noqa: F401 - the command under test

    result = runner.invoke(
        args=[
            "users",
            "create",
            "--role",
            "viewer",
            "--district",
            "xuanwu",
            "--password",
            "Good-Pass-2026",
            "cli-b",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "玄武区" in result.output
    assert (
        db.session.scalar(select(User.district_id).where(User.username == "cli-b")) == two["b"].id
    )
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--role",
            "viewer",
            "--district",
            "nowhere",
            "--password",
            "Good-Pass-2026",
            "cli-x",
        ]
    )
    assert result.exit_code != 0 and "unknown district 'nowhere'" in result.output
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--role",
            "street",
            "--district",
            "xuanwu",
            "--street",
            "宁海路",
            "--password",
            "Good-Pass-2026",
            "cli-s",
        ]
    )
    assert result.exit_code != 0 and "unknown street" in result.output
    city = runner.invoke(
        args=["users", "create", "--role", "admin", "--password", "Good-Pass-2026", "cli-city"]
    )
    assert city.exit_code == 0 and "all districts" in city.output


def _score_b(two):  # type: ignore[no-untyped-def]
    """Give district B a scored wave of the same year as district A's."""
    from survey.services.responses import insert_records
    from survey.services.scoring_runs import score_wave
    from survey.services.waves import transition

    wave_b = two["wave_b"]
    transition(wave_b, "open")
    names = [s.name for s in two["b"].streets]
    insert_records(wave_b, support.simulated_records(support_spec(), names, 40, 11, "wb"))
    transition(wave_b, "close")
    score_wave(wave_b, boot=100, seed=3)
    db.session.flush()
    return wave_b


def test_city_view_compares_streets_with_intervals_and_no_bare_rank(client, two):
    import re

    _score_b(two)
    support.sign_in(client, two["city"])
    response = support.call(client, "GET", "/admin/city")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for street in (*two["a"].streets, *two["b"].streets):
        assert street.name in page
    body = page[page.rindex("<tbody>") :]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    assert len(rows) == len(two["a"].streets) + len(two["b"].streets)
    for row in rows:
        cells = [
            re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        district, _street, score, ci, band, rank, n = cells
        assert re.fullmatch(r"\d+\.\d–\d+\.\d", ci), ci  # every score with its interval
        assert re.fullmatch(r"\d+–\d+ / \d+", rank), rank  # an interval within its district
        assert band in ("高于全区", "与全区相当", "低于全区", "数据不全")
    assert "名次" not in page.replace("不存在全市名次", "")  # no city-wide rank column
    # one interval chart per district, each against its own district's line
    charts = re.findall(r'<img class="chart" src="([^"]+/caterpillar\.svg)"', page)
    assert len(charts) == 2
    for url in charts:
        chart = support.call(client, "GET", url)
        assert chart.status_code == 200 and chart.mimetype == "image/svg+xml"
    support.sign_in(client, two["users_b"]["admin"])
    assert support.call(client, "GET", charts[0]).status_code in (403, 404)  # district A's run
    support.sign_in(client, two["city"])
    by_score = support.call(client, "GET", "/admin/city?sort=score").get_data(as_text=True)
    by_score = by_score[by_score.rindex("<tbody>") :]
    scores = [
        float(s)
        for s in re.findall(r'<td class="num">(\d+\.\d)</td>\s*<td class="num">\d', by_score)
    ]
    assert scores == sorted(scores, reverse=True) and len(scores) >= 5


def test_city_view_is_for_city_accounts_only(client, two):
    for user in (two["users_b"]["admin"], two["users_a"]["viewer"]):
        support.sign_in(client, user)
        assert support.call(client, "GET", "/admin/city").status_code == 403
    for role in ("agency", "street", "interviewer"):
        support.sign_in(client, two["users_b"][role])
        assert support.call(client, "GET", "/admin/city").status_code == 403


def test_city_view_warns_when_frameworks_differ(client, two):
    from dataclasses import replace

    from survey.services.frameworks import save_framework

    wave_b = _score_b(two)
    spec = support_spec()
    other = save_framework(replace(spec, version=spec.version + 1))
    wave_b.framework_id = other.id
    db.session.flush()
    support.sign_in(client, two["city"])
    page = support.call(client, "GET", "/admin/city").get_data(as_text=True)
    assert "不能直接跨区比较" in page


def test_framework_edit_moves_only_the_editors_draft_waves(app, two, make_wave):
    from flask_login import login_user

    from survey.services.framework_edit import FrameworkEdit, edit_framework
    from survey.services.waves import create_wave

    wave_b = two["wave_b"]  # a draft of district B
    draft_a = create_wave(two["a"], wave_b.framework, "draft-gulou", "测试区草稿")
    db.session.flush()
    row = wave_b.framework
    with app.test_request_context():
        login_user(two["users_a"]["admin"])
        stored = edit_framework(row, FrameworkEdit(name="改名后的指标体系"))
        db.session.flush()
    assert stored.id != row.id
    assert draft_a.framework_id == stored.id  # the editor's district follows the edit
    assert wave_b.framework_id == row.id  # another district's draft is left alone


def test_city_view_and_switcher_in_english(client, two):
    _score_b(two)
    support.sign_in(client, two["city"])
    with client.session_transaction() as session:
        session["lang"] = "en"
    page = support.call(client, "GET", "/admin/city").get_data(as_text=True)
    assert "City comparison" in page and "Rank interval within district" in page
    assert "95% confidence interval; streets" in page and "Switch" in page


def test_console_works_before_any_district_exists(app, client):
    admin = _quick("admin", username="first-admin")
    support.sign_in(client, admin)
    for url in ("/admin/", "/admin/audit", "/admin/users", "/agency/", "/admin/city"):
        assert support.call(client, "GET", url).status_code == 200, url
