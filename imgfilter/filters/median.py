"""Median filter: the middle value of each window, exact for every dtype."""

from __future__ import annotations

import numpy as np

from ..core import rank
from ..core.dtypes import highest
from ..core.footprint import Footprint
from ..core.masked import restore_missing, same_in_every_channel, validity
from ..core.names import OptionError
from ..core.options import normalize_mode, plan_window
from ..core.windows import iter_views, window_apply, window_taps
from ._dispatch import dispatch
from ._docs import docfiller
from .rank import centred, select, select_many, spatial_footprint, symmetric_footprint


def _odd_size(size: object) -> int:
    if isinstance(size, (bool, np.bool_)) or not isinstance(size, (int, np.integer)):
        raise TypeError(f"size must be an odd int, got {size!r}")
    if size < 1 or size % 2 == 0:
        raise OptionError(f"size must be odd and positive, got {size}")
    return int(size)


def median_footprint(shape, size=3, *, footprint=None, mode="reflect", **_):
    if footprint is not None:
        fp = spatial_footprint(tuple(shape), None, footprint)
        return symmetric_footprint(shape, fp.shape, centred(fp), normalize_mode(mode), 0.0)
    k = _odd_size(size)
    kshape = (k, k)[: min(2, len(shape))]
    return Footprint(plan_window(tuple(shape), kshape, "same", 1, 1), normalize_mode(mode))


@dispatch(median_footprint, alpha="pass", missing=True)
@docfiller
def median(
    image: np.ndarray,
    size: int = 3,
    *,
    footprint: np.ndarray | None = None,
    mode: str = "reflect",
    alpha: bool | None = None,
    threads: int | None = None,
    nan: str = "propagate",
    mask: object = None,
    axes: object = None,
) -> np.ndarray:
    """Median filter over a size x size window, or any footprint, per channel.

    Exactly equal to ``scipy.ndimage.median_filter`` (``size=`` or
    ``footprint=``) with the matching border mode (our ``"reflect"`` is
    SciPy's ``"mirror"``), for any dtype (float16 included), any size
    (OpenCV stops at 255) and any channel count; for int64/uint64 values
    beyond 2**53 it is the exact sort of the window, which SciPy 1.17 is not
    (it gives other values there). Square windows up to 9x9
    use min/max sorting networks; larger 8- and 16-bit windows sliding
    histograms, so their cost does not grow with the window's area (see
    :mod:`imgfilter.core.rank`). A footprint of n pixels takes rank
    ``n // 2`` (the upper middle for an even n, as SciPy) on the rank
    filters' engine (:func:`imgfilter.rank_filter`).

    Parameters
    ----------
    %(image_missing)s
    size : int, optional
        Window side, odd and positive (ignored when ``footprint`` is given).
    footprint : array_like of bool, optional
        Which pixels of the window count (:mod:`imgfilter.footprints`, or
        any boolean array), 1-D or 2-D, any side; index ``k // 2`` of each
        axis lies on the output pixel.
    mode : str, optional
        Border mode, as in :func:`imgfilter.correlate` (``"constant"`` pads 0).
    %(alpha_pass)s
    %(threads)s
    nan : {"propagate", "ignore", "keep"}, optional
        ``"ignore"`` takes the median of the valid values under the window
        (as ``numpy.nanmedian``: an even count averages the middle two); NaN
        where none is valid; a footprint's window with nothing missing is
        SciPy's, the upper middle of an even count. ``"keep"`` also puts
        NaN back where it was. ``"propagate"``: a window holding a NaN is
        NaN, for every size and footprint (SciPy's median_filter orders a
        NaN among the values instead).
    mask : array_like of bool, optional
        True = valid (spatial shape, broadcast over channels), any dtype;
        integer pixels with no valid neighbour keep their value (exact for
        every integer width: the mean of two middles is rounded half to
        even in integer arithmetic). With ``nan="propagate"`` a NaN in a
        valid pixel makes every window that holds it NaN.
    %(axes)s

    Returns
    -------
    ndarray
        The image's dtype: a median picks one of the input values.

    Examples
    --------
    >>> import numpy as np
    >>> median(np.array([[1, 1, 1], [1, 9, 1], [1, 1, 1]], dtype=np.uint8))
    array([[1, 1, 1],
           [1, 1, 1],
           [1, 1, 1]], dtype=uint8)
    """
    arr = image
    if footprint is not None:
        return _median_footprint(arr, footprint, normalize_mode(mode), nan, mask, threads)
    k = _odd_size(size)
    mode = normalize_mode(mode)
    if arr.ndim >= 2 and k > 1 and rank.choose(k, arr.dtype) == "select":
        # No network or sliding histogram of the values for this k and dtype: the
        # rank filters' route (sliding histograms of the values' ranks, after one
        # sort of the image) beats a quickselect per window from 7 x 7 on (1080p
        # RGB one thread: float32 11 x 11 4504 -> 255 ms, int32 7 x 7 1585 -> 356),
        # with the same values, and a window holding a NaN is NaN as for the
        # smaller windows' networks.
        rank.check_size(arr, k, "histogram")
        return _median_footprint(arr, np.ones((k, k), bool), mode, nan, mask, threads)

    def run(x: np.ndarray) -> np.ndarray:
        if x.ndim == 1:
            return _median_1d(x, k, mode, threads)
        return rank.median_filter(x, k, mode, threads)

    def run_masked(x: np.ndarray) -> np.ndarray:
        if mask is None and x.ndim > 1 and x.dtype in (np.float32, np.float64):
            # Holes marked by NaN only: the kernel takes the valid-only medians.
            res = rank.median_filter(x, k, mode, threads, ignore_nan=True)
            if nan == "keep":
                res[np.isnan(x)] = np.nan
            return res
        valid = validity(x, nan, None if mask is None else mask)
        if valid is None:
            return run(x)
        return _median_valid(x, valid, k, mode, nan, threads, run, nan_only=mask is None)

    if mask is not None or (nan != "propagate" and arr.dtype.kind == "f"):
        return run_masked(arr)
    return run(arr)


def _median_footprint(x: np.ndarray, footprint, mode: str, nan: str, mask, threads) -> np.ndarray:
    """The median under any footprint: rank n // 2 (SciPy's), and among v < n
    valid values the mean of ranks (v - 1) // 2 and v // 2 (numpy.nanmedian)."""
    fp = spatial_footprint(x.shape, None, footprint)
    n = int(fp.sum())
    opts = {"mode": mode, "cval": x.dtype.type(0), "nan": nan, "mask": mask, "threads": threads}
    # The rank at v valid values, v = 0..n, as int64 arrays: a list of n Python ints
    # took some 40 bytes a footprint pixel (3 GB for disk(4095)).
    v = np.arange(n + 1, dtype=np.int64)
    lo = (v - 1) // 2
    lo[0], lo[n] = 0, n // 2
    missing = mask is not None or (nan != "propagate" and x.dtype.kind == "f")
    if not missing or n == 1:
        return select(x, fp, n // 2, lo, **opts)
    hi = v // 2
    hi[0], hi[n] = 0, n // 2
    a, b = select_many(x, fp, n // 2, [lo, hi], **opts)
    if x.dtype.kind != "f":
        return _midpoint(a, b)
    with np.errstate(invalid="ignore"):  # -inf and +inf in the middle: NaN, as numpy's
        return ((a.astype(np.float64) + b) / 2).astype(x.dtype)


# Values gathered per batch of windows with missing pixels (one batch per
# thread task; its temporaries stay a few MB).
_GATHER_VALUES = 1 << 20


def _median_valid(
    x: np.ndarray, valid: np.ndarray, k: int, mode: str, nan: str, threads, plain, nan_only: bool = False
) -> np.ndarray:
    """Median of the valid values of each window (numpy.nanmedian semantics).

    Windows with nothing missing take the plain (exact, fast) median; only
    the windows that hold a missing pixel are gathered and reduced as
    nanmedian does: sorted with the missing values last, the middle of the
    valid ones (the mean of the middle two for an even count), NaN if none.
    (Float images with NaN holes and no mask take the compiled kernel's
    valid-only medians instead, see :func:`imgfilter.core.rank.median_filter`.)
    The gathered windows are sorted in batches on the worker threads.
    """
    from ..core.border import extend

    nd = min(2, x.ndim)
    res = plain(x)
    r = k // 2
    ranges = tuple((-r, n + r) for n in x.shape[:nd])

    def dilate(flags: np.ndarray) -> np.ndarray:
        """Where a window holds a set flag (the border mode deciding what lies
        outside; beyond a constant border nothing is set)."""
        grown = extend(flags, ranges, mode, False)
        for axis in range(nd):
            n = x.shape[axis]
            acc = grown[(slice(None),) * axis + (slice(0, n),)].copy()
            for t in range(1, k):
                acc |= grown[(slice(None),) * axis + (slice(t, t + n),)]
            grown = acc
        return grown

    # Which windows hold a missing pixel (beyond a constant border the
    # outside is a valid 0, as for the plain median): on one plane when the
    # validity is the same in every channel.
    shared = same_in_every_channel(valid) if x.ndim > nd else False
    missing = ~(valid[..., 0] if shared else valid)
    flat = np.flatnonzero(dilate(missing))
    if flat.size:
        _fix_windows(x, valid, res, flat, k, mode, ranges, shared, nan_only, threads)
    valid_b = valid if valid.ndim == x.ndim else valid[..., None]
    if x.dtype.kind == "f":
        if not nan_only and nan == "propagate":
            # A mask says which pixels are missing; NaN in a valid one
            # propagates (IEEE), to every window that holds it.
            poisoned = np.isnan(x) & valid_b
            if poisoned.any():
                res[dilate(poisoned)] = np.nan
        return restore_missing(res, x, valid, nan)
    if nan == "keep":
        gone = ~np.broadcast_to(valid_b, x.shape)
        res[gone] = x[gone]
    return res


def _fix_windows(x, valid, res, flat, k, mode, ranges, shared, nan_only, threads) -> None:
    """Median of the valid values of the windows at ``flat`` (spatial flat
    indices; all channels when ``shared``), written into ``res``.

    Values are gathered in the image's own dtype (exact for 64-bit integers
    too), with the validity alongside (NaN marks it when ``nan_only``).
    """
    from ..core.border import extend
    from ..core.tiles import run_bands

    nd = min(2, x.ndim)
    ext = extend(x, ranges, mode, 0, x.dtype)
    vext = None if nan_only else extend(np.broadcast_to(valid, x.shape), ranges, mode, True)
    # Flat offsets of the window's taps in the extended image, and of each
    # window's origin (one per output value to fix).
    channels = int(np.prod(x.shape[nd:], dtype=np.int64))
    ext_strides = np.cumprod((channels, *ext.shape[nd - 1 : 0 : -1]))[::-1]
    offsets = sum(
        np.arange(k).reshape((k,) + (1,) * (nd - 1 - a)) * ext_strides[a] for a in range(nd)
    ).ravel()
    coords = np.unravel_index(flat, x.shape[:nd] if shared else valid.shape)
    origin = sum(c * s for c, s in zip(coords[:nd], ext_strides, strict=False))
    if shared and channels > 1:
        lanes = np.arange(channels)
        origin = (origin[:, None] + lanes).ravel()
        target = (flat[:, None] * channels + lanes).ravel()
    else:
        if x.ndim > nd:
            origin = origin + coords[nd]
        target = flat
    taps = offsets.size
    kind = x.dtype.kind
    # Missing values sort last as the dtype's largest value; a valid one
    # equal to it ties with them, and the picks never reach past the valid.
    last = highest(x.dtype)
    out_flat, x_flat = res.reshape(-1), x.reshape(-1)
    ext_flat = ext.reshape(-1)
    vext_flat = None if vext is None else vext.reshape(-1)

    def work(w0: int, w1: int) -> None:
        index = offsets[:, None] + origin[None, w0:w1]  # (tap, window)
        windows = ext_flat.take(index)
        gone = np.isnan(windows) if vext_flat is None else ~vext_flat.take(index)
        count = taps - np.count_nonzero(gone, axis=0)
        np.copyto(windows, last, where=gone)
        ordered = np.sort(windows.T, axis=1).T
        lo = np.maximum(count - 1, 0) // 2
        hi = np.minimum(count // 2, taps - 1)
        a = np.take_along_axis(ordered, lo[None, :], axis=0)[0]
        b = np.take_along_axis(ordered, hi[None, :], axis=0)[0]
        where = target[w0:w1]
        if kind == "f":
            with np.errstate(invalid="ignore"):  # -inf and +inf in the middle: NaN, as numpy's
                med = (a.astype(np.float64) + b) / 2  # as numpy.median averages the middle two
            med[count == 0] = np.nan
        else:
            med = _midpoint(a, b)
            # Integers cannot hold NaN: nothing valid keeps the pixel's value.
            med[count == 0] = x_flat[where[count == 0]]
        out_flat[where] = med

    # Bands of windows on the worker threads; each writes only its own targets.
    run_bands(origin.size, 4 * taps * ext.itemsize, work, threads=threads, memory_cap=_GATHER_VALUES * 8)


def _midpoint(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(a + b) / 2 for integers a <= b, rounded half to even (as ``numpy.rint``
    of the float mean), exactly for any width; bool: the mean's >= 0.5."""
    if a.dtype == bool:
        return a | b
    wide = np.dtype(np.int64 if a.dtype.kind == "i" else np.uint64)
    lo, hi = a.astype(wide), b.astype(wide)
    # The difference, modulo 2**64, is exact: 0 <= b - a < 2**64.
    diff = hi.view(np.uint64) - lo.view(np.uint64)
    mid = (lo.view(np.uint64) + (diff >> np.uint64(1))).view(wide)
    mid += (diff & np.uint64(1)).astype(wide) & (mid & wide.type(1))
    return mid.astype(a.dtype)


def _median_1d(x: np.ndarray, k: int, mode: str, threads: int | None) -> np.ndarray:
    plan = plan_window(x.shape, (k,), "same", 1, 1)
    taps = window_taps(plan)

    def reduce(block, plan, counts, out):
        stack = np.stack(list(iter_views(block, plan, counts, taps)))
        out[...] = np.partition(stack, k // 2, axis=0)[k // 2]

    return window_apply(x, plan, reduce, mode=mode, threads=threads)
