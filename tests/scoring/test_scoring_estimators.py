"""Point estimates against a hand calculation (docs/method.md)."""

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
# X's I3 has no group-B answer: 80% of the intended weight → X is 数据不全.  With
# fewer than two complete streets every scored street enters the reference.
# District reference, plain mean of streets:
#   I1 (67.5 + 10)/2 = 38.75, I2 (55 + 65)/2 = 60, I3 (87.5 + 60)/2 = 73.75
#   D1 (59.1667 + 46.6667)/2 = 52.9167, D2 73.75, O (73.3333 + 53.3333)/2 = 63.3333
# District reference, population-weighted with N = [[100, 50], [300, 50]]:
#   A: I1 (100*62.5 + 300*0)/400 = 15.625, I2 (100*75 + 300*50)/400 = 56.25,
#      I3 (100*87.5 + 300*75)/400 = 78.125
#   B: I1 (50*75 + 50*25)/100 = 50, I2 (25 + 87.5)/2 = 56.25, I3 37.5 (Y only)
#   S = .6*15.625 + .4*50 = 29.375, 56.25, .6*78.125 + .4*37.5 = 61.875
#   D1 = (29.375 + 112.5)/3 = 47.2917, D2 = 61.875, O = 54.5833
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
    assert d.reference == "street_mean"
    assert [d.indicators[c].score for c in ("I1", "I2", "I3")] == pytest.approx(
        [38.75, 60.0, 73.75]
    )
    assert d.dimensions["D1"].score == pytest.approx(52.9166667)
    assert d.score == pytest.approx(63.3333333)
    assert d.n == 6
    assert d.ci_low < d.score < d.ci_high


def test_district_population_weighted(small_fw, make_small):
    res = score(
        small_fw, make_small(), boot=200, seed=1, min_n=1, population_totals=[[100, 50], [300, 50]]
    )
    d = res.district
    assert d.reference == "population"
    assert [d.indicators[c].score for c in ("I1", "I2", "I3")] == pytest.approx(
        [29.375, 56.25, 61.875]
    )
    assert d.dimensions["D1"].score == pytest.approx(47.2916667)
    assert d.dimensions["D2"].score == pytest.approx(61.875)
    assert d.score == pytest.approx(54.5833333)
    assert res.method["district_reference"] == "population"
    with pytest.raises(ValueError, match="shape"):
        score(small_fw, make_small(), boot=200, population_totals=[[1, 2]])
    with pytest.raises(ValueError, match="no population"):
        score(small_fw, make_small(), boot=200, population_totals=[[0, 0], [0, 0]])
    with pytest.raises(ValueError, match=">= 0"):
        score(small_fw, make_small(), boot=200, population_totals=[[1, 2], [-1, 3]])


def test_rates_and_counts(result):
    x = result.streets[0]
    assert x.n == 3
    assert x.indicators["I1"].satisfaction_rate == pytest.approx(0.55)
    assert x.indicators["I2"].dk_rate == pytest.approx(0.45)
    assert x.indicators["I1"].attention == pytest.approx(0.15)
    assert [x.indicators[c].n for c in ("I1", "I2", "I3")] == [3, 2, 2]
    assert x.rank is None and result.streets[1].rank == 1  # X is 数据不全
    assert x.district_gap == pytest.approx(73.3333333 - 63.3333333)
    assert x.gap == x.district_gap


def test_json_shape(result):
    doc = json.loads(to_json(result))
    assert set(doc) >= {"method", "district", "streets"}
    assert {"score", "ci_low", "ci_high", "n", "dimensions", "indicators"} <= set(doc["district"])
    street = doc["streets"][0]
    keys = ("street", "n", "score", "ci_low", "ci_high", "rank", "rank_low", "rank_high", "band")
    new = ("complete", "incomplete_reason", "gap", "gap_se", "z", "alert", "alarm", "fdr_q")
    for key in (*keys, *new, "rank_low_sim", "rank_high_sim"):
        assert key in doc["streets"][0] and key in doc["streets"][1]
    assert street["complete"] is False and street["band"] is None and street["rank"] is None
    assert doc["streets"][1]["band"] in ("above", "similar", "below")
    assert doc["district"]["reference"] == "street_mean"
    assert doc["method"]["band_rule"] == "alarm" and "expected_false_flags" in doc["method"]
    ind = street["indicators"]["I1"]
    assert {"score", "ci_low", "ci_high", "n", "dk_rate", "satisfaction_rate"} <= set(ind)
    assert street["score"] == 73.3333
    assert isinstance(street["priorities"], list)
    method = doc["method"]
    assert method["boot"] == 200 and method["seed"] == 1 and method["min_n"] == 1
    assert method["framework"]["code"] == "small" and len(method["data_sha256"]) == 64
