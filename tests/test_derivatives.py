"""Gaussian derivatives, LoG, DoG and gradient operators against SciPy and scikit-image."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndi
from hypothesis import given
from hypothesis import strategies as st

import imgfilter
from imgfilter.core.names import SCIPY_MODE, OptionError
from imgfilter.kernels import OPERATORS, gaussian_kernel1d

MODES = sorted(SCIPY_MODE)
ORDERS = [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (0, 2), (2, 1), (1, 2), (2, 2)]


def close(got, want, dtype, scale=None):
    # float32 results carry rounding of the input's magnitude (differences
    # of blurs cancel): tolerances relative to the larger of the two.
    scale = max(1.0, float(np.abs(want).max()), scale or 0.0)
    tol = 1e-12 if dtype == np.float64 else 2e-6
    np.testing.assert_allclose(got, want, rtol=0, atol=tol * scale)


def test_kernels_are_scipys_bits():
    private = pytest.importorskip("scipy.ndimage._filters")
    for sigma in (0.3, 0.7, 1.0, 1.6, 2.5, 3.7, 10.0):
        for order in (0, 1, 2):
            for radius in (0, 1, 3, int(4 * sigma + 0.5), 30):
                want = private._gaussian_kernel1d(sigma, order, radius)
                assert np.array_equal(gaussian_kernel1d(sigma, order, radius), want)


def test_kernel_moments():
    # Independent of SciPy: the kernels of orders 1 and 2 are the Gaussian's
    # derivatives, so sum(k x) = -1 and sum(k x² / 2) = 1 (convolution).
    x = np.arange(-30, 31)
    assert np.isclose(gaussian_kernel1d(3.0, 0, 30).sum(), 1.0)
    assert np.isclose((gaussian_kernel1d(3.0, 1, 30) * x).sum(), -1.0)
    assert np.isclose((gaussian_kernel1d(3.0, 2, 30) * x * x / 2).sum(), 1.0)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("order", ORDERS)
def test_gaussian_derivative_equals_scipy(gray_photo, mode, order):
    img = gray_photo.astype(np.float64)
    want = ndi.gaussian_filter(img, 1.5, order=order, mode=SCIPY_MODE[mode])
    got = imgfilter.gaussian_derivative(img, 1.5, order=order, mode=mode)
    assert got.dtype == np.float64
    close(got, want, np.float64)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16, np.float32])
def test_small_types_work_in_float32(gray_photo, dtype):
    img = gray_photo.astype(dtype)
    got = imgfilter.gaussian_derivative(img, (2.0, 1.0), order=(1, 2))
    assert got.dtype == np.float32
    want = ndi.gaussian_filter(img.astype(np.float64), (2.0, 1.0), order=(1, 2), mode="mirror")
    close(got, want, np.float32, scale=float(np.abs(img).max()))


def test_wide_integers_work_in_float64(gray_photo):
    img = gray_photo.astype(np.int64) * 100000
    got = imgfilter.gaussian_laplace(img, 2.0)
    assert got.dtype == np.float64
    close(got, ndi.gaussian_laplace(img.astype(np.float64), 2.0, mode="mirror"), np.float64)


def test_colour_channels_are_filtered_on_their_own(photo):
    img = photo.astype(np.float64)
    want = ndi.gaussian_filter(img, 1.0, order=1, axes=(0, 1), mode="mirror")
    close(imgfilter.gaussian_derivative(img, 1.0, order=1), want, np.float64)


@given(
    h=st.integers(1, 20),
    w=st.integers(1, 20),
    seed=st.integers(0, 2**31),
    sigma=st.tuples(st.floats(0.2, 4.0), st.floats(0.2, 4.0)),
    order=st.sampled_from(ORDERS),
    mode=st.sampled_from(MODES),
    truncate=st.sampled_from([1.0, 2.5, 4.0]),
)
def test_random_cases_equal_scipy(h, w, seed, sigma, order, mode, truncate):
    img = np.random.default_rng(seed).normal(size=(h, w)) * 50
    want = ndi.gaussian_filter(img, sigma, order=order, mode=SCIPY_MODE[mode], truncate=truncate)
    got = imgfilter.gaussian_derivative(img, sigma, order=order, mode=mode, truncate=truncate)
    close(got, want, np.float64)


@pytest.mark.parametrize("mode", MODES)
def test_gradient_magnitude_and_laplace_equal_scipy(gray_photo, mode):
    img = gray_photo.astype(np.float64)
    for sigma in (1.0, 3.0):
        want = ndi.gaussian_gradient_magnitude(img, sigma, mode=SCIPY_MODE[mode])
        close(imgfilter.gaussian_gradient_magnitude(img, sigma, mode=mode), want, np.float64)
        want = ndi.gaussian_laplace(img, sigma, mode=SCIPY_MODE[mode])
        close(imgfilter.gaussian_laplace(img, sigma, mode=mode), want, np.float64)


def test_constant_mode_cval(gray_photo):
    img = gray_photo.astype(np.float64)
    # Blur: every pass of a normalized kernel keeps cval, so SciPy agrees.
    want = ndi.gaussian_filter(img, 2.0, mode="constant", cval=50.0)
    close(imgfilter.gaussian_derivative(img, 2.0, mode="constant", cval=50.0), want, np.float64)


def test_difference_of_gaussians_equals_skimage(gray_photo):
    skf = pytest.importorskip("skimage.filters")
    img = gray_photo / 255.0
    for low, high in ((1.0, None), (1.5, 4.0), ((1.0, 2.0), (3.0, 3.0))):
        want = skf.difference_of_gaussians(img, low, high)
        close(imgfilter.difference_of_gaussians(img, low, high, mode="edge"), want, np.float64)
    # Integer images keep their units, where skimage divides by the dtype's max.
    want = skf.difference_of_gaussians(gray_photo, 1.0, mode="mirror") * 255
    close(imgfilter.difference_of_gaussians(gray_photo, 1.0), want, np.float32, scale=255)
    with pytest.raises(OptionError, match="high_sigma"):
        imgfilter.difference_of_gaussians(img, 2.0, 1.0)


@pytest.mark.parametrize("operator", sorted(OPERATORS))
@pytest.mark.parametrize("mode", MODES)
def test_gradient_equals_skimage(gray_photo, operator, mode):
    skf = pytest.importorskip("skimage.filters")
    fn = getattr(skf, operator)
    img = gray_photo / 255.0
    m = SCIPY_MODE[mode]
    gx, gy = fn(img, axis=1, mode=m), fn(img, axis=0, mode=m)
    for output, want in (("x", gx), ("y", gy), ("magnitude", fn(img, mode=m)), ("angle", np.arctan2(gy, gx))):
        got = imgfilter.gradient(img, operator=operator, output=output, mode=mode)
        assert got.dtype == np.float64
        if output == "angle":
            # Angles of near-zero gradients are rounding noise: compare where it is not.
            # At +-pi a zero y of either sign flips the angle: compare on the circle.
            # (Gradients of 1e-4 with 1e-16 of rounding: angles to about 1e-12.)
            strong = np.hypot(gx, gy) > 1e-4
            turn = (got - want + np.pi) % (2 * np.pi) - np.pi
            assert np.abs(turn[strong]).max() < 1e-9
        else:
            close(got, want, np.float64)


def test_sobel_is_the_unnormalized_shortcut(gray_photo):
    img = gray_photo.astype(np.float64)
    for output, scale in (("x", 4.0), ("y", 4.0), ("magnitude", 4 * np.sqrt(2))):
        close(imgfilter.sobel(img, output=output), scale * imgfilter.gradient(img, output=output), np.float64)


def test_dask_equals_numpy(gray_photo):
    da = pytest.importorskip("dask.array")
    img = gray_photo.astype(np.float32)
    lazy = da.from_array(img, chunks=(100, 130))
    calls = [
        lambda x: imgfilter.gaussian_derivative(x, 2.0, order=(1, 2), mode="wrap"),
        lambda x: imgfilter.gaussian_laplace(x, 1.5),
        lambda x: imgfilter.gaussian_gradient_magnitude(x, 1.0, mode="edge"),
        lambda x: imgfilter.difference_of_gaussians(x, 1.0, mode="symmetric"),
        lambda x: imgfilter.gradient(x, operator="farid", mode="constant"),
    ]
    for call in calls:
        assert np.array_equal(call(lazy).compute(), call(img))


def test_options_are_checked(gray_photo):
    with pytest.raises(OptionError, match="order"):
        imgfilter.gaussian_derivative(gray_photo, 1.0, order=3)
    with pytest.raises(OptionError, match="sigma"):
        imgfilter.gaussian_derivative(gray_photo, 0.0)
    with pytest.raises(OptionError, match="truncate"):
        imgfilter.gaussian_laplace(gray_photo, 1.0, truncate=0)
    # nan="ignore" is defined now (tests/test_derivatives_missing.py); a policy that is not one is refused.
    with pytest.raises(OptionError, match="nan"):
        imgfilter.gaussian_derivative(gray_photo, 1.0, order=1, nan="drop")
    with pytest.raises(OptionError, match="linear"):
        imgfilter.gaussian_derivative(gray_photo, 1.0, linear=True)
    with pytest.raises(OptionError, match="operator"):
        imgfilter.gradient(gray_photo, operator="roberts")
    with pytest.raises(OptionError, match="output"):
        imgfilter.gradient(gray_photo, output="phase")
    with pytest.raises(OptionError, match="mode"):
        imgfilter.gradient(gray_photo, mode="bogus")
