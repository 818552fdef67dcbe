"""The bootstrap's draws (scoring.bootstrap.CellStream): exact, and free of call grouping."""

from __future__ import annotations

import numpy as np
import pytest

from scoring.bootstrap import CellStream, _cell_counts, _tally


def _buffer(nc: int, rows: int) -> np.ndarray:
    return np.empty(rows * (nc - 1), dtype=np.uint32)


@pytest.mark.parametrize("nc", [2, 3, 111, 511, 512, 600, 40_000, 65_536, 65_537])
def test_draws_do_not_depend_on_how_replicates_are_grouped(nc: int) -> None:
    rows = 9 if nc < 40_000 else 3
    whole = CellStream(2024, 7).indices(nc, rows, _buffer(nc, rows)).copy()
    parts = CellStream(2024, 7)
    split = [parts.indices(nc, k, _buffer(nc, k)).copy() for k in (1, rows - 3, 2)]
    np.testing.assert_array_equal(np.concatenate(split), whole)
    assert whole.shape == (rows, nc - 1)
    assert whole.min() >= 0 and whole.max() < nc
    if nc == 40_000:  # 2^16 mod n = 25,536: four slices in ten are redrawn
        assert parts._spare is not None
    # another cell, another seed: other draws
    assert not np.array_equal(CellStream(2024, 8).indices(nc, rows, _buffer(nc, rows)), whole)
    assert not np.array_equal(CellStream(2025, 7).indices(nc, rows, _buffer(nc, rows)), whole)


class _Slices:
    """A stand-in bit generator whose output is given 16-bit slices, in order."""

    def __init__(self, slices: np.ndarray) -> None:
        self.words = slices.astype("<u2").view("<u8")
        self.at = 0

    def random_raw(self, size: int) -> np.ndarray:
        out = self.words[self.at : self.at + size]
        self.at += size
        return out


class _Marked:
    """A stand-in redraw generator that returns ``n`` (out of range: marks a redraw)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def integers(self, low: int, high: int, size: int) -> np.ndarray:
        return np.full(size, self.n, dtype=np.int64)


@pytest.mark.parametrize("nc", [512, 600, 40_000, 65_535])
def test_every_index_takes_the_same_number_of_slices(nc: int) -> None:
    """Fed every 16-bit value once, each index in [0, n) is drawn floor(2^16 / n) times
    and the other 2^16 mod n slices are redrawn: exactly uniform (Lemire's method)."""
    per_row = -(-(nc - 1) // 4) * 4  # slices a replicate reads
    used = nc - 1
    rows = -(-(1 << 16) // used)
    grid = np.zeros((rows, per_row), dtype=np.uint16)
    flat = np.full(rows * used, -1, dtype=np.int64)
    flat[: 1 << 16] = np.arange(1 << 16)
    grid[:, :used] = np.where(flat < 0, 0, flat).reshape(rows, used)
    stream = CellStream(1, 0)
    stream._bits = _Slices(grid.ravel())  # type: ignore[assignment]
    stream._spare = _Marked(nc)  # type: ignore[assignment]
    drawn = stream.indices(nc, rows, _buffer(nc, rows)).ravel()[: 1 << 16]
    counts = np.bincount(drawn, minlength=nc + 1)
    assert counts[nc] == (1 << 16) % nc  # redrawn
    assert (counts[:nc] == (1 << 16) // nc).all()


def test_small_cells_keep_generator_integers() -> None:
    """Below 512 respondents a cell draws with Generator.integers on its PCG64:
    the draws (and so every score) of the releases before the 16-bit slices."""
    seq = np.random.SeedSequence(2024, spawn_key=(7,))
    expected = np.random.Generator(np.random.PCG64(seq)).integers(0, 111, size=(9, 110))
    got = CellStream(2024, 7).indices(111, 9, _buffer(111, 9))
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("nc", [37, 700])
def test_counts_are_multinomial_draws_of_n_minus_one(nc: int) -> None:
    boot = 4000 if nc < 512 else 400
    counts = _cell_counts(CellStream(3, 2), nc, boot) / np.float32(nc / (nc - 1))
    np.testing.assert_allclose(counts.sum(axis=1), nc - 1, rtol=1e-6)
    # each count is Binomial(n - 1, 1/n): mean (n-1)/n, variance (n-1)/n (1 - 1/n)
    p = 1 / nc
    assert abs(counts.mean() - (nc - 1) * p) < 4 * np.sqrt((nc - 1) * p * (1 - p) / counts.size)
    assert abs(counts.var() / ((nc - 1) * p * (1 - p)) - 1) < 0.02
    # the tally gives the same counts drawn in any grouping
    tally = _tally(nc)
    a = CellStream(3, 2)
    first = tally.draw(a, nc, 3, np.dtype(np.float32)).copy()
    rest = tally.draw(a, nc, 5, np.dtype(np.float32)).copy()
    again = _cell_counts(CellStream(3, 2), nc, 8) / np.float32(nc / (nc - 1))
    np.testing.assert_allclose(np.concatenate([first, rest]), again, rtol=1e-6)
