"""Managing staff accounts from the bureau console: deactivate, reactivate, reset."""

from __future__ import annotations

from ..errors import UserError
from ..i18n import _
from ..models import ROLES, Street, User
from .accounts import password_problem
from .audit import record


def set_active(user: User, active: bool, *, by_user_id: int | None = None) -> User:
    """Deactivate or reactivate ``user`` and end its sessions (not committed).

    Deactivation also drops the API token.

    :raises UserError: an admin trying to deactivate their own account.
    """
    if not active and user.id == by_user_id:
        raise UserError(_("不能停用自己正在使用的账号。"))
    before = {"active": user.active}
    user.active = active
    user.revoke_sessions()
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
    """Set a new password for ``user``, lift any lockout, end its sessions (not committed).

    :raises UserError: the password breaks the policy of :func:`password_problem`.
    """
    problem = password_problem(password)
    if problem:
        raise UserError(problem)
    user.set_password(password)
    user.failed_logins = 0
    user.locked_until = None
    record("user.reset_password", user, user_id=by_user_id, after={"password": "changed"})
    return user


def set_role(
    user: User, role: str, street: Street | None = None, *, by_user_id: int | None = None
) -> User:
    """Change ``user``'s role (and street); every session of the account ends (not committed).

    :raises UserError: unknown role, a street officer without a street, or an
        admin changing their own role.
    """
    if role not in ROLES:
        raise UserError(_("未知的角色。"))
    if role == "street" and street is None:
        raise UserError(_("街道工作人员必须选择所属街道。"))
    if user.id == by_user_id:
        raise UserError(_("不能更改自己正在使用的账号的角色。"))
    before = {"role": user.role, "street": user.street.name if user.street else None}
    user.role = role
    user.street = street if role == "street" else None
    user.revoke_sessions()
    record(
        "user.set_role",
        user,
        user_id=by_user_id,
        before=before,
        after={"role": role, "street": user.street.name if user.street else None},
    )
    return user


def change_own_password(user: User, current: str, password: str) -> User:
    """Change ``user``'s own password after checking the current one (not committed).

    Every session of the account ends (the caller signs this one in again).

    :raises UserError: the current password is wrong, or the new one breaks
        the policy of :func:`password_problem`.
    """
    if not user.check_password(current):
        raise UserError(_("当前密码不正确。"))
    problem = password_problem(password)
    if problem:
        raise UserError(problem)
    user.set_password(password)
    record("user.change_password", user, user_id=user.id, after={"password": "changed"})
    return user
