"""Fieldwork for the agency: progress per street x group, invitations, interviews, imports."""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Executable, Select, func, select

from scoring.spreadsheet import csv_row

from ..errors import UserError
from ..extensions import db
from ..i18n import _
from ..models import Invitation, InvitationBatch, Quota, Response, User, Wave
from ..models._base import utcnow
from .audit import record
from .frameworks import spec_of
from .invitations import create_batch, hash_token, invitation_url, typed_code
from .responses import import_records, parse_file


@dataclass(frozen=True, slots=True)
class CellProgress:
    """Fieldwork counts of one street x group (or the total when ``street_id`` is 0)."""

    street_id: int
    street: str
    group: str
    group_name: str
    issued: int = 0
    opened: int = 0
    started: int = 0
    completed: int = 0
    target: int = 0
    flagged: int = 0
    excluded: int = 0

    @property
    def percent(self) -> int:
        """Completed as a share of the quota target (0 without a target), capped at 100."""
        return min(100, round(100 * self.completed / self.target)) if self.target else 0


def _by_cell(query: Executable) -> Counter[tuple[int, str]]:
    return Counter({(s, g): n for s, g, n in db.session.execute(query)})


def progress(wave: Wave) -> list[CellProgress]:
    """Return one row per street x group of the wave's district, in street order.

    ``issued`` counts batch invitations that are not open links and not revoked;
    ``opened``/``started`` those of them opened/started; ``completed`` every
    response of the cell (all channels); ``flagged`` those with quality flags.
    """
    spec = spec_of(wave.framework)
    cell = (Invitation.street_id, Invitation.group_code)
    issued = (
        select(*cell, func.count(Invitation.id))
        .where(
            Invitation.wave_id == wave.id,
            Invitation.batch_id.is_not(None),
            Invitation.is_open.is_(False),
            Invitation.revoked_at.is_(None),
        )
        .group_by(*cell)
    )
    opened = _by_cell(issued.where(Invitation.opened_at.is_not(None)))
    started = _by_cell(issued.where(Invitation.started_at.is_not(None)))
    issued_n = _by_cell(issued)
    rcell = (Response.street_id, Response.group_code)
    responses = select(*rcell, func.count(Response.id)).where(Response.wave_id == wave.id)
    completed = _by_cell(responses.group_by(*rcell))
    flagged = _by_cell(responses.where(Response.quality_flags != "").group_by(*rcell))
    excluded = _by_cell(responses.where(Response.excluded.is_(True)).group_by(*rcell))
    targets = {
        (q.street_id, q.group_code): q.target
        for q in db.session.scalars(select(Quota).where(Quota.wave_id == wave.id))
    }
    rows = []
    for street in wave.district.streets:
        for group in spec.groups:
            key = (street.id, group.code)
            rows.append(
                CellProgress(
                    street_id=street.id,
                    street=street.name,
                    group=group.code,
                    group_name=group.name,
                    issued=issued_n[key],
                    opened=opened[key],
                    started=started[key],
                    completed=completed[key],
                    target=targets.get(key, 0),
                    flagged=flagged[key],
                    excluded=excluded[key],
                )
            )
    return rows


def total(cells: Iterable[CellProgress]) -> CellProgress:
    """Sum the counts of ``cells``."""
    cells = list(cells)
    sums = {
        name: sum(getattr(c, name) for c in cells)
        for name in ("issued", "opened", "started", "completed", "target", "flagged", "excluded")
    }
    return CellProgress(street_id=0, street="合计", group="", group_name="", **sums)


PROGRESS_COLUMNS = (
    "street",
    "group",
    "issued",
    "opened",
    "started",
    "completed",
    "target",
    "percent",
    "flagged",
    "excluded",
)


def progress_csv(wave: Wave) -> bytes:
    """Return the progress table as UTF-8 CSV with BOM (opens cleanly in Excel)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(csv_row(PROGRESS_COLUMNS))
    for c in progress(wave):
        writer.writerow(
            csv_row(
                [c.street, c.group, c.issued, c.opened, c.started, c.completed, c.target]
                + [c.percent, c.flagged, c.excluded]
            )
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def links_csv(tokens: Iterable[str]) -> bytes:
    """Return ``token,url,code`` CSV for freshly created tokens (the only copy).

    ``code`` is the short typed code printed on cards (``docs/typed-codes.md``).
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["token", "url", "code"])
    for token in tokens:
        # a token may start with "-": neutralised like every exported cell
        writer.writerow(csv_row([token, invitation_url(token), typed_code(token)]))
    return out.getvalue().encode("utf-8")


@dataclass(frozen=True, slots=True)
class InterviewerStats:
    username: str
    responses: int
    flagged: int

    @property
    def flag_rate(self) -> float:
        return self.flagged / self.responses if self.responses else 0.0


def interviewer_stats(wave: Wave) -> list[InterviewerStats]:
    """Responses and quality-flag rate per interviewer in ``wave``, busiest first."""
    rows = db.session.execute(
        select(
            User.username,
            func.count(Response.id),
            func.count(Response.id).filter(Response.quality_flags != ""),
        )
        .join(User, User.id == Response.interviewer_id)
        .where(Response.wave_id == wave.id)
        .group_by(User.username)
        .order_by(func.count(Response.id).desc(), User.username)
    )
    return [InterviewerStats(name, n, k) for name, n, k in rows]


@dataclass(frozen=True, slots=True)
class BatchRow:
    batch: InvitationBatch
    is_open: bool
    revoked: int
    started: int
    used: int


def batches(wave: Wave) -> list[BatchRow]:
    """Return the wave's invitation batches, newest first, with usage counts."""
    out = []
    for batch in db.session.scalars(
        select(InvitationBatch)
        .where(InvitationBatch.wave_id == wave.id)
        .order_by(InvitationBatch.id.desc())
    ):
        inv = select(func.count(Invitation.id)).where(Invitation.batch_id == batch.id)
        used = db.session.scalar(
            select(func.count(Response.id))
            .join(Invitation, Invitation.id == Response.invitation_id)
            .where(Invitation.batch_id == batch.id)
        )
        is_open = bool(db.session.scalar(inv.where(Invitation.is_open.is_(True))))
        out.append(
            BatchRow(
                batch=batch,
                is_open=is_open,
                revoked=db.session.scalar(inv.where(Invitation.revoked_at.is_not(None))) or 0,
                started=db.session.scalar(inv.where(Invitation.started_at.is_not(None))) or 0,
                used=used or 0,
            )
        )
    return out


def _unused(batch: InvitationBatch) -> Select[Invitation]:
    used = select(Response.invitation_id).where(Response.invitation_id.is_not(None))
    return select(Invitation).where(
        Invitation.batch_id == batch.id,
        Invitation.revoked_at.is_(None),
        Invitation.id.not_in(used),
    )


def revoke_batch(batch: InvitationBatch, user_id: int | None = None) -> int:
    """Revoke every unused, unrevoked invitation of ``batch``; return how many.

    Sets ``revoked_at``; audit-logged (not committed).  Submitted responses stay.
    """
    now = utcnow()
    invitations = list(db.session.scalars(_unused(batch)))
    for inv in invitations:
        inv.revoked_at = now
    record("invitations.revoke_batch", batch, user_id=user_id, after={"revoked": len(invitations)})
    return len(invitations)


def find_token(wave: Wave, token_or_url: str) -> Invitation:
    """Return the invitation of a pasted token or link in ``wave``.  :raises UserError."""
    token = token_or_url.strip().rstrip("/").rsplit("/", 1)[-1]
    inv = db.session.scalar(
        select(Invitation).where(
            Invitation.token_hash == hash_token(token), Invitation.wave_id == wave.id
        )
    )
    if inv is None:
        raise UserError(_("本测评批次中没有这个邀请码，请核对后再试。"))
    return inv


def revoke_invitation(inv: Invitation, user_id: int | None = None) -> None:
    """Revoke one invitation (sets ``revoked_at``, audit-logged; not committed).

    :raises UserError: already revoked, or already used for a response.
    """
    if inv.revoked_at is not None:
        raise UserError(_("这个邀请码已经作废。"))
    if db.session.scalar(select(Response.id).where(Response.invitation_id == inv.id)):
        raise UserError(_("这个邀请码已经提交过答卷，不能作废。"))
    inv.revoked_at = utcnow()
    record("invitations.revoke", inv, user_id=user_id)


def reissue_invitation(inv: Invitation, user_id: int | None = None) -> tuple[InvitationBatch, str]:
    """Revoke ``inv`` and create one replacement; return its new batch and token.

    The replacement is a new batch of 1 for the same street, group and
    community (not committed).
    :raises UserError: as :func:`revoke_invitation`, or an open link.
    """
    if inv.batch is None or inv.is_open:
        raise UserError(_("只能补发发放记录中的普通邀请码。"))
    revoke_invitation(inv, user_id)
    batch, tokens = _replacements(inv.batch, 1, user_id)
    return batch, tokens[0]


def reissue_batch(
    batch: InvitationBatch, user_id: int | None = None
) -> tuple[InvitationBatch, list[str]]:
    """Revoke the unused invitations of ``batch`` and issue as many fresh ones.

    Returns the new batch and its plain tokens (show them once); not committed.
    :raises UserError: nothing left to replace.
    """
    count = revoke_batch(batch, user_id)
    if count == 0:
        raise UserError(_("这次发放没有未使用的邀请码可以补发。"))
    return _replacements(batch, count, user_id)


def _replacements(
    batch: InvitationBatch, count: int, user_id: int | None
) -> tuple[InvitationBatch, list[str]]:
    return create_batch(
        batch.wave,
        batch.street,
        batch.group_code,
        count,
        community=batch.community,
        user_id=user_id,
    )


def import_responses(wave: Wave, data: bytes, filename: str, user_id: int | None = None) -> int:
    """Validate and import a CSV/XLSX responses file into ``wave``, all or nothing.

    Commits on success (with an audit entry).
    :raises ExchangeError: every problem as ``line N, column C: reason``.
    """
    records = parse_file(wave, data, filename)
    digest = hashlib.sha256(data).hexdigest()
    record(
        "responses.import",
        wave,
        user_id=user_id,
        after={
            "file": filename[:200],
            "sha256": digest,
            "responses": len(records),
            "path": "agency",
        },
    )
    return import_records(wave, records, path="agency", import_sha256=digest)
