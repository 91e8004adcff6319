"""The numpy sRGB codec that the compiled one (imgfilter/_engine/codec.c) replaced,
kept as an oracle for tests/test_engine_codec.py.

Linear light: the exact sRGB transfer function (IEC 61966-2-1), both ways.

Averaging sRGB code values darkens: a black/white checkerboard blurred flat
gives 128, whose light is only about 22% of white. Smoothing in linear light
gives the 50% a viewer expects (188 in 8 bits). Decoding uses a table of the
piecewise curve; encoding finds the nearest code exactly (by the float's bit
pattern for 8 bits, by a float estimate corrected against the code
thresholds for 16), so every 8- and 16-bit value survives a round trip.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from functools import lru_cache

import numpy as np


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


# Lookups run over slices of this many items, so every temporary stays small
# and in cache instead of freshly mapped memory. Indices are converted to
# intp by an explicit copy first: numpy's take would convert them itself,
# twice as slowly and holding the GIL, which serializes the worker threads.
_SLICE = 1 << 16


def _lookup(table: np.ndarray, index: np.ndarray, out: np.ndarray, buffer: np.ndarray) -> None:
    """out[:] = table[index] for any integer ``index``, via the intp ``buffer``."""
    idx = buffer[: index.size]
    np.copyto(idx, index, casting="unsafe")
    # mode="wrap": an unbuffered take (every index is in range anyway).
    np.take(table, idx, out=out, mode="wrap")


@lru_cache(maxsize=1)
def _decode8_pairs() -> np.ndarray:
    """Two 8-bit codes read as one uint16 -> their two float32 linear values.

    One lookup of 8 bytes per pair of codes costs about a third of two
    lookups of 4 bytes (numpy's take is bound by the number of items, not
    their size), and the 512 KiB table stays in cache.
    """
    t = _tables(256)[0]
    pairs = np.empty((256, 256, 2), dtype=np.float32)
    # Row = the uint16's high byte, column = its low byte; entry 0 must be
    # the code at the lower address, which is the low byte on little-endian.
    first, second = (t[None, :], t[:, None]) if sys.byteorder == "little" else (t[:, None], t[None, :])
    pairs[..., 0] = first
    pairs[..., 1] = second
    return pairs.reshape(65536, 2).view(np.uint64).reshape(65536)


def decode(image: np.ndarray) -> np.ndarray:
    """uint8/uint16 sRGB codes to float32 linear light on the same 0..max scale."""
    image = np.asarray(image)
    if image.dtype not in (np.uint8, np.uint16):
        raise TypeError(f"sRGB codes are uint8 or uint16, got {image.dtype}")
    codes = np.ascontiguousarray(image).reshape(-1)
    out = np.empty(image.shape, dtype=np.float32)
    flat = out.reshape(-1)
    if image.dtype == np.uint8:
        table = _decode8_pairs()
        even = codes.size - codes.size % 2
        if even < flat.size:
            flat[-1] = decode_table(np.uint8)[codes[-1]]
        codes, dst = codes[:even].view(np.uint16), flat[:even].view(np.uint64)
    else:
        table, dst = decode_table(image.dtype), flat
    buffer = np.empty(min(_SLICE, codes.size), dtype=np.intp)
    for i in range(0, codes.size, _SLICE):
        _lookup(table, codes[i : i + _SLICE], dst[i : i + _SLICE], buffer)
    return out


# The high 16 bits of a float32's pattern index the 8-bit encode table:
# bins at most 2**-7 wide relative to their value (0.78%), narrower than the
# relative gap between any two code thresholds (at least 0.89%, at the top),
# so a bin holds at most one. The table is 256 KiB and builds in a millisecond.
_BIN_SHIFT = 16


@lru_cache(maxsize=1)
def _encode8_table() -> np.ndarray:
    """The encode table of the 8-bit code thresholds (see :func:`_encode8_from`)."""
    return _encode8_from(_tables(256)[1].astype(np.float32))


def _encode8_from(thresholds: np.ndarray) -> np.ndarray:
    """Per bin of float32 bit patterns, the uint32 to add to a pattern so that
    shifting the sum right by ``_BIN_SHIFT`` gives the number of
    ``thresholds`` (255 increasing positive float32) the value exceeds: for
    the code thresholds, the nearest 8-bit code.

    Within a bin the pattern's low bits ``low`` order its values. A bin whose
    lowest value encodes to ``code`` and which holds a threshold at low bits
    ``p`` (``p`` = all ones if none) needs ``code + (low > p)``:
    ``(code << s) + low + (2**s - 1 - p)`` carries into the code bit exactly
    when ``low > p``. Storing that minus ``bin << s`` (mod 2**32) lets the
    whole pattern be added. Negative floats (sign bit set) get code 0,
    those above the last threshold (and inf, NaN) 255, so no clipping pass
    is needed.
    """
    s = _BIN_SHIFT
    n = 1 << (32 - s)
    top = int(thresholds[-1].view(np.uint32)) >> s
    code = np.zeros(n, dtype=np.int64)
    code[top + 1 : n // 2] = 255
    starts = (np.arange(top + 1, dtype=np.uint32) << np.uint32(s)).view(np.float32)
    code[: top + 1] = np.searchsorted(thresholds, starts, side="left")
    pattern = thresholds.view(np.uint32).astype(np.int64)
    where = pattern >> s
    if len(np.unique(where)) != len(where):  # pragma: no cover - guarded by _BIN_SHIFT's choice
        raise AssertionError("two sRGB thresholds share an encode bin")
    low_max = (1 << s) - 1
    p = np.full(n, low_max, dtype=np.int64)
    p[where] = pattern & low_max
    table = (code << s) + (low_max - p) - (np.arange(n, dtype=np.int64) << s)
    return (table & 0xFFFFFFFF).astype(np.uint32)


@lru_cache(maxsize=8)
def _encode8_scaled(exponent: int) -> np.ndarray:
    """The encode table for ``x * 2**-exponent``, indexed by ``x``'s pattern.

    Scaling by a power of two only lowers the exponent field, so where
    ``y = x * 2**-e`` is a normal float its pattern is ``x``'s minus
    ``e << 23``: the entry is the one of ``y``'s bin minus that. Where ``y``
    would be subnormal (far below the first code threshold) and for negative
    ``x`` the entry gives code 0.
    """
    base = _encode8_table()
    if exponent == 0:
        return base
    s = _BIN_SHIFT
    n = base.size
    shift = exponent << (23 - s)  # bins per exponent step times e
    bins = np.arange(n, dtype=np.int64)
    zero_code = (-(bins << s)) & 0xFFFFFFFF  # code 0 whatever the low bits
    src = bins - shift
    normal = (bins < n // 2) & (src >= 1 << (23 - s))  # y's exponent field >= 1
    table = zero_code.copy()
    table[normal] = (base[src[normal]].astype(np.int64) - (exponent << 23)) & 0xFFFFFFFF
    return table.astype(np.uint32)


@lru_cache(maxsize=8)
def _encode8_divided(divisor: float) -> np.ndarray:
    """The encode table for ``x / divisor`` (a float32 division), indexed by ``x``'s pattern.

    The float32 quotient never decreases as ``x`` grows, so it exceeds a code
    threshold ``t`` exactly when ``x`` exceeds the largest float32 whose
    quotient is at most ``t``: found for each threshold by a binary search
    over the patterns, with numpy's own float32 division. The codes are
    those of dividing first, bit for bit, without the division's pass.
    """
    t = _tables(256)[1].astype(np.float32)
    d = np.float32(divisor)
    lo = np.zeros(t.size, dtype=np.int64)  # 0.0: its quotient is at most every t
    hi = np.full(t.size, 0x7F800000, dtype=np.int64)  # inf: its quotient exceeds every t
    with np.errstate(over="ignore"):
        while np.any(hi - lo > 1):
            mid = (lo + hi) // 2
            below = mid.astype(np.uint32).view(np.float32) / d <= t
            lo = np.where(below, mid, lo)
            hi = np.where(below, hi, mid)
    return _encode8_from(lo.astype(np.uint32).view(np.float32))


def encode(
    lin: np.ndarray,
    dtype: np.dtype,
    *,
    exponent: int = 0,
    divisor: float = 1.0,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Linear light on the 0..max scale back to the nearest sRGB code of ``dtype``.

    ``exponent=e`` encodes ``lin * 2**-e`` (exact: a power of two only moves
    the exponent), and ``divisor=d`` encodes ``lin / d`` as a float32
    division would give it, so a filter can leave its kernel's scale (a box
    blur's area) to this step instead of a pass of its own. ``out``
    (``dtype``, ``lin``'s shape) receives the codes.
    """
    if out is not None and not (out.flags.c_contiguous and out.dtype == np.dtype(dtype)):
        out[...] = encode(lin, dtype, exponent=exponent, divisor=divisor)
        return out
    if np.ndim(lin) == 0:
        return encode(np.reshape(lin, 1), dtype, exponent=exponent, divisor=divisor).reshape(())
    if divisor != 1.0:
        mantissa, power = math.frexp(divisor)
        if mantissa == 0.5 and divisor >= 1:
            exponent, divisor = exponent + power - 1, 1.0
        elif exponent or np.dtype(dtype) != np.uint8:
            lin = np.divide(lin, np.float32(divisor), dtype=np.float32)
            divisor = 1.0
    if np.dtype(dtype) == np.uint8:
        # One lookup by the float's bit pattern, one add and one shift (see
        # _encode8_from). Checked against the binary search over every
        # float32 value.
        table = _encode8_divided(float(divisor)) if divisor != 1.0 else _encode8_scaled(exponent)
        x = np.ascontiguousarray(lin, dtype=np.float32)
        patterns = x.reshape(-1).view(np.uint32)
        # The bins are the patterns' high halves, read in place.
        high = x.reshape(-1).view(np.uint16)[1 if sys.byteorder == "little" else 0 :: 2]
        code = np.empty(x.shape, dtype=np.uint8) if out is None else out
        flat = code.reshape(-1)
        found = np.empty(min(_SLICE, patterns.size), dtype=np.uint32)
        buffer = np.empty(found.size, dtype=np.intp)
        for i in range(0, patterns.size, _SLICE):
            bits = patterns[i : i + _SLICE]
            f = found[: bits.size]
            _lookup(table, high[i : i + _SLICE], f, buffer)
            f += bits  # wraps modulo 2**32 by design
            np.right_shift(f, np.uint32(_BIN_SHIFT), out=flat[i : i + _SLICE], casting="unsafe")
        return code
    if exponent:
        lin = np.multiply(lin, np.float32(2.0**-exponent), dtype=np.float32)
    if out is None:
        return _encode16(lin)
    out[...] = _encode16(lin)
    return out


@lru_cache(maxsize=1)
def _threshold_pairs16() -> np.ndarray:
    """Code c -> (threshold below c, threshold above c) as float32 pairs in one
    8-byte entry. Below code 0 sits NaN and above 65535 +inf: no comparison
    with them is true, so nothing (not even -inf) leaves the code range."""
    thresholds = _tables(65536)[1].astype(np.float32)
    padded = np.concatenate([[np.nan], thresholds, [np.inf]]).astype(np.float32)
    pairs = np.stack([padded[:-1], padded[1:]], axis=-1)
    return np.ascontiguousarray(pairs).view(np.uint64).reshape(-1)


def _encode16(lin: np.ndarray) -> np.ndarray:
    """Linear light (0..65535 scale) to the nearest 16-bit code, exactly.

    A 16-bit table by bit pattern would need 2**24 entries (the codes'
    thresholds lie 2**-15 apart), and a binary search costs about 40 ns a
    value. Instead the float32 curve (:func:`encode_float`, a few ulps off)
    rounds to a code within one of the nearest, and one lookup of that
    code's two thresholds moves it to the exact one.
    """
    x = np.ascontiguousarray(lin, dtype=np.float32)
    src = x.reshape(-1)
    code = np.empty(x.shape, dtype=np.uint16)
    out = code.reshape(-1)
    pairs = _threshold_pairs16()
    n = min(_SLICE, src.size)
    guess, idx = np.empty(n, dtype=np.float32), np.empty(n, dtype=np.intp)
    bounds = np.empty(n, dtype=np.uint64)
    with np.errstate(invalid="ignore"):  # NaN holes, restored by the callers
        for i in range(0, src.size, _SLICE):
            xs = src[i : i + _SLICE]
            m = xs.size
            g, c, b = guess[:m], idx[:m], bounds[:m]
            encode_float(xs, 65535.0, out=g)
            # The estimate is at most 65535 already; fmax sends NaN (a hole,
            # restored by the caller) and the dark end's negatives to code 0.
            np.fmax(g, np.float32(0), out=g)
            g += np.float32(0.5)
            np.copyto(c, g, casting="unsafe")  # truncation: the nearest code to the estimate
            np.take(pairs, c, out=b, mode="wrap")
            below_above = b.view(np.float32).reshape(m, 2)
            c -= xs <= below_above[:, 0]
            c += xs > below_above[:, 1]
            np.copyto(out[i : i + _SLICE], c, casting="unsafe")
    return code


def encode_float(lin: np.ndarray, top: float, *, out: np.ndarray | None = None) -> np.ndarray:
    """Linear light on the 0..``top`` scale to float32 sRGB-encoded values on it.

    For results that stay float (average pooling's mean). Float32 throughout:
    numpy's vectorized float32 ``power`` is about 4x faster than float64's and
    the result is within a few float32 ulps of the exact curve (tested), 0 and
    ``top`` exactly. ``out`` (float32, ``lin``'s shape, may be ``lin``
    itself) receives the result.
    """
    src = np.ascontiguousarray(lin, dtype=np.float32).reshape(-1)
    if out is None:
        out = np.empty(np.shape(lin), dtype=np.float32)
    elif not (out.flags.c_contiguous and out.dtype == np.float32):
        # reshape(-1) of such an ``out`` would be a copy: fill one and copy back.
        np.copyto(out, encode_float(src.reshape(np.shape(lin)), top))
        return out
    dst = out.reshape(-1)
    knee = np.float32(0.0031308)
    n = min(_SLICE, src.size)
    x, y, flag = np.empty(n, dtype=np.float32), np.empty(n, dtype=np.float32), np.empty(n, dtype=bool)
    # Slices keep the temporaries in cache. ``out`` may be ``lin``: each slice
    # is read whole before its result is written.
    # NaN (holes the callers restore) and infinities pass without warnings.
    with np.errstate(invalid="ignore", over="ignore"):
        for i in range(0, src.size, _SLICE):
            m = min(n, src.size - i)
            xs, ys, fs, v = x[:m], y[:m], flag[:m], src[i : i + m]
            # Means of decoded codes lie in 0..top (a sum's rounding may
            # overshoot by an ulp, which the last step clips).
            np.divide(v, np.float32(top), out=xs)
            # The power branch never sees the dark values it does not serve: a
            # zero sends numpy's vectorized power to a slow path (4x slower at
            # 10% zeros).
            np.maximum(xs, knee, out=ys)
            np.power(ys, np.float32(1 / 2.4), out=ys)
            ys *= np.float32(1.055 * top)
            ys -= np.float32(0.055 * top)
            np.less_equal(xs, knee, out=fs)
            # From lin, not lin / top: a subnormal quotient would lose digits.
            np.multiply(v, np.float32(12.92), out=ys, where=fs)
            # The rounded constants miss 1.055 - 0.055 = 1 by an ulp: white stays white.
            np.greater_equal(xs, np.float32(1), out=fs)
            np.copyto(ys, np.float32(top), where=fs)
            dst[i : i + m] = ys
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
    enc = encode_float(colour_out, top)
    return np.concatenate([enc, res[..., -1:].astype(np.float32)], axis=-1) if alpha else enc
