"""A street officer sees and touches only their own street's notices, items and evidence."""

from __future__ import annotations

import datetime as dt
import io

from survey.extensions import db
from survey.models import Evidence
from survey.services import rectification as rect
from survey.services.evidence import check_upload

from . import rectification_support as S


def test_other_streets_are_invisible(app, make_wave, make_user, district, login):
    wave = make_wave("acl-1", state="closed")
    mine_street, other_street = district.streets[0], district.streets[1]
    mine = S.direct_items(wave, mine_street, deadline=dt.date(2026, 5, 15), n=1)[0]
    other = S.direct_items(wave, other_street, deadline=dt.date(2026, 5, 15), n=1)[0]
    other.state = "in_progress"
    evidence = rect.add_evidence(other, check_upload("p.jpg", S.photo()), user_id=None)
    db.session.flush()
    client = login(make_user("street", street="宁海路", username="nhl-acl"))

    assert client.get(f"/street/items/{mine.id}").status_code == 200
    assert client.get(f"/street/notices/{mine.notice_id}.pdf").status_code == 200
    listing = client.get("/street/items").get_data(as_text=True)
    notices = client.get("/street/notices").get_data(as_text=True)
    assert other_street.full_name not in notices and f"/street/items/{other.id}" not in listing

    for url in (
        f"/street/items/{other.id}",
        f"/street/notices/{other.notice_id}.pdf",
        f"/street/evidence/{evidence.id}",
        f"/street/evidence/{evidence.id}/thumb",
    ):
        assert client.get(url).status_code == 404, url
    for url, data in (
        (f"/street/items/{other.id}/plan", S.plan_data()),
        (f"/street/items/{other.id}/progress", {"note": "x"}),
        (f"/street/items/{other.id}/submit", {"result": "x"}),
        (f"/street/notices/{other.notice_id}/acknowledge", {}),
        (f"/street/evidence/{evidence.id}/delete", {}),
    ):
        assert client.post(url, data=data).status_code == 404, url
    upload = client.post(
        f"/street/items/{other.id}/evidence",
        data={"file": (io.BytesIO(S.photo()), "x.jpg")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 404
    assert other.state == "in_progress" and other.measures == ""
    assert other.notice.acknowledged_at is None
    assert db.session.query(Evidence).count() == 1
    # Nor the bureau's pages or public evidence of an unpublished wave.
    assert client.get("/admin/rectification/").status_code == 403
    assert client.get(f"/admin/rectification/evidence/{evidence.id}").status_code == 403
    assert client.get(f"/public/evidence/{evidence.id}.jpg").status_code == 404


def test_portal_is_for_street_officers_only(make_user, login, client):
    assert client.get("/street/").status_code == 302  # to the login page
    login(make_user("agency"))
    assert client.get("/street/").status_code == 403
    assert client.get("/street/items").status_code == 403


def test_plan_form_needs_the_real_csrf_token(app, make_wave, make_user, district, login):
    import re

    wave = make_wave("csrf-1", state="closed")
    item = S.direct_items(wave, district.streets[0], deadline=dt.date(2026, 5, 15), n=1)[0]
    client = login(make_user("street", street="宁海路", username="nhl-csrf"))
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        refused = client.post(f"/street/items/{item.id}/plan", data=S.plan_data())
        assert refused.status_code == 400 and item.state == "issued"
        page = client.get(f"/street/items/{item.id}").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        accepted = client.post(
            f"/street/items/{item.id}/plan", data={**S.plan_data(), "csrf_token": token}
        )
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert accepted.status_code == 302 and item.state == "planned"
