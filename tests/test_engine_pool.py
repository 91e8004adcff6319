"""The compiled pool (imgfilter/_engine/pool.c, through windows.fold_window)
against the numpy fold it replaced (tests/numpy_pool_reference.py): odd
shapes, 1-pixel images, every dtype, channels 0-4, strides, huge windows,
NaN, decoding sums, and both instruction sets."""

from __future__ import annotations

import numpy as np
import numpy_pool_reference as ref
import pytest
from hypothesis import given
from hypothesis import strategies as st

import imgfilter
from imgfilter import _engine
from imgfilter.core import srgb
from imgfilter.core.options import plan_window
from imgfilter.core.windows import fold_window

ISAS = _engine.isas()
DTYPES = [
    np.uint8,
    np.int8,
    np.uint16,
    np.int16,
    np.uint32,
    np.int32,
    np.uint64,
    np.int64,
    np.float32,
    np.float64,
]
UFUNCS = {"max": np.maximum, "min": np.minimum, "fmax": np.fmax, "fmin": np.fmin, "sum": np.add}


def _both(fn):
    results = []
    for name in ISAS:
        previous = _engine.set_isa(name)
        try:
            results.append(fn())
        finally:
            _engine.set_isa(previous)
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])
    return results[0]


@given(
    h=st.integers(1, 13),
    w=st.integers(1, 13),
    channels=st.sampled_from([(), (1,), (2,), (3,), (4,), (2, 2)]),
    ky=st.integers(1, 5),
    kx=st.integers(1, 5),
    sy=st.integers(1, 4),
    sx=st.integers(1, 4),
    dtype=st.sampled_from(DTYPES),
    op=st.sampled_from(list(UFUNCS)),
    nan=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_fold_equals_the_numpy_fold(h, w, channels, ky, kx, sy, sx, dtype, op, nan, seed):
    if h < ky or w < kx:
        return
    if op in ("fmax", "fmin", "sum") and dtype not in (np.float32, np.float64):
        return
    rng = np.random.default_rng(seed)
    block = (rng.random((h, w, *channels)) * 200 - (50 if np.dtype(dtype).kind != "u" else 0)).astype(dtype)
    if nan and block.dtype.kind == "f" and block.size:
        block.flat[rng.integers(0, block.size, 1 + block.size // 5)] = np.nan
    plan = plan_window(block.shape, (ky, kx), "valid", (sy, sx), 1)
    counts = plan.spatial_out
    want = np.empty(plan.out_shape, dtype)
    ref.fold_window(UFUNCS[op], block, plan, counts, want)

    def run():
        got = np.empty(plan.out_shape, dtype)
        fold_window(UFUNCS[op], block, plan, counts, got)
        return got

    np.testing.assert_array_equal(_both(run), want)


@given(
    h=st.integers(1, 9),
    w=st.integers(1, 9),
    channels=st.sampled_from([(), (1,), (3,), (4,)]),
    k=st.integers(1, 4),
    s=st.integers(1, 3),
    dtype=st.sampled_from([np.uint8, np.uint16]),
    seed=st.integers(0, 2**16),
)
def test_decoding_sum_equals_summing_the_decoded_codes(h, w, channels, k, s, dtype, seed):
    if h < k or w < k:
        return
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, np.iinfo(dtype).max + 1, size=(h, w, *channels)).astype(dtype)
    plan = plan_window(codes.shape, (k, k), "valid", (s, s), 1)
    want = np.empty(plan.out_shape, np.float32)
    ref.fold_window(np.add, srgb.decode(codes), plan, plan.spatial_out, want)

    def run():
        got = np.empty(plan.out_shape, np.float32)
        fold_window(np.add, codes, plan, plan.spatial_out, got, decode=True)
        return got

    np.testing.assert_array_equal(_both(run), want)


@pytest.mark.parametrize("op", ["max", "min", "avg"])
@pytest.mark.parametrize("shape", [(1, 1), (1, 1, 3), (1, 7), (7, 1, 2)])
def test_one_pixel_and_thin_images(op, shape):
    x = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    out = imgfilter.pool(x, 1, op=op)
    np.testing.assert_array_equal(out, x)
    if shape[0] >= 1 and shape[1] >= 1 and x.size:
        full = imgfilter.pool(x, (shape[0], shape[1]), op=op)
        red = {"max": np.max, "min": np.min, "avg": np.mean}[op]
        np.testing.assert_allclose(
            full.reshape(-1), red(x.reshape(shape[0] * shape[1], -1), axis=0), rtol=1e-6
        )


def test_huge_window_and_volume():
    rng = np.random.default_rng(5)
    img = rng.integers(0, 255, (300, 257, 3), dtype=np.uint8)
    out = imgfilter.pool(img, (300, 257), op="max")
    np.testing.assert_array_equal(out.reshape(-1), img.reshape(-1, 3).max(axis=0))
    vol = rng.random((6, 8, 9, 2)).astype(np.float32)
    got = imgfilter.pool(vol, (2, 4, 3), stride=(2, 2, 3), op="max")
    want = np.stack(
        [
            [
                [vol[i : i + 2, j : j + 4, m : m + 3].max(axis=(0, 1, 2)) for m in range(0, 7, 3)]
                for j in range(0, 5, 2)
            ]
            for i in range(0, 5, 2)
        ]
    )
    np.testing.assert_array_equal(got, want)


def test_pool_refuses_windows_outside_the_buffer():
    k = _engine._kernels
    src = np.zeros((4, 4), np.float32)
    with pytest.raises(IndexError):
        k.pool(src, np.zeros((2, 2), np.float32), 2, 2, 1, 4, 3, 2, 2, 2, "max")
    with pytest.raises(IndexError):
        k.pool(src, np.zeros((3, 2), np.float32), 2, 2, 1, 4, 2, 2, 2, 2, "max")
    with pytest.raises(TypeError):
        k.pool(src, np.zeros((2, 2), np.float64), 2, 2, 1, 4, 2, 2, 2, 2, "max")
    with pytest.raises(TypeError):
        k.pool(src, np.zeros((2, 2), np.float32), 2, 2, 1, 4, 2, 2, 2, 2, "median")
