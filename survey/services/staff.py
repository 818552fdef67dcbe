"""Managing staff accounts from the bureau console: deactivate, reactivate, reset."""

from __future__ import annotations

from ..i18n import _
from ..models import User
from .accounts import password_problem
from .audit import record


def set_active(user: User, active: bool, *, by_user_id: int | None = None) -> User:
    """Deactivate or reactivate ``user`` (not committed); deactivation also drops the API token.

    :raises ValueError: an admin trying to deactivate their own account.
    """
    if not active and user.id == by_user_id:
        raise ValueError(_("不能停用自己正在使用的账号。"))
    before = {"active": user.active}
    user.active = active
    if not active:
        user.api_token_hash = None
    record(
        "user.activate" if active else "user.deactivate",
        user,
        user_id=by_user_id,
        before=before,
        after={"active": active},
    )
    return user


def reset_password(user: User, password: str, *, by_user_id: int | None = None) -> User:
    """Set a new password for ``user`` and lift any lockout (not committed).

    :raises ValueError: the password breaks the policy of :func:`password_problem`.
    """
    problem = password_problem(password)
    if problem:
        raise ValueError(problem)
    user.set_password(password)
    user.failed_logins = 0
    user.locked_until = None
    record("user.reset_password", user, user_id=by_user_id, after={"password": "changed"})
    return user
