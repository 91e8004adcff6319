"""Cubic sub-pixel shift: Keys' convolution kernel (a = -0.75), as OpenCV's INTER_CUBIC.

The bilinear shift (:mod:`imgfilter.filters.shift`) is a separable 2-tap
correlation; this is the same with 4 taps per axis, through the same core
(bands, border modes, threads, premultiplied alpha, linear light).

Agreement with ``cv2.warpAffine(image, [[1, 0, dx], [0, 1, dy]], flags=INTER_CUBIC)``
with the matching border (``constant`` = BORDER_CONSTANT with ``cval`` as
borderValue, ``edge`` = BORDER_REPLICATE, ``symmetric`` = BORDER_REFLECT,
``reflect`` = BORDER_REFLECT_101, ``wrap`` = BORDER_WRAP):

- OpenCV snaps the sampling position to 1/32 pixel (``INTER_BITS = 5``); we
  use the exact fraction. At shifts that are multiples of 1/32 the
  positions coincide.
- The coefficients are OpenCV's own (``interpolateCubic``, evaluated in
  float32), so float32 images agree to float32 rounding of the sums (OpenCV
  sums 16 products of a 2-D table, we sum 4 then 4).
- Integer results are rounded to nearest, half to even, as OpenCV 5's
  ``saturate_cast`` of its float sums. Measured on the sample photos at
  k/32 shifts: uint8 equal except about 1 pixel in 100,000 (1 level, where
  the exact value is a half and the two summation orders round it apart);
  uint16 1 level on about 0.1% of pixels for shifts along both axes (its
  65535 levels resolve float32 rounding of the sums), equal for one axis.
  The tests assert these bounds.

SciPy's ``ndimage.shift(order=3)`` is a different filter: a cubic B-spline
*interpolation* (a prefilter makes the spline pass through the samples,
so its impulse response is infinite), not Keys' 4-tap convolution.
"""

from __future__ import annotations

import math

import numpy as np

from ..core.alpha import has_alpha, resolve_alpha, smooth_premultiplied
from ..core.border import extend
from ..core.footprint import Footprint, chunkable
from ..core.linear import run_linear
from ..core.names import OptionError
from ..core.options import check_image, float_dtype, normalize_mode, plan_aligned
from ..core.srgb import decode, encode, in_linear_light, to_linear
from ..core.values import cast_like

#: Keys' parameter; OpenCV's INTER_CUBIC uses -0.75 (Keys' own analysis favours -0.5).
A = -0.75


def cubic_factors(frac: float) -> np.ndarray:
    """The 4 taps of Keys' cubic (a = -0.75) for a sample ``frac`` past pixel 1.

    Taps weigh pixels ``floor(s) - 1 .. floor(s) + 2`` for a sampling
    position ``s`` with ``frac = s - floor(s)`` in [0, 1). Evaluated in
    float32 with OpenCV's expression (``interpolateCubic``), so the values
    are exactly OpenCV's; returned as float64 holding those float32 values.

    Examples
    --------
    >>> cubic_factors(0.5)
    array([-0.09375,  0.59375,  0.59375, -0.09375])
    >>> cubic_factors(0.0)
    array([0., 1., 0., 0.])
    """
    f = float(frac)
    if not (math.isfinite(f) and 0.0 <= f < 1.0):
        raise OptionError(f"frac must be in [0, 1), got {frac!r}")
    x = np.float32(f)
    a = np.float32(A)
    one = np.float32(1)
    x1 = x + one
    c0 = ((a * x1 - np.float32(5) * a) * x1 + np.float32(8) * a) * x1 - np.float32(4) * a
    c1 = ((a + np.float32(2)) * x - (a + np.float32(3))) * x * x + one
    y = one - x
    c2 = ((a + np.float32(2)) * y - (a + np.float32(3))) * y * y + one
    c3 = one - c0 - c1 - c2
    return np.array([c0, c1, c2, c3], dtype=np.float32).astype(np.float64)


def _amount(value: object, name: str) -> float:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise OptionError(f"{name} must be finite, got {value!r}")
    return v


def _geometry(ndim: int, dx: object, dy: object):
    """(factors, before): the shift as a correlation whose tap 0 reads ``before`` pixels back."""
    amounts = (_amount(dy, "dy"), _amount(dx, "dx"))[: min(2, ndim)]
    if ndim == 1 and amounts[0] == 0 and _amount(dx, "dx") != 0:
        raise ValueError("a 1-D image has no columns to shift by dx; use dy")
    # out[x] samples in[x - a]: floor(x - a) = x - w - 1 and frac = 1 - f
    # for a = w + f (0 < f < 1); the 4 taps start one pixel before that.
    factors, before = [], []
    for a in amounts:
        w = math.floor(a)
        f = a - w
        if 1.0 - f >= 1.0:  # f == 0, or too small to move a sample at all
            factors.append(np.array([1.0]))
            before.append(w)
        else:
            factors.append(cubic_factors(1.0 - f))
            before.append(w + 2)
    return factors, tuple(before)


def shift_cubic_footprint(shape, dx=0, dy=0, *, mode="constant", cval=0, **_):
    factors, before = _geometry(len(shape), dx, dy)
    plan = plan_aligned(tuple(shape), tuple(len(f) for f in factors), before)
    return Footprint(plan, normalize_mode(mode), float(cval))


@chunkable(shift_cubic_footprint)
def shift_cubic(
    image: np.ndarray,
    dx: float = 0,
    dy: float = 0,
    *,
    mode: str = "constant",
    cval: float = 0,
    alpha: bool | None = None,
    threads: int | None = None,
    linear: bool = False,
) -> np.ndarray:
    """Move the image by (dx, dy) pixels with Keys' cubic kernel (a = -0.75).

    The ``interpolation="cubic"`` of :func:`imgfilter.shift`: positive dx
    right, positive dy down; whole-pixel shifts are exact copies. Equal to
    OpenCV's ``warpAffine(INTER_CUBIC)`` with the matching border at
    shifts that are multiples of 1/32 (see :mod:`imgfilter.filters._cubic`
    for the exact agreement); unlike SciPy's order-3 spline it is a 4-tap
    convolution, so it overshoots at edges (results are clipped to the
    dtype's range).

    Parameters
    ----------
    image : array_like
        (H, W) or (H, W, C).
    dx, dy : float, optional
        Shift along columns (right) and rows (down).
    mode : str, optional
        What enters at the border, as in :func:`imgfilter.correlate`.
    cval : float, optional
        Fill value for ``mode="constant"`` (clipped to an integer dtype's range).
    alpha : bool, optional
        Whether the last channel is alpha (default: not for a numpy array).
        Colour is interpolated premultiplied by alpha.
    threads : int, optional
        Worker threads.
    linear : bool, optional
        Interpolate 8- and 16-bit images in linear light (decoded with the
        exact sRGB curve, encoded back; float images are taken as linear).

    Returns
    -------
    ndarray
        The image's dtype (integers rounded to nearest and clipped).

    Examples
    --------
    >>> import numpy as np
    >>> shift_cubic(np.array([[0, 0, 64, 0, 0]], dtype=np.uint8), dx=0.5, mode="edge")
    array([[ 0,  0, 38, 38,  0]], dtype=uint8)
    """
    arr = check_image(image)
    alpha = resolve_alpha(image, arr, alpha)
    mode = normalize_mode(mode)
    factors, before = _geometry(arr.ndim, dx, dy)
    cval_t = float(cast_like(np.asarray([_amount(cval, "cval")], dtype=np.float64), arr.dtype)[0])
    if all(len(f) == 1 for f in factors):
        ranges = tuple((-b, -b + n) for b, n in zip(before, arr.shape, strict=False))
        return extend(arr, ranges, mode, cval_t)
    use_alpha = has_alpha(arr, alpha)
    if not linear or arr.dtype not in (np.uint8, np.uint16):
        return _fractional(arr, factors, before, mode, cval_t, cval_t, use_alpha, threads)
    if not use_alpha:
        return _fractional(arr, factors, before, mode, cval_t, cval_t, False, threads, fused=True)
    top = float(np.iinfo(arr.dtype).max)
    cval_lin = float(to_linear(cval_t / top) * top)
    return in_linear_light(
        arr, True, lambda x: _fractional(x, factors, before, mode, cval_lin, cval_t, True, threads)
    )


def _fractional(arr, factors, before, mode, cval, alpha_cval, use_alpha, threads, *, fused=False):
    """A cubic shift: a separable 4-tap correlation through the core."""
    kernel = factors[0]
    for f in factors[1:]:
        kernel = np.multiply.outer(kernel, f)

    def run(x: np.ndarray, out_dtype=None, fill: float | None = None) -> np.ndarray:
        plan = plan_aligned(x.shape, kernel.shape, before)
        dtype = np.dtype(np.float32) if fused else float_dtype(x.dtype)

        def finish(results, out):
            if fused:
                encode(results[0], out.dtype, out=out)
            else:
                out[...] = cast_like(results[0], out.dtype)

        return run_linear(
            x,
            kernel,
            plan,
            mode,
            cval if fill is None else fill,
            dtype,
            threads,
            factors=factors,
            combine=finish if out_dtype is not None else None,
            out_dtype=out_dtype,
            source=decode if fused else None,
        )

    if use_alpha:
        smoothed = smooth_premultiplied(
            arr, run, constant_border=mode == "constant", cval=cval, alpha_cval=alpha_cval
        )
        return cast_like(smoothed, arr.dtype)
    return run(arr, arr.dtype)
