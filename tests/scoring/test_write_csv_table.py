"""The columnar CSV writer writes exactly the bytes of the record-by-record writer."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.exchange import (
    DK,
    ResponseRecord,
    read_table,
    table_records,
    write_csv,
    write_csv_table,
)
from scoring.framework import load_default_framework

SPEC = load_default_framework()
CODES = SPEC.indicator_codes
TEXT = st.one_of(
    st.sampled_from(["", "=1+1", "+86", "-", "@x", "＝SUM(A1)", "a,b", 'say "hi"', "两行\n文字",
                     "\tx", "'=already", " lead", "普通意见"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"),
            max_size=12),
)  # fmt: skip


@st.composite
def records(draw: st.DrawFn) -> list[ResponseRecord]:
    n = draw(st.integers(min_value=1, max_value=12))
    out = []
    for i in range(n):
        answers = {
            c: draw(st.sampled_from([None, DK, 1, 2, 3, 4, 5])) for c in CODES
        }  # fmt: skip
        out.append(
            ResponseRecord(
                response_id=f"r{i}" + draw(st.sampled_from(["", ",x", '"q"'])),
                street=draw(st.sampled_from(["甲路", "乙路", "=丙路", "丁,路"])),
                group=draw(st.sampled_from(SPEC.group_codes)),
                submitted_at=draw(
                    st.sampled_from([None, datetime(2026, 3, 1, 8, 5, 9), datetime(2026, 3, 2)])
                ),
                channel=draw(st.sampled_from(["paper", "online", "open"])),
                weight=draw(st.sampled_from([1.0, 0.5, 2.25, 1.0000001, 1e-3, 3.0])),
                answers=answers,
                concerns=tuple(draw(st.lists(st.sampled_from(CODES), max_size=3, unique=True))),
                overall=draw(st.sampled_from([None, 1, 3, 5])),
                comment=draw(TEXT),
                age_band=draw(st.sampled_from([None, "18-34", "80+"])),
                gender=draw(st.sampled_from([None, "female", "undisclosed"])),
                residence_years=draw(st.sampled_from([None, "lt1", "10+"])),
            )
        )
    return out


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(records())
def test_columnar_writer_equals_record_writer(recs: list[ResponseRecord]) -> None:
    table = read_table(write_csv(recs, SPEC), SPEC)  # the reader normalises some text
    assert write_csv_table(table, SPEC) == write_csv(table_records(table, SPEC), SPEC)


def test_columnar_writer_without_demographic_columns_and_row_subsets() -> None:
    recs = [
        ResponseRecord(
            response_id=f"r{i}",
            street="甲路",
            group="adult",
            submitted_at=None,
            channel="paper",
            weight=1.0 + i,
            answers={c: (DK if i == 1 else 4) for c in CODES},
            concerns=("I04",) if i else (),
            overall=None,
            comment="-x" if i == 2 else "",
        )
        for i in range(4)
    ]
    table = read_table(write_csv(recs, SPEC), SPEC)
    bare = dataclasses.replace(table, demographics={})
    assert write_csv_table(bare, SPEC) == write_csv(table_records(bare, SPEC), SPEC)
    rows = np.array([3, 0, 2])
    sub = table.take(rows)
    assert write_csv_table(sub, SPEC) == write_csv([recs[3], recs[0], recs[2]], SPEC)
