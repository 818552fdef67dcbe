"""Bad input gives a clear error or documented handling, never NaN in the JSON."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from scoring import load_default_framework, score, simulate, to_json


def _json_has_nan(text: str) -> bool:
    return "NaN" in text or "Infinity" in text


def test_framework_mismatch(small_fw):
    sim = simulate(load_default_framework(), ["A"], 50, seed=1)
    with pytest.raises(ValueError, match="indicators"):
        score(small_fw, sim.data, boot=100)


def test_street_without_responses_is_reported_empty(small_fw, make_small):
    data = make_small(streets=("X", "Y", "Z"))
    res = score(small_fw, data, boot=100, min_n=1)
    text = to_json(res)
    assert not _json_has_nan(text)
    z = json.loads(text)["streets"][2]
    assert z["street"] == "Z" and z["n"] == 0
    assert z["score"] is None and z["rank"] is None and z["band"] is None
    assert z["indicators"]["I1"]["score"] is None and z["priorities"] == []
    # X's indicator I3 has no answers from group B: 80% of the intended weight,
    # so X is scored but 数据不全 (not ranked); Y is the only ranked street
    x, y = res.streets[:2]
    assert not x.complete and "80% of the intended weight" in x.incomplete_reason
    assert x.score is not None and x.rank is None and x.band is None
    assert y.complete and y.rank == 1


def test_indicator_all_dont_know_in_a_street(small_fw, make_small):
    rows = [
        ("X", "A", 1.0, (5, 4, 0), ()),
        ("X", "B", 1.0, (3, 2, 0), ()),
        ("Y", "A", 1.0, (1, 3, 4), ()),
        ("Y", "B", 1.0, (2, 4, 2), ()),
    ]
    res = score(small_fw, make_small(rows), boot=100, min_n=1)
    x = res.streets[0]
    i3 = x.indicators["I3"]
    assert i3.score is None and i3.dk_rate == 1.0 and i3.n == 0 and i3.ci_low is None
    # D2 holds only I3: missing, so O = D1 (dimension weights renormalised)
    assert x.dimensions["D2"].score is None
    assert x.score == pytest.approx(x.dimensions["D1"].score)
    assert not _json_has_nan(to_json(res))


def test_one_respondent_cell(small_fw, make_small):
    rows = [
        ("X", "A", 1.0, (5, 4, 3), ()),
        ("X", "B", 1.0, (3, 2, 1), ()),
        ("X", "B", 1.0, (4, 4, 4), ()),
        ("Y", "A", 1.0, (1, 3, 4), ()),
        ("Y", "A", 1.0, (2, 3, 4), ()),
        ("Y", "B", 1.0, (2, 4, 2), ()),
    ]
    res = score(small_fw, make_small(rows), boot=100, min_n=2)
    assert {(c.street, c.group, c.n) for c in res.small_cells} == {("X", "A", 1), ("Y", "B", 1)}
    # one-respondent cells borrow the pooled within-group variance: never an SE of 0
    assert all(s.se is not None and s.se > 0 for s in res.streets)
    for s in res.streets:
        assert all(e.se > 0 for e in s.indicators.values() if e.score is not None)
    assert not _json_has_nan(to_json(res))


@pytest.mark.parametrize("bad", [np.nan, -1.0, 0.0])
def test_bad_weights(small_fw, make_small, bad):
    data = make_small()
    w = data.weight.copy()
    w[2] = bad
    with pytest.raises(ValueError, match="weights"):
        score(small_fw, replace(data, weight=w), boot=100)


def test_too_few_replicates(small_fw, make_small):
    with pytest.raises(ValueError, match="boot must be a whole number from 100 to 10000, not 99"):
        score(small_fw, make_small(), boot=99)


def test_exclude_everything_or_wrong_mask(small_fw, make_small):
    data = make_small()
    with pytest.raises(ValueError, match="no responses"):
        score(small_fw, data, boot=100, exclude=np.ones(data.n, dtype=bool))
    with pytest.raises(ValueError, match="exclude mask"):
        score(small_fw, data, boot=100, exclude=np.ones(3, dtype=bool))


def test_exclude_rows_changes_counts(small_fw, make_small):
    res = score(small_fw, make_small(), boot=100, exclude=[0], min_n=1)
    assert res.streets[0].n == 2 and res.method["n_excluded"] == 1
