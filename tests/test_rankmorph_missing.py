"""Missing pixels (nan="ignore", mask=) in the rank filters, morphology and
median footprints, against numpy by brute force over every window:
numpy.nanpercentile / nanmin / nanmax / nanmedian of each window's valid
values (np.pad gives the border, independently of imgfilter's)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

import imgfilter

MODES = ["reflect", "symmetric", "edge", "wrap", "constant"]
DTYPES = ["uint8", "int16", "uint16", "int32", "float32", "float64"]


def windows(x, fp, before, mode, cval, outside_valid=True, valid=None):
    """(values, validity) of each window: arrays (H, W, n) in footprint order."""
    fh, fw = fp.shape
    pad = ((before[0], fh - 1 - before[0]), (before[1], fw - 1 - before[1]))
    if mode == "constant":
        ext = np.pad(x, pad, mode="constant", constant_values=cval)
        vext = np.pad(valid, pad, mode="constant", constant_values=outside_valid)
    else:
        ext, vext = np.pad(x, pad, mode=mode), np.pad(valid, pad, mode=mode)
    return sliding_window_view(ext, fp.shape)[..., fp], sliding_window_view(vext, fp.shape)[..., fp]


def centre(fp):
    return tuple(k // 2 for k in fp.shape)


def reference(x, valid, fp, mode, cval, pick, nan_fill=np.nan):
    """pick(valid values of a window) per window; no valid value: NaN (floats) or the pixel's own."""
    vals, ok = windows(x, fp, centre(fp), mode, cval, valid=valid)
    out = np.empty(x.shape, np.float64)
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            v = vals[i, j][ok[i, j]].astype(np.float64)
            out[i, j] = (nan_fill if x.dtype.kind == "f" else x[i, j]) if v.size == 0 else pick(v)
    return out


@st.composite
def cases(draw, dtypes=DTYPES):
    h, w = draw(st.integers(3, 9)), draw(st.integers(3, 9))
    fh, fw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    bits = draw(st.lists(st.booleans(), min_size=fh * fw, max_size=fh * fw))
    fp = np.array(bits, bool).reshape(fh, fw)
    if not fp.any():
        fp[fh // 2, fw // 2] = True
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.integers(0, 60, (h, w)).astype(dtype)  # few values: ties
    valid = rng.random((h, w)) >= draw(st.sampled_from([0.0, 0.3, 0.7, 1.0]))
    mode = draw(st.sampled_from(MODES))
    use_mask = dtype.kind != "f" or draw(st.booleans())
    return x, valid, fp, mode, use_mask


def call(fn, x, valid, use_mask, *args, **kw):
    """fn with the missing pixels as mask= or as NaN (nan="ignore")."""
    if use_mask:
        return fn(x, *args, mask=valid, **kw)
    return fn(np.where(valid, x, np.nan).astype(x.dtype), *args, nan="ignore", **kw)


@given(case=cases(), q=st.integers(0, 100))
def test_percentile_is_nanpercentile_of_the_valid_values(case, q):
    """SciPy's int(v q / 100): numpy's inverted CDF asked for a share just above q / 100."""
    x, valid, fp, mode, use_mask = case
    got = call(imgfilter.percentile, x, valid, use_mask, q, footprint=fp, mode=mode, cval=7)
    nudge = min(q + 1e-6, 100)
    want = reference(x, valid, fp, mode, 7, lambda v: np.nanpercentile(v, nudge, method="inverted_cdf"))
    assert got.dtype == x.dtype
    np.testing.assert_array_equal(got.astype(np.float64), want)


@given(case=cases(), which=st.sampled_from(["min", "max"]))
def test_minimum_maximum_are_nanmin_nanmax(case, which):
    x, valid, fp, mode, use_mask = case
    fn = imgfilter.minimum if which == "min" else imgfilter.maximum
    got = call(fn, x, valid, use_mask, footprint=fp, mode=mode, cval=5)
    want = reference(x, valid, fp, mode, 5, np.nanmin if which == "min" else np.nanmax)
    np.testing.assert_array_equal(got.astype(np.float64), want)
    # rank 0 and -1 are the same picks.
    r = 0 if which == "min" else -1
    got = call(imgfilter.rank_filter, x, valid, use_mask, r, footprint=fp, mode=mode, cval=5)
    np.testing.assert_array_equal(got.astype(np.float64), want)


@given(case=cases(), data=st.data())
def test_rank_keeps_its_relative_place_among_valid_values(case, data):
    x, valid, fp, mode, use_mask = case
    n = int(fp.sum())
    r = data.draw(st.integers(0, n - 1))
    got = call(imgfilter.rank_filter, x, valid, use_mask, r, footprint=fp, mode=mode)
    want = reference(x, valid, fp, mode, 0, lambda v: np.sort(v)[r * v.size // n])
    np.testing.assert_array_equal(got.astype(np.float64), want)


@given(case=cases())
def test_median_footprint_is_nanmedian(case):
    """numpy.nanmedian among v < n valid values (integers: its mean rounded half to even);
    a window with nothing missing is SciPy's (the upper middle of an even n)."""
    x, valid, fp, mode, use_mask = case
    n = int(fp.sum())
    got = call(imgfilter.median, x, valid, use_mask, footprint=fp, mode=mode)

    def pick(v):
        m = np.sort(v)[n // 2] if v.size == n else np.nanmedian(v)
        return m if x.dtype.kind == "f" else np.rint(m)

    want = reference(x, valid, fp, mode, 0, pick)
    np.testing.assert_allclose(got.astype(np.float64), want, rtol=1e-6 if x.dtype == np.float32 else 0)


def erode_reference(x, valid, fp, mode, op, skip=False):
    """One pass of masked erosion ("min") or dilation ("max", reflected footprint):
    (values as float64 with NaN where no valid pixel, validity)."""
    if op == "max":
        fp = fp[::-1, ::-1]
        before = tuple(k - 1 - k // 2 for k in fp.shape)
    else:
        before = centre(fp)
    fill = np.inf if op == "min" else -np.inf
    work = np.where(valid, x.astype(np.float64), fill)
    # Beyond a constant border lie valid pixels of value cval (0, the default),
    # as the README says; with skip, pixels that never win.
    outside = fill if skip else 0.0
    vals, ok = windows(work, fp, before, mode if not skip else "constant", outside, not skip, valid)
    vals = np.where(ok, vals, fill)
    out = vals.min(axis=-1) if op == "min" else vals.max(axis=-1)
    held = ok.any(axis=-1)
    return np.where(held, out, 0.0), held


@given(case=cases(dtypes=["uint8", "int16", "float64"]), op=st.sampled_from(["opening", "closing", "tophat"]))
def test_composites_leave_missing_pixels_out_of_every_pass(case, op):
    x, valid, fp, mode, _ = case
    chain = {"opening": ("min", "max"), "closing": ("max", "min"), "tophat": ("min", "max")}[op]
    y, held = x.astype(np.float64), valid
    for step in chain:
        y, held = erode_reference(y, held, fp, mode, step)
    if op == "tophat":
        y, held = x - y, held & valid
    got = getattr(imgfilter, op)(x, footprint=fp, mode=mode, mask=valid)
    want = np.where(held, y, np.nan if x.dtype.kind == "f" else x)
    if x.dtype.kind in "iu":
        want = np.clip(want, np.iinfo(x.dtype).min, np.iinfo(x.dtype).max)
    np.testing.assert_array_equal(got.astype(np.float64), want)


@given(case=cases(dtypes=["uint8", "float32"]))
def test_erode_dilate_skip_border_with_mask(case):
    x, valid, fp, _, _ = case
    for op, fn in (("min", imgfilter.erode), ("max", imgfilter.dilate)):
        y, held = erode_reference(x, valid, fp, "edge", op, skip=True)
        want = np.where(held, y, np.nan if x.dtype.kind == "f" else x)
        got = fn(x, footprint=fp, mode="skip", mask=valid)
        np.testing.assert_array_equal(got.astype(np.float64), want)


def test_keep_puts_the_missing_pixels_back():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 100, (12, 13)).astype(np.uint8)
    valid = rng.random(x.shape) > 0.3
    f = np.where(valid, x, np.nan)
    for fn, args in ((imgfilter.percentile, (40,)), (imgfilter.minimum, ()), (imgfilter.erode, ())):
        kept = fn(f, *args, nan="keep")
        ignored = fn(f, *args, nan="ignore")
        np.testing.assert_array_equal(np.isnan(kept), ~valid | np.isnan(ignored))
        np.testing.assert_array_equal(kept[valid], ignored[valid])
        # Integers with a mask: the missing pixels keep their value.
        got = fn(x, *args, mask=valid, nan="keep")
        np.testing.assert_array_equal(got[~valid], x[~valid])
        np.testing.assert_array_equal(got[valid], fn(x, *args, mask=valid)[valid])


def test_a_nan_in_a_valid_pixel_propagates_under_a_mask():
    x = np.arange(64, dtype=np.float64).reshape(8, 8)
    x[4, 4] = np.nan
    valid = np.ones(x.shape, bool)
    valid[1, 1] = False
    for fn, args in ((imgfilter.rank_filter, (3,)), (imgfilter.minimum, ()), (imgfilter.median, ())):
        kw = {"footprint": np.ones((3, 3), bool)}
        got = fn(x, *args, mask=valid, **kw)
        assert np.isnan(got[3:6, 3:6]).all() and np.isnan(got).sum() == 9, fn.__name__
        assert not np.isnan(fn(x, *args, mask=valid, nan="ignore", **kw)).any()


@pytest.mark.parametrize("dtype", ["int64", "uint64"])
def test_64_bit_integers_with_a_mask_are_exact(dtype):
    info = np.iinfo(dtype)
    rng = np.random.default_rng(5)
    x = rng.integers(int(info.max) - 30, int(info.max), (10, 11), endpoint=True, dtype=dtype)
    valid = rng.random(x.shape) > 0.4
    fp = np.ones((3, 3), bool)
    vals, ok = windows(x, fp, (1, 1), "reflect", 0, valid=valid)
    got = imgfilter.percentile(x, 50, footprint=fp, mask=valid)
    for i in range(10):
        for j in range(11):
            v = np.sort(vals[i, j][ok[i, j]])
            assert got[i, j] == (x[i, j] if v.size == 0 else v[min(v.size * 50 // 100, v.size - 1)])


@pytest.mark.parametrize("dtype", [np.float32, np.uint8])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("threads", [1, 2])
def test_several_rank_tables_in_one_pass_equal_one_at_a_time(dtype, masked, threads):
    """core.morph.ranks (the footprint median's lower and upper middle in one
    pass over one conversion to keys): each table's result is the one
    core.morph.rank gives alone, to the bit, band by band on the threads."""
    from imgfilter.core import morph

    rng = np.random.default_rng(11)
    x = (rng.random((300, 41, 3)) * 200).astype(dtype)
    valid = rng.random(x.shape[:2]) > 0.1 if masked else None
    if dtype == np.float32 and not masked:
        x[rng.random(x.shape[:2]) < 0.1] = np.nan
    fp = np.ones((3, 5), bool)
    fp[0, 0] = False
    n = int(fp.sum())
    lo = [0] + [(v - 1) // 2 for v in range(1, n)] + [n // 2]
    hi = [0] + [v // 2 for v in range(1, n)] + [n // 2]
    before = (1, 2)
    v = None if valid is None else np.broadcast_to(valid[..., None], x.shape)
    both = morph.ranks(x, fp, n // 2, "reflect", 0, before, 2, [lo, hi], threads, valid=v)
    for table, got in zip([lo, hi], both, strict=True):
        alone = morph.rank(x, fp, n // 2, "reflect", 0, before, 2, table, 1, valid=v)
        np.testing.assert_array_equal(got.view(np.uint8), alone.view(np.uint8))
    # With pixels missing the two middles differ somewhere (an even count of valid values).
    missing = masked or dtype == np.float32
    assert np.array_equal(both[0], both[1], equal_nan=True) != missing
