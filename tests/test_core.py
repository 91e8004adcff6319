"""Tests of the convolution core: correlate, convolve, output_shape, conv2d, pool.

Every expected value comes from an independent oracle:

* ``ref_correlate`` pads the image with ``numpy.pad`` (our mode names are
  numpy.pad's names), builds the dilated kernel by inserting zeros, computes
  the stride-1 correlation of the padded image in float64 as a sum of one
  shifted image per kernel tap and then keeps every stride-th output
  (checked against ``sliding_window_view`` + ``tensordot`` in
  ``test_tap_sums_equal_a_window_dot_product``);
* ``scipy.ndimage.correlate`` / ``convolve`` with the scipy name of each mode;
* naive Python loops for pooling and einsum for the convolutional layer;
* a few textbook examples worked out by hand.

The tolerance for float32 results is 1e-5 relative to the largest possible
magnitude of a sum (the correlation of |image| with |kernel|), the usual
forward-error scale of a dot product; float64 results get 1e-10.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.ndimage as ndi
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.lib.stride_tricks import sliding_window_view

import imgfilter
from imgfilter import conv2d, convolve, correlate, output_shape, pool
from imgfilter.core import linear

# Written from the contract, independently of imgfilter.core.names.
MODES = ("constant", "edge", "reflect", "symmetric", "wrap")
SCIPY_NAME = {
    "constant": "constant",
    "edge": "nearest",
    "reflect": "mirror",
    "symmetric": "reflect",
    "wrap": "wrap",
}
ALIASES = {
    "zeros": "constant",
    "replicate": "edge",
    "nearest": "edge",
    "mirror": "reflect",
    "reflect101": "reflect",
    "circular": "wrap",
}
PAD_KINDS = ("same", "valid", "full", "int", "pairs")
FLOAT32_RTOL = 1e-5
FLOAT64_RTOL = 1e-10


# --------------------------------------------------------------------------
# Independent reference implementations
# --------------------------------------------------------------------------


def per_axis(value, nd):
    return (int(value),) * nd if np.isscalar(value) else tuple(int(v) for v in value)


def dilate_kernel(k: np.ndarray, dilation: tuple[int, ...]) -> np.ndarray:
    """Insert d-1 zeros between neighbouring taps along each axis."""
    eff = tuple(d * (n - 1) + 1 for n, d in zip(k.shape, dilation, strict=True))
    out = np.zeros(eff, dtype=np.float64)
    out[tuple(slice(None, None, d) for d in dilation)] = k
    return out


def pad_pairs(padding, eff: tuple[int, ...]) -> list[tuple[int, int]]:
    """(before, after) per filtered axis, straight from the contract."""
    if isinstance(padding, str):
        if padding == "same":
            return [(e // 2, e - 1 - e // 2) for e in eff]
        if padding == "valid":
            return [(0, 0) for _ in eff]
        if padding == "full":
            return [(e - 1, e - 1) for e in eff]
        raise AssertionError(padding)
    if isinstance(padding, int):
        return [(padding, padding) for _ in eff]
    pairs = []
    for item in padding:
        if isinstance(item, int):
            pairs.append((item, item))
        else:
            pairs.append((int(item[0]), int(item[1])))
    return pairs


def np_pad(x: np.ndarray, pairs, mode: str, cval: float) -> np.ndarray:
    widths = list(pairs) + [(0, 0)] * (x.ndim - len(pairs))
    if mode == "constant":
        return np.pad(x, widths, mode="constant", constant_values=cval)
    return np.pad(x, widths, mode=mode)


def expected_shape(shape, kshape, padding="same", stride=1, dilation=1) -> tuple[int, ...]:
    """The contract's output-size formula (0 on an axis = empty result)."""
    nd = len(kshape)
    strides = per_axis(stride, nd)
    dils = per_axis(dilation, nd)
    eff = tuple(d * (k - 1) + 1 for k, d in zip(kshape, dils, strict=True))
    sizes = []
    for axis in range(nd):
        n, e, s = shape[axis], eff[axis], strides[axis]
        if padding == "same":
            sizes.append(math.ceil(n / s))
            continue
        b, a = pad_pairs(padding, eff)[axis]
        span = n + b + a - e
        sizes.append(span // s + 1 if span >= 0 else 0)
    return (*sizes, *shape[nd:])


def _tap_sums(xp: np.ndarray, kd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The stride-1 correlation of ``xp`` with ``kd`` over its first ``kd.ndim`` axes, and of
    |xp| with |kd|, as a float64 sum of one shifted image per kernel tap (every tap, zeros too:
    0 * inf is nan as in a dot product). Summing tap by tap spares the copy of the whole window
    view that ``tensordot`` makes (seconds on a wide image)."""
    nd = kd.ndim
    out = tuple(n - k + 1 for n, k in zip(xp.shape[:nd], kd.shape, strict=True))
    if min(out, default=1) < 1:
        raise ValueError("window shape cannot be larger than input array shape")
    full = np.zeros(out + xp.shape[nd:])
    scale = np.zeros_like(full)
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf, 0 * inf: nan, quietly as BLAS
        for tap in np.ndindex(*kd.shape):
            shifted = xp[tuple(slice(t, t + n) for t, n in zip(tap, out, strict=True))]
            full += kd[tap] * shifted
            scale += abs(kd[tap]) * np.abs(shifted)
    return full, scale


def ref_correlate(x, k, *, padding="same", mode="reflect", cval=0.0, stride=1, dilation=1):
    """float64 reference and the magnitude scale (|x| correlated with |k|)."""
    x = np.asarray(x, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    nd = k.ndim
    kd = dilate_kernel(k, per_axis(dilation, nd))
    xp = np_pad(x, pad_pairs(padding, kd.shape), mode, cval)
    full, scale = _tap_sums(xp, kd)
    if linear._use_fft(k, linear.separable_factors(k)):
        # Large kernels go through FFT, whose rounding error is relative to
        # the band's largest values, not to each window (documented in
        # correlate): the bound is max|x| * sum|k| everywhere.
        finite = np.abs(xp[np.isfinite(xp)])
        bound = float(finite.max(initial=0.0)) * float(np.abs(k).sum())
        scale = np.maximum(scale, bound)
    keep = tuple(slice(None, None, s) for s in per_axis(stride, nd))
    return full[keep], scale[keep]


def ref_conv2d(x, f, *, bias=None, padding="valid", mode="constant", cval=0.0, stride=1, dilation=1):
    """float64 convolutional layer by einsum over sliding windows."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 2:
        x = x[:, :, None]
    f = np.asarray(f, dtype=np.float64)
    dil = per_axis(dilation, 2)
    eh, ew = (d * (n - 1) + 1 for n, d in zip(f.shape[1:3], dil, strict=True))
    fd = np.zeros((f.shape[0], eh, ew, f.shape[3]))
    fd[:, :: dil[0], :: dil[1], :] = f
    xp = np_pad(x, pad_pairs(padding, (eh, ew)), mode, cval)
    win = sliding_window_view(xp, (eh, ew), axis=(0, 1))  # (oh, ow, C, eh, ew)
    out = np.einsum("ijcab,nabc->ijn", win, fd)
    scale = np.einsum("ijcab,nabc->ijn", np.abs(win), np.abs(fd))
    if bias is not None:
        out = out + np.asarray(bias, dtype=np.float64)
        scale = scale + np.abs(np.asarray(bias, dtype=np.float64))
    sh, sw = per_axis(stride, 2)
    return out[::sh, ::sw], scale[::sh, ::sw]


def ref_pool(x, size, stride, op, padding):
    """Naive loop; windows clipped to the image, padding never counted."""
    x = np.asarray(x)
    sizes = per_axis(size, 2)
    strides = sizes if stride is None else per_axis(stride, 2)
    pads = []
    for n, k, s in zip(x.shape[:2], sizes, strides, strict=True):
        if padding == "valid":
            pads.append((0, 0))
        elif padding == "same":
            out = math.ceil(n / s)
            total = max((out - 1) * s + k - n, 0)
            pads.append((total // 2, total - total // 2))
        else:
            pads.append((padding, padding))
    oh, ow = (
        (n + b + a - k) // s + 1 for n, (b, a), k, s in zip(x.shape[:2], pads, sizes, strides, strict=True)
    )
    reduce = {"max": np.max, "min": np.min, "avg": np.mean}[op]
    rows = []
    for i in range(oh):
        r0 = i * strides[0] - pads[0][0]
        row = []
        for j in range(ow):
            c0 = j * strides[1] - pads[1][0]
            window = x[
                max(r0, 0) : min(r0 + sizes[0], x.shape[0]), max(c0, 0) : min(c0 + sizes[1], x.shape[1])
            ]
            assert window.size > 0
            if op == "avg":
                row.append(reduce(window.astype(np.float64), axis=(0, 1)))
            else:
                row.append(reduce(window, axis=(0, 1)))
        rows.append(row)
    return np.array(rows, dtype=np.float64 if op == "avg" else x.dtype)


def scipy_handles(shape, eff, mode) -> bool:
    """scipy.ndimage (1.17) reads garbage in its "reflect" (our "symmetric") mode
    once a kernel spans 8 or more times an axis of 2+ pixels; the np.pad oracle
    covers those cases."""
    return mode != "symmetric" or all(n == 1 or e < 8 * n for n, e in zip(shape, eff, strict=False))


def result_dtype(dtype) -> np.dtype:
    """float64 for float64 and for 32/64-bit integers (beyond float32's 2**24), else float32."""
    dt = np.dtype(dtype)
    wide = dt == np.float64 or (dt.kind in "iu" and dt.itemsize >= 4)
    return np.dtype(np.float64) if wide else np.dtype(np.float32)


def assert_matches(got, ref, scale, in_dtype):
    """Shape, dtype (contract) and values within the dot-product error scale."""
    want = result_dtype(in_dtype)
    assert got.dtype == want, f"dtype {got.dtype}, expected {want}"
    assert got.shape == ref.shape, f"shape {got.shape}, expected {ref.shape}"
    rtol = FLOAT64_RTOL if want == np.float64 else FLOAT32_RTOL
    atol = rtol * float(np.max(scale, initial=0.0))
    np.testing.assert_allclose(got, ref, rtol=0, atol=atol)


# --------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------

IMAGE_DTYPES = (np.float64, np.float32, np.uint8, np.int16, np.float16)


def _no_tiny(v: float) -> float:
    """Realistic values: magnitudes below 1e-6 become 0, so no product underflows
    float32 (whose rounding, not underflow, the tolerance models)."""
    return 0.0 if abs(v) < 1e-6 else v


def floats(lo, hi, width=64):
    return st.floats(lo, hi, width=width).map(_no_tiny)


def elements_for(dtype):
    dtype = np.dtype(dtype)
    if dtype == np.uint8:
        return st.integers(0, 255)
    if dtype == np.int16:
        return st.integers(-300, 300)
    if dtype == np.float16:
        return st.integers(-100, 100).map(float)
    if dtype == np.float32:
        return floats(-100, 100, width=32)
    return floats(-100, 100)


@st.composite
def images(draw, shape):
    dtype = draw(st.sampled_from(IMAGE_DTYPES))
    return draw(hnp.arrays(dtype, shape, elements=elements_for(dtype)))


@st.composite
def kernels(draw, kshape):
    """Dense, rank-1 (separable), sparse and single-tap kernels."""
    kind = draw(st.sampled_from(("dense", "rank1", "rank1-int", "sparse", "single")))
    vals = floats(-5, 5)
    if kind == "dense":
        return draw(hnp.arrays(np.float64, kshape, elements=vals))
    if kind.startswith("rank1"):
        elems = st.integers(-3, 3).map(float) if kind == "rank1-int" else vals
        out = np.ones(())
        for n in kshape:
            out = np.multiply.outer(out, draw(hnp.arrays(np.float64, (n,), elements=elems)))
        return out
    if kind == "sparse":
        dense = draw(hnp.arrays(np.float64, kshape, elements=vals))
        mask = draw(hnp.arrays(np.bool_, kshape))
        return dense * mask
    out = np.zeros(kshape)
    index = tuple(draw(st.integers(0, n - 1)) for n in kshape)
    out[index] = draw(vals)
    return out


def int_or_tuple(nd, lo, hi):
    return st.one_of(st.integers(lo, hi), st.tuples(*[st.integers(lo, hi)] * nd))


def padding_for(kind, nd):
    if kind in ("same", "valid", "full"):
        return st.just(kind)
    if kind == "int":
        return st.integers(0, 4)
    item = st.one_of(st.integers(0, 4), st.tuples(st.integers(0, 4), st.integers(0, 4)))
    return st.one_of(st.lists(item, min_size=nd, max_size=nd), st.tuples(*[item] * nd))


@st.composite
def linear_cases(draw, pad_kind, nd=None):
    """image, kernel and options: 1x1, 1xN, Nx1, kernels larger than the image,
    even sizes, channels, 1-D and 3-D."""
    if nd is None:
        nd = draw(st.sampled_from((1, 2, 2, 2, 3)))
    max_n = 8 if nd < 3 else 5
    spatial = tuple(draw(st.integers(1, max_n)) for _ in range(nd))
    channels = draw(st.sampled_from(((), (), (1,), (3,))))
    kshape = tuple(draw(st.integers(1, max_n + 2)) for _ in range(nd))
    return dict(
        image=draw(images((*spatial, *channels))),
        kernel=draw(kernels(kshape)),
        padding=draw(padding_for(pad_kind, nd)),
        stride=draw(int_or_tuple(nd, 1, 3)),
        dilation=draw(int_or_tuple(nd, 1, 3)),
        cval=draw(floats(-50, 50)),
        threads=draw(st.sampled_from((None, 1, 2, 3))),
    )


# --------------------------------------------------------------------------
# 1. correlate against the np.pad + sliding-window reference
# --------------------------------------------------------------------------


@pytest.mark.parametrize("pad_kind", PAD_KINDS)
@pytest.mark.parametrize("mode", MODES)
@given(data=st.data())
def test_correlate_matches_reference(mode, pad_kind, data):
    c = data.draw(linear_cases(pad_kind))
    image, kernel = c["image"], c["kernel"]
    opts = dict(padding=c["padding"], stride=c["stride"], dilation=c["dilation"])
    before = image.copy()
    shape = expected_shape(image.shape, kernel.shape, **opts)
    if 0 in shape:
        with pytest.raises(ValueError):
            correlate(image, kernel, mode=mode, cval=c["cval"], threads=c["threads"], **opts)
        with pytest.raises(ValueError):
            output_shape(image.shape, kernel.shape, **opts)
        return
    got = correlate(image, kernel, mode=mode, cval=c["cval"], threads=c["threads"], **opts)
    ref, scale = ref_correlate(image, kernel, mode=mode, cval=c["cval"], **opts)
    assert ref.shape == shape  # the oracle agrees with the formula
    assert output_shape(image.shape, kernel.shape, **opts) == shape
    assert_matches(got, ref, scale, image.dtype)
    np.testing.assert_array_equal(image, before)


@pytest.mark.parametrize("mode", MODES)
@given(data=st.data())
def test_correlate_same_matches_scipy(mode, data):
    """'same' with stride s is scipy's stride-1 result (dilated kernel) sampled [::s]."""
    c = data.draw(linear_cases("same"))
    image, kernel = c["image"], c["kernel"]
    nd = kernel.ndim
    stride, dilation = c["stride"], c["dilation"]
    kd = dilate_kernel(kernel, per_axis(dilation, nd))
    assume(scipy_handles(image.shape, kd.shape, mode))
    kd_full = kd.reshape(kd.shape + (1,) * (image.ndim - nd))  # channels filtered on their own
    x = image.astype(np.float64)
    ref = ndi.correlate(x, kd_full, mode=SCIPY_NAME[mode], cval=c["cval"])
    ref = ref[tuple(slice(None, None, s) for s in per_axis(stride, nd))]
    _, scale = ref_correlate(image, kernel, mode=mode, cval=c["cval"], stride=stride, dilation=dilation)
    got = correlate(image, kernel, mode=mode, cval=c["cval"], stride=stride, dilation=dilation)
    assert_matches(got, ref, scale, image.dtype)
    # "same" with stride is the stride-1 "same" result sampled [::s]
    dense = correlate(image, kernel, mode=mode, cval=c["cval"], dilation=dilation)
    sampled = dense[tuple(slice(None, None, s) for s in per_axis(stride, nd))]
    k = np.asarray(kernel, dtype=np.float64)
    if linear._use_fft(k, linear.separable_factors(k)):
        # Large kernels go through FFT, whose rounding depends on the band it
        # runs on: equal to float rounding (documented), not bit for bit.
        assert_matches(got, sampled, scale, image.dtype)
    else:
        np.testing.assert_array_equal(got, sampled)


def test_scipy_mode_table_matches_numpy_pad():
    """imgfilter.core.names.SCIPY_MODE names the same extension as numpy.pad."""
    from imgfilter.core.names import SCIPY_MODE

    assert SCIPY_MODE == SCIPY_NAME
    x = np.array([1.0, 2.0, 5.0, 11.0])
    for mode in MODES:
        for width in (1, 3, 9):  # wider than the signal too
            k = np.zeros(2 * width + 1)
            k[0] = 1.0  # picks the pixel `width` before the output pixel
            got = ndi.correlate(x, k, mode=SCIPY_MODE[mode], cval=7.0)
            want = np_pad(x, [(width, width)], mode, 7.0)[: len(x)]
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("padding", ["same", "valid", "full", 3, [(5, 1), 2]])
def test_kernel_larger_than_image(mode, padding):
    rng = np.random.default_rng(1)
    image = rng.normal(size=(3, 2))
    kernel = rng.normal(size=(7, 9))
    shape = expected_shape(image.shape, kernel.shape, padding)
    if 0 in shape:
        with pytest.raises(ValueError):
            correlate(image, kernel, mode=mode, cval=2.5, padding=padding)
        return
    got = correlate(image, kernel, mode=mode, cval=2.5, padding=padding)
    ref, scale = ref_correlate(image, kernel, mode=mode, cval=2.5, padding=padding)
    assert_matches(got, ref, scale, image.dtype)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "kernel",
    [
        np.arange(25.0).reshape(5, 5) % 7 - 3,  # dense
        np.outer([1.0, 4, 6, 4, 1], [1.0, 2, 0, -2, -1]),  # separable
    ],
    ids=["dense", "separable"],
)
def test_photo_matches_scipy(photo, mode, kernel):
    """A 512x512x3 photo: many row bands, every mode, both code paths."""
    got = correlate(photo, kernel, mode=mode, cval=-3.0)
    ref = ndi.correlate(photo.astype(np.float64), kernel[:, :, None], mode=SCIPY_NAME[mode], cval=-3.0)
    scale = ndi.correlate(np.abs(photo.astype(np.float64)), np.abs(kernel)[:, :, None], mode="nearest")
    scale = np.maximum(scale, 3.0 * np.abs(kernel).sum())
    assert_matches(got, ref, scale, photo.dtype)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "opts",
    [
        dict(padding="same", stride=2, dilation=2),
        dict(padding="valid", stride=(3, 2), dilation=(1, 3)),
        dict(padding="full", stride=1, dilation=2),
        dict(padding=[(4, 0), (1, 6)], stride=(2, 3), dilation=1),
    ],
)
@pytest.mark.parametrize(
    "kernel",
    [np.arange(12.0).reshape(3, 4) - 5, np.outer([1.0, -2.0, 0.5], [3.0, 0.0, 1.0, 2.0])],
    ids=["dense", "separable"],
)
def test_photo_strided_dilated(photo, mode, opts, kernel):
    image = photo[:300, :200]
    got = correlate(image, kernel, mode=mode, cval=100.0, **opts)
    ref, scale = ref_correlate(image, kernel, mode=mode, cval=100.0, **opts)
    assert_matches(got, ref, scale, image.dtype)


@pytest.mark.parametrize("mode", MODES)
def test_one_row_bands(mode):
    """Rows so wide (many channels) that every band is a single output row."""
    rng = np.random.default_rng(16)
    image = rng.normal(size=(13, 260, 170)).astype(np.float32)
    for kernel in (rng.normal(size=(3, 2)), np.outer([1.0, 2.0, 1.0], [1.0, 0.0, -1.0])):
        for opts in (
            dict(),
            dict(stride=(2, 3), dilation=2, padding="full"),
            dict(stride=3, padding=[(2, 1), 1]),
        ):
            got = correlate(image, kernel, mode=mode, cval=1.0, **opts)
            ref, scale = ref_correlate(image, kernel, mode=mode, cval=1.0, **opts)
            assert_matches(got, ref, scale, image.dtype)


def test_tap_sums_equal_a_window_dot_product():
    """The reference's tap-by-tap sums against the direct dot product over sliding windows."""
    rng = np.random.default_rng(21)
    for xshape, kshape in [((9, 11), (3, 2)), ((7, 8, 3), (3, 3)), ((6, 5, 4), (2, 3, 2)), ((12,), (5,))]:
        xp = rng.normal(size=xshape)
        xp.flat[rng.integers(xp.size, size=3)] = [np.inf, -np.inf, np.nan]
        kd = rng.normal(size=kshape)
        kd.flat[0] = 0.0  # 0 * inf is nan in a dot product: kept so here
        win = sliding_window_view(xp, kd.shape, axis=tuple(range(kd.ndim)))
        full, scale = _tap_sums(xp, kd)
        with np.errstate(invalid="ignore"):
            want = np.tensordot(win, kd, axes=kd.ndim)
            want_scale = np.tensordot(np.abs(win), np.abs(kd), axes=kd.ndim)
        np.testing.assert_allclose(full, want, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(scale, want_scale, rtol=1e-12)
        assert np.isnan(full).sum() > 0 and np.array_equal(np.isnan(full), np.isnan(want))
    with pytest.raises(ValueError):
        _tap_sums(np.zeros((2, 5)), np.ones((3, 1)))


# --------------------------------------------------------------------------
# 2. Textbook examples and output_shape
# --------------------------------------------------------------------------


def test_textbook_valid_2x2():
    image = np.array([[0, 1, 2], [3, 4, 5], [6, 7, 8]])
    got = correlate(image, [[0, 1], [2, 3]], padding="valid")
    # 0*0+1*1+2*3+3*4 = 19, 1*0+2*1+4*2+5*3 = 25, ...
    np.testing.assert_array_equal(got, np.array([[19, 25], [37, 43]], dtype=np.float64))
    assert got.dtype == np.float64  # an int64 image (numpy's default integers) works in float64


def test_textbook_convolve_flips_kernel():
    image = np.array([[0, 1, 2], [3, 4, 5], [6, 7, 8]])
    # convolution with [[3, 2], [1, 0]] is correlation with [[0, 1], [2, 3]]
    got = convolve(image, [[3, 2], [1, 0]], padding="valid")
    np.testing.assert_array_equal(got, [[19, 25], [37, 43]])


def test_textbook_convolve_eye():
    # flipped kernel [[4, 3], [2, 1]] over the windows of eye(3)
    got = convolve(np.eye(3), [[1, 2], [3, 4]], padding="valid")
    np.testing.assert_array_equal(got, [[5.0, 2.0], [3.0, 5.0]])
    assert got.dtype == np.float64


def test_textbook_7x7_stride2_valid():
    image = np.arange(49).reshape(7, 7)
    got = correlate(image, np.ones((3, 3)), padding="valid", stride=2)
    assert got.shape == (3, 3)
    # window sum of arange over rows r..r+2, cols c..c+2 = 9 * value at its centre
    centres = image[1:6:2, 1:6:2]
    np.testing.assert_array_equal(got, 9 * centres)
    assert output_shape((7, 7), (3, 3), padding="valid", stride=2) == (3, 3)


def test_textbook_conv2d_6x6x3_two_filters():
    image = np.ones((6, 6, 3))
    filters = np.ones((2, 3, 3, 3))
    filters[1] *= -2
    got = conv2d(image, filters, bias=[1.0, 0.5])
    assert got.shape == (4, 4, 2)
    np.testing.assert_array_equal(got[..., 0], np.full((4, 4), 27 + 1.0))
    np.testing.assert_array_equal(got[..., 1], np.full((4, 4), -54 + 0.5))


def test_textbook_conv2d_32x32x3_six_filters():
    rng = np.random.default_rng(7)
    image = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
    filters = rng.normal(size=(6, 5, 5, 3))
    bias = rng.normal(size=6)
    got = conv2d(image, filters, bias=bias)
    assert got.shape == (28, 28, 6)
    ref, scale = ref_conv2d(image, filters, bias=bias)
    assert_matches(got, ref, scale, image.dtype)


def test_textbook_max_pool_4x4():
    image = np.arange(16).reshape(4, 4)
    got = pool(image, 2)
    np.testing.assert_array_equal(got, [[5, 7], [13, 15]])
    assert got.dtype == image.dtype
    avg = pool(image, 2, op="avg")
    np.testing.assert_array_equal(avg, np.array([[2.5, 4.5], [10.5, 12.5]], dtype=np.float32))
    np.testing.assert_array_equal(pool(image, 2, op="min"), [[0, 2], [8, 10]])


@pytest.mark.parametrize(
    ("in_shape", "k_shape", "opts", "want"),
    [
        ((7, 7), (3, 3), dict(padding="valid", stride=2), (3, 3)),
        ((100, 80, 3), (5, 5), dict(padding="same", stride=2), (50, 40, 3)),
        ((5, 5), (3, 3), dict(padding="full"), (7, 7)),
        ((5, 5), (3, 3), dict(padding="valid", dilation=2), (1, 1)),
        ((10, 9), (2, 4), dict(padding=[(1, 0), 2], stride=(3, 1)), (4, 10)),
        ((6, 6, 6), (3, 3, 3), dict(padding=1, stride=2), (3, 3, 3)),
        ((1, 1), (1, 1), dict(padding="valid"), (1, 1)),
        ((9,), (4,), dict(padding="same", stride=4), (3,)),
    ],
)
def test_output_shape_examples(in_shape, k_shape, opts, want):
    assert output_shape(in_shape, k_shape, **opts) == want
    assert expected_shape(in_shape, k_shape, **opts) == want
    assert correlate(np.ones(in_shape), np.ones(k_shape), **opts).shape == want


@given(data=st.data())
def test_output_shape_formula(data):
    nd = data.draw(st.integers(1, 4))
    shape = tuple(data.draw(st.integers(1, 40)) for _ in range(nd)) + tuple(
        data.draw(st.lists(st.integers(1, 4), max_size=2))
    )
    kshape = tuple(data.draw(st.integers(1, 12)) for _ in range(nd))
    padding = data.draw(st.sampled_from(PAD_KINDS).flatmap(lambda kind: padding_for(kind, nd)))
    opts = dict(
        padding=padding, stride=data.draw(int_or_tuple(nd, 1, 5)), dilation=data.draw(int_or_tuple(nd, 1, 4))
    )
    want = expected_shape(shape, kshape, **opts)
    if 0 in want:
        with pytest.raises(ValueError):
            output_shape(shape, kshape, **opts)
    else:
        assert output_shape(shape, kshape, **opts) == want


# --------------------------------------------------------------------------
# 3. conv2d
# --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@given(data=st.data())
def test_conv2d_matches_reference(mode, data):
    h, w = data.draw(st.integers(1, 8)), data.draw(st.integers(1, 8))
    c = data.draw(st.integers(1, 3))
    n = data.draw(st.integers(1, 4))
    kh, kw = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 5))
    gray = data.draw(st.booleans()) and c == 1
    image = data.draw(images((h, w) if gray else (h, w, c)))
    filters = data.draw(hnp.arrays(np.float64, (n, kh, kw, c), elements=floats(-5, 5)))
    bias = data.draw(st.none() | hnp.arrays(np.float64, (n,), elements=floats(-10, 10)))
    pad_kind = data.draw(st.sampled_from(PAD_KINDS))
    opts = dict(
        padding=data.draw(padding_for(pad_kind, 2)),
        stride=data.draw(int_or_tuple(2, 1, 3)),
        dilation=data.draw(int_or_tuple(2, 1, 2)),
        mode=mode,
        cval=data.draw(floats(-20, 20)),
    )
    before = image.copy()
    spatial = expected_shape((h, w), (kh, kw), opts["padding"], opts["stride"], opts["dilation"])
    if 0 in spatial:
        with pytest.raises(ValueError):
            conv2d(image, filters, bias=bias, **opts)
        return
    got = conv2d(image, filters, bias=bias, **opts)
    ref, scale = ref_conv2d(image, filters, bias=bias, **opts)
    assert ref.shape == (*spatial, n)
    assert_matches(got, ref, scale, image.dtype)
    np.testing.assert_array_equal(image, before)


def test_conv2d_equals_channel_sum_of_scipy():
    """Second oracle: sum over channels of scipy correlate, cropped to 'valid'."""
    rng = np.random.default_rng(3)
    image = rng.normal(size=(20, 17, 4))
    filters = rng.normal(size=(3, 4, 5, 4))
    bias = rng.normal(size=3)
    got = conv2d(image, filters, bias=bias)
    kh, kw = 4, 5
    maps = []
    for f, b in zip(filters, bias, strict=True):
        acc = sum(ndi.correlate(image[..., ch], f[..., ch], mode="constant") for ch in range(4))
        maps.append(acc[kh // 2 : 20 - (kh - 1 - kh // 2), kw // 2 : 17 - (kw - 1 - kw // 2)] + b)
    want = np.stack(maps, axis=-1)
    assert got.shape == want.shape == (17, 13, 3)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-10 * np.abs(want).max())


def test_conv2d_single_filter_and_gray_image():
    rng = np.random.default_rng(4)
    image = rng.normal(size=(9, 8))
    filt = rng.normal(size=(3, 3, 1))
    got = conv2d(image, filt, padding="same", mode="reflect")
    assert got.shape == (9, 8, 1)
    want = correlate(image, filt[..., 0], padding="same", mode="reflect")
    np.testing.assert_allclose(got[..., 0], want, rtol=0, atol=1e-12 * np.abs(want).max())


def test_conv2d_photo(photo):
    rng = np.random.default_rng(5)
    filters = rng.normal(size=(4, 3, 3, 3))
    got = conv2d(photo, filters, bias=[1.0, 2.0, 3.0, 4.0], padding="same", mode="edge", stride=2)
    ref, scale = ref_conv2d(photo, filters, bias=[1.0, 2.0, 3.0, 4.0], padding="same", mode="edge", stride=2)
    assert got.shape == (256, 256, 4)
    assert_matches(got, ref, scale, photo.dtype)


# --------------------------------------------------------------------------
# 4. pool
# --------------------------------------------------------------------------

POOL_DTYPES = (np.uint8, np.int16, np.float32, np.float64, np.bool_)


@pytest.mark.parametrize("op", ["max", "min", "avg"])
@given(data=st.data())
def test_pool_matches_naive(op, data):
    h, w = data.draw(st.integers(1, 9)), data.draw(st.integers(1, 9))
    channels = data.draw(st.sampled_from(((), (1,), (3,))))
    dtype = data.draw(st.sampled_from(POOL_DTYPES))
    elements = st.booleans() if dtype == np.bool_ else elements_for(dtype)
    image = data.draw(hnp.arrays(dtype, (h, w, *channels), elements=elements))
    size = data.draw(int_or_tuple(2, 1, 4))
    stride = data.draw(st.none() | int_or_tuple(2, 1, 4))
    sizes = per_axis(size, 2)
    padding = data.draw(st.sampled_from(("valid", "same")) | st.integers(0, min(sizes) - 1))
    before = image.copy()
    strides = sizes if stride is None else per_axis(stride, 2)
    if padding == "valid":
        out = [(n - k) // s + 1 if n >= k else 0 for n, k, s in zip((h, w), sizes, strides, strict=True)]
    elif padding == "same":
        out = [math.ceil(n / s) for n, s in zip((h, w), strides, strict=True)]
    else:
        out = [
            (n + 2 * padding - k) // s + 1 if n + 2 * padding >= k else 0
            for n, k, s in zip((h, w), sizes, strides, strict=True)
        ]
    if 0 in out:
        with pytest.raises(ValueError):
            pool(image, size, stride=stride, op=op, padding=padding)
        return
    got = pool(image, size, stride=stride, op=op, padding=padding)
    ref = ref_pool(image, size, stride, op, padding)
    assert got.shape == ref.shape == (*out, *channels)
    if op == "avg":
        assert got.dtype == result_dtype(dtype)
        tol = FLOAT64_RTOL if got.dtype == np.float64 else FLOAT32_RTOL
        np.testing.assert_allclose(got, ref, rtol=0, atol=tol * max(1.0, float(np.abs(ref).max())))
    else:
        assert got.dtype == image.dtype
        np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(image, before)


@pytest.mark.parametrize("op", ["max", "min", "avg"])
@pytest.mark.parametrize("k", [2, 3, 4])
def test_pool_divisible_equals_reshape(photo, op, k):
    image = photo[: 510 // k * k, : 510 // k * k]
    h, w, c = image.shape
    blocks = image.reshape(h // k, k, w // k, k, c)
    if op == "max":
        want = blocks.max(axis=(1, 3))
    elif op == "min":
        want = blocks.min(axis=(1, 3))
    else:
        want = blocks.astype(np.float64).mean(axis=(1, 3))
    got = pool(image, k, op=op)
    assert got.shape == want.shape
    if op == "avg":
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=0, atol=FLOAT32_RTOL * 255)
    else:
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, want)


def test_pool_same_clips_windows():
    """Padding never takes part: negative image, max of a border window stays negative."""
    image = -np.arange(1.0, 26.0).reshape(5, 5)
    got = pool(image, 2, padding="same")
    # ceil(5/2) = 3 windows per axis, total pad 1 -> 0 before, 1 after
    want = np.array([[-1.0, -3.0, -5.0], [-11.0, -13.0, -15.0], [-21.0, -23.0, -25.0]])
    np.testing.assert_array_equal(got, want)
    avg = pool(image, 2, padding="same", op="avg")
    assert avg[2, 2] == -25.0  # the 1x1 corner window is averaged over one pixel
    assert avg[0, 2] == (-5.0 - 10.0) / 2
    mins = pool(np.arange(1, 26, dtype=np.uint8).reshape(5, 5), 3, stride=2, padding="same", op="min")
    # total pad = (3-1)*2 + 3 - 5 = 2 -> 1 before, 1 after
    np.testing.assert_array_equal(mins, [[1, 2, 4], [6, 7, 9], [16, 17, 19]])


@pytest.mark.parametrize("op", ["max", "min", "avg"])
@pytest.mark.parametrize(
    ("size", "stride", "padding"), [(3, 2, "same"), ((2, 5), (3, 2), "same"), (4, 3, 1), (3, None, "valid")]
)
def test_pool_photo_crop(photo, op, size, stride, padding):
    """Enough rows for several bands; odd sizes so windows get clipped."""
    image = photo[:101, :67]
    got = pool(image, size, stride=stride, op=op, padding=padding)
    ref = ref_pool(image, size, stride, op, padding)
    assert got.shape == ref.shape
    if op == "avg":
        np.testing.assert_allclose(got, ref, rtol=0, atol=FLOAT32_RTOL * 255)
    else:
        np.testing.assert_array_equal(got, ref)


# --------------------------------------------------------------------------
# 5. 3-D volumes
# --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@given(data=st.data())
def test_3d_volume_matches_scipy(mode, data):
    shape = tuple(data.draw(st.integers(1, 6)) for _ in range(3))
    kshape = tuple(data.draw(st.integers(1, 4)) for _ in range(3))
    volume = data.draw(images(shape))
    kernel = data.draw(kernels(kshape))
    cval = data.draw(floats(-10, 10))
    assume(scipy_handles(shape, kshape, mode))
    got = correlate(volume, kernel, mode=mode, cval=cval)
    x = volume.astype(np.float64)
    ref = ndi.correlate(x, kernel, mode=SCIPY_NAME[mode], cval=cval)
    _, scale = ref_correlate(volume, kernel, mode=mode, cval=cval)
    assert_matches(got, ref, scale, volume.dtype)


def test_3d_kernel_on_4d_array_filters_last_axis_separately():
    rng = np.random.default_rng(8)
    volume = rng.normal(size=(6, 5, 4, 2))
    kernel = rng.normal(size=(3, 2, 3))
    got = correlate(volume, kernel, mode="wrap")
    want = np.stack([ndi.correlate(volume[..., c], kernel, mode="wrap") for c in range(2)], axis=-1)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-10 * np.abs(want).max())


def test_full_rank_kernel_mixes_channels():
    """A kernel with as many axes as the image correlates over the channel axis too."""
    rng = np.random.default_rng(9)
    image = rng.normal(size=(7, 6, 3))
    kernel = rng.normal(size=(3, 3, 3))
    got = correlate(image, kernel, mode="symmetric")
    want = ndi.correlate(image, kernel, mode="reflect")
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-10 * np.abs(want).max())
    valid = correlate(image, kernel, padding="valid")
    assert valid.shape == (5, 4, 1)


# --------------------------------------------------------------------------
# 6. dtypes, no wrap-around, inputs untouched, kernels as lists, aliases, errors
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dtype", "want"),
    [
        (np.uint8, np.float32),
        (np.uint16, np.float32),
        (np.int16, np.float32),
        # float32 cannot hold 32- and 64-bit integers: they work in float64.
        (np.int32, np.float64),
        (np.uint32, np.float64),
        (np.int64, np.float64),
        (np.bool_, np.float32),
        (np.float16, np.float32),
        (np.float32, np.float32),
        (np.float64, np.float64),
    ],
)
def test_result_dtypes(dtype, want):
    rng = np.random.default_rng(10)
    image = (rng.integers(0, 2, size=(6, 5, 2)) * 3).astype(dtype)
    k = [[1.0, -2.0], [0.5, 3.0]]
    for fn in (correlate, convolve):
        got = fn(image, k)
        assert got.dtype == want, (fn.__name__, got.dtype)
        ref, scale = ref_correlate(image, np.asarray(k)[::-1, ::-1] if fn is convolve else k)
        assert_matches(got, ref, scale, image.dtype)
    assert conv2d(image, np.ones((1, 2, 2, 2))).dtype == want
    assert pool(image, 2, op="avg").dtype == want
    for op in ("max", "min"):
        assert pool(image, 2, op=op).dtype == image.dtype


@pytest.mark.parametrize("dtype", [np.int32, np.uint32, np.int64, np.uint64])
def test_wide_integers_are_exact(dtype):
    """float32 holds integers up to 2**24 only: wide integer images are filtered in float64."""
    import scipy.ndimage as ndi

    import imgfilter

    value = 16777217
    a = np.full((5, 6), value, dtype=dtype)
    a[2, 3] = value + 2
    assert imgfilter.blur(a, 3)[0, 0] == value
    np.testing.assert_array_equal(
        imgfilter.blur(a, 3, mode="symmetric"), ndi.uniform_filter(a, 3, mode="reflect")
    )
    np.testing.assert_array_equal(
        imgfilter.gaussian(a, 1.0),
        np.rint(ndi.gaussian_filter(a.astype(np.float64), 1.0, mode="mirror")).astype(dtype),
    )
    np.testing.assert_array_equal(imgfilter.shift(a, 1, 0, mode="edge")[:, 1:], a[:, :-1])
    assert imgfilter.correlate(a, [[1.0]]).dtype == np.float64
    assert imgfilter.correlate(a, [[1.0]])[0, 0] == value


def test_no_wraparound():
    got = correlate(np.full((3, 3), 255, dtype=np.uint8), [[2]])
    np.testing.assert_array_equal(got, np.full((3, 3), 510.0))
    got = correlate(np.full((3, 3), 255, dtype=np.uint8), np.ones((2, 2)), padding="valid")
    np.testing.assert_array_equal(got, np.full((2, 2), 1020.0))
    got = correlate(np.full((2, 2), -32768, dtype=np.int16), [[-1]])
    np.testing.assert_array_equal(got, np.full((2, 2), 32768.0))
    got = correlate(np.full((2, 2), 65535, dtype=np.uint16), [[1, 1]], padding="valid")
    np.testing.assert_array_equal(got, np.full((2, 1), 131070.0))
    got = conv2d(np.full((2, 2, 2), 200, dtype=np.uint8), np.ones((1, 2, 2, 2)))
    np.testing.assert_array_equal(got, np.full((1, 1, 1), 1600.0))
    got = pool(np.array([[250, 251], [252, 253]], dtype=np.uint8), 2, op="avg")
    np.testing.assert_array_equal(got, [[251.5]])


@pytest.mark.parametrize("mode", MODES)
def test_inputs_not_modified(mode):
    rng = np.random.default_rng(11)
    for dtype in (np.float64, np.float32, np.uint8):
        image = (rng.random((9, 7, 3)) * 100).astype(dtype)
        kernel = rng.normal(size=(3, 3))
        sep = np.outer([1.0, 2.0, 1.0], [1.0, 0.0, -1.0])
        filters = rng.normal(size=(2, 3, 3, 3))
        copies = [a.copy() for a in (image, kernel, sep, filters)]
        for a in (image, kernel, sep, filters):
            a.flags.writeable = False  # any write attempt raises
        correlate(image, kernel, mode=mode)
        correlate(image, sep, mode=mode, stride=2, dilation=2)
        convolve(image, kernel, mode=mode, padding="full")
        correlate(image[..., 0], kernel, mode=mode, padding="valid")  # whole-image block
        conv2d(image, filters, mode=mode, padding="same")
        for op in ("max", "min", "avg"):
            pool(image, 2, op=op, padding="same")
        for a, c in zip((image, kernel, sep, filters), copies, strict=True):
            np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("mode", MODES)
def test_non_contiguous_inputs(photo, mode):
    """Views with negative, non-unit and Fortran strides give the copy's result."""
    kernel = np.array([[1.0, 2.0, -1.0], [0.0, 3.0, 1.0]])
    views = [
        photo[::3, ::-2],
        photo[10:200:2, 5:300, ::-1],
        np.asfortranarray(photo[:80, :90]),
        photo[:50, :60, 1],
    ]
    for view in views:
        dense = np.ascontiguousarray(view)
        np.testing.assert_array_equal(
            correlate(view, kernel, mode=mode, stride=(2, 1)),
            correlate(dense, kernel, mode=mode, stride=(2, 1)),
        )
        ref, scale = ref_correlate(view, kernel, mode=mode, stride=(2, 1))
        assert_matches(correlate(view, kernel, mode=mode, stride=(2, 1)), ref, scale, view.dtype)
        np.testing.assert_array_equal(pool(view, 3, padding="same"), pool(dense, 3, padding="same"))
    view = photo[::4, ::-4]
    filters = np.ones((2, 2, 2, 3))
    np.testing.assert_array_equal(
        conv2d(view, filters, mode=mode), conv2d(np.ascontiguousarray(view), filters, mode=mode)
    )


def test_result_is_a_new_array():
    image = np.arange(12.0).reshape(3, 4)
    out = correlate(image, [[1.0]])
    np.testing.assert_array_equal(out, image)
    out[...] = -1
    np.testing.assert_array_equal(image, np.arange(12.0).reshape(3, 4))
    out = correlate(image, [[1.0]], mode="constant")
    out[...] = -1
    np.testing.assert_array_equal(image, np.arange(12.0).reshape(3, 4))


def test_nested_list_kernel():
    rng = np.random.default_rng(12)
    image = rng.normal(size=(8, 9, 2))
    klist = [[1, 2, 0], [-1, 0, 3]]
    np.testing.assert_array_equal(correlate(image, klist), correlate(image, np.array(klist, dtype=float)))
    np.testing.assert_array_equal(convolve(image, klist), convolve(image, np.array(klist, dtype=float)))
    np.testing.assert_array_equal(
        conv2d(image, [[[[1, 0], [2, 1]]]]), conv2d(image, np.array([[[[1.0, 0.0], [2.0, 1.0]]]]))
    )
    np.testing.assert_array_equal(correlate([[1, 2], [3, 4]], [[1]]), [[1, 2], [3, 4]])
    ref, scale = ref_correlate(image, klist)
    assert_matches(correlate(image, klist), ref, scale, image.dtype)


@pytest.mark.parametrize(("alias", "canonical"), sorted(ALIASES.items()))
def test_mode_aliases(alias, canonical):
    rng = np.random.default_rng(13)
    image = rng.normal(size=(6, 5))
    kernel = rng.normal(size=(4, 3))
    opts = dict(cval=1.5, padding="full", dilation=(1, 2))
    got = correlate(image, kernel, mode=alias, **opts)
    np.testing.assert_array_equal(got, correlate(image, kernel, mode=canonical, **opts))
    ref, scale = ref_correlate(image, kernel, mode=canonical, **opts)
    assert_matches(got, ref, scale, image.dtype)


@pytest.mark.parametrize(
    ("kwargs", "exc", "word"),
    [
        (dict(stride=0), ValueError, "stride"),
        (dict(stride=(1, 0)), ValueError, "stride"),
        (dict(stride=(1, 2, 3)), ValueError, "stride"),
        (dict(stride=1.5), TypeError, "stride"),
        (dict(stride="2"), TypeError, "stride"),
        (dict(dilation=-1), ValueError, "dilation"),
        (dict(dilation=0), ValueError, "dilation"),
        (dict(dilation=(2, 0.5)), TypeError, "dilation"),
        (dict(padding="bogus"), ValueError, "padding"),
        (dict(padding=-1), ValueError, "padding"),
        (dict(padding=[(1, -1), (0, 0)]), ValueError, "padding"),
        (dict(padding=[-2, 0]), ValueError, "padding"),
        (dict(padding=[(1, 2, 3), (0, 0)]), ValueError, "padding"),
        (dict(padding=[1]), ValueError, "padding"),
        (dict(padding=1.5), TypeError, "padding"),
        (dict(mode="bogus"), ValueError, "mode"),
        (dict(mode=3), TypeError, "mode"),
        (dict(threads=-1), ValueError, "threads"),
        (dict(threads="2"), TypeError, "threads"),
    ],
)
def test_bad_arguments(kwargs, exc, word):
    image = np.ones((5, 5))
    for fn in (correlate, convolve):
        with pytest.raises(exc, match=word):
            fn(image, np.ones((3, 3)), **kwargs)


def test_bad_shapes():
    from imgfilter.core.names import OptionError

    assert issubclass(OptionError, ValueError)
    with pytest.raises(ValueError, match="kernel"):
        correlate(np.ones((5, 5)), np.ones((3, 3, 3)))
    with pytest.raises(ValueError, match="kernel"):
        correlate(np.ones((5, 5)), np.ones((0, 3)))
    with pytest.raises(ValueError, match="kernel"):
        correlate(np.ones((5, 5)), 2.0)
    with pytest.raises(ValueError, match="image"):
        correlate(np.ones((0, 5)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="empty"):
        correlate(np.ones((3, 3)), np.ones((5, 5)), padding="valid")
    with pytest.raises(ValueError, match="empty"):
        correlate(np.ones((3, 3)), np.ones((2, 2)), padding="valid", dilation=3)
    with pytest.raises(ValueError, match="empty"):
        output_shape((3, 3), (5, 5), padding="valid")
    with pytest.raises(ValueError, match="stride"):
        output_shape((3, 3), (1, 1), stride=0)
    with pytest.raises(TypeError, match="image"):
        correlate(np.array([["a", "b"]]), [[1]])
    with pytest.raises(ValueError, match="filters"):
        conv2d(np.ones((5, 5, 3)), np.ones((2, 3, 3, 2)))
    with pytest.raises(ValueError, match="bias"):
        conv2d(np.ones((5, 5, 3)), np.ones((2, 3, 3, 3)), bias=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="op"):
        pool(np.ones((4, 4)), 2, op="median")
    with pytest.raises(ValueError, match="size"):
        pool(np.ones((4, 4)), 0)
    with pytest.raises(ValueError, match="stride"):
        pool(np.ones((4, 4)), 2, stride=0)
    with pytest.raises(ValueError, match="padding"):
        pool(np.ones((4, 4)), 2, padding="full")
    with pytest.raises(ValueError, match="padding"):
        pool(np.ones((4, 4)), 2, padding=2)


# --------------------------------------------------------------------------
# 7. Threads
# --------------------------------------------------------------------------


@pytest.fixture
def pool_spy(monkeypatch):
    """Record the worker-pool sizes requested while the test runs."""
    from imgfilter.core import tiles

    calls: list[int] = []
    real = tiles._get_pool

    def spy(n):
        calls.append(n)
        return real(n)

    monkeypatch.setattr(tiles, "_get_pool", spy)
    return calls


def test_threads_bit_identical(photo, pool_spy):
    rng = np.random.default_rng(14)
    dense = rng.normal(size=(5, 5))
    sep = np.outer([1.0, 4.0, 6.0, 4.0, 1.0], [1.0, 2.0, 0.0, -2.0, -1.0])
    filters = rng.normal(size=(3, 3, 3, 3))
    cases = [
        lambda t: correlate(photo, dense, threads=t),
        lambda t: correlate(photo, sep, mode="wrap", threads=t),
        lambda t: correlate(photo, dense, stride=2, dilation=3, padding="full", threads=t),
        lambda t: convolve(photo.astype(np.float64), dense, mode="constant", cval=9.0, threads=t),
        lambda t: conv2d(photo, filters, bias=[1.0, 2.0, 3.0], padding="same", threads=t),
        lambda t: pool(photo, 3, stride=2, padding="same", threads=t),
        lambda t: pool(photo, 3, op="avg", padding="same", threads=t),
    ]
    for i, case in enumerate(cases):
        one = case(1)
        assert pool_spy == [], "threads=1 must not use the worker pool"
        two = case(2)
        assert pool_spy == [2], f"case {i}: threads=2 should run bands on a 2-worker pool"
        pool_spy.clear()
        np.testing.assert_array_equal(one, two, err_msg=f"case {i}")
        assert one.dtype == two.dtype


def test_imgfilter_threads_env(monkeypatch, gray_photo, pool_spy):
    kernel = np.arange(9.0).reshape(3, 3)
    serial = correlate(gray_photo, kernel, threads=1)
    monkeypatch.setenv("IMGFILTER_THREADS", "1")
    np.testing.assert_array_equal(correlate(gray_photo, kernel), serial)
    assert pool_spy == [], "IMGFILTER_THREADS=1 must run without the worker pool"
    monkeypatch.setenv("IMGFILTER_THREADS", "2")
    np.testing.assert_array_equal(correlate(gray_photo, kernel), serial)
    assert pool_spy == [2]
    pool_spy.clear()
    # an explicit threads= argument wins over the environment
    monkeypatch.setenv("IMGFILTER_THREADS", "1")
    np.testing.assert_array_equal(correlate(gray_photo, kernel, threads=2), serial)
    assert pool_spy == [2]
    pool_spy.clear()
    # unset: all cores
    monkeypatch.delenv("IMGFILTER_THREADS")
    from imgfilter.core import tiles

    monkeypatch.setattr(tiles, "_cores", lambda: 3)
    np.testing.assert_array_equal(correlate(gray_photo, kernel), serial)
    assert pool_spy == [3]
    monkeypatch.setenv("IMGFILTER_THREADS", "lots")
    with pytest.raises(ValueError, match="IMGFILTER_THREADS"):
        correlate(gray_photo, kernel)


def test_concurrent_calls_with_different_thread_counts():
    """Library calls from several user threads, each asking for a different
    (growing) number of workers, must all succeed and agree."""
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(15)
    image = rng.normal(size=(300, 200))
    kernel = rng.normal(size=(3, 3))
    want = correlate(image, kernel, threads=1)

    def job(t):
        return correlate(image, kernel, threads=t)

    with ThreadPoolExecutor(max_workers=6) as users:
        results = list(users.map(job, range(4, 40)))
    for got in results:
        np.testing.assert_array_equal(got, want)


# --------------------------------------------------------------------------
# 8. convolve
# --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@given(data=st.data())
def test_convolve_odd_kernel_matches_scipy(mode, data):
    nd = data.draw(st.sampled_from((1, 2, 2, 3)))
    max_n = 8 if nd < 3 else 5
    spatial = tuple(data.draw(st.integers(1, max_n)) for _ in range(nd))
    channels = data.draw(st.sampled_from(((), (2,))))
    kshape = tuple(2 * data.draw(st.integers(0, 4)) + 1 for _ in range(nd))
    image = data.draw(images((*spatial, *channels)))
    kernel = data.draw(kernels(kshape))
    cval = data.draw(floats(-20, 20))
    assume(scipy_handles(spatial, kshape, mode))
    got = convolve(image, kernel, mode=mode, cval=cval)
    kfull = kernel.reshape(kernel.shape + (1,) * len(channels))
    ref = ndi.convolve(image.astype(np.float64), kfull, mode=SCIPY_NAME[mode], cval=cval)
    _, scale = ref_correlate(image, kernel[(slice(None, None, -1),) * nd], mode=mode, cval=cval)
    assert_matches(got, ref, scale, image.dtype)


@pytest.mark.parametrize("pad_kind", PAD_KINDS)
@given(data=st.data())
def test_convolve_is_correlate_with_flipped_kernel(pad_kind, data):
    c = data.draw(linear_cases(pad_kind))
    image, kernel = c["image"], c["kernel"]
    mode = data.draw(st.sampled_from(MODES))
    opts = dict(padding=c["padding"], stride=c["stride"], dilation=c["dilation"], mode=mode, cval=c["cval"])
    if 0 in expected_shape(image.shape, kernel.shape, c["padding"], c["stride"], c["dilation"]):
        with pytest.raises(ValueError):
            convolve(image, kernel, **opts)
        return
    got = convolve(image, kernel, **opts)
    flipped = kernel[(slice(None, None, -1),) * kernel.ndim]
    ref, scale = ref_correlate(image, flipped, **opts)
    assert_matches(got, ref, scale, image.dtype)


def test_public_api_exports():
    for name in ("correlate", "convolve", "conv2d", "output_shape", "pool"):
        assert callable(getattr(imgfilter, name))
