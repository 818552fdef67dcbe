"""Retention: answers go 3 years after their wave's fieldwork began; dead drafts go at once."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from survey.extensions import db
from survey.models import Answer, AuditLog, Response, ResponseDraft, StreetResult
from survey.services.invitations import create_batch
from survey.services.questionnaire import find_invitation, start
from survey.services.retention import expires_on, purge
from survey.services.scoring_runs import score_wave
from survey.services.waves import transition

from .test_notices import fill


def count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def responses_of(wave) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count(Response.id)).where(Response.wave_id == wave.id))


def draft_for(wave, street) -> ResponseDraft:  # type: ignore[no-untyped-def]
    _, tokens = create_batch(wave, street, "adult", 1)
    db.session.flush()
    return start(find_invitation(tokens[0]))


def test_expiry_counts_from_the_start_of_fieldwork(make_wave):
    wave = make_wave("r1", starts_on=dt.date(2023, 3, 1))
    assert expires_on(wave) == dt.date(2026, 3, 1)
    leap = make_wave("r2", starts_on=dt.date(2024, 2, 29))
    assert expires_on(leap) == dt.date(2027, 2, 28)


def test_purge_deletes_expired_answers_keeps_scores_and_live_waves(make_wave, framework_spec):
    old = make_wave("old", starts_on=dt.date(2023, 3, 1))
    fill(old, framework_spec, n=20)
    transition(old, "close")
    score_wave(old, boot=100, seed=1, min_n=5)
    recent = make_wave("recent", starts_on=dt.date(2025, 3, 1))
    fill(recent, framework_spec, n=20)
    transition(recent, "close")
    live = make_wave("live", starts_on=dt.date(2023, 3, 1))  # still in fieldwork: untouched
    fill(live, framework_spec, n=20)
    kept_results = count(StreetResult)
    n_old = responses_of(old)

    before = purge(dt.date(2026, 2, 28))
    assert (before.waves, before.responses) == ([], 0)
    assert responses_of(old) == n_old

    report = purge(dt.date(2026, 3, 1))
    assert report.waves == ["old"] and report.responses == n_old
    assert report.answers > n_old  # every response had its answers
    assert responses_of(old) == 0
    assert responses_of(recent) > 0 and responses_of(live) > 0
    assert (
        db.session.scalar(
            select(func.count(Answer.id)).where(~Answer.response_id.in_(select(Response.id)))
        )
        == 0
    )  # no orphaned answers
    assert count(StreetResult) == kept_results  # scores are aggregates and stay
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "wave.purge_responses"))
    assert entry.object_id == str(old.id) and entry.after["responses"] == n_old
    assert "3年" in entry.note
    # the same day again: nothing more to do
    assert purge(dt.date(2026, 3, 1)).responses == 0


def test_drafts_of_closed_fieldwork_are_deleted_live_ones_kept(make_wave, district):
    street = district.streets[0]
    closed = make_wave("dc")
    draft_for(closed, street)
    transition(closed, "close")
    live = make_wave("dl")
    kept = draft_for(live, street)
    db.session.flush()
    report = purge(dt.date(2026, 11, 25))
    assert report.drafts == 1
    assert db.session.scalars(select(ResponseDraft.id)).all() == [kept.id]


def test_cli_dry_run_changes_nothing_then_deletes(runner, make_wave, framework_spec):
    old = make_wave("cli-old", starts_on=dt.date(2022, 5, 1))
    fill(old, framework_spec, n=10)
    transition(old, "close")
    db.session.commit()
    n = responses_of(old)
    dry = runner.invoke(args=["retention", "--dry-run", "--today", "2026-01-01"])
    assert dry.exit_code == 0, dry.output
    assert f"would delete {n} responses" in dry.output and "cli-old" in dry.output
    assert responses_of(old) == n
    done = runner.invoke(args=["retention", "--today", "2026-01-01"])
    assert done.exit_code == 0 and f"deleted {n} responses" in done.output
    db.session.expire_all()
    assert responses_of(old) == 0
    bad = runner.invoke(args=["retention", "--years", "0"])
    assert bad.exit_code == 2 and "0" in bad.output


def test_a_purged_wave_cannot_be_rescored(make_wave, framework_spec):
    wave = make_wave("gone", starts_on=dt.date(2022, 1, 10))
    fill(wave, framework_spec, n=10)
    transition(wave, "close")
    purge(dt.date(2025, 1, 10))
    with pytest.raises(ValueError, match="no responses"):
        score_wave(wave, boot=100, seed=1, min_n=5)
