"""Backup and restore the whole database as one portable zip archive.

The archive holds ``manifest.json`` and one ``tables/<name>.jsonl`` per table,
in foreign-key order: a first line with the column names, then one JSON array
per row, ordered by primary key.  Bytes (notice PDFs, evidence) are base64,
datetimes ISO 8601.  The manifest records the schema revision, the row count
and the sha256 of every table file.

A backup reads every table in one transaction (REPEATABLE READ, read only, on
PostgreSQL; one BEGIN on SQLite), so it is a consistent snapshot while the
site keeps taking answers.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Date, DateTime, LargeBinary, Table, inspect, select, text
from sqlalchemy.types import TypeEngine

from ..extensions import db

FORMAT = "minping-backup/1"
MANIFEST = "manifest.json"
BATCH = 1000


class BackupError(ValueError):
    """An archive that cannot be restored (damaged, foreign, or a non-empty target)."""


@dataclass(frozen=True, slots=True)
class TableEntry:
    name: str
    rows: int
    sha256: str
    columns: tuple[str, ...]

    @property
    def file(self) -> str:
        return f"tables/{self.name}.jsonl"


@dataclass(frozen=True, slots=True)
class Manifest:
    revision: str | None
    dialect: str
    created_at: str
    tables: tuple[TableEntry, ...]

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "revision": self.revision,
                "dialect": self.dialect,
                "created_at": self.created_at,
                "tables": [
                    {"name": t.name, "rows": t.rows, "sha256": t.sha256, "columns": t.columns}
                    for t in self.tables
                ],
            },
            ensure_ascii=False,
            indent=1,
        )

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        try:
            data = json.loads(raw)
            if data.get("format") != FORMAT:
                raise BackupError(f"not a minping backup (format {data.get('format')!r})")
            tables = tuple(
                TableEntry(t["name"], int(t["rows"]), t["sha256"], tuple(t["columns"]))
                for t in data["tables"]
            )
            return cls(data.get("revision"), data["dialect"], data["created_at"], tables)
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, BackupError):
                raise
            raise BackupError(f"damaged manifest: {exc}") from None

    @property
    def total_rows(self) -> int:
        return sum(t.rows for t in self.tables)


# -- values -----------------------------------------------------------------


def _encoder(kind: TypeEngine[Any]) -> Callable[[Any], Any]:
    if isinstance(kind, LargeBinary):
        return lambda v: None if v is None else base64.b64encode(bytes(v)).decode("ascii")
    if isinstance(kind, DateTime | Date):
        return lambda v: None if v is None else v.isoformat()
    return lambda v: v


def _decoder(kind: TypeEngine[Any]) -> Callable[[Any], Any]:
    if isinstance(kind, LargeBinary):
        return lambda v: None if v is None else base64.b64decode(v)
    if isinstance(kind, DateTime):
        return lambda v: None if v is None else datetime.fromisoformat(v)
    if isinstance(kind, Date):
        return lambda v: None if v is None else date.fromisoformat(v)
    return lambda v: v


def model_tables(conn: Connection) -> list[Table]:
    """Tables of the models that exist in the database, parents before children."""
    present = set(inspect(conn).get_table_names())
    return [t for t in db.metadata.sorted_tables if t.name in present]


def schema_revision(conn: Connection) -> str | None:
    if "alembic_version" not in inspect(conn).get_table_names():
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


# -- backup -----------------------------------------------------------------


def _table_lines(conn: Connection, table: Table) -> Iterator[bytes]:
    columns = list(table.columns)
    encoders = [_encoder(c.type) for c in columns]
    yield json.dumps([c.name for c in columns], ensure_ascii=False).encode() + b"\n"
    order = list(table.primary_key.columns) or columns
    result = conn.execution_options(yield_per=BATCH).execute(select(*columns).order_by(*order))
    for row in result:
        values = [enc(v) for enc, v in zip(encoders, row, strict=True)]
        yield json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def _snapshot_connection() -> Connection:
    """A connection inside one consistent read transaction."""
    engine = db.engine
    if engine.dialect.name == "postgresql":
        conn = engine.connect().execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        )
    else:
        conn = engine.connect()
    conn.begin()
    return conn


def create_backup(out: Path | io.BufferedIOBase) -> Manifest:
    """Write a consistent backup of every table to ``out`` (a path or a binary file).

    :returns: the manifest written into the archive.
    """
    entries: list[TableEntry] = []
    conn = _snapshot_connection()
    try:
        revision = schema_revision(conn)
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            for table in model_tables(conn):
                digest = hashlib.sha256()
                rows = -1  # the header line is not a row
                entry = TableEntry(table.name, 0, "", ())
                with zf.open(entry.file, "w", force_zip64=True) as fh:
                    for line in _table_lines(conn, table):
                        digest.update(line)
                        fh.write(line)
                        rows += 1
                names = tuple(c.name for c in table.columns)
                entries.append(TableEntry(table.name, rows, digest.hexdigest(), names))
            manifest = Manifest(
                revision=revision,
                dialect=db.engine.dialect.name,
                created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                tables=tuple(entries),
            )
            zf.writestr(MANIFEST, manifest.to_json())
    finally:
        conn.rollback()
        conn.close()
    return manifest


# -- restore ----------------------------------------------------------------


def read_manifest(archive: zipfile.ZipFile) -> Manifest:
    try:
        raw = archive.read(MANIFEST)
    except KeyError:
        raise BackupError("not a minping backup: no manifest.json") from None
    return Manifest.from_json(raw)


def verify(archive: zipfile.ZipFile, manifest: Manifest) -> None:
    """Check every table file against the manifest's sha256 and row count.

    :raises BackupError: a file is missing, damaged or has a different row count.
    """
    for entry in manifest.tables:
        digest = hashlib.sha256()
        lines = 0
        try:
            with archive.open(entry.file) as fh:
                for line in fh:
                    digest.update(line)
                    lines += 1
        except KeyError:
            raise BackupError(f"{entry.file}: missing from the archive") from None
        except (zipfile.BadZipFile, OSError) as exc:
            raise BackupError(f"{entry.file}: damaged ({exc})") from None
        if digest.hexdigest() != entry.sha256:
            raise BackupError(f"{entry.file}: sha256 does not match the manifest")
        if lines - 1 != entry.rows:
            raise BackupError(f"{entry.file}: {lines - 1} rows, manifest says {entry.rows}")


def row_counts(conn: Connection) -> dict[str, int]:
    from sqlalchemy import func

    return {
        t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
        for t in model_tables(conn)
    }


def _reset_sequences(conn: Connection, tables: list[Table]) -> None:
    """Move PostgreSQL id sequences past the restored ids."""
    for table in tables:
        for column in table.primary_key.columns:
            try:
                if column.type.python_type is not int:
                    continue
            except NotImplementedError:
                continue
            seq = conn.execute(
                text("SELECT pg_get_serial_sequence(:t, :c)"),
                {"t": f'"{table.name}"', "c": column.name},
            ).scalar()
            if seq:
                conn.execute(
                    text(
                        f'SELECT setval(:s, COALESCE((SELECT MAX("{column.name}") '
                        f'FROM "{table.name}"), 1), '
                        f'(SELECT MAX("{column.name}") FROM "{table.name}") IS NOT NULL)'
                    ),
                    {"s": seq},
                )


def restore_backup(source: Path | io.BufferedIOBase, *, force: bool = False) -> Manifest:
    """Load a backup into this database, all or nothing.

    Verifies every sha256 first, brings the schema to the backup's revision
    (Alembic), refuses a database that holds rows unless ``force`` (then it is
    emptied in the same transaction), inserts every table in foreign-key order,
    resets PostgreSQL sequences, commits, and finally upgrades to the newest
    schema revision.

    :raises BackupError: damaged or foreign archive, unknown tables or columns,
        or a non-empty database without ``force``.
    """
    from flask_migrate import upgrade

    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BackupError(f"not a zip archive: {exc}") from None
    with archive:
        manifest = read_manifest(archive)
        verify(archive, manifest)
        db.session.remove()
        engine = db.engine
        with engine.connect() as conn:
            current = schema_revision(conn)
        if current is None:
            upgrade(revision=manifest.revision or "head")
        elif manifest.revision and current != manifest.revision:
            raise BackupError(
                f"the backup has schema revision {manifest.revision}, this database "
                f"{current}: restore into an empty database"
            )
        with engine.begin() as conn:
            tables = {t.name: t for t in model_tables(conn)}
            for entry in manifest.tables:
                table = tables.get(entry.name)
                if table is None:
                    raise BackupError(f"table {entry.name} does not exist in this database")
                unknown = set(entry.columns) - set(table.columns.keys())
                if unknown:
                    raise BackupError(f"{entry.name}: unknown columns {', '.join(sorted(unknown))}")
            filled = {name: n for name, n in row_counts(conn).items() if n}
            if filled and not force:
                raise BackupError(
                    "the database is not empty ("
                    + ", ".join(f"{k}: {v}" for k, v in sorted(filled.items())[:5])
                    + "); restore into an empty database or use --force to replace its contents"
                )
            for table in reversed(list(tables.values())):
                if filled.get(table.name):
                    conn.execute(table.delete())
            for entry in manifest.tables:
                _load_table(conn, archive, entry, tables[entry.name])
            if engine.dialect.name == "postgresql":
                _reset_sequences(conn, list(tables.values()))
    db.session.remove()
    upgrade()
    return manifest


def _load_table(
    conn: Connection, archive: zipfile.ZipFile, entry: TableEntry, table: Table
) -> None:
    decoders = [_decoder(table.columns[name].type) for name in entry.columns]
    with archive.open(entry.file) as fh:
        lines = iter(fh)
        header = json.loads(next(lines))
        if tuple(header) != entry.columns:
            raise BackupError(f"{entry.file}: header does not match the manifest")
        batch: list[dict[str, object]] = []
        for line in lines:
            values = json.loads(line)
            batch.append(
                {name: dec(v) for name, dec, v in zip(entry.columns, decoders, values, strict=True)}
            )
            if len(batch) >= BATCH:
                conn.execute(table.insert(), batch)
                batch = []
        if batch:
            conn.execute(table.insert(), batch)
