"""Rank sensitivity to weighting schemes."""

from __future__ import annotations

import json

import numpy as np

from scoring import load_default_framework, score
from scoring.dataset import from_points
from scoring.result import to_json
from scoring.sensitivity import rank_sensitivity, summary


def two_streets():
    """Street 甲 is better for the elderly and adults, 乙 much better for units."""
    fw = load_default_framework()
    J = len(fw.indicators)
    rows = []  # (street, group, point)
    for street, pts in ((0, (4, 4, 2)), (1, (3, 3, 5))):
        for g, p in enumerate(pts):
            rows += [(street, g, p)] * 6
    street = [r[0] for r in rows]
    group = [r[1] for r in rows]
    points = np.array([[r[2]] * J for r in rows])
    asked = np.ones(points.shape, dtype=bool)
    data = from_points(fw, ["甲", "乙"], street, group, np.ones(len(rows)), points,
                       np.zeros(points.shape, bool), np.zeros(points.shape, bool),
                       np.zeros(len(rows), int), asked=asked)  # fmt: skip
    return fw, data


def test_group_shares_flip_two_streets() -> None:
    fw, data = two_streets()
    out = rank_sensitivity(fw, data, [True, True], draws=50)
    # baseline shares .4/.4/.2: 甲 = .4*75+.4*75+.2*25 = 65, 乙 = .4*50+.4*50+.2*100 = 60
    # equal shares: 甲 58.3, 乙 66.7; residents only: 甲 75, 乙 50
    by = {s["street"]: s for s in out["streets"]}
    assert by["甲"]["rank"] == 1 and by["甲"]["ranks"]["equal_shares"] == 2
    assert by["甲"]["ranks"]["residents_only"] == 1
    assert (by["乙"]["rank_min"], by["乙"]["rank_max"]) == (1, 2)
    assert summary(out, "equal_shares") == (2, 1)
    assert out["schemes"]["entropy"]["data_driven"] is True


def test_frozen_entropy_weights_are_not_data_driven_and_json_carries_it() -> None:
    fw, data = two_streets()
    J = len(fw.indicators)
    out = rank_sensitivity(fw, data, [True, True], draws=20, entropy_reference=np.ones(J) / J)
    assert out["schemes"]["entropy"]["data_driven"] is False
    res = score(fw, data, boot=100, min_n=1)
    doc = json.loads(to_json(res))
    assert {"schemes", "perturbation", "streets"} <= set(doc["sensitivity"])
