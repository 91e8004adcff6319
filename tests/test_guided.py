"""The guided filter against a direct float64 transcription of He, Sun and Tang (2010) and OpenCV-contrib."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import ndimage as ndi

import imgfilter
from imgfilter.core.names import MODES, SCIPY_MODE, OptionError
from imgfilter.filters.guided import guided


def paper_guided(G, p, r, eps, mode):
    """Algorithm 1 of the paper (grey guide) and its colour version, with uniform_filter in float64."""
    m = SCIPY_MODE[mode]

    def f(x):
        return ndi.uniform_filter(x, 2 * r + 1, mode=m)

    G = G.astype(np.float64)
    p = p.astype(np.float64)
    if G.ndim == 2:
        mean_I, mean_p = f(G), f(p)
        var_I = f(G * G) - mean_I * mean_I
        cov_Ip = f(G * p) - mean_I * mean_p
        a = cov_Ip / (var_I + eps)
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
    a = np.linalg.solve(sigma, cov[..., None])[..., 0]
    b = mean_p - sum(a[..., i] * mean_I[i] for i in range(3))
    return sum(f(a[..., i]) * G[..., i] for i in range(3)) + f(b)


def reference(image, guide, r, eps, mode):
    """Each channel of ``image`` with the (grey or colour) guide."""
    g = guide[..., 0] if guide.ndim == 3 and guide.shape[2] == 1 else guide
    if image.ndim == 2:
        return paper_guided(g, image, r, eps, mode)
    return np.stack([paper_guided(g, image[..., k], r, eps, mode) for k in range(image.shape[2])], -1)


# --------------------------------------------------------------------------
# the transcription, on photos
# --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("r,eps", [(2, 25.0), (8, 650.25), (5, 4000.0)])
def test_grey_guide_photo(gray_photo, mode, r, eps):
    img = gray_photo[100:300, 50:290].astype(np.float32)
    ref = reference(img, img, r, eps, mode)
    res = guided(img, radius=r, eps=eps, mode=mode)
    assert res.dtype == np.float32
    np.testing.assert_allclose(res, ref, rtol=0, atol=2e-3)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("r,eps", [(3, 100.0), (8, 650.25)])
def test_colour_guide_photo(photo, mode, r, eps):
    img = photo[120:300, 100:330].astype(np.float32)
    ref = reference(img, img, r, eps, mode)
    res = guided(img, radius=r, eps=eps, mode=mode)
    # float32 box means of a 3x3 covariance inverted per pixel: 1e-4 of the range.
    np.testing.assert_allclose(res, ref, rtol=0, atol=0.03)
    assert np.abs(res - ref).mean() < 1e-3


def test_uint8_rounds_the_transcription(photo):
    ref = reference(photo, photo, 6, 500.0, "reflect")
    res = guided(photo, radius=6, eps=500.0)
    assert res.dtype == np.uint8
    diff = np.abs(res.astype(int) - np.clip(np.rint(ref), 0, 255))
    assert diff.max() <= 1 and np.count_nonzero(diff) <= diff.size // 1000


def test_grey_guide_for_a_colour_image_and_float64(photo):
    img = photo[:150, :170].astype(np.float64) / 255
    guide = img.mean(axis=2)
    ref = reference(img, guide, 4, 1e-3, "reflect")
    res = guided(img, guide, radius=4, eps=1e-3)
    assert res.dtype == np.float64
    np.testing.assert_allclose(res, ref, rtol=0, atol=1e-9)
    np.testing.assert_allclose(guided(img, guide[..., None], radius=4, eps=1e-3), res)


def test_colour_guide_for_a_grey_image(photo):
    img = photo[:120, :140, 1].astype(np.float64)
    ref = reference(img, photo[:120, :140], 5, 300.0, "symmetric")
    np.testing.assert_allclose(
        guided(img, photo[:120, :140], radius=5, eps=300.0, mode="symmetric"), ref, atol=1e-8
    )


def test_uint16_default_eps_is_the_8bit_default_scaled(photo):
    """eps=None is 0.01 of the guide's range squared, whatever its depth."""
    g8 = photo[:100, :100, 0]
    g16 = g8.astype(np.uint16) * 257
    r8 = guided(g8.astype(np.float32), g8, radius=4)
    r16 = guided(g8.astype(np.float32), g16, radius=4)
    np.testing.assert_allclose(r8, r16, atol=2e-3)
    ref = reference(g8.astype(np.float64), g8, 4, 0.01 * 255**2, "reflect")
    np.testing.assert_allclose(r8, ref, atol=2e-3)


def test_radius_larger_than_image():
    rng = np.random.default_rng(0)
    img = rng.random((5, 7))
    for mode in MODES:
        np.testing.assert_allclose(
            guided(img, radius=9, eps=0.01, mode=mode), reference(img, img, 9, 0.01, mode), atol=1e-9
        )


def test_edges_preserved_noise_removed():
    rng = np.random.default_rng(4)
    step = np.zeros((40, 40))
    step[:, 20:] = 1.0
    noisy = step + rng.normal(0, 0.05, step.shape)
    res = guided(noisy, step, radius=4, eps=1e-3)
    assert np.abs(res - step)[:, 2:-2].std() < 0.3 * (noisy - step).std()
    assert res[:, 19].mean() < 0.2 and res[:, 20].mean() > 0.8


# --------------------------------------------------------------------------
# OpenCV-contrib (only where it installs: it conflicts with opencv-python-headless)
# --------------------------------------------------------------------------


def _ximgproc():
    cv2 = pytest.importorskip("cv2")
    if not hasattr(cv2, "ximgproc"):
        pytest.skip("opencv-contrib (cv2.ximgproc) is not installed")
    return cv2


@pytest.mark.parametrize("eps", [100.0, 650.25])
def test_equals_ximgproc_guided_filter(photo, eps):
    cv2 = _ximgproc()
    ref = cv2.ximgproc.guidedFilter(photo, photo, 8, eps, dDepth=cv2.CV_32F)
    res = guided(photo.astype(np.float32), radius=8, eps=eps, mode="symmetric")
    np.testing.assert_allclose(res, ref, atol=0.03)
    ref8 = cv2.ximgproc.guidedFilter(photo, photo, 8, eps)
    diff = np.abs(guided(photo, radius=8, eps=eps, mode="symmetric").astype(int) - ref8)
    assert diff.max() <= 1 and np.count_nonzero(diff) <= diff.size // 1000
    grey = photo[..., 1]
    ref = cv2.ximgproc.guidedFilter(grey, grey, 8, eps, dDepth=cv2.CV_32F)
    np.testing.assert_allclose(
        guided(grey.astype(np.float32), radius=8, eps=eps, mode="symmetric"), ref, atol=0.01
    )


# --------------------------------------------------------------------------
# shapes, alpha, errors
# --------------------------------------------------------------------------


@given(
    img=hnp.arrays(np.float64, st.tuples(st.integers(1, 9), st.integers(1, 9)), elements=st.floats(0, 1)),
    r=st.integers(1, 4),
    eps=st.floats(1e-3, 1.0),
    mode=st.sampled_from(MODES),
    colour=st.booleans(),
)
def test_hypothesis_odd_shapes(img, r, eps, mode, colour):
    guide = np.dstack([img, img[::-1] if img.shape[0] > 1 else img, 1 - img]) if colour else img
    ref = reference(img, guide, r, eps, mode)
    np.testing.assert_allclose(guided(img, guide, radius=r, eps=eps, mode=mode), ref, atol=1e-7)


def test_alpha_passes_through(photo):
    rgba = np.dstack([photo[:60, :70], np.arange(60 * 70, dtype=np.uint8).reshape(60, 70)])
    res = guided(rgba, radius=3, eps=100.0, alpha=True)
    np.testing.assert_array_equal(res[..., 3], rgba[..., 3])
    np.testing.assert_array_equal(res[..., :3], guided(photo[:60, :70], radius=3, eps=100.0))


def test_facade_export():
    assert imgfilter.guided is guided


def test_bad_options(photo):
    with pytest.raises(OptionError, match="radius"):
        guided(photo, radius=0)
    with pytest.raises(TypeError, match="radius"):
        guided(photo, radius=2.5)
    with pytest.raises(OptionError, match="eps"):
        guided(photo, eps=-1)
    with pytest.raises(ValueError, match="guide"):
        guided(photo, photo[:10])
    with pytest.raises(ValueError, match="3 channels"):
        guided(np.zeros((5, 5, 4)))


@pytest.mark.parametrize("channels", [None, 3])
def test_self_guided_shortcut_equals_the_general_path(photo, channels):
    img = (photo[:90, :110] if channels else photo[:90, :110, 0]).astype(np.float32)
    np.testing.assert_allclose(
        guided(img, radius=5, eps=200.0), guided(img, img.copy(), radius=5, eps=200.0), rtol=0, atol=2e-3
    )
