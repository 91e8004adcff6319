"""Gaussian derivatives (LoG, gradient magnitude, DoG) and gradient operators.

Every filter here is one or two separable passes of the shared linear core
(:func:`imgfilter.core.linear.run_linear` with explicit 1-D factors) under the
one dispatcher (:func:`imgfilter.filters._dispatch.dispatch`), so border
modes, threads, ``axes=``, PIL images, MaskedArrays and Dask chunks behave as
in :func:`imgfilter.correlate`. Results are float: float32 for images of at
most 16 bits (and float32), float64 for 32- and 64-bit integers and float64
(:func:`imgfilter.core.dtypes.float_dtype`), in the image's own units. Alpha
passes through (policy ``"pass"``): signed values are not light to weight.

Missing pixels (``nan=``, ``mask=``). A derivative kernel's weights sum to
zero, so there is no valid weight to renormalize by. The rule instead:

- LoG, the gradient magnitude and :func:`gaussian_derivative` (so
  ``gaussian(order=)``) differentiate the image with each missing pixel
  filled by the nan-ignoring Gaussian of the same sigma (the normalized
  convolution of :mod:`imgfilter.core.masked`, as ``gaussian(nan="ignore")``
  gives it); valid pixels keep their values. That is astropy's
  ``convolve(nan_treatment="interpolate")`` fill followed by the plain
  derivative. The fill is computed at the holes only where that is the
  cheaper (:func:`imgfilter.filters.smooth.fill_holes`): the same values.
- :func:`difference_of_gaussians` is the difference of two nan-ignoring
  Gaussians.
- ``nan="keep"`` puts NaN back at the missing pixels; a missing pixel with
  no valid pixel within the Gaussian's radius is NaN (for every dtype: the
  results are float).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..core.dtypes import float_dtype
from ..core.footprint import Footprint
from ..core.linear import run_linear
from ..core.masked import NanHoles, check_nan, validity
from ..core.names import OptionError
from ..core.options import normalize_mode, plan_window
from ..kernels import OPERATORS, gaussian_kernel1d
from ._dispatch import dispatch
from ._docs import DOCS, fill
from .smooth import fill_holes, smooth_linear

GRADIENT_OUTPUTS = ("magnitude", "x", "y", "angle")

Sigma = float | Sequence[float]
Order = int | Sequence[int]

# Parameters of this module's filters, written once (with the shared ones of _docs).
_DOCS = {
    **DOCS,
    "sigma": """\
sigma : float or (float, float), optional
    Standard deviation in pixels (rows, columns; in the order of
    ``axes``), > 0.""",
    "mode_scipy": """\
mode : str, optional
    Border mode, as in :func:`imgfilter.correlate` (SciPy's "reflect" is
    our "symmetric", its "mirror" our "reflect", "nearest" our "edge").""",
    "cval": """\
cval : float, optional
    Value beyond the border in ``"constant"`` mode. The image is padded
    with it once (a true 2-D filter of the padded image); SciPy pads each
    1-D pass's intermediate result with it again, which differs from
    this for derivative orders when ``cval != 0``.""",
    "truncate": """\
truncate : float, optional
    Kernel radius in sigmas: ``int(truncate * sigma + 0.5)`` taps per side.""",
    "nan_derivative": """\
nan : {"propagate", "ignore", "keep"}, optional
    Missing pixels: ``"propagate"`` lets NaN spread over the kernel's
    reach (its nonzero taps); ``"ignore"`` fills each missing pixel (NaN,
    or masked out) with the Gaussian average of the valid pixels around
    it (as :func:`imgfilter.gaussian` with ``nan="ignore"``, the same
    sigma) and differentiates the filled image, so holes draw no edges of
    their own; ``"keep"`` also puts NaN back at the missing pixels. A
    missing pixel with no valid pixel within the Gaussian's radius stays
    NaN (and spreads).""",
    "nan_dog": """\
nan : {"propagate", "ignore", "keep"}, optional
    Missing pixels: ``"propagate"`` lets NaN spread over the kernels'
    reach; ``"ignore"`` subtracts two nan-ignoring Gaussians (each the
    average of the valid pixels under its window, as
    :func:`imgfilter.gaussian` with ``nan="ignore"``); ``"keep"`` also
    puts NaN back at the missing pixels. Where no pixel under a window is
    valid the result is NaN.""",
    "mask_float": """\
mask : array_like of bool, optional
    True = valid (spatial shape, broadcast over channels, or the image's
    shape), for any dtype: masked-out pixels are missing, treated as NaN
    pixels under ``nan="ignore"`` (``"keep"`` marks them NaN).""",
    "float_result": """\
ndarray
    float32 for 8/16-bit and float32 images, float64 for 32/64-bit
    integers and float64; the image's shape.""",
}


def _docfiller(fn):
    fn.__doc__ = fill(fn.__doc__, _DOCS)
    return fn


def _pair(value, name: str, check) -> tuple:
    values = tuple(value) if isinstance(value, Sequence) and not isinstance(value, str) else (value, value)
    if len(values) != 2:
        raise OptionError(f"{name} must be one value or (rows, columns), got {value!r}")
    return tuple(check(v) for v in values)


def _sigma(v) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise TypeError(f"sigma must be a number, got {v!r}")
    s = float(v)
    if not (np.isfinite(s) and s > 0):
        raise OptionError(f"sigma must be > 0, got {v!r}")
    return s


def _order(v) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or int(v) not in (0, 1, 2):
        raise OptionError(f"order must be 0, 1 or 2 (per axis), got {v!r}")
    return int(v)


def orders(order: Order) -> tuple[int, int]:
    """``order=`` checked, per spatial axis (rows, columns)."""
    return _pair(order, "order", _order)


def derivative_factors(sigma: Sigma, order: Order, truncate: float, ndim: int) -> list[np.ndarray]:
    """Correlation factors (rows, columns) of scipy's ``gaussian_filter(order=)``.

    SciPy convolves with :func:`~imgfilter.kernels.gaussian_kernel1d`, so the
    correlation factor is that kernel reversed (a first derivative is then
    positive where intensity rises). Radius ``int(truncate * sigma + 0.5)``.
    """
    sigmas = _pair(sigma, "sigma", _sigma)
    per_axis = orders(order)
    if not (
        isinstance(truncate, (int, float, np.integer, np.floating)) and np.isfinite(truncate) and truncate > 0
    ):
        raise OptionError(f"truncate must be > 0, got {truncate!r}")
    factors = [
        gaussian_kernel1d(s, o, int(truncate * s + 0.5))[::-1].copy()
        for s, o in zip(sigmas, per_axis, strict=True)
    ]
    return factors[: min(2, ndim)]


def _filter(arr: np.ndarray, factors, mode: str, cval: float, threads) -> np.ndarray:
    """One separable pass of the core over the leading axes, float result."""
    # Shape only: the separable passes fold long factors and never build the
    # dense kernel (an outer product of sigma 1e5's factors is 4.7 TiB).
    kernel = np.broadcast_to(1.0, tuple(len(f) for f in factors))
    plan = plan_window(arr.shape, kernel.shape, "same", 1, 1)
    dtype = float_dtype(arr.dtype)
    return run_linear(arr, kernel, plan, mode, float(cval), dtype, threads, factors=list(factors))


def _smooth_valid(x: np.ndarray, factors, valid, mode: str, cval: float, threads) -> np.ndarray:
    """The Gaussian of the valid pixels only (the core's normalized convolution), NaN where none.

    ``valid`` a :class:`NanHoles`: the missing pixels are x's NaNs, which the
    fused kernel finds band by band (no validity array); the same values."""
    # alpha=False: these bands are data (a 4-channel array is not RGBA here).
    kw = dict(mode=mode, cval=float(cval), alpha=False, threads=threads)
    if isinstance(valid, NanHoles):
        return smooth_linear(x, factors, nan="ignore", **kw)
    return smooth_linear(x, factors, mask=valid, **kw)


def _missing(nan: str, mask: object) -> bool:
    return check_nan(nan) != "propagate" or mask is not None


def _mark_missing(out: np.ndarray, valid: np.ndarray | None, nan: str) -> np.ndarray:
    if valid is not None and nan == "keep":
        out[~np.broadcast_to(valid, out.shape)] = np.nan
    return out


def _derivatives(
    arr: np.ndarray,
    sigma: Sigma,
    order_list: Sequence[Order],
    combine: Callable[[np.ndarray, np.ndarray], np.ndarray] | None,
    mode: str,
    cval: float,
    truncate: float,
    threads: int | None,
    nan: str,
    mask: object,
) -> np.ndarray:
    """The body of every Gaussian-derivative filter: the derivatives of
    ``order_list`` of the image (missing pixels filled first, see the module's
    doc), folded by ``combine``."""
    if len(order_list) > 1 and arr.ndim < 2:
        raise ValueError(f"image must be (H, W) or (H, W, C), got shape {arr.shape}")
    mode = normalize_mode(mode)
    factors = [derivative_factors(sigma, o, truncate, arr.ndim) for o in order_list]
    valid = validity(arr, nan, mask, lazy=True)  # NaN holes alone: a NanHoles
    x = arr
    if valid is not None:
        # Filled holes have no rim: a derivative of the raw zeros or NaN there
        # would draw the hole's outline into every result.
        smooth = derivative_factors(sigma, 0, truncate, arr.ndim)
        if isinstance(valid, NanHoles):
            # A float image: the smoothing is of its dtype; the image's own values where valid.
            x = fill_holes(arr, smooth, mode=mode, cval=cval, threads=threads)
        else:
            x = arr.astype(float_dtype(arr.dtype))
            np.copyto(x, _smooth_valid(x, smooth, valid, mode, cval, threads), where=~valid)
    out = _filter(x, factors[0], mode, cval, threads)
    for f in factors[1:]:
        out = combine(out, _filter(x, f, mode, cval, threads))
    return _mark_missing(out, valid, nan)


def _footprint(shape, factors_list, mode, missing: bool = False) -> Footprint:
    size = tuple(max(len(f[a]) for f in factors_list) for a in range(len(factors_list[0])))
    mode = normalize_mode(mode)
    if not missing:
        return Footprint(plan_window(tuple(shape), size, "same", 1, 1), mode)
    # The fill's Gaussian, then the derivative: their radii add. mode=None: a
    # Dask block's region is clipped at the image's edge and the filter borders
    # it itself, so the derivative reads the border of the *filled* image (a
    # region bordered first would fill its mirrored or repeated holes anew:
    # other sums, other values) and the blocks equal the whole image exactly.
    # Except "wrap", whose border is the far side (not at hand in a clipped
    # region): there the bordered region is a translation, the same sums.
    size = tuple(2 * s - 1 for s in size)
    return Footprint(plan_window(tuple(shape), size, "same", 1, 1), mode if mode == "wrap" else None)


def gaussian_derivative_footprint(
    shape, sigma=1.0, *, order=0, mode="reflect", truncate=4.0, nan="propagate", mask=None, **_
):
    factors = derivative_factors(sigma, order, truncate, len(shape))
    return _footprint(shape, [factors], mode, _missing(nan, mask))


@dispatch(gaussian_derivative_footprint, alpha="pass", missing=True, result="float")
@_docfiller
def gaussian_derivative(
    image: np.ndarray,
    sigma: Sigma = 1.0,
    *,
    order: Order = 0,
    mode: str = "reflect",
    cval: float = 0.0,
    truncate: float = 4.0,
    alpha: bool | None = None,
    threads: int | None = None,
    nan: str = "propagate",
    mask: object = None,
    linear: bool = False,
    axes: object = None,
) -> np.ndarray:
    """Gaussian blur or its derivatives, as ``scipy.ndimage.gaussian_filter(order=)``.

    ``order`` 0, 1 or 2 per axis (rows, columns): the convolution with the
    Gaussian's derivative of that order, the kernels of scipy.ndimage to
    the bit (:func:`imgfilter.kernels.gaussian_kernel1d`). ``order=(0, 1)``
    is d/dx (positive where intensity rises to the right), ``(1, 0)`` d/dy
    (rises downwards), ``(2, 0) + (0, 2)`` the Laplacian of Gaussian.
    :func:`imgfilter.gaussian` with ``order=`` is this filter for
    derivative orders; unlike it, the result here is float even for
    ``order=0``. SciPy gives integer images an integer result (a uint8
    derivative wraps around); here it is always the float work type.

    Parameters
    ----------
    %(image_missing)s
    %(sigma)s
    order : int or (int, int), optional
        Derivative order per axis, 0, 1 or 2.
    %(mode_scipy)s
    %(cval)s
    %(truncate)s
    %(alpha_pass)s
    %(threads)s
    %(nan_derivative)s
    %(mask_float)s
    linear : bool, optional
        Only False: a derivative is signed, not light, and cannot be
        encoded back to sRGB (decode first with :func:`imgfilter.core.srgb.decode`
        for derivatives of linear light).
    %(axes)s

    Returns
    -------
    %(float_result)s

    Examples
    --------
    >>> import numpy as np
    >>> ramp = np.tile(np.arange(20.0), (5, 1))
    >>> np.round(gaussian_derivative(ramp, 1.0, order=(0, 1))[2, 8:12], 3)
    array([1., 1., 1., 1.])
    """
    if linear:
        raise OptionError(
            "linear=True is not available for gaussian_derivative: it returns signed values, not light"
        )
    return _derivatives(image, sigma, (order,), None, mode, cval, truncate, threads, nan, mask)


def _hypot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # As scipy's generic_gradient_magnitude: square, add, root, in place.
    np.multiply(a, a, out=a)
    np.multiply(b, b, out=b)
    a += b
    return np.sqrt(a, out=a)


def _add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a += b
    return a


_FIRST = ((1, 0), (0, 1))
_SECOND = ((2, 0), (0, 2))


def _pair_footprint(order_list):
    def footprint(shape, sigma=1.0, *, mode="reflect", truncate=4.0, nan="propagate", mask=None, **_):
        factors = [derivative_factors(sigma, o, truncate, len(shape)) for o in order_list]
        return _footprint(shape, factors, mode, _missing(nan, mask))

    return footprint


@dispatch(_pair_footprint(_FIRST), alpha="pass", missing=True, result="float")
@_docfiller
def gaussian_gradient_magnitude(
    image: np.ndarray,
    sigma: Sigma = 1.0,
    *,
    mode: str = "reflect",
    cval: float = 0.0,
    truncate: float = 4.0,
    alpha: bool | None = None,
    threads: int | None = None,
    nan: str = "propagate",
    mask: object = None,
    axes: object = None,
) -> np.ndarray:
    """Gradient magnitude with Gaussian derivatives, as scipy.ndimage's.

    sqrt((d/dy)² + (d/dx)²) of :func:`gaussian_derivative` with orders
    (1, 0) and (0, 1), over the two spatial axes.

    Parameters
    ----------
    %(image_missing)s
    %(sigma)s
    %(mode_scipy)s
    %(cval)s
    %(truncate)s
    %(alpha_pass)s
    %(threads)s
    %(nan_derivative)s
    %(mask_float)s
    %(axes)s

    Returns
    -------
    %(float_result)s

    Examples
    --------
    >>> import numpy as np
    >>> ramp = np.tile(np.arange(20.0), (5, 1)) * 3
    >>> float(np.round(gaussian_gradient_magnitude(ramp, 1.0)[2, 10], 3))
    3.0
    """
    return _derivatives(image, sigma, _FIRST, _hypot, mode, cval, truncate, threads, nan, mask)


@dispatch(_pair_footprint(_SECOND), alpha="pass", missing=True, result="float")
@_docfiller
def gaussian_laplace(
    image: np.ndarray,
    sigma: Sigma = 1.0,
    *,
    mode: str = "reflect",
    cval: float = 0.0,
    truncate: float = 4.0,
    alpha: bool | None = None,
    threads: int | None = None,
    nan: str = "propagate",
    mask: object = None,
    axes: object = None,
) -> np.ndarray:
    """Laplacian of Gaussian (LoG), as ``scipy.ndimage.gaussian_laplace``.

    d²/dy² + d²/dx² of the Gaussian-smoothed image (orders (2, 0) and
    (0, 2)): negative on bright blobs of radius about sigma * sqrt(2).
    Multiply by sigma² for the scale-normalized LoG of blob detection.

    Parameters
    ----------
    %(image_missing)s
    %(sigma)s
    %(mode_scipy)s
    %(cval)s
    %(truncate)s
    %(alpha_pass)s
    %(threads)s
    %(nan_derivative)s
    %(mask_float)s
    %(axes)s

    Returns
    -------
    %(float_result)s

    Examples
    --------
    >>> import numpy as np
    >>> dot = np.zeros((15, 15)); dot[7, 7] = 1
    >>> bool(gaussian_laplace(dot, 2.0)[7, 7] < 0)
    True
    """
    return _derivatives(image, sigma, _SECOND, _add, mode, cval, truncate, threads, nan, mask)


def _dog_sigmas(low_sigma, high_sigma):
    low = _pair(low_sigma, "low_sigma", _sigma)
    if high_sigma is None:
        high = tuple(1.6 * s for s in low)
    else:
        high = _pair(high_sigma, "high_sigma", _sigma)
    if any(h < lo for h, lo in zip(high, low, strict=True)):
        raise OptionError(
            f"high_sigma must be >= low_sigma on every axis, got low_sigma={low_sigma!r}, "
            f"high_sigma={high_sigma!r}"
        )
    return low, high


def dog_footprint(shape, low_sigma=1.0, high_sigma=None, *, mode="reflect", truncate=4.0, **_):
    low, high = _dog_sigmas(low_sigma, high_sigma)
    pair = [derivative_factors(s, 0, truncate, len(shape)) for s in (low, high)]
    return _footprint(shape, pair, mode)


@dispatch(dog_footprint, alpha="pass", missing=True, result="float")
@_docfiller
def difference_of_gaussians(
    image: np.ndarray,
    low_sigma: Sigma = 1.0,
    high_sigma: Sigma | None = None,
    *,
    mode: str = "reflect",
    cval: float = 0.0,
    truncate: float = 4.0,
    alpha: bool | None = None,
    threads: int | None = None,
    nan: str = "propagate",
    mask: object = None,
    axes: object = None,
) -> np.ndarray:
    """Difference of Gaussians: a band-pass, ``G(low_sigma) - G(high_sigma)``.

    As ``skimage.filters.difference_of_gaussians``: ``high_sigma`` defaults to
    1.6 x ``low_sigma`` (the classic approximation of the LoG) and must not be
    smaller. Two differences to know: scikit-image first converts integer
    images to floats in 0..1 (``img_as_float``: uint8 / 255), whereas this
    keeps the image's units (so skimage's result times 255 for uint8), and
    its default border is "nearest" (our ``mode="edge"``).

    Parameters
    ----------
    %(image_missing)s
    low_sigma : float or (float, float)
        The smaller Gaussian's sigma (rows, columns), > 0.
    high_sigma : float or (float, float), optional
        The larger one (default 1.6 x low_sigma).
    %(mode_scipy)s
    %(cval)s
    %(truncate)s
    %(alpha_pass)s
    %(threads)s
    %(nan_dog)s
    %(mask_float)s
    %(axes)s

    Returns
    -------
    %(float_result)s

    Examples
    --------
    >>> import numpy as np
    >>> flat = np.full((9, 9), 7.0)
    >>> bool(np.abs(difference_of_gaussians(flat, 1.0)).max() < 1e-12)
    True
    """
    arr = image
    low, high = _dog_sigmas(low_sigma, high_sigma)
    fl = derivative_factors(low, 0, truncate, arr.ndim)
    fh = derivative_factors(high, 0, truncate, arr.ndim)
    mode = normalize_mode(mode)
    valid = validity(arr, nan, mask, lazy=True)  # NaN holes alone: a NanHoles
    if valid is None:
        out = _filter(arr, fl, mode, cval, threads)
        out -= _filter(arr, fh, mode, cval, threads)
        return out
    x = arr.astype(float_dtype(arr.dtype), copy=False)
    out = _smooth_valid(x, fl, valid, mode, cval, threads)
    out -= _smooth_valid(x, fh, valid, mode, cval, threads)
    return _mark_missing(out, valid, nan)


def _operator(name: str) -> tuple[np.ndarray, np.ndarray]:
    key = str(name).strip().lower()
    if key not in OPERATORS:
        raise OptionError(f"operator={name!r} is not valid; use one of {', '.join(OPERATORS)}")
    return OPERATORS[key]


def _gradient_output(output: str) -> str:
    key = str(output).strip().lower()
    if key not in GRADIENT_OUTPUTS:
        raise OptionError(f"output={output!r} is not valid; use one of {', '.join(GRADIENT_OUTPUTS)}")
    return key


def gradient_footprint(shape, *, operator="sobel", mode="reflect", **_):
    smooth, deriv = _operator(operator)
    n = max(len(smooth), len(deriv))
    return Footprint(
        plan_window(tuple(shape), (n, n)[: min(2, len(shape))], "same", 1, 1), normalize_mode(mode)
    )


@dispatch(gradient_footprint, alpha="pass", result="float")
@_docfiller
def gradient(
    image: np.ndarray,
    *,
    operator: str = "sobel",
    output: str = "magnitude",
    mode: str = "reflect",
    cval: float = 0.0,
    alpha: bool | None = None,
    threads: int | None = None,
    axes: object = None,
) -> np.ndarray:
    """Image gradient by a named operator: Sobel, Scharr, Prewitt or Farid.

    Equal to ``skimage.filters.sobel``/``scharr``/``prewitt``/``farid`` (with
    ``axis=1`` for ``"x"``, ``axis=0`` for ``"y"``, no axis for the
    magnitude) on float images: the smoothing factor sums to 1 and the
    magnitude is sqrt((x² + y²) / 2), scikit-image's root mean square over
    the axes. The kernels are :data:`imgfilter.kernels.OPERATORS`. Integer
    images keep their units (scikit-image divides them by the dtype's
    maximum first), and the default border is ``"reflect"`` as everywhere
    here (scikit-image's "reflect" is our ``"symmetric"``).

    :func:`imgfilter.sobel` is the unnormalized shortcut of the Sobel case:
    its x and y are 4 x these, its magnitude 4 * sqrt(2) x this one, its
    angle the same.

    Parameters
    ----------
    %(image)s
    operator : {"sobel", "scharr", "prewitt", "farid"}, optional
        3x3 kernels, or Farid & Simoncelli's 5x5 (the most rotation-invariant).
    output : {"magnitude", "x", "y", "angle"}, optional
        ``x`` is positive where intensity rises to the right, ``y`` where it
        rises downwards; ``angle`` is atan2(y, x) in radians, in (-pi, pi].
    mode, cval : optional
        Border mode and constant, as in :func:`imgfilter.correlate`.
    %(alpha_pass)s
    %(threads)s
    %(axes)s

    Returns
    -------
    %(float_result)s

    Examples
    --------
    >>> import numpy as np
    >>> ramp = np.tile(np.arange(6.0), (6, 1))
    >>> gradient(ramp, operator="scharr", output="x")[2, 1:5]
    array([2., 2., 2., 2.])
    """
    smooth, deriv = _operator(operator)
    key = _gradient_output(output)
    arr = image
    if arr.ndim < 2:
        raise ValueError(f"image must be (H, W) or (H, W, C), got shape {arr.shape}")
    mode = normalize_mode(mode)
    fx, fy = [smooth, deriv], [deriv, smooth]
    if key == "x":
        return _filter(arr, fx, mode, cval, threads)
    if key == "y":
        return _filter(arr, fy, mode, cval, threads)
    gx = _filter(arr, fx, mode, cval, threads)
    gy = _filter(arr, fy, mode, cval, threads)
    if key == "angle":
        return np.arctan2(gy, gx, out=gy)
    out = _hypot(gx, gy)
    out /= np.sqrt(2, dtype=out.dtype)
    return out
