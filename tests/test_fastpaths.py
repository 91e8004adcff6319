"""Every fast path of the core equals the plain path it replaces.

The fast paths are chosen automatically (separable passes, FFT, running
sums, integer box sums, sorting networks, grey-level counting); here each is
forced on and off on the same inputs. Oracles against SciPy/OpenCV live in
test_core.py and test_filters.py; these tests pin the equivalences.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import imgfilter
from imgfilter.core import linear, rank

MODES = ["constant", "edge", "reflect", "symmetric", "wrap"]


def plain():
    """Every linear filter in the block takes the plain taps (no separable, running-sum or FFT path)."""
    return linear.use_method("taps")


def _tol(image, kernel):
    return 1e-5 * float(np.abs(image).max() * np.abs(kernel).sum())


@pytest.mark.parametrize("mode", MODES)
def test_separable_equals_taps(photo, mode):
    k = np.outer([1.0, 4.0, 6.0, 4.0, 1.0], [-1.0, -2.0, 0.0, 2.0, 1.0])
    assert linear.choose_method(k).name == "separable"
    fast = imgfilter.correlate(photo, k, mode=mode, stride=(2, 1), dilation=(1, 2))
    with plain():
        slow = imgfilter.correlate(photo, k, mode=mode, stride=(2, 1), dilation=(1, 2))
    np.testing.assert_allclose(fast, slow, rtol=0, atol=_tol(photo, k))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("stride,dilation", [(1, 1), (2, 1), (1, 2), ((3, 2), (2, 1))])
def test_fft_equals_taps(photo, mode, stride, dilation):
    k = np.random.default_rng(3).normal(size=(9, 7))
    assert linear.choose_method(k).name == "fft"
    crop = photo[:150, :170]
    fast = imgfilter.correlate(crop, k, mode=mode, stride=stride, dilation=dilation, padding="full")
    with plain():
        slow = imgfilter.correlate(crop, k, mode=mode, stride=stride, dilation=dilation, padding="full")
    np.testing.assert_allclose(fast, slow, rtol=0, atol=_tol(crop, k))


def test_fft_keeps_nan_local():
    """A NaN spreads only to the windows that contain it, as with taps."""
    img = np.zeros((60, 60), np.float32)
    img[30, 30] = np.nan
    out = imgfilter.correlate(img, np.ones((9, 9)))
    assert np.isnan(out[26:35, 26:35]).all()
    assert not np.isnan(out[:25]).any() and not np.isnan(out[36:]).any()


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
@pytest.mark.parametrize("size", [17, 24, 41])
def test_running_sums_equal_taps(photo, dtype, size):
    img = photo[:120, :90].astype(dtype)
    fast = imgfilter.blur(img, size, mode="wrap")
    with plain():
        slow = imgfilter.blur(img, size, mode="wrap")
    if np.dtype(dtype).kind == "f":
        np.testing.assert_allclose(fast, slow, rtol=1e-5, atol=1e-4)
    else:
        np.testing.assert_array_equal(fast, slow)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
@pytest.mark.parametrize("size", [5, (6, 7), (9, 4), 11, 16])
def test_doubling_sums_equal_taps(photo, dtype, size):
    """Equal-tap passes of 5 to 16 taps sum by doubling (2, 4, 8 neighbours)."""
    img = photo[:120, :90].astype(dtype)
    fast = imgfilter.blur(img, size, mode="reflect")
    box = np.ones(size if isinstance(size, tuple) else (size, size))
    fast_corr = imgfilter.correlate(img, box * 0.5, mode="constant", cval=3.0)
    with plain():
        slow = imgfilter.blur(img, size, mode="reflect")
        slow_corr = imgfilter.correlate(img, box * 0.5, mode="constant", cval=3.0)
    if np.dtype(dtype).kind == "f":
        np.testing.assert_allclose(fast, slow, rtol=1e-5, atol=1e-4)
    else:
        np.testing.assert_array_equal(fast, slow)
    np.testing.assert_allclose(fast_corr, slow_corr, rtol=1e-6)


def test_doubling_sums_keep_nan_local():
    """A NaN spreads only to the windows that contain it, as with taps."""
    img = np.zeros((40, 40), np.float32)
    img[20, 20] = np.nan
    out = imgfilter.correlate(img, np.ones((7, 9)))
    expect = np.zeros((40, 40), bool)
    expect[17:24, 16:25] = True
    np.testing.assert_array_equal(np.isnan(out), expect)


@pytest.mark.parametrize("size", [2, 3, 6])
def test_integer_box_equals_float_box(photo, size):
    """The exact integer-sum path rounds as the float path on the same values."""
    img = photo[:100, :100]
    ints = imgfilter.blur(img, size, mode="symmetric")
    floats = imgfilter.blur(img.astype(np.float64), size, mode="symmetric")
    np.testing.assert_array_equal(ints, np.clip(np.rint(floats), 0, 255).astype(np.uint8))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float16])
@pytest.mark.parametrize("size", [3, 5, 7, 9, 11])
def test_median_filter_fast_equals_select(photo, dtype, size):
    """The chosen method (network, histogram) equals plain selection."""
    img = photo[:80, :70].astype(dtype)
    fast = imgfilter.median(img, size, mode="reflect")
    slow = rank.median_filter(img, size, "reflect", method="select")
    np.testing.assert_array_equal(fast, slow)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_bands_and_threads_do_not_change_results(photo, threads, monkeypatch):
    """Tiny bands (one row each) on any number of threads give the same bits."""
    ref = [
        imgfilter.gaussian(photo, 2.0),
        imgfilter.median(photo, 5),
        imgfilter.sobel(photo),
        imgfilter.bilateral(photo[:64, :64]),
    ]
    from imgfilter.core import tiles

    monkeypatch.setattr(tiles, "BAND_BYTES", 1)
    got = [
        imgfilter.gaussian(photo, 2.0, threads=threads),
        imgfilter.median(photo, 5, threads=threads),
        imgfilter.sobel(photo, threads=threads),
        imgfilter.bilateral(photo[:64, :64], threads=threads),
    ]
    for a, b in zip(ref, got, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize(
    "run",
    [
        lambda x, **kw: imgfilter.gaussian(x, 2.0, **kw),
        lambda x, **kw: imgfilter.gaussian(x, (0.7, 3.0), **kw),
        lambda x, **kw: imgfilter.blur(x, 5, **kw),
        lambda x, **kw: imgfilter.blur(x, (2, 19), **kw),
        lambda x, **kw: imgfilter.blur(x, 4, **kw),
        lambda x, **kw: imgfilter.blur(x, (2, 8), **kw),
    ],
    ids=["gaussian2", "gaussian-aniso", "blur5", "blur2x19", "blur4", "blur2x8"],
)
def test_linear_light_in_bands_equals_whole_image_decoding(photo, mode, dtype, run):
    """--linear decodes and encodes band by band on the threads (uint8/uint16
    without alpha or masks); it must equal decoding the whole image, filtering
    the floats and encoding the result (the path everything else takes)."""
    from imgfilter.core.srgb import in_linear_light

    img = photo[:301, :257] if dtype == np.uint8 else photo[:301, :257].astype(np.uint16) * 257 + 11
    fused = run(img, mode=mode, linear=True)
    whole = in_linear_light(img, False, lambda x: run(x, mode=mode))
    assert fused.dtype == img.dtype
    np.testing.assert_array_equal(fused, whole)
    grey = img[..., 1]
    np.testing.assert_array_equal(
        run(grey, mode=mode, linear=True), in_linear_light(grey, False, lambda x: run(x, mode=mode))
    )


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize(
    "size,stride,padding",
    [(2, None, "valid"), ((2, 3), None, "valid"), (3, 2, "same"), (3, 1, "same"), (2, None, 1)],
)
def test_linear_average_pool_in_bands_equals_whole_image_decoding(photo, dtype, size, stride, padding):
    """Average pooling in linear light decodes and encodes band by band; it
    must equal decoding the whole image, pooling the floats and encoding."""
    from imgfilter.core.srgb import encode_float, in_linear_light

    img = photo[:203, :157] if dtype == np.uint8 else photo[:203, :157].astype(np.uint16) * 257 + 11
    top = float(np.iinfo(dtype).max)
    for x in (img, img[..., 1], img[:, :-1, 1]):  # RGB, grey, and an odd pixel count
        fused = imgfilter.pool(x, size, stride=stride, padding=padding, op="avg", linear=True)
        whole = in_linear_light(
            x,
            False,
            lambda v: imgfilter.pool(v, size, stride=stride, padding=padding, op="avg"),
            reencode=False,
        )
        assert fused.dtype == np.float32
        np.testing.assert_array_equal(fused, whole)
        # Both are the encoded mean of the decoded codes.
        mean = imgfilter.pool(imgfilter.core.srgb.decode(x), size, stride=stride, padding=padding, op="avg")
        np.testing.assert_array_equal(fused, encode_float(mean, top))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("dx,dy,cval", [(0.5, 0.25, 0), (-3.75, 2.5, 200), (7, -2, 30), (0.3, 0, 255)])
def test_linear_shift_in_bands_equals_whole_image_decoding(photo, mode, dtype, dx, dy, cval):
    from imgfilter.core.srgb import in_linear_light, to_linear

    img = photo[:203, :157] if dtype == np.uint8 else photo[:203, :157].astype(np.uint16) * 257 + 11
    top = float(np.iinfo(dtype).max)
    c = cval if dtype == np.uint8 else cval * 257
    c_lin = float(to_linear(c / top) * top)
    fused = imgfilter.shift(img, dx, dy, mode=mode, cval=c, linear=True)
    whole = in_linear_light(img, False, lambda x: imgfilter.shift(x, dx, dy, mode=mode, cval=c_lin))
    assert fused.dtype == img.dtype
    np.testing.assert_array_equal(fused, whole)


def test_power_of_two_split():
    ints, e = linear.power_of_two_split([np.array([0.5, 0.5]), np.array([0.75, 0.25])])
    assert e == 3
    np.testing.assert_array_equal(ints[0], [1, 1])
    np.testing.assert_array_equal(ints[1], [3, 1])
    ints, e = linear.power_of_two_split([np.ones(5), np.array([1.0, 2.0, 1.0])])
    assert e == 0
    from imgfilter.kernels import gaussian_kernel1d

    gauss = gaussian_kernel1d(1.5, 0, 4)
    ints, e = linear.power_of_two_split([np.array([1.0, 2.0]), gauss])
    assert e == 0 and np.array_equal(ints[1], gauss)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
@pytest.mark.parametrize("dx,dy", [(0.5, 0.5), (0.25, -0.75), (0.5, 0.0), (1.5, 0.125)])
def test_power_of_two_shifts_equal_the_taps_bit_for_bit(photo, monkeypatch, dtype, dx, dy):
    """Half and quarter pixel shifts filter with integer taps and scale once:
    scaling by a power of two is exact, so the bits equal the fractional
    weights applied tap by tap."""
    from imgfilter.filters import shift as shift_module

    img = photo[:90, :70].astype(dtype) if dtype != np.uint16 else photo[:90, :70].astype(dtype) * 257
    fast = imgfilter.shift(img, dx, dy, mode="reflect")
    fast_alpha = imgfilter.shift(np.dstack([img, img[..., :1]]), dx, dy, mode="constant", cval=0)
    with plain():
        monkeypatch.setattr(shift_module, "power_of_two_split", lambda f: (list(f), 0))
        slow = imgfilter.shift(img, dx, dy, mode="reflect")
        slow_alpha = imgfilter.shift(np.dstack([img, img[..., :1]]), dx, dy, mode="constant", cval=0)
    np.testing.assert_array_equal(fast, slow)
    np.testing.assert_array_equal(fast_alpha, slow_alpha)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("exponent", [1, 2, 3, 5])
def test_encode_with_a_power_of_two_scale_equals_scaling_first(dtype, exponent):
    """encode(x, exponent=e) is encode(x * 2**-e): on and around every code
    threshold (scaled up), for random, tiny, negative and special values."""
    from imgfilter.core import srgb

    top = int(np.iinfo(dtype).max)
    thresholds = srgb._tables(top + 1)[1].astype(np.float32)
    up = thresholds.view(np.uint32).astype(np.int64) + (exponent << 23)
    near = (up[:, None] + np.arange(-2, 3)).ravel().astype(np.uint32).view(np.float32)
    rng = np.random.default_rng(exponent)
    x = np.concatenate(
        [
            near,
            rng.uniform(-10, 1.2 * top * 2**exponent, 200_000).astype(np.float32),
            np.array([0.0, -0.0, 1e-40, 2.0**-126, 2.0**-120, -1.0, np.inf, -np.inf], dtype=np.float32),
        ]
    )
    expected = srgb.encode(x * np.float32(2.0**-exponent), dtype)
    np.testing.assert_array_equal(srgb.encode(x, dtype, exponent=exponent), expected)
    out = np.empty(x.shape, dtype)
    assert srgb.encode(x, dtype, exponent=exponent, out=out) is out
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("divisor", [9.0, 25.0, 15.0, 289.0, 4.0, 1.5])
def test_encode_with_a_divisor_equals_dividing_first(dtype, divisor):
    """encode(x, divisor=d) gives the codes of the float32 quotient x / d
    (the box blur's division, left to the 8-bit lookup table): on and around
    every code threshold times d, for random, negative and special values."""
    from imgfilter.core import srgb

    top = int(np.iinfo(dtype).max)
    thresholds = srgb._tables(top + 1)[1].astype(np.float32)
    up = (thresholds.astype(np.float64) * divisor).astype(np.float32).view(np.uint32).astype(np.int64)
    near = (up[:, None] + np.arange(-40, 41)).ravel().astype(np.uint32).view(np.float32)
    rng = np.random.default_rng(int(divisor))
    x = np.concatenate(
        [
            near,
            rng.uniform(-10, 1.2 * top * divisor, 200_000).astype(np.float32),
            np.array([0.0, -0.0, 1e-40, -1.0, 1e38, np.inf, -np.inf], dtype=np.float32),
        ]
    )
    with np.errstate(over="ignore"):
        expected = srgb.encode(x / np.float32(divisor), dtype)
    np.testing.assert_array_equal(srgb.encode(x, dtype, divisor=divisor), expected)
    out = np.empty(x.shape, dtype)
    assert srgb.encode(x, dtype, divisor=divisor, out=out) is out
    np.testing.assert_array_equal(out, expected)


# Strided windows over few channels (the compiled pool keeps every sx-th
# pixel of a folded row). The arithmetic per output is the same as one
# channel at a time, so the result must equal the per-channel results
# stacked, bit for bit, for many channel counts.
@given(
    h=st.integers(1, 12),
    w=st.integers(1, 12),
    channels=st.sampled_from([(2,), (3,), (4,), (8,), (9,), (2, 2)]),
    size=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    padding=st.sampled_from(["valid", "same"]),
    op=st.sampled_from(["max", "min", "avg"]),
    dtype=st.sampled_from([np.uint8, np.float32, np.float64]),
    seed=st.integers(0, 2**16),
)
def test_strided_pool_over_channels_equals_each_channel(
    h, w, channels, size, stride, padding, op, dtype, seed
):
    rng = np.random.default_rng(seed)
    image = (rng.random((h, w, *channels)) * 255).astype(dtype)
    if padding == "valid" and (h < size[0] or w < size[1]):
        return
    got = imgfilter.pool(image, size, stride=stride, op=op, padding=padding)
    flat = image.reshape(h, w, -1)
    each = [
        imgfilter.pool(flat[..., c], size, stride=stride, op=op, padding=padding)
        for c in range(flat.shape[-1])
    ]
    np.testing.assert_array_equal(got, np.stack(each, axis=-1).reshape(got.shape))


@given(
    h=st.integers(1, 10),
    w=st.integers(1, 10),
    channels=st.sampled_from([(2,), (3,), (4,), (9,)]),
    kshape=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    stride=st.tuples(st.integers(1, 3), st.integers(2, 3)),
    weights=st.sampled_from(["random", "ones", "signs"]),
    mode=st.sampled_from(MODES),
    seed=st.integers(0, 2**16),
)
# Found by the thorough profile: numpy's float negative miscomputes this layout.
@example(h=1, w=3, channels=(2,), kshape=(2, 2), stride=(1, 2), weights="signs", mode="constant", seed=0)
def test_strided_correlate_over_channels_equals_each_channel(
    h, w, channels, kshape, stride, weights, mode, seed
):
    """Tap by tap (the fast paths off), every weight group of _accumulate."""
    with plain():
        _check_correlate_over_channels(h, w, channels, kshape, stride, weights, mode, seed)


def _check_correlate_over_channels(h, w, channels, kshape, stride, weights, mode, seed):
    rng = np.random.default_rng(seed)
    image = rng.normal(size=(h, w, *channels)).astype(np.float32)
    k = {
        "random": rng.normal(size=kshape),
        "ones": np.ones(kshape),
        "signs": rng.choice([-1.0, 1.0, 2.0], size=kshape),
    }[weights]
    got = imgfilter.correlate(image, k, mode=mode, stride=stride, padding="same")
    each = [
        imgfilter.correlate(image[..., c], k, mode=mode, stride=stride, padding="same")
        for c in range(channels[0])
    ]
    np.testing.assert_array_equal(got, np.stack(each, axis=-1))


@pytest.mark.parametrize("op", ["max", "avg"])
def test_separable_pool_of_a_volume_equals_the_window_reduction(op):
    """3-D pooling runs one axis at a time; the reduction over whole windows
    (numpy, float64) is the reference."""
    rng = np.random.default_rng(4)
    vol = rng.integers(0, 1000, size=(8, 9, 12, 3)).astype(np.uint16)
    got = imgfilter.pool(vol, (2, 3, 4), op=op)
    blocks = vol.reshape(4, 2, 3, 3, 3, 4, 3).astype(np.float64)
    want = blocks.max(axis=(1, 3, 5)) if op == "max" else blocks.mean(axis=(1, 3, 5))
    np.testing.assert_array_equal(got, want.astype(got.dtype))


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.float32, np.float64])
def test_negated_taps_over_channels_outermost(dtype):
    """A kernel of only negative unit weights starts with a negation, which
    numpy 2.4 miscomputes under order="C" on these layouts (found in review)."""
    from imgfilter.core.options import plan_window

    x = np.arange(6, dtype=dtype).reshape(3, 2)  # (W, C=2), stride 2 along W
    plan = plan_window(x.shape, (1,), "valid", (2,), 1)
    out = np.empty(plan.out_shape, dtype)
    linear._accumulate(x, -np.ones(1), plan, plan.spatial_out, out)
    np.testing.assert_array_equal(out, -x[::2])
    a = np.arange(40, dtype=dtype).reshape(20, 2)
    plan = plan_window(a.shape, (2,), "valid", (4,), 1)
    out = np.empty(plan.out_shape, dtype)
    linear._accumulate(a, -np.ones(2), plan, plan.spatial_out, out)
    np.testing.assert_array_equal(out, -a[0:-1:4] - a[1::4])
