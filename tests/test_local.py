"""Local statistics: variance, standard deviation and range, against scipy.ndimage."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import ndimage as ndi

import imgfilter
from imgfilter.core.names import MODES, SCIPY_MODE, OptionError
from imgfilter.filters.local import local_range, local_std, local_var

FOOTPRINTS = {
    "cross": np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], bool),
    "odd": np.array([[1, 1, 0, 0], [0, 1, 1, 1], [0, 0, 1, 0]], bool),
    "disk": np.hypot(*np.mgrid[-3:4, -3:4]) <= 3,
}


def spatial(img, win):
    """scipy's size/footprint for an image with optional channels (channels untouched)."""
    if isinstance(win, np.ndarray):
        fp = win if img.ndim == 2 else win[..., None]
        return {"footprint": fp}
    return {"size": tuple(win) + (1,) * (img.ndim - 2)}


def kwargs(win):
    return {"footprint": win} if isinstance(win, np.ndarray) else {"size": tuple(win)}


def box_moments(img, size, mode):
    """float64 reference from uniform_filter sums (8/16-bit values: far from cancellation in float64)."""
    x = img.astype(np.float64)
    size = tuple(size) + (1,) * (img.ndim - 2)
    m1 = ndi.uniform_filter(x, size, mode=SCIPY_MODE[mode])
    m2 = ndi.uniform_filter(x * x, size, mode=SCIPY_MODE[mode])
    return np.maximum(m2 - m1 * m1, 0)


# --------------------------------------------------------------------------
# small images: generic_filter(np.std / np.var) in every mode
# --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("win", [(3, 3), (2, 5), (1, 1), FOOTPRINTS["cross"], FOOTPRINTS["odd"]], ids=str)
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64, np.int16])
def test_std_var_equal_generic_filter(mode, win, dtype):
    rng = np.random.default_rng(7)
    img = rng.integers(0, 200, (11, 13, 2)).astype(dtype)
    sp = spatial(img, win)
    for fn, red in ((local_std, np.std), (local_var, np.var)):
        ref = ndi.generic_filter(img.astype(np.float64), red, mode=SCIPY_MODE[mode], cval=5, **sp)
        res = fn(img, mode=mode, cval=5, **kwargs(win))
        assert res.dtype == (np.float64 if dtype == np.float64 else np.float32)
        np.testing.assert_allclose(res, ref, rtol=2e-7, atol=1e-5 if red is np.std else 1e-4)


@pytest.mark.parametrize("ddof", [1, 2])
def test_ddof(ddof):
    rng = np.random.default_rng(1)
    img = rng.normal(size=(9, 10))
    ref = ndi.generic_filter(img, lambda v: np.var(v, ddof=ddof), size=3, mode="mirror")
    np.testing.assert_allclose(local_var(img, 3, ddof=ddof), ref, rtol=1e-12, atol=1e-13)


# --------------------------------------------------------------------------
# photos: a float64 reference from uniform_filter
# --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("size", [(7, 7), (4, 9), (31, 31)])
def test_photo_std_equals_float64_reference(samples, mode, size):
    for img in (samples["astronaut.png"], samples["camera.png"]):
        ref = np.sqrt(box_moments(img, size, mode))
        res = local_std(img, size, mode=mode)
        np.testing.assert_allclose(res, ref, rtol=1e-6, atol=2e-3)


def test_photo_16bit_var_within_float32_rounding(photo):
    img = photo.astype(np.uint16) * 257
    ref = box_moments(img, (5, 5), "reflect")
    res = local_var(img, 5)
    assert res.dtype == np.float32
    np.testing.assert_allclose(res, ref.astype(np.float32), rtol=2e-7 * 4, atol=1e-2)


def test_photo_footprint_disk(photo):
    img = photo[:96, :128]
    fp = FOOTPRINTS["disk"]
    ref = ndi.generic_filter(img.astype(np.float64), np.std, footprint=fp[..., None], mode="mirror")
    np.testing.assert_allclose(local_std(img, footprint=fp), ref, rtol=1e-6, atol=1e-4)


# --------------------------------------------------------------------------
# no catastrophic cancellation
# --------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [1e4, 1e6, 3e8])
def test_large_offset_gives_the_noise_std(offset):
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 1.0, (200, 200))
    img = offset + noise
    ref = ndi.generic_filter(noise, np.std, size=9, mode="mirror")[::7, ::7]
    got = local_std(img, 9)[::7, ::7]
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)
    if offset <= 1e6:
        got32 = local_std(img.astype(np.float32), 9)
        # float32 input already rounds 10000 + noise to 1e-3; the statistic adds nothing.
        ref32 = ndi.generic_filter(img.astype(np.float32).astype(np.float64), np.std, size=9, mode="mirror")
        np.testing.assert_allclose(got32[::7, ::7], ref32[::7, ::7], rtol=1e-5, atol=1e-5)


def test_flat_regions_far_from_the_mean_are_exactly_zero():
    img = np.zeros((40, 40), np.uint16)
    img[:, 20:] = 65535
    res = local_std(img, 5)
    assert np.all(res[:, :17] == 0) and np.all(res[:, 23:] == 0)
    assert np.all(res[:, 18:22] > 0)


# --------------------------------------------------------------------------
# range
# --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("win", [(3, 3), (2, 5), (1, 4), FOOTPRINTS["cross"], FOOTPRINTS["odd"]], ids=str)
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64, np.float16, np.int32])
def test_range_equals_scipy_max_minus_min(photo, mode, win, dtype):
    img = photo[:64, :80].astype(dtype)
    sp = spatial(img, win)
    src = img.astype(np.float32) if dtype == np.float16 else img  # (SciPy has no float16; exact in float32)
    hi = ndi.maximum_filter(src, mode=SCIPY_MODE[mode], cval=9, **sp).astype(dtype)
    lo = ndi.minimum_filter(src, mode=SCIPY_MODE[mode], cval=9, **sp).astype(dtype)
    res = local_range(img, mode=mode, cval=9, **kwargs(win))
    assert res.dtype == img.dtype
    np.testing.assert_array_equal(res, hi - lo)


def test_range_signed_clips_never_wraps():
    img = np.array([[-128, 127, 0]], dtype=np.int8)
    np.testing.assert_array_equal(local_range(img, 3, mode="edge"), [[127, 127, 127]])


def test_range_bool():
    img = np.zeros((5, 5), bool)
    img[2, 2] = True
    res = local_range(img, 3)
    assert res.dtype == bool
    np.testing.assert_array_equal(res, ndi.maximum_filter(img, 3) & ~ndi.minimum_filter(img, 3))


# --------------------------------------------------------------------------
# missing pixels
# --------------------------------------------------------------------------


def nan_reference(img, fn, size, mode="mirror"):
    return ndi.generic_filter(img, lambda v: fn(v) if np.isfinite(v).any() else np.nan, size=size, mode=mode)


def test_nan_ignore_std_and_range():
    rng = np.random.default_rng(5)
    img = rng.normal(10, 2, (12, 14))
    img[rng.random(img.shape) < 0.3] = np.nan
    img[:4, :4] = np.nan
    np.testing.assert_allclose(
        local_std(img, 3, nan="ignore"), nan_reference(img, np.nanstd, 3), rtol=1e-10, atol=1e-12
    )
    np.testing.assert_allclose(
        local_range(img, 3, nan="ignore"), nan_reference(img, lambda v: np.nanmax(v) - np.nanmin(v), 3)
    )
    kept = local_std(img, 3, nan="keep")
    assert np.array_equal(np.isnan(kept), np.isnan(img) | np.isnan(nan_reference(img, np.nanstd, 3)))


@pytest.mark.parametrize("mode", ["reflect", "constant", "wrap"])
def test_nan_ignore_range_float32_is_one_float32_subtraction(mode):
    # float32 images keep their type under nan="ignore": the range is the
    # float32 difference of the valid extremes, as without holes.
    rng = np.random.default_rng(6)
    img = (rng.normal(0, 1, (15, 13)) * np.float32(1e4) ** rng.integers(-2, 3, (15, 13))).astype(np.float32)
    img[rng.random(img.shape) < 0.25] = np.nan
    got = local_range(img, 3, nan="ignore", mode=mode, cval=1.5)
    assert got.dtype == np.float32
    smode = {"reflect": "mirror", "constant": "constant", "wrap": "wrap"}[mode]

    def ext(fn):
        return ndi.generic_filter(
            img, lambda v: fn(v) if np.isfinite(v).any() else np.nan, 3, mode=smode, cval=1.5
        )

    hi, lo = ext(np.nanmax), ext(np.nanmin)
    np.testing.assert_array_equal(got, np.subtract(hi.astype(np.float32), lo.astype(np.float32)))


@pytest.mark.parametrize("every_channel", [True, False])
def test_nan_ignore_colour_var_per_channel(every_channel):
    # NaN in every channel of a pixel counts the valid pixels on one plane;
    # NaN in one channel, per channel: both equal numpy's nanvar per channel.
    rng = np.random.default_rng(7)
    img = rng.normal(10, 2, (11, 12, 3))
    holes = rng.random(img.shape[:2] if every_channel else img.shape) < 0.3
    img[holes] = np.nan
    got = local_var(img, 3, nan="ignore")
    for c in range(3):
        np.testing.assert_allclose(
            got[..., c], nan_reference(img[..., c], np.nanvar, 3), rtol=1e-10, atol=1e-12
        )


def test_nan_propagates_by_default():
    img = np.ones((7, 7))
    img[3, 3] = np.nan
    for fn in (local_std, local_range):
        res = fn(img, 3)
        assert np.isnan(res[2:5, 2:5]).all() and np.isfinite(res[0]).all()


def test_mask_equals_nan_ignore(photo):
    img = photo[:50, :60]
    rng = np.random.default_rng(2)
    mask = rng.random(img.shape[:2]) > 0.2
    as_nan = np.where(mask[..., None], img.astype(np.float64), np.nan)
    np.testing.assert_allclose(
        local_std(img, 5, mask=mask), local_std(as_nan, 5, nan="ignore"), rtol=1e-6, atol=1e-4
    )
    ref = local_range(as_nan, 5, nan="ignore")
    np.testing.assert_array_equal(local_range(img, 5, mask=mask), np.nan_to_num(ref).astype(np.uint8))


# --------------------------------------------------------------------------
# shapes, hypothesis, Dask, errors
# --------------------------------------------------------------------------


@given(
    img=hnp.arrays(
        st.sampled_from([np.uint8, np.float64]),
        st.tuples(st.integers(1, 8), st.integers(1, 8)),
        elements=st.integers(0, 255),
    ),
    h=st.integers(1, 5),
    w=st.integers(1, 5),
    mode=st.sampled_from(MODES),
)
def test_hypothesis_odd_shapes_all_modes(img, h, w, mode):
    m = SCIPY_MODE[mode]
    ref = ndi.generic_filter(img.astype(np.float64), np.std, size=(h, w), mode=m, cval=1)
    np.testing.assert_allclose(local_std(img, (h, w), mode=mode, cval=1), ref, rtol=1e-6, atol=1e-5)
    rng = ndi.maximum_filter(img, (h, w), mode=m, cval=1) - ndi.minimum_filter(img, (h, w), mode=m, cval=1)
    np.testing.assert_array_equal(local_range(img, (h, w), mode=mode, cval=1), rng)


def test_one_pixel_image():
    for mode in MODES:
        expected = np.std([5.0] + [0.0] * 8) if mode == "constant" else 0.0
        assert local_std(np.array([[5.0]]), 3, mode=mode)[0, 0] == pytest.approx(expected, rel=1e-14)
        assert local_range(np.array([[5.0]]), 3, mode=mode)[0, 0] == (5 if mode == "constant" else 0)


def test_dask_equals_numpy(photo):
    da = pytest.importorskip("dask.array")
    lazy = da.from_array(photo, chunks=(128, 200, 3))
    np.testing.assert_array_equal(local_range(lazy, 5).compute(), local_range(photo, 5))
    # The shift (each block's mean) differs per chunk: equal to float32 rounding.
    np.testing.assert_allclose(local_std(lazy, 5).compute(), local_std(photo, 5), rtol=1e-6, atol=1e-4)


def test_facade_exports():
    assert imgfilter.local_std is local_std and imgfilter.local_var is local_var
    assert imgfilter.local_range is local_range


def test_bad_options():
    img = np.zeros((4, 4))
    with pytest.raises(OptionError, match="footprint"):
        local_std(img, footprint=np.zeros((3, 3), bool))
    with pytest.raises(OptionError, match="footprint"):
        local_std(img, footprint=[[0, 2]])
    with pytest.raises(OptionError, match="size"):
        local_var(img, 0)
    with pytest.raises(OptionError, match="ddof"):
        local_var(img, 3, ddof=-1)
    with pytest.raises(OptionError, match="nan"):
        local_range(img, 3, nan="skip")


def test_local_range_of_wide_integers_is_exact():
    """max - min in the integers (saturated at the top), not through float64: an
    int64 range of 2**62 + 4 once came out as 2**62."""
    b = np.array([[1, 2**62 + 5, 3]], np.int64)
    got = imgfilter.local_range(b, size=(1, 3), mode="edge")
    assert got.tolist() == [[2**62 + 4, 2**62 + 4, 2**62 + 2]]
    wide = np.array([[-(2**62), 2**62 + 5, 3]], np.int64)
    assert imgfilter.local_range(wide, size=(1, 3), mode="edge").tolist() == [
        [2**63 - 1, 2**63 - 1, 2**62 + 2]
    ]
    u = np.array([[0, 2**64 - 1, 7]], np.uint64)
    assert imgfilter.local_range(u, size=(1, 3), mode="edge").tolist() == [[2**64 - 1, 2**64 - 1, 2**64 - 8]]


def test_wide_integer_cval_is_kept_exactly():
    """An integer cval passes as an integer: float(2**53 + 1) is 2**53."""
    z = np.zeros((1, 3), np.int64)
    for c in (2**53 + 1, 2**63 - 1, np.int64(2**53 + 1)):
        assert imgfilter.maximum(z, size=3, mode="constant", cval=c).tolist() == [[int(c)] * 3]
        assert imgfilter.local_range(z, size=3, mode="constant", cval=c).tolist() == [[int(c)] * 3]
    assert imgfilter.maximum(
        np.zeros((1, 3), np.uint64), size=3, mode="constant", cval=2**60 + 1
    ).tolist() == [[2**60 + 1] * 3]
    with pytest.raises(OptionError):
        imgfilter.minimum(z, size=3, mode="constant", cval=float("inf"))
    with pytest.raises(OptionError):
        imgfilter.minimum(z, size=3, mode="constant", cval=0.5)


@pytest.mark.parametrize("fn", [imgfilter.local_range, imgfilter.local_var, imgfilter.local_std])
def test_float_zero_one_footprints_are_footprints(fn):
    x = np.random.default_rng(2).random((9, 8))
    fp = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 1]])
    want = fn(x, footprint=fp.astype(bool))
    np.testing.assert_array_equal(fn(x, footprint=fp.astype(np.float64)), want)
    np.testing.assert_array_equal(fn(x, footprint=fp), want)
    with pytest.raises(OptionError):
        fn(x, footprint=fp * 0.5)


def test_luminance_takes_threads():
    img = np.random.default_rng(3).integers(0, 255, (5, 6, 3)).astype(np.uint8)
    np.testing.assert_array_equal(imgfilter.luminance(img, threads=1), imgfilter.luminance(img))
