"""Per-source summary of a wave: what each source contributed and how far it moves scores.

Sources are each interviewer (API and interview entries), each imported file
(by its sha256) and each channel.  The influence is the leave-one-source-out
shift of each street's overall score (:mod:`scoring.influence`), over the
responses that are scored (not excluded; open-channel ones only when the wave
includes them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import select

from scoring.dataset import from_records
from scoring.influence import InfluenceTable, source_influence

from ..extensions import db
from ..i18n import _
from ..models import Response, User, Wave
from .frameworks import spec_of
from .responses import wave_records


def kind_names() -> dict[str, str]:
    """Source kinds in the reader's language."""
    return {"interviewer": _("调查员"), "file": _("导入文件"), "channel": _("渠道")}


def channel_names() -> dict[str, str]:
    """Channels in the reader's language."""
    return {
        "online": _("网络"),
        "open": _("公开二维码"),
        "phone": _("电话"),
        "face": _("面访"),
        "paper": _("纸质"),
    }


@dataclass(frozen=True, slots=True)
class SourceRow:
    kind: str  # interviewer | file | channel
    label: str  # username, sha256, channel code
    n: int
    street: str | None  # the street it moves most
    shift: float | None
    half_width: float | None
    flagged: tuple[tuple[str, float, float], ...]  # (street, shift, half-width)


def _scored_ids(wave: Wave) -> list[tuple[int | None, str | None, str | None, str]]:
    query = (
        select(Response.id, User.username, Response.import_sha256, Response.channel)
        .outerjoin(User, User.id == Response.interviewer_id)
        .where(Response.wave_id == wave.id, Response.excluded.is_(False))
    )
    if not wave.include_open_channel:
        query = query.where(Response.channel != "open")
    return [
        (rid, user, sha, channel)
        for rid, user, sha, channel in db.session.execute(query.order_by(Response.id))
    ]


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def wave_source_summary(wave: Wave) -> list[SourceRow]:
    """Every source of ``wave``'s scored responses, flagged ones first."""
    records = wave_records(wave, included_only=True)
    rows = _scored_ids(wave)
    if not records or len(rows) != len(records):
        return []
    spec = spec_of(wave.framework)
    data = from_records(records, spec, streets=[s.name for s in wave.district.streets])
    masks: dict[tuple[str, str], np.ndarray] = {}
    for i, (_rid, user, sha, channel) in enumerate(rows):
        for key in (
            ("interviewer", user) if user else None,
            ("file", sha) if sha else None,
            ("channel", channel),
        ):
            if key is None:
                continue
            if key not in masks:
                masks[key] = np.zeros(len(rows), dtype=bool)
            masks[key][i] = True
    keys = list(masks)
    table: InfluenceTable = source_influence(
        spec, data, {f"{k}:{label}": masks[(k, label)] for k, label in keys}
    )
    out = []
    for (kind, label), src in zip(keys, table.sources, strict=True):
        big = src.largest
        flagged = tuple(
            (table.streets[s], float(src.shift[s]), float(table.half_width[s]))
            for s in np.flatnonzero(src.flagged)
        )
        out.append(
            SourceRow(
                kind=kind,
                label=label,
                n=src.n,
                street=table.streets[big] if big is not None else None,
                shift=_finite(src.shift[big]) if big is not None else None,
                half_width=_finite(table.half_width[big]) if big is not None else None,
                flagged=flagged,
            )
        )
    out.sort(key=lambda r: (not r.flagged, -abs(r.shift or 0.0), r.kind, r.label))
    return out
