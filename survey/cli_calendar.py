"""``minping calendar``: the official working-day table."""

from __future__ import annotations

import click

from .cli_context import with_appcontext


@click.group("calendar")
def calendar() -> None:
    """Official holidays and make-up working days (for deadlines)."""


@calendar.command("show")
@click.argument("year", type=int)
@with_appcontext
def show(year: int) -> None:
    """List a year's holidays and make-up working days."""
    from .services.official_days import official_calendar

    table = official_calendar()
    entry = table.years.get(year)
    if entry is None:
        known = table.known_years
        raise click.ClickException(
            f"{year} is not in the official table (known: {known[0]}-{known[-1]}); "
            "deadlines in it fall back to Monday-Friday and are marked provisional"
        )
    click.echo("holidays: " + ", ".join(d.isoformat() for d in sorted(entry.holidays)))
    click.echo("make-up working days: " + ", ".join(d.isoformat() for d in sorted(entry.workdays)))


@calendar.command("set-year")
@click.argument("year", type=int)
@click.option(
    "--holidays",
    required=True,
    help="Days off, e.g. '2027-01-01, 2027-02-06..2027-02-13' (ranges allowed).",
)
@click.option("--workdays", default="", help="Make-up working days (weekends), same format.")
@with_appcontext
def set_year_command(year: int, holidays: str, workdays: str) -> None:
    """Enter a year from the State Council's holiday notice (replaces that year).

    Provisional deadlines counted into the year are re-determined: each street
    gets a dated supplement (补充说明) and each item an event.
    """
    from reports.calendar import CalendarError

    from .extensions import db
    from .services.deadlines import enter_year
    from .services.official_days import parse_days

    try:
        table, changes = enter_year(year, parse_days(holidays), parse_days(workdays))
    except CalendarError as exc:
        db.session.rollback()
        raise click.ClickException("; ".join(exc.problems)) from None
    db.session.commit()
    entry = table.years[year]
    click.echo(
        f"{year}: {len(entry.holidays)} holidays, {len(entry.workdays)} make-up working days"
    )
    click.echo(f"re-determined {len(changes)} provisional deadlines")
    for c in changes:
        mark = " (still provisional)" if c.still_provisional else ""
        click.echo(
            f"  {c.street} {c.indicator}: {c.old.isoformat()} -> {c.new.isoformat()}{mark} "
            f"[{c.document}; supplement {c.supplement}]"
        )
