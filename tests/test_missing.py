"""NaN- and mask-aware filtering, and linear-light smoothing.

Every result is checked against an oracle that does not share imgfilter's code:

* normalized convolution: ``astropy.convolution.convolve`` with
  ``nan_treatment="interpolate"`` (our "constant" = astropy "fill", "edge" =
  "extend", "wrap" = "wrap"; astropy flips the kernel, so it is compared with
  :func:`imgfilter.convolve`, or given the flipped kernel for correlate);
* median, max, min and mean: ``numpy.nanmedian`` / ``nanmax`` / ``nanmin`` /
  ``nanmean`` over ``np.pad``-ed sliding windows (our mode names are numpy.pad's);
* bilateral: a direct float64 loop over the circular window written out here;
* linear light: the IEC 61966-2-1 piecewise curve written out here in float64,
  scipy.ndimage for the smoothing, and ``np.rint`` for the nearest code.

Tolerance rules are stated next to the helpers that apply them, before any
comparison runs.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.ndimage as ndi
from clitools import invoke
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image

import imgfilter
from imgfilter.core import srgb

SAMPLES = Path(__file__).resolve().parent.parent / "sample_images"
EPS32 = float(np.finfo(np.float32).eps)
ASTROPY_BOUNDARY = {"constant": "fill", "edge": "extend", "wrap": "wrap"}
ALL_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")
SCIPY_MODE = {
    "constant": "constant",
    "edge": "nearest",
    "reflect": "mirror",
    "symmetric": "reflect",
    "wrap": "grid-wrap",
}
DENSITIES = st.sampled_from([0.0, 0.05, 0.3, 0.6, 0.9, 0.97, 1.0])
FLOATS = st.sampled_from([np.float32, np.float64])
# The oracles are cheap: run more examples than the "quick" profile's default
# (a "thorough" profile with more still wins).
MORE = settings(max_examples=max(80, settings.default.max_examples))
SOBEL_X = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])


# ----------------------------------------------------------------- data


def holey(rng, shape, density, dtype, lo=-1.0, hi=1.0):
    """Uniform values in [lo, hi) with NaN at a random ``density`` of the pixels.

    density 1.0 is all-NaN and 0.0 NaN-free. For (H, W, C) shapes the holes
    are per sample, so channels differ.
    """
    x = rng.uniform(lo, hi, size=shape)
    x[rng.random(shape) < density] = np.nan
    return x.astype(dtype)


def random_mask(rng, shape, density):
    """True = valid; ``density`` is the share of invalid pixels."""
    return rng.random(shape) >= density


def checkerboard(n, top, dtype):
    return ((np.indices((n, n)).sum(axis=0) % 2) * top).astype(dtype)


# ----------------------------------------------------------------- oracles: normalized convolution


def astropy_conv(x, kernel, mode, cval=0.0, preserve_nan=False):
    """astropy's normalized convolution (true convolution), channel by channel, float64."""
    from astropy.convolution import convolve

    x64 = np.asarray(x, dtype=np.float64)
    k = np.asarray(kernel, dtype=np.float64)

    def one(channel):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "NaN values detected post convolution"
            return convolve(
                channel,
                k,
                boundary=ASTROPY_BOUNDARY[mode],
                fill_value=cval,
                nan_treatment="interpolate",
                normalize_kernel=True,
                preserve_nan=preserve_nan,
            )

    if x64.ndim == 2:
        return one(x64)
    return np.stack([one(x64[..., c]) for c in range(x64.shape[2])], axis=-1)


def valid_fraction(valid, kernel, mode):
    """Share of each window's (normalized) kernel weight on valid pixels (outside: valid)."""
    return astropy_conv(valid.astype(np.float64), kernel, mode, cval=1.0)


# Tolerance rule for float comparisons with the normalized-convolution oracle
# (stated before use): imgfilter computes sum(w x v) and sum(w v) in the
# image's float dtype, each accurate to about `eps * (kernel weight) *
# max|x|`; their ratio is then accurate to that over the window's share of
# valid weight. We allow 64 eps of that bound (plus 64 eps relative to the
# result). NaN positions must match exactly.
def assert_normalized_close(actual, ref, fraction, scale, dtype):
    assert actual.dtype == np.dtype(dtype), actual.dtype
    assert actual.shape == ref.shape
    nan_a, nan_r = np.isnan(actual), np.isnan(ref)
    assert np.array_equal(nan_a, nan_r), (
        f"NaN where the oracle has a value at {np.argwhere(nan_a & ~nan_r)[:5].tolist()}, "
        f"a value where it has NaN at {np.argwhere(nan_r & ~nan_a)[:5].tolist()}"
    )
    eps = float(np.finfo(dtype).eps)
    ok = ~nan_r
    tol = 64 * eps * (scale / np.maximum(fraction, 1e-300) + np.abs(ref))
    err = np.abs(actual.astype(np.float64) - ref)
    worst = np.argmax(np.where(ok, err - tol, -np.inf)) if ok.any() else 0
    assert np.all(err[ok] <= tol[ok]), (
        f"max excess at {np.unravel_index(worst, ref.shape)}: "
        f"got {actual.ravel()[worst]!r}, oracle {ref.ravel()[worst]!r}, tol {tol.ravel()[worst]!r}"
    )


def gauss1d(sigma, truncate):
    """scipy.ndimage's Gaussian: radius int(truncate * sigma + 0.5), normalized."""
    r = int(truncate * sigma + 0.5)
    x = np.arange(-r, r + 1, dtype=np.float64)
    phi = np.exp(-0.5 * x * x / (sigma * sigma))
    return phi / phi.sum()


# ----------------------------------------------------------------- oracles: windows


def padded_windows(data, ksize, pads, mode, cval=0.0):
    """Sliding windows (out..., [C,] kh, kw) over ``np.pad(data, pads, mode)``."""
    pad = tuple(pads) + ((0, 0),) * (data.ndim - 2)
    kw = {"constant_values": cval} if mode == "constant" else {}
    p = np.pad(data, pad, mode=mode, **kw)
    return sliding_window_view(p, ksize, axis=(0, 1))


def nanmedian_ref(x, valid, k, mode):
    """Per-pixel numpy.nanmedian of the valid values of each k x k window (float64)."""
    data = np.where(valid, x, np.nan).astype(np.float64)
    r = k // 2
    win = padded_windows(data, (k, k), ((r, r), (r, r)), mode, 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(win, axis=(-2, -1))


def tf_same_pads(n, k, s):
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return (total // 2, total - total // 2)


def pool_ref(x, valid, ksize, stride, padding, op):
    """nanmax / nanmin / nanmean over each pooling window; padded positions are NaN."""
    data = np.where(valid, x, np.nan).astype(np.float64)
    if padding == "same":
        pads = [tf_same_pads(n, k, s) for n, k, s in zip(x.shape[:2], ksize, stride, strict=True)]
    else:
        pads = [(0, 0), (0, 0)]
    win = padded_windows(data, ksize, pads, "constant", np.nan)[:: stride[0], :: stride[1]]
    fn = {"max": np.nanmax, "min": np.nanmin, "avg": np.nanmean}[op]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(win, axis=(-2, -1))


def bilateral_ref(x, valid, diameter, sigma_color, sigma_space, mode):
    """Bilateral filter of a grey image over valid pixels, float64, written out directly.

    Circular window of radius max(diameter // 2, 1) (diameter 0: OpenCV's
    round(1.5 * sigma_space)); weight exp(-r²/2ss²) *
    exp(-d²/2sc²); invalid neighbours weigh nothing; an invalid centre uses
    the spatial weights alone; NaN where no neighbour is valid; outside the
    image (constant mode) are valid zeros.
    """
    x = np.where(valid, x, 0).astype(np.float64)
    r = max(diameter // 2 if diameter > 0 else round(1.5 * sigma_space), 1)
    kw = {"constant_values": 0} if mode == "constant" else {}
    px = np.pad(x, r, mode=mode, **kw)
    pv = np.pad(valid, r, mode=mode, **({"constant_values": True} if mode == "constant" else {}))
    h, w = x.shape
    num = np.zeros((h, w))
    den = np.zeros((h, w))
    for i in range(-r, r + 1):
        for j in range(-r, r + 1):
            if i * i + j * j > r * r:
                continue
            v = px[r + i : r + i + h, r + j : r + j + w]
            ok = pv[r + i : r + i + h, r + j : r + j + w]
            rw = np.where(valid, np.exp(-((v - x) ** 2) / (2.0 * sigma_color**2)), 1.0)
            wgt = np.exp(-(i * i + j * j) / (2.0 * sigma_space**2)) * rw * ok
            num += wgt * v
            den += wgt
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


# Tolerance rule for integer results of a float computation (stated before
# use): the expected value is np.rint of the float64 oracle; where moving the
# oracle by `slack` (the float32 rounding imgfilter's work dtype may collect)
# crosses a .5 boundary, either neighbouring value is accepted. Everywhere
# else the value must match exactly.
def assert_rounded(actual, ref, slack, info=""):
    lo = np.rint(ref - slack)
    hi = np.rint(ref + slack)
    a = actual.astype(np.float64)
    bad = (a < lo) | (a > hi)
    assert not bad.any(), (
        f"{info}: {int(bad.sum())} pixels off, first at {np.argwhere(bad)[0].tolist()}: "
        f"got {a[bad][0]}, oracle {ref[bad][0]}"
    )


# ----------------------------------------------------------------- oracles: sRGB (IEC 61966-2-1)


def iec_decode(v):
    """sRGB-encoded 0..1 to linear light 0..1 (the IEC piecewise curve), float64."""
    v = np.asarray(v, dtype=np.float64)
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def iec_encode(lin):
    """Linear light 0..1 to sRGB-encoded 0..1 (the IEC piecewise curve), float64."""
    lin = np.clip(np.asarray(lin, dtype=np.float64), 0.0, 1.0)
    return np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * np.power(lin, 1 / 2.4) - 0.055)


def code_of(lin, top):
    """Nearest code of ``top``-scale sRGB for linear light ``lin`` in 0..1."""
    return np.rint(iec_encode(lin) * top)


LIN_SLACK = 64 * EPS32


# Tolerance rule for linear-light results (stated before use): the oracle
# computes linear light L (0..1) in float64 and its nearest code. imgfilter
# works in float32 on non-negative values with positive weights, so its L
# carries a relative error of at most a few dozen float32 ulps; we accept
# every code between the nearest codes of L * (1 - 64 eps) and
# L * (1 + 64 eps). That range is asserted to span at most 1 code, so this
# allows at most 1 code, and only where L lies within float32 rounding of a
# rounding boundary. Everywhere else the code must match exactly.
def assert_codes(actual, lin_ref, top, info=""):
    lo = code_of(lin_ref * (1 - LIN_SLACK), top)
    hi = code_of(lin_ref * (1 + LIN_SLACK), top)
    assert np.all(hi - lo <= 1)
    a = actual.astype(np.float64)
    bad = (a < lo) | (a > hi)
    assert not bad.any(), (
        f"{info}: {int(bad.sum())} codes off, first at {np.argwhere(bad)[0].tolist()}: "
        f"got {a[bad][0]}, oracle {code_of(lin_ref, top)[bad][0]} (L = {lin_ref[bad][0]!r})"
    )


def ref_linear_smooth(img, smooth):
    """Decode with the IEC curve (float64), ``smooth`` each channel, return linear 0..1."""
    top = float(np.iinfo(img.dtype).max)
    lin = iec_decode(img / top)
    if lin.ndim == 2:
        return smooth(lin)
    return np.stack([smooth(lin[..., c]) for c in range(lin.shape[2])], axis=-1)


# ----------------------------------------------------------------- CLI


# =================================================================== 1. NaN policies


@MORE
@given(
    h=st.integers(1, 12),
    w=st.integers(1, 12),
    channels=st.sampled_from([0, 3]),
    kh=st.sampled_from([1, 3, 5, 7]),
    kw=st.sampled_from([1, 3, 5, 7]),
    density=DENSITIES,
    dtype=FLOATS,
    mode=st.sampled_from(list(ASTROPY_BOUNDARY)),
    cval=st.integers(-8, 8).map(lambda v: v / 8),
    nan=st.sampled_from(["ignore", "keep"]),
    flip=st.booleans(),
    gain=st.sampled_from([1.0, 0.25, 7.0]),
    seed=st.integers(0, 2**32 - 1),
)
def test_correlate_convolve_ignore_keep_match_astropy(
    h, w, channels, kh, kw, density, dtype, mode, cval, nan, flip, gain, seed
):
    """Random positive kernels (7x7 ones take the FFT path); the kernel's total weight is kept."""
    rng = np.random.default_rng(seed)
    shape = (h, w, channels) if channels else (h, w)
    x = holey(rng, shape, density, dtype)
    k = rng.uniform(0.2, 1.0, size=(kh, kw))
    k = k / k.sum() * gain
    if flip:
        ours = imgfilter.convolve(x, k, mode=mode, cval=cval, nan=nan)
        astro_k = k
    else:
        ours = imgfilter.correlate(x, k, mode=mode, cval=cval, nan=nan)
        astro_k = k[::-1, ::-1]
    ref = astropy_conv(x, astro_k, mode, cval, preserve_nan=nan == "keep") * k.sum()
    frac = valid_fraction(~np.isnan(x), astro_k, mode)
    assert_normalized_close(ours, ref, frac, max(1.0, abs(cval)) * k.sum(), dtype)
    if nan == "keep":
        assert np.all(np.isnan(ours[np.isnan(x)]))


@MORE
@given(
    h=st.integers(1, 14),
    w=st.integers(1, 14),
    channels=st.sampled_from([0, 3]),
    size=st.sampled_from([1, 3, 5, 7, (3, 5), (7, 1)]),
    density=DENSITIES,
    dtype=FLOATS,
    mode=st.sampled_from(list(ASTROPY_BOUNDARY)),
    nan=st.sampled_from(["ignore", "keep"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_blur_ignore_keep_match_astropy(h, w, channels, size, density, dtype, mode, nan, seed):
    rng = np.random.default_rng(seed)
    shape = (h, w, channels) if channels else (h, w)
    x = holey(rng, shape, density, dtype)
    sh, sw = (size, size) if isinstance(size, int) else size
    box = np.ones((sh, sw)) / (sh * sw)
    ours = imgfilter.blur(x, size, mode=mode, nan=nan)
    ref = astropy_conv(x, box, mode, 0.0, preserve_nan=nan == "keep")
    frac = valid_fraction(~np.isnan(x), box, mode)
    assert_normalized_close(ours, ref, frac, 1.0, dtype)


@MORE
@given(
    h=st.integers(1, 70),
    w=st.integers(1, 70),
    channels=st.sampled_from([0, 3]),
    size=st.sampled_from([17, 25, 51, 53, 61, (17, 61), (61, 25)]),
    density=DENSITIES,
    mode=st.sampled_from(list(ASTROPY_BOUNDARY)),
    seed=st.integers(0, 2**32 - 1),
)
def test_long_blur_ignore_matches_astropy(h, w, channels, size, density, mode, seed):
    """Long boxes on either side of NAN_RUNNING_MIN: fused taps below, running sums from it."""
    rng = np.random.default_rng(seed)
    shape = (h, w, channels) if channels else (h, w)
    x = holey(rng, shape, density, np.float64)
    sh, sw = (size, size) if isinstance(size, int) else size
    box = np.ones((sh, sw)) / (sh * sw)
    ours = imgfilter.blur(x, size, mode=mode, nan="ignore")
    ref = astropy_conv(x, box, mode, 0.0, preserve_nan=False)
    frac = valid_fraction(~np.isnan(x), box, mode)
    assert_normalized_close(ours, ref, frac, 1.0, np.float64)


@MORE
@given(
    h=st.integers(1, 14),
    w=st.integers(1, 14),
    channels=st.sampled_from([0, 3]),
    sigma=st.floats(0.3, 2.5),
    sigma2=st.one_of(st.none(), st.floats(0.3, 2.5)),
    truncate=st.sampled_from([1.5, 3.0, 4.0]),
    density=DENSITIES,
    dtype=FLOATS,
    mode=st.sampled_from(list(ASTROPY_BOUNDARY)),
    nan=st.sampled_from(["ignore", "keep"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_gaussian_ignore_keep_match_astropy(
    h, w, channels, sigma, sigma2, truncate, density, dtype, mode, nan, seed
):
    rng = np.random.default_rng(seed)
    shape = (h, w, channels) if channels else (h, w)
    x = holey(rng, shape, density, dtype)
    sy, sx = (sigma, sigma) if sigma2 is None else (sigma, sigma2)
    kernel = np.outer(gauss1d(sy, truncate), gauss1d(sx, truncate))
    ours = imgfilter.gaussian(x, (sy, sx), mode=mode, truncate=truncate, nan=nan)
    ref = astropy_conv(x, kernel, mode, 0.0, preserve_nan=nan == "keep")
    frac = valid_fraction(~np.isnan(x), kernel, mode)
    assert_normalized_close(ours, ref, frac, 1.0, dtype)


@pytest.mark.parametrize("mode", list(ASTROPY_BOUNDARY))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gaussian_single_valid_pixel_fills_its_whole_window(mode, dtype):
    """A valid pixel under the window counts however small its Gaussian weight.

    One valid pixel in an all-NaN image: every output whose window holds it
    (astropy's oracle says where) is its value, including the window's
    corners, where the Gaussian weight is about 1.8e-8 of the total.
    """
    x = np.full((9, 9), np.nan, dtype=dtype)
    x[0, 0] = 3.0
    kernel = np.outer(gauss1d(1.0, 4.0), gauss1d(1.0, 4.0))
    ref = astropy_conv(x, kernel, mode, 0.0)
    ours = imgfilter.gaussian(x, 1.0, mode=mode, nan="ignore")
    frac = valid_fraction(~np.isnan(x), kernel, mode)
    assert_normalized_close(ours, ref, frac, 3.0, dtype)


def test_ignore_fills_a_hole_and_never_spreads():
    """A NaN hole in a flat field: "ignore" fills it, "keep" keeps exactly the hole."""
    x = np.full((11, 13), 5.0)
    x[4:6, 5:8] = np.nan
    hole = np.isnan(x)
    for fn in (
        lambda a, nan: imgfilter.blur(a, 5, nan=nan),
        lambda a, nan: imgfilter.gaussian(a, 1.5, nan=nan),
        lambda a, nan: imgfilter.median(a, 5, nan=nan),
        lambda a, nan: imgfilter.bilateral(a, 5, 1.0, 2.0, nan=nan),
        lambda a, nan: imgfilter.correlate(a, np.full((3, 3), 2.0), nan=nan) / 18.0,
    ):
        filled = fn(x, "ignore")
        np.testing.assert_allclose(filled, 5.0, rtol=1e-12)
        kept = fn(x, "keep")
        assert np.array_equal(np.isnan(kept), hole)
        np.testing.assert_allclose(kept[~hole], 5.0, rtol=1e-12)


@pytest.mark.parametrize("mode", ALL_MODES)
def test_propagate_is_the_default_and_spoils_every_window(mode):
    """Default NaN handling: a NaN spoils exactly the windows that contain it (IEEE)."""
    rng = np.random.default_rng(11)
    x = holey(rng, (10, 12), 0.05, np.float64, 0.0, 1.0)
    x[3, 4] = np.nan
    nans = np.isnan(x)
    win = padded_windows(x, (3, 5), ((1, 1), (2, 2)), mode, 0.0)
    spoiled = np.isnan(win).any(axis=(-2, -1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = win.mean(axis=(-2, -1))
    for out in (
        imgfilter.blur(x, (3, 5), mode=mode),
        imgfilter.blur(x, (3, 5), mode=mode, nan="propagate"),
        imgfilter.correlate(x, np.full((3, 5), 1 / 15), mode=mode),
    ):
        assert np.array_equal(np.isnan(out), spoiled)
        np.testing.assert_allclose(out[~spoiled], mean[~spoiled], rtol=1e-12, atol=1e-15)
    r = int(4.0 * 1.0 + 0.5)
    g_spoiled = np.isnan(padded_windows(x, (2 * r + 1,) * 2, ((r, r), (r, r)), mode, 0.0)).any(axis=(-2, -1))
    assert np.array_equal(np.isnan(imgfilter.gaussian(x, 1.0, mode=mode)), g_spoiled)
    assert nans.any()


@pytest.mark.parametrize("size", [(17, 17), (19, 3), (3, 21)])
@pytest.mark.parametrize("mode", ["reflect", "constant", "wrap"])
def test_propagate_large_box_keeps_nan_inside_its_windows(size, mode):
    """Long box windows too: a NaN (or an infinity) spoils only the windows that hold it."""
    for bad in (np.nan, np.inf):
        x = np.ones((40, 50))
        x[12, 20] = bad
        sh, sw = size
        win = padded_windows(x, size, ((sh // 2, sh - 1 - sh // 2), (sw // 2, sw - 1 - sw // 2)), mode)
        spoiled = ~np.isfinite(win).all(axis=(-2, -1))
        with np.errstate(invalid="ignore"):
            out = imgfilter.blur(x, size, mode=mode)
        assert np.array_equal(~np.isfinite(out), spoiled), (
            f"{bad}: {int((~np.isfinite(out)).sum())} non-finite outputs, expected {int(spoiled.sum())}"
        )
        # Elsewhere the plain box mean of ones (below 1 at a constant-mode border).
        ref = ndi.uniform_filter(np.ones_like(x), size, mode=SCIPY_MODE[mode])
        np.testing.assert_allclose(out[~spoiled], ref[~spoiled], rtol=1e-12)


@MORE
@given(
    h=st.integers(1, 10),
    w=st.integers(1, 10),
    channels=st.sampled_from([0, 3]),
    k=st.sampled_from([1, 3, 5]),
    density=DENSITIES,
    dtype=FLOATS,
    mode=st.sampled_from(ALL_MODES),
    nan=st.sampled_from(["ignore", "keep"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_median_ignore_keep_is_nanmedian(h, w, channels, k, density, dtype, mode, nan, seed):
    rng = np.random.default_rng(seed)
    shape = (h, w, channels) if channels else (h, w)
    x = holey(rng, shape, density, dtype)
    # Some ties, so even counts average two equal or different middles.
    x = np.where(rng.random(shape) < 0.3, np.round(x, 1), x).astype(dtype)
    valid = ~np.isnan(x)
    expected = nanmedian_ref(x, valid, k, mode).astype(dtype)
    if nan == "keep":
        expected[~valid] = np.nan
    ours = imgfilter.median(x, k, mode=mode, nan=nan)
    assert ours.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(ours, expected)


@pytest.mark.parametrize("k", [3, 5])
@pytest.mark.parametrize("shared", [True, False])
def test_median_ignore_many_windows_on_threads_with_infinities(k, shared):
    """Enough holed windows for many batches on two threads; +-inf valid values
    tie with the missing ones (sorted last as +inf) without being miscounted."""
    rng = np.random.default_rng(11)
    x = np.round(rng.uniform(-1, 1, (160, 120, 3)), 1).astype(np.float32)
    x[rng.random(x.shape) < 0.03] = np.inf
    x[rng.random(x.shape) < 0.03] = -np.inf
    holes = rng.random((160, 120, 1) if shared else x.shape) < 0.08
    x[np.broadcast_to(holes, x.shape)] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # inf - inf in the reference's mean
        expected = nanmedian_ref(x, ~np.isnan(x), k, "reflect").astype(np.float32)
    for threads in (1, 2):
        got = imgfilter.median(x, k, nan="ignore", threads=threads)
        np.testing.assert_array_equal(got, expected)


@MORE
@given(
    h=st.integers(1, 12),
    w=st.integers(1, 12),
    channels=st.sampled_from([0, 3]),
    kh=st.integers(1, 4),
    kw=st.integers(1, 4),
    stride=st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))),
    padding=st.sampled_from(["valid", "same"]),
    op=st.sampled_from(["max", "min", "avg"]),
    density=DENSITIES,
    dtype=FLOATS,
    nan=st.sampled_from(["ignore", "keep"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_pool_ignore_keep_are_nan_reductions(
    h, w, channels, kh, kw, stride, padding, op, density, dtype, nan, seed
):
    rng = np.random.default_rng(seed)
    strides = (kh, kw) if stride is None else stride
    if padding == "valid":
        assume(h >= kh and w >= kw)
    else:
        pads = [tf_same_pads(n, k, s) for n, k, s in zip((h, w), (kh, kw), strides, strict=True)]
        assume(all(b < k and a < k for (b, a), k in zip(pads, (kh, kw), strict=True)))
    shape = (h, w, channels) if channels else (h, w)
    x = holey(rng, shape, density, dtype)
    ref = pool_ref(x, ~np.isnan(x), (kh, kw), strides, padding, op)
    ours = imgfilter.pool(x, (kh, kw), stride=stride, op=op, padding=padding, nan=nan)
    assert ours.dtype == np.dtype(dtype)
    assert ours.shape == ref.shape
    if op == "avg":
        assert np.array_equal(np.isnan(ours), np.isnan(ref))
        np.testing.assert_allclose(ours, ref, rtol=64 * float(np.finfo(dtype).eps), atol=1e-6)
    else:
        np.testing.assert_array_equal(ours, ref.astype(dtype))


@pytest.mark.parametrize("op", ["max", "min", "avg"])
def test_pool_propagate_default_and_keep_equals_ignore(op):
    rng = np.random.default_rng(5)
    x = holey(rng, (12, 10, 2), 0.15, np.float64)
    win = sliding_window_view(x, (3, 2), axis=(0, 1))[::3, ::2]
    fn = {"max": np.max, "min": np.min, "avg": np.mean}[op]
    expected = fn(win, axis=(-2, -1))
    for out in (imgfilter.pool(x, (3, 2), op=op), imgfilter.pool(x, (3, 2), op=op, nan="propagate")):
        assert np.array_equal(np.isnan(out), np.isnan(expected))
        np.testing.assert_allclose(out, expected, rtol=1e-12)
    np.testing.assert_array_equal(
        imgfilter.pool(x, (3, 2), op=op, nan="keep"), imgfilter.pool(x, (3, 2), op=op, nan="ignore")
    )


@MORE
@given(
    h=st.integers(1, 10),
    w=st.integers(1, 10),
    diameter=st.sampled_from([0, 3, 5, 7]),
    sigma_color=st.sampled_from([0.1, 0.5, 3.0]),
    sigma_space=st.sampled_from([0.7, 1.5, 4.0]),
    density=DENSITIES,
    mode=st.sampled_from(ALL_MODES),
    nan=st.sampled_from(["ignore", "keep"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_bilateral_ignore_keep_match_direct_reference(
    h, w, diameter, sigma_color, sigma_space, density, mode, nan, seed
):
    rng = np.random.default_rng(seed)
    x = holey(rng, (h, w), density, np.float64, 0.0, 1.0)
    valid = ~np.isnan(x)
    ref = bilateral_ref(x, valid, diameter, sigma_color, sigma_space, mode)
    if nan == "keep":
        ref[~valid] = np.nan
    ours = imgfilter.bilateral(x, diameter, sigma_color, sigma_space, mode=mode, nan=nan)
    assert ours.dtype == np.float64
    assert np.array_equal(np.isnan(ours), np.isnan(ref))
    np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("nan", ["ignore", "keep"])
@pytest.mark.parametrize("fn", [imgfilter.correlate, imgfilter.convolve])
def test_zero_sum_kernel_with_ignore_raises_and_says_why(fn, nan):
    x = np.arange(30, dtype=np.float64).reshape(5, 6)
    x[2, 3] = np.nan
    for kernel in (SOBEL_X, [[0, 1, 0], [1, -4, 1], [0, 1, 0]]):
        with pytest.raises(ValueError, match=r"(?i)sum.*zero"):
            fn(x, kernel, nan=nan)
    with pytest.raises(ValueError, match=r"(?i)sum.*zero"):
        fn(np.ones((5, 6), np.uint8), SOBEL_X, mask=np.eye(5, 6, dtype=bool))
    # Whatever the pixels: no NaN anywhere, or none the windows read (a
    # stride skipping the hole), is refused alike, so a Dask chunk without a
    # hole cannot give a result where the whole image gives an error.
    with pytest.raises(ValueError, match=r"(?i)sum.*zero"):
        fn(np.ones((5, 6)), SOBEL_X, nan=nan)
    with pytest.raises(ValueError, match=r"(?i)sum.*zero"):
        fn(np.array([[1.0, np.nan, 3.0]]), [[0.0]], nan=nan, stride=3)
    assert fn(np.ones((5, 6)), SOBEL_X).shape == (5, 6)  # nan="propagate": fine


def test_bad_nan_value_is_a_value_error():
    x = np.ones((4, 4))
    for call in (
        lambda: imgfilter.blur(x, nan="skip"),
        lambda: imgfilter.gaussian(x, nan="omit"),
        lambda: imgfilter.median(x, nan=""),
        lambda: imgfilter.bilateral(x, nan="zero"),
        lambda: imgfilter.pool(x, nan="drop"),
        lambda: imgfilter.correlate(x, [[1.0]], nan="nope"),
    ):
        with pytest.raises(ValueError, match="nan"):
            call()


def test_integer_images_have_no_nan_so_policies_agree(gray_photo):
    img = gray_photo[:64, :80]
    for fn in (
        lambda a, nan: imgfilter.blur(a, 5, nan=nan),
        lambda a, nan: imgfilter.gaussian(a, 2.0, nan=nan),
        lambda a, nan: imgfilter.median(a, 3, nan=nan),
        lambda a, nan: imgfilter.pool(a, 2, op="avg", nan=nan),
        lambda a, nan: imgfilter.correlate(a, [[1, 2], [3, 4]], nan=nan),
    ):
        base = fn(img, "propagate")
        for nan in ("ignore", "keep"):
            np.testing.assert_array_equal(fn(img, nan), base)


# =================================================================== 2. masks


INT_DTYPES = [np.uint8, np.uint16, np.int16]


def int_image(rng, shape, dtype):
    """uint8 over its full range; uint16 in 0..3000; int16 in -3000..3000."""
    lo, hi = {np.uint8: (0, 255), np.uint16: (0, 3000), np.int16: (-3000, 3000)}[dtype]
    return rng.integers(lo, hi + 1, size=shape).astype(dtype)


def keep_where_empty(ref, img):
    """Integer rule: pixels whose window holds no valid pixel keep their value."""
    return np.where(np.isnan(ref), img.astype(np.float64), ref)


@MORE
@given(
    h=st.integers(1, 12),
    w=st.integers(1, 12),
    channels=st.sampled_from([0, 3]),
    size=st.sampled_from([1, 3, 5]),
    dtype=st.sampled_from(INT_DTYPES),
    density=DENSITIES,
    mode=st.sampled_from(list(ASTROPY_BOUNDARY)),
    seed=st.integers(0, 2**32 - 1),
)
def test_blur_mask_on_integer_images_matches_astropy(h, w, channels, size, dtype, density, mode, seed):
    rng = np.random.default_rng(seed)
    shape = (h, w, channels) if channels else (h, w)
    img = int_image(rng, shape, dtype)
    mask = random_mask(rng, (h, w), density)
    holes = np.where(mask if img.ndim == 2 else mask[..., None], img.astype(np.float64), np.nan)
    ref = keep_where_empty(astropy_conv(holes, np.ones((size, size)) / size**2, mode, 0.0), img)
    ours = imgfilter.blur(img, size, mode=mode, mask=mask)
    assert ours.dtype == np.dtype(dtype)
    assert_rounded(ours, ref, 64 * EPS32 * 3000, "blur mask")


@MORE
@given(
    h=st.integers(1, 12),
    w=st.integers(1, 12),
    sigma=st.floats(0.4, 2.0),
    dtype=st.sampled_from(INT_DTYPES),
    density=st.sampled_from([0.0, 0.3, 0.7]),
    mode=st.sampled_from(list(ASTROPY_BOUNDARY)),
    seed=st.integers(0, 2**32 - 1),
)
def test_gaussian_mask_on_integer_images_matches_astropy(h, w, sigma, dtype, density, mode, seed):
    rng = np.random.default_rng(seed)
    img = int_image(rng, (h, w, 3), dtype)
    mask = random_mask(rng, (h, w), density)
    holes = np.where(mask[..., None], img.astype(np.float64), np.nan)
    kernel = np.outer(gauss1d(sigma, 4.0), gauss1d(sigma, 4.0))
    ref = keep_where_empty(astropy_conv(holes, kernel, mode, 0.0), img)
    ours = imgfilter.gaussian(img, sigma, mode=mode, mask=mask)
    assert ours.dtype == np.dtype(dtype)
    assert_rounded(ours, ref, 64 * EPS32 * 3000, "gaussian mask")


@MORE
@given(
    h=st.integers(1, 10),
    w=st.integers(1, 10),
    k=st.sampled_from([1, 3, 5]),
    dtype=st.sampled_from(INT_DTYPES),
    density=DENSITIES,
    mode=st.sampled_from(ALL_MODES),
    seed=st.integers(0, 2**32 - 1),
)
def test_median_mask_on_integer_images_is_nanmedian(h, w, k, dtype, density, mode, seed):
    rng = np.random.default_rng(seed)
    img = int_image(rng, (h, w, 3), dtype)
    mask = random_mask(rng, (h, w), density)
    ref = nanmedian_ref(img, np.broadcast_to(mask[..., None], img.shape), k, mode)
    expected = np.rint(keep_where_empty(ref, img)).astype(dtype)  # .5 of an even count: half to even
    np.testing.assert_array_equal(imgfilter.median(img, k, mode=mode, mask=mask), expected)


@MORE
@given(
    h=st.integers(2, 12),
    w=st.integers(2, 12),
    size=st.integers(1, 3),
    op=st.sampled_from(["max", "min", "avg"]),
    dtype=st.sampled_from(INT_DTYPES),
    density=DENSITIES,
    seed=st.integers(0, 2**32 - 1),
)
def test_pool_mask_on_integer_images(h, w, size, op, dtype, density, seed):
    """Valid pixels only; a window without any gives the unmasked result."""
    assume(h >= size and w >= size)
    rng = np.random.default_rng(seed)
    img = int_image(rng, (h, w, 2), dtype)
    mask = random_mask(rng, (h, w), density)
    everything = np.ones(img.shape, dtype=bool)
    ref = pool_ref(img, np.broadcast_to(mask[..., None], img.shape), (size, size), (size, size), "valid", op)
    plain = pool_ref(img, everything, (size, size), (size, size), "valid", op)
    expected = np.where(np.isnan(ref), plain, ref)
    ours = imgfilter.pool(img, size, op=op, mask=mask)
    if op == "avg":
        assert ours.dtype == np.float32
        np.testing.assert_allclose(ours, expected, rtol=64 * EPS32)
    else:
        assert ours.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(ours, expected.astype(dtype))


@MORE
@given(
    h=st.integers(1, 10),
    w=st.integers(1, 10),
    diameter=st.sampled_from([3, 5]),
    density=st.sampled_from([0.0, 0.3, 0.8, 1.0]),
    mode=st.sampled_from(ALL_MODES),
    seed=st.integers(0, 2**32 - 1),
)
def test_bilateral_mask_on_uint8_matches_direct_reference(h, w, diameter, density, mode, seed):
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, size=(h, w), dtype=np.uint8)
    mask = random_mask(rng, (h, w), density)
    ref = keep_where_empty(bilateral_ref(img, mask, diameter, 40.0, 2.0, mode), img)
    ours = imgfilter.bilateral(img, diameter, 40.0, 2.0, mode=mode, mask=mask)
    assert ours.dtype == np.uint8
    assert_rounded(ours, ref, 64 * EPS32 * 255, "bilateral mask")


@MORE
@given(
    h=st.integers(1, 10),
    w=st.integers(1, 10),
    k=st.sampled_from([1, 3, 5]),
    density=DENSITIES,
    mode=st.sampled_from(list(ASTROPY_BOUNDARY)),
    seed=st.integers(0, 2**32 - 1),
)
def test_correlate_mask_on_uint8_matches_astropy(h, w, k, density, mode, seed):
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    mask = random_mask(rng, (h, w), density)
    kernel = rng.uniform(0.2, 1.0, size=(k, k))
    holes = np.where(mask[..., None], img.astype(np.float64), np.nan)
    ref = astropy_conv(holes, kernel[::-1, ::-1], mode, 0.0) * kernel.sum()
    ours = imgfilter.correlate(img, kernel, mode=mode, mask=mask)
    frac = valid_fraction(np.broadcast_to(mask[..., None], img.shape), kernel[::-1, ::-1], mode)
    assert_normalized_close(ours, ref, frac, 255.0 * kernel.sum(), np.float32)


@MORE
@given(
    h=st.integers(1, 12),
    w=st.integers(1, 12),
    nan_density=DENSITIES,
    mask_density=DENSITIES,
    dtype=FLOATS,
    mode=st.sampled_from(list(ASTROPY_BOUNDARY)),
    seed=st.integers(0, 2**32 - 1),
)
def test_mask_and_nan_combine_on_float_images(h, w, nan_density, mask_density, dtype, mode, seed):
    rng = np.random.default_rng(seed)
    x = holey(rng, (h, w), nan_density, dtype)
    mask = random_mask(rng, (h, w), mask_density)
    both = np.where(mask, x, np.nan)
    box = np.ones((3, 3)) / 9
    ref = astropy_conv(both, box, mode, 0.0)
    frac = valid_fraction(~np.isnan(both), box, mode)
    assert_normalized_close(imgfilter.blur(x, 3, mode=mode, nan="ignore", mask=mask), ref, frac, 1.0, dtype)
    # mask= alone on a NaN-free float image is the same normalization.
    clean = np.nan_to_num(x, nan=0.25).astype(dtype)
    ref2 = astropy_conv(np.where(mask, clean, np.nan), box, mode, 0.0)
    frac2 = valid_fraction(mask, box, mode)
    assert_normalized_close(imgfilter.blur(clean, 3, mode=mode, mask=mask), ref2, frac2, 1.0, dtype)


def test_mask_broadcasts_over_channels(photo):
    rng = np.random.default_rng(3)
    img = photo[100:140, 200:250]
    mask = random_mask(rng, img.shape[:2], 0.4)
    for fn in (
        lambda a: imgfilter.blur(a, 5, mask=mask),
        lambda a: imgfilter.gaussian(a, 1.5, mask=mask),
        lambda a: imgfilter.median(a, 3, mask=mask),
        lambda a: imgfilter.pool(a, 2, op="max", mask=mask),
        lambda a: imgfilter.correlate(a, np.ones((3, 3)), mask=mask),
    ):
        whole = fn(img)
        for c in range(3):
            np.testing.assert_array_equal(whole[..., c], fn(np.ascontiguousarray(img[..., c])))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_integer_pixels_without_valid_neighbour_keep_their_value(dtype):
    rng = np.random.default_rng(8)
    top = np.iinfo(dtype).max
    grey = rng.integers(0, top + 1, size=(9, 11)).astype(dtype)
    rgb = rng.integers(0, top + 1, size=(9, 11, 3)).astype(dtype)
    none = np.zeros((9, 11), dtype=bool)
    for img in (grey, rgb):
        for out in (
            imgfilter.blur(img, 3, mask=none),
            imgfilter.gaussian(img, 1.0, mask=none),
            imgfilter.median(img, 3, mask=none),
            imgfilter.bilateral(img, 5, 30.0, 3.0, mask=none),
        ):
            np.testing.assert_array_equal(out, img)


def test_mask_with_wrong_shape_is_refused():
    with pytest.raises(ValueError, match="mask"):
        imgfilter.blur(np.zeros((6, 7), np.uint8), 3, mask=np.ones((7, 6), bool))


# =================================================================== 4. linear light


# Expected codes of a flat 50% linear field, from the IEC formula alone.
HALF_8 = int(np.rint((1.055 * 0.5 ** (1 / 2.4) - 0.055) * 255))
HALF_16 = int(np.rint((1.055 * 0.5 ** (1 / 2.4) - 0.055) * 65535))


def test_expected_half_codes_are_what_the_issue_says():
    assert HALF_8 == 188
    assert HALF_16 == 48192  # 0.7353569... * 65535 = 48191.62


def _layouts(board, top):
    """Grey, RGB, opaque RGBA and opaque LA versions of a grey board."""
    opaque = np.full_like(board, top)
    return {
        "grey": board,
        "rgb": np.dstack([board] * 3),
        "rgba": np.dstack([board] * 3 + [opaque]),
        "la": np.dstack([board, opaque]),
    }


CHECKER_FILTERS = {
    "blur2-wrap": lambda a: imgfilter.blur(a, 2, mode="wrap", linear=True),
    "blur4-wrap": lambda a: imgfilter.blur(a, 4, mode="wrap", linear=True),
    "gaussian-wrap": lambda a: imgfilter.gaussian(a, 4.0, mode="wrap", linear=True),
    "shift-half": lambda a: imgfilter.shift(a, 0.5, 0.5, mode="wrap", linear=True),
}


@pytest.mark.parametrize("dtype,top,expected", [(np.uint8, 255, HALF_8), (np.uint16, 65535, HALF_16)])
@pytest.mark.parametrize("name", list(CHECKER_FILTERS))
def test_checkerboard_blurs_to_half_light_not_half_code(name, dtype, top, expected):
    board = checkerboard(16, top, dtype)
    for layout, img in _layouts(board, top).items():
        out = CHECKER_FILTERS[name](img)
        assert out.dtype == np.dtype(dtype), layout
        assert out.shape == img.shape, layout
        colour = out if out.ndim == 2 else out[..., : 3 if layout in ("rgb", "rgba") else 1]
        assert np.all(colour == expected), f"{layout}: got {np.unique(colour)}, expected {expected}"
        if layout in ("rgba", "la"):
            assert np.all(out[..., -1] == top), f"{layout}: opaque alpha changed"


@pytest.mark.parametrize("dtype,top", [(np.uint8, 255), (np.uint16, 65535)])
def test_checkerboard_pool_avg_is_encoded_half_light(dtype, top):
    board = checkerboard(8, top, dtype)
    out = imgfilter.pool(np.dstack([board] * 3), 2, op="avg", linear=True)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, iec_encode(0.5) * top, rtol=8 * EPS32)
    # Without linear light, the average of codes.
    np.testing.assert_allclose(imgfilter.pool(board, 2, op="avg"), top / 2, rtol=8 * EPS32)


def test_linear_light_is_not_the_default():
    board = checkerboard(8, 255, np.uint8)
    assert np.all(imgfilter.blur(board, 2, mode="wrap") == 128)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_decode_encode_round_trip_every_code(dtype):
    top = int(np.iinfo(dtype).max)
    codes = np.arange(top + 1).astype(dtype)
    lin = srgb.decode(codes)
    np.testing.assert_array_equal(srgb.encode(lin, dtype), codes)
    # 2-D and 3-D arrays too.
    img = codes[: (top + 1) // 16 * 16].reshape(16, -1)
    np.testing.assert_array_equal(srgb.encode(srgb.decode(img), dtype), img)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_decode_is_the_exact_iec_curve_not_a_power(dtype):
    top = int(np.iinfo(dtype).max)
    codes = np.arange(top + 1).astype(dtype)
    ref = iec_decode(codes / top) * top
    lin = srgb.decode(codes).astype(np.float64)
    np.testing.assert_allclose(lin, ref, rtol=EPS32, atol=0)
    power = (codes / top) ** 2.2 * top
    assert np.abs(lin - power).max() > 0.001 * top


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_encode_is_the_nearest_code(dtype):
    top = float(np.iinfo(dtype).max)
    rng = np.random.default_rng(4)
    lin = np.concatenate(
        [
            rng.uniform(0, top, 200_000),
            rng.uniform(0, 0.01 * top, 50_000),  # the linear segment near black
            [0.0, top, 0.0031308 * top],
        ]
    ).astype(np.float32)
    got = srgb.encode(lin, dtype)
    assert got.dtype == np.dtype(dtype)
    assert_codes(got, lin.astype(np.float64) / top, top, "encode")
    # Out-of-range light clips to the ends of the code range.
    np.testing.assert_array_equal(
        srgb.encode(np.array([-5.0, top * 1.5], dtype=np.float32), dtype), [0, int(top)]
    )


@pytest.mark.skipif(
    os.environ.get("HYPOTHESIS_PROFILE") != "thorough",
    reason="every float32 pattern: minutes, in the thorough profile only",
)
@pytest.mark.parametrize(
    "dtype,exponent,divisor",
    [(np.uint8, 0, 1.0), (np.uint16, 0, 1.0), (np.uint8, 2, 1.0), (np.uint8, 0, 25.0)],
)
def test_encode_equals_binary_search_for_every_float32(dtype, exponent, divisor):
    """The 8- and 16-bit encodes against the binary search over the code
    thresholds for all 2**32 float32 bit patterns (NaN, a hole the callers
    restore: 8-bit positive ones to 255 and negative to 0, 16-bit to 0);
    ``exponent=2`` against the search for the exact quarter (in float64),
    ``divisor=25`` (a 5x5 box) for numpy's float32 quotient."""
    top = int(np.iinfo(dtype).max)
    thresholds = srgb._tables(top + 1)[1].astype(np.float32)
    step = 1 << 25
    for start in range(0, 1 << 32, step):
        bits = np.arange(start, start + step, dtype=np.uint64).astype(np.uint32)
        x = bits.view(np.float32)
        got = srgb.encode(x, dtype, exponent=exponent, divisor=divisor)
        nan = np.isnan(x)
        with np.errstate(over="ignore"):
            quotient = np.where(nan, 0, x) / np.float32(divisor)
        scaled = quotient.astype(np.float64) * 2.0**-exponent
        expected = np.searchsorted(thresholds, scaled, side="left").astype(dtype)
        if dtype == np.uint8:
            expected[nan] = np.where(bits[nan] >> 31, 0, 255)
        mismatch = np.flatnonzero(got != expected)
        assert mismatch.size == 0, f"pattern {int(bits[mismatch[0]]):#010x}"


def test_encode16_equals_binary_search_around_every_threshold():
    """The 16-bit encode rounds the float32 curve to a code and corrects it by
    the code's two thresholds: exact on and around every threshold, at the
    ends, and for out-of-range light."""
    thresholds = srgb._tables(65536)[1].astype(np.float32)
    bits = thresholds.view(np.uint32).astype(np.int64)
    near = (bits[:, None] + np.arange(-3, 4)).ravel().astype(np.uint32).view(np.float32)
    rng = np.random.default_rng(14)
    x = np.concatenate(
        [
            near,
            rng.uniform(-100, 70000, 300_000).astype(np.float32),
            np.array([-0.0, 0.0, -1e30, 1e30, np.inf, -np.inf, 65535.0], dtype=np.float32),
        ]
    )
    expected = np.searchsorted(thresholds, x, side="left").astype(np.uint16)
    np.testing.assert_array_equal(srgb.encode(x, np.uint16), expected)
    assert srgb.encode(np.array([np.nan], dtype=np.float32), np.uint16)[0] == 0


@pytest.mark.parametrize(
    "shape,view",
    [
        ((7,), None),
        ((1,), None),
        ((0,), None),
        ((3, 5), None),
        ((301, 257, 3), None),
        ((301, 257, 3), "step"),
        ((64, 65, 3), "reversed"),
        ((2, 3, 0), None),
    ],
)
def test_decode8_in_pairs_equals_the_table(shape, view):
    """8-bit codes decode two at a time (one uint16 lookup); odd sizes, views
    and arrays larger than one lookup slice must give the per-code table."""
    rng = np.random.default_rng(12)
    codes = rng.integers(0, 256, size=shape, dtype=np.uint8)
    if view == "step":
        codes = codes[::2, 1::3]
    elif view == "reversed":
        codes = codes[::-1, ::-1]
    got = srgb.decode(codes)
    assert got.dtype == np.float32 and got.shape == codes.shape
    np.testing.assert_array_equal(got, srgb.decode_table(np.uint8)[codes])


@pytest.mark.parametrize("top", [255.0, 65535.0])
def test_encode_float_is_the_iec_curve_to_a_few_ulps(top):
    """Average pooling's float result: the exact curve (float64 reference from
    the IEC formula) to a few float32 ulps, 0 and top exactly, the dark
    linear segment included, over more values than one slice."""
    rng = np.random.default_rng(13)
    lin = np.concatenate(
        [
            rng.uniform(0, top, 300_000),
            rng.uniform(0, 0.004 * top, 50_000),  # both sides of the knee
            np.zeros(1000),  # zeros in bulk (numpy's power has a slow path for them)
            [0.0, top, 0.0031308 * top, top / 2],
        ]
    ).astype(np.float32)
    got = srgb.encode_float(lin, top)
    assert got.dtype == np.float32
    ref = iec_encode(lin.astype(np.float64) / top) * top
    np.testing.assert_allclose(got, ref, rtol=8 * EPS32, atol=0)
    assert got[-4] == 0.0 and got[-3] == top
    # In place gives the same values; NaN (a window with nothing valid) stays NaN.
    again = lin.copy()
    again[5] = np.nan
    srgb.encode_float(again, top, out=again)
    np.testing.assert_array_equal(np.delete(again, 5), np.delete(got, 5))
    assert np.isnan(again[5])


def _photo_crops(photo):
    return photo[180:300, 140:290]


@pytest.mark.parametrize("mode", ALL_MODES)
def test_blur_linear_matches_independent_reference_8bit(photo, mode):
    img = _photo_crops(photo)
    for size in (3, 4, 7):
        ref = ref_linear_smooth(img, lambda ch, s=size: ndi.uniform_filter(ch, s, mode=SCIPY_MODE[mode]))
        out = imgfilter.blur(img, size, mode=mode, linear=True)
        assert out.dtype == np.uint8
        assert_codes(out, ref, 255, f"blur {size} {mode}")


@pytest.mark.parametrize("mode", ALL_MODES)
def test_gaussian_linear_matches_independent_reference_8bit(photo, mode):
    img = _photo_crops(photo)
    for sigma in (0.8, 2.5):
        ref = ref_linear_smooth(
            img, lambda ch, s=sigma: ndi.gaussian_filter(ch, s, mode=SCIPY_MODE[mode], truncate=4.0)
        )
        out = imgfilter.gaussian(img, sigma, mode=mode, linear=True)
        assert out.dtype == np.uint8
        assert_codes(out, ref, 255, f"gaussian {sigma} {mode}")


@pytest.mark.parametrize("mode", ["reflect", "edge", "wrap"])
def test_blur_and_gaussian_linear_match_independent_reference_16bit(gray_photo, mode):
    rng = np.random.default_rng(21)
    base = gray_photo[200:296, 100:220].astype(np.int64) * 257
    img = np.clip(base + rng.integers(-200, 201, size=base.shape), 0, 65535).astype(np.uint16)
    ref = ref_linear_smooth(img, lambda ch: ndi.uniform_filter(ch, 5, mode=SCIPY_MODE[mode]))
    assert_codes(imgfilter.blur(img, 5, mode=mode, linear=True), ref, 65535, "blur16")
    ref = ref_linear_smooth(img, lambda ch: ndi.gaussian_filter(ch, 1.7, mode=SCIPY_MODE[mode]))
    assert_codes(imgfilter.gaussian(img, 1.7, mode=mode, linear=True), ref, 65535, "gaussian16")
    rgb = np.dstack([img, img[::-1], img[:, ::-1]])
    ref = ref_linear_smooth(rgb, lambda ch: ndi.gaussian_filter(ch, 1.2, mode=SCIPY_MODE[mode]))
    assert_codes(imgfilter.gaussian(rgb, 1.2, mode=mode, linear=True), ref, 65535, "gaussian16 rgb")


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_alpha_is_averaged_linearly_and_colour_premultiplied_in_linear_light(dtype):
    top = int(np.iinfo(dtype).max)
    rng = np.random.default_rng(13)
    rgb = rng.integers(0, top + 1, size=(24, 30, 3)).astype(dtype)
    alpha = rng.integers(1, top + 1, size=(24, 30)).astype(dtype)
    img = np.dstack([rgb, alpha])
    out = imgfilter.blur(img, 3, mode="edge", linear=True, alpha=True)
    a = alpha.astype(np.float64)
    # A 3x3 mean of integers is never exactly .5 off an integer: the alpha must match exactly.
    a_mean = ndi.uniform_filter(a, 3, mode="nearest")
    np.testing.assert_array_equal(out[..., 3], np.rint(a_mean).astype(dtype))
    lin = iec_decode(rgb / top)
    num = np.stack([ndi.uniform_filter(lin[..., c] * a, 3, mode="nearest") for c in range(3)], axis=-1)
    assert_codes(out[..., :3], num / a_mean[..., None], top, "premultiplied linear colour")


def test_opaque_alpha_stays_as_it_is_in_every_linear_filter(photo):
    img = np.dstack([photo[:40, :48], np.full((40, 48), 255, np.uint8)])
    for out in (
        imgfilter.blur(img, 5, linear=True, alpha=True),
        imgfilter.gaussian(img, 2.0, linear=True, alpha=True),
        imgfilter.bilateral(img, 5, 30.0, 3.0, linear=True, alpha=True),
        imgfilter.shift(img, 0.25, 0.75, mode="edge", linear=True, alpha=True),
    ):
        assert np.all(out[..., 3] == 255)


@pytest.mark.parametrize("mode", ["reflect", "constant", "wrap"])
def test_bilateral_linear_matches_independent_reference(gray_photo, mode):
    img = gray_photo[300:340, 250:296]
    top = 255.0
    lin = iec_decode(img / top)
    # sigma_color is in the image's units: linear light on the 0..255 scale.
    ref = bilateral_ref(lin * top, np.ones(img.shape, bool), 5, 20.0, 2.0, mode) / top
    out = imgfilter.bilateral(img, 5, 20.0, 2.0, mode=mode, linear=True)
    assert out.dtype == np.uint8
    assert_codes(out, ref, 255, "bilateral linear")


def test_pool_avg_linear_matches_independent_reference(photo):
    img = photo[:64, :96]
    out = imgfilter.pool(img, (2, 3), op="avg", linear=True)
    lin = iec_decode(img / 255.0)
    mean = lin.reshape(32, 2, 32, 3, 3).mean(axis=(1, 3))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, iec_encode(mean) * 255, rtol=64 * EPS32, atol=1e-4)
    # Max and min are the same in either light.
    for op in ("max", "min"):
        np.testing.assert_array_equal(
            imgfilter.pool(img, 2, op=op, linear=True), imgfilter.pool(img, 2, op=op)
        )


@pytest.mark.parametrize("dx,dy", [(0.5, 0.0), (0.25, 0.0), (0.0, 0.7), (1.3, -2.6)])
def test_fractional_shift_linear_matches_independent_reference(gray_photo, dx, dy):
    img = gray_photo[100:140, 300:350]
    lin = iec_decode(img / 255.0)
    ref = ndi.shift(lin, (dy, dx), order=1, mode="nearest")
    out = imgfilter.shift(img, dx, dy, mode="edge", linear=True)
    assert out.dtype == np.uint8
    assert_codes(out, ref, 255, "shift linear")


def test_whole_pixel_shift_is_a_copy_in_either_light(photo):
    img = photo[:30, :40]
    for mode in ALL_MODES:
        np.testing.assert_array_equal(
            imgfilter.shift(img, 3, -2, mode=mode, linear=True), imgfilter.shift(img, 3, -2, mode=mode)
        )


def test_shift_fill_value_is_a_code_value_in_linear_light():
    """cval is in the image's units: a whole-pixel shift fills with that code, linear or not."""
    img = np.full((4, 6), 50, np.uint8)
    out = imgfilter.shift(img, 2, 0, mode="constant", cval=100, linear=True)
    assert np.all(out[:, :2] == 100)
    assert np.all(out[:, 2:] == 50)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_images_are_taken_as_already_linear(dtype):
    rng = np.random.default_rng(17)
    grey = rng.random((20, 24)).astype(dtype)
    rgba = rng.random((20, 24, 4)).astype(dtype)
    for img in (grey, rgba):
        for fn in (
            lambda a, lin: imgfilter.blur(a, 3, linear=lin),
            lambda a, lin: imgfilter.gaussian(a, 1.5, linear=lin),
            lambda a, lin: imgfilter.bilateral(a, 5, 0.2, 2.0, linear=lin),
            lambda a, lin: imgfilter.pool(a, 2, op="avg", linear=lin),
            lambda a, lin: imgfilter.shift(a, 0.5, 0.25, linear=lin),
        ):
            np.testing.assert_array_equal(fn(img, True), fn(img, False))


def test_linear_and_mask_integer_rule_with_alpha():
    """Linear light plus a mask: pixels with no valid neighbour keep their value, alpha included."""
    rng = np.random.default_rng(2)
    img = rng.integers(0, 256, size=(6, 7, 4), dtype=np.uint8)
    none = np.zeros((6, 7), dtype=bool)
    for out in (
        imgfilter.blur(img, 3, mask=none, linear=True),
        imgfilter.gaussian(img, 1.0, mask=none, linear=True),
    ):
        np.testing.assert_array_equal(out, img)


def test_pool_linear_with_empty_mask_gives_the_unmasked_result():
    rng = np.random.default_rng(6)
    img = rng.integers(0, 256, size=(8, 8, 3), dtype=np.uint8)
    none = np.zeros((8, 8), dtype=bool)
    np.testing.assert_allclose(
        imgfilter.pool(img, 2, op="avg", mask=none, linear=True),
        imgfilter.pool(img, 2, op="avg", linear=True),
    )


# =================================================================== 5. command line


@pytest.fixture(scope="module")
def float_tif(tmp_path_factory):
    """A grey float32 TIFF ('F' mode, written by Pillow) with NaN holes and an all-NaN block."""
    rng = np.random.default_rng(31)
    x = rng.uniform(0, 1, size=(30, 37)).astype(np.float32)
    x[rng.random(x.shape) < 0.2] = np.nan
    x[10:18, 12:20] = np.nan
    path = tmp_path_factory.mktemp("float") / "holes.tif"
    im = Image.fromarray(x)
    assert im.mode == "F"
    im.save(path)
    back = np.asarray(Image.open(path))
    assert back.dtype == np.float32 and np.array_equal(np.isnan(back), np.isnan(x))
    return path, x


NAN_COMMANDS = {
    "blur": (["blur", "--size", "5"], lambda x, nan: imgfilter.blur(x, 5, nan=nan)),
    "gaussian": (["gaussian", "--sigma", "1.5"], lambda x, nan: imgfilter.gaussian(x, 1.5, nan=nan)),
    "median": (["median", "--size", "3"], lambda x, nan: imgfilter.median(x, 3, nan=nan)),
    "bilateral": (
        ["bilateral", "--diameter", "5", "--sigma-color", "0.3", "--sigma-space", "2"],
        lambda x, nan: imgfilter.bilateral(x, 5, 0.3, 2.0, nan=nan),
    ),
    "pool": (["pool", "--size", "3", "--op", "avg"], lambda x, nan: imgfilter.pool(x, 3, op="avg", nan=nan)),
    "pool-max": (["pool", "--size", "2", "--op", "max"], lambda x, nan: imgfilter.pool(x, 2, nan=nan)),
    "conv": (
        ["conv", "--kernel", "1,2,1;2,4,2;1,2,1", "--mode", "constant", "--cval", "0.5"],
        lambda x, nan: imgfilter.correlate(
            x, [[1, 2, 1], [2, 4, 2], [1, 2, 1]], mode="constant", cval=0.5, nan=nan
        ),
    ),
}


@pytest.mark.parametrize("nan", ["ignore", "keep", "propagate"])
@pytest.mark.parametrize("name", list(NAN_COMMANDS))
def test_cli_nan_on_float_tiff_equals_python(tmp_path, float_tif, name, nan):
    path, x = float_tif
    args, fn = NAN_COMMANDS[name]
    out = tmp_path / "out.npy"
    invoke(*args, "--nan", nan, path, out)
    got = np.load(out)
    expected = fn(x, nan)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)
    if nan != "propagate":
        assert np.isfinite(got).any()


def test_cli_nan_ignore_float_tiff_output(tmp_path, float_tif):
    path, x = float_tif
    out = tmp_path / "out.tif"
    invoke("blur", "--nan", "ignore", path, out)
    got = np.asarray(Image.open(out))
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, imgfilter.blur(x, 3, nan="ignore"))


@pytest.fixture(scope="module")
def masked_files(tmp_path_factory):
    """An RGB PNG (not 16x16) and a mask PNG whose non-zero pixels (any value) are valid."""
    rng = np.random.default_rng(41)
    folder = tmp_path_factory.mktemp("mask")
    img = np.asarray(Image.open(SAMPLES / "astronaut.png").convert("RGB"))[60:100, 200:252].copy()
    levels = np.array([0, 0, 1, 7, 255], dtype=np.uint8)
    mask_px = levels[rng.integers(0, len(levels), size=img.shape[:2])]
    mask_px[:6, :6] = 0
    Image.fromarray(img).save(folder / "in.png")
    Image.fromarray(mask_px).save(folder / "mask.png")
    return folder / "in.png", folder / "mask.png", img, mask_px != 0


MASK_COMMANDS = {
    "blur": (["blur", "--size", "5"], lambda x, m: imgfilter.blur(x, 5, mask=m)),
    "gaussian": (["gaussian", "--sigma", "2"], lambda x, m: imgfilter.gaussian(x, 2.0, mask=m)),
    "median": (["median", "--size", "5"], lambda x, m: imgfilter.median(x, 5, mask=m)),
    "bilateral": (
        ["bilateral", "--diameter", "5", "--sigma-color", "30", "--sigma-space", "3"],
        lambda x, m: imgfilter.bilateral(x, 5, 30.0, 3.0, mask=m),
    ),
    "pool": (["pool", "--size", "2", "--op", "min"], lambda x, m: imgfilter.pool(x, 2, op="min", mask=m)),
    "conv": (
        ["conv", "--kernel", "1,1,1;1,2,1;1,1,1"],
        lambda x, m: imgfilter.correlate(x, [[1, 1, 1], [1, 2, 1], [1, 1, 1]], mask=m),
    ),
}


@pytest.mark.parametrize("name", list(MASK_COMMANDS))
def test_cli_mask_equals_python_mask(tmp_path, masked_files, name):
    src, mask_path, img, mask = masked_files
    args, fn = MASK_COMMANDS[name]
    out = tmp_path / "out.npy"
    invoke(*args, "--mask", mask_path, src, out)
    expected = fn(img, mask)
    got = np.load(out)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)
    assert not np.array_equal(got, fn(img, None)), "the mask made no difference"


@pytest.fixture(scope="module")
def linear_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("linear")
    rgb = np.asarray(Image.open(SAMPLES / "astronaut.png").convert("RGB"))[:48, :64].copy()
    Image.fromarray(rgb).save(folder / "rgb.png")
    rng = np.random.default_rng(51)
    g16 = rng.integers(0, 65536, size=(32, 40)).astype(np.uint16)
    Image.fromarray(g16).save(folder / "g16.png")
    assert np.array_equal(np.asarray(Image.open(folder / "g16.png")).astype(np.uint16), g16)
    return {"rgb.png": rgb, "g16.png": g16}, folder


LINEAR_COMMANDS = {
    "blur": (
        ["blur", "--size", "4", "--mode", "wrap"],
        lambda x: imgfilter.blur(x, 4, mode="wrap", linear=True),
    ),
    "gaussian": (["gaussian", "--sigma", "1.5"], lambda x: imgfilter.gaussian(x, 1.5, linear=True)),
    "bilateral": (
        ["bilateral", "--diameter", "5", "--sigma-color", "40", "--sigma-space", "3"],
        lambda x: imgfilter.bilateral(x, 5, 40.0, 3.0, linear=True),
    ),
    "pool": (["pool", "--size", "2", "--op", "avg"], lambda x: imgfilter.pool(x, 2, op="avg", linear=True)),
    "shift": (
        ["shift", "--dx", "0.5", "--dy", "-0.25", "--mode", "edge"],
        lambda x: imgfilter.shift(x, 0.5, -0.25, mode="edge", linear=True),
    ),
}


@pytest.mark.parametrize("source", ["rgb.png", "g16.png"])
@pytest.mark.parametrize("name", list(LINEAR_COMMANDS))
def test_cli_linear_equals_python_linear(tmp_path, linear_files, name, source):
    arrays, folder = linear_files
    args, fn = LINEAR_COMMANDS[name]
    out = tmp_path / "out.npy"
    res = invoke(*args, "--linear", folder / source, out)
    assert "warning" not in res.stderr
    expected = fn(arrays[source])
    got = np.load(out)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def test_cli_linear_checkerboard_png_is_188(tmp_path):
    Image.fromarray(checkerboard(16, 255, np.uint8)).save(tmp_path / "cb.png")
    invoke("blur", "--size", "2", "--mode", "wrap", "--linear", tmp_path / "cb.png", tmp_path / "o.png")
    assert np.all(np.asarray(Image.open(tmp_path / "o.png")) == 188)
    invoke("blur", "--size", "2", "--mode", "wrap", tmp_path / "cb.png", tmp_path / "p.png")
    assert np.all(np.asarray(Image.open(tmp_path / "p.png")) == 128)


def _profile_bytes(name):
    from PIL import ImageCms

    try:
        return ImageCms.ImageCmsProfile(ImageCms.createProfile(name)).tobytes()
    except Exception as exc:  # pragma: no cover - depends on Pillow's littlecms
        pytest.skip(f"ImageCms cannot create a {name} profile: {exc}")


def test_cli_linear_with_non_srgb_profile_warns_and_still_writes(tmp_path, photo):
    icc = _profile_bytes("LAB")
    img = photo[:32, :40]
    Image.fromarray(img).save(tmp_path / "lab.png", icc_profile=icc)
    out = tmp_path / "out.png"
    res = invoke("blur", "--linear", tmp_path / "lab.png", out)
    assert "warning" in res.stderr.lower()
    assert "srgb" in res.stderr.lower()
    assert "lab.png" in res.stderr
    np.testing.assert_array_equal(np.asarray(Image.open(out)), imgfilter.blur(img, 3, linear=True))
    # No --linear: nothing to warn about.
    res = invoke("blur", tmp_path / "lab.png", tmp_path / "plain.png")
    assert "warning" not in res.stderr.lower()


def test_cli_linear_with_srgb_profile_does_not_warn(tmp_path, photo):
    icc = _profile_bytes("sRGB")
    Image.fromarray(photo[:32, :40]).save(tmp_path / "s.png", icc_profile=icc)
    res = invoke("gaussian", "--linear", tmp_path / "s.png", tmp_path / "o.png")
    assert "warning" not in res.stderr.lower()


@pytest.mark.parametrize("command", ["conv", "blur", "gaussian", "median", "bilateral", "pool"])
def test_cli_bad_nan_value_is_a_usage_error(tmp_path, float_tif, command):
    path, _ = float_tif
    extra = ["--kernel", "1"] if command == "conv" else []
    res = invoke(command, *extra, "--nan", "skip", path, tmp_path / "o.npy", ok=False)
    assert res.exit_code == 2
    assert "--nan" in res.output
    assert not (tmp_path / "o.npy").exists()


def test_cli_nan_and_mask_appear_in_help():
    for command in ("conv", "blur", "gaussian", "median", "bilateral", "pool"):
        text = invoke(command, "--help").output
        assert "--nan" in text and "--mask" in text
    for command in ("blur", "gaussian", "bilateral", "pool", "shift"):
        assert "--linear" in invoke(command, "--help").output


def test_icc_bytes_helper_reads_back():
    """The LAB profile written above is really not sRGB (guards the warning test's premise)."""
    from PIL import ImageCms

    icc = _profile_bytes("LAB")
    desc = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc)))
    assert "srgb" not in desc.lower()


@MORE
@given(
    h=st.integers(1, 14),
    w=st.integers(1, 14),
    k=st.sampled_from([3, 5, 7, 9]),
    density=DENSITIES,
    shared=st.booleans(),
    mode=st.sampled_from(ALL_MODES),
    seed=st.integers(0, 2**32 - 1),
)
def test_median_ignore_on_colour_with_shared_or_per_channel_holes(h, w, k, density, shared, mode, seed):
    """Missing pixels in all channels at once (one weight plane) or per channel, larger windows."""
    rng = np.random.default_rng(seed)
    x = np.round(rng.uniform(-1, 1, (h, w, 3)), 1)
    holes = rng.random((h, w, 1) if shared else (h, w, 3)) < density
    x[np.broadcast_to(holes, x.shape)] = np.nan
    valid = ~np.isnan(x)
    expected = nanmedian_ref(x, valid, k, mode)
    np.testing.assert_array_equal(imgfilter.median(x, k, mode=mode, nan="ignore"), expected)
    # The same holes as a mask on integer codes: where no valid pixel, the pixel keeps its value.
    codes = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    mask = ~holes[..., 0] if shared else None
    if mask is not None:
        ref = nanmedian_ref(codes, np.broadcast_to(mask[..., None], codes.shape), k, mode)
        keep = np.isnan(ref)
        ref[keep] = codes[keep]
        np.testing.assert_array_equal(
            imgfilter.median(codes, k, mode=mode, mask=mask), np.rint(ref).astype(np.uint8)
        )


def test_transparent_windows_give_colour_zero_and_missing_windows_nan():
    """With alpha, a window of valid but fully transparent pixels has no colour
    to average: 0, as without missing pixels; NaN only where nothing is valid."""
    la = np.array([[[np.nan, 1.0], [5.0, 0.0], [np.nan, 1.0]]])
    out = imgfilter.blur(la, 1, nan="ignore", alpha=True)
    assert np.isnan(out[0, 0, 0]) and np.isnan(out[0, 2, 0])
    assert out[0, 1, 0] == 0.0 and out[0, 1, 1] == 0.0
    plain = imgfilter.blur(np.array([[[5.0, 0.0]]]), 1, alpha=True)
    assert plain[0, 0, 0] == 0.0


def test_encode8_lookup_equals_binary_search_around_every_threshold():
    """The 8-bit encode looks codes up by the float's bit pattern; it must give
    exactly the binary search over the code thresholds, for the floats on
    and around every threshold, random ones, and the ends (negatives, -0,
    values above 255, infinities)."""
    thresholds = srgb._tables(256)[1].astype(np.float32)
    bits = thresholds.view(np.uint32).astype(np.int64)
    near = (bits[:, None] + np.arange(-64, 65)).ravel().astype(np.uint32).view(np.float32)
    rng = np.random.default_rng(7)
    every = np.arange(0, 0x43800000, 997, dtype=np.uint32).view(np.float32)  # 0 .. 256, sampled
    x = np.concatenate(
        [
            near,
            every,
            rng.uniform(-10, 300, 500_000).astype(np.float32),
            np.array([-0.0, 0.0, -1e30, 1e30, np.inf, -np.inf, 255.0, 254.99998], dtype=np.float32),
        ]
    )
    expected = np.searchsorted(thresholds, np.clip(x, 0, 255), side="left").astype(np.uint8)
    np.testing.assert_array_equal(srgb.encode(x, np.uint8), expected)
    np.testing.assert_array_equal(srgb.encode(x.reshape(-1, 1, 1)[:1000], np.uint8).ravel(), expected[:1000])


# =================================================================== review regressions


@pytest.mark.parametrize("layout", ["fortran", "column-slice"])
def test_encode_float_fills_a_non_contiguous_out(layout):
    x = np.full((30, 50), 100.0, np.float32)
    expected = srgb.encode_float(x, 255.0)
    if layout == "fortran":
        out = np.full((30, 50), np.nan, np.float32, order="F")
    else:
        out = np.full((30, 80), np.nan, np.float32)[:, :50]
    assert srgb.encode_float(x, 255.0, out=out) is out
    np.testing.assert_array_equal(out, expected)
    # In place on a Fortran-ordered array.
    f = np.asfortranarray(x.copy())
    srgb.encode_float(f, 255.0, out=f)
    np.testing.assert_array_equal(f, expected)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_encode_keeps_a_zero_dimensional_shape(dtype):
    got = srgb.encode(np.float32(3.0), dtype)
    assert got.shape == () and got.dtype == np.dtype(dtype)
    assert got == srgb.encode(np.array([3.0], np.float32), dtype)[0]


def test_masked_median_propagates_nan_of_valid_pixels_everywhere():
    """With mask= and nan="propagate", a NaN in a valid pixel makes every
    window that holds it NaN, near a masked pixel or not; other windows are
    the median of their valid values."""
    x = np.arange(1.0, 50.0).reshape(7, 7)
    x[1, 1] = x[5, 5] = np.nan
    mask = np.ones((7, 7), bool)
    mask[1, 2] = False  # next to the first NaN only
    got = imgfilter.median(x, 3, mask=mask)
    poisoned = ndi.maximum_filter(np.isnan(x).astype(np.uint8), 3, mode="mirror") > 0
    np.testing.assert_array_equal(np.isnan(got), poisoned)
    ref = nanmedian_ref(np.nan_to_num(x), mask, 3, "reflect")
    np.testing.assert_array_equal(got[~poisoned], ref[~poisoned])


@pytest.mark.parametrize("dtype", [np.int64, np.uint64])
def test_masked_median_is_exact_for_64_bit_integers(dtype):
    x = np.full((20, 20), 2**60 + 1, dtype)
    x[5:9, 5:9] = 2**60 + 4
    mask = np.ones((20, 20), bool)
    mask[0, 0] = mask[6, 6] = False
    got = imgfilter.median(x, 3, mask=mask)
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got[12:, 12:], x[12:, 12:])  # far from the mask: exact
    # A window of 4 valid 2**60 + 1 and 4 of 2**60 + 4: their mean 2**60 + 2.5
    # rounds half to even, to 2**60 + 2, exactly (float64 cannot tell these apart).
    lo = imgfilter.median(
        np.array([[1, 1, 1], [1, 0, 4], [4, 4, 4]], dtype) + dtype(2**60),
        3,
        mask=np.array([[1, 1, 1], [1, 0, 1], [1, 1, 1]], bool),
        mode="constant",
    )
    assert lo[1, 1] == dtype(2**60 + 2)


def test_median_ignore_with_opposite_infinities_warns_nothing():
    x = np.full((3, 3), np.nan)
    x[1, 1], x[1, 2] = -np.inf, np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = imgfilter.median(x, 3, nan="ignore", mode="edge")
    assert np.isnan(out[1, 1])  # the mean of -inf and +inf, as numpy.nanmedian


@pytest.mark.parametrize("kw", [{}, {"mask": np.ones((64, 64), bool)}, {"linear": True}])
def test_average_pool_of_a_large_16_bit_window_stays_within_its_values(kw):
    """65535 x 4096 exceeds float32's exact integers: the sums go to float64."""
    x = np.full((64, 64), 65535, np.uint16)
    x[::2] = 65534
    got = imgfilter.pool(x, 64, op="avg", **kw)
    assert got.dtype == np.float32 and got.max() <= 65535
    if "linear" not in kw:
        np.testing.assert_array_equal(got, [[65534.5]])


@given(
    h=st.integers(1, 9),
    w=st.integers(1, 9),
    channels=st.integers(2, 4),
    density=st.sampled_from([0.0, 0.1, 0.5, 1.0]),
    spoil=st.booleans(),
    contiguous=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_same_in_every_channel_decides_like_a_comparison(h, w, channels, density, spoil, contiguous, seed):
    """The shared-weight-plane test (contiguous: neighbouring bytes; else
    plane counts) against comparing every channel with the first."""
    from imgfilter.core.masked import same_in_every_channel

    rng = np.random.default_rng(seed)
    plane = rng.random((h, w)) >= density
    weight = np.repeat(plane[..., None], channels, axis=-1)
    if spoil:
        weight[rng.integers(h), rng.integers(w), rng.integers(channels)] ^= True
    if not contiguous:
        weight = np.concatenate([weight, weight], axis=1)[:, ::2]
    expected = bool(np.all(weight == weight[..., :1]))
    assert same_in_every_channel(weight) == expected


@pytest.mark.parametrize(
    "run",
    [
        lambda x: imgfilter.blur(x, 1, mode="edge", alpha=True),
        lambda x: imgfilter.blur(x, 3, mode="reflect", alpha=True),
        lambda x: imgfilter.gaussian(x, 0.8, alpha=True),
        lambda x: imgfilter.shift(x, 0.5, 0.25, mode="edge", alpha=True),
    ],
)
def test_premultiplied_smoothing_propagates_nan_colour_like_an_opaque_image(run):
    """nan="propagate" with alpha: a NaN colour under a visible pixel spreads to
    its windows whether or not some other pixel is transparent (the image, or
    a Dask chunk, being fully opaque takes a shortcut); a window with no
    visible pixel has colour 0."""
    rng = np.random.default_rng(15)
    colour = rng.uniform(-100, 100, (12, 10)).astype(np.float32)
    colour[4, 4] = np.nan
    opaque = np.dstack([colour, np.ones_like(colour)])
    partly = opaque.copy()
    partly[10:, 7:, 1] = 0.0  # transparent corner, away from the NaN
    want = run(opaque)
    got = run(partly)
    assert np.isnan(want[4, 4, 0])
    np.testing.assert_array_equal(np.isnan(got[..., 0]), np.isnan(want[..., 0]))
    clear = np.dstack([colour, np.zeros_like(colour)])
    assert np.all(run(clear)[..., 0] == 0)


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pool_avg_ignore_gives_the_plain_mean_where_nothing_is_missing(photo, padding, dtype):
    """Windows without holes get the plain pool's value bit for bit (the same
    sums in the same order); windows with holes the mean of what is left."""
    x = photo[:101, :67].astype(dtype)
    rng = np.random.default_rng(21)
    holes = rng.random(x.shape[:2]) < 0.05
    y = x.copy()
    y[holes] = np.nan
    got = imgfilter.pool(y, 3, stride=2, op="avg", padding=padding, nan="ignore")
    plain = imgfilter.pool(x, 3, stride=2, op="avg", padding=padding)
    touched = imgfilter.pool(holes.astype(np.uint8), 3, stride=2, op="max", padding=padding) > 0
    assert touched.any() and (~touched).any()
    np.testing.assert_array_equal(got[~touched], plain[~touched])
    ref = pool_ref(y, ~np.isnan(y), (3, 3), (2, 2), padding, "avg")
    np.testing.assert_allclose(got, ref, rtol=64 * float(np.finfo(dtype).eps))
