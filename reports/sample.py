"""Synthetic scores JSON in the contract shape, for template previews and benchmarks.

The numbers are made up (seeded); nothing here is a statistical estimate.
"""

from __future__ import annotations

import random
from typing import Any

DIMENSIONS = {
    "D1": ("I01", "I02", "I03"),
    "D2": ("I04", "I05", "I06", "I07", "I08", "I09"),
    "D3": ("I10", "I11", "I12", "I13", "I14"),
    "D4": ("I15", "I16", "I17"),
}
WEIGHTS = {"D1": 0.2, "D2": 0.3, "D3": 0.3, "D4": 0.2}
_SYLLABLES = (
    "宁海 华侨 湖南 中央门 挹江门 江东 凤凰 阅江楼 热河南 "
    "幕府山 建宁 小市 宝塔桥 燕子矶 湖北 汉中 莫愁 草场门"
).split()


def _estimate(rng: random.Random, centre: float, n: int, spread: float) -> dict[str, Any]:
    score = min(99.0, max(40.0, rng.gauss(centre, spread)))
    half = 196 / max(n, 4) ** 0.5
    return {
        "score": round(score, 2),
        "ci_low": round(max(0.0, score - half), 2),
        "ci_high": round(min(100.0, score + half), 2),
        "n": n,
        "dk_rate": round(rng.uniform(0.0, 0.15), 3),
        "satisfaction_rate": round(min(1.0, max(0.0, (score - 35) / 65)), 3),
    }


def street_names(count: int) -> list[str]:
    """Return ``count`` distinct plausible street names."""
    names = [f"{s}路街道" for s in _SYLLABLES]
    k = 1
    while len(names) < count:
        names += [f"{s}第{k}街道" for s in _SYLLABLES]
        k += 1
    return names[:count]


def sample_scores(n_streets: int = 13, seed: int = 1) -> dict[str, Any]:
    """Return a scores-JSON dict for ``n_streets`` made-up streets."""
    rng = random.Random(seed)
    codes = [c for dim in DIMENSIONS.values() for c in dim]
    district: dict[str, Any] = {"n": 0, "indicators": {}, "dimensions": {}}
    for code in codes:
        district["indicators"][code] = _estimate(rng, 86, 20000, 3) | {"attention": 0.18}
    streets = []
    for name in street_names(n_streets):
        n = rng.randint(180, 420)
        level = rng.gauss(0, 3)
        inds = {c: _estimate(rng, district["indicators"][c]["score"] + level, n, 3) for c in codes}
        for c in codes:
            inds[c]["attention"] = round(rng.uniform(0.02, 0.45), 3)
        dims = {}
        for d, members in DIMENSIONS.items():
            mean = sum(inds[c]["score"] for c in members) / len(members)
            dims[d] = _estimate(rng, mean, n, 0.01)
        overall = sum(WEIGHTS[d] * dims[d]["score"] for d in DIMENSIONS)
        row = _estimate(rng, overall, n * 3, 0.01)
        gaps = sorted(codes, key=lambda c: inds[c]["score"] - district["indicators"][c]["score"])
        row.update(street=name, indicators=inds, dimensions=dims, priorities=gaps[:3])
        streets.append(row)
        district["n"] += n
    for d, members in DIMENSIONS.items():
        mean = sum(district["indicators"][c]["score"] for c in members) / len(members)
        district["dimensions"][d] = _estimate(rng, mean, district["n"], 0.01)
    overall = sum(WEIGHTS[d] * district["dimensions"][d]["score"] for d in DIMENSIONS)
    district.update(_estimate(rng, overall, district["n"], 0.01))
    district["n"] = sum(s["n"] for s in streets)
    _rank(streets, district["score"])
    method = {
        "boot": 1000,
        "seed": seed,
        "min_n": 30,
        "framework": "gulou-default",
        "framework_version": 1,
        "estimator": "direct",
        "data_sha256": "0" * 64,
    }
    return {"method": method, "district": district, "streets": streets}


def _rank(streets: list[dict[str, Any]], district: float) -> None:
    order = sorted(range(len(streets)), key=lambda i: -streets[i]["score"])
    for rank, i in enumerate(order, start=1):
        s = streets[i]
        width = max(0, int((s["ci_high"] - s["ci_low"]) * 1.5))
        s["rank"] = rank
        s["rank_low"] = max(1, rank - width)
        s["rank_high"] = min(len(streets), rank + width)
        if s["ci_low"] > district:
            s["band"] = "above"
        elif s["ci_high"] < district:
            s["band"] = "below"
        else:
            s["band"] = "similar"
