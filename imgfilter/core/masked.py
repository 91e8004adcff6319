"""Missing pixels: NaN policies, masks, and the one weighted normalization.

Normalized convolution answers "what would this window hold if only its
valid pixels counted": sum(w * x * v) / sum(w * v) for validity (or weight)
v. The same division serves premultiplied alpha (the weight is alpha), a
``mask=`` (the weight is 0 or 1) and ``nan="ignore"`` (NaN pixels weigh 0).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import _engine
from .border import extend, source_index
from .buffers import empty
from .dtypes import cast_like
from .names import OptionError
from .tiles import Scratch, run_bands

NAN_POLICIES = ("propagate", "ignore", "keep")


def check_nan(nan: str) -> str:
    key = str(nan).strip().lower()
    if key not in NAN_POLICIES:
        raise OptionError(f"nan={nan!r} is not valid; use one of {', '.join(NAN_POLICIES)}")
    return key


class NanHoles:
    """What :func:`validity` gives with ``lazy=True`` for a float image with NaN holes,
    ``nan="ignore"`` and no mask: the valid pixels are the non-NaN ones, found
    band by band (:func:`normalized_bands`) without a whole-image validity
    array. :func:`normalized`, :func:`restore_missing` and
    :func:`imgfilter.core.linear.run_normalized` take it; ``array()`` builds
    the array where one is needed."""

    __slots__ = ("image",)

    def __init__(self, image: np.ndarray) -> None:
        self.image = image

    def array(self) -> np.ndarray:
        valid = validity(self.image, "ignore")
        assert valid is not None
        return valid


def validity(
    image: np.ndarray, nan: str, mask: object = None, *, lazy: bool = False
) -> np.ndarray | NanHoles | None:
    """Boolean array of the image's shape, True where a pixel counts; None if all do.

    NaN pixels are invalid unless ``nan="propagate"``; ``mask`` (True =
    valid, spatial shape, broadcast over channels) adds its own. ``lazy``:
    with ``nan="ignore"``, no mask and NaN holes in a float image, a
    :class:`NanHoles` instead of the array (deciding costs a scan that stops
    at the first NaN).
    """
    if lazy and nan == "ignore" and mask is None and image.dtype in _FLOATS:
        if image.flags.c_contiguous:
            return NanHoles(image) if _engine.nan_valid(image, None) else None
        return NanHoles(image) if np.isnan(image).any() else None
    valid = None
    if nan != "propagate" and image.dtype.kind == "f":
        if image.dtype in _FLOATS and image.flags.c_contiguous:
            # Compiled: a scan that stops at the first NaN, then one pass writing the validity.
            if _engine.nan_valid(image, None):
                valid = empty(image.shape, dtype=bool)
                _engine.nan_valid(image, valid.view(np.uint8))
        else:
            nans = np.isnan(image)
            if nans.any():
                valid = ~nans
    if mask is not None:
        m = np.asarray(mask)
        if m.dtype != bool:
            m = m != 0
        spatial = image.shape[: m.ndim]
        if m.shape != spatial:
            # Depends on the image, so a plain ValueError (not an option error).
            raise ValueError(
                f"mask has shape {m.shape}, expected the image's spatial shape {image.shape[:2]}"
            )
        m = m.reshape(m.shape + (1,) * (image.ndim - m.ndim))
        m = np.broadcast_to(m, image.shape)
        valid = m if valid is None else valid & m
    return valid


def same_in_every_channel(weight: np.ndarray) -> bool:
    """Whether the last axis of ``weight`` repeats one plane (a 2-D mask, NaN in all channels)."""
    channels = weight.shape[-1]
    if weight.ndim < 3 or channels < 2:
        return False
    if weight.strides[-1] == 0:
        return True
    if weight.dtype == bool:
        if weight.flags.c_contiguous:
            # Neighbouring bytes differ only across pixel boundaries: one
            # contiguous comparison, twice as fast as combining strided planes.
            flat = weight.reshape(-1).view(np.uint8)
            differ = flat[1:] != flat[:-1]
            total = np.count_nonzero(differ)
            return total == 0 or total == np.count_nonzero(differ[channels - 1 :: channels])
        # Counting beats comparing along a 3-long axis, which numpy does slowly.
        every = weight[..., 0] & weight[..., 1]
        for c in range(2, channels):
            every &= weight[..., c]
        return np.count_nonzero(weight) == channels * np.count_nonzero(every)
    return all(np.array_equal(weight[..., 0], weight[..., c]) for c in range(1, channels))


def normalized(
    run: Callable[[np.ndarray, float], np.ndarray],
    image: np.ndarray,
    weight: np.ndarray,
    dtype: np.dtype,
    *,
    total: float = 1.0,
    tiny: float = 0.0,
    full: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(sum(w x v) / sum(w v) * total, sum(w v)) for a linear filter ``run``.

    ``run(array, cval)`` filters an array, with ``cval`` beyond the border in
    constant mode: data outside count as valid (weight 1), as astropy's
    boundary="fill" does. Where the weight sum is at most ``tiny`` there is
    nothing to average and the result is NaN. A weight sum equal to ``full``
    (that of a window of weight 1 throughout) marks a window with nothing
    missing: its sum is kept undivided, bit for bit what the plain filter
    gives, however much is missing elsewhere in the image.
    """
    if isinstance(weight, NanHoles):
        weight = weight.array()
    if weight.dtype == bool:
        values = np.where(weight, image, 0).astype(dtype, copy=False)
    else:
        values = np.where(weight > 0, image, 0).astype(dtype, copy=False)
        values *= weight
    num = run(values, None)
    if image.ndim >= 3 and same_in_every_channel(weight):
        # One weight plane serves all channels (a 2-D mask, or NaN in every
        # channel of a pixel): filter it once, not once per channel.
        den = run(np.ascontiguousarray(weight[..., 0], dtype=dtype), 1.0)[..., None]
    else:
        den = run(weight.astype(dtype, copy=False), 1.0)
    out = num if num.dtype == dtype else num.astype(dtype)
    # Exact sums (tiny 0): an empty window has num == den == 0, and 0/0 is NaN. With a
    # tiny bound, a whole window is divided too; total scales every window here.
    divide_sums(
        out,
        den,
        dtype,
        tiny=tiny,
        full=dtype.type(full) if full is not None and tiny == 0.0 else None,
        total=1.0,
    )
    if total != 1.0:
        out *= dtype.type(total)
    return out, den


# (num, den) dtype pairs the compiled division takes; numpy's own division gives
# the same values for them (tests/test_normalize.py pins both).
_ENGINE_PAIRS = {
    (np.dtype(np.float32), np.dtype(np.float32)),
    (np.dtype(np.float64), np.dtype(np.float64)),
    (np.dtype(np.float64), np.dtype(np.float32)),
}


def divide_sums(
    num: np.ndarray, den: np.ndarray, dtype: np.dtype, *, tiny: float, full, total: float
) -> None:
    """num /= den in place (den broadcasts over num's channels), then * ``total``.

    Where den is at most ``tiny`` (0: exactly zero, 0/0) the result is NaN;
    where den equals ``full`` (a window with nothing missing) num keeps its
    undivided sum (x / 1 and x * 1 are x, bit for bit). ``full`` and
    ``tiny`` compare as numpy compares them with ``den``. One compiled pass
    (``_engine.divide_sums``) where it takes the arrays; numpy's passes
    (:func:`divide_sums_numpy`, the same values) for other types.
    """
    cd_one = den.shape == (*num.shape[:-1], 1)
    args = engine_divide_args(num.dtype, den.dtype, dtype, tiny=tiny, full=full, total=total)
    if (
        args is not None
        and num.flags.c_contiguous
        and den.flags.c_contiguous
        and (den.shape == num.shape or cd_one)
    ):
        cn = num.shape[-1] if cd_one and num.ndim else 1
        _engine.divide_sums(num, den, cn, 1, *args)
        return
    divide_sums_numpy(num, den, dtype, tiny=tiny, full=full, total=total)


def engine_divide_args(
    num_dtype: np.dtype, den_dtype: np.dtype, dtype: np.dtype, *, tiny: float, full, total: float
) -> tuple | None:
    """The compiled division's (full, has_full, tiny, has_tiny, total) for sums of these
    types (:func:`divide_sums`, ``_engine.taps2d_nan``), or None where numpy divides."""
    d = np.dtype(den_dtype)
    # Each scalar must compare with den as numpy would once rounded to den's type:
    # always for Python floats (NEP 50), for a wider numpy scalar only if exact.
    exact = lambda v: bool(d.type(v) == v)  # noqa: E731
    if (np.dtype(num_dtype), d) not in _ENGINE_PAIRS or np.dtype(dtype) != num_dtype:
        return None
    if not (tiny == 0.0 or exact(tiny)):
        return None
    # A full that den's type cannot hold (or NaN) equals no weight sum: nothing kept.
    has_full = full is not None and exact(full)
    return (float(d.type(full)) if has_full else 0.0, has_full, float(tiny), tiny != 0.0, float(total))


def divide_sums_numpy(
    num: np.ndarray, den: np.ndarray, dtype: np.dtype, *, tiny: float, full, total: float
) -> None:
    """:func:`divide_sums` in numpy passes, for the types the engine does not take."""
    keep = None if full is None else den == full
    with np.errstate(invalid="ignore", divide="ignore"):
        if tiny == 0.0:
            # Exact sums: an empty window has num == den == 0, and 0/0 is NaN.
            if keep is not None:
                den = np.where(keep, den.dtype.type(1), den)
            np.divide(num, den, out=num)
        else:
            scale = True if keep is None else np.broadcast_to(~keep, num.shape)
            hollow = np.broadcast_to(np.abs(den) <= tiny, num.shape)
            np.divide(num, den, out=num, where=~hollow & scale)
            num[hollow] = np.nan
    if total != 1.0:
        if keep is None:
            np.multiply(num, dtype.type(total), out=num)
        else:
            np.multiply(num, np.where(keep, dtype.type(1), dtype.type(total)), out=num)


def restore_missing(result: np.ndarray, original: np.ndarray, valid: np.ndarray, nan: str) -> np.ndarray:
    """Finish a missing-pixel filter: back to the original dtype.

    Windows with no valid pixel are NaN already (float results); integers
    cannot hold NaN, so those pixels keep their original value. ``"keep"``
    also marks the pixels that were missing in the input.
    """
    if isinstance(valid, NanHoles):
        if original.dtype.kind == "f" and nan != "keep":
            return cast_like(result, original.dtype)
        valid = valid.array()
    if valid.ndim < result.ndim:
        valid = valid[..., None]
    if original.dtype.kind == "f":
        if nan == "keep":
            result[~np.broadcast_to(valid, result.shape)] = np.nan
        return cast_like(result, original.dtype)
    missing = np.isnan(result)
    if nan == "keep":
        missing |= ~np.broadcast_to(valid, result.shape)
    result[missing] = original[missing]
    return cast_like(result, original.dtype)


def normalized_bands(
    arr: np.ndarray,
    valid: np.ndarray | None,
    plan,
    sums: Callable[[np.ndarray, tuple[int, ...], np.ndarray], None],
    dtype: np.dtype,
    threads: int | None,
    *,
    mode: str,
    cval: float,
    outside_valid: bool,
    den_dtype: np.dtype | None = None,
    tiny: float = 0.0,
    full: float | None = None,
    total: float = 1.0,
    taps: tuple | None = None,
    sep_taps: tuple | None = None,
    method: str | None = None,
) -> np.ndarray:
    """The one weighted normalization, band by band: sum(w x v) / sum(w v) per window.

    ``sums(block, counts, out)`` is the window sum of a band (a linear
    filter's taps, pooling's folds) over the border-extended ``block``.
    Per band, on the worker threads and while it is in cache: the invalid
    pixels are zeroed, the values and the validity are summed, and one is
    divided by the other; where the validity is the same in every channel (a
    2-D mask, or NaN in all channels of a pixel) one weight plane serves all
    channels. ``valid=None``: the NaN pixels are the missing ones (found band
    by band; ``cval`` NaN makes the outside missing too). Beyond the border
    ``mode``/``cval`` give the values and ``outside_valid`` the validity.

    Where the weight sum is at most ``tiny`` (0: exactly zero, 0/0) the
    result is NaN; a weight sum equal to ``full`` marks a window with nothing
    missing, whose sum is kept undivided (bit for bit the plain filter's);
    the rest is scaled by ``total``. Returns ``dtype`` sums, ``plan.out_shape``.

    ``taps``: what ``sums`` computes, where it is ``_engine.taps2d``'s tap
    correlation over the block (its trow, tcol, weights and cval), or
    ``sep_taps``, where it is ``_engine.sep2d_idx``'s separable pass (its
    vrows, wv, hcols, wh, acc, work_f64, divide and cval), so that ``method``
    (one of :data:`BAND_METHODS`, chosen once per call; None: the fastest that
    applies) can be ``"fused"``: NaN holes in a float image, read through the
    border's index tables, zeroed, summed with their weights and divided in
    one compiled pass per band (``_engine.taps2d_nan``, ``_engine.sep2d_nan``),
    no band copied; a band with a pixel NaN in some of its channels only takes
    ``"bands"`` (the copy, zeroing, two sums and division above); or, for float32
    and at most :data:`SMALL_MAX_TAPS` separable taps per axis, ``"small"``
    (``_engine.sep_small_nan``: each output's sums and division in registers,
    every value with its own validity). The same bits.
    """
    den_dtype = np.dtype(den_dtype or dtype)
    if method is not None and method not in BAND_METHODS:
        raise OptionError(f"method={method!r} is not valid; use one of {', '.join(BAND_METHODS)}")
    fused = _fused_taps(arr, valid, plan, dtype, den_dtype, mode, cval, taps, sep_taps, tiny, full, total)
    small = None
    if fused is not None and method in (None, "small"):
        small = _small_taps(arr, plan, dtype, mode, cval, sep_taps, tiny, full, total, auto=method is None)
    if method is None:
        method = "small" if small is not None else "fused" if fused is not None else "bands"
    if method == "fused" and fused is None:
        raise ValueError(
            "method='fused' takes NaN holes (valid=None) of a C-contiguous float32/float64 image with "
            "one or no channel axis, two spatial axes, taps or separable taps (no running sums), and sums, "
            "weights and result of its type"
        )
    if method == "small" and small is None:
        raise ValueError(
            "method='small' takes what 'fused' takes, for float32 images and separable taps of at most "
            f"{SMALL_MAX_TAPS} per axis with stride 1"
        )
    if method == "small":
        fused = small
    out = empty(plan.out_shape, dtype=dtype)
    vsrc = None
    if valid is not None:
        plane_only = valid.ndim > plan.ndim and valid.strides[-1] == 0
        vsrc = valid[..., 0] if plane_only else valid
    rest = int(np.prod(out.shape[1:], dtype=np.int64))
    row_bytes = (dtype.itemsize + den_dtype.itemsize) * rest * (3 + plan.stride[0])

    scratch = Scratch()
    # The NaNs are the missing pixels: one compiled pass per band finds them (with
    # two spatial axes in the block's type, while fetching the band from the image).
    engine = vsrc is None and ENGINE_WEIGHTS and dtype in _FLOATS and den_dtype in _FLOATS
    fetch = _fetch_tables(arr, plan, mode) if engine and arr.dtype == dtype else None

    def work(r0: int, r1: int) -> None:
        if method in ("fused", "small") and fused(r0, r1, out[r0:r1]) == 0:
            return
        # (A pixel NaN in some channels only: the fused kernel stopped, this band's copy redoes it.)
        ranges = plan.band_ranges(r0, r1)
        shape = tuple(b - a for a, b in ranges)
        block = scratch.get("block", shape + arr.shape[plan.ndim :], dtype)
        counts = (r1 - r0, *plan.spatial_out[1:])
        if fetch is not None:
            weights = _fetch_weights(arr, block, fetch, ranges[0], mode, cval, plan.ndim, den_dtype, scratch)
        else:
            block = extend(arr, ranges, mode, cval, dtype, out=block)
            if engine:
                weights = band_weights(block, plan.ndim, den_dtype, scratch)
            else:
                if vsrc is None:
                    vblock = ~np.isnan(block)
                else:
                    vshape = shape + vsrc.shape[plan.ndim :]
                    vblock = extend(
                        vsrc,
                        ranges,
                        mode,
                        outside_valid,
                        np.dtype(bool),
                        out=scratch.get("valid", vshape, bool),
                    )
                weights = _band_weights_numpy(block, vblock, plan.ndim, den_dtype)
        num = out[r0:r1]
        sums(block, counts, num)
        den = scratch.get("den", counts + weights.shape[plan.ndim :], den_dtype)
        sums(weights, counts, den)
        if den.ndim < num.ndim:
            den = den[..., None]
        divide_sums(num, den, dtype, tiny=tiny, full=full, total=total)

    # ``sums`` may keep running sums, which restart at each band: fixed bands.
    run_bands(plan.out_shape[0], row_bytes, work, threads=threads, memory_cap=2 * arr.nbytes, fixed=True)
    return out


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def mark_holes(x: np.ndarray, missing: np.ndarray) -> bool:
    """``x`` (a C-contiguous float array) NaN where ``missing`` (bool or uint8 of its
    shape), in place, for the kernels that find NaN holes themselves; whether some
    other value of ``x`` is NaN already (then NaN does not mark the missing pixels
    alone). One compiled pass (``_engine.nan_mark``).

    >>> x = np.array([1.0, 2.0, np.nan])
    >>> mark_holes(x, np.array([False, True, False])), x
    (True, array([ 1., nan, nan]))
    """
    return _engine.nan_mark(x, missing.view(np.uint8))


#: How :func:`normalized_bands` runs a band: ``"bands"`` copies it with its halo,
#: zeroes its NaNs, sums values and weights and divides; ``"fused"`` does it in
#: one compiled pass over the image (``_engine.taps2d_nan``, ``_engine.sep2d_nan``),
#: where it applies; ``"small"``, for a few separable taps (a bilinear shift's
#: 2 x 2), keeps each output's sums and division in registers, reading the
#: image in place (``_engine.sep_small_nan``). The same bits.
BAND_METHODS = ("bands", "fused", "small")
#: Taps per axis ``"small"`` takes, and up to which it is the automatic choice.
#: Measured at 4K RGB float32 with 1% holes, one thread, against ``"fused"``: the
#: 2 x 2 shift 18.7 against 32.7 ms, the 2 x 2 box 18.3 against 32.5; 3 x 3 is no
#: faster (it recomputes the vertical sums per horizontal tap: 33.8 against 34.3).
SMALL_MAX_TAPS = 3
SMALL_AUTO_TAPS = 2


def _small_taps(arr, plan, dtype, mode, cval, sep_taps, tiny, full, total, *, auto: bool):
    """``band(r0, r1, out) -> 0`` of :func:`normalized_bands`' ``"small"`` method, or None
    where it does not apply (called where ``"fused"`` applies: NaN holes, a C-contiguous
    float image of one or no channel axis, its own type throughout)."""
    if sep_taps is None or arr.dtype != np.float32 or tuple(plan.stride) != (1, 1):
        return None
    vrows, wv, hcols, wh = sep_taps[:4]
    limit = SMALL_AUTO_TAPS if auto else SMALL_MAX_TAPS
    if not (1 <= len(vrows) <= limit and 1 <= len(hcols) <= limit):
        return None
    if not all(np.isfinite(v) and abs(v) < 3e38 for v in (*wv, *wh)):
        return None
    args = engine_divide_args(dtype, dtype, dtype, tiny=tiny, full=full, total=total)
    h, w = arr.shape[:2]
    chan = arr.shape[2] if arr.ndim == 3 else 1
    cols = plan.spatial_out[1]
    c0 = plan.band_ranges(0, 1)[1][0]
    vspan, hspan = vrows[-1] + 1, hcols[-1] + 1
    colidx = np.ascontiguousarray(source_index(c0, c0 + cols + hspan - 1, w, mode), dtype=np.intp)
    c = float(cval) if mode == "constant" else 0.0

    def band(r0: int, r1: int, out: np.ndarray) -> int:
        a = plan.band_ranges(r0, r1)[0][0]
        rows = np.ascontiguousarray(source_index(a, a + (r1 - r0) + vspan - 1, h, mode), dtype=np.intp)
        _engine.sep_small_nan(arr, out, w, chan, rows, colidx, -c0, vrows, wv, hcols, wh, c, *args)
        return 0

    return band


def _fused_taps(arr, valid, plan, dtype, den_dtype, mode, cval, taps, sep_taps, tiny, full, total):
    """``band(r0, r1, out) -> status`` of :func:`normalized_bands`' ``"fused"`` method
    (``_engine.taps2d_nan`` for ``taps``, ``_engine.sep2d_nan`` for ``sep_taps``;
    status 3: a pixel NaN in some of its channels only, nothing done), or None
    where it does not apply."""
    if valid is not None or arr.dtype not in _FLOATS or arr.ndim not in (2, 3):
        return None
    if sep_taps is not None:
        vrows, wv, hcols, wh, acc, _, divide, _ = sep_taps
        # Sums of the image's type straight from the taps (no store): what sep2d_nan runs.
        if acc != {np.dtype(np.float32): "f32", np.dtype(np.float64): "f64"}[arr.dtype] or divide != 1.0:
            return None
        taps, kernel = (vrows, wv, hcols, wh), _engine.sep2d_nan
    elif taps is not None:
        trow, tcol, weights, _ = taps
        taps, kernel = (trow, tcol, weights), _engine.taps2d_nan
    else:
        return None
    if np.dtype(dtype) != arr.dtype or den_dtype != arr.dtype:
        return None
    tables = _fetch_tables(arr, plan, mode)
    args = engine_divide_args(dtype, den_dtype, dtype, tiny=tiny, full=full, total=total)
    if tables is None or args is None:
        return None
    c0, ncols, left, right = tables
    # The taps' own constant is the block's (which has no border): the image's is cval.
    chan = arr.shape[2] if arr.ndim == 3 else 1
    h, w = arr.shape[:2]
    cols = plan.spatial_out[1]

    def band(r0: int, r1: int, out: np.ndarray) -> int:
        a, b = plan.band_ranges(r0, r1)[0]
        rows = np.ascontiguousarray(source_index(a, b, h, mode), dtype=np.intp)
        geometry = (r1 - r0, cols, chan, w, rows, c0, ncols, left, right, *plan.stride)
        return kernel(arr, out, *geometry, *taps, float(cval), *args)

    return band


def normalized_at(
    arr: np.ndarray,
    points: np.ndarray,
    plan,
    *,
    mode: str,
    cval: float,
    sep_taps: tuple,
    tiny: float = 0.0,
    full: float | None = None,
    total: float = 1.0,
    threads: int | None = None,
) -> np.ndarray | None:
    """:func:`normalized_bands`' result at single pixels: the same bits, at a cost per pixel.

    ``points``: flat indices of output pixels (rows x columns of
    ``plan.out_shape``); returns their results, shape ``(len(points), C)``
    (C = 1 for a 2-D image), for NaN holes of a float image and the
    separable taps of its ``"fused"`` method (``_engine.sep2d_nan_at``), or
    None where that method does not apply (the caller runs the bands). Used
    where only a few outputs are needed (the holes a fill fills), so that
    the work is the holes' windows, not the image's.
    """
    if (
        arr.dtype not in _FLOATS
        or arr.ndim not in (2, 3)
        or plan.stride != (1, 1)
        or (mode == "constant" and np.isnan(cval))  # the outside counts as valid there
    ):
        return None
    vrows, wv, hcols, wh, acc, _, divide, _ = sep_taps
    if acc != {np.dtype(np.float32): "f32", np.dtype(np.float64): "f64"}[arr.dtype] or divide != 1.0:
        return None
    tables = _fetch_tables(arr, plan, mode)
    if (
        tables is None
        or engine_divide_args(arr.dtype, arr.dtype, arr.dtype, tiny=tiny, full=full, total=total) is None
    ):
        return None
    c0, ncols, left, right = tables
    chan = arr.shape[2] if arr.ndim == 3 else 1
    h, w = arr.shape[:2]
    rows_out, cols_out = plan.spatial_out
    a, b = plan.band_ranges(0, rows_out)[0]
    rowidx = np.ascontiguousarray(source_index(a, b, h, mode), dtype=np.intp)
    points = np.asarray(points, dtype=np.intp)
    num = np.empty((len(points), chan), dtype=arr.dtype)
    den = np.empty_like(num)
    ys, xs = np.divmod(points, cols_out)

    def work(k0: int, k1: int) -> None:
        geometry = (rows_out, cols_out, chan, w, rowidx, c0, ncols, left, right, 1, 1)
        _engine.sep2d_nan_at(
            arr, num[k0:k1], den[k0:k1], *geometry, vrows, wv, hcols, wh, float(cval), ys[k0:k1], xs[k0:k1]
        )

    # Bands of points on the worker threads, each call's tables set up once: a
    # band's footprint is its sums (the windows it reads are the image's).
    reads = len(points) * len(vrows) * len(hcols) * chan * arr.itemsize
    run_bands(len(points), 2 * chan * arr.itemsize, work, threads=threads, nbytes=reads)
    divide_sums(num, den, arr.dtype, tiny=tiny, full=full, total=total)
    return num


# Whether normalized_bands prepares NaN-only bands in the engine
# (_engine.nan_fetch, _engine.nan_weights); False: numpy's passes (tests compare them).
ENGINE_WEIGHTS = True


def band_weights(block: np.ndarray, ndim: int, den_dtype: np.dtype, scratch: Scratch) -> np.ndarray:
    """Zero the NaNs of ``block`` in place; its weights (1 valid, 0 NaN) in ``den_dtype``.

    One compiled pass (``_engine.nan_weights``). While every pixel is NaN in
    all its channels or in none, one plane (the block's shape without its
    last axis) serves all channels; else a weight per value. The same
    arrays as :func:`_band_weights_numpy` gives from ``~isnan(block)``.
    """
    channels = block.ndim > ndim and block.shape[-1] >= 2
    cn = block.shape[-1] if channels else 1
    plane = scratch.get("plane", block.shape[:-1] if channels else block.shape, den_dtype)
    status, stop = _engine.nan_weights(block, plane, None, cn, 0)
    if status == 3:
        # Some pixel is NaN in some channels only: a weight per value, a
        # temporary (rare; held between bands it would add a block to the peak).
        chan = empty(block.shape, dtype=den_dtype)
        _engine.nan_weights(block, plane, chan, cn, stop)
        return chan
    return plane


def _fetch_tables(arr: np.ndarray, plan, mode: str):
    """The column tables of :func:`_fetch_weights` (shared by the bands), or None where
    the band is extended by numpy instead: two spatial axes of a C-contiguous image."""
    if plan.ndim != 2 or arr.ndim < 2 or not arr.flags.c_contiguous or arr.size == 0:
        return None
    c0, c1 = plan.band_ranges(0, 1)[1]
    w = arr.shape[1]
    n = c1 - c0
    cols = source_index(c0, c1, w, mode)
    ja = min(max(-c0, 0), n)
    jb = min(max(w - c0, ja), n)
    return c0, n, tuple(int(v) for v in cols[:ja]), tuple(int(v) for v in cols[jb:])


def _fetch_weights(arr, block, tables, row_range, mode, cval, ndim, den_dtype, scratch) -> np.ndarray:
    """:func:`extend` then :func:`band_weights`, in one compiled pass (``_engine.nan_fetch``):
    the band's rows read through the border's index tables, as the linear kernels read them."""
    c0, ncols, left, right = tables
    rows = np.ascontiguousarray(source_index(row_range[0], row_range[1], arr.shape[0], mode), dtype=np.intp)
    channels = block.ndim > ndim and block.shape[-1] >= 2
    cn = block.shape[-1] if channels else 1
    values = int(np.prod(arr.shape[2:], dtype=np.int64))
    plane = scratch.get("plane", block.shape[:-1] if channels else block.shape, den_dtype)
    geometry = (arr.shape[1], values, cn, rows, c0, ncols, left, right, float(cval))
    status = _engine.nan_fetch(arr, block, plane, None, *geometry)
    if status == 3:
        # As in band_weights: a weight per value, a temporary.
        chan = empty(block.shape, dtype=den_dtype)
        _engine.nan_fetch(arr, block, plane, chan, *geometry)
        return chan
    return plane


def _band_weights_numpy(block: np.ndarray, vblock: np.ndarray, ndim: int, den_dtype: np.dtype) -> np.ndarray:
    """Zero the invalid pixels of ``block`` in place; the weights of ``vblock`` in ``den_dtype``."""
    # Boolean-index assignment: a broadcast ``copyto(where=)`` is ~10x slower.
    block[~vblock] = 0
    if vblock.ndim < block.ndim:
        plane = vblock
    else:
        plane = vblock[..., 0] if vblock.ndim > ndim and same_in_every_channel(vblock) else vblock
    # A temporary, not scratch: held between bands it would add a block to the peak.
    return plane.astype(den_dtype)
