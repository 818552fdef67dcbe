"""Fixtures for the scoring tests: a small framework and hand-made data."""

from __future__ import annotations

import numpy as np
import pytest

from scoring.dataset import ResponseData, from_points
from scoring.framework import Framework, parse_framework

SMALL_TOML = """
[framework]
code = "small"
name = "small test framework"
version = 1

[scale]
labels = ["1", "2", "3", "4", "5"]
scores = [0, 25, 50, 75, 100]
dont_know = "DK"
satisfied_from = 4

[[groups]]
code = "A"
name = "group A"
share = 0.6

[[groups]]
code = "B"
name = "group B"
share = 0.4

[[dimensions]]
code = "D1"
name = "dimension 1"
weight = 0.5

[[dimensions]]
code = "D2"
name = "dimension 2"
weight = 0.5

[[indicators]]
code = "I1"
dimension = "D1"
name = "one"
question = "q1"
weight = 1

[[indicators]]
code = "I2"
dimension = "D1"
name = "two"
question = "q2"
weight = 2

[[indicators]]
code = "I3"
dimension = "D2"
name = "three"
question = "q3"
weight = 1
"""


def small_framework() -> Framework:
    return parse_framework(SMALL_TOML, source="small.toml")


# rows: street, group, weight, points I1..I3 (0 = DK), concerns
SMALL_ROWS = [
    ("X", "A", 1.0, (5, 4, 3), ("I1",)),
    ("X", "A", 3.0, (3, 0, 5), ("I2",)),
    ("X", "B", 2.0, (4, 2, 0), ("I2",)),
    ("Y", "A", 1.0, (1, 3, 4), ("I1",)),
    ("Y", "B", 1.0, (2, 4, 2), ("I1", "I3")),
    ("Y", "B", 1.0, (0, 5, 3), ()),
]


def small_data(
    rows: list[tuple] = SMALL_ROWS, streets: tuple[str, ...] = ("X", "Y")
) -> ResponseData:
    fw = small_framework()
    pts = np.array([r[3] for r in rows])
    concerns = np.array([[c in r[4] for c in fw.indicator_codes] for r in rows])
    return from_points(
        fw,
        streets,
        [streets.index(r[0]) for r in rows],
        [fw.group_codes.index(r[1]) for r in rows],
        [r[2] for r in rows],
        pts,
        pts == 0,
        concerns,
        np.zeros(len(rows), dtype=int),
    )


@pytest.fixture()
def small_fw() -> Framework:
    return small_framework()


@pytest.fixture()
def make_small():
    """Factory: ResponseData from rows like ``SMALL_ROWS``."""
    return small_data
