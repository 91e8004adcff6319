"""imwrite: an array to an image file, atomically, by the CLI's own rule."""

from __future__ import annotations

import os
import struct
from typing import Any

import numpy as np

from ..core.names import OptionError
from . import encoders
from .atomic import atomic_output
from .encoders import SUBSAMPLINGS
from .errors import ImageError
from .formats import check_depth, format_for
from .picture import Picture
from .values import default_depth, file_pixels, source_scale

# Float rounding of a 0..1 image's filters (a Gaussian's taps sum to 1 within
# float32 rounding) may overshoot 1 by this much; anything above is a scale
# the array does not say.
_FLOAT_TOP = 1.0 + 2.0**-10


def imwrite(
    path: str | os.PathLike,
    array: np.ndarray,
    *,
    format: str | None = None,
    depth: str | None = None,
    scale: str = "clip",
    source_depth: Any = None,
    source_max: float | None = None,
    metadata: Picture | None = None,
    alpha: bool | None = None,
    quality: int | None = None,
    subsampling: str | None = None,
    lossless: bool = False,
    compression: int | None = None,
    strip: bool = False,
    strip_icc: bool = False,
) -> None:
    """Write an array as an image file, atomically, by the CLI's own rule.

    The values' scale is that of the image they came from (the *source*):
    0..255 for 8-bit, 0..65535 for 16-bit, 0..1 for float images. The CLI
    knows the source (the input file); here ``source_depth`` (or
    ``metadata``) tells it, and without either the array is its own source
    (:func:`source_scale`): uint8 is on 0..255, uint16 on 0..65535, floats
    on 0..1 (as :func:`imread` returns float files), bool False/True is
    black/white, and other integer arrays hold codes written as they are
    (8-bit if all lie in 0..255, else 16-bit). So a filter's float result
    of an 8-bit image needs ``source_depth="8"`` (or the image itself): a
    float array with values above 1 and no source (no ``source_depth``,
    ``source_max`` or ``metadata``) is refused with an OptionError instead
    of being clipped to white, unless ``scale="stretch"`` or a float
    output (.npy, float TIFF) makes the scale irrelevant. Then the
    float-to-file rule (:func:`to_file_dtype`) converts to the output depth.

    Parameters
    ----------
    path : str or PathLike
        Output file; its extension picks the format unless ``format`` does.
        ``"-"`` writes PNG (or ``format``) to standard output. A symlink is
        followed (its target replaced, the link kept); a FIFO or character
        device is written through.
    array : ndarray
        (H, W) or (H, W, C) with C in 1..4 (2 and 4 carry alpha), of a real
        (bool, integer or float) type; complex arrays raise TypeError.
    depth : {"8", "16", "float"}, optional
        Output depth; default the source's where the format holds it (a
        float source stays float in .npy/.tif and is 8-bit elsewhere; a
        16-bit source to an 8-bit-only format is refused).
    scale : {"clip", "abs", "offset", "stretch"}, optional
        The float-to-file rule, see :func:`to_file_dtype`.
    source_depth : {"8", "16", "float"}, ndarray or dtype, optional
        The source image (or its depth or dtype) whose scale ``array``'s
        values are on. Default: ``metadata``'s pixels, else ``array``.
    source_max : float, optional
        The value that means full scale in ``array``; overrides the scale
        ``source_depth`` gives.
    metadata : Picture, optional
        ICC profile, EXIF, DPI, XMP, comments and JPEG settings to keep
        (from :func:`read_image`); its pixels are the source.
    alpha : bool, optional
        Whether the last channel is alpha (default: 2 or 4 channels). Alpha
        is only rescaled and clipped; ``scale`` applies to colour.
    quality, subsampling, lossless : optional
        JPEG/WebP quality 1-100, JPEG chroma subsampling "4:4:4", "4:2:2"
        or "4:2:0", lossless WebP; see :func:`encode` for the defaults.

    Raises
    ------
    OptionError
        A float array with values above 1 and no source (see above).
    ImageError
        One line naming ``path``. Writing to a standard output whose reader
        has gone raises BrokenPipeError, as ``print`` does.

    Examples
    --------
    >>> import numpy as np, imgfilter, tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> ramp = os.path.join(folder, "ramp.png")
    >>> imgfilter.imwrite(ramp, np.linspace(0.0, 1.0, 5)[None])  # float: 0..1
    >>> imgfilter.imread(ramp).tolist()
    [[0, 64, 128, 191, 255]]
    >>> edges = os.path.join(folder, "edges.png")  # say sobel() of an 8-bit image
    >>> imgfilter.imwrite(edges, np.array([[-5.0, 127.6, 300.0]]), source_depth="8")
    >>> imgfilter.imread(edges).tolist()
    [[0, 128, 255]]
    >>> imgfilter.imwrite(edges, np.array([[-5.0, 127.6, 300.0]]))  # which scale? not a guess
    Traceback (most recent call last):
    ...
    imgfilter.core.names.OptionError: ...edges.png: float values up to 300 are beyond a float image's 0..1 scale; ...
    >>> codes = os.path.join(folder, "codes.png")  # int64 codes are written as they are
    >>> imgfilter.imwrite(codes, np.array([[0, 255], [255, 0]]))
    >>> imgfilter.imread(codes).dtype.name, imgfilter.imread(codes).tolist()
    ('uint8', [[0, 255], [255, 0]])
    """
    name = os.fspath(path)
    arr = np.asarray(array)
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"{name}: cannot write an array of {arr.dtype} as an image"
            + (" (take .real, .imag or abs() first)" if arr.dtype.kind == "c" else "")
        )
    write_array(
        name,
        arr,
        format_for(name, format),
        depth=depth,
        scale=scale,
        source_depth=source_depth,
        source_max=source_max,
        metadata=metadata,
        alpha=alpha,
        quality=quality,
        subsampling=subsampling,
        lossless=lossless,
        compression=compression,
        strip=strip,
        strip_icc=strip_icc,
    )


def write_array(
    name: str,
    arr: np.ndarray,
    fmt: str,
    *,
    depth: str | None = None,
    scale: str = "clip",
    source_depth: Any = None,
    source_max: float | None = None,
    metadata: Picture | None = None,
    alpha: bool | None = None,
    quality: int | None = None,
    subsampling: str | None = None,
    lossless: bool = False,
    compression: int | None = None,
    strip: bool = False,
    strip_icc: bool = False,
) -> None:
    """:func:`imwrite` of a real array in a format already resolved (the run resolves it once per job)."""
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and not 1 <= arr.shape[2] <= 4):
        raise ImageError(f"{name}: cannot write an array of shape {arr.shape} as an image")
    if subsampling is not None and subsampling not in SUBSAMPLINGS:
        raise OptionError(f"subsampling={subsampling!r}; use one of {', '.join(SUBSAMPLINGS)}")
    if source_depth is None and metadata is not None:
        source_depth = metadata.pixels
    src_depth, full_scale = source_scale(arr, source_depth)
    if depth is None:
        depth = default_depth(fmt, src_depth, arr.dtype)
    check_depth(name, fmt, depth)
    if source_max is None:
        source_max = full_scale
        if src_depth == "float" and source_depth is None and depth != "float" and scale != "stretch":
            _refuse_unknown_scale(name, arr, scale)
    pixels = file_pixels(arr, fmt=fmt, depth=depth, scale=scale, source_max=source_max, alpha=alpha)
    write_file_pixels(
        name,
        pixels,
        fmt,
        metadata,
        quality=quality,
        subsampling=subsampling,
        lossless=lossless,
        compression=compression,
        strip=strip,
        strip_icc=strip_icc,
    )


class RowsFailed(Exception):
    """Computing the rows an encoder waits for failed: ``error`` is why (raised by the caller as it is)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


def write_file_pixels(
    name: str,
    pixels: np.ndarray,
    fmt: str,
    metadata: Picture | None = None,
    *,
    quality: int | None = None,
    subsampling: str | None = None,
    lossless: bool = False,
    compression: int | None = None,
    strip: bool = False,
    strip_icc: bool = False,
    ready=None,
) -> None:
    """File-ready pixels (see :func:`file_pixels`) to ``name``, atomically; errors as :func:`imwrite`'s.

    ``ready`` is :func:`~imgfilter.io.encoders.encode`'s: rows still being
    computed. What it raises leaves as it is (the temporary file removed).
    """
    try:
        with atomic_output(name) as fh:
            encoders.encode(
                fh,
                pixels,
                fmt,
                metadata,
                quality=quality,
                compression=compression,
                strip=strip,
                strip_icc=strip_icc,
                subsampling=subsampling,
                lossless=lossless,
                where=name,
                ready=ready,
            )
    except RowsFailed:
        raise
    except ImageError as exc:
        msg = str(exc)
        raise ImageError(msg if msg.startswith(name) else f"{name}: {msg}") from None
    except BrokenPipeError:
        if name == "-":
            raise  # the reader of our standard output is gone: the caller decides (the CLI exits 1 quietly)
        raise ImageError(f"{name}: cannot write (its reader closed it)") from None
    except OSError as exc:
        raise ImageError(f"{name}: cannot write ({exc.strerror or exc})") from None
    except (ValueError, TypeError, KeyError, OverflowError, struct.error) as exc:
        raise ImageError(f"{name}: cannot encode as {fmt} ({exc})") from None


def _refuse_unknown_scale(name: str, arr: np.ndarray, scale: str) -> None:
    """A float array with values above 1 and no source: which scale it is on is the caller's
    to say, never a guess (sobel() of an 8-bit image is on 0..255; of a float image, on 0..1).

    The CLI always knows the source (the input file), so it never gets here.
    """
    if not arr.size:
        return
    # "abs" and "offset" show negative values too, so their size counts.
    values = np.abs(arr) if scale in ("abs", "offset") else arr
    high = float(np.max(values, initial=-np.inf, where=np.isfinite(values)))
    if high > _FLOAT_TOP:
        raise OptionError(
            f"{name}: float values up to {high:.6g} are beyond a float image's 0..1 scale; say which "
            "scale they are on: source_depth='8' (a result of an 8-bit image, 0..255), '16' (0..65535), "
            "'float' (0..1, higher values clip to white), the source image itself, source_max=, or "
            "scale='stretch'"
        )
