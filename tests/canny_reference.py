"""A NumPy/SciPy transcription of scikit-image's Canny: the oracle of the tests.

``skimage.feature.canny`` with its Cython non-maximum suppression rewritten
as whole-array NumPy operations in the same types (the weight in the image's
float type, one product in double, the low threshold as a C float), and its
hysteresis by ``scipy.ndimage.label``. ``test_canny.py`` checks this against
scikit-image itself, and the engine against this.
"""

from __future__ import annotations

import numpy as np
import scipy.ndimage as ndi


def sobel_gradients(smoothed: np.ndarray):
    """(isobel, jsobel, magnitude) as skimage computes them (scipy's "reflect")."""
    jsobel = ndi.sobel(smoothed, axis=1)
    isobel = ndi.sobel(smoothed, axis=0)
    magnitude = isobel * isobel
    magnitude += jsobel * jsobel
    np.sqrt(magnitude, out=magnitude)
    return isobel, jsobel, magnitude


def nms_classes(isobel, jsobel, magnitude, eroded_mask, low, high, magnitude_for_nms=None):
    """0 / 1 (weak) / 2 (strong) per pixel, as skimage's NMS and thresholds."""
    mag = magnitude if magnitude_for_nms is None else magnitude_for_nms
    t = mag.dtype
    h, w = mag.shape
    out = np.zeros((h, w), dtype=np.uint8)
    if h < 3 or w < 3:
        return out
    lowf = np.float32(low)
    if lowf == 0:
        lowf = np.float32(1e-14)

    def view(dy, dx):
        return mag[1 + dy : h - 1 + dy, 1 + dx : w - 1 + dx]

    c = view(0, 0)
    i = isobel[1:-1, 1:-1]
    j = jsobel[1:-1, 1:-1]
    cand = eroded_mask[1:-1, 1:-1].astype(bool) & (c.astype(np.float64) >= np.float64(lowf))
    down, left = i <= 0, j <= 0
    cond1 = (~down & ~left) | (down & left)
    ai, aj = np.abs(i), np.abs(j)
    a = cond1 & (ai > aj)
    b = cond1 & ~(ai > aj)
    cc = ~cond1 & (ai < aj)
    d = ~cond1 & ~(ai < aj)
    with np.errstate(divide="ignore", invalid="ignore"):
        wt = np.where(a | d, aj / ai, ai / aj).astype(t)
    cases = [
        (a, (1, 0), (1, 1), (-1, 0), (-1, -1)),
        (b, (0, 1), (1, 1), (0, -1), (-1, -1)),
        (cc, (0, 1), (-1, 1), (0, -1), (1, -1)),
        (d, (-1, 0), (-1, 1), (1, 0), (1, -1)),
    ]
    n11, n12, n21, n22 = (np.zeros_like(c) for _ in range(4))
    for sel, p11, p12, p21, p22 in cases:
        n11[sel] = view(*p11)[sel]
        n12[sel] = view(*p12)[sel]
        n21[sel] = view(*p21)[sel]
        n22[sel] = view(*p22)[sel]
    w64 = wt.astype(np.float64)
    c64 = c.astype(np.float64)
    with np.errstate(invalid="ignore"):
        plus = (n12 * wt).astype(np.float64) + n11.astype(np.float64) * (1.0 - w64) <= c64
        minus = (n22 * wt).astype(np.float64) + n21.astype(np.float64) * (1.0 - w64) <= c64
    keep = cand & plus & minus & (c > 0)
    inner = out[1:-1, 1:-1]
    inner[keep] = 1
    inner[keep & (c.astype(np.float64) >= high)] = 2
    return out


def hysteresis(classes: np.ndarray) -> np.ndarray:
    """Weak components (8-connected) that hold a strong pixel, by labelling."""
    low_mask = classes > 0
    labels, count = ndi.label(low_mask, np.ones((3, 3), bool))
    if count == 0:
        return low_mask
    good = np.zeros(count + 1, bool)
    good[np.unique(labels[classes == 2])] = True
    good[0] = False
    return good[labels]


def preprocess(image, mask, sigma, mode, cval=0.0):
    """skimage's smoothing with the bleed-over normalization (scipy mode names)."""
    from skimage.util import img_as_float

    float_type = np.float32 if image.dtype in (np.float32, np.float16) else np.float64
    kw = dict(sigma=sigma, mode=mode, cval=cval)

    def gaussian(x):
        if x.dtype.kind != "f":
            x = img_as_float(x)
        x = x.astype(float_type if x.dtype != np.float16 else np.float32, copy=False)
        return ndi.gaussian_filter(x, **kw)

    bleedover = mode == "constant" or mask is not None
    if mask is None:
        m = np.ones(image.shape, dtype=float_type)
        masked = image
        eroded = np.ones(image.shape, dtype=bool)
        eroded[:1, :] = eroded[-1:, :] = eroded[:, :1] = eroded[:, -1:] = False
    else:
        m = mask.astype(bool)
        masked = np.zeros_like(image)
        masked[m] = image[m]
        eroded = ndi.binary_erosion(m, ndi.generate_binary_structure(2, 2), border_value=0)
    smoothed = gaussian(masked)
    if bleedover:
        smoothed /= gaussian(m.astype(float_type)) + np.finfo(float_type).eps
    return smoothed, eroded


def canny(image, sigma=1.0, low=None, high=None, mask=None, use_quantiles=False, mode="constant"):
    """skimage.feature.canny, transcribed (float images: thresholds as given)."""
    dmax = float(np.iinfo(image.dtype).max) if image.dtype.kind in "iu" else 1.0
    lo = 0.1 if low is None else (low if use_quantiles else low / dmax)
    hi = 0.2 if high is None else (high if use_quantiles else high / dmax)
    smoothed, eroded = preprocess(image, mask, sigma, mode)
    isobel, jsobel, magnitude = sobel_gradients(smoothed)
    if use_quantiles:
        lo, hi = np.percentile(magnitude, [100.0 * lo, 100.0 * hi])
    else:
        hi = float(magnitude.dtype.type(hi))
    return hysteresis(nms_classes(isobel, jsobel, magnitude, eroded, lo, hi))
