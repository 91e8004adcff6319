"""Missing pixels (nan=, mask=) of the Gaussian derivatives, LoG, gradient magnitude, DoG and unsharp,
against direct SciPy transcriptions of the documented rules and astropy's interpolating convolution."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndi
from hypothesis import given
from hypothesis import strategies as st

import imgfilter
from imgfilter.core.names import SCIPY_MODE

MODES = sorted(SCIPY_MODE)


def close(got, want, dtype, scale=None):
    scale = max(1.0, float(np.nanmax(np.abs(want))), scale or 0.0)
    tol = 1e-11 if dtype == np.float64 else 3e-6
    np.testing.assert_allclose(got, want, rtol=0, atol=tol * scale)  # NaN where NaN


def nan_gaussian(x, valid, sigma, mode, cval=0.0, truncate=4.0):
    """sum(w x v) / sum(w v): normalized convolution, beyond a constant border valid cval pixels."""
    m = SCIPY_MODE[mode]
    sig = np.broadcast_to(sigma, 2).tolist() + [0] * (x.ndim - 2)
    num = ndi.gaussian_filter(np.where(valid, x, 0.0), sig, mode=m, cval=cval, truncate=truncate)
    den = ndi.gaussian_filter(valid.astype(np.float64), sig, mode=m, cval=1.0, truncate=truncate)
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / den  # 0 / 0 where no pixel is valid


def filled(x, valid, sigma, mode, truncate=4.0):
    """The documented rule: each missing pixel takes the nan-ignoring Gaussian of the same sigma."""
    return np.where(valid, x, nan_gaussian(x, valid, sigma, mode, truncate=truncate))


def ggm(x, sigma, mode):
    m = SCIPY_MODE[mode]
    return np.hypot(
        ndi.gaussian_filter(x, sigma, order=(1, 0), mode=m),
        ndi.gaussian_filter(x, sigma, order=(0, 1), mode=m),
    )


@pytest.fixture(scope="module")
def holed(gray_photo):
    """A photo crop with scattered holes and a block too large to fill from (its centre stays NaN)."""
    x = gray_photo[150:230, 190:286].astype(np.float64)
    rng = np.random.default_rng(16)
    holes = rng.random(x.shape) < 0.08
    holes[28:48, 46:66] = True
    holes[:3, :5] = True  # at the border too
    holes[-1, 40:47] = True
    return np.where(holes, np.nan, x), ~holes


CASES = {
    "gaussian_laplace": (
        lambda x, s, **kw: imgfilter.gaussian_laplace(x, s, **kw),
        lambda f, s, m: ndi.gaussian_laplace(f, s, mode=SCIPY_MODE[m]),
    ),
    "gaussian_gradient_magnitude": (
        lambda x, s, **kw: imgfilter.gaussian_gradient_magnitude(x, s, **kw),
        ggm,
    ),
    "gaussian_derivative": (
        lambda x, s, **kw: imgfilter.gaussian_derivative(x, s, order=(1, 2), **kw),
        lambda f, s, m: ndi.gaussian_filter(f, s, order=(1, 2), mode=SCIPY_MODE[m]),
    ),
    "gaussian_order": (
        lambda x, s, **kw: imgfilter.gaussian(x, s, order=(0, 1), **kw),
        lambda f, s, m: ndi.gaussian_filter(f, s, order=(0, 1), mode=SCIPY_MODE[m]),
    ),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_derivatives_of_the_filled_image_equal_the_transcription(holed, name, mode):
    x, valid = holed
    ours, scipy_fn = CASES[name]
    sigma = (1.2, 1.8)
    want = scipy_fn(filled(x, valid, sigma, mode), sigma, mode)
    got = ours(x, sigma, mode=mode, nan="ignore")
    assert got.dtype == np.float64
    assert np.isnan(want).any() and not np.isnan(want).all()  # the big hole's centre, and spread from it
    close(got, want, np.float64)
    # "keep": NaN also at every missing pixel, the same values elsewhere.
    kept = ours(x, sigma, mode=mode, nan="keep")
    close(kept, np.where(valid, want, np.nan), np.float64)
    # The same holes as a mask on the (finite) photo: the same result.
    photo = np.where(valid, x, 0.0)
    close(ours(photo, sigma, mode=mode, mask=valid), want, np.float64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", ["reflect", "constant", "wrap"])
@pytest.mark.parametrize("name", [*sorted(CASES), "difference_of_gaussians"])
def test_nan_holes_alone_take_the_fused_route_with_the_mask_routes_bits(holed, name, mode, dtype):
    """NaN holes without a mask are smoothed by the fused kernel (found band by
    band, no validity array); with a mask of all True the validity-array route
    runs: the same bits."""
    x = holed[0].astype(dtype)
    if name == "difference_of_gaussians":

        def fn(a, **kw):
            return imgfilter.difference_of_gaussians(a, 1.2, 2.0, **kw)
    else:

        def fn(a, **kw):
            return CASES[name][0](a, (1.2, 1.8), **kw)

    got = fn(x, mode=mode, nan="ignore")
    ref = fn(x, mode=mode, nan="ignore", mask=np.ones(x.shape, bool))
    assert got.dtype == ref.dtype == dtype
    assert np.isnan(ref).any() and not np.isnan(ref).all()
    np.testing.assert_array_equal(got.view(np.uint8), ref.view(np.uint8))


def test_fill_is_astropys_interpolating_convolution(holed):
    """astropy.convolution.convolve(nan_treatment="interpolate") is the fill, independently."""
    conv = pytest.importorskip("astropy.convolution")
    x, valid = holed
    x = x[:, 70:]  # scattered holes only: every one has valid neighbours
    valid = valid[:, 70:]
    sigma = 1.5
    r = int(4.0 * sigma + 0.5)
    t = np.arange(-r, r + 1)
    g = np.exp(-0.5 * t * t / sigma**2)
    kernel = np.outer(g, g)
    interp = conv.convolve(x, kernel, boundary="extend", nan_treatment="interpolate", normalize_kernel=True)
    fill = np.where(valid, x, interp)
    assert np.isfinite(fill).all()
    close(
        imgfilter.gaussian_laplace(x, sigma, mode="edge", nan="ignore"),
        ndi.gaussian_laplace(fill, sigma, mode="nearest"),
        np.float64,
    )
    close(
        imgfilter.gaussian_gradient_magnitude(x, sigma, mode="edge", nan="ignore"),
        ggm(fill, sigma, "edge"),
        np.float64,
    )
    # The fill itself is gaussian(nan="ignore"), the one normalized convolution of the core.
    close(np.where(valid, x, imgfilter.gaussian(x, sigma, mode="edge", nan="ignore")), fill, np.float64)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_masks_on_every_dtype_give_float_results(holed, dtype):
    x, valid = holed
    top = 257 if dtype == np.uint16 else 1
    img = (np.where(valid, x, 7) * top).astype(dtype)
    got = imgfilter.gaussian_laplace(img, 1.5, mask=valid)
    assert got.dtype == np.float32
    want = ndi.gaussian_laplace(filled(img.astype(np.float64), valid, 1.5, "reflect"), 1.5, mode="mirror")
    close(got, want, np.float32, scale=255.0 * top)
    # Nothing valid within the Gaussian's reach: NaN, also for integer images (the result is float).
    assert np.isnan(got[37, 57])


def test_a_channel_mask_and_colour(photo):
    x = photo[200:260, 220:300].astype(np.float64)
    holes = np.random.default_rng(5).random(x.shape) < 0.1  # per channel
    img = np.where(holes, np.nan, x)
    want = np.stack(
        [
            ndi.gaussian_laplace(filled(img[..., c], ~holes[..., c], 1.0, "symmetric"), 1.0, mode="reflect")
            for c in range(3)
        ],
        -1,
    )
    close(imgfilter.gaussian_laplace(img, 1.0, mode="symmetric", nan="ignore"), want, np.float64)
    close(imgfilter.gaussian_laplace(x, 1.0, mode="symmetric", mask=~holes), want, np.float64)


@pytest.mark.parametrize("mode", MODES)
def test_difference_of_gaussians_is_two_nan_ignoring_gaussians(holed, mode):
    x, valid = holed
    cval = 3.0 if mode == "constant" else 0.0
    want = nan_gaussian(x, valid, 1.0, mode, cval) - nan_gaussian(x, valid, (2.0, 3.0), mode, cval)
    got = imgfilter.difference_of_gaussians(x, 1.0, (2.0, 3.0), mode=mode, cval=cval, nan="ignore")
    close(got, want, np.float64)
    assert np.isfinite(got[~np.isnan(want)]).all() and np.isnan(got[37, 57]) == np.isnan(want[37, 57])
    close(
        imgfilter.difference_of_gaussians(x, 1.0, (2.0, 3.0), mode=mode, cval=cval, nan="keep"),
        np.where(valid, want, np.nan),
        np.float64,
    )
    u8 = np.where(valid, x, 0).astype(np.uint8)
    got = imgfilter.difference_of_gaussians(u8, 1.0, (2.0, 3.0), mode=mode, cval=cval, mask=valid)
    assert got.dtype == np.float32
    close(
        got,
        nan_gaussian(u8.astype(float), valid, 1.0, mode, cval)
        - nan_gaussian(u8.astype(float), valid, (2.0, 3.0), mode, cval),
        np.float32,
        255,
    )


def test_propagate_spreads_nan_as_scipy(gray_photo):
    x = gray_photo[:64, :80].astype(np.float64)
    x[[5, 20, 40, 63], [7, 79, 33, 50]] = np.nan
    for got, want in (
        (imgfilter.gaussian_laplace(x, 1.0), ndi.gaussian_laplace(x, 1.0, mode="mirror")),
        (
            imgfilter.difference_of_gaussians(x, 1.0),
            ndi.gaussian_filter(x, 1.0, mode="mirror") - ndi.gaussian_filter(x, 1.6, mode="mirror"),
        ),
    ):
        # The core skips a kernel's zero taps (the Laplacian's at +-sigma, a first
        # derivative's centre): NaN there is not read, where SciPy's 0 * NaN is NaN.
        assert np.isnan(got).any() and not (np.isnan(got) & ~np.isnan(want)).any()
        both = ~np.isnan(want)
        close(got[both], want[both], np.float64)


@pytest.mark.parametrize("mode", ["reflect", "constant", "edge"])
def test_unsharp_with_a_mask_equals_the_transcription(gray_photo, mode):
    """Valid pixels sharpened against the nan-ignoring blur; masked ones take it; none valid: kept."""
    img = gray_photo[100:180, 300:396]
    valid = np.random.default_rng(2).random(img.shape) > 0.1
    valid[20:34, 40:54] = False
    sigma, amount, threshold = 1.5, 1.7, 3.0
    x = img.astype(np.float64)
    blur = nan_gaussian(x, valid, sigma, mode)
    detail = x - blur
    sharp = np.where(valid, x + amount * np.where(np.abs(detail) > threshold, detail, 0), blur)
    sharp = np.where(np.isnan(sharp), x, sharp)
    want = np.clip(np.rint(sharp), 0, 255)
    # Float sums of another order may round a half-level tie or a detail at the threshold otherwise.
    near = (np.abs(np.abs(sharp - np.floor(sharp)) - 0.5) < 1e-9) | (
        np.abs(np.abs(detail) - threshold) < 1e-9
    )
    got = imgfilter.unsharp(img, sigma=sigma, amount=amount, threshold=threshold, mode=mode, mask=valid)
    assert got.dtype == np.uint8 and not near.all()
    np.testing.assert_array_equal(got[~near], want[~near])
    # Float images: NaN where nothing is valid, "keep" marks every missing pixel.
    holed = np.where(valid, x, np.nan)
    res = imgfilter.unsharp(holed, sigma=sigma, amount=amount, threshold=threshold, mode=mode, nan="ignore")
    ref = np.where(valid, x + amount * np.where(np.abs(detail) > threshold, detail, 0), blur)
    np.testing.assert_allclose(res[~near], ref[~near], atol=1e-9)
    kept = imgfilter.unsharp(holed, sigma=sigma, amount=amount, mode=mode, nan="keep")
    assert np.array_equal(np.isnan(kept), ~valid)


@pytest.mark.parametrize("mode", MODES)
def test_dask_with_holes_at_the_border_equals_numpy(holed, mode):
    da = pytest.importorskip("dask.array")
    x, valid = holed
    # Holes at the borders (a corner, the large one at the right edge), across chunks.
    x, valid = x[:50, :50].astype(np.float32), valid[:50, :50]
    lazy = da.from_array(x, chunks=(13, 17))
    lazy_mask = da.from_array(valid, chunks=(13, 17))
    photo = np.where(valid, x, 0).astype(np.float32)
    calls = [
        lambda a, **kw: imgfilter.gaussian_laplace(a, 1.5, mode=mode, **kw),
        lambda a, **kw: imgfilter.gaussian(a, (2.0, 1.0), order=(1, 0), mode=mode, **kw),
        lambda a, **kw: imgfilter.gaussian_gradient_magnitude(a, 1.0, mode=mode, **kw),
        lambda a, **kw: imgfilter.difference_of_gaussians(a, 1.0, 2.0, mode=mode, **kw),
        lambda a, **kw: imgfilter.unsharp(a, sigma=1.5, mode=mode, **kw),
    ]
    for call in calls:
        np.testing.assert_array_equal(call(lazy, nan="ignore").compute(), call(x, nan="ignore"))
        np.testing.assert_array_equal(
            call(da.from_array(photo, chunks=(13, 17)), mask=lazy_mask).compute(), call(photo, mask=valid)
        )


@given(
    h=st.integers(2, 16),
    w=st.integers(2, 16),
    seed=st.integers(0, 2**31),
    sigma=st.tuples(st.floats(0.3, 3.0), st.floats(0.3, 3.0)),
    order=st.sampled_from([(0, 1), (1, 0), (2, 0), (0, 2), (1, 1), (2, 2), (0, 0)]),
    mode=st.sampled_from(MODES),
    truncate=st.sampled_from([1.5, 4.0]),
    rate=st.sampled_from([0.1, 0.3]),
)
def test_random_holes_equal_the_transcription(h, w, seed, sigma, order, mode, truncate, rate):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(h, w)) * 50
    valid = rng.random((h, w)) > rate
    img = np.where(valid, x, np.nan)
    fill = filled(img, valid, sigma, mode, truncate)
    want = ndi.gaussian_filter(fill, sigma, order=order, mode=SCIPY_MODE[mode], truncate=truncate)
    got = imgfilter.gaussian_derivative(img, sigma, order=order, mode=mode, truncate=truncate, nan="ignore")
    # A hole with no valid pixel in reach stays NaN and spreads, over nonzero taps only
    # (see test_propagate_spreads_nan_as_scipy).
    assert not (np.isnan(got) & ~np.isnan(want)).any()
    both = ~np.isnan(want)
    close(got[both], want[both], np.float64)
