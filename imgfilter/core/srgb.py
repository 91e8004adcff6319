"""Linear light: the exact sRGB transfer function (IEC 61966-2-1), both ways.

Averaging sRGB code values darkens: a black/white checkerboard blurred flat
gives 128, whose light is only about 22% of white. Smoothing in linear light
gives the 50% a viewer expects (188 in 8 bits). The codec is compiled
(``imgfilter/_engine/codec.c``): decoding is a table of the piecewise curve;
encoding finds the nearest code exactly (by the float's bit pattern for 8
bits, by the curve corrected against the code thresholds for 16), so every
8- and 16-bit value survives a round trip.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

import numpy as np

from .._engine import _kernels
from .buffers import empty
from .dtypes import value_top


def to_linear(v: np.ndarray) -> np.ndarray:
    """sRGB-encoded values in 0..1 to linear light in 0..1 (float64)."""
    v = np.asarray(v, dtype=np.float64)
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


@lru_cache(maxsize=4)
def _tables(levels: int) -> tuple[np.ndarray, np.ndarray]:
    """Decode table (code -> linear, scaled to 0..levels-1) and the encode thresholds."""
    top = levels - 1
    codes = np.arange(levels, dtype=np.float64)
    decode = to_linear(codes / top) * top
    # Linear values where the nearest code changes from k to k + 1.
    thresholds = to_linear((codes[:-1] + 0.5) / top) * top
    return decode.astype(np.float32), thresholds


@lru_cache(maxsize=1)
def _codec() -> object:
    """The compiled codec, its tables installed (once, on first use)."""
    d8, t8 = _tables(256)
    d16, t16 = _tables(65536)
    _kernels.codec_tables(d8, t8.astype(np.float32), d16, t16.astype(np.float32))
    return _kernels


def decode(image: np.ndarray, *, out: np.ndarray | None = None) -> np.ndarray:
    """uint8/uint16 sRGB codes to float32 linear light on the same 0..max scale.

    ``out`` (float32, C-contiguous, ``image``'s shape: a band's reused
    buffer) receives the result.
    """
    image = np.asarray(image)
    if image.dtype not in (np.uint8, np.uint16):
        raise TypeError(f"sRGB codes are uint8 or uint16, got {image.dtype}")
    if out is None:
        out = empty(image.shape, dtype=np.float32)
    elif out.dtype != np.float32 or out.shape != image.shape or not out.flags.c_contiguous:
        raise ValueError(f"out must be C-contiguous float32 of shape {image.shape}")
    _codec().decode(np.ascontiguousarray(image, dtype=image.dtype.newbyteorder("=")), out)
    return out


def encode_scale(divisor: float = 1.0, exponent: int = 0) -> tuple[float, float]:
    """The codec's (divisor, scale) for :func:`encode`'s ``divisor`` and ``exponent``."""
    div, mul = float(np.float32(divisor)), float(np.float32(2.0**-exponent))
    if div > 1.0 and exponent >= 0 and math.frexp(div)[0] == 0.5 and mul / div >= 2.0**-126:
        # A power-of-two divisor is a scale: x / 2**k is x * 2**-k (the same
        # real number, rounded once), and a second power-of-two scale after it
        # is exact but where the value is tiny, far below code 1. So one
        # multiply instead of a division and a multiply: the same codes.
        div, mul = 1.0, mul / div
    return div, mul


class Encoding:
    """A linear filter's last step in linear light, as data: its one result
    band (float32 linear light) to the output's sRGB codes, ``encode(result,
    out.dtype, divisor=..., exponent=...)``.

    Given as ``run_linear``'s ``combine``, it is called on each band like any
    other combine; being declared rather than opaque, the separable kernels
    can instead decode the codes as they read them and encode the sums as
    they store them (``_engine.sep2d_idx``'s codec): the same codes.
    """

    __slots__ = ("divisor", "exponent")

    def __init__(self, *, divisor: float = 1.0, exponent: int = 0) -> None:
        self.divisor, self.exponent = divisor, exponent

    def scale(self) -> tuple[float, float]:
        """The codec's (divisor, scale)."""
        return encode_scale(self.divisor, self.exponent)

    def __call__(self, results: list[np.ndarray], out: np.ndarray) -> None:
        encode(results[0], out.dtype, divisor=self.divisor, exponent=self.exponent, out=out)


def encode(
    lin: np.ndarray,
    dtype: np.dtype,
    *,
    exponent: int = 0,
    divisor: float = 1.0,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Linear light on the 0..max scale back to the nearest sRGB code of ``dtype``.

    ``exponent=e`` encodes ``lin * 2**-e`` and ``divisor=d`` encodes
    ``lin / d`` as a float32 division gives it (both: divided first), so a
    filter can leave its kernel's scale (a box blur's area, a half-pixel
    shift's quarter) to this step instead of a pass of its own. One compiled
    pass: 8-bit codes by the float's bit pattern, 16-bit ones by the curve
    corrected against the code thresholds, exact to the nearest code (tested
    against the binary search over every float32). NaN (a hole the callers
    restore) gives 0 (8-bit: 255 if its sign bit is clear). ``out``
    (``dtype``, ``lin``'s shape) receives the codes.
    """
    dtype = np.dtype(dtype)
    if dtype not in (np.uint8, np.uint16):
        raise TypeError(f"sRGB codes are uint8 or uint16, got {dtype}")
    shape = np.shape(lin)
    x = np.ascontiguousarray(lin, dtype=np.float32)
    direct = out is not None and out.flags.c_contiguous and out.dtype == dtype and out.shape == shape
    code = out if direct else empty(shape, dtype=dtype)
    _codec().encode(x, code, *encode_scale(divisor, exponent))
    if out is not None and not direct:
        out[...] = code
        return out
    return code


def encode_float(lin: np.ndarray, top: float, *, out: np.ndarray | None = None) -> np.ndarray:
    """Linear light on the 0..``top`` scale to float32 sRGB-encoded values on it.

    For results that stay float (average pooling's mean): the curve in double
    precision, rounded to float32 (0 and ``top`` exactly, NaN kept). ``out``
    (``lin``'s shape, may be ``lin`` itself) receives the result.
    """
    x = np.asarray(lin)
    if out is not None and out.flags.c_contiguous and out.dtype in (np.float32, np.float64):
        src = x if (x.dtype == out.dtype and x.flags.c_contiguous) else np.ascontiguousarray(x, out.dtype)
        _codec().encode_float(src, out, float(top))
        return out
    src = np.ascontiguousarray(x, dtype=np.float32)
    res = empty(src.shape, dtype=np.float32)
    _codec().encode_float(src, res, float(top))
    if out is None:
        return res
    np.copyto(out, res)
    return out


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
    top = float(value_top(image.dtype))
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
    enc = encode_float(colour_out, top)
    return np.concatenate([enc, res[..., -1:].astype(np.float32)], axis=-1) if alpha else enc
