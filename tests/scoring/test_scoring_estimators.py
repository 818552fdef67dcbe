"""Point estimates against a hand calculation (DESIGN.md section 6)."""

from __future__ import annotations

import json

import pytest

from scoring import score, to_json

# Data (scores 0/25/50/75/100 for points 1..5, DK = 不了解), shares A 0.6, B 0.4,
# indicator weights I1 1, I2 2 (D1), I3 1 (D2), dimension weights 0.5 / 0.5:
#   X/A w=1: 100  75  50      X/A w=3: 50  DK 100      X/B w=2: 75 25 DK
#   Y/A w=1:   0  50  75      Y/B w=1: 25  75  25      Y/B w=1: DK 100 50
# Street X: ȳ_A,I1 = (1*100 + 3*50)/4 = 62.5, ȳ_B,I1 = 75 → S_I1 = .6*62.5 + .4*75 = 67.5
#           ȳ_A,I2 = 75, ȳ_B,I2 = 25 → S_I2 = 45 + 10 = 55
#           ȳ_A,I3 = (50 + 300)/4 = 87.5, B has no answer → S_I3 = 87.5 (shares renormalised)
#           D1 = (1*67.5 + 2*55)/3 = 59.1667, D2 = 87.5, O = .5*59.1667 + .5*87.5 = 73.3333
# Street Y: S_I1 = .6*0 + .4*25 = 10, S_I2 = .6*50 + .4*(75+100)/2 = 65,
#           S_I3 = .6*75 + .4*(25+50)/2 = 60, D1 = (10 + 130)/3 = 46.6667, D2 = 60, O = 53.3333
# District (groups pooled over streets):
#   A: I1 (100+150+0)/5 = 50, I2 (75+50)/2 = 62.5, I3 (50+300+75)/5 = 85
#   B: I1 (150+25)/3 = 58.3333, I2 (50+75+100)/4 = 56.25, I3 (25+50)/2 = 37.5
#   S = 53.3333, 60, 66; D1 = (53.3333 + 120)/3 = 57.7778, D2 = 66, O = 61.8889
# X satisfaction I1: A (w1 yes, w3 no) 0.25, B 1 → .6*.25 + .4*1 = 0.55
# X 不了解 rate I2: A 3/4 = 0.75, B 0 → 0.45
# X attention I1: A 1/4 named it, B 0/2 → .6*.25 = 0.15


@pytest.fixture()
def result(small_fw, make_small):
    return score(small_fw, make_small(), boot=200, seed=1, min_n=1)


def test_street_scores(result):
    x, y = result.streets
    assert x.indicators["I1"].score == pytest.approx(67.5)
    assert x.indicators["I2"].score == pytest.approx(55.0)
    assert x.indicators["I3"].score == pytest.approx(87.5)
    assert x.dimensions["D1"].score == pytest.approx(59.1666667)
    assert x.dimensions["D2"].score == pytest.approx(87.5)
    assert x.score == pytest.approx(73.3333333)
    assert [y.indicators[c].score for c in ("I1", "I2", "I3")] == pytest.approx([10, 65, 60])
    assert y.dimensions["D1"].score == pytest.approx(46.6666667)
    assert y.score == pytest.approx(53.3333333)


def test_district(result):
    d = result.district
    assert [d.indicators[c].score for c in ("I1", "I2", "I3")] == pytest.approx(
        [53.3333333, 60.0, 66.0]
    )
    assert d.dimensions["D1"].score == pytest.approx(57.7777778)
    assert d.score == pytest.approx(61.8888889)
    assert d.n == 6


def test_rates_and_counts(result):
    x = result.streets[0]
    assert x.n == 3
    assert x.indicators["I1"].satisfaction_rate == pytest.approx(0.55)
    assert x.indicators["I2"].dk_rate == pytest.approx(0.45)
    assert x.indicators["I1"].attention == pytest.approx(0.15)
    assert [x.indicators[c].n for c in ("I1", "I2", "I3")] == [3, 2, 2]
    assert x.rank == 1 and result.streets[1].rank == 2
    assert x.district_gap == pytest.approx(73.3333333 - 61.8888889)


def test_json_shape(result):
    doc = json.loads(to_json(result))
    assert set(doc) >= {"method", "district", "streets"}
    assert {"score", "ci_low", "ci_high", "n", "dimensions", "indicators"} <= set(doc["district"])
    street = doc["streets"][0]
    for key in ("street", "n", "score", "ci_low", "ci_high", "rank", "rank_low", "rank_high"):
        assert key in street
    assert street["band"] in ("above", "similar", "below")
    ind = street["indicators"]["I1"]
    assert {"score", "ci_low", "ci_high", "n", "dk_rate", "satisfaction_rate"} <= set(ind)
    assert street["score"] == 73.3333
    assert isinstance(street["priorities"], list)
    method = doc["method"]
    assert method["boot"] == 200 and method["seed"] == 1 and method["min_n"] == 1
    assert method["framework"]["code"] == "small" and len(method["data_sha256"]) == 64
