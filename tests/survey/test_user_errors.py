"""One user-error type and one view helper: user mistakes come back on the form, bugs do not."""

from __future__ import annotations

import pytest
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField

from survey.errors import UserError, attempt
from survey.extensions import db
from survey.models import Wave
from survey.services import console

from ..conftest import STAFF_PASSWORD


class _Form(FlaskForm):
    code = StringField()


def _rename(wave: Wave, name: str, error: Exception | None = None) -> str:
    wave.name = name
    db.session.flush()
    if error is not None:
        raise error
    return name


def test_attempt_commits_on_success_and_rolls_back_with_the_error_on_the_field(app, make_wave):
    wave = make_wave("ue-form", state="draft")
    with app.test_request_context(method="POST"):
        form = _Form(meta={"csrf": False})
        done = attempt(lambda: _rename(wave, "改好的名字"), form=form)
        assert not done.failed and done.result == "改好的名字" and done.status == 200
        db.session.expire_all()
        assert db.session.get(Wave, wave.id).name == "改好的名字"

        refused = attempt(
            lambda: _rename(
                wave, "不会保存", UserError("代码已被使用。", field="code", status=409)
            ),
            form=form,
        )
        assert refused.failed and refused.status == 409 and refused.message == "代码已被使用。"
        assert list(form.code.errors) == ["代码已被使用。"]
        assert db.session.scalar(select(Wave.name).where(Wave.id == wave.id)) == "改好的名字"
        with pytest.raises(RuntimeError):
            _ = refused.result


def test_a_user_error_without_a_field_is_flashed(app, make_wave):
    from flask import get_flashed_messages

    wave = make_wave("ue-flash", state="draft")
    db.session.commit()
    with app.test_request_context(method="POST"):
        done = attempt(
            lambda: _rename(wave, "x", UserError("不行。")),
            explain=lambda why: f"未保存：{why}",
        )
        assert done.failed and done.status == 400
        assert get_flashed_messages(with_categories=True) == [("error", "未保存：不行。")]


def test_a_programming_error_is_not_turned_into_a_message(app, make_wave):
    wave = make_wave("ue-bug", state="draft")
    db.session.commit()
    with app.test_request_context(method="POST"):
        with pytest.raises(KeyError):
            attempt(lambda: _rename(wave, "x", KeyError("bug")))
        with pytest.raises(ValueError, match="a bug"):
            attempt(lambda: _rename(wave, "x", ValueError("a bug")))


def test_a_view_shows_a_user_error_but_a_bug_in_the_service_reaches_the_error_page(
    client, make_user, make_wave, district, monkeypatch
):
    admin = make_user("admin", username="ue-admin")
    client.post("/auth/login", data={"username": admin.username, "password": STAFF_PASSWORD})
    make_wave("ue-closed", state="closed")
    make_wave("ue-quotas", state="draft")
    db.session.commit()
    street = district.streets[0]
    refused = client.post("/admin/waves/ue-closed/quotas", data={f"q_{street.id}_elderly": "9"})
    assert refused.status_code == 409
    assert "配额不能再修改" in refused.get_data(as_text=True)
    url = "/admin/waves/ue-quotas/quotas"

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise ValueError("an index computed wrong")

    monkeypatch.setattr(console, "set_quotas", broken)
    crashed = client.post(url, data={f"q_{street.id}_elderly": "12"})
    assert crashed.status_code == 500  # the error page and the log, not a friendly flash
    assert "an index computed wrong" not in crashed.get_data(as_text=True)
