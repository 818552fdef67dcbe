"""The caterpillar chart tells bands apart without red-green: blue/orange and markers."""

from types import SimpleNamespace as Row

from survey.services import charts


def test_caterpillar_is_blue_orange_with_a_legend_naming_the_bands():
    # duck-typed stand-ins for scoring.result.StreetResult / DistrictResult
    streets = [
        Row(street="甲街道", score=92.0, ci_low=91.0, ci_high=93.0, band="above"),
        Row(street="乙街道", score=88.0, ci_low=86.5, ci_high=89.5, band="similar"),
        Row(street="丙街道", score=84.0, ci_low=83.0, ci_high=85.0, band="below"),
    ]
    svg = charts.caterpillar(
        streets,
        Row(score=88.0, ci_low=87.5, ci_high=88.5),
        band_labels={"above": "高于全区", "similar": "与全区相当", "below": "低于全区"},
    ).decode()
    assert "#2166ac" in svg and "#b35806" in svg  # the heat map's blue and orange
    assert "#1e6b34" not in svg and "#a3121b" not in svg  # no green, no red
    for words in ("高于全区", "与全区相当", "低于全区", "全区 88.0"):
        assert words in svg
