"""unsharp and local_var/local_std with nan="ignore" on NaN holes (the lazy validity,
the engine's per-band NaN preparation) against the whole-array paths, bit for bit.

The reference for local statistics is the same function given the validity as an
array (a mask of all True alongside nan="ignore": the path every mask takes); for
unsharp it is the whole-image formula on imgfilter.gaussian's nan="ignore" blur.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import imgfilter
from imgfilter.core.names import MODES
from imgfilter.filters.local import _moments, _window

BENCH = Path("/tmp/imgfilter-bench/coffee-1920x1080.png")


def same_bits(a: np.ndarray, b: np.ndarray) -> None:
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a.view(np.uint8), b.view(np.uint8))


def holed(img: np.ndarray, frac: float, seed: int, *, per_channel: bool = False, dtype=np.float32):
    x = np.array(img, dtype=dtype)
    rng = np.random.default_rng(seed)
    if per_channel and x.ndim == 3:
        x[rng.random(x.shape) < frac] = np.nan
    else:
        x[rng.random(x.shape[:2]) < frac] = np.nan
    return x


def old_unsharp(x, sigma, amount, threshold, mode, truncate, threads):
    """The whole-image passes unsharp ran before (blur, detail, threshold, amount, holes)."""
    blur = imgfilter.gaussian(x, sigma, mode=mode, truncate=truncate, threads=threads, nan="ignore")
    detail = x - blur
    if threshold > 0:
        with np.errstate(invalid="ignore"):
            detail[~(np.abs(detail) > x.dtype.type(threshold))] = 0
    if amount != 1:
        detail *= x.dtype.type(amount)
    detail += x
    gone = np.isnan(x)
    detail[gone] = blur[gone]
    return detail


def check_moments(x, size, *, footprint=None, mode="reflect", cval=0.0, ddof=0, threads=1, nan="ignore"):
    win = _window(x.ndim, size, footprint)
    # Without a NaN the old validity was None too (the unchanged hole-free path).
    ones = np.ones(x.shape[:2], bool) if np.isnan(x).any() else None
    for root in (False, True):
        new, _ = _moments(x, win, mode, cval, ddof, threads, nan, None, root=root)
        old, _ = _moments(x, win, mode, cval, ddof, threads, nan, ones, root=root)
        same_bits(new, old)
    fn = imgfilter.local_var
    ref = _moments(x, win, mode, cval, ddof, threads, nan, ones)[0]
    if nan == "keep":
        ref[np.isnan(x)] = np.nan
    same_bits(
        fn(x, size, footprint=footprint, mode=mode, cval=cval, ddof=ddof, threads=threads, nan=nan), ref
    )


# photos
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def photos(samples):
    out = [samples["astronaut.png"], samples["coffee.png"], samples["camera.png"]]
    if BENCH.exists():
        from PIL import Image

        out.append(np.asarray(Image.open(BENCH).convert("RGB")))
    return out


@pytest.mark.parametrize("threads", [1, 2])
def test_local_photos_with_holes(photos, threads):
    for i, img in enumerate(photos):
        for per_channel in (False, True):
            x = holed(img, 0.01, i, per_channel=per_channel)
            check_moments(x, 5, threads=threads)
            check_moments(x, (3, 7), ddof=1, mode="constant", cval=3.0, threads=threads)


@pytest.mark.parametrize("threads", [1, 2])
def test_unsharp_photos_with_holes(photos, threads):
    for i, img in enumerate(photos):
        for per_channel in (False, True):
            for dtype in (np.float32, np.float64):
                x = holed(img, 0.01, i, per_channel=per_channel, dtype=dtype)
                for amount, threshold in ((1.0, 0.0), (1.7, 4.0)):
                    new = imgfilter.unsharp(
                        x, sigma=2.0, amount=amount, threshold=threshold, threads=threads, nan="ignore"
                    )
                    same_bits(new, old_unsharp(x, 2.0, amount, threshold, "reflect", 4.0, threads))


def test_threads_agree(photos):
    x = holed(photos[0], 0.02, 7)
    same_bits(
        imgfilter.local_std(x, 5, threads=1, nan="ignore"), imgfilter.local_std(x, 5, threads=2, nan="ignore")
    )
    same_bits(
        imgfilter.unsharp(x, sigma=2, threads=1, nan="ignore"),
        imgfilter.unsharp(x, sigma=2, threads=2, nan="ignore"),
    )


# hypothesis: odd shapes, 1-pixel images, every mode, footprints, ddof, strides
# --------------------------------------------------------------------------


@st.composite
def holey_images(draw):
    h = draw(st.integers(1, 12))
    w = draw(st.integers(1, 12))
    channels = draw(st.sampled_from([None, 1, 2, 3]))
    shape = (h, w) if channels is None else (h, w, channels)
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    x = (rng.random(shape) * 255).astype(dtype)
    frac = draw(st.sampled_from([0.0, 0.1, 0.5, 1.0]))
    if draw(st.booleans()) and x.ndim == 3:
        x[rng.random(shape) < frac] = np.nan
    else:
        x[rng.random(shape[:2]) < frac] = np.nan
    if draw(st.booleans()):
        x[rng.random(shape) < 0.05] = np.inf
    if draw(st.booleans()):
        # A strided view (not C-contiguous).
        big = np.full((h, 2 * w, *shape[2:]), 7.0, dtype=dtype)
        big[:, ::2] = x
        x = big[:, ::2]
    return x


@settings(max_examples=150, deadline=None)
@given(
    x=holey_images(),
    size=st.tuples(st.integers(1, 5), st.integers(1, 5)),
    use_fp=st.booleans(),
    mode=st.sampled_from(MODES),
    cval=st.sampled_from([0.0, 2.5, np.nan]),
    ddof=st.integers(0, 2),
    threads=st.sampled_from([1, 2]),
    nan=st.sampled_from(["ignore", "keep"]),
)
def test_hypothesis_local_holes(x, size, use_fp, mode, cval, ddof, threads, nan):
    fp = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 1]], bool) if use_fp else None
    with np.errstate(all="ignore"):
        check_moments(x, size, footprint=fp, mode=mode, cval=cval, ddof=ddof, threads=threads, nan=nan)


# inf - inf in a band on the pool warns there (np.errstate is per thread), as the
# hole-free path's bands do.
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@settings(max_examples=100, deadline=None)
@given(
    x=holey_images(),
    sigma=st.sampled_from([0.5, 1.0, 2.0]),
    amount=st.sampled_from([1.0, 0.5, -1.0]),
    threshold=st.sampled_from([0.0, 10.0]),
    mode=st.sampled_from(MODES),
    threads=st.sampled_from([1, 2]),
)
def test_hypothesis_unsharp_holes(x, sigma, amount, threshold, mode, threads):
    with np.errstate(all="ignore"):
        new = imgfilter.unsharp(
            x, sigma=sigma, amount=amount, threshold=threshold, mode=mode, threads=threads, nan="ignore"
        )
        same_bits(new, old_unsharp(x, sigma, amount, threshold, mode, 4.0, threads))
