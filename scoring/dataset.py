"""Responses as plain arrays: the one input shape of every estimator.

``ResponseData`` holds n respondents x J indicators.  Streets and groups are
integer indices into ``streets`` and ``groups``; answers are the *scale scores*
(e.g. 0..100) with NaN where the respondent did not answer (不了解, skipped or
not asked), and separate masks say which of those was 不了解.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from .exchange import DK, ResponseRecord
from .framework import Framework
from .ingest import Table
from .population import AGE_BANDS, GENDERS
from .raking import category_codes

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True, eq=False)
class ResponseData:
    """Answers of n respondents to J indicators, ready for estimation.

    Attributes
    ----------
    streets : tuple of str
        Street labels; ``street[r]`` indexes it.
    groups : tuple of str
        Group codes in framework order; ``group[r]`` indexes it.
    indicators : tuple of str
        Indicator codes in framework order (columns of ``values``).
    street, group : (n,) int arrays
    weight : (n,) float array, positive
    points : (n, J) int array
        Scale point 1..K, 0 where not answered (DK, skipped, not asked).
    values : (n, J) float array
        Score of the answer on the framework's scale, NaN where ``points == 0``.
    dont_know : (n, J) bool array
        True where the answer was 不了解.
    asked : (n, J) bool array
        True where the indicator is asked of the respondent's group.
    concerns : (n, J) bool array
        True where the respondent named the indicator among the top-3 concerns.
    overall : (n,) float array
        Score of the overall-satisfaction answer, NaN where missing.
    age_band, gender : (n,) int arrays, optional
        Raking codes (:func:`scoring.raking.category_codes`): the index of the
        answer in ``AGE_BANDS`` / ``("female", "male")``, the last code for a
        missing or undisclosed answer; None when the responses carry none.
    """

    streets: tuple[str, ...]
    groups: tuple[str, ...]
    indicators: tuple[str, ...]
    street: IntArray
    group: IntArray
    weight: FloatArray
    points: IntArray
    values: FloatArray
    dont_know: BoolArray
    asked: BoolArray
    concerns: BoolArray
    overall: FloatArray
    age_band: IntArray | None = None
    gender: IntArray | None = None

    @property
    def n(self) -> int:
        return int(self.street.shape[0])

    @property
    def answered(self) -> BoolArray:
        """``m_rj``: True where a scale answer was given."""
        return self.points > 0


def from_records(
    records: Sequence[ResponseRecord],
    framework: Framework,
    streets: Sequence[str] | None = None,
) -> ResponseData:
    """Turn validated records into :class:`ResponseData`.

    :param streets: street labels in the order wanted (e.g. the district's
        official order); default: sorted labels found in ``records``.
    :raises ValueError: if a record names a street or group not listed.
    """
    street_labels = (
        tuple(streets) if streets is not None else tuple(sorted({r.street for r in records}))
    )
    s_index = {s: i for i, s in enumerate(street_labels)}
    g_index = {g: i for i, g in enumerate(framework.group_codes)}
    codes = framework.indicator_codes
    j_index = {c: j for j, c in enumerate(codes)}
    n, J = len(records), len(codes)
    street = np.empty(n, dtype=np.int64)
    group = np.empty(n, dtype=np.int64)
    weight = np.empty(n, dtype=np.float64)
    points = np.zeros((n, J), dtype=np.int64)
    dont_know = np.zeros((n, J), dtype=bool)
    concerns = np.zeros((n, J), dtype=bool)
    overall_points = np.zeros(n, dtype=np.int64)
    asked_by_group = np.zeros((len(g_index), J), dtype=bool)
    for g, gi in g_index.items():
        for ind in framework.indicators_for(g):
            asked_by_group[gi, j_index[ind.code]] = True
    for r, rec in enumerate(records):
        try:
            street[r] = s_index[rec.street]
            group[r] = g_index[rec.group]
        except KeyError as exc:
            raise ValueError(f"response {rec.response_id}: unknown street or group {exc}") from None
        weight[r] = rec.weight
        for code, value in rec.answers.items():
            j = j_index[code]
            if value == DK:
                dont_know[r, j] = True
            elif isinstance(value, int):
                points[r, j] = value
        for code in rec.concerns:
            concerns[r, j_index[code]] = True
        overall_points[r] = rec.overall or 0
    data = from_points(
        framework,
        street_labels,
        street,
        group,
        weight,
        points,
        dont_know,
        concerns,
        overall_points,
        asked=asked_by_group[group],
    )
    if not any(rec.age_band or rec.gender for rec in records):
        return data
    return replace(
        data,
        age_band=category_codes([rec.age_band for rec in records], AGE_BANDS),
        gender=category_codes([rec.gender for rec in records], GENDERS),
    )


def from_table(table: Table, framework: Framework) -> ResponseData:
    """:class:`ResponseData` straight from validated columns (no records).

    The same arrays as ``from_records(table_records(table), framework)``:
    streets in sorted order of their labels.
    """
    labels = np.array(table.street_values, dtype=object)
    used = np.flatnonzero(np.bincount(table.street, minlength=len(labels)))
    names = sorted({str(labels[u]) for u in used.tolist()})
    position = {name: i for i, name in enumerate(names)}
    code_of = np.array([position.get(str(v), -1) for v in table.street_values], dtype=np.int64)
    data = from_points(
        framework,
        names,
        code_of[table.street],
        table.group,
        table.weight,
        table.points,
        table.dont_know,
        table.concerns,
        table.overall,
    )
    age = table.demographics.get("age_band")
    gender = table.demographics.get("gender")
    if age is None and gender is None:
        return data
    codes = {}
    for name, entry, cats in (("age", age, AGE_BANDS), ("gender", gender, GENDERS)):
        if entry is None:
            codes[name] = np.full(data.n, len(cats), dtype=np.int64)
        else:
            inverse, values = entry
            codes[name] = category_codes(values, cats)[inverse]
    return replace(data, age_band=codes["age"], gender=codes["gender"])


def from_points(
    framework: Framework,
    streets: Sequence[str],
    street: npt.ArrayLike,
    group: npt.ArrayLike,
    weight: npt.ArrayLike,
    points: npt.ArrayLike,
    dont_know: npt.ArrayLike,
    concerns: npt.ArrayLike,
    overall_points: npt.ArrayLike,
    asked: npt.ArrayLike | None = None,
) -> ResponseData:
    """Build :class:`ResponseData` from integer scale points (0 = no answer).

    Used by simulations and the database loader, which already hold arrays.
    """
    scores = np.array((np.nan, *framework.scale.scores), dtype=np.float64)
    pts = np.asarray(points, dtype=np.int64)
    grp = np.asarray(group, dtype=np.int64)
    if asked is None:
        by_group = np.zeros((len(framework.groups), len(framework.indicators)), dtype=bool)
        codes = framework.indicator_codes
        for gi, g in enumerate(framework.group_codes):
            for ind in framework.indicators_for(g):
                by_group[gi, codes.index(ind.code)] = True
        asked = by_group[grp]
    over = np.asarray(overall_points, dtype=np.int64)
    return ResponseData(
        streets=tuple(streets),
        groups=framework.group_codes,
        indicators=framework.indicator_codes,
        street=np.asarray(street, dtype=np.int64),
        group=grp,
        weight=np.asarray(weight, dtype=np.float64),
        points=pts,
        values=scores.take(pts),  # = scores[pts], without fancy indexing's overhead
        dont_know=np.asarray(dont_know, dtype=bool),
        asked=np.asarray(asked, dtype=bool),
        concerns=np.asarray(concerns, dtype=bool),
        overall=scores[over],
    )


def to_records(
    data: ResponseData,
    *,
    id_prefix: str = "r",
    start: datetime | None = None,
    spacing_s: float = 30.0,
    channels: Sequence[str] | None = None,
) -> list[ResponseRecord]:
    """Turn :class:`ResponseData` back into exchange records (the inverse of :func:`from_records`).

    Used to load simulated waves into the database.  Response ``r`` gets the id
    ``{id_prefix}-{r + 1:06d}``, ``start + r * spacing_s`` as its submission time
    (none when ``start`` is None), and ``channels[r]`` (default ``online``).
    The overall answer is not carried: ``data`` keeps its score, not its scale point.
    """
    records = []
    for r in range(data.n):
        answers: dict[str, int | str | None] = {}
        for j, code in enumerate(data.indicators):
            if not data.asked[r, j]:
                answers[code] = None
            elif data.dont_know[r, j]:
                answers[code] = DK
            else:
                answers[code] = int(data.points[r, j]) or None
        records.append(
            ResponseRecord(
                response_id=f"{id_prefix}-{r + 1:06d}",
                street=data.streets[int(data.street[r])],
                group=data.groups[int(data.group[r])],
                submitted_at=None if start is None else start + timedelta(seconds=spacing_s * r),
                channel=channels[r] if channels is not None else "online",
                weight=float(data.weight[r]),
                answers=answers,
                concerns=tuple(c for j, c in enumerate(data.indicators) if data.concerns[r, j]),
                age_band=_code(AGE_BANDS, data.age_band, r),
                gender=_code(GENDERS, data.gender, r),
            )
        )
    return records


def _code(categories: Sequence[str], codes: IntArray | None, r: int) -> str | None:
    """Category of respondent ``r`` from raking codes (None: unknown or no codes)."""
    if codes is None:
        return None
    k = int(codes[r])
    return categories[k] if k < len(categories) else None
