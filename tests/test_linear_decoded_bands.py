"""Linear light decoded straight into each band's buffer (``core/linear._decoded_bands``).

The Gaussian and box blurs' (and the shift's) fused linear-light route used
to copy each band with its halo in 8/16 bits, decode the copy, and filter
it (``sep2d``); now it decodes the band's source rows once into its buffer
and the separable kernel reads the border through the index tables
(``sep2d_idx``). Both must give the same bits: checked against the copied
route (``copied_borders()``, which still runs the old way) and against the
whole-image route (``in_linear_light`` around the plain filter), on photos
and hypothesis cases (odd sizes, 1-pixel images, every border mode, grey /
1 / 3 / 4 channels, 8 and 16 bits, threads 1, 2 and 3, bands of a few
rows), with a spy proving the new route ran.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import imgfilter
from imgfilter.core import linear, tiles
from imgfilter.core.srgb import in_linear_light

MODES = ["reflect", "constant", "nearest", "mirror", "wrap"]


@contextlib.contextmanager
def small_bands(nbytes: int | None):
    """Bands of the copied route within ``nbytes``; the decoded route's of
    nbytes % 7 + 1 rows, in chunks of nbytes % 3 + 1 per thread (None: the defaults)."""
    old = tiles.BAND_BYTES, linear.DECODED_ROWS, linear.DECODED_CHUNKS
    if nbytes is not None:
        tiles.BAND_BYTES = nbytes
        linear.DECODED_ROWS = nbytes % 7 + 1
        linear.DECODED_CHUNKS = nbytes % 3 + 1
    try:
        yield
    finally:
        tiles.BAND_BYTES, linear.DECODED_ROWS, linear.DECODED_CHUNKS = old


@contextlib.contextmanager
def counting():
    """Counts the bands the decoded route computed."""
    seen = {"bands": 0}
    orig = linear._decoded_bands

    def spy(*args, **kwargs):
        band = orig(*args, **kwargs)
        if band is None:
            return None

        def counted(*args):
            seen["bands"] += 1
            band(*args)

        return counted

    linear._decoded_bands = spy
    try:
        yield seen
    finally:
        linear._decoded_bands = orig


def _check(fn, img, threads, band_bytes=None, expect_route=True, whole_too=True, **kwargs):
    with small_bands(band_bytes), counting() as seen:
        got = fn(img, linear=True, threads=threads, **kwargs)
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
def test_decoded_bands_equal_copied_and_whole_image(
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
def test_decoded_shift_equals_copied_and_whole_image(h, w, dtype, mode, d, cval, threads, band_bytes, seed):
    rng = np.random.default_rng(seed)
    img = rng.integers(0, int(np.iinfo(dtype).max) + 1, (h, w, 3)).astype(dtype)
    # The shift may take its fused small kernel instead: the route is not asserted.
    # The fused shift takes cval as a code (decoded), the whole-image route as
    # light: they agree only where both mean 0.
    _check(_shift, img, threads, band_bytes, False, cval == 0 or mode != "constant",
           dx=d[0], dy=d[1], mode=mode, cval=cval)  # fmt: skip


@pytest.mark.parametrize("threads", [1, 2, 3, None])
def test_decoded_bands_on_photos(samples, threads):
    for name in ("astronaut.png", "camera.png", "coffee.png", "chelsea.png"):
        img = samples[name][:301, :257]  # a view with strides
        _check(_gauss, np.ascontiguousarray(img), threads, sigma=3.0)
        _check(_gauss, img, threads, sigma=3.0)
        _check(_gauss, img, threads, 1, sigma=1.5, mode="wrap")
        _check(_blur, img, threads, 20000, size=(5, 3), mode="constant")
    img16 = samples["chelsea.png"][:123, :211].astype(np.uint16) * 257 + 3
    _check(_gauss, img16, threads, sigma=2.0, mode="mirror")


def test_decoded_bands_on_the_bench_photo():
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
