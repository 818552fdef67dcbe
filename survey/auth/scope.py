"""Which districts a staff account may see, and the district a request works in.

One installation may serve several districts (docs/districts.md).  An account
with ``district_id`` set works for that district only; a street officer works
for their street's district; an account with neither (a city bureau, an agency
serving several districts) sees every district.

Two rules, applied everywhere:

* **Lists** (waves, items, audit entries, users, document settings) show the
  request's :func:`current_district` -- the account's own district, or for a
  multi-district account the one chosen with the header switcher (kept in the
  session, always re-validated).  The JSON API has no session: its lists show
  every visible district (:func:`visible_district_ids`).
* **Single resources** reached by code or id (a wave, a notice, an item, a
  street, a job) answer 404 unless their district is visible to the account
  (:func:`require_visible`), so another district's data is never served, not
  even its existence.
"""

from __future__ import annotations

from typing import Any

from flask import abort, g, has_request_context, request, session
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..models import District, User

SESSION_KEY = "district_id"


def _cache() -> dict[str, Any]:
    """Per-request memo (on the request, not ``g``: tests share one app context)."""
    if not has_request_context():
        return {}
    return request.environ.setdefault("minping.scope", {})


def _user(user: User | None = None) -> User | None:
    if user is not None:
        return user
    if not has_request_context():
        return None
    api_user = g.get("api_user") if request.blueprint == "api" else None
    if api_user is not None:
        return api_user
    if current_user and current_user.is_authenticated:
        return current_user._get_current_object()
    return None


def home_district_id(user: User) -> int | None:
    """The one district ``user`` works for, or None for every district."""
    if user.district_id is not None:
        return user.district_id
    if user.street_id is not None:
        street = user.street
        return street.district_id if street is not None else None
    return None


def visible_district_ids(user: User | None = None) -> list[int]:
    """Ids of the districts ``user`` (default: the request's user) may see, by id.

    An anonymous request sees none.
    """
    who = _user(user)
    if who is None:
        return []
    home = home_district_id(who)
    if home is not None:
        return [home]
    memo = _cache()
    if "all" not in memo:
        memo["all"] = list(db.session.scalars(select(District.id).order_by(District.id)))
    return list(memo["all"])


def visible_districts(user: User | None = None) -> list[District]:
    """The districts ``user`` may see, in id order."""
    ids = visible_district_ids(user)
    if not ids:
        return []
    return list(
        db.session.scalars(select(District).where(District.id.in_(ids)).order_by(District.id))
    )


def is_multi_district(user: User | None = None) -> bool:
    """True for an account that may switch between several districts."""
    return len(visible_district_ids(user)) > 1


def current_district(user: User | None = None) -> District | None:
    """The district this request works in (None only when no district exists).

    The session's choice is used only while it is still visible to the account;
    otherwise the account's first visible district.
    """
    memo = _cache() if user is None else {}
    if "current" in memo:
        return memo["current"]
    ids = visible_district_ids(user)
    chosen = session.get(SESSION_KEY) if has_request_context() else None
    district_id = chosen if chosen in ids else (ids[0] if ids else None)
    district = db.session.get(District, district_id) if district_id is not None else None
    if user is None and has_request_context():
        memo["current"] = district
    return district


def current_district_id() -> int:
    """Id of :func:`current_district`; 404 when there is no district at all."""
    district = current_district()
    if district is None:
        abort(404)
    return district.id


def choose_district(district_id: int) -> bool:
    """Make ``district_id`` the session's current district if visible; return success."""
    if district_id not in visible_district_ids():
        return False
    session[SESSION_KEY] = district_id
    _cache().pop("current", None)
    return True


def may_see(district_id: int | None, user: User | None = None) -> bool:
    """True when a resource of ``district_id`` is visible to ``user``."""
    return district_id is not None and district_id in visible_district_ids(user)


def require_visible(district_id: int | None) -> None:
    """Abort with 404 unless the request's user may see ``district_id``."""
    if not may_see(district_id):
        abort(404)


def in_current(query: Any, column: Any) -> Any:
    """Restrict ``query`` to rows whose ``column`` is the current district (none if no district)."""
    district = current_district()
    return query.where(column == (district.id if district is not None else None))


def in_visible(query: Any, column: Any) -> Any:
    """Restrict ``query`` to rows whose ``column`` is a visible district."""
    return query.where(column.in_(visible_district_ids()))


def require_wave(wave_id: int | None) -> None:
    """Abort with 404 unless the wave ``wave_id`` belongs to a visible district."""
    from ..models import Wave

    district_id = (
        db.session.scalar(select(Wave.district_id).where(Wave.id == wave_id))
        if wave_id is not None
        else None
    )
    require_visible(district_id)
