"""Non-linear window machinery: rank filters (median) and pooling's folds.

The same plan/band/tap machinery as the linear filters; only what happens
under the window differs. Filters build on :func:`window_apply`, which hands
a reducer the border-extended block of each band and the tap views of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from .._engine import _kernels as _engine
from .buffers import empty
from .linear import band_block, input_range, tap_view
from .options import WindowPlan
from .tiles import run_bands

Reducer = Callable[[np.ndarray, WindowPlan, tuple[int, ...], np.ndarray], None]


def window_taps(plan: WindowPlan, footprint: np.ndarray | None = None) -> list[tuple[int, ...]]:
    """Kernel positions of a window (those set in ``footprint``, or all)."""
    if footprint is None:
        return list(np.ndindex(*plan.ksize))
    return [tuple(int(i) for i in t) for t in zip(*np.nonzero(footprint), strict=False)]


def iter_views(
    block: np.ndarray, plan: WindowPlan, counts: tuple[int, ...], taps: list[tuple[int, ...]]
) -> Iterator[np.ndarray]:
    for tap in taps:
        yield tap_view(block, plan, tap, counts)


_POOL_OPS = {np.maximum: "max", np.minimum: "min", np.fmax: "fmax", np.fmin: "fmin", np.add: "sum"}


def fold_window(
    ufunc: np.ufunc, block: np.ndarray, plan: WindowPlan, counts, out: np.ndarray, *, decode: bool = False
) -> None:
    """out = ufunc.reduce over each full (rectangular) window: sums, max, fmin...

    One compiled pass (``_engine.pool``) over one or two pooled axes: per
    output row the window's rows are folded, then its columns, in the
    window's order (for float sums the grouping differs from tap order by
    rounding only; integer-valued sums are exact either way). ``decode``:
    ``block`` holds 8- or 16-bit sRGB codes, summed as their float32 linear
    light (``out`` float32).
    """
    nd = plan.ndim
    if block.dtype == np.bool_ and out.dtype == np.bool_:
        fold_window(ufunc, block.view(np.uint8), plan, counts, out.view(np.uint8))
        return
    if not decode and block.dtype.char not in "bBhHiIlLqQfd":
        # (float16 and such: exact in float64 for max and min)
        wide = empty(out.shape, dtype=np.float64)
        fold_window(ufunc, block.astype(np.float64), plan, counts, wide)
        out[...] = wide
        return
    block = np.ascontiguousarray(block, dtype=block.dtype.newbyteorder("="))
    native = out.flags.c_contiguous and out.dtype.byteorder in "=|"
    dst = out if native else empty(out.shape, dtype=out.dtype.newbyteorder("="))
    if decode:
        from .srgb import _codec

        _codec()
    if nd == 1:
        rows, cols, ky, kx, sy, sx = counts[0], 1, plan.ksize[0], 1, plan.stride[0], 1
    else:
        if nd > 2:
            _fold_axes(ufunc, block, plan, counts, dst, decode)
            if dst is not out:
                out[...] = dst
            return
        rows, cols = counts[0], counts[1]
        ky, kx = plan.ksize[0], plan.ksize[1]
        sy, sx = plan.stride[0], plan.stride[1]
    chan = int(np.prod(block.shape[nd:], dtype=np.int64))
    row = int(np.prod(block.shape[1:], dtype=np.int64))
    op = "decode_sum" if decode else _POOL_OPS[ufunc]
    _engine.pool(block, dst, int(rows), int(cols), chan, row, ky, kx, sy, sx, op)
    if dst is not out:
        out[...] = dst


_MEAN_TYPES = {("B", "f"), ("H", "f"), ("f", "f"), ("d", "d")}


def mean_fusable(work: np.dtype, out: np.dtype, plan: WindowPlan, *, nan: bool = False) -> bool:
    """Whether :func:`fold_mean` can pool ``work`` blocks into ``out`` means in one pass."""
    work, out = np.dtype(work), np.dtype(out)
    native = work.byteorder in "=|" and out.byteorder in "=|"
    types = (work.char, out.char) in (_MEAN_TYPES if not nan else {("f", "f"), ("d", "d")})
    return native and types and plan.ndim in (1, 2) and all(d == 1 for d in plan.dilation[: plan.ndim])


def fold_mean(
    block: np.ndarray,
    plan: WindowPlan,
    counts,
    out: np.ndarray,
    *,
    rows: np.ndarray | None = None,
    cols: np.ndarray | None = None,
    decode: bool = False,
    nan: bool = False,
) -> None:
    """out = window means in one compiled pass: :func:`fold_window`'s sums
    (the same folds, in the same order) divided as they are stored.

    The divisor of output (y, x) is ``rows[y] * cols[x]`` (the window's image
    pixels: int64, one per output row of the band and one per column); with
    ``nan`` the non-NaN values are summed and divided by their number (NaN
    where there is none). ``decode``: 8- or 16-bit sRGB codes, averaged as
    their float32 linear light. Only where :func:`mean_fusable` says so.
    """
    nd = plan.ndim
    block = np.ascontiguousarray(block)
    if decode:
        from .srgb import _codec

        _codec()
    if nd == 1:
        n_rows, n_cols, ky, kx, sy, sx = counts[0], 1, plan.ksize[0], 1, plan.stride[0], 1
    else:
        n_rows, n_cols = counts[0], counts[1]
        ky, kx = plan.ksize[0], plan.ksize[1]
        sy, sx = plan.stride[0], plan.stride[1]
    chan = int(np.prod(block.shape[nd:], dtype=np.int64))
    row = int(np.prod(block.shape[1:], dtype=np.int64))
    geometry = (int(n_rows), int(n_cols), chan, row, ky, kx, sy, sx)
    if nan:
        _engine.pool(block, out, *geometry, "nanmean")
        return
    cy = np.ascontiguousarray(rows, dtype=np.int64)
    cx = np.ascontiguousarray(cols, dtype=np.int64)
    _engine.pool(block, out, *geometry, "decode_mean" if decode else "mean", cy, cx)


def _fold_axes(ufunc, block, plan, counts, out, decode) -> None:
    """More than two pooled axes: the first two in one pass, then each
    further axis as a pass of its own (a window of one row)."""
    nd = plan.ndim
    if decode:
        from .srgb import decode as srgb_decode

        block = srgb_decode(block)
    cur = block
    # Axes (0, 1) together, then axes 2, 3, ... one at a time, each as the
    # column axis of a two-axis pass whose rows are the axes before it.
    first = empty((counts[0], counts[1], *cur.shape[2:]), dtype=out.dtype)
    chan = int(np.prod(cur.shape[2:], dtype=np.int64))
    row = int(np.prod(cur.shape[1:], dtype=np.int64))
    op = _POOL_OPS[ufunc]
    _engine.pool(
        cur,
        first,
        int(counts[0]),
        int(counts[1]),
        chan,
        row,
        plan.ksize[0],
        plan.ksize[1],
        plan.stride[0],
        plan.stride[1],
        op,
    )
    cur = first
    for axis in range(2, nd):
        lead = int(np.prod(cur.shape[:axis], dtype=np.int64))
        n = cur.shape[axis]
        chan = int(np.prod(cur.shape[axis + 1 :], dtype=np.int64))
        last = axis == nd - 1
        shape = (*cur.shape[:axis], counts[axis], *cur.shape[axis + 1 :])
        dst = out if last else empty(shape, dtype=out.dtype)
        _engine.pool(
            cur, dst, lead, int(counts[axis]), chan, n * chan, 1, plan.ksize[axis], 1, plan.stride[axis], op
        )
        cur = dst


def window_apply(
    image: np.ndarray,
    plan: WindowPlan,
    reducer: Reducer,
    *,
    mode: str,
    cval: float = 0.0,
    work_dtype: np.dtype | None = None,
    out_dtype: np.dtype | None = None,
    bytes_per_row: int | None = None,
    min_rows: int = 1,
    threads: int | None = None,
    source: Callable[[np.ndarray], np.ndarray] | None = None,
    finish: Callable[[np.ndarray, int, int], None] | None = None,
    band_rows: bool = False,
) -> np.ndarray:
    """Run ``reducer(block, plan, counts, out_band)`` over row bands of the output.

    ``block`` is the border-extended input feeding the band (in ``work_dtype``,
    default the image's), ``counts`` the band's output size per filtered axis,
    and ``out_band`` the slice of the result the reducer must fill.
    ``source(block)`` maps each extended band (in the image's own dtype) to
    the working values first (a lookup table such as sRGB decoding), and
    ``finish(out_band, r0, r1)`` post-processes output rows ``r0:r1`` in
    place, both on the worker threads while the band is in cache.
    ``band_rows``: the reducer also takes the band's first output row
    (``reducer(block, plan, counts, out_band, r0)``).
    """
    work_dtype = np.dtype(work_dtype or image.dtype)
    out = empty(plan.out_shape, dtype=np.dtype(out_dtype or image.dtype))
    if bytes_per_row is None:
        bytes_per_row = work_dtype.itemsize * int(np.prod(plan.in_shape[1:], dtype=np.int64)) * 2

    def work(r0: int, r1: int) -> None:
        inside = _inside(image, plan, r0, r1) if source is None and work_dtype == image.dtype else None
        if inside is not None:
            block = inside  # the image's own rows: no copy
        elif source is None:
            block = band_block(image, plan, r0, r1, mode, cval, work_dtype)
        else:
            block = source(band_block(image, plan, r0, r1, mode, cval, image.dtype))
        counts = (r1 - r0, *plan.spatial_out[1:])
        if band_rows:
            reducer(block, plan, counts, out[r0:r1], r0)
        else:
            reducer(block, plan, counts, out[r0:r1])
        if finish is not None:
            finish(out[r0:r1], r0, r1)

    # Temporaries of all bands in flight stay within twice the input's size,
    # but a band keeps at least as many rows as its halo (else the halo's
    # rows would cost more than the band's own).
    min_rows = max(min_rows, plan.eff[0] - 1)
    run_bands(
        plan.out_shape[0],
        bytes_per_row,
        work,
        threads=threads,
        min_rows=min_rows,
        memory_cap=2 * image.nbytes,
    )
    return out


def _inside(image: np.ndarray, plan: WindowPlan, r0: int, r1: int) -> np.ndarray | None:
    """The rows of a C-contiguous ``image`` feeding output rows r0..r1-1 when
    they lie inside it and take whole rows (nothing to extend), else None."""
    if not image.flags.c_contiguous or image.dtype.byteorder not in "=|":
        return None
    lo, hi = input_range(plan, 0, r0, r1)
    if lo < 0 or hi > image.shape[0]:
        return None
    for axis in range(1, plan.ndim):
        if input_range(plan, axis, 0, plan.out_shape[axis]) != (0, image.shape[axis]):
            return None
    return image[lo:hi]


def __getattr__(name: str):
    # The public pool moved to imgfilter.filters.pool (the core imports no
    # filter); old imports keep working, resolved on first use.
    if name in ("pool", "pool_footprint", "pool_axes"):
        from ..filters import pool as module

        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
