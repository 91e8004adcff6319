"""Alpha: which channel it is, and how each kind of filter treats it.

Edge filters and the median leave alpha as it is (sampled like the colour
when the geometry changes); smoothing filters weight colour by alpha
(premultiplied), so transparent pixels never bleed into visible ones.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .dtypes import alpha_max, float_dtype
from .footprint import Footprint, is_dask
from .linear import run_linear
from .masked import normalized
from .names import normalize_mode
from .options import IntOrTuple, PaddingSpec, plan_window

__all__ = ["alpha_max", "centre_sample", "has_alpha", "keep_alpha", "resolve_alpha", "smooth_premultiplied"]


def has_alpha(image: np.ndarray, alpha: bool | None) -> bool:
    """Whether the last channel of ``image`` is alpha.

    ``alpha=None`` follows the channels-last convention of Pillow and of the
    files :func:`imgfilter.imread` reads: 2 channels are L+A and 4 are RGB+A.
    The public filters never pass None here: they resolve their ``alpha=``
    first with :func:`resolve_alpha` (an array is data unless told otherwise).
    """
    if alpha is None:
        return image.ndim == 3 and image.shape[2] in (2, 4)
    if alpha and (image.ndim != 3 or image.shape[2] < 2):
        raise ValueError(f"alpha=True needs an (H, W, C) image with C >= 2, got shape {image.shape}")
    return bool(alpha)


def resolve_alpha(image: object, arr: np.ndarray, alpha: bool | None) -> bool:
    """The public filters' ``alpha=`` rule: an array is data unless told otherwise.

    ``alpha=None`` means False for arrays (an (H, W, 2) flow field or an
    RGB+NIR stack is four bands of data, not colour and alpha) and True for
    a PIL image with an alpha band (LA, RGBA, PA, or a palette with
    transparency, which reads as RGBA). The CLI knows each file's mode and
    passes ``alpha=`` explicitly. True and False are checked against the shape.
    """
    if alpha is None:
        is_pil = hasattr(image, "getbands") and hasattr(image, "mode")
        return bool(is_pil and arr.ndim == 3 and arr.shape[2] in (2, 4))
    return has_alpha(arr, alpha)


def smooth_premultiplied(
    image: np.ndarray,
    smooth: Callable[[np.ndarray], np.ndarray],
    *,
    constant_border: bool = False,
    cval: float = 0.0,
    alpha_cval: float | None = None,
) -> np.ndarray:
    """Apply a linear smoothing ``smooth`` to colour+alpha with premultiplied colour.

    Colour is weighted by alpha before smoothing and divided by the smoothed
    alpha after, so fully transparent pixels (whose colour is meaningless)
    never bleed into visible ones. ``smooth`` maps a float (H, W, C) array to
    one of the same shape. Returns floats in the image's value scale.

    ``constant_border`` says the smoothing pads with the constant ``cval``
    in every channel, alpha included (0: transparent black; ``alpha_cval``
    when alpha's differs, as in linear light where colour's is decoded), so even a
    fully opaque image has other pixels beyond its edge and must be
    premultiplied; ``smooth(x, fill=...)`` must then take the padding value
    (the premultiplied colour, or the weight, of a ``cval`` pixel).
    """
    dtype = float_dtype(image.dtype)
    if not constant_border and np.all(image[..., -1] == alpha_max(image.dtype)):
        # Fully opaque, inside and beyond the border: premultiplying would only add rounding.
        return smooth(image.astype(dtype))
    # The one weighted normalization of core.masked, with alpha as the weight
    # (outside the image the smoothing's own fill, 0, is transparent).
    amax = dtype.type(alpha_max(image.dtype))
    a = image[..., -1].astype(dtype) / amax
    colour = image[..., :-1]
    weight = np.broadcast_to(a[..., None], colour.shape)
    # Opaque windows keep the plain sum (see normalized's ``full``), so the
    # result does not depend on whether some other pixel, or some other chunk
    # of a Dask array, is transparent. Beyond a non-constant border an opaque
    # window stays opaque: its weight sum is that of a 1-pixel image of 1.
    full = None if constant_border else float(smooth(np.ones((1,) * (image.ndim - 1) + (1,), dtype)).flat[0])
    outside_alpha = cval if alpha_cval is None else alpha_cval
    if constant_border and (cval != 0 or outside_alpha != 0):
        outside = outside_alpha / float(amax)  # a cval pixel's opacity
        # As normalized() premultiplies a pixel: no positive weight, no colour.
        fills = (cval * outside if outside > 0 else 0.0, outside)

        def run(x, fill):
            return smooth(x, fill=fills[0] if fill is None else fills[1])
    else:

        def run(x, fill):
            return smooth(x)

    out, den = normalized(run, colour, weight, dtype, full=full)
    # Fully transparent windows (weight sum exactly 0: the sums are direct)
    # have no colour to speak of: 0. A NaN colour under a visible pixel
    # stays NaN, as it does when the image is fully opaque.
    np.copyto(out, 0, where=np.broadcast_to(den == 0, out.shape))
    return np.concatenate([out, den[..., :1] * amax], axis=-1)


def _centre_footprint(shape, eff_shape, padding="same", stride=1, mode="edge", cval=0.0, **_):
    plan = plan_window(tuple(shape), tuple(eff_shape), padding, stride, 1)
    return Footprint(plan, normalize_mode(mode), float(cval), padding_arg=True)


def centre_sample(
    channel: np.ndarray,
    eff_shape: tuple[int, ...],
    padding: PaddingSpec = "same",
    stride: IntOrTuple = 1,
    mode: str = "edge",
    cval: float = 0.0,
) -> np.ndarray:
    """Sample ``channel`` at each window's centre (kernel index e // 2).

    Gives alpha the geometry of a filtered result (stride, "valid", "full")
    through the core itself; beyond the border ``mode`` (and ``cval``)
    decide, as for the filtered pixels.
    """
    if is_dask(channel):
        # A lazy alpha (the CLI's chunked writes): the chunked engine, this on each block.
        from .chunked import apply_chunked

        arguments = {"image": channel, "eff_shape": tuple(eff_shape), "padding": padding}
        arguments.update(stride=stride, mode=mode, cval=cval)
        return apply_chunked(centre_sample, _centre_footprint, arguments)
    delta = np.zeros(eff_shape)
    delta[tuple(e // 2 for e in eff_shape)] = 1.0
    # What correlate(channel, delta, ...) computes, straight on the engine.
    plan = plan_window(channel.shape, delta.shape, padding, stride, 1)
    return run_linear(
        channel, delta, plan, normalize_mode(mode), float(cval), float_dtype(channel.dtype), None
    )


def keep_alpha(
    image: np.ndarray,
    run: Callable[[np.ndarray], np.ndarray],
    alpha: bool,
    eff_shape: tuple[int, ...] = (1, 1),
    padding: PaddingSpec = "same",
    stride: IntOrTuple = 1,
    mode: str = "edge",
    cval: float = 0.0,
) -> np.ndarray:
    """``run`` on the colour channels; alpha carried along unfiltered.

    Where padding puts a window's centre beyond the border, alpha there is
    what the filter's border ``mode`` puts there, as for the colour: the
    mirrored, repeated or wrapped alpha, or ``cval`` in constant mode (0:
    transparent, since that output pixel lies outside the image).
    """
    if not alpha:
        return run(image)
    colour = run(image[..., :-1])
    a = image[..., -1:]
    same = isinstance(padding, str) and padding.strip().lower() == "same"
    if not same or any(s != 1 for s in np.atleast_1d(stride)):
        # Any other geometry moves the windows' centres, even at an equal size
        # (asymmetric padding): alpha is sampled where they are.
        a = centre_sample(a, eff_shape, padding, stride, mode, cval)
    return np.concatenate([colour, a.astype(colour.dtype, copy=False)], axis=-1)
