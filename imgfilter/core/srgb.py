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


# Float32 bit patterns shifted right by this many bits index the 8-bit
# encode table: bins 2**-11 wide relative to their value, narrower than the
# gap between any two code thresholds, so a bin holds at most one.
_BIN_SHIFT = 12


@lru_cache(maxsize=1)
def _encode8_table() -> tuple[np.ndarray, np.ndarray]:
    """Per bin of float32 bit patterns: the code of its lowest value (+256 if a
    threshold lies inside the bin), and that threshold.

    Every float32 maps to its bin: negative ones (sign bit set) to code 0,
    those above 255 (and inf, NaN) to 255, so no clipping pass is needed.
    """
    thresholds = _tables(256)[1].astype(np.float32)
    n = 1 << (32 - _BIN_SHIFT)
    top = int(np.float32(255.0).view(np.uint32)) >> _BIN_SHIFT
    table = np.zeros(n, dtype=np.uint16)
    table[top + 1 : n // 2] = 255
    inside = np.full(n, np.inf, dtype=np.float32)
    starts = np.arange(top + 2, dtype=np.uint32) << np.uint32(_BIN_SHIFT)
    lo, hi = starts[:-1].view(np.float32), starts[1:].view(np.float32)
    base = np.searchsorted(thresholds, lo, side="left")
    j = np.minimum(base, len(thresholds) - 1)
    has = (base < len(thresholds)) & (thresholds[j] < hi)
    table[: top + 1] = base + 256 * has
    inside[: top + 1][has] = thresholds[j][has]
    return table, inside


def encode(lin: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Linear light on the 0..max scale back to the nearest sRGB code of ``dtype``."""
    if np.dtype(dtype) == np.uint8:
        # One lookup by the float's bit pattern; the few values in a bin that
        # holds a threshold are compared with it. Checked against the binary
        # search over every float32 value.
        table, inside = _encode8_table()
        x = np.ascontiguousarray(lin, dtype=np.float32)
        bins = x.view(np.uint32) >> np.uint32(_BIN_SHIFT)
        found = table.take(bins)
        code = found.astype(np.uint8)
        near = np.flatnonzero(found > 255)
        if near.size:
            code.reshape(-1)[near] += x.reshape(-1)[near] > inside[bins.reshape(-1)[near]]
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
