"""The float-to-file rule: which scale a result is on and how it becomes file values."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.names import OptionError
from .formats import BY_NAME

# ---------------------------------------------------------------- value rule


SCALES = ("clip", "abs", "offset", "stretch")
DEPTHS = ("8", "16", "float")


def value_max(dtype: np.dtype | str) -> float:
    """Top of the value scale: 255, 65535, or 1.0 for floats."""
    if isinstance(dtype, str):
        return {"8": 255.0, "16": 65535.0, "float": 1.0}[dtype]
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return 1.0
    return float(np.iinfo(dtype).max) if dtype.kind in "iu" else 1.0


def to_file_dtype(
    values: np.ndarray,
    *,
    depth: str,
    source_max: float,
    scale: str = "clip",
    span: tuple[float, float] | None = None,
) -> np.ndarray:
    """The float-to-file rule.

    ``values`` are in the source image's scale (0..``source_max``); the
    result is uint8, uint16 or float32 for ``depth`` "8", "16", "float":

    - ``clip`` (default): rescale to the output range (only when the depth
      changes), round to nearest, clip. Never wraps: 300 is 255, -5 is 0.
    - ``abs``: the absolute value, then as ``clip``.
    - ``offset``: signed values around mid-grey (0 becomes 128 in 8 bits).
    - ``stretch``: the minimum to 0 and the maximum to the top of the range.

    Float output keeps the values' own scale (``clip`` does not clip,
    ``offset`` adds half the source range, ``stretch`` maps to 0..source_max).
    ``span`` gives ``stretch`` the (min, max) of the whole image when
    ``values`` is only a part of it (a chunk).
    """
    if scale not in SCALES:
        raise OptionError(f"scale={scale!r} is not valid; use one of {', '.join(SCALES)}")
    top = value_max(depth)
    # Rounding and clipping a float32 value are exact in float32; any
    # arithmetic first (rescale, offset, stretch) runs in float64, so a value
    # near .5 rounds as the exact rule says.
    exact32 = (
        values.dtype.itemsize <= 4 and scale in ("clip", "abs") and (source_max == top or depth == "float")
    )
    work = np.dtype(np.float32 if exact32 else np.float64)
    if depth == "float":
        # Float files keep the result's own scale: nothing is rescaled.
        top = source_max
    if scale == "stretch" and span is None:
        span = _finite_span_banded(values, work)
    out = np.empty(values.shape, dtype=_DEPTH_DTYPE[depth])
    # Band by band through one small scratch buffer: a whole-array float copy
    # (100 MB for a 4K RGB float32 result) plus a NaN mask costs more in
    # first-touch page faults than the arithmetic itself, and makes the peak.
    # Every step is elementwise, so the bytes are those of the whole-array rule.
    scratch = np.empty(min(BAND, max(values.size, 1)), dtype=work)
    holes = np.empty(scratch.size, dtype=bool)
    for src, dst in _bands(values, out):
        n = src.size
        if n > scratch.size:  # one row longer than a band (non-contiguous input)
            scratch = np.empty(n, dtype=work)
            holes = np.empty(n, dtype=bool)
        v = scratch[:n].reshape(src.shape)
        np.copyto(v, src, casting="unsafe")
        _convert_band(
            v,
            holes[:n].reshape(src.shape),
            depth=depth,
            top=top,
            source_max=source_max,
            scale=scale,
            span=span,
        )
        np.copyto(dst, v, casting="unsafe")
    return out


#: Elements converted at a time: 1 MB of float64 scratch, small enough to stay
#: in cache, large enough that numpy's per-call overhead is noise.
BAND = 1 << 17


def _bands(values: np.ndarray, out: np.ndarray):
    """Matching (source, destination) views of at most about :data:`BAND` elements."""
    if values.size == 0:
        return
    if values.flags.c_contiguous:
        flat_in, flat_out = values.reshape(-1), out.reshape(-1)
        for start in range(0, values.size, BAND):
            yield flat_in[start : start + BAND], flat_out[start : start + BAND]
        return
    if values.ndim == 0:
        yield values, out
        return
    row = values.size // values.shape[0]
    step = max(1, BAND // row)
    for start in range(0, values.shape[0], step):
        yield values[start : start + step], out[start : start + step]


def _convert_band(
    v: np.ndarray,
    holes: np.ndarray,
    *,
    depth: str,
    top: float,
    source_max: float,
    scale: str,
    span: tuple[float, float] | None,
) -> None:
    """The float-to-file arithmetic on one band of work values, in place."""
    work = v.dtype.type
    if scale == "stretch":
        lo, hi = span
        if hi > lo:
            v -= work(lo)
            v *= work(top / (hi - lo))
        else:
            v[...] = 0
    else:
        if source_max != top:
            v *= work(top / source_max)
        if scale == "abs":
            np.abs(v, out=v)
        elif scale == "offset":
            v += work((top + 1) / 2 if top > 1 else 0.5)
    if depth == "float":
        return
    np.rint(v, out=v)
    np.clip(v, 0, top, out=v)  # +-inf land on the ends
    np.isnan(v, out=holes)
    if holes.any():
        np.copyto(v, 0, where=holes)


def _finite_span_banded(values: np.ndarray, work: np.dtype) -> tuple[float, float]:
    """:func:`finite_span` of ``values.astype(work)`` without the whole-array copy."""
    lo, hi = np.inf, -np.inf
    scratch = np.empty(min(BAND, max(values.size, 1)), dtype=work)
    for src, _ in _bands(values, values):
        if src.size > scratch.size:
            scratch = np.empty(src.size, dtype=work)
        v = scratch[: src.size].reshape(src.shape)
        np.copyto(v, src, casting="unsafe")
        finite = v[np.isfinite(v)]
        if finite.size:
            lo, hi = min(lo, float(finite.min())), max(hi, float(finite.max()))
    return (lo, hi) if lo <= hi else (0.0, 0.0)


def finite_span(values: np.ndarray) -> tuple[float, float]:
    """(min, max) of the finite values, (0, 0) if there are none."""
    finite = values[np.isfinite(values)]
    return (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)


def file_pixels(
    arr: np.ndarray,
    *,
    fmt: str,
    depth: str,
    scale: str,
    source_max: float,
    alpha: bool | None,
    span: tuple[float, float] | None = None,
) -> np.ndarray:
    """The pixels as the file stores them: the float-to-file rule on colour, alpha rescaled."""
    if fmt == "NPY" and depth == "float" and scale == "clip" and arr.dtype.kind == "f":
        return arr  # .npy keeps the result exactly
    if arr.dtype == _DEPTH_DTYPE.get(depth) and scale == "clip" and source_max == value_max(depth):
        return arr
    if alpha is None:
        alpha = arr.ndim == 3 and arr.shape[2] in (2, 4)
    if alpha and scale != "clip":
        # The scale is for colour (stretch looks at colour alone); alpha
        # is only brought to the output's range.
        colour = to_file_dtype(arr[..., :-1], depth=depth, source_max=source_max, scale=scale, span=span)
        a = to_file_dtype(arr[..., -1:], depth=depth, source_max=source_max)
        return np.concatenate([colour, a], axis=-1)
    return to_file_dtype(arr, depth=depth, source_max=source_max, scale=scale, span=span)


def default_source_max(source_depth: str, has_metadata: bool = True) -> float:
    """Full scale of a result whose source had ``source_depth`` (see :func:`source_scale`).

    ``has_metadata`` is kept for callers of the old signature; it no longer
    changes the answer: a float source is on 0..1 whether it came from a
    file or from Python.
    """
    return value_max(source_depth)


def source_scale(array: Any, source_depth: Any = None) -> tuple[str, float]:
    """(depth, full scale) of the image whose values ``array`` holds: the one rule of
    the CLI, :func:`imwrite` and the gallery.

    ``source_depth`` names the image a result came from: "8" (0..255), "16"
    (0..65535), "float" (0..1), or that image itself (or its dtype), whose
    depth is then found by this same rule. Without it, ``array`` is its own
    source: uint8 is "8", uint16 "16", float "float" (0..1, as float files
    are read), bool "8" with True as full scale; other integer types hold
    codes taken as they are, "8" if every value lies in 0..255, else "16"
    (without values to look at, such as a dtype or a Dask array: "8" for
    1-byte types, else "16").
    """
    if source_depth is not None:
        if isinstance(source_depth, str):
            if source_depth not in DEPTHS:
                raise OptionError(f"source_depth={source_depth!r}; use one of {', '.join(DEPTHS)}")
            return source_depth, value_max(source_depth)
        if hasattr(source_depth, "dtype") and not isinstance(source_depth, type):
            return source_scale(source_depth)  # the source image itself
        return source_scale(np.empty(0, dtype=np.dtype(source_depth)))
    dtype = np.dtype(array.dtype)
    if dtype.kind == "b":
        return "8", 1.0
    if dtype.kind == "f":
        return "float", 1.0
    if dtype.kind not in "iu":
        raise TypeError(f"cannot write values of type {dtype} as an image")
    if dtype == np.uint8:
        return "8", 255.0
    if dtype == np.uint16:
        return "16", 65535.0
    if isinstance(array, np.ndarray) and array.size:
        depth = "8" if array.min() >= 0 and array.max() <= 255 else "16"
    else:
        depth = "8" if dtype.itemsize == 1 else "16"
    return depth, value_max(depth)


_DEPTH_DTYPE = {"8": np.dtype(np.uint8), "16": np.dtype(np.uint16), "float": np.dtype(np.float32)}


def _array_depth(arr: np.ndarray) -> str:
    return source_scale(arr)[0]


def default_depth(fmt: str, source_depth: str, result_dtype: np.dtype | None = None) -> str:
    """The source's depth where the format holds it.

    A float source (float TIFF, or a float array from Python) stays float in
    .npy and grey TIFF and becomes 8-bit elsewhere. A 16-bit source is never
    reduced silently: writing it to an 8-bit-only format is refused unless
    ``depth="8"`` asks for it.
    """
    if fmt == "NPY":
        # .npy keeps a float result exactly, whatever the source was.
        float_result = result_dtype is not None and np.dtype(result_dtype).kind == "f"
        return "float" if source_depth == "float" or float_result else source_depth
    if source_depth == "float":
        return "float" if BY_NAME[fmt].float else "8"
    return source_depth
