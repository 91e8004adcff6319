"""The fused average pools (imgfilter/_engine/pool_impl.h 'mean', 'decode_mean',
'nanmean': the division at the kernel's store, NaN holes summed with their
weights in the same pass) against a reference that stays: the numpy fold of
tests/numpy_pool_reference.py over explicitly zero-padded values and weights,
then numpy's division (and the codec's encode for linear light). Bit for bit,
on both instruction sets, over odd shapes, every padding, strides, channels
0-4, NaN holes (whole windows of them too), and on the sample photos."""

from __future__ import annotations

import numpy as np
import numpy_pool_reference as ref
import pytest
from hypothesis import given
from hypothesis import strategies as st

import imgfilter
from imgfilter import _engine
from imgfilter.core import srgb
from imgfilter.core.dtypes import float_dtype, sum_dtype
from imgfilter.core.options import plan_window

ISAS = _engine.isas()
KERNELS = _engine._kernels


def _both(fn):
    """fn() on every instruction set; all results equal (bits, NaN included)."""
    results = []
    for name in ISAS:
        previous = _engine.set_isa(name)
        try:
            results.append(fn())
        finally:
            _engine.set_isa(previous)
    for r in results[1:]:
        assert r.dtype == results[0].dtype
        np.testing.assert_array_equal(r.view(np.uint8), results[0].view(np.uint8))
    return results[0]


def _pads(padding, n, k, s):
    """(before, after) per axis, TensorFlow's "same" written out independently."""
    if padding == "valid":
        return [(0, 0)] * len(n)
    if padding == "same":
        pads = []
        for ni, ki, si in zip(n, k, s, strict=True):
            total = max((-(-ni // si) - 1) * si + ki - ni, 0)
            pads.append((total // 2, total - total // 2))
        return pads
    return list(padding)


def reference_avg(x, size, stride=None, padding="valid", *, nan=False, linear=False):
    """Mean over each window's image pixels (valid ones with ``nan``): the numpy
    fold over zero-padded values and over the 0/1 weights, then one division."""
    k = (size, size) if np.isscalar(size) else tuple(size)
    s = k if stride is None else ((stride, stride) if np.isscalar(stride) else tuple(stride))
    result = np.dtype(np.float32) if linear else float_dtype(x.dtype)
    dtype = sum_dtype(x.dtype, result, int(np.prod(k)))
    values = srgb.decode(x).astype(dtype) if linear else x.astype(dtype)
    weight = np.ones(x.shape, dtype)
    if nan:
        holes = np.isnan(values)
        values[holes] = 0
        weight[holes] = 0
    pads = _pads(padding, x.shape[:2], k, s)
    spec = pads + [(0, 0)] * (x.ndim - 2)
    vp, wp = np.pad(values, spec), np.pad(weight, spec)
    plan = plan_window(vp.shape, k, "valid", s, 1)
    num = np.empty(plan.out_shape, dtype)
    den = np.empty(plan.out_shape, dtype)
    ref.fold_window(np.add, vp, plan, plan.spatial_out, num)
    ref.fold_window(np.add, wp, plan, plan.spatial_out, den)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = num / den
    if linear:
        mean = srgb.encode_float(mean, float(np.iinfo(x.dtype).max))
    return mean.astype(result, copy=False)


def _image(rng, shape, dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return (rng.standard_normal(shape) * 100).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(max(info.min, -(2**20)), min(info.max, 2**20) + 1, shape).astype(dtype)


PADDINGS = ["valid", "same", ((1, 0), (0, 1)), ((1, 1), (1, 1))]


@given(
    h=st.integers(1, 12),
    w=st.integers(1, 12),
    channels=st.sampled_from([(), (1,), (2,), (3,), (4,)]),
    ky=st.integers(1, 4),
    kx=st.integers(1, 4),
    sy=st.integers(1, 3),
    sx=st.integers(1, 3),
    padding=st.sampled_from(PADDINGS),
    dtype=st.sampled_from([np.uint8, np.uint16, np.int16, np.int32, np.float16, np.float32, np.float64]),
    seed=st.integers(0, 2**16),
)
def test_average_equals_the_numpy_fold_and_division(h, w, channels, ky, kx, sy, sx, padding, dtype, seed):
    pads = _pads(padding, (h, w), (ky, kx), (sy, sx))
    if any(b >= k or a >= k for (b, a), k in zip(pads, (ky, kx), strict=True)):
        return
    if h + sum(pads[0]) < ky or w + sum(pads[1]) < kx:
        return
    x = _image(np.random.default_rng(seed), (h, w, *channels), dtype)
    want = reference_avg(x, (ky, kx), (sy, sx), padding)
    got = _both(lambda: imgfilter.pool(x, (ky, kx), stride=(sy, sx), padding=padding, op="avg"))
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


@given(
    h=st.integers(1, 12),
    w=st.integers(1, 12),
    channels=st.sampled_from([(), (1,), (3,), (4,)]),
    k=st.integers(1, 4),
    s=st.integers(1, 3),
    padding=st.sampled_from(PADDINGS),
    dtype=st.sampled_from([np.float32, np.float64]),
    holes=st.sampled_from([0.0, 0.05, 0.3, 0.9, 1.0]),
    per_pixel=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_nan_ignore_equals_the_weighted_numpy_fold(
    h, w, channels, k, s, padding, dtype, holes, per_pixel, seed
):
    pads = _pads(padding, (h, w), (k, k), (s, s))
    if any(b >= k or a >= k for b, a in pads) or h + sum(pads[0]) < k or w + sum(pads[1]) < k:
        return
    rng = np.random.default_rng(seed)
    x = _image(rng, (h, w, *channels), dtype)
    spots = rng.random((h, w) if per_pixel else x.shape) < holes
    x[spots] = np.nan
    if x.size > 2:
        x.flat[0], x.flat[-1] = np.inf, -np.inf  # infinities are values, not holes
    want = reference_avg(x, k, s, padding, nan=True)
    for mode in ("ignore", "keep"):
        got = _both(lambda mode=mode: imgfilter.pool(x, k, stride=s, padding=padding, op="avg", nan=mode))
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


@given(
    h=st.integers(1, 10),
    w=st.integers(1, 10),
    channels=st.sampled_from([(), (1,), (3,), (4,)]),
    k=st.integers(1, 4),
    s=st.integers(1, 3),
    padding=st.sampled_from(["valid", "same"]),
    dtype=st.sampled_from([np.uint8, np.uint16]),
    seed=st.integers(0, 2**16),
)
def test_linear_average_equals_decoded_fold_division_and_encode(h, w, channels, k, s, padding, dtype, seed):
    if padding == "valid" and (h < k or w < k):
        return
    rng = np.random.default_rng(seed)
    x = rng.integers(0, np.iinfo(dtype).max + 1, (h, w, *channels)).astype(dtype)
    want = reference_avg(x, k, s, padding, linear=True)
    got = _both(lambda: imgfilter.pool(x, k, stride=s, padding=padding, op="avg", linear=True))
    assert got.dtype == want.dtype == np.float32
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(
    "size, stride, padding", [(2, None, "valid"), (3, 2, "same"), ((4, 3), (3, 2), "same")]
)
def test_photos_bit_for_bit(samples, size, stride, padding):
    rng = np.random.default_rng(11)
    for name, img in samples.items():
        got = _both(lambda img=img: imgfilter.pool(img, size, stride=stride, padding=padding, op="avg"))
        np.testing.assert_array_equal(got, reference_avg(img, size, stride, padding))
        if img.dtype in (np.uint8, np.uint16):
            lin = _both(
                lambda img=img: imgfilter.pool(
                    img, size, stride=stride, padding=padding, op="avg", linear=True
                )
            )
            np.testing.assert_array_equal(lin, reference_avg(img, size, stride, padding, linear=True))
        holes = img.astype(np.float32)
        holes[rng.random(img.shape[:2]) < 0.01] = np.nan
        got = _both(
            lambda h=holes: imgfilter.pool(h, size, stride=stride, padding=padding, op="avg", nan="ignore")
        )
        np.testing.assert_array_equal(
            got, reference_avg(holes, size, stride, padding, nan=True), err_msg=name
        )
        assert np.isnan(got).sum() < np.isnan(holes).sum()  # the holes are filled, not spread


def test_the_reference_can_fail():
    x = np.arange(24, dtype=np.float32).reshape(4, 6)
    want = reference_avg(x, 2)
    np.testing.assert_array_equal(want, x.reshape(2, 2, 3, 2).mean(axis=(1, 3)))
    bad = want.copy()
    bad[0, 0] = np.nextafter(bad[0, 0], np.float32(np.inf))
    assert not np.array_equal(imgfilter.pool(x, 2, op="avg"), bad)


def test_kernel_means_take_any_window_counts():
    rng = np.random.default_rng(3)
    src = rng.integers(0, 256, (7, 9, 3)).astype(np.uint8)
    cy = rng.integers(1, 9, 3).astype(np.int64)
    cx = rng.integers(1, 9, 4).astype(np.int64)
    plan = plan_window(src.shape, (3, 2), "valid", (2, 2), 1)
    sums = np.empty(plan.out_shape, np.float32)
    ref.fold_window(np.add, src.astype(np.float32), plan, plan.spatial_out, sums)
    want = sums / (cy[:, None] * cx[None, :]).astype(np.float32)[..., None]

    def run():
        out = np.empty(plan.out_shape, np.float32)
        KERNELS.pool(src, out, 3, 4, 3, 27, 3, 2, 2, 2, "mean", cy, cx)
        return out

    np.testing.assert_array_equal(_both(run), want)


def test_kernel_means_refuse_bad_counts():
    src = np.zeros((4, 4), np.float32)
    dst = np.zeros((2, 2), np.float32)
    good = np.full(2, 2, np.int64)
    with pytest.raises(ValueError):
        KERNELS.pool(src, dst, 2, 2, 1, 4, 2, 2, 2, 2, "mean")
    with pytest.raises(ValueError):
        KERNELS.pool(src, dst, 2, 2, 1, 4, 2, 2, 2, 2, "mean", good, np.full(3, 2, np.int64))
    with pytest.raises(ValueError):
        KERNELS.pool(src, dst, 2, 2, 1, 4, 2, 2, 2, 2, "mean", good, good.astype(np.int32))
    with pytest.raises(TypeError):
        KERNELS.pool(src.astype(np.int16), dst, 2, 2, 1, 4, 2, 2, 2, 2, "mean", good, good)
    with pytest.raises(TypeError):
        KERNELS.pool(src.astype(np.uint8), dst, 2, 2, 1, 4, 2, 2, 2, 2, "nanmean")
    with pytest.raises(IndexError):
        KERNELS.pool(src, np.zeros((3, 2), np.float32), 2, 2, 1, 4, 2, 2, 2, 2, "nanmean")


SPECIALS = np.array(
    [0.0, -0.0, 1e-45, -1e-45, 3e-39, 1.2e-38, 1.0, -3.5, 1e30, 3.4e38, -3.4e38, np.inf, -np.inf, np.nan],
    np.float32,
)


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", [(2, 2), (4, 4), (2, 4), (1, 2), (3, 3), (2, 3)])
def test_power_of_two_windows_scale_as_the_division_would(dtype, size):
    # Windows of 2^k pixels multiply by 2^-k (the same real number as dividing,
    # rounded once): subnormal, overflowing, infinite and NaN means alike.
    rng = np.random.default_rng(sum(size))
    x = rng.choice(SPECIALS, size=(24, 40, 3)).astype(dtype) * rng.choice(
        [1, 2**-20, 2**20], size=(24, 40, 3)
    )
    x = x.astype(dtype)
    want = reference_avg(x, size)
    finite = ~np.isnan(want)
    assert np.isinf(want).any() and (want[finite & ~np.isinf(want)] != 0).any()
    for name in ISAS:
        previous = _engine.set_isa(name)
        try:
            got = imgfilter.pool(x, size, op="avg")
        finally:
            _engine.set_isa(previous)
        # Bits, except a NaN's sign and payload: x86 keeps the first operand's NaN,
        # and the order of an addition's operands is the compiler's (vectors too).
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_array_equal(got[finite].view(np.uint8), want[finite].view(np.uint8))
