"""Cubic shift (Keys, a = -0.75) against OpenCV's warpAffine(INTER_CUBIC) and a direct transcription."""

from __future__ import annotations

import math

import numpy as np
import pytest
from cubic_reference import keys, reference_shift
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from imgfilter.core.names import MODES, OptionError
from imgfilter.core.srgb import decode, encode
from imgfilter.filters._cubic import cubic_factors, shift_cubic

cv2 = pytest.importorskip("cv2")

CV_BORDER = {
    "constant": cv2.BORDER_CONSTANT,
    "edge": cv2.BORDER_REPLICATE,
    "symmetric": cv2.BORDER_REFLECT,
    "reflect": cv2.BORDER_REFLECT_101,
    "wrap": cv2.BORDER_WRAP,
}


def cv_shift(img, dx, dy, mode, cval=0.0):
    h, w = img.shape[:2]
    m = np.float64([[1, 0, dx], [0, 1, dy]])
    out = cv2.warpAffine(
        img, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=CV_BORDER[mode], borderValue=(cval,) * 4
    )
    return out.reshape(img.shape)


# --------------------------------------------------------------------------
# the coefficients
# --------------------------------------------------------------------------


@pytest.mark.parametrize("k", range(32))
def test_factors_are_opencvs_bit_for_bit(k):
    """An impulse shifted by warpAffine (float32) returns OpenCV's own 1-D coefficients."""
    t = k / 32
    impulse = np.zeros((1, 9), np.float32)
    impulse[0, 4] = 1
    out = cv2.warpAffine(impulse, np.float64([[1, 0, -t], [0, 1, 0]]), (9, 1), flags=cv2.INTER_CUBIC)
    # out[x] samples x + t: taps x - 1 .. x + 2 weigh c0..c3, so the impulse at 4 is c[4 - x + 1].
    got = out[0, [5, 4, 3, 2]].astype(np.float64)
    np.testing.assert_array_equal(cubic_factors(t), got)


@given(st.floats(0, 1, exclude_max=True))
def test_factors_are_keys_kernel(t):
    c = cubic_factors(t)
    np.testing.assert_allclose(c, keys(np.array([t + 1, t, 1 - t, 2 - t])), atol=1e-6)  # float32 evaluation
    assert abs(c.sum() - 1) < 1e-6


@pytest.mark.parametrize("bad", [-0.1, 1.0, math.nan, math.inf])
def test_factors_reject_fractions_outside_0_1(bad):
    with pytest.raises(OptionError, match="frac"):
        cubic_factors(bad)


# --------------------------------------------------------------------------
# vs OpenCV on photos, every border mode
# --------------------------------------------------------------------------

GRID_SHIFTS = [(0.5, 0.25), (7 / 32, -1 - 13 / 32), (3 + 5 / 32, 0), (0, -0.75), (-2.5, 11 / 32)]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dx,dy", GRID_SHIFTS)
def test_float32_photo_equals_opencv(photo, mode, dx, dy):
    img = photo[100:260, 140:330].astype(np.float32)
    ref = cv_shift(img, dx, dy, mode, cval=7)
    res = shift_cubic(img, dx, dy, mode=mode, cval=7)
    assert res.dtype == np.float32
    # Only the summation order differs (OpenCV: 16 products of a 2-D table).
    np.testing.assert_allclose(res, ref, rtol=0, atol=2e-4)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dx,dy", GRID_SHIFTS)
def test_uint8_photo_equals_opencv_but_rare_ties(photo, mode, dx, dy):
    ref = cv_shift(photo, dx, dy, mode, cval=7)
    res = shift_cubic(photo, dx, dy, mode=mode, cval=7)
    assert res.dtype == np.uint8
    diff = np.abs(res.astype(int) - ref)
    assert diff.max() <= 1
    # A 1-level difference only where the exact value is a half (see _cubic's docstring).
    assert np.count_nonzero(diff) <= max(3, diff.size // 20000)
    if dx == int(dx) or dy == int(dy):
        np.testing.assert_array_equal(res, ref)  # one axis: the same sums exactly


@pytest.mark.parametrize("mode", ["reflect", "constant"])
def test_uint16_photo_within_one_level_of_opencv(photo, mode):
    img = photo.astype(np.uint16) * 257
    for dx, dy in GRID_SHIFTS:
        ref = cv_shift(img, dx, dy, mode, cval=700)
        res = shift_cubic(img, dx, dy, mode=mode, cval=700)
        diff = np.abs(res.astype(int) - ref)
        assert diff.max() <= 1
        assert np.count_nonzero(diff) <= diff.size // 200


def test_off_grid_shift_is_the_exact_fraction_not_opencvs_32nds(gray_photo):
    """OpenCV snaps to 1/32 pixel; we do not (and agree with the transcription)."""
    img = gray_photo[:64, :80].astype(np.float64)
    dx, dy = 0.3, -0.61
    ref = reference_shift(img, dx, dy, "reflect")
    np.testing.assert_allclose(shift_cubic(img, dx, dy, mode="reflect"), ref, atol=1e-5)
    snapped = cv_shift(img.astype(np.float32), round(dx * 32) / 32, round(dy * 32) / 32, "reflect")
    assert np.abs(snapped - ref).max() > 0.01


# --------------------------------------------------------------------------
# vs the transcription: odd shapes, 1-px images, every mode
# --------------------------------------------------------------------------


@given(
    img=hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 9), st.integers(1, 9), st.sampled_from([1, 3])),
        elements=st.floats(-100, 100),
    ),
    dx=st.floats(-4, 4),
    dy=st.floats(-4, 4),
    mode=st.sampled_from(MODES),
    cval=st.floats(-10, 10),
)
def test_hypothesis_equals_transcription(img, dx, dy, mode, cval):
    ref = reference_shift(img, dx, dy, mode, cval)
    res = shift_cubic(img, dx, dy, mode=mode, cval=cval)
    np.testing.assert_allclose(res, ref, atol=1e-4, rtol=1e-6)


@given(
    img=hnp.arrays(np.uint8, st.tuples(st.integers(1, 7), st.integers(1, 7))),
    kx=st.integers(-70, 70),
    ky=st.integers(-70, 70),
    mode=st.sampled_from(MODES),
)
def test_hypothesis_uint8_within_a_level_of_opencv(img, kx, ky, mode):
    ref = cv_shift(img, kx / 32, ky / 32, mode, cval=3)
    res = shift_cubic(img, kx / 32, ky / 32, mode=mode, cval=3)
    assert np.abs(res.astype(int) - ref).max() <= 1


@pytest.mark.parametrize("mode", MODES)
def test_whole_pixels_are_copies(photo, mode):
    exact = np.pad(photo, ((3, 0), (0, 2), (0, 0)), mode=mode)[:-3, 2:]
    np.testing.assert_array_equal(shift_cubic(photo, -2, 3, mode=mode), exact)


def test_clipped_never_wrapped():
    step = np.array([[0, 0, 255, 255]], dtype=np.uint8)
    res = shift_cubic(step, 0.5, mode="edge")
    ref = reference_shift(step, 0.5, 0, "edge")
    np.testing.assert_array_equal(res, np.clip(np.rint(ref), 0, 255).astype(np.uint8))
    assert ref.min() < 0 and ref.max() > 255


# --------------------------------------------------------------------------
# alpha, linear light, Dask
# --------------------------------------------------------------------------


def test_opaque_alpha_equals_plain_colour(photo):
    rgba = np.dstack([photo, np.full(photo.shape[:2], 255, np.uint8)])
    res = shift_cubic(rgba, 0.25, 0.5, mode="edge", alpha=True)
    np.testing.assert_array_equal(res[..., :3], shift_cubic(photo, 0.25, 0.5, mode="edge"))
    np.testing.assert_array_equal(res[..., 3], 255)


def test_transparent_pixels_do_not_bleed():
    rgba = np.zeros((6, 8, 4), np.uint8)
    rgba[:, :4] = (200, 100, 50, 255)
    rgba[:, 4:, :3] = (0, 255, 0)  # invisible green
    res = shift_cubic(rgba, 0.5, 0, mode="edge", alpha=True)
    visible = res[..., 3] > 0
    assert np.all(np.abs(res[visible][:, :3].astype(int) - (200, 100, 50)) <= 1)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_linear_light_is_decode_shift_encode(photo, dtype):
    img = photo.astype(dtype) * (257 if dtype == np.uint16 else 1)
    res = shift_cubic(img, 0.375, -0.5, mode="symmetric", linear=True)
    ref = encode(shift_cubic(decode(img), 0.375, -0.5, mode="symmetric"), dtype)
    np.testing.assert_array_equal(res, ref)


def test_linear_light_with_alpha_and_constant_border():
    rng = np.random.default_rng(3)
    rgba = rng.integers(0, 256, (9, 11, 4)).astype(np.uint8)
    rgba[..., 3] = 255
    res = shift_cubic(rgba, 1.5, 0.25, mode="constant", cval=0, alpha=True, linear=True)
    assert res.dtype == np.uint8 and res.shape == rgba.shape
    inner = shift_cubic(rgba[..., :3], 1.5, 0.25, mode="edge", linear=True)
    # Far from the constant border, premultiplying by an opaque alpha changes nothing.
    np.testing.assert_allclose(res[3:-3, 4:-3, :3].astype(int), inner[3:-3, 4:-3], atol=1)


def test_dask_equals_numpy(photo):
    da = pytest.importorskip("dask.array")
    lazy = shift_cubic(da.from_array(photo, chunks=(100, 130, 3)), 2.25, -1.75, mode="wrap")
    np.testing.assert_array_equal(lazy.compute(), shift_cubic(photo, 2.25, -1.75, mode="wrap"))


def test_scipy_order3_spline_is_a_different_filter():
    """SciPy's order-3 shift is a B-spline interpolation: its impulse response reaches far."""
    ndi = pytest.importorskip("scipy.ndimage")
    impulse = np.zeros((21, 21))
    impulse[10, 10] = 1
    spline = ndi.shift(impulse, (0.5, 0.5), order=3, mode="mirror")
    ours = shift_cubic(impulse, 0.5, 0.5, mode="reflect")
    support = np.zeros_like(ours, dtype=bool)
    support[9:13, 9:13] = True
    assert np.all(ours[~support] == 0)
    assert np.abs(spline[~support]).max() > 1e-3
    np.testing.assert_allclose(ours[9:13, 9:13], np.multiply.outer(*[cubic_factors(0.5)] * 2)[::-1, ::-1])


def test_bad_options():
    img = np.zeros((4, 4))
    with pytest.raises(TypeError, match="dx"):
        shift_cubic(img, "a")
    with pytest.raises(OptionError, match="dy"):
        shift_cubic(img, 0, math.inf)
    with pytest.raises(OptionError, match="mode"):
        shift_cubic(img, 0.5, mode="bogus")
