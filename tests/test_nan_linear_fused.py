"""nan="ignore" of the linear filters on NaN holes (no mask) pinned bit for bit.

The reference is the same call given the validity as an array (a mask of all
True alongside nan="ignore": the mask route, which copies each band with its
halo, zeroes it and sums a weight plane), so whatever route the holes take
(today's bands or a fused kernel) it must give the very same bits: random and
photo images, float32/float64, grey and RGB, odd and 1-pixel shapes, 1%/50%/all
holes, none, NaN in one channel only, every border mode, threads 1 and 2.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import imgfilter
from imgfilter.core.names import MODES

SAMPLES = sorted(Path("/work/shared/sample_images").glob("*.png")) + sorted(
    Path("/work/shared/sample_images").glob("*.jpg")
)


def same_bits(a: np.ndarray, b: np.ndarray) -> None:
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a.view(np.uint8), b.view(np.uint8))


def holed(shape, frac: float, seed: int, *, dtype=np.float32, where: str = "pixel") -> np.ndarray:
    """A random image with NaN holes: whole pixels, one channel only, or any value."""
    rng = np.random.default_rng(seed)
    x = (rng.random(shape) * 255).astype(dtype)
    if where == "pixel" or x.ndim == 2 or x.shape[-1] < 2:
        x[rng.random(shape[:2]) < frac] = np.nan
    elif where == "channel":
        x[..., 1][rng.random(shape[:2]) < frac] = np.nan
    else:
        x[rng.random(shape) < frac] = np.nan
    return x


def reference(fn, x, **kw):
    """The mask route: the validity as an array (a mask of ones beside nan='ignore')."""
    return fn(x, nan="ignore", mask=np.ones(x.shape[:2], dtype=bool), **kw)


K5 = np.random.default_rng(3).random((5, 5)).astype(np.float32)
K3 = np.random.default_rng(4).random((3, 3))
SIGNED = np.random.default_rng(5).normal(size=(3, 4))
SIGNED[1, 1] += 4.0  # a kernel that does not sum to 0

FILTERS = {
    "correlate5": lambda x, **k: imgfilter.correlate(x, K5, **k),
    "correlate3": lambda x, **k: imgfilter.correlate(x, K3, **k),
    "signed3x4": lambda x, **k: imgfilter.correlate(x, SIGNED, **k),
    "separable3": lambda x, **k: imgfilter.correlate(x, np.outer([1.0, 2.0, 1.0], [1.0, 3.0, 1.0]), **k),
    "box5": lambda x, **k: imgfilter.blur(x, 5, **k),
    "gaussian2": lambda x, **k: imgfilter.gaussian(x, 2.0, **k),
}


@pytest.mark.parametrize("name", sorted(FILTERS))
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("threads", [1, 2])
def test_rgb_one_percent_holes(name, mode, threads):
    fn = FILTERS[name]
    x = holed((37, 53, 3), 0.01, 1)
    same_bits(fn(x, nan="ignore", mode=mode, threads=threads), reference(fn, x, mode=mode, threads=threads))


@pytest.mark.parametrize("name", sorted(FILTERS))
@pytest.mark.parametrize("frac", [0.0, 0.01, 0.5, 1.0])
@pytest.mark.parametrize("where", ["pixel", "channel", "value"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_hole_patterns(name, frac, where, dtype):
    fn = FILTERS[name]
    x = holed((29, 31, 3), frac, 2, dtype=dtype, where=where)
    same_bits(fn(x, nan="ignore", threads=2), reference(fn, x, threads=2))


@pytest.mark.parametrize("name", sorted(FILTERS))
@pytest.mark.parametrize("shape", [(1, 1), (1, 1, 3), (1, 7), (7, 1, 3), (2, 3), (5, 4, 3), (64, 3)])
@pytest.mark.parametrize("mode", MODES)
def test_odd_and_tiny_shapes(name, shape, mode):
    fn = FILTERS[name]
    for seed in range(3):
        x = holed(shape, 0.3, seed)
        x.flat[0] = np.nan if seed == 1 else x.flat[0]
        same_bits(fn(x, nan="ignore", mode=mode), reference(fn, x, mode=mode))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("cval", [0.0, 7.5, -3.0])
def test_constant_values_and_strides(mode, cval):
    x = holed((23, 19, 3), 0.05, 6)
    for stride, dilation in (((1, 1), (1, 1)), ((2, 3), (1, 1)), ((1, 1), (2, 1)), ((3, 2), (2, 2))):
        kw = dict(mode=mode, cval=cval, stride=stride, dilation=dilation)
        want = imgfilter.correlate(x, K5, nan="ignore", mask=np.ones(x.shape[:2], bool), **kw)
        same_bits(imgfilter.correlate(x, K5, nan="ignore", **kw), want)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
@pytest.mark.parametrize("name", ["correlate5", "box5", "gaussian2"])
def test_photos(path, name):
    from PIL import Image

    img = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32)
    rng = np.random.default_rng(7)
    img = img.copy()
    img[rng.random(img.shape[:2]) < 0.01] = np.nan
    fn = FILTERS[name]
    for x in (img, np.ascontiguousarray(img[..., 0])):
        for threads in (1, 2):
            same_bits(fn(x, nan="ignore", threads=threads), reference(fn, x, threads=threads))


@settings(max_examples=60, deadline=None)
@given(
    h=st.integers(1, 20),
    w=st.integers(1, 20),
    channels=st.sampled_from([(), (1,), (3,), (4,)]),
    kh=st.integers(1, 6),
    kw=st.integers(1, 6),
    mode=st.sampled_from(MODES),
    frac=st.sampled_from([0.0, 0.05, 0.3, 0.9]),
    where=st.sampled_from(["pixel", "channel", "value"]),
    dtype=st.sampled_from([np.float32, np.float64]),
    signs=st.booleans(),
    threads=st.sampled_from([1, 2]),
    seed=st.integers(0, 2**16),
)
def test_random_kernels(h, w, channels, kh, kw, mode, frac, where, dtype, signs, threads, seed):
    rng = np.random.default_rng(seed)
    x = holed((h, w, *channels), frac, seed, dtype=dtype, where=where)
    k = rng.normal(size=(kh, kw)) if signs else rng.random((kh, kw)) + 0.05
    if abs(k.sum()) < 0.1:
        k[0, 0] += 1.0
    want = imgfilter.correlate(x, k, nan="ignore", mask=np.ones((h, w), bool), mode=mode, threads=threads)
    same_bits(imgfilter.correlate(x, k, nan="ignore", mode=mode, threads=threads), want)
