"""Framework TOML validation: one test per rule, each checking its message."""

from __future__ import annotations

import pytest

from scoring.framework import (
    FrameworkError,
    default_framework_text,
    dump_framework,
    load_default_framework,
    load_framework,
    parse_framework,
)

BASE = default_framework_text()


def problems_of(text: str) -> list[str]:
    with pytest.raises(FrameworkError) as info:
        parse_framework(text, source="f.toml")
    return info.value.problems


def edit(old: str, new: str, count: int = 1) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, count)


def test_default_framework_is_the_design_draft():
    fw = load_default_framework()
    assert len(fw.dimensions) == 4 and len(fw.indicators) == 17
    assert [d.weight for d in fw.dimensions] == [0.2, 0.3, 0.3, 0.2]
    assert [g.share for g in fw.groups] == [0.4, 0.4, 0.2]
    assert fw.scale.scores == (0, 25, 50, 75, 100)
    assert fw.scale.dont_know == "不了解"
    assert fw.indicator("I07").name == "电动车停放充电"


def test_dump_then_parse_is_identity():
    fw = load_default_framework()
    assert parse_framework(dump_framework(fw)) == fw


def test_configurable_score_mapping():
    fw = parse_framework(edit("scores = [0, 25, 50, 75, 100]", "scores = [20, 40, 60, 80, 100]"))
    assert fw.scale.scores == (20, 40, 60, 80, 100)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('code = "gulou-default"', "", "f.toml: framework.code: is missing"),
        ("version = 1", "version = 0", "f.toml: framework.version: must be a whole number >= 1"),
        (
            'labels = ["非常不满意", "不满意", "一般", "满意", "非常满意"]',
            'labels = ["很好"]',
            "f.toml: scale.labels: needs at least 2 points",
        ),
        (
            'labels = ["非常不满意", "不满意", "一般", "满意", "非常满意"]',
            'labels = ["差", "差", "一般", "满意", "非常满意"]',
            "f.toml: scale.labels: labels must differ",
        ),
        (
            "scores = [0, 25, 50, 75, 100]",
            "scores = [0, 25, 50, 100]",
            "f.toml: scale.scores: has 4 scores for 5 labels",
        ),
        (
            "scores = [0, 25, 50, 75, 100]",
            "scores = [0, 50, 25, 75, 100]",
            "f.toml: scale.scores: must increase strictly",
        ),
        (
            "scores = [0, 25, 50, 75, 100]",
            'scores = [0, 25, "x", 75, 100]',
            "f.toml: scale.scores: must be a list of numbers",
        ),
        (
            'dont_know = "不了解"',
            'dont_know = "一般"',
            "f.toml: scale.dont_know: '一般' is also a scale label",
        ),
        (
            "satisfied_from = 4",
            "satisfied_from = 9",
            "f.toml: scale.satisfied_from: must be a scale point from 1 to 5",
        ),
        ("share = 0.2", "share = -0.2", "f.toml: groups[2].share: must be positive"),
        ('code = "adult"', 'code = "elderly"', "f.toml: groups[1].code: duplicate code 'elderly'"),
        ("weight = 0.30", "weight = 0", "f.toml: dimensions[1].weight: must be positive"),
        (
            "weight = 0.20\n",
            "weight = 0.25\n",
            "f.toml: dimensions: weights add up to 1.05, they must add up to 1",
        ),
        ('code = "D4"', 'code = "D3"', "f.toml: dimensions[3].code: duplicate code 'D3'"),
        (
            'dimension = "D1"',
            'dimension = "D9"',
            "f.toml: indicators[0].dimension: unknown dimension 'D9'",
        ),
        ('code = "I02"', 'code = "I01"', "f.toml: indicators[1].code: duplicate code 'I01'"),
        (
            'question = "您对本街道的环境卫生是否满意？"',
            "",
            "f.toml: indicators[3].question: is missing",
        ),
        ("weight = 1\n", "weight = -1\n", "f.toml: indicators[0].weight: must be positive"),
    ],
)
def test_rule(old, new, message):
    assert any(p.startswith(message) for p in problems_of(edit(old, new))), problems_of(
        edit(old, new)
    )


def test_indicator_groups_must_exist():
    text = edit("weight = 1\n", 'weight = 1\ngroups = ["elderly", "students"]\n')
    assert "f.toml: indicators[0].groups: unknown group 'students'" in problems_of(text)


def test_dimension_without_indicators():
    text = BASE.replace('dimension = "D4"', 'dimension = "D3"')
    assert "f.toml: dimensions.D4: has no indicators" in problems_of(text)


def test_group_asked_nothing():
    text = BASE.replace("weight = 1\n", 'weight = 1\ngroups = ["elderly", "adult"]\n')
    assert "f.toml: groups.unit: is asked no indicator" in problems_of(text)


def test_missing_tables():
    problems = problems_of('[framework]\ncode = "x"\nname = "y"\n')
    assert "f.toml: scale: is missing: add a [scale] table with labels and scores" in problems
    assert "f.toml: groups: is missing: add at least one [[groups]] table" in problems
    assert "f.toml: dimensions: is missing: add at least one [[dimensions]] table" in problems
    assert "f.toml: indicators: is missing: add at least one [[indicators]] table" in problems


def test_not_toml():
    assert problems_of("[framework\ncode=")[0].startswith("f.toml: not valid TOML:")


def test_every_problem_reported_at_once():
    text = edit("share = 0.2", "share = -1").replace('dimension = "D1"', 'dimension = "D0"', 1)
    text = text.replace("scores = [0, 25, 50, 75, 100]", "scores = [0, 25]")
    assert len(problems_of(text)) >= 3


def test_load_framework_file_errors(tmp_path):
    with pytest.raises(FrameworkError, match="nope.toml: file not found"):
        load_framework(tmp_path / "nope.toml")
    bad = tmp_path / "gbk.toml"
    bad.write_bytes("名称".encode("gbk"))
    with pytest.raises(FrameworkError, match="gbk.toml: the file is not UTF-8 text"):
        load_framework(bad)
