"""Where a response may come from, and what each entry path may set.

The entry path decides the paradata, never the sender (docs/security.md):

* ``api`` (``POST /api/v1/waves/<code>/responses``) and ``agency`` (the
  agency's CSV/XLSX import page) carry interviews and paper questionnaires:
  ``channel`` must be phone, face or paper (empty means paper), ``weight``
  must be empty or 1.  A non-default weight is *refused* with the reason, not
  silently dropped: the sender learns that weights are the bureau's business
  and the file's meaning never changes behind their back.
* ``admin`` (``minping import-responses`` on the server) may carry weights
  and any channel; it is audit-logged with who, when and the file's sha256.
* For every path ``submitted_at`` must fall inside the wave's fieldwork
  window (``starts_on`` .. ``ends_on``; without a start date, from 1 January
  of the wave's year) and not in the future; an empty one is stamped with the time
  of receipt (the admin path keeps it empty: an undated historical file).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from scoring.exchange import ExchangeError, ResponseRecord

from ..models import Wave
from ..models._base import utcnow

ENTRY_PATHS = ("api", "agency", "admin")
INTERVIEW_CHANNELS = ("phone", "face", "paper")
# Senders may write local (China) time; allow for the offset against UTC.
CLOCK_SLACK = timedelta(hours=14)


def fieldwork_window(wave: Wave) -> tuple[datetime, datetime]:
    """The first and last instants a response of ``wave`` may carry (naive UTC-ish)."""
    start_day = _first_day(wave)
    start = datetime.combine(start_day, time.min) - CLOCK_SLACK
    end = utcnow() + CLOCK_SLACK
    if wave.ends_on is not None:
        end = min(end, datetime.combine(wave.ends_on + timedelta(days=1), time.min) + CLOCK_SLACK)
    return start, end


def _first_day(wave: Wave) -> date:
    return wave.starts_on or date(wave.year, 1, 1)


def _naive(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def _label(wave: Wave) -> str:
    first = _first_day(wave)
    last = wave.ends_on.isoformat() if wave.ends_on else "today"
    return f"{first.isoformat()} .. {last}"


def check_provenance(
    wave: Wave, records: Sequence[ResponseRecord], *, path: str
) -> list[ResponseRecord]:
    """Apply the rules of entry ``path`` to ``records``; return them normalised.

    Empty ``submitted_at`` becomes the time of receipt (except on the admin
    path), time-zone-aware ones become naive UTC.

    :raises ExchangeError: every refused record, named by its response_id.
    """
    if path not in ENTRY_PATHS:
        raise ValueError(f"unknown entry path {path!r}")
    start, end = fieldwork_window(wave)
    now = utcnow().replace(microsecond=0)
    problems: list[str] = []
    out: list[ResponseRecord] = []
    for n, rec in enumerate(records, start=1):
        where = f"response {n} ({rec.response_id!r})"
        if path != "admin":
            if rec.weight != 1.0:
                problems.append(
                    f"{where}, weight {rec.weight:g}: refused: weights are set only by the "
                    "bureau's approved weighting (raking) or an audited admin import; "
                    "leave weight empty or 1"
                )
            if rec.channel not in INTERVIEW_CHANNELS:
                problems.append(
                    f"{where}, channel '{rec.channel}': refused: this entry path carries "
                    f"interviews and paper questionnaires only ({', '.join(INTERVIEW_CHANNELS)}); "
                    "online and open answers come only through invitation links"
                )
        submitted = _naive(rec.submitted_at) if rec.submitted_at is not None else None
        if submitted is None and path != "admin":
            submitted = now
        if submitted is not None and not start <= submitted <= end:
            problems.append(
                f"{where}, submitted_at {submitted.isoformat(timespec='seconds')}: refused: "
                f"outside the fieldwork of wave {wave.code} ({_label(wave)})"
            )
        out.append(dataclasses.replace(rec, submitted_at=submitted))
    if problems:
        raise ExchangeError(problems)
    return out
