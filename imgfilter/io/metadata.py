"""What of a file's metadata an output keeps: hints from the reader, profiles and DPI fitted to the writer."""

from __future__ import annotations

import contextlib
import struct
from typing import Any

import numpy as np

from .errors import warn
from .picture import Picture

# ---------------------------------------------------------------- metadata of the output


def write_hints(im, data: bytes = b"") -> dict[str, Any]:
    """What an output should keep of a decoded file besides ICC, EXIF and DPI (``Picture.extra``).

    ``xmp`` (bytes), ``comment`` (bytes: JPEG COM, GIF comment, PNG
    "Comment"), ``text`` (the other PNG text chunks), ``jpeg`` (the
    quantization tables, chroma subsampling and progressiveness of a JPEG,
    which a JPEG output reuses) and ``webp_lossless``.
    """
    hints: dict[str, Any] = {}
    info = im.info
    text: dict[str, str] = {}
    if im.format == "PNG":
        with contextlib.suppress(Exception):
            text = {str(k): str(v) for k, v in im.text.items()}
    xmp = info.get("xmp") or text.pop("XML:com.adobe.xmp", None)
    text.pop("XML:com.adobe.xmp", None)
    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8")
    if isinstance(xmp, tuple):  # some TIFF writers store tag 700 as a tuple of bytes
        xmp = bytes(xmp)
    if isinstance(xmp, bytes) and xmp.strip(b"\x00 \n"):
        hints["xmp"] = xmp
    comment = info.get("comment")
    if comment is None and "Comment" in text:
        comment = text.pop("Comment")
    if isinstance(comment, str):
        comment = comment.encode("utf-8")
    if isinstance(comment, bytes) and comment:
        hints["comment"] = comment
    if text:
        hints["text"] = text
    if im.format == "JPEG":
        with contextlib.suppress(Exception):
            from PIL import JpegImagePlugin

            hints["jpeg"] = {
                "qtables": {k: list(v) for k, v in im.quantization.items()},
                "subsampling": JpegImagePlugin.get_sampling(im),
                "progressive": bool(info.get("progressive") or info.get("progression")),
            }
    if im.format == "WEBP" and _webp_is_lossless(data):
        hints["webp_lossless"] = True
    return hints


def _webp_is_lossless(data: bytes) -> bool:
    """Whether a WebP file's image is coded losslessly (a VP8L chunk, not VP8)."""
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return False
    at = 12
    while at + 8 <= len(data):
        kind, size = data[at : at + 4], struct.unpack("<I", data[at + 4 : at + 8])[0]
        if kind == b"VP8L":
            return True
        if kind == b"VP8 ":
            return False
        at += 8 + size + (size & 1)
    return False


def _icc_fits(icc: bytes, channels: int) -> bool:
    """Whether an ICC profile's colour space (header bytes 16..20) suits the output's channels.

    A grey result of a colour image must not carry the RGB profile (libpng
    and vips warn, colour management fails), nor an RGB result a grey or
    CMYK one. A header too short to tell is kept.
    """
    if len(icc) < 20:
        return True
    space = icc[16:20]
    if space == b"GRAY":
        return channels in (1, 2)
    if space == b"RGB ":
        return channels in (3, 4)
    return space != b"CMYK"  # read converts CMYK to RGB: its profile never fits


def icc_for_output(icc: bytes | None, channels: int) -> bytes | None:
    """The ICC profile to write with ``channels``-channel pixels: None when its colour space does not fit."""
    return icc if icc and _icc_fits(icc, channels) else None


# Largest DPI each writer's field holds (PNG and BMP: pixels per metre in
# 31 bits; JPEG: 16-bit dots per inch; our 16-bit TIFF: thousandths in 32 bits).
_DPI_MAX = {"PNG": (2**31 - 1) * 0.0254, "BMP": (2**31 - 1) * 0.0254, "JPEG": 65535.0, "TIFF": 4294967.0}


def _fit_dpi(fmt: str, dpi: tuple[float, float] | None, where: str) -> tuple[float, float] | None:
    """The DPI if the format's field holds it; else None, with a one-line ImageWarning."""
    if not dpi:
        return None
    top = _DPI_MAX.get(fmt, float("inf"))
    ok = all(np.isfinite(d) and d > 0 and d <= top for d in dpi)
    if fmt in ("PNG", "BMP"):
        ok = ok and all(round(d / 0.0254) >= 1 for d in dpi)
    if fmt == "JPEG":
        ok = ok and all(round(d) >= 1 for d in dpi)
    if not ok:
        warn(f"{where}: DPI {tuple(dpi)} does not fit {fmt}'s resolution field; written without DPI")
        return None
    return dpi


def _output_metadata(
    pic: Picture | None, fmt: str, channels: int, *, strip: bool, strip_icc: bool, where: str
) -> Picture | None:
    """``pic``'s metadata as this output keeps it: stripped as asked, fitted to the format."""
    if pic is None:
        return None
    strip = strip or strip_icc  # --strip-icc implies --strip
    keep = ("jpeg", "webp_lossless")  # how the source was coded, not metadata
    extra = {k: v for k, v in pic.extra.items() if not strip or k in keep}
    return Picture(
        pixels=pic.pixels,
        alpha=pic.alpha,
        icc_profile=None if strip_icc else icc_for_output(pic.icc_profile, channels),
        exif=None if strip else pic.exif,
        dpi=_fit_dpi(fmt, pic.dpi, where),
        source=pic.source,
        extra=extra,
    )


def _jpeg_options(
    meta: Picture | None, channels: int, quality: int | None, subsampling: str | int | None
) -> dict[str, Any]:
    """JPEG settings: the input JPEG's own tables and subsampling unless told otherwise."""
    source = meta.extra.get("jpeg") if meta is not None else None
    kwargs: dict[str, Any] = {}
    if quality is not None:
        kwargs["quality"] = quality
    elif source and source.get("qtables"):
        # The very tables of the input, so an unchanged image re-encodes at
        # its own quality (Pillow's quality="keep" needs the same image object).
        kwargs["qtables"] = source["qtables"]
    else:
        kwargs["quality"] = 95
    if channels >= 3:
        if subsampling is not None:
            kwargs["subsampling"] = subsampling
        elif source and source.get("subsampling", -1) in (0, 1, 2):
            kwargs["subsampling"] = source["subsampling"]
    if source and source.get("progressive"):
        kwargs["progressive"] = True
    return kwargs
