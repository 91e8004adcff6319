"""Linear smoothing: box (mean) blur and Gaussian blur, both separable."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import _engine
from ..core.alpha import has_alpha, smooth_premultiplied
from ..core.buffers import empty
from ..core.dtypes import alpha_max, cast_like, exact_work_dtype, float_dtype, unsigned_sum_dtype
from ..core.fold import fold_same
from ..core.footprint import Footprint
from ..core.linear import run_linear, run_normalized
from ..core.masked import NanHoles, check_nan, normalized, restore_missing, validity
from ..core.names import OptionError
from ..core.options import normalize_mode, per_axis, plan_window
from ..core.srgb import Encoding, decode, in_linear_light
from ..core.tiles import run_bands
from ..kernels import gaussian_kernel1d
from ._dispatch import dispatch
from ._docs import docfiller


def smooth_linear(
    arr: np.ndarray,
    factors: Sequence[np.ndarray],
    *,
    mode: str,
    cval: float = 0.0,
    alpha: bool | None = None,
    divide: float = 1.0,
    dtype: np.dtype | None = None,
    threads: int | None = None,
    nan: str = "propagate",
    mask: object = None,
    linear: bool = False,
    axes: object = None,
    at: np.ndarray | None = None,
) -> np.ndarray | None:
    """Separable smoothing over the leading axes; result in the image's dtype.

    ``factors`` are the 1-D kernels per spatial axis ("same" alignment,
    index k // 2 on the pixel); the sum is divided by ``divide`` at the end
    (a true division: correctly rounded, unlike a multiply by 1/n).
    ``nan``/``mask`` select normalized convolution over the valid pixels
    (see :mod:`imgfilter.core.masked`).

    ``linear=True`` filters a uint8/uint16 image without alpha or missing
    pixels in linear light, decoding and encoding band by band on the
    worker threads (the same values as :func:`~imgfilter.core.srgb.in_linear_light`,
    which the callers use for everything else).

    ``at`` (with ``nan="ignore"``, no mask, no alpha): flat indices of
    pixels; the normalized results there only, shape (len(at), C), the bits
    the whole image would have there, or None where that does not apply
    (:func:`imgfilter.core.linear.run_normalized`).
    """
    mode = normalize_mode(mode)
    factors = fold_same(factors, arr.shape, mode)  # fold: bounded by the image (core/fold.py)
    # Shape only: the separable passes never build the dense kernel (core/linear.dense_kernel).
    kernel = np.broadcast_to(1.0, tuple(len(f) for f in factors))
    dtype = np.dtype(dtype or float_dtype(arr.dtype))

    def run(x: np.ndarray, out_dtype=None) -> np.ndarray:
        # The division, rounding and clipping happen in the engine's store.
        plan = plan_window(x.shape, kernel.shape, "same", 1, 1)
        return run_linear(
            x,
            kernel,
            plan,
            mode,
            cval,
            dtype,
            threads,
            factors=factors,
            out_dtype=out_dtype,
            divide=None if divide == 1.0 else divide,
        )

    if linear:
        # The box's division is left to the encoding, which takes it in its
        # lookup table (a power of two as a change of exponent): the codes
        # of dividing first, without the division's pass.
        plan = plan_window(arr.shape, kernel.shape, "same", 1, 1)
        return run_linear(
            arr,
            kernel,
            plan,
            mode,
            cval,
            np.dtype(np.float32),
            threads,
            factors=factors,
            combine=Encoding(divisor=divide),
            out_dtype=arr.dtype,
            source=decode,
        )
    nan = check_nan(nan)
    valid = validity(arr, nan, mask, lazy=not has_alpha(arr, alpha))
    if at is not None:
        if not isinstance(valid, NanHoles) or has_alpha(arr, alpha):
            return None
        plan = plan_window(arr.shape, kernel.shape, "same", 1, 1)
        return run_normalized(
            arr, valid, kernel, plan, mode, cval, dtype, threads, factors, full_is_plain=divide == 1.0, at=at
        )
    if valid is not None:
        return _smooth_masked(
            arr,
            kernel,
            factors,
            valid,
            nan,
            mode,
            cval,
            dtype,
            has_alpha(arr, alpha),
            threads,
            divide,
            nan_only=mask is None,
        )
    if has_alpha(arr, alpha):
        return cast_like(smooth_premultiplied(arr, run, constant_border=mode == "constant"), arr.dtype)
    # Rounded back to the image's dtype band by band, while still in cache.
    return run(arr, arr.dtype)


def _smooth_masked(
    arr, kernel, factors, valid, nan, mode, cval, dtype, alpha, threads, divide=1.0, *, nan_only=False
):
    """Normalized smoothing over valid pixels (with alpha, colour also weighted by it)."""

    def run(x: np.ndarray, fill: float | None) -> np.ndarray:
        plan = plan_window(x.shape, kernel.shape, "same", 1, 1)
        return run_linear(
            x, kernel, plan, mode, cval if fill is None else fill, dtype, threads, factors=factors
        )

    plan = plan_window(arr.shape, kernel.shape, "same", 1, 1)
    if not alpha:
        # Without a final division (Gaussian) whole windows keep the plain sum;
        # a box's division by its count is what the normalization does anyway.
        out = run_normalized(
            arr,
            valid,
            kernel,
            plan,
            mode,
            cval,
            dtype,
            threads,
            factors,
            full_is_plain=divide == 1.0,
            nan_only=nan_only,
        )
        return restore_missing(out, arr, valid, nan)
    # Premultiplied colour: the colour channels' weight is validity x alpha.
    # Beyond a constant border lies a valid pixel of value cval in every
    # channel, alpha included (0: transparent, so its colour weighs nothing).
    amax = alpha_max(arr.dtype)
    a = np.where(valid[..., -1], arr[..., -1], 0).astype(dtype) / dtype.type(amax)
    weight = valid[..., :-1].astype(dtype) * a[..., None]
    opacity = cval / amax

    def run_colour(x: np.ndarray, fill: float | None) -> np.ndarray:
        return run(x, cval * opacity if fill is None else opacity)

    # Separable direct sums: a window without valid pixels sums to exactly 0.
    colour, _ = normalized(run_colour, arr[..., :-1], weight, dtype, tiny=0.0)
    alpha_plan = plan_window(arr[..., -1:].shape, kernel.shape, "same", 1, 1)
    alpha_out = run_normalized(
        arr[..., -1:], valid[..., -1:], kernel, alpha_plan, mode, cval, dtype, threads, factors
    )
    # Valid pixels under the window but all transparent: colour is moot, 0
    # (as without missing pixels); NaN stays only where nothing was valid.
    seen = run(np.ascontiguousarray(valid[..., :-1], dtype=dtype), 1.0) > 0
    colour[np.isnan(colour) & seen] = 0
    out = np.concatenate([colour, alpha_out], axis=-1)
    return restore_missing(out, arr, valid, nan)


#: How :func:`fill_holes` fills: ``"image"`` smooths the whole image over its
#: valid pixels and keeps that at the holes; ``"points"`` computes the same
#: sums at the holes only (``_engine.sep2d_nan_at``: the same bits).
FILL_METHODS = ("image", "points")

# "points" costs about POINT_COST times what "image" costs per tap of a
# value: per hole, its window's taps (rows x columns) for each value;
# "image", per pixel, its row and column taps for each value and its weight.
# Measured on a 1080p RGB float32 image with 1% holes, one thread, sigma 1,
# 2 and 8: 4.7, 3.4 and 3.1 (so "points" wins there below 7%, 4% and 1%).
POINT_COST = 4.0


def fill_holes(
    arr: np.ndarray,
    factors: Sequence[np.ndarray],
    *,
    mode: str,
    cval: float,
    threads: int | None,
    method: str | None = None,
) -> np.ndarray:
    """A copy of float image ``arr`` whose NaN values are filled by its nan-ignoring smoothing.

    Each NaN value gets what ``smooth_linear(arr, factors, nan="ignore")``
    gives there (NaN where the window holds no valid value of its channel);
    the other values are ``arr``'s. ``method`` (one of :data:`FILL_METHODS`;
    None: the cheaper for the number of holes, which one pass counts while
    it copies) gives the same bits either way.
    """
    if method is not None and method not in FILL_METHODS:
        raise OptionError(f"method={method!r} is not valid; use one of {', '.join(FILL_METHODS)}")
    mode = normalize_mode(mode)
    kw = dict(mode=mode, cval=float(cval), alpha=False, threads=threads)
    takes = (
        arr.flags.c_contiguous
        and arr.dtype in (np.float32, np.float64)
        and arr.ndim in (2, 3)
        and not (mode == "constant" and np.isnan(cval))  # NaN outside counts as valid: "image" only
    )
    points = (
        _holes_copy(arr, factors, mode, threads, capped=method is None)
        if takes and method != "image"
        else None
    )
    if points is not None:
        x, holes = points
        if not len(holes):
            return x
        fill = smooth_linear(arr, factors, nan="ignore", at=holes, **kw)
        if fill is not None:
            flat = x.reshape(x.shape[0] * x.shape[1], -1)
            got = flat[holes]
            np.copyto(got, fill, where=np.isnan(got))
            flat[holes] = got
            return x
    if method == "points":
        raise ValueError(
            "method='points' fills NaN holes of a C-contiguous float32/float64 image with one or no "
            "channel axis, without a NaN constant border"
        )
    x = smooth_linear(arr, factors, nan="ignore", **kw)
    np.copyto(x, arr, where=~np.isnan(arr))
    return x


def _holes_copy(arr, factors, mode, threads, *, capped: bool):
    """(copy of arr, flat indices of its pixels with a NaN), or None where the
    holes are too many for ``"points"`` to be the cheaper (``capped``)."""
    h, w = arr.shape[:2]
    cn = arr.shape[2] if arr.ndim == 3 else 1
    nv, nh = ([len(f) for f in fold_same(factors, arr.shape, mode)] + [1])[:2]
    # Holes at which "points" costs as much as "image" (see POINT_COST).
    limit = h * w * (nv + nh) * (cn + 1) / (POINT_COST * nv * nh * cn)
    x = empty(arr.shape, dtype=arr.dtype)
    found: dict[int, np.ndarray] = {}

    def work(r0: int, r1: int) -> None:
        cap = (r1 - r0) * w if not capped else min((r1 - r0) * w, int(limit * (r1 - r0) / h) + 1)
        out = np.empty(cap, dtype=np.intp)
        n = _engine.nan_holes(arr, x, cn, r0 * w, r1 * w, out)
        found[r0] = out[:n] if n >= 0 else None

    run_bands(h, w * cn * arr.itemsize * 2, work, threads=threads)
    if any(v is None for v in found.values()):
        return None
    return x, np.concatenate([found[k] for k in sorted(found)]) if found else np.empty(0, np.intp)


def _fused_linear(arr: np.ndarray, alpha: bool, mask: object) -> bool:
    """Whether linear light can be decoded and encoded inside the bands (see smooth_linear)."""
    return arr.dtype in (np.uint8, np.uint16) and not alpha and mask is None


def _sizes(size: int | Sequence[int], name: str = "size") -> tuple[int, int]:
    return per_axis(size, 2, name)


def _same_footprint(shape, factors, mode) -> Footprint:
    kshape = tuple(len(f) for f in factors)
    return Footprint(plan_window(tuple(shape), kshape, "same", 1, 1), normalize_mode(mode))


def _box_factors(size, ndim: int) -> list[np.ndarray]:
    sh, sw = _sizes(size)
    return [np.ones(sh), np.ones(sw)][: min(2, ndim)]


def blur_footprint(shape, size=3, *, mode="reflect", **_):
    return _same_footprint(shape, _box_factors(size, len(shape)), mode)


@dispatch(blur_footprint, alpha="premultiply", missing=True, linear="wrap", fused=_fused_linear)
@docfiller
def blur(
    image: np.ndarray,
    size: int | Sequence[int] = 3,
    *,
    mode: str = "reflect",
    alpha: bool | None = None,
    threads: int | None = None,
    nan: str = "propagate",
    mask: object = None,
    linear: bool = False,
    axes: object = None,
) -> np.ndarray:
    """Box blur: the mean over a size x size window (a box filter).

    Equal to ``scipy.ndimage.uniform_filter`` over the two spatial axes,
    rounded to nearest for integer images. Even sizes put the window's
    index size // 2 on the pixel, as SciPy and OpenCV do.

    Parameters
    ----------
    %(image_missing)s
    size : int or (int, int), optional
        Window height and width, >= 1.
    %(mode)s
    %(alpha_premultiply)s
    %(threads)s
    %(nan_average)s
    %(mask)s
    %(linear)s
    %(axes)s

    Returns
    -------
    ndarray
        The image's dtype (integers rounded to nearest and clipped).

    Examples
    --------
    >>> import numpy as np
    >>> blur(np.array([[0, 0, 9], [0, 0, 9], [0, 0, 9]], dtype=np.uint8), 3, mode="edge")
    array([[0, 3, 6],
           [0, 3, 6],
           [0, 3, 6]], dtype=uint8)
    """
    arr = image
    factors = _box_factors(size, arr.ndim)
    count = int(np.prod([len(f) for f in factors]))
    if linear:  # decoded and encoded in the bands (else the dispatcher decoded)
        return smooth_linear(arr, factors, mode=mode, divide=count, threads=threads, linear=True)
    acc = unsigned_sum_dtype(arr.dtype, count)
    if acc is not None and not alpha and mask is None:
        # Unsigned images: exact integer window sums (only additions), then
        # one correctly rounded division, so the mean rounds as float64 would.
        # (uint64 windows that could overflow 64 bits sum in float64 below.)
        shape = tuple(len(f) for f in factors)
        plan = plan_window(arr.shape, shape, "same", 1, 1)
        work = exact_work_dtype(arr.dtype, count)
        return run_linear(
            arr,
            np.broadcast_to(1.0, shape),  # fold: no dense kernel; run_linear uses the factors
            plan,
            normalize_mode(mode),
            0,
            np.dtype(acc),
            threads,
            factors=factors,
            out_dtype=arr.dtype,
            divide=count,
            work=work,
        )
    return smooth_linear(
        arr, factors, mode=mode, alpha=alpha, divide=count, threads=threads, nan=nan, mask=mask
    )


def _gaussian_factors(sigma, truncate: float, ndim: int) -> list[np.ndarray]:
    """The 1-D kernels of :func:`gaussian`, one per spatial axis."""
    sigmas = sigma if isinstance(sigma, Sequence) else (sigma, sigma)
    if len(sigmas) != 2:
        raise OptionError(f"sigma must be a number or (sigma_rows, sigma_cols), got {sigma!r}")
    sigmas = tuple(float(s) for s in sigmas)
    if not all(np.isfinite(s) and s > 0 for s in sigmas):
        raise OptionError(f"sigma must be > 0, got {sigma!r}")
    if not (np.isfinite(truncate) and truncate > 0):
        raise OptionError(f"truncate must be > 0, got {truncate!r}")
    return [gaussian_kernel1d(s, 0, int(truncate * s + 0.5)) for s in sigmas][: min(2, ndim)]


def _is_derivative(order: object) -> bool:
    """Whether ``order=`` asks for a derivative on some axis (checked)."""
    if type(order) is int and order == 0:
        return False  # the usual call, without importing the derivatives
    from .derivatives import orders

    return any(orders(order))


def gaussian_footprint(shape, sigma=1.0, *, order=0, mode="reflect", truncate=4.0, **options):
    if _is_derivative(order):
        from .derivatives import gaussian_derivative_footprint

        return gaussian_derivative_footprint(
            shape, sigma, order=order, mode=mode, truncate=truncate, **options
        )
    return _same_footprint(shape, _gaussian_factors(sigma, truncate, len(shape)), mode)


# linear="own": the body must see ``order`` to refuse a derivative in linear
# light, which the dispatcher's wrap would decode and encode blindly.
@dispatch(gaussian_footprint, alpha="premultiply", missing=True, linear="own")
@docfiller
def gaussian(
    image: np.ndarray,
    sigma: float | Sequence[float] = 1.0,
    *,
    order: int | Sequence[int] = 0,
    mode: str = "reflect",
    truncate: float = 4.0,
    alpha: bool | None = None,
    threads: int | None = None,
    nan: str = "propagate",
    mask: object = None,
    linear: bool = False,
    axes: object = None,
) -> np.ndarray:
    """Gaussian blur, separable, with scipy.ndimage's kernel, or its derivatives.

    The radius is ``int(truncate * sigma + 0.5)`` per axis, so results equal
    ``scipy.ndimage.gaussian_filter`` over the spatial axes (to float32
    rounding; integer images are rounded to nearest), ``order=`` included.

    Parameters
    ----------
    %(image_missing)s
    sigma : float or (float, float), optional
        Standard deviation in pixels (rows, columns), > 0.
    order : int or (int, int), optional
        Derivative order per axis (rows, columns), 0, 1 or 2, as SciPy's
        ``order=``. Any order but 0 is :func:`imgfilter.gaussian_derivative`:
        the result is then float (float32, float64 for 32/64-bit and float64
        images), never an integer that wraps as SciPy's does for integer
        images; alpha passes through; missing pixels are filled by this
        blur's ``nan="ignore"`` before differentiating (see
        :mod:`imgfilter.filters.derivatives`), and ``linear=True`` is
        refused (a derivative is signed, not light).
    %(mode)s
    truncate : float, optional
        Kernel radius in sigmas, > 0.
    %(alpha_premultiply)s
    %(threads)s
    %(nan_average)s
    %(mask)s
    %(linear)s
    %(axes)s

    Returns
    -------
    ndarray
        The image's dtype (float for derivative orders).

    Examples
    --------
    >>> import numpy as np
    >>> dot = np.zeros((9, 9)); dot[4, 4] = 1
    >>> np.round(gaussian(dot, 1.0)[4, 2:7], 4)
    array([0.0215, 0.0965, 0.1592, 0.0965, 0.0215])
    >>> ramp = np.tile(np.arange(20, dtype=np.uint8), (5, 1))
    >>> np.round(gaussian(ramp, 1.0, order=(0, 1))[2, 8:11], 3)
    array([1., 1., 1.], dtype=float32)
    """
    arr = image
    if _is_derivative(order):
        if linear:
            raise OptionError(
                f"linear=True cannot go with order={order!r}: a derivative is signed, not light, "
                "and has no sRGB encoding; use order=0, or linear=False"
            )
        from .derivatives import gaussian_derivative

        return gaussian_derivative(
            arr,
            sigma,
            order=order,
            mode=mode,
            truncate=truncate,
            alpha=alpha,
            threads=threads,
            nan=nan,
            mask=mask,
        )
    factors = _gaussian_factors(sigma, truncate, arr.ndim)
    if linear and not _fused_linear(arr, alpha, mask):
        # What the dispatcher's linear="wrap" does (see the note at the decorator).
        return in_linear_light(
            arr,
            alpha,
            lambda x: smooth_linear(x, factors, mode=mode, alpha=alpha, threads=threads, nan=nan, mask=mask),
        )
    if linear:  # decoded and encoded in the bands
        return smooth_linear(arr, factors, mode=mode, threads=threads, linear=True)
    return smooth_linear(arr, factors, mode=mode, alpha=alpha, threads=threads, nan=nan, mask=mask)
