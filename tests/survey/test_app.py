"""App factory, landing page, login and error pages."""

from survey.extensions import db
from survey.models import User


def test_landing_page_in_chinese(client):
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "民评" in page
    assert "工作人员登录" in page
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_english_switch(client):
    response = client.get("/lang/en?next=/", follow_redirects=True)
    assert response.status_code == 200
    assert 'lang="en"' in response.get_data(as_text=True)


def test_health(client):
    assert client.get("/healthz").get_json() == {"status": "ok", "database": "ok"}


def test_unknown_page_gets_chinese_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "找不到这个页面" in response.get_data(as_text=True)


def test_login_and_lockout(client, make_user):
    user = make_user("admin")
    for _ in range(5):
        bad = client.post("/auth/login", data={"username": user.username, "password": "wrong"})
        assert bad.status_code == 400
    db.session.refresh(user)
    assert user.locked_until is not None
    locked = client.post(
        "/auth/login", data={"username": user.username, "password": "Test-Password-2026"}
    )
    assert "锁定" in locked.get_data(as_text=True)


def test_login_success(client, make_user):
    user = make_user("agency")
    response = client.post(
        "/auth/login", data={"username": user.username, "password": "Test-Password-2026"}
    )
    assert response.status_code == 302
    assert db.session.get(User, user.id).failed_logins == 0
