"""Rank filters of images with more than 65536 distinct values (wide keys).

Their keys are the ranks of the image's distinct values, counted either in a
Fenwick tree over every key or, under small footprints, in the window's keys
kept sorted (:data:`imgfilter.core.morph.WIDE_METHODS`, chosen once per
call by :func:`~imgfilter.core.morph.wide_method`): both against SciPy and
against each other, with NaN (propagated and ignored), masks, ties and
every border mode. The kernel itself is pinned in test_engine_morph.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndi
from hypothesis import given
from hypothesis import strategies as st

import imgfilter
from imgfilter import footprints
from imgfilter.core import morph
from imgfilter.core.names import MODES, SCIPY_MODE, OptionError


def wide(shape, seed, dtype=np.float32):
    """Random values, more than 65536 distinct ones, a few ties."""
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    x.reshape(-1)[::97] = 0.5
    assert np.unique(x).size > 65536
    return x


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fp", ["box5", "disk3", "row"])
def test_percentiles_equal_scipy(mode, fp):
    x = wide((300, 290), 1)
    kw = {"box5": dict(size=5), "disk3": dict(footprint=footprints.disk(3)), "row": dict(size=(1, 9))}[fp]
    ref_kw = {"size": kw["size"]} if "size" in kw else {"footprint": kw["footprint"]}
    got = imgfilter.percentile(x, 30, mode=mode, cval=0.25, **kw)
    want = ndi.percentile_filter(x, 30, mode=SCIPY_MODE[mode], cval=0.25, **ref_kw)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("method", morph.WIDE_METHODS)
def test_both_methods_with_nan_and_masks(method):
    x = wide((260, 270, 2), 2, np.float64)
    x[np.random.default_rng(3).random(x.shape) < 0.05] = np.nan
    fp = footprints.diamond(2)
    n = int(fp.sum())
    before = (2, 2)
    table = np.array([0] + [(v - 1) // 2 for v in range(1, n + 1)])
    for rule, tab in ((0, None), (1, None), (2, table)):
        got = morph.rank(x, fp, 5, "reflect", 0.0, before, rule, tab, 2, method=method)
        other = "tree" if method == "sorted" else "sorted"
        np.testing.assert_array_equal(
            got, morph.rank(x, fp, 5, "reflect", 0.0, before, rule, tab, 2, method=other)
        )
    valid = np.random.default_rng(4).random(x.shape[:2]) < 0.9
    valid = np.broadcast_to(valid[..., None], x.shape)
    clean = np.nan_to_num(x)
    a = morph.rank(clean, fp, 5, "constant", 1.5, before, 2, table, 1, valid=valid, method=method)
    b = morph.rank(clean, fp, 5, "constant", 1.5, before, 2, table, 1, valid=valid, method="tree")
    np.testing.assert_array_equal(a, b)


def test_nan_ignore_median_of_a_footprint_equals_nanmedian():
    x = wide((280, 250), 5)
    x[np.random.default_rng(6).random(x.shape) < 0.03] = np.nan
    fp = footprints.cross(1)
    got = imgfilter.median(x, footprint=fp, nan="ignore", mode="edge")
    pad = np.pad(x, 1, mode="edge")
    taps = np.stack([pad[1 + dy : 1 + dy + 280, 1 + dx : 1 + dx + 250] for dy, dx in np.argwhere(fp) - 1])
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            want = np.nanmedian(taps, axis=0).astype(np.float32)
    np.testing.assert_array_equal(got, want)


def test_the_choice_and_its_refusal():
    assert morph.wide_method(25, 6_000_000) == "sorted"
    assert morph.wide_method(225, 6_000_000) == "sorted"
    assert morph.wide_method(289, 6_000_000) == "tree"
    assert morph.wide_method(121, 100_000) == "tree"
    assert morph.wide_method(81, 100_000) == "sorted"
    with pytest.raises(OptionError, match="method"):
        morph.rank(wide((300, 300), 7), np.ones((3, 3), bool), 4, "reflect", 0.0, (1, 1), method="heap")


@given(
    dtype=st.sampled_from(["float32", "float64", "int32", "uint32", "int64", "uint64"]),
    n=st.integers(0, 3000),
    spread=st.sampled_from([3, 1000, None]),
    seed=st.integers(0, 2**32 - 1),
)
def test_distinct_values_are_numpys_unique(dtype, n, spread, seed):
    """The engine's radix sort against numpy.unique; for floats with NaN of every
    sign and payload, infinities, subnormals and both zeros."""
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    if dt.kind == "f":
        x = rng.standard_normal(n).astype(dt) * (1 if spread is None else spread)
        if spread == 3:
            x = np.round(x)
        specials = np.array([np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, np.finfo(dt).tiny / 4], dt)
        if n:
            x[rng.integers(0, n, n // 10 + 1)] = rng.choice(specials, n // 10 + 1)
            bits = x.view(np.uint32 if dt.itemsize == 4 else np.uint64)
            payload = rng.random(n) < 0.02  # NaN payloads and signs of every kind
            bits[payload] |= np.array(0x7FC00001 if dt.itemsize == 4 else 0x7FF8000000000001, bits.dtype)
    else:
        info = np.iinfo(dt)
        hi = info.max if spread is None else min(info.max, spread)
        lo = info.min if spread is None else max(info.min, -spread)
        x = rng.integers(lo, hi, n, dtype=dt, endpoint=True)
    values, inverse = morph.distinct_values(x)
    assert values.dtype == x.dtype and inverse.shape == x.shape
    if dt.kind == "f":
        nan = np.isnan(x)
        # Every value's own bits back (NaN: a NaN), zeros with their sign.
        back = values[inverse]
        np.testing.assert_array_equal(np.isnan(back), nan)
        same = back[~nan].view(np.uint8).reshape(-1, dt.itemsize) == x[~nan].view(np.uint8).reshape(
            -1, dt.itemsize
        )
        assert same.all()
        assert np.isnan(values).sum() == (1 if nan.any() else 0)
        if nan.any():
            assert np.isnan(values[-1])
        finite = values[~np.isnan(values)]
        order = np.lexsort((~np.signbit(finite), finite))  # -0 before 0
        np.testing.assert_array_equal(order, np.arange(finite.size))
        u = np.unique(np.where(x == 0, 0, x))  # numpy's, zeros as one
        assert values.size == u.size + (np.signbit(x[x == 0]).any() and (~np.signbit(x[x == 0])).any())
    else:
        u, inv = np.unique(x, return_inverse=True)
        np.testing.assert_array_equal(values, u)
        np.testing.assert_array_equal(inverse, inv.reshape(-1))
