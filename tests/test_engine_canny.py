"""The compiled Canny steps against the NumPy transcription of scikit-image.

``_engine.canny_nms`` (Sobel, magnitude, non-maximum suppression and the two
thresholds) must give exactly the classes of ``canny_reference.nms_classes``
on the same smoothed image, for both instruction sets, in float32 and
float64; ``_engine.canny_hysteresis`` exactly the labelling's components.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from canny_reference import hysteresis, nms_classes, sobel_gradients
from hypothesis import given
from hypothesis import strategies as st

from imgfilter import _engine

ISAS = list(_engine.isas())


def run_nms(
    smoothed, low, high, *, l2=True, vscale=None, hscale=None, eps=0.0, emask=None, bands=1, mag=None
):
    rows, cols = smoothed.shape
    cls = np.full((rows, cols), 7, dtype=np.uint8)
    edges = np.linspace(0, rows, bands + 1).astype(int)
    for r0, r1 in itertools.pairwise(edges):
        _engine.canny_nms(
            smoothed, cls, rows, cols, int(r0), int(r1), low, high, l2, vscale, hscale, eps, emask, mag
        )
    return cls


def ring_mask(shape):
    m = np.ones(shape, dtype=bool)
    m[:1, :] = m[-1:, :] = m[:, :1] = m[:, -1:] = False
    return m


def expected(smoothed, low, high, *, l2=True, emask=None):
    isobel, jsobel, magnitude = sobel_gradients(smoothed)
    if not l2:
        magnitude = np.abs(isobel) + np.abs(jsobel)
    em = ring_mask(smoothed.shape) if emask is None else emask.astype(bool)
    return nms_classes(isobel, jsobel, magnitude, em, low, high), magnitude


@pytest.fixture(params=ISAS)
def isa(request):
    previous = _engine.set_isa(request.param)
    yield request.param
    _engine.set_isa(previous)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("l2", [True, False])
def test_nms_equals_reference_on_a_photo(isa, gray_photo, dtype, l2):
    import scipy.ndimage as ndi

    smoothed = ndi.gaussian_filter(gray_photo.astype(dtype) / 255, 1.0)
    want, magnitude = expected(smoothed, 0.05, 0.15, l2=l2)
    got = run_nms(smoothed, 0.05, float(dtype(0.15)), l2=l2, bands=3)
    assert np.array_equal(got, want)
    assert 0.01 < np.mean(got > 0) < 0.5
    mag = np.zeros_like(smoothed)
    run_nms(smoothed, 0.05, 0.15, l2=l2, mag=mag, bands=4)
    assert np.array_equal(mag, magnitude)


@given(
    h=st.integers(1, 12),
    w=st.integers(1, 12),
    seed=st.integers(0, 2**31),
    f64=st.booleans(),
    levels=st.sampled_from([2, 3, 256]),
    bands=st.integers(1, 4),
    masked=st.booleans(),
)
def test_nms_equals_reference_on_random_images(h, w, seed, f64, levels, bands, masked):
    rng = np.random.default_rng(seed)
    dtype = np.float64 if f64 else np.float32
    # Few levels: many exact ties between neighbours, where the rules matter.
    smoothed = (rng.integers(0, levels, (h, w)) / (levels - 1)).astype(dtype)
    emask = (rng.random((h, w)) < 0.8) & ring_mask((h, w)) if masked else None
    bands = min(bands, h)
    want, _ = expected(smoothed, 0.5, float(dtype(1.5)), emask=emask)
    em = None if emask is None else emask.astype(np.uint8)
    got = run_nms(smoothed, 0.5, float(dtype(1.5)), emask=em, bands=bands)
    assert np.array_equal(got, want)


@given(
    h=st.integers(3, 9),
    w=st.integers(3, 45),
    seed=st.integers(0, 2**31),
    f64=st.booleans(),
    levels=st.sampled_from([2, 3, 5, 0]),
    l2=st.booleans(),
    low=st.sampled_from([-1.0, 0.0, 0.3, 0.5]),
    masked=st.booleans(),
)
def test_vector_suppression_equals_reference(h, w, seed, f64, levels, l2, low, masked):
    """The branch-free suppression row against the transcription of skimage's branches.

    Rows up to 45 wide run the 8- and 4-wide vector bodies and their scalar
    tails, on both instruction sets; few levels make |gi| == |gj| ties and
    zero gradients (w = 0 / 0), a negative low keeps the zero magnitudes
    candidates, and level 0 means continuous values.
    """
    rng = np.random.default_rng(seed)
    dtype = np.float64 if f64 else np.float32
    if levels:
        smoothed = (rng.integers(0, levels, (h, w)) / (levels - 1)).astype(dtype)
    else:
        smoothed = rng.random((h, w)).astype(dtype)
    emask = (rng.random((h, w)) < 0.8) & ring_mask((h, w)) if masked else None
    em = None if emask is None else emask.astype(np.uint8)
    high = float(dtype(max(low, 0.0) + 0.7))
    want, _ = expected(smoothed, low, high, l2=l2, emask=emask)
    for isa in ISAS:
        previous = _engine.set_isa(isa)
        try:
            got = run_nms(smoothed, low, high, l2=l2, emask=em, bands=min(2, h))
        finally:
            _engine.set_isa(previous)
        assert np.array_equal(got, want), isa


def test_bleed_over_division(isa):
    rng = np.random.default_rng(3)
    raw = rng.random((20, 17))
    v = rng.random(20) + 0.5
    hs = rng.random(17) + 0.5
    eps = float(np.finfo(np.float64).eps)
    normalized = raw / (np.outer(v, hs) + eps)
    want, _ = expected(normalized, 0.2, 0.6)
    got = run_nms(raw, 0.2, 0.6, vscale=v, hscale=hs, eps=eps, bands=2)
    assert np.array_equal(got, want)


@given(h=st.integers(1, 20), w=st.integers(1, 20), seed=st.integers(0, 2**31), p=st.floats(0.05, 0.7))
def test_hysteresis_equals_labelling(h, w, seed, p):
    rng = np.random.default_rng(seed)
    cls = np.where(rng.random((h, w)) < p, 1, 0).astype(np.uint8)
    cls[(cls == 1) & (rng.random((h, w)) < 0.1)] = 2
    want = hysteresis(cls)
    got = cls.copy()
    _engine.canny_hysteresis(got, h, w)
    assert np.array_equal(got.view(bool), want)


def test_hysteresis_long_snake_needs_no_recursion():
    # One 8-connected path through every other row: a deep flood fill.
    h, w = 401, 300
    cls = np.zeros((h, w), dtype=np.uint8)
    cls[::2, :] = 1
    cls[1::4, -1] = 1
    cls[3::4, 0] = 1
    cls[-1, 5] = 2
    _engine.canny_hysteresis(cls, h, w)
    assert cls[0].all() and cls[::2].all()


def test_bad_arguments_raise():
    src = np.zeros((4, 4))
    cls = np.zeros((4, 4), np.uint8)
    with pytest.raises(ValueError):
        _engine.canny_nms(src, cls, 4, 4, 0, 5, 0.1, 0.2, True, None, None, 0.0, None, None)
    with pytest.raises(TypeError):
        _engine.canny_nms(src.astype(np.uint8), cls, 4, 4, 0, 4, 0.1, 0.2, True, None, None, 0.0, None, None)
    with pytest.raises(TypeError):
        _engine.canny_nms(src, cls, 4, 4, 0, 4, 0.1, 0.2, True, np.ones(4), None, 0.0, None, None)
    with pytest.raises(IndexError):
        _engine.canny_nms(src, cls, 5, 4, 0, 4, 0.1, 0.2, True, None, None, 0.0, None, None)
    with pytest.raises(IndexError):
        _engine.canny_nms(src, cls, 4, 4, 0, 4, 0.1, 0.2, True, np.ones(3), np.ones(4), 0.0, None, None)
    with pytest.raises(IndexError):
        _engine.canny_hysteresis(cls, 5, 4)
    with pytest.raises(TypeError):
        _engine.canny_hysteresis(src, 4, 4)
