"""The derivatives' fill of NaN holes computed at the holes only, pinned bit for bit.

``fill_holes(method="points")`` runs the normalized smoothing's separable
sums at each hole (``_engine.sep2d_nan_at``) instead of over the whole image
(``method="image"``, the normalized bands' fused kernel, itself pinned to the
mask route in test_nan_linear_fused.py): the same products and additions in
the same order, so the very same bits, on both instruction sets, for every
border mode, dtype, channel count, NaN in some channels only, infinities,
kernels longer than the image (folded) and threads. Plus the compiled hole
finder against numpy and both kernels' refusals of bad geometry.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import imgfilter
from imgfilter import _engine
from imgfilter.core.names import MODES, OptionError
from imgfilter.filters.derivatives import derivative_factors
from imgfilter.filters.smooth import FILL_METHODS, fill_holes

ISAS = [i for i in ("baseline", "avx2") if i in _engine.isas()]
PHOTO = Path(__file__).resolve().parent.parent / "sample_images" / "coffee.png"


def same_bits(a: np.ndarray, b: np.ndarray) -> None:
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a.view(np.uint8), b.view(np.uint8))


def holed(rng, shape, dtype, frac, where):
    x = (rng.standard_normal(shape) * 100).astype(dtype)
    if where == "pixel" or x.ndim == 2:
        x[rng.random(shape[:2]) < frac] = np.nan
    elif where == "channel":
        x[..., 0][rng.random(shape[:2]) < frac] = np.nan
    else:
        x[rng.random(shape) < frac] = np.nan
    return x


@pytest.fixture(params=ISAS)
def isa(request):
    previous = _engine.set_isa(request.param)
    yield request.param
    _engine.set_isa(previous)


@given(
    h=st.integers(1, 40),
    w=st.integers(1, 40),
    chan=st.sampled_from([None, 1, 3, 4]),
    dtype=st.sampled_from([np.float32, np.float64]),
    frac=st.sampled_from([0.01, 0.1, 0.5, 1.0]),
    where=st.sampled_from(["pixel", "channel", "value"]),
    inf=st.booleans(),
    mode=st.sampled_from(MODES),
    cval=st.sampled_from([0.0, -3.5, 7.0]),
    sigma=st.tuples(st.sampled_from([0.2, 0.8, 2.0, 5.0, 30.0]), st.sampled_from([0.5, 1.5, 40.0])),
    threads=st.sampled_from([1, 2]),
    seed=st.integers(0, 2**16),
    isa=st.sampled_from(ISAS),
)
def test_points_give_the_image_fills_bits(
    h, w, chan, dtype, frac, where, inf, mode, cval, sigma, threads, seed, isa
):
    previous = _engine.set_isa(isa)
    try:
        check_points(h, w, chan, dtype, frac, where, inf, mode, cval, sigma, threads, seed)
    finally:
        _engine.set_isa(previous)


def check_points(h, w, chan, dtype, frac, where, inf, mode, cval, sigma, threads, seed):
    rng = np.random.default_rng(seed)
    shape = (h, w) if chan is None else (h, w, chan)
    x = holed(rng, shape, dtype, frac, where)
    if inf:
        x[rng.random(shape) < 0.05] = -np.inf
    factors = derivative_factors(sigma, 0, 4.0, x.ndim)
    kw = dict(mode=mode, cval=cval, threads=threads)
    same_bits(fill_holes(x, factors, method="points", **kw), fill_holes(x, factors, method="image", **kw))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("sigma", [1.0, 3.0])
def test_photo_with_one_percent_holes(isa, mode, sigma):
    from PIL import Image

    x = np.asarray(Image.open(PHOTO).convert("RGB"), dtype=np.float32).copy()
    x[np.random.default_rng(1).random(x.shape[:2]) < 0.01] = np.nan
    factors = derivative_factors(sigma, 0, 4.0, 3)
    kw = dict(mode=mode, cval=2.0, threads=2)
    filled = fill_holes(x, factors, method="points", **kw)
    same_bits(filled, fill_holes(x, factors, method="image", **kw))
    same_bits(filled, fill_holes(x, factors, **kw))  # whichever the cost picks
    assert not np.isnan(filled).any()
    valid = ~np.isnan(x)
    same_bits(filled[valid], x[valid])  # valid pixels keep their values


def test_a_lone_valid_pixel_and_windows_without_any():
    x = np.full((30, 30), np.nan, np.float32)
    x[3, 4] = 5.0
    factors = derivative_factors(1.0, 0, 4.0, 2)
    for method in FILL_METHODS:
        got = fill_holes(x, factors, mode="constant", cval=0.0, threads=1, method=method)
        # Within the radius (4) every hole is filled from the lone pixel and the
        # constant border (valid cval pixels); far from both: NaN.
        assert got[3, 4] == 5.0
        assert np.isnan(got[20, 20])
    same_bits(*(fill_holes(x, factors, mode="reflect", cval=0.0, threads=1, method=m) for m in FILL_METHODS))


def test_the_laplace_of_a_holed_photo_takes_either_fill():
    from PIL import Image

    x = np.asarray(Image.open(PHOTO).convert("RGB"), dtype=np.float32).copy()
    x[np.random.default_rng(2).random(x.shape[:2]) < 0.01] = np.nan
    got = imgfilter.gaussian_laplace(x, 2.0, nan="ignore")
    factors = derivative_factors(2.0, 0, 4.0, 3)
    for method in FILL_METHODS:
        filled = fill_holes(x, factors, mode="reflect", cval=0.0, threads=None, method=method)
        same_bits(got, imgfilter.gaussian_laplace(filled, 2.0))


def test_points_refuse_what_they_do_not_take():
    x = np.ones((8, 8), np.float32)
    x[2, 2] = np.nan
    factors = derivative_factors(1.0, 0, 4.0, 2)
    # A NaN constant border counts as valid NaN pixels: only the image route has that.
    with pytest.raises(ValueError, match="points"):
        fill_holes(x, factors, mode="constant", cval=np.nan, threads=1, method="points")
    same_bits(
        fill_holes(x, factors, mode="constant", cval=np.nan, threads=1),
        fill_holes(x, factors, mode="constant", cval=np.nan, threads=1, method="image"),
    )
    with pytest.raises(OptionError, match="method"):
        fill_holes(x, factors, mode="reflect", cval=0.0, threads=1, method="sparse")
    # Not C-contiguous: the image route.
    t = np.ascontiguousarray(x.T).T
    with pytest.raises(ValueError, match="points"):
        fill_holes(t, factors, mode="reflect", cval=0.0, threads=1, method="points")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cn", [1, 3, 700, 3000])
def test_nan_holes_finds_the_pixels_numpy_finds(isa, dtype, cn):
    rng = np.random.default_rng(cn)
    x = rng.random((301, cn)).astype(dtype)
    x[rng.random(x.shape) < 0.002] = np.nan
    x[7] = np.nan
    expect = np.flatnonzero(np.isnan(x).any(axis=1))
    copy = np.empty_like(x)
    out = np.empty(301, np.intp)
    n = _engine.nan_holes(x, copy, cn, 0, 301, out)
    np.testing.assert_array_equal(out[:n], expect)
    same_bits(copy, x)
    # A part of the pixels, no copy; and fewer slots than holes: -1.
    n = _engine.nan_holes(x, None, cn, 5, 200, out)
    np.testing.assert_array_equal(out[:n], expect[(expect >= 5) & (expect < 200)])
    assert _engine.nan_holes(x, None, cn, 0, 301, out[: len(expect) - 1]) == -1


def test_the_kernels_refuse_bad_geometry():
    x = np.zeros((4, 5, 3), np.float32)
    out = np.empty(4, np.intp)
    with pytest.raises(IndexError):
        _engine.nan_holes(x, None, 3, 0, 21, out)  # 20 pixels
    with pytest.raises(TypeError):
        _engine.nan_holes(x, np.empty((4, 5, 3), np.float64), 3, 0, 20, out)
    num = np.empty((2, 3), np.float32)
    den = np.empty((2, 3), np.float32)
    rowidx = np.arange(-1, 5).clip(0, 3).astype(np.intp)  # 6 block rows for 4 output rows
    taps = ((0, 1, 2), (0.25, 0.5, 0.25), (0, 1, 2), (0.25, 0.5, 0.25))
    geometry = (4, 5, 3, 5, rowidx, -1, 7, (0,), (4,), 1, 1)

    def call(ys, xs, geom=geometry, n=num):
        _engine.sep2d_nan_at(x, n, den, *geom, *taps, 0.0, np.array(ys, np.intp), np.array(xs, np.intp))

    call([0, 3], [0, 4])  # the corners are fine
    with pytest.raises(IndexError):
        call([0, 4], [0, 0])  # row 4 of 4
    with pytest.raises(IndexError):
        call([0, 0], [0, 5])  # column 5 of 5
    with pytest.raises(IndexError):
        call([0, 0], [-1, 0])
    with pytest.raises(IndexError):
        call([0, 0, 0], [0, 0, 0])  # three outputs, room for two
    with pytest.raises(IndexError):
        call([0], [0], geom=(5, *geometry[1:]))  # a fifth output row reads a seventh block row
    with pytest.raises(ValueError):
        call([0], [0, 1])
    with pytest.raises(ValueError):
        call([0], [0], n=np.empty((2, 3), np.float64))
