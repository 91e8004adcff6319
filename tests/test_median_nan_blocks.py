"""The valid-only 3 x 3 and 5 x 5 medians (``nan="ignore"``) computed in
blocks of consecutive outputs (rank_impl.h, hb3 / hb5): bit for bit what the
one-window route gives (rows narrower than a block), equal to
numpy.nanmedian window by window, through the public filter on every border
mode, both nan rules that ignore, float32 and float64, and threads 1 and 2."""

from __future__ import annotations

import warnings

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import imgfilter
from imgfilter import _engine
from imgfilter.core import rank
from imgfilter.core.border import extend
from imgfilter.core.names import MODES

ISAS = _engine.isas()


def nanmedians(block: np.ndarray, k: int) -> np.ndarray:
    """numpy.nanmedian of every k x k window of ``block`` (in float64, as the kernels' mean)."""
    win = np.lib.stride_tricks.sliding_window_view(block.astype(np.float64), (k, k), axis=(0, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(win, axis=(-2, -1)).astype(block.dtype)


def engine_median(block: np.ndarray, k: int, nan: int = 2) -> np.ndarray:
    out = np.empty((block.shape[0] - k + 1, block.shape[1] - k + 1, *block.shape[2:]), block.dtype)
    rank.median_block(np.ascontiguousarray(block), k, out, "network", nan)
    return out


def bits(a: np.ndarray) -> np.ndarray:
    return a.view(np.uint32 if a.dtype == np.float32 else np.uint64)


@st.composite
def holed_rows(draw):
    """Blocks whose rows are wider than a block of outputs (and some not),
    with holes per value or per pixel, runs of holes at the row ends, and
    the values that order ambiguously (signed zeros, infinities)."""
    k = draw(st.sampled_from([3, 5]))
    dtype = np.dtype(draw(st.sampled_from(["float32", "float64"])))
    h, w = draw(st.integers(1, 4)), draw(st.integers(1, 40))
    channels = draw(st.sampled_from([(), (1,), (3,), (4,)]))
    elements = st.floats(-1e3, 1e3, width=dtype.itemsize * 8) | st.sampled_from(
        [0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan]
    )
    block = draw(hnp.arrays(dtype, (h + k - 1, w + k - 1, *channels), elements=elements)).copy()
    density = draw(st.sampled_from([0.0, 0.01, 0.05, 0.2, 0.6, 1.0]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    per_pixel = block.ndim == 3 and draw(st.booleans())
    holes = rng.random(block.shape[:2] if per_pixel else block.shape) < density
    block[holes] = np.nan
    edge = draw(st.sampled_from([None, "left", "right"]))
    if edge == "left":
        block[:, :k] = np.nan
    elif edge == "right":
        block[:, -k:] = np.nan
    return k, block


@given(case=holed_rows())
def test_blocks_equal_the_one_window_route_and_nanmedian(case):
    k, block = case
    expected = nanmedians(block, k)
    for name in ISAS:
        previous = _engine.set_isa(name)
        try:
            got = engine_median(block, k)
            np.testing.assert_array_equal(got, expected, err_msg=name)
            # Each output column alone: a row narrower than a block (one window at a time).
            alone = np.stack(
                [engine_median(block[:, x : x + k], k)[:, 0] for x in range(got.shape[1])], axis=1
            )
            np.testing.assert_array_equal(bits(got), bits(alone), err_msg=name)
        finally:
            _engine.set_isa(previous)


@given(case=holed_rows())
def test_propagate_makes_every_window_holding_a_nan_nan(case):
    k, block = case
    win = np.lib.stride_tricks.sliding_window_view(block, (k, k), axis=(0, 1))
    holed = np.isnan(win).any(axis=(-2, -1))
    for name in ISAS:
        previous = _engine.set_isa(name)
        try:
            got = engine_median(block, k, nan=1)
            assert np.isnan(got[holed]).all(), name
            np.testing.assert_array_equal(bits(got[~holed]), bits(engine_median(block, k, 0)[~holed]))
        finally:
            _engine.set_isa(previous)


@given(
    k=st.sampled_from([3, 5]),
    dtype=st.sampled_from(["float32", "float64"]),
    shape=st.tuples(st.integers(1, 9), st.integers(1, 13)),
    channels=st.sampled_from([(), (3,)]),
    mode=st.sampled_from(MODES),
    nan=st.sampled_from(["ignore", "keep"]),
    density=st.sampled_from([0.0, 0.05, 0.3, 1.0]),
    seed=st.integers(0, 2**32 - 1),
)
def test_public_median_ignores_holes_on_every_mode(k, dtype, shape, channels, mode, nan, density, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((*shape, *channels)).astype(dtype)
    x[rng.random(shape) < density] = np.nan
    r = k // 2
    # The outside is the border mode's (a constant border pads 0, a valid value).
    block = extend(x, ((-r, shape[0] + r), (-r, shape[1] + r)), mode, 0.0)
    expected = nanmedians(block, k)
    if nan == "keep":
        expected[np.isnan(x)] = np.nan
    one = imgfilter.median(x, k, mode=mode, nan=nan, threads=1)
    two = imgfilter.median(x, k, mode=mode, nan=nan, threads=2)
    np.testing.assert_array_equal(one, expected)
    np.testing.assert_array_equal(bits(one), bits(two))


@pytest.mark.parametrize("k", [3, 5])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_photo_with_one_percent_holes(samples, k, dtype):
    x = samples["coffee.png"][:96, :200].astype(dtype) / 255
    rng = np.random.default_rng(k)
    x[rng.random(x.shape[:2]) < 0.01] = np.nan
    x[40:47, 60:70] = np.nan  # a hole wider than the window: NaN out
    x[:, -3:] = np.nan  # holes at the row ends
    block = extend(x, ((-(k // 2), x.shape[0] + k // 2), (-(k // 2), x.shape[1] + k // 2)), "reflect", 0.0)
    expected = nanmedians(block, k)
    assert np.isnan(expected[43, 65]).all()
    for threads in (1, 2):
        np.testing.assert_array_equal(imgfilter.median(x, k, nan="ignore", threads=threads), expected)


@pytest.mark.parametrize("k", [5, 7, 9])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("channels", [(), (3,)])
def test_windows_by_number_of_holes(k, dtype, channels):
    """netn (the 5 x 5 to 9 x 9 networks with nan="ignore"): windows with h
    holes take ranks m - ceil(h / 2) and m - floor(h / 2) of the network's
    (NaN ranked last) up to h = 2 (5 x 5) or 4 (7 x 7, 9 x 9), the others
    the gathered route; each count against numpy.nanmedian, on both
    instruction sets, and windows without holes bit for bit the plain
    network's."""
    rng = np.random.default_rng(k)
    block = rng.standard_normal((24 + k, 60 + k, *channels)).astype(dtype)
    block[rng.random(block.shape) < 0.02] = np.inf  # ties the holes, which rank last
    block[rng.random(block.shape) < 0.02] = -np.inf
    block[rng.random(block.shape) < 0.02] = 0.0
    # Rows of rising hole density, so that every count from 0 to 9 occurs.
    for y in range(block.shape[0]):
        block[y][rng.random(block.shape[1:]) < y / (12 * k)] = np.nan
    win = np.lib.stride_tricks.sliding_window_view(np.isnan(block), (k, k), axis=(0, 1))
    count = win.sum(axis=(-2, -1))
    assert set(range(10)) <= set(np.unique(count))
    expected = nanmedians(block, k)
    for name in ISAS:
        previous = _engine.set_isa(name)
        try:
            got = engine_median(block, k)
            plain = engine_median(block, k, 0)
        finally:
            _engine.set_isa(previous)
        for h in np.unique(count):
            np.testing.assert_array_equal(got[count == h], expected[count == h], err_msg=f"{name} {h} holes")
        np.testing.assert_array_equal(bits(got[count == 0]), bits(plain[count == 0]), err_msg=name)
