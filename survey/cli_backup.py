"""``minping backup --out FILE`` and ``minping restore FILE [--force]``."""

from __future__ import annotations

import time
from pathlib import Path

import click

from .cli_context import with_appcontext


@click.command("backup")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Archive to write (.zip).",
)
@with_appcontext
def backup(out: Path) -> None:
    """Write a consistent copy of the whole database to a zip archive."""
    from .services.backup import create_backup

    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    started = time.perf_counter()
    try:
        manifest = create_backup(partial)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(out)  # never leave a half-written archive under the real name
    click.echo(
        f"wrote {out}: {len(manifest.tables)} tables, {manifest.total_rows} rows, "
        f"{out.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s "
        f"(schema {manifest.revision})"
    )


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace the contents of a non-empty database.")
@with_appcontext
def restore(file: Path, force: bool) -> None:
    """Restore a backup archive into an empty database (sha256s checked first)."""
    from .services.backup import BackupError, restore_backup

    if not file.exists():
        raise click.ClickException(f"{file}: no such file")
    started = time.perf_counter()
    try:
        manifest = restore_backup(file, force=force)
    except BackupError as exc:
        raise click.ClickException(f"{file.name}: {exc}; nothing restored") from None
    click.echo(
        f"restored {file}: {len(manifest.tables)} tables, {manifest.total_rows} rows "
        f"in {time.perf_counter() - started:.1f} s"
    )
