"""Grey morphology against scipy.ndimage's grey_* and OpenCV's
erode/dilate/morphologyEx (photos and random images), iterations, the
"skip" border, alpha, and Dask."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndi

import imgfilter
from imgfilter import footprints
from imgfilter.core.names import SCIPY_MODE, OptionError

cv2 = pytest.importorskip("cv2")

OPS = {
    "erode": (imgfilter.erode, ndi.grey_erosion),
    "dilate": (imgfilter.dilate, ndi.grey_dilation),
    "opening": (imgfilter.opening, ndi.grey_opening),
    "closing": (imgfilter.closing, ndi.grey_closing),
}
CV_BORDERS = {
    "skip": None,  # OpenCV's default border for morphology
    "reflect": cv2.BORDER_REFLECT_101,
    "symmetric": cv2.BORDER_REFLECT,
    "edge": cv2.BORDER_REPLICATE,
}
SHAPES = {
    "square3": footprints.square(3),
    "square4": footprints.square(4),
    "disk3": footprints.disk(3),
    "diamond2": footprints.diamond(2),
    "cross2": footprints.cross(2),
    "ellipse7x9": footprints.ellipse(7, 9),
    "rect2x5": footprints.rectangle(2, 5),
    "rect9x3": footprints.rectangle(9, 3),
    "odd": np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1]], bool),
}


def saturating(a, b):
    wide = a.astype(np.float64) - b.astype(np.float64)
    if a.dtype.kind in "iu":
        info = np.iinfo(a.dtype)
        wide = np.clip(wide, info.min, info.max)
    return wide.astype(a.dtype)


def spatial(fp, x):
    return fp.reshape(fp.shape + (1,) * (x.ndim - fp.ndim))


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int8", "uint16", "int32", "int64", "float32", "float64"])
@pytest.mark.parametrize("mode", ["reflect", "symmetric", "edge", "wrap", "constant"])
def test_equal_scipy(dtype, mode):
    rng = np.random.default_rng(abs(hash((dtype, mode))) % 2**32)
    x = rng.integers(0, 200, (23, 29)).astype(dtype) if dtype != "bool" else rng.random((23, 29)) < 0.6
    sm = SCIPY_MODE[mode]
    for name, fp in SHAPES.items():
        for op, (ours, ref) in OPS.items():
            got = ours(x, footprint=fp, mode=mode)
            assert got.dtype == x.dtype
            assert np.array_equal(got, ref(x, footprint=fp, mode=sm)), (op, name)
        opened, closed = (
            ndi.grey_opening(x, footprint=fp, mode=sm),
            ndi.grey_closing(x, footprint=fp, mode=sm),
        )
        if x.dtype == bool:
            assert np.array_equal(imgfilter.tophat(x, footprint=fp, mode=mode), x & ~opened)
            assert np.array_equal(imgfilter.blackhat(x, footprint=fp, mode=mode), closed & ~x)
            continue
        # SciPy's differences wrap where a result leaves the range; ours saturate.
        assert np.array_equal(imgfilter.tophat(x, footprint=fp, mode=mode), saturating(x, opened)), name
        assert np.array_equal(imgfilter.blackhat(x, footprint=fp, mode=mode), saturating(closed, x)), name
        grad = saturating(
            ndi.grey_dilation(x, footprint=fp, mode=sm), ndi.grey_erosion(x, footprint=fp, mode=sm)
        )
        if x.dtype.kind == "u" or x.dtype.itemsize > 1:  # in range: SciPy's own gradient
            assert np.array_equal(grad, ndi.morphological_gradient(x, footprint=fp, mode=sm))
        assert np.array_equal(imgfilter.morph_gradient(x, footprint=fp, mode=mode), grad), name


@pytest.mark.parametrize("photo_name", ["camera.png", "astronaut.png", "coffee.png"])
@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_equal_opencv_on_photos(samples, photo_name, dtype):
    x = samples[photo_name][::3, ::3]
    x = x.astype(np.float32) / 255 if dtype == "float32" else x
    cv_ops = {
        "opening": cv2.MORPH_OPEN,
        "closing": cv2.MORPH_CLOSE,
        "morph_gradient": cv2.MORPH_GRADIENT,
        "tophat": cv2.MORPH_TOPHAT,
        "blackhat": cv2.MORPH_BLACKHAT,
    }
    for name, fp in SHAPES.items():
        k = fp.astype(np.uint8)
        odd = all(s % 2 for s in fp.shape)
        for mode, border in CV_BORDERS.items():
            kw = {} if border is None else {"borderType": border}
            for it in (1, 2):
                got = imgfilter.erode(x, footprint=fp, mode=mode, iterations=it)
                assert np.array_equal(got, cv2.erode(x, k, iterations=it, **kw)), (name, mode, it)
                if not odd:
                    continue  # OpenCV's dilation does not reflect: its anchor moves for even sides
                got = imgfilter.dilate(x, footprint=fp[::-1, ::-1], mode=mode, iterations=it)
                assert np.array_equal(got, cv2.dilate(x, k, iterations=it, **kw)), (name, mode, it)
                if not np.array_equal(fp, fp[::-1, ::-1]):
                    continue
                for fname, op in cv_ops.items():
                    got = getattr(imgfilter, fname)(x, footprint=fp, mode=mode, iterations=it)
                    assert np.array_equal(got, cv2.morphologyEx(x, op, k, iterations=it, **kw)), (fname, name)


def test_iterations_rules():
    rng = np.random.default_rng(2)
    x = rng.integers(0, 255, (30, 31)).astype(np.uint8)
    assert np.array_equal(imgfilter.erode(x, iterations=0), x)
    # A non-rectangle repeats its pass (each with the border rule).
    fp = footprints.disk(1)
    twice = imgfilter.erode(imgfilter.erode(x, footprint=fp), footprint=fp)
    assert np.array_equal(imgfilter.erode(x, footprint=fp, iterations=2), twice)
    # A full rectangle grows instead (OpenCV's shortcut), equal in "skip" mode to repeating it.
    grown = imgfilter.erode(x, size=7, mode="reflect")
    assert np.array_equal(imgfilter.erode(x, size=3, iterations=3, mode="reflect"), grown)
    again = imgfilter.erode(imgfilter.erode(imgfilter.erode(x, mode="skip"), mode="skip"), mode="skip")
    assert np.array_equal(imgfilter.erode(x, iterations=3, mode="skip"), again)
    with pytest.raises(OptionError, match="iterations"):
        imgfilter.erode(x, iterations=-1)
    with pytest.raises(TypeError, match="iterations"):
        imgfilter.dilate(x, iterations=1.5)


def test_skip_border_counts_only_inside_pixels():
    x = np.array([[5, 1, 9], [7, 3, 8]], np.int16)
    assert np.array_equal(imgfilter.erode(x, size=3, mode="skip"), np.full_like(x, 1))
    # column 0 sees columns 0 and 1 only: max(5, 1, 7, 3)
    assert np.array_equal(imgfilter.dilate(x, size=3, mode="skip"), [[7, 9, 9], [7, 9, 9]])
    f = x.astype(np.float64)
    assert np.array_equal(imgfilter.dilate(f, size=(1, 3), mode="skip"), [[5, 9, 9], [7, 8, 8]])


def test_nan_rules():
    x = np.ones((5, 5))
    x[2, 2] = np.nan
    assert np.isnan(imgfilter.erode(x)[1:4, 1:4]).all()
    ignored = imgfilter.erode(x, nan="ignore")
    assert not np.isnan(ignored).any()
    assert np.isnan(imgfilter.dilate(x, nan="keep")[2, 2])


def test_alpha_passes_through(photo):
    rgba = np.dstack([photo[:50, :60], np.full((50, 60), 200, np.uint8)])
    rgba[10:20, 10:20, 3] = 0
    for fn in (imgfilter.erode, imgfilter.opening, imgfilter.tophat, imgfilter.morph_gradient):
        got = fn(rgba, footprint=footprints.disk(2), alpha=True)
        assert np.array_equal(got[..., 3], rgba[..., 3])
        assert np.array_equal(got[..., :3], fn(rgba[..., :3], footprint=footprints.disk(2)))


@pytest.mark.parametrize("fn", [imgfilter.erode, imgfilter.dilate, imgfilter.opening, imgfilter.closing,
                                imgfilter.morph_gradient, imgfilter.tophat, imgfilter.blackhat])  # fmt: skip
@pytest.mark.parametrize("mode", ["reflect", "skip", "constant"])
def test_dask_equals_numpy(fn, mode):
    da = pytest.importorskip("dask.array")
    rng = np.random.default_rng(4)
    x = rng.integers(0, 255, (41, 37, 3)).astype(np.uint8)
    for kw in ({"footprint": footprints.disk(3)}, {"size": 3, "iterations": 2}, {"footprint": SHAPES["odd"]}):
        lazy = fn(da.from_array(x, chunks=(9, 11, -1)), mode=mode, cval=7, **kw)
        assert isinstance(lazy, da.Array)
        assert np.array_equal(lazy.compute(), fn(x, mode=mode, cval=7, **kw)), kw


@pytest.mark.parametrize("height", [5, 6, 9])
@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.float32])
def test_slanted_footprints_equal_scipy(height, dtype):
    """One run of one length a row, the runs from different columns (a diagonal, a
    slant): taller than four rows these once took the rectangles' path and read
    every row from the first run's column."""
    rng = np.random.default_rng(height)
    img = rng.integers(0, 200, (23, 31)).astype(dtype)
    slant = np.zeros((height, height + 2), bool)
    for r in range(height):
        slant[r, r // 2 : r // 2 + 3] = True
    for fp in (np.eye(height, dtype=bool), np.eye(height, dtype=bool)[::-1], slant):
        for ours, ref in ((imgfilter.minimum, ndi.minimum_filter), (imgfilter.maximum, ndi.maximum_filter)):
            for mode, sp in (("edge", "nearest"), ("reflect", "mirror"), ("wrap", "wrap")):
                np.testing.assert_array_equal(
                    ours(img, footprint=fp, mode=mode), ref(img, footprint=fp, mode=sp)
                )
        np.testing.assert_array_equal(
            imgfilter.local_range(img, footprint=fp, mode="edge"),
            ndi.maximum_filter(img, footprint=fp, mode="nearest")
            - ndi.minimum_filter(img, footprint=fp, mode="nearest"),
        )


@pytest.mark.parametrize("dtype", [">f2", ">f4", ">f8", ">i2", ">u2", ">i4"])
def test_big_endian_images_equal_native_ones(dtype):
    """Byte order is storage, not value: ">f2" once reached the engine unwidened
    ("unsupported element type 'e'")."""
    img = (np.random.default_rng(3).random((9, 12)) * 100).astype(dtype)
    native = img.astype(np.dtype(dtype).newbyteorder("="))
    fp = np.ones((3, 3), bool)
    for fn in (imgfilter.minimum, imgfilter.maximum, imgfilter.local_range):
        np.testing.assert_array_equal(fn(img, footprint=fp), fn(native, footprint=fp))
    for fn in (imgfilter.erode, imgfilter.dilate, imgfilter.closing, imgfilter.tophat):
        np.testing.assert_array_equal(fn(img, footprint=fp), fn(native, footprint=fp))


@pytest.mark.parametrize("size", [(9, 1), (6, 2), (5, 5), (3, 3), (1, 7)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_the_sign_of_a_zero_tie_is_fixed(size, dtype):
    """-0.0 and 0.0 compare equal; the minimum of both is -0.0 and the maximum 0.0
    whatever order a kernel folds the window in, so every thread count gives the
    same bits (tall windows once gave 23 of 120 zeros another sign on two threads)."""
    rng = np.random.default_rng(size[0] * 10 + size[1])
    x = rng.choice(np.array([0.0, -0.0, 0.0, -0.0, 1.0, -1.0]), size=(40, 23)).astype(dtype)
    pad = [(k // 2, k - 1 - k // 2) for k in size]
    win = np.lib.stride_tricks.sliding_window_view(np.pad(x, pad, mode="edge"), size).reshape(*x.shape, -1)
    zero = win == 0
    lo, hi = win.min(axis=-1), win.max(axis=-1)
    want_min = np.where(lo == 0, np.where((zero & np.signbit(win)).any(-1), -0.0, 0.0), lo).astype(dtype)
    want_max = np.where(hi == 0, np.where((zero & ~np.signbit(win)).any(-1), 0.0, -0.0), hi).astype(dtype)
    for threads in (1, 2):
        for fn, want in ((imgfilter.minimum, want_min), (imgfilter.maximum, want_max)):
            got = fn(x, size=size, mode="edge", threads=threads)
            np.testing.assert_array_equal(got, want)
            np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


@pytest.mark.parametrize("fn", [imgfilter.opening, imgfilter.closing, imgfilter.tophat, imgfilter.blackhat])
@pytest.mark.parametrize("mode", ["reflect", "symmetric"])
def test_dask_equals_numpy_with_even_footprints_at_the_edges(fn, mode):
    """A composite's second pass reflects the first one's values at the image's edge:
    with an even (asymmetric) footprint a block once lacked the halo for that, and the
    opening of [5, 7, 9, 0] by [1, 1] on blocks of one column ended in 0, not 7."""
    da = pytest.importorskip("dask.array")
    x = np.array([[5, 7, 9, 0]], np.uint8)
    assert np.array_equal(
        imgfilter.opening(da.from_array(x, chunks=(1, 1)), footprint=[[1, 1]]).compute(), [[5, 7, 7, 7]]
    )
    rng = np.random.default_rng(8)
    img = rng.integers(0, 255, (13, 17)).astype(np.uint8)
    for shape in ((1, 2), (2, 1), (2, 2), (2, 3), (1, 4), (4, 1), (2, 8)):
        fp = np.ones(shape, bool)
        fp.flat[rng.integers(fp.size)] = shape[0] * shape[1] < 4  # some with a hole
        want = fn(img, footprint=fp, mode=mode)
        for chunks in ((1, 1), (1, 3), (3, 2), (5, 7)):
            got = fn(da.from_array(img, chunks=chunks), footprint=fp, mode=mode).compute()
            assert np.array_equal(got, want), (shape, chunks)
