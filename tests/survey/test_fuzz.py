"""Property-based tests of what browsers and API clients can send.

Whatever arrives — tampered questionnaire forms, odd tokens, damaged response
files, arbitrary JSON — the answer is never a 5xx, the only exceptions are the
documented ones, and nothing is half written.  Deterministic (``derandomize``)
and small enough for the default run.
"""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from scoring.exchange import ExchangeError, write_csv
from survey.extensions import db
from survey.models import Answer, Response, ResponseDraft

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
POINTS = {"1", "2", "3", "4", "5", "DK"}

nasty_text = st.one_of(
    st.sampled_from(
        ["", "1", "5", "6", "0", "-1", "DK", "dk", " 3 ", "1.0", "３", "NaN", "null", "I04",
         "=HYPERLINK(\"x\")", "<script>alert(1)</script>", "\x00", "a" * 600, "字" * 2100,
         "female", "60-69", "10+", "next", "back", "save"]
    ),
    st.text(max_size=40),
)  # fmt: skip
field_names = st.one_of(
    st.sampled_from(
        ["a_I01", "a_I02", "a_I03", "a_I04", "a_I05", "a_I07", "a_I11", "a_I16", "a_I17",
         "a_I99", "a_", "c_I01", "c_I04", "c_X", "concerns", "overall", "comment", "age_band",
         "gender", "residence_years", "nav", "csrf_token"]
    ),
    st.text(alphabet=string.ascii_letters + "_", min_size=1, max_size=12),
)  # fmt: skip
forms = st.lists(st.tuples(field_names, nasty_text), max_size=25)


def count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def token(make_wave, district):  # type: ignore[no-untyped-def]
    from survey.services.invitations import create_batch

    wave = make_wave("fz")
    _, tokens = create_batch(wave, district.streets[0], "adult", 1)
    db.session.flush()
    return tokens[0]


def test_tampered_questionnaire_pages_never_fail_or_store_junk(client, token):
    from scoring.framework import load_default_framework

    codes = {i.code for i in load_default_framework().indicators_for("adult")}
    assert client.post(f"/s/{token}").status_code == 302

    @FUZZ
    @given(page=st.integers(-1, 8), form=forms, method=st.sampled_from(["POST", "POST", "GET"]))
    def check(page: int, form: list[tuple[str, str]], method: str) -> None:
        seen.append(page)
        from werkzeug.datastructures import MultiDict

        response = client.open(f"/s/{token}/p/{page}", method=method, data=MultiDict(form))
        assert response.status_code in (200, 302, 400, 404), response.status_code
        draft = db.session.scalar(select(ResponseDraft))
        db.session.refresh(draft)
        data = draft.data
        assert set(data["answers"]) <= codes and set(data["answers"].values()) <= POINTS
        assert all(len(c) <= 500 for c in data["comments"].values())
        final = data.get("final") or {}
        assert len(final.get("concerns", [])) <= 3 and set(final.get("concerns", [])) <= codes
        assert final.get("overall", "") in POINTS | {""}
        assert len(final.get("comment", "")) <= 2000
        assert count(Response) == 0  # pages never submit

    seen: list[object] = []
    check()
    assert len(seen) >= 50  # the examples really ran
    review = client.post(f"/s/{token}/review")
    assert review.status_code in (200, 400)
    stored = count(Response)
    assert stored == (1 if review.status_code == 200 else 0)
    if stored:
        assert count(Answer) == len(codes)


@FUZZ
@given(path=st.text(alphabet=string.printable + "字é", max_size=80))
def test_any_questionnaire_path_is_a_clean_4xx(client, path):
    from urllib.parse import quote

    response = client.get("/s/" + quote(path, safe="/"))
    assert response.status_code < 500


def _csv_rows(framework_spec, district) -> list[list[str]]:  # type: ignore[no-untyped-def]
    import csv
    import io
    from datetime import datetime

    from scoring.exchange import ResponseRecord

    records = [
        ResponseRecord(
            response_id=f"fz{i}",
            street=district.streets[i % 3].name,
            group="adult",
            submitted_at=datetime(2026, 3, 1, 9, 0, 0),
            channel="paper",
            weight=1.0,
            answers={c: 1 + (i + k) % 5 for k, c in enumerate(framework_spec.indicator_codes)},
            concerns=("I04",),
            overall=4,
            comment="",
        )
        for i in range(4)
    ]
    text = write_csv(records, framework_spec).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_damaged_import_files_are_rejected_whole(make_wave, district, framework_spec):
    import csv
    import io

    from survey.services.responses import import_records, parse_file

    wave = make_wave("fz-import")
    rows = _csv_rows(framework_spec, district)

    @FUZZ
    @given(
        edits=st.lists(
            st.tuples(st.integers(0, len(rows) - 1), st.integers(0, 40), nasty_text), max_size=6
        ),
        drop=st.sampled_from([None, 0, 1, 6, 10]),
    )
    def check(edits: list[tuple[int, int, str]], drop: int | None) -> None:
        seen.append(drop)
        table = [list(r) for r in rows]
        for r, c, value in edits:
            if c < len(table[r]):
                table[r][c] = value
        if drop is not None:
            for row in table:
                del row[drop : drop + 1]
        out = io.StringIO()
        csv.writer(out).writerows(table)
        before = count(Response)
        try:
            records = parse_file(wave, out.getvalue().encode("utf-8"), "f.csv")
            import_records(wave, records)
        except ExchangeError as exc:
            assert exc.problems and all(isinstance(p, str) for p in exc.problems)
            assert count(Response) == before  # nothing at all was written
            return
        assert count(Response) == before + len(records)
        db.session.execute(Answer.__table__.delete())
        db.session.execute(Response.__table__.delete())

    seen: list[object] = []
    check()
    assert len(seen) >= 50  # the examples really ran


def test_api_bodies_never_cause_a_server_error(client, make_wave, make_user):
    from survey.services.api_tokens import issue_token

    wave = make_wave("fz-api")
    bearer = {"Authorization": "Bearer " + issue_token(make_user("agency", username="fz-agency"))}
    db.session.flush()
    scalars = st.one_of(
        st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), nasty_text
    )
    json_values = st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(st.one_of(field_names, st.sampled_from(["street", "group"])), inner,
                            max_size=5),
        ),
        max_leaves=20,
    )  # fmt: skip
    bodies = st.one_of(
        json_values,
        st.fixed_dictionaries({"responses": st.lists(json_values, max_size=3)}),
    )

    @FUZZ
    @given(body=bodies, raw=st.one_of(st.none(), st.binary(max_size=60)))
    def check(body: object, raw: bytes | None) -> None:
        seen.append(raw)
        before = count(Response)
        if raw is None:
            response = client.post(
                f"/api/v1/waves/{wave.code}/responses", json=body, headers=bearer
            )
        else:
            response = client.post(
                f"/api/v1/waves/{wave.code}/responses",
                data=raw,
                headers={**bearer, "Content-Type": "application/json"},
            )
        assert response.status_code < 500, response.get_data(as_text=True)[:300]
        assert response.is_json
        if response.status_code != 201:
            assert count(Response) == before

    seen: list[object] = []
    check()
    assert len(seen) >= 50  # the examples really ran
