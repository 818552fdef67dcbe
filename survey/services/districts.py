"""Districts, streets and communities."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from ..extensions import db
from ..models import Community, District, Street


def create_district(
    code: str,
    name: str,
    streets: Sequence[tuple[str, str, Sequence[str]]],
    *,
    authority: str = "",
    doc_prefix: str = "",
) -> District:
    """Add a district with ``(code, name, community names)`` per street (not committed)."""
    district = District(code=code, name=name, authority=authority, doc_prefix=doc_prefix)
    db.session.add(district)
    for pos, (s_code, s_name, communities) in enumerate(streets):
        street = Street(code=s_code, name=s_name, position=pos, district=district)
        db.session.add(street)
        for n, c_name in enumerate(communities, start=1):
            db.session.add(Community(code=f"{s_code}-{n:02d}", name=c_name, street=street))
    db.session.flush()
    return district


def find_district(name_or_code: str) -> District:
    """Return the district coded or named ``name_or_code``.  :raises LookupError."""
    for district in db.session.scalars(select(District).order_by(District.id)):
        if name_or_code in (district.code, district.name):
            return district
    known = ", ".join(db.session.scalars(select(District.code).order_by(District.id))) or "none"
    raise LookupError(f"unknown district {name_or_code!r} (known: {known})")


def find_street(name_or_code: str, district: District | None = None) -> Street:
    """Return the street named or coded ``name_or_code`` (in ``district`` if given).

    :raises LookupError: no such street, or (without ``district``) streets of
        that name in several districts.
    """
    query = select(Street).order_by(Street.district_id, Street.position)
    if district is not None:
        query = query.where(Street.district_id == district.id)
    found = [
        street
        for street in db.session.scalars(query)
        if name_or_code in (street.name, street.code, street.full_name)
    ]
    if len(found) > 1:
        raise LookupError(f"street {name_or_code!r} exists in several districts; give --district")
    if found:
        return found[0]
    raise LookupError(f"unknown street {name_or_code!r}")
