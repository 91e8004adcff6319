"""Linear light decoded and encoded band by band (issue 14): the banded routes
give the whole-image route's bits, and the faster codec gives the old codec's.

- ``encode_float`` (the slice-wise sRGB curve) against a numpy replica of
  the double-precision curve it has always computed, operation for
  operation, bit for bit, on both instruction sets;
- every 8- and 16-bit code survives decode + encode (both ISAs), and the
  checkerboard still averages to 188;
- the bilateral filter's fused route (decoded inside its bands) against the
  whole-image route it replaced (``in_linear_light`` around the plain filter
  on the decoded image), on photos and hypothesis cases: odd sizes, 1-pixel
  images, every border mode, grey / 2 / 3 / 4 channels, 8 and 16 bits,
  threads 1 and 2; alpha and masks still take the whole-image route;
- the box and Gaussian blurs' fused routes against the same whole-image route.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import imgfilter
from imgfilter import _engine
from imgfilter.core import srgb
from imgfilter.core.srgb import in_linear_light

ISAS = _engine.isas()
MODES = ["reflect", "constant", "nearest", "mirror", "wrap"]


def _each_isa(check) -> None:
    for name in ISAS:
        previous = _engine.set_isa(name)
        try:
            check()
        finally:
            _engine.set_isa(previous)


# --- the codec --------------------------------------------------------------------------


def curve_reference(x: np.ndarray, top: float) -> np.ndarray:
    """The engine's double-precision sRGB curve (codec_impl.h), step for step in numpy."""
    with np.errstate(all="ignore"):
        x = np.asarray(x, dtype=np.float64)
        v = x * (1.0 / top)
        c = np.where(v > 0.0031308, np.where(v < 1.0, v, 1.0), 0.0031308)
        bits = c.view(np.uint64)
        eb = bits >> np.uint64(52)
        mb = (bits & np.uint64(0x000FFFFFFFFFFFFF)) | np.uint64(0x3FF0000000000000)
        m = mb.view(np.float64)
        ed = (eb | np.uint64(0x4330000000000000)).view(np.float64) - (4503599627370496.0 + 1023.0)
        big = m > 1.4142135623730951
        m = np.where(big, m * 0.5, m)
        ed = np.where(big, ed + 1.0, ed)
        s = (m - 1.0) / (m + 1.0)
        s2 = s * s
        ln = np.full_like(s, 1.0 / 15.0)
        for k in (13.0, 11.0, 9.0, 7.0, 5.0, 3.0, 1.0):
            ln = ln * s2 + 1.0 / k
        ln = 2.0 * s * ln
        p = (ed + ln * 1.4426950408889634) / 2.4
        t = p + 6755399441055744.0
        tb = t.view(np.uint64)
        r = t - 6755399441055744.0
        f = (p - r) * 0.6931471805599453
        e = np.full_like(f, 1.0 / 479001600.0)
        for k in (39916800.0, 3628800.0, 362880.0, 40320.0, 5040.0, 720.0, 120.0, 24.0, 6.0, 2.0, 1.0, 1.0):
            e = e * f + 1.0 / k
        rb = e.view(np.uint64) + ((tb - np.uint64(0x4338000000000000)) << np.uint64(52))
        y = (1.055 * rb.view(np.float64) - 0.055) * top
        y = np.where(v <= 0.0031308, x * 12.92, y)
        y = np.where(v >= 1.0, top, y)
        return np.where(v != v, v, y)


def _float_inputs(top: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    codes = np.arange(int(top) + 1, dtype=np.float64)
    lin = (srgb.to_linear(codes / top) * top).astype(np.float32)
    # Near every code's light, the dark segment's end, white, and beyond.
    near = (lin.view(np.int32)[:, None] + np.arange(-3, 4, dtype=np.int32)).reshape(-1).view(np.float32)
    edge = np.float32(0.0031308 * top)
    around = (np.array([edge, top], np.float32).view(np.int32)[:, None] + np.arange(-50, 51)).reshape(-1)
    return np.concatenate(
        [
            lin,
            near,
            around.astype(np.int32).view(np.float32),
            rng.uniform(-10, 1.2 * top, 200_003).astype(np.float32),
            rng.integers(0, 2**32, 100_003, dtype=np.uint64).astype(np.uint32).view(np.float32),
            np.array([0.0, -0.0, 1e-45, 1e-40, np.inf, -np.inf, np.nan, -np.nan, 3e38], np.float32),
        ]
    )


@pytest.mark.parametrize("top", [255.0, 65535.0])
def test_encode_float_is_the_double_curve_bit_for_bit(top):
    x = _float_inputs(top, int(top))
    with np.errstate(invalid="ignore", over="ignore"):
        want32 = curve_reference(x, top).astype(np.float32)
        x64 = x.astype(np.float64) * 1.0000001  # float64 inputs are rounded to float32 first
        want64 = curve_reference(x64.astype(np.float32), top).astype(np.float32).astype(np.float64)

    def check():
        got = srgb.encode_float(x, top)
        np.testing.assert_array_equal(got.view(np.uint32), want32.view(np.uint32))
        out = np.empty_like(x64)
        got64 = srgb.encode_float(x64, top, out=out)
        np.testing.assert_array_equal(got64.view(np.uint64), want64.view(np.uint64))
        # In place, and on every slice tail length.
        for n in (0, 1, 3, 63, 64, 65, 130):
            part = x[:n].copy()
            srgb.encode_float(part, top, out=part)
            np.testing.assert_array_equal(part.view(np.uint32), want32[:n].view(np.uint32))

    _each_isa(check)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_every_code_round_trips(dtype):
    codes = np.arange(int(np.iinfo(dtype).max) + 1).astype(dtype)

    def check():
        for n in (codes.size, 1, 2, 3, 5, 7):  # the unrolled decode's tails
            part = codes[-n:]
            lin = srgb.decode(part)
            np.testing.assert_array_equal(lin, srgb.decode_table(dtype)[part])
            np.testing.assert_array_equal(srgb.encode(lin, dtype), part)
        out = np.empty(codes.shape, np.float32)
        assert srgb.decode(codes, out=out) is out

    _each_isa(check)


def test_decode_out_must_fit():
    with pytest.raises(ValueError):
        srgb.decode(np.zeros(4, np.uint8), out=np.empty(3, np.float32))
    with pytest.raises(ValueError):
        srgb.decode(np.zeros(4, np.uint8), out=np.empty(4, np.float64))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_checkerboard_in_linear_light_is_188(dtype):
    top = int(np.iinfo(dtype).max)
    board = (np.indices((16, 16, 3)).sum(axis=0) % 2 * top).astype(dtype)
    want = 188 if dtype == np.uint8 else int(srgb.encode(np.float32(top / 2), dtype))
    pooled = imgfilter.pool(board[..., 0] if dtype == np.uint8 else board, 2, op="avg", linear=True)
    assert np.all(np.rint(pooled) == want)
    assert np.all(imgfilter.blur(board, 2, mode="wrap", linear=True) == want)


# --- the bilateral filter's banded linear light ---------------------------------------------


def _whole_image(fn, image, **kwargs):
    """The route every call took before the fused one: decode it all, filter, encode it all."""
    return in_linear_light(image, False, lambda x: fn(x, **kwargs))


def _bilateral_pair(image, threads, **kwargs):
    got = imgfilter.bilateral(image, linear=True, threads=threads, **kwargs)
    want = _whole_image(imgfilter.bilateral, image, threads=threads, **kwargs)
    assert got.dtype == image.dtype and got.shape == image.shape
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("threads", [1, 2, None])
def test_bilateral_banded_on_photos(samples, threads):
    for name in ("astronaut.png", "camera.png", "coffee.png"):
        img = samples[name][:301, :257]
        _bilateral_pair(img, threads, diameter=9, sigma_color=30.0, sigma_space=5.0)
    img16 = samples["chelsea.png"][:123, :211].astype(np.uint16) * 257 + 3
    _bilateral_pair(img16, threads, diameter=7, sigma_color=9000.0, sigma_space=4.0)


@given(
    h=st.integers(1, 40),
    w=st.integers(1, 40),
    channels=st.sampled_from([0, 1, 2, 3, 4]),
    dtype=st.sampled_from([np.uint8, np.uint16]),
    mode=st.sampled_from(MODES),
    diameter=st.sampled_from([0, 1, 3, 5, 9]),
    sigmas=st.sampled_from([(75.0, 75.0), (10.0, 2.0), (200.0, 1.0), (3.0, 0.7)]),
    threads=st.sampled_from([1, 2]),
    seed=st.integers(0, 2**16),
)
def test_bilateral_banded_equals_whole_image(h, w, channels, dtype, mode, diameter, sigmas, threads, seed):
    rng = np.random.default_rng(seed)
    shape = (h, w) if channels == 0 else (h, w, channels)
    top = int(np.iinfo(dtype).max)
    img = rng.integers(0, top + 1, shape).astype(dtype)
    scale = 1.0 if dtype == np.uint8 else 257.0
    _bilateral_pair(
        img, threads, diameter=diameter, sigma_color=sigmas[0] * scale, sigma_space=sigmas[1], mode=mode
    )


def test_bilateral_bands_do_not_depend_on_the_band_split(photo, monkeypatch):
    """Bands of a few rows (many band edges inside the windows' reach) give the same bits."""
    from imgfilter.core import tiles

    img = photo[:97, :61]
    want = imgfilter.bilateral(img, 9, linear=True, threads=1)
    monkeypatch.setattr(tiles, "BAND_BYTES", 1)
    for threads in (1, 2, 3):
        np.testing.assert_array_equal(imgfilter.bilateral(img, 9, linear=True, threads=threads), want)
    np.testing.assert_array_equal(want, _whole_image(imgfilter.bilateral, img, diameter=9))


def test_bilateral_alpha_and_mask_keep_the_whole_image_route(photo):
    rgba = np.concatenate([photo[:40, :50], np.full((40, 50, 1), 200, np.uint8)], axis=-1)
    rgba[::3, ::2, 3] = 17
    got = imgfilter.bilateral(rgba, 5, alpha=True, linear=True)
    want = in_linear_light(rgba, True, lambda x: imgfilter.bilateral(x, 5, alpha=True))
    np.testing.assert_array_equal(got, want)
    mask = np.ones((40, 50), bool)
    mask[5:9, 7:30] = False
    img = photo[:40, :50]
    got = imgfilter.bilateral(img, 5, mask=mask, linear=True)
    want = in_linear_light(img, False, lambda x: imgfilter.bilateral(x, 5, mask=mask))
    np.testing.assert_array_equal(got, want)


def test_bilateral_banded_on_the_bench_photo():
    from pathlib import Path

    path = Path("/tmp/imgfilter-bench/coffee-1920x1080.png")
    if not path.exists():
        pytest.skip("no bench photo")
    img = imgfilter.imread(path)[:400]
    _bilateral_pair(img, None, diameter=9)


# --- the box and Gaussian blurs' fused routes -----------------------------------------------


@given(
    h=st.integers(1, 30),
    w=st.integers(1, 30),
    channels=st.sampled_from([0, 1, 3, 4]),
    dtype=st.sampled_from([np.uint8, np.uint16]),
    mode=st.sampled_from(MODES),
    size=st.sampled_from([1, 2, 3, 5, (3, 7)]),
    sigma=st.sampled_from([0.5, 1.0, 3.0]),
    threads=st.sampled_from([1, 2]),
    seed=st.integers(0, 2**16),
)
def test_blurs_banded_equal_whole_image(h, w, channels, dtype, mode, size, sigma, threads, seed):
    rng = np.random.default_rng(seed)
    shape = (h, w) if channels == 0 else (h, w, channels)
    img = rng.integers(0, int(np.iinfo(dtype).max) + 1, shape).astype(dtype)
    got = imgfilter.blur(img, size, mode=mode, linear=True, threads=threads)
    want = _whole_image(imgfilter.blur, img, size=size, mode=mode, threads=threads)
    np.testing.assert_array_equal(got, want)
    got = imgfilter.gaussian(img, sigma, mode=mode, linear=True, threads=threads)
    want = _whole_image(imgfilter.gaussian, img, sigma=sigma, mode=mode, threads=threads)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("divisor,exponent", [(2.0, 0), (4.0, 1), (16.0, 2), (2.0**60, 20), (25.0, 1)])
def test_encode_scales_give_the_codes_of_dividing_first(divisor, exponent):
    """A power-of-two divisor goes in as a scale (one multiply): the codes of x / d * 2**-e."""
    rng = np.random.default_rng(int(divisor) % 1000 + exponent)
    bits = rng.integers(0, 2**32, 400_003, dtype=np.uint64).astype(np.uint32)
    top = 255 * divisor * 2.0**exponent
    x = np.concatenate(
        [
            bits.view(np.float32),
            (rng.uniform(-1, 1.1, 200_000) * float(top)).astype(np.float32),
            np.array([0.0, -0.0, 1e-45, 1e-38, np.inf, -np.inf, 3e38], np.float32),
        ]
    )
    with np.errstate(all="ignore"):
        y = (x / np.float32(divisor)) * np.float32(2.0**-exponent)
    finite = ~np.isnan(x)

    def check():
        got = srgb.encode(x, np.uint8, divisor=divisor, exponent=exponent)
        np.testing.assert_array_equal(got[finite], srgb.encode(y, np.uint8)[finite])
        # NaN: 0 with the sign bit set, else 255, as without a scale.
        np.testing.assert_array_equal(got[~finite], np.where(np.signbit(x[~finite]), 0, 255))

    _each_isa(check)
