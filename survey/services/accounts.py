"""Staff accounts: creation, password policy, authentication with lockout."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from ..extensions import db
from ..i18n import _
from ..models import ROLES, District, Street, User
from ..models._base import utcnow

MAX_FAILED = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD = 10


def password_problem(password: str) -> str | None:
    """Return why ``password`` is too weak for a staff account, or None."""
    if len(password) < MIN_PASSWORD:
        return _("密码至少需要 %(n)s 个字符。", n=MIN_PASSWORD)
    kinds = sum(bool(re.search(p, password)) for p in (r"[a-z]", r"[A-Z]", r"\d", r"[^\w]"))
    if kinds < 3:
        return _("密码需包含大写字母、小写字母、数字、符号中的至少三类。")
    return None


def create_user(
    username: str,
    password: str,
    role: str,
    street: Street | None = None,
    district: District | None = None,
) -> User:
    """Add a staff account (not committed).

    ``district`` scopes the account to one district; None means every district
    (a city bureau, an agency serving several).  A street officer always works
    for their street's district.

    :raises ValueError: unknown role, missing street for a street officer, a
        street outside ``district``, a taken username, or a weak password.
    """
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    if role == "street" and street is None:
        raise ValueError("a street officer needs --street")
    if role != "street" and street is not None:
        street = None
    if street is not None:
        if district is not None and street.district_id != district.id:
            raise ValueError(f"street {street.name} is not in district {district.name}")
        district_id: int | None = street.district_id
    else:
        district_id = district.id if district is not None else None
    if not re.fullmatch(r"[A-Za-z0-9_.\-]{2,60}", username):
        raise ValueError("username: 2-60 letters, digits, '_', '.', '-'")
    if db.session.scalar(select(User).where(User.username == username)):
        raise ValueError(f"username {username!r} is taken")
    problem = password_problem(password)
    if problem:
        raise ValueError(problem)
    user = User(username=username, role=role, street=street, district_id=district_id)
    user.set_password(password)
    db.session.add(user)
    return user


def authenticate(username: str, password: str) -> tuple[User | None, str]:
    """Check credentials, counting failures and locking the account after 5.

    Commits the failure counter.  Returns ``(user, "")`` or ``(None, message)``.
    """
    generic = _("用户名或密码不正确。")
    user = db.session.scalar(select(User).where(User.username == username))
    now = utcnow()
    if user is None:
        return None, generic
    if user.locked_until and user.locked_until > now:
        minutes = int((user.locked_until - now).total_seconds() // 60) + 1
        return None, _("登录失败次数过多，账号已暂时锁定，请 %(n)s 分钟后再试。", n=minutes)
    if not user.active:
        return None, _("该账号已停用。")
    if not user.check_password(password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
        db.session.commit()
        return None, generic
    user.failed_logins = 0
    user.locked_until = None
    db.session.commit()
    return user, ""
