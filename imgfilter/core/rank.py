"""Exact medians of k x k windows, compiled, on the core's bands.

Three methods, all exact (they pick one of the input values, as
scipy.ndimage.median_filter does); :func:`choose` picks one per call and
tests can name one directly (``median_filter(..., method=...)``):

- ``network`` (k = 3, 5, 7, 9): min/max sorting networks across a row of
  outputs at a time, as OpenCV's medianBlur: every column of k pixels is
  sorted once (shared by the k windows that contain it), the rows of the
  sorted columns are sorted, then a pruned network selects the median among
  the few elements that can still be it (``tools/gen_rank_net.py`` writes
  them). A float window holding a NaN is NaN (a NaN spreads through min and
  max).
- ``histogram`` (8- and 16-bit integers, larger k): 8-bit windows by
  Perreault & Hebert's constant-time sliding histograms (per-column
  histograms, two levels); 16-bit ones by one two-level histogram of the
  window moved a column at a time (k values in and out per pixel) with the
  median tracked from the previous pixel's.
- ``select``: quickselect of each window (any type, any k); NaN ranks last,
  as numpy.partition. The public median takes the rank filters' route
  (:func:`imgfilter.core.morph.rank`: sliding histograms of the values'
  ranks) where :func:`choose` would select, 4-18x faster from 7 x 7 on.

With ``ignore_nan`` (float32/float64) a window holding a NaN takes the
median of its valid values instead (numpy.nanmedian: an even count averages
the middle two; NaN when none is valid).
"""

from __future__ import annotations

import numpy as np

from .. import _engine
from .bounds import check_window
from .buffers import empty
from .options import plan_window

METHODS = ("network", "histogram", "select")
NETWORK_SIZES = (3, 5, 7, 9)
# The types with networks for k = 7 and 9 (others select beyond k = 5).
NETWORK_WIDE = frozenset(np.dtype(t) for t in (np.uint8, np.uint16, np.int16, np.float32, np.float64))
HISTOGRAM_TYPES = frozenset(np.dtype(t) for t in (np.uint8, np.int8, np.uint16, np.int16))
# From this side on, histograms beat the networks (8-bit) and selection.
HISTOGRAM_MIN = 11

_CODES = {"network": 0, "histogram": 1, "select": 2}


def work_dtype(dtype) -> np.dtype:
    """The type the kernels run in (native order): bool as uint8, float16 as float32 (both exact)."""
    dtype = np.dtype(dtype).newbyteorder("=")
    if dtype.kind == "b":
        return np.dtype(np.uint8)
    if dtype == np.float16:
        return np.dtype(np.float32)
    return dtype


def choose(k: int, dtype) -> str:
    """The method for a k x k median of ``dtype`` (always exact)."""
    work = work_dtype(dtype)
    if k in NETWORK_SIZES and (k <= 5 or work in NETWORK_WIDE):
        return "network"
    if work in HISTOGRAM_TYPES and k >= HISTOGRAM_MIN:
        return "histogram"
    return "select"


def median_block(block: np.ndarray, k: int, out: np.ndarray, method: str, nan: int = 0) -> None:
    """out = the k x k medians of ``block`` ((rows + k - 1, cols + k - 1, ...)); both C-contiguous.

    ``nan``: 0 nothing, 1 a float window holding a NaN is NaN (networks), 2
    it takes the median of its valid values.
    """
    rows, cols = out.shape[:2]
    chan = int(np.prod(out.shape[2:], dtype=np.int64))
    src_row = block.strides[0] // block.itemsize
    dst_row = out.strides[0] // out.itemsize if out.shape[0] > 1 else cols * chan
    if block.dtype.kind not in "f":
        nan = 0
    _engine.median(block, out, rows, cols, chan, src_row, dst_row, k, _CODES[method], nan)


def check_size(x: np.ndarray, k: int, method: str) -> None:
    """:func:`_check_size` for ``method``'s cost over ``x``, in its working dtype."""
    _check_size(x, k, method, work_dtype(x.dtype))


def _check_size(x: np.ndarray, k: int, method: str, work: np.dtype) -> None:
    """Refuse a window beyond core/bounds (rank windows do not fold): histograms
    cost about k per output, the other methods k * k; a band holds k - 1 extra rows."""
    rows = min(4 * k if method == "histogram" else 1, x.shape[0])
    rest = int(np.prod(x.shape[2:], dtype=np.int64))
    block = (rows + k - 1) * (x.shape[1] + k - 1) * rest * work.itemsize
    taps = k if method == "histogram" else k * k
    check_window("size", k, outputs=x.size, taps=taps, block_bytes=block, image_bytes=x.nbytes)


def _median3_direct(x: np.ndarray, mode: str, threads: int | None) -> np.ndarray:
    """3x3 median of an integer (H, W, ...) array read in place: the engine
    takes the border through row and column index tables, so no band is
    copied with its halo (that copy cost as much as the medians)."""
    from .border import source_index
    from .tiles import run_bands

    src = np.ascontiguousarray(x)
    rows, cols = src.shape[:2]
    chan = int(np.prod(src.shape[2:], dtype=np.int64))
    out = empty(src.shape, src.dtype)
    if out.size == 0:
        return out
    # Only the rows and columns beyond the edges are mapped by the mode.
    top, bottom = source_index(-1, 0, rows, mode)[0], source_index(rows, rows + 1, rows, mode)[0]
    rowidx = (int(top), *range(rows), int(bottom))
    left, right = source_index(-1, 0, cols, mode)[0], source_index(cols, cols + 1, cols, mode)[0]
    left, right = int(left), int(right)
    row = cols * chan

    def work(r0: int, r1: int) -> None:
        _engine.median(
            src, out[r0:r1], r1 - r0, cols, chan, row, row, 3, 3, 0, rowidx[r0 : r1 + 2], left, right
        )

    # Bands only spread the rows over the threads (nothing is copied per band).
    run_bands(rows, src.itemsize * row * 4, work, threads=threads)
    return out


def median_filter(
    x: np.ndarray,
    k: int,
    mode: str,
    threads: int | None = None,
    *,
    method: str | None = None,
    ignore_nan: bool = False,
) -> np.ndarray:
    """k x k median of a (H, W, ...) array (any dtype) with border ``mode``, on the band pool."""
    from .windows import window_apply

    plan = plan_window(x.shape, (k, k), "same", 1, 1)
    work = work_dtype(x.dtype)
    method = method or choose(k, x.dtype)
    _check_size(x, k, method, work)
    nan = 2 if ignore_nan else 1
    src = x.view(np.uint8) if x.dtype.kind == "b" else x
    if k == 3 and method == "network" and work.kind in "iu" and x.ndim >= 2:
        res = _median3_direct(src.astype(work, copy=False), mode, threads)
        return res.view(bool) if x.dtype.kind == "b" else res.astype(src.dtype, copy=False)

    def reduce(block, plan, counts, out):
        block = np.ascontiguousarray(block)
        # (out's dtype may spell native order as "<": the engine takes "=".)
        direct = out.dtype == work and out.flags.c_contiguous
        dst = out.view(work) if direct else empty(out.shape, work)
        median_block(block, k, dst, method, nan)
        if not direct:
            out[...] = dst

    row_elems = int(np.prod(x.shape[1:], dtype=np.int64))
    res = window_apply(
        src,
        plan,
        reduce,
        mode=mode,
        work_dtype=work,
        out_dtype=src.dtype,
        bytes_per_row=work.itemsize * row_elems * (2 if method == "histogram" else 32),
        min_rows=4 * k if method == "histogram" else 1,
        threads=threads,
    )
    return res.view(bool) if x.dtype.kind == "b" else res
