"""The valid-only (``nan="ignore"``) median kernels against numpy.nanmedian
taken window by window (brute force), on both instruction sets, and the
pruned network the 5 x 5 route sorts with."""

from __future__ import annotations

import importlib.util
import warnings

import hypothesis.extra.numpy as hnp
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import imgfilter
from imgfilter import _engine
from imgfilter.core import rank

ISAS = _engine.isas()


def brute_nanmedian(block: np.ndarray, k: int) -> np.ndarray:
    rows, cols = block.shape[0] - k + 1, block.shape[1] - k + 1
    out = np.empty((rows, cols, *block.shape[2:]), block.dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for y in range(rows):
            for x in range(cols):
                window = block[y : y + k, x : x + k].astype(np.float64)
                out[y, x] = np.nanmedian(window.reshape(k * k, -1), axis=0).reshape(block.shape[2:])
    return out


@st.composite
def holed_blocks(draw, ks=(3, 5, 7)):
    k = draw(st.sampled_from(ks))
    dtype = np.dtype(draw(st.sampled_from(["float32", "float64"])))
    h, w = draw(st.integers(1, 7)), draw(st.integers(1, 12))
    channels = draw(st.sampled_from([(), (1,), (3,), (4,)]))
    elements = st.floats(-1e3, 1e3, width=dtype.itemsize * 8) | st.sampled_from(
        [0.0, -0.0, 1.0, np.inf, -np.inf, np.nan]
    )
    block = draw(hnp.arrays(dtype, (h + k - 1, w + k - 1, *channels), elements=elements))
    density = draw(st.sampled_from([0.0, 0.01, 0.05, 0.3, 0.9, 1.0]))
    seed = draw(st.integers(0, 2**32 - 1))
    block = block.copy()
    block[np.random.default_rng(seed).random(block.shape) < density] = np.nan
    return k, block


@given(case=holed_blocks())
def test_valid_only_medians_are_nanmedian_of_each_window(case):
    k, block = case
    rows, cols = block.shape[0] - k + 1, block.shape[1] - k + 1
    expected = brute_nanmedian(block, k)
    for name in ISAS:
        previous = _engine.set_isa(name)
        try:
            methods = ["select"] + (["network"] if rank.choose(k, block.dtype) == "network" else [])
            for method in methods:
                out = np.empty((rows, cols, *block.shape[2:]), block.dtype)
                rank.median_block(np.ascontiguousarray(block), k, out, method, 2)
                np.testing.assert_array_equal(out, expected, err_msg=f"{name} {method} k={k}")
        finally:
            _engine.set_isa(previous)


def test_public_median_5_with_holes_on_a_photo(photo):
    x = photo[:50, :64].astype(np.float32) / 255
    rng = np.random.default_rng(7)
    x[rng.random(x.shape) < 0.05] = np.nan
    x[10:16, 20:27] = np.nan  # a hole wider than the window: NaN out
    block = np.pad(x, ((2, 2), (2, 2), (0, 0)), mode="reflect")  # as imgfilter's default
    expected = brute_nanmedian(block, 5)
    assert np.isnan(expected[12, 23]).all()
    for threads in (1, 2):
        np.testing.assert_array_equal(imgfilter.median(x, 5, nan="ignore", threads=threads), expected)


def test_pruned_low_half_network_orders_the_13_least():
    """SORT25_LOW13 (tools/gen_rank_net.py) leaves ranks 0..12 of 25 in place:
    random 0-1 inputs (the 0-1 principle's cases, sampled) and random floats."""
    spec = importlib.util.spec_from_file_location(
        "gen_rank_net", rank.__file__.rsplit("imgfilter", 1)[0] + "tools/gen_rank_net.py"
    )
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    net = gen.prune(gen.sorting_network(25), set(range(13)))
    rng = np.random.default_rng(0)
    for items in (
        (rng.random((25, 200_000)) < rng.random(200_000)).astype(np.int8),
        rng.integers(0, 5, (25, 50_000)),
        rng.standard_normal((25, 50_000)),
    ):
        w = items.copy()
        for a, b, lo, hi in net:
            small, big = np.minimum(w[a], w[b]), np.maximum(w[a], w[b])
            if lo:
                w[a] = small
            if hi:
                w[b] = big
        np.testing.assert_array_equal(w[:13], np.sort(items, axis=0)[:13])
