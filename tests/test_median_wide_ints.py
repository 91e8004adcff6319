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


@pytest.mark.parametrize(
    ("dtype", "k"), [(np.float32, 11), (np.float64, 13), (np.int32, 7), (np.uint32, 9), (np.int8, 7)]
)
@pytest.mark.parametrize("mode", sorted(PAD))
@pytest.mark.parametrize("threads", [1, 2])
def test_windows_without_a_network_take_the_rank_route(dtype, k, mode, threads):
    """Sizes and types with no sorting network (nor 8/16-bit histogram) go the
    rank filters' way (sliding histograms of the values' ranks): the window
    sort's middle, exactly; a window holding a NaN is NaN as for the networks'
    sizes; nan="ignore" is numpy.nanmedian of each window."""
    rng = np.random.default_rng(k)
    a = (rng.normal(size=(30, 27, 2)) * 50).astype(dtype)
    r = k // 2
    padded = np.pad(a, ((r, r), (r, r), (0, 0)), mode=PAD[mode])
    windows = sliding_window_view(padded, (k, k), axis=(0, 1)).reshape(30, 27, 2, k * k)
    got = imgfilter.median(a, k, mode=mode, threads=threads)
    assert got.dtype == a.dtype
    np.testing.assert_array_equal(got, np.sort(windows, axis=-1)[..., k * k // 2])
    if a.dtype.kind != "f":
        return
    a[7, 9, 0] = np.nan
    padded = np.pad(a, ((r, r), (r, r), (0, 0)), mode=PAD[mode])
    windows = sliding_window_view(padded, (k, k), axis=(0, 1)).reshape(30, 27, 2, k * k)
    held = np.isnan(windows).any(axis=-1)
    got = imgfilter.median(a, k, mode=mode, threads=threads)
    np.testing.assert_array_equal(np.isnan(got), held)
    np.testing.assert_array_equal(got[~held], np.sort(windows, axis=-1)[..., k * k // 2][~held])
    ignored = imgfilter.median(a, k, mode=mode, nan="ignore", threads=threads)
    want = np.nanmedian(windows.astype(np.float64), axis=-1).astype(dtype)
    np.testing.assert_array_equal(ignored, want)
