"""A CSV file that is not UTF-8 is refused with the line and column of its first bad byte.

The fast reader checks UTF-8 while it decodes the cells instead of decoding the
whole file first; wherever the bad bytes are (an answer code, a street, a
weight, a long comment, a quoted cell, a cell beyond the header), the message
must be the one the whole-file check gives.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.exchange import ExchangeError, columns, decode_utf8, read_table
from scoring.framework import load_default_framework

SPEC = load_default_framework()
HEADER = columns(SPEC)
J = len(SPEC.indicator_codes)


def _row(i: int, comment: str = "") -> str:
    answers = ",".join(str(1 + (i + k) % 5) for k in range(J))
    weight = "1.25" if i % 2 else "0.875"
    return f"r{i},街道{i % 3},adult,,paper,{weight},{answers},I01;I02,3,{comment},,,\n"


def _file() -> bytes:
    rows = [",".join(HEADER) + "\n"]
    for i in range(40):
        comment = "长" * 300 if i == 7 else ('"a, ""quoted"" 评论"' if i == 9 else "")
        rows.append(_row(i, comment))
    return ("\ufeff" + "".join(rows)).encode("utf-8")


GOOD = _file()


def _expected(data: bytes) -> list[str]:
    try:
        decode_utf8(data, ExchangeError)
    except ExchangeError as exc:
        return exc.problems
    raise AssertionError("the damaged file decodes")


def _refusal(data: bytes) -> list[str]:
    with pytest.raises(ExchangeError) as info:
        read_table(data, SPEC)
    return info.value.problems


def _damage(anchor: str, occurrence: int = 0) -> bytes:
    """GOOD with a lone continuation byte inside the cell that starts with ``anchor``."""
    at = -1
    for _ in range(occurrence + 1):
        at = GOOD.index(anchor.encode("utf-8"), at + 1)
    return GOOD[: at + 1] + b"\x80" + GOOD[at + 1 :]


def test_the_good_file_reads():
    assert read_table(GOOD, SPEC).n == 40


@pytest.mark.parametrize(
    ("anchor", "occurrence"),
    [
        ("response_id", 0),  # header
        ("r12", 0),  # response ids
        ("街道2", 0),  # streets (multi-byte text)
        ("adult", 3),  # groups
        ("1.25", 5),  # weights
        ("I01;", 20),  # concerns
        ("长长", 100),  # a comment longer than 256 bytes
        ('"a, ', 0),  # a quoted cell
    ],
)
def test_bad_bytes_in_any_cell_give_the_whole_file_message(anchor, occurrence):
    data = _damage(anchor, occurrence)
    assert _refusal(data) == _expected(data)


def test_bad_bytes_in_an_answer_code_and_beyond_the_header():
    line = GOOD.split(b"\n")
    answers = 6  # first indicator column (0-based)
    cells = line[5].split(b",")
    cells[answers] = b"\xff"
    data = b"\n".join([*line[:5], b",".join(cells), *line[6:]])
    assert _refusal(data) == _expected(data)
    # the second of two cells beyond the header (the first is not blank)
    data = b"\n".join([*line[:12], line[12] + b",x,y\xc3", *line[13:]])
    assert _refusal(data) == _expected(data)


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(position=st.integers(0, len(GOOD)), junk=st.binary(min_size=1, max_size=4))
def test_damage_anywhere_is_reported_where_it_is(position, junk):
    data = GOOD[:position] + junk + GOOD[position:]
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError:
        assert _refusal(data) == _expected(data)
