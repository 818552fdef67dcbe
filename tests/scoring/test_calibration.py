"""Calibration of the verdicts against an independent population model.

``make calibrate`` (or ``pytest -m slow tests/scoring/test_calibration.py -s``)
runs the full suite and prints the table quoted in README's "How trustworthy
the verdicts are".  The model (``calibration_model.py``) has informative
unequal weights, informative 不了解 (8% and 30%), three groups sampled
0.4/0.4/0.2 and, in one scenario, one-respondent unit cells; waves go through
the exchange CSV and the public scorer only.  Monte Carlo standard errors are
binomial (streets treated as independent draws).  Two quick checks run in the
default suite.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from scoring import from_records, load_framework, read_responses, score, targeted_change, wave_seed
from scoring.offline import score_file

from .calibration_model import (
    FRAMEWORK,
    Design,
    district_truths,
    make_population,
    sample_csv,
)

BOOT = 1000


def _mcse(p: float, n: int) -> float:
    return math.sqrt(max(p * (1 - p), 1e-12) / max(n, 1))


def _score_csv(tmp_path, text: str, seed: int, totals=None) -> dict:
    src = tmp_path / "wave.csv"
    src.write_text(text, encoding="utf-8")
    return score_file(
        FRAMEWORK, src, tmp_path / "wave.json", boot=BOOT, seed=seed, population_totals=totals
    )


def coverage(tmp_path, n: int, waves: int, *, streets: int = 13, unit=None, seed=0) -> dict:
    design = Design.load()
    rng = np.random.default_rng(seed)
    hit = total = d_plain = d_pop = 0
    r_marg = r_ends = r_sim_all = 0
    for w in range(waves):
        pop = make_population(design, streets, rng)
        names = [f"街道{s:03d}" for s in range(streets)]
        totals = {
            names[s]: {g: int(pop.sizes[s, k]) for k, g in enumerate(design.groups)}
            for s in range(streets)
        }
        text = sample_csv(design, pop, n, rng, unit=unit, names=names)
        plain_truth, pop_truth = district_truths(design, pop)
        doc = _score_csv(tmp_path, text, seed=wave_seed(f"cov-{n}-{w}"))
        true_rank = 1 + np.argsort(np.argsort(-pop.overall_truth))
        all_hold = True
        for s in doc["streets"]:
            k = names.index(s["street"])
            total += 1
            hit += s["ci_low"] <= pop.overall_truth[k] <= s["ci_high"]
            r_marg += s["rank_low"] <= true_rank[k] <= s["rank_high"]
            if s["rank"] in (1, streets):  # the named top and bottom streets
                r_ends += s["rank_low"] <= true_rank[k] <= s["rank_high"]
            all_hold &= s["rank_low_sim"] <= true_rank[k] <= s["rank_high_sim"]
        r_sim_all += all_hold
        d_plain += doc["district"]["ci_low"] <= plain_truth <= doc["district"]["ci_high"]
        doc = _score_csv(tmp_path, text, seed=wave_seed(f"covp-{n}-{w}"), totals=totals)
        d_pop += doc["district"]["ci_low"] <= pop_truth <= doc["district"]["ci_high"]
    return {
        "n": n,
        "coverage": hit / total,
        "mcse": _mcse(hit / total, total),
        "streets": total,
        "district_street_mean": d_plain / waves,
        "district_population": d_pop / waves,
        "rank_marginal": r_marg / total,
        "rank_top_bottom": r_ends / (2 * waves),
        "rank_simultaneous_all": r_sim_all / waves,
        "waves": waves,
    }


def null_bands(tmp_path, streets: int, n: int, waves: int, *, seed=0) -> dict:
    design = Design.load()
    rng = np.random.default_rng(seed)
    banded = alert = fdr = items = total = any_band = 0
    expected = 0.0
    for w in range(waves):
        pop = make_population(design, streets, rng, equal=True)
        doc = _score_csv(tmp_path, sample_csv(design, pop, n, rng), seed=wave_seed(f"n{w}"))
        flags = sum(s["band"] != "similar" for s in doc["streets"])
        banded += flags
        any_band += flags > 0
        alert += sum(s["alert"] != "similar" for s in doc["streets"])
        fdr += sum(s["fdr_q"] < 0.05 for s in doc["streets"])
        items += sum(bool(s["priorities"]) for s in doc["streets"])
        total += len(doc["streets"])
        expected = doc["method"]["expected_false_flags"]
    return {
        "streets": streets,
        "n": n,
        "band_rate": banded / total,
        "band_mcse": _mcse(banded / total, total),
        "flags_per_wave": banded / waves,
        "expected_false_flags": expected,
        "waves_with_a_band": any_band / waves,
        "alert_rate": alert / total,
        "fdr_rate": fdr / total,
        "item_rate": items / total,
        "item_mcse": _mcse(items / total, total),
        "waves": waves,
    }


def no_change(tmp_path, n: int, waves: int, *, streets: int = 13, seed=0) -> dict:
    """Two independent waves of the same population; the 3 lowest indicators
    of each street in wave 1 are 'targeted' (the worst case for regression to
    the mean)."""
    design = Design.load()
    fw = load_framework(FRAMEWORK)
    rng = np.random.default_rng(seed)
    diffs, naive, excl = [], [], 0
    for w in range(waves):
        pop = make_population(design, streets, rng)
        results = []
        for wave in ("a", "b"):
            text = sample_csv(design, pop, n, rng)
            data = from_records(read_responses(text.encode("utf-8"), fw), fw)
            results.append(score(fw, data, boot=BOOT, seed=wave_seed(f"{wave}{w}"), shrink=False))
        a, b = results
        targeted = {}
        for s in a.streets:
            gaps = sorted((e.district_gap, c) for c, e in s.indicators.items())
            targeted[s.street] = [c for _, c in gaps[:3]]
        for tc in targeted_change(a, b, targeted):
            diffs.append(tc.difference)
            naive.append(tc.naive_difference)
            excl += tc.difference_ci[0] > 0 or tc.difference_ci[1] < 0
    m = len(diffs)
    return {
        "n": n,
        "mean_difference": float(np.mean(diffs)),
        "mean_se": float(np.std(diffs, ddof=1) / math.sqrt(m)),
        "naive_mean_difference": float(np.mean(naive)),
        "ci_excludes_0": excl / m,
        "mcse": _mcse(excl / m, m),
        "streets": m,
    }


# -- quick checks in the default suite -----------------------------------------


def test_quick_coverage_and_null_bands(tmp_path):
    cov = coverage(tmp_path, 40, 4, seed=11)
    assert cov["coverage"] >= 0.85  # 52 streets: a smoke test, not the calibration
    null = null_bands(tmp_path, 13, 40, 4, seed=12)
    assert null["band_rate"] <= 0.05 and null["item_rate"] <= 0.15


def test_quick_regression_to_the_mean_is_corrected(tmp_path):
    ch = no_change(tmp_path, 100, 2, seed=21)
    # the worst three indicators "improve" with nothing changed; the correction removes most of it
    assert ch["naive_mean_difference"] > 1.0
    assert abs(ch["mean_difference"]) < 0.5 * ch["naive_mean_difference"]


# -- the calibration suite ------------------------------------------------------


@pytest.mark.slow
def test_calibration(tmp_path):
    # the README table comes from exactly these runs (same seeds, same numbers)
    rows = {
        "coverage": [coverage(tmp_path, n, 25, seed=n) for n in (30, 40, 60, 200)],
        "coverage_one_unit": coverage(tmp_path, 40, 25, unit=1, seed=7),
        "null_13": null_bands(tmp_path, 13, 40, 40, seed=1),
        "null_300": null_bands(tmp_path, 300, 40, 3, seed=2),
        "no_change": no_change(tmp_path, 100, 30, seed=3),
    }
    print("\n" + json.dumps(rows, indent=1, ensure_ascii=False))
    for c in rows["coverage"]:
        assert 0.93 - 2 * c["mcse"] <= c["coverage"] <= 0.97 + 2 * c["mcse"], c
        assert c["district_street_mean"] >= 0.8 and c["district_population"] >= 0.8, c
        assert c["rank_top_bottom"] >= 0.9 and c["rank_simultaneous_all"] >= 0.9, c
    one = rows["coverage_one_unit"]
    assert one["coverage"] >= 0.93 - 2 * one["mcse"], one
    for key in ("null_13", "null_300"):
        r = rows[key]
        assert r["band_rate"] <= 0.05 and r["item_rate"] <= 0.05 + 2 * r["item_mcse"], r
    ch = rows["no_change"]
    assert abs(ch["mean_difference"]) <= 0.2 + 2 * ch["mean_se"], ch
    assert ch["ci_excludes_0"] <= 0.05 + 2 * ch["mcse"], ch
