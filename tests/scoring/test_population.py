"""Population margins file: parsing, validation messages, round trips."""

from __future__ import annotations

import numpy as np
import pytest

from scoring.population import (
    AGE_BANDS,
    PopulationError,
    read_population,
    write_population_csv,
    write_population_xlsx,
)

HEADER = "street,group,variable,category,count\n"


def cell_rows(street: str, group: str, ages: list[int], genders: list[int] | None) -> str:
    out = "".join(
        f"{street},{group},age_band,{a},{c}\n" for a, c in zip(AGE_BANDS, ages, strict=True)
    )
    if genders is not None:
        out += f"{street},{group},gender,female,{genders[0]}\n"
        out += f"{street},{group},gender,male,{genders[1]}\n"
    return out


GOOD = (
    HEADER
    + cell_rows("宁海路", "elderly", [0, 0, 500, 300, 200], [560, 440])
    + cell_rows("宁海路", "adult", [700, 800, 0, 0, 0], [750, 750])
    + "湖南路,elderly,gender,female,30.5\n湖南路,elderly,gender,male,20\n"
)


def test_good_file_gives_margins_and_totals() -> None:
    pop = read_population(GOOD.encode())
    assert pop.cells == (("宁海路", "elderly"), ("宁海路", "adult"), ("湖南路", "elderly"))
    assert pop.margins("宁海路", "elderly")["gender"] == {"female": 560.0, "male": 440.0}
    assert pop.total("宁海路", "adult") == 1500.0
    assert pop.total("湖南路", "elderly") == 50.5
    assert pop.total("湖南路", "adult") is None
    m = pop.arrays(["湖南路", "宁海路", "其他"], ["elderly", "adult", "unit"])
    assert m.age.shape == (3, 3, 5) and m.gender.shape == (3, 3, 2)
    np.testing.assert_array_equal(m.age[1, 0], [0, 0, 500, 300, 200])
    assert np.isnan(m.age[0, 0]).all()  # only gender given
    np.testing.assert_array_equal(m.gender[0, 0], [30.5, 20])
    np.testing.assert_array_equal(
        m.total, [[50.5, np.nan, np.nan], [1000, 1500, np.nan], [np.nan] * 3]
    )


def test_bom_and_xlsx_round_trip() -> None:
    pop = read_population(b"\xef\xbb\xbf" + GOOD.encode())
    csv_bytes = write_population_csv(pop)
    assert csv_bytes.startswith(b"\xef\xbb\xbf")
    again = read_population(csv_bytes)
    assert again.rows == pop.rows
    from_xlsx = read_population(write_population_xlsx(pop))
    assert from_xlsx.rows == pop.rows
    assert from_xlsx.sha256() == pop.sha256()


def test_every_problem_is_listed_with_line_and_column() -> None:
    bad = (
        HEADER
        + "宁海路,elderly,age,18-34,1\n"  # unknown variable
        + "宁海路,elderly,gender,undisclosed,3\n"  # not a population category
        + "宁海路,elderly,gender,female,-1\n"  # negative
        + "宁海路,elderly,gender,male,abc\n"  # not a number
        + ",adult,gender,male,1\n"  # empty street
        + "宁海路,ghost,gender,male,1\n"  # unknown group
        + "湖南路,adult,gender,female,\n"  # empty count
        + "湖南路,adult,gender,male,1\n"
        + "湖南路,adult,gender,male,2\n"  # duplicate
        + "湖南路,elderly,age_band,18-34,1\n"  # age misses four bands
        + cell_rows("中央门", "adult", [1, 1, 1, 1, 1], [2, 4])  # totals differ
        + "中央门,adult,gender,male,1,extra\n"
    )
    with pytest.raises(PopulationError) as info:
        read_population(bad.encode(), groups=["elderly", "adult", "unit"])
    assert info.value.problems == [
        "line 2, column 3 (variable): unknown variable 'age' (use age_band, gender or total)",
        "line 3, column 4 (category): 'undisclosed' is not a gender category (use female, male)"
        "; 'undisclosed' is an answer, not a population category",
        "line 4, column 5 (count): count '-1' must be a number ≥ 0",
        "line 5, column 5 (count): count 'abc' must be a number ≥ 0",
        "line 6, column 1 (street): street is empty",
        "line 7, column 2 (group): unknown group 'ghost' (use one of elderly, adult, unit)",
        "line 8, column 5 (count): count is empty (give 0 if there is nobody)",
        "line 10, column 4 (category): 湖南路 / adult / gender male is given twice "
        "(first on line 9)",
        "line 19: has 6 cells but the header has 5 columns",
        "line 11, column 4 (category): 湖南路 / elderly gives age_band counts but no row for "
        "35-59, 60-69, 70-79, 80+ (give 0 if there is nobody)",
        "line 17, column 5 (count): 中央门 / adult: the age_band counts add up to 5 but the "
        "gender counts to 6; both describe the same people and must add up to the same total",
    ]


def test_header_problems_and_empty_files() -> None:
    with pytest.raises(PopulationError, match="missing column count"):
        read_population(b"street,group,variable,category,people\n")
    with pytest.raises(PopulationError) as info:
        read_population(b"street,group,variable,category,count,count\n")
    assert info.value.problems == ["line 1, column 6 (count): duplicate column"]
    with pytest.raises(PopulationError, match="header but no counts"):
        read_population(HEADER.encode())
    with pytest.raises(PopulationError, match="empty"):
        read_population(b"")
    with pytest.raises(PopulationError, match="line 2, column 1: the file is not UTF-8"):
        read_population(HEADER.encode() + b"\xb9\xc4\xc2\xa5,elderly,gender,male,1\n")
    with pytest.raises(PopulationError, match="not a readable .xlsx"):
        read_population(b"PK\x03\x04broken")


def test_street_names_and_codes_map_to_canonical_names() -> None:
    text = HEADER + "NHL,adult,gender,female,1\nNHL,adult,gender,male,1\n"
    pop = read_population(text.encode(), streets={"NHL": "宁海路", "宁海路": "宁海路"})
    assert pop.cells == (("宁海路", "adult"),)
    with pytest.raises(PopulationError, match="line 2, column 1 \\(street\\): unknown street 'X'"):
        read_population((HEADER + "X,adult,gender,female,1\n").encode(), streets={})


def test_total_rows_give_unit_counts_and_are_validated() -> None:
    text = (
        HEADER
        + cell_rows("宁海路", "elderly", [0, 0, 500, 300, 200], [560, 440])
        + "宁海路,elderly,total,all,1000\n"
        + "宁海路,unit,total,all,35\n"
    )
    pop = read_population(text.encode())
    assert pop.total("宁海路", "unit") == 35.0
    assert pop.total("宁海路", "elderly") == 1000.0
    m = pop.arrays(["宁海路"], ["elderly", "adult", "unit"])
    np.testing.assert_array_equal(m.total, [[1000, np.nan, 35]])
    assert np.isnan(m.age[0, 2]).all() and np.isnan(m.gender[0, 2]).all()
    np.testing.assert_array_equal(m.raked, [[True, False, False]])  # units: counts, not raked
    # round trip keeps the total rows (after the margins of their cell)
    again = read_population(write_population_csv(pop))
    assert again.rows == pop.rows
    assert read_population(write_population_xlsx(pop)).rows == pop.rows

    bad = (
        HEADER
        + cell_rows("宁海路", "elderly", [0, 0, 500, 300, 200], [560, 440])
        + "宁海路,elderly,total,all,999\n"  # line 9: disagrees with the margins
        + "宁海路,unit,total,everyone,35\n"  # line 10
        + "湖南路,unit,total,all,-1\n"  # line 11
        + "湖南路,unit,totals,all,3\n"  # line 12
    )
    with pytest.raises(PopulationError) as exc:
        read_population(bad.encode())
    problems = exc.value.problems
    assert (
        "line 9, column 5 (count): 宁海路 / elderly: the total is 999 but the age_band counts "
        "add up to 1000; they describe the same people and must agree (or leave the total out)"
    ) in problems
    assert any("the gender counts add up to 1000" in p for p in problems)
    assert "line 10, column 4 (category): 'everyone' is not a total category (use all)" in problems
    assert "line 11, column 5 (count): count '-1' must be a number ≥ 0" in problems
    assert (
        "line 12, column 3 (variable): unknown variable 'totals' (use age_band, gender or total)"
        in problems
    )
