"""How much memory and work one call may take, whatever its parameters.

One rule, checked before any pixel is touched, so a parameter typed with
one zero too many is an error naming it, never an out-of-memory kill:

- Linear filters (correlate, convolve, blur, gaussian, shift, Sobel...) have
  no window bound: kernels longer than the image are folded onto the border
  mode's period (:mod:`imgfilter.core.fold`), so their halos and work are
  bounded by the image. Only their result is: at most
  ``MAX_RESULT_GROWTH`` times the image's elements (or ``MIN_RESULT_CAP``
  elements for small images), which only a ``padding`` wider than the
  image can exceed.
- Filters whose windows cannot be folded (median, bilateral) refuse a
  window whose work, output pixels x taps per output, exceeds ``MAX_WORK``,
  or whose border-extended band would hold more than
  ``max(MAX_BLOCK_GROWTH x the image's bytes, MIN_BLOCK_BYTES)``.
  A tap table (bilateral's circular window) holds at most
  ``MAX_WINDOW_TAPS`` taps, and a box footprint built from ``size=`` (rank
  filters, minimum/maximum, morphology) at most ``MAX_FOOTPRINT_PIXELS``.
- Pooling windows and strides are clamped where that is exact, and shifts
  beyond ``MAX_SHIFT`` pixels (where no pixel of any image lands) refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod

from .names import OptionError

# Output pixels x taps per output: about a minute of one core's work.
MAX_WORK = 10**11
# A band's border-extended block: a small multiple of the image (or 256 MiB).
MAX_BLOCK_GROWTH = 8
MIN_BLOCK_BYTES = 2**28
# Entries of a window's tap table (bilateral: diameter up to about 1630).
MAX_WINDOW_TAPS = 2**21
# Pixels of a box footprint built from size= (rank and min/max filters,
# morphology): one byte each, so at most 64 MiB (a box of 8192 x 8192).
MAX_FOOTPRINT_PIXELS = 2**26
# Result elements relative to the image's (padding wider than the image).
MAX_RESULT_GROWTH = 16
MIN_RESULT_CAP = 2**24
# Shift amounts, in pixels: keeps every coordinate an exact int64.
MAX_SHIFT = 2**48


def _beyond_block_bound(nbytes: int, image_bytes: int) -> str:
    """How ``nbytes`` exceeds the band bound of an image of ``image_bytes`` (for the error), or ""."""
    cap = max(MAX_BLOCK_GROWTH * int(image_bytes), MIN_BLOCK_BYTES)
    if nbytes <= cap:
        return ""
    return (
        f"beyond max({MAX_BLOCK_GROWTH} x the image, {MIN_BLOCK_BYTES // 2**20} MiB) = "
        f"{cap / 2**20:.0f} MiB (imgfilter.core.bounds)"
    )


def check_window(
    name: str,
    value: object,
    *,
    outputs: int,
    taps: int,
    block_bytes: int,
    image_bytes: int,
    table: int = 0,
) -> None:
    """Refuse a window (given as parameter ``name`` = ``value``) beyond the bounds.

    ``outputs`` x ``taps`` is the work; ``block_bytes`` the size of the
    smallest band's border-extended block; ``table`` the taps of a tap table
    held in memory (0: none).
    """
    work = int(outputs) * int(taps)
    if work > MAX_WORK:
        raise OptionError(
            f"{name}={value!r} is too large for this image: {outputs} outputs x {taps} taps = "
            f"{work:.3g} window reads, beyond the bound of {MAX_WORK:.0e} "
            "(imgfilter.core.bounds.MAX_WORK)"
        )
    beyond = _beyond_block_bound(block_bytes, image_bytes)
    if beyond:
        raise OptionError(
            f"{name}={value!r} is too large for this image: its border-extended band would "
            f"take {block_bytes / 2**20:.0f} MiB, {beyond}"
        )
    if table > MAX_WINDOW_TAPS:
        raise OptionError(
            f"{name}={value!r} gives a window of {table} taps, beyond the bound of "
            f"{MAX_WINDOW_TAPS} (imgfilter.core.bounds.MAX_WINDOW_TAPS)"
        )


def check_footprint_size(name: str, value: object, shape: Sequence[int]) -> None:
    """Refuse a box footprint of ``shape`` (built from parameter ``name`` = ``value``) beyond the bound."""
    pixels = prod(int(n) for n in shape)
    if pixels > MAX_FOOTPRINT_PIXELS:
        raise OptionError(
            f"{name}={value!r} is too large: a footprint of {' x '.join(str(int(n)) for n in shape)} = "
            f"{pixels:.3g} pixels, beyond the bound of {MAX_FOOTPRINT_PIXELS} "
            "(imgfilter.core.bounds.MAX_FOOTPRINT_PIXELS)"
        )


def check_result_size(in_shape: Sequence[int], out_shape: Sequence[int]) -> None:
    """Refuse a result (of a linear filter) far larger than its image: padding wider than it."""
    n_in, n_out = prod(in_shape), prod(out_shape)
    cap = max(MAX_RESULT_GROWTH * n_in, MIN_RESULT_CAP)
    if n_out > cap:
        raise OptionError(
            f"padding and kernel give a result of shape {tuple(out_shape)} ({n_out:.3g} elements) "
            f"from an image of shape {tuple(in_shape)}: beyond max({MAX_RESULT_GROWTH} x the "
            f"image, {MIN_RESULT_CAP}) elements (imgfilter.core.bounds); use padding='same' or 'valid'"
        )


def check_shift(name: str, value: float) -> None:
    """Refuse a shift amount beyond ``MAX_SHIFT`` pixels."""
    if abs(value) > MAX_SHIFT:
        raise OptionError(
            f"{name}={value!r} is beyond the bound of {MAX_SHIFT} pixels (2**48, "
            "imgfilter.core.bounds.MAX_SHIFT); no image is that large"
        )


def check_dense_kernel(shape: Sequence[int], itemsize: int, image_bytes: int) -> None:
    """Refuse to build a dense kernel (from separable factors) larger than the band bound.

    Only the tap and FFT methods read every tap of a separable kernel (when
    forced, ``method="taps"``); the separable ones never build it.
    """
    size = prod(int(n) for n in shape) * int(itemsize)
    beyond = _beyond_block_bound(size, image_bytes)
    if beyond:
        raise OptionError(
            f"kernel of shape {tuple(shape)} would take {size / 2**20:.0f} MiB as a dense array, "
            f"{beyond}; use method='separable'"
        )
