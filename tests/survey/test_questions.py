"""The fixed questions of survey/questions.py drive the page, validation, storage and exports."""

from __future__ import annotations

import re

import pytest
from werkzeug.datastructures import MultiDict

from scoring import ingest
from scoring.population import AGE_BANDS, GENDERS
from survey.models import Response
from survey.questions import ABOUT_YOU, AGE_BAND, COMMENT, CONCERNS, FIXED, GENDER, OVERALL
from survey.services import questionnaire as q
from survey.services.frameworks import spec_of


def test_every_question_has_its_own_code_and_a_response_column():
    codes = [question.code for question in FIXED]
    assert len(set(codes)) == len(codes)
    for question in FIXED:
        assert question.column in Response.__table__.c, question.code
        if question.kind == "choice":
            assert question.choices and len(set(question.codes)) == len(question.codes)
        if question.kind in ("concerns", "text"):
            assert question.limit > 0


def test_the_exchange_format_and_the_population_margins_use_the_same_codes():
    """scoring/ keeps its own copy (it may not import survey/): the two must agree."""
    assert ingest.DEMOGRAPHICS == {question.code: question.codes for question in ABOUT_YOU}
    assert ingest.MAX_CONCERNS == CONCERNS.limit
    assert ingest.MAX_COMMENT == COMMENT.limit
    assert tuple(ingest.TAIL_COLUMNS) == tuple(
        question.code for question in FIXED if question not in ABOUT_YOU
    )
    assert AGE_BANDS == AGE_BAND.codes
    assert set(GENDERS) < set(GENDER.codes)  # "undisclosed" is no population category


def test_stored_values():
    assert CONCERNS.stored(["I01", "I07"]) == "I01;I07"
    assert CONCERNS.stored(None) == ""
    assert OVERALL.stored("4") == 4
    assert OVERALL.stored("DK") is None
    assert OVERALL.stored("") is None
    assert COMMENT.stored(None) == ""
    assert COMMENT.stored("好") == "好"
    assert GENDER.stored("") is None
    assert GENDER.stored("male") == "male"


def _final_page(wave):  # type: ignore[no-untyped-def]
    spec = spec_of(wave.framework)
    return spec, q.pages_for(spec, "adult")[-1]


def test_a_choice_outside_the_declaration_is_refused(make_wave):
    spec, page = _final_page(make_wave("q-decl"))
    for question in ABOUT_YOU:
        form = MultiDict({"overall": "3", question.code: "nonsense"})
        with pytest.raises(q.BadAnswers) as caught:
            q.parse_page(spec, "adult", page, form)
        assert question.code in caught.value.problems[0]
        good = MultiDict({"overall": "3", question.code: question.codes[-1]})
        assert q.parse_page(spec, "adult", page, good).final[question.code] == question.codes[-1]


def test_limits_come_from_the_declaration(make_wave):
    spec, page = _final_page(make_wave("q-limits"))
    codes = [i.code for i in spec.indicators_for("adult")]
    form = MultiDict(
        [("concerns", c) for c in codes[: CONCERNS.limit + 1]]
        + [("overall", "3"), ("comment", "字" * (COMMENT.limit + 1))]
    )
    values = q.parse_page(spec, "adult", page, form)
    assert set(values.invalid) == {"concerns", "comment"}
    form = MultiDict(
        [("concerns", c) for c in codes[: CONCERNS.limit]]
        + [("overall", "3"), ("comment", "字" * COMMENT.limit)]
    )
    assert q.parse_page(spec, "adult", page, form).invalid == {}
    assert q.parse_page(spec, "adult", page, MultiDict()).missing == ["overall"]


def test_the_final_page_shows_every_declared_choice(app, make_wave, district):
    from survey.services.invitations import create_batch
    from survey.services.waves import transition

    wave = make_wave("q-page", state="draft")
    _, (token,) = create_batch(wave, district.streets[0], "adult", 1)
    transition(wave, "open")
    resident = app.test_client()
    resident.post(f"/s/{token}")
    spec, page = _final_page(wave)
    html = resident.get(f"/s/{token}/p/{page.number}").get_data(as_text=True)
    for question in ABOUT_YOU:
        shown = re.findall(rf'name="{question.code}" id="[^"]+" value="([^"]+)"', html)
        assert tuple(shown) == question.codes
    assert f'maxlength="{COMMENT.limit}"' in html
