"""Direct, AHP and entropy weights against published and hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from scoring.weights import ahp_analysis, ahp_weights, direct_weights, entropy_weights

# Saaty, T. L. (1990), "How to make a decision: the analytic hierarchy process",
# European Journal of Operational Research 48, 9-26, house example (criteria:
# size, transport, neighbourhood, age, yard, modern facilities, condition,
# financing).  Published: priorities .173 .054 .188 .018 .031 .036 .167 .333,
# λmax = 9.669, CI = 0.238, CR = 0.169 (RI = 1.41): inconsistent by the 0.1 rule.
SAATY_HOUSE = [
    [1, 5, 3, 7, 6, 6, 1 / 3, 1 / 4],
    [1 / 5, 1, 1 / 3, 5, 3, 3, 1 / 5, 1 / 7],
    [1 / 3, 3, 1, 6, 3, 4, 6, 1 / 5],
    [1 / 7, 1 / 5, 1 / 6, 1, 1 / 3, 1 / 4, 1 / 7, 1 / 8],
    [1 / 6, 1 / 3, 1 / 3, 3, 1, 1 / 2, 1 / 5, 1 / 6],
    [1 / 6, 1 / 3, 1 / 4, 4, 2, 1, 1 / 5, 1 / 6],
    [3, 5, 1 / 6, 7, 5, 5, 1, 1 / 2],
    [4, 7, 5, 8, 6, 6, 2, 1],
]
HOUSE = ["size", "transport", "neighbourhood", "age", "yard", "modern", "condition", "finance"]


def test_ahp_matches_saaty_1990_house_example():
    res = ahp_analysis(SAATY_HOUSE, HOUSE)
    published = [0.173, 0.054, 0.188, 0.018, 0.031, 0.036, 0.167, 0.333]
    assert res.weights == pytest.approx(published, abs=5e-4)  # published to 3 decimals
    assert res.lambda_max == pytest.approx(9.669, abs=5e-4)
    assert res.ci == pytest.approx(0.238, abs=5e-4)
    assert res.cr == pytest.approx(0.169, abs=5e-4)
    assert res.ri == 1.41 and (8, 1.41) in res.ri_table


def test_ahp_refuses_inconsistent_and_names_a_pair():
    with pytest.raises(ValueError, match=r"CR = 0\.169.*most inconsistent pair is \w+ vs \w+"):
        ahp_weights(SAATY_HOUSE, HOUSE)


def test_ahp_consistent_matrix_recovers_weights():
    w = np.array([0.5, 0.3, 0.2])
    res = ahp_weights(w[:, None] / w[None, :], ["D1", "D2", "D3"])
    assert res.weights == pytest.approx(w)
    assert res.cr == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        ([[1, 2], [0.5, 1], [1, 1]], "square"),
        ([[1, -2], [-0.5, 1]], "positive"),
        ([[1, 3], [0.5, 1]], "not reciprocal"),
    ],
)
def test_ahp_rejects_bad_matrices(matrix, message):
    with pytest.raises(ValueError, match=message):
        ahp_weights(matrix)


def test_entropy_weights_hand_computation():
    # column 1: (1, 1) → p = (.5, .5), e = 1, d = 0
    # column 2: (1, 3) → p = (.25, .75), e = -(.25 ln .25 + .75 ln .75)/ln 2 = 0.811278
    #           d = 0.188722 → weights (0, 1)
    # column 3: (2, 6) same shape as column 2 → weights (0, .5, .5)
    w = entropy_weights([[1, 1, 2], [1, 3, 6]])
    assert w == pytest.approx([0.0, 0.5, 0.5])
    # three units, ln 3 = 1.098612:
    #   col A (1, 2, 3): p = 1/6, 1/3, 1/2; -Σ p ln p = .298627 + .366204 + .346574 = 1.011404
    #                    e = 1.011404 / 1.098612 = 0.920620, d = 0.079380
    #   col B (1, 1, 4): p = 1/6, 1/6, 2/3; -Σ p ln p = 2 * .298627 + .270310 = 0.867564
    #                    e = 0.789692, d = 0.210308
    #   weights = d / 0.289688 = (0.274019, 0.725981)
    w = entropy_weights([[1, 1], [2, 1], [3, 4]])
    assert w == pytest.approx([0.274019, 0.725981], abs=2e-6)


def test_entropy_rejects_bad_input():
    with pytest.raises(ValueError):
        entropy_weights([[1, -1], [2, 2]])
    with pytest.raises(ValueError):
        entropy_weights([[1, 2]])


def test_direct_weights():
    assert direct_weights([2, 3, 5]) == pytest.approx([0.2, 0.3, 0.5])
    with pytest.raises(ValueError, match="positive"):
        direct_weights([1, 0, 2])
    with pytest.raises(ValueError, match="positive"):
        direct_weights([1, float("nan")])
