"""Raked scoring: point scores, re-raked replicates, design effects, the offline scorer."""

from __future__ import annotations

import json

import numpy as np
import pytest

from scoring import load_default_framework
from scoring.bootstrap import _cell_counts, _cell_streams, replicate_cell_totals
from scoring.dataset import ResponseData
from scoring.engine import score
from scoring.estimators import cell_layout
from scoring.population import AGE_BANDS, Margins
from scoring.raking import RakingError
from scoring.raking_replicates import replicate_raking
from scoring.result import to_json
from scoring.simulate_weighting import simulate_weighting
from scoring.weighting import design_effects


def textbook_rake(w: np.ndarray, age: np.ndarray, gen: np.ndarray, m_age, m_gen) -> np.ndarray:
    """Alternate scaling to each margin until nothing moves (Deming-Stephan), one cell."""
    w = w.astype(float).copy()
    for _ in range(300):
        for k, target in enumerate(m_age):
            sel = age == k
            if sel.any():
                w[sel] *= target / w[sel].sum()
        for k, target in enumerate(m_gen):
            sel = gen == k
            w[sel] *= target / w[sel].sum()
    return w


@pytest.fixture(scope="module")
def sim():
    fw = load_default_framework()
    return fw, simulate_weighting(fw, [f"街道{i}" for i in range(6)], 40, seed=11)


def test_point_scores_equal_an_independent_raking(sim) -> None:
    fw, s = sim
    d: ResponseData = s.data
    res = score(fw, d, boot=100, seed=1, margins=s.margins)
    G = len(d.groups)
    w = d.weight.copy()
    for st in range(len(d.streets)):
        for g in range(G):
            sel = (d.street == st) & (d.group == g)
            if np.isfinite(s.margins.total[st, g]):
                w[sel] = textbook_rake(
                    d.weight[sel],
                    d.age_band[sel],
                    d.gender[sel],
                    s.margins.age[st, g],
                    s.margins.gender[st, g],
                )
    shares = np.array([gr.share for gr in fw.groups])
    m = d.points > 0
    for st, street in enumerate(res.streets):
        for j, code in enumerate(d.indicators):
            num = den = 0.0
            for g in range(G):
                sel = (d.street == st) & (d.group == g) & m[:, j]
                if sel.any():
                    num += shares[g] * np.sum(w[sel] * d.values[sel, j]) / w[sel].sum()
                    den += shares[g]
            assert street.indicators[code].score == pytest.approx(num / den, abs=1e-9)
    assert res.method["weighting"]["kind"] == "raked"
    assert res.method["weighting"]["cells_raked"] == 12  # elderly and adult of 6 streets


def test_replicates_are_reraked_from_counts_times_base_weights(sim) -> None:
    fw, s = sim
    d = s.data
    lay = cell_layout(d)
    G = len(d.groups)
    cell = d.street * G + d.group
    rr = replicate_raking(cell, d.age_band, d.gender, d.weight, lay.order, s.margins)
    feats = np.ones((d.n, 2), dtype=np.float32)
    feats[:, 0] = d.values[:, 0][lay.order]  # first indicator (always answered here)
    boot, seed = 20, 99
    tot = np.concatenate(list(replicate_cell_totals(feats, lay, boot, seed, rr)), axis=2)
    c = 0 * G + 0  # first street's elderly cell
    gen = _cell_streams(seed, lay.n_cells)[c]
    counts = _cell_counts(gen, int(lay.size[c]), boot)
    idx = lay.order[lay.starts[c] : lay.starts[c + 1]]
    for b in range(boot):
        base = counts[b].astype(float) * d.weight[idx]
        keep = base > 0
        a, g_ = d.age_band[idx][keep], d.gender[idx][keep]
        m_age = s.margins.age[0, 0].copy()
        present = np.isin(np.arange(len(AGE_BANDS)), a)
        m_age = np.where(present, m_age, 0) * m_age.sum() / m_age[present].sum()
        w = textbook_rake(base[keep], a, g_, m_age, s.margins.gender[0, 0])
        x = d.values[idx, 0][keep]
        np.testing.assert_allclose(tot[0, 0, b, 0], np.sum(w * x), rtol=2e-5)
        np.testing.assert_allclose(tot[0, 0, b, 1], np.sum(w), rtol=2e-5)
    # only cells with margins are raked (the units' cells keep their counts)
    with_margins = int(np.isfinite(s.margins.total).sum())
    assert with_margins < lay.n_cells
    # a few replicate tables cannot meet both margins (about 1% in this simulation:
    # 1,508 of 144,000 over 60 seeds), clustered in the smallest cells
    assert rr.report[0] == boot * with_margins and rr.report[1] < 0.05 * rr.report[0]
    units = [c for c in range(lay.n_cells) if not np.isfinite(s.margins.total.ravel()[c])]
    c = units[0]
    gen = _cell_streams(seed, lay.n_cells)[c]
    counts = _cell_counts(gen, int(lay.size[c]), boot)
    idx = lay.order[lay.starts[c] : lay.starts[c + 1]]
    street, group = divmod(c, G)
    np.testing.assert_allclose(
        tot[street, group, :, 1], counts.astype(float) @ d.weight[idx], rtol=2e-5
    )


def test_design_effects_by_hand() -> None:
    fw = load_default_framework()
    from scoring.dataset import from_points

    J = len(fw.indicators)
    # street 0: elderly weights 1, 1, 2, 4; adult weights 1, 1
    d = from_points(
        fw,
        ["甲"],
        [0] * 6,
        [0, 0, 0, 0, 1, 1],
        [1, 1, 2, 4, 1, 1],
        np.full((6, J), 4),
        np.zeros((6, J), bool),
        np.zeros((6, J), bool),
        np.zeros(6, int),
    )
    de = design_effects(d, [0.4, 0.4, 0.2])
    # elderly: (Σw)² / Σw² = 64 / 22; deff = 4 / (64/22) = 1.375
    assert de.cell_n_eff[0, 0] == pytest.approx(64 / 22)
    assert de.cell_deff[0, 0] == pytest.approx(1.375)
    assert de.cell_deff[0, 1] == pytest.approx(1.0)
    # street: shares renormalised over elderly and adult (0.5 each); v_r = 0.5 w_r / W_g:
    # elderly 0.5 * (1,1,2,4)/8, adult 0.5 * (1,1)/2; Σv = 1, Σv² = 0.25*22/64 + 0.25*2/4
    sv2 = 0.25 * 22 / 64 + 0.25 * 2 / 4
    assert de.street_n_eff[0] == pytest.approx(1 / sv2)
    assert de.street_deff[0] == pytest.approx(6 * sv2)


def test_raked_run_records_and_reproduces(sim) -> None:
    fw, s = sim
    a = score(fw, s.data, boot=100, seed=5, margins=s.margins)
    b = score(fw, s.data, boot=100, seed=5, margins=s.margins)
    assert to_json(a) == to_json(b)
    doc = json.loads(to_json(a))
    street = doc["streets"][0]
    assert street["deff"] > 1 and street["n_eff"] < street["n"]
    assert [c["group"] for c in street["cells"]] == ["elderly", "adult", "unit"]
    assert street["cells"][2]["deff"] == 1.0  # units are not raked: equal weights
    # margins without the units' counts: the district reference falls back, and says so
    assert doc["method"]["district_reference"] == "street_mean"
    assert "no population counts" in doc["method"]["weighting"]["reference_note"]
    unraked = score(fw, s.data, boot=100, seed=5)
    assert unraked.method["weighting"] == {"kind": "as_given"}


def test_population_reference_when_every_cell_has_counts(sim) -> None:
    fw, s = sim
    total = s.margins.total.copy()
    total[:, 2] = 100.0  # units: counts for the reference, no margins to rake to
    m = Margins(age=s.margins.age, gender=s.margins.gender, total=total)
    res = score(fw, s.data, boot=100, seed=5, margins=m)
    assert res.method["district_reference"] == "population"
    assert "reference_note" not in res.method["weighting"]


def test_margin_without_respondents_names_the_cell(sim) -> None:
    fw, s = sim
    d = s.data
    age = s.margins.age.copy()
    age[1, 0, 0] = 50  # 18-34 in the elderly group: nobody sampled there
    m = Margins(age=age, gender=s.margins.gender, total=s.margins.total)
    with pytest.raises(RakingError, match="街道1 / elderly: the population has 50 people in age"):
        score(fw, d, boot=100, seed=5, margins=m)


def population_csv(streets, groups, margins: Margins) -> str:
    from scoring.population import GENDERS

    lines = ["street,group,variable,category,count"]
    for s, street in enumerate(streets):
        for g, group in enumerate(groups):
            if not np.isfinite(margins.total[s, g]):
                continue
            for k, band in enumerate(AGE_BANDS):
                lines.append(f"{street},{group},age_band,{band},{margins.age[s, g, k]:g}")
            for k, sex in enumerate(GENDERS):
                lines.append(f"{street},{group},gender,{sex},{margins.gender[s, g, k]:g}")
    return "\n".join(lines) + "\n"


def test_offline_scorer_with_population(sim, tmp_path) -> None:
    from click.testing import CliRunner

    from scoring.dataset import to_records
    from scoring.exchange import write_csv
    from scoring.framework import default_framework_text
    from survey.cli_scoring import score as score_cmd

    fw, s = sim
    responses = tmp_path / "r.csv"
    responses.write_bytes(write_csv(to_records(s.data), fw))
    pop = tmp_path / "p.csv"
    text = population_csv(s.data.streets, s.data.groups, s.margins)
    pop.write_text(text, encoding="utf-8")
    out = tmp_path / "s.json"
    fw_path = tmp_path / "f.toml"
    fw_path.write_text(default_framework_text(), encoding="utf-8")
    args = ["--framework", str(fw_path), "--responses", str(responses), "--out", str(out)]
    res = CliRunner().invoke(score_cmd, [*args, "--boot", "100", "--population", str(pop)])
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text("utf-8"))
    assert doc["method"]["weighting"]["kind"] == "raked"
    assert len(doc["method"]["weighting"]["population_sha256"]) == 64
    direct = score(fw, s.data, boot=100, margins=s.margins)
    for a, b in zip(doc["streets"], direct.streets, strict=True):
        assert a["score"] == pytest.approx(b.score, abs=1e-4)
        for code, e in b.indicators.items():
            assert a["indicators"][code]["score"] == pytest.approx(e.score, abs=1e-4)

    # a bad count: the file's line and column
    pop.write_text(text.replace("街道1,elderly,age_band,18-34,0", "街道1,elderly,age_band,18-34,x"))
    res = CliRunner().invoke(score_cmd, [*args, "--population", str(pop)])
    assert res.exit_code == 1 and "column 5 (count): count 'x' must be a number" in res.output
    # people in a band nobody was sampled in: the cell is named
    female = f"街道1,elderly,gender,female,{s.margins.gender[1, 0, 0]:g}"
    bad = text.replace("街道1,elderly,age_band,18-34,0", "街道1,elderly,age_band,18-34,50")
    bad = bad.replace(female, f"街道1,elderly,gender,female,{s.margins.gender[1, 0, 0] + 50:g}")
    pop.write_text(bad, encoding="utf-8")
    res = CliRunner().invoke(score_cmd, [*args, "--population", str(pop)])
    assert res.exit_code == 1
    assert "街道1 / elderly: the population has 50 people in age band 18-34" in res.output
    # the population file is read alongside the responses: a missing one is named,
    # and a bad responses file is still the error reported first
    missing = str(tmp_path / "none.csv")
    res = CliRunner().invoke(score_cmd, [*args, "--population", missing])
    assert res.exit_code == 1 and "none.csv: cannot read the file" in res.output
    broken = tmp_path / "broken.csv"
    broken.write_text("response_id,street\n", encoding="utf-8")
    both = ["--framework", str(fw_path), "--responses", str(broken), "--out", str(out)]
    res = CliRunner().invoke(score_cmd, [*both, "--population", missing])
    assert res.exit_code == 1 and "missing column group" in res.output
    assert "none.csv" not in res.output


def test_infeasible_cell_is_raked_to_age_only_and_recorded(sim) -> None:
    fw, s = sim
    d = s.data
    gender = d.gender.copy()
    young = (d.street == 2) & (d.group == 1) & (d.age_band == 0)
    gender[young] = 0  # every sampled 18-34 adult of 街道2 is a woman
    from dataclasses import replace

    g_m = s.margins.gender.copy()
    age_young = s.margins.age[2, 1, 0]
    g_m[2, 1] = (age_young - 1, s.margins.total[2, 1] - age_young + 1)  # fewer women than 18-34
    m = Margins(age=s.margins.age, gender=g_m, total=s.margins.total)
    res = score(fw, replace(d, gender=gender), boot=100, seed=1, margins=m)
    assert res.method["weighting"]["age_only_cells"] == ["街道2 / adult"]
    with pytest.raises(RakingError, match="街道2 / adult: raking does not converge"):
        from scoring.raking import rake

        rake(d.street * 3 + d.group, d.age_band, gender, d.weight, m,
             labels=[f"街道{i} / {g}" for i in range(6) for g in d.groups])  # fmt: skip


def test_linearised_se_of_a_raked_score_agrees_with_the_reraked_bootstrap() -> None:
    # the delta-method SE uses residuals on the raking variables (GREG linearisation);
    # with 200 per cell it must agree with the bootstrap that re-rakes every replicate
    fw = load_default_framework()
    s = simulate_weighting(fw, [f"S{i}" for i in range(12)], 200, seed=21, oversample=3.0)
    res = score(fw, s.data, boot=600, seed=4, margins=s.margins, sensitivity=False)
    se = np.array([st.se for st in res.streets])
    boot = np.array([(st.ci_high - st.ci_low) / (2 * 1.96) for st in res.streets])
    assert 0.92 < float(np.mean(se / boot)) < 1.08
    fixed = score(fw, s.data, boot=100, seed=4, sensitivity=False)  # unraked: different SEs
    assert not np.allclose(se, [st.se for st in fixed.streets], rtol=0.01)


def test_unit_totals_in_the_population_file_make_the_reference_population_weighted(
    sim, tmp_path
) -> None:
    from scoring.dataset import to_records
    from scoring.exchange import write_csv
    from scoring.framework import default_framework_text
    from scoring.offline import score_file

    fw, s = sim
    d = s.data
    responses = tmp_path / "r.csv"
    responses.write_bytes(write_csv(to_records(d), fw))
    fw_path = tmp_path / "f.toml"
    fw_path.write_text(default_framework_text(), encoding="utf-8")
    S, G = len(d.streets), len(d.groups)
    units = np.array([10.0, 40, 25, 5, 60, 30])  # resident units per street

    # 1. counts only (street x group totals, no breakdown): nothing is raked, and the
    # reference is each group's population-weighted mean over streets, by hand
    N = np.arange(1, S * G + 1, dtype=float).reshape(S, G) * 100
    N[:, 2] = units
    rows = ["street,group,variable,category,count"] + [
        f"{street},{group},total,all,{N[i, g]:g}"
        for i, street in enumerate(d.streets)
        for g, group in enumerate(d.groups)
    ]
    pop = tmp_path / "totals.csv"
    pop.write_text("\n".join(rows) + "\n", encoding="utf-8")
    doc = score_file(fw_path, responses, tmp_path / "a.json", boot=100, population_path=pop)
    assert doc["method"]["district_reference"] == "population"
    assert doc["method"]["weighting"]["cells_raked"] == 0
    assert "reference_note" not in doc["method"]["weighting"]
    shares = np.array([gr.share for gr in fw.groups])
    m = d.points > 0
    for j, code in enumerate(d.indicators):
        group_means = []
        for g in range(G):
            num = den = 0.0
            for i in range(S):
                sel = (d.street == i) & (d.group == g) & m[:, j]
                cell_mean = np.sum(d.weight[sel] * d.values[sel, j]) / d.weight[sel].sum()
                num += N[i, g] * cell_mean
                den += N[i, g]
            group_means.append(num / den)
        expect = float(np.dot(shares, group_means) / shares.sum())
        assert doc["district"]["indicators"][code]["score"] == pytest.approx(expect, abs=1e-4)

    # 2. raking margins for residents plus the units' totals: raked, and the reference
    # uses every street x group's count (units included) instead of falling back
    text = population_csv(d.streets, d.groups, s.margins) + "".join(
        f"{street},unit,total,all,{units[i]:g}\n" for i, street in enumerate(d.streets)
    )
    pop.write_text(text, encoding="utf-8")
    doc = score_file(fw_path, responses, tmp_path / "b.json", boot=100, population_path=pop)
    assert doc["method"]["district_reference"] == "population"
    assert doc["method"]["weighting"]["kind"] == "raked"
    assert doc["method"]["weighting"]["cells_raked"] == S * 2
    assert "reference_note" not in doc["method"]["weighting"]
    totals = s.margins.total.copy()
    totals[:, 2] = units
    direct = score(fw, d, boot=100, margins=s.margins, population_totals=totals)
    assert doc["district"]["score"] == pytest.approx(direct.district.score, abs=1e-4)
    # the units' counts matter: other counts give another reference
    totals[:, 2] = units[::-1]
    other = score(fw, d, boot=100, margins=s.margins, population_totals=totals)
    assert abs(other.district.score - direct.district.score) > 1e-3


def test_replicate_factors_are_the_same_with_blocks_in_threads(sim, monkeypatch) -> None:
    """Blocks of cells solved concurrently give the serial factors bit for bit."""
    from concurrent.futures import ThreadPoolExecutor

    from scoring import raking_replicates

    _, s = sim
    d = s.data
    lay = cell_layout(d)
    cell = d.street * len(d.groups) + d.group
    monkeypatch.setattr(raking_replicates, "BLOCK_TABLES", 64)  # many blocks
    rng = np.random.default_rng(5)
    bc = 8
    tables = np.zeros((18, lay.n_cells, bc))
    rr0 = replicate_raking(cell, d.age_band, d.gender, d.weight, lay.order, s.margins)
    for c in range(lay.n_cells):
        lo, hi = int(lay.starts[c]), int(lay.starts[c + 1])
        counts = rng.multinomial(max(hi - lo - 1, 0), np.ones(hi - lo) / max(hi - lo, 1), bc)
        tables[:, c, :] = (counts.astype(np.float32) @ rr0.onehot[lo:hi]).T
    serial = replicate_raking(cell, d.age_band, d.gender, d.weight, lay.order, s.margins)
    threaded = replicate_raking(cell, d.age_band, d.gender, d.weight, lay.order, s.margins)
    with ThreadPoolExecutor(3) as pool:
        got = threaded.factors(tables, pool.map)
    want = serial.factors(tables)
    assert np.array_equal(got, want)
    assert threaded.report == serial.report and serial.report[0] > 0


@pytest.mark.parametrize("budget", [None, 9_000])
@pytest.mark.parametrize("population", [False, True])
def test_street_by_street_reraking_equals_the_all_cells_route(
    sim, monkeypatch, budget, population
) -> None:
    """The raked draws made a few streets at a time give the all-cells route's bytes
    (in the same chunks of replicates)."""
    from scoring import bootstrap, bootstrap_raked, engine

    fw, s = sim
    m = s.margins
    if population:  # units: counts for a population-weighted reference, no margins
        total = m.total.copy()
        total[:, 2] = 100.0
        m = Margins(age=m.age, gender=m.gender, total=total)
    if budget is not None:  # several chunks of replicates (the last one shorter)
        monkeypatch.setattr(bootstrap, "_RAKE_COUNT_BUDGET", budget)
        monkeypatch.setattr(
            bootstrap_raked, "block_chunk", lambda layout, blocks, boot: 9_000 // s.data.n
        )
    monkeypatch.setattr(bootstrap, "STREETS_TOGETHER", 4)  # blocks of 4 and 2 streets
    calls = []
    real = bootstrap_raked.raked_indicator_replicates

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(kwargs["keep_ratios"])
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "raked_indicator_replicates", spy)
    res = score(fw, s.data, boot=150, seed=3, margins=m)
    assert calls == [population]
    assert res.method["district_reference"] == ("population" if population else "street_mean")
    street = to_json(res)
    monkeypatch.setattr(engine, "raked_streetwise", lambda shares, raking: False)
    all_cells = score(fw, s.data, boot=150, seed=3, margins=m)
    assert len(calls) == 1
    assert to_json(all_cells) == street
    assert all_cells.method["weighting"] == res.method["weighting"]


def test_street_by_street_reraking_only_without_trimming(sim) -> None:
    from scoring.bootstrap_raked import raked_streetwise
    from scoring.estimators import Weights

    fw, s = sim
    d = s.data
    lay = cell_layout(d)
    rr = replicate_raking(
        d.street * 3 + d.group, d.age_band, d.gender, d.weight, lay.order, s.margins
    )
    shares = Weights.of(fw).shares
    assert raked_streetwise(shares, rr)
    trimmed = replicate_raking(
        d.street * 3 + d.group, d.age_band, d.gender, d.weight, lay.order, s.margins, (0.3, 3.0)
    )
    assert not raked_streetwise(shares, trimmed)
    assert not raked_streetwise(shares, None)
    with pytest.raises(ValueError, match="bounded raking"):
        trimmed.cell_factors(np.ones((18, 1, 2)), np.array([0]), np.array([True]))


def test_calibration_values_are_each_cells_weighted_regression_residuals() -> None:
    # by hand, row by row: a weighted least-squares fit on intercept + known age bands
    # + known genders (the margins a cell uses) per cell and item, residuals scaled by
    # sqrt((a - 1)/(a - rank)); cells without margins keep their answers
    from dataclasses import replace

    from scoring.raking import N_AGE, N_GENDER
    from scoring.weighting import _codes, calibration_values, prepare_weighting

    fw = load_default_framework()
    s = simulate_weighting(fw, [f"S{i}" for i in range(5)], 30, seed=5, undisclosed=0.1,
                           dk_rate=0.15)  # fmt: skip
    d = s.data
    rng = np.random.default_rng(2)
    d = replace(d, age_band=np.where(rng.random(d.n) < 0.05, N_AGE - 1, d.age_band))
    age_m, gender_m = s.margins.age.copy(), s.margins.gender.copy()
    gender_m[1, 0] = np.nan  # street 1's elderly: age bands only
    age_m[2, 1] = np.nan  # street 2's adults: gender only
    margins = Margins(age=age_m, gender=gender_m, total=s.margins.total)
    data = prepare_weighting(d, margins).data
    age, gender = _codes(data)
    got = calibration_values(data, margins, age, gender)

    G = len(data.groups)
    cell = data.street * G + data.group
    expected = np.full(got.shape, np.nan)
    for c in np.unique(cell):
        s_, g_ = divmod(int(c), G)
        use_a = bool(np.isfinite(age_m[s_, g_]).all())
        use_g = bool(np.isfinite(gender_m[s_, g_]).all())
        for j in range(got.shape[1]):
            rows = np.flatnonzero((cell == c) & (data.points[:, j] > 0))
            y, w = data.values[rows, j], data.weight[rows]
            if not (use_a or use_g):
                expected[rows, j] = y
                continue
            cols = [np.ones(rows.size)]
            cols += [age[rows] == k for k in range(N_AGE - 1)] if use_a else []
            cols += [gender[rows] == k for k in range(N_GENDER - 1)] if use_g else []
            X = np.column_stack(cols).astype(float) * np.sqrt(w)[:, None]
            beta = np.linalg.lstsq(X, y * np.sqrt(w), rcond=None)[0]
            fitted = X @ beta / np.sqrt(w)
            rank = np.linalg.matrix_rank(X)
            grow = np.sqrt((rows.size - 1) / (rows.size - rank)) if rows.size > rank else 1.0
            expected[rows, j] = np.average(y, weights=w) + (y - fitted) * grow
    np.testing.assert_array_equal(np.isnan(got), data.points <= 0)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)
    # their weighted cell means are the answers' (the engine's variance step reuses
    # the point estimates' cell sums)
    wm = data.weight[:, None] * (data.points > 0)
    for c in np.unique(cell):
        rows = cell == c
        np.testing.assert_allclose(
            (wm[rows] * np.nan_to_num(got[rows])).sum(0),
            (wm[rows] * np.nan_to_num(data.values[rows])).sum(0),
            rtol=1e-12,
            atol=1e-9,
        )

    # the rows in any order: the same values, in that order
    perm = rng.permutation(data.n)
    from scoring.engine import subset

    shuffled = subset(data, perm)
    np.testing.assert_allclose(
        calibration_values(shuffled, margins, *_codes(shuffled)), got[perm], rtol=0, atol=1e-9
    )


def test_street_by_street_reraking_in_other_chunks_of_replicates(sim, monkeypatch) -> None:
    # a block holds its counts for a chunk of replicates (every replicate at once here);
    # smaller chunks give the same draws, so the same scores to float32 rounding
    from scoring import bootstrap_raked
    from scoring.bootstrap_raked import block_chunk
    from scoring.estimators import cell_layout

    fw, s = sim
    lay = cell_layout(s.data)
    blocks = [[0, 1, 2, 3], [4, 5]]
    assert block_chunk(lay, blocks, 150) == 150
    whole = score(fw, s.data, boot=150, seed=3, margins=s.margins, sensitivity=False)
    rows = int(lay.starts[4 * 3])  # the first block's respondents
    monkeypatch.setattr(bootstrap_raked, "BLOCK_COUNT_BUDGET", rows * 60)
    assert block_chunk(lay, blocks, 150) == 50  # three equal chunks, not 60 + 60 + 30
    from scoring import engine

    chunks = []
    real = bootstrap_raked.raked_indicator_replicates

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        out = real(*args, **kwargs)
        chunks.append(out.chunks)
        return out

    monkeypatch.setattr(engine, "raked_indicator_replicates", spy)
    parts = score(fw, s.data, boot=150, seed=3, margins=s.margins, sensitivity=False)
    sizes = [b1 - b0 for b0, b1 in chunks[0]]  # the engine's one block of 6 streets
    assert len(sizes) > 1 and max(sizes) - min(sizes) < len(sizes) and sum(sizes) == 150
    for a, b in zip(whole.streets, parts.streets, strict=True):
        assert a.ci_low == pytest.approx(b.ci_low, abs=1e-4)
        assert a.ci_high == pytest.approx(b.ci_high, abs=1e-4)
        assert a.rank_low == b.rank_low and a.rank_high == b.rank_high


def test_replicate_tables_solved_on_their_age_rows_give_the_same_bits(sim) -> None:
    # a cell's tables are solved on the age rows its respondents can fill (bands with
    # population, and the unknown band): the same factors, bit for bit, on every class
    # with respondents as solving all six rows
    from dataclasses import replace

    from scoring.bootstrap import _cell_counts, _cell_streams
    from scoring.raking import N_AGE, N_CLASS

    fw, s = sim
    d = s.data
    lay = cell_layout(d)
    cell = d.street * len(d.groups) + d.group
    margins = s.margins
    age = margins.age.copy()
    age[0, 1] = np.nan  # one cell raked to gender alone: all its rows are solved
    margins = Margins(age=age, gender=margins.gender, total=margins.total)
    rr = replicate_raking(cell, d.age_band, d.gender, d.weight, lay.order, margins)
    assert rr.age_rows is not None and rr.age_set is not None
    assert len(rr.age_rows) >= 3  # elderly bands, adult bands, every band
    assert all(rows[-1] == N_AGE - 1 for rows in rr.age_rows)
    every = replace(rr, age_rows=None, age_set=None)
    cells = np.flatnonzero(rr.raked_cells)
    boot = 40
    gens = _cell_streams(5, lay.n_cells)
    tables = np.zeros((N_CLASS, cells.size, boot))
    for i, c in enumerate(cells):
        lo, hi = int(lay.starts[c]), int(lay.starts[c + 1])
        tables[:, i, :] = (_cell_counts(gens[c], hi - lo, boot) @ rr.onehot[lo:hi]).T
    raked = np.ones(cells.size, dtype=bool)
    got, n, redone = rr.cell_factors(tables, cells, raked)
    want, n2, redone2 = every.cell_factors(tables, cells, raked)
    assert (n, redone) == (n2, redone2) and n == cells.size * boot
    for i, c in enumerate(cells):
        used = np.unique(rr.classes[lay.starts[c] : lay.starts[c + 1]])
        np.testing.assert_array_equal(got[used, i], want[used, i])


def test_main_effects_fits_equal_the_pseudo_inverse() -> None:
    # the kept-column solve gives the pseudo-inverse's fitted values and rank on every
    # pattern of empty classes, unknown categories absent, margins not used, and age x
    # gender blocks that share no gender (solved by the pseudo-inverse itself)
    from scoring.raking import N_AGE, N_GENDER
    from scoring.weighting import _class_design, _main_effects

    rng = np.random.default_rng(8)
    C, J, Q = 400, 3, N_AGE * N_GENDER
    P = 1 + (N_AGE - 1) + (N_GENDER - 1)
    W = rng.gamma(2.0, 1.0, (C, J, Q)) * (rng.random((C, J, Q)) < rng.uniform(0.1, 0.9, (C, J, 1)))
    W[:20] = 0.0  # blocks: ages 0-1 only female, ages 2-3 only male, nothing else
    W[:20, :, [0 * 3 + 0, 1 * 3 + 0, 2 * 3 + 1, 3 * 3 + 1]] = 1.5
    W[20:30] = 0.0  # no answers at all
    Y = W * rng.normal(60, 15, (C, J, Q))
    D = _class_design()
    assert D[3 * N_GENDER + 1].tolist() == [1, 0, 0, 0, 1, 0, 0, 1]  # 70-79, male
    assert D[(N_AGE - 1) * N_GENDER + 2].tolist() == [1] + [0] * (P - 1)  # unknown, unknown
    use = np.ones((C, P))
    use[30:60, 1:N_AGE] = 0.0  # gender only
    use[60:90, N_AGE:] = 0.0  # age only
    use[90:100, 1:] = 0.0  # neither
    X = D[None] * use[:, None, :]  # (C, Q, P)
    xtwx = np.einsum("cqp,cjq,cqr->cjpr", X, W, X)
    xtwy = np.einsum("cqp,cjq->cjp", X, Y)
    beta, rank = _main_effects(W, xtwx, xtwy, use)
    fitted = np.einsum("cqp,cjp->cjq", X, beta * use[:, None, :])
    pinv = np.linalg.pinv(xtwx, rcond=1e-10, hermitian=True)
    want = np.einsum("cqp,cjp->cjq", X, (pinv @ xtwy[..., None])[..., 0])
    support = W > 0
    np.testing.assert_allclose(fitted[support], want[support], rtol=0, atol=1e-8)
    want_rank = np.linalg.matrix_rank(xtwx, hermitian=True)
    np.testing.assert_array_equal(rank, want_rank)
    assert (rank[:20] == 4).all()  # two blocks, 4 ages + 2 genders less 1 per block
    assert (rank[20:30] == 0).all()
