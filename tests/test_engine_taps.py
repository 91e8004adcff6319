"""The linear kernels that read the border themselves (``_engine.taps2d``, ``_engine.sep2d_idx``).

They replace, for 2-D images, the bands copied with their halo
(``band_block``) that the tap and separable kernels read before. The old
route stays as the reference (``copied_borders()``), computed at test time:
every case below must give the same bits, over all border modes, the
dtypes, odd and 1-pixel shapes, strides, dilations, 1 to 4 channels, 1 and
2 threads and both instruction sets. SciPy in float64 is the independent
oracle that both routes are close to.
"""

from __future__ import annotations

from functools import partial

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import scipy.ndimage as ndi
from hypothesis import given
from hypothesis import strategies as st
from numpy_reference import taps_in_order

import imgfilter
from imgfilter import _engine
from imgfilter.core.linear import border_tables, copied_borders, run_linear, separable_factors
from imgfilter.core.names import OptionError
from imgfilter.core.options import plan_window

ISAS = _engine.isas()
MODES = ["reflect", "constant", "edge", "wrap", "symmetric"]
SCIPY_MODE = {
    "reflect": "mirror",
    "constant": "constant",
    "edge": "nearest",
    "wrap": "wrap",
    "symmetric": "reflect",
}
SHAPES = [(1, 1), (1, 9), (8, 1), (1, 1, 3), (5, 7, 3), (37, 41), (13, 9, 4), (3, 300, 2), (29, 70, 1)]
DTYPES = ["uint8", "uint16", "int32", "float32", "float64"]


def image(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return (rng.standard_normal(shape) * 50).astype(dt)
    top = min(int(np.iinfo(dt).max), 70000)
    low = max(int(np.iinfo(dt).min), -70000)
    return rng.integers(low, top, size=shape, endpoint=True).astype(dt)


def same_bits(new: np.ndarray, old: np.ndarray) -> None:
    assert new.dtype == old.dtype and new.shape == old.shape
    if new.dtype.kind == "f":
        np.testing.assert_array_equal(new.view(f"u{new.itemsize}"), old.view(f"u{old.itemsize}"))
    else:
        np.testing.assert_array_equal(new, old)


def both_routes(fn):
    """fn() with the border read inside the kernels, and over copied bands."""
    new = fn()
    with copied_borders():
        old = fn()
    return new, old


class Calls:
    """Counts the calls of the in-kernel entry points, so a test can see they ran."""

    def __init__(self, monkeypatch):
        self.n = {"taps2d": 0, "sep2d_idx": 0}
        for name in self.n:
            real = getattr(_engine, name)

            def counted(*args, _real=real, _name=name):
                self.n[_name] += 1
                return _real(*args)

            monkeypatch.setattr(_engine, name, counted)


K3 = np.random.default_rng(3).standard_normal((3, 3))
K25 = np.random.default_rng(4).random((2, 5)) - 0.3
CALLS = [
    (imgfilter.gaussian, (1.5,), {}),
    (imgfilter.gaussian, ((0.6, 2.5),), {}),
    (imgfilter.correlate, (K3,), {}),
    (imgfilter.correlate, (K25,), {"cval": 3.0}),
    (imgfilter.correlate, (K3,), {"stride": (2, 3)}),
    (imgfilter.correlate, (K3,), {"dilation": (2, 1), "padding": (3, 1)}),
    (imgfilter.blur, (5,), {}),
    (imgfilter.blur, ((3, 7),), {}),
]


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", MODES)
def test_filters_equal_the_copied_bands(dtype, mode, isa):
    previous = _engine.set_isa(isa)
    try:
        for i, shape in enumerate(SHAPES):
            arr = image(shape, dtype, seed=i)
            for threads in (1, 2):
                for fn, args, kw in CALLS:
                    call = partial(fn, arr, *args, mode=mode, threads=threads, **kw)
                    same_bits(*both_routes(call))
    finally:
        _engine.set_isa(previous)


def test_the_kernels_run(monkeypatch, photo):
    calls = Calls(monkeypatch)
    imgfilter.gaussian(photo, 3.0)
    imgfilter.correlate(photo.astype(np.float32), K3)
    assert calls.n["sep2d_idx"] > 0 and calls.n["taps2d"] > 0
    before = dict(calls.n)
    with copied_borders():
        imgfilter.gaussian(photo, 3.0)
        imgfilter.correlate(photo.astype(np.float32), K3)
    assert calls.n == before


@pytest.mark.parametrize("isa", ISAS)
def test_photos_equal_the_copied_bands(samples, isa):
    previous = _engine.set_isa(isa)
    try:
        for arr in samples.values():
            f32 = arr.astype(np.float32)
            for call in (
                partial(imgfilter.gaussian, arr, 3.0),
                partial(imgfilter.gaussian, arr.astype(np.uint16) * 257, 2.0, mode="constant"),
                partial(imgfilter.gaussian, f32, 3.0, mode="wrap"),
                partial(imgfilter.correlate, f32, K3),
                partial(imgfilter.correlate, arr, K3, mode="edge"),
            ):
                same_bits(*both_routes(call))
    finally:
        _engine.set_isa(previous)


@pytest.mark.parametrize("mode", MODES)
def test_close_to_scipy(photo, mode):
    """Both routes against the independent oracle (float64 SciPy)."""
    arr = photo.astype(np.float64)
    ours = imgfilter.correlate(arr, K3, mode=mode, cval=5.0)
    want = ndi.correlate(arr, K3[..., None], mode=SCIPY_MODE[mode], cval=5.0)
    np.testing.assert_allclose(ours, want, rtol=1e-12, atol=1e-9)
    g = imgfilter.gaussian(photo.astype(np.float64), 2.0, mode=mode)
    want = ndi.gaussian_filter(photo.astype(np.float64), (2.0, 2.0, 0), mode=SCIPY_MODE[mode])
    np.testing.assert_allclose(g, want, rtol=1e-12, atol=1e-9)


def test_uint8_gaussian_is_correctly_rounded(photo):
    """The 8-bit result is the float32 sum rounded to nearest, never a level off float64."""
    ours = imgfilter.gaussian(photo, 3.0)
    want = ndi.gaussian_filter(photo.astype(np.float64), (3.0, 3.0, 0), mode="mirror")
    # float32 sums are within a few 1e-4 levels of float64 ones
    assert np.max(np.abs(ours.astype(np.float64) - want)) <= 0.5 + 2e-3


@st.composite
def band_cases(draw):
    h, w = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    channels = draw(st.sampled_from([(), (1,), (2,), (3,), (4,)]))
    dtype = draw(
        st.sampled_from(["uint8", "int8", "uint16", "int16", "int32", "uint32", "float32", "float64"])
    )
    arr = draw(
        hnp.arrays(dtype, (h, w, *channels), elements={"allow_nan": False} if dtype[0] == "f" else None)
    )
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 2)))
    padding = draw(st.sampled_from(["same", "valid", (0, 0), (2, 1), (5, 4)]))
    mode = draw(st.sampled_from(MODES))
    separable = draw(st.booleans())
    weights = st.sampled_from([0.0, 1.0, -1.0, 0.5, 2.0, 0.3, -0.7, 1e-3])
    if separable:
        fv = np.array(draw(st.lists(weights, min_size=kh, max_size=kh)))
        fh = np.array(draw(st.lists(weights, min_size=kw, max_size=kw)))
        kernel = np.multiply.outer(fv, fh)
    else:
        kernel = np.array(draw(st.lists(weights, min_size=kh * kw, max_size=kh * kw))).reshape(kh, kw)
    work = draw(st.sampled_from(["float32", "float64"]))
    cval = draw(st.sampled_from([0.0, 1.0, -3.0, 255.0]))
    return arr, kernel, padding, stride, dilation, mode, cval, np.dtype(work), separable


@given(case=band_cases(), threads=st.sampled_from([1, 2]))
def test_run_linear_equals_the_copied_bands(case, threads):
    arr, kernel, padding, stride, dilation, mode, cval, dtype, separable = case
    try:
        plan = plan_window(arr.shape, kernel.shape, padding, stride, dilation)
    except (ValueError, OptionError):
        return
    factors = separable_factors(kernel, always=True) if separable else None
    method = "separable" if factors is not None else "taps"
    for isa in ISAS:
        previous = _engine.set_isa(isa)
        try:
            new, old = both_routes(
                partial(run_linear, arr, kernel, plan, mode, cval, dtype, threads, factors, method=method)
            )
        finally:
            _engine.set_isa(previous)
        same_bits(new, old)


def test_the_engine_checks_its_tables():
    src = np.zeros((4, 5, 3), np.float32)
    dst = np.empty((4, 5, 3), np.float32)
    rows = np.array([0, 0, 1, 2, 3, 3], dtype=np.intp)
    good = (4, 5, 3, 5, rows, -1, 7, (0,), (4,), 1, 1, (0, 2), (0, 2), (1.0, 1.0), 0.0)
    _engine.taps2d(src, dst, *good)
    bad_rows = np.array([0, 0, 1, 2, 3, 4], dtype=np.intp)
    with pytest.raises(IndexError):
        _engine.taps2d(src, dst, *good[:4], bad_rows, *good[5:])
    with pytest.raises(IndexError):  # a right column outside the image
        _engine.taps2d(src, dst, *good[:8], (5,), *good[9:])
    with pytest.raises(ValueError):  # a left table of the wrong length
        _engine.taps2d(src, dst, *good[:7], (0, 1), *good[8:])
    with pytest.raises(IndexError):  # taps beyond the block
        _engine.taps2d(src, dst, *good[:11], (0, 3), (0, 2), *good[13:])
    with pytest.raises(IndexError):  # a destination too small
        _engine.taps2d(src, dst[:3], *good)
    with pytest.raises(ValueError):  # an integer accumulator with fractional weights
        _engine.sep2d_idx(
            src.astype(np.uint8),
            dst,
            *good[:11],
            (0, 2),
            (0.5, 1.0),
            (0, 2),
            (1.0, 1.0),
            "u16",
            False,
            1.0,
            0.0,
        )


@pytest.mark.parametrize("nv", [2, 3, 4, 5, 13, 25])
@pytest.mark.parametrize("rows", [1, 2, 3, 4, 5, 7, 8, 9, 11])
@pytest.mark.parametrize("src", ["float32", "uint8"])
def test_rows_taken_four_two_and_one_at_a_time_equal_the_taps_in_order(nv, rows, src):
    """sep2d_idx with float32 sums runs the vertical taps over four output rows a pass (two below
    four taps), the rows left over one at a time: every count left over, the fewest taps each
    takes, widths that end inside a vector, a reflected border; bit for bit against the taps in
    order on the padded image, both ISAs."""
    rng = np.random.default_rng(nv * 100 + rows)
    fv = rng.random(nv).astype(np.float32)
    fh = rng.random(3).astype(np.float32)
    shape = (rows, 37, 3)
    if src == "uint8":
        img = rng.integers(0, 256, shape).astype(np.uint8)
    else:
        img = (rng.standard_normal(shape) * 100).astype(np.float32)
    plan = plan_window(img.shape, (nv, 3), "same", 1, 1)
    (top, bottom), (left, right) = plan.pads[0], plan.pads[1]
    padded = np.pad(img, ((top, bottom), (left, right), (0, 0)), mode="reflect")
    acc = np.dtype(np.float32)
    vert = taps_in_order(padded, fv[:, None], (1, 1), (1, 1), (rows, padded.shape[1]), acc)
    want = taps_in_order(vert, fh[None, :], (1, 1), (1, 1), shape[:2], acc)
    tables = border_tables(img.shape, plan, "reflect")
    geometry = (rows, shape[1], 3, shape[1], *tables.band(plan, 0, rows), 1, 1)
    taps = (tuple(range(nv)), tuple(map(float, fv)), (0, 1, 2), tuple(map(float, fh)))
    for name in _engine.isas():
        previous = _engine.set_isa(name)
        try:
            got = np.empty(shape, np.float32)
            _engine.sep2d_idx(img, got, *geometry, *taps, "f32", False, 1.0, 0.0)
        finally:
            _engine.set_isa(previous)
        np.testing.assert_array_equal(got, want, err_msg=name)
