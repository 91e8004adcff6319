"""The compiled engine against plain numpy, its bounds check, and its two instruction sets."""

from __future__ import annotations

import threading

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy_reference import accumulate_grouped, taps_in_order

from imgfilter import _engine
from imgfilter.core import linear
from imgfilter.core.options import plan_window

ISAS = _engine.isas()


@st.composite
def tap_cases(draw):
    nd = draw(st.integers(1, 3))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    dilation = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    ksize = tuple(draw(st.integers(1, 4)) for _ in range(nd))
    counts = tuple(draw(st.integers(1, 9 if nd < 3 else 4)) for _ in range(nd))
    channels = draw(st.sampled_from([(), (1,), (3,), (4,), (2, 3)]))
    spatial = tuple(
        (m - 1) * s + (k - 1) * d + 1 + draw(st.integers(0, 2))
        for m, s, k, d in zip(counts, stride, ksize, dilation, strict=True)
    )
    src = draw(
        st.sampled_from(
            ["uint8", "int8", "uint16", "int16", "int32", "uint32", "int64", "float32", "float64"]
        )
    )
    dst = draw(st.sampled_from(["float32", "float64"]))
    block = draw(hnp.arrays(src, spatial + channels))
    weights = st.sampled_from([0.0, 1.0, -1.0, 0.5, 2.0, 0.3, -0.7, 1e-3])
    kernel = np.array(
        draw(st.lists(weights, min_size=int(np.prod(ksize)), max_size=int(np.prod(ksize)))), dtype=np.float64
    ).reshape(ksize)
    return block, kernel, stride, dilation, counts, np.dtype(dst)


def run_engine(block, kernel, stride, dilation, counts, dtype):
    nd = kernel.ndim
    plan = plan_window(block.shape, kernel.shape, 0, 1, 1)
    plan.stride, plan.dilation = stride, dilation
    out = np.empty(tuple(counts) + block.shape[nd:], dtype)
    linear._accumulate(block, kernel, plan, counts, out)
    return out


@given(case=tap_cases())
def test_taps_equal_numpy_in_the_same_order(case):
    block, kernel, stride, dilation, counts, dtype = case
    with np.errstate(all="ignore"):
        expected = taps_in_order(block, kernel, stride, dilation, counts, dtype)
        for name in ISAS:
            previous = _engine.set_isa(name)
            try:
                got = run_engine(block, kernel, stride, dilation, counts, dtype)
            finally:
                _engine.set_isa(previous)
            np.testing.assert_array_equal(got, expected, err_msg=name)


@given(case=tap_cases())
def test_taps_close_to_the_numpy_path_they_replaced(case):
    block, kernel, stride, dilation, counts, dtype = case
    if block.dtype.kind == "f" and not np.all(np.isfinite(block)):
        block = np.nan_to_num(block, nan=0.0, posinf=1e3, neginf=-1e3)
    block = np.clip(block, -1e6, 1e6) if block.dtype.kind == "f" else block
    with np.errstate(all="ignore"):
        old = accumulate_grouped(block, kernel, stride, dilation, counts, dtype)
        new = run_engine(block, kernel, stride, dilation, counts, dtype)
    scale = np.abs(kernel).sum() * max(1.0, float(np.abs(block.astype(np.float64)).max()))
    np.testing.assert_allclose(new, old, rtol=0, atol=scale * np.finfo(dtype).eps * 8)


def test_isas_give_the_same_bits(photo):
    """The AVX2 and baseline variants compile with contraction off: identical results."""
    if len(ISAS) < 2:
        pytest.skip("this CPU runs the baseline kernels only")
    import imgfilter

    f = photo.astype(np.float32) / 7
    kernel = np.random.default_rng(1).normal(size=(5, 5))
    results = []
    for name in ISAS:
        previous = _engine.set_isa(name)
        try:
            results.append(
                (imgfilter.correlate(f, kernel), imgfilter.gaussian(photo, 2.5), imgfilter.sobel(photo))
            )
        finally:
            _engine.set_isa(previous)
    for a, b in zip(*results, strict=True):
        np.testing.assert_array_equal(a, b)


def test_isa_choice_is_explicit():
    assert _engine.isa() in ISAS
    with pytest.raises(ValueError, match="unknown instruction set"):
        _engine.set_isa("sse9")


def geometry(src, dst, offsets=(0,), weights=None, inner=None):
    n = dst.size if inner is None else inner
    weights = (1.0,) * len(offsets) if weights is None else weights
    _engine.taps(src, dst, (), (), (), n, 1, 1, 1, offsets, weights)


def test_bounds_are_checked_before_any_write():
    src = np.arange(10, dtype=np.float32)
    dst = np.zeros(8, np.float32)
    geometry(src, dst, offsets=(0, 2))  # reads 0..9: fits
    np.testing.assert_array_equal(dst, src[:8] + src[2:10])
    dst[:] = -1
    with pytest.raises(IndexError, match="source"):
        geometry(src, dst, offsets=(0, 3))
    with pytest.raises(IndexError, match="source"):
        geometry(src, dst, offsets=(-1,))
    with pytest.raises(IndexError, match="destination"):
        geometry(src, dst, inner=9)
    with pytest.raises(OverflowError):
        _engine.taps(src, dst, (2**62,), (2**62,), (1,), 1, 1, 1, 1, (0,), (1.0,))
    assert np.all(dst == -1)


def test_refuses_what_it_cannot_read():
    src = np.arange(20, dtype=np.float32)
    with pytest.raises(ValueError, match="C-contiguous"):
        geometry(src[::2], np.zeros(10, np.float32))
    with pytest.raises(ValueError, match="writable"):
        dst = np.zeros(10, np.float32)
        dst.flags.writeable = False
        geometry(src, dst)
    with pytest.raises(TypeError, match="element type"):
        geometry(src.astype(np.complex64), np.zeros(10, np.float32))
    with pytest.raises(TypeError, match="element type"):
        geometry(src.astype(">f4"), np.zeros(10, np.float32))
    with pytest.raises(ValueError, match="integral weights"):
        geometry(src.astype(np.uint8), np.zeros(10, np.int32), weights=(0.5,))
    with pytest.raises(ValueError, match="integral weights"):
        geometry(src.astype(np.uint8), np.zeros(10, np.int32), weights=(1e300,))


def test_integer_accumulators_are_exact():
    src = np.full(40, 16777217, dtype=np.int64)
    dst = np.zeros(38, np.int64)
    geometry(src, dst, offsets=(0, 1, 2), weights=(1.0, 1.0, 1.0))
    assert np.all(dst == 3 * 16777217)


def test_kernels_release_the_gil():
    """Two threads in the engine at once (a held GIL would serialize, not fail: this
    checks that concurrent calls are safe and give the single-thread result)."""
    rng = np.random.default_rng(0)
    src = rng.random(1 << 20, dtype=np.float32)
    offs = tuple(range(9))
    w = tuple(float(v) for v in rng.normal(size=9))
    expected = np.empty(src.size - 8, np.float32)
    geometry(src, expected, offs, w)
    outs = [np.empty_like(expected) for _ in range(4)]
    threads = [threading.Thread(target=geometry, args=(src, o, offs, w)) for o in outs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for o in outs:
        np.testing.assert_array_equal(o, expected)
