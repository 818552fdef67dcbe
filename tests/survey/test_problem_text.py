"""Every coded problem from scoring/ has a sentence in the console's languages."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from flask_babel import force_locale

from scoring.problems import Problem
from scoring.settings import ScoringSettings
from survey.services.framework_words import _said
from survey.services.problem_text import TEXTS, problem_text

ROOT = Path(__file__).resolve().parents[2]


def framework_codes() -> set[str]:
    """Codes scoring/framework.py can raise (read from its source)."""
    text = (ROOT / "scoring" / "framework.py").read_text("utf-8")
    fail = re.findall(r'self\.fail\(\s*[^,]+,\s*"([a-z_.]+)"', text)
    whole = re.findall(r'(?:_file_problem\(\s*[^,]+,\s*|Problem\(\s*)"(framework\.[a-z_.]+)"', text)
    return {f"framework.{c}" for c in fail} | set(whole)


def test_every_framework_code_has_chinese_and_english(app):
    codes = framework_codes() - {"framework.other"}
    assert len(codes) >= 30
    params = defaultdict(lambda: "X")
    with app.test_request_context():
        for code in sorted(codes):
            problem = Problem(code, "english", params)
            zh = _said(problem)
            assert zh is not None and re.search(r"[\u4e00-\u9fff]", zh), code
            with force_locale("en"):
                en = _said(problem)
            assert en is not None and not re.search(r"[\u4e00-\u9fff]", en), (code, en)


def test_settings_problems_in_both_languages(app):
    found = ScoringSettings(boot=5, seed=-1, min_n=0, top_k=99, band_rule="x").problems()
    assert {p.code for p in found} <= set(TEXTS)
    with app.test_request_context():
        zh = [problem_text(p) for p in found]
        assert zh[0] == "重复抽样次数须在 100 到 10000 之间。"
        with force_locale("en"):
            en = [problem_text(p) for p in found]
    assert en[0] == "The number of resamples must be between 100 and 10000."
    assert all(not re.search(r"[\u4e00-\u9fff]", t) for t in en)
    assert problem_text(Problem("unknown.code", "as is")) == "as is"


def test_console_score_form_refuses_out_of_range_with_the_shared_sentence(
    app, make_wave, framework_spec
):
    import pytest

    from survey.services.console import score_from_console
    from survey.services.waves import transition

    from .test_notices import fill

    wave = make_wave("pt")
    fill(wave, framework_spec, n=5)
    transition(wave, "close")
    with app.test_request_context(), pytest.raises(ValueError, match="须在 100 到 10000 之间"):
        score_from_console(wave, boot=20_000, seed=1, min_n=5)
    assert wave.state == "closed"
