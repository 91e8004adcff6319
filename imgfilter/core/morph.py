"""Rank filters and min/max over flat footprints, compiled, on the core's bands.

Two engine calls (``imgfilter/_engine/morph.c``), both fed border-extended
row bands by :func:`imgfilter.core.windows.window_apply` (so the band pool,
the threads and the border modes are the same as every other filter's):

- ``morph_rank``: the value of a given rank under the footprint, by a
  sliding histogram. The footprint is cut into runs (consecutive True
  pixels of a row); stepping one pixel right, each run gives one key to the
  histogram and takes one away, so the cost per pixel follows the
  footprint's height, not its area. 8- and 16-bit images are their own keys
  (a fine and a coarse histogram, the answer tracked from the previous
  pixel's); every other dtype (float16/32/64, 32- and 64-bit integers) is
  first mapped to the ranks of its distinct values (one sort of the image;
  equal values share a key, so the result is exactly one of the input
  values) and those keys counted in a Fenwick tree (O(log n) an update),
  or kept sorted per window under small footprints (:data:`WIDE_METHODS`),
  or in the 8- or 16-bit histograms when the image has few distinct values.
- ``morph_minmax``: minimum or maximum, any dtype: one 1-D sliding
  min per distinct run length (log2 L vectorized passes of doubling spans),
  then the min over the runs' rows; rectangles fold their rows by van Herk
  / Gil-Werman (three operations a value, whatever the height). Exact.

NaN (float images): ``"propagate"`` makes a window holding a NaN NaN;
``"ignore"`` leaves NaN out (the rank is then taken among the valid
values, by a table of ranks per valid count that the caller builds).

Missing pixels of any dtype (a ``mask=``, :func:`imgfilter.core.masked.validity`):
:func:`rank` maps them to one extra key that the engine leaves out, as it
leaves NaN out; :func:`masked_minmax` gives them the value that never wins
(:func:`extreme`). Both say which windows held a valid pixel (:func:`seen`),
and :func:`finish_missing` is the one rule for the windows that held none.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from .. import _engine
from .border import source_index
from .buffers import empty
from .names import OptionError
from .options import plan_aligned

# The dtypes that are their own keys (signed ones with the sign bit flipped).
_DIRECT_KEYS = {
    np.dtype(np.uint8): (np.uint8, 0),
    np.dtype(np.int8): (np.uint8, 0x80),
    np.dtype(np.uint16): (np.uint16, 0),
    np.dtype(np.int16): (np.uint16, 0x8000),
    np.dtype(np.bool_): (np.uint8, 0),
}


def footprint_runs(fp: np.ndarray) -> np.ndarray:
    """The (row, first column, length) of each run of True in a 2-D footprint, by row (int64).

    Cached by the footprint's bits (every call of a filter asks; a few
    footprints serve a whole program). The result is read-only.
    """
    fp = np.ascontiguousarray(fp, dtype=bool)
    return _runs_of(fp.shape, fp.tobytes())


@functools.lru_cache(maxsize=64)
def _runs_of(shape: tuple[int, ...], bits: bytes) -> np.ndarray:
    fp = np.frombuffer(bits, dtype=bool).reshape(shape)
    padded = np.zeros((fp.shape[0], fp.shape[1] + 2), np.int8)
    padded[:, 1:-1] = fp
    step = np.diff(padded, axis=1)
    # argwhere is row-major: the k-th start and the k-th end bound the same run
    starts, ends = np.argwhere(step == 1), np.argwhere(step == -1)
    runs = np.empty((starts.shape[0], 3), np.int64)
    runs[:, 0], runs[:, 1], runs[:, 2] = starts[:, 0], starts[:, 1], ends[:, 1] - starts[:, 1]
    runs.flags.writeable = False
    return runs


def as_2d(x: np.ndarray, fp: np.ndarray, before: tuple[int, ...]):
    """A 1-D filter as a 2-D one of one row: (image, footprint, before)."""
    if fp.ndim == 1:
        if x.ndim == 1:
            return x[None, :], fp[None, :], (0, before[0])
        # A 1-D footprint on the leading axis of a wider array: a column.
        return x, fp[:, None], (before[0], 0)
    return x, fp, before


def check_cval(cval: float, dtype: np.dtype) -> object:
    """``cval`` as a value of ``dtype``: integer images need an integer in range (values never wrap)."""
    dtype = np.dtype(dtype)
    if dtype.kind in "iub":
        lo, hi = (0, 1) if dtype.kind == "b" else (np.iinfo(dtype).min, np.iinfo(dtype).max)
        # Integers as they are (float(2**53 + 1) is 2**53: an int64 cval must not pass
        # through a float); floats only where finite and integral.
        if isinstance(cval, (int, np.integer)):
            ok = True
        else:
            ok = (
                isinstance(cval, (float, np.floating))
                and bool(np.isfinite(cval))
                and float(cval).is_integer()
            )
        if not ok or not lo <= int(cval) <= hi:
            raise OptionError(
                f"cval={cval!r} is not a value of this {dtype} image (an integer in {lo}..{hi})"
            )
        return dtype.type(int(cval))
    return dtype.type(cval)


def _geometry(block: np.ndarray, out: np.ndarray):
    rows, cols = out.shape[:2]
    chan = int(np.prod(out.shape[2:], dtype=np.int64))
    src_row = block.strides[0] // block.itemsize if block.shape[0] > 1 else block.shape[1] * chan
    return rows, cols, chan, src_row, cols * chan


def minmax(
    x: np.ndarray,
    fp: np.ndarray,
    op: str,
    mode: str,
    cval,
    before: tuple[int, ...],
    nan_ignore: bool = False,
    threads: int | None = None,
) -> np.ndarray:
    """Minimum (``op="min"``) or maximum of ``x`` under the flat footprint ``fp``.

    ``fp`` covers the leading ``fp.ndim`` (1 or 2) axes; its index 0 reads
    ``before[a]`` pixels before the output pixel on axis ``a``.
    """
    x2, fp2, before2 = as_2d(x, fp, before)
    kind = x.dtype
    # By kind and size, so big-endian float16 (">f2") widens too.
    work = np.dtype(np.float32) if kind.kind == "f" and kind.itemsize == 2 else kind.newbyteorder("=")
    src = x2.view(np.uint8) if kind == np.bool_ else x2
    if kind == np.bool_:
        work = np.dtype(np.uint8)
    runs = footprint_runs(fp2)
    code = 0 if op == "min" else 1
    distinct = len(set(runs[:, 2].tolist()))
    row_elems = int(np.prod(x2.shape[1:], dtype=np.int64))

    def reduce(block, plan, counts, out):
        block = np.ascontiguousarray(block, dtype=work)
        direct = out.dtype == work and out.flags.c_contiguous
        dst = out.view(work) if direct else empty(out.shape, work)
        _engine.morph_minmax(block, dst, *_geometry(block, dst), runs, code, bool(nan_ignore))
        if not direct:
            out[...] = dst

    fits = src.shape[0] >= fp2.shape[0] and src.shape[1] >= fp2.shape[1]
    if src.dtype == work and src.flags.c_contiguous and fits:
        res = _minmax_inside(src, fp2, before2, runs, code, nan_ignore, mode, cval, distinct, threads)
    else:
        res = _bands_threads(
            src, fp2, before2, mode, cval, work, reduce, work.itemsize * row_elems * (distinct + 4), threads
        )
    if kind == np.bool_:
        res = res.view(bool)
    return res.reshape(x.shape)


def _minmax_inside(x, fp, before, runs, code, nan_ignore, mode, cval, distinct, threads) -> np.ndarray:
    """min/max reading the image in place where the windows lie inside it.

    The inner outputs take their windows straight from the image's rows
    (flat views: no border-extended copy of the image, which would cost as
    much as the filter); only the border strips are gathered (:func:`_border_rows`,
    :func:`_border_columns`).
    """
    from .tiles import run_bands

    (h, w), (fh, fw) = x.shape[:2], fp.shape
    bt, bl = before
    chan = int(np.prod(x.shape[2:], dtype=np.int64))
    row = w * chan
    out = empty(x.shape, x.dtype)
    xf, of = x.reshape(-1), out.reshape(-1)
    cols = w - fw + 1

    def inner(r0: int, r1: int) -> None:
        src = xf[r0 * row : (r1 + fh - 1) * row]
        start = (r0 + bt) * row + bl * chan
        dst = of[start : start + (r1 - r0 - 1) * row + cols * chan]
        _engine.morph_minmax(src, dst, r1 - r0, cols, chan, row, row, runs, code, bool(nan_ignore))

    run_bands(h - fh + 1, row * x.itemsize * (distinct + 2), inner, threads=threads, min_rows=max(1, fh))
    _border_rows(x, out, fp, before, runs, code, nan_ignore, mode, cval)
    _border_columns(x, out, fp, before, runs, code, nan_ignore, mode, cval)
    return out


def _row_block(x: np.ndarray, rows: np.ndarray, bl: int, br: int, mode: str, cval) -> np.ndarray:
    """Image rows ``rows`` (source indices, -1: beyond a constant border),
    extended by ``bl`` and ``br`` columns: whole rows copied, margins gathered."""
    w = x.shape[1]
    block = empty((rows.size, bl + w + br, *x.shape[2:]), x.dtype)
    np.take(x, np.maximum(rows, 0), axis=0, out=block[:, bl : bl + w], mode="clip")
    cols = source_index(-bl, w + br, w, mode)
    for margin in (slice(0, bl), slice(bl + w, bl + w + br)):
        src = cols[margin]
        if src.size:
            block[:, margin] = cval if mode == "constant" else block[:, bl + src]
    if mode == "constant":
        block[rows < 0] = cval
    return block


def _border_rows(x, out, fp, before, runs, code, nan_ignore, mode, cval) -> None:
    """The top and bottom strips (corners included) in one engine call: their
    source rows stacked (the few outputs straddling the seam are dropped)."""
    (h, w), fh = x.shape[:2], fp.shape[0]
    (bt, bl), bb = before, fh - 1 - before[0]
    parts = [source_index(-bt, bt + bb, h, mode)] if bt else []
    if bb:
        parts.append(source_index(h - bb - bt, h + bb, h, mode))
    if not parts:
        return
    blk = _row_block(x, np.concatenate(parts), bl, fp.shape[1] - 1 - bl, mode, cval)
    dst = empty((blk.shape[0] - fh + 1, w, *x.shape[2:]), x.dtype)
    _engine.morph_minmax(blk, dst, *_geometry(blk, dst), runs, code, bool(nan_ignore))
    if bt:
        out[:bt] = dst[:bt]
    if bb:
        out[h - bb :] = dst[dst.shape[0] - bb :]


def _border_columns(x, out, fp, before, runs, code, nan_ignore, mode, cval) -> None:
    """The left and right strips (rows between the top and bottom ones) in one
    engine call: their source columns side by side (the outputs straddling
    the seam are dropped), gathered in one pass over the image's rows."""
    (h, w), (fh, fw) = x.shape[:2], fp.shape
    (bt, bl), (bb, br) = before, (fh - 1 - before[0], fw - 1 - before[1])
    parts = [source_index(-bl, bl + br, w, mode)] if bl else []
    if br:
        parts.append(source_index(w - br - bl, w + br, w, mode))
    if not parts or h < fh:
        return
    cols = np.concatenate(parts)
    blk = np.take(x, np.maximum(cols, 0), axis=1)
    if mode == "constant":
        blk[:, cols < 0] = cval
    dst = empty((h - fh + 1, cols.size - fw + 1, *x.shape[2:]), x.dtype)
    _engine.morph_minmax(blk, dst, *_geometry(blk, dst), runs, code, bool(nan_ignore))
    if bl:
        out[bt : h - bb, :bl] = dst[:, :bl]
    if br:
        out[bt : h - bb, w - br :] = dst[:, dst.shape[1] - br :]


def _bands_threads(
    x, fp, before, mode, cval, work, reduce, bytes_per_row, threads, out_dtype=None, band_rows=False
):
    from .windows import window_apply

    plan = plan_aligned(x.shape, fp.shape, before)
    return window_apply(
        x,
        plan,
        reduce,
        mode=mode,
        cval=cval,
        work_dtype=work,
        out_dtype=out_dtype or x.dtype,
        bytes_per_row=bytes_per_row,
        threads=threads,
        band_rows=band_rows,
    )


def to_keys(x: np.ndarray, mode: str, cval, valid: np.ndarray | None = None):
    """(keys, values, nkeys, nan_key, key_cval): ``x`` as histogram keys.

    ``values`` is None when the keys are the values themselves (8/16-bit,
    the sign bit flipped for signed types), else the sorted distinct values
    (``values[keys] == x``), the border's ``cval`` among them. With
    ``valid`` (x's shape) the missing pixels take one extra key after every
    value's, ``nan_key`` (``values`` holds a placeholder for it).
    """
    if valid is not None:
        return _masked_keys(x, mode, cval, valid)
    direct = _DIRECT_KEYS.get(x.dtype.newbyteorder("=") if x.dtype.kind != "b" else x.dtype)
    if direct is not None:
        kt, flip = direct
        keys = x.astype(x.dtype.newbyteorder("="), copy=False).view(kt)
        kc = 0
        if mode == "constant":
            kc = int(np.array(cval, x.dtype).astype(x.dtype.newbyteorder("=")).view(kt)) ^ flip
        if flip:
            keys = keys ^ kt(flip)
        return keys, None, 1 << (8 * np.dtype(kt).itemsize), -1, kc
    flat = x.reshape(-1)
    if mode == "constant":
        flat = np.concatenate([flat, np.array([cval], dtype=x.dtype)])
    values, inverse = distinct_values(flat)
    nkeys = values.size
    kt = np.uint8 if nkeys <= 256 else np.uint16 if nkeys <= 65536 else np.uint32
    inverse = inverse.reshape(-1).astype(kt, copy=False)
    kc = int(inverse[-1]) if mode == "constant" else 0
    keys = inverse[: x.size].reshape(x.shape)
    nan_key = nkeys - 1 if values.dtype.kind == "f" and np.isnan(values[-1]) else -1
    return keys, values, nkeys, nan_key, kc


_RADIX_TYPES = frozenset(
    np.dtype(t) for t in (np.float32, np.float64, np.int32, np.uint32, np.int64, np.uint64)
)


def distinct_values(flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct values, each value's index among them) of a 1-D array.

    ``numpy.unique(flat, return_inverse=True)``, by a radix sort in the
    engine (``_engine.value_keys``, about 1.8x faster on 6M float32 values)
    for 32- and 64-bit types: every NaN one value, the last; unlike
    numpy.unique, -0.0 and 0.0 are two values (-0.0 first), so a rank picks
    a zero of a pixel's own sign.
    """
    if flat.dtype in _RADIX_TYPES and flat.dtype.isnative and flat.size < 0xFFFFFFFF:
        flat = np.ascontiguousarray(flat)
        values = np.empty_like(flat)
        inverse = np.empty(flat.size, np.uint32)
        count = _engine.value_keys(flat, values, inverse)
        return values[:count].copy(), inverse
    return np.unique(flat, return_inverse=True)


def _masked_keys(x: np.ndarray, mode: str, cval, valid: np.ndarray):
    """:func:`to_keys` with the missing pixels on one extra, last key."""
    kept = x[valid]
    if mode == "constant":
        # Beyond a constant border lie valid pixels of value cval.
        kept = np.concatenate([kept, np.array([cval], dtype=x.dtype)])
    values = np.unique(kept)
    missing = values.size
    nkeys = missing + 1
    kt = np.uint8 if nkeys <= 256 else np.uint16 if nkeys <= 65536 else np.uint32
    keys = np.searchsorted(values, x).astype(kt)
    keys[~valid] = missing
    kc = int(np.searchsorted(values, np.array(cval, dtype=x.dtype))) if mode == "constant" else 0
    # The placeholder read back where a window held nothing valid (NaN for floats).
    fill = np.array([np.nan if x.dtype.kind == "f" else 0], dtype=x.dtype)
    return keys, np.concatenate([values, fill]), nkeys, missing, kc


#: How :func:`ranks` counts wide keys (the ranks of the distinct values of a
#: float or 32/64-bit image, when there are more than 65536): ``"tree"`` a
#: Fenwick tree of every key's count, ``"sorted"`` the window's keys kept in
#: order (a few binary searches and moves of at most the footprint's count
#: a pixel). The same results.
WIDE_METHODS = ("tree", "sorted")

# Footprints of up to this many pixels keep their keys sorted: the tree's
# cost a pixel grows with log(nkeys) and with its cache misses, the sorted
# window's with the footprint's count. Measured on 1080p RGB float32 images,
# one thread, square footprints, tree against sorted (ms, the whole call):
# 6M distinct values 5x5 3072 / 772, 13x13 5996 / 4338, 17x17 7575 / 8354;
# 100k values 5x5 1760 / 796, 11x11 2936 / 3090.
SORTED_MAX = 240
SORTED_MAX_FEW = 120  # at most 2**20 keys: the tree stays in cache


def wide_method(n: int, nkeys: int) -> str:
    """The method of :data:`WIDE_METHODS` for nkeys wide keys under a footprint of n pixels."""
    return "sorted" if n <= (SORTED_MAX if nkeys > 1 << 20 else SORTED_MAX_FEW) else "tree"


def rank(
    x: np.ndarray,
    fp: np.ndarray,
    k: int,
    mode: str,
    cval,
    before: tuple[int, ...],
    nan_rule: int = 0,
    table: np.ndarray | None = None,
    threads: int | None = None,
    valid: np.ndarray | None = None,
    method: str | None = None,
) -> np.ndarray:
    """The value of rank ``k`` (0 = smallest) of ``x`` under the flat footprint ``fp``.

    ``nan_rule`` (float images holding NaN): 1 a window with a NaN is NaN;
    2 the rank is ``table[v]`` among its ``v`` valid values (NaN for none).
    ``valid`` (x's shape, bool): the missing pixels, left out as NaN is by
    rule 2 (which it implies); a window with none valid reads NaN for
    floats, an unspecified value for integers (see :func:`finish_missing`).
    A NaN in a valid pixel ranks last (the caller poisons its windows).
    """
    return ranks(x, fp, k, mode, cval, before, nan_rule, [table], threads, valid, method)[0]


def ranks(
    x: np.ndarray,
    fp: np.ndarray,
    k: int,
    mode: str,
    cval,
    before: tuple[int, ...],
    nan_rule: int,
    tables: Sequence[np.ndarray | None],
    threads: int | None = None,
    valid: np.ndarray | None = None,
    method: str | None = None,
) -> list[np.ndarray]:
    """:func:`rank` for each of ``tables`` (the ranks among v valid values), over
    one conversion to keys (for floats a sort of the image) and one band of
    keys at a time: the median of windows with holes needs two. ``method``
    (wide keys only, one of :data:`WIDE_METHODS`; None: :func:`wide_method`)."""
    if method is not None and method not in WIDE_METHODS:
        raise OptionError(f"method={method!r} is not valid; use one of {', '.join(WIDE_METHODS)}")
    x2, fp2, before2 = as_2d(x, fp, before)
    v2 = None if valid is None else np.asarray(valid).reshape(x2.shape)
    keys, values, nkeys, nan_key, kc = to_keys(x2, mode, cval, v2)
    if valid is not None:
        nan_rule = 2
    if nan_key < 0:
        nan_rule = 0
    runs = footprint_runs(fp2)
    n = int(runs[:, 2].sum())
    if not 0 <= k < n:
        raise OptionError(f"rank {k} is outside the footprint's {n} pixels")
    tabs = [
        np.zeros(0, np.int64) if t is None or nan_rule != 2 else np.ascontiguousarray(t, np.int64)
        for t in tables
    ]
    work = keys.dtype
    wide = work == np.uint32
    sort_keys = wide and (method or wide_method(n, nkeys)) == "sorted"
    row_elems = int(np.prod(x2.shape[1:], dtype=np.int64))
    out_dtype = x.dtype if values is None else values.dtype
    results = [empty(x2.shape, out_dtype) for _ in tabs[1:]]

    def one(block, dst, tab, out):
        _engine.morph_rank(
            block,
            dst,
            *_geometry(block, dst),
            runs,
            int(k),
            tab,
            int(nkeys),
            int(nan_key),
            int(nan_rule),
            sort_keys,
        )
        if values is not None:
            np.take(values, dst, out=out)
        else:
            flip = _DIRECT_KEYS[x.dtype.newbyteorder("=") if x.dtype.kind != "b" else x.dtype][1]
            if flip:
                dst ^= work.type(flip)
            out[...] = dst.view(out.dtype.newbyteorder("=")) if out.dtype.kind != "b" else dst.view(bool)

    def reduce(block, plan, counts, out, r0):
        block = np.ascontiguousarray(block)
        dst = empty(out.shape, work)
        one(block, dst, tabs[0], out)
        for tab, res in zip(tabs[1:], results, strict=True):
            one(block, dst, tab, res[r0 : r0 + out.shape[0]])

    first = _bands_threads(
        keys,
        fp2,
        before2,
        mode,
        kc,
        work,
        reduce,
        4 * row_elems * 4 * len(tabs),
        threads,
        out_dtype=out_dtype,
        band_rows=True,
    )
    out = []
    for res in [first, *results]:
        if res.dtype != x.dtype:
            res = res.astype(x.dtype)
        out.append(res.reshape(x.shape))
    return out


def extreme(op: str, dtype: np.dtype):
    """The value that never wins a min (op "min") or a max: OpenCV's default border."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return op == "min"
    if dtype.kind == "f":
        return np.inf if op == "min" else -np.inf
    info = np.iinfo(dtype)
    return int(info.max if op == "min" else info.min)


def seen(
    flags: np.ndarray,
    fp: np.ndarray,
    mode: str,
    before: tuple[int, ...],
    outside: bool,
    threads: int | None = None,
) -> np.ndarray:
    """Whether each window (``fp``, ``before``) holds a set flag; beyond a
    ``"constant"`` border the flags are ``outside``, else the mode's."""
    plane = flags.ndim > max(fp.ndim, 2) and flags.strides[-1] == 0
    src = np.ascontiguousarray(flags[..., 0] if plane else flags, dtype=np.uint8)
    res = minmax(src, fp, "max", mode, np.uint8(outside), before, False, threads).view(bool)
    return np.broadcast_to(res[..., None], flags.shape) if plane else res


def masked_minmax(
    x: np.ndarray,
    fp: np.ndarray,
    op: str,
    mode: str,
    cval,
    before: tuple[int, ...],
    valid: np.ndarray,
    threads: int | None = None,
    outside: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """(min or max of the valid pixels under each window, which windows held one).

    The missing pixels take the value that never wins (exact: where it
    would win, the window held no valid pixel, and :func:`seen` says so).
    ``outside``: whether the pixels beyond a constant border count.
    """
    work = np.where(valid, x, np.array(extreme(op, x.dtype)).astype(x.dtype))
    res = minmax(work, fp, op, mode, cval, before, False, threads)
    return res, seen(valid, fp, mode, before, outside, threads)


def finish_missing(
    res: np.ndarray, x: np.ndarray, valid: np.ndarray, held: np.ndarray, nan: str
) -> np.ndarray:
    """The windows with no valid pixel (``~held``): NaN for floats, the pixel's
    own value for integers (which cannot hold NaN); ``"keep"`` also puts that
    back at the missing pixels (the image's rule: :func:`imgfilter.core.masked.restore_missing`)."""
    hollow = ~held
    if nan == "keep":
        hollow = hollow | ~valid
    if hollow.any():
        hollow = np.broadcast_to(hollow, res.shape)
        if res.dtype.kind == "f":
            res[hollow] = np.nan
        else:
            res[hollow] = x[hollow]
    return res
