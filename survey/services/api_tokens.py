"""Personal API tokens: 256 random bits, shown once, stored only as SHA-256."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select

from ..extensions import db
from ..models import User
from .audit import record

PREFIX = "mp_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(user: User, *, by_user_id: int | None = None) -> str:
    """Give ``user`` a new API token, replacing any old one (not committed).

    Returns the plain token: it exists only in this return value.
    """
    token = PREFIX + secrets.token_urlsafe(32)
    had = user.api_token_hash is not None
    user.api_token_hash = _digest(token)
    record(
        "user.api_token",
        user,
        user_id=by_user_id,
        before={"token": "set" if had else None},
        after={"token": "new"},
    )
    return token


def revoke_token(user: User, *, by_user_id: int | None = None) -> None:
    """Remove ``user``'s API token (not committed)."""
    if user.api_token_hash is None:
        return
    user.api_token_hash = None
    record("user.api_token_revoke", user, user_id=by_user_id, before={"token": "set"})


def user_for_token(token: str) -> User | None:
    """Return the active user holding ``token``, or None."""
    if not token or not token.startswith(PREFIX) or len(token) > 200:
        return None
    digest = _digest(token)
    user = db.session.scalar(select(User).where(User.api_token_hash == digest))
    if user is None or not user.active or not hmac.compare_digest(user.api_token_hash, digest):
        return None
    return user
