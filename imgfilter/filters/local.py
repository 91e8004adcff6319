"""Local statistics: variance, standard deviation and range over each window.

``local_mean`` is :func:`imgfilter.blur`. Variance comes from two window
sums, of ``y`` and ``y**2`` with ``y = x - c`` for one shift ``c`` per
channel (the image's mean, rounded to an integer for integer images), in
float64: ``var = (S2 - S1**2 / n) / (n - ddof)``. The shift keeps the
squares small, so an image of 10000 + noise gives the noise's deviation
(no catastrophic cancellation); integer images' sums are exact integers.
Values below float64's resolution of the window's mean square (flat
regions far from ``c``) are exactly 0, not the rounding noise around it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .. import _engine
from ..core import morph
from ..core.border import extend
from ..core.bounds import check_footprint_size, check_window
from ..core.buffers import empty
from ..core.footprint import Footprint
from ..core.linear import run_linear
from ..core.masked import NanHoles, band_weights, check_nan, same_in_every_channel, validity
from ..core.names import OptionError
from ..core.options import check_image, float_dtype, normalize_mode, per_axis, plan_window
from ..core.tiles import Scratch, run_bands
from ..core.values import cast_like
from ..footprints import as_footprint
from ._dispatch import dispatch
from ._docs import DOCS, fill
from .morphology import subtract

_F64 = np.dtype(np.float64)
_F32 = np.dtype(np.float32)


def _window(ndim: int, size, footprint) -> np.ndarray | tuple[int, ...]:
    """A boolean footprint, or the box's shape (rows, cols)."""
    if footprint is not None:
        return as_footprint(footprint, min(2, ndim))  # the footprints' one check (0/1 floats too)
    return per_axis(size, min(2, ndim), "size")


def _check_window(shape: tuple[int, ...], itemsize: int, win, size) -> None:
    """Refuse a window beyond core/bounds before any band is extended: each band
    is copied with its halo in float64 (boxes are running sums, a footprint costs
    its pixels per output), and a box's footprint is built for local_range."""
    kshape = _kshape(win)
    rest = int(np.prod(shape[2:], dtype=np.int64))
    cols = (shape[1] if len(shape) > 1 else 1) + (kshape[1] - 1 if len(kshape) > 1 else 0)
    taps = int(win.sum()) if isinstance(win, np.ndarray) else 1
    name, value = (
        ("footprint", f"array of shape {win.shape}") if isinstance(win, np.ndarray) else ("size", size)
    )
    if not isinstance(win, np.ndarray):
        check_footprint_size(name, value, kshape)
    check_window(
        name,
        value,
        outputs=int(np.prod(shape, dtype=np.int64)),
        taps=taps,
        block_bytes=kshape[0] * cols * rest * _F64.itemsize,
        image_bytes=int(np.prod(shape, dtype=np.int64)) * itemsize,
    )


def _kshape(win) -> tuple[int, ...]:
    return win.shape if isinstance(win, np.ndarray) else tuple(win)


def local_footprint(shape, size=3, *, footprint=None, mode="reflect", cval=0.0, **_):
    win = _window(len(shape), size, footprint)
    return Footprint(plan_window(tuple(shape), _kshape(win), "same", 1, 1), normalize_mode(mode), float(cval))


def _band_sums(block: np.ndarray, win, threads_one: int = 1, dtype: np.dtype = _F64) -> np.ndarray:
    """Window sums (float64, or ``dtype``) of a border-extended band: one output per window inside it."""
    kshape = _kshape(win)
    plan = plan_window(block.shape, kshape, 0, 1, 1)
    if isinstance(win, np.ndarray):
        return run_linear(block, win.astype(np.float64), plan, "constant", 0.0, dtype, threads_one)
    factors = [np.ones(k) for k in kshape]
    return run_linear(block, np.ones(kshape), plan, "constant", 0.0, dtype, threads_one, factors=factors)


# Rows of the shift's reduction per step: a fixed number (not the band pool's
# bands, which depend on the thread count) so that the shift, and with it
# every result bit, is the same whatever ``threads`` is.
_SHIFT_ROWS = 64


def _shift(arr: np.ndarray, valid: np.ndarray | None, threads: int | None = None) -> np.ndarray:
    """One value per channel near the data: the mean of its finite valid
    pixels (float64 sums over fixed row steps), rounded to an integer for
    integer images; 0 for a channel with none.

    The steps run on the band pool and their sums are added in step order,
    so the value is the same whatever ``threads`` is.
    """
    nd = min(2, arr.ndim)
    rest = arr.shape[nd:]
    steps = -(-arr.shape[0] // _SHIFT_ROWS)
    parts: list[tuple[np.ndarray, np.ndarray | float] | None] = [None] * steps

    def fold(rows: np.ndarray) -> np.ndarray:
        # Rows first, as whole contiguous lines (fast), then the columns of
        # the line: reducing both axes at once runs numpy's slow strided loop.
        line = rows.sum(axis=0)
        return line.reshape((-1, *rest)).sum(axis=0) if nd == 2 else line

    def step(i: int) -> tuple[np.ndarray, np.ndarray | float]:
        r0 = i * _SHIFT_ROWS
        x = arr[r0 : r0 + _SHIFT_ROWS].astype(np.float64)
        keep = np.isfinite(x) if arr.dtype.kind == "f" else None
        if valid is not None:
            v = valid[r0 : r0 + _SHIFT_ROWS]
            keep = v if keep is None else keep & v
        if keep is not None and keep.all():
            keep = None
        flat = (x.shape[0], -1)
        if keep is None:
            return fold(x.reshape(flat)), float(np.prod(x.shape[:nd]))
        x[~keep] = 0.0
        return fold(x.reshape(flat)), fold(np.broadcast_to(keep, x.shape).reshape(flat).astype(np.float64))

    def work(s0: int, s1: int) -> None:
        for i in range(s0, s1):
            parts[i] = step(i)

    row_bytes = math.prod(arr.shape[1:]) * 8 * 2  # a step's float64 copy and its flags
    if arr.size:
        run_bands(steps, _SHIFT_ROWS * row_bytes, work, threads=threads)
    else:
        work(0, steps)
    total = np.zeros(rest, dtype=np.float64)
    count = np.zeros(rest, dtype=np.float64)
    for part in parts:
        assert part is not None
        total += part[0]
        count += part[1]
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.where(count > 0, total / np.maximum(count, 1), 0.0)
    return np.rint(c) if arr.dtype.kind in "biu" else c


def _moments(arr, win, mode, cval, ddof, threads, nan, mask, *, root: bool = False):
    """Local variance (or, with ``root``, its square root) and the validity used.

    Band by band on the core's pool, every temporary a band's size (no
    whole-image float64): the band is border-extended in float64, shifted
    by ``c``, its missing pixels zeroed, and its window sums of ``y``,
    ``y**2`` (and of the validity) taken over the extended band. Beyond a
    constant border lie valid pixels of value ``cval`` (as correlate's).
    Returns the result in the image's float type (:func:`float_dtype`).
    """
    valid = validity(arr, nan, mask, lazy=True)
    # NaN holes only (nan="ignore", no mask): each band's NaNs are found, zeroed and
    # counted in one compiled pass (as normalized_bands does), with no validity array.
    # A NaN cval would make the outside missing too: the array then.
    holes = isinstance(valid, NanHoles)
    if holes and mode == "constant" and np.isnan(cval):
        valid, holes = valid.array(), False
    # The shift keeps the finite pixels, which are the valid ones of NaN holes.
    c = _shift(arr, None if holes else valid, threads)
    kshape = _kshape(win)
    plan = plan_window(arr.shape, kshape, "same", 1, 1)
    out = empty(arr.shape, dtype=float_dtype(arr.dtype))
    vsrc = None
    if valid is not None and not holes:
        vsrc = valid[..., 0] if valid.ndim > plan.ndim and valid.strides[-1] == 0 else valid
    full = np.float64(np.count_nonzero(win) if isinstance(win, np.ndarray) else np.prod(win))
    # NaN holes' counts in float32 where every count is an exact integer in it.
    counts = _F32 if full <= 2**24 else _F64
    scratch = Scratch()
    # The shift tiled along a whole extended row, so that subtracting it is a
    # contiguous loop (broadcasting a (C,) shift runs numpy's loop C wide).
    width = plan.band_ranges(0, 1)[1][1] - plan.band_ranges(0, 1)[1][0] if plan.ndim == 2 else 1
    c_row = np.tile(c.reshape(-1), width) if c.size > 1 else c.reshape(-1)

    def work(r0: int, r1: int) -> None:
        ranges = plan.band_ranges(r0, r1)
        shape = tuple(b - a for a, b in ranges)
        y = extend(arr, ranges, mode, cval, _F64, out=scratch.get("y", shape + arr.shape[plan.ndim :], _F64))
        y2 = y.reshape(y.shape[0], -1)
        y2 -= c_row if c_row.size == y2.shape[1] else c.reshape(-1)
        if holes:
            weights = band_weights(y, plan.ndim, counts, scratch)
        elif vsrc is not None:
            vshape = shape + vsrc.shape[plan.ndim :]
            vblock = extend(vsrc, ranges, mode, True, np.dtype(bool), out=scratch.get("v", vshape, bool))
            y[~np.broadcast_to(vblock if vblock.ndim == y.ndim else vblock[..., None], y.shape)] = 0.0
        s1 = _band_sums(y, win)
        np.multiply(y, y, out=y)
        s2 = _band_sums(y, win)
        # The counts: one per pixel (serving its channels) or one per value, or none.
        if holes:
            # Counts in float32 (``counts``): sums of 0/1 weights are exact integers
            # in it, the same numbers as float64's, in half the bytes.
            n = _band_sums(weights, win, dtype=counts)
        elif vsrc is None:
            n = None
        else:
            # One count plane serves every channel where the validity is the same in each.
            same = vblock.ndim == y.ndim and vblock.ndim > plan.ndim and same_in_every_channel(vblock)
            v = vblock[..., 0] if same else vblock
            vf = scratch.get("vf", v.shape, _F64)
            vf[...] = v
            n = _band_sums(vf, win)
        if s1.size:
            # The variance (or deviation) from the sums in one compiled pass, written
            # straight into the result's rows (engine.moments_finish).
            _engine.moments_finish(
                s1.reshape(-1),
                s2.reshape(-1),
                None if n is None else n.reshape(-1),
                1 if n is None else s1.size // n.size,
                float(full),
                ddof,
                n is not None,
                root,
                out[r0:r1].reshape(-1),
            )

    rest = int(np.prod(arr.shape[1:], dtype=np.int64))
    # y, its two sums and the counts, with room: six float64 planes a row.
    # Long boxes sum by running sums, which restart at each band: fixed bands.
    run_bands(
        plan.out_shape[0],
        6 * 8 * rest,
        work,
        threads=threads,
        min_rows=kshape[0],
        memory_cap=2 * arr.nbytes,
        fixed=True,
    )
    return out, valid


def _finish(stat: np.ndarray, valid, nan: str) -> np.ndarray:
    if valid is not None and nan == "keep":
        if isinstance(valid, NanHoles):
            valid = valid.array()
        stat[~valid] = np.nan
    return stat


def _ddof(ddof: object) -> int:
    if isinstance(ddof, (bool, np.bool_)) or not isinstance(ddof, (int, np.integer)) or ddof < 0:
        raise OptionError(f"ddof must be an int >= 0, got {ddof!r}")
    return int(ddof)


_STAT_PARAMS = """\
Parameters
----------
%(image_missing)s
size : int or (int, int), optional
    Box window height and width, >= 1 (index size // 2 on the pixel).
footprint : array_like of bool, optional
    Window shape instead of a box (centre index k // 2 on the pixel,
    as scipy.ndimage).
mode : str, optional
    Border mode, as in :func:`imgfilter.correlate`.
cval : float, optional
    The value beyond the border for ``mode="constant"``.
ddof : int, optional
    Delta degrees of freedom: the sum of squares is divided by
    ``n - ddof`` (0: population statistic, as ``numpy.std``).
nan : {"propagate", "ignore", "keep"}, optional
    ``"ignore"``: statistics of the valid pixels under each window only
    (NaN where fewer than ``ddof + 1`` are valid); ``"keep"`` also puts
    NaN back at the missing pixels.
mask : array_like of bool, optional
    True = valid (spatial shape, or the image's shape); invalid pixels
    are left out of every window, as NaN under ``nan="ignore"``.
alpha : bool, optional
    Whether the last channel is alpha (default: not for a numpy array,
    whose channels are all data and each get their statistic; yes for a
    PIL image with an alpha band). Alpha passes through (as float).
%(threads)s
%(axes)s

Returns
-------
ndarray
    float32 for 8- and 16-bit and float16/float32 images (computed in
    float64), float64 for float64 and 32/64-bit integer images.
"""

_STAT_DOCS = {**DOCS, "stat_params": fill(_STAT_PARAMS)}


def _stat_doc(fn):
    fn.__doc__ = fill(fn.__doc__, _STAT_DOCS)
    return fn


@dispatch(local_footprint, alpha="pass", missing=True)
@_stat_doc
def local_var(
    image: np.ndarray,
    size: int | Sequence[int] = 3,
    *,
    footprint: object = None,
    mode: str = "reflect",
    cval: float = 0.0,
    ddof: int = 0,
    nan: str = "propagate",
    mask: object = None,
    alpha: bool | None = None,
    threads: int | None = None,
    axes: object = None,
) -> np.ndarray:
    """Local variance over each window: mean of squares minus square of the mean.

    Equal to ``scipy.ndimage.generic_filter(image, numpy.var, ...)`` with
    the matching border mode (our ``"reflect"`` is SciPy's ``"mirror"``),
    in O(1) per pixel for boxes (running sums) and O(footprint) otherwise.

    %(stat_params)s
    Examples
    --------
    >>> import numpy as np
    >>> local_var(np.array([[0, 0, 3, 3]] * 3, dtype=np.uint8), (1, 2), mode="edge")
    array([[0.  , 0.  , 2.25, 0.  ],
           [0.  , 0.  , 2.25, 0.  ],
           [0.  , 0.  , 2.25, 0.  ]], dtype=float32)
    """
    arr = check_image(image)
    win = _window(arr.ndim, size, footprint)
    _check_window(arr.shape, arr.dtype.itemsize, win, size)
    nan = check_nan(nan)
    var, valid = _moments(arr, win, normalize_mode(mode), cval, _ddof(ddof), threads, nan, mask)
    return _finish(var, valid, nan)


@dispatch(local_footprint, alpha="pass", missing=True)
@_stat_doc
def local_std(
    image: np.ndarray,
    size: int | Sequence[int] = 3,
    *,
    footprint: object = None,
    mode: str = "reflect",
    cval: float = 0.0,
    ddof: int = 0,
    nan: str = "propagate",
    mask: object = None,
    alpha: bool | None = None,
    threads: int | None = None,
    axes: object = None,
) -> np.ndarray:
    """Local standard deviation over each window: the square root of :func:`local_var`.

    Equal to ``scipy.ndimage.generic_filter(image, numpy.std, ...)`` with
    the matching border mode, computed from shifted float64 window sums, so
    a flat 10000 plus noise gives the noise's deviation.

    %(stat_params)s
    Examples
    --------
    >>> import numpy as np
    >>> local_std(np.array([[10000, 10002]] * 2, dtype=np.uint16), (1, 2), mode="edge")
    array([[0., 1.],
           [0., 1.]], dtype=float32)
    """
    arr = check_image(image)
    win = _window(arr.ndim, size, footprint)
    _check_window(arr.shape, arr.dtype.itemsize, win, size)
    nan = check_nan(nan)
    std, valid = _moments(arr, win, normalize_mode(mode), cval, _ddof(ddof), threads, nan, mask, root=True)
    return _finish(std, valid, nan)


def _extrema(
    arr: np.ndarray, win, mode: str, cval: float, ignore: bool, threads
) -> tuple[np.ndarray, np.ndarray]:
    """(max, min) over each window, as scipy.ndimage.maximum_filter / minimum_filter:
    the rank filters' engine (:func:`imgfilter.core.morph.minmax`). ``ignore``:
    NaN is skipped (fmax/fmin); else a NaN under the window gives NaN."""
    fp = win if isinstance(win, np.ndarray) else np.ones(tuple(win), bool)
    before = tuple(k // 2 for k in fp.shape)
    c = arr.dtype.type(cval)
    hi = morph.minmax(arr, fp, "max", mode, c, before, ignore, threads)
    return hi, morph.minmax(arr, fp, "min", mode, c, before, ignore, threads)


@dispatch(local_footprint, alpha="pass", missing=True)
def local_range(
    image: np.ndarray,
    size: int | Sequence[int] = 3,
    *,
    footprint: object = None,
    mode: str = "reflect",
    cval: float = 0.0,
    nan: str = "propagate",
    mask: object = None,
    alpha: bool | None = None,
    threads: int | None = None,
    axes: object = None,
) -> np.ndarray:
    """Local range: maximum minus minimum over each window (a morphological gradient).

    Equal to ``maximum_filter - minimum_filter`` of scipy.ndimage with the
    matching border mode, for any dtype; a NaN under the window gives NaN
    (SciPy's result there depends on the NaN's position).

    Parameters
    ----------
    image : array_like or PIL image
        (H, W) or (H, W, C); channels on their own (more axes need
        ``axes=``). A MaskedArray's masked values are missing; a Dask
        array gives a lazy Dask array with the same values.
    size : int or (int, int), optional
        Box window height and width, >= 1.
    footprint : array_like of bool, optional
        Window shape instead of a box.
    mode : str, optional
        Border mode, as in :func:`imgfilter.correlate`.
    cval : float, optional
        The value beyond the border for ``mode="constant"`` (clipped to an
        integer dtype's range).
    nan : {"propagate", "ignore", "keep"}, optional
        ``"ignore"``: the range of the valid pixels only (NaN, or 0 for
        integer images, where none is valid); ``"keep"`` also puts NaN back
        at the missing pixels.
    mask : array_like of bool, optional
        True = valid (spatial shape); invalid pixels are left out, as NaN
        under ``nan="ignore"``.
    alpha : bool, optional
        Whether the last channel is alpha (default: not for arrays); it
        passes through.
    threads : int, optional
        Worker threads.
    axes : (int, int), optional
        Which two axes are spatial, as in SciPy >= 1.11 (the others are
        filtered independently; the result keeps the input's axis order).

    Returns
    -------
    ndarray
        The image's dtype (bool: whether the window holds both values;
        signed integers clip a range beyond the dtype's maximum, never wrap).

    Examples
    --------
    >>> import numpy as np
    >>> local_range(np.array([[1, 5, 2, 2]], dtype=np.uint8), 3, mode="edge")
    array([[4, 4, 3, 0]], dtype=uint8)
    """
    arr = check_image(image)
    win = _window(arr.ndim, size, footprint)
    _check_window(arr.shape, arr.dtype.itemsize, win, size)
    nan = check_nan(nan)
    mode = normalize_mode(mode)
    valid = validity(arr, nan, mask, lazy=True)
    if arr.dtype.kind in "iu" and isinstance(cval, (int, np.integer)):
        # Clipped in Python's integers: through a float, an int64 cval loses its low bits.
        info = np.iinfo(arr.dtype)
        cval_t: float | int = min(max(int(cval), int(info.min)), int(info.max))
    elif arr.dtype.kind != "f":
        cval_t = float(cast_like(np.asarray([float(cval)]), arr.dtype)[0])
    else:
        cval_t = float(cval)
    if valid is None:
        work = arr.view(np.uint8) if arr.dtype == bool else arr
        hi, lo = _extrema(work, win, mode, cval_t, False, threads)
        if arr.dtype == bool:
            return hi != lo
        # In place: a third fresh whole-image array costs page faults (and, with
        # transparent huge pages, compaction stalls) for nothing.
        if arr.dtype.kind == "u":
            return np.subtract(hi, lo, out=hi).astype(arr.dtype, copy=False)
        if arr.dtype.kind == "f" and hi.dtype == arr.dtype:
            return np.subtract(hi, lo, out=hi)
        if arr.dtype.kind == "f":
            return np.subtract(hi, lo, dtype=arr.dtype)
        # Signed: exact, saturated at the dtype's top (through float64 an int64 range
        # of 2**62 + 2 came out as 2**62).
        return subtract(hi, lo)
    # float32/64 images keep their type (the range is one subtraction in it, as without
    # holes); other types go to float64, which holds every value and NaN for the holes.
    work = arr.dtype if arr.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    if isinstance(valid, NanHoles):
        # The missing pixels are the image's NaNs already: no validity array, no copy.
        x = arr
    else:
        x = np.where(valid, arr, work.type(np.nan)).astype(work, copy=False)
    hi, lo = _extrema(x, win, mode, cval_t, True, threads)
    rng = np.subtract(hi, lo, out=hi)
    if nan == "keep":
        rng[~valid] = np.nan  # "keep" has the validity array (lazy is for "ignore")
    if arr.dtype.kind == "f":
        return rng.astype(arr.dtype, copy=False)
    rng[np.isnan(rng)] = 0
    return cast_like(rng, arr.dtype) if arr.dtype != bool else rng > 0
