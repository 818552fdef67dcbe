"""Reviewing flagged responses: quality checks, exclusion and restore with a reason.

Decision: reviewing is allowed while a wave is in fieldwork, closed
or scored.  In ``scored`` a change makes the current scoring run stale (its
data sha256 no longer matches the included responses) and the console says
that a re-score is needed; once notices are issued the data are locked, since
the notices quote the run's numbers.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from sqlalchemy import Select, func, or_, select

from scoring.quality import combine_flags, exclusion_rule, speeder_flags, straightline_flags

from .. import i18n
from ..errors import UserError
from ..extensions import db
from ..models import DK_POINT, Answer, AuditLog, Response, ScoringRun, Wave
from ..models.response import AUTO_PREFIX, REVIEW_PREFIX
from .audit import record
from .frameworks import spec_of
from .wave_columns import scored_data_sha256

REVIEW_STATES = ("fieldwork", "closed", "scored")
PAGE = 50


class ReviewLocked(UserError):
    """The wave's data can no longer be reviewed."""

    status = 409


def check_reviewable(wave: Wave) -> None:
    """:raises ReviewLocked: unless the wave is in fieldwork, closed or scored."""
    if wave.state not in REVIEW_STATES:
        raise ReviewLocked(f"测评批次“{wave.name}”已下发通知书或已公布，答卷不能再排除或恢复。")


def review_query(wave: Wave, *, show: str = "flagged") -> Select[Response]:
    """Select responses to review: ``flagged`` (flags or excluded), ``excluded`` or ``all``."""
    query = select(Response).where(Response.wave_id == wave.id)
    if show == "excluded":
        query = query.where(Response.excluded.is_(True))
    elif show != "all":
        query = query.where(or_(Response.quality_flags != "", Response.excluded.is_(True)))
    return query.order_by(Response.id)


def review_page(wave: Wave, *, show: str = "flagged", page: int = 1) -> tuple[list[Response], int]:
    """Return one page of responses to review and the total count."""
    query = review_query(wave, show=show)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(query.offset((max(page, 1) - 1) * PAGE).limit(PAGE)).all()
    return list(rows), total


def set_exclusion(
    response: Response, excluded: bool, reason: str, *, user_id: int | None = None
) -> Response:
    """Exclude a response from scoring or restore it, with a reviewer's reason (not committed).

    Audit-logged with the state before and after.

    :raises UserError: no reason given.  :raises ReviewLocked: wave locked.
    """
    check_reviewable(response.wave)
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise UserError(i18n._("请填写排除或恢复的理由。"))
    before = {"excluded": response.excluded, "reason": response.exclusion_reason}
    response.excluded = excluded
    response.exclusion_reason = REVIEW_PREFIX + ("排除：" if excluded else "保留：") + reason[:500]
    record(
        "response.exclude" if excluded else "response.restore",
        response,
        user_id=user_id,
        before=before,
        after={"excluded": excluded, "reason": response.exclusion_reason},
        note=f"wave {response.wave.code}, response {response.public_id}",
    )
    return response


def run_quality_checks(wave: Wave, *, user_id: int | None = None) -> int:
    """Flag speeders and straight-liners among the wave's responses (not committed).

    Newly flagged responses get their reasons in ``quality_flags``; those where
    both signals agree (too fast *and* uniform, :func:`scoring.quality.exclusion_rule`)
    are excluded unless a reviewer has decided on them.  Returns how many were
    newly flagged; one audit entry lists them.
    """
    check_reviewable(wave)
    spec = spec_of(wave.framework)
    codes = spec.indicator_codes
    rows = db.session.execute(
        select(Response.id, Response.duration_s, Response.quality_flags)
        .where(Response.wave_id == wave.id)
        .order_by(Response.id)
    ).all()
    if not rows:
        return 0
    index = {rid: k for k, (rid, _, _) in enumerate(rows)}
    points = np.zeros((len(rows), len(codes)), dtype=np.int64)
    col = {c: j for j, c in enumerate(codes)}
    answers = db.session.execute(
        select(Answer.response_id, Answer.indicator_code, Answer.point)
        .join(Response, Response.id == Answer.response_id)
        .where(Response.wave_id == wave.id, Answer.point != DK_POINT)
    )
    for rid, code, point in answers:
        if code in col:
            points[index[rid], col[code]] = point
    durations = np.array([np.nan if d is None else d for _, d, _ in rows], dtype=float)
    checks = {
        "speeder": speeder_flags(durations, points),
        "straightline": straightline_flags(points),
    }
    flags = combine_flags(*checks.values())
    excluding = exclusion_rule(checks)
    newly = []
    by_id = defaultdict(str)
    exclude_ids = set()
    for k, (rid, _, old) in enumerate(rows):
        if flags.flagged[k] and not old:
            by_id[rid] = flags.reasons[k]
            if excluding[k]:
                exclude_ids.add(rid)
    for response in db.session.scalars(select(Response).where(Response.id.in_(list(by_id)))):
        response.quality_flags = by_id[response.id]
        if response.id in exclude_ids and not response.exclusion_reason.startswith(REVIEW_PREFIX):
            response.excluded = True
            response.exclusion_reason = AUTO_PREFIX + response.quality_flags
        newly.append(response.public_id)
    if newly:
        record(
            "responses.quality_checks",
            wave,
            user_id=user_id,
            after={"flagged": newly[:500], "count": len(newly)},
        )
    return len(newly)


def included_sha256(wave: Wave) -> str:
    """SHA-256 of the CSV that scoring would read now: a new run's ``data_sha256``.

    The same function as ``score_wave`` uses (weights as the wave's weighting
    setting scores them), so an unchanged wave is never reported as stale.
    """
    return scored_data_sha256(wave)


_sha_cache: dict[tuple[int, int, int, int], str] = {}


def run_is_stale(wave: Wave, run: ScoringRun | None) -> bool:
    """True when the included responses changed since ``run`` was scored.

    The digest is cached by (wave, response count, latest audit entry, run):
    every exclusion change is audit-logged, so a new entry invalidates it.
    """
    if run is None:
        return False
    key = (
        wave.id,
        db.session.scalar(select(func.count(Response.id)).where(Response.wave_id == wave.id)) or 0,
        db.session.scalar(select(func.max(AuditLog.id))) or 0,
        run.id,
    )
    digest = _sha_cache.get(key)
    if digest is None:
        digest = included_sha256(wave)
        if len(_sha_cache) > 256:
            _sha_cache.clear()
        _sha_cache[key] = digest
    return digest != run.data_sha256
