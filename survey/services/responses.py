"""Responses in and out: import (all or nothing), export, and records for scoring."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from scoring.exchange import DK, ExchangeError, ResponseRecord, read_responses

from ..extensions import db
from ..models import DK_POINT, Answer, Response, Street, Wave
from ..questions import ABOUT_YOU
from .frameworks import spec_of
from .provenance import check_provenance


def street_lookup(wave: Wave) -> dict[str, str]:
    """Map every accepted street name and code (with or without 街道) to its name."""
    out: dict[str, str] = {}
    for s in wave.district.streets:
        for key in (s.name, s.code, s.full_name):
            out[key] = s.name
    return out


def parse_file(wave: Wave, data: bytes, filename: str = "") -> list[ResponseRecord]:
    """Validate a CSV/XLSX file against the wave's framework and streets.

    Files with more rows than ``IMPORT_MAX_ROWS`` (setting) are refused.

    :raises ExchangeError: with every problem, as ``line N, column C (NAME): reason``
        (the first 200 as text, all counted in ``total``).
    """
    from flask import current_app

    fmt = "xlsx" if filename.lower().endswith(".xlsx") or data[:2] == b"PK" else "csv"
    return read_responses(
        data,
        spec_of(wave.framework),
        streets=street_lookup(wave),
        fmt=fmt,
        max_rows=current_app.config.get("IMPORT_MAX_ROWS", 200_000),
    )


def import_records(
    wave: Wave,
    records: Sequence[ResponseRecord],
    *,
    interviewer_id: int | None = None,
    require_state: Iterable[str] = ("fieldwork",),
    path: str = "admin",
    import_sha256: str | None = None,
) -> int:
    """Insert ``records`` into ``wave`` in one transaction; all or nothing.

    :param path: the entry path (``api``, ``agency`` or ``admin``) whose rules
        (:mod:`survey.services.provenance`) the records must meet.
    :param import_sha256: digest of the imported file, kept on every response.

    Commits on success.  :raises ExchangeError: if the wave does not accept
    data, a record breaks its entry path's rules or a ``response_id`` already
    exists in the wave; nothing is written.
    """
    if wave.state not in tuple(require_state):
        raise ExchangeError(
            [f"wave {wave.code} is '{wave.state}': responses can be added only during fieldwork"]
        )
    records = check_provenance(wave, records, path=path)
    ids = [r.response_id for r in records]
    taken: set[str] = set()
    for chunk in range(0, len(ids), 500):
        taken.update(
            db.session.scalars(
                select(Response.public_id).where(
                    Response.wave_id == wave.id, Response.public_id.in_(ids[chunk : chunk + 500])
                )
            )
        )
    if taken:
        raise ExchangeError(
            [
                f"line {n}: response_id '{rid}' is already in wave {wave.code}"
                for n, rid in enumerate(ids, start=2)
                if rid in taken
            ]
        )
    try:
        insert_records(wave, records, interviewer_id=interviewer_id, import_sha256=import_sha256)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return len(records)


def insert_records(
    wave: Wave,
    records: Sequence[ResponseRecord],
    *,
    interviewer_id: int | None = None,
    import_sha256: str | None = None,
    extra: Sequence[dict[str, Any]] | None = None,
    answer_comments: Sequence[dict[str, str]] | None = None,
) -> list[int]:
    """Bulk-insert responses and their answers (not committed); return the new ids.

    :param extra: optional per-record column values (community_id, paradata, flags).
    :param answer_comments: optional per-record map indicator code -> comment.
    """
    if not records:
        return []
    street_ids = {s.name: s.id for s in wave.district.streets}
    rows = []
    for n, rec in enumerate(records):
        row = {
            "public_id": rec.response_id,
            "wave_id": wave.id,
            "street_id": street_ids[rec.street],
            "group_code": rec.group,
            "channel": rec.channel,
            "weight": rec.weight,
            "submitted_at": rec.submitted_at,
            "overall": rec.overall,
            "concerns": ";".join(rec.concerns),
            "comment": rec.comment,
            **{q.column: getattr(rec, q.code) for q in ABOUT_YOU},
            "interviewer_id": interviewer_id,
            "import_sha256": import_sha256,
        }
        if extra is not None:
            row.update(extra[n])
        rows.append(row)
    new_ids: list[int] = []
    for start in range(0, len(rows), 2000):
        result = db.session.execute(
            insert(Response).returning(Response.id, sort_by_parameter_order=True),
            rows[start : start + 2000],
        )
        new_ids.extend(result.scalars().all())
    answers = []
    for n, (rid, rec) in enumerate(zip(new_ids, records, strict=True)):
        notes = answer_comments[n] if answer_comments is not None else {}
        for code, value in rec.answers.items():
            if value is None:
                continue
            answers.append(
                {
                    "response_id": rid,
                    "indicator_code": code,
                    "point": DK_POINT if value == DK else int(value),
                    "comment": notes.get(code, ""),
                }
            )
    for start in range(0, len(answers), 10000):
        db.session.execute(insert(Answer), answers[start : start + 10000])
    return new_ids


def exchange_columns() -> tuple[Any, ...]:
    """The columns of a response as the exchange format writes it, in its order.

    One list for the record reader (:func:`wave_records`) and the columnar one
    (:mod:`survey.services.wave_columns`); the query must join :class:`Street`.
    """
    return (
        Response.id,
        Response.public_id,
        Street.name,
        Response.group_code,
        Response.submitted_at,
        Response.channel,
        Response.weight,
        Response.concerns,
        Response.overall,
        Response.comment,
        *(getattr(Response, q.column) for q in ABOUT_YOU),
    )


def wave_records(wave: Wave, *, included_only: bool = False) -> list[ResponseRecord]:
    """Return the wave's responses as exchange records, in insertion order.

    :param included_only: leave out responses excluded from scoring (quality
        flags, open channel when the wave excludes it).
    """
    spec = spec_of(wave.framework)
    query = (
        select(*exchange_columns())
        .join(Street, Street.id == Response.street_id)
        .where(Response.wave_id == wave.id)
    )
    if included_only:
        query = query.where(Response.excluded.is_(False))
        if not wave.include_open_channel:
            query = query.where(Response.channel != "open")
    rows = db.session.execute(query.order_by(Response.id)).all()
    answers: dict[int, dict[str, int | str | None]] = defaultdict(dict)
    answer_rows = db.session.execute(
        select(Answer.response_id, Answer.indicator_code, Answer.point)
        .join(Response, Response.id == Answer.response_id)
        .where(Response.wave_id == wave.id)
    )
    for rid, code, point in answer_rows:
        answers[rid][code] = DK if point == DK_POINT else int(point)
    codes = spec.indicator_codes
    out = []
    for (
        rid,
        public_id,
        street,
        group,
        submitted,
        channel,
        weight,
        concerns,
        overall,
        comment,
        *about_you,
    ) in rows:
        given = answers.get(rid, {})
        out.append(
            ResponseRecord(
                response_id=public_id,
                street=street,
                group=group,
                submitted_at=_second(submitted),
                channel=channel,
                weight=float(weight),
                answers={c: given.get(c) for c in codes},
                concerns=tuple(c for c in concerns.split(";") if c),
                overall=overall,
                comment=comment or "",
                **{q.code: value for q, value in zip(ABOUT_YOU, about_you, strict=True)},
            )
        )
    return out


def _second(value: datetime | None) -> datetime | None:
    return value.replace(microsecond=0) if value is not None else None
