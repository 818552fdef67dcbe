"""Editing framework versions from the bureau console.

Every edit builds a new pure framework, writes it as TOML with
:func:`scoring.framework.dump_framework`, validates it by reading it back with
:func:`parse_framework` and stores it with :func:`frameworks.save_framework`.
A frozen version (used by a wave in fieldwork or later) is never changed: the
edit becomes the next version.  A version used only by draft waves also gets a
new version number, and those draft waves move to it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from fractions import Fraction

from sqlalchemy import func, select

from scoring.framework import Framework as FrameworkSpec
from scoring.framework import dump_framework, parse_framework
from scoring.weights import AHPResult, ahp_weights

from ..errors import UserError
from ..extensions import db
from ..models import Framework, Wave
from .audit import record
from .frameworks import save_framework, spec_of

SAATY_MIN, SAATY_MAX = Fraction(1, 9), Fraction(9)


@dataclasses.dataclass(frozen=True)
class FrameworkEdit:
    """Texts, shares and weights from the editor form (codes → values)."""

    name: str | None = None
    indicator_names: Mapping[str, str] = dataclasses.field(default_factory=dict)
    indicator_questions: Mapping[str, str] = dataclasses.field(default_factory=dict)
    indicator_weights: Mapping[str, float] = dataclasses.field(default_factory=dict)
    group_names: Mapping[str, str] = dataclasses.field(default_factory=dict)
    group_shares: Mapping[str, float] = dataclasses.field(default_factory=dict)
    dimension_weights: Mapping[str, float] = dataclasses.field(default_factory=dict)


def _weights(spec: FrameworkSpec) -> dict[str, dict[str, float]]:
    return {
        "dimensions": {d.code: d.weight for d in spec.dimensions},
        "indicators": {i.code: i.weight for i in spec.indicators},
        "groups": {g.code: g.share for g in spec.groups},
    }


def apply_edit(spec: FrameworkSpec, edit: FrameworkEdit) -> FrameworkSpec:
    """Return ``spec`` with ``edit`` applied, validated through its TOML text.

    :raises FrameworkError: every problem of the edited framework (e.g. negative
        weights, dimension weights not adding up to 1, an empty question), with
        codes (:mod:`scoring.framework` is the one validation; the console
        shows them in the reader's language, ``services/framework_words.py``).
    """
    indicators = tuple(
        dataclasses.replace(
            i,
            name=edit.indicator_names.get(i.code, i.name),
            question=edit.indicator_questions.get(i.code, i.question),
            weight=edit.indicator_weights.get(i.code, i.weight),
        )
        for i in spec.indicators
    )
    groups = tuple(
        dataclasses.replace(
            g,
            name=edit.group_names.get(g.code, g.name),
            share=edit.group_shares.get(g.code, g.share),
        )
        for g in spec.groups
    )
    dimensions = tuple(
        dataclasses.replace(d, weight=edit.dimension_weights.get(d.code, d.weight))
        for d in spec.dimensions
    )
    new = dataclasses.replace(
        spec,
        name=edit.name if edit.name is not None else spec.name,
        indicators=indicators,
        groups=groups,
        dimensions=dimensions,
    )
    return parse_framework(dump_framework(new), source="编辑后的指标体系")


def _editor_may_see(district_id: int) -> bool:
    """True outside a request (CLI) or when the signed-in editor may see ``district_id``."""
    from flask import has_request_context

    if not has_request_context():
        return True
    from ..auth.scope import may_see

    return may_see(district_id)


def store_version(
    row: Framework,
    new: FrameworkSpec,
    *,
    user_id: int | None,
    action: str,
    note: str = "",
    extra: Mapping[str, object] | None = None,
) -> Framework:
    """Store ``new`` as an edit of ``row``; audit-log weight changes (not committed).

    Returns the stored version (``row`` itself when nothing changed).
    """
    old = spec_of(row)
    if new.sha256 == old.sha256:
        return row
    drafts = list(db.session.scalars(select(Wave).where(Wave.framework_id == row.id)))
    if row.frozen or drafts:
        latest = db.session.scalar(
            select(func.max(Framework.version)).where(Framework.code == row.code)
        )
        new = dataclasses.replace(new, version=(latest or row.version) + 1)
        new = parse_framework(dump_framework(new), source="编辑后的指标体系")
    stored = save_framework(new, user_id=user_id)
    for wave in drafts:
        # Draft waves move to the edited version -- only those of the editor's
        # districts; other districts keep theirs (frameworks are shared).
        if wave.state == "draft" and _editor_may_see(wave.district_id):
            wave.framework = stored
            record(
                "wave.framework",
                wave,
                user_id=user_id,
                before={"framework": row.label},
                after={"framework": stored.label},
            )
    before, after = _weights(old), _weights(new)
    if before != after or extra:
        record(
            action,
            stored,
            user_id=user_id,
            before={"framework": row.label, **before},
            after={"framework": stored.label, **after, **(extra or {})},
            note=note,
        )
    return stored


def edit_framework(row: Framework, edit: FrameworkEdit, *, user_id: int | None = None) -> Framework:
    """Apply ``edit`` to framework ``row`` and store the result (not committed).

    :raises FrameworkError: the edit would make an invalid framework; nothing is stored.
    """
    new = apply_edit(spec_of(row), edit)
    return store_version(row, new, user_id=user_id, action="framework.weights")


def import_framework(
    text: str, *, filename: str = "framework.toml", user_id: int | None = None
) -> Framework:
    """Validate uploaded TOML and store it (a frozen version is never replaced; not committed).

    :raises FrameworkError: every problem in the file.
    """
    spec = parse_framework(text, source=filename)
    existing = db.session.scalar(
        select(Framework).where(Framework.code == spec.code, Framework.version == spec.version)
    )
    if existing is not None:
        return store_version(existing, spec, user_id=user_id, action="framework.import")
    return save_framework(spec, user_id=user_id)


def parse_judgement(text: str) -> Fraction:
    """Read one Saaty judgement such as ``3``, ``1/5`` or ``0.2``.

    :raises UserError: not a number, not positive, or outside 1/9..9.
    """
    raw = (text or "").strip().replace("／", "/")
    try:
        value = Fraction(raw).limit_denominator(100)
    except (ValueError, ZeroDivisionError):
        raise UserError(f"“{raw}”不是数字（请填 1/9 到 9 之间的数，如 3 或 1/5）") from None
    if value <= 0:
        raise UserError(f"“{raw}”不是正数：两两比较的判断必须大于 0")
    if not SAATY_MIN <= value <= SAATY_MAX:
        raise UserError(f"“{raw}”超出萨蒂标度 1/9 到 9 的范围")
    return value


def ahp_matrix(upper: Mapping[tuple[int, int], str], n: int) -> list[list[float]]:
    """Build the full reciprocal matrix from upper-triangle texts ``(i, j) -> "3"``, i < j.

    :raises UserError: listing every bad cell as ``第 i 行第 j 列: reason``.
    """
    matrix = [[1.0] * n for _ in range(n)]
    problems = []
    for i in range(n):
        for j in range(i + 1, n):
            try:
                v = parse_judgement(upper.get((i, j), ""))
            except ValueError as exc:
                problems.append(f"第 {i + 1} 行第 {j + 1} 列：{exc}")
                continue
            matrix[i][j] = float(v)
            matrix[j][i] = float(1 / v)
    if problems:
        raise UserError("；".join(problems))
    return matrix


def ahp_defaults(weights: Sequence[float]) -> dict[tuple[int, int], str]:
    """Upper-triangle judgements that reproduce ``weights`` (w_i / w_j on the 1/9..9 scale).

    The AHP editor starts from the current weights instead of all 1s; a
    consistent matrix of these ratios gives back the same weights (CR = 0 up
    to the rounding to ninths).
    """
    out = {}
    for i, wi in enumerate(weights):
        for j in range(i + 1, len(weights)):
            ratio = (
                Fraction(wi / weights[j]).limit_denominator(9) if weights[j] > 0 else Fraction(1)
            )
            ratio = min(max(ratio, Fraction(1, 9)), Fraction(9))
            out[(i, j)] = str(ratio)
    return out


def ahp_for(matrix: Sequence[Sequence[float]], labels: Sequence[str]) -> AHPResult:
    """AHP weights of a full pairwise matrix (refuses non-positive, non-reciprocal, CR ≥ 0.1).

    :raises UserError: with the reason (and the most inconsistent pair for CR ≥ 0.1).
    """
    try:
        return ahp_weights(matrix, labels=list(labels))
    except ValueError as exc:  # the judgements the user typed, refused by scoring.weights
        raise UserError(str(exc)) from exc


def apply_ahp(
    row: Framework, matrix: Sequence[Sequence[float]], *, user_id: int | None = None
) -> tuple[Framework, AHPResult]:
    """Set the dimension weights of ``row`` from an AHP matrix and store them (not committed).

    The weights are rounded to 4 decimals with the rounding remainder put on
    the largest weight, so they add up to exactly 1.  The audit entry keeps the
    matrix, λmax, CI and CR.

    :raises UserError: the matrix is refused (see :func:`ahp_for`).
    """
    spec = spec_of(row)
    labels = [f"{d.code} {d.name}" for d in spec.dimensions]
    result = ahp_for(matrix, labels)
    weights = [round(w, 4) for w in result.weights]
    top = max(range(len(weights)), key=weights.__getitem__)
    weights[top] = round(1 - sum(w for k, w in enumerate(weights) if k != top), 4)
    edit = FrameworkEdit(
        dimension_weights={d.code: w for d, w in zip(spec.dimensions, weights, strict=True)}
    )
    # the matrix is kept with the framework: rank sensitivity's AHP scheme uses it
    new = dataclasses.replace(
        apply_edit(spec, edit), ahp=tuple(tuple(float(v) for v in r) for r in matrix)
    )
    stored = store_version(
        row,
        new,
        user_id=user_id,
        action="framework.weights",
        note="AHP",
        extra={
            "method": "ahp",
            "matrix": [list(r) for r in matrix],
            "lambda_max": round(result.lambda_max, 6),
            "ci": round(result.ci, 6),
            "cr": round(result.cr, 6),
        },
    )
    return stored, result
