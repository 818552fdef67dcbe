"""Property-based tests of the file readers: only documented errors, only valid records."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.exchange import (
    DK,
    ExchangeError,
    ResponseRecord,
    parse_rows,
    read_responses,
    write_csv,
)
from scoring.framework import (
    Framework,
    FrameworkError,
    default_framework_text,
    load_default_framework,
    parse_framework,
)

FUZZ = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
SPEC = load_default_framework()
STREETS = {"甲路": "甲路", "A1": "甲路", "乙路": "乙路"}

cells = st.one_of(
    st.sampled_from(
        ["", "1", "5", "6", "0", "DK", "dk", " 2 ", "1.0", "３", "I04;I07", "I04;I04;I05;I06",
         "online", "paper", "fax", "2026-03-01 08:00:00", "2026-02-30", "-1", "1e309", "nan",
         "甲路", "A1", "丙路", "adult", "unit", "x" * 3000, "=1+1", "\x00"]
    ),
    st.text(max_size=20),
)  # fmt: skip


def _valid_rows() -> list[list[str]]:
    records = [
        ResponseRecord(
            response_id=f"r{i}",
            street="甲路" if i % 2 else "乙路",
            group="adult",
            submitted_at=datetime(2026, 3, 1, 8, i, 0),
            channel="paper",
            weight=1.0,
            answers={c: (DK if (i + k) % 7 == 0 else 1 + (i + k) % 5)
                     for k, c in enumerate(SPEC.indicator_codes)},
            concerns=("I04",),
            overall=3,
            comment="",
        )
        for i in range(3)
    ]  # fmt: skip
    text = write_csv(records, SPEC).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


ROWS = _valid_rows()


def _check_records(records: list[ResponseRecord]) -> None:
    points = set(range(1, SPEC.scale.points + 1))
    asked_by_group = {g: {i.code for i in SPEC.indicators_for(g)} for g in SPEC.group_codes}
    for rec in records:
        assert rec.street in STREETS.values() and rec.group in SPEC.group_codes
        assert rec.channel in ("online", "open", "phone", "face", "paper")
        for code, value in rec.answers.items():
            assert value is None or value == DK or value in points, (code, value)
            if value is not None:
                assert code in asked_by_group[rec.group]
        assert len(rec.concerns) <= 3 and set(rec.concerns) <= set(SPEC.indicator_codes)
        assert rec.overall is None or rec.overall in points


@FUZZ
@given(
    edits=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 30), cells), max_size=8),
    extra=st.lists(st.lists(cells, max_size=30), max_size=2),
)
def test_parse_rows_gives_valid_records_or_every_problem(edits, extra):
    table = [list(r) for r in ROWS] + extra
    for r, c, value in edits:
        if r < len(table) and c < len(table[r]):
            table[r][c] = value
    try:
        records = parse_rows(table, SPEC, streets=STREETS)
    except ExchangeError as exc:
        assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)
        return
    _check_records(records)


@FUZZ
@given(data=st.binary(max_size=400), fmt=st.sampled_from(["csv", "xlsx", None]))
def test_read_responses_on_arbitrary_bytes(data, fmt):
    try:
        records = read_responses(data, SPEC, streets=STREETS, fmt=fmt)
    except ExchangeError as exc:
        assert exc.problems
        return
    _check_records(records)


@FUZZ
@given(position=st.integers(0, 10_000), junk=st.binary(min_size=1, max_size=8))
def test_read_responses_on_damaged_files(position, junk):
    good = write_csv(
        [
            ResponseRecord("r1", "甲路", "adult", None, "paper", 1.0,
                           {c: 3 for c in SPEC.indicator_codes}, (), 4, "")
        ],
        SPEC,
    )  # fmt: skip
    at = position % len(good)
    for data in (good[:at] + junk + good[at:], good[:at]):
        try:
            _check_records(read_responses(data, SPEC, streets=STREETS, fmt="csv"))
        except ExchangeError as exc:
            assert exc.problems


FRAMEWORK_LINES = default_framework_text().splitlines()
toml_values = st.one_of(
    st.sampled_from(
        ['""', "0", "-1", "1.5", "1e400", "nan", "inf", "true", "[]", '["adult", "nobody"]',
         '"I01"', '"D9"', "[1, 2]", '"x"', "{}", "0.0000001", "100"]
    ),
    st.text(max_size=10).map(lambda t: '"' + t.replace("\\", "").replace('"', "") + '"'),
)  # fmt: skip


@FUZZ
@given(
    edits=st.lists(
        st.tuples(st.integers(0, len(FRAMEWORK_LINES) - 1), toml_values, st.booleans()),
        max_size=5,
    )
)
def test_framework_edits_are_valid_or_reported(edits):
    lines = list(FRAMEWORK_LINES)
    for n, value, delete in edits:
        if delete:
            lines[n] = ""
        elif "=" in lines[n]:
            key = lines[n].split("=", 1)[0]
            lines[n] = f"{key}= {value}"
    try:
        fw = parse_framework("\n".join(lines), source="fuzz.toml")
    except FrameworkError as exc:
        assert exc.problems and all(p.startswith("fuzz.toml") for p in exc.problems)
        return
    assert isinstance(fw, Framework)
    assert abs(sum(d.weight for d in fw.dimensions) - 1) < 1e-6
    assert fw.indicator_codes and fw.group_codes


@FUZZ
@given(text=st.text(max_size=300))
def test_framework_from_arbitrary_text(text):
    try:
        parse_framework(text, source="any.toml")
    except FrameworkError as exc:
        assert exc.problems
