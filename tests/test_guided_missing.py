"""The guided filter on the dispatcher (PIL, MaskedArray, Dask, axes=) and with missing pixels.

Oracle for missing pixels: He, Sun and Tang's algorithm transcribed with
weighted box means, uniform_filter(w * x) / uniform_filter(w) (SciPy, float64),
written independently of the core's normalized sums.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import ndimage as ndi

from imgfilter.core.names import MODES, SCIPY_MODE, OptionError
from imgfilter.filters.guided import guided


def weighted_guided(G, p, w, r, eps, mode):
    """The paper's algorithm with every box mean over the valid pixels (w) of its window.

    ``G`` (H, W) or (H, W, 3), ``p`` (H, W), ``w`` (H, W) bool. Beyond a constant
    border lie valid zeros (as the paper's box means see them, a and b included).
    NaN where a window has no valid pixel.
    """
    m = SCIPY_MODE[mode]
    wf = w.astype(np.float64)
    den = ndi.uniform_filter(wf, 2 * r + 1, mode=m, cval=1.0)
    # The true shares are multiples of 1 / (2r + 1)^2; SciPy's running sums leave
    # about 1e-17 where no pixel is valid, which would read as a valid window.
    empty = den < 0.5 / (2 * r + 1) ** 2

    def f(x):
        x = np.where(w, x, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = ndi.uniform_filter(x, 2 * r + 1, mode=m, cval=0.0) / den
        out[empty] = np.nan
        return out

    G = G.astype(np.float64)
    p = p.astype(np.float64)
    if G.ndim == 2:
        mean_I, mean_p = f(G), f(p)
        a = (f(G * p) - mean_I * mean_p) / (f(G * G) - mean_I * mean_I + eps)
        b = mean_p - a * mean_I
        return f(a) * G + f(b)
    mean_I = [f(G[..., i]) for i in range(3)]
    sigma = np.empty((*G.shape[:2], 3, 3))
    for i in range(3):
        for j in range(3):
            sigma[..., i, j] = f(G[..., i] * G[..., j]) - mean_I[i] * mean_I[j]
    sigma += eps * np.eye(3)
    mean_p = f(p)
    cov = np.stack([f(G[..., i] * p) - mean_I[i] * mean_p for i in range(3)], axis=-1)
    bad = ~np.isfinite(sigma).all(axis=(-1, -2))
    sigma[bad] = np.eye(3)
    cov[bad] = 0
    a = np.linalg.solve(sigma, cov[..., None])[..., 0]
    a[bad] = np.nan
    b = mean_p - sum(a[..., i] * mean_I[i] for i in range(3))
    return sum(f(a[..., i]) * G[..., i] for i in range(3)) + f(b)


def weighted_reference(image, guide, w, r, eps, mode):
    if image.ndim == 2:
        return weighted_guided(guide, image, w, r, eps, mode)
    return np.stack(
        [weighted_guided(guide, image[..., k], w, r, eps, mode) for k in range(image.shape[2])], -1
    )


def holes(shape, seed, fraction=0.1):
    rng = np.random.default_rng(seed)
    valid = rng.random(shape) > fraction
    valid[10:16, 20:29] = False  # a block wider than small windows
    return valid


# --------------------------------------------------------------------------
# missing pixels
# --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_nan_ignore_self_guided_grey(gray_photo, mode):
    img = gray_photo[100:180, 60:160].astype(np.float64)
    valid = holes(img.shape, 1)
    holed = np.where(valid, img, np.nan)
    res = guided(holed, radius=2, eps=200.0, mode=mode, nan="ignore")
    ref = weighted_reference(img, img, valid, 2, 200.0, mode)
    ref[~valid] = np.nan  # self-guided: no guide value where the image is missing
    np.testing.assert_array_equal(np.isnan(res), np.isnan(ref))
    ok = ~np.isnan(ref)
    np.testing.assert_allclose(res[ok], ref[ok], rtol=0, atol=1e-8)


@pytest.mark.parametrize("mode", ["constant", "symmetric", "wrap"])
def test_nan_ignore_self_guided_colour(photo, mode):
    img = photo[150:220, 200:290].astype(np.float64)
    valid = holes(img.shape[:2], 2)
    holed = img.copy()
    holed[~valid] = np.nan
    res = guided(holed, radius=3, eps=300.0, mode=mode, nan="ignore")
    ref = weighted_reference(img, img, valid, 3, 300.0, mode)
    ref[~valid] = np.nan
    np.testing.assert_array_equal(np.isnan(res), np.isnan(ref))
    ok = ~np.isnan(ref)
    np.testing.assert_allclose(res[ok], ref[ok], rtol=0, atol=1e-7)


@pytest.mark.parametrize("colour_guide", [False, True])
def test_explicit_guide_fills_the_holes(photo, colour_guide):
    img = photo[100:170, 100:190, 1].astype(np.float64)
    guide = photo[100:170, 100:190].astype(np.float64)
    if not colour_guide:
        guide = guide.mean(axis=2)
    valid = holes(img.shape, 3)
    res = guided(img, guide, radius=4, eps=100.0, mode="reflect", mask=valid)
    ref = weighted_reference(img, guide, valid, 4, 100.0, "reflect")
    assert not np.isnan(ref).any()  # every window of radius 4 holds a valid pixel here
    np.testing.assert_allclose(res, ref, rtol=0, atol=1e-7)
    # The filled holes follow the guide: far closer to the truth than a hole's zero.
    assert np.abs(res[~valid] - img[~valid]).mean() < 0.1 * img[~valid].mean()


def test_uint8_mask_rounds_the_transcription_and_holes_keep_their_value(photo):
    img = photo[200:280, 150:260]
    valid = holes(img.shape[:2], 4)
    res = guided(img, radius=3, eps=400.0, mask=valid)
    ref = weighted_reference(img, img, valid, 3, 400.0, "reflect")
    assert res.dtype == np.uint8
    np.testing.assert_array_equal(res[~valid], img[~valid])
    diff = np.abs(res.astype(int) - np.clip(np.rint(ref), 0, 255))[valid]
    assert diff.max() <= 1 and np.count_nonzero(diff) <= diff.size // 200


def test_nan_keep_and_propagate():
    rng = np.random.default_rng(5)
    img = rng.random((20, 24))
    img[5, 7] = np.nan
    keep = guided(img, radius=2, eps=0.01, nan="keep")
    ign = guided(img, radius=2, eps=0.01, nan="ignore")
    assert np.isnan(keep[5, 7]) and np.isnan(ign[5, 7])  # self-guided: no guide there
    guide = np.nan_to_num(img)
    filled = guided(img, guide, radius=2, eps=0.01, nan="ignore")
    assert np.isfinite(filled).all()
    assert np.isnan(guided(img, guide, radius=2, eps=0.01, nan="keep")[5, 7])
    prop = guided(img, radius=2, eps=0.01)
    assert np.isnan(prop[3:8, 5:10]).all() and np.isfinite(prop[10:, 15:]).all()


@pytest.mark.parametrize("mode", ["reflect", "constant"])
def test_nan_in_a_valid_pixel_spreads_with_a_mask(mode):
    """nan="propagate" with a mask: a NaN the mask calls valid spreads through
    every box mean that reads it (two stages of radius r), while the masked-out pixels are left out; the planes then
    take the stacked route, not the NaN-hole one (which would take that NaN for
    a hole). Away from it, the transcription (whose running sums would smear a
    NaN along rows, so it runs on the NaN replaced)."""
    rng = np.random.default_rng(8)
    img = rng.random((24, 30))
    valid = holes(img.shape, 3)
    valid[12, 10] = True
    img[~valid] = rng.random(int((~valid).sum())) * 100  # masked-out values must not count
    want = weighted_reference(img, img, valid, 2, 0.01, mode)
    img[12, 10] = np.nan
    got = guided(img, radius=2, eps=0.01, mask=valid, mode=mode)
    # NaN in a and b at the valid centres whose windows read it, then at the
    # pixels whose windows hold such a centre.
    spot = np.zeros(img.shape, bool)
    spot[12, 10] = True
    near = ndi.maximum_filter(valid & ndi.maximum_filter(spot, 5), 5)
    np.testing.assert_array_equal(np.isnan(got[valid]), near[valid])
    # (Self-guided, a masked-out pixel has no guide: NaN, the module's rule.)
    assert np.isnan(got[~valid]).all()
    far = valid & ~near
    np.testing.assert_allclose(got[far], want[far], rtol=0, atol=1e-9)


def test_masked_array_is_mask(photo):
    img = photo[:60, :70].astype(np.float32)
    valid = holes(img.shape[:2], 6)
    ma = np.ma.MaskedArray(img, mask=np.broadcast_to(~valid[..., None], img.shape))
    a = guided(ma, radius=3, eps=100.0)
    assert type(a) is np.ndarray
    np.testing.assert_array_equal(a, guided(img, radius=3, eps=100.0, mask=valid))


def test_full_mask_is_the_plain_filter(photo):
    img = photo[:50, :60].astype(np.float64)
    np.testing.assert_allclose(
        guided(img, radius=3, eps=100.0, mask=np.ones(img.shape[:2], bool)),
        guided(img, radius=3, eps=100.0),
        rtol=0,
        atol=1e-9,
    )


@given(
    seed=st.integers(0, 2**31),
    r=st.integers(1, 3),
    mode=st.sampled_from(MODES),
    colour=st.booleans(),
)
def test_missing_property(seed, r, mode, colour):
    rng = np.random.default_rng(seed)
    img = rng.random((9, 11))
    guide = np.dstack([img, rng.random((9, 11)), 1 - img]) if colour else rng.random((9, 11))
    valid = rng.random((9, 11)) > 0.3
    res = guided(img, guide, radius=r, eps=0.05, mode=mode, mask=valid)
    ref = weighted_reference(img, guide, valid, r, 0.05, mode)
    np.testing.assert_array_equal(np.isnan(res), np.isnan(ref))
    ok = ~np.isnan(ref)
    np.testing.assert_allclose(res[ok], ref[ok], rtol=0, atol=1e-8)


# --------------------------------------------------------------------------
# the dispatcher's inputs
# --------------------------------------------------------------------------


def test_pil_inputs(photo):
    Image = pytest.importorskip("PIL.Image")
    img = photo[:60, :80]
    np.testing.assert_array_equal(
        guided(Image.fromarray(img), radius=3, eps=100.0), guided(img, radius=3, eps=100.0)
    )
    grey = np.ascontiguousarray(img[..., 1])
    np.testing.assert_array_equal(
        guided(img, Image.fromarray(grey), radius=3, eps=100.0), guided(img, grey, radius=3, eps=100.0)
    )
    rgba = np.dstack([img, np.arange(60 * 80, dtype=np.uint8).reshape(60, 80)])
    res = guided(Image.fromarray(rgba, "RGBA"), radius=3, eps=100.0)  # alpha passes through
    np.testing.assert_array_equal(res[..., 3], rgba[..., 3])
    np.testing.assert_array_equal(res[..., :3], guided(img, radius=3, eps=100.0))


def test_axes_channels_first_and_batch(photo):
    img = photo[:40, :50]
    first = np.ascontiguousarray(np.moveaxis(img, -1, 0))
    np.testing.assert_array_equal(
        guided(first, radius=2, eps=100.0, axes=(1, 2)), np.moveaxis(guided(img, radius=2, eps=100.0), -1, 0)
    )
    batch = np.stack([photo[:40, :50], photo[40:80, 50:100]])
    res = guided(batch, radius=2, eps=100.0, axes=(1, 2))
    for i in range(2):
        np.testing.assert_array_equal(res[i], guided(batch[i], radius=2, eps=100.0))


def test_refuses_4d_without_axes():
    with pytest.raises(OptionError, match="axes="):
        guided(np.zeros((2, 8, 8, 3)), radius=1)


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric", "wrap"])
def test_dask_equals_numpy(photo, mode):
    """ "wrap" too: its blocks must see the far side (they once wrapped onto
    themselves near the edges: 0.06 off on a photo)."""
    da = pytest.importorskip("dask.array")
    img = photo[:90, :110]
    for chunks in ((25, 40, 3), (7, 8, 3)):
        lazy = guided(da.from_array(img, chunks=chunks), radius=4, eps=300.0, mode=mode)
        np.testing.assert_array_equal(lazy.compute(), guided(img, radius=4, eps=300.0, mode=mode))
    x = np.random.default_rng(0).random((20, 23))
    for nan in ("propagate", "ignore"):
        lazy = guided(da.from_array(x, chunks=(10, 23)), radius=2, eps=0.01, mode=mode, nan=nan)
        np.testing.assert_array_equal(lazy.compute(), guided(x, radius=2, eps=0.01, mode=mode, nan=nan))


def test_dask_with_mask_equals_numpy(gray_photo):
    da = pytest.importorskip("dask.array")
    img = gray_photo[:80, :100].astype(np.float32)
    valid = holes(img.shape, 7)
    lazy = guided(
        da.from_array(img, chunks=(30, 35)), radius=3, eps=100.0, mask=da.from_array(valid, chunks=(30, 35))
    )
    np.testing.assert_array_equal(lazy.compute(), guided(img, radius=3, eps=100.0, mask=valid))


def test_dask_guide_is_refused(photo):
    da = pytest.importorskip("dask.array")
    img = da.from_array(photo[:20, :20], chunks=10)
    with pytest.raises(OptionError, match="guide"):
        guided(img, img, radius=2).compute()


# --------------------------------------------------------------------------
# float precision on large offsets (the centring), Dask included
# --------------------------------------------------------------------------


def paper_grey(G, r, eps, mode):
    m = SCIPY_MODE[mode]

    def f(x):
        return ndi.uniform_filter(x, 2 * r + 1, mode=m)

    G = G.astype(np.float64)
    mean = f(G)
    a = (f(G * G) - mean * mean) / (f(G * G) - mean * mean + eps)
    b = mean - a * mean
    return f(a) * G + f(b)


def test_float32_on_a_large_offset_keeps_its_precision():
    rng = np.random.default_rng(8)
    img = (10000 + rng.standard_normal((60, 70))).astype(np.float32)
    ref = paper_grey(img, 3, 0.1, "reflect")
    # float32 resolution at 10000 is 1e-3: the noise (std 1) must survive the sums of squares.
    assert np.abs(guided(img, radius=3, eps=0.1) - ref).max() < 0.01


def test_dask_float_offset_and_batch_equal_numpy(photo):
    da = pytest.importorskip("dask.array")
    rng = np.random.default_rng(9)
    img = (5000 + rng.standard_normal((50, 64, 3))).astype(np.float32)
    lazy = guided(da.from_array(img, chunks=(20, 25, 3)), radius=3, eps=0.5)
    np.testing.assert_array_equal(lazy.compute(), guided(img, radius=3, eps=0.5))
    batch = np.stack([img, photo[:50, :64].astype(np.float32)])
    want = guided(batch, radius=2, eps=50.0, axes=(1, 2))
    got = guided(da.from_array(batch, chunks=(1, 20, 30, 3)), radius=2, eps=50.0, axes=(1, 2))
    np.testing.assert_array_equal(got.compute(), want)
