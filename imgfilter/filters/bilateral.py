"""Bilateral filter: a blur whose weights also fall off with intensity difference."""

from __future__ import annotations

import numpy as np

from .. import _engine
from ..core.bounds import check_window
from ..core.buffers import empty
from ..core.dtypes import alpha_max, cast_like, float_dtype
from ..core.footprint import Footprint
from ..core.linear import band_block
from ..core.masked import restore_missing
from ..core.names import OptionError
from ..core.options import normalize_mode, plan_window
from ..core.srgb import decode, encode
from ..core.tiles import Scratch, run_bands
from ._dispatch import dispatch
from ._docs import docfiller


def _radius(diameter: int, sigma_space: float, shape: tuple[int, ...] | None = None) -> int:
    # OpenCV's rule: d <= 0 takes the radius from sigma_space; at least 1.
    r = diameter // 2 if diameter > 0 else int(np.rint(sigma_space * 1.5))
    r = max(r, 1)
    if shape is not None:
        # Windows do not fold (range weights): bounded by core/bounds, before any work.
        h, w = shape[0], shape[1] if len(shape) > 1 else 1
        c = int(np.prod(shape[2:], dtype=np.int64))
        taps = int(np.pi * r * r) + 4 * r + 1  # about the circle's pixels
        name, value = ("diameter", diameter) if diameter > 0 else ("sigma_space", sigma_space)
        band = 2 * r * (w + 2 * r) * max(c, 1) * 12  # min_rows of block, planes and mask
        check_window(
            name, value, outputs=h * w, taps=taps, block_bytes=band, image_bytes=h * w * c, table=taps
        )
    return r


def bilateral_footprint(shape, diameter=9, sigma_color=75.0, sigma_space=75.0, *, mode="reflect", **_):
    r = _radius(int(diameter), float(sigma_space), tuple(shape))
    return Footprint(plan_window(tuple(shape), (2 * r + 1, 2 * r + 1), "same", 1, 1), normalize_mode(mode))


def _fused_linear(arr: np.ndarray, alpha: bool, mask: object) -> bool:
    """Whether linear light can be decoded and encoded inside the bands (no alpha, no mask)."""
    return arr.dtype in (np.uint8, np.uint16) and not alpha and mask is None


@dispatch(
    bilateral_footprint,
    alpha="premultiply",
    missing=True,
    linear="wrap",
    fused=_fused_linear,
    independent=False,
)
@docfiller
def bilateral(
    image: np.ndarray,
    diameter: int = 9,
    sigma_color: float = 75.0,
    sigma_space: float = 75.0,
    *,
    mode: str = "reflect",
    alpha: bool | None = None,
    threads: int | None = None,
    nan: str = "propagate",
    mask: object = None,
    linear: bool = False,
    axes: object = None,
) -> np.ndarray:
    """Edge-preserving bilateral filter, as OpenCV's ``bilateralFilter`` defines it.

    Each output pixel is the weighted mean of a circular window of radius
    ``diameter // 2`` (at least 1; ``diameter=0`` takes
    ``round(1.5 * sigma_space)``), with weight exp(-r² / (2 sigma_space²)) for
    a neighbour at distance r times exp(-d² / (2 sigma_color²)), where d is
    the intensity difference (for colour, the sum of the absolute channel
    differences). Matches ``cv2.bilateralFilter`` within one grey level.

    Parameters
    ----------
    %(image_missing)s
    diameter : int, optional
        Window diameter in pixels, >= 0.
    sigma_color, sigma_space : float, optional
        Range and spatial standard deviations, > 0 (range in the image's
        value units: 0..255 for 8-bit).
    mode : str, optional
        Border mode; the default ``"reflect"`` is OpenCV's BORDER_REFLECT_101.
    alpha : bool, optional
        Whether the last channel is alpha (default: not for a numpy array,
        which is data; yes for a PIL image with an alpha band; see
        :func:`imgfilter.core.alpha.resolve_alpha`).
        Neighbours are weighted by their alpha as well (premultiplied
        colour), alpha is smoothed with the same spatial/range weights, and
        the range difference uses colour only.
    %(threads)s
    nan : {"propagate", "ignore", "keep"}, optional
        ``"ignore"``: missing neighbours weigh nothing; a missing centre
        pixel is filled from its valid neighbours by the spatial weights
        alone (it has no intensity to compare with); NaN where no neighbour
        is valid. ``"keep"`` puts NaN back where it was.
    mask : array_like of bool, optional
        True = valid (spatial shape), any dtype; integer pixels with no
        valid neighbour keep their value.
    %(linear)s
    %(axes)s

    Returns
    -------
    ndarray
        The image's dtype.

    Examples
    --------
    >>> import numpy as np
    >>> step = np.zeros((5, 6), dtype=np.uint8); step[:, 3:] = 200
    >>> bilateral(step, 5, 20.0, 5.0)[2]
    array([  0,   0,   0, 200, 200, 200], dtype=uint8)
    """
    arr = image
    if isinstance(diameter, (bool, np.bool_)) or not isinstance(diameter, (int, np.integer)):
        raise TypeError(f"diameter must be an int, got {diameter!r}")
    if diameter < 0:
        raise OptionError(f"diameter must be >= 0, got {diameter}")
    for name, value in (("sigma_color", sigma_color), ("sigma_space", sigma_space)):
        if not (np.isfinite(value) and value > 0):
            raise OptionError(f"{name} must be > 0, got {value!r}")
    mode = normalize_mode(mode)
    r = _radius(int(diameter), float(sigma_space), arr.shape)
    use_alpha = alpha
    channels = arr.shape[2] if arr.ndim == 3 else 1
    colour_channels = channels - 1 if use_alpha else channels
    m2 = _mask_plane(arr, mask, colour_channels)
    nan_missing = nan != "propagate" and arr.dtype.kind == "f"
    masked = nan_missing or m2 is not None

    # linear=True comes only where _fused_linear holds: each band decoded to
    # float32 light, filtered as the decoded image would be, encoded back.
    fused = bool(linear)
    # The kernel's work type: float32 as OpenCV, float64 for float64 and wide integers.
    dtype = float_dtype(np.dtype(np.float32) if fused else arr.dtype)
    wide = dtype == np.float64
    block_dtype = {"b": np.dtype(np.uint8), "f": dtype}.get(arr.dtype.kind, arr.dtype).newbyteorder("=")
    if fused:
        block_dtype = dtype
    lut = None
    if block_dtype.kind in "iu" and block_dtype.itemsize <= 2:
        # Integer distances index a table of range weights, as OpenCV does.
        span = int(np.iinfo(block_dtype).max) - int(np.iinfo(block_dtype).min)
        d = np.arange(span * colour_channels + 1, dtype=np.float64)
        lut = np.exp(-d * d / (2.0 * sigma_color * sigma_color)).astype(np.float32)
    # Results straight into the image's dtype, or the work type (missing
    # pixels: NaN where a window has nothing; exotic dtypes cast after).
    out_dtype = arr.dtype.newbyteorder("=") if not masked and arr.dtype in _DIRECT else dtype

    # The circular window's offsets in np.nonzero's order, spatial weights in the work type.
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    rows, cols = np.nonzero(np.sqrt(xx * xx + yy * yy) <= r)
    space = np.exp(-(xx * xx + yy * yy) / (2.0 * sigma_space * sigma_space)).astype(dtype)
    taps = (tuple(rows.tolist()), tuple(cols.tolist()), tuple(float(v) for v in space[rows, cols]))
    coeff = float(dtype.type(-0.5 / (sigma_color * sigma_color)))
    amax = alpha_max(dtype if fused else arr.dtype)

    plan = plan_window(arr.shape, (2 * r + 1, 2 * r + 1), "same", 1, 1)
    out = empty(plan.out_shape, dtype=out_dtype)
    h, w = arr.shape[:2]
    source = arr if arr.ndim == 3 else arr[..., None]
    flat = out if out.ndim == 3 else out[..., None]
    bw = w + 2 * r

    scratch = Scratch()

    def work(r0: int, r1: int) -> None:
        if fused:
            # Codes extended (a constant border: code 0, light 0), then decoded.
            codes = band_block(source, plan, r0, r1, mode, 0.0, arr.dtype, scratch)
            block = decode(codes, out=scratch.get("decoded", codes.shape, dtype))
            light = scratch.get("light", flat[r0:r1].shape, dtype)
            _engine.bilateral(
                block, None, light, r1 - r0, w, channels, colour_channels, r,
                False, False, wide, *taps, None, coeff, amax,
            )  # fmt: skip
            encode(light, arr.dtype, out=flat[r0:r1])
            return
        block = band_block(source, plan, r0, r1, mode, 0.0, block_dtype, scratch)
        # Outside the image (constant mode) counts as valid zeros.
        mblock = (
            None if m2 is None else band_block(m2, plan, r0, r1, mode, True, np.dtype(bool)).view(np.uint8)
        )
        _engine.bilateral(
            block, mblock, flat[r0:r1], r1 - r0, w, channels, colour_channels, r,
            use_alpha, nan_missing, wide, *taps, lut, coeff, amax,
        )  # fmt: skip

    # Per output row: the block's row, its planes in the work type, the mask.
    per_pixel = channels * (block_dtype.itemsize + dtype.itemsize) + (dtype.itemsize + 1) * masked
    if fused:
        per_pixel += channels * arr.dtype.itemsize  # the band's codes
    run_bands(
        h,
        bw * per_pixel + out.strides[0],
        work,
        threads=threads,
        min_rows=2 * r,
        memory_cap=2 * arr.nbytes,
    )
    if not masked:
        return cast_like(out, arr.dtype) if out.dtype != arr.dtype else out
    if arr.dtype.kind != "f" or nan == "keep":
        valid = np.ones((h, w), bool) if m2 is None else m2
        if nan_missing:
            valid = valid & ~np.isnan(arr if arr.ndim == 2 else arr[..., :colour_channels]).reshape(
                h, w, -1
            ).any(axis=-1)
        return restore_missing(out, arr, valid, nan)
    return cast_like(out, arr.dtype)


# dtypes the kernel writes itself (rounded and clipped for integers).
_DIRECT = tuple(
    np.dtype(t) for t in (np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.float32, np.float64)
)


def _mask_plane(arr: np.ndarray, mask: object, colour_channels: int) -> np.ndarray | None:
    """``mask=`` as a C-contiguous (H, W) bool plane (True = valid), or None.

    As :func:`~imgfilter.core.masked.validity` reads it (spatial shape, or
    the image's shape); a pixel counts when all its colour channels do.
    """
    if mask is None:
        return None
    m = np.asarray(mask)
    if m.dtype != bool:
        m = m != 0
    if m.shape != arr.shape[: m.ndim]:
        # Depends on the image, so a plain ValueError (not an option error).
        raise ValueError(f"mask has shape {m.shape}, expected the image's spatial shape {arr.shape[:2]}")
    if m.ndim == 3:
        m = m[..., :colour_channels].all(axis=-1)
    m = np.broadcast_to(m.reshape(m.shape + (1,) * (2 - m.ndim)), arr.shape[:2])
    return np.ascontiguousarray(m)
