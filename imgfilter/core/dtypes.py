"""Dtype rules, each stated once: result and work types, value tops, rounding back.

A value never wraps around: integer results are rounded to nearest and
clipped to the dtype's range (300 becomes 255 in 8 bits, not 44).
"""

from __future__ import annotations

import numpy as np

# float32 holds every integer up to 2**24 exactly: sums of integer values
# below it are exact in float32, so a mean is rounded once, as float64 would.
EXACT_F32 = 2**24


def float_dtype(dtype: np.dtype) -> np.dtype:
    """Working/result dtype of a linear filter (and of the bilateral's kernel).

    float64 stays float64, and so do 32- and 64-bit integers, which float32
    (24-bit mantissa) cannot hold: ``blur`` of 16777217s gives 16777217, as
    SciPy does. 8- and 16-bit integers, float16 and float32 work in float32.
    """
    dt = np.dtype(dtype)
    # By kind and size, so big-endian ('>f8', as in FITS files) counts too.
    wide = dt.itemsize >= 8 if dt.kind == "f" else dt.kind in "iu" and dt.itemsize >= 4
    return np.dtype(np.float64) if wide else np.dtype(np.float32)


def value_top(dtype: np.dtype) -> int:
    """The largest value of a bool or integer dtype (1 for bool)."""
    dt = np.dtype(dtype)
    return 1 if dt.kind == "b" else int(np.iinfo(dt).max)


def lowest(dtype: np.dtype) -> float | int | bool:
    """The dtype's least value: what no max can lose to (-inf for floats, False for bool)."""
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return -np.inf
    return False if dt.kind == "b" else int(np.iinfo(dt).min)


def highest(dtype: np.dtype) -> float | int | bool:
    """The dtype's greatest value: what no min can lose to (inf for floats, True for bool)."""
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return np.inf
    return True if dt.kind == "b" else int(np.iinfo(dt).max)


def alpha_max(dtype: np.dtype) -> float:
    """Fully opaque alpha: the integer dtype's top, 1.0 for floats (and bool)."""
    dt = np.dtype(dtype)
    return float(np.iinfo(dt).max) if dt.kind in "iu" else 1.0


def unsigned_sum_dtype(dtype: np.dtype, count: int) -> np.dtype | None:
    """The narrowest unsigned type holding ``count`` values of a bool/unsigned
    image exactly (window sums by additions only), or None if none does."""
    dt = np.dtype(dtype)
    if dt.kind not in "bu":
        return None
    top = value_top(dt) * int(count)
    for t in (np.uint16, np.uint32, np.uint64):
        if top <= np.iinfo(t).max:
            return np.dtype(t)
    return None


def exact_work_dtype(dtype: np.dtype, count: int) -> np.dtype:
    """float32 while sums of ``count`` values of ``dtype`` stay below 2**24, else float64."""
    return np.dtype(np.float32 if value_top(dtype) * int(count) < EXACT_F32 else np.float64)


def sum_dtype(image: np.dtype, result: np.dtype, count: int) -> np.dtype:
    """Where window sums of an integer image are added: the float ``result``
    type while it holds every such sum exactly (float32 below 2**24), else
    float64, so a large window's mean never strays past the image's values."""
    image = np.dtype(image)
    if image.kind in "biu" and result == np.float32 and value_top(image) * int(count) >= EXACT_F32:
        return np.dtype(np.float64)
    return np.dtype(result)


def cast_like(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Bring float results back to ``dtype``: round to nearest and clip for integers."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return values.astype(dtype, copy=False)
    if dtype.kind == "b":
        return values >= 0.5
    info = np.iinfo(dtype)
    out = np.rint(values)
    if dtype.itemsize <= 2:
        # The bounds are exact in every float type: clipping first is safe.
        np.clip(out, info.min, info.max, out=out)
        return out.astype(dtype)
    # 32- and 64-bit bounds may round up in the float type (2**31 - 1 is
    # 2**31 in float32), where casting would wrap: set them explicitly.
    with np.errstate(invalid="ignore"):
        hi = out >= info.max
        lo = out <= info.min
        out[hi | lo | np.isnan(out)] = 0
        res = out.astype(dtype)
    res[hi] = info.max
    res[lo] = info.min
    return res
