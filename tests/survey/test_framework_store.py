"""Stored framework versions: identical specs reused, frozen versions never changed."""

from dataclasses import replace

from survey.services.frameworks import save_framework, spec_of
from survey.services.waves import transition


def test_same_spec_reuses_the_stored_version(app, framework_spec):
    first = save_framework(framework_spec)
    assert save_framework(framework_spec).id == first.id
    assert spec_of(first) == framework_spec


def test_frozen_framework_gets_a_new_version(app, make_wave, framework_spec):
    wave = make_wave("v", state="draft")
    transition(wave, "open")
    assert wave.framework.frozen
    edited = replace(
        framework_spec,
        indicators=(
            replace(framework_spec.indicators[0], name="社区党组织作用"),
            *framework_spec.indicators[1:],
        ),
    )
    second = save_framework(edited)
    assert second.id != wave.framework.id
    assert (second.code, second.version) == (framework_spec.code, 2)
    assert spec_of(wave.framework).indicators[0].name == "社区党组织作用发挥"
    assert spec_of(second).indicators[0].name == "社区党组织作用"


def test_unfrozen_draft_is_replaced_in_place(app, framework_spec):
    first = save_framework(framework_spec)
    edited = replace(framework_spec, name="修改后的名称")
    second = save_framework(edited)
    assert second.version == first.version == 1
    assert spec_of(second).name == "修改后的名称"
