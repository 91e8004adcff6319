"""Gaussian derivatives (LoG, gradient magnitude, DoG) and gradient operators.

Every filter here is one or two separable passes of the shared linear core
(:func:`imgfilter.core.linear.run_linear` with explicit 1-D factors), so
border modes, threads and Dask chunks behave as in :func:`imgfilter.correlate`.
Results are float: float32 for images of at most 16 bits (and float32),
float64 for 32- and 64-bit integers and float64
(:func:`imgfilter.core.options.float_dtype`), in the image's own units.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..core.alpha import has_alpha, keep_alpha, resolve_alpha
from ..core.footprint import Footprint, chunkable
from ..core.linear import run_linear
from ..core.masked import check_nan
from ..core.names import OptionError
from ..core.options import check_image, float_dtype, normalize_mode, plan_window
from ..kernels import OPERATORS, gaussian_kernel1d

GRADIENT_OUTPUTS = ("magnitude", "x", "y", "angle")

Sigma = float | Sequence[float]
Order = int | Sequence[int]


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


def derivative_factors(sigma: Sigma, order: Order, truncate: float, ndim: int) -> list[np.ndarray]:
    """Correlation factors (rows, columns) of scipy's ``gaussian_filter(order=)``.

    SciPy convolves with :func:`~imgfilter.kernels.gaussian_kernel1d`, so the
    correlation factor is that kernel reversed (a first derivative is then
    positive where intensity rises). Radius ``int(truncate * sigma + 0.5)``.
    """
    sigmas = _pair(sigma, "sigma", _sigma)
    orders = _pair(order, "order", _order)
    if not (
        isinstance(truncate, (int, float, np.integer, np.floating)) and np.isfinite(truncate) and truncate > 0
    ):
        raise OptionError(f"truncate must be > 0, got {truncate!r}")
    factors = [
        gaussian_kernel1d(s, o, int(truncate * s + 0.5))[::-1].copy()
        for s, o in zip(sigmas, orders, strict=True)
    ]
    return factors[: min(2, ndim)]


def _filter(arr: np.ndarray, factors, mode: str, cval: float, threads) -> np.ndarray:
    """One separable pass of the core over the leading axes, float result."""
    kernel = factors[0] if len(factors) == 1 else np.multiply.outer(factors[0], factors[1])
    plan = plan_window(arr.shape, kernel.shape, "same", 1, 1)
    dtype = float_dtype(arr.dtype)
    return run_linear(arr, kernel, plan, mode, float(cval), dtype, threads, factors=list(factors))


def _refuse_missing(nan: str, mask: object, linear: bool, what: str) -> None:
    # A derivative kernel's weights sum to zero: there is no valid-weight
    # total to renormalize by (the core refuses such kernels too).
    if check_nan(nan) != "propagate" or mask is not None:
        raise OptionError(
            f"{what} takes nan='propagate' and no mask: its kernels' weights sum to zero, so "
            "windows with missing pixels cannot be renormalized. Fill the missing pixels first "
            "(for example with imgfilter.gaussian(..., nan='ignore'))."
        )
    if linear:
        raise OptionError(f"linear=True is not available for {what}: it returns signed values, not light")


def _footprint(shape, factors_list, mode) -> Footprint:
    size = tuple(max(len(f[a]) for f in factors_list) for a in range(len(factors_list[0])))
    return Footprint(plan_window(tuple(shape), size, "same", 1, 1), normalize_mode(mode))


def gaussian_derivative_footprint(shape, sigma=1.0, *, order=0, mode="reflect", truncate=4.0, **_):
    return _footprint(shape, [derivative_factors(sigma, order, truncate, len(shape))], mode)


def _with_alpha(image, arr, alpha, run, size, mode):
    alpha = resolve_alpha(image, arr, alpha)
    out = keep_alpha(arr, run, has_alpha(arr, alpha), size, "same")
    return out.astype(float_dtype(arr.dtype), copy=False)


@chunkable(gaussian_derivative_footprint)
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
) -> np.ndarray:
    """Gaussian blur or its derivatives, as ``scipy.ndimage.gaussian_filter(order=)``.

    ``order`` 0, 1 or 2 per axis (rows, columns): the convolution with the
    Gaussian's derivative of that order, the kernels of scipy.ndimage to
    the bit (:func:`imgfilter.kernels.gaussian_kernel1d`). ``order=(0, 1)``
    is d/dx (positive where intensity rises to the right), ``(1, 0)`` d/dy
    (rises downwards), ``(2, 0) + (0, 2)`` the Laplacian of Gaussian. Unlike
    :func:`imgfilter.gaussian`, the result is float even for ``order=0``.

    Parameters
    ----------
    image : array_like
        (H, W) or (H, W, C); channels are filtered on their own.
        A ``dask.array.Array`` gives a lazy Dask array with the same
        values, chunked like it (see :mod:`imgfilter.core.chunked`).
    sigma : float or (float, float), optional
        Standard deviation in pixels (rows, columns), > 0.
    order : int or (int, int), optional
        Derivative order per axis, 0, 1 or 2.
    mode : str, optional
        Border mode, as in :func:`imgfilter.correlate` (SciPy's "reflect" is
        our "symmetric", its "mirror" our "reflect", "nearest" our "edge").
    cval : float, optional
        Value beyond the border in ``"constant"`` mode. The image is padded
        with it once (a true 2-D filter of the padded image); SciPy pads each
        1-D pass's intermediate result with it again, which differs from
        this for derivative orders when ``cval != 0``.
    truncate : float, optional
        Kernel radius in sigmas: ``int(truncate * sigma + 0.5)`` taps per side.
    alpha : bool, optional
        Whether the last channel is alpha (default: not for a numpy array);
        alpha is passed through unchanged.
    threads : int, optional
        Worker threads.
    nan, mask, linear : optional
        Accepted for the same call as :func:`imgfilter.gaussian`; only
        ``nan="propagate"``, no mask and ``linear=False`` are possible (a
        derivative's weights sum to zero, nothing to renormalize by).

    Returns
    -------
    ndarray
        float32 for 8/16-bit and float32 images, float64 for 32/64-bit
        integers and float64; same shape as the image.

    Examples
    --------
    >>> import numpy as np
    >>> ramp = np.tile(np.arange(20.0), (5, 1))
    >>> np.round(gaussian_derivative(ramp, 1.0, order=(0, 1))[2, 8:12], 3)
    array([1., 1., 1., 1.])
    """
    arr = check_image(image)
    _refuse_missing(nan, mask, linear, "gaussian_derivative")
    factors = derivative_factors(sigma, order, truncate, arr.ndim)
    mode = normalize_mode(mode)

    def run(x: np.ndarray) -> np.ndarray:
        return _filter(x, factors, mode, cval, threads)

    return _with_alpha(image, arr, alpha, run, tuple(len(f) for f in factors), mode)


def _axis_pair(sigma, truncate, ndim, orders):
    return [derivative_factors(sigma, o, truncate, ndim) for o in orders]


def _sum_of_axes(image, sigma, orders, mode, cval, truncate, alpha, threads, combine):
    arr = check_image(image)
    if arr.ndim < 2:
        raise ValueError(f"image must be (H, W) or (H, W, C), got shape {arr.shape}")
    pair = _axis_pair(sigma, truncate, arr.ndim, orders)
    mode = normalize_mode(mode)
    size = tuple(max(len(f[a]) for f in pair) for a in range(2))

    def run(x: np.ndarray) -> np.ndarray:
        first = _filter(x, pair[0], mode, cval, threads)
        second = _filter(x, pair[1], mode, cval, threads)
        return combine(first, second)

    return _with_alpha(image, arr, alpha, run, size, mode)


def _pair_footprint(orders):
    def footprint(shape, sigma=1.0, *, mode="reflect", truncate=4.0, **_):
        return _footprint(shape, _axis_pair(sigma, truncate, len(shape), orders), mode)

    return footprint


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


@chunkable(_pair_footprint(_FIRST))
def gaussian_gradient_magnitude(
    image: np.ndarray,
    sigma: Sigma = 1.0,
    *,
    mode: str = "reflect",
    cval: float = 0.0,
    truncate: float = 4.0,
    alpha: bool | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """Gradient magnitude with Gaussian derivatives, as scipy.ndimage's.

    sqrt((d/dy)² + (d/dx)²) of :func:`gaussian_derivative` with orders
    (1, 0) and (0, 1), over the two spatial axes.

    Parameters
    ----------
    image : array_like
        (H, W) or (H, W, C); channels are filtered on their own (Dask arrays too).
    sigma, mode, cval, truncate, alpha, threads : optional
        As in :func:`gaussian_derivative`.

    Returns
    -------
    ndarray
        float32 (float64 for float64 and 32/64-bit integer images).

    Examples
    --------
    >>> import numpy as np
    >>> ramp = np.tile(np.arange(20.0), (5, 1)) * 3
    >>> float(np.round(gaussian_gradient_magnitude(ramp, 1.0)[2, 10], 3))
    3.0
    """
    return _sum_of_axes(image, sigma, _FIRST, mode, cval, truncate, alpha, threads, _hypot)


@chunkable(_pair_footprint(_SECOND))
def gaussian_laplace(
    image: np.ndarray,
    sigma: Sigma = 1.0,
    *,
    mode: str = "reflect",
    cval: float = 0.0,
    truncate: float = 4.0,
    alpha: bool | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """Laplacian of Gaussian (LoG), as ``scipy.ndimage.gaussian_laplace``.

    d²/dy² + d²/dx² of the Gaussian-smoothed image (orders (2, 0) and
    (0, 2)): negative on bright blobs of radius about sigma * sqrt(2).
    Multiply by sigma² for the scale-normalized LoG of blob detection.

    Parameters
    ----------
    image : array_like
        (H, W) or (H, W, C); channels are filtered on their own (Dask arrays too).
    sigma, mode, cval, truncate, alpha, threads : optional
        As in :func:`gaussian_derivative`.

    Returns
    -------
    ndarray
        float32 (float64 for float64 and 32/64-bit integer images).

    Examples
    --------
    >>> import numpy as np
    >>> dot = np.zeros((15, 15)); dot[7, 7] = 1
    >>> bool(gaussian_laplace(dot, 2.0)[7, 7] < 0)
    True
    """
    return _sum_of_axes(image, sigma, _SECOND, mode, cval, truncate, alpha, threads, _add)


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


@chunkable(dog_footprint)
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
    image : array_like
        (H, W) or (H, W, C); channels are filtered on their own (Dask arrays too).
    low_sigma : float or (float, float)
        The smaller Gaussian's sigma (rows, columns), > 0.
    high_sigma : float or (float, float), optional
        The larger one (default 1.6 x low_sigma).
    mode, cval, truncate, alpha, threads : optional
        As in :func:`gaussian_derivative`.

    Returns
    -------
    ndarray
        float32 (float64 for float64 and 32/64-bit integer images).

    Examples
    --------
    >>> import numpy as np
    >>> flat = np.full((9, 9), 7.0)
    >>> bool(np.abs(difference_of_gaussians(flat, 1.0)).max() < 1e-12)
    True
    """
    arr = check_image(image)
    low, high = _dog_sigmas(low_sigma, high_sigma)
    fl = derivative_factors(low, 0, truncate, arr.ndim)
    fh = derivative_factors(high, 0, truncate, arr.ndim)
    mode = normalize_mode(mode)

    def run(x: np.ndarray) -> np.ndarray:
        out = _filter(x, fl, mode, cval, threads)
        out -= _filter(x, fh, mode, cval, threads)
        return out

    size = tuple(len(f) for f in fh)
    return _with_alpha(image, arr, alpha, run, size, mode)


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


@chunkable(gradient_footprint)
def gradient(
    image: np.ndarray,
    *,
    operator: str = "sobel",
    output: str = "magnitude",
    mode: str = "reflect",
    cval: float = 0.0,
    alpha: bool | None = None,
    threads: int | None = None,
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
    image : array_like
        (H, W) or (H, W, C); channels are filtered on their own (Dask arrays too).
    operator : {"sobel", "scharr", "prewitt", "farid"}, optional
        3x3 kernels, or Farid & Simoncelli's 5x5 (the most rotation-invariant).
    output : {"magnitude", "x", "y", "angle"}, optional
        ``x`` is positive where intensity rises to the right, ``y`` where it
        rises downwards; ``angle`` is atan2(y, x) in radians, in (-pi, pi].
    mode, cval : optional
        Border mode and constant, as in :func:`imgfilter.correlate`.
    alpha : bool, optional
        Whether the last channel is alpha (passed through unchanged).
    threads : int, optional
        Worker threads.

    Returns
    -------
    ndarray
        float32 (float64 for float64 and 32/64-bit integer images).

    Examples
    --------
    >>> import numpy as np
    >>> ramp = np.tile(np.arange(6.0), (6, 1))
    >>> gradient(ramp, operator="scharr", output="x")[2, 1:5]
    array([2., 2., 2., 2.])
    """
    smooth, deriv = _operator(operator)
    key = _gradient_output(output)
    arr = check_image(image)
    if arr.ndim < 2:
        raise ValueError(f"image must be (H, W) or (H, W, C), got shape {arr.shape}")
    mode = normalize_mode(mode)
    fx, fy = [smooth, deriv], [deriv, smooth]

    def run(x: np.ndarray) -> np.ndarray:
        if key == "x":
            return _filter(x, fx, mode, cval, threads)
        if key == "y":
            return _filter(x, fy, mode, cval, threads)
        gx = _filter(x, fx, mode, cval, threads)
        gy = _filter(x, fy, mode, cval, threads)
        if key == "angle":
            return np.arctan2(gy, gx, out=gy)
        out = _hypot(gx, gy)
        out /= np.sqrt(2, dtype=out.dtype)
        return out

    n = len(smooth)
    return _with_alpha(image, arr, alpha, run, (n, n), mode)
