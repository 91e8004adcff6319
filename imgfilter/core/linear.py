"""Linear filtering: correlate, convolve and the convolutional-layer conv2d.

All three run on the same band machinery: each band of output rows gathers
its border-extended input block (``border.extend``) and accumulates one
strided view per kernel tap, so stride computes only the kept outputs and
dilation is just a wider tap spacing.
"""

from __future__ import annotations

import numpy as np

from .. import _engine
from .border import extend
from .bounds import check_result_size
from .fold import fold_kernel, fold_linear, fold_plan
from .footprint import Footprint, chunkable
from .masked import check_nan, normalized, same_in_every_channel, validity
from .names import OptionError
from .options import (
    IntOrTuple,
    PaddingSpec,
    WindowPlan,
    check_image,
    float_dtype,
    normalize_mode,
    plan_window,
)
from .tiles import run_bands
from .values import cast_like


def as_kernel(kernel: object, name: str = "kernel") -> np.ndarray:
    """A kernel as a float64 array (nested lists welcome)."""
    try:
        k = np.asarray(kernel, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array or nested list: {exc}") from None
    if k.ndim == 0:
        raise OptionError(f"{name} must have at least one axis, got a scalar")
    if k.size == 0:
        raise OptionError(f"{name} must not be empty, got shape {k.shape}")
    return k


def input_range(plan: WindowPlan, axis: int, o0: int, o1: int) -> tuple[int, int]:
    """Image coordinates (may be outside the image) read by outputs o0..o1-1 on an axis."""
    before = plan.pads[axis][0]
    s = plan.stride[axis]
    return o0 * s - before, (o1 - 1) * s - before + plan.eff[axis]


def band_block(
    image: np.ndarray, plan: WindowPlan, r0: int, r1: int, mode: str, cval: float, dtype
) -> np.ndarray:
    """Border-extended input block feeding output rows r0..r1-1 (all columns)."""
    ranges = [input_range(plan, 0, r0, r1)]
    for axis in range(1, plan.ndim):
        ranges.append(input_range(plan, axis, 0, plan.out_shape[axis]))
    return extend(image, tuple(ranges), mode, cval, dtype)


def tap_view(block: np.ndarray, plan: WindowPlan, tap: tuple[int, ...], counts) -> np.ndarray:
    """Strided view of ``block`` under kernel tap ``tap`` for ``counts`` outputs per axis."""
    index = tuple(
        slice(t * d, t * d + (m - 1) * s + 1, s)
        for t, d, s, m in zip(tap, plan.dilation, plan.stride, counts, strict=False)
    )
    return block[index]


def _accumulate(block, kernel, plan, counts, out) -> None:
    """out = sum over the kernel's non-zero taps of kernel[tap] * view(tap).

    One compiled pass (``_engine.taps``): for each slice of outputs every
    tap is multiplied and added while the slice is in L1, in the order of
    ``np.nonzero`` (zero taps are skipped, so 0 x inf never makes a NaN).
    """
    nd = plan.ndim
    taps = list(zip(*np.nonzero(kernel), strict=False))
    if not taps:
        out[...] = 0
        return
    block = np.ascontiguousarray(block)
    dst = out if out.flags.c_contiguous else np.empty(out.shape, dtype=out.dtype)
    es = [s // block.itemsize for s in block.strides]
    ds = [s // dst.itemsize for s in dst.strides]
    chan = int(np.prod(block.shape[nd:], dtype=np.int64))
    offsets = tuple(int(sum(int(t[a]) * plan.dilation[a] * es[a] for a in range(nd))) for t in taps)
    weights = tuple(float(kernel[t]) for t in taps)
    _engine.taps(
        block,
        dst,
        tuple(int(c) for c in counts[: nd - 1]),
        tuple(plan.stride[a] * es[a] for a in range(nd - 1)),
        tuple(ds[: nd - 1]),
        int(counts[nd - 1]),
        chan,
        plan.stride[nd - 1] * es[nd - 1],
        ds[nd - 1],
        offsets,
        weights,
    )
    if dst is not out:
        out[...] = dst


def _accumulate_separable(block, factors, plan, counts, out, divide=None, work=None) -> None:
    """Rank-1 kernel: one 1-D pass per axis over the band's extended block.

    The block is extended along every axis before the first pass, so the
    passes see exactly the pixels the full kernel would (cval included).
    Images with two spatial axes take one compiled pass per band
    (``_engine.sep2d``: vertical taps into a row buffer, horizontal taps,
    and the store); other ranks one compiled tap pass per axis. From
    ``RUNNING_MIN`` equal taps on, an axis is summed by running sums.
    ``divide`` (with ``work``, the float type of the division) asks for
    ``out = sum / divide``, rounded and clipped when ``out`` is integer.
    """
    if _sep2d(block, factors, plan, counts, out, divide, work):
        return
    acc = np.dtype(factors[0].dtype)
    dst_final = out if divide is None and out.dtype == acc else np.empty(out.shape, dtype=acc)
    cur = block
    nd = len(factors)
    for axis, f in enumerate(factors):
        shape = list(cur.shape)
        eff = plan.dilation[axis] * (len(f) - 1) + 1
        shape[axis] = counts[axis]
        dst = dst_final if axis == nd - 1 else np.empty(shape, dtype=acc)
        ksize = [1] * nd
        ksize[axis] = len(f)
        sub = WindowPlan(
            cur.shape,
            tuple(ksize),
            tuple(plan.stride[a] if a == axis else 1 for a in range(nd)),
            tuple(plan.dilation[a] if a == axis else 1 for a in range(nd)),
            tuple(eff if a == axis else 1 for a in range(nd)),
            plan.pads,
            tuple(shape),
        )
        if _runs(f, sub, axis) and _finite(cur):
            _running_sum(cur, len(f), axis, shape[axis], dst)
            if f[0] != 1:
                dst *= dst.dtype.type(f[0])
        else:
            _accumulate(cur, f.reshape(ksize), sub, tuple(shape[:nd]), dst)
        cur = dst
    if dst_final is not out:
        out[...] = _finish(dst_final, out.dtype, divide, work)


def _finish(values: np.ndarray, dtype: np.dtype, divide: float | None, work) -> np.ndarray:
    """values / divide in ``work``, then rounded and clipped to ``dtype`` (as ``sep2d`` stores)."""
    if divide is not None and divide != 1.0:
        values = np.divide(values, divide, dtype=work or values.dtype)
    return cast_like(values, dtype)


def _finite(block: np.ndarray) -> bool:
    # A NaN or inf would ride along a running sum past its window.
    return block.dtype.kind != "f" or bool(np.all(np.isfinite(block)))


_SEP_ACC = {"u2": "u16", "u4": "u32", "u8": "u64", "f4": "f32", "f8": "f64"}


def _sep2d(block, factors, plan, counts, out, divide, work) -> bool:
    """The compiled separable pass for two spatial axes; False where it does not apply."""
    acc = _SEP_ACC.get(np.dtype(factors[0].dtype).str[1:])
    if plan.ndim != 2 or len(factors) != 2 or acc is None or not out.flags.c_contiguous:
        return False
    if out.dtype.kind not in "iuf" or out.dtype == np.float16 or not out.dtype.isnative:
        return False
    fv, fh = factors
    if not (np.any(fv) and np.any(fh)):
        return False
    block = np.ascontiguousarray(block)
    chan = int(np.prod(block.shape[2:], dtype=np.int64))
    row = block.shape[1] * chan
    vrun = plan.stride[0] == 1 and plan.dilation[0] == 1 and _equal_taps(fv)
    hrun = plan.stride[1] == 1 and plan.dilation[1] == 1 and _equal_taps(fh)
    if (vrun or hrun) and not _finite(block):
        vrun = hrun = False
    tv = np.arange(len(fv)) if vrun else np.flatnonzero(fv)
    th = np.arange(len(fh)) if hrun else np.flatnonzero(fh)
    _engine.sep2d(
        block,
        out,
        int(counts[0]),
        int(counts[1]),
        chan,
        row,
        plan.stride[0],
        plan.stride[1],
        tuple(int(t) * plan.dilation[0] * row for t in tv),
        tuple(float(fv[t]) for t in tv),
        tuple(int(t) * plan.dilation[1] * chan for t in th),
        tuple(float(fh[t]) for t in th),
        vrun,
        hrun,
        acc,
        np.dtype(work or factors[0].dtype) == np.float64,
        1.0 if divide is None else float(divide),
    )
    return True


# From this many equal taps on, a 1-D pass uses running sums, whose cost does
# not grow with the window (a box blur of 101 costs what one of 17 does).
RUNNING_MIN = 17


def _equal_taps(f: np.ndarray) -> bool:
    return len(f) >= RUNNING_MIN and bool(np.all(f == f[0])) and f[0] != 0


def _runs(f: np.ndarray, plan: WindowPlan, axis: int) -> bool:
    return plan.stride[axis] == 1 and plan.dilation[axis] == 1 and _equal_taps(f)


def _running_sum(src: np.ndarray, k: int, axis: int, n_out: int, dst: np.ndarray) -> None:
    """dst[i] = src[i] + ... + src[i + k - 1] along ``axis``, by running sums.

    Integer accumulators are exact (and wrap-around cancels in the
    differences); float sums run in float64 so long rows lose no precision.
    """
    acc = np.float64 if dst.dtype.kind == "f" else dst.dtype
    if axis == 0:
        # Row recurrence: each step is one vectorized row update.
        run = np.sum(src[:k], axis=0, dtype=acc)
        dst[0] = run
        for i in range(1, n_out):
            run += src[i + k - 1]
            run -= src[i - 1]
            dst[i] = run
        return
    cs = np.cumsum(np.moveaxis(src, axis, 0), axis=0, dtype=acc)
    out = np.moveaxis(dst, axis, 0)
    out[0] = cs[k - 1]
    np.subtract(cs[k : k + n_out - 1], cs[: n_out - 1], out=out[1:], casting="unsafe")


# From this many non-zero taps on, a non-separable kernel is applied by FFT
# (per band, so memory stays bounded) where the image is finite.
FFT_MIN_TAPS = 40


def _use_fft(kernel: np.ndarray, factors) -> bool:
    return factors is None and np.count_nonzero(kernel) >= FFT_MIN_TAPS and bool(np.all(np.isfinite(kernel)))


def _accumulate_fft(block, kernel, plan, counts, out) -> bool:
    """Band by FFT (scipy.signal.fftconvolve, "valid" part); False if the block is not finite.

    A NaN or infinity would spread over the whole band through the transform,
    so such bands take the tap path, where it stays inside its windows.
    """
    if block.dtype.kind == "f" and not np.all(np.isfinite(block)):
        return False
    from scipy.signal import fftconvolve

    nd = plan.ndim
    dilated = np.zeros(plan.eff, dtype=out.dtype)
    dilated[tuple(slice(None, None, d) for d in plan.dilation)] = kernel
    flipped = dilated[(slice(None, None, -1),) * nd]
    flipped = flipped.reshape(flipped.shape + (1,) * (block.ndim - nd))
    full = fftconvolve(block, flipped, mode="valid", axes=tuple(range(nd)))
    out[...] = full[tuple(slice(None, None, s) for s in plan.stride)][tuple(slice(0, c) for c in counts)]
    return True


def power_of_two_split(factors) -> tuple[list[np.ndarray], int]:
    """``factors`` as ``2**-e`` times factors of small integers, and ``e``.

    Scaling by a power of two is exact in floating point, so filtering with
    the integer factors and scaling once at the end (or inside the final
    encoding) gives the same bits with fewer passes: a half-pixel shift's
    [0.5, 0.5] per axis needs one addition per axis and a single scale, not
    an addition and a multiplication per axis. ``e`` is 0 (and the factors
    unchanged) when no such split exists.
    """
    ints, total = [], 0
    for f in factors:
        f = np.asarray(f, dtype=np.float64)
        for e in range(12):
            w = f * 2.0**e
            if np.all(np.isfinite(w)) and np.all(w == np.round(w)) and np.abs(w).max() <= 2**11:
                break
        else:
            return [np.asarray(f, dtype=np.float64) for f in factors], 0
        ints.append(w)
        total += e
    return ints, total


def separable_factors(kernel: np.ndarray) -> list[np.ndarray] | None:
    """1-D factors of a rank-1 kernel when two passes beat one, else None.

    The factors come from the kernel's own rows and columns (not an SVD), so
    integer kernels such as Sobel factor exactly.
    """
    if kernel.ndim < 2 or not np.all(np.isfinite(kernel)):
        return None
    nnz = np.count_nonzero(kernel)
    if nnz == 0:
        return None
    pivot = np.unravel_index(np.argmax(np.abs(kernel)), kernel.shape)
    p = kernel[pivot]
    factors = []
    for axis in range(kernel.ndim):
        index = list(pivot)
        index[axis] = slice(None)
        f = kernel[tuple(index)].copy()
        if axis > 0:
            f /= p
        factors.append(f)
    outer = factors[0]
    for f in factors[1:]:
        outer = np.multiply.outer(outer, f)
    if not np.allclose(outer, kernel, rtol=1e-12, atol=1e-12 * abs(p)):
        return None
    if sum(np.count_nonzero(f) for f in factors) >= nnz:
        return None
    return factors


def run_linear(
    arr,
    kernel,
    plan,
    mode,
    cval,
    dtype,
    threads,
    factors=None,
    *,
    also=(),
    combine=None,
    out_dtype=None,
    source=None,
    divide=None,
    work=None,
):
    """The one engine behind every linear filter: bands, border, taps.

    ``kernel`` is the full kernel (float64); ``factors`` optionally its 1-D
    factors, else they are looked for. ``also`` lists further kernels of the
    same shape applied to the same band (each band is extended once), and
    ``combine(outputs, out)`` turns the per-kernel band results (in
    ``dtype``) into the band of the result (Sobel's magnitude; the rounding
    of a smoothing filter back to ``out_dtype``), while the band is still in
    cache. Returns an array of ``out_dtype`` (default ``dtype``).

    ``source(block)`` maps each extended band (in the image's own dtype) to
    ``dtype`` before filtering: a lookup table such as sRGB decoding, done
    band by band on the worker threads rather than in one pass up front.

    Without ``combine``, an ``out_dtype`` other than ``dtype`` or a
    ``divide`` stores ``sum / divide`` (divided in ``work``, default
    ``dtype``) rounded half to even and clipped, inside the compiled pass
    where it applies. Bands are extended in the image's own dtype when the
    engine can read it (it converts as it loads), else in ``dtype``.
    """
    # fold: kernels longer than the image, folded onto the border's period (bounded halos).
    kernel, also, factors, plan = fold_linear(kernel, also, factors, plan, mode)
    kernels = [kernel, *also]
    if factors is not None:
        factor_sets = [factors] + [separable_factors(k) for k in also]
    else:
        factor_sets = [separable_factors(k) for k in kernels]
    factor_sets = [None if f is None else [np.asarray(v, dtype=dtype) for v in f] for f in factor_sets]
    weights = [k.astype(dtype) for k in kernels]
    out = np.empty(plan.out_shape, dtype=out_dtype or dtype)
    rest = int(np.prod(out.shape[1:], dtype=np.int64))
    # Block, accumulator and per-kernel intermediates, per output row.
    row_bytes = dtype.itemsize * rest * (3 + plan.stride[0] + 2 * len(kernels))
    if combine is not None:
        row_bytes += 8 * rest  # the combine step's float temporaries

    fft = [_use_fft(k, f) for k, f in zip(kernels, factor_sets, strict=True)]

    final = combine is None and (divide is not None or out.dtype != dtype)
    native = source is None and not any(fft) and _engine_reads(arr.dtype, mode, cval)

    def one(block, k, f, counts, dst):
        if f is not None:
            _accumulate_separable(block, f, plan, counts, dst, divide, work)
            return
        tmp = np.empty(dst.shape, dtype=dtype) if final else dst
        if not (fft[0] and _accumulate_fft(block, k, plan, counts, tmp)):
            _accumulate(block, k, plan, counts, tmp)
        if final:
            dst[...] = _finish(tmp, dst.dtype, divide, work)

    def work_band(r0: int, r1: int) -> None:
        if source is None:
            block = band_block(arr, plan, r0, r1, mode, cval, arr.dtype if native else dtype)
        else:
            block = source(band_block(arr, plan, r0, r1, mode, cval, arr.dtype))
        counts = (r1 - r0, *plan.spatial_out[1:])
        if combine is None:
            one(block, weights[0], factor_sets[0], counts, out[r0:r1])
            return
        results = []
        for k, f in zip(weights, factor_sets, strict=True):
            dst = np.empty(out[r0:r1].shape, dtype=dtype)
            one(block, k, f, counts, dst)
            results.append(dst)
        combine(results, out[r0:r1])

    # FFT bands need several kernel heights of rows to pay for the transform.
    min_rows = 2 * plan.eff[0] if any(fft) else 1
    # Temporaries of all bands in flight stay within twice the input's size.
    run_bands(
        plan.out_shape[0], row_bytes, work_band, threads=threads, min_rows=min_rows, memory_cap=2 * arr.nbytes
    )
    return out


def _engine_reads(dtype: np.dtype, mode: str, cval: float) -> bool:
    """Whether bands can stay in the image's dtype: the engine reads it, and a constant
    border's ``cval`` is one of its values (else the band is converted to hold it)."""
    dt = np.dtype(dtype)
    if dt.kind not in "iuf" or not dt.isnative or dt == np.float16:
        return False
    if mode != "constant":
        return True
    c = float(cval)
    if dt.kind == "f":
        return not np.isfinite(c) or float(dt.type(c)) == c
    info = np.iinfo(dt)
    return c.is_integer() and info.min <= c <= info.max


def run_normalized(
    arr,
    valid,
    kernel,
    plan,
    mode,
    cval,
    dtype,
    threads,
    factors=None,
    *,
    total=1.0,
    tiny=0.0,
    full_is_plain=False,
):
    """Normalized convolution over the valid pixels, band by band (direct sums).

    Each output is sum(w x v) / sum(w v) * ``total`` (see
    :mod:`imgfilter.core.masked`, whose :func:`~imgfilter.core.masked.normalized`
    gives the same values in whole-image passes). Per band, on the worker
    threads and while the band is in cache: the invalid pixels are zeroed,
    the values and the validity are filtered, and one is divided by the
    other; where the validity is the same in every channel (a 2-D mask, or
    NaN in all channels of a pixel) one weight plane serves all channels.
    ``valid`` has the image's shape (a broadcast 2-D mask is fine); beyond a
    constant border the outside counts as valid, as ``cval`` pixels. Where
    the weight sum is at most ``tiny`` (0: exactly zero) the result is NaN.

    ``full_is_plain``: the plain filter's result is the sum itself (no final
    division), so a window with nothing missing (its weight sum is that of a
    window of ones) keeps its sum undivided: bit for bit the plain result,
    however many pixels are missing elsewhere (or in other Dask chunks).
    """
    # fold: as in run_linear (the validity plane folds with the values).
    kernel, _, factors, plan = fold_linear(kernel, (), factors, plan, mode)
    f = None if factors is None else [np.asarray(v, dtype=dtype) for v in factors]
    k = kernel.astype(dtype)
    out = np.empty(plan.out_shape, dtype=dtype)
    plane_only = valid.ndim > plan.ndim and valid.strides[-1] == 0
    vsrc = valid[..., 0] if plane_only else valid
    rest = int(np.prod(out.shape[1:], dtype=np.int64))
    row_bytes = dtype.itemsize * rest * (6 + plan.stride[0])
    full = None
    if full_is_plain:
        eff = tuple(plan.eff)
        ones_plan = plan_window(eff, kernel.shape, 0, 1, plan.dilation)
        one = np.empty((1,) * plan.ndim, dtype=dtype)
        _filter_band(np.ones(eff, dtype=dtype), k, f, ones_plan, (1,) * plan.ndim, one)
        full = one.flat[0]

    def work(r0: int, r1: int) -> None:
        block = band_block(arr, plan, r0, r1, mode, cval, dtype)
        vblock = band_block(vsrc, plan, r0, r1, mode, True, np.dtype(bool))
        counts = (r1 - r0, *plan.spatial_out[1:])
        if vblock.ndim < block.ndim:
            np.copyto(block, 0, where=~vblock[..., None])
            plane = vblock
        else:
            np.copyto(block, 0, where=~vblock)
            plane = vblock[..., 0] if vblock.ndim > plan.ndim and same_in_every_channel(vblock) else vblock
        num = out[r0:r1]
        _filter_band(block, k, f, plan, counts, num)
        den = np.empty(counts + plane.shape[plan.ndim :], dtype=dtype)
        _filter_band(plane.astype(dtype), k, f, plan, counts, den)
        if den.ndim < num.ndim:
            den = den[..., None]
        scale = True if full is None else np.broadcast_to(den != full, num.shape)
        with np.errstate(invalid="ignore", divide="ignore"):
            if tiny == 0.0:
                # Exact sums: an empty window has num == den == 0, and 0/0 is NaN.
                np.divide(num, den, out=num, where=scale)
            else:
                empty = np.broadcast_to(np.abs(den) <= tiny, num.shape)
                np.divide(num, den, out=num, where=~empty & scale)
                num[empty] = np.nan
        if total != 1.0:
            np.multiply(num, dtype.type(total), out=num, where=scale)

    run_bands(plan.out_shape[0], row_bytes, work, threads=threads, memory_cap=2 * arr.nbytes)
    return out


def _filter_band(block, k, f, plan, counts, dst) -> None:
    """One band of a direct (tap or separable) linear filter."""
    if f is not None:
        _accumulate_separable(block, f, plan, counts, dst)
    else:
        _accumulate(block, k, plan, counts, dst)


def _correlate(image, kernel, padding, mode, cval, stride, dilation, threads, nan="propagate", mask=None):
    arr = check_image(image)
    k = as_kernel(kernel)
    mode = normalize_mode(mode)
    nan = check_nan(nan)
    plan = plan_window(arr.shape, k.shape, padding, stride, dilation)
    dtype = float_dtype(arr.dtype)
    total = float(k.sum())
    # Refused whatever the pixels: whether an image (or a Dask chunk) happens
    # to hold a missing pixel must not decide between an error and a result.
    if (nan != "propagate" or mask is not None) and abs(total) <= 1e-12 * float(np.abs(k).sum()):
        raise OptionError(
            "nan='ignore'/'keep' and mask= rescale each window by the kernel weights of its valid "
            "pixels; this kernel's weights sum to zero (an edge kernel), so there is nothing to "
            "rescale by. Fill the missing pixels first, or use nan='propagate'."
        )
    valid = validity(arr, nan, mask)
    if valid is None:
        return run_linear(arr, k, plan, mode, float(cval), dtype, threads)

    def run(x: np.ndarray, fill: float | None) -> np.ndarray:
        # x may be a single plane of weights shared by all channels.
        p = plan if x.shape == arr.shape else plan_window(x.shape, k.shape, padding, stride, dilation)
        return run_linear(x, k, p, mode, float(cval) if fill is None else fill, dtype, threads)

    # Direct sums of zero weights are exactly 0; FFT sums carry rounding noise.
    noisy = _use_fft(k, separable_factors(k))
    tiny = (1e-6 if dtype == np.float32 else 1e-12) * float(np.abs(k).sum()) if noisy else 0.0
    if not tiny and np.any(k < 0):
        # Mixed signs can cancel to a zero weight sum with pixels present:
        # NaN there too (nothing to normalize by), not a division by zero.
        tiny = float(np.finfo(dtype).tiny)
    if noisy:
        out, _ = normalized(run, arr, valid, dtype, total=total, tiny=tiny)
    else:
        out = run_normalized(
            arr,
            valid,
            k,
            plan,
            mode,
            float(cval),
            dtype,
            threads,
            separable_factors(k),
            total=total,
            tiny=tiny,
            full_is_plain=True,
        )
    if nan == "keep":
        # NaN back where the pixel under the window's centre was missing.
        from .alpha import centre_sample

        # Beyond the border the mode decides; a constant border counts as valid.
        centre = centre_sample((~valid).astype(dtype), plan.eff, plan_pads(plan), plan.stride, mode, 0.0)
        out[centre > 0.5] = np.nan
    return out


def linear_footprint(shape, kernel, *, padding="same", mode="reflect", cval=0.0, stride=1, dilation=1, **_):
    """Footprint of :func:`correlate` and :func:`convolve` (a flipped kernel has the same shape)."""
    k = as_kernel(kernel)
    plan = plan_window(shape, k.shape, padding, stride, dilation)
    return Footprint(plan, normalize_mode(mode), float(cval), padding_arg=True)


def conv2d_footprint(
    shape, filters, *, padding="valid", mode="constant", cval=0.0, stride=1, dilation=1, **_
):
    """Footprint of :func:`conv2d`: the filters' (kh, kw) over H and W."""
    f = as_kernel(filters, "filters")
    spatial = f.shape[1:3] if f.ndim == 4 else f.shape[:2]
    plan = plan_window(tuple(shape), tuple(spatial), padding, stride, dilation)
    return Footprint(plan, normalize_mode(mode), float(cval), padding_arg=True)


def plan_pads(plan: WindowPlan):
    """The plan's padding as an explicit per-axis (before, after) spec."""
    return [tuple(p) for p in plan.pads]


@chunkable(linear_footprint)
def correlate(
    image: np.ndarray,
    kernel: object,
    *,
    padding: PaddingSpec = "same",
    mode: str = "reflect",
    cval: float = 0.0,
    stride: IntOrTuple = 1,
    dilation: IntOrTuple = 1,
    threads: int | None = None,
    nan: str = "propagate",
    mask: object = None,
) -> np.ndarray:
    """Cross-correlate an image with a kernel (what CNN texts call convolution).

    Each output pixel is the sum of the kernel's weights times the pixels
    under it. The kernel's axes are the image's leading axes: a 2-D kernel on
    an (H, W, C) image filters every channel on its own; a kernel with as many
    axes as the image correlates over all of them (3-D volumes).

    Parameters
    ----------
    image : array_like
        (H, W), (H, W, C) channels-last, or an n-D volume; any integer, bool
        or float dtype. Never modified.
        A ``dask.array.Array`` gives a lazy Dask array with the same
        values, chunked like it (see :mod:`imgfilter.core.chunked`).
    kernel : array_like
        Weights; nested lists are fine. At most ``image.ndim`` axes.
    padding : {"same", "valid", "full"}, int or sequence, optional
        ``"same"`` keeps the size (kernel index ``e // 2`` on the output
        pixel, as scipy.ndimage and OpenCV; with stride s the size is
        ceil(n / s)); ``"valid"`` uses only windows inside the image;
        ``"full"`` every window that overlaps it; an int p pads p on both
        sides of every filtered axis; a sequence gives one int or (before,
        after) pair per filtered axis. Otherwise the size along an axis is
        floor((n + before + after - e) / s) + 1 with e = d*(k-1)+1.
    mode : str, optional
        What lies beyond the border, by numpy.pad's names: ``"constant"``
        (``cval``), ``"edge"``, ``"reflect"`` (d c b | a b c d | c b a,
        OpenCV's default), ``"symmetric"`` (d c b a | a b c d | d c b a,
        scipy's "reflect"), ``"wrap"``. Aliases such as "zeros", "replicate",
        "nearest", "mirror", "reflect101" and "circular" are accepted.
    cval : float, optional
        Value outside the image for ``mode="constant"``.
    stride, dilation : int or sequence of int, optional
        Step between output positions and spacing between kernel taps, per
        filtered axis, >= 1.
    threads : int, optional
        Worker threads; default ``IMGFILTER_THREADS`` or all cores.
    nan : {"propagate", "ignore", "keep"}, optional
        ``"propagate"`` (IEEE: a NaN spoils every window it is in).
        ``"ignore"``: normalized convolution, each output is the weighted
        sum over the valid pixels under the window divided by the sum of
        their weights (times the kernel's total weight, so windows without
        missing pixels are unchanged); NaN where no valid pixel is under the
        window. ``"keep"``: as ``"ignore"``, with NaN put back where the
        input was NaN. Kernels whose weights sum to zero raise ValueError
        (with ``mask=`` too), whether or not any pixel is missing.
        In constant mode the outside counts as valid ``cval`` pixels (as
        astropy's boundary="fill").
    mask : array_like of bool, optional
        True = valid, the image's spatial shape (broadcast over channels):
        the same normalization for any dtype.

    Returns
    -------
    ndarray
        float64 for float64 input, float32 for everything else (no
        wrap-around, ever).

    Raises
    ------
    ValueError
        For bad options or an empty result, naming the parameter.

    Notes
    -----
    The core picks a method per kernel: rank-1 kernels run as one 1-D pass
    per axis (long runs of equal weights as running sums), small kernels as
    one strided pass per distinct weight, and non-separable kernels of 40 or
    more taps by FFT on each band of rows. FFT results agree with the direct
    sum to floating-point rounding of the band's largest values (about 1e-6
    of the result's range in float32), not bit for bit; a band holding NaN or
    infinity is summed directly, so non-finite values stay in their windows.

    Dask arrays (this and every other filter): the result is lazy and equals
    the in-memory one for any chunking, every mode, padding, stride and
    dilation: bit for bit for integer results, and for float results to
    float32 rounding where a fast path (FFT) depends on the block's size.
    Each output chunk is one task that reads exactly its outputs' windows
    from as many input chunks as they span, so spatial chunks are never
    rechunked (chunks smaller than the halo and uneven last chunks are
    fine); channel axes are merged into one chunk. An output belongs to the
    chunk under its window's centre, so "same"-size results keep the input's
    chunks, and strided ones keep NumPy's positions. Each task uses one
    thread unless ``threads`` is given (Dask already runs tasks in parallel).

    Examples
    --------
    >>> import numpy as np
    >>> image = np.arange(9).reshape(3, 3)
    >>> correlate(image, [[0, 1], [2, 3]], padding="valid")
    array([[19., 25.],
           [37., 43.]])
    """
    return _correlate(image, kernel, padding, mode, cval, stride, dilation, threads, nan, mask)


@chunkable(linear_footprint)
def convolve(
    image: np.ndarray,
    kernel: object,
    *,
    padding: PaddingSpec = "same",
    mode: str = "reflect",
    cval: float = 0.0,
    stride: IntOrTuple = 1,
    dilation: IntOrTuple = 1,
    threads: int | None = None,
    nan: str = "propagate",
    mask: object = None,
) -> np.ndarray:
    """Convolve: the kernel flipped along every axis, then :func:`correlate`.

    Takes the same options as :func:`correlate`. With ``"same"`` padding the
    flipped kernel's index ``e // 2`` sits on the output pixel (for odd
    kernels this equals scipy.ndimage.convolve).

    Examples
    --------
    >>> import numpy as np
    >>> convolve(np.eye(3), [[1, 2], [3, 4]], padding="valid")
    array([[5., 2.],
           [3., 5.]])
    """
    k = as_kernel(kernel)
    flipped = k[(slice(None, None, -1),) * k.ndim]
    return _correlate(image, flipped, padding, mode, cval, stride, dilation, threads, nan, mask)


@chunkable(conv2d_footprint)
def conv2d(
    image: np.ndarray,
    filters: object,
    *,
    bias: object = None,
    padding: PaddingSpec = "valid",
    mode: str = "constant",
    cval: float = 0.0,
    stride: IntOrTuple = 1,
    dilation: IntOrTuple = 1,
    threads: int | None = None,
) -> np.ndarray:
    """A convolutional layer: N filters, each spanning all channels.

    Parameters
    ----------
    image : array_like
        (H, W, C), or (H, W) taken as one channel.
        A ``dask.array.Array`` gives a lazy Dask array with the same
        values, chunked like it (see :mod:`imgfilter.core.chunked`).
    filters : array_like
        (N, kh, kw, C); a single (kh, kw, C) filter is taken as N = 1.
    bias : array_like, optional
        (N,), added to each output map.
    padding, mode, cval, stride, dilation, threads
        As in :func:`correlate`, over the two spatial axes.

    Returns
    -------
    ndarray
        (H', W', N), float32 (float64 for float64 input).

    Examples
    --------
    >>> import numpy as np
    >>> conv2d(np.ones((6, 6, 3)), np.ones((2, 3, 3, 3))).shape
    (4, 4, 2)
    """
    arr = check_image(image)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3:
        raise ValueError(f"image must be (H, W) or (H, W, C), got shape {arr.shape}")
    f = as_kernel(filters, "filters")
    if f.ndim == 3:
        f = f[None]
    if f.ndim != 4 or f.shape[3] != arr.shape[2]:
        raise ValueError(
            f"filters must be (N, kh, kw, C) with C = {arr.shape[2]} channels, got shape {f.shape}"
        )
    n = f.shape[0]
    dtype = float_dtype(arr.dtype)
    b = None
    if bias is not None:
        b = np.asarray(bias, dtype=dtype).reshape(-1)
        if b.shape != (n,):
            raise OptionError(f"bias must have shape ({n},), got {np.shape(bias)}")
    mode = normalize_mode(mode)
    plan = plan_window(arr.shape, f.shape[1:3], padding, stride, dilation)
    # fold: filters longer than the image (or hugely dilated), as in run_linear.
    check_result_size(plan.in_shape[:2], plan.spatial_out)
    if (folded := fold_plan(plan, mode)) is not None:
        plan, f = folded[0], fold_kernel(f, [None, *folded[1], None])
    out = np.empty((*plan.spatial_out, n), dtype=dtype)
    # Per tap, a (C, N) matrix: the channel sum is one BLAS matmul.
    taps = [(t, np.ascontiguousarray(f[:, t[0], t[1], :].T, dtype=dtype)) for t in np.ndindex(*f.shape[1:3])]
    taps = [(t, w) for t, w in taps if np.any(w)]
    row_bytes = dtype.itemsize * out.shape[1] * (n + arr.shape[2] * (1 + plan.stride[0]))

    def work(r0: int, r1: int) -> None:
        block = band_block(arr, plan, r0, r1, mode, cval, dtype)
        counts = (r1 - r0, plan.out_shape[1])
        acc = out[r0:r1]
        acc[...] = 0 if b is None else b
        for tap, w in taps:
            acc += tap_view(block, plan, tap, counts) @ w

    run_bands(plan.out_shape[0], row_bytes, work, threads=threads)
    return out
