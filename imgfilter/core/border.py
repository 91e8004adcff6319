"""Border extension: what lies beyond the image's edge.

Every filter sees the outside of the image only through :func:`extend`, which
maps out-of-range coordinates back inside by the mode's rule. Doing it with
index arithmetic (instead of repeated ``numpy.pad``) handles kernels larger
than the image in every mode and lets tiles build just the band they need.
"""

from __future__ import annotations

import numpy as np

from .buffers import empty


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


def extend(
    image: np.ndarray,
    ranges: tuple[tuple[int, int], ...],
    mode: str,
    cval: float = 0.0,
    dtype: np.dtype | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """The block of the border-extended image covering ``ranges``.

    ``ranges`` holds one half-open (start, stop) per leading axis, in image
    coordinates that may lie outside ``[0, n)``; trailing axes are taken whole.
    The result has ``dtype`` (default: the image's) and is a new array, or
    ``out`` when given (a C-contiguous scratch array of that shape and dtype,
    reused from band to band so that each band does not fault in fresh pages).

    The in-image part is copied (and converted) in one pass; only the
    margins are gathered by index, so a band costs one pass over memory.
    """
    dtype = np.dtype(dtype or image.dtype)
    nd = len(ranges)
    shape = tuple(stop - start for start, stop in ranges) + image.shape[nd:]
    if out is None:
        out = empty(shape, dtype=dtype)
    elif out.shape != shape or out.dtype != dtype:
        raise ValueError(f"extend: out has shape {out.shape} {out.dtype}, needs {shape} {dtype}")
    inner_src, inner_dst, index = [], [], []
    for (start, stop), n in zip(ranges, image.shape, strict=False):
        lo, hi = max(start, 0), min(stop, n)
        if hi <= lo:  # the block lies wholly outside the image on this axis
            lo = hi = start
        inner_src.append(slice(lo, hi))
        inner_dst.append(slice(lo - start, hi - start))
        index.append(source_index(start, stop, n, mode))
    if all(s.stop > s.start for s in inner_src):
        out[tuple(inner_dst)] = image[tuple(inner_src)]
    elif mode == "constant":
        out[...] = cval
        return out
    for axis in range(nd):
        d = inner_dst[axis]
        size = shape[axis]
        for margin in (np.arange(0, d.start), np.arange(d.stop, size)):
            if margin.size == 0:
                continue
            where = (slice(None),) * axis + (slice(int(margin[0]), int(margin[-1]) + 1),)
            if mode == "constant":
                out[where] = cval
                continue
            # Gather the margin straight from the image: its source may lie
            # outside this block (kernels larger than the image, "wrap").
            idx = [index[a] if a != axis else index[a][margin] for a in range(nd)]
            out[where] = image[np.ix_(*idx)] if nd > 1 else image[idx[0]]
    return out
