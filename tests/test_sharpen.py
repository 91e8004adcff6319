"""Unsharp masking against scikit-image, a direct SciPy transcription, and Pillow (approximately)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import ndimage as ndi

import imgfilter
from imgfilter.core.names import MODES, SCIPY_MODE, OptionError
from imgfilter.core.srgb import decode, encode
from imgfilter.filters.sharpen import unsharp


def transcription(img, sigma, amount, threshold, mode, dtype=None):
    """image + amount * (image - gaussian_filter(image)) where |detail| > threshold, in float64."""
    x = img.astype(np.float64)
    sig = (sigma, sigma) + (0,) * (img.ndim - 2)
    blur = ndi.gaussian_filter(x, sig, mode=SCIPY_MODE[mode])
    detail = x - blur
    out = x + amount * np.where(np.abs(detail) > threshold, detail, 0)
    dtype = np.dtype(dtype or img.dtype)
    if dtype.kind == "f":
        return out
    info = np.iinfo(dtype)
    return np.clip(np.rint(out), info.min, info.max).astype(dtype)


# --------------------------------------------------------------------------
# scikit-image (floats, preserve_range=True)
# --------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("radius,amount", [(1.0, 1.0), (2.5, 0.6), (0.7, 3.0), (1.5, -0.5)])
def test_equals_skimage_unsharp_mask(photo, dtype, radius, amount):
    from skimage.filters import unsharp_mask

    img = photo.astype(dtype) / dtype(255)
    res = unsharp(img, sigma=radius, amount=amount, mode="symmetric")
    assert res.dtype == dtype
    # Per channel: scikit-image 0.26's channel_axis path does not match its own 2-D result.
    for k in range(3):
        ref = unsharp_mask(img[..., k], radius=radius, amount=amount, preserve_range=True)
        np.testing.assert_allclose(res[..., k], ref, rtol=0, atol=2e-6 if dtype == np.float32 else 1e-12)


def test_skimage_without_preserve_range_is_ours_scaled_and_clipped(gray_photo):
    from skimage.filters import unsharp_mask

    ref = unsharp_mask(gray_photo, radius=2.0, amount=1.5)
    ours = np.clip(
        unsharp(gray_photo.astype(np.float64) / 255, sigma=2.0, amount=1.5, mode="symmetric"), 0, 1
    )
    np.testing.assert_allclose(ours, ref, atol=1e-12)


# --------------------------------------------------------------------------
# 8/16-bit rounding: the direct transcription
# --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("sigma,amount,threshold", [(1.0, 1.0, 0), (1.5, 0.8, 4), (3.0, 2.0, 10.5)])
def test_uint8_photo_equals_transcription(samples, mode, sigma, amount, threshold):
    for name in ("astronaut.png", "camera.png"):
        img = samples[name]
        res = unsharp(img, sigma=sigma, amount=amount, threshold=threshold, mode=mode)
        assert res.dtype == np.uint8
        np.testing.assert_array_equal(res, transcription(img, sigma, amount, threshold, mode))


@pytest.mark.parametrize("mode", ["reflect", "constant", "wrap"])
def test_uint16_photo_equals_transcription(photo, mode):
    img = photo.astype(np.uint16) * 257 + 3
    res = unsharp(img, sigma=1.5, amount=2.0, threshold=300, mode=mode)
    assert res.dtype == np.uint16
    np.testing.assert_array_equal(res, transcription(img, 1.5, 2.0, 300, mode))


def test_threshold_is_strict_and_in_image_units():
    img = np.zeros((1, 9))
    img[0, 4] = 10.0
    detail = img - ndi.gaussian_filter(img, 1.0, mode="mirror")
    t = float(np.abs(detail[0, 4]))
    assert unsharp(img, threshold=t)[0, 4] == 10.0  # exactly at the threshold: unchanged
    assert unsharp(img, threshold=t * 0.999)[0, 4] == pytest.approx(10.0 + t)


def test_signed_and_wide_integers_clip(photo):
    img = photo[..., 0].astype(np.int16) - 128
    np.testing.assert_array_equal(unsharp(img, sigma=2, amount=4), transcription(img, 2, 4, 0, "reflect"))
    big = np.array([[0, 2**31 - 1, 0]] * 3, dtype=np.int32)
    res = unsharp(big, amount=30, mode="edge")
    assert res.dtype == np.int32 and res.max() == 2**31 - 1 and res.min() == -(2**31)
    np.testing.assert_array_equal(res, transcription(big, 1.0, 30, 0, "edge"))


def test_amount_zero_is_identity_and_negative_blurs(photo):
    np.testing.assert_array_equal(unsharp(photo, amount=0), photo)
    img = photo.astype(np.float64)
    np.testing.assert_allclose(
        unsharp(img, amount=-1.0), ndi.gaussian_filter(img, (1, 1, 0), mode="mirror"), atol=1e-9
    )


# --------------------------------------------------------------------------
# Pillow: the same filter with a box-approximated blur
# --------------------------------------------------------------------------


@pytest.mark.parametrize("radius,percent,threshold", [(2, 150, 3), (1, 100, 0), (3, 80, 8)])
def test_close_to_pillow_unsharp_mask(gray_photo, radius, percent, threshold):
    from PIL import Image, ImageFilter

    pil = np.asarray(Image.fromarray(gray_photo).filter(ImageFilter.UnsharpMask(radius, percent, threshold)))
    ours = unsharp(
        gray_photo, sigma=radius, amount=percent / 100, threshold=max(threshold - 0.5, 0), mode="edge"
    )
    diff = np.abs(pil.astype(int) - ours)
    assert diff.mean() < 0.6 and np.percentile(diff, 99) <= 6


# --------------------------------------------------------------------------
# linear light
# --------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_linear_light_is_decode_sharpen_encode(photo, dtype):
    img = photo.astype(dtype) * (257 if dtype == np.uint16 else 1)
    res = unsharp(img, sigma=2.0, amount=1.2, threshold=2, linear=True)
    lin = decode(img).astype(np.float64)
    ref = transcription(lin, 2.0, 1.2, 2, "reflect", np.float64)
    top = float(np.iinfo(dtype).max)
    expected = encode(np.clip(ref, 0, top).astype(np.float32), dtype)
    diff = np.abs(res.astype(int) - expected)
    assert diff.max() <= 1 and np.count_nonzero(diff) <= diff.size // 10000


def test_linear_light_halos():
    """Measured, not assumed: in linear light overshoot is symmetric in light, so the
    bright halo beside a dark line shrinks, and the dark halo beside a bright line deepens."""
    dark_line = np.full((9, 21), 200, np.uint8)
    dark_line[:, 10] = 30
    bright_line = np.full((9, 21), 118, np.uint8)
    bright_line[:, 10] = 255
    codes, light = (unsharp(dark_line, sigma=1.5, linear=lin)[4, 9] for lin in (False, True))
    assert 200 < light < codes
    codes, light = (unsharp(bright_line, sigma=1.5, linear=lin)[4, 9] for lin in (False, True))
    assert light < codes < 118


# --------------------------------------------------------------------------
# alpha, missing pixels, hypothesis, Dask
# --------------------------------------------------------------------------


def test_opaque_alpha_is_plain_and_passes_through(photo):
    rgba = np.dstack([photo, np.full(photo.shape[:2], 255, np.uint8)])
    res = unsharp(rgba, sigma=1.5, alpha=True)
    np.testing.assert_array_equal(res[..., :3], unsharp(photo, sigma=1.5))
    np.testing.assert_array_equal(res[..., 3], 255)


def test_transparent_pixels_leave_no_halo():
    rgba = np.zeros((9, 12, 4), np.uint8)
    rgba[:, :6] = (120, 120, 120, 255)
    rgba[:, 6:, :3] = 255  # invisible white
    res = unsharp(rgba, sigma=1.5, amount=2, alpha=True)
    np.testing.assert_array_equal(res[:, :6, :3], 120)
    np.testing.assert_array_equal(res[..., 3], rgba[..., 3])


def test_nan_ignore_and_keep():
    rng = np.random.default_rng(3)
    img = rng.random((20, 24)) * 100
    holes = rng.random(img.shape) < 0.1
    img[holes] = np.nan
    blur = imgfilter.gaussian(img, 1.0, nan="ignore")
    res = unsharp(img, nan="ignore")
    np.testing.assert_allclose(res[~holes], (2 * img - blur)[~holes], rtol=1e-6)
    np.testing.assert_allclose(res[holes], blur[holes], rtol=1e-6)
    kept = unsharp(img, nan="keep")
    assert np.array_equal(np.isnan(kept), holes)
    assert np.isnan(unsharp(img)).sum() > holes.sum()  # propagate spreads


def test_mask_leaves_invalid_pixels_out(gray_photo):
    img = gray_photo[:64, :64]
    mask = np.ones(img.shape, bool)
    mask[20:30, 20:30] = False
    as_nan = np.where(mask, img.astype(np.float32), np.nan)
    ref = unsharp(as_nan.astype(np.float64), nan="ignore")
    # No valid pixel under the blur (the hole's centre): an integer pixel keeps its value.
    ref = np.where(np.isnan(ref), img, ref)
    np.testing.assert_array_equal(unsharp(img, mask=mask), np.clip(np.rint(ref), 0, 255).astype(np.uint8))
    assert np.isnan(unsharp(as_nan, nan="ignore")[24:26, 24:26]).all()


@given(
    img=hnp.arrays(
        st.sampled_from([np.uint8, np.float64]),
        st.tuples(st.integers(1, 9), st.integers(1, 9), st.sampled_from([1, 3])),
        elements=st.integers(0, 255),
    ),
    sigma=st.floats(0.3, 3),
    amount=st.floats(-2, 4),
    threshold=st.floats(0, 20),
    mode=st.sampled_from(MODES),
)
def test_hypothesis_odd_shapes_all_modes(img, sigma, amount, threshold, mode):
    res = unsharp(img, sigma=sigma, amount=amount, threshold=threshold, mode=mode)
    ref = transcription(img, sigma, amount, threshold, mode)
    if img.dtype == np.uint8:
        # float32 sums: a half-level tie or a detail at the threshold may go either way.
        assert np.abs(res.astype(int) - ref).max() <= 1
    else:
        x = img.astype(np.float64)
        detail = x - ndi.gaussian_filter(x, (sigma, sigma, 0), mode=SCIPY_MODE[mode])
        near = np.abs(np.abs(detail) - threshold) < 1e-9
        np.testing.assert_allclose(res[~near], ref[~near], atol=1e-9)


def test_dask_equals_numpy(photo):
    da = pytest.importorskip("dask.array")
    lazy = unsharp(da.from_array(photo, chunks=(100, 150, 3)), sigma=2.0, amount=1.5)
    np.testing.assert_array_equal(lazy.compute(), unsharp(photo, sigma=2.0, amount=1.5))


def test_facade_export():
    assert imgfilter.unsharp is unsharp


def test_bad_options(photo):
    with pytest.raises(OptionError, match="threshold"):
        unsharp(photo, threshold=-1)
    with pytest.raises(TypeError, match="amount"):
        unsharp(photo, amount="lots")
    with pytest.raises(OptionError, match="sigma"):
        unsharp(photo, sigma=0)
    with pytest.raises(OptionError, match="nan"):
        unsharp(photo, nan="drop")
