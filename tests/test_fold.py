"""Kernels longer than the image fold onto the border's period with the same sums.

Oracle: numpy.pad (the modes' own definitions) and a direct dot product per
output, in exact integer arithmetic, so "the same" means equal.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndi
from hypothesis import given
from hypothesis import strategies as st

import imgfilter
from imgfilter.core import fold
from imgfilter.core.linear import as_kernel, run_linear
from imgfilter.core.names import MODES, SCIPY_MODE
from imgfilter.core.options import plan_window


def direct(x, w, mode, cval, before, stride, dilation, n_out):
    """out[o] = sum_t w[t] * X(o * stride - before + t * dilation), X from numpy.pad."""
    reach = before + (n_out - 1) * stride + dilation * (len(w) - 1) + len(x) + 1
    kw = {"constant_values": cval} if mode == "constant" else {}
    xp = np.pad(x, (reach, reach), mode=mode, **kw)
    return np.array(
        [
            sum(int(w[t]) * int(xp[reach + o * stride - before + t * dilation]) for t in range(len(w)))
            for o in range(n_out)
        ]
    )


@st.composite
def axes(draw):
    n = draw(st.integers(1, 12))
    taps = draw(st.integers(1, 20 * n))
    dilation = draw(st.sampled_from([1, 1, 1, 2, 3, 7]))
    stride = draw(st.sampled_from([1, 1, 2, 3]))
    eff = dilation * (taps - 1) + 1
    before = draw(st.sampled_from([eff // 2, 0, eff - 1, draw(st.integers(0, eff + n))]))
    after = draw(st.integers(0, eff + n))
    span = n + before + after - eff
    if span < 0:
        after += -span
        span = 0
    n_out = span // stride + 1
    x = np.array(draw(st.lists(st.integers(-9, 9), min_size=n, max_size=n)))
    w = np.array(draw(st.lists(st.integers(-5, 5), min_size=taps, max_size=taps)))
    return x, w, before, stride, dilation, n_out


@pytest.mark.parametrize("mode", MODES)
@given(case=axes(), cval=st.integers(-9, 9))
def test_axis_fold_gives_the_same_sums(mode, case, cval):
    x, w, before, stride, dilation, n_out = case
    n = len(x)
    expected = direct(x, w, mode, cval, before, stride, dilation, n_out)
    f = fold.axis_fold(n, n_out, stride, dilation, before, len(w), mode, min_extent=0)
    eff = dilation * (len(w) - 1) + 1
    if f is None:
        return
    position, length, new_before = f
    assert length < eff
    # At most a period (plus the centre tap), or the image and the outputs' span plus two.
    bound = (fold.period(n, mode) or n + (n_out - 1) * stride + n) + 2
    assert length <= bound
    folded = fold.fold_weights(w, 0, position, length).round().astype(np.int64)
    assert folded.sum() == w.sum()
    got = direct(x, folded, mode, cval, new_before, stride, 1, n_out)
    np.testing.assert_array_equal(got, expected)


def test_period_of_one_pixel_is_one():
    # numpy's "reflect" of one pixel repeats it (d c b | a b c d with n = 1).
    assert np.pad(np.array([5]), 3, mode="reflect").tolist() == [5] * 7
    assert [fold.period(1, m) for m in ("reflect", "symmetric", "wrap")] == [1, 2, 1]
    assert fold.period(4, "reflect") == 6 and fold.period(4, "symmetric") == 8 and fold.period(4, "wrap") == 4


def test_huge_dilation_folds_without_overflow():
    # 3 taps 10**20 apart: offsets beyond int64 are reduced exactly (Python ints).
    d = 10**20
    for mode in MODES:
        f = fold.axis_fold(5, 5, 1, d, d, 3, mode)
        assert f is not None and f[1] <= 12
    # The same sums as with the dilation reduced by a multiple of the period.
    x = np.arange(1, 6)
    w = np.array([2, -1, 3])
    for mode in ("reflect", "symmetric", "wrap"):
        p = fold.period(5, mode)
        small = d % p + p
        position, length, before = fold.axis_fold(5, 5, 1, d, d, 3, mode)
        folded = fold.fold_weights(w, 0, position, length).round().astype(np.int64)
        ref = direct(x, w, mode, 0, small, 1, small, 5)
        np.testing.assert_array_equal(direct(x, folded, mode, 0, before, 1, 1, 5), ref)


def test_short_kernels_are_left_alone():
    plan = plan_window((512, 512), (801, 801), "same", 1, 1)
    k = np.ones((3, 3))
    assert fold.fold_linear(k, (), None, plan, "reflect")[3] is plan
    factors = [np.ones(101), np.ones(1001)]
    assert all(a is b for a, b in zip(fold.fold_same(factors, (512, 512), "edge"), factors, strict=True))


@st.composite
def images_and_kernels(draw):
    h, w = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    kh = draw(st.sampled_from([1, 2, 3, fold.FOLD_MIN_EXTENT + draw(st.integers(1, 40))]))
    long = fold.FOLD_MIN_EXTENT + draw(st.integers(1, 40))
    # One long axis at a time keeps the oracle's dot products small.
    kw = draw(st.sampled_from([1, 3] if kh > 3 else [1, 3, long]))
    x = np.array(draw(st.lists(st.integers(-9, 9), min_size=h * w, max_size=h * w)), float).reshape(h, w)
    seed = draw(st.integers(0, 2**32 - 1))
    k = np.random.default_rng(seed).integers(-3, 4, kh * kw).astype(float)
    stride = draw(st.sampled_from([1, 2]))
    padding = draw(st.sampled_from(["same", "valid", "full", 1]))
    return x, k.reshape(kh, kw), stride, padding


def direct_2d(x, k, mode, cval, plan):
    """Border-extended by numpy.pad, then one dot product per output (float64, exact here)."""
    (bh, _), (bw, _) = plan.pads
    reach = [
        bh + plan.out_shape[0] * plan.stride[0] + k.shape[0],
        bw + plan.out_shape[1] * plan.stride[1] + k.shape[1],
    ]
    kw = {"constant_values": cval} if mode == "constant" else {}
    xp = np.pad(x, [(r, r) for r in reach], mode=mode, **kw)
    out = np.empty(plan.out_shape)
    for i in range(plan.out_shape[0]):
        for j in range(plan.out_shape[1]):
            r0 = reach[0] + i * plan.stride[0] - bh
            c0 = reach[1] + j * plan.stride[1] - bw
            out[i, j] = np.sum(xp[r0 : r0 + k.shape[0], c0 : c0 + k.shape[1]] * k)
    return out


@pytest.mark.parametrize("mode", MODES)
@given(case=images_and_kernels(), cval=st.integers(-5, 5))
def test_correlate_with_kernels_longer_than_the_image(mode, case, cval):
    """The whole engine (bands, separable or tap or FFT method) on folded kernels."""
    x, k, stride, padding = case
    try:
        plan = plan_window(x.shape, k.shape, padding, stride, 1)
    except ValueError:
        return
    ref = direct_2d(x, k, mode, cval, plan)
    got = imgfilter.correlate(x, k, mode=mode, cval=cval, padding=padding, stride=stride)
    # FFT (big non-separable kernels) rounds; direct sums of these integers are exact.
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-7 * max(1.0, np.abs(k).sum() * 9))
    # Separable: the factors fold into the factors of the folded kernel.
    kv, kh = k[:, :1], k[:1, :]
    ks = kv * kh
    ref_s = direct_2d(x, ks, mode, cval, plan)
    out = run_linear(x, as_kernel(ks), plan, mode, float(cval), np.dtype(np.float64), 1, [kv[:, 0], kh[0]])
    np.testing.assert_allclose(out, ref_s, rtol=0, atol=1e-9 * max(1.0, np.abs(ks).sum() * 9))


@pytest.mark.parametrize("mode", MODES)
def test_gaussian_sigma_5000_matches_scipy(mode):
    rng = np.random.default_rng(5)
    img = rng.integers(0, 256, (64, 48, 3), dtype=np.uint8)
    ref = ndi.gaussian_filter(img.astype(np.float64), (5000, 5000, 0), mode=SCIPY_MODE[mode])
    got = imgfilter.gaussian(img.astype(np.float32), 5000.0, mode=mode)
    np.testing.assert_allclose(got, ref, rtol=0, atol=2e-3)
    # Integer images: rounded to nearest (float32 sums may sit on the other side of a tie).
    assert np.abs(imgfilter.gaussian(img, 5000.0, mode=mode).astype(float) - ref).max() <= 0.5 + 1e-3


@pytest.mark.parametrize("mode", MODES)
def test_gaussian_long_kernels_match_scipy(mode):
    rng = np.random.default_rng(6)
    img = rng.random((40, 200)).astype(np.float32)
    sigma = (300.0, 2.0)  # rows fold (2401 taps on 40), columns keep their taps
    ref = ndi.gaussian_filter(img.astype(np.float64), sigma, mode=SCIPY_MODE[mode])
    np.testing.assert_allclose(imgfilter.gaussian(img, sigma, mode=mode), ref, rtol=0, atol=1e-5)
    masked = imgfilter.gaussian(img, sigma, mode=mode, nan="ignore")
    np.testing.assert_allclose(masked, ref, rtol=0, atol=1e-5)


@pytest.mark.parametrize("mode", MODES)
def test_blur_size_beyond_the_image_matches_scipy(mode):
    rng = np.random.default_rng(7)
    img = rng.integers(0, 256, (30, 20), dtype=np.uint8)
    for size in [(3001, 5), (7, 100001)]:
        ref = ndi.uniform_filter(img.astype(np.float64), size, mode=SCIPY_MODE[mode])
        got = imgfilter.blur(img, size, mode=mode)
        assert np.abs(got.astype(float) - ref).max() <= 0.5 + 1e-9
        got = imgfilter.blur(img.astype(np.float64), size, mode=mode)
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-9)


def test_huge_dilation_matches_the_reduced_one():
    rng = np.random.default_rng(8)
    img = rng.random((20, 20))
    k = rng.random((3, 3))
    for mode in MODES:
        a = imgfilter.correlate(img, k, mode=mode, dilation=10**9)
        # The same outputs by the modes' definitions: X(o + (t - 1) * 10**9).
        idx = [np.array([(o + (t - 1) * 10**9) for t in range(3)]) for o in range(20)]
        period = fold.period(20, mode)

        def src(i, mode=mode, period=period):
            if mode == "constant":
                return None if not 0 <= i < 20 else i
            if mode == "edge":
                return min(max(i, 0), 19)
            j = i % period
            if mode == "wrap":
                return j
            if mode == "symmetric":
                return j if j < 20 else 2 * 20 - 1 - j
            return j if j < 20 else 2 * 20 - 2 - j

        ref = np.zeros((20, 20))
        for i in range(20):
            for j in range(20):
                for a_ in range(3):
                    for b_ in range(3):
                        r, c = src(idx[i][a_]), src(idx[j][b_])
                        ref[i, j] += k[a_, b_] * (0.0 if r is None or c is None else img[r, c])
        np.testing.assert_allclose(a, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("padding", "stride", "dilation"), [("same", 1, 1), ("full", 2, 1), ("same", 1, 10**9)]
)
def test_conv2d_with_filters_longer_than_the_image(mode, padding, stride, dilation):
    rng = np.random.default_rng(9)
    x = rng.integers(-9, 10, (6, 5, 2)).astype(float)
    f = rng.integers(-3, 4, (2, 2, 1030, 2)).astype(float) if dilation == 1 else rng.random((2, 3, 3, 2))
    got = imgfilter.conv2d(x, f, padding=padding, mode=mode, cval=2.0, stride=stride, dilation=dilation)
    if dilation == 1:
        plan = plan_window(x.shape[:2], f.shape[1:3], padding, stride, 1)
        ref = np.stack(
            [sum(direct_2d(x[..., c], f[n, :, :, c], mode, 2.0, plan) for c in range(2)) for n in range(2)],
            -1,
        )
    else:
        # A dilation of 10**9 reads what the dilation reduced modulo the period
        # does (edge, constant: 10**9 lands outside the image, like 10**3).
        p = fold.period(6, mode), fold.period(5, mode)
        small = tuple(10**3 if q is None else 10**9 % q + 2 * q for q in p)
        ref = imgfilter.conv2d(x, f, padding=padding, mode=mode, cval=2.0, dilation=small)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-9)
