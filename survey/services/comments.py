"""Residents' comments on indicators: the one query every page and document reads them with.

Which comments count is decided here once: the comments written on answers of
``wave`` in ``street``, from responses that are not excluded (the responses the
scores are computed from), and only non-empty ones.  Identities never come
along: a caller chooses columns of :class:`~survey.models.Answer` and
:class:`~survey.models.Response` (indicator, group, point, ids for ordering),
then adds its own ordering, filters and paging.

Used by the results page (``results.comments``), the notice (``notices.street_comments``)
and the public pages and 整改公示 (``publication.resident_comments`` and its quotes).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import InstrumentedAttribute

from ..models import Answer, Response, Street, Wave


def comment_rows(
    wave: Wave,
    street: Street,
    *columns: InstrumentedAttribute[Any],
    indicators: Sequence[str] | None = None,
) -> Select[*tuple[Any, ...]]:
    """Select ``columns`` of the residents' comments on ``street``'s answers in ``wave``.

    :param columns: the columns to select (e.g. ``Answer.indicator_code, Answer.comment``).
    :param indicators: only comments on these indicator codes (all indicators if None).
    """
    query = (
        select(*columns)
        .select_from(Answer)
        .join(Response, Response.id == Answer.response_id)
        .where(
            Response.wave_id == wave.id,
            Response.street_id == street.id,
            Response.excluded.is_(False),
            Answer.comment != "",
        )
    )
    if indicators is not None:
        query = query.where(Answer.indicator_code.in_(list(indicators)))
    return query
