"""Residents' comments: one rule (this wave and street, kept responses, non-empty) for all."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlalchemy import select, update

from scoring.dataset import to_records
from scoring.simulate import simulate
from survey.extensions import db
from survey.models import Answer, Response
from survey.services import notices, publication, results
from survey.services.comments import comment_rows
from survey.services.responses import insert_records


def _fill(wave, spec, seed, note):
    """Ten responses per street; response r comments ``note(street, r)`` on I07 (or nothing)."""
    streets = [s.name for s in wave.district.streets]
    records = to_records(
        simulate(spec, streets, 10, seed).data, start=dt.datetime(2026, 3, 5, 9), spacing_s=0
    )
    notes = []
    for r, rec in enumerate(records):
        text = note(rec.street, r)
        notes.append({"I07": text} if text is not None else {})
    return insert_records(wave, records, answer_comments=notes), records


def test_every_reader_sees_the_same_comments(make_wave, framework_spec):
    wave = make_wave("cw")
    other_wave = make_wave("cw2")
    street = wave.district.streets[0]
    ids, records = _fill(wave, framework_spec, 1, lambda s, r: f"{s}意见{r}" if r % 2 else "")
    _fill(other_wave, framework_spec, 2, lambda s, r: "另一批次的意见")
    mine = [i for i, rec in zip(ids, records, strict=True) if rec.street == street.name]
    # one commenting response of the street is excluded: its comment must disappear everywhere
    excluded = db.session.scalar(
        select(Answer.response_id).where(Answer.response_id.in_(mine), Answer.comment != "")
    )
    db.session.execute(update(Response).where(Response.id == excluded).values(excluded=True))
    db.session.flush()

    expected = Counter(
        db.session.scalars(
            select(Answer.comment).where(
                Answer.response_id.in_([i for i in mine if i != excluded]),
                Answer.comment != "",
            )
        )
    )
    assert expected and all(text.startswith(street.name) for text in expected)

    shared = Counter(
        text
        for _, text in db.session.execute(comment_rows(wave, street, Answer.id, Answer.comment))
    )
    assert shared == expected

    page, total = results.comments(wave, street, per_page=1000)
    assert total == sum(expected.values())
    assert Counter(text for _, _, text in page) == expected

    assert set(notices.street_comments(wave, street, ["I07"])["I07"]) == set(expected)
    assert notices.street_comments(wave, street, ["I01"]) == {}

    public = publication.resident_comments(wave, street)
    assert [(row["code"], row["count"]) for row in public] == [("I07", sum(expected.values()))]
    assert set(public[0]["comments"]) == set(expected)
