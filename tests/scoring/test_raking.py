"""Raking (IPF) against reference values computed independently."""

from __future__ import annotations

import numpy as np
import pytest

from scoring.population import AGE_BANDS, Margins
from scoring.raking import N_AGE, N_GENDER, RakingError, category_codes, rake, solve

# Two street x group cells, generated once with numpy (seed 20261130) and written out.
# age: index into AGE_BANDS; gender: 0 female, 1 male; w: imported weight; y: answer score.
A_AGE = [3, 2, 2, 0, 2, 2, 2, 3, 3, 4, 4, 2, 3, 2, 3, 3, 2, 3, 1, 2, 0, 4, 2, 1]
A_GEN = [0, 0, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 1, 0, 0, 1, 0, 1, 1]
A_W = [1.63, 1.5, 1.61, 0.87, 1.69, 2.06, 1.8, 2.01, 1.2, 1.77, 2.46, 1.57, 2.38, 2.17,
       1.26, 2.47, 0.6, 2.24, 0.94, 1.8, 0.87, 2.47, 1.86, 1.33]  # fmt: skip
A_Y = [50, 0, 0, 25, 50, 50, 75, 0, 0, 0, 25, 0, 75, 0, 75, 50, 75, 100, 25, 75, 75, 25, 75, 75]
B_AGE = [1, 1, 1, 0, 1, 2, 2, 0, 0, 1, 1, 0, 0, 0, 1, 1, 1, 1]
B_GEN = [1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]
B_W = [1.75, 1.3, 2.46, 2.23, 2.15, 2.48, 0.6, 0.71, 1.1, 1.15, 1.09, 1.56, 1.81, 1.06, 2.26,
       1.05, 1.33, 0.83]  # fmt: skip
B_Y = [75, 25, 75, 100, 100, 25, 0, 25, 25, 75, 75, 75, 100, 75, 100, 50, 100, 50]
POP_AGE = [[1200, 2500, 900, 600, 300], [800, 1300, 400, 0, 0]]
POP_GEN = [[2700, 2800], [1200, 1300]]

# Reference: svy 0.35.0, Sample(df, Design(wgt="w")).weighting.rake(controls={"age": ...,
# "sex": ...}, tol=1e-14, max_iter=10000), one Sample per cell (cell B without the two
# empty age bands); weighted mean of y with the raked weights and Σ w².
SVY_A_WEIGHTS = [
    100.90140545910619, 105.91328340816267, 113.68025752476122, 599.9999999999985,
    57.2251663570458, 145.45424254721007, 60.94988132703105, 59.66873835323208,
    74.28324328277756, 56.60633443380293, 78.67321056901416, 110.85590330054356,
    147.32843251084213, 73.47846804425413, 77.9974054469165, 73.32427051367333,
    42.365313363265045, 66.49650443345271, 1489.4041180694367, 127.0959400897951,
    599.9999999999985, 164.72045499718294, 62.98154403793207, 1010.5958819305645,
]  # fmt: skip
SVY_A_MEAN, SVY_A_SUMW2 = 44.2751689420116, 4144892.5493169716
SVY_B_WEIGHTS = [
    304.2701052912478, 226.02922107349818, 128.15980317061604, 176.1186725094166,
    112.00958407187997, 322.0779220779224, 77.92207792207796, 187.13861046050522,
    86.87468150688711, 59.91210310821485, 56.78625425039497, 123.20409377340346,
    142.94833957042334, 83.71560217936393, 117.74030697788308, 182.56206317474874,
    69.28964968167458, 43.24090919984205,
]  # fmt: skip
SVY_B_MEAN, SVY_B_SUMW2 = 60.14296476432827, 459330.9184686088


def margins(age: list[list[float]] | None, gender: list[list[float]] | None) -> Margins:
    """Margins of 1 street x len(rows) groups."""
    rows = len(age if age is not None else gender)  # type: ignore[arg-type]
    a = np.full((1, rows, 5), np.nan) if age is None else np.array(age, float)[None]
    g = np.full((1, rows, 2), np.nan) if gender is None else np.array(gender, float)[None]
    total = np.where(np.isnan(a[..., 0]), g.sum(-1), a.sum(-1))
    return Margins(age=a, gender=g, total=total)


def two_cells() -> tuple[np.ndarray, ...]:
    cell = np.array([0] * len(A_AGE) + [1] * len(B_AGE))
    age = np.array(A_AGE + B_AGE)
    gen = np.array(A_GEN + B_GEN)
    w = np.array(A_W + B_W)
    y = np.array(A_Y + B_Y, dtype=float)
    return cell, age, gen, w, y


def test_raked_weights_and_means_equal_svy() -> None:
    cell, age, gen, w, y = two_cells()
    out = rake(cell, age, gen, w, margins(POP_AGE, POP_GEN))
    nA = len(A_AGE)
    np.testing.assert_allclose(out.weight[:nA], SVY_A_WEIGHTS, rtol=1e-6)
    np.testing.assert_allclose(out.weight[nA:], SVY_B_WEIGHTS, rtol=1e-6)
    for sl, mean, sumw2 in (
        (slice(0, nA), SVY_A_MEAN, SVY_A_SUMW2),
        (slice(nA, None), SVY_B_MEAN, SVY_B_SUMW2),
    ):
        wr = out.weight[sl]
        assert abs(np.sum(wr * y[sl]) / wr.sum() - mean) < 1e-6
        assert abs((wr**2).sum() / sumw2 - 1) < 1e-6
    np.testing.assert_allclose(out.factor, out.weight / w)
    assert out.max_error <= 1e-10 and out.raked_cells.all()


def test_unknown_category_keeps_the_cells_average_adjustment() -> None:
    # Hand calculation, age margin only: unit weights; 2 respondents aged 60-69, one 70-79,
    # one 80+, one who did not say.  N = 1000, weighted total T = 5, so the unknown one gets
    # N / T = 200; the four known share 1000 - 200 = 800 as 500:300:200 → 400, 240, 160.
    age = category_codes(["60-69", "60-69", "70-79", "80+", None], AGE_BANDS)
    gen = np.full(5, 2)  # nobody gave a gender; no gender margin either
    out = rake(np.zeros(5, int), age, gen, np.ones(5), margins([[0, 0, 500, 300, 200]], None))
    np.testing.assert_allclose(out.weight, [200, 200, 240, 160, 200])
    # 'undisclosed' counts as unknown, like an empty answer
    assert category_codes(["undisclosed", "", "male"], ("female", "male")).tolist() == [2, 2, 1]


# Reference: three respondents did not give their gender (cell A rows 1 and 5, cell B row 6).
# They keep the cell's average adjustment N / T; the others were raked with svy 0.35.0
# (same call as above) to the margins scaled by (T - U) / T, U the three's weight.
SVY_UNKNOWN_WEIGHTS = [
    94.97604376523498, 203.4023668639053, 149.33176898843982, 547.337278106508,
    68.19467358969997, 279.33925049309664, 72.63338015471, 50.95184851615951,
    69.92101381489694, 48.89144195267668, 67.95081762914393, 145.6216629266153,
    138.67667739954555, 87.56357496428923, 73.41706450564173, 62.612470564633846,
    55.65159092736887, 56.78215954039668, 1411.6407768980064, 166.9547727821068,
    547.337278106508, 156.8263794714339, 75.05449282653363, 868.9312152124485,
    297.4884536131367, 220.9914226840443, 125.30334396176131, 172.19329347874609,
    109.51308516983208, 391.0846953937596, 55.72065378900445, 182.9676161708951,
    84.93839588637701, 58.576766486189236, 55.52058736517069, 120.45808871158916,
    139.7622695948566, 81.84972694505416, 115.11608022503282, 178.49307216788193,
    67.745303849245, 42.27714450742354,
]  # fmt: skip
SVY_UNKNOWN_MEANS = (42.80499174016636, 59.56433594005241)


def test_unknown_gender_keeps_the_cells_average_adjustment() -> None:
    cell, age, gen, w, y = two_cells()
    gen = gen.copy()
    gen[[1, 5, 30]] = 2
    out = rake(cell, age, gen, w, margins(POP_AGE, POP_GEN))
    np.testing.assert_allclose(out.weight, SVY_UNKNOWN_WEIGHTS, rtol=1e-6)
    for c, mean in enumerate(SVY_UNKNOWN_MEANS):
        sel = cell == c
        assert abs(np.sum(out.weight[sel] * y[sel]) / out.weight[sel].sum() - mean) < 1e-6
        assert abs(out.weight[sel].sum() - sum(POP_GEN[c])) < 1e-6


def test_cells_without_margins_keep_their_weights() -> None:
    cell, age, gen, w, _ = two_cells()
    m = margins(POP_AGE, POP_GEN)
    m.age[0, 1] = np.nan
    m.gender[0, 1] = np.nan
    m.total[0, 1] = np.nan
    out = rake(cell, age, gen, w, m)
    np.testing.assert_allclose(out.weight[cell == 1], w[cell == 1])
    assert out.raked_cells.tolist() == [True, False]


def test_empty_margin_cells_are_refused_with_every_cell_named() -> None:
    cell, age, gen, w, _ = two_cells()
    pop = [list(POP_AGE[0]), [800, 1300, 400, 10, 0]]  # cell B has nobody aged 70-79
    with pytest.raises(RakingError) as info:
        rake(cell, age, gen, w, margins(pop, None), labels=["宁海路 / adult", "湖南路 / adult"])
    assert info.value.problems == [
        "湖南路 / adult: the population has 10 people in age band 70-79 but no respondent is in "
        "it (merge it with a neighbouring category in the population file, or collect "
        "responses there)"
    ]
    pop = [[1200, 2500, 900, 600, 0], POP_AGE[1]]
    with pytest.raises(RakingError, match="3 respondents are in age band 80\\+ but the pop"):
        rake(cell, age, gen, w, margins(pop, None), labels=["宁海路 / adult", "湖南路 / adult"])
    with pytest.raises(RakingError, match="no respondent gave their gender"):
        rake(cell, age, np.full(len(gen), 2), w, margins(None, POP_GEN))


def test_confounded_sample_fails_with_a_clear_message() -> None:
    # Everyone aged 60-69 is female, everyone 70-79 male: margins 50/50 by age but 70/30 by
    # gender cannot both hold.
    age = category_codes(["60-69", "60-69", "70-79", "70-79"], AGE_BANDS)
    gen = np.array([0, 0, 1, 1])
    m = margins([[0, 0, 50, 50, 0]], [[70, 30]])
    with pytest.raises(RakingError, match="does not converge .* cannot meet both margins"):
        rake(np.zeros(4, int), age, gen, np.ones(4), m, labels=["宁海路 / elderly"], max_iter=50)


def test_trimming_bounds_every_adjustment() -> None:
    cell, age, gen, w, _ = two_cells()
    m = margins(POP_AGE, POP_GEN)
    free = rake(cell, age, gen, w, m)
    ratio = free.factor / np.array([free.weight[cell == c].sum() / w[cell == c].sum()
                                    for c in cell])  # fmt: skip
    assert ratio.max() > 3  # untrimmed, one 35-59 respondent carries 1489 people
    out = rake(cell, age, gen, w, m, trim=(0.3, 3.0))
    avg = np.array([sum(POP_AGE[c]) / w[cell == c].sum() for c in cell])
    assert (out.factor <= 3.0 * avg * (1 + 1e-12)).all()
    assert (out.factor >= 0.3 * avg * (1 - 1e-12)).all()
    with pytest.raises(ValueError, match="0 < low"):
        rake(cell, age, gen, w, m, trim=(2.0, 3.0))


def test_solver_is_vectorised_and_agrees_with_plain_ipf() -> None:
    # A stack of tables rakes like each table alone, and like textbook IPF sweeps.
    rng = np.random.default_rng(5)
    tables = rng.uniform(0.5, 3, size=(40, 7, N_AGE, N_GENDER))
    tables[..., -1, :] = 0  # everyone gave both answers: plain raking
    tables[..., :, -1] = 0
    age = np.broadcast_to(np.array([10.0, 20, 30, 25, 15]), (40, 7, 5))
    gender = np.broadcast_to(np.array([55.0, 45]), (40, 7, 2))
    fit = solve(tables, age, gender)
    assert fit.converged.all() and fit.iterations < 20
    one = solve(tables[3, 2], age[3, 2], gender[3, 2])
    np.testing.assert_allclose(fit.factor[3, 2], one.factor, rtol=1e-9)
    weighted = tables * fit.factor
    np.testing.assert_allclose(weighted.sum(axis=(-2, -1)), 100.0)
    # textbook IPF: alternate row and column scaling until nothing moves
    t = tables[3, 2, :-1, :-1].copy()
    for _ in range(2000):
        t *= (age[0, 0] / t.sum(axis=1))[:, None]
        t *= gender[0, 0] / t.sum(axis=0)
    np.testing.assert_allclose(weighted[3, 2, :-1, :-1], t, rtol=1e-9)
    # a warm start (replicates start from the point solution) reaches the same factors
    warm = solve(tables, age, gender, start=fit.log_ratio + 0.3)
    np.testing.assert_allclose(warm.factor, fit.factor, rtol=1e-9)


def test_trimming_bounds_are_validated() -> None:
    from scoring.raking import check_trim

    assert check_trim(None, None) is None
    assert check_trim(0.3, 3) == (0.3, 3.0)
    for low, high, message in (
        (0.3, None, "give both trimming bounds"),
        (None, 3, "give both trimming bounds"),
        (0.0, 3, "lower trimming bound must be at least 0.01 and below 1, not 0"),
        (1.0, 3, "lower trimming bound must be at least 0.01 and below 1, not 1"),
        (0.5, 1.0, "upper trimming bound must be above 1 and at most 100, not 1"),
        (0.5, float("inf"), "upper trimming bound must be above 1 and at most 100, not inf"),
        (float("nan"), 2, "lower trimming bound"),
    ):
        with pytest.raises(ValueError, match=message):
            check_trim(low, high)
