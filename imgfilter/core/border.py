"""Border extension: what lies beyond the image's edge.

Every filter sees the outside of the image only through :func:`extend`, which
maps out-of-range coordinates back inside by the mode's rule. Doing it with
index arithmetic (instead of repeated ``numpy.pad``) handles kernels larger
than the image in every mode and lets tiles build just the band they need.
"""

from __future__ import annotations

import numpy as np


def source_index(start: int, stop: int, n: int, mode: str) -> np.ndarray:
    """Source coordinates of positions ``start..stop-1`` on an axis of length ``n``.

    Returns an int array; for ``"constant"`` out-of-range positions are -1.
    """
    i = np.arange(start, stop, dtype=np.intp)
    if mode == "constant":
        return np.where((i >= 0) & (i < n), i, -1)
    if mode == "edge":
        return np.clip(i, 0, n - 1)
    if mode == "wrap":
        return np.mod(i, n)
    if mode == "symmetric":  # d c b a | a b c d | d c b a, period 2n
        j = np.mod(i, 2 * n)
        return np.where(j < n, j, 2 * n - 1 - j)
    if mode == "reflect":  # d c b | a b c d | c b a, period 2n - 2
        if n == 1:
            return np.zeros_like(i)
        j = np.mod(i, 2 * n - 2)
        return np.where(j < n, j, 2 * n - 2 - j)
    raise ValueError(f"unknown border mode {mode!r}")  # callers normalize first


def _is_identity(idx: np.ndarray, n: int) -> bool:
    return len(idx) == n and idx[0] == 0 and idx[-1] == n - 1 and bool(np.all(np.diff(idx) == 1))


def extend(
    image: np.ndarray,
    ranges: tuple[tuple[int, int], ...],
    mode: str,
    cval: float = 0.0,
    dtype: np.dtype | None = None,
) -> np.ndarray:
    """The block of the border-extended image covering ``ranges``.

    ``ranges`` holds one half-open (start, stop) per leading axis, in image
    coordinates that may lie outside ``[0, n)``; trailing axes are taken whole.
    The result has ``dtype`` (default: the image's) and is always a new array.
    """
    dtype = np.dtype(dtype or image.dtype)
    block = image
    index = []
    for axis, (start, stop) in enumerate(ranges):
        n = image.shape[axis]
        idx = source_index(start, stop, n, mode)
        index.append(idx)
        if mode == "constant":
            # Take the in-range part now; the cval margin is added below.
            lo, hi = max(start, 0), min(stop, n)
            block = block[(slice(None),) * axis + (slice(lo, max(hi, lo)),)]
        elif not _is_identity(idx, n):
            block = np.take(block, idx, axis=axis)
        else:
            pass  # the whole axis, untouched
    if mode != "constant":
        return np.array(block, dtype=dtype, copy=True) if block is image else block.astype(dtype, copy=False)
    shape = tuple(stop - start for start, stop in ranges) + image.shape[len(ranges) :]
    out = np.empty(shape, dtype=dtype)
    inner = []
    for (start, stop), n in zip(ranges, image.shape, strict=False):
        lo, hi = max(start, 0), min(stop, n)
        inner.append(slice(lo - start, max(hi, lo) - start))
    inner_t = tuple(inner)
    if block.size == 0:
        out[...] = cval
        return out
    # Fill only the margins with cval: the interior is overwritten anyway.
    out[inner_t] = block
    for axis, (start, stop) in enumerate(ranges):
        sl = inner[axis]
        if sl.start > 0:
            out[(slice(None),) * axis + (slice(0, sl.start),)] = cval
        if sl.stop < stop - start:
            out[(slice(None),) * axis + (slice(sl.stop, None),)] = cval
    return out
