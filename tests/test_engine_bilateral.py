"""The compiled bilateral kernel against the numpy filter it replaced, its checks and its ISAs.

The oracle is ``numpy_reference_bilateral.numpy_bilateral``, the numpy code
as it was before the engine. Where both use the same table of range weights
(8- and 16-bit images without missing pixels) they sum in the same order and
type, so the results must be equal bit for bit. Float images compute the range
weight with the engine's own exp (a few ulp from numpy's), so they are
compared to a tolerance of 1e-5 of the values' scale (float32; 1e-12 for
float64); integers with missing pixels, where the old code used exp and the
kernel the table, may round the other way at a tie: one level.
"""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy_reference_bilateral import numpy_bilateral

import imgfilter
from imgfilter import _engine

ISAS = _engine.isas()
MODES = ("constant", "edge", "reflect", "symmetric", "wrap")
INT_TYPES = ("uint8", "int8", "uint16", "int16")
FLOAT_TYPES = ("float32", "float64")


def elements(dtype: np.dtype):
    if dtype.kind == "f":
        return st.floats(-2.0, 2.0, width=32 if dtype.itemsize == 4 else 64)
    info = np.iinfo(dtype)
    return st.integers(int(info.min), int(info.max))


@st.composite
def cases(draw, dtypes=INT_TYPES + FLOAT_TYPES):
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    h, w = draw(st.integers(1, 11)), draw(st.integers(1, 11))
    channels = draw(st.sampled_from([None, 1, 2, 3, 4, 5]))
    shape = (h, w) if channels is None else (h, w, channels)
    img = draw(hnp.arrays(dtype, shape, elements=elements(dtype)))
    alpha = draw(st.sampled_from([None, False, True])) if channels and channels >= 2 else None
    top = 1.0 if dtype.kind == "f" else float(np.iinfo(dtype).max)
    kwargs = {
        "diameter": draw(st.sampled_from([0, 1, 3, 4, 5, 9, 31])),
        "sigma_color": draw(st.sampled_from([0.05, 0.3, 1.0, 4.0])) * top,
        "sigma_space": draw(st.sampled_from([0.5, 1.5, 4.0])),
        "mode": draw(st.sampled_from(MODES)),
        "alpha": alpha,
    }
    return img, kwargs


def assert_close(ours, ref, img):
    assert ours.dtype == ref.dtype and ours.shape == ref.shape
    if ref.dtype.kind == "f":
        assert np.array_equal(np.isnan(ours), np.isnan(ref))
        scale = float(np.nanmax(np.abs(img.astype(np.float64)), initial=1.0))
        tol = 1e-12 if ref.dtype.itemsize == 8 else 1e-5
        np.testing.assert_allclose(ours, ref, rtol=0, atol=tol * scale, equal_nan=True)
    else:
        assert np.abs(ours.astype(np.int64) - ref.astype(np.int64)).max(initial=0) <= 1


@given(case=cases())
def test_kernel_equals_the_numpy_filter(case):
    img, kwargs = case
    ours = imgfilter.bilateral(img, **kwargs)
    ref = numpy_bilateral(img, **kwargs)
    if img.dtype.kind in "iu":
        np.testing.assert_array_equal(ours, ref)  # same table, same order: the same bits
    else:
        assert_close(ours, ref, img)


@given(case=cases(), density=st.sampled_from([0.0, 0.1, 0.5, 1.0]), seed=st.integers(0, 2**16))
def test_missing_pixels_equal_the_numpy_filter(case, density, seed):
    img, kwargs = case
    rng = np.random.default_rng(seed)
    holes = rng.random(img.shape[:2]) < density
    for nan in ("ignore", "keep"):
        if img.dtype.kind == "f":
            x = img.copy()
            x[holes] = np.nan
            ours = imgfilter.bilateral(x, nan=nan, **kwargs)
            ref = numpy_bilateral(x, nan=nan, **kwargs)
        else:
            x = img
            ours = imgfilter.bilateral(x, nan=nan, mask=~holes, **kwargs)
            ref = numpy_bilateral(x, nan=nan, mask=~holes, **kwargs)
        assert_close(ours, ref, x)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
@given(case=cases(dtypes=FLOAT_TYPES), seed=st.integers(0, 2**16))
def test_nan_and_inf_propagate_as_before(case, seed):
    img, kwargs = case
    # The kernel counts range weights below the smallest normal float (exp
    # under -87.5 in float32, -708 in float64) as 0 where numpy keeps a
    # subnormal: inf x subnormal is inf, inf x 0 NaN. Distances of values in
    # [-2, 2] stay above those with sigma_color >= 2 (a finite d <= 20).
    kwargs = {**kwargs, "sigma_color": max(kwargs["sigma_color"], 2.0)}
    rng = np.random.default_rng(seed)
    x = img.copy()
    x[rng.random(x.shape) < 0.1] = np.nan
    x[rng.random(x.shape) < 0.05] = np.inf
    ref = numpy_bilateral(x, **kwargs)
    ours = imgfilter.bilateral(x, **kwargs)
    assert np.array_equal(np.isnan(ours), np.isnan(ref))
    assert np.array_equal(np.isinf(ours), np.isinf(ref))


@pytest.mark.parametrize("dtype", ["bool", "float16", "uint32", "int32", "int64", ">u2", "<f8"])
def test_other_dtypes(dtype):
    rng = np.random.default_rng(5)
    img = (rng.random((9, 10, 3)) * (1 if dtype in ("bool", "float16") else 1000)).astype(dtype)
    ours = imgfilter.bilateral(img, 5, 300.0, 2.0)
    assert ours.dtype == img.dtype
    # float64 as the oracle (the old code could not table 32-bit distances).
    ref = numpy_bilateral(img.astype(np.float64), 5, 300.0, 2.0)
    if img.dtype.kind == "b":
        ref = ref >= 0.5
    tol = 1 if img.dtype.kind in "iub" else 2e-3 * 1000
    assert np.abs(ours.astype(np.float64) - ref.astype(np.float64)).max() <= tol


@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (9, 1), (2, 3, 4), (1, 1, 3)])
@pytest.mark.parametrize("mode", MODES)
def test_windows_far_larger_than_the_image(shape, mode):
    img = np.random.default_rng(len(shape)).integers(0, 256, shape, dtype=np.uint8)
    np.testing.assert_array_equal(
        imgfilter.bilateral(img, 61, 50.0, 9.0, mode=mode), numpy_bilateral(img, 61, 50.0, 9.0, mode=mode)
    )


@pytest.mark.skipif(len(ISAS) < 2, reason="one instruction set on this CPU")
@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float32", "float64"])
@pytest.mark.parametrize("channels", [None, 3, 4, 6])
def test_isas_give_the_same_bits(photo, dtype, channels):
    img = photo[:37, :53]
    if channels is None:
        img = img[..., 0]
    elif channels > 3:
        img = np.concatenate([img, img[..., : channels - 3]], axis=-1)
    img = (img.astype(np.float64) / 255).astype(dtype) if dtype.startswith("float") else img.astype(dtype)
    holes = img.astype(np.float64)
    holes[::7, ::5] = np.nan
    mask = np.random.default_rng(1).random(img.shape[:2]) < 0.8
    sc = 0.3 if dtype.startswith("float") else 60.0 * (257 if dtype == "uint16" else 1)
    runs = {}
    for isa in ISAS:
        previous = _engine.set_isa(isa)
        try:
            runs[isa] = [
                imgfilter.bilateral(img, 9, sc, 3.0),
                imgfilter.bilateral(img, 7, sc, 2.0, mask=mask, mode="wrap"),
                imgfilter.bilateral(holes, 5, sc, 2.0, nan="ignore"),
            ]
        finally:
            _engine.set_isa(previous)
    for a, b in zip(*runs.values(), strict=True):
        np.testing.assert_array_equal(a, b)


def engine_call(block, dst, h, w, r, lut=None, **kw):
    taps = ((0, r, 2 * r), (0, r, 2 * r), (0.5, 1.0, 0.5))
    args = dict(
        mask=None, chan=1, ncol=1, alpha=False, nan_missing=False, wide=False, coeff=-0.01, amax=255.0
    )
    args.update(kw)
    _engine.bilateral(
        block, args["mask"], dst, h, w, args["chan"], args["ncol"], r, args["alpha"],
        args["nan_missing"], args["wide"], *taps, lut, args["coeff"], args["amax"],
    )  # fmt: skip


def test_engine_checks_its_buffers():
    lut = np.ones(256, np.float32)
    dst = np.zeros((4, 5), np.uint8)
    engine_call(np.zeros((6, 7), np.uint8), dst, 4, 5, 1, lut)
    with pytest.raises(IndexError):
        engine_call(np.zeros((5, 7), np.uint8), dst, 4, 5, 1, lut)  # a block row short
    with pytest.raises(IndexError):
        engine_call(np.zeros((6, 7), np.uint8), np.zeros((4, 4), np.uint8), 4, 5, 1, lut)
    with pytest.raises(ValueError, match="table"):
        engine_call(np.zeros((6, 7), np.uint8), dst, 4, 5, 1, lut[:255])
    with pytest.raises(ValueError, match="table"):
        engine_call(np.zeros((6, 7), np.float32), dst, 4, 5, 1, lut)
    with pytest.raises(ValueError, match="mask"):
        engine_call(np.zeros((6, 7), np.uint8), dst, 4, 5, 1, lut, mask=np.ones((6, 6), np.uint8))
    with pytest.raises(ValueError, match="channels"):
        engine_call(np.zeros((6, 7), np.uint8), dst, 4, 5, 1, lut, alpha=True)
    with pytest.raises(TypeError, match="64-bit"):
        engine_call(np.zeros((6, 7), np.uint8), np.zeros((4, 5), np.int64), 4, 5, 1, lut)


@st.composite
def wide_cases(draw):
    # Rows of 16 and more: the AVX2 kernel's 16-output blocks, with remainders.
    dtype = np.dtype(draw(st.sampled_from(INT_TYPES)))
    h, w = draw(st.integers(1, 6)), draw(st.integers(15, 70))
    channels = draw(st.sampled_from([None, 1, 2, 3, 4, 5]))
    shape = (h, w) if channels is None else (h, w, channels)
    img = draw(hnp.arrays(dtype, shape, elements=elements(dtype)))
    top = float(np.iinfo(dtype).max)
    kwargs = {
        "diameter": draw(st.sampled_from([0, 3, 5, 9])),
        "sigma_color": draw(st.sampled_from([0.05, 0.3, 1.0])) * top,
        "sigma_space": draw(st.sampled_from([0.5, 1.5, 4.0])),
        "mode": draw(st.sampled_from(MODES)),
        "alpha": draw(st.sampled_from([None, True])) if channels and channels >= 2 else None,
    }
    return img, kwargs


@pytest.mark.parametrize("isa", ISAS)
@given(case=wide_cases())
def test_wide_rows_equal_the_numpy_filter_on_each_isa(isa, case):
    img, kwargs = case
    previous = _engine.set_isa(isa)
    try:
        ours = imgfilter.bilateral(img, **kwargs)
    finally:
        _engine.set_isa(previous)
    np.testing.assert_array_equal(ours, numpy_bilateral(img, **kwargs))


@pytest.mark.parametrize("channels", [1, 3])
def test_photo_rows_equal_the_numpy_filter(photo, channels):
    img = photo[:12, :150, :channels]
    for isa in ISAS:
        previous = _engine.set_isa(isa)
        try:
            ours = imgfilter.bilateral(img, 9, 75.0, 75.0)
        finally:
            _engine.set_isa(previous)
        np.testing.assert_array_equal(ours, numpy_bilateral(img, 9, 75.0, 75.0))
