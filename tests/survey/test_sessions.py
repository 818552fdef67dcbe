"""Staff sessions end on logout, password reset, role change and deactivation, and time out.

Each test copies the session cookie of a signed-in browser, lets something end
the session, and replays the copy from another browser: it must land on the
login page.
"""

from __future__ import annotations

import pytest

from survey.auth import sessions
from survey.extensions import db
from survey.models import User

from ..conftest import STAFF_PASSWORD, OwnUserClient


@pytest.fixture(autouse=True)
def _own_user_clients(app):  # type: ignore[no-untyped-def]
    """Every browser of a test sees only its own signed-in user."""
    app.test_client_class = OwnUserClient


def _signed_in(app, user):  # type: ignore[no-untyped-def]
    browser = app.test_client()
    response = browser.post(
        "/auth/login", data={"username": user.username, "password": STAFF_PASSWORD}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert browser.get("/admin/").status_code == 200
    return browser


def _replay(app, cookie: str):  # type: ignore[no-untyped-def]
    """A second browser presenting a copied session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief.get("/admin/")


def _refused(response) -> bool:  # type: ignore[no-untyped-def]
    return response.status_code == 302 and "/auth/login" in response.headers["Location"]


@pytest.fixture
def admins(app, make_user):  # type: ignore[no-untyped-def]
    return make_user("admin", username="admin-a"), make_user("admin", username="admin-b")


def test_copied_cookie_works_until_logout_then_never(app, admins):
    browser = _signed_in(app, admins[0])
    cookie = browser.get_cookie("session").value
    assert _replay(app, cookie).status_code == 200  # the copy works while signed in
    assert browser.post("/auth/logout").status_code == 302
    assert _refused(_replay(app, cookie))
    assert _refused(browser.get("/admin/"))


def test_logout_ends_the_accounts_other_sessions_too(app, admins):
    laptop = _signed_in(app, admins[0])
    phone = _signed_in(app, admins[0])
    colleague = _signed_in(app, admins[1])
    laptop.post("/auth/logout")
    assert _refused(phone.get("/admin/"))
    assert colleague.get("/admin/").status_code == 200  # other accounts are untouched


def test_password_reset_by_an_admin_ends_sessions(app, admins, make_user):
    victim = make_user("viewer", username="viewer-v")
    cookie = _signed_in(app, victim).get_cookie("session").value
    admin = _signed_in(app, admins[0])
    reset = admin.post(f"/admin/users/{victim.id}/password", data={"password": "New-Pass-2026!"})
    assert reset.status_code == 302
    assert _refused(_replay(app, cookie))
    # and the new password signs in afresh
    fresh = app.test_client().post(
        "/auth/login", data={"username": victim.username, "password": "New-Pass-2026!"}
    )
    assert fresh.status_code == 302


def test_deactivation_ends_sessions(app, admins, make_user):
    victim = make_user("viewer", username="viewer-d")
    cookie = _signed_in(app, victim).get_cookie("session").value
    admin = _signed_in(app, admins[0])
    assert admin.post(f"/admin/users/{victim.id}/active").status_code == 302
    assert _refused(_replay(app, cookie))
    # reactivating does not bring the old session back
    assert admin.post(f"/admin/users/{victim.id}/active").status_code == 302
    assert db.session.get(User, victim.id).active is True
    assert _refused(_replay(app, cookie))


def test_role_change_ends_sessions_and_is_audited(app, admins, make_user):
    from survey.models import AuditLog

    victim = make_user("admin", username="admin-demoted")
    cookie = _signed_in(app, victim).get_cookie("session").value
    admin = _signed_in(app, admins[0])
    changed = admin.post(f"/admin/users/{victim.id}/role", data={"role": "viewer", "street": 0})
    assert changed.status_code == 302
    assert db.session.get(User, victim.id).role == "viewer"
    assert _refused(_replay(app, cookie))
    entry = db.session.query(AuditLog).filter_by(action="user.set_role").one()
    assert entry.before["role"] == "admin" and entry.after["role"] == "viewer"
    # a street officer needs a street; nobody changes their own role
    bad = admin.post(f"/admin/users/{victim.id}/role", data={"role": "street", "street": 0})
    assert bad.status_code == 400
    mine = admin.post(f"/admin/users/{admins[0].id}/role", data={"role": "viewer", "street": 0})
    assert mine.status_code == 400 and db.session.get(User, admins[0].id).role == "admin"


def test_idle_and_absolute_timeouts(app, admins, monkeypatch):
    clock = [1_900_000_000.0]
    monkeypatch.setattr(sessions, "now", lambda: clock[0])
    idle = 60 * app.config["STAFF_IDLE_MINUTES"]
    longest = 3600 * app.config["STAFF_SESSION_HOURS"]
    assert (idle, longest) == (30 * 60, 12 * 3600)

    browser = _signed_in(app, admins[0])
    clock[0] += idle - 60
    assert browser.get("/admin/").status_code == 200  # active: the idle clock restarts
    clock[0] += idle - 60
    assert browser.get("/admin/").status_code == 200
    clock[0] += idle + 1
    assert _refused(browser.get("/admin/"))  # idle too long

    busy = _signed_in(app, admins[1])
    started = clock[0]
    while clock[0] - started < longest - idle:
        clock[0] += idle - 60
        assert busy.get("/admin/").status_code == 200
    clock[0] = started + longest + 1
    assert _refused(busy.get("/admin/"))  # never longer than the absolute limit


def test_cookies_without_a_version_or_with_a_bad_id_are_refused(app, admins):
    for raw in (str(admins[0].id), f"{admins[0].id}:x", "9" * 40 + ":1", ":"):
        browser = app.test_client()
        with browser.session_transaction() as session:
            session.update(sessions.session_values(admins[0]))
            session["_user_id"] = raw
        assert _refused(browser.get("/admin/")), raw


def test_bad_timeout_settings_stop_production(monkeypatch):
    import importlib

    import survey.config as config

    monkeypatch.setenv("MINPING_IDLE_MINUTES", "soon")
    fresh = importlib.reload(config)
    try:
        assert fresh.Config.STAFF_IDLE_MINUTES == 30
        assert any("MINPING_IDLE_MINUTES" in p for p in fresh.CONFIG_PROBLEMS)
    finally:
        monkeypatch.delenv("MINPING_IDLE_MINUTES")
        importlib.reload(config)


def test_changing_my_password_ends_my_other_sessions_but_not_this_one(app, admins, make_user):
    from survey.models import AuditLog

    me = make_user("street", username="street-me")
    phone = _signed_in_street(app, me)
    laptop = _signed_in_street(app, me)
    copied = laptop.get_cookie("session").value
    wrong = laptop.post(
        "/admin/account/password",
        data={"current": "Not-My-Password-1", "password": "New-Pass-2026!"},
    )
    assert wrong.status_code == 400 and "当前密码不正确" in wrong.get_data(as_text=True)
    assert phone.get("/street/").status_code == 200  # nothing changed
    weak = laptop.post(
        "/admin/account/password", data={"current": STAFF_PASSWORD, "password": "short"}
    )
    assert weak.status_code == 400
    done = laptop.post(
        "/admin/account/password", data={"current": STAFF_PASSWORD, "password": "New-Pass-2026!"}
    )
    assert done.status_code == 302
    assert laptop.get("/street/").status_code == 200  # this browser carries on
    assert _refused_street(phone.get("/street/"))
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert _refused_street(thief.get("/street/"))
    assert db.session.get(User, me.id).check_password("New-Pass-2026!")
    assert db.session.query(AuditLog).filter_by(action="user.change_password").count() == 1


def _signed_in_street(app, user):  # type: ignore[no-untyped-def]
    browser = app.test_client()
    response = browser.post(
        "/auth/login", data={"username": user.username, "password": STAFF_PASSWORD}
    )
    assert response.status_code == 302
    assert browser.get("/street/").status_code == 200
    return browser


def _refused_street(response) -> bool:  # type: ignore[no-untyped-def]
    return response.status_code == 302 and "/auth/login" in response.headers["Location"]
