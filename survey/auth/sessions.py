"""Staff sessions that end when they should.

The signed session cookie holds Flask-Login's user id as ``"<id>:<version>"``,
where the version is :attr:`survey.models.User.session_version`.  Logging out,
a password change or reset, a role change and deactivation add one to the
version, so every cookie issued before (also one copied to another machine)
stops working at once.  The cookie also carries when the staff member signed
in and was last seen: a session idle longer than ``STAFF_IDLE_MINUTES`` or older
than ``STAFF_SESSION_HOURS`` is refused and the login page is shown.
"""

from __future__ import annotations

import time

from flask import current_app, session
from flask_login import login_user, logout_user
from sqlalchemy import update

from ..extensions import db
from ..models import User

LOGIN_AT = "_login_at"
SEEN_AT = "_seen_at"
TOUCH_EVERY_S = 60  # rewrite "last seen" at most once a minute (fewer Set-Cookie headers)


def now() -> float:
    """The clock sessions are measured with (tests move it)."""
    return time.time()


def session_values(user: User) -> dict[str, object]:
    """The session entries of a fresh sign-in of ``user`` (also for test helpers)."""
    stamp = int(now())
    return {"_user_id": user.get_id(), "_fresh": True, LOGIN_AT: stamp, SEEN_AT: stamp}


def sign_in(user: User) -> None:
    """Start a session for ``user`` (after the password was checked)."""
    session.pop(LOGIN_AT, None)
    login_user(user)
    stamp = int(now())
    session[LOGIN_AT] = stamp
    session[SEEN_AT] = stamp


def revoke_all(user_id: int) -> None:
    """End every session of a user by bumping the version (not committed)."""
    db.session.execute(
        update(User).where(User.id == user_id).values(session_version=User.session_version + 1),
        execution_options={"synchronize_session": False},
    )


def sign_out(user: User) -> None:
    """End this session and every other session of ``user`` (commits)."""
    revoke_all(user.id)
    db.session.commit()
    logout_user()
    session.pop(LOGIN_AT, None)
    session.pop(SEEN_AT, None)


def load_user(raw_id: str) -> User | None:
    """Flask-Login's user loader: the user if this session is still valid, else None.

    Refused: a malformed id, an unknown or deactivated user, a session version
    that is not the user's current one, and a session past its idle or absolute
    timeout.  A refused session's login entries are removed from the cookie.
    """
    user_id, _, version = str(raw_id).partition(":")
    user = None
    if user_id.isdigit() and version.isdigit() and len(user_id) < 19 and len(version) < 19:
        user = db.session.get(User, int(user_id))
    if (
        user is None
        or not user.active
        or user.session_version != int(version)
        or not _within_timeouts()
    ):
        for key in ("_user_id", "_fresh", "_id", LOGIN_AT, SEEN_AT):
            session.pop(key, None)
        return None
    return user


def _within_timeouts() -> bool:
    """Check the idle and absolute limits and note activity; False if either passed."""
    login_at, seen_at = session.get(LOGIN_AT), session.get(SEEN_AT)
    if not isinstance(login_at, int) or not isinstance(seen_at, int):
        return False
    config = current_app.config
    idle = 60 * float(config.get("STAFF_IDLE_MINUTES", 30))
    longest = 3600 * float(config.get("STAFF_SESSION_HOURS", 12))
    moment = now()
    if moment - seen_at > idle or moment - login_at > longest:
        return False
    if moment - seen_at >= TOUCH_EVERY_S:
        session[SEEN_AT] = int(moment)
    return True
