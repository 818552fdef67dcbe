"""Invitation tokens: >= 128 random bits, stored only as SHA-256, single use."""

from __future__ import annotations

import hashlib
import secrets

from flask import current_app

from ..extensions import db
from ..i18n import _
from ..models import Community, Invitation, InvitationBatch, Street, Wave
from .audit import record

MAX_BATCH = 5000


def hash_token(token: str) -> str:
    """Return the stored digest of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """Return a fresh token: 16 random bytes (128 bits), URL-safe."""
    return secrets.token_urlsafe(16)


def invitation_url(token: str) -> str:
    """Return the link a resident opens for ``token``."""
    base = current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/")
    return f"{base}/s/{token}"


def create_batch(
    wave: Wave,
    street: Street,
    group_code: str,
    count: int,
    *,
    community: Community | None = None,
    user_id: int | None = None,
    is_open: bool = False,
) -> tuple[InvitationBatch, list[str]]:
    """Create ``count`` invitations; return the batch and the plain tokens.

    The plain tokens exist only in the return value: show or export them once.
    Adds rows to the session (not committed).

    :raises ValueError: wave not accepting invitations, unknown group, bad count,
        street or community outside the wave's district.
    """
    if wave.state not in ("draft", "fieldwork"):
        raise ValueError(_("测评批次 %(code)s 已结束收集，不能再发放邀请码。", code=wave.code))
    groups = {g.code for g in wave.framework.groups}
    if group_code not in groups:
        raise ValueError(f"未知受访群体 {group_code!r}（可用：{', '.join(sorted(groups))}）")
    if not 1 <= count <= MAX_BATCH:
        raise ValueError(_("数量须在 1 到 %(n)s 之间。", n=MAX_BATCH))
    if street.district_id != wave.district_id:
        raise ValueError(_("该街道不属于本测评批次的区县。"))
    if community is not None and community.street_id != street.id:
        raise ValueError(_("该社区不属于所选街道。"))
    if is_open and not wave.allow_open_links:
        raise ValueError(_("本测评批次未开放公开二维码链接。"))
    batch = InvitationBatch(
        wave=wave,
        street=street,
        group_code=group_code,
        community=community,
        count=count,
        created_by_id=user_id,
    )
    db.session.add(batch)
    tokens = [new_token() for _ in range(count)]
    db.session.add_all(
        Invitation(
            token_hash=hash_token(t),
            batch=batch,
            wave_id=wave.id,
            street_id=street.id,
            group_code=group_code,
            community_id=community.id if community else None,
            is_open=is_open,
        )
        for t in tokens
    )
    db.session.flush()
    record(
        "invitations.create",
        batch,
        user_id=user_id,
        after={"street": street.name, "group": group_code, "count": count, "open": is_open},
    )
    return batch, tokens
