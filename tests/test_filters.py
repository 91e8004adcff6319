"""Filters against independent oracles (scipy.ndimage, OpenCV, numpy).

Every expected value here comes from an oracle that shares no code with
imgfilter: scipy.ndimage for median/blur/gaussian/shift/correlation, OpenCV
for Sobel and the bilateral filter, numpy (np.pad, np.roll, plain loops) for
border handling, whole-pixel shifts and the alpha rules. For medians with a
window reaching a whole image length past the border, scipy 1.17 itself is
wrong (see ``pad_median``), so np.pad + sorting is the oracle there.

Integer results of float computations are checked with one principled rule
(``assert_rounded``): the result must equal the float64 oracle rounded to
nearest and clipped, except where the oracle lies within a small band of a
.5 tie (the library computes in float32, so it may round either way there),
where it must still be within 0.5 + band of the oracle.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import scipy.ndimage as ndi
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import imgfilter
from imgfilter.core.names import SCIPY_MODE
from imgfilter.kernels import KERNELS

MODES = ("constant", "edge", "reflect", "symmetric", "wrap")

# Our own (independent) translation of numpy.pad's border names, checked
# against np.pad itself in test_mode_tables_agree_with_np_pad.
SCIPY_FILTER_MODE = {
    "constant": "constant",
    "edge": "nearest",
    "reflect": "mirror",
    "symmetric": "reflect",
    "wrap": "wrap",
}
SCIPY_SHIFT_MODE = {
    "constant": "grid-constant",
    "edge": "nearest",
    "reflect": "mirror",
    "symmetric": "reflect",
    "wrap": "grid-wrap",
}
CV2_BORDER = {
    "constant": cv2.BORDER_CONSTANT,
    "edge": cv2.BORDER_REPLICATE,
    "reflect": cv2.BORDER_REFLECT_101,
    "symmetric": cv2.BORDER_REFLECT,
}

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample_images"
SAMPLE_NAMES = sorted(p.name for p in SAMPLE_DIR.iterdir() if p.suffix in (".png", ".jpg"))

F32_EPS = 2.0**-24


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def centre_crop(img: np.ndarray, size: int = 192) -> np.ndarray:
    h, w = img.shape[:2]
    y0, x0 = max((h - size) // 2, 0), max((w - size) // 2, 0)
    return img[y0 : y0 + size, x0 : x0 + size]


def spatial(img: np.ndarray, *values):
    """Per-axis parameter for scipy: ``values`` on H and W, nothing on channels."""
    return tuple(values) + (0,) * (img.ndim - 2)


def window(img: np.ndarray, *values):
    """Per-axis window size for scipy: ``values`` on H and W, 1 on channels."""
    return tuple(values) + (1,) * (img.ndim - 2)


def tie_band(dtype) -> float:
    """Half-width of the band around .5 ties where float32 rounding may go either way.

    1e-3 for 8-bit data (as in the brief); for wider integers 16 float32 ulps
    of full scale, since the library documents float32 working precision.
    """
    info = np.iinfo(dtype)
    return max(1e-3, 16 * F32_EPS * float(info.max))


def assert_rounded(result: np.ndarray, oracle: np.ndarray, dtype) -> None:
    """Integer ``result`` is the float64 ``oracle`` rounded to nearest and clipped."""
    dtype = np.dtype(dtype)
    assert result.dtype == dtype
    assert result.shape == oracle.shape
    info = np.iinfo(dtype)
    band = tie_band(dtype)
    oracle = np.asarray(oracle, dtype=np.float64)
    expected = np.clip(np.rint(oracle), info.min, info.max)
    near_tie = np.abs(oracle - np.floor(oracle) - 0.5) <= band
    res = result.astype(np.float64)
    exact = ~near_tie
    bad = exact & (res != expected)
    assert not bad.any(), (
        f"{int(bad.sum())} pixels not rounded to nearest, e.g. at {np.argwhere(bad)[0].tolist()}: "
        f"result {res[bad][0]}, oracle {oracle[bad][0]!r}"
    )
    clipped = np.clip(oracle, info.min, info.max)
    off = np.abs(res - clipped) > 0.5 + band
    assert not off.any(), f"near-tie pixels off by more than 0.5: {res[off][:5]} vs {oracle[off][:5]}"


def value_scale(*arrays) -> float:
    return max([1.0] + [float(np.max(np.abs(np.asarray(a, dtype=np.float64)))) for a in arrays])


def assert_float_close(result: np.ndarray, oracle: np.ndarray, scale: float, dtype=None) -> None:
    """Float result vs float64 oracle: 1e-5 of the value range (1e-9 for float64)."""
    dtype = np.dtype(dtype or result.dtype)
    tol = 1e-9 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(result.astype(np.float64), oracle, rtol=tol, atol=tol * scale)


def assert_matches(result, oracle, image, extra_scale: float = 0.0) -> None:
    """Result of a smoothing/moving filter vs its float64 oracle, by the input's dtype."""
    assert result.dtype == image.dtype
    assert result.shape == oracle.shape
    if image.dtype.kind in "iu":
        assert_rounded(result, oracle, image.dtype)
    else:
        assert_float_close(result, oracle, max(value_scale(image), extra_scale), image.dtype)


def pad_shift(img: np.ndarray, dx: int, dy: int, mode: str, cval=0) -> np.ndarray:
    """Whole-pixel shift by slicing an np.pad'ed image: out[y, x] = in[y - dy, x - dx]."""
    h, w = img.shape[:2]
    py, px = abs(dy), abs(dx)
    pads = [(py, py), (px, px)] + [(0, 0)] * (img.ndim - 2)
    if mode == "constant":
        padded = np.pad(img, pads, mode="constant", constant_values=cval)
    else:
        padded = np.pad(img, pads, mode=mode)
    return padded[py - dy : py - dy + h, px - dx : px - dx + w]


def pad_correlate(img: np.ndarray, kernel: np.ndarray, pads, mode: str) -> np.ndarray:
    """Correlation by np.pad + sliding windows (the padding/'valid'/'full' oracle)."""
    x = img.astype(np.float64)
    widths = [tuple(p) for p in pads] + [(0, 0)] * (x.ndim - 2)
    padded = np.pad(x, widths, mode=mode)
    kh, kw = kernel.shape
    win = np.lib.stride_tricks.sliding_window_view(padded, (kh, kw), axis=(0, 1))
    return np.einsum("...ij,ij->...", win, kernel)


def pad_median(img: np.ndarray, size: int, mode: str) -> np.ndarray:
    """Median over size x size windows of the np.pad'ed image (per channel).

    The oracle for windows larger than the image: scipy 1.17's median_filter
    returns wrong values (even uninitialised memory, e.g. 1.6e-322 for
    ``median_filter(np.array([1.0, 0.0]), 17, mode="reflect")``) once the
    window reaches a whole image length beyond the border in its "mirror" and
    "reflect" modes. An odd window's median is its middle sorted value, so
    this is exact for every dtype (float16 is sorted as float32, exactly).
    """
    r = size // 2
    src = img.astype(np.float32) if img.dtype == F16 else img
    padded = np.pad(src, [(r, r), (r, r)] + [(0, 0)] * (img.ndim - 2), mode=mode)
    win = np.lib.stride_tricks.sliding_window_view(padded, (size, size), axis=(0, 1))
    flat = win.reshape(*win.shape[:-2], size * size)
    return np.sort(flat, axis=-1)[..., size * size // 2].astype(img.dtype)


def cv2_bilateral(img: np.ndarray, d: int, sc: float, ss: float, mode: str) -> np.ndarray:
    """OpenCV's bilateral filter with the border mode given by np.pad (reflect: native)."""
    if mode == "reflect":
        return cv2.bilateralFilter(img, d, sc, ss, borderType=cv2.BORDER_REFLECT_101)
    r = d // 2 + 1 if d > 0 else int(1.5 * ss) + 2  # at least OpenCV's radius
    pads = [(r, r), (r, r)] + [(0, 0)] * (img.ndim - 2)
    padded = np.pad(img, pads, mode=mode)
    return cv2.bilateralFilter(padded, d, sc, ss)[r:-r, r:-r]


def bilateral_reference(img, d, sc, ss, mode, alpha=False):
    """Plain-numpy bilateral filter following OpenCV's definition (float64).

    With ``alpha`` the last channel is alpha: colour is weighted by it
    (premultiplied) and the range distance uses colour only, as the library
    documents. Returns (colour/values, alpha or None) as float64.
    """
    x = img.astype(np.float64)
    if x.ndim == 2:
        x = x[..., None]
    amax = float(np.iinfo(img.dtype).max) if img.dtype.kind in "iu" else 1.0
    r = d // 2 if d > 0 else round(1.5 * ss)
    r = max(r, 1)
    h, w = x.shape[:2]
    padded = np.pad(x, ((r, r), (r, r), (0, 0)), mode=mode)
    col = x[..., :-1] if alpha else x
    num = np.zeros(col.shape)
    den = np.zeros((h, w))
    aden = np.zeros((h, w))
    for i in range(-r, r + 1):
        for j in range(-r, r + 1):
            if np.sqrt(i * i + j * j) > r:
                continue
            v = padded[r + i : r + i + h, r + j : r + j + w]
            vc = v[..., :-1] if alpha else v
            diff = np.abs(vc - col).sum(axis=-1)
            wgt = np.exp(-(i * i + j * j) / (2 * ss * ss)) * np.exp(-diff * diff / (2 * sc * sc))
            den += wgt
            if alpha:
                wa = wgt * v[..., -1] / amax
                aden += wa
                num += vc * wa[..., None]
            else:
                num += vc * wgt[..., None]
    if alpha:
        colour = np.divide(num, aden[..., None], out=np.zeros_like(num), where=aden[..., None] > 0)
        return colour, aden / den * amax
    out = num / den[..., None]
    return (out[..., 0] if img.ndim == 2 else out), None


# --------------------------------------------------------------------------
# hypothesis strategies
# --------------------------------------------------------------------------

U8, U16, F16, F32, F64 = (np.dtype(t) for t in ("uint8", "uint16", "float16", "float32", "float64"))


def elements_for(dtype: np.dtype):
    if dtype.kind == "u":
        return st.integers(0, int(np.iinfo(dtype).max))
    width = dtype.itemsize * 8
    return st.floats(-1000, 1000, width=width, allow_nan=False, allow_infinity=False)


@st.composite
def images(draw, dtypes=(U8, U16, F32, F64), max_side=12, channels=(None, 1, 2, 3, 4)):
    dtype = draw(st.sampled_from(dtypes))
    h = draw(st.integers(1, max_side))
    w = draw(st.integers(1, max_side))
    c = draw(st.sampled_from(channels))
    shape = (h, w) if c is None else (h, w, c)
    return draw(hnp.arrays(dtype, shape, elements=elements_for(dtype)))


modes = st.sampled_from(MODES)


# --------------------------------------------------------------------------
# 0. the oracles' own border tables
# --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("n", [1, 2, 3, 7])
def test_mode_tables_agree_with_np_pad(mode, n):
    """scipy's modes under our translation extend a line exactly as np.pad does."""
    x = np.arange(1.0, n + 1.0)
    p = 2 * n + 3  # extensions longer than the line
    padded = np.pad(x, p, mode=mode)
    for t in range(2 * p + 1):
        weights = np.zeros(2 * p + 1)
        weights[t] = 1.0
        got = ndi.correlate1d(x, weights, mode=SCIPY_FILTER_MODE[mode], cval=0.0)
        np.testing.assert_array_equal(got, padded[t : t + n])
    assert SCIPY_MODE == SCIPY_FILTER_MODE


# --------------------------------------------------------------------------
# 1. every filter vs its oracle on the sample photos, in every border mode
# --------------------------------------------------------------------------

sample_params = pytest.mark.parametrize("name", SAMPLE_NAMES)
mode_params = pytest.mark.parametrize("mode", MODES)


@sample_params
@mode_params
@pytest.mark.parametrize("size", [3, 5])
def test_median_photos(samples, name, mode, size):
    img = centre_crop(samples[name], 160)
    ref = ndi.median_filter(img, size=window(img, size, size), mode=SCIPY_FILTER_MODE[mode])
    res = imgfilter.median(img, size, mode=mode)
    assert res.dtype == img.dtype
    np.testing.assert_array_equal(res, ref)


@sample_params
@mode_params
@pytest.mark.parametrize("size", [3, 4, (5, 2)])
def test_blur_photos(samples, name, mode, size):
    img = centre_crop(samples[name], 256)
    sh, sw = (size, size) if isinstance(size, int) else size
    ref = ndi.uniform_filter(img.astype(np.float64), size=window(img, sh, sw), mode=SCIPY_FILTER_MODE[mode])
    assert_matches(imgfilter.blur(img, size, mode=mode), ref, img)


@sample_params
@mode_params
@pytest.mark.parametrize(("sigma", "truncate"), [(1.0, 4.0), (2.5, 3.0), ((0.7, 1.8), 4.0)])
def test_gaussian_photos(samples, name, mode, sigma, truncate):
    img = centre_crop(samples[name], 256)
    sy, sx = (sigma, sigma) if np.isscalar(sigma) else sigma
    ref = ndi.gaussian_filter(
        img.astype(np.float64), sigma=spatial(img, sy, sx), mode=SCIPY_FILTER_MODE[mode], truncate=truncate
    )
    assert_matches(imgfilter.gaussian(img, sigma, mode=mode, truncate=truncate), ref, img)


@sample_params
@mode_params
@pytest.mark.parametrize(("dx", "dy"), [(3, -2), (-7, 0), (0, 5), (300, -1)])
def test_shift_whole_photos(samples, name, mode, dx, dy):
    img = centre_crop(samples[name], 256)
    res = imgfilter.shift(img, dx, dy, mode=mode, cval=17)
    assert res.dtype == img.dtype
    np.testing.assert_array_equal(res, pad_shift(img, dx, dy, mode, cval=17))
    if mode == "wrap":
        np.testing.assert_array_equal(res, np.roll(img, (dy, dx), axis=(0, 1)))


@sample_params
@mode_params
@pytest.mark.parametrize(("dx", "dy"), [(1.25, -0.5), (-2.75, 3.0), (0.0, -10.375)])
def test_shift_fractional_photos(samples, name, mode, dx, dy):
    img = centre_crop(samples[name], 256)
    ref = ndi.shift(
        img.astype(np.float64),
        spatial(img, dy, dx),
        order=1,
        mode=SCIPY_SHIFT_MODE[mode],
        cval=17.0,
        prefilter=False,
    )
    assert_matches(imgfilter.shift(img, dx, dy, mode=mode, cval=17), ref, img)


@sample_params
@mode_params
def test_bilateral_photos(samples, name, mode):
    img = centre_crop(samples[name], 128)
    res = imgfilter.bilateral(img, 9, 75.0, 75.0, mode=mode)
    ref = cv2_bilateral(img, 9, 75.0, 75.0, mode)
    assert res.dtype == img.dtype
    assert np.abs(res.astype(int) - ref.astype(int)).max() <= 1


@pytest.mark.parametrize(("d", "sc", "ss"), [(5, 20.0, 5.0), (0, 40.0, 2.0), (4, 150.0, 3.0), (1, 10.0, 1.0)])
@pytest.mark.parametrize("name", ["camera.png", "coffee.png"])
def test_bilateral_parameters_vs_cv2(samples, name, d, sc, ss):
    img = centre_crop(samples[name], 128)
    res = imgfilter.bilateral(img, d, sc, ss)
    ref = cv2.bilateralFilter(img, d, sc, ss, borderType=cv2.BORDER_REFLECT_101)
    assert np.abs(res.astype(int) - ref.astype(int)).max() <= 1


def test_bilateral_default_border_is_reflect101(photo):
    img = centre_crop(photo, 128)
    res = imgfilter.bilateral(img)
    ref = cv2.bilateralFilter(img, 9, 75.0, 75.0)
    assert np.abs(res.astype(int) - ref.astype(int)).max() <= 1


@sample_params
@mode_params
@pytest.mark.parametrize("direction", ["vertical", "horizontal"])
def test_edges_photos(samples, name, mode, direction):
    img = centre_crop(samples[name], 256)
    k = KERNELS[direction]
    kernel = k if img.ndim == 2 else k[..., None]
    ref = ndi.correlate(img.astype(np.float64), kernel, mode=SCIPY_FILTER_MODE[mode])
    res = imgfilter.edges(img, direction, mode=mode)
    assert res.dtype == np.float32
    assert_float_close(res, ref, 255 * np.abs(k).sum())


def cv2_sobel(img: np.ndarray, dx: int, dy: int, mode: str) -> np.ndarray:
    if mode in CV2_BORDER:
        return cv2.Sobel(img, cv2.CV_64F, dx, dy, ksize=3, borderType=CV2_BORDER[mode])
    # OpenCV filters have no BORDER_WRAP: pad with np.pad and keep the inside.
    pads = [(1, 1), (1, 1)] + [(0, 0)] * (img.ndim - 2)
    return cv2.Sobel(np.pad(img, pads, mode=mode), cv2.CV_64F, dx, dy, ksize=3)[1:-1, 1:-1]


@sample_params
@mode_params
def test_sobel_photos_vs_cv2(samples, name, mode):
    img = centre_crop(samples[name], 256)
    gx = cv2_sobel(img, 1, 0, mode)
    gy = cv2_sobel(img, 0, 1, mode)
    scale = 255 * 8.0
    x = imgfilter.sobel(img, output="x", mode=mode)
    y = imgfilter.sobel(img, output="y", mode=mode)
    mag = imgfilter.sobel(img, output="magnitude", mode=mode)
    assert x.dtype == y.dtype == mag.dtype == np.float32
    assert_float_close(x, gx, scale)
    assert_float_close(y, gy, scale)
    assert_float_close(mag, np.sqrt(gx * gx + gy * gy), scale)


# --------------------------------------------------------------------------
# 1b. property tests: shapes (1x1, 1xN, Nx1, windows > image), dtypes, params
# --------------------------------------------------------------------------


@given(
    img=images(dtypes=(U8, U16, F16, F32, F64)),
    half=st.integers(0, 13),
    mode=modes,
)
def test_median_property(img, half, mode):
    size = 2 * half + 1
    res = imgfilter.median(img, size, mode=mode, alpha=False)
    assert res.dtype == img.dtype
    np.testing.assert_array_equal(res, pad_median(img, size, mode))
    if size // 2 < min(img.shape[:2]):
        # scipy.ndimage.median_filter is only trustworthy while the window's
        # reach stays below the image size (see pad_median); it has no float16.
        src = img.astype(np.float32) if img.dtype == F16 else img
        ref = ndi.median_filter(src, size=window(img, size, size), mode=SCIPY_FILTER_MODE[mode])
        np.testing.assert_array_equal(res, ref.astype(img.dtype))


@given(
    img=images(),
    size=st.one_of(st.integers(1, 26), st.tuples(st.integers(1, 26), st.integers(1, 26))),
    mode=modes,
)
def test_blur_property(img, size, mode):
    sh, sw = (size, size) if isinstance(size, int) else size
    ref = ndi.uniform_filter(img.astype(np.float64), size=window(img, sh, sw), mode=SCIPY_FILTER_MODE[mode])
    assert_matches(imgfilter.blur(img, size, mode=mode, alpha=False), ref, img)


@given(
    img=images(),
    sy=st.floats(0.2, 6.0),
    sx=st.floats(0.2, 6.0),
    same=st.booleans(),
    truncate=st.floats(0.5, 4.5),
    mode=modes,
)
def test_gaussian_property(img, sy, sx, same, truncate, mode):
    sigma = sy if same else (sy, sx)
    if same:
        sx = sy
    ref = ndi.gaussian_filter(
        img.astype(np.float64), sigma=spatial(img, sy, sx), mode=SCIPY_FILTER_MODE[mode], truncate=truncate
    )
    assert_matches(imgfilter.gaussian(img, sigma, mode=mode, truncate=truncate, alpha=False), ref, img)


def cval_for(img: np.ndarray, data) -> float:
    if img.dtype.kind == "u":
        return data.draw(st.integers(0, int(np.iinfo(img.dtype).max)), label="cval")
    return data.draw(st.floats(-1000, 1000), label="cval")


@given(img=images(), dx=st.integers(-15, 15), dy=st.integers(-15, 15), mode=modes, data=st.data())
def test_shift_whole_property(img, dx, dy, mode, data):
    cval = cval_for(img, data)
    res = imgfilter.shift(img, dx, dy, mode=mode, cval=cval, alpha=False)
    assert res.dtype == img.dtype
    np.testing.assert_array_equal(res, pad_shift(img, dx, dy, mode, cval=img.dtype.type(cval)))
    if mode == "wrap":
        np.testing.assert_array_equal(res, np.roll(img, (dy, dx), axis=(0, 1)))


@given(
    img=images(),
    dx=st.floats(-15, 15, allow_subnormal=False),
    dy=st.floats(-15, 15, allow_subnormal=False),
    mode=modes,
    data=st.data(),
)
def test_shift_fractional_property(img, dx, dy, mode, data):
    cval = cval_for(img, data)
    cval = float(img.dtype.type(cval))
    ref = ndi.shift(
        img.astype(np.float64),
        spatial(img, dy, dx),
        order=1,
        mode=SCIPY_SHIFT_MODE[mode],
        cval=cval,
        prefilter=False,
    )
    res = imgfilter.shift(img, dx, dy, mode=mode, cval=cval, alpha=False)
    assert_matches(res, ref, img, extra_scale=abs(cval))


@given(
    img=images(dtypes=(U8,), max_side=9, channels=(None, 3)),
    d=st.integers(0, 7),
    sc=st.floats(1.0, 200.0),
    ss=st.floats(0.5, 4.0),
    mode=modes,
)
def test_bilateral_property_vs_cv2(img, d, sc, ss, mode):
    res = imgfilter.bilateral(img, d, sc, ss, mode=mode)
    ref = cv2_bilateral(img, d, sc, ss, mode)
    assert res.dtype == img.dtype
    assert np.abs(res.astype(int) - ref.astype(int)).max() <= 1


@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (9, 1), (1, 1, 3), (1, 7, 3), (6, 1, 3)])
@pytest.mark.parametrize("mode", MODES)
def test_degenerate_shapes_large_windows(shape, mode):
    """1x1, 1xN and Nx1 images with windows far larger than the image."""
    rng = np.random.default_rng(sum(shape))
    img = rng.integers(0, 256, size=shape, dtype=np.uint8)
    x = img.astype(np.float64)
    sm = SCIPY_FILTER_MODE[mode]
    np.testing.assert_array_equal(imgfilter.median(img, 21, mode=mode), pad_median(img, 21, mode))
    assert_matches(
        imgfilter.blur(img, 20, mode=mode), ndi.uniform_filter(x, window(img, 20, 20), mode=sm), img
    )
    assert_matches(
        imgfilter.gaussian(img, 4.0, mode=mode), ndi.gaussian_filter(x, spatial(img, 4.0, 4.0), mode=sm), img
    )
    np.testing.assert_array_equal(imgfilter.shift(img, 12, -11, mode=mode), pad_shift(img, 12, -11, mode))
    ref = ndi.shift(x, spatial(img, 2.5, -3.25), order=1, mode=SCIPY_SHIFT_MODE[mode], prefilter=False)
    assert_matches(imgfilter.shift(img, -3.25, 2.5, mode=mode), ref, img)
    k = KERNELS["laplacian"]
    ref = ndi.correlate(x, k if img.ndim == 2 else k[..., None], mode=sm)
    assert_float_close(imgfilter.edges(img, "laplacian", mode=mode), ref, 255 * 8)
    ref = bilateral_reference(img, 9, 50.0, 3.0, mode)[0]
    assert np.abs(imgfilter.bilateral(img, 9, 50.0, 3.0, mode=mode) - ref).max() <= 1


# --------------------------------------------------------------------------
# 2. edge filters: textbook example, named kernels, Sobel outputs
# --------------------------------------------------------------------------


def test_edges_textbook_example():
    img = np.zeros((6, 6))
    img[:, :3] = 10
    res = imgfilter.edges(img, padding="valid")
    np.testing.assert_array_equal(res, np.tile([0.0, 30.0, 30.0, 0.0], (4, 1)))
    np.testing.assert_array_equal(imgfilter.edges(img.T, "horizontal", padding="valid"), res.T)
    # dark-to-bright gives negative values
    np.testing.assert_array_equal(imgfilter.edges(img[:, ::-1], padding="valid"), -res)


def test_named_kernel_definitions():
    np.testing.assert_array_equal(KERNELS["vertical"], [[1, 0, -1]] * 3)
    np.testing.assert_array_equal(KERNELS["horizontal"], np.array([[1, 0, -1]] * 3).T)
    np.testing.assert_array_equal(KERNELS["sobel_x"], [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    np.testing.assert_array_equal(KERNELS["sobel_y"], np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]).T)


@pytest.mark.parametrize("direction", sorted(KERNELS))
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", ["camera.png", "chelsea.png"])
def test_edges_named_kernels(samples, name, direction, mode):
    img = centre_crop(samples[name], 64)
    k = KERNELS[direction]
    ref = ndi.correlate(
        img.astype(np.float64), k if img.ndim == 2 else k[..., None], mode=SCIPY_FILTER_MODE[mode]
    )
    res = imgfilter.edges(img, direction=direction, mode=mode)
    assert res.dtype == np.float32
    assert res.shape == img.shape
    assert_float_close(res, ref, 255 * np.abs(k).sum())


@pytest.mark.parametrize("padding", ["valid", "full", 2, [(0, 3), 1]])
@pytest.mark.parametrize("direction", ["vertical", "horizontal", "roberts_x", "laplacian"])
@pytest.mark.parametrize("mode", MODES)
def test_edges_padding(padding, direction, mode):
    rng = np.random.default_rng(5)
    img = rng.random((7, 9, 3))
    k = KERNELS[direction]
    kh, kw = k.shape
    if padding == "valid":
        pads = [(0, 0), (0, 0)]
    elif padding == "full":
        pads = [(kh - 1, kh - 1), (kw - 1, kw - 1)]
    elif isinstance(padding, int):
        pads = [(padding, padding)] * 2
    else:
        pads = [p if isinstance(p, tuple) else (p, p) for p in padding]
    ref = pad_correlate(img, k, pads, mode)
    res = imgfilter.edges(img, direction, padding=padding, mode=mode, alpha=False)
    assert res.dtype == np.float64
    assert res.shape == ref.shape
    np.testing.assert_allclose(res, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_sobel_magnitude_angle_vs_numpy(samples, name):
    img = centre_crop(samples[name], 256)
    x = imgfilter.sobel(img, output="x").astype(np.float64)
    y = imgfilter.sobel(img, output="y").astype(np.float64)
    mag = imgfilter.sobel(img, output="magnitude")
    ang = imgfilter.sobel(img, output="angle")
    assert mag.dtype == ang.dtype == np.float32
    np.testing.assert_allclose(mag, np.sqrt(x * x + y * y), rtol=1e-6, atol=1e-4)
    flat_x, flat_y = x.reshape(x.shape[0], -1), y.reshape(y.shape[0], -1)
    np.testing.assert_allclose(mag, cv2.magnitude(flat_x, flat_y).reshape(x.shape), rtol=1e-6, atol=1e-4)
    ref = np.arctan2(y, x)
    # compare on the circle so that pi and -pi count as equal
    np.testing.assert_allclose(np.angle(np.exp(1j * (ang - ref))), 0, atol=1e-5)
    assert np.all(ang > -np.pi) and np.all(ang <= np.pi + 1e-6)
    # where the gradient is well defined, OpenCV's phase agrees (degrees, 0..360)
    strong = mag > 4
    phase = np.deg2rad(cv2.phase(flat_x, flat_y, angleInDegrees=True)).reshape(x.shape)
    diff = np.angle(np.exp(1j * (ang.astype(np.float64) - phase)))
    assert np.abs(diff[strong]).max() < 0.01


def test_sobel_textbook_ramp():
    ramp = np.tile(np.arange(6.0), (5, 1))
    ref = cv2.Sobel(ramp, cv2.CV_64F, 1, 0, ksize=3, borderType=cv2.BORDER_REFLECT_101)
    np.testing.assert_array_equal(imgfilter.sobel(ramp, output="x"), ref)
    np.testing.assert_array_equal(imgfilter.sobel(ramp, output="y"), np.zeros_like(ramp))
    np.testing.assert_array_equal(imgfilter.sobel(ramp.T, output="y"), ref.T)


@given(img=images(dtypes=(U8, F32, F64), channels=(None, 1, 3)), mode=modes)
def test_sobel_property(img, mode):
    x64 = img.astype(np.float64)
    k = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    kx = k if img.ndim == 2 else k[..., None]
    ky = k.T if img.ndim == 2 else k.T[..., None]
    gx = ndi.correlate(x64, kx, mode=SCIPY_FILTER_MODE[mode])
    gy = ndi.correlate(x64, ky, mode=SCIPY_FILTER_MODE[mode])
    out_dtype = np.float64 if img.dtype == F64 else np.float32
    scale = 8 * value_scale(img)
    for output, ref in (("x", gx), ("y", gy), ("magnitude", np.hypot(gx, gy))):
        res = imgfilter.sobel(img, output=output, mode=mode)
        assert res.dtype == out_dtype
        assert_float_close(res, ref, scale)


# --------------------------------------------------------------------------
# 3. contract: dtypes, inputs untouched, no wrap-around, bad parameters
# --------------------------------------------------------------------------

SMOOTHING_CALLS = {
    "median": lambda im: imgfilter.median(im, 3),
    "blur": lambda im: imgfilter.blur(im, 3),
    "gaussian": lambda im: imgfilter.gaussian(im, 1.0),
    "shift_whole": lambda im: imgfilter.shift(im, 2, -1),
    "shift_frac": lambda im: imgfilter.shift(im, 0.5, -1.25),
    "bilateral": lambda im: imgfilter.bilateral(im, 5, 30.0, 3.0),
}
EDGE_CALLS = {
    "edges": lambda im: imgfilter.edges(im),
    "edges_laplacian": lambda im: imgfilter.edges(im, "laplacian", padding="valid"),
    "sobel_x": lambda im: imgfilter.sobel(im, output="x"),
    "sobel_mag": lambda im: imgfilter.sobel(im),
    "sobel_angle": lambda im: imgfilter.sobel(im, output="angle"),
}
ALL_CALLS = {**SMOOTHING_CALLS, **EDGE_CALLS}


def make_image(dtype, shape=(13, 11, 3), seed=0):
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype.kind == "u":
        return rng.integers(0, int(np.iinfo(dtype).max) + 1, size=shape, dtype=dtype)
    return (rng.random(shape) * 100).astype(dtype)


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float16", "float32", "float64"])
@pytest.mark.parametrize("call", sorted(SMOOTHING_CALLS))
@pytest.mark.parametrize("shape", [(13, 11), (13, 11, 3), (13, 11, 4)])
def test_smoothing_preserves_dtype(call, dtype, shape):
    img = make_image(dtype, shape)
    res = SMOOTHING_CALLS[call](img)
    assert res.dtype == img.dtype
    assert res.shape == img.shape


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float16", "float32", "float64"])
@pytest.mark.parametrize("call", sorted(EDGE_CALLS))
def test_edge_filters_float_dtype(call, dtype):
    img = make_image(dtype, (13, 11))
    res = EDGE_CALLS[call](img)
    assert res.dtype == (np.float64 if dtype == "float64" else np.float32)


@pytest.mark.parametrize("call", sorted(ALL_CALLS))
@pytest.mark.parametrize("shape", [(13, 11), (13, 11, 3), (13, 11, 4), (13, 11, 2)])
@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_input_not_modified(call, shape, dtype):
    img = make_image(dtype, shape, seed=3)
    if len(shape) == 3 and shape[2] in (2, 4):
        img[:4, ..., -1] = 0  # some transparency
    before = img.copy()
    ALL_CALLS[call](img)
    np.testing.assert_array_equal(img, before)
    # read-only and non-contiguous inputs work and give the same result
    ro = before.copy()
    ro.setflags(write=False)
    np.testing.assert_array_equal(ALL_CALLS[call](ro), ALL_CALLS[call](before))
    big = np.repeat(before, 2, axis=1)
    view = big[:, ::2]
    assert not view.flags.c_contiguous
    np.testing.assert_array_equal(ALL_CALLS[call](view), ALL_CALLS[call](before))
    np.testing.assert_array_equal(ALL_CALLS[call](np.asfortranarray(before)), ALL_CALLS[call](before))


@pytest.mark.parametrize("call", sorted(ALL_CALLS))
@pytest.mark.parametrize("dtype", ["float64", "float32", "uint16"])
def test_byte_order_does_not_matter(call, dtype):
    """A big-endian image (as FITS files hold) gives the native-order result.

    float64 data stays float64 data: edge filters return float64 and
    smoothing keeps float64 precision, in either byte order.
    """
    img = make_image(dtype, (13, 11, 3), seed=5)
    swapped = img.astype(img.dtype.newbyteorder())
    assert swapped.dtype != img.dtype and np.array_equal(swapped, img)
    native = ALL_CALLS[call](img)
    res = ALL_CALLS[call](swapped)
    assert res.dtype.kind == native.dtype.kind and res.dtype.itemsize == native.dtype.itemsize
    if dtype == "float64":
        np.testing.assert_allclose(res, native, rtol=1e-12, atol=1e-12 * value_scale(img))
    else:
        np.testing.assert_array_equal(res, native)


def test_threads_do_not_change_results(photo):
    img = photo[:300, :301]
    calls = [
        lambda im, t: imgfilter.median(im, 5, threads=t),
        lambda im, t: imgfilter.blur(im, 7, threads=t),
        lambda im, t: imgfilter.gaussian(im, 2.0, threads=t),
        lambda im, t: imgfilter.shift(im, 0.5, -3.25, threads=t),
        lambda im, t: imgfilter.bilateral(im, 5, threads=t),
        lambda im, t: imgfilter.edges(im, "laplacian", threads=t),
        lambda im, t: imgfilter.sobel(im, threads=t),
    ]
    for f in calls:
        np.testing.assert_array_equal(f(img, 1), f(img, 3))


def test_shift_cval_never_wraps():
    img = np.full((4, 5), 100, dtype=np.uint8)
    res = imgfilter.shift(img, 2, 1, mode="constant", cval=300)
    assert res.dtype == np.uint8
    np.testing.assert_array_equal(res, pad_shift(img, 2, 1, "constant", cval=255))
    assert res[0, 0] == 255 and res[3, 4] == 100
    res = imgfilter.shift(img, -2, 0, cval=-5)
    np.testing.assert_array_equal(res[:, -2:], 0)
    res16 = imgfilter.shift(img.astype(np.uint16), 1, 0, cval=70000)
    np.testing.assert_array_equal(res16[:, 0], 65535)
    # fractional shifts too: half-way between 100 and the clipped 255
    frac = imgfilter.shift(img, 0.5, 0, cval=300)
    assert_rounded(frac[:, 0], np.full(4, (100 + 255) / 2), np.uint8)


@pytest.mark.parametrize("dtype", ["uint8", "uint16"])
def test_saturated_images_stay_saturated(dtype):
    top = np.iinfo(dtype).max
    img = np.full((9, 10, 3), top, dtype=dtype)
    for name, call in SMOOTHING_CALLS.items():
        res = call(img) if not name.startswith("shift") else imgfilter.shift(img, 0.5, -1.25, mode="edge")
        assert res.dtype == img.dtype
        np.testing.assert_array_equal(res, img, err_msg=name)


@pytest.mark.parametrize(
    "call",
    [
        lambda im: imgfilter.median(im, 4),
        lambda im: imgfilter.median(im, 0),
        lambda im: imgfilter.median(im, -3),
        lambda im: imgfilter.gaussian(im, 0.0),
        lambda im: imgfilter.gaussian(im, -1.0),
        lambda im: imgfilter.gaussian(im, (1.0, 0.0)),
        lambda im: imgfilter.gaussian(im, 1.0, truncate=0.0),
        lambda im: imgfilter.bilateral(im, -1),
        lambda im: imgfilter.bilateral(im, 5, 0.0, 3.0),
        lambda im: imgfilter.bilateral(im, 5, 10.0, -3.0),
        lambda im: imgfilter.sobel(im, output="gradient"),
        lambda im: imgfilter.edges(im, "diagonal"),
        lambda im: imgfilter.blur(im, 0),
        lambda im: imgfilter.blur(im, (3, -1)),
        lambda im: imgfilter.median(im, 3, mode="bogus"),
        lambda im: imgfilter.blur(im, 3, mode="bogus"),
        lambda im: imgfilter.shift(im, 1, mode="bogus"),
        lambda im: imgfilter.shift(im, float("nan")),
        lambda im: imgfilter.median(im, 3, alpha=True),  # a grey image has no alpha channel
        lambda im: imgfilter.blur(im, 3, threads=-1),
    ],
)
def test_bad_parameters_raise_value_error(call):
    img = np.zeros((8, 8), dtype=np.uint8)
    with pytest.raises(ValueError):
        call(img)


def test_empty_image_raises():
    with pytest.raises(ValueError):
        imgfilter.blur(np.zeros((0, 5)))


# --------------------------------------------------------------------------
# 4. alpha
# --------------------------------------------------------------------------


def full_scale(dtype) -> float:
    dtype = np.dtype(dtype)
    return float(np.iinfo(dtype).max) if dtype.kind == "u" else 1.0


def half_transparent(dtype="uint8", channels=4, shape=(16, 20)):
    """Left half transparent black, right half opaque white."""
    dtype = np.dtype(dtype)
    top = np.iinfo(dtype).max if dtype.kind == "u" else 1.0
    img = np.zeros((*shape, channels), dtype=dtype)
    img[:, shape[1] // 2 :] = top
    return img, top


PREMULTIPLIED_CALLS = {
    "blur": lambda im: imgfilter.blur(im, 5, alpha=True),
    "blur_even": lambda im: imgfilter.blur(im, (2, 6), mode="wrap", alpha=True),
    "gaussian": lambda im: imgfilter.gaussian(im, 2.0, alpha=True),
    "bilateral": lambda im: imgfilter.bilateral(im, 9, 75.0, 75.0, alpha=True),
    # a range sigma far above the colour difference: transparent neighbours get real weight
    "bilateral_wide_range": lambda im: imgfilter.bilateral(
        im, 9, 8.0 * full_scale(im.dtype), 4.0, alpha=True
    ),
    "shift_frac": lambda im: imgfilter.shift(im, -1.5, 0.25, mode="edge", alpha=True),
}


@pytest.mark.parametrize("call", sorted(PREMULTIPLIED_CALLS))
@pytest.mark.parametrize("channels", [2, 4])
@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float32"])
def test_transparent_pixels_do_not_bleed(call, channels, dtype):
    img, top = half_transparent(dtype, channels)
    res = PREMULTIPLIED_CALLS[call](img)
    assert res.dtype == img.dtype
    visible = res[..., -1] > 0
    colour = res[..., :-1][visible]
    if img.dtype.kind == "u":
        np.testing.assert_array_equal(colour, top)
    else:
        np.testing.assert_allclose(colour, top, rtol=1e-5)
    if call != "bilateral":
        # alpha itself is smoothed: partially transparent pixels appear
        partial = (res[..., -1] > 0) & (res[..., -1] < top)
        assert partial.any()


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float32"])
@pytest.mark.parametrize("mode", MODES)
def test_alpha_is_smoothed_like_a_plane(dtype, mode):
    """The output alpha of blur/gaussian/fractional shift is the filtered alpha plane."""
    img, _ = half_transparent(dtype, 4, (15, 18))
    img[4:9, 12:14, 3] = img.dtype.type(img[0, -1, 3] * 0.6)  # a semi-transparent patch
    a = img[..., 3].astype(np.float64)
    sm = SCIPY_FILTER_MODE[mode]
    checks = [
        (imgfilter.blur(img, 5, mode=mode), ndi.uniform_filter(a, 5, mode=sm)),
        (imgfilter.gaussian(img, 1.5, mode=mode), ndi.gaussian_filter(a, 1.5, mode=sm)),
        (
            imgfilter.shift(img, 2.5, -0.75, mode=mode),
            ndi.shift(a, (-0.75, 2.5), order=1, mode=SCIPY_SHIFT_MODE[mode], prefilter=False),
        ),
    ]
    for res, ref in checks:
        assert_matches(res[..., 3], ref, img[..., 3])


@pytest.mark.parametrize("alpha_kind", ["mixed", "opaque"])
@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float32"])
@pytest.mark.parametrize("mode", MODES)
def test_premultiplied_smoothing_vs_numpy(dtype, mode, alpha_kind):
    """Random RGBA: colour = filter(colour * a) / filter(a), alpha = filter(a) * max.

    With mode="constant" the outside of the image is cval=0 in every channel,
    i.e. transparent black, so even a fully opaque image must keep its
    colour at the border (only its alpha fades) -- no dark fringe.
    """
    img = make_image(dtype, (12, 14, 4), seed=11)
    top = full_scale(img.dtype)
    if alpha_kind == "opaque":
        img[..., 3] = top
    else:
        if img.dtype.kind == "f":
            img[..., 3] = img[..., 3] / 100
        img[:5, :6, 3] = 0
    a = img[..., 3:].astype(np.float64) / top
    c = img[..., :3].astype(np.float64)
    sm = SCIPY_FILTER_MODE[mode]
    cases = [
        (imgfilter.blur(img, 3, mode=mode, alpha=True), lambda x: ndi.uniform_filter(x, (3, 3, 1), mode=sm)),
        (
            imgfilter.gaussian(img, 1.2, mode=mode, alpha=True),
            lambda x: ndi.gaussian_filter(x, (1.2, 1.2, 0), mode=sm),
        ),
        (
            imgfilter.shift(img, 0.5, -1.25, mode=mode, alpha=True),
            lambda x: ndi.shift(x, (-1.25, 0.5, 0), order=1, mode=SCIPY_SHIFT_MODE[mode], prefilter=False),
        ),
    ]
    for res, filt in cases:
        fa = filt(a)
        colour = filt(c * a) / np.where(fa > 0, fa, 1)
        seen = (fa[..., 0] * top) >= 0.5
        # alpha everywhere; colour where the result is visible
        assert_matches(res[..., 3], fa[..., 0] * top, img[..., 3])
        assert_matches(res[..., :3][seen], colour[seen], img[..., :3])


CONSTANT_BORDER_CALLS = {
    "blur": lambda im: imgfilter.blur(im, 5, mode="constant", alpha=True),
    "gaussian": lambda im: imgfilter.gaussian(im, 2.0, mode="constant", alpha=True),
    "bilateral": lambda im: imgfilter.bilateral(
        im, 9, 8.0 * full_scale(im.dtype), 4.0, mode="constant", alpha=True
    ),
    "shift_frac": lambda im: imgfilter.shift(
        im, -1.5, 0.25, alpha=True
    ),  # shift's default mode is "constant"
}


@pytest.mark.parametrize("opaque", [True, False])
@pytest.mark.parametrize("dtype", ["uint8", "float32"])
@pytest.mark.parametrize("call", sorted(CONSTANT_BORDER_CALLS))
def test_no_dark_fringe_at_constant_border(call, dtype, opaque):
    """White RGBA with a transparent-black outside (mode="constant", cval=0).

    Visible pixels stay white and alpha fades at the border, whether the
    image is fully opaque or has one slightly transparent pixel somewhere.
    """
    img, top = half_transparent(dtype, 4, (16, 20))
    img[...] = top
    if not opaque:
        img[8, 10, 3] = img.dtype.type(top * 254 / 255)
    res = CONSTANT_BORDER_CALLS[call](img)
    assert res.dtype == img.dtype
    visible = res[..., 3] > 0
    np.testing.assert_allclose(res[..., :3][visible].astype(np.float64), top, rtol=1e-5)
    assert (res[0, :, 3] < top).any() or (res[:, 0, 3] < top).any() or (res[:, -1, 3] < top).any()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("channels", [2, 4])
def test_bilateral_alpha_vs_reference(mode, channels):
    rng = np.random.default_rng(21)
    img = rng.integers(0, 256, size=(14, 15, channels), dtype=np.uint8)
    img[:6, :7, -1] = 0
    img[8:, 9:, -1] = 255
    res = imgfilter.bilateral(img, 5, 60.0, 2.0, mode=mode, alpha=True)
    colour, alpha = bilateral_reference(img, 5, 60.0, 2.0, mode, alpha=True)
    assert np.abs(res[..., -1] - alpha).max() <= 1
    seen = alpha >= 1
    assert np.abs(res[..., :-1][seen] - colour[seen]).max() <= 1


def test_bilateral_uniform_colour_smooths_alpha_spatially():
    img, _ = half_transparent("uint8", 4, (16, 20))
    img[..., :3] = 255  # transparent white next to opaque white
    r, ss = 4, 2.0
    res = imgfilter.bilateral(img, 2 * r + 1, 30.0, ss, alpha=True)
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    k = np.exp(-(xx**2 + yy**2) / (2 * ss * ss)) * (np.hypot(xx, yy) <= r)
    ref = ndi.correlate(img[..., 3].astype(np.float64), k / k.sum(), mode="mirror")
    assert_rounded(res[..., 3], ref, np.uint8)
    np.testing.assert_array_equal(res[..., :3][res[..., 3] > 0], 255)


@pytest.mark.parametrize("channels", [2, 4])
@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_median_and_edges_leave_alpha(channels, dtype):
    img = make_image(dtype, (15, 13, channels), seed=7)
    alpha = img[..., -1]
    colour = img[..., :-1]
    for size, mode in ((3, "reflect"), (5, "wrap"), (7, "constant")):
        res = imgfilter.median(img, size, mode=mode, alpha=True)
        np.testing.assert_array_equal(res[..., -1], alpha)
        ref = ndi.median_filter(colour, size=(size, size, 1), mode=SCIPY_FILTER_MODE[mode])
        np.testing.assert_array_equal(res[..., :-1], ref)
    for res in (
        imgfilter.edges(img, alpha=True),
        imgfilter.edges(img, "laplacian", mode="edge", alpha=True),
        imgfilter.sobel(img, output="x", alpha=True),
        imgfilter.sobel(img, alpha=True),
        imgfilter.sobel(img, output="angle", alpha=True),
    ):
        assert res.shape == img.shape
        np.testing.assert_array_equal(res[..., -1], alpha.astype(res.dtype))
    # colour channels still filtered
    k = KERNELS["vertical"][..., None]
    ref = ndi.correlate(colour.astype(np.float64), k, mode="mirror")
    assert_float_close(imgfilter.edges(img, alpha=True)[..., :-1], ref, 3 * value_scale(img))
    # "valid" padding samples alpha at each window's centre
    res = imgfilter.edges(img, padding="valid", alpha=True)
    np.testing.assert_array_equal(res[..., -1], alpha[1:-1, 1:-1].astype(res.dtype))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("dx", "dy"), [(3, -2), (-1, 0), (0, 4), (-20, 20)])
@pytest.mark.parametrize("channels", [2, 4])
def test_shift_moves_alpha_exactly(mode, dx, dy, channels):
    img = make_image("uint8", (10, 12, channels), seed=9)
    img[2:5, 3:8, -1] = 0
    res = imgfilter.shift(img, dx, dy, mode=mode, cval=40)
    np.testing.assert_array_equal(res, pad_shift(img, dx, dy, mode, cval=40))
    np.testing.assert_array_equal(res[..., -1], pad_shift(img[..., -1], dx, dy, mode, cval=40))


ALPHA_FALSE_CALLS = {
    "median": lambda im, **kw: imgfilter.median(im, 3, **kw),
    "blur": lambda im, **kw: imgfilter.blur(im, 4, **kw),
    "gaussian": lambda im, **kw: imgfilter.gaussian(im, 1.3, **kw),
    "shift_whole": lambda im, **kw: imgfilter.shift(im, -2, 1, **kw),
    "shift_frac": lambda im, **kw: imgfilter.shift(im, 0.5, -1.25, mode="reflect", **kw),
    "edges": lambda im, **kw: imgfilter.edges(im, "sobel_y", **kw),
    "edges_valid": lambda im, **kw: imgfilter.edges(im, "laplacian", padding="valid", **kw),
    "sobel": lambda im, **kw: imgfilter.sobel(im, **kw),
}


@pytest.mark.parametrize("call", sorted(ALPHA_FALSE_CALLS))
@pytest.mark.parametrize("channels", [2, 4])
def test_alpha_false_is_plain_data(call, channels):
    img, _ = half_transparent("uint8", channels)
    img[3:7, 2:5] = [90, 20, 200, 140][:channels]
    f = ALPHA_FALSE_CALLS[call]
    res = f(img, alpha=False)
    per_channel = np.stack([f(img[..., c]) for c in range(channels)], axis=-1)
    np.testing.assert_array_equal(res, per_channel)


def test_alpha_default_is_false_for_arrays_and_true_for_pil_rgba():
    """Arrays are data unless told otherwise (issue 14); PIL RGBA images carry alpha."""
    from PIL import Image

    img, _ = half_transparent("uint8", 4)
    assert np.array_equal(imgfilter.blur(img, 5), imgfilter.blur(img, 5, alpha=False))
    assert not np.array_equal(imgfilter.blur(img, 5), imgfilter.blur(img, 5, alpha=True))
    # without premultiplication the black transparent side darkens the white one
    plain = imgfilter.blur(img, 5)
    assert (plain[..., :3][plain[..., 3] > 0] < 255).any()
    pil = Image.fromarray(img, "RGBA")
    np.testing.assert_array_equal(imgfilter.blur(pil, 5), imgfilter.blur(img, 5, alpha=True))
    # a flow field (H, W, 2) and an RGB+NIR stack (H, W, 4) are filtered as plain bands
    rng = np.random.default_rng(3)
    for bands in (2, 4):
        data = rng.normal(size=(17, 19, bands)).astype(np.float32)
        data[..., -1] = np.abs(data[..., -1]) * 5000.0
        got = imgfilter.gaussian(data, 1.5)
        ref = np.stack([ndi.gaussian_filter(data[..., c], 1.5, mode="mirror") for c in range(bands)], -1)
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-3)
        assert not np.allclose(imgfilter.gaussian(data, 1.5, alpha=True), ref, rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("mode", ["reflect", "constant"])
def test_bilateral_alpha_false_vs_reference(mode):
    rng = np.random.default_rng(4)
    img = rng.integers(0, 256, size=(12, 13, 4), dtype=np.uint8)
    res = imgfilter.bilateral(img, 5, 80.0, 2.0, mode=mode, alpha=False)
    ref, _ = bilateral_reference(img, 5, 80.0, 2.0, mode)
    assert np.abs(res - ref).max() <= 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("dtype", "sigma_color"), [("float32", 0.2), ("float64", 0.2), ("uint16", 8000.0)])
@pytest.mark.parametrize("channels", [None, 3])
def test_bilateral_other_dtypes_vs_reference(mode, dtype, sigma_color, channels):
    """OpenCV has no 16-bit (and an approximate float) bilateral: use the plain-numpy oracle."""
    shape = (15, 16) if channels is None else (15, 16, channels)
    img = make_image(dtype, shape, seed=13)
    if img.dtype.kind == "f":
        img = (img / 100).astype(dtype)
    res = imgfilter.bilateral(img, 5, sigma_color, 2.0, mode=mode)
    ref, _ = bilateral_reference(img, 5, sigma_color, 2.0, mode)
    assert_matches(res, ref, img)


def test_bilateral_reference_agrees_with_cv2(photo):
    """Validates the plain-numpy oracle used above against OpenCV."""
    img = centre_crop(photo, 40)
    ref, _ = bilateral_reference(img, 5, 80.0, 2.0, "reflect")
    assert np.abs(cv2.bilateralFilter(img, 5, 80.0, 2.0) - ref).max() <= 1


def test_alpha_true_on_three_channels():
    """alpha=True makes the third channel of an (H, W, 3) image alpha."""
    img = make_image("uint8", (10, 11, 3), seed=2)
    res = imgfilter.median(img, 3, alpha=True)
    np.testing.assert_array_equal(res[..., 2], img[..., 2])
    np.testing.assert_array_equal(res[..., :2], ndi.median_filter(img[..., :2], (3, 3, 1), mode="mirror"))


# --------------------------------------------------------------------------
# 5. colour image == the filter on every channel (filter x image kind)
# --------------------------------------------------------------------------

PER_CHANNEL_CALLS = {
    "edges_vertical": lambda im: imgfilter.edges(im),
    "edges_horizontal": lambda im: imgfilter.edges(im, "horizontal", mode="wrap"),
    "edges_laplacian_full": lambda im: imgfilter.edges(im, "laplacian", padding="full"),
    "sobel_x": lambda im: imgfilter.sobel(im, output="x"),
    "sobel_y": lambda im: imgfilter.sobel(im, output="y", mode="constant"),
    "sobel_magnitude": lambda im: imgfilter.sobel(im),
    "sobel_angle": lambda im: imgfilter.sobel(im, output="angle"),
    "median3": lambda im: imgfilter.median(im, 3),
    "median7": lambda im: imgfilter.median(im, 7, mode="symmetric"),
    "blur3": lambda im: imgfilter.blur(im, 3),
    "blur_2x5": lambda im: imgfilter.blur(im, (2, 5), mode="edge"),
    "gaussian": lambda im: imgfilter.gaussian(im, 1.5),
    "gaussian_aniso": lambda im: imgfilter.gaussian(im, (0.5, 3.0), mode="constant"),
    "shift_whole": lambda im: imgfilter.shift(im, 4, -3),
    "shift_frac": lambda im: imgfilter.shift(im, -0.25, 2.5, mode="symmetric"),
}


def colour_image(kind: str, samples) -> np.ndarray:
    img = centre_crop(samples["chelsea.png"], 48)[:, :40]
    if kind == "RGB8":
        return img
    if kind == "RGB16":
        return img.astype(np.uint16) * 257
    if kind == "RGBf32":
        return img.astype(np.float32) / 255
    if kind == "RGBf64":
        return img.astype(np.float64) / 255
    if kind == "5band8":
        return np.concatenate([img, img[..., :2] // 2], axis=-1)
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["RGB8", "RGB16", "RGBf32", "RGBf64", "5band8"])
@pytest.mark.parametrize("call", sorted(PER_CHANNEL_CALLS))
def test_colour_equals_per_channel(samples, call, kind):
    img = colour_image(kind, samples)
    f = PER_CHANNEL_CALLS[call]
    res = f(img)
    per_channel = np.stack([f(img[..., c]) for c in range(img.shape[2])], axis=-1)
    assert res.dtype == per_channel.dtype
    np.testing.assert_array_equal(res, per_channel)


@pytest.mark.parametrize("mode", MODES)
def test_bilateral_colour_uses_joint_colour_distance(samples, mode):
    """Bilateral is the one filter that is not per-channel (as OpenCV): cross-check both ways."""
    img = centre_crop(samples["coffee.png"], 48)
    res = imgfilter.bilateral(img, 5, 40.0, 2.0, mode=mode)
    ref = cv2_bilateral(img, 5, 40.0, 2.0, mode)
    assert np.abs(res.astype(int) - ref.astype(int)).max() <= 1
    grey = [imgfilter.bilateral(img[..., c], 5, 40.0, 2.0, mode=mode) for c in range(3)]
    grey_ref = [cv2_bilateral(np.ascontiguousarray(img[..., c]), 5, 40.0, 2.0, mode) for c in range(3)]
    for g, gr in zip(grey, grey_ref, strict=True):
        assert np.abs(g.astype(int) - gr.astype(int)).max() <= 1


# --------------------------------------------------------------------------- luminance


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
def test_luminance_matches_bt601_formula(samples, dtype):
    rgb = samples["astronaut.png"].astype(dtype)
    ref = rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    got = imgfilter.luminance(rgb)
    assert got.dtype == (np.float64 if dtype == np.float64 else np.float32)
    np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-4 * float(ref.max()) * 1e-2)
    # And the rounded grey equals OpenCV's RGB2GRAY up to its fixed-point rounding.
    if dtype == np.uint8:
        cv_gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(int)
        assert np.abs(np.rint(got).astype(int) - cv_gray).max() <= 1


def test_luminance_keeps_alpha_and_grey():
    rgba = np.zeros((3, 4, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[..., 3] = 77
    la = imgfilter.luminance(rgba, alpha=True)
    assert la.shape == (3, 4, 2)
    np.testing.assert_allclose(la[..., 0], 0.299 * 200, rtol=1e-6)
    np.testing.assert_array_equal(la[..., 1], 77)
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert imgfilter.luminance(grey) is grey or np.array_equal(imgfilter.luminance(grey), grey)
