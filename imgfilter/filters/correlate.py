"""Linear filtering: correlate, convolve and the convolutional-layer conv2d.

The public wrappers of the linear core (:mod:`imgfilter.core.linear`): each
checks its options, builds the kernel and makes one core call; the
dispatcher (:mod:`imgfilter.filters._dispatch`) does PIL, Dask, MaskedArray,
``axes=`` and ``nan=``/``mask=`` normalization.
"""

from __future__ import annotations

import numpy as np

from ..core.alpha import centre_sample
from ..core.bounds import check_result_size
from ..core.buffers import empty
from ..core.dtypes import float_dtype
from ..core.fold import fold_kernel, fold_plan
from ..core.footprint import Footprint
from ..core.linear import (
    _use_fft,
    as_kernel,
    band_block,
    run_linear,
    run_normalized,
    separable_factors,
    tap_view,
)
from ..core.masked import normalized, validity
from ..core.names import OptionError, normalize_mode
from ..core.options import IntOrTuple, PaddingSpec, WindowPlan, plan_window
from ..core.tiles import run_bands
from ._dispatch import dispatch
from ._docs import docfiller


def _kernel_axes(ndim: int, options: dict) -> tuple[int, bool]:
    """A kernel's axes are the spatial ones (the image's leading axes; the rest are channels)."""
    return as_kernel(options["kernel"]).ndim, True


def _correlate(arr, kernel, padding, mode, cval, stride, dilation, threads, nan="propagate", mask=None):
    """The body of :func:`correlate` and :func:`convolve`: one core call (two with missing pixels)."""
    k = as_kernel(kernel)
    mode = normalize_mode(mode)
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
    valid = validity(arr, nan, mask, lazy=True)
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
            nan_only=mask is None,
        )
    if nan == "keep":
        # NaN back where the pixel under the window's centre was missing.
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


@dispatch(linear_footprint, alpha="none", missing=True, spatial=_kernel_axes)
@docfiller
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
    axes: object = None,
) -> np.ndarray:
    """Cross-correlate an image with a kernel (what CNN texts call convolution).

    Each output pixel is the sum of the kernel's weights times the pixels
    under it. The kernel's axes are the image's leading axes: a 2-D kernel on
    an (H, W, C) image filters every channel on its own; a kernel with as many
    axes as the image correlates over all of them (3-D volumes).

    Parameters
    ----------
    image : array_like or PIL image
        (H, W), (H, W, C) channels-last, or an n-D volume; any integer, bool
        or float dtype. Never modified. At most one axis beyond the
        kernel's (the channels) unless ``axes=`` says which are spatial.
        A ``numpy.ma.MaskedArray`` counts its masked values as missing (as
        ``mask=~image.mask``; the result is a plain array). A PIL image is
        read as :func:`imgfilter.imread` reads a file. A
        ``dask.array.Array`` gives a lazy Dask array with the same
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
    %(axes_kernel)s

    Returns
    -------
    ndarray
        float64 for float64 and 32- and 64-bit integer input (which
        float32 cannot hold exactly), float32 for everything else (no
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


@dispatch(linear_footprint, alpha="none", missing=True, spatial=_kernel_axes)
@docfiller
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
    axes: object = None,
) -> np.ndarray:
    """Convolve: the kernel flipped along every axis, then :func:`correlate`.

    Takes the same options as :func:`correlate` (``axes=``, ``nan=``,
    ``mask=``, MaskedArrays and Dask arrays included). With ``"same"`` padding the
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


@dispatch(conv2d_footprint, alpha="none", independent=False)
@docfiller
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
    axes: object = None,
) -> np.ndarray:
    """A convolutional layer: N filters, each spanning all channels.

    Parameters
    ----------
    image : array_like or PIL image
        (H, W, C), or (H, W) taken as one channel. A PIL image is read as
        :func:`imgfilter.imread` reads a file; a ``dask.array.Array`` gives
        a lazy Dask array with the same values.
    filters : array_like
        (N, kh, kw, C); a single (kh, kw, C) filter is taken as N = 1.
    bias : array_like, optional
        (N,), added to each output map.
    padding, mode, cval, stride, dilation, threads
        As in :func:`correlate`, over the two spatial axes.
    %(axes)s

    Returns
    -------
    ndarray
        (H', W', N), float32 (float64 for float64, 32- and 64-bit integer
        input).

    Examples
    --------
    >>> import numpy as np
    >>> conv2d(np.ones((6, 6, 3)), np.ones((2, 3, 3, 3))).shape
    (4, 4, 2)
    """
    arr = image
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
    out = empty((*plan.spatial_out, n), dtype=dtype)
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
