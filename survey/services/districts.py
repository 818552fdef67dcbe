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


def find_street(name_or_code: str, district: District | None = None) -> Street:
    """Return the street named or coded ``name_or_code``.  :raises LookupError."""
    query = select(Street)
    if district is not None:
        query = query.where(Street.district_id == district.id)
    for street in db.session.scalars(query):
        if name_or_code in (street.name, street.code, street.full_name):
            return street
    raise LookupError(f"unknown street {name_or_code!r}")
