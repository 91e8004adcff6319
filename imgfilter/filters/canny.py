"""Canny edge detection, scikit-image's algorithm on the shared core and engine.

The steps are those of ``skimage.feature.canny``: a Gaussian blur (the core's
separable pass; in ``"constant"`` mode or with a mask divided by the blur of
the valid pixels, skimage's "bleed-over" normalization), the Sobel gradient,
non-maximum suppression across the edge with bilinear interpolation, and
hysteresis: a weak pixel (a local maximum >= ``low``) is an edge when it is
8-connected through weak pixels to a strong one (>= ``high``). The gradient,
the suppression and the thresholds run in one compiled pass per band of rows
(``_engine.canny_nms``), the hysteresis as a flood fill with an explicit
stack (``_engine.canny_hysteresis``).
"""

from __future__ import annotations

import numpy as np

from .. import _engine
from ..core.buffers import empty
from ..core.linear import run_linear
from ..core.names import OptionError
from ..core.options import check_image, float_dtype, normalize_mode, plan_window
from ..core.tiles import run_bands
from ..kernels import gaussian_kernel1d
from ._dispatch import dispatch


def _dtype_max(dtype: np.dtype) -> float:
    """skimage's ``dtype_limits(clip_negative=False)[1]``: 1 for floats and bool."""
    if dtype.kind in "iu":
        return float(np.iinfo(dtype).max)
    return 1.0


def _number(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    v = float(value)
    if np.isnan(v):
        raise OptionError(f"{name} must not be NaN")
    return v


def _thresholds(low, high, use_quantiles: bool, dmax: float) -> tuple[float, float]:
    if use_quantiles:
        lo = 0.1 if low is None else _number(low, "low")
        hi = 0.2 if high is None else _number(high, "high")
        for name, q in (("low", lo), ("high", hi)):
            if not 0.0 <= q <= 1.0:
                raise OptionError(f"with use_quantiles=True, {name} is a quantile in [0, 1], got {q!r}")
    else:
        lo = 0.1 * dmax if low is None else _number(low, "low")
        hi = 0.2 * dmax if high is None else _number(high, "high")
    if hi < lo:
        raise OptionError(f"high must be >= low, got low={lo!r}, high={hi!r}")
    return lo, hi


def _sigma(sigma) -> float:
    s = _number(sigma, "sigma")
    if not (np.isfinite(s) and s >= 0):
        raise OptionError(f"sigma must be >= 0 (0: no smoothing), got {sigma!r}")
    return s


def _check_mask(mask, shape) -> np.ndarray:
    m = np.asarray(mask)
    if m.shape != shape:
        raise ValueError(f"mask must have the image's shape {shape}, got {m.shape}")
    if m.dtype != bool:
        m = m.astype(bool)
    return m


def _erode(mask: np.ndarray) -> np.ndarray:
    """3x3 erosion with False beyond the border (scipy's binary_erosion, border_value=0)."""
    h, w = mask.shape
    padded = np.zeros((h + 2, w + 2), dtype=bool)
    padded[1:-1, 1:-1] = mask
    out = mask.copy()
    for dy in range(3):
        for dx in range(3):
            out &= padded[dy : dy + h, dx : dx + w]
    return out


def _blur(x: np.ndarray, factor: np.ndarray, mode: str, dtype: np.dtype, threads) -> np.ndarray:
    # Shape only: the separable passes fold a factor longer than the image and
    # never build the dense kernel (sigma 1e5's would be 4.7 TiB).
    kernel = np.broadcast_to(1.0, (len(factor), len(factor)))
    plan = plan_window(x.shape, kernel.shape, "same", 1, 1)
    return run_linear(x, kernel, plan, mode, 0.0, dtype, threads, factors=[factor, factor])


def _bleed_1d(n: int, factor: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """The blur of a line of n ones with zeros beyond it: one axis of the bleed-over."""
    r = len(factor) // 2
    ones = np.zeros(n + 2 * r)
    ones[r : r + n] = 1.0
    return np.correlate(ones, factor, mode="valid").astype(dtype)


def _smooth(arr, sigma, mode, mask, dtype, threads):
    """The smoothed image and, where skimage normalizes it, the 1-D bleed-over factors."""
    factor = gaussian_kernel1d(sigma, 0, int(4.0 * sigma + 0.5)) if sigma > 0 else None
    h, w = arr.shape
    if mask is not None:
        masked = np.where(mask, arr, 0)
        weight = mask.astype(dtype)
        if factor is None:
            smoothed, bleed = masked.astype(dtype), weight
        else:
            smoothed, bleed = (
                _blur(masked, factor, mode, dtype, threads),
                _blur(weight, factor, mode, dtype, threads),
            )
        bleed += np.finfo(dtype).eps
        smoothed /= bleed
        return np.ascontiguousarray(smoothed), None, None
    smoothed = arr.astype(dtype) if factor is None else _blur(arr, factor, mode, dtype, threads)
    if mode != "constant":
        return np.ascontiguousarray(smoothed), None, None
    f = np.ones(1) if factor is None else factor
    return np.ascontiguousarray(smoothed), _bleed_1d(h, f, dtype), _bleed_1d(w, f, dtype)


def canny_footprint(shape, *, sigma=1.0, **_):
    """What one pixel's weak/strong class reads (hysteresis reaches further: see ``_dask``)."""
    from .canny_chunked import classes_footprint

    return classes_footprint(shape, sigma=_sigma(sigma))


def _dask(fn, footprint, arguments):
    """The dispatcher's Dask hook: the exact cross-chunk hysteresis of :mod:`.canny_chunked`."""
    from .canny_chunked import canny_dask

    return canny_dask(arguments, batch=getattr(fn, "axes", None) is not None)


@dispatch(canny_footprint, alpha="none", missing=True, channels=False, chunked=_dask)
def canny(
    image: np.ndarray,
    *,
    sigma: float = 1.0,
    low: float | None = None,
    high: float | None = None,
    l2: bool = True,
    mask: object = None,
    use_quantiles: bool = False,
    mode: str = "constant",
    threads: int | None = None,
    axes: object = None,
) -> np.ndarray:
    """Canny edges of a grey image, as ``skimage.feature.canny``.

    Gaussian blur (``sigma``), Sobel gradient, non-maximum suppression across
    the edge (bilinear between the two neighbours the gradient points
    between), then hysteresis: local maxima of at least ``high`` are edges,
    and so are those of at least ``low`` 8-connected to them through others.
    The outer one-pixel ring is never an edge (as scikit-image).

    Parameters
    ----------
    image : array_like or PIL image
        (H, W), any integer, bool or float dtype (convert colour first, e.g.
        with :func:`imgfilter.luminance`). A PIL image is read as
        :func:`imgfilter.imread` reads a file; a ``numpy.ma.MaskedArray``
        takes its unmasked pixels as ``mask=``; a ``dask.array.Array``
        gives a lazy Dask array equal to the NumPy result (see Notes).
    sigma : float, optional
        The Gaussian's standard deviation in pixels; 0 skips the blur.
    low, high : float, optional
        Hysteresis thresholds on the Sobel magnitude
        (|[[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]] * smoothed|) in the image's units:
        default 0.1 and 0.2 times the dtype's maximum (25.5 and 51 for uint8,
        0.1 and 0.2 for floats), as scikit-image; ``high >= low``. The same
        numbers as OpenCV's ``Canny`` thresholds for 8-bit images.
    l2 : bool, optional
        Magnitude sqrt(x² + y²) (scikit-image, OpenCV's ``L2gradient=True``);
        False: |x| + |y| (OpenCV's default).
    mask : array_like of bool, optional
        (H, W), True where edges may be: the blur uses only masked pixels
        (normalized by their weight) and edges stay one pixel inside the mask.
    use_quantiles : bool, optional
        ``low`` and ``high`` are quantiles in [0, 1] of the magnitude image
        (defaults 0.1 and 0.2).
    mode : str, optional
        The blur's border mode (default ``"constant"``, scikit-image's
        default: zeros beyond the border, and the blur divided by the
        blur of the image's support, so the border does not darken). Names
        as in :func:`imgfilter.correlate` (skimage's "reflect" is our
        ``"symmetric"``, its "mirror" our ``"reflect"``, "nearest" ``"edge"``).
    threads : int, optional
        Worker threads for the blur and the gradient pass.
    axes : (int, int), optional
        Which two axes are spatial (rows, columns), as in SciPy >= 1.11:
        every other axis is a batch of grey images, each one's edges on
        its own (an (N, H, W) stack takes ``axes=(1, 2)``). The result
        keeps the input's axis order.

    Returns
    -------
    ndarray of bool
        (H, W) (the image's shape with ``axes=``), True on edges.

    Notes
    -----
    On float64 and float32 images the steps after the blur repeat
    scikit-image's arithmetic operation for operation (in the image's float
    type); the blur sums its taps in another order than SciPy, so the
    smoothed values may differ in the last bit and a pixel whose magnitude
    ties a threshold or a neighbour to that bit may differ (none on the
    sample photos). Integer images are smoothed in float32 (float64 for 32-
    and 64-bit integers) in their own units, where scikit-image divides by
    the dtype's maximum and works in float64: the same edges up to such
    ties. OpenCV's ``Canny`` (8-bit only) has no blur (``sigma=0`` here), a
    replicated border, and picks the neighbours across the edge by the
    nearest of four directions instead of interpolating; on photos the edge
    maps agree to a few percent of the edge pixels.

    A ``dask.array.Array`` gives a lazy Dask array equal to the NumPy result
    (for any chunking), although hysteresis links pixels across chunks: each
    chunk's weak/strong map is computed from its chunk plus a halo of the
    blur's radius + 2, labelled on its own, and the labels are joined across
    chunk borders by a union-find before one pass keeps the components that
    hold a strong pixel (see :mod:`imgfilter.filters.canny_chunked`).
    ``use_quantiles`` is refused there (it needs the whole magnitude image).

    Examples
    --------
    >>> import numpy as np
    >>> square = np.zeros((16, 16)); square[4:12, 4:12] = 1.0
    >>> edges = canny(square, sigma=1.0)
    >>> bool(edges[4, 8]), bool(edges[8, 8])
    (True, False)
    """
    s = _sigma(sigma)
    mode = normalize_mode(mode)
    cls = edge_classes(
        image,
        sigma=s,
        low=low,
        high=high,
        l2=l2,
        mask=mask,
        use_quantiles=use_quantiles,
        mode=mode,
        threads=threads,
    )
    _engine.canny_hysteresis(cls, *cls.shape)
    return cls.view(bool)


def edge_classes(
    image, *, sigma, low, high, l2, mask, use_quantiles, mode, threads, direct_u8: bool = True
) -> np.ndarray:
    """Canny up to the hysteresis: 0, 1 (weak) or 2 (strong) per pixel, uint8.

    ``direct_u8``: at sigma 0, a uint8 image without a mask goes to the
    engine as it is (``canny_nms_u8``), which gives the bits of its float32
    cast: with integer Sobel sums where no border normalization divides it
    (every mode but ``"constant"``), else casting row by row. False takes the
    cast (the general path, kept to test the two against each other).
    """
    arr = check_image(image)
    if arr.ndim != 2:
        raise ValueError(
            f"canny needs a grey (H, W) image, got shape {arr.shape}; convert colour first "
            "(imgfilter.luminance)"
        )
    s = _sigma(sigma)
    lo, hi = _thresholds(low, high, bool(use_quantiles), _dtype_max(arr.dtype))
    mode = normalize_mode(mode)
    m = None if mask is None else _check_mask(mask, arr.shape)
    dtype = float_dtype(arr.dtype)
    direct = direct_u8 and s == 0 and arr.dtype == np.uint8 and m is None
    if direct:
        smoothed, vscale, hscale = np.ascontiguousarray(arr), None, None
        if mode == "constant":
            vscale, hscale = (_bleed_1d(n, np.ones(1), dtype) for n in arr.shape)
    else:
        smoothed, vscale, hscale = _smooth(arr, s, mode, m, dtype, threads)
    emask = None if m is None else np.ascontiguousarray(_erode(m), dtype=np.uint8)
    rows, cols = arr.shape
    eps = float(np.finfo(dtype).eps)
    row_bytes = cols * (dtype.itemsize * 3 + 1)
    kernel = _engine.canny_nms_u8 if direct else _engine.canny_nms

    def nms(lo_, hi_, mag=None):
        cls = empty((rows, cols), dtype=np.uint8)

        def work(r0: int, r1: int) -> None:
            kernel(smoothed, cls, rows, cols, r0, r1, lo_, hi_, bool(l2), vscale, hscale, eps, emask, mag)

        run_bands(rows, row_bytes, work, threads=threads)
        return cls

    if use_quantiles:
        mag = empty((rows, cols), dtype=dtype)
        nms(0.0, 0.0, mag)
        lo, hi = (float(v) for v in np.percentile(mag, [100.0 * lo, 100.0 * hi]))
    else:
        # skimage compares the magnitudes with a Python float, which NumPy
        # takes in the array's type; its quantiles are float64 and stay so.
        hi = float(dtype.type(hi))
    return nms(lo, hi)
