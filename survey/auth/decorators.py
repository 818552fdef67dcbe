"""Role checks for views: ``@roles_required("agency", "admin")``."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import abort
from flask_login import current_user
from flask_login import login_required as _login_required

# Role groups, for ``@roles_required(*BUREAU)``.
ADMIN = ("admin",)
BUREAU = ("admin", "viewer")  # bureau staff: admins change, viewers read
AGENCY = ("agency",)
FIELDWORK = ("agency", "interviewer")  # may enter interviews
FIELDWORK_VIEWERS = ("agency", "admin", "viewer")  # may read fieldwork progress

_View = TypeVar("_View", bound=Callable[..., Any])


def login_required(view: _View) -> _View:
    """Flask-Login's ``login_required`` with a type (Flask-Login ships no type hints)."""
    return cast(_View, _login_required(view))


def roles_required(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Require a signed-in user whose role is one of ``roles`` (else 403).

    Anonymous visitors are sent to the login page by Flask-Login first.
    """

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return login_required(wrapped)

    return decorate
