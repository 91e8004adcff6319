"""Canny's uint8 sigma-0 path against the float32-cast path it replaces, bit for bit.

At sigma 0, a uint8 image without a mask goes to ``canny_nms_u8`` as it is
(integer Sobel sums, or in the "constant" mode the float32 path cast row by
row); ``direct_u8=False`` takes the old route (the image cast to float32,
``canny_nms``). The two must give the same classes, magnitudes and edges on
photos and random images, in every option, band split, thread count and
instruction set; float and uint16 images, masks and sigma > 0 keep the old
route. Also the hysteresis against a labelling.
"""

from __future__ import annotations

import glob
import itertools
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import imgfilter
from imgfilter import _engine
from imgfilter.filters.canny import edge_classes

ISAS = list(_engine.isas())
MODES = ["edge", "symmetric", "reflect", "wrap", "constant"]
SAMPLES = str(Path(__file__).resolve().parent.parent / "sample_images")


def photo_paths():
    """The sample photos, and the benchmark's 1080p and 4K ones where a bench run left them."""
    paths = sorted(glob.glob(os.path.join(SAMPLES, "*.png")) + glob.glob(os.path.join(SAMPLES, "*.jpg")))
    return paths + sorted(glob.glob(os.path.join(tempfile.gettempdir(), "imgfilter-bench", "*.png")))


def grey_u8(path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("L"))


def classes(image, direct, **kw):
    opts = dict(sigma=0, low=50, high=100, l2=True, mask=None, use_quantiles=False, mode="edge", threads=1)
    opts.update(kw)
    return edge_classes(image, direct_u8=direct, **opts)


def both(image, **kw):
    new, old = classes(image, True, **kw), classes(image, False, **kw)
    assert new.dtype == old.dtype == np.uint8
    assert np.array_equal(new, old), kw
    return new


@pytest.fixture(params=ISAS)
def isa(request):
    previous = _engine.set_isa(request.param)
    yield request.param
    _engine.set_isa(previous)


def u8_nms(img, low, high, *, l2=True, emask=None, bands=1, mag=None):
    rows, cols = img.shape
    cls = np.full((rows, cols), 7, dtype=np.uint8)
    for r0, r1 in itertools.pairwise(np.linspace(0, rows, bands + 1).astype(int)):
        _engine._kernels.canny_nms_u8(
            img, cls, rows, cols, int(r0), int(r1), low, high, l2, None, None, 0.0, emask, mag
        )
    return cls


def f32_nms(img, low, high, *, l2=True, emask=None, bands=1, mag=None):
    src = img.astype(np.float32)
    rows, cols = img.shape
    cls = np.full((rows, cols), 7, dtype=np.uint8)
    for r0, r1 in itertools.pairwise(np.linspace(0, rows, bands + 1).astype(int)):
        _engine.canny_nms(src, cls, rows, cols, int(r0), int(r1), low, high, l2, None, None, 0.0, emask, mag)
    return cls


@pytest.mark.parametrize("path", photo_paths(), ids=os.path.basename)
def test_photos_equal_the_cast_path(path):
    g = grey_u8(path)
    for l2, (low, high), threads in itertools.product(
        [True, False], [(50, 100), (25.5, 51), (0, 0), (10, 400)], [1, 2]
    ):
        cls = both(g, l2=l2, low=low, high=high, threads=threads)
    assert 0.001 < np.mean(both(g) > 0) < 0.5
    both(g, use_quantiles=True, low=0.8, high=0.9)
    both(g, use_quantiles=True, low=0.0, high=1.0, threads=2)
    for mode in MODES:
        both(g, mode=mode, low=25.5, high=51)
    assert cls.shape == g.shape
    edges = imgfilter.canny(g, sigma=0, low=50, high=100, mode="edge")
    old = classes(g, False, threads=None)
    _engine.canny_hysteresis(old, *old.shape)
    assert np.array_equal(edges, old.view(bool))


@pytest.mark.parametrize("l2", [True, False])
def test_engine_u8_equals_cast_on_a_photo(isa, l2):
    g = grey_u8(os.path.join(SAMPLES, "coffee.png"))
    for low, high, bands in [
        (50.0, 100.0, 1),
        (25.5, float(np.float32(51.3)), 3),
        (0.0, 0.0, 5),
        (-1.0, 7.0, 2),
    ]:
        em = np.ones(g.shape, np.uint8) if bands == 3 else None
        if em is not None:
            em[::7, ::3] = 0
        a = u8_nms(g, low, high, l2=l2, emask=em, bands=bands)
        b = f32_nms(g, low, high, l2=l2, emask=em, bands=bands)
        assert np.array_equal(a, b), (low, high, bands)
    ma, mb = np.zeros(g.shape, np.float32), np.zeros(g.shape, np.float32)
    u8_nms(g, 1.0, 2.0, l2=l2, mag=ma, bands=4)
    f32_nms(g, 1.0, 2.0, l2=l2, mag=mb, bands=1)
    assert np.array_equal(ma, mb)


@settings(max_examples=150)
@given(
    h=st.integers(1, 12),
    w=st.integers(1, 70),
    seed=st.integers(0, 2**31),
    levels=st.sampled_from([2, 3, 5, 256]),
    l2=st.booleans(),
    low=st.sampled_from([-1.0, 0.0, 1.0, 50.0, 200.0]),
    span=st.sampled_from([0.0, 1.0, 100.0]),
    bands=st.integers(1, 4),
    masked=st.booleans(),
)
def test_engine_u8_random_images(h, w, seed, levels, l2, low, span, bands, masked):
    """Widths up to 70 run the 16-wide gradient and 8-wide suppression bodies and their tails."""
    rng = np.random.default_rng(seed)
    img = (rng.integers(0, levels, (h, w)) * (255 // (levels - 1))).astype(np.uint8)
    em = (rng.random((h, w)) < 0.8).astype(np.uint8) if masked else None
    high = float(np.float32(max(low, 0.0) + span))
    bands = min(bands, h)
    for isa in ISAS:
        previous = _engine.set_isa(isa)
        try:
            ma, mb = np.zeros((h, w), np.float32), np.zeros((h, w), np.float32)
            a = u8_nms(img, low, high, l2=l2, emask=em, bands=bands, mag=ma)
            b = f32_nms(img, low, high, l2=l2, emask=em, bands=1, mag=mb)
        finally:
            _engine.set_isa(previous)
        assert np.array_equal(a, b), isa
        assert np.array_equal(ma, mb), isa


@settings(max_examples=100)
@given(
    h=st.integers(1, 40),
    w=st.integers(1, 40),
    seed=st.integers(0, 2**31),
    levels=st.sampled_from([2, 4, 256]),
    mode=st.sampled_from(MODES),
    l2=st.booleans(),
    quantiles=st.booleans(),
    threads=st.sampled_from([1, 2]),
    view=st.sampled_from(["contiguous", "strided", "transposed"]),
)
def test_random_images_equal_the_cast_path(h, w, seed, levels, mode, l2, quantiles, threads, view):
    rng = np.random.default_rng(seed)
    base = (rng.integers(0, levels, (2 * h, 2 * w)) * (255 // (levels - 1))).astype(np.uint8)
    img = {"contiguous": base[:h, :w].copy(), "strided": base[::2, 1::2], "transposed": base[:w, :h].T}[view]
    kw = dict(mode=mode, l2=l2, threads=threads)
    if quantiles:
        kw.update(use_quantiles=True, low=float(rng.random() * 0.5), high=float(0.5 + rng.random() * 0.5))
    else:
        kw.update(low=float(rng.integers(0, 300)), high=float(rng.integers(300, 700)))
    new = both(img, **kw)
    assert np.array_equal(new, classes(img, True, **{**kw, "threads": 3 - threads}))


@pytest.mark.parametrize("dtype", [np.uint16, np.float32, np.float64, np.int16])
def test_other_dtypes_keep_the_cast_path(dtype):
    g = grey_u8(os.path.join(SAMPLES, "camera.png"))
    scale = {np.uint16: 257, np.int16: 1}.get(dtype, 1 / 255)
    img = (g.astype(np.float64) * scale).astype(dtype)
    both(img, low=50 * scale, high=100 * scale)
    both(img, low=50 * scale, high=100 * scale, mode="symmetric", threads=2)


def test_mask_and_sigma_keep_the_cast_path():
    g = grey_u8(os.path.join(SAMPLES, "camera.png"))
    mask = np.ones(g.shape, bool)
    mask[100:200, 50:300] = False
    both(g, mask=mask)
    both(g, sigma=1.0, low=25.5, high=51)


def test_u8_bad_arguments_raise():
    img = np.zeros((4, 4), np.uint8)
    cls = np.zeros((4, 4), np.uint8)
    k = _engine._kernels

    def call(src=img, rows=4, r1=4, vs=None, hs=None, em=None, mag=None):
        k.canny_nms_u8(src, cls, rows, 4, 0, r1, 1.0, 2.0, True, vs, hs, 0.0, em, mag)

    call()
    with pytest.raises(ValueError):
        call(r1=5)
    with pytest.raises(TypeError):
        call(src=img.astype(np.float32))
    with pytest.raises(TypeError):
        call(mag=np.zeros((4, 4), np.float64))
    with pytest.raises(TypeError):
        call(vs=np.ones(4, np.float32))
    with pytest.raises(TypeError):
        call(vs=np.ones(4), hs=np.ones(4))
    with pytest.raises(TypeError):
        k.canny_nms_u8(img, cls, 4, 4, 0, 4, 1.0, 2.0, True, None, None)
    with pytest.raises(IndexError):
        call(rows=5)
    with pytest.raises(IndexError):
        call(em=np.zeros(15, np.uint8))
    with pytest.raises(IndexError):
        call(vs=np.ones(3, np.float32), hs=np.ones(4, np.float32))


@settings(max_examples=100)
@given(
    h=st.integers(1, 12),
    w=st.integers(1, 40),
    seed=st.integers(0, 2**31),
    levels=st.sampled_from([2, 256]),
    ones=st.booleans(),
    bands=st.integers(1, 3),
)
def test_engine_u8_with_border_normalization(h, w, seed, levels, ones, bands):
    """vscale, hscale: the float32 path on the cast, made row by row (sigma 0 "constant" has ones)."""
    rng = np.random.default_rng(seed)
    img = (rng.integers(0, levels, (h, w)) * (255 // (levels - 1))).astype(np.uint8)
    if ones:
        vs, hs = np.ones(h, np.float32), np.ones(w, np.float32)
    else:
        vs, hs = (rng.random(h) + 0.5).astype(np.float32), (rng.random(w) + 0.5).astype(np.float32)
    eps = float(np.finfo(np.float32).eps)
    src = img.astype(np.float32)
    bands = min(bands, h)
    for isa in ISAS:
        previous = _engine.set_isa(isa)
        try:
            a = np.full((h, w), 7, np.uint8)
            b = np.full((h, w), 7, np.uint8)
            for r0, r1 in itertools.pairwise(np.linspace(0, h, bands + 1).astype(int)):
                _engine._kernels.canny_nms_u8(
                    img, a, h, w, int(r0), int(r1), 20.0, 60.0, True, vs, hs, eps, None, None
                )
            _engine.canny_nms(src, b, h, w, 0, h, 20.0, 60.0, True, vs, hs, eps, None, None)
        finally:
            _engine.set_isa(previous)
        assert np.array_equal(a, b), isa


def old_hysteresis(cls: np.ndarray) -> np.ndarray:
    """The components of weak-or-strong pixels (8-connected) that hold a strong one."""
    import scipy.ndimage as ndi

    labels, n = ndi.label(cls > 0, np.ones((3, 3), bool))
    good = np.zeros(n + 1, bool)
    good[labels[cls == 2]] = True
    good[0] = False
    return good[labels]


@settings(max_examples=150)
@given(
    h=st.integers(1, 70),
    w=st.integers(1, 90),
    seed=st.integers(0, 2**31),
    p=st.floats(0.05, 0.9),
    q=st.sampled_from([0.0, 0.01, 0.1, 0.5]),
)
def test_hysteresis_equals_labelling_with_borders(h, w, seed, p, q):
    """Strong pixels on the border rows and columns, and runs longer than the 64-byte scan."""
    rng = np.random.default_rng(seed)
    cls = np.where(rng.random((h, w)) < p, 1, 0).astype(np.uint8)
    cls[(cls == 1) & (rng.random((h, w)) < q)] = 2
    want = old_hysteresis(cls)
    got = cls.copy()
    _engine.canny_hysteresis(got, h, w)
    assert got.max(initial=0) <= 1
    assert np.array_equal(got.view(bool), want)


def test_hysteresis_on_photo_classes():
    g = grey_u8(os.path.join(SAMPLES, "coffee.png"))
    for low, high in [(50, 100), (10, 200), (0, 30)]:
        cls = classes(g, True, low=low, high=high)
        got = cls.copy()
        _engine.canny_hysteresis(got, *cls.shape)
        assert np.array_equal(got.view(bool), old_hysteresis(cls))
