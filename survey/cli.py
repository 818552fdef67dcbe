"""The ``minping`` command line.

Every command honours ``DATABASE_URL`` (default: SQLite in the instance folder)
and exits non-zero with a one-line reason on bad input.

The front (:data:`main`) imports only click: a command's module is imported
when that command runs, and the Flask app is created only for commands that
need it, so ``minping --help`` and the offline ``minping score`` never load the
web or document stack (docs/cli.md).  A new command is registered in
:data:`COMMANDS`; :func:`init_app` adds the same table to ``app.cli``.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click
from click.core import ParameterSource

from .cli_context import with_appcontext

if TYPE_CHECKING:  # the offline commands never import Flask
    from flask import Flask

    from .models import Wave

#: name -> "module:attribute" of every minping command.
COMMANDS: dict[str, str] = {
    "backup": "survey.cli_backup:backup",
    "calendar": "survey.cli_calendar:calendar",
    "demo": "survey.cli:demo",
    "export-responses": "survey.cli:export_responses",
    "import-responses": "survey.cli:import_responses",
    "invitations": "survey.cli:invitations",
    "notices": "survey.cli_scoring:notices",
    "plan": "survey.cli_planning:plan",
    "population": "survey.cli_population:population",
    "restore": "survey.cli_backup:restore",
    "retention": "survey.cli_retention:retention",
    "score": "survey.cli_scoring:score",
    "score-wave": "survey.cli_scoring:score_wave",
    "serve": "survey.cli_serve:serve",
    "users": "survey.cli:users",
    "waves": "survey.cli:waves",
    "worker": "survey.cli_worker:worker",
}
#: Commands that never touch the database: run without creating the app.
OFFLINE = frozenset({"score"})
#: Commands other packages register (Flask-Migrate on ``app.cli``, Flask-Limiter
#: through Flask's ``flask.commands`` entry point), with their help line, so the
#: command list is shown without importing them.
EXTERNAL: dict[str, str] = {
    "db": "Perform database migrations.",
    "limiter": "Flask-Limiter maintenance & utility commands",
}


def fail(message: str) -> NoReturn:
    """Stop with a one-line reason and exit status 1."""
    raise click.ClickException(message)


def load_command(target: str) -> click.Command:
    """Import ``"module:attribute"`` and return the command it names."""
    module, _, attr = target.partition(":")
    command: click.Command = getattr(importlib.import_module(module), attr)
    return command


def _create_app() -> Flask:
    from . import create_app

    return create_app()


def _script_info(ctx: click.Context) -> Any:
    """The ``flask.cli.ScriptInfo`` that app commands load the app through (made once)."""
    from flask.cli import ScriptInfo, load_dotenv

    root = ctx.find_root()
    info = root.meta.get("minping.script_info")
    if info is None:
        # What flask.cli.FlaskGroup does before running an app command.
        os.environ["FLASK_RUN_FROM_CLI"] = "true"
        load_dotenv(root.meta.get("minping.env_file"), load_defaults=True)
        info = ScriptInfo(
            app_import_path=root.meta.get("minping.app_import_path"),
            create_app=_create_app,
        )
        root.meta["minping.script_info"] = info
        root.obj = info
    return info


def _env_file(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        try:
            import dotenv  # noqa: F401
        except ImportError:
            raise click.BadParameter(
                "python-dotenv must be installed to load an env file.", ctx=ctx, param=param
            ) from None
    ctx.meta["minping.env_file"] = value
    return value


def _app_path(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    ctx.meta["minping.app_import_path"] = value
    return value


def _debug(ctx: click.Context, param: click.Parameter, value: bool) -> bool | None:
    source = ctx.get_parameter_source(param.name or "debug")
    if source in (ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP):
        return None
    os.environ["FLASK_DEBUG"] = "1" if value else "0"  # read by the app factory
    return value


class MinpingGroup(click.Group):
    """A group that imports a command only when it is run or listed.

    Commands outside :data:`COMMANDS` are looked up as ``flask.cli.FlaskGroup``
    does: Flask's ``flask.commands`` entry points, then the app's ``app.cli``.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *EXTERNAL})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is not None:
            return load_command(target)
        return self._app_command(ctx, cmd_name)

    def _app_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        from importlib.metadata import entry_points

        for ep in entry_points(group="flask.commands"):
            if ep.name == cmd_name:
                command: click.Command = ep.load()
                return command
        try:
            app = _script_info(ctx).load_app()
        except Exception as exc:  # noqa: BLE001  (as FlaskGroup: report, list nothing)
            click.secho(f"Error: {exc}\n", err=True, fg="red")
            return None
        with app.app_context():
            found: click.Command | None = app.cli.get_command(ctx, cmd_name)
            return found

    #: set when an offline command runs (see :meth:`main`)
    leave_at_once = False
    #: run from the console script (a process of its own), not given arguments
    console_run = False

    def main(self, args: Any = None, *a: Any, **kw: Any) -> Any:
        """Run as click does; an offline command run from the console script exits at once.

        Its work is written and flushed by then, and tearing down the
        interpreter (SciPy's and NumPy's modules, the collector's last pass)
        cost the scorer about 0.1 s for nothing; the operating system frees
        the memory.  Runs given their arguments (tests, ``CliRunner``) return
        or raise as usual.
        """
        self.console_run = args is None
        try:
            return super().main(args, *a, **kw)
        except SystemExit as exc:
            if args is None and self.leave_at_once and isinstance(exc.code, int | None):
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(exc.code or 0)
            raise

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if name is not None and name not in OFFLINE:
            _script_info(ctx)  # app commands find the app through ctx.obj
        self.leave_at_once = name in OFFLINE
        return name, command, rest

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = []
        for name in names:
            if name in COMMANDS:
                command = load_command(COMMANDS[name])
                if command.hidden:
                    continue
                rows.append((name, command.get_short_help_str(limit)))
            else:
                rows.append(
                    (name, click.Command(name, help=EXTERNAL[name]).get_short_help_str(limit))
                )
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=MinpingGroup)
@click.option(
    "-e",
    "--env-file",
    type=click.Path(exists=True, dir_okay=False),
    help=(
        "Load environment variables from this file, taking precedence over"
        " those set by '.env' and '.flaskenv'. Variables set directly in the"
        " environment take highest precedence. python-dotenv must be installed."
    ),
    is_eager=True,
    expose_value=False,
    callback=_env_file,
)
@click.option(
    "-A",
    "--app",
    metavar="IMPORT",
    help=(
        "The Flask application or factory function to load, in the form 'module:name'."
        " Module can be a dotted import or file path. Name is not required if it is"
        " 'app', 'application', 'create_app', or 'make_app', and can be 'name(args)' to"
        " pass arguments."
    ),
    is_eager=True,
    expose_value=False,
    callback=_app_path,
)
@click.option("--debug/--no-debug", help="Set debug mode.", expose_value=False, callback=_debug)
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


def run_dev_server(app: Any, host: str, port: int) -> None:  # app: the current_app proxy
    """Serve with Werkzeug (``app.run`` refuses to run inside the flask CLI)."""
    from werkzeug.serving import run_simple

    from .queue import start_embedded_worker

    start_embedded_worker(app._get_current_object())
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
        "wave demo-open in fieldwork; second district 玄武区: "
        f"{summary.responses_second} responses in wave xuanwu-2026 (scored)."
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
@click.option("--district", default=None, help="District code or name: only its waves.")
@with_appcontext
def waves(district: str | None) -> None:
    """List waves per district: code, name, state, responses."""
    from sqlalchemy import select

    from .extensions import db
    from .models import District, Wave
    from .services.districts import find_district
    from .services.waves import STATE_NAMES, response_count

    query = select(Wave).join(District).order_by(District.id, Wave.created_at, Wave.id)
    if district:
        try:
            query = query.where(Wave.district_id == find_district(district).id)
        except LookupError as exc:
            raise click.ClickException(str(exc)) from None
    rows = db.session.scalars(query).all()
    if not rows:
        click.echo("no waves")
    heading = None
    for wave in rows:
        if wave.district_id != heading:
            heading = wave.district_id
            click.echo(f"{wave.district.name} ({wave.district.code})")
        click.echo(
            f"  {wave.code}\t{wave.name}\t{wave.state} ({STATE_NAMES[wave.state]})\t"
            f"{response_count(wave)}"
        )


def _os_user() -> str:
    """Who runs this command on the server, for the audit log."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def _wave(code: str) -> Wave:
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
        if exc.total > 200:
            click.echo(f"  ... and {exc.total - 200} more", err=True)
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
@click.option(
    "--district",
    default=None,
    help="District code or name the account works for; omit for every district (city level).",
)
@click.option("--password", default=None, help="Password (prompted if omitted).")
@click.argument("username")
@with_appcontext
def users_create(
    role: str, street: str | None, district: str | None, password: str | None, username: str
) -> None:
    """Create a staff account (scoped to one district with --district)."""
    from .extensions import db
    from .services.accounts import create_user
    from .services.districts import find_district, find_street

    district_row = None
    if district:
        try:
            district_row = find_district(district)
        except LookupError as exc:
            fail(str(exc))
    street_row = None
    if street:
        try:
            street_row = find_street(street, district_row)
        except LookupError as exc:
            fail(str(exc))
    if password is None:
        if not sys.stdin.isatty():
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        create_user(username, password, role, street_row, district_row)
    except ValueError as exc:
        db.session.rollback()
        fail(str(exc))
    db.session.commit()
    scope = district_row.name if district_row else (street_row.district.name if street_row else "")
    click.echo(f"created {role} account {username} ({scope or 'all districts'})")


def init_app(app: Flask) -> None:
    """Attach every minping command to ``app.cli`` (so tests and ``flask`` see them)."""
    for name, target in COMMANDS.items():
        app.cli.add_command(load_command(target), name)

    from .cli_db import install as guard_downgrade

    guard_downgrade(app)  # `db downgrade` lists what it drops and needs --yes
