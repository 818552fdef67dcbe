"""The ``minping`` command line.

Every command honours ``DATABASE_URL`` (default: SQLite in the instance folder)
and exits non-zero with a one-line reason on bad input.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import click
from flask.cli import FlaskGroup, with_appcontext

from . import create_app


def fail(message: str) -> None:
    """Stop with a one-line reason and exit status 1."""
    raise click.ClickException(message)


@click.group(
    cls=FlaskGroup,
    create_app=lambda: create_app(),
    add_default_commands=False,
    add_version_option=False,
)
def main() -> None:
    """minping (民评): resident satisfaction survey and street scoring."""


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def serve(host: str, port: int) -> None:
    """Serve the web application (development server; see README for production)."""
    from flask import current_app

    _ensure_schema()
    click.echo(f"minping serving on http://{host}:{port}/  (Ctrl+C to stop)")
    run_dev_server(current_app, host, port)


def run_dev_server(app, host: str, port: int) -> None:  # type: ignore[no-untyped-def]
    """Serve with Werkzeug (``app.run`` refuses to run inside the flask CLI)."""
    from werkzeug.serving import run_simple

    run_simple(host, port, app._get_current_object(), threaded=True, use_reloader=False)


def _ensure_schema() -> None:
    """Bring the database schema up to date (idempotent)."""
    from flask_migrate import upgrade

    upgrade()


@click.command("demo")
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Create the demo data and exit.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--force", is_flag=True, help="Wipe a database that holds non-demo data.")
@with_appcontext
def demo(seed: int, no_serve: bool, host: str, port: int, force: bool) -> None:
    """(Re)create the demo district 鼓楼区 and serve it."""
    from flask import current_app

    from .services.demo import DemoRefused, build_demo

    if "MINPING_PUBLIC_URL" not in os.environ:  # links should point where we serve
        current_app.config["PUBLIC_BASE_URL"] = f"http://{host}:{port}"
    try:
        summary = build_demo(seed=seed, force=force)
    except DemoRefused as exc:
        fail(str(exc))
    click.echo(
        f"Demo district 鼓楼区 created (seed {seed}): {summary.responses} responses "
        "in wave demo-2026 (scored, notices issued, rectification under way, published), "
        "wave demo-open in fieldwork."
    )
    from .services.invitations import typed_code

    click.echo("Accounts (username / role / password):")
    for username, role, password in summary.accounts:
        click.echo(f"  {username:12s} {role:12s} {password}")
    click.echo("Invitation links and typed codes (wave demo-open; codes go in at /s/):")
    for street, group, url in summary.links:
        click.echo(f"  {street} / {group}: {url}  code {typed_code(url.rsplit('/', 1)[-1])}")
    if not no_serve:
        click.echo(f"minping serving on http://{host}:{port}/  (Ctrl+C to stop)")
        run_dev_server(current_app, host, port)


@click.command("waves")
@with_appcontext
def waves() -> None:
    """List waves: code, name, state, responses."""
    from sqlalchemy import select

    from .extensions import db
    from .models import Wave
    from .services.waves import STATE_NAMES, response_count

    rows = db.session.scalars(select(Wave).order_by(Wave.created_at, Wave.id)).all()
    if not rows:
        click.echo("no waves")
    for wave in rows:
        click.echo(
            f"{wave.code}\t{wave.name}\t{wave.state} ({STATE_NAMES[wave.state]})\t"
            f"{response_count(wave)}"
        )


def _os_user() -> str:
    """Who runs this command on the server, for the audit log."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def _wave(code: str):  # type: ignore[no-untyped-def]
    from .services.waves import get_wave

    try:
        return get_wave(code)
    except LookupError as exc:
        fail(str(exc))


@click.command("import-responses")
@click.option("--wave", "wave_code", required=True, help="Wave code.")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def import_responses(wave_code: str, file: Path) -> None:
    """Import a responses CSV/XLSX file, all or nothing."""
    from scoring.exchange import ExchangeError

    from .services.audit import record
    from .services.responses import import_records, parse_file

    wave = _wave(wave_code)
    if not file.exists():
        fail(f"{file}: no such file")
    try:
        data = file.read_bytes()
        records = parse_file(wave, data, file.name)
        digest = hashlib.sha256(data).hexdigest()
        record(
            "responses.import",
            wave,
            after={
                "file": file.name[:200],
                "sha256": digest,
                "responses": len(records),
                "weighted": sum(1 for r in records if r.weight != 1.0),
                "path": "admin",
                "by": _os_user(),
            },
        )
        count = import_records(wave, records, path="admin", import_sha256=digest)
    except ExchangeError as exc:
        click.echo(f"{file.name}: rejected, nothing imported:", err=True)
        for problem in exc.problems[:200]:
            click.echo(f"  {problem}", err=True)
        if len(exc.problems) > 200:
            click.echo(f"  ... and {len(exc.problems) - 200} more", err=True)
        sys.exit(1)
    click.echo(f"imported {count} responses into {wave.code}")


@click.command("export-responses")
@click.option("--wave", "wave_code", required=True, help="Wave code.")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Output file, .csv or .xlsx.",
)
@click.option(
    "--included-only", is_flag=True, help="Only responses that scoring uses (no excluded ones)."
)
@with_appcontext
def export_responses(wave_code: str, out: Path, included_only: bool) -> None:
    """Export a wave's responses in the exchange format."""
    from scoring.exchange import write_responses

    from .services.frameworks import spec_of
    from .services.responses import wave_records

    wave = _wave(wave_code)
    if out.suffix.lower() not in (".csv", ".xlsx"):
        fail("--out must end in .csv or .xlsx")
    records = wave_records(wave, included_only=included_only)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_responses(out, records, spec_of(wave.framework))
    click.echo(f"wrote {len(records)} responses to {out}")


@click.command("invitations")
@click.option("--wave", "wave_code", required=True)
@click.option("--street", required=True, help="Street name or code.")
@click.option("--group", "group_code", required=True, help="Respondent group code.")
@click.option("--community", default=None, help="Community name or code (optional).")
@click.option("--count", required=True, type=int)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def invitations(
    wave_code: str, street: str, group_code: str, community: str | None, count: int, out: Path
) -> None:
    """Create invitations and write their links once to a CSV (token,url,code)."""
    import csv

    from scoring.spreadsheet import csv_row

    from .extensions import db
    from .services.districts import find_street
    from .services.invitations import create_batch, invitation_url, typed_code

    wave = _wave(wave_code)
    try:
        street_row = find_street(street, wave.district)
    except LookupError as exc:
        fail(str(exc))
    community_row = None
    if community:
        community_row = next(
            (c for c in street_row.communities if community in (c.name, c.code)), None
        )
        if community_row is None:
            fail(f"unknown community {community!r} in {street_row.name}")
    try:
        _, tokens = create_batch(wave, street_row, group_code, count, community=community_row)
    except ValueError as exc:
        db.session.rollback()
        fail(str(exc))
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["token", "url", "code"])
        for token in tokens:
            writer.writerow(csv_row([token, invitation_url(token), typed_code(token)]))
    db.session.commit()
    click.echo(f"created {count} invitations for {street_row.name}/{group_code}; links in {out}")


users = click.Group("users", help="Manage staff accounts.")


@users.command("create")
@click.option("--role", required=True, help="admin, agency, interviewer, street or viewer.")
@click.option("--street", default=None, help="Street name or code (street officers).")
@click.option("--password", default=None, help="Password (prompted if omitted).")
@click.argument("username")
@with_appcontext
def users_create(role: str, street: str | None, password: str | None, username: str) -> None:
    """Create a staff account."""
    from .extensions import db
    from .services.accounts import create_user
    from .services.districts import find_street

    street_row = None
    if street:
        try:
            street_row = find_street(street)
        except LookupError as exc:
            fail(str(exc))
    if password is None:
        if not sys.stdin.isatty():
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        create_user(username, password, role, street_row)
    except ValueError as exc:
        db.session.rollback()
        fail(str(exc))
    db.session.commit()
    click.echo(f"created {role} account {username}")


def init_app(app) -> None:  # type: ignore[no-untyped-def]
    """Attach every minping command to ``app.cli`` (so ``minping`` and tests see them)."""
    from .cli_calendar import calendar
    from .cli_scoring import notices, score, score_wave

    for command in (
        serve,
        demo,
        waves,
        import_responses,
        export_responses,
        invitations,
        users,
        score,
        score_wave,
        notices,
        calendar,
    ):
        app.cli.add_command(command)

    # -- reliability (issue 8): `serve` gains --prod (gunicorn); backup and restore.
    from .cli_backup import backup, restore
    from .cli_retention import retention
    from .cli_serve import serve as serve_dev_or_prod

    for command in (serve_dev_or_prod, backup, restore, retention):
        app.cli.add_command(command)
