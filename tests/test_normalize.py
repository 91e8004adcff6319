"""The compiled division of the weighted normalization (``_engine.divide_sums``)
against numpy's passes (``divide_sums_numpy``, the path it replaced): the same
bits for every value, weight layout, option and dtype pair."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from imgfilter import _engine
from imgfilter.core.masked import divide_sums, divide_sums_numpy

PAIRS = [(np.float32, np.float32), (np.float64, np.float64), (np.float64, np.float32)]


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal values, NaN where NaN, and the sign of every zero."""
    nan = np.isnan(a)
    if not np.array_equal(nan, np.isnan(b)):
        return False
    return np.array_equal(a[~nan], b[~nan]) and np.array_equal(np.signbit(a[~nan]), np.signbit(b[~nan]))


@st.composite
def cases(draw):
    nt, dt = draw(st.sampled_from(PAIRS))
    rows = draw(st.integers(0, 4))
    cols = draw(st.integers(1, 1200))  # past one 512-pixel block of the kernel
    chan = draw(st.sampled_from([None, 1, 2, 3, 4]))
    shape = (rows, cols) if chan is None else (rows, cols, chan)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    full = draw(st.sampled_from([None, 1.0, 0.7, np.float64(0.1), np.float64(0.5), np.inf, np.nan]))
    pool = np.array([0.0, -0.0, 1.0, 0.5, 0.7, 1e-9, -1e-9, np.nan, np.inf, -np.inf, 3.0, 0.1], dtype=dt)
    num = rng.standard_normal(shape).astype(nt)
    num[rng.random(shape) < 0.1] = np.nan
    num[rng.random(shape) < 0.1] = 0.0
    spread = draw(st.booleans()) and chan is not None
    dshape = (*shape[:-1], 1) if spread else shape
    den = rng.random(dshape).astype(dt)
    pick = rng.random(dshape) < 0.4
    den[pick] = rng.choice(pool, size=int(pick.sum()))
    if full is not None and np.isfinite(full):
        den[rng.random(dshape) < 0.3] = dt(full)
    tiny = draw(st.sampled_from([0.0, 1e-6, 0.05]))
    total = draw(st.sampled_from([1.0, 2.5, 1 / 3]))
    return num, den, full, tiny, total


@given(cases())
def test_engine_division_equals_numpy(case) -> None:
    num, den, full, tiny, total = case
    want = num.copy()
    divide_sums_numpy(want, den, want.dtype, tiny=tiny, full=full, total=total)
    got = num.copy()
    divide_sums(got, den, got.dtype, tiny=tiny, full=full, total=total)
    assert same_bits(got, want)


@pytest.mark.parametrize("isa", _engine.isas())
def test_both_instruction_sets(isa: str) -> None:
    rng = np.random.default_rng(5)
    num = rng.standard_normal((3, 999, 3)).astype(np.float32)
    den = rng.random((3, 999, 1)).astype(np.float32)
    den[:, ::7] = 1.0
    den[:, ::11] = 0.0
    want = num.copy()
    divide_sums_numpy(want, den, want.dtype, tiny=1e-3, full=1.0, total=2.0)
    old = _engine.set_isa(isa)
    try:
        got = num.copy()
        divide_sums(got, den, got.dtype, tiny=1e-3, full=1.0, total=2.0)
    finally:
        _engine.set_isa(old)
    assert same_bits(got, want)


def test_whole_windows_keep_their_sum() -> None:
    num = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], dtype=np.float32)
    den = np.array([[1.0], [0.5]], dtype=np.float32)
    divide_sums(num, den, num.dtype, tiny=0.0, full=1.0, total=3.0)
    assert np.array_equal(num[0], np.array([0.1, 0.2, 0.3], dtype=np.float32))
    assert np.array_equal(
        num[1], np.float32(3) * (np.array([0.4, 0.5, 0.6], dtype=np.float32) / np.float32(0.5))
    )


def test_engine_refuses_mismatched_buffers() -> None:
    num = np.zeros((4, 3), dtype=np.float32)
    with pytest.raises(IndexError):
        _engine.divide_sums(num, np.zeros(5, dtype=np.float32), 3, 1, 0.0, False, 0.0, False, 1.0)
    with pytest.raises(TypeError):
        _engine.divide_sums(num, np.zeros(4, dtype=np.float64), 3, 1, 0.0, False, 0.0, False, 1.0)
    with pytest.raises(ValueError):
        _engine.divide_sums(num, np.zeros(4, dtype=np.float32), 3, 2, 0.0, False, 0.0, False, 1.0)
