"""nan="ignore" prepared in the engine (_engine.nan_weights, _engine.nan_valid): the same
bits as numpy's passes, kernel by kernel and through the filters (photos and random cases)."""

from __future__ import annotations

import glob

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import imgfilter
from imgfilter import _engine
from imgfilter.core import linear, masked
from imgfilter.core.masked import normalized_bands
from imgfilter.core.names import MODES
from imgfilter.core.options import plan_window
from imgfilter.filters import correlate as correlate_module
from imgfilter.filters import sharpen as sharpen_module
from imgfilter.filters import smooth as smooth_module

FLOATS = [np.float32, np.float64]


def _holes(rng, shape, kind):
    """NaN holes: in all channels of a pixel ("pixel"), in single values ("value"), or both."""
    x = rng.normal(size=shape)
    if kind in ("pixel", "both"):
        x[rng.random(shape[:2]) < 0.2] = np.nan
    if kind in ("value", "both"):
        x[rng.random(shape) < 0.1] = np.nan
    return x


@given(
    pixels=st.integers(0, 5000),
    cn=st.integers(1, 6),
    kind=st.sampled_from(["none", "pixel", "value", "both", "late"]),
    vt=st.sampled_from(FLOATS),
    wt=st.sampled_from(FLOATS),
    seed=st.integers(0, 2**16),
)
def test_nan_weights_is_numpys_preparation(pixels, cn, kind, vt, wt, seed):
    rng = np.random.default_rng(seed)
    block = rng.normal(size=(pixels, cn)).astype(vt)
    if kind in ("pixel", "both"):
        block[rng.random(pixels) < 0.1] = np.nan
    if kind in ("value", "both"):
        block[rng.random((pixels, cn)) < 0.05] = np.nan
    if kind == "late" and pixels:
        # One value alone, past the first blocks: the resumed pass spreads the plane before it.
        block[rng.random(pixels) < 0.1] = np.nan
        block[-1, 0] = np.nan
    block[rng.random((pixels, cn)) < 0.05] *= -0.0
    valid = ~np.isnan(block)
    want_block = np.where(valid, block, 0)
    agree = bool(np.all(valid.all(axis=1) | ~valid.any(axis=1)))
    plane = np.full(pixels, 7, dtype=wt)
    got = block.copy()
    status, stop = _engine.nan_weights(got, plane, None, cn, 0)
    if status == 3:
        assert not agree
        assert np.array_equal(got[stop:], block[stop:], equal_nan=True)  # untouched from stop on
        chan = np.full((pixels, cn), 7, dtype=wt)
        status, stop = _engine.nan_weights(got, plane, chan, cn, stop)
        assert status == 2
        np.testing.assert_array_equal(chan, valid.astype(wt))
    else:
        assert status == (0 if valid.all() else 1)
        assert agree
        np.testing.assert_array_equal(plane, valid.all(axis=1).astype(wt))
    assert stop == pixels
    assert got.tobytes() == want_block.tobytes()  # +0.0 in the holes, -0.0 kept elsewhere
    # With chan from the start: the same.
    again = block.copy()
    chan = np.empty((pixels, cn), dtype=wt)
    status2, _ = _engine.nan_weights(again, plane, chan, cn, 0)
    assert status2 == (0 if valid.all() else 1 if agree else 2)
    assert again.tobytes() == want_block.tobytes()
    if status2 == 2:
        np.testing.assert_array_equal(chan, valid.astype(wt))


@settings(deadline=None)
@given(
    h=st.integers(1, 9),
    w=st.integers(1, 9),
    channels=st.sampled_from([(), (1,), (3,), (2, 3)]),
    pad=st.tuples(st.integers(0, 12), st.integers(0, 12), st.integers(0, 12), st.integers(0, 12)),
    mode=st.sampled_from(MODES),
    cval=st.sampled_from([0.5, np.nan]),
    kind=st.sampled_from(["none", "pixel", "value", "both"]),
    vt=st.sampled_from(FLOATS),
    wt=st.sampled_from(FLOATS),
    seed=st.integers(0, 2**16),
)
def test_nan_fetch_is_extend_then_nan_weights(h, w, channels, pad, mode, cval, kind, vt, wt, seed):
    from imgfilter.core.border import extend, source_index

    rng = np.random.default_rng(seed)
    image = _holes(rng, (h, w, *channels), kind).astype(vt)
    top, bottom, left, right = pad
    ranges = ((-top, h + bottom), (-left, w + right))
    want = extend(image, ranges, mode, cval, np.dtype(vt))
    cn = want.shape[-1] if want.ndim > 2 and want.shape[-1] >= 2 else 1
    pshape = want.shape[:-1] if cn > 1 else want.shape
    want_plane = np.empty(pshape, wt)
    want_chan = np.empty(want.shape, wt)
    status, _ = _engine.nan_weights(want, want_plane, want_chan, cn, 0)
    n = w + left + right
    cols = source_index(-left, w + right, w, mode)
    ja, jb = min(left, n), min(max(w + left, min(left, n)), n)
    rows = np.ascontiguousarray(source_index(-top, h + bottom, h, mode), dtype=np.intp)
    values = int(np.prod(channels, dtype=np.int64))
    border = tuple(int(v) for v in cols[:ja]), tuple(int(v) for v in cols[jb:])
    geometry = (w, values, cn, rows, -left, n, *border, cval)
    block = np.full(want.shape, 7, vt)
    plane = np.empty(pshape, wt)
    got = _engine.nan_fetch(image, block, plane, None, *geometry)
    if got == 3:
        chan = np.empty(want.shape, wt)
        got = _engine.nan_fetch(image, block, plane, chan, *geometry)
        assert got == 2
        np.testing.assert_array_equal(chan, want_chan)
    else:
        np.testing.assert_array_equal(plane, want_plane)
    assert got == status
    assert block.tobytes() == want.tobytes()


def test_nan_fetch_refuses_what_it_cannot_hold():
    image = np.zeros((4, 5, 3), np.float32)
    rows = np.arange(4, dtype=np.intp)
    ok = (5, 3, 3, rows, 0, 5, (), (), 0.0)
    block, plane = np.empty((4, 5, 3), np.float32), np.empty((4, 5), np.float32)
    assert _engine.nan_fetch(image, block, plane, None, *ok) == 0
    with pytest.raises(IndexError):  # a row beyond the image
        _engine.nan_fetch(image, block, plane, None, 5, 3, 3, rows + 1, 0, 5, (), (), 0.0)
    with pytest.raises(IndexError):  # a border column beyond the image
        _engine.nan_fetch(image, np.empty((4, 6, 3), np.float32), np.empty((4, 6), np.float32), None,
                          5, 3, 3, rows, 0, 6, (), (5,), 0.0)  # fmt: skip
    with pytest.raises(IndexError):  # a block too small
        _engine.nan_fetch(image, block[:3], plane, None, *ok)
    with pytest.raises(IndexError):  # not whole rows
        _engine.nan_fetch(image[:, :4].copy(), block, plane, None, *ok)
    with pytest.raises(TypeError):
        _engine.nan_fetch(image, block.astype(np.float64), plane, None, *ok)
    with pytest.raises(ValueError):
        _engine.nan_fetch(image, block, plane, None, 5, 3, 2, rows, 0, 5, (), (), 0.0)


def test_nan_weights_refuses_what_it_cannot_hold():
    block = np.zeros((4, 3), np.float32)
    with pytest.raises(IndexError):
        _engine.nan_weights(block, np.empty(3, np.float32), None, 3, 0)
    with pytest.raises(IndexError):
        _engine.nan_weights(block, np.empty(4, np.float32), np.empty(11, np.float32), 3, 0)
    with pytest.raises(TypeError):
        _engine.nan_weights(block, np.empty(4, np.float32), np.empty(12, np.float64), 3, 0)
    with pytest.raises(TypeError):
        _engine.nan_weights(block.astype(np.int32), np.empty(4, np.float32), None, 3, 0)
    with pytest.raises(ValueError):
        _engine.nan_weights(block, np.empty(4, np.float32), None, 3, 1)  # resuming needs chan
    with pytest.raises(ValueError):
        _engine.nan_weights(block, np.empty(4, np.float32), None, 0, 0)


@given(
    n=st.integers(0, 20000),
    vt=st.sampled_from(FLOATS),
    frac=st.sampled_from([0, 1e-4, 0.1]),
    seed=st.integers(0, 99),
)
def test_nan_valid_is_not_isnan(n, vt, frac, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n).astype(vt)
    x[rng.random(n) < frac] = np.nan
    valid = np.empty(n, np.uint8)
    assert _engine.nan_valid(x, valid) == bool(np.isnan(x).any())
    np.testing.assert_array_equal(valid, ~np.isnan(x))
    assert _engine.nan_valid(x, None) == bool(np.isnan(x).any())


def test_validity_is_numpys():
    rng = np.random.default_rng(5)
    for dtype in FLOATS:
        x = rng.normal(size=(9, 7, 3)).astype(dtype)
        assert masked.validity(x, "ignore") is None
        x[2, 3, 1] = np.nan
        x[::3, 1] = np.nan
        v = masked.validity(x, "keep")
        assert v.dtype == bool and v.shape == x.shape
        np.testing.assert_array_equal(v, ~np.isnan(x))
        np.testing.assert_array_equal(masked.validity(x[:, 1::2], "ignore"), ~np.isnan(x[:, 1::2]))
        m = rng.random((9, 7)) > 0.3
        np.testing.assert_array_equal(masked.validity(x, "ignore", m), ~np.isnan(x) & m[..., None])
        assert masked.validity(x, "propagate") is None


def test_lazy_validity_only_says_whether_nan_holes_exist():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(8, 9, 3)).astype(np.float32)
    assert masked.validity(x, "ignore", lazy=True) is None
    x[3, 4, 2] = np.nan
    for image in (x, x[:, ::2], x.astype(np.float64)):
        holes = masked.validity(image, "ignore", lazy=True)
        assert isinstance(holes, masked.NanHoles) and holes.image is image
        np.testing.assert_array_equal(holes.array(), ~np.isnan(image))
    assert masked.validity(x[:, 1::2], "ignore", lazy=True) is None
    # Only nan="ignore" without a mask, on float32/float64, is lazy.
    assert isinstance(masked.validity(x, "keep", lazy=True), np.ndarray)
    assert isinstance(masked.validity(x, "ignore", np.ones((8, 9), bool), lazy=True), np.ndarray)
    assert isinstance(masked.validity(x.astype(np.float16), "ignore", lazy=True), np.ndarray)


@settings(deadline=None, max_examples=150)
@given(
    h=st.integers(1, 40),
    w=st.integers(1, 13),
    channels=st.sampled_from([(), (1,), (2,), (3,), (2, 3)]),
    kind=st.sampled_from(["none", "pixel", "value", "both"]),
    kshape=st.tuples(st.integers(1, 5), st.integers(1, 5)),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    mode=st.sampled_from(MODES),
    cval=st.sampled_from([0.5, np.nan]),
    dtype=st.sampled_from(FLOATS),
    den_dtype=st.sampled_from(FLOATS),
    threads=st.sampled_from([1, 2]),
    seed=st.integers(0, 2**16),
)
def test_normalized_bands_engine_equals_numpy(
    h, w, channels, kind, kshape, stride, mode, cval, dtype, den_dtype, threads, seed
):
    rng = np.random.default_rng(seed)
    image = _holes(rng, (h, w, *channels), kind).astype(dtype)
    kernel = rng.random(kshape) + 0.1
    plan = plan_window(image.shape, kernel.shape, "same", stride, 1)
    dtype = np.dtype(dtype)
    factors = linear.separable_factors(kernel)
    k = kernel.astype(dtype)
    f = None if factors is None else [np.asarray(v, dtype=dtype) for v in factors]

    def sums(block, counts, out):
        linear._filter_band(block, k, f, plan, counts, out)

    def run():
        return normalized_bands(
            image, None, plan, sums, dtype, threads, mode=mode, cval=cval, outside_valid=True,
            den_dtype=den_dtype, total=float(kernel.sum()),
        )  # fmt: skip

    got = run()
    with pytest.MonkeyPatch.context() as m:
        m.setattr(masked, "ENGINE_WEIGHTS", False)
        want = run()
    assert got.tobytes() == want.tobytes()


def _old_path(monkeypatch):
    """The code before the engine's preparation: numpy's passes, the validity array built
    up front and read per band, the bands summed by _filter_band."""
    monkeypatch.setattr(masked, "ENGINE_WEIGHTS", False)
    monkeypatch.setattr(linear, "INDEX_SUMS", False)
    plain = linear.run_normalized

    def run_normalized(*args, nan_only=False, **kwargs):
        return plain(*args, **kwargs)

    def validity(image, nan, mask=None, lazy=False):
        return masked.validity(image, nan, mask)

    for module in (correlate_module, smooth_module):
        monkeypatch.setattr(module, "run_normalized", run_normalized)
    for module in (correlate_module, smooth_module, sharpen_module):
        monkeypatch.setattr(module, "validity", validity)


K5 = np.random.default_rng(3).random((5, 5))
K3 = np.array([[1.0, 2, 1], [2, 4, 2], [1, 2, 1]])
R53 = np.outer([0.5, 1.0, 2.0, 0.25, 1.5], [3.0, 1.0, 0.5])  # separable, not symmetric


def _without(*names):
    return lambda k: {a: b for a, b in k.items() if a not in names}


_NO_CVAL, _NO_BORDER = _without("cval"), _without("cval", "mode")
FILTERS = {
    "correlate 5x5": lambda x, **k: imgfilter.correlate(x, K5, **k),
    "convolve 3x3 stride 2": lambda x, **k: imgfilter.convolve(x, K3, stride=2, **k),
    "gaussian 3": lambda x, **k: imgfilter.gaussian(x, 3.0, **_NO_CVAL(k)),
    "gaussian 1": lambda x, **k: imgfilter.gaussian(x, 1.0, **_NO_CVAL(k)),
    "box 5": lambda x, **k: imgfilter.blur(x, 5, **_NO_CVAL(k)),
    "box 21 (fused NaN taps)": lambda x, **k: imgfilter.blur(x, 21, **_NO_CVAL(k)),
    "box 61 (running sums)": lambda x, **k: imgfilter.blur(x, 61, **_NO_CVAL(k)),
    "correlate 3x3 dilation 2": lambda x, **k: imgfilter.correlate(x, K3, dilation=2, **k),
    "correlate 1x5 stride 2": lambda x, **k: imgfilter.correlate(x, K5[:1], stride=2, **k),
    "correlate rank-1 5x3": lambda x, **k: imgfilter.correlate(x, R53, **k),
    "unsharp 2": lambda x, **k: imgfilter.unsharp(x, sigma=2.0, **_NO_CVAL(k)),
    "avg pool 2": lambda x, **k: imgfilter.pool(x, 2, op="avg", **_NO_BORDER(k)),
}
OPTIONS = [
    {"nan": "ignore"},
    {"nan": "keep"},
    {"nan": "ignore", "threads": 1},
    {"nan": "ignore", "mode": "constant", "cval": float("nan")},
    {"nan": "keep", "mode": "constant", "cval": 2.0},
    {"nan": "ignore", "mode": "wrap"},
    {"nan": "ignore", "mask": "mask"},
    {"nan": "propagate", "mask": "mask"},
]


def _photo(path, size=(160, 96)):
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB").resize(size)).astype(np.float32)


PHOTOS = sorted(glob.glob("/work/shared/sample_images/*.png")) + sorted(
    glob.glob("/tmp/imgfilter-bench/*1080.png")
)


def _apply(fn, x, options):
    options = dict(options)
    if options.get("mask") == "mask":
        options["mask"] = np.random.default_rng(1).random(x.shape[:2]) > 0.1
    return fn(x, **options)


@pytest.mark.skipif(not PHOTOS, reason="no sample photos")
@pytest.mark.parametrize("name", sorted(FILTERS))
@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
def test_filters_on_photos_keep_their_bits(monkeypatch, name, options):
    fn = FILTERS[name]
    rng = np.random.default_rng(11)
    for path in PHOTOS:
        img = _photo(path)
        holes = img.copy()
        holes[rng.random(img.shape[:2]) < 0.01] = np.nan  # whole pixels
        odd = holes.copy()
        odd[rng.random(img.shape) < 0.003] = np.nan  # single channels too
        cases = [holes, odd, odd[..., 1].copy(), odd[1:-3, 2:].astype(np.float64), odd[::2, 1::3], img]
        with monkeypatch.context() as m:
            new = [_apply(fn, x, options) for x in cases]
            _old_path(m)
            old = [_apply(fn, x, options) for x in cases]
        for a, b in zip(new, old, strict=True):
            assert a.dtype == b.dtype and a.shape == b.shape
            assert a.tobytes() == b.tobytes(), (name, options, path)


@settings(deadline=None, max_examples=60)
@given(
    h=st.integers(1, 30),
    w=st.integers(1, 30),
    channels=st.sampled_from([(), (1,), (3,), (4,)]),
    kind=st.sampled_from(["none", "pixel", "value", "both"]),
    name=st.sampled_from(sorted(FILTERS)),
    options=st.sampled_from(OPTIONS),
    dtype=st.sampled_from(FLOATS),
    seed=st.integers(0, 2**16),
)
def test_filters_on_random_images_keep_their_bits(h, w, channels, kind, name, options, dtype, seed):
    rng = np.random.default_rng(seed)
    x = _holes(rng, (h, w, *channels), kind).astype(dtype)
    if not channels and kind != "none":
        x[rng.random((h, w)) < 0.2] = np.nan
    fn = FILTERS[name]
    if name == "avg pool 2" and min(h, w) < 2:
        return
    with pytest.MonkeyPatch.context() as m:
        new = _apply(fn, x, options)
        _old_path(m)
        old = _apply(fn, x, options)
    assert new.tobytes() == old.tobytes()
