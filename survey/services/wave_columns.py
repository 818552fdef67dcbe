"""A wave's responses as columns, straight from the database, for scoring.

Two queries (the responses, then their answers) fill NumPy columns in the
shape the offline scorer reads a file into (:class:`scoring.ingest.Table`), so
the console and ``minping score`` share everything after reading:

* the engine's arrays come from :func:`scoring.dataset.from_table`;
* the run's ``data_sha256`` is the sha256 of
  :func:`scoring.exchange.write_csv_table`, byte for byte the CSV that
  ``minping export-responses --included-only`` writes (no records are built);
* the with/without-flagged comparison takes row subsets of the same columns
  instead of loading the wave again.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt
from sqlalchemy import Select, select

from scoring.dataset import ResponseData, from_table
from scoring.exchange import write_csv_table
from scoring.framework import Framework
from scoring.ingest import DEMOGRAPHICS, Table

from ..extensions import db
from ..models import DK_POINT, Answer, Response, Street, Wave
from ..models.response import REVIEW_PREFIX
from .frameworks import spec_of
from .responses import exchange_columns

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True, eq=False)
class WaveColumns:
    """Every response of a wave as columns, in ``Response.id`` order.

    Attributes
    ----------
    table : Table
        The responses (weights as stored; :meth:`scored_table` applies the
        wave's weighting setting).
    excluded : (n,) bool array
        Excluded from scoring (quality rule or reviewer).
    open_channel : (n,) bool array
        Came in through the open (poster) channel.
    flagged : (n,) bool array
        Carries quality flags no reviewer has decided on.
    """

    table: Table
    excluded: BoolArray
    open_channel: BoolArray
    flagged: BoolArray


def load_wave_columns(wave: Wave, framework: Framework) -> WaveColumns:
    """Read ``wave``'s responses and answers into :class:`WaveColumns` (two queries)."""
    rows = db.session.execute(
        select(
            *exchange_columns(),
            Response.excluded,
            Response.quality_flags != "",
            Response.exclusion_reason,
        )
        .join(Street, Street.id == Response.street_id)
        .where(Response.wave_id == wave.id)
        .order_by(Response.id)
    ).all()
    n = len(rows)
    cols = list(zip(*rows, strict=True)) if rows else [()] * 16
    (pk, public_id, street, group, submitted, channel, weight, concerns, overall, comment) = cols[
        :10
    ]
    demographic = dict(zip(DEMOGRAPHICS, cols[10:13], strict=True))
    excluded, has_flags, reason = cols[13:16]
    codes = framework.indicator_codes
    J = len(codes)
    index_of = np.asarray(pk, dtype=np.int64)
    points = np.zeros((n, J), dtype=np.int64)
    dont_know = np.zeros((n, J), dtype=bool)
    position = {c: j for j, c in enumerate(codes)}
    fetched = _driver_rows(
        select(Answer.response_id, Answer.indicator_code, Answer.point)
        .join(Response, Response.id == Answer.response_id)
        .where(Response.wave_id == wave.id)
    )
    answers = np.array(
        [(r, position.get(c, -1), p) for r, c, p in fetched], dtype=np.int64
    ).reshape(-1, 3)
    answers = answers[answers[:, 1] >= 0]
    row = np.searchsorted(index_of, answers[:, 0])
    j = answers[:, 1]
    dk = answers[:, 2] == DK_POINT
    points[row[~dk], j[~dk]] = answers[~dk, 2]
    dont_know[row[dk], j[dk]] = True
    group_index = {g: i for i, g in enumerate(framework.group_codes)}
    street_i, street_values = _factor(street)
    submitted_i, submitted_values = _factor([_second(d) for d in submitted])
    channel_i, channel_values = _factor(channel)
    concern_i, concern_text = _factor(concerns)
    concern_values = [tuple(c for c in text.split(";") if c) for text in concern_text]
    concern_mask = np.zeros((len(concern_values), J), dtype=bool)
    for k, found in enumerate(concern_values):
        for code in found:
            concern_mask[k, position[code]] = True
    comment_i, comment_values = _factor([c or "" for c in comment])
    table = Table(
        lines=np.arange(2, n + 2, dtype=np.int64),
        rid=np.arange(n, dtype=np.int64),
        rid_values=list(public_id),
        street=street_i,
        street_values=street_values,
        group=np.array([group_index[g] for g in group], dtype=np.int64),
        submitted=submitted_i,
        submitted_values=submitted_values,
        channel=channel_i,
        channel_values=channel_values,
        weight=np.array(weight, dtype=np.float64),
        points=points,
        dont_know=dont_know,
        concerns=concern_mask[concern_i],
        concern_order=concern_i,
        concern_values=concern_values,
        overall=np.array([v or 0 for v in overall], dtype=np.int64),
        comment=comment_i,
        comment_values=comment_values,
        demographics={
            name: _factor([v or "" for v in values]) for name, values in demographic.items()
        },
    )
    return WaveColumns(
        table=table,
        excluded=np.array(excluded, dtype=bool),
        open_channel=np.array([c == "open" for c in channel], dtype=bool),
        flagged=np.array(
            [f and not r.startswith(REVIEW_PREFIX) for f, r in zip(has_flags, reason, strict=True)],
            dtype=bool,
        ),
    )


def included_rows(wave: Wave, columns: WaveColumns) -> IntArray:
    """Rows scored: not excluded, and not from the open channel when the wave leaves it out."""
    keep = ~columns.excluded
    if not wave.include_open_channel:
        keep &= ~columns.open_channel
    return np.flatnonzero(keep).astype(np.int64)


def scored_table(wave: Wave, table: Table) -> Table:
    """``table`` with the wave's weighting setting applied (``unweighted``: every weight 1)."""
    if wave.weighting == "unweighted":
        return dataclasses.replace(table, weight=np.ones_like(table.weight))
    return table


def response_data(table: Table, framework: Framework) -> ResponseData:
    """The engine's arrays for ``table``.

    Raking codes are left out when no response gives an age band or a gender,
    as :func:`scoring.dataset.from_records` does, so the result does not depend
    on whether the responses came from records or from columns.
    """
    data = from_table(table, framework)
    given = False
    for name in ("age_band", "gender"):
        if name in table.demographics:
            index, values = table.demographics[name]
            given |= bool(np.any(np.asarray(values, dtype=object)[index] != ""))
    if not given:
        return dataclasses.replace(data, age_band=None, gender=None)
    return data


def scored_data_sha256(wave: Wave, columns: WaveColumns | None = None) -> str:
    """``data_sha256`` of the responses a scoring of ``wave`` reads now.

    The sha256 of the CSV ``minping export-responses --included-only`` writes
    (the file the offline scorer reproduces the run from), with every weight 1
    in an ``unweighted`` wave, as scored.
    """
    framework = spec_of(wave.framework)
    if columns is None:
        columns = load_wave_columns(wave, framework)
    return data_sha256(
        scored_table(wave, columns.table.take(included_rows(wave, columns))), framework
    )


def data_sha256(table: Table, framework: Framework) -> str:
    """sha256 of ``table`` written as the exchange CSV (:func:`scoring.exchange.write_csv`)."""
    return hashlib.sha256(write_csv_table(table, framework)).hexdigest()


def _driver_rows(statement: Select) -> list[tuple]:  # type: ignore[type-arg]
    """Rows of ``statement`` as the database driver returns them (plain tuples).

    For the answers (tens of thousands of integer and short-text rows), where
    building SQLAlchemy row objects would cost more than the query; only for
    columns the driver already returns as the wanted Python types.
    """
    connection = db.session.connection()
    compiled = statement.compile(dialect=connection.dialect)
    params = compiled.construct_params()
    args = tuple(params[k] for k in compiled.positiontup or ()) if compiled.positional else params
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(compiled), args)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _factor(values: Sequence[object]) -> tuple[IntArray, list]:  # type: ignore[type-arg]
    """Per-row index into the distinct values (first-seen order), and those values."""
    seen: dict[object, int] = {}
    index = np.fromiter((seen.setdefault(v, len(seen)) for v in values), np.int64, len(values))
    return index, list(seen)


def _second(value: datetime | None) -> datetime | None:
    return value.replace(microsecond=0) if value is not None else None
