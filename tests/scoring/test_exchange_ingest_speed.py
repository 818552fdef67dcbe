"""The reader's fast paths give what its per-value Python path gives."""

from __future__ import annotations

import numpy as np
import pytest

from scoring import ingest
from scoring.exchange import ExchangeError, columns, read_table
from scoring.framework import load_default_framework

SPEC = load_default_framework()

ODD_WEIGHTS = [
    "", "1", "007", "0.1", "2.5", " 2.5 ", "1e3", "1E-2", "+3", "1_0", ".5", "5.",
    "12345678901234567.12345678901234567", "123456789012345678", "0", "0.0", "-1",
    "abc", "nan", "inf", "1e999", "١", "0.30000000000000004",
]  # fmt: skip


def _file(weights: list[str]) -> bytes:
    head = columns(SPEC)
    lines = [",".join(head)]
    group = SPEC.group_codes[0]
    asked = {i.code for i in SPEC.indicators_for(group)}
    answers = ",".join("3" if i.code in asked else "" for i in SPEC.indicators)
    for k, w in enumerate(weights):
        lines.append(f"r{k},S{k % 7},{group},,paper,{w},{answers},,,")
    return ("\n".join(lines) + "\n").encode()


def _outcome(data: bytes) -> tuple[object, ...]:
    try:
        table = read_table(data, SPEC)
    except ExchangeError as exc:
        return ("error", exc.problems, exc.total)
    return ("ok", table.weight.view(np.int64).tolist(), table.lines.tolist())


@pytest.mark.parametrize("odd", [True, False])
def test_arrow_weights_match_the_python_path(monkeypatch: pytest.MonkeyPatch, odd: bool) -> None:
    rng = np.random.default_rng(3)
    weights = [repr(float(x)) for x in rng.lognormal(0, 0.5, 400)]
    weights += [f"{1 + rng.random():.{rng.integers(1, 18)}f}" for _ in range(400)]
    weights += [str(rng.integers(1, 10**17)) for _ in range(50)]
    if odd:
        weights += ODD_WEIGHTS
    data = _file(weights)
    python_path = _outcome(data)
    monkeypatch.setattr(ingest, "ARROW_WEIGHTS", 1)
    assert _outcome(data) == python_path
    assert python_path[0] == ("error" if odd else "ok")


def test_plain_decimals_are_the_bits_of_float() -> None:
    rng = np.random.default_rng(5)
    values = [f"{rng.integers(0, 10**17)}.{rng.integers(0, 10**17):017d}" for _ in range(2000)]
    values += [repr(float(x)) for x in rng.lognormal(0, 4, 2000)]
    values += ["0", "9007199254740993", "0.1", "2.2250738585072014"]
    plain, number = ingest._plain_decimals(values)
    exact = np.array([float(v) for v in values])
    assert plain.sum() > 3000
    assert (number[plain].view(np.int64) == exact[plain].view(np.int64)).all()


@pytest.mark.parametrize("odd", ["", " a", "b ", "c\u3000", "\u00a0d", "e\tf"])
def test_stripped_is_strip_per_value(odd: str) -> None:
    values = [f"r{k:07d}" for k in range(2000)] + [odd]
    assert ingest._stripped(values) == [v.strip() for v in values]
    clean = values[:-1]
    assert ingest._stripped(clean) is clean  # no whitespace anywhere: the list itself


@pytest.mark.parametrize("quoted", [False, True])
def test_weights_read_as_numbers_from_the_bytes(
    monkeypatch: pytest.MonkeyPatch, quoted: bool
) -> None:
    """Blank and plain positive weights (quoted or not) are read straight from the bytes, to
    the bits of the per-value path; one weight that is not (zero, spaces, an exponent) sends
    the column back to that path, with its messages."""
    from scoring.ingest import split_csv

    rng = np.random.default_rng(8)
    weights = [repr(float(x)) for x in rng.lognormal(0, 0.5, 300)] + ["", "007", "1"] * 20
    data = _file([f'"{w}"' if quoted else w for w in weights])
    python_path = _outcome(data)
    assert python_path[0] == "ok"
    monkeypatch.setattr(ingest, "ARROW_WEIGHTS", 1)
    cells = split_csv(data, numeric=("weight",))
    assert cells is not None
    column = cells.header.index("weight")
    assert column in cells.numbers
    assert cells.columns[column].uniques == ["", "0"]  # blank or not, nothing else kept
    assert _outcome(data) == python_path
    for bad in ("0", " 2.5", "1e3", "abc"):
        odd = _file([*weights[:50], bad, *weights[50:]])
        cells = split_csv(odd, numeric=("weight",))
        assert cells is not None and column not in cells.numbers
        monkeypatch.setattr(ingest, "ARROW_WEIGHTS", 10**9)
        expected = _outcome(odd)
        monkeypatch.setattr(ingest, "ARROW_WEIGHTS", 1)
        assert _outcome(odd) == expected
