"""Linear filtering: correlate, convolve and the convolutional-layer conv2d.

All three run on the same band machinery: each band of output rows reads
its border-extended input block and accumulates one strided view per kernel
tap, so stride computes only the kept outputs and dilation is just a wider
tap spacing. For two spatial axes the compiled kernels read the border
themselves through index tables (``_engine.taps2d``, ``_engine.sep2d_idx``:
no band is copied with its halo); elsewhere the band is copied
(``border.extend``), which :func:`copied_borders` also forces, as the
reference of the same bits.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

from .. import _engine
from .border import extend, source_index
from .bounds import check_dense_kernel
from .buffers import empty
from .dtypes import float_dtype
from .fold import fold_linear
from .masked import NanHoles, normalized_at, normalized_bands
from .names import OptionError
from .options import WindowPlan, plan_window
from .srgb import Encoding
from .tiles import Scratch, run_bands
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
    image: np.ndarray,
    plan: WindowPlan,
    r0: int,
    r1: int,
    mode: str,
    cval: float,
    dtype,
    scratch: Scratch | None = None,
) -> np.ndarray:
    """Border-extended input block feeding output rows r0..r1-1 (all columns).

    With ``scratch`` the block lives in this thread's reusable buffer (valid
    until the thread's next band), not in a new array.
    """
    ranges = [input_range(plan, 0, r0, r1)]
    for axis in range(1, plan.ndim):
        ranges.append(input_range(plan, axis, 0, plan.out_shape[axis]))
    out = None
    if scratch is not None:
        shape = tuple(b - a for a, b in ranges) + image.shape[plan.ndim :]
        out = scratch.get("block", shape, dtype)
    return extend(image, tuple(ranges), mode, cval, dtype, out=out)


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
    dst = out if out.flags.c_contiguous else empty(out.shape, dtype=out.dtype)
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


def _accumulate_separable(block, factors, plan, counts, out, divide=None, work=None, run_min=None) -> None:
    """Rank-1 kernel: one 1-D pass per axis over the band's extended block.

    The block is extended along every axis before the first pass, so the
    passes see exactly the pixels the full kernel would (cval included).
    Images with two spatial axes take one compiled pass per band
    (``_engine.sep2d``: vertical taps into a row buffer, horizontal taps,
    and the store); other ranks one compiled tap pass per axis. From
    ``run_min`` (default ``RUNNING_MIN``) equal taps on, an axis is summed by
    running sums.
    ``divide`` (with ``work``, the float type of the division) asks for
    ``out = sum / divide``, rounded and clipped when ``out`` is integer.
    """
    run_min = RUNNING_MIN if run_min is None else run_min
    if _sep2d(block, factors, plan, counts, out, divide, work, run_min):
        return
    acc = np.dtype(factors[0].dtype)
    dst_final = out if divide is None and out.dtype == acc else empty(out.shape, dtype=acc)
    cur = block
    nd = len(factors)
    for axis, f in enumerate(factors):
        shape = list(cur.shape)
        eff = plan.dilation[axis] * (len(f) - 1) + 1
        shape[axis] = counts[axis]
        dst = dst_final if axis == nd - 1 else empty(shape, dtype=acc)
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
        if _runs(f, sub, axis, run_min) and _finite(cur):
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


def _int_acc(src: np.dtype, fv: np.ndarray, fh: np.ndarray, dtype: np.dtype) -> str | None:
    """An unsigned integer accumulator giving the float sums' exact bits, or None.

    Unsigned pixels under non-negative integer weights (a box, a binomial)
    sum to integers; while every partial sum stays below the float type's
    2**mantissa the float path is exact too, so summing in u16 or u32
    instead (twice or four times the lanes per vector, no conversions)
    gives the same values, and the store divides and rounds as before.
    """
    if src.kind != "u":
        return None
    w = np.concatenate([fv, fh]).astype(np.float64)
    if not (np.all(w >= 0) and np.all(w == np.round(w))):
        return None
    top = float(np.iinfo(src).max) * float(fv.sum(dtype=np.float64)) * float(fh.sum(dtype=np.float64))
    if top > 2.0 ** (np.finfo(dtype).nmant + 1):  # float32: every integer up to 2**24 is exact
        return None
    return "u16" if top < 2**16 else "u32" if top < 2**32 else "u64"


class SepTaps(NamedTuple):
    """What the compiled separable pass is given: accumulator, taps and weights per axis."""

    acc: str
    tv: tuple[int, ...]
    wv: tuple[float, ...]
    th: tuple[int, ...]
    wh: tuple[float, ...]
    vrun: bool
    hrun: bool


def sep_taps(src: np.dtype, factors, plan, out, work, run_min=None, finite=None) -> SepTaps | None:
    """The compiled separable pass's taps for two spatial axes; None where it does not apply.

    ``finite()`` (called only if an axis could run as running sums) says
    whether the block is finite; a NaN or inf turns the running sums off.
    Tap indices are in kernel steps (not yet times the dilation).
    """
    run_min = RUNNING_MIN if run_min is None else run_min
    acc = _SEP_ACC.get(np.dtype(factors[0].dtype).str[1:])
    if plan.ndim != 2 or len(factors) != 2 or acc is None or not out.flags.c_contiguous:
        return None
    if out.dtype.kind not in "iuf" or out.dtype == np.float16 or not out.dtype.isnative:
        return None
    fv, fh = factors
    if not (np.any(fv) and np.any(fh)):
        return None
    if acc in ("f32", "f64"):
        acc = _int_acc(np.dtype(src), fv, fh, np.dtype(work or factors[0].dtype)) or acc
    vrun = plan.stride[0] == 1 and plan.dilation[0] == 1 and _equal_taps(fv, run_min)
    hrun = plan.stride[1] == 1 and plan.dilation[1] == 1 and _equal_taps(fh, run_min)
    if (vrun or hrun) and finite is not None and not finite():
        vrun = hrun = False
    tv = np.arange(len(fv)) if vrun else np.flatnonzero(fv)
    th = np.arange(len(fh)) if hrun else np.flatnonzero(fh)
    return SepTaps(
        acc,
        tuple(int(t) for t in tv),
        tuple(float(fv[t]) for t in tv),
        tuple(int(t) for t in th),
        tuple(float(fh[t]) for t in th),
        bool(vrun),
        bool(hrun),
    )


def _sep2d(block, factors, plan, counts, out, divide, work, run_min=None) -> bool:
    """The compiled separable pass for two spatial axes; False where it does not apply."""
    block = np.ascontiguousarray(block)
    s = sep_taps(block.dtype, factors, plan, out, work, run_min, lambda: _finite(block))
    if s is None:
        return False
    chan = int(np.prod(block.shape[2:], dtype=np.int64))
    row = block.shape[1] * chan
    _engine.sep2d(
        block,
        out,
        int(counts[0]),
        int(counts[1]),
        chan,
        row,
        plan.stride[0],
        plan.stride[1],
        tuple(t * plan.dilation[0] * row for t in s.tv),
        s.wv,
        tuple(t * plan.dilation[1] * chan for t in s.th),
        s.wh,
        s.vrun,
        s.hrun,
        s.acc,
        np.dtype(work or factors[0].dtype) == np.float64,
        1.0 if divide is None else float(divide),
    )
    return True


class BorderTables(NamedTuple):
    """A border read inside the kernels (``_engine.taps2d``, ``_engine.sep2d_idx``).

    ``rows``: the source row of each block row (-1: the constant) from image
    row ``r_start`` on, for all bands. Block column j is image column
    ``c_start + j`` (``ncols`` of them); the columns outside the image are
    ``left`` and ``right`` (source columns, -1: the constant).
    """

    rows: np.ndarray
    r_start: int
    c_start: int
    ncols: int
    left: tuple[int, ...]
    right: tuple[int, ...]

    def band(self, plan: WindowPlan, r0: int, r1: int) -> tuple:
        """The geometry arguments of the band of output rows r0..r1-1."""
        a, b = input_range(plan, 0, r0, r1)
        rows = self.rows[a - self.r_start : b - self.r_start]
        return rows, self.c_start, self.ncols, self.left, self.right


def border_tables(shape: tuple[int, ...], plan: WindowPlan, mode: str) -> BorderTables:
    """The index tables of every band (:func:`~imgfilter.core.border.source_index`)."""
    r0, r1 = input_range(plan, 0, 0, plan.out_shape[0])
    c0, c1 = input_range(plan, 1, 0, plan.out_shape[1])
    n = c1 - c0
    cols = source_index(c0, c1, shape[1], mode)
    ja = min(max(-c0, 0), n)
    jb = min(max(shape[1] - c0, ja), n)
    rows = np.ascontiguousarray(source_index(r0, r1, shape[0], mode), dtype=np.intp)
    return BorderTables(rows, r0, c0, n, tuple(int(v) for v in cols[:ja]), tuple(int(v) for v in cols[jb:]))


# From this many equal taps on, a 1-D pass uses running sums, whose cost does
# not grow with the window (a box blur of 101 costs what one of 17 does).
RUNNING_MIN = 17
# The same for the normalized (missing-pixel) sums, whose fused kernel sums
# values and weights while the band is in cache: running sums have no fused
# form and pay a copy of the band, so they win only from longer windows.
NAN_RUNNING_MIN = 53


def _equal_taps(f: np.ndarray, run_min: int | None = None) -> bool:
    n = RUNNING_MIN if run_min is None else run_min
    return len(f) >= n and bool(np.all(f == f[0])) and f[0] != 0


def _runs(f: np.ndarray, plan: WindowPlan, axis: int, run_min: int | None = None) -> bool:
    return plan.stride[axis] == 1 and plan.dilation[axis] == 1 and _equal_taps(f, run_min)


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


def separable_factors(kernel: np.ndarray, *, always: bool = False) -> list[np.ndarray] | None:
    """1-D factors of a rank-1 kernel when two passes beat one, else None.

    The factors come from the kernel's own rows and columns (not an SVD), so
    integer kernels such as Sobel factor exactly. ``always``: the factors of
    any rank-1 kernel, worth it or not (a method chosen by the caller).
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
    if not always and sum(np.count_nonzero(f) for f in factors) >= nnz:
        return None
    return factors


METHODS = ("taps", "separable", "running", "fft", "box", "small")
"""The ways a linear filter can be computed, each giving the plain taps' result:

``"taps"``: every non-zero tap in one compiled pass (the reference);
``"separable"``: one 1-D pass per axis for a rank-1 kernel; ``"running"``:
separable, with axes of two or more equal taps summed as running sums;
``"fft"``: per band by FFT (bands holding NaN or infinity take the taps);
``"box"``: a box of ones on two axes by the fused box kernel (integer images
it sums exactly, see :func:`box_applies`; elsewhere as the automatic choice);
``"small"``: a rank-1 kernel of at most 3 non-zero taps per axis on two axes
(a bilinear shift's 2 x 2) by the fused small kernel, the separable pass's
bits in one pass (where :func:`small_applies`; elsewhere as the automatic
choice).
"""

_forced_method: contextvars.ContextVar[str | None] = contextvars.ContextVar("linear_method", default=None)


class Method(NamedTuple):
    """A linear filter's method: its name, the 1-D factors it uses, and from
    how many equal taps on an axis is summed by running sums."""

    name: str
    factors: list[np.ndarray] | None
    run_min: int


def choose_method(
    kernel: np.ndarray, factors=None, method: str | None = None, *, box=None, small=None
) -> Method:
    """The one place that picks how a kernel is applied (see :data:`METHODS`).

    ``method`` (or, if None, the one set by :func:`use_method`) forces a
    method; a separable method on a kernel that is not rank-1 raises
    OptionError. Otherwise: rank-1 kernels whose factors save taps run
    separable (``"running"`` when an axis has ``RUNNING_MIN`` equal taps),
    other kernels of ``FFT_MIN_TAPS`` finite taps by FFT, the rest by taps.

    ``box(factors)`` (given by :func:`run_linear`, which knows the image and
    the plan) says whether the fused box kernel applies: a 2-D box of ones
    it accepts runs ``"box"``. A forced ``"box"`` it refuses runs as the
    automatic choice would; without ``box`` a forced ``"box"`` is taken as is.
    ``small(factors)`` does the same for the fused small kernel (``"small"``),
    chosen first for up to ``SMALL_AUTO_TAPS`` non-zero taps per axis.
    """
    method = method if method is not None else _forced_method.get()
    if method is None:
        f = factors if factors is not None else separable_factors(kernel)
        if f is not None and small is not None and _small_auto(f) and small(f):
            return Method("small", f, RUNNING_MIN)
        if f is not None and box is not None and _box_factors(f) and box(f):
            return Method("box", f, RUNNING_MIN)
        if f is not None:
            name = "running" if any(_equal_taps(np.asarray(v)) for v in f) else "separable"
            return Method(name, f, RUNNING_MIN)
        return Method("fft" if _use_fft(kernel, None) else "taps", None, RUNNING_MIN)
    if method not in METHODS:
        raise OptionError(f"method={method!r} is not valid; use one of {', '.join(METHODS)}")
    if method in ("separable", "running"):
        f = factors if factors is not None else separable_factors(kernel, always=True)
        if f is None:
            raise OptionError(
                f"method={method!r} needs a rank-1 kernel of 2 or more axes, got {kernel.shape}"
            )
        return Method(method, f, 2 if method == "running" else 10**18)
    if method == "box":
        f = factors if factors is not None else separable_factors(kernel, always=True)
        if f is None or not _box_factors(f):
            raise OptionError(f"method='box' needs a 2-D box of ones, got a kernel of shape {kernel.shape}")
        if box is None or box(f):
            return Method(method, f, RUNNING_MIN)
        name = "running" if any(_equal_taps(np.asarray(v)) for v in f) else "separable"
        return Method(name, f, RUNNING_MIN)
    if method == "small":
        f = factors if factors is not None else separable_factors(kernel, always=True)
        if f is None:
            raise OptionError(f"method='small' needs a rank-1 kernel of 2 or more axes, got {kernel.shape}")
        if small is None or small(f):
            return Method(method, f, RUNNING_MIN)
        if box is not None and _box_factors(f) and box(f):
            return Method("box", f, RUNNING_MIN)
        name = "running" if any(_equal_taps(np.asarray(v)) for v in f) else "separable"
        return Method(name, f, RUNNING_MIN)
    if method == "fft" and not np.all(np.isfinite(kernel)):
        raise OptionError("method='fft' needs a finite kernel")
    return Method(method, None, RUNNING_MIN)


# ---- The fused box kernel (_engine.box) ------------------------------------------------


def _box_factors(factors) -> bool:
    """Two factors of ones: a box (the fused kernel sums it, nothing to multiply)."""
    return len(factors) == 2 and all(np.all(np.asarray(f) == 1) for f in factors)


def _box_spec(
    src: np.ndarray, factors, plan, mode, cval, dtype, work, out_dtype=None
) -> tuple[str, str] | None:
    """(accumulator, signed sums' float type) of the fused box kernel, or None where it
    does not give the separable pass's bits.

    The separable pass sums integer images exactly wherever the fused kernel
    runs: in its integer accumulator (unsigned images, ``_int_acc``), or, for
    signed images, in a float accumulator below 2**mantissa, where every
    partial sum is an integer it holds. The kernel then sums exactly too (in
    modular unsigned integers wide enough for the window's sum) and converts
    to that float type, so the store sees the same values.
    """
    st = np.dtype(src.dtype)
    if plan.ndim != 2 or len(factors) != 2 or tuple(plan.stride) != (1, 1) or tuple(plan.dilation) != (1, 1):
        return None
    if tuple(plan.out_shape[:2]) != src.shape[:2] or src.size == 0 or not _box_factors(factors):
        return None
    c_lo, c_hi = input_range(plan, 1, 0, src.shape[1])
    if c_lo > 0 or c_hi < src.shape[1]:
        return None  # its column table holds every image column (a shifted window may skip some)
    if st.kind not in "iu" or not st.isnative or not _engine_reads(st, mode, cval):
        return None
    od = np.dtype(out_dtype or dtype)
    if od.kind not in "iuf" or od == np.float16 or not od.isnative:
        return None
    fv, fh = (np.asarray(f) for f in factors)
    acc = _SEP_ACC.get(np.dtype(fv.dtype).str[1:])
    if acc in ("f32", "f64"):
        acc = _int_acc(st, fv, fh, np.dtype(work or fv.dtype)) or acc
    if acc is None:
        return None
    if acc not in ("f32", "f64"):
        return (acc, "") if st.kind == "u" else None
    if st.kind == "u":
        return None  # sums the float pass may round: left to it
    info = np.iinfo(st)
    top = max(-int(info.min), int(info.max)) * len(fv) * len(fh)
    if top > 2 ** (np.finfo(np.float32 if acc == "f32" else np.float64).nmant + 1):
        return None
    return next(k for k, bits in (("u16", 16), ("u32", 32), ("u64", 64)) if top < 2 ** (bits - 1)), acc


def box_applies(src: np.ndarray, size, mode: str, cval: float, dtype, work=None) -> bool:
    """Whether the fused box kernel computes a ``size`` box of ones over ``src`` ("same"
    windows) summed in ``dtype``, as :func:`run_linear` calls it; else ``"box"`` runs
    as the automatic choice would. For tests that force the method.

    >>> import numpy as np
    >>> box_applies(np.zeros((4, 4), np.uint8), (3, 3), "reflect", 0.0, np.uint16)
    True
    >>> box_applies(np.zeros((4, 4), np.float32), (3, 3), "reflect", 0.0, np.float32)
    False
    """
    plan = plan_window(src.shape, tuple(size), "same", 1, 1)
    factors = [np.ones(k, dtype=dtype) for k in size]
    return _box_spec(src, factors, plan, mode, cval, dtype, work) is not None


def _run_box(arr, factors, plan, mode, cval, dtype, threads, out_dtype, divide, work) -> np.ndarray:
    """A box of ones by ``_engine.box``, where :func:`_box_spec` accepts it.

    No band is copied: each band of output rows reads its source rows and
    columns through index tables (:func:`~imgfilter.core.border.source_index`)
    and primes its column sums from its own halo.
    """
    factors = [np.asarray(f, dtype=dtype) for f in factors]
    acc, signed_to = _box_spec(arr, factors, plan, mode, cval, dtype, work, out_dtype)
    src = np.ascontiguousarray(arr)
    out = empty(plan.out_shape, dtype=out_dtype or dtype)
    h, w = src.shape[:2]
    chan = int(np.prod(src.shape[2:], dtype=np.int64))
    kv = len(factors[0])
    r_lo, r_hi = input_range(plan, 0, 0, h)
    c_lo, c_hi = input_range(plan, 1, 0, w)
    rowidx = source_index(r_lo, r_hi, h, mode)
    colidx = tuple(source_index(c_lo, c_hi, w, mode).tolist())
    work_f64 = np.dtype(work or dtype) == np.float64
    div = 1.0 if divide is None else float(divide)

    # cval lies beyond a constant border only (any other mode never reads it; there
    # _engine_reads does not ask that it be one of the image's values).
    border = float(cval) if mode == "constant" else 0.0

    def band(r0: int, r1: int) -> None:
        rows = tuple(rowidx[r0 : r1 + kv - 1].tolist())
        _engine.box(src, out[r0:r1], w, chan, rows, colidx, -c_lo, acc, signed_to, work_f64, div, border)

    # Nothing is copied per band, so bands need not fit a cache: one per thread
    # (each primes its column sums from kv rows), at least a few windows high.
    run_bands(h, 1, band, threads=threads, min_rows=4 * kv, nbytes=src.nbytes + out.nbytes)
    return out


# ---- The fused small separable kernel (_engine.sep_small) ------------------------------

_SMALL_TYPES = (np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.float32))
#: Non-zero taps per axis the fused small kernel takes.
SMALL_MAX_TAPS = 3
#: ... and up to which it is the automatic choice (ahead of the box kernel). It
#: recomputes the vertical sums per horizontal tap: measured at 4K RGB, 2 x 2
#: (a bilinear shift) runs 4-7x faster than the separable pass and the half-pixel
#: 1 x 2 box 3x faster than the box kernel, while 3 x 3 runs slower than the
#: separable pass (120 against 92 ms, uint8 into float32).
SMALL_AUTO_TAPS = 2


def _small_auto(factors) -> bool:
    return all(np.count_nonzero(f) <= SMALL_AUTO_TAPS for f in factors)


class SmallSpec(NamedTuple):
    """The fused small kernel's taps (block rows and columns) and float32 weights."""

    tv: tuple[int, ...]
    wv: tuple[float, ...]
    th: tuple[int, ...]
    wh: tuple[float, ...]


def _small_spec(arr, factors, plan, mode, cval, dtype, work, out_dtype, divide) -> SmallSpec | None:
    """The fused small kernel's taps, or None where it does not give the separable pass's bits.

    It computes the separable pass of an f32 accumulator (float32 factors and
    work): the integer accumulators :func:`_int_acc` picks sum exactly what
    float32 sums exactly, so those give the same values too. Under
    :func:`copied_borders` it never applies (the copied bands are the
    reference of every in-kernel border).
    """
    if not _IN_KERNEL.get() or plan.ndim != 2 or len(factors) != 2 or tuple(plan.stride) != (1, 1):
        return None
    if arr.size == 0 or not arr.flags.c_contiguous or np.dtype(arr.dtype) not in _SMALL_TYPES:
        return None
    if np.dtype(dtype) != np.float32 or np.dtype(work or dtype) != np.float32:
        return None
    if np.dtype(out_dtype or dtype) not in _SMALL_TYPES or not _engine_reads(arr.dtype, mode, cval):
        return None
    if divide is not None and not (0 < float(divide) < 3e38):
        return None
    f = [np.asarray(v, dtype=np.float32) for v in factors]
    taps = [np.flatnonzero(v) for v in f]
    if not all(
        1 <= len(t) <= SMALL_MAX_TAPS and np.all(np.isfinite(v)) for t, v in zip(taps, f, strict=True)
    ):
        return None
    (tv, th), (fv, fh) = taps, f
    return SmallSpec(
        tuple(int(t) * plan.dilation[0] for t in tv),
        tuple(float(fv[t]) for t in tv),
        tuple(int(t) * plan.dilation[1] for t in th),
        tuple(float(fh[t]) for t in th),
    )


def small_applies(src: np.ndarray, factors, mode: str, cval: float, out_dtype=None, divide=None) -> bool:
    """Whether the fused small kernel computes the rank-1 correlation with ``factors``
    over ``src`` ("same" windows, float32 work) as :func:`run_linear` calls it; else
    ``"small"`` runs as the automatic choice would. For tests that force the method.

    >>> import numpy as np
    >>> small_applies(np.zeros((4, 4), np.uint8), [[0.5, 0.5], [0.25, 0.75]], "reflect", 0.0, np.uint8)
    True
    >>> small_applies(np.zeros((4, 4), np.float64), [[0.5, 0.5], [0.25, 0.75]], "reflect", 0.0)
    False
    """
    f = [np.asarray(v, dtype=np.float32) for v in factors]
    plan = plan_window(src.shape, tuple(len(v) for v in f), "same", 1, 1)
    dtype = float_dtype(src.dtype)
    return _small_spec(src, f, plan, mode, cval, dtype, None, out_dtype, divide) is not None


def _run_small(arr, spec: SmallSpec, plan, mode, cval, threads, out_dtype, divide) -> np.ndarray:
    """A small rank-1 kernel by ``_engine.sep_small``, where :func:`_small_spec` accepts it.

    No band is copied: each band of output rows reads its source rows and
    columns through index tables (:func:`~imgfilter.core.border.source_index`).
    """
    out = empty(plan.out_shape, dtype=out_dtype)
    h, w = arr.shape[:2]
    chan = int(np.prod(arr.shape[2:], dtype=np.int64))
    r_lo, r_hi = input_range(plan, 0, 0, plan.out_shape[0])
    c_lo = input_range(plan, 1, 0, plan.out_shape[1])[0]
    vspan, hspan = spec.tv[-1] + 1, spec.th[-1] + 1
    rowidx = np.ascontiguousarray(source_index(r_lo, r_hi, h, mode), dtype=np.intp)
    colidx = np.ascontiguousarray(
        source_index(c_lo, c_lo + plan.out_shape[1] + hspan - 1, w, mode), dtype=np.intp
    )
    c = float(cval) if mode == "constant" else 0.0
    div = 1.0 if divide is None else float(divide)

    def band(r0: int, r1: int) -> None:
        rows = rowidx[r0 : r1 + vspan - 1]
        _engine.sep_small(
            arr, out[r0:r1], w, chan, rows, colidx, -c_lo, spec.tv, spec.wv, spec.th, spec.wh, div, c
        )

    # Nothing is copied per band: bands of a few source rows' worth of megabytes
    # keep the threads' loads balanced at one Python call each.
    run_bands(
        plan.out_shape[0],
        1,
        band,
        threads=threads,
        min_rows=max(8, (1 << 22) // max(1, arr.strides[0])),
        nbytes=arr.nbytes + out.nbytes,
    )
    return out


@contextlib.contextmanager
def use_method(method: str | None) -> Iterator[None]:
    """Within the block, linear filters called from this thread use ``method``.

    For tests and benchmarks that compare methods through the public filters.

    >>> import numpy as np
    >>> with use_method("taps"):
    ...     out = run_linear(np.ones((3, 3)), np.ones((3, 3)), plan_window((3, 3), (3, 3), "same", 1, 1),
    ...                      "edge", 0.0, np.dtype(np.float64), 1)
    >>> float(out[1, 1])
    9.0
    """
    if method is not None and method not in METHODS:
        raise OptionError(f"method={method!r} is not valid; use one of {', '.join(METHODS)}")
    token = _forced_method.set(method)
    try:
        yield
    finally:
        _forced_method.reset(token)


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
    method=None,
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
    :func:`~imgfilter.core.srgb.decode` of 8- or 16-bit codes under a
    separable kernel whose ``combine`` is an :class:`~imgfilter.core.srgb.Encoding`
    (the linear-light blurs and shifts) runs in the kernel itself
    (:func:`_codec_bands`): codes decoded as they are read, sums encoded as
    they are stored; the same bits, no band decoded, copied or encoded.

    Without ``combine``, an ``out_dtype`` other than ``dtype`` or a
    ``divide`` stores ``sum / divide`` (divided in ``work``, default
    ``dtype``) rounded half to even and clipped, inside the compiled pass
    where it applies. Bands are extended in the image's own dtype when the
    engine can read it (it converts as it loads), else in ``dtype``.

    ``method`` (one of :data:`METHODS`) forces how every kernel is applied;
    by default :func:`choose_method` picks one per kernel, once per call.
    """
    # fold: kernels longer than the image, folded onto the border's period (bounded halos).
    kernel, also, factors, plan = fold_linear(kernel, also, factors, plan, mode)
    kernels = [kernel, *also]
    # The fused box kernel takes a lone kernel's plain result (no also/combine/source).
    lone = not also and combine is None and source is None

    def box(f) -> bool:
        f = [np.asarray(v, dtype=dtype) for v in f]
        return lone and _box_spec(arr, f, plan, mode, cval, dtype, work, out_dtype) is not None

    def small(f) -> bool:
        return lone and _small_spec(arr, f, plan, mode, cval, dtype, work, out_dtype, divide) is not None

    no_box = lambda f: False  # noqa: E731
    methods = [
        choose_method(
            k,
            factors if i == 0 else None,
            method,
            box=box if i == 0 else no_box,
            small=small if i == 0 else no_box,
        )
        for i, k in enumerate(kernels)
    ]
    if methods[0].name == "box":
        return _run_box(arr, methods[0].factors, plan, mode, cval, dtype, threads, out_dtype, divide, work)
    if methods[0].name == "small":
        spec = _small_spec(arr, methods[0].factors, plan, mode, cval, dtype, work, out_dtype, divide)
        return _run_small(arr, spec, plan, mode, cval, threads, out_dtype or dtype, divide)
    factor_sets = [
        None if m.factors is None else [np.asarray(v, dtype=dtype) for v in m.factors] for m in methods
    ]
    # Separable methods never read the dense kernel (a stand-in may hold only its shape).
    weights = [
        None if m.factors is not None else dense_kernel(k, factors if i == 0 else None, dtype, arr.nbytes)
        for i, (k, m) in enumerate(zip(kernels, methods, strict=True))
    ]
    out = empty(plan.out_shape, dtype=out_dtype or dtype)
    rest = int(np.prod(out.shape[1:], dtype=np.int64))
    # Block, accumulator and per-kernel intermediates, per output row.
    row_bytes = dtype.itemsize * rest * (3 + plan.stride[0] + 2 * len(kernels))
    if combine is not None:
        row_bytes += 8 * rest  # the combine step's float temporaries

    fft = [m.name == "fft" for m in methods]

    final = combine is None and (divide is not None or out.dtype != dtype)
    native = source is None and not any(fft) and _engine_reads(arr.dtype, mode, cval)
    scratch = Scratch()
    # The border read inside the kernels (no band copied with its halo) where they apply.
    in_kernel = None
    if combine is None and native:
        in_kernel = _in_kernel_bands(
            arr, plan, mode, cval, weights[0], factor_sets[0], methods[0], dtype, out, divide, work, scratch
        )

    # sRGB codes in and out of a separable kernel: decoded as the kernel reads
    # them, encoded as it stores the sums (no band decoded, copied or encoded).
    if in_kernel is None and source is not None and isinstance(combine, Encoding) and not also:
        in_kernel = _codec_bands(
            arr, plan, mode, cval, source, factor_sets[0], methods[0], combine, work, out
        )

    def one(block, k, f, m, counts, dst):
        if f is not None:
            _accumulate_separable(block, f, plan, counts, dst, divide, work, m.run_min)
            return
        tmp = scratch.get("tmp", dst.shape, dtype) if final else dst
        if not (m.name == "fft" and _accumulate_fft(block, k, plan, counts, tmp)):
            _accumulate(block, k, plan, counts, tmp)
        if final:
            dst[...] = _finish(tmp, dst.dtype, divide, work)

    def work_band(r0: int, r1: int) -> None:
        if in_kernel is not None:
            in_kernel(r0, r1)
            return
        if source is None:
            block = band_block(arr, plan, r0, r1, mode, cval, arr.dtype if native else dtype, scratch)
        else:
            block = source(band_block(arr, plan, r0, r1, mode, cval, arr.dtype, scratch))
        counts = (r1 - r0, *plan.spatial_out[1:])
        if combine is None:
            one(block, weights[0], factor_sets[0], methods[0], counts, out[r0:r1])
            return
        results = []
        for i, (k, f, m) in enumerate(zip(weights, factor_sets, methods, strict=True)):
            dst = scratch.get(f"result{i}", out[r0:r1].shape, dtype)
            one(block, k, f, m, counts, dst)
            results.append(dst)
        combine(results, out[r0:r1])

    # FFT bands need several kernel heights of rows to pay for the transform.
    min_rows = 2 * plan.eff[0] if any(fft) else 1
    # Temporaries of all bands in flight stay within twice the input's size.
    # Running sums restart at each band and an FFT rounds by its band's size:
    # their bands stay the same whatever the thread count (the same bits).
    fixed = any(m.name in ("running", "fft") for m in methods)
    run_bands(
        plan.out_shape[0],
        row_bytes,
        work_band,
        threads=threads,
        min_rows=min_rows,
        memory_cap=2 * arr.nbytes,
        fixed=fixed,
    )
    return out


_IN_KERNEL: contextvars.ContextVar[bool] = contextvars.ContextVar("border_in_kernel", default=True)


@contextlib.contextmanager
def copied_borders() -> Iterator[None]:
    """Within the block, linear filters copy each band with its halo (``band_block``)
    instead of reading the border inside the kernels: the reference the
    in-kernel border is tested against (the same bits)."""
    token = _IN_KERNEL.set(False)
    try:
        yield
    finally:
        _IN_KERNEL.reset(token)


def _sep_idx_taps(s, plan, work, factors, divide, c: float) -> tuple:
    """``_engine.sep2d_idx``'s tap arguments for the separable taps ``s`` (dilated)."""
    return (
        tuple(t * plan.dilation[0] for t in s.tv),
        s.wv,
        tuple(t * plan.dilation[1] for t in s.th),
        s.wh,
        s.acc,
        np.dtype(work or factors[0].dtype) == np.float64,
        1.0 if divide is None else float(divide),
        c,
    )


def _in_kernel_bands(
    arr, plan, mode, cval, kernel, factors, method: Method, dtype, out, divide, work, scratch
):
    """``band(r0, r1)`` computing output rows r0..r1 of ``out`` by the kernels that
    read the border themselves (``_engine.taps2d``, ``_engine.sep2d_idx``), or None
    where they do not apply: they take two spatial axes of a C-contiguous image,
    taps into a float type, or the separable pass without running sums (which
    stay on the copied bands). What every band shares is built once here."""
    if not _IN_KERNEL.get() or plan.ndim != 2 or not arr.flags.c_contiguous or arr.size == 0:
        return None
    final = divide is not None or out.dtype != dtype
    tables = border_tables(arr.shape, plan, mode)
    chan = int(np.prod(arr.shape[2:], dtype=np.int64))
    c = float(cval) if mode == "constant" else 0.0
    shape = (plan.out_shape[1], chan, arr.shape[1])
    if factors is not None:
        s = sep_taps(arr.dtype, factors, plan, out, work, method.run_min)
        # Integer accumulators (boxes, binomials of unsigned images) stay on the
        # copied bands: measured faster there (5x5 box, u8: 6.0 against 9.7 ms).
        if s is None or s.vrun or s.hrun or s.acc not in ("f32", "f64"):
            return None
        taps = _sep_idx_taps(s, plan, work, factors, divide, c)

        def band(r0: int, r1: int) -> None:
            geometry = (r1 - r0, *shape, *tables.band(plan, r0, r1), *plan.stride)
            _engine.sep2d_idx(arr, out[r0:r1], *geometry, *taps)

        return band
    if method.name != "taps" or np.dtype(dtype) not in (np.float32, np.float64):
        return None
    nonzero = list(zip(*np.nonzero(kernel), strict=False))
    taps = (
        tuple(int(t[0]) * plan.dilation[0] for t in nonzero),
        tuple(int(t[1]) * plan.dilation[1] for t in nonzero),
        tuple(float(kernel[t]) for t in nonzero),
        c,
    )

    def band(r0: int, r1: int) -> None:
        dst = out[r0:r1]
        tmp = scratch.get("tmp", dst.shape, dtype) if final else dst
        if not nonzero:
            tmp[...] = 0
        else:
            _engine.taps2d(arr, tmp, r1 - r0, *shape, *tables.band(plan, r0, r1), *plan.stride, *taps)
        if final:
            dst[...] = _finish(tmp, dst.dtype, divide, work)

    return band


def _codec_bands(arr, plan, mode, cval, source, factors, method: Method, encoding, work, out):
    """``band(r0, r1)`` computing output rows r0..r1 of ``out`` (sRGB codes) by a
    separable filter in linear light, or None where it does not apply: the kernel
    (``_engine.sep2d_idx`` with its codec) decodes the codes of ``arr`` as it reads
    them and encodes its float32 sums as ``encoding`` does as it stores them. The
    bits of decoding the border-extended band, filtering it (``sep2d``) and
    encoding the result, which :func:`copied_borders` still runs (the reference):
    the decoded values are finite (no running sums to turn off), a constant
    border is the decoded ``cval``. For :func:`~imgfilter.core.srgb.decode` of
    uint8/uint16 codes on two spatial axes, without running sums (they stay on
    the copied bands)."""
    from .srgb import _codec, decode, decode_table

    if source is not decode or factors is None or not _IN_KERNEL.get() or plan.ndim != 2:
        return None
    if arr.size == 0 or arr.dtype not in (np.uint8, np.uint16):
        return None
    if out.dtype != arr.dtype or not _engine_reads(arr.dtype, mode, cval):
        return None
    arr = np.ascontiguousarray(arr)  # codes: a copy costs a fraction of the filter
    probe = np.empty(0, dtype=np.float32)
    s = sep_taps(np.dtype(np.float32), factors, plan, probe, work, method.run_min, lambda: True)
    if s is None or s.vrun or s.hrun or s.acc != "f32":
        return None
    _codec()  # the tables installed
    tables = border_tables(arr.shape, plan, mode)
    chan = int(np.prod(arr.shape[2:], dtype=np.int64))
    c = float(decode_table(arr.dtype)[int(cval)]) if mode == "constant" else 0.0
    shape = (plan.out_shape[1], chan, arr.shape[1])
    taps = (*_sep_idx_taps(s, plan, work, factors, None, c), True, *encoding.scale())

    def band(r0: int, r1: int) -> None:
        geometry = (r1 - r0, *shape, *tables.band(plan, r0, r1), *plan.stride)
        _engine.sep2d_idx(arr, out[r0:r1], *geometry, *taps)

    return band


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


SOBEL_OUTPUTS = ("x", "y", "magnitude", "angle")


def sobel_gradients(
    arr: np.ndarray,
    mode: str = "reflect",
    cval: float = 0.0,
    threads: int | None = None,
    output: str = "magnitude",
) -> np.ndarray:
    """Sobel x, y, magnitude or angle in one compiled pass (``_engine.sobel``).

    ``x`` correlates with [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], ``y`` with its
    transpose, ``magnitude`` is sqrt(x*x + y*y) and ``angle`` atan2(y, x),
    in float32 (float64 for images that need it), with the same bits as the
    separable passes (:func:`run_linear`) give. Channels are filtered on
    their own. The border is read through index tables
    (:func:`~imgfilter.core.border.source_index`), so no band is copied: each
    output row reads three source rows and the magnitude needs no x and y
    images. ``mode`` is a normalized border mode name.

    >>> import numpy as np
    >>> ramp = np.tile(np.arange(5.0), (5, 1))
    >>> sobel_gradients(ramp, "reflect", output="x")[2]
    array([0., 8., 8., 8., 0.])
    """
    if output not in SOBEL_OUTPUTS:
        raise OptionError(f"output={output!r} is not valid; use one of {', '.join(SOBEL_OUTPUTS)}")
    arr = np.asarray(arr)
    if arr.ndim < 2:
        raise OptionError(f"sobel needs an image of at least 2 axes, got shape {arr.shape}")
    dtype = float_dtype(arr.dtype)
    if not _engine_reads(arr.dtype, mode, cval):
        arr = arr.astype(dtype)
    arr = np.ascontiguousarray(arr)
    h, w = arr.shape[:2]
    chan = int(np.prod(arr.shape[2:], dtype=np.int64))
    out = empty(arr.shape, dtype=dtype)
    if out.size == 0:
        return out
    rowidx = source_index(-1, h + 1, h, mode)
    left = int(source_index(-1, 0, w, mode)[0])
    right = int(source_index(w, w + 1, w, mode)[0])
    scratch = Scratch()

    def work(r0: int, r1: int) -> None:
        rows = tuple(int(i) for i in rowidx[r0 : r1 + 2])
        band = out[r0:r1]
        if output == "angle":
            gx = scratch.get("x", band.shape, dtype)
            gy = scratch.get("y", band.shape, dtype)
            _engine.sobel(arr, gx, gy, None, w, chan, rows, left, right, float(cval))
            np.arctan2(gy, gx, out=band)
            return
        x, y, m = (band if output == name else None for name in ("x", "y", "magnitude"))
        _engine.sobel(arr, x, y, m, w, chan, rows, left, right, float(cval))

    row_bytes = out.itemsize * w * chan * (2 + 2 * (output == "angle"))
    run_bands(h, row_bytes, work, threads=threads)
    return out


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
    nan_only=False,
    at=None,
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

    ``nan_only``: ``valid`` is exactly the image's non-NaN pixels (no mask),
    so the bands find the NaNs themselves, in one compiled pass per band
    (the same values), without reading ``valid``; so does a
    :class:`~imgfilter.core.masked.NanHoles`. Not with a constant NaN
    border, which counts as valid here (its array is then built).

    ``at``: flat indices of output pixels; the results there only, shape
    (len(at), C), the same bits (:func:`~imgfilter.core.masked.normalized_at`),
    or None where that does not apply (NaN holes and separable taps only).
    """
    if isinstance(valid, NanHoles):
        nan_only, valid = True, valid.array() if mode == "constant" and np.isnan(cval) else None
    if nan_only and not (mode == "constant" and np.isnan(cval)):
        valid = None
    # fold: as in run_linear (the validity plane folds with the values).
    kernel, _, factors, plan = fold_linear(kernel, (), factors, plan, mode)
    f = None if factors is None else [np.asarray(v, dtype=dtype) for v in factors]
    k = None if f is not None else dense_kernel(kernel, None, dtype, arr.nbytes)
    full = _window_sum(k, f, plan, dtype) if full_is_plain else None

    # Equal taps: running sums change the bits of the plain filter's sums,
    # so they stay where whole windows must keep them (``full_is_plain``);
    # elsewhere the fused NaN kernel sums up to NAN_RUNNING_MIN taps itself.
    run_min = RUNNING_MIN if full_is_plain else NAN_RUNNING_MIN
    taps = None
    if INDEX_SUMS:
        taps = _block_taps(k, plan, dtype) if f is None else _block_sep_taps(f, plan, dtype, run_min)
    kernel_idx = _engine.taps2d if f is None else _engine.sep2d_idx
    if at is not None:
        if f is None or taps is None or valid is not None or np.dtype(dtype) != arr.dtype:
            return None
        return normalized_at(
            arr,
            at,
            plan,
            mode=mode,
            cval=cval,
            sep_taps=taps,
            tiny=tiny,
            full=full,
            total=total,
            threads=threads,
        )

    def sums(block: np.ndarray, counts: tuple[int, ...], out: np.ndarray) -> None:
        if taps is not None and block.flags.c_contiguous and out.flags.c_contiguous:
            # The extended block read as an image whose border is all inside it.
            chan = int(np.prod(block.shape[2:], dtype=np.int64))
            rows = np.arange(block.shape[0], dtype=np.intp)
            w = block.shape[1]
            geometry = (int(counts[0]), int(counts[1]), chan, w, rows, 0, w, (), (), *plan.stride)
            kernel_idx(block, out, *geometry, *taps)
            return
        _filter_band(block, k, f, plan, counts, out, run_min)

    # The one weighted normalization (zeroing, value and weight sums, division per band).
    return normalized_bands(
        arr,
        valid,
        plan,
        sums,
        dtype,
        threads,
        mode=mode,
        cval=cval,
        outside_valid=True,
        tiny=tiny,
        full=full,
        total=total,
        taps=taps if f is None else None,  # what sums runs: the fused NaN kernel may take it
        sep_taps=taps if f is not None else None,
    )


# Whether run_normalized sums its bands by the index-table kernels (_engine.taps2d,
# _engine.sep2d_idx) where they apply; False: _filter_band (tests compare the two).
INDEX_SUMS = True


def _block_taps(k, plan, dtype):
    """The taps of ``_engine.taps2d`` for a dense kernel on two spatial axes, or None.

    On a band's extended block it gives the bits of ``_engine.taps`` (the same
    taps in the same order, see :func:`copied_borders`), faster.
    """
    if plan.ndim != 2 or np.dtype(dtype) not in (np.float32, np.float64) or not np.any(k):
        return None
    nonzero = list(zip(*np.nonzero(k), strict=False))
    return (
        tuple(int(t[0]) * plan.dilation[0] for t in nonzero),
        tuple(int(t[1]) * plan.dilation[1] for t in nonzero),
        tuple(float(k[t]) for t in nonzero),
        0.0,
    )


def _block_sep_taps(f, plan, dtype, run_min=None):
    """The taps of ``_engine.sep2d_idx`` for separable factors on two spatial axes, or None.

    On a band's extended block it gives the bits of ``_engine.sep2d`` (see
    :func:`copied_borders`), faster; not for running sums (they stay on
    :func:`_accumulate_separable`, which checks the block is finite).
    """
    if plan.ndim != 2 or np.dtype(dtype) not in (np.float32, np.float64):
        return None
    s = sep_taps(np.dtype(dtype), f, plan, np.empty(1, dtype=dtype), None, run_min)
    if s is None or s.vrun or s.hrun or s.acc not in ("f32", "f64"):
        return None
    return _sep_idx_taps(s, plan, None, f, None, 0.0)


def _window_sum(k, f, plan, dtype):
    """What one window of ones sums to, with the same operations as the bands.

    Separable: axis by axis, each pass on a line of the previous passes'
    (uniform) value, so no block of the kernel's full extent is built; the
    passes store their sums in ``dtype`` between axes, as the bands do, and
    a lone tap of weight 1 on the other axes is exact.
    """
    nd = plan.ndim
    one = np.empty((1,) * nd, dtype=dtype)
    if f is None:
        eff = tuple(plan.eff)
        ones_plan = plan_window(eff, k.shape, 0, 1, plan.dilation)
        _filter_band(np.ones(eff, dtype=dtype), k, None, ones_plan, (1,) * nd, one)
        return one.flat[0]
    value = dtype.type(1)
    unit = np.ones(1, dtype=dtype)
    for a in range(nd):
        shape = tuple(plan.eff[a] if b == a else 1 for b in range(nd))
        ksize = tuple(len(f[a]) if b == a else 1 for b in range(nd))
        dilation = tuple(plan.dilation[a] if b == a else 1 for b in range(nd))
        line_plan = plan_window(shape, ksize, 0, 1, dilation)
        factors = [f[a] if b == a else unit for b in range(nd)]
        _filter_band(np.full(shape, value, dtype=dtype), None, factors, line_plan, (1,) * nd, one)
        value = one.flat[0]
    return value


def dense_kernel(kernel, factors, dtype, image_bytes: int) -> np.ndarray:
    """The dense kernel in ``dtype`` for the methods that read every tap.

    ``kernel`` itself, unless ``factors`` are given and ``kernel`` is a
    zero-stride stand-in (``np.broadcast_to``, only its shape is meant): then
    the outer product of the factors, bounded by :mod:`imgfilter.core.bounds`
    before it is built.
    """
    kernel = np.asarray(kernel)
    if factors is None or any(s != 0 for s in kernel.strides):
        return kernel.astype(dtype)
    check_dense_kernel(kernel.shape, np.dtype(dtype).itemsize, image_bytes)
    dense = np.asarray(factors[0], dtype=np.float64)
    for v in factors[1:]:
        dense = np.multiply.outer(dense, np.asarray(v, dtype=np.float64))
    return dense.astype(dtype)


def _filter_band(block, k, f, plan, counts, dst, run_min=None) -> None:
    """One band of a direct (tap or separable) linear filter (``run_min``: see :data:`RUNNING_MIN`)."""
    if f is not None:
        _accumulate_separable(block, f, plan, counts, dst, run_min=run_min)
    else:
        _accumulate(block, k, plan, counts, dst)


def __getattr__(name: str):
    # The public wrappers moved to imgfilter.filters.correlate (the core
    # imports no filter); old imports keep working, resolved on first use.
    if name in ("correlate", "convolve", "conv2d", "linear_footprint", "conv2d_footprint"):
        from ..filters import correlate as module

        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
