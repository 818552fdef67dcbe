"""Framework problems carry codes and params; the English lines stay as the CLI prints them."""

from __future__ import annotations

import pytest

from scoring.framework import FrameworkError, default_framework_text, parse_framework

BASE = default_framework_text()


@pytest.mark.parametrize(
    ("old", "new", "code", "params"),
    [
        ("weight = 0.2", "weight = -0.2", "framework.number.positive",
         {"key": "dimensions[0].weight", "value": "-0.2", "item": "D1"}),
        ("weight = 0.2", "weight = 0.3", "framework.weights.sum",
         {"key": "dimensions", "total": "1.1"}),
        ('dimension = "D1"', 'dimension = "D9"', "framework.indicator.dimension",
         {"key": "indicators[0].dimension", "value": "D9"}),
        ("version = 1", "version = 0", "framework.version",
         {"key": "framework.version", "value": "0"}),
    ],
)  # fmt: skip
def test_problem_has_code_params_and_the_same_english_line(old, new, code, params):
    assert old in BASE
    with pytest.raises(FrameworkError) as info:
        parse_framework(BASE.replace(old, new, 1), source="f.toml")
    (problem,) = [p for p in info.value.found if p.code == code]
    assert {k: problem.params[k] for k in params} == params
    assert problem.params["source"] == "f.toml"
    assert problem.message.startswith(f"f.toml: {params['key']}: ")
    assert info.value.problems == [p.message for p in info.value.found]
    assert str(info.value) == "\n".join(info.value.problems)


def test_every_problem_of_a_broken_file_is_coded():
    broken = BASE.replace("weight = 0.20\n", 'weight = "x"\n', 1).replace(
        'code = "I01"', 'code = "I 1"'
    )
    broken = broken.replace('dont_know = "不了解"', 'dont_know = ""')
    with pytest.raises(FrameworkError) as info:
        parse_framework(broken, source="f.toml")
    codes = {p.code for p in info.value.found}
    assert "framework.other" not in codes and len(codes) >= 3
    assert all(c.startswith("framework.") for c in codes)
    with pytest.raises(FrameworkError) as info:
        parse_framework("x = [", source="f.toml")
    assert [p.code for p in info.value.found] == ["framework.file.toml"]


def test_plain_strings_still_accepted():
    err = FrameworkError(["a: b: c"])
    assert err.problems == ["a: b: c"] and err.found[0].code == "framework.other"
