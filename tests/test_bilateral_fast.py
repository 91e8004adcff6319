"""The AVX2 bilateral kernel of 8-bit images (table-weighted blocks) pins the baseline's bits.

The baseline instruction set runs the plain scalar loops (tables looked up
one output at a time), which the AVX2 block kernel must equal bit for bit:
the same range weights, the same products and the same addition order per
output. Each case runs on both instruction sets (``_engine.set_isa``) and at
several thread counts; a few small ones are also checked against the numpy
filter the engine replaced (tests/numpy_reference_bilateral.py).
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy_reference_bilateral import numpy_bilateral

import imgfilter
from imgfilter import _engine

ISAS = _engine.isas()
pytestmark = pytest.mark.skipif("avx2" not in ISAS, reason="no AVX2 on this CPU")


def on_isa(isa, fn):
    previous = _engine.set_isa(isa)
    try:
        return fn()
    finally:
        _engine.set_isa(previous)


def assert_isas_equal(img, *args, threads=(1, 2), **kwargs):
    ref = on_isa("baseline", lambda: imgfilter.bilateral(img, *args, threads=1, **kwargs))
    for t in threads:
        ours = on_isa("avx2", lambda t=t: imgfilter.bilateral(img, *args, threads=t, **kwargs))
        assert ours.dtype == ref.dtype and ours.shape == ref.shape
        np.testing.assert_array_equal(ours, ref)
    return ref


def random_image(dtype, shape, seed):
    info = np.iinfo(dtype)
    rng = np.random.default_rng(seed)
    return rng.integers(int(info.min), int(info.max) + 1, shape, dtype=dtype)


def smooth_image(dtype, shape, seed):
    # Neighbours mostly close (small distances, as in photos) with some edges.
    rng = np.random.default_rng(seed)
    info = np.iinfo(dtype)
    base = np.cumsum(rng.integers(-3, 4, shape), axis=1) + rng.integers(0, 40) * (rng.random(shape) < 0.05)
    return np.clip(base + (int(info.min) + int(info.max)) // 2, info.min, info.max).astype(dtype)


SHAPES = [(1, 1), (1, 7), (1, 33), (9, 1), (17, 33), (5, 15), (6, 16), (4, 31), (7, 47), (3, 130), (40, 257)]


@pytest.mark.parametrize("dtype", ["uint8", "int8", "uint16"])
@pytest.mark.parametrize("channels", [None, 1, 2, 3, 4])
@pytest.mark.parametrize("shape", SHAPES)
def test_isas_equal_on_random_images(dtype, channels, shape):
    full = shape if channels is None else (*shape, channels)
    seed = int(np.prod(full)) * 7 + len(dtype)
    for make in (random_image, smooth_image):
        img = make(np.dtype(dtype), full, seed)
        top = float(np.iinfo(dtype).max - np.iinfo(dtype).min)
        assert_isas_equal(img, 9, 0.3 * top, 4.0)


@pytest.mark.parametrize("diameter", [0, 3, 5, 9, 15])
@pytest.mark.parametrize("sigma_color", [0.5, 3.0, 30.0, 75.0, 1e4, 1e9])
@pytest.mark.parametrize("channels", [None, 3])
def test_isas_equal_for_each_window_and_sigma(diameter, sigma_color, channels):
    shape = (23, 71) if channels is None else (23, 71, channels)
    for dtype in ("uint8", "int8"):
        img = smooth_image(np.dtype(dtype), shape, diameter)
        assert_isas_equal(img, diameter, sigma_color, 3.0)
        assert_isas_equal(img, diameter, sigma_color, 75.0, mode="wrap", threads=(1,))


@pytest.mark.parametrize("channels", [2, 4])
def test_alpha_and_masks_equal_the_baseline(channels):
    img = smooth_image(np.dtype(np.uint8), (19, 45, channels), channels)
    assert_isas_equal(img, 9, 40.0, 3.0, alpha=True)
    assert_isas_equal(img, 9, 40.0, 3.0, alpha=False)
    mask = np.random.default_rng(3).random(img.shape[:2]) < 0.9
    assert_isas_equal(img, 9, 40.0, 3.0, mask=mask)
    assert_isas_equal(img, 5, 40.0, 3.0, mask=np.ones(img.shape[:2], bool))


def test_linear_light_equals_the_baseline(photo):
    assert_isas_equal(photo[:30, :90], 9, 75.0, 75.0, linear=True)


@pytest.mark.parametrize("name", ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "camera.png"])
def test_photos_equal_the_baseline(samples, name):
    img = samples[name]
    img = img[:96, :301]
    assert_isas_equal(img, 9, 75.0, 75.0)
    assert_isas_equal(img, 15, 20.0, 5.0, threads=(2,))
    if img.ndim == 3:
        assert_isas_equal(img[..., 0], 9, 75.0, 75.0, threads=(1,))
        grey_int8 = (img[..., 1].astype(np.int16) - 128).astype(np.int8)
        assert_isas_equal(grey_int8, 5, 30.0, 2.0, threads=(1,))


def test_a_large_photo_at_every_thread_count(samples):
    # Many bands: the split changes, the bits do not.
    img = np.tile(samples["coffee.png"], (2, 1, 1))[:700, :601]
    ref = assert_isas_equal(img, 9, 75.0, 75.0, threads=(1, 2, 3))
    assert ref.shape == img.shape


@pytest.mark.parametrize("channels", [None, 3])
def test_rows_wider_than_a_tile(channels):
    # The AVX2 kernel's shared weights go in tiles of 4096 columns: rows
    # across two tiles, the second one partial (and not a multiple of 16).
    shape = (9, 4096 + 16 * 8 + 5) if channels is None else (9, 4096 + 16 * 8 + 5, channels)
    img = smooth_image(np.dtype(np.uint8), shape, 4)
    assert_isas_equal(img, 9, 60.0, 3.0)
    assert_isas_equal(img[:, :4097], 5, 60.0, 3.0, threads=(2,))


@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (3, 17), (12, 40)])
@pytest.mark.parametrize("channels", [None, 3])
def test_small_images_equal_the_numpy_filter(shape, channels):
    full = shape if channels is None else (*shape, channels)
    img = smooth_image(np.dtype(np.uint8), full, 11)
    for isa in ISAS:
        for d in (3, 9):
            ours = on_isa(isa, lambda d=d: imgfilter.bilateral(img, d, 50.0, 3.0))
            np.testing.assert_array_equal(ours, numpy_bilateral(img, d, 50.0, 3.0))


def engine_run(isa, block, h, w, r, chan, rows, cols, weights, lut):
    dst = np.zeros((h, w, chan), np.float32)
    args = (
        block,
        None,
        dst,
        h,
        w,
        chan,
        chan,
        r,
        False,
        False,
        False,
        rows,
        cols,
        weights,
        lut,
        -0.01,
        255.0,
    )
    on_isa(isa, lambda: _engine.bilateral(*args))
    return dst


@pytest.mark.parametrize("chan", [1, 2, 3, 4])
@pytest.mark.parametrize("distinct", [1, 3, 40, 90])
@pytest.mark.parametrize("dtype", ["uint8", "int8"])
def test_engine_any_taps_and_table(chan, distinct, dtype):
    # Taps in any order, any number of distinct spatial weights (repeated or
    # not; 90 of them with 4 channels: too many tables to premultiply), a
    # table of any values (zeros, subnormals, huge): float results.
    rng = np.random.default_rng(chan * 100 + distinct)
    r, h, w = 3, 5, 37
    block = random_image(np.dtype(dtype), (h + 2 * r, w + 2 * r, chan), chan)
    ntaps = max(45, distinct)
    rows = tuple(int(v) for v in rng.integers(0, 2 * r + 1, ntaps))
    cols = tuple(int(v) for v in rng.integers(0, 2 * r + 1, ntaps))
    pool = rng.random(distinct).astype(np.float32) * np.float32(3.0)
    weights = tuple(float(pool[i % distinct]) for i in rng.permutation(ntaps))
    lut = (rng.random(255 * chan + 1) ** 3).astype(np.float32)
    lut[::7] = 0.0
    lut[3::11] = np.float32(1e-40)
    lut[5::13] = np.float32(1e30)
    base = engine_run("baseline", block, h, w, r, chan, rows, cols, weights, lut)
    ours = engine_run("avx2", block, h, w, r, chan, rows, cols, weights, lut)
    np.testing.assert_array_equal(ours.view(np.uint32), base.view(np.uint32))
