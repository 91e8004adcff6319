"""The compiled median kernels (imgfilter/_engine/rank.c) against the numpy
paths they replaced (tests/numpy_reference.py), their NaN rules, both
instruction sets, and their bounds check."""

from __future__ import annotations

import importlib.util
import warnings

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy_reference import median_levels, median_network, median_partition, sorting_network

import imgfilter
from imgfilter import _engine
from imgfilter.core import rank
from imgfilter.core.names import SCIPY_MODE

ISAS = _engine.isas()
DTYPES = ["uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64", "float32", "float64"]
MODES = ["reflect", "symmetric", "edge", "wrap", "constant"]


def methods_for(k, dtype):
    out = ["select"]
    if rank.choose(k, dtype) == "network":
        out.append("network")
    if np.dtype(dtype) in rank.HISTOGRAM_TYPES:
        out.append("histogram")
    return out


def run(block, k, method, nan=0):
    rows, cols = block.shape[0] - k + 1, block.shape[1] - k + 1
    out = np.empty((rows, cols, *block.shape[2:]), block.dtype)
    rank.median_block(np.ascontiguousarray(block), k, out, method, nan)
    return out


@st.composite
def blocks(draw, ks=(1, 3, 5, 7, 9, 11, 13, 15), dtypes=DTYPES):
    k = draw(st.sampled_from(ks))
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    h, w = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    channels = draw(st.sampled_from([(), (1,), (2,), (3,), (4,), (2, 2)]))
    shape = (h + k - 1, w + k - 1, *channels)
    if dtype.kind == "f":
        elements = st.floats(-1e3, 1e3, width=dtype.itemsize * 8) | st.sampled_from(
            [0.0, 1.0, np.inf, -np.inf]
        )
    else:
        info = np.iinfo(dtype)
        elements = st.integers(int(info.min), int(info.max)) | st.sampled_from([0, 1, int(info.max)])
    return k, draw(hnp.arrays(dtype, shape, elements=elements))


@given(case=blocks())
def test_every_method_equals_partition_on_both_isas(case):
    k, block = case
    expected = median_partition(block, k, block.shape[0] - k + 1, block.shape[1] - k + 1)
    for name in ISAS:
        previous = _engine.set_isa(name)
        try:
            for method in methods_for(k, block.dtype):
                np.testing.assert_array_equal(run(block, k, method), expected, err_msg=f"{name} {method}")
        finally:
            _engine.set_isa(previous)


@given(case=blocks(ks=(3, 5, 7, 9), dtypes=["uint8", "uint16", "int16", "float32", "float64"]))
def test_networks_equal_the_numpy_networks(case):
    k, block = case
    rows, cols = block.shape[0] - k + 1, block.shape[1] - k + 1
    np.testing.assert_array_equal(run(block, k, "network"), median_network(block, k, rows, cols))


@given(case=blocks(ks=(11, 13, 15, 21), dtypes=["uint8"]))
def test_8_bit_histograms_equal_grey_level_counting(case):
    k, block = case
    rows, cols = block.shape[0] - k + 1, block.shape[1] - k + 1
    np.testing.assert_array_equal(run(block, k, "histogram"), median_levels(block, k, rows, cols))


def histogram_on_each_isa(block, k, want):
    """The histogram method's medians of ``block`` equal ``want`` on every instruction set."""
    for name in ISAS:
        previous = _engine.set_isa(name)
        try:
            np.testing.assert_array_equal(run(block, k, "histogram"), want, err_msg=name)
        finally:
            _engine.set_isa(previous)


@pytest.mark.parametrize("dtype", ["uint8", "int8", "uint16", "int16"])
@pytest.mark.parametrize("k", [11, 31, 61])
def test_histograms_on_photo_like_and_noisy_blocks(dtype, k):
    rng = np.random.default_rng(k)
    info = np.iinfo(dtype)
    smooth = (
        np.cumsum(rng.integers(-3, 4, (k + 40, k + 50, 2)), axis=1) + int(info.min) // 2 + int(info.max) // 2
    )
    noise = rng.integers(int(info.min), int(info.max) + 1, (k + 40, k + 50, 2))
    for block in (np.clip(smooth, info.min, info.max).astype(dtype), noise.astype(dtype)):
        want = run(block, k, "select")
        histogram_on_each_isa(block, k, want)


@pytest.mark.parametrize("dtype", ["uint8", "int8"])
@pytest.mark.parametrize("k", [253, 255, 257])
def test_8_bit_histograms_either_side_of_16_bit_counts(dtype, k):
    """k <= 255 counts the window in 16 bits (k * k < 2^16), k > 255 in 32: noise, the type's
    ends (every count in one bin) and a half-and-half block whose median sits on a bin edge."""
    rng = np.random.default_rng(k)
    info = np.iinfo(dtype)
    shape = (k + 3, k + 4)
    half = np.full(shape, int(info.min) + 15)
    half[:, : shape[1] // 2] = int(info.min) + 16
    blocks = [
        rng.integers(int(info.min), int(info.max) + 1, shape),
        np.full(shape, int(info.max)),
        np.full(shape, int(info.min)),
        half,
    ]
    for block in blocks:
        block = block.astype(dtype)
        want = median_partition(block, k, 4, 5)
        histogram_on_each_isa(block, k, want)


@given(
    case=blocks(ks=(1, 3, 5, 7, 9, 11), dtypes=["float32", "float64"]),
    density=st.sampled_from([0.0, 0.05, 0.3, 1.0]),
    seed=st.integers(0, 2**32 - 1),
)
def test_nan_rules_are_the_numpy_ones(case, density, seed):
    """Networks: a window holding a NaN is NaN (as numpy's min/max networks);
    selection: NaN ranks last (numpy.partition); ignore: numpy.nanmedian."""
    k, block = case
    rng = np.random.default_rng(seed)
    block = block.copy()
    block[rng.random(block.shape) < density] = np.nan
    rows, cols = block.shape[0] - k + 1, block.shape[1] - k + 1
    if k in rank.NETWORK_SIZES:
        np.testing.assert_array_equal(run(block, k, "network", 1), median_network(block, k, rows, cols))
    np.testing.assert_array_equal(run(block, k, "select", 1), median_partition(block, k, rows, cols))
    win = np.lib.stride_tricks.sliding_window_view(block, (k, k), axis=(0, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = np.nanmedian(win.astype(np.float64), axis=(-2, -1)).astype(block.dtype)
    for method in methods_for(k, block.dtype):
        for name in ISAS:
            previous = _engine.set_isa(name)
            try:
                np.testing.assert_array_equal(run(block, k, method, 2), expected, err_msg=f"{name} {method}")
            finally:
                _engine.set_isa(previous)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("holes", [1, 7, 8, 9, 17, 40])
def test_median5_nan_ignore_batches_equal_nanmedian(dtype, holes):
    """The 5 x 5 windows holding a NaN are taken eight at a time (one per
    lane): rows with a part batch (1, 7, 9, 17 windows), whole batches, all-NaN
    windows, odd and even valid counts, and +-inf, on both ISAs."""
    rng = np.random.default_rng(holes)
    block = rng.normal(0, 50, (12, 60, 3)).astype(dtype)
    block[rng.random(block.shape) < 0.05] = np.inf
    block[rng.random(block.shape) < 0.05] = -np.inf
    flat = block.reshape(-1)
    flat[rng.choice(flat.size, holes, replace=False)] = np.nan
    block[:5, :5, 0] = np.nan  # one window with nothing valid
    win = np.lib.stride_tricks.sliding_window_view(block, (5, 5), axis=(0, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = np.nanmedian(win.astype(np.float64), axis=(-2, -1)).astype(block.dtype)
    for name in ISAS:
        previous = _engine.set_isa(name)
        try:
            np.testing.assert_array_equal(run(block, 5, "network", 2), expected, err_msg=name)
        finally:
            _engine.set_isa(previous)


@given(
    img=hnp.arrays(
        st.sampled_from([np.uint8, np.int16, np.float32, np.float16, np.bool_]),
        st.tuples(st.integers(1, 7), st.integers(1, 7), st.sampled_from([1, 3])),
    ),
    half=st.integers(0, 12),
    mode=st.sampled_from(MODES),
)
def test_median_filter_every_method_any_window(img, half, mode):
    """Windows far larger than the image, 1-pixel images, bool and float16."""
    k = 2 * half + 1
    if img.dtype.kind == "f":  # (NaN rules differ by method, as before: see above)
        img = np.nan_to_num(img)
    ref = rank.median_filter(img, k, mode, method="select")
    assert ref.dtype == img.dtype
    r = k // 2
    src = img.astype(np.float32) if img.dtype == np.float16 else img
    padded = np.pad(src, ((r, r), (r, r), (0, 0)), mode=mode)
    exp = median_partition(padded, k, img.shape[0], img.shape[1]).astype(img.dtype)
    np.testing.assert_array_equal(ref, exp)
    for method in methods_for(k, rank.work_dtype(img.dtype)):
        np.testing.assert_array_equal(rank.median_filter(img, k, mode, method=method), ref)


def test_choose_names_one_method_per_case():
    assert rank.choose(3, np.uint8) == rank.choose(9, np.float32) == "network"
    assert rank.choose(7, np.int64) == "select"
    assert rank.choose(31, np.uint8) == rank.choose(31, np.uint16) == "histogram"
    assert rank.choose(31, np.float32) == "select"


def test_median_nan_ignore_photo_equals_nanmedian(photo):
    x = photo[:60, :70].astype(np.float32)
    rng = np.random.default_rng(3)
    x[rng.random(x.shape[:2]) < 0.05] = np.nan
    win = np.lib.stride_tricks.sliding_window_view(
        np.pad(x, ((1, 1), (1, 1), (0, 0)), mode="reflect"), (3, 3), axis=(0, 1)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = np.nanmedian(win.astype(np.float64), axis=(-2, -1)).astype(np.float32)
    for threads in (1, 2):
        np.testing.assert_array_equal(imgfilter.median(x, 3, nan="ignore", threads=threads), expected)


def test_bounds_are_checked_before_the_kernel():
    src = np.zeros((5, 5), np.uint8)
    dst = np.zeros((3, 3), np.uint8)
    _engine.median(src, dst, 3, 3, 1, 5, 3, 3, 0, 0)
    with pytest.raises(IndexError):
        _engine.median(src, dst, 3, 3, 1, 5, 3, 5, 2, 0)  # a 5 x 5 window reaches past src
    with pytest.raises(IndexError):
        _engine.median(src, dst, 4, 3, 1, 5, 3, 1, 2, 0)  # a fourth row past dst
    with pytest.raises(ValueError):
        _engine.median(src, dst, 3, 3, 1, 5, 3, 4, 2, 0)  # even k
    with pytest.raises(ValueError):
        _engine.median(src, dst, 3, 3, 1, 5, 3, 11, 0, 0)  # no network for k = 11
    with pytest.raises(TypeError):
        _engine.median(src, dst.astype(np.int8), 3, 3, 1, 5, 3, 3, 0, 0)


def test_generated_networks_sort_every_binary_input():
    """0-1 principle on the generator's Batcher networks (rank_net.h is current)."""
    spec = importlib.util.spec_from_file_location(
        "gen_rank_net", rank.__file__.rsplit("imgfilter", 1)[0] + "tools/gen_rank_net.py"
    )
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    for n in range(1, 13):
        net = gen.sorting_network(n)
        assert net == list(sorting_network(n))
        for bits in range(2**n):
            items = [(bits >> i) & 1 for i in range(n)]
            for a, b in net:
                if items[a] > items[b]:
                    items[a], items[b] = items[b], items[a]
            assert items == sorted(items), (n, bits)
    assert gen.OUT.read_text() == gen.generate()


INT_DTYPES = ["uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64", "bool"]


@given(
    dtype=st.sampled_from(INT_DTYPES),
    shape=st.tuples(st.integers(1, 7), st.integers(1, 70), st.integers(1, 5)),
    mode=st.sampled_from(MODES),
    threads=st.sampled_from([1, 2]),
    seed=st.integers(0, 2**32 - 1),
)
def test_median3_in_place_equals_scipy(dtype, shape, mode, threads, seed):
    """The 3x3 integer path reads the image through border index tables (no
    extended copy): 1-pixel-wide and -high images, rows wider than one chunk
    of the kernel, 1..5 interleaved channels, every mode, both ISAs."""
    ndi = pytest.importorskip("scipy.ndimage")
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if shape[1] > 20:  # some rows past one kernel chunk (1024 bytes) of 8-bit values
        shape = (shape[0], shape[1] * 23, shape[2])
    if dtype.kind == "b":
        img = rng.random(shape) < 0.5
    else:
        info = np.iinfo(dtype)
        img = rng.integers(int(info.min), int(info.max), shape, dtype=dtype, endpoint=True)
        img[rng.random(shape) < 0.1] = info.max
        img[rng.random(shape) < 0.1] = info.min
    for x in (img, img[..., 0]):  # interleaved channels, and one grey plane
        if dtype.itemsize < 8:
            expected = ndi.median_filter(x, size=(3, 3) + (1,) * (x.ndim - 2), mode=SCIPY_MODE[mode])
        else:  # (SciPy rounds 64-bit integers through float64)
            pad = ((1, 1), (1, 1)) + ((0, 0),) * (x.ndim - 2)
            win = np.lib.stride_tricks.sliding_window_view(np.pad(x, pad, mode=mode), (3, 3), axis=(0, 1))
            expected = np.sort(win.reshape(*x.shape, 9), axis=-1)[..., 4]
        for name in ISAS:
            previous = _engine.set_isa(name)
            try:
                got = imgfilter.median(x, 3, mode=mode, threads=threads)
            finally:
                _engine.set_isa(previous)
            assert got.dtype == x.dtype
            np.testing.assert_array_equal(got, expected, err_msg=f"{name} {mode}")


def _chunk_edge_widths(chan: int, limit: int = 1400) -> list[int]:
    """Widths whose row of ``cols * chan`` values ends within one pixel of a
    multiple of 128 values: wherever the kernel's chunk (any power of two from
    128 values up) starts or ends inside a pixel, at the image's edges."""
    return [c for c in range(1, limit) if min((c * chan) % 128, -(c * chan) % 128) <= chan]


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "int32", "int64"])
@pytest.mark.parametrize("chan", [2, 3, 5, 130])
def test_median3_in_place_chunks_that_end_inside_a_pixel(dtype, chan):
    """Regression: a chunk ending inside the last pixel (or, with more
    channels than a chunk holds, starting inside pixel -1) took that border
    pixel whole, ran past its scratch rows and gave wrong medians (3 x 342
    RGB uint8, reflect: 4 pixels off)."""
    rng = np.random.default_rng(chan)
    dtype = np.dtype(dtype)
    widths = _chunk_edge_widths(chan, 1400 if chan < 10 else 60)
    for cols in widths[:: max(1, len(widths) // 24)]:
        img = rng.integers(0, 120, (3, cols, chan)).astype(dtype)
        pad = ((1, 1), (1, 1), (0, 0))
        for mode in ("constant", "reflect", "wrap"):
            ext = np.pad(img, pad, mode=mode) if mode != "constant" else np.pad(img, pad)
            win = np.lib.stride_tricks.sliding_window_view(ext, (3, 3), axis=(0, 1))
            expected = np.sort(win.reshape(*img.shape, 9), axis=-1)[..., 4]
            for name in ISAS:
                previous = _engine.set_isa(name)
                try:
                    got = imgfilter.median(img, 3, mode=mode, threads=1)
                finally:
                    _engine.set_isa(previous)
                np.testing.assert_array_equal(got, expected, err_msg=f"{name} {mode} {cols}x{chan}")


def test_median3_in_place_photo_equals_opencv(photo):
    cv2 = pytest.importorskip("cv2")
    img = np.ascontiguousarray(photo[:101, :203])
    for name in ISAS:
        previous = _engine.set_isa(name)
        try:
            got = imgfilter.median(img, 3, mode="edge", threads=2)
        finally:
            _engine.set_isa(previous)
        np.testing.assert_array_equal(got, cv2.medianBlur(img, 3), err_msg=name)
    # A strided view is filtered as its contiguous copy.
    view = photo[::2, 1::3]
    np.testing.assert_array_equal(
        imgfilter.median(view, 3, mode="edge"), cv2.medianBlur(np.ascontiguousarray(view), 3)
    )


def test_median3_in_place_checks_its_tables():
    src = np.zeros((4, 5), np.uint8)
    dst = np.zeros((4, 5), np.uint8)
    rows = (0, 0, 1, 2, 3, 3)
    _engine.median(src, dst, 4, 5, 1, 5, 5, 3, 3, 0, rows, 0, 4)
    with pytest.raises(IndexError):
        _engine.median(src, dst, 4, 5, 1, 5, 5, 3, 3, 0, (0, 0, 1, 2, 3, 4), 0, 4)  # row 4 past src
    with pytest.raises(IndexError):
        _engine.median(src, dst, 4, 5, 1, 5, 5, 3, 3, 0, (0, 0, 1, 2, 3, -2), 0, 4)
    with pytest.raises(IndexError):
        _engine.median(src, dst, 4, 5, 1, 5, 5, 3, 3, 0, rows, 0, 5)  # column 5 past a row
    with pytest.raises(IndexError):
        _engine.median(src, dst[:3], 4, 5, 1, 5, 5, 3, 3, 0, rows, 0, 4)  # a fourth row past dst
    with pytest.raises(ValueError):
        _engine.median(src, dst, 4, 5, 1, 5, 5, 3, 3, 0, rows[:-1], 0, 4)  # rows + 2 indices
    with pytest.raises(ValueError):
        _engine.median(src, dst, 4, 5, 1, 4, 5, 3, 3, 0, rows, 0, 4)  # src_row < cols * chan
    with pytest.raises(ValueError):
        _engine.median(src, dst, 4, 5, 1, 5, 5, 5, 3, 0, rows, 0, 4)  # k = 5
    with pytest.raises(TypeError):
        _engine.median(src.astype(np.float32), dst.astype(np.float32), 4, 5, 1, 5, 5, 3, 3, 0, rows, 0, 4)
