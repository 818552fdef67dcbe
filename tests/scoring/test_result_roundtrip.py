"""``from_json`` is the inverse of ``to_json`` (docs/scores-json.md)."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from scoring import flagged_sensitivity, load_default_framework, score, simulate
from scoring.engine import subset
from scoring.result import (
    POOLED,
    Estimate,
    FlaggedSensitivity,
    RankSensitivity,
    ScoreResult,
    from_json,
    to_json,
)
from scoring.simulate_weighting import simulate_weighting

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo-scores.json"


@pytest.fixture(scope="module")
def fw():
    return load_default_framework()


def _every_key(doc: object, prefix: str = "") -> set[str]:
    out: set[str] = set()
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.add(f"{prefix}.{k}")
            out |= _every_key(v, f"{prefix}.{k}")
    elif isinstance(doc, list):
        for v in doc:
            out |= _every_key(v, f"{prefix}[]")
    return out


def test_demo_run_round_trips_byte_for_byte() -> None:
    text = DEMO.read_text(encoding="utf-8")
    result = from_json(text)
    assert isinstance(result, ScoreResult)
    assert to_json(result) == text
    top = result.streets[0]
    assert isinstance(top.indicators["I01"], Estimate) and top.cells
    assert any(s.priority_details for s in result.streets)  # the items are read too
    assert result.reliability is not None and result.reliability.dimensions  # and reliability
    assert result.info.band_rule == "alarm" and result.info.min_n == 30
    sens = result.rank_sensitivity
    assert isinstance(sens, RankSensitivity) and len(sens.streets) == len(result.streets)


def test_generated_run_with_incomplete_street_raking_and_flags_round_trips(fw) -> None:
    sim = simulate_weighting(fw, [f"街道{i}" for i in range(6)], 40, seed=11)
    d = sim.data
    keep = ~((d.street == 2) & (d.group == 2))  # 街道2 without its units: 数据不全
    raked = score(fw, subset(d, keep), boot=100, seed=3, margins=sim.margins)
    without = score(fw, subset(d, keep & (np.arange(len(keep)) % 7 != 0)), boot=100, seed=3)
    result = replace(raked, flagged_sensitivity=flagged_sensitivity(raked, without))
    text = to_json(result)
    doc = json.loads(text)
    assert doc["method"]["weighting"]["kind"] == "raked"
    assert not doc["streets"][2]["complete"] and doc["streets"][2]["rank"] is None
    assert doc["sensitivity"]["streets"] and doc["flagged_sensitivity"]["streets"]
    back = from_json(text)
    assert to_json(back) == text
    # every key of the document is read into the typed result, not only carried
    assert _every_key(json.loads(to_json(back))) == _every_key(doc)
    assert back.streets[2].complete is False and back.streets[2].incomplete_reason
    assert back.streets[0].cells[0].deff is not None
    flagged = back.flagged
    assert isinstance(flagged, FlaggedSensitivity) and len(flagged.streets) == 5 + 1
    assert back.info.weighting["kind"] == "raked"


def test_nan_written_as_null_reads_back_to_the_same_text(fw) -> None:
    sim = simulate(fw, [f"S{i}" for i in range(4)], 40, seed=2)
    result = score(fw, sim.data, boot=100, seed=1, sensitivity=False)
    s0 = result.streets[0]
    code = next(iter(s0.dimensions))
    odd = replace(s0.dimensions[code], district_gap=math.nan, gap_se=math.nan)
    result = replace(
        result, streets=(replace(s0, dimensions={**s0.dimensions, code: odd}), *result.streets[1:])
    )
    text = to_json(result)
    assert '"gap_se": null' in text
    assert to_json(from_json(text)) == text


def test_an_old_run_reads_with_defaults() -> None:
    doc = json.loads(DEMO.read_text(encoding="utf-8"))
    del doc["district"]["reference"], doc["sensitivity"], doc["method"]["band_rule"]
    del doc["reliability"]
    for s in doc["streets"]:
        for key in ("complete", "gap", "gap_se", "cells", "n_eff", "deff", "rank_low_sim"):
            s.pop(key)
    old = from_json(json.dumps(doc))
    assert old.district.reference == POOLED and old.rank_sensitivity is None
    assert old.info.band_rule is None and all(s.complete for s in old.streets)


def test_not_a_scores_document_is_refused() -> None:
    with pytest.raises(ValueError, match="not a scores JSON"):
        from_json("[1, 2]")


def test_document_json_writes_the_standard_library_bytes():
    from scoring.result import document_json

    def reference(d: dict[str, object]) -> str:
        return json.dumps(d, sort_keys=True, ensure_ascii=False, indent=2) + "\n"

    doc = {
        "街道": [{"b": 1.5, "a": None, "c": []}, {}],
        "text": 'quote " backslash \\ tab \t newline \n nul \x00 \x1f \x7f \u2028 中文',
        "floats": [0.0, 0.0001, 12.3457, -3.5, 1e16, 123456789.0, 100.0],
        "ints": [0, -7, 2**62],
        "flags": [True, False],
        "Z": {"nested": {"y": 1, "x": [1, [2, []]]}},
    }
    assert document_json(doc) == reference(doc)
    # what orjson refuses goes to the standard library (same text as before)
    big = {"n": 2**70}
    assert document_json(big) == reference(big)


def test_document_rounds_in_one_pass_as_the_generic_walk_does(fw) -> None:
    """to_document rounds the streets' figures as it copies them: the same as
    rounding the whole of to_dict afterwards (NaN, -0.0, ints, raking, flags)."""
    from scoring.result import _num, to_dict, to_document

    sim = simulate_weighting(fw, [f"街道{i}" for i in range(6)], 40, seed=5)
    d = sim.data
    keep = ~((d.street == 1) & (d.group == 0))
    raked = score(fw, subset(d, keep), boot=100, seed=4, margins=sim.margins)
    without = score(fw, subset(d, keep & (np.arange(len(keep)) % 5 != 0)), boot=100, seed=4)
    result = replace(raked, flagged_sensitivity=flagged_sensitivity(raked, without))
    s0 = result.streets[0]
    code = next(iter(s0.indicators))
    odd = replace(s0.indicators[code], district_gap=math.nan, gap_se=-0.0, q_below=math.inf)
    odd_street = replace(s0, indicators={**s0.indicators, code: odd}, z=-0.0, deff=math.nan)
    result = replace(result, streets=(odd_street, *result.streets[1:]))
    generic = _num(to_dict(result))
    assert to_document(result) == generic
    assert json.dumps(to_document(result), sort_keys=True) == json.dumps(generic, sort_keys=True)


def test_vectorised_rounding_is_pythons_round_bit_for_bit() -> None:
    """NumPy's rint(x * 1e4) / 1e4 with Python's round where a product lies near a half."""
    import struct

    from scoring.result import _round, round_figures

    rng = np.random.default_rng(11)
    halves = (rng.integers(-(10**7), 10**7, 20_000) + 0.5) / 1e4  # decimals ending in 5
    near = np.concatenate([halves, np.nextafter(halves, np.inf), np.nextafter(halves, -np.inf)])
    xs = np.concatenate(
        [
            rng.uniform(-100, 100, 50_000),
            np.exp(rng.uniform(-40, 40, 20_000)) * rng.choice([-1.0, 1.0], 20_000),
            np.round(rng.uniform(-100, 100, 20_000), 5),  # values read back from text
            near,
            rng.integers(-1000, 1000, 2000) / 8,  # exact binary halves and quarters
            [0.0, -0.0, math.nan, math.inf, -math.inf, 1e300, -1e300, 5e-5, -5e-5, 2.5,
             1e16, 2**51 / 1e4, 2**52 / 1e4, 5e-324, -1e-5],
        ]
    )  # fmt: skip
    got = round_figures(xs)
    want = [_round(float(x)) for x in xs]
    assert len(got) == len(want)
    for x, g, w in zip(xs, got, want, strict=True):
        same = g is None and w is None
        same = same or (
            g is not None and w is not None and struct.pack("d", g) == struct.pack("d", w)
        )
        assert same, (x, g, w)
