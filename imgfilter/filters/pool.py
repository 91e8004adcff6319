"""Pooling: max, average or min over windows, per channel.

The public wrapper of pooling: options, the geometry of its windows
(TensorFlow's "same" centring, clipped at the border) and its missing-pixel
rules; the folds themselves are :func:`imgfilter.core.windows.fold_window`.
"""

from __future__ import annotations

import math

import numpy as np

from ..core.bounds import check_window
from ..core.dtypes import float_dtype, highest, lowest, sum_dtype, value_top
from ..core.footprint import Footprint
from ..core.masked import normalized_bands, validity
from ..core.names import OptionError
from ..core.options import IntOrTuple, PaddingSpec, WindowPlan, per_axis, plan_window
from ..core.srgb import decode, encode_float, in_linear_light
from ..core.windows import fold_mean, fold_window, mean_fusable, window_apply
from ._dispatch import dispatch
from ._docs import docfiller


def pool_axes(image_ndim: int, size: IntOrTuple) -> int:
    """Number of leading axes a pooling ``size`` applies to (int: H and W)."""
    if isinstance(size, (int, np.integer)):
        return min(2, image_ndim)
    return len(size)


def _check_pool(arr: np.ndarray, plan: WindowPlan, size) -> None:
    """Refuse windows whose padded band would not fit core/bounds (one output row's block)."""
    rows = plan.eff[0]
    rest = [n + b + a for n, (b, a) in zip(plan.in_shape[1 : plan.ndim], plan.pads[1:], strict=False)]
    block = rows * math.prod(rest) * math.prod(arr.shape[plan.ndim :]) * 8
    check_window("size", size, outputs=0, taps=0, block_bytes=block, image_bytes=arr.nbytes)


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


def pool_footprint(shape, size=2, *, stride=None, padding="valid", **_):
    """Footprint of :func:`pool`: padded positions are left out, never read."""
    nd = pool_axes(len(shape), size)
    sizes = per_axis(size, nd, "size")
    strides = sizes if stride is None else per_axis(stride, nd, "stride")
    pads = _pool_pads(padding, tuple(shape[:nd]), sizes, strides)
    return Footprint(plan_window(tuple(shape), sizes, pads, strides, 1), None, padding_arg=True)


def _pooled_axes(ndim: int, options: dict) -> tuple[int, bool]:
    """An int size pools H and W (a 2-D filter); a sequence names its leading axes."""
    size = options["size"]
    return pool_axes(ndim, size), not isinstance(size, (int, np.integer))


@dispatch(pool_footprint, alpha="data", missing=True, linear="own", spatial=_pooled_axes)
@docfiller
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
    alpha: bool | None = None,
    axes: object = None,
) -> np.ndarray:
    """Max, average or min pooling over the two leading (spatial) axes, per channel.

    Parameters
    ----------
    %(image_missing)s
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
    alpha : bool, optional
        Whether the last channel is alpha (default: not for a numpy array,
        which is data; yes for a PIL image with an alpha band). It matters
        only to ``linear=True``: alpha is averaged as it is, not decoded.
    axes : sequence of int, optional
        Which axes are pooled (one per pooled axis: two for an int
        ``size``), as in SciPy >= 1.11; the other axes are pooled
        independently and the result keeps the input's axis order.

    Returns
    -------
    ndarray
        Max and min keep the image's dtype (exact); the average is float32
        (float64 for float64, 32- and 64-bit integer input, which float32
        cannot hold exactly).

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
    arr = image
    key = str(op).strip().lower()
    key = {"mean": "avg", "average": "avg", "maximum": "max", "minimum": "min"}.get(key, key)
    if key not in ("max", "avg", "min"):
        raise OptionError(f"op={op!r} is not a pooling op; use 'max', 'avg' or 'min'")
    # An array is data: its last band is alpha only for a PIL image with one
    # or alpha=True (the CLI hands pool no band it should keep out of linear light).
    use_alpha = alpha
    if linear and key == "avg" and not _fused_linear(arr, mask, use_alpha):

        def pooled(m):
            return in_linear_light(
                arr,
                use_alpha,
                lambda x: pool(
                    x,
                    size,
                    stride=stride,
                    op=op,
                    padding=padding,
                    threads=threads,
                    nan=nan,
                    mask=m,
                    alpha=False,
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
    if key == "avg" and nan != "propagate" and mask is None and arr.dtype.kind == "f":
        # NaN holes: one pass sums the values and their count together (a
        # window with none missing gives the plain mean, bit for bit).
        result = float_dtype(arr.dtype)
        dtype = sum_dtype(arr.dtype, result, int(np.prod(sizes)))
        if mean_fusable(dtype, dtype, plan, nan=True):

            def reduce_nanmean(block, plan, counts, out):
                fold_mean(block, plan, counts, out, nan=True)

            # Padded positions are no pixels: NaN beyond the border is missing.
            out = window_apply(
                arr,
                plan,
                reduce_nanmean,
                mode="constant",
                cval=np.nan,
                work_dtype=dtype,
                out_dtype=dtype,
                threads=threads,
            )
            return out.astype(result, copy=False)
        if arr.size and np.isnan(arr.min()):
            return _pool_avg_valid(arr, None, plan, sizes, strides, padding, threads)
    # Max/min ignoring NaN need no validity plane: fmax/fmin skip the NaN themselves,
    # and on an image without NaN they equal max/min.
    fmaxmin = key != "avg" and mask is None and nan != "propagate" and arr.dtype.kind == "f"
    valid = None if fmaxmin else validity(arr, nan, mask)
    if valid is not None:
        if key == "avg":
            return _pool_avg_valid(arr, valid, plan, sizes, strides, padding, threads)
        if mask is not None:
            return _pool_valid(arr, valid, key, sizes, strides, padding, threads)

    if key == "avg":
        fused = linear and _fused_linear(arr, mask, use_alpha)
        result = np.dtype(np.float32) if fused else float_dtype(arr.dtype)
        dtype = sum_dtype(arr.dtype, result, int(np.prod(sizes)))
        divide = _window_counts(plan, arr.shape, sizes, strides, dtype)

        # Linear light into float32 sums: the codes are decoded as the sums
        # load them (float64 sums of huge windows take decoded blocks).
        in_kernel = fused and dtype == np.float32
        # 8- and 16-bit codes are summed into float32 as they are loaded.
        raw = in_kernel or (arr.dtype in (np.uint8, np.uint16) and dtype == np.float32)
        work = arr.dtype if raw else dtype
        # The kernel divides each sum by its window's count as it stores it.
        in_store = mean_fusable(work, dtype, plan)
        rows, cols = _axis_counts(plan, arr.shape, sizes, strides)

        def reduce_avg(block, plan, counts, out, r0):
            if in_store:
                fold_mean(
                    block, plan, counts, out, rows=rows[r0 : r0 + counts[0]], cols=cols, decode=in_kernel
                )
            else:
                fold_window(np.add, block, plan, counts, out, decode=in_kernel)

        def finish(out, r0, r1):
            # One correctly rounded division by the number of image pixels
            # in each (clipped) window.
            if not in_store:
                out /= divide if np.ndim(divide) == 0 else divide[r0:r1]
            if fused:
                encode_float(out, float(value_top(arr.dtype)), out=out)

        out = window_apply(
            arr,
            plan,
            reduce_avg,
            mode="constant",
            cval=0,
            work_dtype=work,
            out_dtype=dtype,
            threads=threads,
            source=(lambda b: decode(b).astype(dtype)) if fused and not in_kernel else None,
            finish=finish if (fused or not in_store) else None,
            band_rows=True,
        )
        return out.astype(result, copy=False)

    ufunc = np.maximum if key == "max" else np.minimum
    if valid is not None or fmaxmin:
        # NaN-ignoring max/min is fmax/fmin with NaN beyond the border: one
        # pass, as fast as the plain pool (all-NaN windows stay NaN).
        fill, ufunc = np.nan, (np.fmax if key == "max" else np.fmin)
    else:
        fill = lowest(arr.dtype) if key == "max" else highest(arr.dtype)

    def reduce_ext(block, plan, counts, out):
        fold_window(ufunc, block, plan, counts, out)

    return window_apply(arr, plan, reduce_ext, mode="constant", cval=fill, threads=threads)


def _fused_linear(arr: np.ndarray, mask: object, use_alpha: bool) -> bool:
    """Whether an average pool in linear light can decode and encode band by band."""
    return arr.dtype in (np.uint8, np.uint16) and mask is None and not use_alpha


def _axis_counts(plan: WindowPlan, shape, sizes, strides) -> list[np.ndarray]:
    """Image pixels along each pooled axis in each (clipped) window (int64)."""
    counts = []
    for axis, (k, s) in enumerate(zip(sizes, strides, strict=False)):
        start = np.arange(plan.out_shape[axis], dtype=np.int64) * s - plan.pads[axis][0]
        counts.append(np.minimum(start + k, shape[axis]) - np.maximum(start, 0))
    if len(counts) == 1:
        counts.append(np.ones(1, dtype=np.int64))
    return counts[:2]


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


def _pool_avg_valid(arr, valid, plan, sizes, strides, padding, threads):
    """Mean of the valid pixels of each window: valid sums over valid counts,
    band by band on the threads (``valid=None``: the NaN pixels are missing).

    The same folds as the plain pool (so a window with nothing missing gives
    its plain mean, bit for bit); the counts are small-integer sums of the
    validity bytes. Padded positions are no pixels at all: outside counts as
    missing.
    """
    result = float_dtype(arr.dtype)
    dtype = sum_dtype(arr.dtype, result, int(np.prod(sizes)))

    def sums(block, counts, out):
        fold_window(np.add, block, plan, counts, out)

    # Padded positions are no pixels: the outside is missing (NaN holes: NaN beyond the border too).
    cval = np.nan if valid is None else 0.0
    out = normalized_bands(
        arr, valid, plan, sums, dtype, threads, mode="constant", cval=cval, outside_valid=False,
        den_dtype=np.dtype(np.float32),
    )  # fmt: skip
    if arr.dtype.kind != "f":
        holes = np.isnan(out)
        if holes.any():  # integer windows with no valid pixel: the unmasked mean
            out[holes] = pool(arr, sizes, stride=strides, op="avg", padding=padding, threads=threads)[holes]
    return out.astype(result, copy=False)


def _pool_valid(arr, valid, key, sizes, strides, padding, threads):
    """Max or min over the valid pixels only (see :func:`pool`'s ``nan``/``mask``)."""
    opts = {"stride": strides, "padding": padding, "threads": threads}
    any_valid = pool(valid.view(np.uint8), sizes, op="max", **opts) > 0
    fill = lowest(arr.dtype) if key == "max" else highest(arr.dtype)
    out = pool(np.where(valid, arr, fill).astype(arr.dtype), sizes, op=key, **opts)
    if arr.dtype.kind == "f":
        out[~any_valid] = np.nan
    else:
        out[~any_valid] = pool(arr, sizes, op=key, **opts)[~any_valid]
    return out
