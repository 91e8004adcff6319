"""local_var / local_std's finish (``_engine.moments_finish``) pinned bit for bit.

Its oracle is the numpy transcription it replaced (:func:`numpy_finish`,
kept here as it ran in ``filters/local.py``): random window sums and counts
(whole, partial and empty windows, NaN and infinite sums, a variance at
float64's rounding level), counts per value or per pixel in float32 and
float64 or none, every ddof up to past the counts, float32 and float64
results, both instruction sets; then the public filters on a photo with
holes and a mask against scipy.ndimage's generic_filter.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndi
from hypothesis import given, settings
from hypothesis import strategies as st

import imgfilter
from imgfilter import _engine


def numpy_finish(s1, s2, n, per, full, ddof, few, root, out_dtype):
    """The numpy transcription of the finish (filters/local.py before the kernel)."""
    tiny = 8 * np.finfo(np.float64).eps
    if n is None:
        n = np.float64(full)
        plane = None
    else:
        plane = n
        n = np.repeat(n.astype(np.float64), per)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_sq = np.divide(s2, n)
        var = s1.copy()
        var *= s1
        var /= n
        np.subtract(s2, var, out=var)
        if not ddof:
            var /= n
        else:
            var /= n - ddof
        np.multiply(mean_sq, tiny, out=mean_sq)
        np.copyto(var, 0.0, where=np.less_equal(var, mean_sq))
        if few:
            bad = np.less_equal(plane, ddof)
            np.copyto(var, np.nan, where=np.repeat(bad, per))
        if root:
            np.sqrt(var, out=var)
    return var.astype(out_dtype)


def kernel_finish(s1, s2, n, per, full, ddof, few, root, out_dtype):
    out = np.empty(s1.shape, out_dtype)
    _engine.moments_finish(s1, s2, n, per, float(full), ddof, few, root, out)
    return out


def same_bits(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    assert np.array_equal(a.view(f"u{a.itemsize}"), b.view(f"u{b.itemsize}")), (
        f"{np.count_nonzero(a.view(f'u{a.itemsize}') != b.view(f'u{b.itemsize}'))} values differ"
    )


def sums(rng, m, counts, kind):
    """Window sums of y and y**2 of ``counts`` values each (per value)."""
    mean = rng.standard_normal(m) * 10.0 ** rng.integers(-3, 6)
    spread = np.abs(rng.standard_normal(m)) * 10.0 ** rng.integers(-9, 3)
    s1 = mean * counts
    s2 = (mean * mean + spread * spread) * counts
    if kind == "flat":  # a variance at float64's rounding level: the tiny step decides
        s2 = s1 * s1 / np.maximum(counts, 1) * (1 + rng.integers(-16, 17, m) * 2.0**-52)
    elif kind == "special":
        pick = rng.random(m)
        s1[pick < 0.05] = np.nan
        s2[(pick > 0.05) & (pick < 0.1)] = np.inf
        s1[(pick > 0.1) & (pick < 0.15)] = 0.0
        s2[(pick > 0.1) & (pick < 0.15)] = 0.0
    return s1, s2


@settings(max_examples=max(200, settings.default.max_examples), deadline=None)
@given(
    pixels=st.integers(0, 700),
    per=st.sampled_from([1, 2, 3, 4, 7]),
    counts=st.sampled_from(["none", "value", "pixel"]),
    count_dtype=st.sampled_from([np.float32, np.float64]),
    full=st.sampled_from([1, 9, 25, 49, 961]),
    ddof=st.integers(0, 3),
    root=st.booleans(),
    out_dtype=st.sampled_from([np.float32, np.float64]),
    kind=st.sampled_from(["plain", "flat", "special"]),
    isa=st.sampled_from(["baseline", "avx2"]),
    seed=st.integers(0, 2**16),
)
def test_kernel_equals_numpy_transcription(
    pixels, per, counts, count_dtype, full, ddof, root, out_dtype, kind, isa, seed
):
    if isa not in _engine.isas():
        pytest.skip(f"{isa} not available")
    rng = np.random.default_rng(seed)
    m = pixels * per
    if counts == "none":
        n, every = None, np.full(m, float(full))
        count_per = 1
    else:
        count_per = per if counts == "pixel" else 1
        c = rng.integers(0, full + 1, m // count_per)
        c[rng.random(c.size) < 0.5] = full  # whole windows are the common case
        n, every = c.astype(count_dtype), np.repeat(c, count_per).astype(np.float64)
    s1, s2 = sums(rng, m, every, kind)
    args = (s1, s2, n, count_per, full, ddof, n is not None, root, out_dtype)
    before = _engine.set_isa(isa)
    try:
        got = kernel_finish(*args)
    finally:
        _engine.set_isa(before)
    same_bits(got, numpy_finish(*args))


def test_kernel_rejects_mismatched_buffers():
    s = np.zeros(6)
    with pytest.raises(IndexError):
        _engine.moments_finish(s, np.zeros(5), None, 1, 9.0, 0, False, False, np.empty(6, np.float32))
    with pytest.raises(IndexError):
        _engine.moments_finish(s, s, np.ones(4), 2, 9.0, 0, True, False, np.empty(6))
    with pytest.raises(IndexError):
        _engine.moments_finish(s, s, None, 4, 9.0, 0, False, False, np.empty(6))
    with pytest.raises(TypeError):
        _engine.moments_finish(s.astype(np.float32), s, None, 1, 9.0, 0, False, False, np.empty(6))
    with pytest.raises(TypeError):
        _engine.moments_finish(s, s, None, 1, 9.0, 0, False, False, np.empty(6, np.int32))
    with pytest.raises(ValueError):
        _engine.moments_finish(s, s, None, 0, 9.0, 0, False, False, np.empty(6))


def _photo():
    from PIL import Image
    from test_nan_linear_fused import SAMPLES

    with Image.open(SAMPLES[0]) as im:
        return np.asarray(im.convert("RGB"))[:120, :150]


def generic_reference(img, ref, ddof):
    """scipy.ndimage.generic_filter of ``ref`` over each channel's valid (not NaN) values, 5 x 5."""

    def stat(v):
        v = v[~np.isnan(v)]
        return ref(v, ddof=ddof) if v.size > ddof else np.nan

    return np.stack(
        [
            ndi.generic_filter(img[..., c].astype(np.float64), stat, size=5, mode="mirror")
            for c in range(img.shape[-1])
        ],
        axis=-1,
    )


@pytest.mark.parametrize("fn, ref", [("local_var", np.var), ("local_std", np.std)])
def test_photo_with_holes_and_mask_against_generic_filter(fn, ref):
    img = _photo().astype(np.float32)
    holed = img.copy()
    holed[np.random.default_rng(4).random(img.shape) < 0.05] = np.nan  # in single channels too
    mask = np.random.default_rng(5).random(img.shape[:2]) < 0.9
    filt = getattr(imgfilter, fn)
    for ddof in (0, 1):
        got = filt(holed, 5, nan="ignore", ddof=ddof, mode="reflect")
        np.testing.assert_allclose(got, generic_reference(holed, ref, ddof), rtol=1e-5, atol=1e-3)
        got = filt(img, 5, mask=mask, ddof=ddof, mode="reflect")
        masked = np.where(mask[..., None], img, np.nan)
        np.testing.assert_allclose(got, generic_reference(masked, ref, ddof), rtol=1e-5, atol=1e-3)
