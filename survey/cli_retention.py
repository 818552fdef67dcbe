"""``minping retention [--dry-run] [--today DATE] [--years N]``: delete expired answers."""

from __future__ import annotations

from datetime import date, datetime

import click

from .cli_context import with_appcontext


@click.command("retention")
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; change nothing.")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Judge expiry as of this day (default: today).",
)
@click.option("--years", type=click.IntRange(min=1), default=3, show_default=True)
@with_appcontext
def retention(dry_run: bool, today: datetime | None, years: int) -> None:
    """Delete answers kept longer than the privacy notice promises, and dead drafts.

    Run it daily (cron or a systemd timer).  Waves whose fieldwork began YEARS
    years ago lose their responses and answers; drafts of waves whose
    fieldwork is over are deleted.  Scores and documents stay.
    """
    from .extensions import db
    from .services.retention import purge

    day = today.date() if today is not None else date.today()
    report = purge(day, years=years, dry_run=dry_run)
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    verb = "would delete" if dry_run else "deleted"
    waves = ", ".join(report.waves) or "none"
    click.echo(
        f"{verb} {report.responses} responses and {report.answers} answers "
        f"(waves: {waves}) and {report.drafts} drafts of closed fieldwork, as of {day}"
    )
