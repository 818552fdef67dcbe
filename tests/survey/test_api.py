"""JSON API v1: Bearer tokens, waves, scores, response batches (all or nothing), OpenAPI."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from survey.extensions import db
from survey.models import Response
from survey.services.api_tokens import issue_token
from survey.services.scoring_runs import current_run

from . import admin_support as support


@pytest.fixture
def bearer(app):  # type: ignore[no-untyped-def]
    tokens: dict[str, dict[str, str]] = {}

    def make(role, street=None):  # type: ignore[no-untyped-def]
        if role not in tokens:
            user = support.quick_user(role, street, username=f"api-{role}")
            tokens[role] = {"Authorization": f"Bearer {issue_token(user)}"}
        return tokens[role]

    return make


def api(client, method, url, headers=None, **kw):  # type: ignore[no-untyped-def]
    return support.call(client, method, "/api/v1" + url, headers=headers or {}, **kw)


def count(wave) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count(Response.id)).where(Response.wave_id == wave.id))


def row(n, street="宁海路", **answers):  # type: ignore[no-untyped-def]
    base = {"response_id": f"api-{n}", "street": street, "group": "adult", "channel": "phone"}
    base.update({f"I{k:02d}": 4 for k in range(1, 18)})
    base.update(answers)
    return base


def test_tokens_are_required_and_checked(client, bearer):
    assert api(client, "GET", "/waves").status_code == 401
    assert api(client, "GET", "/waves", {"Authorization": "Bearer mp_nope"}).status_code == 401
    assert api(client, "GET", "/waves", {"Authorization": "Basic abc"}).status_code == 401
    response = api(client, "GET", "/waves", bearer("viewer"))
    assert response.status_code == 200 and response.get_json() == {"waves": []}
    assert api(client, "GET", "/openapi.json").status_code == 200


def test_scores_are_the_stored_result_json(client, bearer, make_wave):
    wave = support.scored_wave(make_wave, code="w-api", per_street=30)
    response = api(client, "GET", f"/waves/{wave.code}/scores", bearer("agency"))
    assert response.status_code == 200
    assert response.data == current_run(wave).result_json.encode("utf-8")
    listed = api(client, "GET", "/waves", bearer("agency")).get_json()["waves"]
    assert listed[0]["code"] == wave.code and listed[0]["state"] == "scored"
    assert api(client, "GET", "/waves/nope/scores", bearer("agency")).status_code == 404


def test_post_batch_all_or_nothing(client, bearer, make_wave):
    wave = make_wave("w-batch", state="fieldwork")
    headers = bearer("agency")
    good = api(
        client,
        "POST",
        f"/waves/{wave.code}/responses",
        headers,
        json={"responses": [row(1), row(2, street="S2", I05="DK", concerns=["I07", "I08"])]},
    )
    assert good.status_code == 201, good.get_json()
    assert good.get_json() == {"imported": 2, "wave": wave.code} and count(wave) == 2
    bad = api(
        client,
        "POST",
        f"/waves/{wave.code}/responses",
        headers,
        json={"responses": [row(3), row(4, street="火星路"), row(5, I03=9), row(6, colour="red")]},
    )
    assert bad.status_code == 422
    problems = bad.get_json()["problems"]
    assert any("colour" in p for p in problems)
    assert count(wave) == 2  # nothing of the bad batch
    fixed = [row(3), row(4), row(5)]
    street_problem = api(
        client,
        "POST",
        f"/waves/{wave.code}/responses",
        headers,
        json={"responses": [row(7, street="火星路"), row(8, I03=9)]},
    )
    text = " ".join(street_problem.get_json()["problems"])
    assert street_problem.status_code == 422 and "line 2" in text and "line 3" in text
    assert (
        api(
            client, "POST", f"/waves/{wave.code}/responses", headers, json={"responses": fixed}
        ).status_code
        == 201
    )
    again = api(
        client, "POST", f"/waves/{wave.code}/responses", headers, json={"responses": [row(1)]}
    )
    assert again.status_code == 422 and "already" in again.get_json()["problems"][0]
    assert count(wave) == 5
    for body in ({}, {"responses": []}, {"responses": "x"}, {"responses": [1]}):
        assert (
            api(client, "POST", f"/waves/{wave.code}/responses", headers, json=body).status_code
            == 422
        )
    assert (
        api(client, "POST", f"/waves/{wave.code}/responses", headers, data="not json").status_code
        == 422
    )


def test_post_to_a_closed_wave_is_a_conflict(client, bearer, make_wave):
    wave = make_wave("w-closed", state="closed")
    response = api(
        client,
        "POST",
        f"/waves/{wave.code}/responses",
        bearer("interviewer"),
        json={"responses": [row(1)]},
    )
    assert response.status_code == 409 and count(wave) == 0


def test_api_post_needs_no_csrf_token_but_a_bearer_token(app, client, bearer, make_wave):
    wave = make_wave("w-csrf-api", state="fieldwork")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        ok = api(
            client,
            "POST",
            f"/waves/{wave.code}/responses",
            bearer("agency"),
            json={"responses": [row(1)]},
        )
        assert ok.status_code == 201
        assert (
            api(
                client, "POST", f"/waves/{wave.code}/responses", json={"responses": [row(2)]}
            ).status_code
            == 401
        )
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_openapi_document_describes_every_api_route(app, client):
    doc = api(client, "GET", "/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    documented = {
        (method.upper(), "/api/v1" + path.replace("{", "<").replace("}", ">"))
        for path, ops in doc["paths"].items()
        for method in ops
    }
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") and rule.endpoint != "api.openapi":
            path = re.sub(r"<int(\([^)]*\))?:", "<", rule.rule)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                routes.add((method, path))
    normalise = {
        ("GET", "/api/v1/notices/<id>"): ("GET", "/api/v1/notices/<notice_id>"),
        ("GET", "/api/v1/rectification-items/<id>"): (
            "GET",
            "/api/v1/rectification-items/<item_id>",
        ),
        ("GET", "/api/v1/waves/<code>/streets/<street>/scores"): (
            "GET",
            "/api/v1/waves/<code>/streets/<street_code>/scores",
        ),
    }
    assert {normalise.get(d, d) for d in documented} == routes
