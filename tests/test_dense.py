"""Separable kernels never materialize densely; Dask halos never exceed the image.

Issue 14, "memory is bounded whatever the parameter": a separable kernel
(the Gaussian's, the box's, folded or not) is applied by its factors, so its
dense outer product (kh x kw taps) is built only for a method that reads
every tap, and bounded there; a Dask chunk whose halo would be longer than
an axis reads that whole axis instead, so it holds no more than the image.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import tracemalloc

import numpy as np
import pytest

import imgfilter
from imgfilter.core import linear
from imgfilter.core.linear import dense_kernel, use_method
from imgfilter.core.names import OptionError
from imgfilter.core.options import plan_window
from imgfilter.kernels import gaussian_kernel1d


def _ones_window_sum(k, f, plan, dtype):
    """The reference the bands' full-window test used: filter a block of ones of the kernel's extent."""
    eff = tuple(plan.eff)
    ones_plan = plan_window(eff, k.shape, 0, 1, plan.dilation)
    one = np.empty((1,) * plan.ndim, dtype=dtype)
    linear._filter_band(np.ones(eff, dtype=dtype), k, f, ones_plan, (1,) * plan.ndim, one)
    return one.flat[0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "factors",
    [
        [gaussian_kernel1d(3.0, 0, 12), gaussian_kernel1d(7.5, 0, 30)],
        [np.full(21, 1 / 21), np.full(33, 1 / 33)],  # running sums on both axes
        [np.full(25, 0.1), gaussian_kernel1d(1.3, 0, 4)],
        [np.array([0.25, 0.5, 0.25]), np.array([1.0, -2.0, 1.0])],
    ],
)
@pytest.mark.parametrize("dilation", [1, 3])
def test_window_sum_line_by_line_equals_the_block_of_ones(factors, dtype, dilation):
    dtype = np.dtype(dtype)
    shape = tuple(len(f) for f in factors)
    plan = plan_window((200, 300), shape, "same", 1, dilation)
    f = [np.asarray(v, dtype=dtype) for v in factors]
    k = np.multiply.outer(factors[0], factors[1]).astype(dtype)
    got = linear._window_sum(None, f, plan, dtype)
    want = _ones_window_sum(k, f, plan, dtype)
    assert got.dtype == want.dtype and got.tobytes() == want.tobytes()


def test_dense_kernel_from_a_stand_in_is_the_outer_product():
    a, b = np.array([1.0, 2.0, 0.5]), np.array([0.25, 3.0])
    stand_in = np.broadcast_to(1.0, (3, 2))
    got = dense_kernel(stand_in, [a, b], np.dtype(np.float32), 10**6)
    np.testing.assert_array_equal(got, np.multiply.outer(a, b).astype(np.float32))
    # A real kernel is taken as it is, factors or not.
    real = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(dense_kernel(real, [a, b], np.dtype(np.float64), 10**6), real)
    # A 1x1 stand-in is the product of the single taps, not its placeholder 1.
    one = dense_kernel(
        np.broadcast_to(1.0, (1, 1)), [np.array([0.5]), np.array([3.0])], np.dtype(np.float64), 1
    )
    assert one.tolist() == [[1.5]]


def test_forced_taps_on_a_huge_separable_kernel_is_refused_cleanly():
    img = np.zeros((4000, 4000), np.uint8)
    with use_method("taps"), pytest.raises(OptionError, match="kernel of shape"):
        imgfilter.blur(img, 100000)


@pytest.mark.parametrize("method", ["taps", "separable"])
def test_forced_methods_agree_on_a_folded_separable_kernel(method):
    img = np.random.default_rng(1).random((16, 300))
    want = imgfilter.gaussian(img, 1000.0)
    with use_method(method):
        got = imgfilter.gaussian(img, 1000.0)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("nan", ["propagate", "ignore"])
def test_gaussian_far_beyond_the_image_builds_no_dense_kernel(nan):
    # The folded kernel is 1023 x 1023: densely, 12 bytes a tap (float64 and
    # float32 copies) would be 12 times this image on top of the bands.
    img = np.random.default_rng(0).random((512, 512)).astype(np.float32)
    img[5, 7] = np.nan if nan == "ignore" else img[5, 7]
    tracemalloc.start()
    try:
        out = imgfilter.gaussian(img, 1000.0, threads=1, nan=nan)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.shape == img.shape and np.isfinite(out).all()
    assert peak < 20 * img.nbytes, peak / img.nbytes


CHILD = """
import resource
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
import numpy as np
import imgfilter
"""


def _run_limited(body: str, limit: int = 3 * 2**30) -> None:
    code = CHILD.format(limit=limit) + textwrap.dedent(body) + '\nprint("OK")\n'
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().endswith("OK"), proc.stdout


def test_gaussian_sigma_1000_on_a_wide_short_image_under_an_address_limit():
    _run_limited(
        """
        img = np.random.default_rng(0).integers(0, 256, (16, 4000, 3), dtype=np.uint8)
        out = imgfilter.gaussian(img, 1000.0)
        assert out.shape == img.shape and out.dtype == img.dtype
        out = imgfilter.gaussian(img.astype(np.float32), 1000.0, nan="ignore")
        assert out.shape == img.shape
        """,
        limit=2 * 2**30,
    )


def test_dask_gaussian_sigma_3000_equals_numpy_under_an_address_limit():
    # Unclipped, each 16x16 chunk would gather a 24016 x 24016 region.
    pytest.importorskip("dask.array")
    _run_limited(
        """
        import dask.array as da
        rng = np.random.default_rng(0)
        for dtype in (np.uint8, np.uint16, np.float32):
            img = (rng.random((64, 64, 3)) * 200).astype(dtype)
            for mode in ("reflect", "symmetric", "wrap", "edge", "constant"):
                for sigma in (3000.0, (3000.0, 1.5), (2.0, 3000.0)):
                    want = imgfilter.gaussian(img, sigma, mode=mode)
                    got = imgfilter.gaussian(da.from_array(img, chunks=(16, 16, 3)), sigma, mode=mode)
                    got = got.compute()
                    assert got.dtype == want.dtype and np.array_equal(got, want), (dtype, mode, sigma)
        # Missing pixels (nan=, mask=) and a box far longer than the image, too.
        img = (rng.random((64, 64, 3)) * 255).astype(np.float32)
        img[rng.random((64, 64)) < 0.05] = np.nan
        mask = rng.random((64, 64)) > 0.1
        u8 = (rng.random((64, 64, 3)) * 255).astype(np.uint8)
        for mode in ("reflect", "wrap", "edge", "constant"):
            chunked = da.from_array(img, chunks=(16, 16, 3))
            want = imgfilter.gaussian(img, 3000.0, mode=mode, nan="ignore")
            got = imgfilter.gaussian(chunked, 3000.0, mode=mode, nan="ignore").compute()
            assert np.array_equal(got, want, equal_nan=True), mode
            chunked = da.from_array(u8, chunks=(16, 16, 3))
            want = imgfilter.gaussian(u8, (3000.0, 2.0), mode=mode, mask=mask)
            got = imgfilter.gaussian(chunked, (3000.0, 2.0), mode=mode, mask=mask).compute()
            assert np.array_equal(got, want), mode
            want = imgfilter.blur(u8, 5001, mode=mode)
            assert np.array_equal(imgfilter.blur(chunked, 5001, mode=mode).compute(), want), mode
        """
    )


def test_dask_padding_aware_filters_with_halos_beyond_the_image():
    pytest.importorskip("dask.array")
    _run_limited(
        """
        import dask.array as da
        img = np.random.default_rng(2).random((40, 50)).astype(np.float32)
        x = da.from_array(img, chunks=(16, 16))
        # Sparse (taps, not FFT: per-band transforms round by band) and long.
        k = np.zeros((3, 3000))
        k.flat[np.random.default_rng(3).choice(k.size, 30, replace=False)] = 1 / 30
        k[1, 29] = 0.5
        for padding, stride in (("same", 1), ("same", 3), ("full", 1), ("full", 7), ("valid", 1)):
            k2 = k[:, :30] if padding == "valid" else k
            for mode in ("reflect", "wrap", "edge", "constant"):
                kw = dict(padding=padding, stride=stride, mode=mode, cval=0.5)
                want = imgfilter.correlate(img, k2, **kw)
                got = imgfilter.correlate(x, k2, **kw).compute()
                assert got.shape == want.shape, (padding, mode, got.shape, want.shape)
                assert np.array_equal(got, want), (padding, stride, mode)
        """
    )
