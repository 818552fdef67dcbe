"""System-written history notes are stored in Chinese and shown in the reader's language."""

from __future__ import annotations

import re

from flask_babel import force_locale

from survey.services import event_notes
from survey.services.event_notes import NOTES, shown, stored

PARAMS = {
    "f": "照片 100%.jpg",
    "doc": "鼓民整〔2027〕3号",
    "old": "2027-01-29",
    "new": "2027-02-01",
    "year": "2027",
    "date": "2027-01-05",
}


def _params(msgid: str) -> dict[str, str]:
    return {k: PARAMS[k] for k in re.findall(r"%\((\w+)\)s", msgid)}


def test_every_fixed_note_reads_back_in_both_languages(app):
    with app.test_request_context():
        for msgid in NOTES:
            note = stored(msgid, **_params(msgid))
            assert re.search(r"[\u4e00-\u9fff]", note)
            assert shown(note) == note  # Chinese reader: as stored
            with force_locale("en"):
                english = shown(note)
            # the English text keeps every parameter and no Chinese of its own
            for value in _params(msgid).values():
                assert value in english, (msgid, english)
            rest = english
            for value in sorted(_params(msgid).values(), key=len, reverse=True):
                rest = rest.replace(value, "")
            assert not re.search(r"[\u4e00-\u9fff]", rest), (msgid, english)


def test_still_provisional_is_not_read_as_the_plain_redetermination(app):
    note = stored(event_notes.REDETERMINED_STILL, **_params(event_notes.REDETERMINED_STILL))
    with app.test_request_context(), force_locale("en"):
        assert "still provisional" in shown(note)


def test_typed_notes_are_shown_as_typed(app):
    with app.test_request_context(), force_locale("en"):
        assert shown("已完成路灯维修 50%") == "已完成路灯维修 50%"
        assert shown("") == ""
        assert shown(None) == ""
