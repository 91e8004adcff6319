"""rank_filter, percentile, minimum and maximum against scipy.ndimage (every
dtype, every mode, random footprints), their NaN rules against a numpy
reference, alpha, and Dask."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import scipy.ndimage as ndi
from hypothesis import given
from hypothesis import strategies as st

import imgfilter
from imgfilter import footprints
from imgfilter.core.names import SCIPY_MODE, OptionError

DTYPES = ["bool", "uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64",
          "float16", "float32", "float64"]  # fmt: skip
MODES = ["reflect", "symmetric", "edge", "wrap", "constant"]


def scipy_call(fn, x, *args, mode, footprint, cval=0.0, **kw):
    """scipy's filter over the leading axes (channels apart), float16 via float32 (exact)."""
    fp = np.asarray(footprint, bool)
    fp = fp.reshape(fp.shape + (1,) * (x.ndim - fp.ndim))
    work = x.astype(np.float32) if x.dtype == np.float16 else x
    out = fn(work, *args, footprint=fp, mode=SCIPY_MODE[mode], cval=cval, **kw)
    return out.astype(x.dtype)


def sample(dtype, shape, rng, few=False):
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.random(shape) < 0.5
    if dtype.kind == "f":
        x = rng.standard_normal(shape) * 100
        if few:
            x = np.round(x / 50)
        return x.astype(dtype)
    info = np.iinfo(dtype)
    lo, hi = (int(info.min), int(info.max)) if not few else (0, 5)
    # scipy's minimum/maximum filters pass 64-bit integers through float64:
    # keep them where that is exact (test_64_bit_integers_are_exact goes further).
    lo, hi = max(lo, -(2**53)), min(hi, 2**53)
    return rng.integers(lo, hi, shape, endpoint=True, dtype=dtype)


FOOTPRINTS = {
    "square3": footprints.square(3),
    "disk2": footprints.disk(2),
    "cross2": footprints.cross(2),
    "rect2x5": footprints.rectangle(2, 5),
    "rect9x8": footprints.rectangle(9, 8),
    "ellipse5x7": footprints.ellipse(5, 7),
    "ring": np.array([[1, 1, 1], [1, 0, 1], [1, 1, 1]], bool),
    "holes": np.array([[1, 0, 1, 0], [0, 0, 0, 1], [1, 1, 0, 1]], bool),
    "row": np.ones((1, 4), bool),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", MODES)
def test_every_rank_function_equals_scipy(dtype, mode):
    rng = np.random.default_rng(hash((dtype, mode)) % 2**32)
    for few in (False, True):
        x = sample(dtype, (19, 23), rng, few)
        for name, fp in FOOTPRINTS.items():
            n = int(fp.sum())
            for r in sorted({0, 1, n // 2, n - 2, n - 1, -1}):
                if not -n <= r < n:
                    continue
                got = imgfilter.rank_filter(x, r, footprint=fp, mode=mode)
                want = scipy_call(ndi.rank_filter, x, r, mode=mode, footprint=fp)
                assert got.dtype == x.dtype
                assert np.array_equal(got, want), (name, r)
            for q in (0, 10, 37.5, 50, 90, 100, -25):
                got = imgfilter.percentile(x, q, footprint=fp, mode=mode)
                want = scipy_call(ndi.percentile_filter, x, q, mode=mode, footprint=fp)
                assert np.array_equal(got, want), (name, q)
            got = imgfilter.minimum(x, footprint=fp, mode=mode)
            assert np.array_equal(got, scipy_call(ndi.minimum_filter, x, mode=mode, footprint=fp)), name
            got = imgfilter.maximum(x, footprint=fp, mode=mode)
            assert np.array_equal(got, scipy_call(ndi.maximum_filter, x, mode=mode, footprint=fp)), name


@pytest.mark.parametrize("dtype", ["uint8", "int16", "int32", "float32", "float64"])
def test_constant_border_values(dtype):
    rng = np.random.default_rng(3)
    x = sample(dtype, (11, 13), rng, few=True)
    for cval in (0, 3, -2 if np.dtype(dtype).kind != "u" else 255):
        for fn, ref, args in (
            (imgfilter.rank_filter, ndi.rank_filter, (4,)),
            (imgfilter.minimum, ndi.minimum_filter, ()),
            (imgfilter.maximum, ndi.maximum_filter, ()),
        ):
            got = fn(x, *args, footprint=footprints.disk(2), mode="constant", cval=cval)
            want = scipy_call(ref, x, *args, mode="constant", footprint=footprints.disk(2), cval=cval)
            assert np.array_equal(got, want)


def test_integer_cval_must_be_a_value_of_the_dtype():
    x = np.zeros((4, 4), np.uint8)
    for bad in (-1, 256, 0.5):
        with pytest.raises(OptionError, match="cval"):
            imgfilter.minimum(x, mode="constant", cval=bad)


@st.composite
def cases(draw):
    dtype = draw(st.sampled_from(DTYPES))
    h, w = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    fh, fw = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    fp = draw(hnp.arrays(bool, (fh, fw)))
    if not fp.any():
        fp[draw(st.integers(0, fh - 1)), draw(st.integers(0, fw - 1))] = True
    channels = draw(st.sampled_from([(), (1,), (3,)]))
    seed = draw(st.integers(0, 2**32 - 1))
    x = sample(dtype, (h, w, *channels), np.random.default_rng(seed), few=draw(st.booleans()))
    n = int(fp.sum())
    r = draw(st.integers(-n, n - 1))
    return x, fp, r, draw(st.sampled_from(MODES))


@given(case=cases())
def test_random_footprints_equal_scipy(case):
    x, fp, r, mode = case
    got = imgfilter.rank_filter(x, r, footprint=fp, mode=mode)
    assert np.array_equal(got, scipy_call(ndi.rank_filter, x, r, mode=mode, footprint=fp))
    got = imgfilter.minimum(x, footprint=fp, mode=mode)
    assert np.array_equal(got, scipy_call(ndi.minimum_filter, x, mode=mode, footprint=fp))
    got = imgfilter.maximum(x, footprint=fp, mode=mode)
    assert np.array_equal(got, scipy_call(ndi.maximum_filter, x, mode=mode, footprint=fp))


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float32", "int64"])
def test_one_pixel_images_and_huge_footprints(dtype):
    rng = np.random.default_rng(5)
    for shape in [(1, 1), (1, 7), (6, 1), (3, 4)]:
        x = sample(dtype, shape, rng)
        for mode in MODES:
            for fp in (footprints.square(9), footprints.disk(6), footprints.rectangle(1, 15)):
                n = int(fp.sum())
                got = imgfilter.rank_filter(x, n // 3, footprint=fp, mode=mode)
                want = scipy_call(ndi.rank_filter, x, n // 3, mode=mode, footprint=fp)
                assert np.array_equal(got, want), (shape, mode, fp.shape)


def test_large_windows_on_a_photo(gray_photo):
    x = gray_photo[:96, :120]
    for fp in (footprints.square(31), footprints.disk(12), footprints.rectangle(21, 5)):
        n = int(fp.sum())
        for r in (n // 5, n // 2):
            got = imgfilter.rank_filter(x, r, footprint=fp)
            assert np.array_equal(got, scipy_call(ndi.rank_filter, x, r, mode="reflect", footprint=fp))
        for y in (x.astype(np.uint16) * 251, x.astype(np.float32) / 7 + np.float32(0.001) * np.arange(120)):
            got = imgfilter.percentile(y, 30, footprint=fp)
            assert np.array_equal(got, scipy_call(ndi.percentile_filter, y, 30, mode="reflect", footprint=fp))


@pytest.mark.parametrize("dtype", ["int64", "uint64"])
def test_64_bit_integers_are_exact(dtype):
    info = np.iinfo(dtype)
    rng = np.random.default_rng(12)
    x = rng.integers(int(info.max) - 40, int(info.max), (12, 14), endpoint=True, dtype=dtype)
    x[::3, ::2] = info.min
    fp = footprints.disk(2)
    ext = np.pad(x, 2, mode="reflect")
    win = np.lib.stride_tricks.sliding_window_view(ext, fp.shape)[..., fp]
    ordered = np.sort(win, axis=-1)
    for r in (0, 4, 12):
        assert np.array_equal(imgfilter.rank_filter(x, r, footprint=fp), ordered[..., r])
    assert np.array_equal(imgfilter.minimum(x, footprint=fp), ordered[..., 0])
    assert np.array_equal(imgfilter.maximum(x, footprint=fp), ordered[..., -1])


def test_size_and_one_dimensional_images():
    rng = np.random.default_rng(6)
    x = rng.integers(0, 100, (15, 17)).astype(np.int32)
    got = imgfilter.rank_filter(x, 2, size=(3, 5))
    assert np.array_equal(got, ndi.rank_filter(x, 2, size=(3, 5), mode="mirror"))
    v = rng.standard_normal(40)
    for mode in MODES:
        got = imgfilter.percentile(v, 75, size=5, mode=mode)
        assert np.array_equal(got, ndi.percentile_filter(v, 75, size=5, mode=SCIPY_MODE[mode]))


def nan_reference(x, fp, pick, mode):
    """numpy: each window's valid values sorted, the pick(v) of v of them; NaN when none."""
    from imgfilter.core.border import extend

    fh, fw = fp.shape
    ext = extend(
        x, ((-(fh // 2), x.shape[0] + fh - 1 - fh // 2), (-(fw // 2), x.shape[1] + fw - 1 - fw // 2)), mode
    )
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            vals = ext[i : i + fh, j : j + fw][fp]
            vals = np.sort(vals[~np.isnan(vals)])
            out[i, j] = np.nan if vals.size == 0 else vals[pick(vals.size)]
    return out


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_nan_ignore_takes_the_rank_among_valid_values(dtype):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((14, 16)).astype(dtype)
    x[rng.random(x.shape) < 0.3] = np.nan
    x[:4, :4] = np.nan
    fp = footprints.disk(2)
    n = int(fp.sum())
    for mode in ("reflect", "edge", "wrap"):
        for q in (0, 20, 50, 75, 100):
            pick = lambda v, q=q: v - 1 if q == 100 else int(float(v) * q / 100.0)  # noqa: E731
            got = imgfilter.percentile(x, q, footprint=fp, mode=mode, nan="ignore")
            np.testing.assert_array_equal(got, nan_reference(x, fp, pick, mode))
        for r in (0, 3, n // 2, n - 1):
            got = imgfilter.rank_filter(x, r, footprint=fp, mode=mode, nan="ignore")
            np.testing.assert_array_equal(got, nan_reference(x, fp, lambda v, r=r: r * v // n, mode))
        np.testing.assert_array_equal(
            imgfilter.minimum(x, footprint=fp, mode=mode, nan="ignore"),
            nan_reference(x, fp, lambda v: 0, mode),
        )
        np.testing.assert_array_equal(
            imgfilter.maximum(x, footprint=fp, mode=mode, nan="ignore"),
            nan_reference(x, fp, lambda v: v - 1, mode),
        )


def test_nan_propagates_to_every_window_holding_one():
    x = np.arange(49, dtype=np.float64).reshape(7, 7)
    x[3, 3] = np.nan
    fp = footprints.cross(1)
    poisoned = ndi.maximum_filter(np.isnan(x), footprint=fp, mode="mirror")
    for res in (
        imgfilter.rank_filter(x, 2, footprint=fp),
        imgfilter.minimum(x, footprint=fp),
        imgfilter.maximum(x, footprint=fp),
    ):
        assert np.array_equal(np.isnan(res), poisoned)
    keep = imgfilter.percentile(x, 50, footprint=fp, nan="keep")
    assert np.isnan(keep[3, 3]) and not np.isnan(keep[2, 3])


def test_alpha_passes_through(photo):
    rgba = np.dstack([photo[:64, :64], np.arange(64 * 64, dtype=np.uint8).reshape(64, 64)])
    got = imgfilter.percentile(rgba, 50, footprint=footprints.disk(2), alpha=True)
    assert np.array_equal(got[..., 3], rgba[..., 3])
    assert np.array_equal(got[..., :3], imgfilter.percentile(rgba[..., :3], 50, footprint=footprints.disk(2)))
    # Arrays are data by default: all four channels filtered.
    assert not np.array_equal(imgfilter.maximum(rgba)[..., 3], rgba[..., 3])


def test_threads_and_isas_agree(photo):
    from imgfilter import _engine

    fp = footprints.disk(4)
    base = imgfilter.rank_filter(photo, 20, footprint=fp, threads=1)
    assert np.array_equal(imgfilter.rank_filter(photo, 20, footprint=fp, threads=3), base)
    for isa in _engine.isas():
        previous = _engine.set_isa(isa)
        try:
            assert np.array_equal(imgfilter.rank_filter(photo, 20, footprint=fp), base)
            assert np.array_equal(
                imgfilter.minimum(photo, footprint=fp),
                scipy_call(ndi.minimum_filter, photo, mode="reflect", footprint=fp),
            )
        finally:
            _engine.set_isa(previous)


@pytest.mark.parametrize("fn, args", [(imgfilter.rank_filter, (5,)), (imgfilter.percentile, (30,)),
                                      (imgfilter.minimum, ()), (imgfilter.maximum, ())])  # fmt: skip
@pytest.mark.parametrize("mode", ["reflect", "constant", "wrap"])
def test_dask_equals_numpy(fn, args, mode):
    da = pytest.importorskip("dask.array")
    rng = np.random.default_rng(9)
    for x in (rng.integers(0, 255, (45, 38, 3)).astype(np.uint8), rng.standard_normal((45, 38))):
        fp = footprints.ellipse(5, 7)
        lazy = fn(da.from_array(x, chunks=(10, 13, -1)[: x.ndim]), *args, footprint=fp, mode=mode, cval=2)
        assert isinstance(lazy, da.Array)
        assert np.array_equal(lazy.compute(), fn(x, *args, footprint=fp, mode=mode, cval=2))


def test_errors_name_the_option():
    x = np.zeros((5, 5), np.uint8)
    with pytest.raises(OptionError, match="rank"):
        imgfilter.rank_filter(x, 9)
    with pytest.raises(OptionError, match="rank"):
        imgfilter.rank_filter(x, -10)
    with pytest.raises(TypeError, match="rank"):
        imgfilter.rank_filter(x, 1.5)
    with pytest.raises(OptionError, match="q"):
        imgfilter.percentile(x, 101)
    with pytest.raises(OptionError, match="footprint"):
        imgfilter.minimum(x, footprint=np.zeros((3, 3)))
    with pytest.raises(OptionError, match="footprint"):
        imgfilter.minimum(x, footprint=np.ones((3, 3, 3)))
    with pytest.raises(OptionError, match="mode"):
        imgfilter.maximum(x, mode="bogus")
    with pytest.raises(OptionError, match="nan"):
        imgfilter.maximum(x, nan="bogus")
