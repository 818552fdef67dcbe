"""``minping population``: import, export and list a district's population margins."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from .models import District

from .cli_context import with_appcontext

population = click.Group(
    "population", help="Population margins (age band and gender per street x group)."
)


def _district(code: str) -> District:
    from sqlalchemy import select

    from .extensions import db
    from .models import District

    row = db.session.scalar(select(District).where(District.code == code))
    if row is None:
        codes = ", ".join(db.session.scalars(select(District.code).order_by(District.code)))
        raise click.ClickException(f"unknown district {code!r} (districts: {codes or 'none'})")
    return row


@population.command("import")
@click.option("--district", "district_code", required=True, help="District code.")
@click.option("--note", default="", help="Where the counts come from (e.g. 2025 census).")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def import_population(district_code: str, note: str, file: Path) -> None:
    """Import a margins CSV/XLSX as the district's next version, all or nothing."""
    from scoring.population import PopulationError

    from .extensions import db
    from .services.population import parse_population, store_population

    district = _district(district_code)
    if not file.exists():
        raise click.ClickException(f"{file}: no such file")
    try:
        pop = parse_population(district, file.read_bytes(), file.name)
    except PopulationError as exc:
        click.echo(f"{file.name}: rejected, nothing imported:", err=True)
        for problem in exc.problems[:200]:
            click.echo(f"  {problem}", err=True)
        if len(exc.problems) > 200:
            click.echo(f"  ... and {len(exc.problems) - 200} more", err=True)
        sys.exit(1)
    version, created = store_population(district, pop, filename=file.name, note=note)
    db.session.commit()
    if created:
        click.echo(
            f"imported {len(pop.rows)} counts for {len(pop.cells)} street x group cells "
            f"as population version {version.version} of {district.code}"
        )
    else:
        click.echo(f"unchanged: the counts equal population version {version.version}")


@population.command("export")
@click.option("--district", "district_code", required=True, help="District code.")
@click.option("--version", "number", type=int, default=None, help="Default: the newest.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def export_population(district_code: str, number: int | None, out: Path) -> None:
    """Write a population version as .csv (UTF-8 with BOM) or .xlsx."""
    from .services.population import current_population, export_population, get_version

    district = _district(district_code)
    if out.suffix.lower() not in (".csv", ".xlsx"):
        raise click.ClickException("--out must end in .csv or .xlsx")
    try:
        version = get_version(district, number) if number else current_population(district)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    if version is None:
        raise click.ClickException(f"district {district.code} has no population margins yet")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(export_population(version, out.suffix.lower().lstrip(".")))
    click.echo(
        f"wrote population version {version.version} ({len(version.margins)} counts) to {out}"
    )


@population.command("list")
@click.option("--district", "district_code", required=True, help="District code.")
@with_appcontext
def list_population(district_code: str) -> None:
    """List the district's population versions: version, date, source, counts."""
    from .services.population import versions

    district = _district(district_code)
    rows = versions(district)
    if not rows:
        click.echo("no population margins")
    for v in rows:
        click.echo(
            f"v{v.version}\t{v.created_at:%Y-%m-%d %H:%M}\t{v.source}\t{v.filename or '-'}\t"
            f"{len(v.margins)} counts\t{v.note}"
        )
