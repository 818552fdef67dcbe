"""Response quality flags, computed with :mod:`scoring.quality` and stored (docs/method.md).

A flagged response gets its reasons in ``Response.quality_flags`` for review.
It is excluded from scoring by default (``excluded=True`` with
``exclusion_reason=AUTO_REASON``) only where independent signals agree
(:func:`scoring.quality.exclusion_rule`: duplicate device, coached burst, or
too fast *and* uniform); uniform answers alone never exclude.  The bureau
reviews and may exclude or restore.  A later run of :func:`flag_wave` never
re-excludes a response that already had flags (a restore stands) and lifts
only automatic exclusions whose excluding signals went away.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Select, String, bindparam, cast, func, or_, select, update

from scoring.framework import Framework as FrameworkSpec
from scoring.quality import (
    QualityFlags,
    burst_flags,
    combine_flags,
    duplicate_flags,
    exclusion_rule,
    speeder_flags,
    straightline_flags,
)

from ..extensions import db
from ..models import DK_POINT, Answer, Community, Response, Wave
from .audit import record
from .frameworks import spec_of
from .open_links import wave_bursts

AUTO_REASON = "自动排除：质量标记"
CHECKS = ("speeder", "straightline", "duplicate", "burst")
DUPLICATE_WINDOW_S = 24 * 3600.0
BURST_WINDOW_S = 1800.0
# At submit, a response is compared with at most this many of the latest
# responses from its device and from its community (indexed, bounded work per
# submit even when a district submits at once); flag_wave checks everything.
SUBMIT_DEVICE_NEIGHBOURS = 20
SUBMIT_COMMUNITY_NEIGHBOURS = 20
_EPOCH = datetime(1970, 1, 1)
log = logging.getLogger(__name__)


def _check_all(
    codes: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    answers: dict[int, dict[str, int]],
    names: dict[int, str],
) -> dict[str, QualityFlags]:
    """Run every check over ``rows`` of (id, duration_s, device, community_id, submitted)."""
    col = {c: j for j, c in enumerate(codes)}
    points = np.zeros((len(rows), len(codes)), dtype=np.int64)
    dont_know = np.zeros_like(points, dtype=bool)
    for r, row in enumerate(rows):
        for code, point in answers.get(row[0], {}).items():
            if code in col:
                points[r, col[code]] = point
                dont_know[r, col[code]] = point == DK_POINT
    duration = np.array([np.nan if row[1] is None else row[1] for row in rows], dtype=float)
    times = np.array(
        [np.nan if row[4] is None else (row[4] - _EPOCH).total_seconds() for row in rows],
        dtype=float,
    )
    device = np.array([row[2] or "" for row in rows], dtype=object)
    community = np.array(
        [
            "" if row[3] is None or row[4] is None else names.get(row[3], str(row[3]))
            for row in rows
        ],
        dtype=object,
    )
    return {
        "speeder": speeder_flags(duration, points),
        "straightline": straightline_flags(points),
        "duplicate": duplicate_flags(
            points, device, times, dont_know=dont_know, window_s=DUPLICATE_WINDOW_S
        ),
        "burst": burst_flags(points, community, times, window_s=BURST_WINDOW_S),
    }


def _load(
    query: Select[*tuple[Any, ...]],
) -> tuple[list[tuple[Any, ...]], dict[int, dict[str, int]]]:
    rows = [tuple(row) for row in db.session.execute(query.order_by(Response.id))]
    ids = [row[0] for row in rows]
    answers: dict[int, dict[str, int]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for rid, code, point in db.session.execute(
            select(Answer.response_id, Answer.indicator_code, Answer.point).where(
                Answer.response_id.in_(chunk)
            )
        ):
            answers.setdefault(rid, {})[code] = point
    return rows, answers


def _community_names(wave: Wave) -> dict[int, str]:
    return {
        c.id: c.name
        for street in wave.district.streets
        for c in db.session.scalars(select(Community).where(Community.street_id == street.id))
    }


def flag_submission(
    spec: FrameworkSpec, row: Mapping[str, Any], points: Mapping[str, int]
) -> tuple[str, bool]:
    """Return the quality flags of a response about to be stored ('' if none)
    and whether they exclude it by default (:func:`scoring.quality.exclusion_rule`).

    ``row`` holds the new response's columns (``wave_id``, ``device_hash``,
    ``community_id``, ``submitted_at``, ``duration_s``), ``points`` its answers.
    It is compared with the wave's latest responses from the same device hash
    in the last 24 hours and from the same community in the last 30 minutes
    (at most ``SUBMIT_DEVICE_NEIGHBOURS`` and ``SUBMIT_COMMUNITY_NEIGHBOURS``),
    read in one indexed query with their answers.  Reads only; if the check
    fails it is logged and ('', False) returned, so the response is still stored.
    :func:`flag_wave` (the agency's 重新检查答卷质量) checks the whole wave.
    """
    try:
        return _flag_submission(spec, row, points)
    except Exception:  # noqa: BLE001 - never lose a response over its flags
        log.exception("quality flags at submit failed; response stored unflagged")
        db.session.rollback()
        return "", False


def _near_query(device: bool, community: bool) -> Select[*tuple[Any, ...]]:
    """The neighbours of a new response with their answers packed as 'code:point;...'.

    Built on the tables, not the mapped classes: a Core statement skips the
    ORM's result processing on the submission path.
    """
    r, a = Response.__table__.c, Answer.__table__.c
    near = []
    if device:
        near.append(
            select(r.id)
            .where(
                r.wave_id == bindparam("wave_id"),
                r.device_hash == bindparam("device_hash"),
                r.submitted_at >= bindparam("since_device"),
            )
            .order_by(r.submitted_at.desc())
            .limit(SUBMIT_DEVICE_NEIGHBOURS)
        )
    if community:
        near.append(
            select(r.id)
            .where(
                r.wave_id == bindparam("wave_id"),
                r.community_id == bindparam("community_id"),
                r.submitted_at >= bindparam("since_burst"),
            )
            .order_by(r.submitted_at.desc())
            .limit(SUBMIT_COMMUNITY_NEIGHBOURS)
        )
    packed = func.aggregate_strings(a.indicator_code + ":" + cast(a.point, String), ";")
    return (
        select(r.id, r.duration_s, r.device_hash, r.community_id, r.submitted_at, packed)
        .outerjoin(Answer.__table__, a.response_id == r.id)
        .where(or_(*(r.id.in_(ids) for ids in near)))
        .group_by(r.id)
    )


_NEAR = {key: _near_query(*key) for key in ((True, True), (True, False), (False, True))}


def _flag_submission(
    spec: FrameworkSpec, row: Mapping[str, Any], points: Mapping[str, int]
) -> tuple[str, bool]:
    submitted = row["submitted_at"]
    device, community = row.get("device_hash"), row.get("community_id")
    rows: list[tuple[Any, ...]] = []
    answers: dict[int, dict[str, int]] = {}
    if device or community is not None:
        params = {
            "wave_id": row["wave_id"],
            "device_hash": device,
            "community_id": community,
            "since_device": submitted - timedelta(seconds=DUPLICATE_WINDOW_S),
            "since_burst": submitted - timedelta(seconds=BURST_WINDOW_S),
        }
        found = db.session.execute(
            _NEAR[(bool(device), community is not None)],
            {k: v for k, v in params.items() if v is not None},
        ).all()
        for rid, duration, dev, com, when, packed in sorted(
            found, key=lambda r: (r[4] or _EPOCH, r[0])
        ):
            rows.append((rid, duration, dev, com, when))
            answers[rid] = {
                code: int(point)
                for code, _, point in (p.partition(":") for p in (packed or "").split(";") if p)
            }
    rows.append((0, row.get("duration_s"), device, community, submitted))
    answers[0] = dict(points)
    names = {community: str(community)} if community else {}
    checks = _check_all(spec.indicator_codes, rows, answers, names)
    return combine_flags(*checks.values()).reasons[-1], bool(exclusion_rule(checks)[-1])


def record_exclusion(response_id: int, reason: str) -> None:
    """Audit-log the automatic exclusion of a just-submitted response (not committed)."""
    record("response.exclude", Response(id=response_id), after={"excluded": True}, note=reason)


def flag_wave(wave: Wave) -> dict[str, int]:
    """Recompute the quality flags of every response in ``wave``; return counts.

    Changes ``quality_flags``, ``excluded`` and ``exclusion_reason`` (not committed):
    newly flagged responses are excluded; responses that were flagged before keep
    their exclusion state (the bureau may have restored them); automatic
    exclusions whose flags disappeared are lifted.  One audit entry for the run.

    :returns: ``responses``, ``flagged``, ``newly_excluded``, ``restored`` and one
        count per check (``speeder``, ``straightline``, ``duplicate``, ``burst``,
        and ``open_burst``: open-link starts clustered by network address).
    """
    spec = spec_of(wave.framework)
    query = select(
        Response.id,
        Response.duration_s,
        Response.device_hash,
        Response.community_id,
        Response.submitted_at,
        Response.quality_flags,
        Response.excluded,
        Response.exclusion_reason,
    ).where(Response.wave_id == wave.id)
    rows, answers = _load(query)
    counts: Counter[str] = Counter(responses=len(rows), flagged=0, newly_excluded=0, restored=0)
    if not rows:
        return dict(counts)
    checks = _check_all(spec.indicator_codes, rows, answers, _community_names(wave))
    for name, flags in checks.items():
        counts[name] = flags.count
    combined = combine_flags(*checks.values())
    excluding = exclusion_rule(checks)
    bursts = wave_bursts(wave)  # open-link starts clustered by network address
    counts["open_burst"] = len(bursts)
    changes = []
    for row, reason, exclude in zip(rows, combined.reasons, excluding, strict=True):
        rid, old_flags, excluded, why = row[0], row[5] or "", row[6], row[7]
        if rid in bursts:  # excluded by default, like a burst in one community
            reason = "; ".join(r for r in (reason, bursts[rid]) if r)
            exclude = True
        change: dict[str, object] = {}
        if reason:
            counts["flagged"] += 1
        if exclude:
            if not old_flags and not excluded:
                change = {"excluded": True, "exclusion_reason": AUTO_REASON}
                counts["newly_excluded"] += 1
        elif old_flags and excluded and why == AUTO_REASON:
            change = {"excluded": False, "exclusion_reason": ""}
            counts["restored"] += 1
        if reason != old_flags or change:
            changes.append({"id": rid, "quality_flags": reason, **change})
    for start in range(0, len(changes), 1000):
        db.session.execute(update(Response), changes[start : start + 1000])
    for name in CHECKS:
        counts.setdefault(name, 0)
    record("wave.flag_quality", wave, after=dict(counts))
    return dict(counts)
