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
    # Weights all 1 take the unit variants of the kernel's passes (sums without products).
    "box2x7": lambda x, **k: imgfilter.blur(x, (2, 7), **k),
    "ones_cross": lambda x, **k: imgfilter.correlate(x, np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]]), **k),
    "ones_vertical_only": lambda x, **k: imgfilter.correlate(x, np.outer(np.ones(4), [1.0, 3.0, 1.0]), **k),
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


# normalized_bands' two methods, each selected by name, on the same call.


def block_sums(kernel, plan, taps):
    """``sums(block, counts, out)`` of normalized_bands: the engine kernel over the
    extended block read as an image whose border lies inside it."""

    def sums(block, counts, out):
        chan = int(np.prod(block.shape[2:], dtype=np.int64))
        rows = np.arange(block.shape[0], dtype=np.intp)
        w = block.shape[1]
        geometry = (int(counts[0]), int(counts[1]), chan, w, rows, 0, w, (), (), *plan.stride)
        kernel(block, out, *geometry, *taps)

    return sums


def fused_equals_bands(x, plan, sums, threads, **kw):
    """normalized_bands' two methods, each selected by name, give the same bits."""
    from imgfilter.core.masked import normalized_bands

    want = normalized_bands(x, None, plan, sums, x.dtype, threads, method="bands", **kw)
    got = normalized_bands(x, None, plan, sums, x.dtype, threads, method="fused", **kw)
    same_bits(got, want)
    return got


def both_methods(x, k, mode, cval, stride=(1, 1), dilation=(1, 1), threads=1, tiny=0.0, full=True):
    from imgfilter.core import linear
    from imgfilter.core.options import plan_window

    dtype = x.dtype
    plan = plan_window(x.shape, k.shape, "same", stride, dilation)
    kd = k.astype(dtype)
    taps = linear._block_taps(kd, plan, dtype)
    total = float(k.sum())
    window = linear._window_sum(kd, None, plan, dtype) if full else None

    sums = block_sums(linear._engine.taps2d, plan, taps)
    kw = dict(mode=mode, cval=cval, outside_valid=True, tiny=tiny, full=window, total=total, taps=taps)
    return fused_equals_bands(x, plan, sums, threads, **kw)


def both_methods_separable(x, fv, fh, mode, cval, stride=(1, 1), dilation=(1, 1), threads=1, full=True):
    """The separable taps (``_engine.sep2d_nan`` against the copied bands' ``sep2d_idx``)."""
    from imgfilter.core import linear
    from imgfilter.core.options import plan_window

    dtype = x.dtype
    plan = plan_window(x.shape, (len(fv), len(fh)), "same", stride, dilation)
    f = [np.asarray(fv, dtype=dtype), np.asarray(fh, dtype=dtype)]
    taps = linear._block_sep_taps(f, plan, dtype)
    assert taps is not None
    total = float(np.sum(fv) * np.sum(fh))
    window = linear._window_sum(None, f, plan, dtype) if full else None

    sums = block_sums(linear._engine.sep2d_idx, plan, taps)
    kw = dict(mode=mode, cval=cval, outside_valid=True, full=window, total=total, sep_taps=taps)
    return fused_equals_bands(x, plan, sums, threads, **kw)


SEPARABLE = (
    ([1.0, 2.0, 1.0], [1.0, 3.0, 1.0]),
    ([0.2] * 5, [0.2] * 5),
    (list(np.random.default_rng(12).random(7)), list(np.random.default_rng(13).random(4))),
    ([1.0], [0.5, 0.25, 0.25]),
    ([1.0] * 5, [1.0] * 4),  # weights all 1: the passes that add without multiplying
)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("where", ["pixel", "channel", "value"])
def test_fused_separable_method_equals_bands(mode, dtype, where):
    for shape in ((1, 1), (1, 1, 3), (3, 2, 3), (17, 23), (17, 23, 3), (40, 9, 4)):
        for frac in (0.0, 0.01, 0.5, 1.0):
            x = holed(shape, frac, 3, dtype=dtype, where=where)
            for fv, fh in SEPARABLE:
                for threads in (1, 2):
                    both_methods_separable(x, fv, fh, mode, 2.5, threads=threads)
            fv, fh = SEPARABLE[0]
            both_methods_separable(x, fv, fh, mode, 0.0, stride=(2, 3), dilation=(1, 2), full=False)
            both_methods_separable(x, fv, fh, mode, -1.0, stride=(3, 1), dilation=(2, 3))


@pytest.mark.parametrize("cval", [np.nan, np.inf, -1.0])
def test_fused_separable_method_with_a_nan_or_infinite_constant(cval):
    x = holed((11, 13, 3), 0.1, 8)
    got = both_methods_separable(x, *SEPARABLE[2], "constant", cval)
    assert got.shape == x.shape


def test_box_and_gaussian_take_the_fused_separable_method(monkeypatch):
    """nan="ignore" of the separable filters runs sep2d_nan, not the copied bands."""
    from imgfilter import _engine

    calls = []
    real = _engine.sep2d_nan
    monkeypatch.setattr(_engine, "sep2d_nan", lambda *a: calls.append(1) or real(*a))
    x = holed((40, 50, 3), 0.01, 14)
    for fn in (FILTERS["box5"], FILTERS["gaussian2"], FILTERS["separable3"]):
        calls.clear()
        same_bits(fn(x, nan="ignore"), reference(fn, x))
        assert calls


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("where", ["pixel", "channel", "value"])
def test_fused_method_equals_bands(mode, dtype, where):
    for shape in ((1, 1), (1, 1, 3), (3, 2, 3), (17, 23), (17, 23, 3), (40, 9, 4)):
        for frac in (0.0, 0.01, 0.5, 1.0):
            x = holed(shape, frac, 3, dtype=dtype, where=where)
            for k in (K5, K3, SIGNED):
                tiny = float(np.finfo(dtype).tiny) if (k < 0).any() else 0.0
                for threads in (1, 2):
                    both_methods(x, k, mode, 2.5, threads=threads, tiny=tiny)
            both_methods(x, K3, mode, 0.0, stride=(2, 3), dilation=(1, 2), full=False)


@pytest.mark.parametrize("cval", [np.nan, np.inf, -1.0])
def test_fused_method_with_a_nan_or_infinite_constant(cval):
    x = holed((11, 13, 3), 0.1, 8)
    got = both_methods(x, K5, "constant", cval)
    assert got.shape == x.shape


def test_fused_method_is_refused_where_it_does_not_apply():
    from imgfilter.core.masked import normalized_bands
    from imgfilter.core.names import OptionError
    from imgfilter.core.options import plan_window

    x = holed((5, 5), 0.1, 9)
    plan = plan_window(x.shape, (3, 3), "same", 1, 1)
    kw = dict(mode="edge", cval=0.0, outside_valid=True)
    with pytest.raises(ValueError, match="fused"):
        normalized_bands(x, None, plan, lambda *a: None, x.dtype, 1, method="fused", **kw)
    with pytest.raises(OptionError, match="method"):
        normalized_bands(x, None, plan, lambda *a: None, x.dtype, 1, method="copy", **kw)


@pytest.mark.parametrize("isa", ["baseline", "avx2"])
def test_fused_method_on_each_instruction_set(isa):
    from imgfilter import _engine

    if isa not in _engine.isas():
        pytest.skip(f"{isa} not available")
    before = _engine.set_isa(isa)
    try:
        for where in ("pixel", "channel"):
            for shape in ((9, 70, 3), (31, 17), (5, 5, 4)):
                x = holed(shape, 0.05, 11, where=where)
                both_methods(x, K5, "reflect", 0.0, threads=2)
                both_methods(x, SIGNED, "constant", 1.5, tiny=float(np.finfo(np.float32).tiny))
                both_methods_separable(x, *SEPARABLE[2], "reflect", 0.0, threads=2)
                both_methods_separable(x, *SEPARABLE[1], "constant", 1.5, stride=(2, 2))
                both_methods_separable(x, *SEPARABLE[4], "reflect", 0.0, threads=2)
                both_methods(x, np.ones((3, 3)), "edge", 0.0)
    finally:
        _engine.set_isa(before)


def test_sep2d_nan_checks_its_tables():
    from imgfilter import _engine

    src = np.zeros((4, 5, 3), np.float32)
    dst = np.empty((4, 5, 3), np.float32)
    rows = np.array([0, 0, 1, 2, 3, 3], dtype=np.intp)
    geometry = (4, 5, 3, 5, rows, -1, 7, (0,), (4,), 1, 1)
    taps = ((0, 1, 2), (1.0, 2.0, 1.0), (0, 1, 2), (1.0, 2.0, 1.0))
    divide = (0.0, 0.0, False, 0.0, False, 1.0)
    assert _engine.sep2d_nan(src, dst, *geometry, *taps, *divide) == 0
    with pytest.raises(IndexError):  # a row table reaching past the image
        _engine.sep2d_nan(
            src, dst, *geometry[:4], np.array([0, 0, 1, 2, 3, 4], np.intp), *geometry[5:], *taps, *divide
        )
    with pytest.raises(IndexError):  # vertical taps beyond the block
        _engine.sep2d_nan(src, dst, *geometry, (0, 1, 3), *taps[1:], *divide)
    with pytest.raises(IndexError):  # horizontal taps beyond the block
        _engine.sep2d_nan(src, dst, *geometry, *taps[:2], (0, 1, 3), taps[3], *divide)
    with pytest.raises(IndexError):  # a destination too small
        _engine.sep2d_nan(src, dst[:3], *geometry, *taps, *divide)
    with pytest.raises(ValueError):  # source and destination of two types
        _engine.sep2d_nan(src, dst.astype(np.float64), *geometry, *taps, *divide)
    with pytest.raises(ValueError):  # a weight missing
        _engine.sep2d_nan(src, dst, *geometry, taps[0], (1.0, 2.0), *taps[2:], *divide)
