"""Argument normalizers shared by every public function.

One name, one place: border-mode names and aliases, padding specs,
stride/dilation checks and the output-size arithmetic live here and nowhere
else. Public functions call these first; the rest of the core trusts them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .dtypes import float_dtype
from .names import MODE_ALIASES, MODES, SCIPY_MODE, OptionError, normalize_mode

__all__ = [
    "MODES",
    "MODE_ALIASES",
    "SCIPY_MODE",
    "IntOrTuple",
    "OptionError",
    "PaddingSpec",
    "WindowPlan",
    "float_dtype",
    "normalize_mode",
    "output_shape",
]

PaddingSpec = str | int | Sequence[int | Sequence[int]]
IntOrTuple = int | Sequence[int]


def _as_int(value: object, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {value!r}")
    return int(value)


def per_axis(value: IntOrTuple, ndim: int, name: str, *, minimum: int = 1) -> tuple[int, ...]:
    """Expand an int or a per-axis sequence to a tuple of ``ndim`` ints >= minimum."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        values = (int(value),) * ndim
    elif isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != ndim:
            raise OptionError(
                f"{name} has {len(value)} entries, expected 1 or {ndim} (one per filtered axis)"
            )
        values = tuple(_as_int(v, name) for v in value)
    else:
        raise TypeError(f"{name} must be an int or a sequence of ints, got {value!r}")
    for v in values:
        if v < minimum:
            raise OptionError(f"{name} must be >= {minimum}, got {value!r}")
    return values


def effective_size(size: int, dilation: int) -> int:
    """Extent of a kernel of ``size`` taps spaced ``dilation`` apart."""
    return dilation * (size - 1) + 1


def resolve_padding(padding: PaddingSpec, eff: Sequence[int]) -> tuple[tuple[int, int], ...]:
    """Turn a padding spec into (before, after) per filtered axis.

    ``eff`` holds the effective (dilated) kernel size of each axis. ``"same"``
    puts kernel index ``e // 2`` on the output pixel, as scipy.ndimage and
    OpenCV do, so even kernels have one more tap before than after.
    """
    ndim = len(eff)
    if isinstance(padding, str):
        key = padding.strip().lower()
        if key == "same":
            return tuple((e // 2, e - 1 - e // 2) for e in eff)
        if key == "valid":
            return tuple((0, 0) for _ in eff)
        if key == "full":
            return tuple((e - 1, e - 1) for e in eff)
        raise OptionError(
            f"padding={padding!r} is not valid; use 'same', 'valid', 'full', an int, "
            "or one int or (before, after) pair per filtered axis"
        )
    if isinstance(padding, (int, np.integer)) and not isinstance(padding, (bool, np.bool_)):
        p = int(padding)
        if p < 0:
            raise OptionError(f"padding must be >= 0, got {padding!r}")
        return tuple((p, p) for _ in eff)
    if isinstance(padding, Sequence):
        if len(padding) != ndim:
            raise OptionError(f"padding has {len(padding)} entries, expected {ndim} (one per filtered axis)")
        pairs = []
        for item in padding:
            if isinstance(item, Sequence) and not isinstance(item, str):
                if len(item) != 2:
                    raise OptionError(f"padding pair {item!r} must be (before, after)")
                before, after = (_as_int(v, "padding") for v in item)
            else:
                before = after = _as_int(item, "padding")
            if before < 0 or after < 0:
                raise OptionError(f"padding must be >= 0, got {padding!r}")
            pairs.append((before, after))
        return tuple(pairs)
    raise TypeError(f"padding must be a string, an int or a sequence, got {padding!r}")


def spatial_output_size(n: int, before: int, after: int, eff: int, stride: int) -> int:
    """floor((n + before + after - e) / s) + 1, or 0 when no window fits."""
    span = n + before + after - eff
    return span // stride + 1 if span >= 0 else 0


def output_shape(
    input_shape: Sequence[int],
    kernel_shape: Sequence[int],
    *,
    padding: PaddingSpec = "same",
    stride: IntOrTuple = 1,
    dilation: IntOrTuple = 1,
) -> tuple[int, ...]:
    """Shape of ``correlate(image, kernel, ...)`` without computing it.

    The kernel's axes are the image's leading (spatial) axes; any further image
    axes (colour channels) are carried through unchanged.

    Parameters
    ----------
    input_shape, kernel_shape : sequence of int
        Shapes of the image and of the kernel.
    padding : {"same", "valid", "full"}, int or sequence, optional
        As in :func:`imgfilter.correlate`.
    stride, dilation : int or sequence of int, optional
        Per filtered axis, >= 1.

    Returns
    -------
    tuple of int

    Raises
    ------
    ValueError
        If the result would be empty.

    Examples
    --------
    >>> output_shape((7, 7), (3, 3), padding="valid", stride=2)
    (3, 3)
    >>> output_shape((100, 80, 3), (5, 5), padding="same", stride=2)
    (50, 40, 3)
    """
    plan = plan_window(tuple(input_shape), tuple(kernel_shape), padding, stride, dilation)
    return plan.out_shape


class WindowPlan:
    """Where the windows of one sliding-window operation go.

    Attributes
    ----------
    ndim : int
        Number of filtered (spatial) axes: the image's leading axes.
    ksize, stride, dilation, eff : tuple of int
        Per filtered axis.
    pads : tuple of (int, int)
        Padding before/after per filtered axis.
    out_shape : tuple of int
        Full output shape (spatial sizes, then the untouched trailing axes).
    """

    __slots__ = ("dilation", "eff", "in_shape", "ksize", "ndim", "out_shape", "pads", "stride")

    def __init__(self, in_shape, ksize, stride, dilation, eff, pads, out_shape):
        self.in_shape = in_shape
        self.ndim = len(ksize)
        self.ksize = ksize
        self.stride = stride
        self.dilation = dilation
        self.eff = eff
        self.pads = pads
        self.out_shape = out_shape

    @property
    def spatial_out(self) -> tuple[int, ...]:
        return self.out_shape[: self.ndim]

    def band_ranges(self, r0: int, r1: int) -> tuple[tuple[int, int], ...]:
        """Image coordinates (may lie outside it) read by output rows r0..r1-1, all columns."""
        spans = [(r0, r1), *((0, n) for n in self.out_shape[1 : self.ndim])]
        return tuple(
            (o0 * s - p[0], (o1 - 1) * s - p[0] + e)
            for (o0, o1), s, p, e in zip(spans, self.stride, self.pads, self.eff, strict=False)
        )


def plan_window(
    input_shape: tuple[int, ...],
    kernel_shape: tuple[int, ...],
    padding: PaddingSpec,
    stride: IntOrTuple,
    dilation: IntOrTuple,
) -> WindowPlan:
    """Validate the geometry of a sliding window and compute its output shape."""
    kdim = len(kernel_shape)
    if kdim == 0:
        raise OptionError("kernel must have at least one axis")
    if kdim > len(input_shape):
        raise ValueError(
            f"kernel has {kdim} axes but the image only {len(input_shape)} (shape {input_shape})"
        )
    if any(k < 1 for k in kernel_shape):
        raise OptionError(f"kernel must not be empty, got shape {kernel_shape}")
    if any(n < 1 for n in input_shape):
        raise ValueError(f"image must not be empty, got shape {input_shape}")
    strides = per_axis(stride, kdim, "stride")
    dilations = per_axis(dilation, kdim, "dilation")
    eff = tuple(effective_size(k, d) for k, d in zip(kernel_shape, dilations, strict=False))
    pads = resolve_padding(padding, eff)
    spatial = tuple(
        spatial_output_size(n, b, a, e, s)
        for n, (b, a), e, s in zip(input_shape, pads, eff, strides, strict=False)
    )
    if any(n == 0 for n in spatial):
        raise ValueError(
            f"the result would be empty: a kernel of effective size {eff} does not fit "
            f"an image of shape {input_shape[:kdim]} with padding {pads}"
        )
    out_shape = spatial + tuple(input_shape[kdim:])
    return WindowPlan(tuple(input_shape), tuple(kernel_shape), strides, dilations, eff, pads, out_shape)


def check_image(image: object, name: str = "image") -> np.ndarray:
    """Return ``image`` as an array of a supported dtype (never copying needlessly).

    Arrays only: PIL images are read by the filters' dispatcher (the core
    imports nothing from :mod:`imgfilter.io`).
    """
    arr = np.asarray(image)
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if arr.ndim == 0:
        raise ValueError(f"{name} must have at least one axis")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    return arr


def plan_aligned(
    input_shape: tuple[int, ...], kernel_shape: tuple[int, ...], before: tuple[int, ...]
) -> WindowPlan:
    """A stride-1 plan whose output keeps the input's size, with kernel index 0
    reading ``before`` pixels before the output pixel (negative: after it).

    "same" padding is the case ``before = k // 2``; shifts use other offsets.
    """
    kdim = len(kernel_shape)
    pads = tuple((b, k - 1 - b) for b, k in zip(before, kernel_shape, strict=False))
    ones = (1,) * kdim
    return WindowPlan(
        tuple(input_shape), tuple(kernel_shape), ones, ones, tuple(kernel_shape), pads, tuple(input_shape)
    )
