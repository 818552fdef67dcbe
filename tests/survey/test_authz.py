"""Authorisation matrix: every console and API route x every role (and anonymous).

The routes come from ``app.url_map``, so a new admin or API route without an
entry in ``EXPECTED`` fails the test instead of being skipped silently.
Routes that other engineers added to the admin blueprint (notices, calendar,
rectification: modules not listed in ``OWN_MODULES``) are covered by their own
tests; here they only must not answer an anonymous visitor with a page.
"""

from __future__ import annotations

import datetime as dt

import pytest

from survey.extensions import db
from survey.models import Notice, RectificationItem, Response
from survey.services.api_tokens import issue_token
from survey.services.scoring_runs import current_run

from . import admin_support as support

ROLES = ("admin", "agency", "interviewer", "street", "viewer")
ADMIN = {"admin"}
BUREAU = {"admin", "viewer"}
STAFF = set(ROLES)
OWN_MODULES = {
    "survey.admin.accounts",
    "survey.admin.audit",
    "survey.admin.frameworks",
    "survey.admin.quality",
    "survey.admin.results",
    "survey.admin.waves",
    "survey.api.routes",
}
PUBLIC = {"anonymous", *ROLES}

EXPECTED: dict[str, set[str]] = {
    # bureau console: read pages for admin and viewer, writes for admin only
    "admin.index": BUREAU,
    "admin.account": STAFF,
    "admin.change_password": STAFF,
    "admin.users": ADMIN,
    "admin.create_user": ADMIN,
    "admin.set_active": ADMIN,
    "admin.reset_password": ADMIN,
    "admin.set_role": ADMIN,
    "admin.frameworks": BUREAU,
    "admin.framework": BUREAU,
    "admin.edit_framework": ADMIN,
    "admin.export_framework": BUREAU,
    "admin.import_framework": ADMIN,
    "admin.ahp": BUREAU,
    "admin.ahp_post": ADMIN,
    "admin.new_wave": ADMIN,
    "admin.create_wave": ADMIN,
    "admin.wave": BUREAU,
    "admin.transition": ADMIN,
    "admin.publish_confirm": ADMIN,
    "admin.save_contacts": ADMIN,
    "admin.score": ADMIN,
    "admin.quotas": BUREAU,
    "admin.save_quotas": ADMIN,
    "admin.quality": BUREAU,
    "admin.quality_check": ADMIN,
    "admin.exclusion": ADMIN,
    "admin.results": BUREAU,
    "admin.street": BUREAU,
    "admin.run_chart": BUREAU,
    "admin.street_chart": BUREAU,
    "admin.export_scores": BUREAU,
    "admin.export_responses": ADMIN,
    "admin.audit": BUREAU,
    # API v1 (Bearer token)
    "api.openapi": PUBLIC,
    "api.me": STAFF,
    "api.waves": STAFF,
    "api.wave": STAFF,
    "api.scores": {"admin", "viewer", "agency", "street"},
    "api.street_scores": {"admin", "viewer", "agency", "street"},
    "api.post_responses": {"admin", "agency", "interviewer"},
    "api.notices": {"admin", "viewer", "street"},
    "api.notice": {"admin", "viewer", "street"},
    "api.items": {"admin", "viewer", "street"},
    "api.item": {"admin", "viewer", "street"},
}
NAME_ARG = {"admin.run_chart": "caterpillar", "admin.street_chart": "radar"}


@pytest.fixture(params=["city", "district"])
def world(request, app, make_wave, district):  # type: ignore[no-untyped-def]
    """A scored wave, a notice with an item for each street, one user per role with a token.

    Run twice: with city-level accounts (no district, docs/districts.md) and
    with accounts scoped to the district; the matrix must hold for both.
    """
    wave = support.scored_wave(make_wave, code="w-authz", per_street=35)
    own, other = district.streets[0], district.streets[1]
    notices, items = {}, {}
    for n, street in enumerate((own, other)):
        notice = Notice(
            kind="notice",
            wave_id=wave.id,
            street_id=street.id,
            doc_number=f"测民整〔2026〕{n + 1}号",
            issue_date=dt.date(2026, 3, 31),
            pdf=b"%PDF-1.7",
            sha256="0" * 64,
        )
        db.session.add(notice)
        db.session.flush()
        item = RectificationItem(
            notice_id=notice.id,
            street_id=street.id,
            wave_id=wave.id,
            indicator_code="I07",
            indicator_name="电动车停放充电",
            deadline=dt.date(2026, 5, 15),
        )
        db.session.add(item)
        db.session.flush()
        notices[street.id], items[street.id] = notice, item
    users = {role: support.quick_user(role, own if role == "street" else None) for role in ROLES}
    if request.param == "district":
        for user in users.values():
            user.district_id = district.id
    tokens = {role: issue_token(user) for role, user in users.items()}
    target = support.quick_user("viewer", username="target-user")
    db.session.flush()
    response = db.session.query(Response).filter_by(wave_id=wave.id).first()
    values = {
        "code": wave.code,
        "fid": wave.framework_id,
        "run_id": current_run(wave).id,
        "street_id": own.id,
        "street_code": own.code,
        "user_id": target.id,
        "response_id": response.id,
        "notice_id": notices[own.id].id,
        "item_id": items[own.id].id,
        "fmt": "csv",
        "action": "close",
    }
    return {
        "wave": wave,
        "own": own,
        "other": other,
        "users": users,
        "tokens": tokens,
        "values": values,
        "notices": notices,
        "items": items,
    }


def _build(app, endpoint, values):  # type: ignore[no-untyped-def]
    return app.url_map.bind("localhost").build(endpoint, values)


def _request(client, world, rule, method, role):  # type: ignore[no-untyped-def]
    values = dict(world["values"])
    if rule.endpoint in NAME_ARG:
        values["name"] = NAME_ARG[rule.endpoint]
    url = _build(client.application, rule.endpoint, {a: values[a] for a in rule.arguments})
    headers = {}
    if rule.endpoint.startswith("api."):
        support.sign_in(client, None)
        if role != "anonymous":
            headers["Authorization"] = f"Bearer {world['tokens'][role]}"
    else:
        support.sign_in(client, world["users"][role] if role != "anonymous" else None)
    kwargs = (
        {"json": {"responses": []}}
        if method == "POST" and rule.endpoint.startswith("api.")
        else {"data": {}}
    )
    return support.call(client, method, url, headers=headers, **kwargs)


def test_every_console_and_api_route_is_in_the_matrix(app):
    mine = {
        r.endpoint
        for r in app.url_map.iter_rules()
        if r.endpoint.split(".")[0] in ("admin", "api")
        and app.view_functions[r.endpoint].__module__ in OWN_MODULES
    }
    assert mine == set(EXPECTED), f"add to EXPECTED: {sorted(mine - set(EXPECTED))}"


def test_authorisation_matrix(app, client, world):
    failures = []
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint not in EXPECTED:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for role in ("anonymous", *ROLES):
                response = _request(client, world, rule, method, role)
                status = response.status_code
                to_login = status == 302 and "/auth/login" in response.headers.get("Location", "")
                allowed = role in EXPECTED[rule.endpoint]
                checked += 1
                if status >= 500:
                    failures.append(f"{method} {rule.rule} as {role}: {status}")
                elif allowed and (status in (401, 403) or to_login):
                    failures.append(f"{method} {rule.rule} as {role}: refused ({status})")
                elif not allowed:
                    api = rule.endpoint.startswith("api.")
                    want = (401 if role == "anonymous" else 403) if api else 403
                    ok = to_login if (role == "anonymous" and not api) else status == want
                    if not ok:
                        failures.append(f"{method} {rule.rule} as {role}: {status}, wanted denial")
    assert checked > 200
    assert not failures, "\n".join(failures)


def test_other_admin_routes_never_serve_anonymous_visitors(app, client, world):
    """Routes other engineers add to /admin: an anonymous visitor never gets a page."""
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin.") or rule.endpoint in EXPECTED:
            continue
        if not set(rule.arguments) <= set(world["values"]) | {"name"}:
            continue  # needs ids of objects only those tests create
        values = {a: world["values"].get(a, "x") for a in rule.arguments}
        try:
            url = _build(app, rule.endpoint, values)
        except Exception:  # noqa: BLE001 - converters this table cannot satisfy
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            support.sign_in(client, None)
            status = support.call(client, method, url).status_code
            assert status in (302, 400, 401, 403, 404), f"{method} {url}: {status}"


def test_street_officer_cannot_reach_another_street(client, world):
    token = world["tokens"]["street"]
    wave, own, other = world["wave"], world["own"], world["other"]
    auth = {"Authorization": f"Bearer {token}"}

    def get(url):  # type: ignore[no-untyped-def]
        support.sign_in(client, None)
        return support.call(client, "GET", url, headers=auth)

    assert get(f"/api/v1/waves/{wave.code}/streets/{own.code}/scores").status_code == 200
    assert get(f"/api/v1/waves/{wave.code}/streets/{other.code}/scores").status_code == 403
    assert get(f"/api/v1/waves/{wave.code}/streets/{other.name}/scores").status_code == 403
    scores = get(f"/api/v1/waves/{wave.code}/scores").get_json()
    assert [s["street"] for s in scores["streets"]] == [own.name]
    assert get(f"/api/v1/notices?street={other.code}").status_code == 403
    listed = get("/api/v1/notices").get_json()["notices"]
    assert {n["street"] for n in listed} == {own.code}
    assert get(f"/api/v1/notices/{world['notices'][other.id].id}").status_code == 403
    assert get(f"/api/v1/notices/{world['notices'][own.id].id}").status_code == 200
    assert get(f"/api/v1/rectification-items/{world['items'][other.id].id}").status_code == 403
    items = get(f"/api/v1/rectification-items?wave={wave.code}").get_json()["items"]
    assert {i["street"] for i in items} == {own.code}
    # The console pages of any street are bureau-only.
    support.sign_in(client, world["users"]["street"])
    page = support.call(client, "GET", f"/admin/waves/{wave.code}/streets/{other.id}")
    assert page.status_code == 403


def test_deactivated_user_token_stops_working(client, world):
    from survey.services.staff import set_active

    user = world["users"]["agency"]
    set_active(user, False)
    db.session.flush()
    support.sign_in(client, None)
    response = support.call(
        client,
        "GET",
        "/api/v1/waves",
        headers={"Authorization": f"Bearer {world['tokens']['agency']}"},
    )
    assert response.status_code == 401
