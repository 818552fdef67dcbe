"""``minping db downgrade`` that says what it will drop and refuses without ``--yes``.

Flask-Migrate's own ``db downgrade`` reverts migrations at once, dropping
tables full of answers without a question.  This replacement works out what
the target revision's schema lacks (by building it in a scratch SQLite
database) and lists the tables, with their row counts, and the columns that
would go.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import Connection, Engine, func, inspect, select, table

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory
    from flask import Flask


@dataclass
class DowngradePlan:
    current: str | None
    target: str | None
    tables: list[tuple[str, int]] = field(default_factory=list)  # (name, rows)
    columns: list[tuple[str, str]] = field(default_factory=list)  # (table, column)

    def describe(self) -> str:
        lines = [f"downgrade {self.current or 'base'} -> {self.target or 'base'} would drop:"]
        for name, rows in self.tables:
            lines.append(f"  table {name} ({rows} rows)")
        for name, column in self.columns:
            lines.append(f"  column {name}.{column}")
        if len(lines) == 1:
            lines.append("  no table or column (constraints and indexes only)")
        return "\n".join(lines)


def _schema(engine: Engine | Connection) -> dict[str, set[str]]:
    inspector = inspect(engine)
    return {
        name: {c["name"] for c in inspector.get_columns(name)}
        for name in inspector.get_table_names()
        if name != "alembic_version"
    }


def _target(script: ScriptDirectory, current: str | None, revision: str) -> str | None:
    if revision == "base":
        return None
    if revision.startswith("-") and revision[1:].isdigit():
        target = current
        for _ in range(int(revision[1:])):
            if target is None:
                raise click.ClickException(f"cannot go {revision} from {current or 'base'}")
            down = script.get_revision(target).down_revision
            target = down if isinstance(down, str) or down is None else down[0]
        return target
    found = script.get_revision(revision)
    if found is None:
        raise click.ClickException(f"unknown revision {revision!r}")
    return str(found.revision)


def downgrade_plan(revision: str) -> DowngradePlan:
    """What ``downgrade revision`` would remove from the current database."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from flask_migrate import upgrade

    from . import create_app
    from .config import Config
    from .extensions import db

    config = current_app.extensions["migrate"].migrate.get_config()
    script = ScriptDirectory.from_config(config)
    with db.engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    target = _target(script, current, revision)
    now = _schema(db.engine)
    after: dict[str, set[str]] = {}
    if target is not None:
        with tempfile.TemporaryDirectory() as tmp:

            class Scratch(Config):
                SQLALCHEMY_DATABASE_URI = f"sqlite:///{Path(tmp) / 'plan.sqlite'}"
                TESTING = True

            scratch = create_app(Scratch)
            with scratch.app_context():
                upgrade(revision=target)
                after = _schema(db.engine)
                db.engine.dispose()
    plan = DowngradePlan(current, target)
    with db.engine.connect() as conn:
        for name in sorted(set(now) - set(after)):
            rows = conn.execute(select(func.count()).select_from(table(name))).scalar_one()
            plan.tables.append((name, int(rows)))
    for name in sorted(set(now) & set(after)):
        plan.columns.extend((name, column) for column in sorted(now[name] - after[name]))
    return plan


@click.command("downgrade")
@click.option("-d", "--directory", default=None, help="Migration script directory.")
@click.option("--sql", is_flag=True, help="Print the SQL instead of running it (drops nothing).")
@click.option("--tag", default=None, help='Arbitrary "tag" name for env.py.')
@click.option("-x", "--x-arg", multiple=True, help="Additional arguments for env.py.")
@click.option("--yes", is_flag=True, help="Really drop what is listed.")
@click.argument("revision", default="-1")
@with_appcontext
def downgrade(
    directory: str | None,
    sql: bool,
    tag: str | None,
    x_arg: tuple[str, ...],
    yes: bool,
    revision: str,
) -> None:
    """Revert migrations (to REVISION, default -1); lists what it drops, needs --yes."""
    from flask_migrate import downgrade as run_downgrade

    if sql:
        run_downgrade(directory, revision, sql, tag, x_arg)
        return
    plan = downgrade_plan(revision)
    if plan.current == plan.target:
        click.echo(f"already at {plan.current or 'base'}: nothing to downgrade")
        return
    click.echo(plan.describe(), err=True)
    if not yes:
        dropped = sum(rows for _name, rows in plan.tables)
        raise click.ClickException(
            f"refusing to downgrade without --yes: {len(plan.tables)} tables ({dropped} rows) "
            f"and {len(plan.columns)} columns would be dropped; take a backup first "
            "(minping backup --out FILE.zip)"
        )
    run_downgrade(directory, revision, sql, tag, x_arg)
    click.echo(f"downgraded to {plan.target or 'base'}")


def install(app: Flask) -> None:
    """Replace Flask-Migrate's ``db downgrade`` with the guarded one."""
    group = app.cli.commands.get("db")
    if group is not None and hasattr(group, "add_command"):
        group.add_command(downgrade, "downgrade")
