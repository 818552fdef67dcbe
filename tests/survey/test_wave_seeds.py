"""Each wave is scored with its own default seed, stored in the run."""

from __future__ import annotations

from survey.extensions import db
from survey.services.scoring_runs import current_run, default_seed, score_wave, seed_for_wave
from survey.services.waves import transition

from .test_notices import fill


def test_seed_is_derived_from_the_wave_and_stable():
    a = seed_for_wave("gulou", "2026")
    assert a == seed_for_wave("gulou", "2026")
    assert 0 <= a < 2**31
    others = {seed_for_wave("gulou", code) for code in ("2027", "2028", "2026b")}
    others.add(seed_for_wave("xuanwu", "2026"))
    assert a not in others and len(others) == 4


def test_two_waves_scored_by_default_get_different_stored_seeds(make_wave, framework_spec):
    runs = []
    for code in ("s1", "s2"):
        wave = make_wave(code)
        fill(wave, framework_spec, n=20)
        transition(wave, "close")
        runs.append(score_wave(wave, boot=100, min_n=5))
        assert runs[-1].seed == default_seed(wave)
        assert runs[-1].settings["seed"] == runs[-1].seed
    assert runs[0].seed != runs[1].seed
    wave = runs[0].wave
    explicit = score_wave(wave, boot=100, seed=5, min_n=5)
    assert explicit.seed == 5 and current_run(wave).seed == 5


def test_cli_and_console_default_to_the_wave_seed(
    make_wave, framework_spec, runner, client, login, make_user
):
    wave = make_wave("s3")
    fill(wave, framework_spec, n=20)
    transition(wave, "close")
    db.session.commit()
    expected = default_seed(wave)
    login(make_user("admin"))
    page = client.get(f"/admin/waves/{wave.code}").get_data(as_text=True)
    assert f'value="{expected}"' in page
    result = runner.invoke(args=["score-wave", wave.code, "--boot", "100", "--min-n", "5"])
    assert result.exit_code == 0, result.output
    assert f"seed {expected}" in result.output
    assert current_run(wave).seed == expected
    bad = runner.invoke(args=["score-wave", wave.code, "--seed", "-3"])
    assert bad.exit_code != 0 and "-3" in bad.output
