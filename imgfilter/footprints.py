"""Flat footprints (structuring elements) as boolean arrays.

A footprint says which pixels of a window a rank filter or a morphological
operation reads: True pixels count, False ones do not. Every function here
returns a new C-contiguous ``bool`` array, of at most
``imgfilter.core.bounds.MAX_FOOTPRINT_PIXELS`` pixels (refused before it is
built); any boolean (or 0/1) array of the image's spatial rank is a
footprint too (:func:`as_footprint` checks one).

Where the shapes of the peers coincide they are equal to them (the tests
check it): :func:`square` and :func:`rectangle` are scikit-image's
``footprint_rectangle`` and OpenCV's ``MORPH_RECT``, :func:`disk` and
:func:`diamond` scikit-image's ``disk`` and ``diamond``, :func:`cross`
OpenCV's ``MORPH_CROSS`` of side ``2 r + 1`` and :func:`ellipse` OpenCV's
``MORPH_ELLIPSE``. OpenCV's ellipse is *not* scikit-image's disk: for
``ellipse(2 r + 1, 2 r + 1)`` each row's half width is ``round(r sqrt(1 -
dy^2 / r^2))`` (rounded to nearest), while ``disk(r)`` keeps the pixels with
``dx^2 + dy^2 <= r^2`` (in effect rounded down): ``disk(3)`` has 29 pixels,
``ellipse(7, 7)`` 33 (its rows at ``dy = +-1`` reach ``dx = +-3``).

Examples
--------
>>> import imgfilter.footprints as fp
>>> fp.diamond(1).astype(int)
array([[0, 1, 0],
       [1, 1, 1],
       [0, 1, 0]])
"""

from __future__ import annotations

import math

import numpy as np

from .core.bounds import check_footprint_size
from .core.names import OptionError

__all__ = ["as_footprint", "cross", "diamond", "disk", "ellipse", "rectangle", "square"]


def _rows(r: int, half) -> np.ndarray:
    """A (2r+1)-square footprint whose row dy holds the columns within half(|dy|) of the
    centre, one row at a time (no grid of squared distances the size of the footprint)."""
    out = np.zeros((2 * r + 1, 2 * r + 1), dtype=bool)
    for dy in range(-r, r + 1):
        k = half(abs(dy))
        out[dy + r, r - k : r + k + 1] = True
    return out


def _count(value: object, name: str, minimum: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise OptionError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def square(n: int) -> np.ndarray:
    """An n x n square of True (scikit-image ``footprint_rectangle((n, n))``, OpenCV ``MORPH_RECT``).

    Examples
    --------
    >>> square(2)
    array([[ True,  True],
           [ True,  True]])
    """
    n = _count(n, "n", 1)
    check_footprint_size("n", n, (n, n))
    return np.ones((n, n), dtype=bool)


def rectangle(h: int, w: int) -> np.ndarray:
    """An h x w rectangle of True (h rows; OpenCV's ``getStructuringElement`` takes (w, h)).

    Examples
    --------
    >>> rectangle(1, 3)
    array([[ True,  True,  True]])
    """
    h, w = _count(h, "h", 1), _count(w, "w", 1)
    check_footprint_size("(h, w)", (h, w), (h, w))
    return np.ones((h, w), dtype=bool)


def disk(r: int) -> np.ndarray:
    """The pixels within Euclidean distance r of the centre: ``dx^2 + dy^2 <= r^2``.

    Side ``2 r + 1``; equal to scikit-image's ``disk(r)`` (its default
    ``strict_radius=True``). OpenCV's nearest shape, ``ellipse(2r+1, 2r+1)``,
    differs (see the module's notes).

    Examples
    --------
    >>> disk(1).astype(int)
    array([[0, 1, 0],
           [1, 1, 1],
           [0, 1, 0]])
    """
    r = _count(r, "r", 0)
    check_footprint_size("r", r, (2 * r + 1, 2 * r + 1))
    return _rows(r, lambda dy: math.isqrt(r * r - dy * dy))  # |dx| <= sqrt(r^2 - dy^2), exactly


def diamond(r: int) -> np.ndarray:
    """The pixels within city-block distance r of the centre: ``|dx| + |dy| <= r`` (scikit-image ``diamond``).

    Examples
    --------
    >>> diamond(0)
    array([[ True]])
    """
    r = _count(r, "r", 0)
    check_footprint_size("r", r, (2 * r + 1, 2 * r + 1))
    return _rows(r, lambda dy: r - dy)


def cross(r: int) -> np.ndarray:
    """A plus sign of arm length r: the centre row and column of a ``2 r + 1`` square.

    Equal to OpenCV's ``getStructuringElement(MORPH_CROSS, (2r+1, 2r+1))``
    (and to :func:`diamond` for r = 1).

    Examples
    --------
    >>> cross(1).astype(int)
    array([[0, 1, 0],
           [1, 1, 1],
           [0, 1, 0]])
    """
    r = _count(r, "r", 0)
    check_footprint_size("r", r, (2 * r + 1, 2 * r + 1))
    out = np.zeros((2 * r + 1, 2 * r + 1), dtype=bool)
    out[r, :] = True
    out[:, r] = True
    return out


def ellipse(h: int, w: int) -> np.ndarray:
    """An ellipse inscribed in an h x w box, exactly as OpenCV's ``MORPH_ELLIPSE`` of size (w, h).

    OpenCV's rule: with ``r = h // 2`` and ``c = w // 2``, row ``i`` (``dy =
    i - r``) holds the columns ``c - dx .. c + dx`` where ``dx = round(c
    sqrt((r^2 - dy^2) / r^2))`` (round half to even), clipped to the box.
    For even sizes the centre is ``(h // 2, w // 2)``, as OpenCV's anchor.
    This is not scikit-image's ``disk`` or ``ellipse`` (see the module notes).

    Examples
    --------
    >>> ellipse(3, 5).astype(int)
    array([[0, 0, 1, 0, 0],
           [1, 1, 1, 1, 1],
           [0, 0, 1, 0, 0]])
    """
    h, w = _count(h, "h", 1), _count(w, "w", 1)
    check_footprint_size("(h, w)", (h, w), (h, w))
    r, c = h // 2, w // 2
    inv_r2 = 1.0 / (r * r) if r else 0.0
    out = np.zeros((h, w), dtype=bool)
    for i in range(h):
        dy = i - r
        if abs(dy) <= r:
            dx = int(np.rint(c * np.sqrt((r * r - dy * dy) * inv_r2)))
            out[i, max(c - dx, 0) : min(c + dx + 1, w)] = True
    return out


def as_footprint(footprint: object, ndim: int | None = None, name: str = "footprint") -> np.ndarray:
    """Check a footprint and return it as a C-contiguous bool array.

    Accepts bool arrays and arrays of 0s and 1s (any numeric dtype) with at
    least one True; ``ndim``, when given, is the number of axes it must have
    (2 for an image's rows and columns, 3 for a volume).

    Examples
    --------
    >>> as_footprint([[0, 1], [1, 1]])
    array([[False,  True],
           [ True,  True]])
    """
    arr = np.asarray(footprint)
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a boolean array, got dtype {arr.dtype}")
    if arr.ndim == 0:
        raise OptionError(f"{name} must have at least one axis, got a scalar")
    if ndim is not None and arr.ndim != ndim:
        raise OptionError(f"{name} must have {ndim} axes, got shape {arr.shape}")
    if arr.size == 0:
        raise OptionError(f"{name} must not be empty, got shape {arr.shape}")
    if arr.dtype.kind != "b":
        if not np.all((arr == 0) | (arr == 1)):
            raise OptionError(f"{name} must hold only 0 and 1 (or bools)")
        arr = arr != 0
    if not arr.any():
        raise OptionError(f"{name} must have at least one True pixel")
    return np.ascontiguousarray(arr, dtype=bool)
