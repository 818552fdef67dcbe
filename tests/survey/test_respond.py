"""The resident questionnaire: pages, validation, save and resume, single use."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from survey.extensions import db
from survey.models import Answer, Invitation, Response, ResponseDraft
from survey.services.frameworks import spec_of
from survey.services.invitations import create_batch
from survey.services.questionnaire import pages_for


@pytest.fixture
def invite(make_wave, district):  # type: ignore[no-untyped-def]
    """Return ``invite(group="elderly", **wave_options) -> (wave, token)``."""

    def make(group: str = "elderly", code: str = "w1", state: str = "fieldwork", **options):  # type: ignore[no-untyped-def]
        wave = make_wave(code, state="draft", **options)
        street = district.streets[0]
        _, tokens = create_batch(wave, street, group, 2, community=street.communities[0])
        if state != "draft":
            from survey.services.waves import transition

            transition(wave, "open")
            if state == "closed":
                transition(wave, "close")
        db.session.flush()
        return wave, tokens[0]

    return make


def answer_all(client, token: str, wave, group: str = "elderly", value: str = "4", dk=()):  # type: ignore[no-untyped-def]
    """Walk through every page answering ``value`` (``DK`` for codes in ``dk``)."""
    spec = spec_of(wave.framework)
    pages = pages_for(spec, group)
    assert client.post(f"/s/{token}").status_code == 302
    for page in pages[1:-1]:
        data = {f"a_{i.code}": ("DK" if i.code in dk else value) for i in page.indicators}
        response = client.post(f"/s/{token}/p/{page.number}", data=data)
        assert response.status_code == 302, response.get_data(as_text=True)[:800]
    final = {"overall": value, "concerns": ["I04", "I07"], "comment": "", "age_band": "60-69"}
    response = client.post(f"/s/{token}/p/{pages[-1].number}", data=final)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/s/{token}/review")
    return pages


def count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model))


def test_privacy_page_says_who_why_what_and_how_long(client, invite):
    wave, token = invite()
    response = client.get(f"/s/{token}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for words in (
        "第三方调查机构",
        "测试区民政局",
        "不收集姓名、电话、身份证号",
        "保存3年",
        "5分钟",
    ):
        assert words in page
    assert "<script" not in page
    assert response.headers["Cache-Control"] == "no-store"
    # the batch holds two invitations; only the one whose link was opened is marked
    # (no row order assumed: PostgreSQL returns an updated row last)
    opened = db.session.scalars(
        select(Invitation.opened_at).where(Invitation.wave_id == wave.id)
    ).all()
    assert sorted(o is not None for o in opened) == [False, True]


def test_full_questionnaire_stores_answers_comments_and_paradata(client, invite):
    wave, token = invite()
    spec = spec_of(wave.framework)
    assert client.post(f"/s/{token}").headers["Location"].endswith(f"/s/{token}/p/1")
    first = client.get(f"/s/{token}/p/1").get_data(as_text=True)
    assert 'type="radio"' in first and "不了解" in first and 'class="progress"' in first
    pages = pages_for(spec, "elderly")
    for page in pages[1:-1]:
        client.get(f"/s/{token}/p/{page.number}")
        data = {f"a_{i.code}": "5" for i in page.indicators}
        if page.number == 1:
            data["a_I01"] = "DK"
        if page.number == 2:
            data["c_I04"] = "楼道里垃圾没人清理"
            data["a_I04"] = "2"
        assert client.post(f"/s/{token}/p/{page.number}", data=data).status_code == 302
    client.get(f"/s/{token}/p/{pages[-1].number}")
    client.post(
        f"/s/{token}/p/{pages[-1].number}",
        data={
            "overall": "4",
            "concerns": ["I04", "I08"],
            "comment": "希望多装路灯",
            "gender": "female",
        },
    )
    review = client.get(f"/s/{token}/review").get_data(as_text=True)
    assert "楼道里垃圾没人清理" in review and "提交问卷" in review
    done = client.post(f"/s/{token}/review")
    # the POST itself answers with the thanks page (one request accepts it)
    assert done.status_code == 200 and "提交成功" in done.get_data(as_text=True)
    assert f"next=/s/{token}/thanks" in done.get_data(as_text=True)  # not back to /review
    assert "提交成功" in client.get(f"/s/{token}/thanks").get_data(as_text=True)
    response = db.session.scalar(select(Response).where(Response.wave_id == wave.id))
    assert response.channel == "online"
    assert response.concerns == "I04;I08" and response.overall == 4
    assert response.comment == "希望多装路灯" and response.gender == "female"
    assert response.started_at is not None and response.duration_s >= 0
    assert set(response.page_durations) == {str(p.number) for p in pages[1:]}
    assert len(response.device_hash) == 64
    points = {a.indicator_code: a.point for a in response.answers}
    assert len(points) == len(spec.indicators_for("elderly"))
    assert points["I01"] == 0 and points["I04"] == 2
    notes = {a.indicator_code: a.comment for a in response.answers if a.comment}
    assert notes == {"I04": "楼道里垃圾没人清理"}
    assert count(ResponseDraft) == 0


def test_second_submit_is_refused(client, invite):
    wave, token = invite()
    answer_all(client, token, wave)
    assert client.post(f"/s/{token}/review").status_code == 200
    again = client.post(f"/s/{token}/review")
    assert again.status_code == 409
    assert "已经提交过" in again.get_data(as_text=True)
    assert client.get(f"/s/{token}").status_code == 409
    assert count(Response) == 1


def test_save_and_resume_keeps_answers_server_side(app, invite):
    wave, token = invite()
    first = app.test_client()
    first.post(f"/s/{token}")
    saved = first.post(f"/s/{token}/p/1", data={"a_I01": "DK", "a_I02": "3", "nav": "save"})
    assert saved.headers["Location"].endswith(f"/s/{token}/saved")
    assert "已保存" in first.get(f"/s/{token}/saved").get_data(as_text=True)
    # another browser (no cookies) with the same link resumes on the same page
    other = app.test_client()
    resumed = other.post(f"/s/{token}")
    assert resumed.headers["Location"].endswith(f"/s/{token}/p/1")
    page = other.get(f"/s/{token}/p/1").get_data(as_text=True)
    assert 'id="a_I01-dk" value="DK" checked' in page
    assert 'id="a_I02-3" value="3" checked' in page


def test_missing_answer_shows_error_summary(client, invite):
    wave, token = invite()
    client.post(f"/s/{token}")
    response = client.post(f"/s/{token}/p/1", data={"a_I01": "4"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "还有题目没有回答" in page and 'href="#q-I02"' in page
    assert 'aria-describedby="e-I02"' in page
    draft = db.session.scalar(select(ResponseDraft))
    assert draft.data["answers"] == {"I01": "4"} and draft.page == 1


@pytest.mark.parametrize(
    "data, reason",
    [
        ({"a_I01": "7"}, "无效的答案"),
        ({"a_I01": "-1"}, "无效的答案"),
        ({"a_I01": "4", "a_I99": "3"}, "未知的题目"),
        ({"a_I01": "4", "a_I05": "3"}, "不在本页"),
        ({"a_I01": ["4", "5"]}, "只能有一个答案"),
        ({"a_I01": "4", "c_I01": "长" * 501}, "意见最多500个字"),
    ],
)
def test_bad_answers_get_400_and_store_nothing(client, invite, data, reason):
    wave, token = invite()
    client.post(f"/s/{token}")
    before = dict(db.session.scalar(select(ResponseDraft)).data)
    response = client.post(f"/s/{token}/p/1", data=data)
    assert response.status_code == 400
    assert reason in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(ResponseDraft)).data == before


def test_another_groups_question_is_rejected(client, make_wave, district):
    from scoring.framework import default_framework_text, parse_framework
    from survey.services.frameworks import save_framework
    from survey.services.waves import create_wave, transition

    text = default_framework_text().replace(
        'code = "I12"\n', 'code = "I12"\ngroups = ["adult", "unit"]\n', 1
    )
    framework = save_framework(parse_framework(text.replace("version = 1", "version = 7", 1)))
    wave = create_wave(district, framework, "w-groups", "分组问卷")
    transition(wave, "open")
    _, (token,) = create_batch(wave, district.streets[0], "elderly", 1)
    db.session.flush()
    spec = spec_of(framework)
    page = next(p for p in pages_for(spec, "elderly") if p.title == "民生保障")
    assert "I12" not in {i.code for i in page.indicators}
    client.post(f"/s/{token}")
    data = {f"a_{i.code}": "4" for i in page.indicators} | {"a_I12": "4"}
    response = client.post(f"/s/{token}/p/{page.number}", data=data)
    assert response.status_code == 400
    assert "不属于您的问卷" in response.get_data(as_text=True)


def test_four_concerns_and_huge_comment_are_rejected(client, invite):
    wave, token = invite()
    pages = answer_all(client, token, wave)
    last = pages[-1].number
    four = client.post(
        f"/s/{token}/p/{last}", data={"overall": "4", "concerns": ["I01", "I02", "I03", "I04"]}
    )
    assert four.status_code == 400 and "最多选3项" in four.get_data(as_text=True)
    huge = client.post(f"/s/{token}/p/{last}", data={"overall": "4", "comment": "x" * 10_000_000})
    assert huge.status_code == 400 and "意见最多2000个字" in huge.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(ResponseDraft)).data["final"]["concerns"] == ["I04", "I07"]


def test_comments_are_escaped_on_review(client, invite):
    wave, token = invite()
    client.post(f"/s/{token}")
    data = {f"a_I0{k}": "3" for k in (1, 2, 3)} | {"c_I01": "<script>alert(1)</script><b>x</b>"}
    client.post(f"/s/{token}/p/1", data=data)
    page = client.get(f"/s/{token}/review").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "<b>x</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.parametrize(
    "state, status, words",
    [("draft", 403, "还没有开始"), ("closed", 403, "已经结束")],
)
def test_wave_not_in_fieldwork(client, invite, state, status, words):
    _, token = invite(state=state)
    response = client.get(f"/s/{token}")
    assert response.status_code == status
    assert words in response.get_data(as_text=True)


def test_unknown_and_revoked_tokens(client, invite):
    from survey.models._base import utcnow

    wave, token = invite()
    unknown = client.get("/s/AAAAAAAAAAAAAAAAAAAAAA")
    assert unknown.status_code == 404 and "找不到这份问卷" in unknown.get_data(as_text=True)
    assert client.get("/s/x").status_code == 404
    for inv in db.session.scalars(select(Invitation)):
        inv.revoked_at = utcnow()
    db.session.flush()
    revoked = client.get(f"/s/{token}")
    assert revoked.status_code == 410 and "已作废" in revoked.get_data(as_text=True)


def test_code_entry_page(client, invite):
    _, token = invite()
    page = client.get("/s/")
    assert page.status_code == 200 and "邀请码" in page.get_data(as_text=True)
    go = client.post("/s/", data={"code": f" http://example.org/s/{token} "})
    assert go.headers["Location"].endswith(f"/s/{token}")
    assert client.post("/s/", data={"code": ""}).status_code == 400


def test_answers_counted_once(client, invite):
    wave, token = invite()
    answer_all(client, token, wave, dk=("I01", "I02"))
    client.post(f"/s/{token}/review")
    points = db.session.scalars(select(Answer.point).order_by(Answer.indicator_code)).all()
    assert points[:2] == [0, 0] and set(points[2:]) == {4}


def test_english_switch_translates_the_questionnaire(client, invite):
    wave, token = invite()
    client.get("/lang/en?next=/")
    start = client.get(f"/s/{token}").get_data(as_text=True)
    assert "Who runs this survey" in start and "kept for 3 years" in start
    client.post(f"/s/{token}")
    page = client.get(f"/s/{token}/p/1").get_data(as_text=True)
    assert "Party-building leadership" in page and "Don&#39;t know" in page
    assert "Very satisfied" in page and "Next page" in page


@pytest.fixture
def statements(app):  # type: ignore[no-untyped-def]
    """Count SQL statements sent to the database (transaction control excluded)."""
    from sqlalchemy import event

    seen: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            seen.append(statement)  # the test session's savepoints are not the app's

    engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    yield seen
    event.remove(engine, "before_cursor_execute", note)


def test_hot_path_statement_counts(client, invite, statements):
    """Lock in the query budget: one read per page view, page views do not write."""
    wave, token = invite()
    client.get(f"/s/{token}")  # first view records opened_at (one conditional UPDATE)
    statements.clear()
    assert client.get(f"/s/{token}").status_code == 200
    # invitation + wave + place + draft + used in one query; the privacy notice
    # also names the district's authority (one lookup by primary key)
    assert len(statements) <= 2
    assert all(s.startswith("SELECT") for s in statements)
    assert len(statements) == 1 or "FROM district" in statements[1]
    answer_all(client, token, wave)
    statements.clear()
    assert client.get(f"/s/{token}/p/1").status_code == 200
    assert len(statements) == 1 and statements[0].lstrip().upper().startswith("SELECT")
    statements.clear()
    assert client.get(f"/s/{token}/review").status_code == 200
    assert len(statements) == 1
    statements.clear()
    assert client.post(f"/s/{token}/review").status_code == 200
    # load, quality neighbours, INSERT response, INSERT answers (one statement), DELETE
    # draft; answered in milliseconds, so also flagged (speeder) and audit-logged
    audit = [s for s in statements if s.lstrip().upper().startswith("INSERT INTO AUDIT_LOG")]
    assert len(statements) - len(audit) == 5 and len(audit) == 1, statements
    assert sum(s.lstrip().upper().startswith("INSERT INTO ANSWER") for s in statements) == 1
    statements.clear()
    assert client.get(f"/s/{token}/thanks").status_code == 200
    assert len(statements) == 1


def test_failed_quality_check_never_loses_the_response(client, invite, monkeypatch):
    from survey.services import quality

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("quality check down")

    monkeypatch.setattr(quality, "_flag_submission", broken)
    wave, token = invite()
    answer_all(client, token, wave)
    assert client.post(f"/s/{token}/review").status_code == 200
    response = db.session.scalar(select(Response).where(Response.wave_id == wave.id))
    assert response.quality_flags == "" and not response.excluded
    assert len(response.answers) == len(spec_of(wave.framework).indicators_for("elderly"))
