"""Value rules shared by every filter: result dtypes, rounding, alpha.

A value never wraps around: integer results are rounded to nearest and
clipped to the dtype's range (300 becomes 255 in 8 bits, not 44).
"""

from __future__ import annotations

import numpy as np


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
