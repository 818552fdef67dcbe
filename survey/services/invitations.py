"""Invitation tokens: >= 128 random bits, stored only as SHA-256, single use.

Each card also carries a short typed code (``docs/typed-codes.md``): 10
characters from a 30-letter alphabet without look-alikes (49 bits), derived
from the token, printed in two groups of five and stored only as a keyed digest.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import current_app
from sqlalchemy import select

from ..errors import UserError
from ..extensions import db
from ..i18n import _
from ..models import Community, Invitation, InvitationBatch, Street, Wave
from .audit import record

MAX_BATCH = 5000


def hash_token(token: str) -> str:
    """Return the stored digest of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# Crockford's base-32 letters without 0, 1 and U: nothing to confuse with O, I, L or V.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10  # 30**10 = 5.9e14 codes, 49.1 bits


def typed_code(token: str) -> str:
    """Return the short typed code printed next to ``token``'s QR code, e.g. ``7KQ2M-XH4TB``.

    Derived from the token by SHA-256 (one-way: the code does not reveal the token).
    """
    number = int.from_bytes(hashlib.sha256(b"typed-code\0" + token.encode("utf-8")).digest(), "big")
    chars = []
    for _position in range(CODE_LENGTH):
        number, digit = divmod(number, len(CODE_ALPHABET))
        chars.append(CODE_ALPHABET[digit])
    return "".join(chars[:5]) + "-" + "".join(chars[5:])


def normalise_code(text: str) -> str | None:
    """Return the canonical ``XXXXX-XXXXX`` form of a typed code, or None if it is not one.

    Case, spaces and hyphens are ignored; so are the look-alikes O/I/L (read as 0/1,
    which the alphabet does not use, so they cannot be a code).
    """
    plain = "".join(text.split()).replace("-", "").replace("－", "").upper()
    if len(plain) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in plain):
        return None
    return plain[:5] + "-" + plain[5:]


def hash_code(code: str) -> str:
    """Return the stored digest of a canonical typed code (HMAC keyed by ``INVITATION_CODE_KEY``).

    Keyed, because 49 bits could be searched offline from a copied database.
    """
    key = current_app.config.get("INVITATION_CODE_KEY") or current_app.config["SECRET_KEY"]
    return hmac.new(str(key).encode("utf-8"), code.encode("utf-8"), hashlib.sha256).hexdigest()


def new_token() -> str:
    """Return a fresh token: 16 random bytes (128 bits), URL-safe, starting with a letter or digit.

    A token starting with ``-`` would be taken for a formula by spreadsheets, so the
    invitation CSV guards it with a leading ``'`` and the token column no longer
    matches the link; such draws (2 in 64) are drawn again (costs 0.05 bits).
    """
    while True:
        token = secrets.token_urlsafe(16)
        if token[0].isalnum():
            return token


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
    request_key: str | None = None,
) -> tuple[InvitationBatch, list[str]]:
    """Create ``count`` invitations; return the batch and the plain tokens.

    The plain tokens exist only in the return value: show or export them once.
    Adds rows to the session (not committed).

    :param request_key: the one-time key of the form that asked for the batch;
        the database refuses a second batch with the same key (see
        :func:`batch_for_request`).

    :raises UserError: wave not accepting invitations, unknown group, bad count,
        street or community outside the wave's district.
    """
    if wave.state not in ("draft", "fieldwork"):
        raise UserError(_("测评批次 %(code)s 已结束收集，不能再发放邀请码。", code=wave.code))
    groups = {g.code for g in wave.framework.groups}
    if group_code not in groups:
        raise UserError(f"未知受访群体 {group_code!r}（可用：{', '.join(sorted(groups))}）")
    if not 1 <= count <= MAX_BATCH:
        raise UserError(_("数量须在 1 到 %(n)s 之间。", n=MAX_BATCH))
    if street.district_id != wave.district_id:
        raise UserError(_("该街道不属于本测评批次的区县。"))
    if community is not None and community.street_id != street.id:
        raise UserError(_("该社区不属于所选街道。"))
    if is_open and not wave.allow_open_links:
        raise UserError(_("本测评批次未开放公开二维码链接。"), field="is_open")
    batch = InvitationBatch(
        wave=wave,
        street=street,
        group_code=group_code,
        community=community,
        count=count,
        created_by_id=user_id,
        request_key=request_key,
    )
    db.session.add(batch)
    tokens = _tokens_with_unique_codes(count)
    db.session.add_all(
        Invitation(
            token_hash=hash_token(t),
            code_hash=hash_code(typed_code(t)),
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


def _tokens_with_unique_codes(count: int) -> list[str]:
    """``count`` fresh tokens whose typed codes are unused (collisions are redrawn)."""
    chosen: dict[str, str] = {}
    while len(chosen) < count:
        fresh = {
            hash_code(typed_code(t)): t for t in (new_token() for _ in range(count - len(chosen)))
        }
        fresh = {h: t for h, t in fresh.items() if h not in chosen}
        hashes = list(fresh)
        for start in range(0, len(hashes), 500):
            taken = db.session.scalars(
                select(Invitation.code_hash).where(
                    Invitation.code_hash.in_(hashes[start : start + 500])
                )
            )
            for h in taken:
                if h is not None:
                    fresh.pop(h, None)
        chosen.update(fresh)
    return list(chosen.values())


def batch_for_request(request_key: str) -> InvitationBatch | None:
    """The batch already created by the form with ``request_key``, if any."""
    if not request_key:
        return None
    return db.session.scalar(
        select(InvitationBatch).where(InvitationBatch.request_key == request_key)
    )
