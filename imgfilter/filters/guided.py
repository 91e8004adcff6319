"""The guided filter of He, Sun and Tang (ECCV 2010; PAMI 2013).

An edge-preserving smoother that is a local linear model of a guide ``I``:
in every (2r+1)^2 window ``q = a I + b`` with ``a`` the regression slope of
the input ``p`` on ``I`` damped by ``eps``; each pixel averages the models
of the windows covering it. Everything is box means (the core's running
sums), so the cost does not depend on the radius.

Grey guide (Algorithm 1 of the paper)::

    mean_I, mean_p, corr_I, corr_Ip = f(I), f(p), f(I*I), f(I*p)
    a = (corr_Ip - mean_I mean_p) / (corr_I - mean_I**2 + eps)
    b = mean_p - a mean_I
    q = f(a) I + f(b)

Colour guide: ``a`` is the 3-vector ``(Sigma + eps U)^-1 cov(I, p)`` with
``Sigma`` the 3x3 covariance of the guide's channels in the window
(inverted in closed form, by cofactors, per pixel).

The guide and the input are shifted by a mean per channel (of a sample of
the pixels) before the box sums (the model is shift-invariant: ``a`` does
not change, ``b`` absorbs the shift), so float32 sums of squares keep their
precision. The pointwise algebra between the box means runs a few rows at a
time, its temporaries in cache.
"""

from __future__ import annotations

import numpy as np

from ..core.alpha import keep_alpha, resolve_alpha
from ..core.linear import run_linear
from ..core.names import OptionError
from ..core.options import check_image, float_dtype, normalize_mode, plan_window
from ..core.values import cast_like


def _radius(radius: object) -> int:
    if isinstance(radius, (bool, np.bool_)) or not isinstance(radius, (int, np.integer)):
        raise TypeError(f"radius must be an int, got {radius!r}")
    if radius < 1:
        raise OptionError(f"radius must be >= 1, got {radius}")
    return int(radius)


def _eps(eps: object, guide: np.ndarray) -> float:
    if eps is None:
        dt = guide.dtype
        top = float(np.iinfo(dt).max) if dt.kind in "iu" else 1.0
        return 0.01 * top * top
    try:
        e = float(eps)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise TypeError(f"eps must be a number, got {eps!r}") from None
    if not (np.isfinite(e) and e > 0):
        raise OptionError(f"eps must be > 0, got {eps!r}")
    return e


def _box_mean(x: np.ndarray, r: int, mode: str, dtype: np.dtype, threads, fill: float = 0.0) -> np.ndarray:
    """Mean over the (2r+1)^2 box of one (H, W) plane, in ``dtype`` (``fill`` beyond a constant border)."""
    k = 2 * r + 1
    plan = plan_window(x.shape, (k, k), "same", 1, 1)
    ones = np.ones(k)
    return run_linear(
        x, np.ones((k, k)), plan, mode, float(fill), dtype, threads, factors=[ones, ones], divide=float(k * k)
    )


def _inverse3(s: list[np.ndarray]) -> tuple[list[np.ndarray], np.ndarray]:
    """Cofactors and determinant of symmetric 3x3 matrices given as planes xx, xy, xz, yy, yz, zz."""
    xx, xy, xz, yy, yz, zz = s
    cof = [
        yy * zz - yz * yz,
        xz * yz - xy * zz,
        xy * yz - xz * yy,
        xx * zz - xz * xz,
        xy * xz - xx * yz,
        xx * yy - xy * xy,
    ]
    det = xx * cof[0] + xy * cof[1] + xz * cof[2]
    return cof, det


# Rows per step of the pointwise work: its temporaries stay in cache (and
# are not fresh pages of a whole-image allocation at every operation).
_ROWS = 32
_FULL = [[0, 1, 2], [1, 3, 4], [2, 4, 5]]  # (i, j) -> index of the pair in xx, xy, xz, yy, yz, zz


def _filter(
    p: np.ndarray, guide: np.ndarray, r: int, eps: float, mode: str, dtype, threads, same: bool = False
) -> np.ndarray:
    """q for every channel of ``p`` (H, W, C) with a guide (H, W, G), G = 1 or 3; floats in ``dtype``.

    Planes, not interleaved channels: the box means are whole planes through
    the core, the pointwise algebra between them runs a few rows at a time.
    ``same``: ``p`` is the guide, whose means and covariances then serve as
    the input's too (9 + 12 box means for RGB instead of 21 + 12).
    """
    h = p.shape[0]
    c = p.shape[2]
    g = guide.shape[2]
    eps_t = dtype.type(eps)

    def box(x, fill=0.0):
        return _box_mean(x, r, mode, dtype, threads, fill)

    def plane(x, k):
        """Channel k in ``dtype``, less a shift near its values (the mean of a sample of them)."""
        out = x[..., k].astype(dtype)
        shift = float(out[::7, ::7].mean(dtype=np.float64))
        out -= dtype.type(shift)
        return out, shift

    ip, ishift = zip(*(plane(guide, i) for i in range(g)), strict=True)
    pshift = ishift if same else [float(p[::7, ::7, k].mean(dtype=np.float64)) for k in range(c)]
    # Beyond a constant border lie pixels of value 0 (guide and input), and
    # the paper's box means of a and b see 0 there too: in the shifted
    # values, -shift, shift products, and b' = b - shift_p + a shift_I.
    m_i = [box(x, -ishift[i]) for i, x in enumerate(ip)]
    pairs = [(i, j) for i in range(g) for j in range(i, g)]
    corr = [box(ip[i] * ip[j], ishift[i] * ishift[j]) for i, j in pairs]
    if same:
        m_p, corr_p = m_i, None
    else:
        m_p, corr_p = [], []
        for k in range(c):
            pk = p[..., k].astype(dtype)
            pk -= dtype.type(pshift[k])
            m_p.append(box(pk, -pshift[k]))
            corr_p.append([box(ip[i] * pk, ishift[i] * pshift[k]) for i in range(g)])
            del pk
    # a (per channel, per guide channel) and b, filled a band of rows at a time.
    coef_a = [[np.empty(ip[0].shape, dtype) for _ in range(g)] for _ in range(c)]
    coef_b = [np.empty(ip[0].shape, dtype) for _ in range(c)]
    for r0 in range(0, h, _ROWS):
        rows = slice(r0, min(r0 + _ROWS, h))
        mi = [m[rows] for m in m_i]
        raw = {}
        for (i, j), cr in zip(pairs, corr, strict=True):
            v = cr[rows] - mi[i] * mi[j]
            raw[i, j] = raw[j, i] = v
        if g == 1:
            var = raw[0, 0] + eps_t
        else:
            sig = [raw[i, j] + eps_t if i == j else raw[i, j] for i, j in pairs]
            cof, det = _inverse3(sig)
            np.reciprocal(det, out=det)
        for k in range(c):
            mp = mi[k] if same else m_p[k][rows]
            if same:
                cov = [raw[i, k] for i in range(g)]
            else:
                cov = [corr_p[k][i][rows] - mi[i] * mp for i in range(g)]
            b = coef_b[k][rows]
            np.copyto(b, mp)
            if g == 1:
                a = coef_a[k][0][rows]
                np.divide(cov[0], var, out=a)
                b -= a * mi[0]
                continue
            for i in range(3):
                a = coef_a[k][i][rows]
                f = _FULL[i]
                np.multiply(cof[f[0]], cov[0], out=a)
                a += cof[f[1]] * cov[1]
                a += cof[f[2]] * cov[2]
                a *= det
                b -= a * mi[i]
    del corr, corr_p
    mean_a = [[box(x) for x in row] for row in coef_a]
    mean_b = [box(b, -pshift[k]) for k, b in enumerate(coef_b)]
    del coef_a, coef_b
    q = np.empty(p.shape, dtype)
    for r0 in range(0, h, _ROWS):
        rows = slice(r0, min(r0 + _ROWS, h))
        for k in range(c):
            out = mean_b[k][rows] + dtype.type(pshift[k])
            for i in range(g):
                out += mean_a[k][i][rows] * ip[i][rows]
            q[rows, :, k] = out
    return q


def guided(
    image: np.ndarray,
    guide: np.ndarray | None = None,
    *,
    radius: int = 8,
    eps: float | None = None,
    mode: str = "reflect",
    alpha: bool | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """Guided filter (He, Sun and Tang 2010): edge-preserving smoothing led by a guide.

    Each channel of ``image`` follows the edges of ``guide`` (the image
    itself by default): flat where the guide is flat, sharp where it has
    edges of variance well above ``eps``. Grey (1-channel) and colour
    (3-channel) guides, the latter with the paper's 3x3 covariance per
    pixel. O(1) in the radius (box means by running sums).

    Equal, to float32 rounding, to a float64 transcription of the paper's
    algorithm with ``scipy.ndimage.uniform_filter`` (mode as below), and to
    OpenCV-contrib's ``cv2.ximgproc.guidedFilter(guide, image, radius, eps)``
    with ``mode="symmetric"`` (OpenCV's BORDER_REFLECT).

    Parameters
    ----------
    image : array_like
        (H, W) or (H, W, C), any channels; each is filtered.
    guide : array_like, optional
        (H, W), (H, W, 1) or (H, W, 3), the image's spatial shape. Default:
        the image (its colour channels when it has alpha); an image with 2
        or more than 3 channels needs an explicit guide.
    radius : int, optional
        Window radius r >= 1: windows of (2r + 1) x (2r + 1).
    eps : float, optional
        Regularization, a variance in the guide's own units squared, as
        OpenCV takes it (for an 8-bit guide 0..255 units: eps=100 damps
        edges of standard deviation below about 10 levels). Default: 0.01
        of the guide's full range squared, the paper's 0.1**2 for guides in
        0..1: 0.01 for float guides, 0.01 * 255**2 for 8-bit, 0.01 *
        65535**2 for 16-bit ones.
    mode : str, optional
        Border mode of the box means, as in :func:`imgfilter.correlate`.
    alpha : bool, optional
        Whether the image's last channel is alpha (default: not for a numpy
        array): alpha passes through unfiltered.
    threads : int, optional
        Worker threads.

    Returns
    -------
    ndarray
        The image's dtype (integers rounded to nearest and clipped);
        computed in float32 (float64 for float64 and 32/64-bit integers).

    Examples
    --------
    >>> import numpy as np
    >>> step = np.repeat([[0.0] * 4 + [1.0] * 4], 8, axis=0)
    >>> noisy = step + np.tile([0.02, -0.02], 32).reshape(8, 8)
    >>> out = guided(noisy, step, radius=2, eps=1e-4)
    >>> float(np.abs(out - step).max()) < 0.5 * float(np.abs(noisy - step).max())
    True
    """
    arr = check_image(image)
    alpha = resolve_alpha(image, arr, alpha)
    r = _radius(radius)
    mode = normalize_mode(mode)
    if arr.ndim not in (2, 3):
        raise ValueError(f"image must be (H, W) or (H, W, C), got shape {arr.shape}")

    def run(colour: np.ndarray) -> np.ndarray:
        g = colour if guide is None else check_image(guide, "guide")
        if g.shape[:2] != colour.shape[:2]:
            raise ValueError(
                f"guide has shape {g.shape}, expected the image's spatial shape {colour.shape[:2]}"
            )
        g3 = g if g.ndim == 3 else g[..., None]
        if g3.ndim != 3 or g3.shape[2] not in (1, 3):
            raise ValueError(
                f"guide must have 1 or 3 channels, got shape {g.shape}; pass guide= explicitly "
                "(e.g. the image's first three channels or its luminance)"
            )
        e = _eps(eps, g3)
        dtype = (
            np.dtype(np.float64)
            if np.float64 in (float_dtype(colour.dtype), float_dtype(g3.dtype))
            else np.dtype(np.float32)
        )
        p3 = colour if colour.ndim == 3 else colour[..., None]
        q = _filter(p3, g3, r, e, mode, dtype, threads, same=guide is None)
        q = cast_like(q, colour.dtype)
        return q if colour.ndim == 3 else q[..., 0]

    return keep_alpha(arr, run, alpha)
