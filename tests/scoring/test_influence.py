"""Leave-one-source-out influence of interviewers, files and channels on street scores."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from scoring.engine import score, subset
from scoring.framework import load_default_framework
from scoring.influence import source_influence
from scoring.simulate import simulate

STREETS = ["宁海路", "华侨路", "湖南路"]


@pytest.fixture(scope="module")
def wave():  # type: ignore[no-untyped-def]
    fw = load_default_framework()
    data = simulate(fw, STREETS, 60, seed=11, mu=1.5).data
    return fw, data


def _with_heavy_row(data, weight):  # type: ignore[no-untyped-def]
    """Make the last respondent of street 0 a worst-answers row with ``weight``."""
    row = int(np.flatnonzero(data.street == 0)[-1])
    w = data.weight.copy()
    w[row] = weight
    points = data.points.copy()
    values = data.values.copy()
    asked = data.asked[row]
    points[row] = np.where(asked, 1, 0)
    values[row] = np.where(asked, 0.0, np.nan)
    dk = data.dont_know.copy()
    dk[row] = False
    return dataclasses.replace(data, weight=w, points=points, values=values, dont_know=dk), row


def test_shift_equals_rescoring_without_the_source(wave):  # type: ignore[no-untyped-def]
    fw, data = wave
    mask = np.zeros(data.n, dtype=bool)
    mask[::7] = True  # an "interviewer" with every 7th response
    table = source_influence(fw, data, {"iv": mask})
    full = score(fw, data, boot=100, shrink=False)
    without = score(fw, subset(data, ~mask), boot=100, shrink=False)
    expected = np.array(
        [a.score - b.score for a, b in zip(full.streets, without.streets, strict=True)]
    )
    np.testing.assert_allclose(table.sources[0].shift, expected, atol=1e-9)
    np.testing.assert_allclose(table.score, [s.score for s in full.streets], atol=1e-9)
    # the CI half-width is the delta-method one, close to the bootstrap's
    boot_half = np.array([(s.ci_high - s.ci_low) / 2 for s in full.streets])
    np.testing.assert_allclose(table.half_width, boot_half, rtol=0.35)
    assert table.sources[0].n == int(mask.sum())


def test_one_heavy_row_is_flagged_and_ordinary_sources_are_not(wave):  # type: ignore[no-untyped-def]
    fw, data = wave
    heavy, row = _with_heavy_row(data, 1_000_000.0)
    file_mask = np.zeros(heavy.n, dtype=bool)
    file_mask[row] = True
    iv_mask = np.zeros(heavy.n, dtype=bool)
    iv_mask[1::9] = True
    iv_mask[row] = False
    table = source_influence(fw, heavy, {"file": file_mask, "iv": iv_mask})
    file_src, iv_src = table.sources
    assert file_src.flagged.tolist() == [True, False, False]
    assert file_src.shift[0] < -10 and file_src.largest == 0
    assert not iv_src.flagged.any()
    # the same row with weight 1 moves its street by far less than the interval
    plain, _ = _with_heavy_row(data, 1.0)
    quiet = source_influence(fw, plain, {"file": file_mask}).sources[0]
    assert not quiet.flagged.any()
    assert abs(quiet.shift[0]) < table.half_width[0]


def test_a_majority_source_is_not_flagged(wave):  # type: ignore[no-untyped-def]
    fw, data = wave
    most = data.street == 1
    most[np.flatnonzero(most)[:5]] = False  # all but five of street 1
    table = source_influence(fw, data, {"online": most})
    src = table.sources[0]
    assert not src.flagged.any()
    assert src.shift[0] == 0.0 and src.street_n.tolist()[0] == 0
