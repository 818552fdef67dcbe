"""Provenance of responses: the entry path sets weight, channel and date, never the sender."""

from __future__ import annotations

import hashlib
import io
from datetime import date

import pytest
from sqlalchemy import func, select

from survey.extensions import db
from survey.models import AuditLog, Response
from survey.services.api_tokens import issue_token

from . import admin_support as support

CODES = [f"I{k:02d}" for k in range(1, 18)]


def item(n, **fields):  # type: ignore[no-untyped-def]
    base = {"response_id": f"p-{n}", "street": "宁海路", "group": "adult", "channel": "phone"}
    base.update({code: 4 for code in CODES})
    base.update(fields)
    return base


@pytest.fixture
def interviewer_token(app):  # type: ignore[no-untyped-def]
    user = support.quick_user("interviewer", username="iv-token")
    return user, {"Authorization": f"Bearer {issue_token(user)}"}


@pytest.fixture
def window_wave(make_wave):  # type: ignore[no-untyped-def]
    return make_wave("w-prov", starts_on=date(2026, 11, 1), ends_on=date(2026, 12, 31))


def post(client, wave, headers, items):  # type: ignore[no-untyped-def]
    return support.call(
        client,
        "POST",
        f"/api/v1/waves/{wave.code}/responses",
        headers=headers,
        json={"responses": items},
    )


def count(wave) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count(Response.id)).where(Response.wave_id == wave.id))


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"weight": 1000000}, ["weight 1e+06", "refused", "bureau"]),
        ({"channel": "online"}, ["channel 'online'", "refused"]),
        ({"channel": "open"}, ["channel 'open'", "refused"]),
        ({"submitted_at": "2020-01-01T10:00:00"}, ["submitted_at 2020-01-01", "fieldwork"]),
        ({"submitted_at": "2099-01-01T10:00:00"}, ["submitted_at 2099-01-01", "fieldwork"]),
    ],
)
def test_api_refuses_weight_channel_and_dates(
    client, interviewer_token, window_wave, fields, words
):
    _, headers = interviewer_token
    response = post(client, window_wave, headers, [item(1), item(2, **fields)])
    assert response.status_code == 422, response.get_data(as_text=True)
    text = " ".join(response.get_json()["problems"])
    for word in words:
        assert word in text
    assert "response 2 ('p-2')" in text
    assert count(window_wave) == 0


def test_api_stamps_date_and_interviewer(client, interviewer_token, window_wave):
    user, headers = interviewer_token
    response = post(
        client,
        window_wave,
        headers,
        [item(1, weight=1), item(2, channel="", submitted_at="2026-11-20T09:00:00+08:00")],
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    rows = db.session.scalars(select(Response).order_by(Response.public_id)).all()
    assert [r.channel for r in rows] == ["phone", "paper"]
    assert all(r.weight == 1.0 and r.interviewer_id == user.id for r in rows)
    assert rows[0].submitted_at is not None  # stamped on receipt
    assert rows[1].submitted_at.isoformat() == "2026-11-20T01:00:00"  # stored in UTC


def _csv(rows) -> bytes:  # type: ignore[no-untyped-def]
    header = "response_id,street,group,submitted_at,channel,weight," + ",".join(CODES)
    body = header + ",concerns,overall,comment\n"
    for rid, date_, channel, weight in rows:
        body += f"{rid},宁海路,elderly,{date_},{channel},{weight}," + ",".join(["4"] * 17)
        body += ",,4,\n"
    return body.encode()


def test_agency_import_refuses_weight_channel_and_dates(make_user, login, window_wave):
    agency = login(make_user("agency"))
    data = _csv(
        [
            ("a1", "2026-11-02T09:00:00", "paper", ""),
            ("a2", "2026-11-02T09:00:00", "paper", "1000000"),
            ("a3", "2026-11-02T09:00:00", "online", ""),
            ("a4", "2020-03-01T09:00:00", "face", ""),
        ]
    )
    response = agency.post(
        f"/agency/waves/{window_wave.code}/import",
        data={"file": (io.BytesIO(data), "paper.csv")},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "response 2 (&#39;a2&#39;), weight 1e+06: refused" in page
    assert "response 3 (&#39;a3&#39;), channel &#39;online&#39;: refused" in page
    assert "response 4 (&#39;a4&#39;), submitted_at 2020-03-01T09:00:00: refused" in page
    assert count(window_wave) == 0


def test_agency_import_records_the_file_digest(make_user, login, window_wave):
    agency = login(make_user("agency"))
    data = _csv([("a1", "2026-11-02T09:00:00", "paper", ""), ("a2", "", "face", "1")])
    response = agency.post(
        f"/agency/waves/{window_wave.code}/import",
        data={"file": (io.BytesIO(data), "paper.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    digest = hashlib.sha256(data).hexdigest()
    rows = db.session.scalars(select(Response).where(Response.wave_id == window_wave.id)).all()
    assert {r.import_sha256 for r in rows} == {digest}
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "responses.import"))
    assert entry.after["sha256"] == digest and entry.after["path"] == "agency"


def test_admin_import_keeps_weights_and_is_audited(runner, window_wave, tmp_path):
    source = tmp_path / "weighted.csv"
    data = _csv([("w1", "2026-11-02T09:00:00", "online", "2.5")])
    source.write_bytes(data)
    result = runner.invoke(args=["import-responses", "--wave", window_wave.code, str(source)])
    assert result.exit_code == 0, result.output
    row = db.session.scalar(select(Response).where(Response.wave_id == window_wave.id))
    assert row.weight == 2.5 and row.channel == "online"
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "responses.import"))
    assert entry.after["sha256"] == hashlib.sha256(data).hexdigest()
    assert entry.after["path"] == "admin" and entry.after["by"]
    assert entry.after["weighted"] == 1 and entry.at is not None


def test_admin_import_still_checks_the_date(runner, window_wave, tmp_path):
    source = tmp_path / "old.csv"
    source.write_bytes(_csv([("w1", "2020-11-02T09:00:00", "paper", "")]))
    result = runner.invoke(args=["import-responses", "--wave", window_wave.code, str(source)])
    assert result.exit_code == 1 and "outside the fieldwork" in result.output
    assert count(window_wave) == 0


def test_quality_page_flags_one_heavy_source(client, runner, make_user, window_wave, tmp_path):
    """One admin-imported row of weight 10^6 is flagged; interviewers' rows are not."""
    from scoring.dataset import to_records
    from scoring.simulate import simulate
    from survey.services.frameworks import spec_of
    from survey.services.responses import insert_records

    spec = spec_of(window_wave.framework)
    names = [s.name for s in window_wave.district.streets]
    data = simulate(spec, names, 40, 3, mu=1.5).data
    records = to_records(data, id_prefix="s", channels=["phone"] * data.n)
    interviewer = make_user("interviewer", username="iv-quality")
    insert_records(window_wave, records, interviewer_id=interviewer.id)
    db.session.flush()
    source = tmp_path / "heavy.csv"
    line = "h1,宁海路,adult,2026-11-02T09:00:00,paper,1000000," + ",".join(["1"] * 17) + ",,1,\n"
    header = "response_id,street,group,submitted_at,channel,weight," + ",".join(CODES)
    source.write_text(header + ",concerns,overall,comment\n" + line, "utf-8")
    result = runner.invoke(args=["import-responses", "--wave", window_wave.code, str(source)])
    assert result.exit_code == 0, result.output
    support.sign_in(client, make_user("admin", username="admin-quality"))
    page = support.call(client, "GET", f"/admin/waves/{window_wave.code}/quality")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    block = html[html.index("sources-title") :]
    rows = block.split("<tr")[2:]
    flagged = [r for r in rows if "影响过大" in r]
    # the file and the paper channel are the same single row
    assert len(flagged) == 2 and rows[:2] == flagged
    assert any(digest[:12] in r for r in flagged) and all("宁海路 -" in r for r in flagged)
    assert "iv-quality" in block and "电话" in block


def test_agency_dashboard_shows_the_sources(client, make_user, window_wave):
    from scoring.dataset import to_records
    from scoring.simulate import simulate
    from survey.services.frameworks import spec_of
    from survey.services.responses import insert_records

    spec = spec_of(window_wave.framework)
    data = simulate(spec, [s.name for s in window_wave.district.streets], 12, 4).data
    interviewer = make_user("interviewer", username="iv-dash")
    insert_records(
        window_wave,
        to_records(data, id_prefix="d", channels=["face"] * data.n),
        interviewer_id=interviewer.id,
    )
    support.sign_in(client, make_user("agency", username="agency-dash"))
    page = support.call(client, "GET", f"/agency/waves/{window_wave.code}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "答卷来源与影响" in html
    block = html[html.index("sources-title") :]
    assert "iv-dash" in block and "面访" in block and "band-below" not in block
