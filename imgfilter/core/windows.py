"""Non-linear window machinery: rank filters (median) and pooling.

The same plan/band/tap machinery as the linear filters; only what happens
under the window differs. Filters build on :func:`window_apply`, which hands
a reducer the border-extended block of each band and the tap views of it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import numpy as np

from .._engine import _kernels as _engine
from .bounds import check_window
from .footprint import Footprint, chunkable
from .linear import band_block, input_range, tap_view
from .masked import check_nan, validity
from .names import OptionError
from .options import (
    IntOrTuple,
    PaddingSpec,
    WindowPlan,
    check_image,
    per_axis,
    plan_window,
)
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
        wide = np.empty(out.shape, dtype=np.float64)
        fold_window(ufunc, block.astype(np.float64), plan, counts, wide)
        out[...] = wide
        return
    block = np.ascontiguousarray(block, dtype=block.dtype.newbyteorder("="))
    native = out.flags.c_contiguous and out.dtype.byteorder in "=|"
    dst = out if native else np.empty(out.shape, dtype=out.dtype.newbyteorder("="))
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
    first = np.empty((counts[0], counts[1], *cur.shape[2:]), dtype=out.dtype)
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
        dst = out if last else np.empty(shape, dtype=out.dtype)
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
) -> np.ndarray:
    """Run ``reducer(block, plan, counts, out_band)`` over row bands of the output.

    ``block`` is the border-extended input feeding the band (in ``work_dtype``,
    default the image's), ``counts`` the band's output size per filtered axis,
    and ``out_band`` the slice of the result the reducer must fill.
    ``source(block)`` maps each extended band (in the image's own dtype) to
    the working values first (a lookup table such as sRGB decoding), and
    ``finish(out_band, r0, r1)`` post-processes output rows ``r0:r1`` in
    place, both on the worker threads while the band is in cache.
    """
    work_dtype = np.dtype(work_dtype or image.dtype)
    out = np.empty(plan.out_shape, dtype=np.dtype(out_dtype or image.dtype))
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


def pool_axes(image_ndim: int, size: IntOrTuple) -> int:
    """Number of leading axes a pooling ``size`` applies to (int: H and W)."""
    if isinstance(size, (int, np.integer)):
        return min(2, image_ndim)
    return len(size)


def _pool_pads(padding: PaddingSpec, n: tuple[int, ...], size, stride):
    """(before, after) per axis; "same" centres the windows as TensorFlow does."""
    if isinstance(padding, str) and padding.strip().lower() == "same":
        pads = []
        for ni, k, s in zip(n, size, stride, strict=False):
            out = -(-ni // s)
            total = max((out - 1) * s + k - ni, 0)
            pads.append((total // 2, total - total // 2))
        return tuple(pads)
    if isinstance(padding, str) and padding.strip().lower() == "full":
        raise OptionError("padding='full' is not offered for pooling; use 'valid', 'same' or ints")
    return padding


def _check_pool(arr: np.ndarray, plan: WindowPlan, size) -> None:
    """Refuse windows whose padded band would not fit core/bounds (one output row's block)."""
    rows = plan.eff[0]
    rest = [n + b + a for n, (b, a) in zip(plan.in_shape[1 : plan.ndim], plan.pads[1:], strict=False)]
    block = rows * math.prod(rest) * math.prod(arr.shape[plan.ndim :]) * 8
    check_window("size", size, outputs=0, taps=0, block_bytes=block, image_bytes=arr.nbytes)


def pool_footprint(shape, size=2, *, stride=None, padding="valid", **_):
    """Footprint of :func:`pool`: padded positions are left out, never read."""
    nd = pool_axes(len(shape), size)
    sizes = per_axis(size, nd, "size")
    strides = sizes if stride is None else per_axis(stride, nd, "stride")
    pads = _pool_pads(padding, tuple(shape[:nd]), sizes, strides)
    return Footprint(plan_window(tuple(shape), sizes, pads, strides, 1), None, padding_arg=True)


@chunkable(pool_footprint)
def pool(
    image: np.ndarray,
    size: IntOrTuple = 2,
    *,
    stride: IntOrTuple | None = None,
    op: str = "max",
    padding: PaddingSpec = "valid",
    threads: int | None = None,
    nan: str = "propagate",
    mask: object = None,
    linear: bool = False,
) -> np.ndarray:
    """Max, average or min pooling over the two leading (spatial) axes, per channel.

    Parameters
    ----------
    image : array_like
        (H, W) or (H, W, C); pooling never mixes channels.
        A ``dask.array.Array`` gives a lazy Dask array with the same
        values, chunked like it (see :mod:`imgfilter.core.chunked`).
    size : int or sequence of int, optional
        Window size; an int pools H and W, a sequence gives one size per
        leading axis it pools.
    stride : int or sequence of int, optional
        Step between windows; defaults to ``size`` (non-overlapping).
    op : {"max", "avg", "min"}, optional
        ``"mean"``/``"average"`` are aliases of ``"avg"``.
    padding : {"valid", "same"}, int or sequence, optional
        ``"valid"`` gives floor((n - size) / stride) + 1 per axis;
        ``"same"`` gives ceil(n / stride), the windows centred as TensorFlow
        does and clipped at the border: padded positions never take part in
        a max, min or mean. Explicit padding must stay below the window size.
    threads : int, optional
        Worker threads; default ``IMGFILTER_THREADS`` or all cores.
    nan : {"propagate", "ignore", "keep"}, optional
        ``"ignore"`` pools only the valid values of each window (NaN where
        none is valid); pooling changes the geometry, so ``"keep"`` is the
        same as ``"ignore"``.
    mask : array_like of bool, optional
        True = valid (spatial shape, broadcast over channels), any dtype;
        an integer window with no valid pixel gives the unmasked result.
    linear : bool, optional
        Average in linear light (8- and 16-bit sRGB images; the result is the
        float32 sRGB-encoded mean). Max and min are the same either way.

    Returns
    -------
    ndarray
        Max and min keep the image's dtype (exact); the average is float32
        (float64 for float64 input).

    Examples
    --------
    >>> import numpy as np
    >>> pool(np.arange(16).reshape(4, 4), 2)
    array([[ 5,  7],
           [13, 15]])
    >>> pool(np.arange(16).reshape(4, 4), 2, op="avg")
    array([[ 2.5,  4.5],
           [10.5, 12.5]])
    """
    arr = check_image(image)
    key = str(op).strip().lower()
    key = {"mean": "avg", "average": "avg", "maximum": "max", "minimum": "min"}.get(key, key)
    if key not in ("max", "avg", "min"):
        raise OptionError(f"op={op!r} is not a pooling op; use 'max', 'avg' or 'min'")
    from .alpha import resolve_alpha

    # An array is data: its last band is alpha only for a PIL image with one
    # (the CLI hands pool no band it should keep out of linear light).
    use_alpha = resolve_alpha(image, arr, None)
    if linear and key == "avg" and not _fused_linear(arr, mask, use_alpha):
        from .srgb import in_linear_light

        def pooled(m):
            return in_linear_light(
                arr,
                use_alpha,
                lambda x: pool(
                    x, size, stride=stride, op=op, padding=padding, threads=threads, nan=nan, mask=m
                ),
                reencode=False,
            )

        out = pooled(mask)
        holes = np.isnan(out)
        if mask is not None and arr.dtype.kind in "biu" and holes.any():
            out[holes] = pooled(None)[holes]  # integer windows with no valid pixel: unmasked mean
        return out
    nd = pool_axes(arr.ndim, size)
    sizes = per_axis(size, nd, "size")
    strides = sizes if stride is None else per_axis(stride, nd, "stride")
    pads = _pool_pads(padding, arr.shape[:nd], sizes, strides)
    plan = plan_window(arr.shape, sizes, pads, strides, 1)
    _check_pool(arr, plan, size)
    for (b, a), k in zip(plan.pads, sizes, strict=False):
        if b >= k or a >= k:
            raise OptionError(f"padding {padding!r} leaves windows with no image pixel (size {size!r})")
    nan = check_nan(nan)
    if key == "avg" and nan != "propagate" and mask is None and arr.dtype.kind == "f":
        # One reduction finds whether any NaN is there at all; the bands find where.
        if arr.size and np.isnan(arr.min()):
            return _pool_avg_valid(arr, None, plan, sizes, strides, padding, threads)
    valid = validity(arr, nan, mask)
    if valid is not None:
        if key == "avg":
            return _pool_avg_valid(arr, valid, plan, sizes, strides, padding, threads)
        if mask is not None:
            return _pool_valid(arr, valid, key, sizes, strides, padding, threads)

    if key == "avg":
        from .options import float_dtype

        fused = linear and _fused_linear(arr, mask, use_alpha)
        result = np.dtype(np.float32) if fused else float_dtype(arr.dtype)
        dtype = _sum_dtype(arr.dtype, result, sizes)
        divide = _window_counts(plan, arr.shape, sizes, strides, dtype)

        # Linear light into float32 sums: the codes are decoded as the sums
        # load them (float64 sums of huge windows take decoded blocks).
        in_kernel = fused and dtype == np.float32
        # 8- and 16-bit codes are summed into float32 as they are loaded.
        raw = in_kernel or (arr.dtype in (np.uint8, np.uint16) and dtype == np.float32)

        def reduce_avg(block, plan, counts, out):
            fold_window(np.add, block, plan, counts, out, decode=in_kernel)

        def finish(out, r0, r1):
            # One correctly rounded division by the number of image pixels
            # in each (clipped) window.
            out /= divide if np.ndim(divide) == 0 else divide[r0:r1]
            if fused:
                encode_float(out, float(np.iinfo(arr.dtype).max), out=out)

        if fused:
            from .srgb import decode, encode_float

        out = window_apply(
            arr,
            plan,
            reduce_avg,
            mode="constant",
            cval=0,
            work_dtype=arr.dtype if raw else dtype,
            out_dtype=dtype,
            threads=threads,
            source=(lambda b: decode(b).astype(dtype)) if fused and not in_kernel else None,
            finish=finish,
        )
        return out.astype(result, copy=False)

    ufunc = np.maximum if key == "max" else np.minimum
    if valid is not None:
        # NaN-ignoring max/min is fmax/fmin with NaN beyond the border: one
        # pass, as fast as the plain pool (all-NaN windows stay NaN).
        fill, ufunc = np.nan, (np.fmax if key == "max" else np.fmin)
    elif arr.dtype.kind == "f":
        fill = -np.inf if key == "max" else np.inf
    elif arr.dtype.kind == "b":
        fill = key == "min"
    else:
        info = np.iinfo(arr.dtype)
        fill = info.min if key == "max" else info.max

    def reduce_ext(block, plan, counts, out):
        fold_window(ufunc, block, plan, counts, out)

    return window_apply(arr, plan, reduce_ext, mode="constant", cval=fill, threads=threads)


def _fused_linear(arr: np.ndarray, mask: object, use_alpha: bool) -> bool:
    """Whether an average pool in linear light can decode and encode band by band."""
    return arr.dtype in (np.uint8, np.uint16) and mask is None and not use_alpha


def _window_counts(plan: WindowPlan, shape, sizes, strides, dtype) -> np.ndarray | float:
    """Image pixels in each (clipped) pooling window: a number if all are
    whole, else an array over the output's rows and columns (trailing axes
    of size 1 broadcast over channels)."""
    per_axis_counts = []
    for axis, (k, s) in enumerate(zip(sizes, strides, strict=False)):
        start = np.arange(plan.out_shape[axis]) * s - plan.pads[axis][0]
        per_axis_counts.append(np.minimum(start + k, shape[axis]) - np.maximum(start, 0))
    if all(np.all(c == k) for c, k in zip(per_axis_counts, sizes, strict=False)):
        return dtype.type(np.prod(sizes))
    total = per_axis_counts[0]
    for c in per_axis_counts[1:]:
        total = np.multiply.outer(total, c)
    return total.reshape(total.shape + (1,) * (len(plan.out_shape) - total.ndim)).astype(dtype)


def _sum_dtype(image: np.dtype, result: np.dtype, sizes) -> np.dtype:
    """Where window sums of an integer image are added: the float result type
    while it holds every such sum exactly (float32 below 2**24), else float64,
    so a large window's mean never strays past the image's values."""
    if image.kind in "biu" and result == np.float32:
        top = 1 if image.kind == "b" else int(np.iinfo(image).max)
        if top * int(np.prod(sizes)) >= 1 << 24:
            return np.dtype(np.float64)
    return result


def _pool_avg_valid(arr, valid, plan, sizes, strides, padding, threads):
    """Mean of the valid pixels of each window: valid sums over valid counts,
    band by band on the threads (``valid=None``: the NaN pixels are missing).

    The same folds as the plain pool (so a window with nothing missing gives
    its plain mean, bit for bit); the counts are small-integer sums of the
    validity bytes. Padded positions are no pixels at all: outside counts as
    missing.
    """
    from .options import float_dtype

    result = float_dtype(arr.dtype)
    dtype = _sum_dtype(arr.dtype, result, sizes)
    # A 2-D mask broadcast over channels: one count plane serves every channel.
    plane_only = valid is not None and valid.ndim > plan.ndim and valid.strides[-1] == 0
    vsrc = valid[..., 0] if plane_only else valid
    out = np.empty(plan.out_shape, dtype=dtype)
    rest = int(np.prod(out.shape[1:], dtype=np.int64))
    row_bytes = rest * (dtype.itemsize + 1) * (3 + plan.stride[0])

    def work(r0: int, r1: int) -> None:
        if valid is None:
            # NaN holes, found band by band (NaN beyond the border too).
            block = band_block(arr, plan, r0, r1, "constant", np.nan, dtype)
            missing = np.isnan(block)
            vblock = np.logical_not(missing)
        else:
            block = band_block(arr, plan, r0, r1, "constant", 0.0, dtype)
            vblock = band_block(vsrc, plan, r0, r1, "constant", False, np.dtype(bool))
            missing = np.logical_not(vblock)
        np.copyto(block, 0, where=missing[..., None] if plane_only else missing)
        counts = (r1 - r0, *plan.spatial_out[1:])
        num = out[r0:r1]
        fold_window(np.add, block, plan, counts, num)
        den = np.empty(counts + vblock.shape[plan.ndim :], dtype=np.float32)
        fold_window(np.add, vblock.astype(np.float32), plan, counts, den)
        with np.errstate(invalid="ignore"):  # 0 / 0: a window with nothing valid is NaN
            np.divide(num, den[..., None] if plane_only else den, out=num)

    run_bands(plan.out_shape[0], row_bytes, work, threads=threads, memory_cap=2 * arr.nbytes)
    if arr.dtype.kind != "f":
        holes = np.isnan(out)
        if holes.any():  # integer windows with no valid pixel: the unmasked mean
            out[holes] = pool(arr, sizes, stride=strides, op="avg", padding=padding, threads=threads)[holes]
    return out.astype(result, copy=False)


def _pool_valid(arr, valid, key, sizes, strides, padding, threads):
    """Max or min over the valid pixels only (see :func:`pool`'s ``nan``/``mask``)."""
    opts = {"stride": strides, "padding": padding, "threads": threads}
    any_valid = pool(valid.view(np.uint8), sizes, op="max", **opts) > 0
    if arr.dtype.kind == "f":
        fill = -np.inf if key == "max" else np.inf
    else:
        info = np.iinfo(arr.dtype) if arr.dtype.kind != "b" else None
        fill = (info.min if key == "max" else info.max) if info is not None else key == "min"
    out = pool(np.where(valid, arr, fill).astype(arr.dtype), sizes, op=key, **opts)
    if arr.dtype.kind == "f":
        out[~any_valid] = np.nan
    else:
        out[~any_valid] = pool(arr, sizes, op=key, **opts)[~any_valid]
    return out
