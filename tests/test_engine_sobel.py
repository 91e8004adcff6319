"""The fused Sobel kernel (``_engine.sobel`` via ``core.linear.sobel_gradients``).

Oracles: the separable tap passes it replaces (``run_linear`` with the
Sobel kernels and the same combine steps, bit for bit), OpenCV's Sobel for
8-bit images, and the bounds check of its index tables.
"""

from __future__ import annotations

import cv2
import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from imgfilter import _engine
from imgfilter.core import linear
from imgfilter.core.options import float_dtype, plan_window

MODES = ["constant", "edge", "reflect", "symmetric", "wrap"]
KX = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
KY = KX.T.copy()


def separable_reference(img, mode, cval, output):
    """The taps path the fused kernel replaces: run_linear with both kernels, combined in numpy."""
    plan = plan_window(img.shape, (3, 3), "same", 1, 1)
    dtype = float_dtype(img.dtype)
    if output in ("x", "y"):
        return linear.run_linear(img, KX if output == "x" else KY, plan, mode, cval, dtype, 1)

    def magnitude(results, out):
        gx, gy = results
        np.multiply(gx, gx, out=gx)
        np.multiply(gy, gy, out=gy)
        np.add(gx, gy, out=out)
        np.sqrt(out, out=out)

    def angle(results, out):
        np.arctan2(results[1], results[0], out=out)

    combine = magnitude if output == "magnitude" else angle
    return linear.run_linear(img, KX, plan, mode, cval, dtype, 1, also=[KY], combine=combine)


@st.composite
def sobel_cases(draw):
    dtype = draw(st.sampled_from(["uint8", "int8", "uint16", "int16", "int32", "float32", "float64"]))
    h, w = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    chan = draw(st.sampled_from([(), (1,), (3,), (4,)]))
    if np.dtype(dtype).kind == "f":
        elements = st.floats(-1e4, 1e4, width=32) | st.sampled_from([np.nan, np.inf, -np.inf])
    else:
        info = np.iinfo(dtype)
        elements = st.integers(max(int(info.min), -(2**20)), min(int(info.max), 2**20))
    img = draw(hnp.arrays(dtype, (h, w, *chan), elements=elements))
    if draw(st.booleans()) and h > 1:
        img = img[::-1]  # a negative stride: copied once, read as C order
    mode = draw(st.sampled_from(MODES))
    cval = float(draw(st.sampled_from([0, 7, 100])))
    output = draw(st.sampled_from(linear.SOBEL_OUTPUTS))
    threads = draw(st.sampled_from([1, 2]))
    return img, mode, cval, output, threads


@given(case=sobel_cases())
def test_fused_sobel_equals_the_separable_passes(case):
    """Bit for bit, in every border mode, 1-pixel images, channels, NaN and infinities, both ISAs."""
    img, mode, cval, output, threads = case
    with np.errstate(all="ignore"):
        expected = separable_reference(img, mode, cval, output)
        for isa in _engine.isas():
            previous = _engine.set_isa(isa)
            try:
                got = linear.sobel_gradients(img, mode, cval, threads, output)
            finally:
                _engine.set_isa(previous)
            assert got.dtype == expected.dtype and got.shape == expected.shape
            np.testing.assert_array_equal(got, expected, err_msg=f"{isa} {output}")


@pytest.mark.parametrize("mode,border", [("reflect", cv2.BORDER_REFLECT_101), ("edge", cv2.BORDER_REPLICATE)])
def test_fused_sobel_equals_opencv(photo, mode, border):
    grey = np.ascontiguousarray(photo[..., 1])
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3, borderType=border)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3, borderType=border)
    np.testing.assert_array_equal(linear.sobel_gradients(grey, mode, output="x"), gx)
    np.testing.assert_array_equal(linear.sobel_gradients(grey, mode, output="y"), gy)
    # OpenCV's magnitude is sqrt(x*x + y*y) in float32 too.
    np.testing.assert_allclose(linear.sobel_gradients(grey, mode), cv2.magnitude(gx, gy), rtol=1e-6)


def test_sobel_index_tables_are_bounds_checked():
    src = np.zeros((4, 5), np.uint8)
    out = np.full((2, 5), 7.0, np.float32)
    with pytest.raises(IndexError, match="rowidx"):
        _engine.sobel(src, None, None, out, 5, 1, (0, 1, 2, 4), 1, 3, 0.0)
    with pytest.raises(IndexError, match="rowidx"):
        _engine.sobel(src, None, None, out, 5, 1, (-2, 1, 2, 3), 1, 3, 0.0)
    with pytest.raises(IndexError, match="column"):
        _engine.sobel(src, None, None, out, 5, 1, (0, 1, 2, 3), 1, 5, 0.0)
    with pytest.raises(IndexError, match="destination"):
        _engine.sobel(src, None, None, np.empty((1, 5), np.float32), 5, 1, (0, 1, 2, 3), 1, 3, 0.0)
    with pytest.raises(TypeError):
        _engine.sobel(src, np.empty((2, 5), np.float64), None, out, 5, 1, (0, 1, 2, 3), 1, 3, 0.0)
    with pytest.raises(ValueError):
        _engine.sobel(src, None, None, None, 5, 1, (0, 1, 2, 3), 1, 3, 0.0)
    np.testing.assert_array_equal(out, 7.0)  # nothing was written before the checks failed
    _engine.sobel(src, None, None, out, 5, 1, (0, 1, 2, 3), -1, -1, 0.0)
    np.testing.assert_array_equal(out, 0)


def test_sobel_refuses_bad_outputs():
    with pytest.raises(ValueError, match="output='z'"):
        linear.sobel_gradients(np.zeros((3, 3)), "reflect", output="z")


# Grey rows either side of one and two chunks, RGB and RGBA rows across a chunk edge.
GREY_ROWS = [(w, ()) for w in (1023, 1024, 1025, 2049)]
COLOUR_ROWS = [(341, (3,)), (342, (3,)), (683, (3,)), (256, (4,)), (257, (4,))]


@pytest.mark.parametrize("w,chan", GREY_ROWS + COLOUR_ROWS)
@pytest.mark.parametrize("output", ["x", "y", "magnitude"])
def test_rows_longer_than_a_chunk_equal_the_separable_passes(w, chan, output):
    # The kernel takes a row 1024 items at a time (SOBEL_CHUNK): chunk edges,
    # a last partial chunk and whole rows of exactly one chunk.
    rng = np.random.default_rng(w)
    img = rng.integers(0, 256, (5, w, *chan)).astype(np.uint8)
    for mode in ("reflect", "constant", "wrap"):
        expected = separable_reference(img, mode, 7.0, output)
        for isa in _engine.isas():
            previous = _engine.set_isa(isa)
            try:
                got = linear.sobel_gradients(img, mode, 7.0, 1, output)
            finally:
                _engine.set_isa(previous)
            np.testing.assert_array_equal(got, expected, err_msg=f"{isa} {mode}")
