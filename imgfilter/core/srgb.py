"""Linear light: the exact sRGB transfer function (IEC 61966-2-1), both ways.

Averaging sRGB code values darkens: a black/white checkerboard blurred flat
gives 128, whose light is only about 22% of white. Smoothing in linear light
gives the 50% a viewer expects (188 in 8 bits). Decoding uses a table of the
piecewise curve; encoding rounds to the nearest code by a binary search in
that table's midpoints, so every 8- and 16-bit value survives a round trip.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np


def to_linear(v: np.ndarray) -> np.ndarray:
    """sRGB-encoded values in 0..1 to linear light in 0..1 (float64)."""
    v = np.asarray(v, dtype=np.float64)
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def to_srgb(lin: np.ndarray) -> np.ndarray:
    """Linear light in 0..1 to sRGB-encoded values in 0..1 (float64)."""
    lin = np.clip(np.asarray(lin, dtype=np.float64), 0.0, 1.0)
    return np.where(lin <= 0.0031308, lin * 12.92, 1.055 * lin ** (1 / 2.4) - 0.055)


@lru_cache(maxsize=4)
def _tables(levels: int) -> tuple[np.ndarray, np.ndarray]:
    """Decode table (code -> linear, scaled to 0..levels-1) and the encode thresholds."""
    top = levels - 1
    codes = np.arange(levels, dtype=np.float64)
    decode = to_linear(codes / top) * top
    # Linear values where the nearest code changes from k to k + 1.
    thresholds = to_linear((codes[:-1] + 0.5) / top) * top
    return decode.astype(np.float32), thresholds


def decode(image: np.ndarray) -> np.ndarray:
    """uint8/uint16 sRGB codes to float32 linear light on the same 0..max scale."""
    decode_table, _ = _tables(256 if image.dtype == np.uint8 else 65536)
    return decode_table[image]


@lru_cache(maxsize=1)
def _encode8_bins() -> tuple[np.ndarray, np.ndarray, np.float32]:
    """Uniform bins over 0..255 linear: each holds at most one code threshold
    (bins are 0.004 wide, thresholds at least 0.077 apart), so a bin's count
    of thresholds below it plus one comparison gives the nearest code."""
    thresholds = _tables(256)[1].astype(np.float32)
    n = 1 << 16
    scale = np.float32(n / 255.0)
    lo = (np.arange(n, dtype=np.float32) / scale).astype(np.float32)
    hi = (np.arange(1, n + 1, dtype=np.float32) / scale).astype(np.float32)
    base = np.searchsorted(thresholds, lo, side="left")  # thresholds below the bin
    nxt = np.full(n, np.inf, dtype=np.float32)
    j = np.minimum(base, len(thresholds) - 1)
    inside = (base < len(thresholds)) & (thresholds[j] < hi)
    nxt[inside] = thresholds[j][inside]
    return base.astype(np.uint8), nxt, scale


def encode(lin: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Linear light on the 0..max scale back to the nearest sRGB code of ``dtype``."""
    if np.dtype(dtype) == np.uint8:
        base, nxt, scale = _encode8_bins()
        x = np.clip(np.asarray(lin, dtype=np.float32), 0, 255)  # NaN stays NaN: callers fill holes
        with np.errstate(invalid="ignore"):  # NaN holes: any index, replaced by the caller
            idx = np.multiply(x, scale, out=np.empty_like(x)).astype(np.int32)
        code = base.take(idx, mode="clip")
        code += x > nxt.take(idx, mode="clip")
        return code
    thresholds = _tables(65536)[1].astype(np.float32)
    return np.searchsorted(thresholds, lin, side="left").astype(dtype)


def decode_table(dtype: np.dtype) -> np.ndarray:
    """Code -> linear light (float32, 0..max scale) for uint8 or uint16."""
    return _tables(256 if np.dtype(dtype) == np.uint8 else 65536)[0]


def in_linear_light(
    image: np.ndarray, alpha: bool, run: Callable[[np.ndarray], np.ndarray], *, reencode: bool = True
) -> np.ndarray:
    """``run`` on the image's colour decoded to linear light; colour encoded back.

    8- and 16-bit images only; float images are taken as already linear (as
    the filters' docs say) and run unchanged. Alpha is linear already and
    passes as it is (scaled the same, so weights keep their meaning).
    ``reencode=False`` returns float sRGB-scale values (average pooling).
    """
    if image.dtype not in (np.uint8, np.uint16):
        return run(image)
    colour = image[..., :-1] if alpha else image
    lin = decode(colour)
    if alpha:
        lin = np.concatenate([lin, image[..., -1:].astype(np.float32)], axis=-1)
    res = run(lin)
    colour_out = res[..., :-1] if alpha else res
    top = float(np.iinfo(image.dtype).max)
    if reencode:
        out_colour = encode(colour_out, image.dtype)
        holes = np.isnan(colour_out)  # masked windows with nothing to fill from
        out_colour[holes] = colour[holes]
        if not alpha:
            return out_colour
        a_lin = res[..., -1:]
        a = np.clip(np.rint(np.nan_to_num(a_lin)), 0, top).astype(image.dtype)
        a_holes = np.isnan(a_lin)
        a[a_holes] = image[..., -1:][a_holes]
        return np.concatenate([out_colour, a], axis=-1)
    enc = (to_srgb(colour_out / top) * top).astype(np.float32)
    return np.concatenate([enc, res[..., -1:].astype(np.float32)], axis=-1) if alpha else enc
