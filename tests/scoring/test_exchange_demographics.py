"""The exchange format's optional demographic columns (age_band, gender, residence_years)."""

from __future__ import annotations

import pytest


def test_exchange_demographic_columns_are_optional_and_round_trip(framework_spec) -> None:
    from scoring.exchange import columns, read_responses, write_csv, write_xlsx

    codes = framework_spec.indicator_codes
    old_header = columns(framework_spec)[:-3]  # a file from before the demographic columns
    assert columns(framework_spec)[-3:] == ["age_band", "gender", "residence_years"]
    old = ",".join(old_header) + "\n" + "r1,宁海路,elderly,,paper,," + ",".join(["4"] * len(codes))
    records = read_responses((old + ",,,\n").encode(), framework_spec)
    assert (records[0].age_band, records[0].gender, records[0].residence_years) == (None,) * 3
    new = (
        ",".join(columns(framework_spec))
        + "\nr1,宁海路,elderly,,paper,,"
        + ",".join(["4"] * len(codes))
        + ",,,,70-79,undisclosed,10+\n"
        + "r2,宁海路,elderly,,paper,,"
        + ",".join(["4"] * len(codes))
        + ",,,,90+,other,\n"
    )
    with pytest.raises(ValueError) as info:
        read_responses(new.encode(), framework_spec)
    n = len(columns(framework_spec))
    assert info.value.problems == [  # type: ignore[attr-defined]
        f"line 3, column {n - 2} (age_band): '90+' is not one of 18-34, 35-59, 60-69, 70-79, "
        "80+ (or empty)",
        f"line 3, column {n - 1} (gender): 'other' is not one of female, male, undisclosed "
        "(or empty)",
    ]
    good = read_responses(new.split("\nr2")[0].encode() + b"\n", framework_spec)
    assert (good[0].age_band, good[0].gender, good[0].residence_years) == (
        "70-79",
        "undisclosed",
        "10+",
    )
    for written in (write_csv(good, framework_spec), write_xlsx(good, framework_spec)):
        assert read_responses(written, framework_spec) == good
