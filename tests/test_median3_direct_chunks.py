"""The 3 x 3 integer median read in place (method 3, rank_impl.h direct3)
across its chunks: rows longer than a chunk of D3_CHUNK_BYTES, chunk ends
that fall inside a pixel (widths and channel counts that do not divide it),
every border mode and integer width, on both instruction sets, against the
middle of each sorted window (and scipy.ndimage.median_filter below 64
bits: SciPy 1.17 misorders full-range 64-bit integers, on every mode)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndi

import imgfilter
from imgfilter import _engine
from imgfilter.core.border import extend
from imgfilter.core.names import MODES, SCIPY_MODE

ISAS = _engine.isas()


def sorted_middles(x: np.ndarray, mode: str) -> np.ndarray:
    block = extend(x, ((-1, x.shape[0] + 1), (-1, x.shape[1] + 1)), mode, 0)
    win = np.lib.stride_tricks.sliding_window_view(block, (3, 3), axis=(0, 1))
    return np.sort(win.reshape(*win.shape[:-2], 9), axis=-1)[..., 4]


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.uint32, np.int64])
@pytest.mark.parametrize("width, channels", [(1500, 3), (1367, 4), (4099, 1), (700, 7)])
def test_wide_rows_equal_the_sorted_middles(dtype, width, channels):
    rng = np.random.default_rng(width * channels)
    info = np.iinfo(dtype)
    x = rng.integers(info.min, info.max, (5, width, channels), dtype=dtype, endpoint=True)
    for mode in MODES:
        expected = sorted_middles(x, mode)
        if np.dtype(dtype).itemsize < 8:
            np.testing.assert_array_equal(
                ndi.median_filter(x, size=(3, 3, 1), mode=SCIPY_MODE[mode]), expected
            )
        for name in ISAS:
            previous = _engine.set_isa(name)
            try:
                got = imgfilter.median(x, 3, mode=mode, threads=1)
            finally:
                _engine.set_isa(previous)
            np.testing.assert_array_equal(got, expected, err_msg=f"{name} {mode}")


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.uint16, np.int32, np.uint64])
@pytest.mark.parametrize(
    "height, width, channels", [(1, 1, 1), (2, 1, 3), (1, 2, 1), (3, 2, 5), (4, 3, 1), (2, 5, 33)]
)
def test_narrow_images_take_their_edges_through_the_mode(dtype, height, width, channels):
    # Images of one, two and three columns: every output pixel is an edge
    # pixel (or both edges at once), read through `left` and `right`.
    rng = np.random.default_rng(height * 100 + width * 10 + channels)
    info = np.iinfo(dtype)
    x = rng.integers(info.min, info.max, (height, width, channels), dtype=dtype, endpoint=True)
    for mode in MODES:
        expected = sorted_middles(x, mode)
        for name in ISAS:
            previous = _engine.set_isa(name)
            try:
                got = imgfilter.median(x, 3, mode=mode, threads=1)
            finally:
                _engine.set_isa(previous)
            np.testing.assert_array_equal(got, expected, err_msg=f"{name} {mode}")
