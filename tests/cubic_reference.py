"""Keys' cubic convolution (a = -0.75) transcribed directly: the oracle of the cubic shift's tests."""

from __future__ import annotations

import numpy as np


def keys(s: np.ndarray, a: float = -0.75) -> np.ndarray:
    """Keys' cubic convolution kernel (1981), in float64."""
    s = np.abs(s)
    inner = (a + 2) * s**3 - (a + 3) * s**2 + 1
    outer = a * s**3 - 5 * a * s**2 + 8 * a * s - 4 * a
    return np.where(s <= 1, inner, np.where(s < 2, outer, 0.0))


def reference_shift(img: np.ndarray, dx: float, dy: float, mode: str, cval: float = 0.0) -> np.ndarray:
    """out[y, x] = sum of keys(...) * in[...] around (y - dy, x - dx), by explicit padding (float64)."""
    h, w = img.shape[:2]
    pad = int(max(abs(dx), abs(dy))) + 4
    widths = [(pad, pad), (pad, pad)] + [(0, 0)] * (img.ndim - 2)
    kw = {"constant_values": cval} if mode == "constant" else {}
    ext = np.pad(img.astype(np.float64), widths, mode=mode, **kw)
    out = np.zeros(img.shape, dtype=np.float64)
    sy, sx = np.arange(h) - dy, np.arange(w) - dx
    fy, fx = np.floor(sy).astype(int), np.floor(sx).astype(int)
    for i in range(-1, 3):
        wy = keys(sy - (fy + i))
        for j in range(-1, 3):
            wx = keys(sx - (fx + j))
            taps = ext[np.ix_(fy + i + pad, fx + j + pad)]
            weight = np.multiply.outer(wy, wx)
            out += (weight.reshape(weight.shape + (1,) * (img.ndim - 2))) * taps
    return out
