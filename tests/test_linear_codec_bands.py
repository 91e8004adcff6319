"""Linear light inside the separable kernel (``core/linear._codec_bands``).

The Gaussian and box blurs' (and the shift's) linear-light route reads the
8/16-bit codes itself: ``_engine.sep2d_idx`` with its codec decodes each
row by the codec's table as it fetches it, sums in float32 and encodes the
sums to codes as it stores them (``srgb.Encoding`` declares that last
step). Before, the route decoded each band's rows into a ring (numpy-side)
and encoded each band afterwards; that route was checked bit for bit
against this one on photos and the cases below before it was deleted. Both
must give the bits of the copied route (``copied_borders()``: copy the band
with its halo, decode, ``sep2d``, encode) and of the whole-image route
(``in_linear_light`` around the plain filter), on photos and hypothesis
cases (odd sizes, 1-pixel images, every border mode, grey / 1 / 3 / 4
channels, 8 and 16 bits, threads 1, 2 and 3, bands of a few rows, both
instruction sets), with a spy proving the route ran.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import imgfilter
from imgfilter import _engine
from imgfilter.core import linear, tiles
from imgfilter.core.linear import border_tables
from imgfilter.core.options import plan_window
from imgfilter.core.srgb import decode, encode, encode_scale, in_linear_light

ISAS = _engine.isas()

MODES = ["reflect", "constant", "nearest", "mirror", "wrap"]


@contextlib.contextmanager
def small_bands(nbytes: int | None):
    """Bands within ``nbytes`` (None: the default)."""
    old = tiles.BAND_BYTES
    if nbytes is not None:
        tiles.BAND_BYTES = nbytes
    try:
        yield
    finally:
        tiles.BAND_BYTES = old


@contextlib.contextmanager
def counting():
    """Counts the bands the codec route computed."""
    seen = {"bands": 0}
    orig = linear._codec_bands

    def spy(*args, **kwargs):
        band = orig(*args, **kwargs)
        if band is None:
            return None

        def counted(*args):
            seen["bands"] += 1
            band(*args)

        return counted

    linear._codec_bands = spy
    try:
        yield seen
    finally:
        linear._codec_bands = orig


def _check(fn, img, threads, band_bytes=None, expect_route=True, whole_too=True, **kwargs):
    got = None
    for isa in ISAS:
        previous = _engine.set_isa(isa)
        try:
            with small_bands(band_bytes), counting() as seen:
                res = fn(img, linear=True, threads=threads, **kwargs)
        finally:
            _engine.set_isa(previous)
        if got is not None:
            np.testing.assert_array_equal(res, got, err_msg=isa)
        got = res
    with small_bands(band_bytes), linear.copied_borders():
        copied = fn(img, linear=True, threads=threads, **kwargs)
    whole = in_linear_light(img, False, lambda x: fn(x, threads=threads, **kwargs)) if whole_too else None
    assert got.dtype == img.dtype and got.shape == img.shape
    np.testing.assert_array_equal(got, copied)
    if whole_too:
        np.testing.assert_array_equal(got, whole)
    if expect_route:
        assert seen["bands"] > 0
    return got


def _gauss(x, **k):
    return imgfilter.gaussian(x, **k)


def _blur(x, **k):
    return imgfilter.blur(x, **k)


def _shift(x, **k):
    return imgfilter.shift(x, **k)


@given(
    h=st.integers(1, 40),
    w=st.integers(1, 40),
    channels=st.sampled_from([0, 1, 3, 4]),
    dtype=st.sampled_from([np.uint8, np.uint16]),
    mode=st.sampled_from(MODES),
    sigma=st.sampled_from([0.4, 1.0, 2.0, 3.0, (0.7, 2.5), (3.0, 1.0)]),
    size=st.sampled_from([2, 3, 5, (3, 7), (1, 4)]),
    threads=st.sampled_from([1, 2, 3]),
    band_bytes=st.sampled_from([None, 1, 2, 5000, 20004]),
    seed=st.integers(0, 2**16),
)
def test_codec_bands_equal_copied_and_whole_image(
    h, w, channels, dtype, mode, sigma, size, threads, band_bytes, seed
):
    rng = np.random.default_rng(seed)
    shape = (h, w) if channels == 0 else (h, w, channels)
    img = rng.integers(0, int(np.iinfo(dtype).max) + 1, shape).astype(dtype)
    _check(_gauss, img, threads, band_bytes, sigma=sigma, mode=mode)
    _check(_blur, img, threads, band_bytes, size=size, mode=mode)


@given(
    h=st.integers(1, 30),
    w=st.integers(1, 30),
    dtype=st.sampled_from([np.uint8, np.uint16]),
    mode=st.sampled_from(MODES),
    d=st.sampled_from([(0.5, 0.25), (-1.5, 0.5), (0.3, -2.7), (4.5, 0.0)]),
    cval=st.sampled_from([0, 1, 37, 255]),
    threads=st.sampled_from([1, 2]),
    band_bytes=st.sampled_from([None, 1, 4]),
    seed=st.integers(0, 2**16),
)
def test_codec_shift_equals_copied_and_whole_image(h, w, dtype, mode, d, cval, threads, band_bytes, seed):
    rng = np.random.default_rng(seed)
    img = rng.integers(0, int(np.iinfo(dtype).max) + 1, (h, w, 3)).astype(dtype)
    # The shift may take its fused small kernel instead: the route is not asserted.
    # The fused shift takes cval as a code (decoded), the whole-image route as
    # light: they agree only where both mean 0.
    _check(_shift, img, threads, band_bytes, False, cval == 0 or mode != "constant",
           dx=d[0], dy=d[1], mode=mode, cval=cval)  # fmt: skip


@pytest.mark.parametrize("threads", [1, 2, 3, None])
def test_codec_bands_on_photos(samples, threads):
    for name in ("astronaut.png", "camera.png", "coffee.png", "chelsea.png"):
        img = samples[name][:301, :257]  # a view with strides
        _check(_gauss, np.ascontiguousarray(img), threads, sigma=3.0)
        _check(_gauss, img, threads, sigma=3.0)
        _check(_gauss, img, threads, 1, sigma=1.5, mode="wrap")
        _check(_blur, img, threads, 20000, size=(5, 3), mode="constant")
    img16 = samples["chelsea.png"][:123, :211].astype(np.uint16) * 257 + 3
    _check(_gauss, img16, threads, sigma=2.0, mode="mirror")


def test_codec_bands_on_the_bench_photo():
    path = Path("/tmp/imgfilter-bench/coffee-3840x2160.png")
    if not path.exists():
        pytest.skip("no bench photo")
    img = imgfilter.imread(path)[:700]
    for threads in (1, 2):
        _check(_gauss, img, threads, sigma=3.0)


def test_running_sums_and_alpha_keep_their_routes(photo):
    img = photo[:60, :70]
    # A box of 17 or more sums by running sums: still the copied bands.
    with counting() as seen:
        got = imgfilter.blur(img, 19, linear=True)
    assert seen["bands"] == 0
    np.testing.assert_array_equal(got, in_linear_light(img, False, lambda x: imgfilter.blur(x, 19)))
    rgba = np.concatenate([img, np.full((60, 70, 1), 200, np.uint8)], axis=-1)
    rgba[::3, ::2, 3] = 17
    with counting() as seen:
        got = imgfilter.gaussian(rgba, 2.0, alpha=True, linear=True)
    assert seen["bands"] == 0
    want = in_linear_light(rgba, True, lambda x: imgfilter.gaussian(x, 2.0, alpha=True))
    np.testing.assert_array_equal(got, want)


def _sep2d_idx(src, dst, taps, mode="reflect", cval=0.0, codec=()):
    """``_engine.sep2d_idx`` over a whole image with 'same' padding (taps: (fv, fh))."""
    fv, fh = taps
    plan = plan_window(src.shape, (len(fv), len(fh)), "same", 1, 1)
    tables = border_tables(src.shape, plan, mode)
    chan = int(np.prod(src.shape[2:], dtype=np.int64))
    rows = plan.out_shape[0]
    geometry = (rows, plan.out_shape[1], chan, src.shape[1], *tables.band(plan, 0, rows), 1, 1)
    vt = (tuple(range(len(fv))), tuple(map(float, fv)), tuple(range(len(fh))), tuple(map(float, fh)))
    _engine.sep2d_idx(src, dst, *geometry, *vt, "f32", False, 1.0, cval, *codec)
    return dst


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("scale", [(1.0, 0), (9.0, 0), (4.0, 0), (1.0, 2), (3.0, 1)])
@pytest.mark.parametrize("shape", [(1, 1), (3, 17), (9, 8, 3), (5, 31, 2), (12, 7, 4)])
def test_the_engine_codec_is_decode_filter_encode(isa, dtype, scale, shape):
    """Codes decoded as read (the gather of 8 and its tail), float32 sums, encoded as stored,
    divisor and power-of-two scale included: the bits of decode(), sep2d_idx, encode()."""
    rng = np.random.default_rng(sum(shape))
    img = rng.integers(0, int(np.iinfo(dtype).max) + 1, shape).astype(dtype)
    img.flat[:: max(1, img.size // 5)] = np.iinfo(dtype).max  # white, whose light is the top
    taps = (np.array([0.25, 0.5, 0.75]), np.array([1.0, 2.0, 1.0, 0.5]))
    divisor, exponent = scale
    previous = _engine.set_isa(isa)
    try:
        for mode, code in (("reflect", 0), ("constant", 0), ("constant", int(np.iinfo(dtype).max) // 3)):
            light = float(decode(np.array([code], dtype))[0])
            sums = _sep2d_idx(decode(img), np.empty(shape, np.float32), taps, mode, light)
            want = encode(sums, dtype, divisor=divisor, exponent=exponent)
            got = _sep2d_idx(
                img, np.empty(shape, dtype), taps, mode, light, (True, *encode_scale(divisor, exponent))
            )
            np.testing.assert_array_equal(got, want, err_msg=f"{mode} {code}")
    finally:
        _engine.set_isa(previous)


def test_the_engine_codec_refuses_what_it_cannot_encode():
    img = np.zeros((4, 6, 3), np.uint8)
    taps = (np.ones(3), np.ones(3))
    for src, dst in ((img, np.empty((4, 6, 3), np.uint16)), (img.astype(np.float32), np.empty((4, 6, 3), np.float32)),
                     (img.astype(np.int16), np.empty((4, 6, 3), np.int16))):  # fmt: skip
        with pytest.raises(ValueError, match="codec"):
            _sep2d_idx(src, dst, taps, codec=(True, 1.0, 1.0))
    plan = plan_window(img.shape, (3, 3), "same", 1, 1)
    geometry = (4, 6, 3, 6, *border_tables(img.shape, plan, "reflect").band(plan, 0, 4), 1, 1)
    vt = ((0, 1, 2), (1.0,) * 3, (0, 1, 2), (1.0,) * 3)
    for acc, divide in (("f64", 1.0), ("f32", 9.0)):
        with pytest.raises(ValueError, match="codec"):
            _engine.sep2d_idx(
                img, np.empty_like(img), *geometry, *vt, acc, False, divide, 0.0, True, 1.0, 1.0
            )
