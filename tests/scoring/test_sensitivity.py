"""Rank sensitivity to weighting schemes."""

from __future__ import annotations

import json

import numpy as np
import pytest

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


def _dimension_streets(fw):
    """甲: 非常满意 on D1, 一般 elsewhere; 乙: 不满意 on D1, 满意 elsewhere (every group)."""
    J = len(fw.indicators)
    d1 = np.array([i.dimension == "D1" for i in fw.indicators])
    rows = [(s, g) for s in (0, 1) for g in range(len(fw.groups)) for _ in range(5)]
    points = np.array([np.where(d1, 5, 3) if s == 0 else np.where(d1, 2, 4) for s, _ in rows])
    n = len(rows)
    return from_points(fw, ["甲", "乙"], [r[0] for r in rows], [r[1] for r in rows],
                       np.ones(n), points, np.zeros((n, J), bool), np.zeros((n, J), bool),
                       np.zeros(n, int), asked=np.ones((n, J), bool))  # fmt: skip


def test_ahp_scheme_from_the_frameworks_stored_matrix() -> None:
    from dataclasses import replace

    fw = load_default_framework()  # D1 weighs 0.20
    data = _dimension_streets(fw)
    # 甲 − 乙 = w1·(100 − 25) − (1 − w1)·(75 − 50) = 100·w1 − 25: 乙 leads at w1 = 0.20
    out = rank_sensitivity(fw, data, [True, True], draws=20)
    assert "ahp" not in out["schemes"] and out["ahp"] is None
    # D1 judged 9 times as important as each other dimension: a consistent matrix,
    # weights 9/12 = 0.75 and 1/12 each (by hand), and 甲 leads
    ninth = 1 / 9
    matrix = [[1, 9, 9, 9], [ninth, 1, 1, 1], [ninth, 1, 1, 1], [ninth, 1, 1, 1]]
    with_ahp = replace(fw, ahp=tuple(tuple(float(v) for v in r) for r in matrix))
    out = rank_sensitivity(with_ahp, data, [True, True], draws=20)
    by = {s["street"]: s for s in out["streets"]}
    assert by["乙"]["rank"] == 1 and by["甲"]["ranks"]["ahp"] == 1
    assert out["ahp"]["source"] == "framework"
    assert out["ahp"]["weights"]["D1"] == pytest.approx(0.75, abs=1e-9)
    assert out["ahp"]["weights"]["D3"] == pytest.approx(1 / 12, abs=1e-9)
    assert out["ahp"]["cr"] == pytest.approx(0.0, abs=1e-9)
    # a matrix passed in wins over the stored one
    flat = np.ones((4, 4))
    given = rank_sensitivity(with_ahp, data, [True, True], draws=20, ahp_matrix=flat)
    assert given["ahp"]["source"] == "given"
    assert given["ahp"]["weights"]["D1"] == pytest.approx(0.25)
    # the engine (minping score / score-wave) takes the framework's matrix
    doc = json.loads(to_json(score(with_ahp, data, boot=100, min_n=1)))
    assert doc["sensitivity"]["ahp"]["source"] == "framework"
    assert doc["sensitivity"]["streets"][0]["ranks"]["ahp"] == 1


def test_framework_toml_keeps_a_consistent_ahp_matrix() -> None:
    from scoring.framework import (
        FrameworkError,
        default_framework_text,
        dump_framework,
        parse_framework,
    )

    text = default_framework_text() + (
        "\n[ahp]\ndimensions = [[1, 2, 2, 1], [0.5, 1, 1, 0.5], [0.5, 1, 1, 0.5], [1, 2, 2, 1]]\n"
    )
    fw = parse_framework(text)
    assert fw.ahp is not None and fw.ahp[1] == (0.5, 1.0, 1.0, 0.5)
    again = parse_framework(dump_framework(fw))
    assert again.ahp == fw.ahp and again.sha256 == fw.sha256
    assert load_default_framework().ahp is None
    assert "[ahp]" not in dump_framework(load_default_framework())
    bad = default_framework_text() + "\n[ahp]\ndimensions = [[1, 2], [0.5, 1]]\n"
    with pytest.raises(FrameworkError, match=r"ahp.dimensions: must be a 4 x 4 matrix"):
        parse_framework(bad)
    bad = default_framework_text() + (
        "\n[ahp]\ndimensions = [[1, 9, 1, 1], [0.2, 1, 9, 9], [1, 1, 1, 9], [1, 1, 1, 1]]\n"
    )
    with pytest.raises(FrameworkError, match=r"ahp.dimensions: the matrix is not reciprocal"):
        parse_framework(bad)


@pytest.mark.parametrize("empty", [False, True])
@pytest.mark.parametrize("budget", [None, 40 * 17 * 7])
def test_perturbed_draws_at_once_equal_one_at_a_time(
    empty: bool, budget: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The vectorised perturbations give the loop's numbers bit for bit (with empty cells too),
    all draws in one block or in blocks of 7 (the last one shorter)."""
    from dataclasses import replace

    from scoring import sensitivity
    from scoring.estimators import Weights, combine_groups, composite
    from scoring.sensitivity import _perturbed

    if budget is not None:
        monkeypatch.setattr(sensitivity, "_PERTURBED_BUDGET", budget)

    fw = load_default_framework()
    W = Weights.of(fw)
    rng = np.random.default_rng(3)
    S, G, J = 40, len(W.shares), len(W.indicator)
    den = rng.uniform(0.5, 30.0, (S, G, J))
    num = den * rng.uniform(0.0, 100.0, (S, G, J))
    if empty:  # one cell without answers to an indicator, one street without any
        den[3, 1, 4] = num[3, 1, 4] = 0.0
        den[7, :, 2] = num[7, :, 2] = 0.0
    dims = rng.dirichlet(100 * W.dimension / W.dimension.sum(), size=60)
    shares = rng.dirichlet(100 * W.shares / W.shares.sum(), size=60)
    at_once = _perturbed(num, den, W, dims, shares)
    assert at_once is not None
    for d in range(60):
        w = replace(W, dimension=dims[d], shares=shares[d])
        one = composite(combine_groups(num, den, w.shares), w)[1]
        assert np.array_equal(at_once[d], one, equal_nan=True)


@pytest.mark.parametrize("budget", [None, 40 * 17 * 7])
def test_perturbed_draws_taking_different_branches_are_left_to_the_loop(
    budget: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Some draws give a street no score (a zero share for its only group), others do: the
    draws cannot share one arithmetic, whether they fall in one block or in several."""
    from scoring import sensitivity
    from scoring.estimators import Weights
    from scoring.sensitivity import _perturbed

    if budget is not None:
        monkeypatch.setattr(sensitivity, "_PERTURBED_BUDGET", budget)
    W = Weights.of(load_default_framework())
    rng = np.random.default_rng(4)
    S, G, J = 40, len(W.shares), len(W.indicator)
    den = rng.uniform(0.5, 30.0, (S, G, J))
    num = den * rng.uniform(0.0, 100.0, (S, G, J))
    den[5, 1:, :] = num[5, 1:, :] = 0.0  # street 5: answers from the first group only
    dims = rng.dirichlet(100 * W.dimension / W.dimension.sum(), size=14)
    shares = rng.dirichlet(100 * W.shares / W.shares.sum(), size=14)
    assert _perturbed(num, den, W, dims, shares) is not None
    shares[:7, 0] = 0.0  # the first block's draws drop that group
    assert _perturbed(num, den, W, dims, shares) is None
