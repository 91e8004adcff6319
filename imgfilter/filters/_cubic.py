"""Cubic sub-pixel shift: Keys' convolution kernel (a = -0.75), as OpenCV's INTER_CUBIC.

The bilinear shift (:mod:`imgfilter.filters.shift`) is a separable 2-tap
correlation; the cubic one is the same with 4 taps per axis. This module
holds only the taps (:func:`cubic_taps`); everything else (the amounts'
checks and bounds, bands, border modes, threads, premultiplied alpha,
missing pixels, linear light, the dispatcher's inputs) is the one path of
:func:`imgfilter.shift`.

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

from ..core.names import OptionError

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


def cubic_taps(amount: float) -> tuple[np.ndarray, int]:
    """(factors, before) of one axis: the 4-tap correlation whose tap 0 reads ``before`` pixels back.

    ``amount`` is checked already (:func:`imgfilter.filters.shift._amount`).
    """
    # out[x] samples in[x - a]: floor(x - a) = x - w - 1 and frac = 1 - f
    # for a = w + f (0 < f < 1); the 4 taps start one pixel before that.
    w = math.floor(amount)
    f = amount - w
    if 1.0 - f >= 1.0:  # f == 0, or too small to move a sample at all
        return np.array([1.0]), w
    return cubic_factors(1.0 - f), w + 2


def shift_cubic(image: np.ndarray, dx: float = 0, dy: float = 0, **options) -> np.ndarray:
    """:func:`imgfilter.shift` with ``interpolation="cubic"`` (the same call, options and paths).

    Examples
    --------
    >>> import numpy as np
    >>> shift_cubic(np.array([[0, 0, 64, 0, 0]], dtype=np.uint8), dx=0.5, mode="edge")
    array([[ 0,  0, 38, 38,  0]], dtype=uint8)
    """
    from .shift import shift

    return shift(image, dx, dy, interpolation="cubic", **options)
