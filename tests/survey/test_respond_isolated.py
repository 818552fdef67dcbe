"""Questionnaire tests that need their own app and database, with real commits.

CSRF switched on, concurrent double submits, rate limits on token guessing and
open (poster) links.  Each test builds a fresh app on a temporary SQLite file.
"""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import func, select

from survey.extensions import db
from survey.models import Invitation, Response, ResponseDraft

from .respond_support import fill, isolated_app, seed


def test_csrf_token_is_required_and_read_from_the_page(tmp_path):
    with isolated_app(tmp_path, WTF_CSRF_ENABLED=True) as app, app.app_context():
        (token, *_) = seed()["tokens"]
        client = app.test_client()
        assert client.get(f"/s/{token}").status_code == 200
        missing = client.post(f"/s/{token}")
        assert missing.status_code == 400
        assert "这次提交没有保存" in missing.get_data(as_text=True)
        assert db.session.scalar(select(func.count(ResponseDraft.id))) == 0
        fill(client, token, csrf=True)
        review = client.get(f"/s/{token}/review").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', review)[1]
        assert client.post(f"/s/{token}/review").status_code == 400
        assert db.session.scalar(select(func.count(Response.id))) == 0
        done = client.post(f"/s/{token}/review", data={"csrf_token": csrf})
        assert done.status_code == 200 and "提交成功" in done.get_data(as_text=True)
        assert db.session.scalar(select(func.count(Response.id))) == 1


def test_concurrent_double_submit_stores_one_response(tmp_path):
    with isolated_app(tmp_path) as app:
        with app.app_context():
            tokens = seed(count=4)["tokens"]
            for token in tokens:
                fill(app.test_client(), token)
        statuses: list[int] = []
        lock = threading.Lock()

        def submit(token: str, barrier: threading.Barrier) -> None:
            client = app.test_client()
            barrier.wait()
            status = client.post(f"/s/{token}/review").status_code
            with lock:
                statuses.append(status)

        for token in tokens:
            barrier = threading.Barrier(2)
            threads = [threading.Thread(target=submit, args=(token, barrier)) for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=30)
        assert sorted(statuses) == [200] * 4 + [409] * 4
        with app.app_context():
            per_invitation = db.session.execute(
                select(Response.invitation_id, func.count()).group_by(Response.invitation_id)
            ).all()
            assert len(per_invitation) == 4 and {n for _, n in per_invitation} == {1}


def test_stale_double_submit_is_decided_by_the_database(tmp_path):
    """A request that read the draft before another request committed still fails cleanly."""
    from survey.services import questionnaire as q

    with isolated_app(tmp_path) as app:
        with app.app_context():
            (token, *_) = seed(count=1)["tokens"]
            fill(app.test_client(), token)
        with app.app_context():
            late = q.visit(token)
            # end the read: SQLite's BEGIN IMMEDIATE would otherwise hold the write
            # lock; the race here is about stale data (PostgreSQL), not locks
            db.session.close()
            with app.app_context():  # a second request wins the race meanwhile
                inv = q.find_invitation(token)
                q.submit(inv, q.get_draft(inv))
            with pytest.raises(q.AlreadySubmitted):
                q.submit(late.inv, late.draft, late.spec)
            assert db.session.scalar(select(func.count(Response.id))) == 1


def test_token_guessing_is_rate_limited(tmp_path):
    with isolated_app(tmp_path, RATELIMIT_ENABLED=True) as app:
        with app.app_context():
            (token, *_) = seed(count=1)["tokens"]
        client = app.test_client()
        assert client.get(f"/s/{token}").status_code == 200  # real links cost nothing
        codes = [client.get(f"/s/guess{k:04d}AAAAAAAAAAAAAA").status_code for k in range(21)]
        assert codes[:20] == [404] * 20 and codes[20] == 429
        assert client.get(f"/s/{token}").status_code == 429
        assert "操作太频繁" in client.get("/s/whatever123").get_data(as_text=True)


def test_open_link_is_reusable_and_limited_per_device(tmp_path):
    with isolated_app(tmp_path) as app:
        with app.app_context():
            poster = seed(open_link=True)["poster"]
        first = app.test_client()
        page = first.get(f"/s/{poster}").get_data(as_text=True)
        assert f'action="/s/{poster}/open"' in page
        start = first.post(f"/s/{poster}/open")
        child = start.headers["Location"].split("/s/")[1].split("/")[0]
        assert child != poster
        # the same browser coming back to the poster resumes its own questionnaire
        again = first.get(f"/s/{poster}").get_data(as_text=True)
        assert f"/s/{child}/p/1" in again
        with app.app_context():
            fill(first, child)
        assert first.post(f"/s/{child}/review").status_code == 200
        assert first.get(f"/s/{poster}").status_code == 409  # cookie: already answered here
        # a new browser on the same device (same UA and IP) may answer once more ...
        second = app.test_client()
        child2 = second.post(f"/s/{poster}/open").headers["Location"].split("/s/")[1].split("/")[0]
        with app.app_context():
            fill(second, child2)
        assert second.post(f"/s/{child2}/review").status_code == 200
        # ... but not a third time (OPEN_LINK_DEVICE_LIMIT = 2)
        third = app.test_client().post(f"/s/{poster}/open")
        assert third.status_code == 429 and "已经提交过" in third.get_data(as_text=True)
        with app.app_context():
            responses = db.session.scalars(select(Response)).all()
            assert [r.channel for r in responses] == ["open", "open"]
            assert len({r.device_hash for r in responses}) == 1
            assert responses[1].excluded  # same answers from the same device
            assert "same device" in responses[1].quality_flags
            poster_row = db.session.scalar(select(Invitation).where(Invitation.is_open.is_(True)))
            assert poster_row.opened_at is not None
            assert (
                db.session.scalar(
                    select(Response.id).where(Response.invitation_id == poster_row.id)
                )
                is None
            )


def test_open_links_switched_off(tmp_path):
    from survey.models import Wave

    with isolated_app(tmp_path) as app:
        with app.app_context():
            poster = seed(open_link=True)["poster"]
            db.session.scalar(select(Wave)).allow_open_links = False
            db.session.commit()
        response = app.test_client().post(f"/s/{poster}/open")
        assert response.status_code == 403 and "已停用" in response.get_data(as_text=True)
