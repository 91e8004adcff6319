"""Shift: move the image by whole or fractional pixels."""

from __future__ import annotations

import math

import numpy as np

from ..core.alpha import smooth_premultiplied
from ..core.border import extend
from ..core.bounds import check_shift
from ..core.dtypes import cast_like, float_dtype, value_top
from ..core.footprint import Footprint
from ..core.linear import power_of_two_split, run_linear
from ..core.linear import run_normalized as run_linear_normalized
from ..core.masked import restore_missing, validity
from ..core.names import OptionError
from ..core.options import normalize_mode, plan_aligned
from ..core.srgb import Encoding, decode, in_linear_light, to_linear
from ._dispatch import dispatch
from ._docs import docfiller


def _amount(value: object, name: str) -> float:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise OptionError(f"{name} must be finite, got {value!r}")
    if name in ("dx", "dy"):
        check_shift(name, v)  # bounds: every coordinate stays an exact int64 (core/bounds)
    return v


def _bilinear_taps(amount: float) -> tuple[np.ndarray, int]:
    # out[x] = (1 - f) * in[x - n] + f * in[x - n - 1]: a 2-tap correlation
    # whose first tap reads n + 1 pixels before the output pixel.
    w = math.floor(amount)
    f = amount - w
    return (np.array([f, 1.0 - f]), w + 1) if f else (np.array([1.0]), w)


def _geometry(ndim: int, dx: object, dy: object, interpolation: str = "bilinear"):
    """(factors, before): shift as a correlation whose tap 0 reads ``before`` pixels back."""
    amounts = (_amount(dy, "dy"), _amount(dx, "dx"))[: min(2, ndim)]
    if ndim == 1 and amounts[0] == 0 and _amount(dx, "dx") != 0:
        raise ValueError("a 1-D image has no columns to shift by dx; use dy")
    if interpolation == "cubic":
        from ._cubic import cubic_taps as taps
    else:
        taps = _bilinear_taps
    factors, before = zip(*(taps(a) for a in amounts), strict=True)
    return list(factors), tuple(before)


INTERPOLATIONS = ("bilinear", "cubic")

#: Missing pixels: a sample is missing when its valid taps weigh at most this
#: (in absolute value). Bilinear taps are positive, so only a sample with no
#: valid tap is; Keys' cubic has negative lobes, and a sample whose valid
#: taps nearly cancel would divide by almost nothing (an unbounded overshoot).
MISSING_BELOW = {"bilinear": 0.0, "cubic": 0.25}


def _interpolation(name: object) -> str:
    key = str(name).strip().lower()
    if key not in INTERPOLATIONS:
        raise OptionError(f"interpolation={name!r} is not valid; use one of {', '.join(INTERPOLATIONS)}")
    return key


def shift_footprint(shape, dx=0, dy=0, *, mode="constant", cval=0, interpolation="bilinear", **_):
    factors, before = _geometry(len(shape), dx, dy, _interpolation(interpolation))
    plan = plan_aligned(tuple(shape), tuple(len(f) for f in factors), before)
    return Footprint(plan, normalize_mode(mode), float(cval))


@dispatch(shift_footprint, alpha="premultiply", missing=True, linear="own")
@docfiller
def shift(
    image: np.ndarray,
    dx: float = 0,
    dy: float = 0,
    *,
    mode: str = "constant",
    cval: float = 0,
    alpha: bool | None = None,
    threads: int | None = None,
    linear: bool = False,
    interpolation: str = "bilinear",
    nan: str = "propagate",
    mask: object = None,
    axes: object = None,
) -> np.ndarray:
    """Move the image by (dx, dy) pixels: positive dx right, positive dy down.

    Whole-pixel shifts are exact copies (``mode="constant"`` fills with
    ``cval``; ``"wrap"`` equals ``numpy.roll``). Fractional shifts are
    bilinear, in one separable pass through the core: equal to
    ``scipy.ndimage.shift(order=1)`` with SciPy's grid modes
    (``"grid-constant"``, ``"nearest"``, ``"mirror"``, ``"reflect"``,
    ``"grid-wrap"``).

    Parameters
    ----------
    %(image)s
    dx, dy : float, optional
        Shift along columns (right) and rows (down).
    mode : str, optional
        What enters at the border, as in :func:`imgfilter.correlate`.
    cval : float, optional
        Fill value for ``mode="constant"`` (clipped to an integer dtype's
        range, never wrapped).
    alpha : bool, optional
        Whether the last channel is alpha (default: not for a numpy array,
        which is data; yes for a PIL image with an alpha band; see
        :func:`imgfilter.core.alpha.resolve_alpha`). Alpha
        moves with the colour; fractional shifts interpolate premultiplied
        colour so transparent pixels leave no dark fringe.
    %(threads)s
    %(linear)s
    interpolation : {"bilinear", "cubic"}, optional
        How fractional shifts sample: ``"bilinear"`` (2 taps per axis) or
        ``"cubic"``, Keys' convolution kernel with a = -0.75 (4 taps per
        axis), OpenCV's ``warpAffine(INTER_CUBIC)`` with the matching
        border. SciPy's ``shift(order=3)`` is a B-spline interpolation, a
        different filter.
    nan : {"propagate", "ignore", "keep"}, optional
        Missing pixels: ``"ignore"`` interpolates from the valid taps only,
        sum(k v x) / sum(k v) over the taps k of the sample (validity v:
        the one normalized mechanism of :mod:`imgfilter.core.masked`); a
        sample whose valid taps weigh nothing (bilinear) or at most 1/4 in
        absolute value (cubic, whose negative lobes could otherwise cancel
        its positive ones and divide by almost nothing) is missing: NaN
        for floats, the pixel's own value for integers. ``"keep"`` also
        puts NaN back where it was. Samples with every tap valid are
        exactly the plain shift's. With ``linear=True`` the valid pixels
        are interpolated in linear light. Not with ``alpha=True``.
    %(mask)s
    %(axes)s

    Returns
    -------
    ndarray
        The image's dtype (fractional results rounded to nearest).

    Examples
    --------
    >>> import numpy as np
    >>> shift(np.array([[1, 2, 3]]), dx=1)
    array([[0, 1, 2]])
    >>> shift(np.array([[0.0, 2.0, 4.0]]), dx=0.5, mode="edge")
    array([[0., 1., 3.]])
    """
    arr = image
    key = _interpolation(interpolation)
    mode = normalize_mode(mode)
    factors, before = _geometry(arr.ndim, dx, dy, key)
    cval_t = float(cast_like(np.asarray([_amount(cval, "cval")], dtype=np.float64), arr.dtype)[0])
    # lazy: NaN holes found band by band by the fused kernel, no validity array.
    valid = validity(arr, nan, mask, lazy=not alpha)
    if valid is not None:
        if alpha:
            raise OptionError(
                "nan=/mask= with alpha=True: shift takes missing pixels only without alpha "
                "(pass alpha=False, or fill the missing pixels first)"
            )
        return _missing(arr, valid, factors, before, mode, cval_t, nan, linear, threads, MISSING_BELOW[key])
    if all(len(f) == 1 for f in factors):
        # Whole pixels are copies, in linear light too (every code round-trips).
        ranges = tuple((-b, -b + n) for b, n in zip(before, arr.shape, strict=False))
        return extend(arr, ranges, mode, cval_t)
    use_alpha = alpha
    if not linear or arr.dtype not in (np.uint8, np.uint16):
        return _fractional(arr, factors, before, mode, cval_t, cval_t, use_alpha, threads)
    if not use_alpha:
        # Decoded and encoded band by band on the threads; cval is a code,
        # decoded like the pixels.
        return _fractional(arr, factors, before, mode, cval_t, cval_t, False, threads, fused=True)
    # cval is a code in every channel: its light for colour, as it is for alpha.
    top = float(value_top(arr.dtype))
    cval_lin = float(to_linear(cval_t / top) * top)
    return in_linear_light(
        arr, True, lambda x: _fractional(x, factors, before, mode, cval_lin, cval_t, True, threads)
    )


def _missing(arr, valid, factors, before, mode, cval, nan, linear, threads, tiny):
    """The shift over the valid pixels: normalized interpolation, band by band in the core."""
    # Shape only: the separable passes never build the dense kernel.
    kernel = np.broadcast_to(1.0, tuple(len(f) for f in factors))

    def run(x: np.ndarray) -> np.ndarray:
        plan = plan_aligned(x.shape, kernel.shape, before)
        fill = cval
        if x.dtype != arr.dtype:
            # Decoded to linear light: cval is a code, decoded like the pixels.
            top = float(value_top(arr.dtype))
            fill = float(to_linear(cval / top) * top)
        return run_linear_normalized(
            x,
            valid,
            kernel,
            plan,
            mode,
            fill,
            float_dtype(x.dtype),
            threads,
            factors,
            tiny=tiny,
            full_is_plain=True,
        )

    if linear and arr.dtype in (np.uint8, np.uint16):
        # Holes (no valid tap) keep the pixel's own code, as restore_missing does.
        out = in_linear_light(arr, False, run)
        if nan == "keep":
            np.copyto(out, arr, where=~valid)
        return out
    return restore_missing(run(arr), arr, valid, nan)


def _fractional(arr, factors, before, mode, cval, alpha_cval, use_alpha, threads, *, fused=False):
    """A bilinear shift: a separable 2-tap correlation through the core."""
    # Half and quarter pixels: integer taps and one power-of-two scale at the
    # end (inside the encoding in linear light), the same bits in fewer passes.
    ints, exponent = power_of_two_split(factors)
    kernel = ints[0]
    for f in ints[1:]:
        kernel = np.multiply.outer(kernel, f)

    def run(x: np.ndarray, out_dtype=None, fill: float | None = None) -> np.ndarray:
        plan = plan_aligned(x.shape, kernel.shape, before)
        dtype = np.dtype(np.float32) if fused else float_dtype(x.dtype)

        # Without the sRGB codec the scale and the rounding are the core's store:
        # sum / 2**e is sum * 2**-e (the same real number, rounded once), and it
        # rounds half to even and clips as cast_like does, in the compiled pass.
        return run_linear(
            x,
            kernel,
            plan,
            mode,
            cval if fill is None else fill,
            dtype,
            threads,
            factors=ints,
            combine=Encoding(exponent=exponent) if fused else None,
            out_dtype=out_dtype,
            source=decode if fused else None,
            divide=2.0**exponent if exponent and not fused else None,
        )

    if use_alpha:
        smoothed = smooth_premultiplied(
            arr, run, constant_border=mode == "constant", cval=cval, alpha_cval=alpha_cval
        )
        return cast_like(smoothed, arr.dtype)
    return run(arr, arr.dtype)
