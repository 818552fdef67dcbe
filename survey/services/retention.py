"""Data retention: keep residents' answers no longer than the privacy notice promises.

The questionnaire's privacy notice says 答卷保存3年，到期删除.  :func:`purge`
deletes, for every wave whose fieldwork began at least ``years`` years ago,
its responses and their answers (so no answer outlives the promise), and
drafts that can never be submitted any more (their wave's fieldwork is over).
Scores, rankings, notices and rectification records are aggregates or
official documents and stay.  Each purged wave gets an audit entry with the
counts; nothing is committed here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Executable, delete, func, select

from ..extensions import db
from ..models import Answer, Invitation, Response, ResponseDraft, Wave
from .audit import record

RETENTION_YEARS = 3
LIVE_STATES = ("draft", "fieldwork")


@dataclass(slots=True)
class PurgeReport:
    """What :func:`purge` removed (or, on a dry run, would remove)."""

    waves: list[str] = field(default_factory=list)
    responses: int = 0
    answers: int = 0
    drafts: int = 0


def began_on(wave: Wave) -> date:
    """The day the wave's fieldwork could first take answers (start date, else creation)."""
    return wave.starts_on or wave.created_at.date()


def expires_on(wave: Wave, years: int = RETENTION_YEARS) -> date:
    """The day ``years`` years after :func:`began_on` (29 February becomes 28 February)."""
    start = began_on(wave)
    try:
        return start.replace(year=start.year + years)
    except ValueError:
        return start.replace(year=start.year + years, day=28)


def due_waves(today: date, years: int = RETENTION_YEARS) -> list[Wave]:
    """Waves past fieldwork whose answers are due for deletion on ``today``."""
    waves = db.session.scalars(select(Wave).where(Wave.state.not_in(LIVE_STATES)).order_by(Wave.id))
    return [w for w in waves if expires_on(w, years) <= today]


def _count(statement: Executable) -> int:
    return int(db.session.scalar(statement) or 0)


def purge(
    today: date, *, years: int = RETENTION_YEARS, dry_run: bool = False, user_id: int | None = None
) -> PurgeReport:
    """Delete expired answers and dead drafts (not committed); return the counts.

    :param today: the day to judge expiry by (the CLI passes the local date).
    :param years: retention period; the privacy notice promises 3.
    :param dry_run: count only, change nothing.
    :raises ValueError: ``years`` below 1.
    """
    if years < 1:
        raise ValueError("the retention period is at least 1 year")
    report = PurgeReport()
    for wave in due_waves(today, years):
        ids = select(Response.id).where(Response.wave_id == wave.id)
        responses = _count(select(func.count(Response.id)).where(Response.wave_id == wave.id))
        if not responses:
            continue
        answers = _count(select(func.count(Answer.id)).where(Answer.response_id.in_(ids)))
        report.waves.append(wave.code)
        report.responses += responses
        report.answers += answers
        if dry_run:
            continue
        db.session.execute(delete(Answer).where(Answer.response_id.in_(ids)))
        db.session.execute(delete(Response).where(Response.wave_id == wave.id))
        record(
            "wave.purge_responses",
            wave,
            user_id=user_id,
            after={
                "responses": responses,
                "answers": answers,
                "expired_on": str(expires_on(wave, years)),
            },
            note=f"答卷保存{years}年，到期删除",
        )
    dead = (
        select(ResponseDraft.id)
        .join(Invitation, Invitation.id == ResponseDraft.invitation_id)
        .join(Wave, Wave.id == Invitation.wave_id)
        .where(Wave.state.not_in(LIVE_STATES))
    )
    report.drafts = _count(select(func.count()).select_from(dead.subquery()))
    if report.drafts and not dry_run:
        db.session.execute(delete(ResponseDraft).where(ResponseDraft.id.in_(dead)))
    return report
