"""Population margins in the database: versioned imports and console edits.

Writes go through :func:`store_population`, which adds a new
:class:`PopulationVersion` (never changes an old one, so every scoring run can
say which counts it used) and an audit entry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import func, select

from scoring.population import (
    COLUMNS,
    Population,
    PopulationError,
    parse_population_rows,
    read_population,
    write_population_csv,
    write_population_xlsx,
)

from ..extensions import db
from ..models import District, PopulationMargin, PopulationVersion, RespondentGroup, Street
from .audit import record


def street_lookup(district: District) -> dict[str, str]:
    """Map every accepted street name and code (with or without 街道) to its name."""
    out: dict[str, str] = {}
    for s in district.streets:
        for key in (s.name, s.code, s.full_name):
            out[key] = s.name
    return out


def group_codes() -> list[str]:
    """Respondent group codes known to any framework, in first-seen order."""
    rows = db.session.scalars(
        select(RespondentGroup.code).order_by(
            RespondentGroup.framework_id, RespondentGroup.position
        )
    )
    return list(dict.fromkeys(rows))


def group_names() -> dict[str, str]:
    """Respondent group code → name (the newest framework's name for it)."""
    rows = db.session.execute(
        select(RespondentGroup.code, RespondentGroup.name).order_by(
            RespondentGroup.framework_id, RespondentGroup.position
        )
    )
    return {code: name for code, name in rows}


def parse_population(district: District, data: bytes, filename: str = "") -> Population:
    """Validate a CSV/XLSX margins file against the district's streets and known groups.

    :raises PopulationError: with every problem, as ``line N, column C (NAME): reason``.
    """
    fmt = "xlsx" if filename.lower().endswith(".xlsx") or data[:2] == b"PK" else "csv"
    return read_population(data, streets=street_lookup(district), groups=group_codes(), fmt=fmt)


def parse_form(district: District, values: Mapping[str, str]) -> Population:
    """Validate the console's entry grid (field ``m-<street id>-<group>-<variable>-<category>``).

    Empty fields give no row; a problem names the street, group and category.
    :raises PopulationError: with every problem.
    """
    streets = {s.id: s for s in district.streets}
    rows: list[list[str]] = [list(COLUMNS)]
    places: list[str] = [""]
    for key, raw in values.items():
        if not key.startswith("m-") or not raw.strip():
            continue
        parts = key.split("-", 4)
        if len(parts) != 5 or not parts[1].isdigit() or int(parts[1]) not in streets:
            continue
        _, sid, group, variable, category = parts
        name = streets[int(sid)].name
        rows.append([name, group, variable, category, raw.strip()])
        places.append(f"{name} / {group} / {variable} {category}")
    if len(rows) == 1:
        raise PopulationError(["the form is empty: enter at least one street's counts"])

    def where(line: int, name: str) -> str:
        return places[line - 1] if line - 1 < len(places) else f"row {line}"

    return parse_population_rows(
        rows, streets=street_lookup(district), groups=group_codes(), where=where
    )


def current_population(district: District) -> PopulationVersion | None:
    """Return the district's newest population version, if any."""
    return db.session.scalar(
        select(PopulationVersion)
        .where(PopulationVersion.district_id == district.id)
        .order_by(PopulationVersion.version.desc())
        .limit(1)
    )


def versions(district: District) -> Sequence[PopulationVersion]:
    """Every population version of the district, newest first."""
    return db.session.scalars(
        select(PopulationVersion)
        .where(PopulationVersion.district_id == district.id)
        .order_by(PopulationVersion.version.desc())
    ).all()


def get_version(district: District, version: int) -> PopulationVersion:
    """Return version ``version`` of the district's margins.  :raises LookupError."""
    row = db.session.scalar(
        select(PopulationVersion).where(
            PopulationVersion.district_id == district.id, PopulationVersion.version == version
        )
    )
    if row is None:
        raise LookupError(f"district {district.code} has no population version {version}")
    return row


def store_population(
    district: District,
    population: Population,
    *,
    source: str = "import",
    filename: str = "",
    note: str = "",
    user_id: int | None = None,
) -> tuple[PopulationVersion, bool]:
    """Store ``population`` as the district's next version (not committed).

    :param source: ``import`` (a file) or ``form`` (the console's grid).
    :returns: ``(version, created)``; margins identical to the current
        version's add nothing and return the current version with False.
    """
    digest = population.sha256()
    current = current_population(district)
    if current is not None and current.sha256 == digest:
        return current, False
    number = (
        db.session.scalar(
            select(func.max(PopulationVersion.version)).where(
                PopulationVersion.district_id == district.id
            )
        )
        or 0
    ) + 1
    ids = {s.name: s.id for s in district.streets}
    row = PopulationVersion(
        district=district,
        version=number,
        source=source,
        filename=filename[:200],
        sha256=digest,
        note=note,
        created_by_id=user_id,
    )
    row.margins = [
        PopulationMargin(
            street_id=ids[m.street],
            group_code=m.group,
            variable=m.variable,
            category=m.category,
            count=m.count,
        )
        for m in population.rows
    ]
    db.session.add(row)
    db.session.flush()
    record(
        "population.store",
        row,
        user_id=user_id,
        after={
            "version": number,
            "source": source,
            "filename": filename,
            "sha256": digest,
            "rows": len(population.rows),
        },
    )
    return row, True


def population_of(version: PopulationVersion) -> Population:
    """The stored margins as a :class:`scoring.population.Population` (street names)."""
    names = {s.id: s.name for s in version.district.streets}
    margins = version.margins  # insertion order: the canonical order of the stored Population
    rows = [list(COLUMNS)] + [
        [names[m.street_id], m.group_code, m.variable, m.category, repr(float(m.count))]
        for m in margins
    ]
    return parse_population_rows(rows)


def export_population(version: PopulationVersion, fmt: str = "csv") -> bytes:
    """The version's margins as a CSV (UTF-8 with BOM) or XLSX file."""
    pop = population_of(version)
    return write_population_xlsx(pop) if fmt == "xlsx" else write_population_csv(pop)


def street_table(
    district: District, version: PopulationVersion | None
) -> list[tuple[Street, dict[str, dict[str, dict[str, float]]]]]:
    """Per street: ``{group: {variable: {category: count}}}`` of ``version`` (empty without)."""
    by_street: dict[int, dict[str, dict[str, dict[str, float]]]] = {
        s.id: {} for s in district.streets
    }
    for m in version.margins if version is not None else []:
        by_street[m.street_id].setdefault(m.group_code, {}).setdefault(m.variable, {})[
            m.category
        ] = m.count
    return [(s, by_street[s.id]) for s in district.streets]


__all__ = [
    "current_population",
    "export_population",
    "get_version",
    "group_codes",
    "parse_form",
    "parse_population",
    "population_of",
    "store_population",
    "street_table",
    "versions",
]
