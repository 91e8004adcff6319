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


def test_integer_tuples_take_numpy_integers_not_floats():
    src = np.arange(10, dtype=np.float32)
    dst = np.zeros(8, np.float32)
    geometry(src, dst, offsets=(np.int64(0), np.intp(2)))
    np.testing.assert_array_equal(dst, src[:8] + src[2:10])
    with pytest.raises(IndexError, match="source"):
        geometry(src, dst, offsets=(np.int32(3),))
    with pytest.raises(TypeError):
        geometry(src, dst, offsets=(2.0,))
    with pytest.raises(TypeError):
        geometry(src, dst, offsets=(np.float64(2.0),))


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


def test_explicit_native_byte_order_is_read():
    """tifffile's memmaps say '<H' on a little-endian machine: that is native."""
    native = "<" if np.little_endian else ">"
    src = np.arange(10, dtype=native + "u2")
    dst = np.zeros(10, np.float32)
    geometry(src, dst)
    np.testing.assert_array_equal(dst, np.arange(10))


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


@st.composite
def separable_cases(draw):
    src = draw(st.sampled_from(["uint8", "uint16", "int16", "int32", "float32", "float64"]))
    acc = draw(st.sampled_from(["float32", "float64"] + (["uint16", "uint32"] if src in ("uint8",) else [])))
    integral = acc.startswith("uint")
    running = draw(st.booleans())
    weights = st.sampled_from([1.0, 2.0, 3.0] if integral else [0.0, 1.0, -1.0, 0.5, 0.3, -0.7, 2.0])

    def factor():
        if running:
            return np.full(
                draw(st.integers(17, 20)), draw(st.sampled_from([1.0, 2.0] if integral else [1.0, 0.25]))
            )
        f = np.array(draw(st.lists(weights, min_size=1, max_size=6)))
        if not f.any():
            f[0] = 1.0
        return f

    fv, fh = factor(), factor()
    sv, sh = (1, 1) if running else (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dv, dh = (1, 1) if running else (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    rows, cols = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    chan = draw(st.sampled_from([(), (1,), (3,), (4,)]))
    shape = (
        (rows - 1) * sv + (len(fv) - 1) * dv + 1,
        (cols - 1) * sh + (len(fh) - 1) * dh + 1 + draw(st.integers(0, 2)),
    )
    if src.startswith("float"):
        elements = st.floats(-1e3, 1e3, width=32)
    else:
        info = np.iinfo(src)
        elements = st.integers(max(info.min, -(2**20)), min(info.max, 2**20))
    block = draw(hnp.arrays(src, shape + chan, elements=elements))
    out = draw(st.sampled_from([acc, "uint8", "int16", "uint16", "float32"]))
    divide = draw(st.sampled_from([None, 3.0, 25.0]))
    return block, (fv, fh), (sv, sh), (dv, dh), (rows, cols), np.dtype(acc), np.dtype(out), divide


@given(case=separable_cases())
def test_separable_pass_equals_two_tap_passes(case):
    """sep2d = the vertical taps, then the horizontal ones, in the accumulator, then the store
    (divide in the work type, round half to even, clip): bit for bit, in both instruction sets."""
    from imgfilter.core.values import cast_like

    block, (fv, fh), stride, dilation, counts, acc, out_dtype, divide = case
    rows, cols = counts
    vert = taps_in_order(block, fv[:, None], (stride[0], 1), (dilation[0], 1), (rows, block.shape[1]), acc)
    sums = taps_in_order(vert, fh[None, :], (1, stride[1]), (1, dilation[1]), (rows, cols), acc)
    work = np.dtype(np.float64 if acc == np.float64 else np.float32)
    expected = sums if divide is None else np.divide(sums, divide, dtype=work)
    expected = cast_like(expected, out_dtype) if (divide is not None or out_dtype != acc) else sums
    plan = plan_window(block.shape, (len(fv), len(fh)), 0, stride, dilation)
    exact = acc.kind == "u" or len(fv) < linear.RUNNING_MIN
    for name in ISAS:
        previous = _engine.set_isa(name)
        try:
            got = np.empty(counts + block.shape[2:], out_dtype)
            factors = [fv.astype(acc), fh.astype(acc)]
            assert linear._sep2d(block, factors, plan, counts, got, divide, work)
        finally:
            _engine.set_isa(previous)
        if exact:
            np.testing.assert_array_equal(got, expected, err_msg=name)
        elif out_dtype.kind == "f":
            # Running sums are kept in float64: closer than the float32 tap order, not equal to it.
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-2, err_msg=name)
        else:
            assert np.abs(got.astype(np.int64) - expected.astype(np.int64)).max() <= 1, name


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("divide", [None, 3.0, 0.5])
def test_store_rounds_half_to_even_and_clips_as_numpy(isa, divide):
    """The store's rounding against numpy's rint/clip for every half and the edges, with and
    without the division, in both instruction sets (AVX2 stores 8- and 16-bit results in
    blocks of 32 and 16 values: the length leaves a tail of each)."""
    from imgfilter.core.values import cast_like

    values = np.concatenate(
        [
            np.arange(-300, 300, 0.25),
            [np.nan, np.inf, -np.inf, 1e30, -1e30, 65535.5, 65534.5, -0.5, 0.5, -0.0, 0.0],
            [254.5, 255.5, 255.49998, 256.0, 65535.49, 65536.0, -np.nan, 1e-30, -1e-30],
            np.float32(2.0) ** np.arange(-3, 18),
        ]
    ).astype(np.float32)
    block = values.reshape(1, -1)
    for out_dtype in (np.uint8, np.int8, np.uint16, np.int16, np.int32, np.int64, np.uint32):
        got = np.empty(block.shape, out_dtype)
        plan = plan_window(block.shape, (1, 1), 0, 1, 1)
        with np.errstate(invalid="ignore"):
            work = block if divide is None else np.divide(block, divide, dtype=np.float32)
            expected = cast_like(np.nan_to_num(work, nan=0.0, posinf=np.inf, neginf=-np.inf), out_dtype)
        previous = _engine.set_isa(isa)
        try:
            linear._sep2d(
                block,
                [np.ones(1, np.float32), np.ones(1, np.float32)],
                plan,
                block.shape,
                got,
                divide,
                np.dtype(np.float32),
            )
        finally:
            _engine.set_isa(previous)
        np.testing.assert_array_equal(got, expected, err_msg=str(out_dtype))
