"""gaussian(order=) against SciPy, and the derivative filters and unsharp on the one dispatcher:
PIL input, MaskedArray, Dask, axes= (against SciPy's axes=), the >3-D refusal, alpha."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndi
from PIL import Image

import imgfilter
from imgfilter.core.dtypes import float_dtype
from imgfilter.core.names import SCIPY_MODE, OptionError

MODES = sorted(SCIPY_MODE)
ORDERS = [(0, 1), (1, 0), (1, 1), (2, 0), (0, 2), (2, 1), (1, 2), (2, 2)]


def close(got, want, dtype, scale=None):
    scale = max(1.0, float(np.nanmax(np.abs(want))), scale or 0.0)
    tol = 1e-12 if dtype == np.float64 else 2e-6
    np.testing.assert_allclose(got, want, rtol=0, atol=tol * scale)


@pytest.fixture(scope="module")
def crop(gray_photo):
    # A real photo's texture and edges; the property does not depend on size.
    return np.ascontiguousarray(gray_photo[180:276, 200:312])


@pytest.fixture(scope="module")
def colour(photo):
    return np.ascontiguousarray(photo[100:164, 180:260])


# --------------------------------------------------------------------------
# gaussian(order=)
# --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("order", ORDERS)
def test_gaussian_order_equals_scipy(crop, mode, order):
    img = crop.astype(np.float64)
    want = ndi.gaussian_filter(img, (1.5, 2.5), order=order, mode=SCIPY_MODE[mode])
    got = imgfilter.gaussian(img, (1.5, 2.5), order=order, mode=mode)
    assert got.dtype == np.float64
    close(got, want, np.float64)
    # One body: gaussian(order=) is gaussian_derivative, bit for bit.
    assert np.array_equal(got, imgfilter.gaussian_derivative(img, (1.5, 2.5), order=order, mode=mode))


@pytest.mark.parametrize("truncate", [1.0, 2.5, 6.0])
@pytest.mark.parametrize("order", [1, 2, (1, 2)])
def test_gaussian_order_truncate_and_one_order_for_both_axes(crop, truncate, order):
    img = crop.astype(np.float64)
    want = ndi.gaussian_filter(img, 2.0, order=order, truncate=truncate)
    close(imgfilter.gaussian(img, 2.0, order=order, truncate=truncate, mode="symmetric"), want, np.float64)


@pytest.mark.parametrize("order", [(0, 1), (2, 1)])
def test_gaussian_order_colour_images(colour, order):
    img = colour.astype(np.float64)
    want = ndi.gaussian_filter(img, (1.0, 2.0, 0), order=(*order, 0), mode="wrap")
    close(imgfilter.gaussian(img, (1.0, 2.0), order=order, mode="wrap"), want, np.float64)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16, np.int32, np.float16, np.float32])
def test_gaussian_order_every_dtype_is_the_float_work_type(crop, dtype):
    img = (crop.astype(np.int64) * (200 if dtype in (np.uint16, np.int32) else 1)).astype(dtype)
    got = imgfilter.gaussian(img, 1.5, order=(1, 0))
    assert got.dtype == float_dtype(img.dtype)
    want = ndi.gaussian_filter(img.astype(np.float64), 1.5, order=(1, 0), mode="mirror")
    close(got, want, got.dtype, scale=float(np.abs(img.astype(np.float64)).max()))
    if dtype == np.uint8:
        # SciPy keeps the input's dtype: its uint8 derivative wraps negative slopes around.
        wrapped = ndi.gaussian_filter(img, 1.5, order=(1, 0), mode="mirror")
        assert wrapped.dtype == np.uint8 and (want < -1).any() and (got < -1).any()


def test_order_zero_is_the_blur(crop, colour):
    for img in (crop, colour, crop.astype(np.float32)):
        plain = imgfilter.gaussian(img, 1.3)
        for order in (0, (0, 0), [0, 0], np.int64(0)):
            got = imgfilter.gaussian(img, 1.3, order=order)
            assert got.dtype == img.dtype and np.array_equal(got, plain)
    assert np.array_equal(
        imgfilter.gaussian(colour, 2.0, order=0, linear=True), imgfilter.gaussian(colour, 2.0, linear=True)
    )


def test_linear_light_with_a_derivative_order_is_refused(crop):
    with pytest.raises(OptionError, match=r"linear=True.*order=\(0, 1\)"):
        imgfilter.gaussian(crop, 1.0, order=(0, 1), linear=True)
    with pytest.raises(OptionError, match="linear"):
        imgfilter.gaussian_derivative(crop, 1.0, order=1, linear=True)


def test_linear_light_without_order_is_what_the_dispatcher_did(colour):
    """order=0, linear=True: decoded, blurred, encoded (fused in the bands, or not with alpha/mask)."""
    from imgfilter.core.srgb import decode, encode

    rgba = np.dstack([colour, np.full(colour.shape[:2], 255, np.uint8)])
    ref = encode(
        ndi.gaussian_filter(decode(colour).astype(np.float64), (1.5, 1.5, 0), mode="mirror"), np.uint8
    )
    for got in (
        imgfilter.gaussian(colour, 1.5, linear=True),
        imgfilter.gaussian(rgba, 1.5, linear=True, alpha=True)[..., :3],
    ):
        assert np.abs(got.astype(int) - ref).max() <= 1


@pytest.mark.parametrize("order", [3, -1, 1.0, True, (1,), (0, 1, 2), "1"])
def test_bad_orders_are_refused(crop, order):
    with pytest.raises(OptionError, match="order"):
        imgfilter.gaussian(crop, 1.0, order=order)


def test_gaussian_order_alpha_passes_through(colour):
    a = np.linspace(0, 255, colour.shape[1]).astype(np.uint8)
    rgba = np.dstack([colour, np.broadcast_to(a, colour.shape[:2])])
    got = imgfilter.gaussian(rgba, 1.0, order=(0, 1), alpha=True)
    assert got.dtype == np.float32
    assert np.array_equal(got[..., :3], imgfilter.gaussian(colour, 1.0, order=(0, 1)))
    assert np.array_equal(got[..., 3], rgba[..., 3].astype(np.float32))
    # Without alpha=True the fourth band is data, differentiated like the others.
    close(
        imgfilter.gaussian(rgba, 1.0, order=(0, 1))[..., 3],
        ndi.gaussian_filter(rgba[..., 3].astype(float), 1.0, order=(0, 1), mode="mirror"),
        np.float32,
        255,
    )


# --------------------------------------------------------------------------
# the dispatcher's option matrix, for each filter
# --------------------------------------------------------------------------

CALLS = {
    "gaussian_order": lambda x, **kw: imgfilter.gaussian(x, (1.0, 2.0), order=(1, 2), **kw),
    "gaussian_derivative": lambda x, **kw: imgfilter.gaussian_derivative(x, 1.5, order=(2, 0), **kw),
    "gaussian_gradient_magnitude": lambda x, **kw: imgfilter.gaussian_gradient_magnitude(x, 1.2, **kw),
    "gaussian_laplace": lambda x, **kw: imgfilter.gaussian_laplace(x, (2.0, 1.0), **kw),
    "difference_of_gaussians": lambda x, **kw: imgfilter.difference_of_gaussians(x, 1.0, 2.5, **kw),
    "gradient": lambda x, **kw: imgfilter.gradient(x, operator="farid", **kw),
    "gradient_angle": lambda x, **kw: imgfilter.gradient(x, operator="scharr", output="angle", **kw),
    "unsharp": lambda x, **kw: imgfilter.unsharp(x, sigma=1.5, amount=1.2, **kw),
}
MISSING = sorted(set(CALLS) - {"gradient", "gradient_angle"})
RNG = np.random.default_rng(16)
BATCH = (RNG.random((3, 19, 23, 3)) * 255).astype(np.uint8)  # (N, H, W, C)


POLICIES = {
    # (alpha, missing pixels, linear light): what each did before, declared once.
    "gaussian": ("premultiply", True, "own"),
    "gaussian_derivative": ("pass", True, None),
    "gaussian_gradient_magnitude": ("pass", True, None),
    "gaussian_laplace": ("pass", True, None),
    "difference_of_gaussians": ("pass", True, None),
    "gradient": ("pass", False, None),
    "unsharp": ("premultiply", True, "own"),
}


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_is_on_the_dispatcher(name):
    policy = getattr(imgfilter, name).policy
    assert (policy.alpha, policy.missing, policy.linear) == POLICIES[name]
    assert policy.result == ("own" if name in ("gaussian", "unsharp") else "float")


@pytest.mark.parametrize("name", sorted(CALLS))
def test_a_batch_with_axes_equals_each_image(name):
    f = CALLS[name]
    got = f(BATCH, axes=(1, 2))
    want = np.stack([f(im) for im in BATCH])
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    # Channels first: the same values, the input's axis order.
    chw = np.ascontiguousarray(np.moveaxis(BATCH[0], -1, 0))
    np.testing.assert_array_equal(f(chw, axes=(1, 2)), np.moveaxis(want[0], -1, 0))


@pytest.mark.parametrize("name", sorted(CALLS))
def test_more_than_three_axes_without_axes_is_refused(name):
    with pytest.raises(OptionError, match=r"axes="):
        CALLS[name](BATCH)


@pytest.mark.parametrize("axes", [(1, 2), (2, 0), (-1, -3)])
def test_axes_equal_scipys_axes(axes):
    x = RNG.normal(size=(11, 9, 13)) * 40
    sig, order = (1.0, 1.7), (2, 1)
    want = ndi.gaussian_filter(x, sig, order=order, axes=axes, mode="mirror")
    close(imgfilter.gaussian(x, sig, order=order, axes=axes), want, np.float64)
    want = ndi.gaussian_filter(x, sig, order=order, axes=axes, mode="wrap")
    close(imgfilter.gaussian_derivative(x, sig, order=order, axes=axes, mode="wrap"), want, np.float64)
    want = ndi.gaussian_laplace(x, sig, axes=axes, mode="nearest")
    close(imgfilter.gaussian_laplace(x, sig, axes=axes, mode="edge"), want, np.float64)
    # SciPy 1.17's gaussian_gradient_magnitude(axes=) smooths along the other axis too (its
    # derivative helper calls gaussian_filter without axes) and refuses per-axis sigmas:
    # its per-slice result and its gaussian_filter(axes=) parts are the oracles.
    moved = np.moveaxis(x, axes, (0, 1))
    per_slice = np.stack(
        [
            ndi.gaussian_gradient_magnitude(moved[..., i], 1.3, mode="mirror")
            for i in range(x.shape[3 - sum(a % 3 for a in axes)])
        ],
        -1,
    )
    close(
        imgfilter.gaussian_gradient_magnitude(x, 1.3, axes=axes),
        np.moveaxis(per_slice, (0, 1), axes),
        np.float64,
    )
    dy = ndi.gaussian_filter(x, sig, order=(1, 0), axes=axes, mode="mirror")
    dx = ndi.gaussian_filter(x, sig, order=(0, 1), axes=axes, mode="mirror")
    close(imgfilter.gaussian_gradient_magnitude(x, sig, axes=axes), np.hypot(dy, dx), np.float64)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_pil_images_are_read_as_files(name, colour):
    f = CALLS[name]
    grey = colour[..., 0]
    assert np.array_equal(f(Image.fromarray(grey)), f(grey))
    # A PIL image with an alpha band has alpha: colour filtered, alpha passed through.
    rgba = np.dstack([colour, RNG.integers(0, 256, colour.shape[:2], dtype=np.uint8)])
    got = f(Image.fromarray(rgba, "RGBA"))
    np.testing.assert_array_equal(got, f(rgba, alpha=True))
    if name != "unsharp":  # unsharp compares colour with an alpha-weighted blur
        np.testing.assert_array_equal(got[..., :3], f(colour))
    np.testing.assert_array_equal(got[..., 3], rgba[..., 3])


@pytest.mark.parametrize("name", MISSING)
def test_masked_arrays_are_mask_equals_not_masked(name, crop):
    f = CALLS[name]
    holes = np.random.default_rng(1).random(crop.shape) < 0.05
    got = f(np.ma.MaskedArray(crop, mask=holes))
    assert type(got) is np.ndarray
    np.testing.assert_array_equal(got, f(crop, mask=~holes))
    np.testing.assert_array_equal(
        f(np.ma.MaskedArray(crop, mask=holes), nan="keep"), f(crop, mask=~holes, nan="keep")
    )


def test_filters_without_missing_pixels_refuse_masked_values(crop):
    holes = np.zeros(crop.shape, bool)
    holes[3, 4] = True
    with pytest.raises(OptionError, match="masked"):
        imgfilter.gradient(np.ma.MaskedArray(crop, mask=holes))
    assert np.array_equal(imgfilter.gradient(np.ma.MaskedArray(crop)), imgfilter.gradient(crop))


@pytest.mark.parametrize("name", sorted(CALLS))
def test_dask_equals_numpy(name, colour):
    da = pytest.importorskip("dask.array")
    f = CALLS[name]
    img = colour.astype(np.float32)
    lazy = da.from_array(img, chunks=(17, 23, 3))
    assert np.array_equal(f(lazy).compute(), f(img))
    if name in MISSING:
        # Missing pixels: the fill's Gaussian and the derivative both reach across chunks.
        holes = np.zeros(img.shape[:2], bool)
        holes[15:22, 18:30] = True
        holes[40:44, 5:9] = True
        holed = np.where(holes[..., None], np.nan, img)
        lazy = da.from_array(holed, chunks=(17, 23, 3))
        for nan in ("ignore", "keep"):
            np.testing.assert_array_equal(f(lazy, nan=nan).compute(), f(holed, nan=nan))
        lazy_mask = da.from_array(~holes, chunks=(17, 23))
        np.testing.assert_array_equal(f(lazy, mask=lazy_mask).compute(), f(holed, mask=~holes))
