"""Named linear methods: each one, selected directly, equals the plain taps.

``choose_method`` is the one place that picks taps / separable / running
sums / FFT; ``run_linear(method=...)`` and ``use_method`` select one without
touching private names. The integer accumulators that ``sep2d`` switches to
for integer weights are checked against the float accumulator bit for bit.
"""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import imgfilter
from imgfilter import _engine
from imgfilter.core import linear
from imgfilter.core.names import OptionError
from imgfilter.core.options import plan_window

MODES = ["constant", "edge", "reflect", "symmetric", "wrap"]


def test_the_automatic_choice_is_named():
    rng = np.random.default_rng(0)
    assert linear.choose_method(rng.normal(size=(3, 3))).name == "taps"
    assert linear.choose_method(np.outer([1.0, 2.0, 1.0], [-1.0, 0.0, 1.0])).name == "separable"
    assert linear.choose_method(np.ones((31, 31))).name == "running"
    assert linear.choose_method(np.ones((5, 5))).name == "separable"
    assert linear.choose_method(rng.normal(size=(9, 7))).name == "fft"
    # A forced choice wins; the context manager sets it for the calls inside.
    assert linear.choose_method(np.ones((31, 31)), method="taps").name == "taps"
    with linear.use_method("separable"):
        assert linear.choose_method(np.ones((31, 31))).name == "separable"
    assert linear.choose_method(np.ones((31, 31))).name == "running"


def test_bad_methods_are_refused_by_name():
    with pytest.raises(OptionError, match="method='nope'"):
        linear.choose_method(np.ones((3, 3)), method="nope")
    with pytest.raises(OptionError, match="rank-1"):
        linear.choose_method(np.random.default_rng(1).normal(size=(3, 3)), method="separable")
    with pytest.raises(OptionError, match="finite"):
        linear.choose_method(np.array([[1.0, np.inf]]), method="fft")
    with pytest.raises(OptionError), linear.use_method("fastest"):
        pass


def _run(img, kernel, mode, cval, stride, dilation, method, divide=None, out_dtype=None):
    plan = plan_window(img.shape, kernel.shape, "same", stride, dilation)
    dtype = np.dtype(np.float64 if img.dtype == np.float64 else np.float32)
    return linear.run_linear(
        img, kernel, plan, mode, cval, dtype, 2, method=method, divide=divide, out_dtype=out_dtype
    )


@st.composite
def method_cases(draw):
    dtype = draw(st.sampled_from(["uint8", "uint16", "float32", "float64"]))
    h, w = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    chan = draw(st.sampled_from([(), (1,), (3,)]))
    if np.dtype(dtype).kind == "f":
        elements = st.floats(-100, 100, width=32)
    else:
        elements = st.integers(0, int(np.iinfo(dtype).max))
    img = draw(hnp.arrays(dtype, (h, w, *chan), elements=elements))
    # Kernels up to twice the image: huge halos in every mode.
    kh, kw = draw(st.integers(1, 2 * h + 3)), draw(st.integers(1, 2 * w + 3))
    equal = draw(st.booleans())
    if equal:
        fv, fh = np.ones(kh), np.ones(kw)
    else:
        fv = np.array(draw(st.lists(st.sampled_from([1.0, 2.0, 3.0, 0.0]), min_size=kh, max_size=kh)))
        fh = np.array(draw(st.lists(st.sampled_from([1.0, 2.0, 0.0, 4.0]), min_size=kw, max_size=kw)))
        fv[0] = fh[-1] = 1.0
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    mode = draw(st.sampled_from(MODES))
    cval = float(draw(st.sampled_from([0, 3, 255])))
    divide = draw(st.sampled_from([None, float(fv.sum() * fh.sum())]))
    return img, np.multiply.outer(fv, fh), mode, cval, stride, dilation, divide


@given(case=method_cases())
def test_every_method_equals_the_taps(case):
    """Integer images under integer weights: every method gives the taps' exact bits
    (sums below 2**24 are exact in float32 whatever their order); float images agree
    to float32 rounding. Tiny images, kernels larger than the image, strides and
    dilations, every border mode."""
    img, kernel, mode, cval, stride, dilation, divide = case
    out_dtype = img.dtype if divide is not None else None
    taps = _run(img, kernel, mode, cval, stride, dilation, "taps", divide, out_dtype)
    exact = img.dtype.kind == "u" and float(np.iinfo(img.dtype).max) * kernel.sum() < 2**24
    methods = ["separable", "running"] + (["fft"] if divide is None else [])
    for method in methods:
        got = _run(img, kernel, mode, cval, stride, dilation, method, divide, out_dtype)
        assert got.shape == taps.shape and got.dtype == taps.dtype
        if method == "fft" or not exact:
            scale = float(np.abs(img).max(initial=0)) * float(np.abs(kernel).sum()) + 1.0
            if divide is not None:
                scale /= divide
            atol = 1e-5 * scale + (1.0 if got.dtype.kind in "iu" else 0.0)
            np.testing.assert_allclose(got.astype(np.float64), taps.astype(np.float64), rtol=0, atol=atol)
        else:
            np.testing.assert_array_equal(got, taps, err_msg=method)


@pytest.mark.parametrize("mode", MODES)
def test_public_filters_follow_the_selected_method(photo, mode):
    img = photo[:40, :50]
    auto = imgfilter.blur(img, 19, mode=mode)
    with linear.use_method("taps"):
        taps = imgfilter.blur(img, 19, mode=mode)
    with linear.use_method("separable"):
        sep = imgfilter.blur(img, 19, mode=mode)
    np.testing.assert_array_equal(auto, taps)
    np.testing.assert_array_equal(sep, taps)


@st.composite
def integer_sep_cases(draw):
    src = draw(st.sampled_from(["uint8", "uint16"]))
    fv = np.array(draw(st.lists(st.sampled_from([0.0, 1.0, 2.0, 5.0]), min_size=1, max_size=7)))
    fh = np.array(draw(st.lists(st.sampled_from([0.0, 1.0, 3.0]), min_size=1, max_size=7)))
    fv[-1] = fh[0] = 1.0
    rows, cols = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    chan = draw(st.sampled_from([(), (3,)]))
    shape = (rows + len(fv) - 1, cols + len(fh) - 1)
    block = draw(hnp.arrays(src, shape + chan, elements=st.integers(0, int(np.iinfo(src).max))))
    out = draw(st.sampled_from(["uint8", "uint16", "float32"]))
    divide = draw(st.sampled_from([None, 7.0, float(fv.sum() * fh.sum())]))
    return block, fv, fh, (rows, cols), np.dtype(out), divide


@given(case=integer_sep_cases())
def test_integer_accumulators_give_the_float_bits(case):
    """Where sep2d sums integer weights in u16/u32 instead of float32, the bits are the same."""
    block, fv, fh, counts, out_dtype, divide = case
    acc = linear._int_acc(block.dtype, fv, fh, np.dtype(np.float32))
    assert acc is not None or float(np.iinfo(block.dtype).max) * fv.sum() * fh.sum() > 2**24
    chan = int(np.prod(block.shape[2:], dtype=np.int64))
    row = block.shape[1] * chan
    for isa in _engine.isas():
        previous = _engine.set_isa(isa)
        try:
            results = []
            for name in ["f32"] + ([acc] if acc else []):
                got = np.empty(counts + block.shape[2:], out_dtype)
                tv, th = np.flatnonzero(fv), np.flatnonzero(fh)
                _engine.sep2d(
                    block, got, counts[0], counts[1], chan, row, 1, 1,
                    tuple(int(t) * row for t in tv), tuple(float(fv[t]) for t in tv),
                    tuple(int(t) * chan for t in th), tuple(float(fh[t]) for t in th),
                    False, False, name, False, 1.0 if divide is None else divide,
                )  # fmt: skip
                results.append(got)
        finally:
            _engine.set_isa(previous)
        for r in results[1:]:
            np.testing.assert_array_equal(r, results[0], err_msg=isa)
