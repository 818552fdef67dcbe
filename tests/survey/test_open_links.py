"""Open (poster) links: a per-address cap and burst flags that no User-Agent rotation escapes."""

from __future__ import annotations

from sqlalchemy import select

from survey.extensions import db
from survey.models import Response

from . import respond_support as iso


def start(client, poster: str, agent: str, address: str = "203.0.113.7"):  # type: ignore[no-untyped-def]
    return client.post(
        f"/s/{poster}/open",
        headers={"User-Agent": agent},
        environ_base={"REMOTE_ADDR": address},
    )


def test_rotating_the_user_agent_does_not_escape_the_address_cap(tmp_path):
    with iso.isolated_app(tmp_path, RATELIMIT_ENABLED=True, OPEN_LINK_ADDRESS_LIMIT=6) as app:
        with app.app_context():
            poster = iso.seed(open_link=True)["poster"]
        codes = [
            start(app.test_client(), poster, f"Phone/{k}.0 (rotated)").status_code
            for k in range(12)
        ]
        assert codes[:6] == [302] * 6, codes
        assert set(codes[6:]) == {429}, codes
        page = start(app.test_client(), poster, "Phone/99").get_data(as_text=True)
        assert "网络地址" in page
        # another address is not affected
        assert start(app.test_client(), poster, "Phone/1", "198.51.100.9").status_code == 302


def test_the_hourly_limit_is_per_address_too(tmp_path):
    with iso.isolated_app(tmp_path, RATELIMIT_ENABLED=True, OPEN_LINK_ADDRESS_LIMIT=1000) as app:
        with app.app_context():
            poster = iso.seed(open_link=True)["poster"]
        limit = app.config["OPEN_LINK_ADDRESS_RATE"]
        per_hour = int(limit.split()[0])
        codes = [
            start(app.test_client(), poster, f"UA-{k}").status_code for k in range(per_hour + 2)
        ]
        assert codes[:per_hour] == [302] * per_hour and codes[-1] == 429


def test_ipv6_addresses_share_their_64_prefix(app):
    from survey.services.open_links import address_hash

    with app.test_request_context():
        a = address_hash("2001:db8:1:2:aaaa::1")
        b = address_hash("2001:db8:1:2:bbbb::9")
        c = address_hash("2001:db8:1:3::1")
        assert a == b != c and len(a) == 64
        assert address_hash("203.0.113.7") != address_hash("203.0.113.8")


def test_answers_started_in_a_burst_are_flagged(tmp_path):
    with iso.isolated_app(tmp_path, OPEN_LINK_BURST_COUNT=3, OPEN_LINK_DEVICE_LIMIT=100) as app:
        with app.app_context():
            poster = iso.seed(open_link=True)["poster"]
        children = []
        for k in range(4):
            client = app.test_client()
            location = start(client, poster, f"UA-{k}").headers["Location"]
            children.append((client, location.split("/s/")[1].split("/")[0]))
        other = app.test_client()
        lone = start(other, poster, "UA-x", "198.51.100.9").headers["Location"]
        children.append((other, lone.split("/s/")[1].split("/")[0]))
        for client, child in children:
            with app.app_context():
                iso.fill(client, child)
            assert client.post(f"/s/{child}/review").status_code == 200
        with app.app_context():
            rows = db.session.scalars(select(Response).order_by(Response.id)).all()
            burst = ["open-link burst" in r.quality_flags for r in rows]
            # the third and fourth starts from one address within the window
            assert burst == [False, False, True, True, False]
            assert all(r.excluded for r, b in zip(rows, burst, strict=True) if b)
            from survey.services.quality import flag_wave

            counts = flag_wave(rows[0].wave)
            db.session.commit()
            again = db.session.scalars(select(Response).order_by(Response.id)).all()
            # the whole wave check flags every start of the burst, also the first ones
            assert ["open-link burst" in r.quality_flags for r in again] == [
                True,
                True,
                True,
                True,
                False,
            ]
            assert counts["open_burst"] == 4
