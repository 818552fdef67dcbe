"""Backup and restore: a round trip gives identical rows, bytes and sequences."""

from __future__ import annotations

import hashlib
import io
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from scoring.exchange import DK, ResponseRecord
from scoring.framework import load_default_framework
from survey import create_app
from survey.config import TestConfig
from survey.extensions import db
from survey.services.backup import BackupError, create_backup, restore_backup

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"


@contextmanager
def another_database(scratch_database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second empty database of the same kind as ``scratch_database_url``."""
    if not scratch_database_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'restored.sqlite'}"
        return
    name = f"minping_restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(scratch_database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield (
            make_url(scratch_database_url).set(database=name).render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def app_on(url: str):  # type: ignore[no-untyped-def]
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url

    application = create_app(Config)
    try:
        with application.app_context():
            yield application
    finally:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


def fill(n_responses: int = 30) -> None:
    """Create a district, a wave with invitations and responses, a user and a notice PDF."""
    from survey.models import Notice
    from survey.services.accounts import create_user
    from survey.services.districts import create_district
    from survey.services.frameworks import save_framework
    from survey.services.invitations import create_batch
    from survey.services.responses import insert_records
    from survey.services.waves import create_wave, transition

    spec = load_default_framework()
    district = create_district("bk", "备份区", [("B1", "甲路", ["甲社区"]), ("B2", "乙路", [])])
    wave = create_wave(district, save_framework(spec), "bk1", "备份测试")
    transition(wave, "open")
    create_batch(wave, district.streets[0], "adult", 5)
    records = [
        ResponseRecord(
            response_id=f"r{i:03d}",
            street=district.streets[i % 2].name,
            group="adult",
            submitted_at=datetime(2026, 3, 1, 8, i % 60, 7),
            channel="paper",
            weight=1.0 + i / 7,
            answers={
                c: (DK if (i + k) % 9 == 0 else 1 + (i + k) % 5)
                for k, c in enumerate(spec.indicator_codes)
            },
            concerns=("I04", "I07"),
            overall=4,
            comment=f'意见 {i} "引号" \\ 换行\n第二行',
        )
        for i in range(n_responses)
    ]
    insert_records(wave, records)
    user = create_user("bk-admin", "Backup-Test-2026", "admin")
    db.session.flush()
    db.session.add(
        Notice(
            wave_id=wave.id,
            street_id=district.streets[0].id,
            doc_number="备整〔2026〕1号",
            title="关于整改的通知",
            issue_date=date(2026, 3, 31),
            deadline=date(2026, 5, 15),
            pdf=PDF,
            sha256=hashlib.sha256(PDF).hexdigest(),
            issued_by_id=user.id,
        )
    )
    db.session.commit()


def digests(manifest) -> dict[str, tuple[int, str]]:  # type: ignore[no-untyped-def]
    return {t.name: (t.rows, t.sha256) for t in manifest.tables}


def test_round_trip_keeps_every_row_byte_and_sequence(scratch_database_url, tmp_path):
    from survey.models import Answer, District, Notice, Response

    archive = tmp_path / "minping.zip"
    with app_on(scratch_database_url):
        upgrade()
        fill()
        original = create_backup(archive)
    counts = {t.name: t.rows for t in original.tables}
    assert counts["response"] == 30 and counts["answer"] == 30 * 17 and counts["notice"] == 1
    assert original.revision is not None

    with another_database(scratch_database_url, tmp_path) as url, app_on(url):
        restored = restore_backup(archive)
        assert digests(restored) == digests(original)
        again = create_backup(tmp_path / "again.zip")
        assert digests(again) == digests(original)  # identical content, table by table
        notice = db.session.scalar(select(Notice))
        assert notice.pdf == PDF and hashlib.sha256(notice.pdf).hexdigest() == notice.sha256
        assert db.session.scalar(select(func.count(Answer.id))) == 510
        comments = {r.comment for r in db.session.scalars(select(Response))}
        assert '意见 3 "引号" \\ 换行\n第二行' in comments
        # Sequences moved past the restored ids: new rows get fresh keys.
        top = db.session.scalar(select(func.max(District.id)))
        db.session.add(District(code="new", name="新区"))
        db.session.commit()
        assert db.session.scalar(select(func.max(District.id))) == top + 1

        with pytest.raises(BackupError, match="not empty"):
            restore_backup(archive)
        replaced = restore_backup(archive, force=True)
        assert digests(replaced) == digests(original)
        assert db.session.scalar(select(func.count(District.id))) == 1


def test_damaged_archive_is_refused_before_anything_is_written(scratch_database_url, tmp_path):
    archive = tmp_path / "minping.zip"
    with app_on(scratch_database_url):
        upgrade()
        fill(5)
        create_backup(archive)
    damaged = tmp_path / "damaged.zip"
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(damaged, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "tables/response.jsonl":
                data = data.replace(b"paper", b"phone", 1)
            dst.writestr(item, data)
    with another_database(scratch_database_url, tmp_path) as url, app_on(url):
        with pytest.raises(BackupError, match="sha256"):
            restore_backup(damaged)
        with pytest.raises(BackupError, match="not a zip"):
            restore_backup(io.BytesIO(b"not a zip at all"))
        tables = db.session.execute(
            text("SELECT count(*) FROM information_schema.tables WHERE table_name = 'response'")
            if url.startswith("postgresql")
            else text("SELECT count(*) FROM sqlite_master WHERE name = 'response'")
        ).scalar()
        assert tables == 0  # not even migrated


def test_backup_and_restore_commands(scratch_database_url, tmp_path):
    archive = tmp_path / "out" / "minping.zip"
    with app_on(scratch_database_url) as application:
        upgrade()
        fill(3)
        result = application.test_cli_runner().invoke(args=["backup", "--out", str(archive)])
        assert result.exit_code == 0, result.output
        assert "rows" in result.output and archive.exists()
        assert not archive.with_name("minping.zip.partial").exists()
        refused = application.test_cli_runner().invoke(args=["restore", str(archive)])
        assert refused.exit_code == 1 and "not empty" in refused.output
    with another_database(scratch_database_url, tmp_path) as url, app_on(url) as application:
        result = application.test_cli_runner().invoke(args=["restore", str(archive)])
        assert result.exit_code == 0, result.output
        assert result.output.startswith("restored ")
