"""Response quality checks: per-response flags with a reason text.

Each check takes plain arrays and returns :class:`QualityFlags`; combine them
with :func:`combine_flags`.  Every flag is shown for review; which flagged
responses are *excluded by default* is decided by :func:`exclusion_rule`:
only where independent signals agree.  Uniform answers alone never exclude: a
resident who is very satisfied with everything answers 非常满意 17 times (in
the demo wave, 397 of 425 straight-line exclusions were exactly that, and
dropping them cost the best streets up to 1.3 points and moved 6 of 13 ranks).
Speed alone does not exclude either (quick readers exist).  Excluded by default:

* ``duplicate`` — the same answer vector from the same device within a day
  (device + identical answers: two signals);
* ``burst`` — near-identical answers in one community within half an hour
  (place + time + answers: coached answering);
* ``speeder`` together with ``straightline`` — too fast *and* uniform.

:func:`flagged_sensitivity` compares the scores with and without the flagged
responses (every run reports both, so a reader sees what the screening moved).

* speeders: duration below ``seconds_per_item`` x answered items;
* straight-lining: one identical answer across ≥ ``min_items`` answered items;
* duplicates: the same answer vector from one device/IP hash within a window;
* bursts: ≥ ``min_size`` near-identical answer vectors (≤ ``max_diff`` differing
  items) in one community within a window (coached answering).

Reference: Leiner, D. J. (2019), "Too fast, too straight, too weird",
*Survey Research Methods* 13, 229-248.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from .dataset import BoolArray

if TYPE_CHECKING:
    from .result import ScoreResult

EXCLUDING_CHECKS = ("duplicate", "burst", "speeder+straightline")

__all__ = [
    "EXCLUDING_CHECKS",
    "QualityFlags",
    "exclusion_rule",
    "flagged_sensitivity",
    "burst_flags",
    "combine_flags",
    "duplicate_flags",
    "speeder_flags",
    "straightline_flags",
]


@dataclass(frozen=True, slots=True, eq=False)
class QualityFlags:
    """``flagged[r]`` with ``reasons[r]`` ('' when not flagged)."""

    flagged: BoolArray
    reasons: tuple[str, ...]

    @property
    def count(self) -> int:
        return int(self.flagged.sum())


def _flags(flagged: BoolArray, reason: list[str]) -> QualityFlags:
    return QualityFlags(
        flagged, tuple(r if f else "" for f, r in zip(flagged, reason, strict=True))
    )


def _seconds(times: npt.ArrayLike) -> npt.NDArray[np.float64]:
    t = np.asarray(times)
    if np.issubdtype(t.dtype, np.datetime64):
        return t.astype("datetime64[ms]").astype(np.int64) / 1000.0
    return np.asarray(t, dtype=np.float64)


def speeder_flags(
    duration_s: npt.ArrayLike, points: npt.ArrayLike, *, seconds_per_item: float = 2.0
) -> QualityFlags:
    """Flag responses faster than ``seconds_per_item`` per answered item."""
    d = np.asarray(duration_s, dtype=np.float64)
    items = (np.asarray(points) > 0).sum(axis=1)
    limit = seconds_per_item * items
    flagged = np.isfinite(d) & (items > 0) & (d < limit)
    reason = [
        f"answered {k} items in {t:.0f} s (under {lim:.0f} s)"
        for k, t, lim in zip(items, d, limit, strict=True)
    ]
    return _flags(flagged, reason)


def straightline_flags(points: npt.ArrayLike, *, min_items: int = 10) -> QualityFlags:
    """Flag the same scale answer on every one of ≥ ``min_items`` answered items."""
    p = np.asarray(points)
    ans = p > 0
    k = ans.sum(axis=1)
    hi = np.where(ans, p, -1).max(axis=1)
    lo = np.where(ans, p, np.iinfo(np.int64).max).min(axis=1)
    flagged = (k >= min_items) & (hi == lo)
    return _flags(
        flagged, [f"the same answer ({v}) on all {c} items" for v, c in zip(hi, k, strict=True)]
    )


def _vector_keys(points: npt.ArrayLike, dont_know: npt.ArrayLike | None) -> list[bytes]:
    p = np.asarray(points, dtype=np.int8).copy()
    if dont_know is not None:
        p[np.asarray(dont_know, dtype=bool)] = -1
    return [row.tobytes() for row in p]


def duplicate_flags(
    points: npt.ArrayLike,
    device: npt.ArrayLike,
    submitted: npt.ArrayLike,
    *,
    dont_know: npt.ArrayLike | None = None,
    window_s: float = 24 * 3600.0,
) -> QualityFlags:
    """Flag repeats of an answer vector from one device/IP hash within ``window_s``.

    The first response of a run is kept; later copies are flagged.  Empty
    device hashes are never matched.
    """
    keys = _vector_keys(points, dont_know)
    dev = [str(d) for d in np.asarray(device, dtype=object)]
    t = _seconds(submitted)
    order = np.argsort(t, kind="stable")
    last: dict[tuple[str, bytes], tuple[float, int]] = {}
    flagged = np.zeros(len(keys), dtype=bool)
    reason = [""] * len(keys)
    for r in order:
        if not dev[r]:
            continue
        key = (dev[r], keys[r])
        seen = last.get(key)
        if seen is not None and t[r] - seen[0] <= window_s:
            flagged[r] = True
            reason[r] = f"same answers as response #{seen[1]} from the same device"
        else:
            last[key] = (float(t[r]), int(r))
    return _flags(flagged, reason)


def burst_flags(
    points: npt.ArrayLike,
    community: npt.ArrayLike,
    submitted: npt.ArrayLike,
    *,
    window_s: float = 1800.0,
    min_size: int = 5,
    max_diff: int = 1,
) -> QualityFlags:
    """Flag bursts: ≥ ``min_size`` responses in one community within ``window_s``
    whose answers differ from each other's in at most ``max_diff`` items."""
    p = np.asarray(points)
    com = [str(c) for c in np.asarray(community, dtype=object)]
    t = _seconds(submitted)
    n = p.shape[0]
    flagged = np.zeros(n, dtype=bool)
    reason = [""] * n
    by_com: dict[str, list[int]] = {}
    for r in np.argsort(t, kind="stable"):
        if com[r]:
            by_com.setdefault(com[r], []).append(int(r))
    for name, rows in by_com.items():
        idx = np.array(rows)
        tt = t[idx]
        for a in range(len(idx)):
            b = np.searchsorted(tt, tt[a] + window_s, side="right")
            if b - a < min_size:
                continue
            near = (p[idx[a:b]] != p[idx[a]]).sum(axis=1) <= max_diff
            if near.sum() >= min_size:
                hit = idx[a:b][near]
                flagged[hit] = True
                for r in hit:
                    reason[r] = (
                        f"{int(near.sum())} near-identical responses in {name} "
                        f"within {window_s / 60:.0f} min"
                    )
    return _flags(flagged, reason)


def combine_flags(*flags: QualityFlags) -> QualityFlags:
    """Union of several checks; reasons joined with '; '."""
    if not flags:
        raise ValueError("give at least one set of flags")
    flagged = np.logical_or.reduce([f.flagged for f in flags])
    reasons = tuple(
        "; ".join(r for r in parts if r) for parts in zip(*(f.reasons for f in flags), strict=True)
    )
    return QualityFlags(flagged, reasons)


def exclusion_rule(checks: Mapping[str, QualityFlags]) -> BoolArray:
    """Responses to exclude by default, given the per-check flags (module docstring).

    :param checks: flags by check name (``speeder``, ``straightline``,
        ``duplicate``, ``burst``; missing checks count as not flagged).
    :returns: (n,) mask: duplicate, or burst, or (speeder and straightline).
    """
    if not checks:
        raise ValueError("give the flags of at least one check")
    n = next(iter(checks.values())).flagged.shape[0]
    none = np.zeros(n, dtype=bool)

    def get(name: str) -> BoolArray:
        f = checks.get(name)
        return none if f is None else np.asarray(f.flagged, dtype=bool)

    out: BoolArray = get("duplicate") | get("burst") | (get("speeder") & get("straightline"))
    return out


def flagged_sensitivity(
    with_flagged: ScoreResult, without_flagged: ScoreResult, *, n_flagged: int | None = None
) -> dict[str, Any]:
    """How much the flagged responses move the results.

    :param with_flagged: scores with every response, flagged ones included.
    :param without_flagged: scores with the flagged responses left out.
    :returns: ``{"n_flagged", "ranks_moved", "bands_moved", "max_abs_change",
        "streets": [{street, score_with, score_without, change, rank_with,
        rank_without, band_with, band_without}]}`` (streets in result order;
        ``change`` = without − with).
    """
    old = {s.street: s for s in with_flagged.streets}
    rows = []
    ranks_moved = bands_moved = 0
    biggest = 0.0
    for s in without_flagged.streets:
        o = old.get(s.street)
        if o is None:
            continue
        change = None if s.score is None or o.score is None else s.score - o.score
        if change is not None:
            biggest = max(biggest, abs(change))
        ranks_moved += o.rank != s.rank
        bands_moved += o.band != s.band
        rows.append(
            {
                "street": s.street,
                "score_with": o.score,
                "score_without": s.score,
                "change": change,
                "rank_with": o.rank,
                "rank_without": s.rank,
                "band_with": o.band,
                "band_without": s.band,
            }
        )
    n_resp = with_flagged.method.get("n_responses", 0) - with_flagged.method.get("n_excluded", 0)
    n_kept = without_flagged.method.get("n_responses", 0) - without_flagged.method.get(
        "n_excluded", 0
    )
    return {
        "n_flagged": int(n_flagged if n_flagged is not None else n_resp - n_kept),
        "ranks_moved": int(ranks_moved),
        "bands_moved": int(bands_moved),
        "max_abs_change": biggest,
        "district_with": with_flagged.district.score,
        "district_without": without_flagged.district.score,
        "streets": rows,
    }
