"""Wave operations of the bureau console: quotas, and scoring with an exclusion policy."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from scoring.settings import ScoringSettings

from ..errors import UserError
from ..extensions import db
from ..i18n import _
from ..models import Quota, Response, ScoringRun, Wave
from ..models.response import AUTO_PREFIX, REVIEW_PREFIX
from .audit import record
from .problem_text import problems_text
from .scoring_runs import score_wave
from .waves import check_transition, set_weighting

MAX_QUOTA = 100_000


def set_quotas(
    wave: Wave, targets: Mapping[tuple[int, str], int], *, user_id: int | None = None
) -> int:
    """Set the target per (street id, group code) of ``wave``; return how many changed.

    Writes :class:`Quota` rows (not committed) and one audit entry.

    :raises UserError: a street outside the wave's district, an unknown group,
        a negative or absurd target, or a wave past fieldwork.
    """
    if wave.state not in ("draft", "fieldwork"):
        raise UserError(_("测评批次已结束收集，配额不能再修改。"))
    streets = {s.id for s in wave.district.streets}
    groups = {g.code for g in wave.framework.groups}
    current = {(q.street_id, q.group_code): q for q in wave.quotas}
    changed: dict[str, list[int]] = {}
    for (street_id, group), target in targets.items():
        if street_id not in streets or group not in groups:
            raise UserError(_("配额表中有不属于本测评批次的街道或受访群体。"))
        if not 0 <= target <= MAX_QUOTA:
            raise UserError(_("配额须在 0 到 %(n)s 之间。", n=MAX_QUOTA))
        quota = current.get((street_id, group))
        before = quota.target if quota else 0
        if before == target:
            continue
        if quota is None:
            quota = Quota(wave=wave, street_id=street_id, group_code=group, target=target)
            db.session.add(quota)
        quota.target = target
        changed[f"{street_id}:{group}"] = [before, target]
    if changed:
        record(
            "wave.quotas",
            wave,
            user_id=user_id,
            before={k: v[0] for k, v in changed.items()},
            after={k: v[1] for k, v in changed.items()},
        )
    return len(changed)


def apply_exclusion_policy(
    wave: Wave, *, exclude_flagged: bool, include_open_channel: bool, user_id: int | None = None
) -> int:
    """Make the responses' ``excluded`` state follow the scoring policy (not committed).

    Flagged responses no reviewer has decided on are excluded (or, with
    ``exclude_flagged`` off, included); reviewers' decisions are kept.  The
    open-channel setting is stored on the wave.  Every change is audit-logged;
    returns the number of responses changed.
    """
    if wave.include_open_channel != include_open_channel:
        record(
            "wave.include_open_channel",
            wave,
            user_id=user_id,
            before={"include_open_channel": wave.include_open_channel},
            after={"include_open_channel": include_open_channel},
        )
        wave.include_open_channel = include_open_channel
    rows = db.session.scalars(
        select(Response).where(
            Response.wave_id == wave.id,
            Response.quality_flags != "",
            Response.exclusion_reason.not_like(REVIEW_PREFIX + "%"),
        )
    ).all()
    changed = []
    for r in rows:
        if r.excluded != exclude_flagged:
            r.excluded = exclude_flagged
            r.exclusion_reason = AUTO_PREFIX + r.quality_flags if exclude_flagged else ""
            changed.append(r.public_id)
    if changed:
        record(
            "responses.exclude_flagged" if exclude_flagged else "responses.include_flagged",
            wave,
            user_id=user_id,
            after={"responses": changed[:500], "count": len(changed)},
            note="scoring policy",
        )
    return len(changed)


def score_from_console(
    wave: Wave,
    *,
    boot: int,
    seed: int,
    min_n: int,
    exclude_flagged: bool = True,
    include_open_channel: bool = True,
    weighting: str | None = None,
    user_id: int | None = None,
) -> ScoringRun:
    """Apply the exclusion policy and weighting setting, then score ``wave`` (not committed).

    The run scores exactly what ``minping export-responses --included-only``
    then exports, so the offline scorer reproduces it byte for byte.

    :raises WaveStateError: the wave is not closed or scored (nothing changed).
    :raises UserError: bad settings or nothing to score.
    """
    check_transition(wave, "score")
    found = ScoringSettings(boot=boot, seed=seed, min_n=min_n).problems()
    if found:
        raise UserError(problems_text(found))
    apply_exclusion_policy(
        wave,
        exclude_flagged=exclude_flagged,
        include_open_channel=include_open_channel,
        user_id=user_id,
    )
    if weighting is not None:
        set_weighting(wave, weighting, user_id=user_id)
    return score_wave(wave, boot=boot, seed=seed, min_n=min_n, user_id=user_id)
