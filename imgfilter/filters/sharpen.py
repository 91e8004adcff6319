"""Unsharp masking: add back the detail a Gaussian blur removes.

``out = image + amount * (image - gaussian(image, sigma))`` where the
detail ``|image - blur|`` exceeds ``threshold``, else ``image``.

How the peers' parameters map onto these (the formula is the same):

- scikit-image ``unsharp_mask(image, radius, amount, preserve_range=True,
  channel_axis=-1)`` is ``unsharp(image, sigma=radius, amount=amount,
  mode="symmetric")`` on float images (its ``radius`` is the Gaussian's
  sigma; its blur's mode="reflect" is our "symmetric"; it has no
  threshold). Without ``preserve_range`` it first scales integers to
  0..1 and clips the result to 0..1 (or -1..1).
- ImageMagick ``-unsharp RxS+G+T``: ``sigma=S``, ``amount=G``; R only
  truncates IM's kernel (0: automatic; ours is 4 sigma); IM leaves a pixel
  unchanged where ``|2 (image - blur)| < T * QuantumRange``, so
  ``threshold = T * QuantumRange / 2`` (e.g. 0.05 on an 8-bit image:
  ``threshold=6.375``), equal up to pixels exactly at the threshold.
- Pillow ``ImageFilter.UnsharpMask(radius, percent, threshold)``:
  ``amount = percent / 100``; Pillow sharpens where the 8-bit difference
  from its blur (rounded to integers) is ``>= threshold`` levels, roughly
  ``threshold - 0.5`` here; its blur is an extended box approximation of
  a Gaussian of standard deviation ``radius``, so values differ slightly.
"""

from __future__ import annotations

import math

import numpy as np

from ..core.alpha import has_alpha
from ..core.dtypes import cast_like, float_dtype
from ..core.fold import fold_same
from ..core.footprint import Footprint
from ..core.linear import run_linear
from ..core.masked import NanHoles, validity
from ..core.names import OptionError
from ..core.options import normalize_mode, plan_window
from ..core.srgb import in_linear_light
from ..core.tiles import run_bands
from ._dispatch import dispatch
from ._docs import docfiller
from .smooth import _gaussian_factors, gaussian


def _number(value: object, name: str, *, minimum: float | None = None) -> float:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v) or (minimum is not None and v < minimum):
        bound = "" if minimum is None else f" and >= {minimum:g}"
        raise OptionError(f"{name} must be finite{bound}, got {value!r}")
    return v


def unsharp_footprint(shape, *, sigma=1.0, mode="reflect", truncate=4.0, **_):
    factors = _gaussian_factors(sigma, truncate, len(shape))
    kshape = tuple(len(f) for f in factors)
    return Footprint(plan_window(tuple(shape), kshape, "same", 1, 1), normalize_mode(mode))


# alpha="premultiply": the body compares colour with an alpha-weighted blur;
# linear="own": it decodes to float64 light (16-bit codes need the digits).
@dispatch(unsharp_footprint, alpha="premultiply", missing=True, linear="own")
@docfiller
def unsharp(
    image: np.ndarray,
    *,
    sigma: float = 1.0,
    amount: float = 1.0,
    threshold: float = 0,
    linear: bool = False,
    mode: str = "reflect",
    truncate: float = 4.0,
    alpha: bool | None = None,
    threads: int | None = None,
    nan: str = "propagate",
    mask: object = None,
    axes: object = None,
) -> np.ndarray:
    """Unsharp masking: ``image + amount * (image - gaussian(image, sigma))``.

    The blur is :func:`imgfilter.gaussian` (scipy.ndimage's kernel); the
    detail is added only where ``|image - blur| > threshold``; the sum is
    computed in float and rounded and clipped to the image's dtype once.
    See :mod:`imgfilter.filters.sharpen` for scikit-image's, ImageMagick's
    and Pillow's parameters in these terms.

    Parameters
    ----------
    %(image_missing)s
    sigma : float or (float, float), optional
        The blur's standard deviation in pixels, > 0.
    amount : float, optional
        Strength (1.0: the detail added once; 0: the image unchanged;
        negative values blur).
    threshold : float, optional
        Smallest detail sharpened, >= 0, in the image's units (levels for
        integer images; in linear light, on the decoded 0..max scale).
    linear : bool, optional
        Sharpen 8- and 16-bit images in linear light (decoded with the exact
        sRGB curve, encoded back; float images are taken as linear).
        Overshoots are then symmetric in light rather than in code values.
    mode : str, optional
        The blur's border mode, as in :func:`imgfilter.correlate`.
    truncate : float, optional
        The blur's radius in sigmas.
    alpha : bool, optional
        Whether the last channel is alpha (default: not for a numpy array).
        Colour is compared with a blur premultiplied by alpha (transparent
        pixels do not darken edges); alpha passes through unchanged.
    %(threads)s
    nan : {"propagate", "ignore", "keep"}, optional
        ``"ignore"``: the blur averages only the valid pixels (as
        :func:`imgfilter.gaussian` with ``nan="ignore"``), valid pixels are
        sharpened against it, and a missing pixel takes that blur (it has no
        detail of its own to add); ``"keep"`` puts NaN back there. A pixel
        with no valid pixel under the blur is NaN in float images and keeps
        its value in integer images.
    mask : array_like of bool, optional
        True = valid (spatial shape, broadcast over channels, or the image's
        shape), for any dtype: masked-out pixels are left out of the blur
        and take it, as NaN pixels under ``nan="ignore"``.
    %(axes)s

    Returns
    -------
    ndarray
        The image's dtype (integers rounded to nearest and clipped).

    Examples
    --------
    >>> import numpy as np
    >>> unsharp(np.array([[10, 10, 50, 50]] * 3, dtype=np.uint8), sigma=1.0, mode="edge")
    array([[ 8,  0, 62, 52],
           [ 8,  0, 62, 52],
           [ 8,  0, 62, 52]], dtype=uint8)
    """
    arr = image
    amt = _number(amount, "amount")
    thr = _number(threshold, "threshold", minimum=0.0)
    use_alpha = has_alpha(arr, alpha)
    if linear and arr.dtype in (np.uint8, np.uint16):
        return in_linear_light(
            arr,
            use_alpha,
            # Decoded light in float64: 16-bit codes resolve float32 rounding.
            lambda x: _unsharp(
                x.astype(np.float64), sigma, amt, thr, mode, truncate, use_alpha, threads, nan, mask
            ),
        )
    return _unsharp(arr, sigma, amt, thr, mode, truncate, use_alpha, threads, nan, mask)


def _unsharp(arr, sigma, amount, threshold, mode, truncate, use_alpha, threads, nan, mask):
    # Integers in float64: the one rounding at the end is then that of exact
    # arithmetic, and a detail exactly at the threshold is seen as such.
    # (float32 sums put about 1 pixel in 100,000 a level off, flip details
    # within ~1e-5 of the threshold, and differ between the engine's uint8
    # and float32 loads; float64 costs ~3x in the engine's separable pass.)
    work = np.dtype(np.float64) if arr.dtype.kind in "biu" else float_dtype(arr.dtype)
    valid = validity(arr, nan, mask, lazy=not use_alpha)
    if not use_alpha and valid is None:
        return _unsharp_bands(arr, sigma, amount, threshold, mode, truncate, work, threads)
    x = arr.astype(work, copy=False)
    blur = gaussian(
        x, sigma, mode=mode, truncate=truncate, alpha=use_alpha, threads=threads, nan=nan, mask=mask
    )
    if isinstance(valid, NanHoles):
        if np.may_share_memory(blur, x):
            blur = blur.copy()
        # Sharpened in place in the blur, band by band in cache (the NaN pixels keep it).
        # (NanHoles: a float image, so no integer pixel to give back where the blur is NaN.)
        _sharpen_missing(x, blur, amount, threshold, threads)
        return cast_like(blur, arr.dtype)
    colour = x[..., :-1] if use_alpha else x
    soft = blur[..., :-1] if use_alpha else blur
    detail = colour - soft
    if threshold > 0:
        with np.errstate(invalid="ignore"):
            detail[~(np.abs(detail) > work.type(threshold))] = 0
    # colour + amount * detail, in place (x + y is y + x, bit for bit).
    sharp = detail
    if amount != 1:
        sharp *= work.type(amount)
    sharp += colour
    if valid is not None:
        v = valid[..., :-1] if use_alpha else valid
        # Missing pixels have no detail of their own: they take the blur.
        gone = np.isnan(colour) if isinstance(v, NanHoles) else ~np.broadcast_to(v, sharp.shape)
        sharp[gone] = soft[gone]
    if use_alpha:
        sharp = np.concatenate([sharp, x[..., -1:]], axis=-1)
    if arr.dtype.kind != "f":
        holes = np.isnan(sharp)
        if holes.any():
            # No valid pixel under the blur: an integer pixel keeps its value.
            sharp[holes] = x[holes]
    return cast_like(sharp, arr.dtype)


def _sharpen_missing(x, blur, amount, threshold, threads):
    """``blur`` becomes the sharpened image in place: x + amount * (x - blur) where x is
    not NaN (and the detail exceeds ``threshold``), the blur itself where x is NaN.

    The same values as the whole-image passes (detail, threshold, ``* amount``,
    ``+ x``, then the blur back at the missing pixels), element by element, but
    per band of rows while it is in cache, on the core's pool."""
    t = x.dtype.type(threshold)
    a = x.dtype.type(amount)
    rest = int(np.prod(x.shape[1:], dtype=np.int64))

    def work(r0: int, r1: int) -> None:
        c = x[r0:r1]
        s = blur[r0:r1]
        flat = s.reshape(-1)
        # The few NaN pixels' blur, set aside: the band is then sharpened in place.
        gone = np.flatnonzero(np.isnan(c))
        soft = flat[gone]
        d = np.subtract(c, s, out=s)
        if threshold > 0:
            with np.errstate(invalid="ignore"):
                d[~(np.abs(d) > t)] = 0
        if amount != 1:
            d *= a
        d += c
        flat[gone] = soft

    run_bands(x.shape[0], 4 * x.itemsize * rest, work, threads=threads)


def _sharpen(x: np.ndarray, blur: np.ndarray, amount: float, threshold: float) -> np.ndarray:
    """x + amount * (x - blur) where |x - blur| > threshold, in place in ``blur``."""
    detail = np.subtract(x, blur, out=blur)
    if threshold > 0:
        with np.errstate(invalid="ignore"):
            detail[~(np.abs(detail) > detail.dtype.type(threshold))] = 0
    if amount != 1:
        detail *= detail.dtype.type(amount)
    detail += x
    return detail


def _unsharp_bands(arr, sigma, amount, threshold, mode, truncate, work, threads):
    """The plain case in one pass of the core: per band, the blur and the pixels
    (a centre tap on the same extended block), sharpened and rounded in cache.

    The blur is :func:`imgfilter.gaussian`'s (the same factors, the same engine
    sums), so the result equals the unfused formula bit for bit.
    """
    # Folded first, as gaussian() folds them (core/fold.py): the centre tap's
    # dense kernel then spans at most about twice the image, whatever sigma.
    factors = fold_same(_gaussian_factors(sigma, truncate, arr.ndim), arr.shape, normalize_mode(mode))
    shape = tuple(len(f) for f in factors)
    kernel = np.broadcast_to(1.0, shape)  # shape only: the separable passes never build it
    centre = np.zeros(shape)
    centre[tuple(k // 2 for k in shape)] = 1.0
    plan = plan_window(arr.shape, shape, "same", 1, 1)

    def combine(results, out):
        blur, x = results
        out[...] = cast_like(_sharpen(x, blur, amount, threshold), out.dtype)

    return run_linear(
        arr,
        kernel,
        plan,
        normalize_mode(mode),
        0.0,
        work,
        threads,
        factors=factors,
        also=(centre,),
        combine=combine,
        out_dtype=arr.dtype,
    )
