"""normalized_bands' "small" method (``_engine.sep_small_nan``) pinned bit for bit.

Its reference is the "bands" method (each band copied with its halo, zeroed,
values and weights summed by ``sep2d_idx``, divided by ``divide_sums``) and the
"fused" one (``sep2d_nan``), on the same call: random taps of 1-3 per axis
(signed, dilated, all ones), float32 images of every channel count with NaN in
whole pixels, one channel or any value, every border mode and constants
(NaN and infinite ones included), 1-pixel and odd shapes, both instruction
sets, threads 1 and 2; then the public shift and 2 x 2 box against their mask
route, which takes neither kernel.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_nan_linear_fused import block_sums, holed, reference, same_bits

import imgfilter
from imgfilter import _engine
from imgfilter.core import linear, masked
from imgfilter.core.names import MODES
from imgfilter.core.options import plan_window


def three_methods(x, fv, fh, mode, cval, *, dilation=(1, 1), threads=1, full=True, tiny=0.0):
    """Each method selected by name on one call; returns "small"'s result."""
    dtype = x.dtype
    plan = plan_window(x.shape, (len(fv), len(fh)), "same", 1, dilation)
    f = [np.asarray(fv, dtype=dtype), np.asarray(fh, dtype=dtype)]
    taps = linear._block_sep_taps(f, plan, dtype)
    assert taps is not None
    window = linear._window_sum(None, f, plan, dtype) if full else None
    sums = block_sums(_engine.sep2d_idx, plan, taps)
    kw = dict(
        mode=mode, cval=cval, outside_valid=True, full=window, total=float(np.sum(fv) * np.sum(fh)),
        sep_taps=taps, tiny=tiny,
    )  # fmt: skip
    got = {
        m: masked.normalized_bands(x, None, plan, sums, dtype, threads, method=m, **kw)
        for m in masked.BAND_METHODS
    }
    same_bits(got["small"], got["bands"])
    same_bits(got["small"], got["fused"])
    return got["small"]


@settings(max_examples=max(150, settings.default.max_examples), deadline=None)
@given(
    h=st.integers(1, 24),
    w=st.integers(1, 40),
    channels=st.sampled_from([(), (1,), (2,), (3,), (4,)]),
    nv=st.integers(1, masked.SMALL_MAX_TAPS),
    nh=st.integers(1, masked.SMALL_MAX_TAPS),
    weights=st.sampled_from(["positive", "signed", "ones", "shift"]),
    dilation=st.sampled_from([(1, 1), (2, 1), (1, 3)]),
    mode=st.sampled_from(MODES),
    cval=st.sampled_from([0.0, 2.5, -1.0, np.inf, np.nan]),
    frac=st.sampled_from([0.0, 0.01, 0.2, 0.7, 1.0]),
    where=st.sampled_from(["pixel", "channel", "value"]),
    full=st.booleans(),
    isa=st.sampled_from(["baseline", "avx2"]),
    threads=st.sampled_from([1, 2]),
    seed=st.integers(0, 2**16),
)
def test_small_equals_bands_and_fused(
    h, w, channels, nv, nh, weights, dilation, mode, cval, frac, where, full, isa, threads, seed
):
    if isa not in _engine.isas():
        pytest.skip(f"{isa} not available")
    rng = np.random.default_rng(seed)
    x = holed((h, w, *channels), frac, seed, where=where)
    x[rng.random(x.shape) < 0.05] *= -1.0  # signed values, -0.0 among them where 0
    if weights == "ones":
        fv, fh = [1.0] * nv, [1.0] * nh
    elif weights == "shift":
        fv, fh = [0.75, 0.25, 0.5][:nv], [0.5, 0.5, 0.125][:nh]
    else:
        fv, fh = list(rng.random(nv) + 0.05), list(rng.random(nh) + 0.05)
        if weights == "signed":
            fv[0] = -fv[0]
    tiny = float(np.finfo(np.float32).tiny) if weights == "signed" else 0.0
    before = _engine.set_isa(isa)
    try:
        three_methods(x, fv, fh, mode, cval, dilation=dilation, threads=threads, full=full, tiny=tiny)
    finally:
        _engine.set_isa(before)


def test_small_on_a_photo_every_mode():
    from PIL import Image
    from test_nan_linear_fused import SAMPLES

    with Image.open(SAMPLES[0]) as im:
        img = np.asarray(im.convert("RGB")).astype(np.float32)[:300, :500]
    img = img.copy()
    img[np.random.default_rng(1).random(img.shape[:2]) < 0.01] = np.nan
    for mode in MODES:
        three_methods(img, [0.75, 0.25], [0.5, 0.5], mode, 0.0)


@pytest.mark.parametrize("where", ["pixel", "channel", "value"])
@pytest.mark.parametrize("mode", MODES)
def test_shift_and_small_box_take_the_small_kernel(monkeypatch, where, mode):
    """nan="ignore" of the bilinear shift and the 2 x 2 box runs sep_small_nan, with the
    mask route's bits (which copies the bands: neither kernel)."""
    calls = []
    real = _engine.sep_small_nan
    monkeypatch.setattr(_engine, "sep_small_nan", lambda *a: calls.append(1) or real(*a))
    x = holed((37, 53, 3), 0.02, 5, where=where)
    shift = lambda a, **k: imgfilter.shift(a, dx=0.5, dy=-0.25, mode=mode, **k)  # noqa: E731
    box = lambda a, **k: imgfilter.blur(a, 2, mode=mode, **k)  # noqa: E731
    for fn in (shift, box):
        calls.clear()
        got = fn(x, nan="ignore")
        assert calls
        same_bits(got, reference(fn, x))
    # float64 images and 3 x 3 taps keep the fused kernel (measured no faster there)
    calls.clear()
    shift(x.astype(np.float64), nan="ignore")
    imgfilter.blur(x, 3, mode=mode, nan="ignore")
    assert not calls


def test_small_method_is_refused_where_it_does_not_apply():
    x = holed((6, 7), 0.1, 9)
    plan = plan_window(x.shape, (5, 5), "same", 1, 1)
    f = [np.full(5, 0.2, np.float32)] * 2
    taps = linear._block_sep_taps(f, plan, x.dtype)
    kw = dict(mode="edge", cval=0.0, outside_valid=True, sep_taps=taps)
    with pytest.raises(ValueError, match="small"):
        masked.normalized_bands(x, None, plan, lambda *a: None, x.dtype, 1, method="small", **kw)


def test_engine_refuses_bad_tables_and_types():
    x = np.zeros((4, 5), np.float32)
    out = np.zeros((4, 5), np.float32)
    rows = np.array([0, 1, 2, 3, 3], dtype=np.intp)
    cols = np.array([0, 1, 2, 3, 4, 4], dtype=np.intp)
    args = (0.0, 1.0, True, 0.0, False, 1.0)
    _engine.sep_small_nan(x, out, 5, 1, rows, cols, 0, (0, 1), (0.5, 0.5), (0, 1), (0.5, 0.5), *args)
    with pytest.raises(TypeError, match="float32"):
        _engine.sep_small_nan(
            x.astype(np.float64), out, 5, 1, rows, cols, 0, (0, 1), (0.5, 0.5), (0, 1), (0.5, 0.5), *args
        )
    with pytest.raises(IndexError, match="rowidx"):  # a row index beyond the image
        _engine.sep_small_nan(x, out, 5, 1, rows + 1, cols, 0, (0, 1), (0.5, 0.5), (0, 1), (0.5, 0.5), *args)
    with pytest.raises(ValueError):  # tables that do not fit the destination
        _engine.sep_small_nan(x, out, 5, 1, rows[:4], cols, 0, (0, 1), (0.5, 0.5), (0, 1), (0.5, 0.5), *args)
    with pytest.raises(ValueError):  # four taps
        _engine.sep_small_nan(
            x, out, 5, 1, rows, cols, 0, (0, 1, 2, 3), (0.5,) * 4, (0, 1), (0.5, 0.5), *args
        )


@settings(max_examples=max(100, settings.default.max_examples), deadline=None)
@given(
    n=st.integers(0, 5000),
    dtype=st.sampled_from([np.float32, np.float64]),
    holes=st.sampled_from([0.0, 0.01, 0.5, 1.0]),
    nans=st.sampled_from([0.0, 0.001, 0.2]),
    isa=st.sampled_from(["baseline", "avx2"]),
    seed=st.integers(0, 2**16),
)
def test_mark_holes_against_numpy(n, dtype, holes, nans, isa, seed):
    """masked.mark_holes (the guided filter's planes): NaN where missing, and whether
    another value was NaN, against numpy; -0.0, infinities and NaN payloads kept."""
    if isa not in _engine.isas():
        pytest.skip(f"{isa} not available")
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n).astype(dtype)
    x[rng.random(n) < 0.05] = rng.choice(np.array([-0.0, np.inf, -np.inf], dtype=dtype))
    x[rng.random(n) < nans] = -np.nan
    missing = rng.random(n) < holes
    want_flag = bool(np.any(np.isnan(x) & ~missing))
    want = np.where(missing, dtype(np.nan), x)
    before = _engine.set_isa(isa)
    try:
        got = x.copy()
        assert masked.mark_holes(got, missing) == want_flag
    finally:
        _engine.set_isa(before)
    assert np.array_equal(np.isnan(got), np.isnan(want))
    keep = ~np.isnan(want)
    assert got[keep].tobytes() == want[keep].tobytes()
    assert got[~missing & np.isnan(x)].tobytes() == x[~missing & np.isnan(x)].tobytes()  # payloads
