"""64-bit integer medians are the exact sort of each window (values beyond 2**53)."""

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

import imgfilter

# numpy.pad's names for our border modes.
PAD = {"reflect": "reflect", "symmetric": "symmetric", "edge": "edge", "wrap": "wrap"}


@pytest.mark.parametrize("dtype", [np.int64, np.uint64])
@pytest.mark.parametrize("mode", sorted(PAD))
@pytest.mark.parametrize("k", [3, 5, 11])
def test_wide_integer_median_is_the_window_sort(dtype, mode, k):
    info = np.iinfo(dtype)
    rng = np.random.default_rng(k)
    a = rng.integers(info.min // 2, info.max // 2, (13, 17, 2), dtype=dtype, endpoint=True)
    a[0, 0, 0], a[5, 5, 1] = info.min, info.max
    r = k // 2
    padded = np.pad(a, ((r, r), (r, r), (0, 0)), mode=PAD[mode])
    windows = sliding_window_view(padded, (k, k), axis=(0, 1)).reshape(13, 17, 2, k * k)
    expected = np.sort(windows, axis=-1)[..., k * k // 2]
    got = imgfilter.median(a, k, mode=mode)
    assert got.dtype == a.dtype
    np.testing.assert_array_equal(got, expected)
