"""Shift (bilinear and cubic): bounds, missing pixels, and the dispatcher's paths for the cubic body.

Oracles: SciPy's ``ndimage.shift(order=1)`` (bilinear) and a direct float64
transcription of Keys' kernel (tests/cubic_reference.py) applied to w*x and
to w, divided: normalized interpolation written independently of the core.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from cubic_reference import reference_shift
from hypothesis import given
from hypothesis import strategies as st

from imgfilter import shift
from imgfilter.core.names import MODES, OptionError
from imgfilter.core.srgb import decode, encode

ndi = pytest.importorskip("scipy.ndimage")

SCIPY_MODE = {
    "constant": "grid-constant",
    "edge": "nearest",
    "reflect": "mirror",
    "symmetric": "reflect",
    "wrap": "grid-wrap",
}
INTERPOLATIONS = ("bilinear", "cubic")
CUBIC_BELOW = 0.25  # the documented rule: |sum of the valid cubic taps| <= 1/4 is a missing sample


# --------------------------------------------------------------------------
# bounds: the cubic path takes the bilinear path's checks (one _amount)
# --------------------------------------------------------------------------


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("name", ["dx", "dy"])
@pytest.mark.parametrize("value", [1e300, -1e300, 2.0**49, math.nan, math.inf, -math.inf])
def test_huge_or_nonfinite_amounts_are_one_option_error(interpolation, name, value):
    img = np.zeros((6, 7), np.uint8)
    t0 = time.process_time()
    with pytest.raises(OptionError, match=name) as info:
        shift(img, **{name: value}, interpolation=interpolation)
    assert time.process_time() - t0 < 1.0
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_huge_amount_refused_on_dask_too(interpolation):
    da = pytest.importorskip("dask.array")
    with pytest.raises(OptionError, match="dx"):
        shift(da.zeros((8, 8), chunks=4), dx=1e300, interpolation=interpolation)


# --------------------------------------------------------------------------
# missing pixels against independent transcriptions
# --------------------------------------------------------------------------


def oracle(img, valid, dx, dy, mode, cval, interpolation):
    """sum(k v x) / sum(k v) in float64; NaN where the sample is missing by the documented rule."""
    valid = np.broadcast_to(valid, img.shape)
    x = np.where(valid, img.astype(np.float64), 0.0)
    v = valid.astype(np.float64)
    if interpolation == "bilinear":
        sh = (dy, dx) + (0,) * (img.ndim - 2)
        num = ndi.shift(x, sh, order=1, mode=SCIPY_MODE[mode], cval=cval, prefilter=False)
        den = ndi.shift(v, sh, order=1, mode=SCIPY_MODE[mode], cval=1.0, prefilter=False)
        empty = den <= 0
    else:
        num = reference_shift(x, dx, dy, mode, cval)
        den = reference_shift(v, dx, dy, mode, 1.0)
        empty = np.abs(den) <= CUBIC_BELOW
    with np.errstate(invalid="ignore", divide="ignore"):
        out = num / den
    out[empty] = np.nan
    return out, den


def holes(shape, seed, fraction=0.15):
    rng = np.random.default_rng(seed)
    valid = rng.random(shape[:2]) > fraction
    valid[5:12, 7:15] = False  # a block: samples with no valid tap at all
    return valid


def near_threshold(den, interpolation, dx=0.5, dy=0.5):
    if interpolation == "bilinear":
        # A valid tap of almost no weight (SciPy may round it to 0): the sample is
        # missing or not by a hair.
        hair = any(0 < min(a % 1, 1 - a % 1) < 1e-9 for a in (dx, dy))
        return np.broadcast_to(hair, den.shape) & (den < 1e-9)
    return np.abs(np.abs(den) - CUBIC_BELOW) < 1e-4


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("mode", MODES)
def test_nan_ignore_float_photo(photo, mode, interpolation):
    img = photo[80:160, 200:290].astype(np.float32) / 255
    valid = holes(img.shape, 1)
    holed = img.copy()
    holed[~valid] = np.nan
    dx, dy = 1.375, -0.625
    res = shift(holed, dx, dy, mode=mode, cval=0.5, nan="ignore", interpolation=interpolation)
    ref, den = oracle(img, valid[..., None], dx, dy, mode, 0.5, interpolation)
    assert res.dtype == np.float32
    ok = ~near_threshold(den, interpolation)
    np.testing.assert_array_equal(np.isnan(res)[ok], np.isnan(ref)[ok])
    assert np.isnan(ref).any() and not np.isnan(ref).all()
    fin = ok & ~np.isnan(ref)
    np.testing.assert_allclose(res[fin], ref[fin], rtol=0, atol=2e-5)


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("channels", [(), (3,)])
def test_nan_holes_take_the_fused_route_with_the_mask_routes_bits(photo, mode, interpolation, channels):
    """NaN holes without a mask are found band by band by the fused kernel (no
    validity array); a mask of all True takes the validity-array route: the
    same bits, on threads 1 and 2."""
    img = photo[40:150, 60:190].astype(np.float64) / 255
    img = img if channels else img[..., 1].copy()
    valid = holes(img.shape, 3, fraction=0.05)
    img[~valid] = np.nan
    kw = dict(mode=mode, cval=0.25, nan="ignore", interpolation=interpolation)
    ref = shift(img, 0.375, -1.25, mask=np.ones(img.shape[:2], bool), threads=1, **kw)
    assert np.isnan(ref).any() and not np.isnan(ref).all()
    for threads in (1, 2):
        got = shift(img, 0.375, -1.25, threads=threads, **kw)
        np.testing.assert_array_equal(got.view(np.uint64), ref.view(np.uint64))


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_samples_with_every_tap_valid_are_the_plain_shift(photo, interpolation):
    img = photo[:90, :100].astype(np.float32)
    valid = holes(img.shape, 2)
    holed = img.copy()
    holed[~valid] = np.nan
    plain = shift(holed, 0.3, 2.7, mode="reflect", interpolation=interpolation)  # NaN propagates
    res = shift(holed, 0.3, 2.7, mode="reflect", interpolation=interpolation, nan="ignore")
    whole = ~np.isnan(plain)
    assert whole.any() and not whole.all()
    np.testing.assert_array_equal(res[whole], plain[whole])


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_nan_keep_puts_nan_back(interpolation):
    rng = np.random.default_rng(4)
    img = rng.random((12, 13))
    img[3, 4] = img[7, 9] = np.nan
    res = shift(img, 0.5, 0.5, mode="edge", nan="keep", interpolation=interpolation)
    ign = shift(img, 0.5, 0.5, mode="edge", nan="ignore", interpolation=interpolation)
    assert np.isnan(res[3, 4]) and np.isnan(res[7, 9])
    other = ~np.isnan(img)
    np.testing.assert_array_equal(res[other], ign[other])


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("mode", ["constant", "symmetric"])
def test_mask_uint8_photo(photo, mode, interpolation):
    img = photo[100:190, 150:260]
    valid = holes(img.shape, 3)
    dx, dy = -0.75, 0.25
    res = shift(img, dx, dy, mode=mode, cval=9, mask=valid, interpolation=interpolation)
    ref, den = oracle(img, valid[..., None], dx, dy, mode, 9, interpolation)
    assert res.dtype == np.uint8
    missing = np.isnan(ref)
    ok = ~near_threshold(den, interpolation)
    # Integers cannot hold NaN: a missing sample keeps the pixel's own value.
    np.testing.assert_array_equal(res[missing & ok], img[missing & ok])
    expect = np.clip(np.rint(np.nan_to_num(ref)), 0, 255)
    diff = np.abs(res.astype(int) - expect)[~missing & ok]
    assert diff.max() <= 1 and np.mean(diff) < 1e-3  # float32 sums vs float64: ties at halves


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_masked_array_is_mask(photo, interpolation):
    img = photo[:40, :50].astype(np.float64)
    valid = holes(img.shape, 5)
    ma = np.ma.MaskedArray(img, mask=np.broadcast_to(~valid[..., None], img.shape))
    a = shift(ma, 0.5, -1.25, mode="edge", interpolation=interpolation)
    b = shift(img, 0.5, -1.25, mode="edge", interpolation=interpolation, mask=valid)
    assert type(a) is np.ndarray
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_mask_in_linear_light(photo, interpolation, dtype):
    img = photo[:60, :70].astype(dtype) * (257 if dtype == np.uint16 else 1)
    valid = holes(img.shape, 6)
    res = shift(img, 0.5, 0.25, mode="edge", mask=valid, linear=True, interpolation=interpolation)
    lin = decode(img).astype(np.float64)
    ref, den = oracle(lin, valid[..., None], 0.5, 0.25, "edge", 0, interpolation)
    missing = np.isnan(ref)
    ok = ~near_threshold(den, interpolation)
    np.testing.assert_array_equal(res[missing & ok], img[missing & ok])
    expect = encode(np.nan_to_num(ref).astype(np.float32), dtype)
    diff = np.abs(res.astype(int) - expect.astype(int))[~missing & ok]
    assert diff.max() <= 1


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_missing_with_alpha_is_refused(interpolation):
    rgba = np.zeros((6, 6, 4), np.uint8)
    with pytest.raises(OptionError, match="alpha"):
        shift(rgba, 0.5, mask=np.ones((6, 6), bool), alpha=True, interpolation=interpolation)


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_dask_with_mask_equals_numpy(photo, interpolation):
    da = pytest.importorskip("dask.array")
    img = photo[:100, :120]
    valid = holes(img.shape, 7)
    eager = shift(img, 2.25, -1.5, mode="wrap", mask=valid, interpolation=interpolation)
    lazy = shift(
        da.from_array(img, chunks=(30, 50, 3)),
        2.25,
        -1.5,
        mode="wrap",
        mask=da.from_array(valid, chunks=(30, 50)),
        interpolation=interpolation,
    )
    np.testing.assert_array_equal(lazy.compute(), eager)


@given(
    st.integers(0, 2**31),
    st.sampled_from(MODES),
    st.sampled_from(INTERPOLATIONS),
    st.floats(-3, 3),
    st.floats(-3, 3),
)
def test_missing_property(seed, mode, interpolation, dx, dy):
    rng = np.random.default_rng(seed)
    img = rng.random((9, 11)) * 100
    valid = rng.random((9, 11)) > 0.3
    res = shift(img, dx, dy, mode=mode, cval=3.0, mask=valid, interpolation=interpolation)
    ref, den = oracle(img, valid, dx, dy, mode, 3.0, interpolation)
    ok = ~near_threshold(den, interpolation, dx, dy)
    # Integers keep their value, floats are NaN: float64 here, so NaN.
    np.testing.assert_array_equal(np.isnan(res)[ok], np.isnan(ref)[ok])
    fin = ok & ~np.isnan(ref)
    # Cubic taps are OpenCV's float32 values (1e-7 relative, times 100, times at
    # most sum|k| / (1/4) of amplification); bilinear taps are exact.
    atol = 1e-3 if interpolation == "cubic" else 1e-9
    np.testing.assert_allclose(res[fin], ref[fin], rtol=0, atol=atol)


# --------------------------------------------------------------------------
# the dispatcher's paths reach the cubic body
# --------------------------------------------------------------------------


def test_cubic_pil_input_equals_its_array(photo):
    Image = pytest.importorskip("PIL.Image")
    pil = Image.fromarray(photo)
    np.testing.assert_array_equal(
        shift(pil, 0.5, 0.25, interpolation="cubic"), shift(photo, 0.5, 0.25, interpolation="cubic")
    )


def test_cubic_pil_rgba_premultiplies(photo):
    Image = pytest.importorskip("PIL.Image")
    rgba = np.dstack([photo[:50, :60], np.full((50, 60), 255, np.uint8)])
    rgba[:, 30:, 3] = 0
    a = shift(Image.fromarray(rgba, "RGBA"), 0.5, 0, interpolation="cubic", mode="edge")
    b = shift(rgba, 0.5, 0, interpolation="cubic", mode="edge", alpha=True)
    np.testing.assert_array_equal(a, b)


def test_cubic_axes_channels_first(photo):
    img = photo[:40, :50]
    first = np.ascontiguousarray(np.moveaxis(img, -1, 0))
    res = shift(first, 0.25, -0.5, interpolation="cubic", axes=(1, 2), mode="symmetric")
    ref = shift(img, 0.25, -0.5, interpolation="cubic", mode="symmetric")
    np.testing.assert_array_equal(res, np.moveaxis(ref, -1, 0))


def test_cubic_axes_batch_with_mask(photo):
    batch = np.stack([photo[:30, :40], photo[30:60, 40:80]]).astype(np.float32)
    valid = np.stack([holes((30, 40), 8), holes((30, 40), 9)])
    res = shift(
        batch,
        0.5,
        0.5,
        interpolation="cubic",
        mode="edge",
        axes=(1, 2),
        mask=np.broadcast_to(valid[..., None], batch.shape),
    )
    for i in range(2):
        ref = shift(batch[i], 0.5, 0.5, interpolation="cubic", mode="edge", mask=valid[i])
        np.testing.assert_array_equal(res[i], ref)


def test_cubic_refuses_4d_without_axes():
    with pytest.raises(OptionError, match="axes="):
        shift(np.zeros((2, 5, 5, 3)), 0.5, interpolation="cubic")


def test_cubic_dask_equals_numpy(photo):
    da = pytest.importorskip("dask.array")
    lazy = shift(da.from_array(photo, chunks=(100, 130, 3)), -0.3, 1.7, mode="reflect", interpolation="cubic")
    np.testing.assert_array_equal(
        lazy.compute(), shift(photo, -0.3, 1.7, mode="reflect", interpolation="cubic")
    )
