"""The compiled linear-light codec (imgfilter/_engine/codec.c) against the
numpy codec it replaced (tests/numpy_srgb_reference.py), on both
instruction sets, over odd shapes, scales and special values."""

from __future__ import annotations

import numpy as np
import numpy_srgb_reference as ref
import pytest
from hypothesis import given
from hypothesis import strategies as st

import imgfilter
from imgfilter import _engine
from imgfilter.core import srgb

ISAS = _engine.isas()


SPECIAL = np.array([0.0, -0.0, 1e-40, -1.0, 1e38, np.inf, -np.inf, np.nan, -np.nan], dtype=np.float32)


@given(
    shape=st.sampled_from([(0,), (1,), (7,), (1, 1), (3, 5), (17, 9, 3), (4, 5, 4), (2, 3, 0)]),
    dtype=st.sampled_from([np.uint8, np.uint16]),
    scale=st.sampled_from([(0, 1.0), (2, 1.0), (1, 1.0), (0, 25.0), (0, 9.0), (3, 15.0), (0, 4.0)]),
    seed=st.integers(0, 2**16),
)
def test_codec_equals_the_numpy_codec(shape, dtype, scale, seed):
    for name in ISAS:
        previous = _engine.set_isa(name)
        try:
            _check_codec(shape, dtype, scale, seed)
        finally:
            _engine.set_isa(previous)


def _check_codec(shape, dtype, scale, seed):
    rng = np.random.default_rng(seed)
    top = int(np.iinfo(dtype).max)
    codes = rng.integers(0, top + 1, size=shape).astype(dtype)
    np.testing.assert_array_equal(srgb.decode(codes), ref.decode(codes))
    exponent, divisor = scale
    lin = (ref.decode(codes) * np.float32(divisor * 2.0**exponent)).reshape(-1)
    lin = np.concatenate([lin, rng.uniform(-10, 1.3 * top * divisor * 2**exponent, 50), SPECIAL])
    lin = lin.astype(np.float32)
    with np.errstate(invalid="ignore", over="ignore"):
        want = ref.encode(lin, dtype, exponent=exponent, divisor=divisor)
    got = srgb.encode(lin, dtype, exponent=exponent, divisor=divisor)
    finite = ~np.isnan(lin)  # NaN is a hole the callers restore
    np.testing.assert_array_equal(got[finite], want[finite])
    f = srgb.encode_float(lin[finite], float(top))
    np.testing.assert_allclose(f, ref.encode_float(lin[finite], float(top)), rtol=2e-6, atol=0)


def test_both_isas_give_the_same_bits():
    if len(ISAS) < 2:
        pytest.skip("one instruction set only")
    rng = np.random.default_rng(3)
    bits = rng.integers(0, 2**32, 1_000_003, dtype=np.uint64).astype(np.uint32)
    x = np.concatenate([bits.view(np.float32), rng.uniform(0, 70000, 100_000).astype(np.float32)])
    x[~np.isfinite(x)] = 1.0
    results = []
    for name in ISAS:
        previous = _engine.set_isa(name)
        try:
            results.append(
                [
                    srgb.encode(x, np.uint8),
                    srgb.encode(x, np.uint8, divisor=25.0),
                    srgb.encode(x, np.uint16, exponent=2),
                    srgb.encode_float(x, 255.0),
                    srgb.encode_float(x.astype(np.float64), 65535.0),
                ]
            )
        finally:
            _engine.set_isa(previous)
    for a, b in zip(results[0], results[1], strict=True):
        np.testing.assert_array_equal(a, b)


def test_both_isas_encode_every_table_entry_alike():
    """Every top half of the float bits (each 8-bit encode table entry), NaN and
    infinities included, with low halves at both ends and between, in a length
    that leaves a tail after the AVX2 gathers' blocks of 8."""
    if len(ISAS) < 2:
        pytest.skip("one instruction set only")
    high = np.arange(2**16, dtype=np.uint32) << 16
    low = np.array([0, 1, 0x7FFF, 0x8000, 0xFFFE, 0xFFFF], dtype=np.uint32)
    x = (high[:, None] | low[None, :]).reshape(-1)[:-3].view(np.float32)
    results = []
    for name in ISAS:
        previous = _engine.set_isa(name)
        try:
            with np.errstate(invalid="ignore", over="ignore"):
                results.append([srgb.encode(x, np.uint8), srgb.encode(x, np.uint8, divisor=9.0)])
        finally:
            _engine.set_isa(previous)
    for a, b in zip(results[0], results[1], strict=True):
        np.testing.assert_array_equal(a, b)


def test_codec_refuses_mismatched_buffers():
    srgb.decode(np.zeros(1, np.uint8))  # tables installed
    k = _engine._kernels
    with pytest.raises(ValueError):
        k.decode(np.zeros(4, np.uint8), np.zeros(3, np.float32))
    with pytest.raises(ValueError):
        k.encode(np.zeros(4, np.float32), np.zeros(5, np.uint8))
    with pytest.raises(TypeError):
        k.decode(np.zeros(4, np.int16), np.zeros(4, np.float32))
    with pytest.raises(TypeError):
        k.encode_float(np.zeros(4, np.float32), np.zeros(4, np.float64), 255.0)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_checkerboard_still_blurs_to_188(dtype):
    top = int(np.iinfo(dtype).max)
    board = (np.indices((16, 16)).sum(axis=0) % 2 * top).astype(dtype)
    out = imgfilter.blur(board, 2, mode="wrap", linear=True)
    want = 188 if dtype == np.uint8 else int(srgb.encode(np.float32(top / 2), dtype))
    assert np.all(out == want)
