"""Each wave is scored with its own default seed, stored in the run."""

from __future__ import annotations

from scoring.change import wave_seed
from survey.extensions import db
from survey.services.scoring_runs import current_run, default_seed, score_wave
from survey.services.waves import transition

from .test_notices import fill


def test_seed_is_derived_from_the_wave_and_stable(make_wave):
    wave = make_wave("s0")
    assert default_seed(wave) == wave_seed("s0") == default_seed(wave)
    assert 0 <= default_seed(wave) < 2**31
    assert default_seed(make_wave("s0b")) != default_seed(wave)


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
