"""local_range with NaN holes and no mask takes the image itself (no validity array):
the same values as the array route (an all-True mask), on photos and random cases."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import imgfilter
from imgfilter.core import masked

MODES = ["reflect", "symmetric", "edge", "wrap", "constant"]


def _holes(shape, frac, seed, dtype=np.float32):
    rng = np.random.default_rng(seed)
    x = (rng.random(shape) * 255).astype(dtype)
    x[rng.random(shape[:2]) < frac] = np.nan
    return x


def _array_route(x, **kw):
    return imgfilter.local_range(x, mask=np.ones(x.shape[:2], bool), **kw)


def test_lazy_validity_is_taken():
    x = _holes((9, 11, 3), 0.1, 0)
    assert isinstance(masked.validity(x, "ignore", None, lazy=True), masked.NanHoles)


@pytest.mark.parametrize("name", ["chelsea.png", "coffee.png"])
def test_photo_with_holes(name, samples):
    img = samples[name].astype(np.float32)
    img[np.random.default_rng(1).random(img.shape[:2]) < 0.01] = np.nan
    for nan in ("ignore", "keep"):
        got = imgfilter.local_range(img, 5, nan=nan)
        np.testing.assert_array_equal(got, _array_route(img, size=5, nan=nan))


@settings(max_examples=60, deadline=None)
@given(
    h=st.integers(1, 14),
    w=st.integers(1, 14),
    c=st.sampled_from([0, 1, 3]),
    size=st.sampled_from([1, 2, 3, 5]),
    mode=st.sampled_from(MODES),
    cval=st.sampled_from([0.0, 7.5, float("nan")]),
    frac=st.sampled_from([0.05, 0.3, 1.0]),
    dtype=st.sampled_from([np.float32, np.float64]),
    strided=st.booleans(),
    threads=st.sampled_from([1, 2]),
    seed=st.integers(0, 2**16),
)
def test_random_cases(h, w, c, size, mode, cval, frac, dtype, strided, threads, seed):
    shape = (h, w) if c == 0 else (h, w, c)
    x = _holes(shape, frac, seed, dtype)
    if strided:
        x = np.repeat(x, 2, axis=1)[:, ::2]
    kw = dict(size=size, mode=mode, cval=cval, threads=threads)
    for nan in ("ignore", "keep"):
        got = imgfilter.local_range(x, nan=nan, **kw)
        assert got.dtype == x.dtype
        np.testing.assert_array_equal(got, _array_route(x, nan=nan, **kw))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8, np.uint16, np.int16, bool])
@pytest.mark.parametrize("kw", [{"size": 1}, {"size": 3}, {"footprint": np.array([[0, 1, 0]], bool)}])
def test_range_in_place_leaves_the_input(dtype, kw):
    # The hole-free range subtracts in place into the maximum: never into the input.
    x = (np.random.default_rng(0).random((6, 7, 3)) * 200).astype(dtype)
    before = x.copy()
    for img in (x, x[:, ::2]):
        out = imgfilter.local_range(img, **kw)
        assert not np.shares_memory(out, x)
    np.testing.assert_array_equal(x, before)
    hi, lo = imgfilter.maximum(x, **kw), imgfilter.minimum(x, **kw)
    if dtype is bool:
        expected = hi != lo
    elif np.dtype(dtype).kind == "f":
        expected = np.subtract(hi, lo, dtype=dtype)  # one subtraction in the image's type
    else:
        expected = (hi.astype(np.int64) - lo.astype(np.int64)).astype(dtype)
    got = imgfilter.local_range(x, **kw)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)
