"""Framework versions in the database.

A framework is stored as its canonical TOML (the source of truth) plus a row
per respondent group (which population margins join on).  A version used by a
wave is frozen; importing or editing a frozen framework creates the next
version instead of changing it.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import func, select

from scoring.framework import Framework as FrameworkSpec
from scoring.framework import dump_framework, parse_framework

from ..extensions import db
from ..models import Framework, RespondentGroup
from .audit import record


def save_framework(spec: FrameworkSpec, user_id: int | None = None) -> Framework:
    """Store ``spec``; reuse an identical version, never modify a frozen one.

    Adds rows to the session (not committed).  If a stored, unfrozen version
    with the same code and version number exists, it is replaced in place;
    if that version is frozen, the spec is stored as the next version number.
    """
    text = dump_framework(spec)
    same = db.session.scalar(
        select(Framework).where(Framework.code == spec.code, Framework.sha256 == spec.sha256)
    )
    if same is not None:
        return same
    existing = db.session.scalar(
        select(Framework).where(Framework.code == spec.code, Framework.version == spec.version)
    )
    if existing is not None and not existing.frozen:
        db.session.delete(existing)
        db.session.flush()
    elif existing is not None:
        latest = db.session.scalar(
            select(func.max(Framework.version)).where(Framework.code == spec.code)
        )
        spec = parse_framework(
            text.replace(f"version = {spec.version}", f"version = {(latest or 0) + 1}", 1)
        )
        text = dump_framework(spec)
    row = Framework(
        code=spec.code,
        version=spec.version,
        name=spec.name,
        toml=text,
        sha256=spec.sha256,
    )
    for pos, g in enumerate(spec.groups):
        row.groups.append(
            RespondentGroup(
                code=g.code, name=g.name, name_en=g.name_en, share=g.share, position=pos
            )
        )
    db.session.add(row)
    db.session.flush()
    record(
        "framework.save",
        row,
        user_id=user_id,
        after={"code": row.code, "version": row.version, "sha256": row.sha256},
    )
    return row


def spec_of(framework: Framework) -> FrameworkSpec:
    """Return the pure framework (``scoring.framework.Framework``) of a stored version."""
    return _parse_cached(framework.toml)


@lru_cache(maxsize=32)
def _parse_cached(text: str) -> FrameworkSpec:
    return parse_framework(text, source="stored framework")
