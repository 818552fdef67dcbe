"""Staff accounts: creation, password policy, authentication with lockout."""

from __future__ import annotations

import functools
import re
import secrets
from datetime import timedelta

from sqlalchemy import or_, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from ..errors import UserError
from ..extensions import db, rowcount
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

    :raises UserError: unknown role, missing street for a street officer, a
        street outside ``district``, a taken username, or a weak password.
    """
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    if role == "street" and street is None:
        raise UserError("a street officer needs --street")
    if role != "street" and street is not None:
        street = None
    if street is not None:
        if district is not None and street.district_id != district.id:
            raise UserError(f"street {street.name} is not in district {district.name}")
        district_id: int | None = street.district_id
    else:
        district_id = district.id if district is not None else None
    if not re.fullmatch(r"[A-Za-z0-9_.\-]{2,60}", username):
        raise UserError("username: 2-60 letters, digits, '_', '.', '-'")
    if db.session.scalar(select(User).where(User.username == username)):
        raise UserError(f"username {username!r} is taken")
    problem = password_problem(password)
    if problem:
        raise UserError(problem)
    user = User(username=username, role=role, street=street, district_id=district_id)
    user.set_password(password)
    db.session.add(user)
    return user


@functools.cache
def _dummy_hash() -> str:
    """A hash to check unknown usernames against, so every refusal costs one hash."""
    return generate_password_hash(secrets.token_hex(16))


def login_refused() -> str:
    """The one message for every refused login (unknown, wrong, deactivated, locked)."""
    return _(
        "登录失败：用户名或密码不正确，或该账号暂时不能登录（连续输错 %(n)s 次将锁定 %(minutes)s 分钟）。",  # noqa: E501
        n=MAX_FAILED,
        minutes=int(LOCKOUT.total_seconds() // 60),
    )


def authenticate(username: str, password: str) -> tuple[User | None, str]:
    """Check credentials; count failures atomically and lock the account after 5.

    The failure counter is changed by one conditional ``UPDATE ... SET
    failed_logins = failed_logins + 1`` in the database, never read and written
    back, so concurrent wrong passwords (several workers) are all counted; the
    fifth locks the account for :data:`LOCKOUT`.  A right password signs in only
    through an ``UPDATE`` that requires the account to be unlocked at that
    moment, so a login racing the locking failure cannot lift the lock.

    Unknown usernames, wrong passwords, deactivated and locked accounts all get
    the same message, and each costs one password hash, so neither the answer
    nor its timing tells whether an account exists.  Commits.  Returns
    ``(user, "")`` or ``(None, message)``.
    """
    refused = login_refused()
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None, refused
    user_id = user.id
    right = check_password_hash(user.password_hash, password)
    now = utcnow()
    unlocked = or_(User.locked_until.is_(None), User.locked_until <= now)
    if not right:
        count = db.session.execute(
            update(User)
            .where(User.id == user_id, unlocked)
            .values(failed_logins=User.failed_logins + 1)
            .returning(User.failed_logins),
            execution_options={"synchronize_session": False},
        ).scalar_one_or_none()
        if count is not None and count >= MAX_FAILED:
            db.session.execute(
                update(User)
                .where(User.id == user_id, User.failed_logins >= MAX_FAILED)
                .values(failed_logins=0, locked_until=now + LOCKOUT),
                execution_options={"synchronize_session": False},
            )
        db.session.commit()
        return None, refused
    if not user.active:
        db.session.rollback()
        return None, refused
    signed_in = rowcount(
        db.session.execute(
            update(User)
            .where(User.id == user_id, User.active.is_(True), unlocked)
            .values(failed_logins=0, locked_until=None),
            execution_options={"synchronize_session": False},
        )
    )
    db.session.commit()
    if signed_in != 1:
        return None, refused
    db.session.refresh(user)
    return user, ""
