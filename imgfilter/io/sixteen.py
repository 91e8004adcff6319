"""Exact 16-bit colour where Pillow would keep only 8 bits (PNG, TIFF layouts)."""

from __future__ import annotations

import io
import struct
import sys
import zlib
from typing import Any

import numpy as np

from .decoders import _pillow, _tifffile_pixels
from .errors import ImageError

# Pillow raw modes of 16-bit colour that it decodes to 8 bits (the high bytes).
_SPLIT16 = ("RGB;16B", "RGB;16L", "RGB;16N", "RGBA;16B", "RGBA;16L", "RGBA;16N")


def _tile_raw(im) -> tuple[Any, tuple, str] | None:
    if len(im.tile) != 1:
        return None
    tile = im.tile[0]
    args = tile.args if isinstance(tile.args, tuple) else (tile.args,)
    raw = args[0]
    return (tile, args, raw) if isinstance(raw, str) else None


def _decode_sixteen_bit(im, reopen, data: bytes, source: str = "") -> np.ndarray | None:
    """Exact 16-bit colour (RGB, RGBA, LA) that Pillow would reduce to 8 bits.

    Pillow unfilters and decompresses 16-bit RGB(A) correctly but keeps only
    the high byte; decoding a second time with the byte order swapped yields
    the low bytes. 16-bit grey+alpha PNG rows have the same layout as 8-bit
    RGBA rows, so that file is decoded as RGBA8 and the bytes paired up.
    TIFF layouts Pillow gets wrong go to tifffile (see :func:`_tiff_sixteen`).
    The result is written in place, byte plane by byte plane, so a read
    costs the result plus one 8-bit decode (not five copies of it).
    """
    tiff16 = im.format == "TIFF" and _tiff_multi_sample_16(im)
    if tiff16 and not _pillow_reads_tiff16(im):
        return _tiff_sixteen(im, data, source)
    found = _tile_raw(im)
    if found is None:
        return _tiff_sixteen(im, data, source) if tiff16 else None
    tile, args, raw = found
    if raw in _SPLIT16:
        order = raw[-1]
        if order == "N":
            order = "L" if sys.byteorder == "little" else "B"
        other = raw[:-1] + ("B" if order == "L" else "L")
        w, h = im.size
        out = np.empty((h, w, len(raw.split(";")[0])), dtype=np.uint16)
        planes = out.view(np.uint8).reshape(*out.shape, 2)
        high, low = (1, 0) if sys.byteorder == "little" else (0, 1)
        # The low bytes first, from a second decoder that is freed at once:
        # at most one 8-bit decode is alive beside the result.
        im2 = reopen()
        im2.tile = [tile._replace(args=(other, *args[1:]) if isinstance(tile.args, tuple) else other)]
        im2.load()
        planes[..., low] = np.asarray(im2)
        im2.close()
        del im2
        im.load()
        planes[..., high] = np.asarray(im)
        return out
    if raw == "LA;16B" and data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        Image, _ = _pillow()
        ihdr = bytearray(data[16:29])
        ihdr[8], ihdr[9] = 8, 6  # 8-bit RGBA: same bytes per pixel as 16-bit LA
        crc = struct.pack(">I", zlib.crc32(b"IHDR" + bytes(ihdr)) & 0xFFFFFFFF)
        patched = data[:16] + bytes(ihdr) + crc + data[33:]
        with Image.open(io.BytesIO(patched), formats=["PNG"]) as im2:
            b = np.asarray(im2)
        return b.view(">u2").astype(np.uint16)
    if tiff16:
        return _tiff_sixteen(im, data, source)
    return None


def _tiff_multi_sample_16(im) -> bool:
    tags = im.tag_v2
    bits, kinds = tags.get(258, (1,)), tags.get(339, (1,))
    bits = bits if isinstance(bits, tuple) else (bits,)
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
    # Unsigned integer samples only: Pillow refuses float and signed colour.
    return int(tags.get(277, 1)) > 1 and max(bits, default=1) > 8 and set(kinds) <= {1}


def _pillow_reads_tiff16(im) -> bool:
    """Whether Pillow's split decode is exact for this 16-bit colour TIFF.

    Measured over tifffile-written files: Pillow is exact for chunky
    (contiguous) samples when libtiff decodes them (compressed) or when
    there is one strip; uncompressed multi-strip, tiled and planar files
    come out 8-bit or scrambled.
    """
    tags = im.tag_v2
    if int(tags.get(284, 1)) != 1:
        return False
    if int(tags.get(259, 1)) != 1:
        return True
    offsets = tags.get(324, tags.get(273, ()))
    return not isinstance(offsets, tuple) or len(offsets) == 1


def _tiff_sixteen(im, data: bytes, source: str) -> np.ndarray:
    """A 16-bit colour TIFF through tifffile; refused in one line without it."""
    tags = im.tag_v2
    photometric, spp = int(tags.get(262, 2)), int(tags.get(277, 1))
    if not ((photometric == 1 and spp == 2) or (photometric == 2 and spp in (3, 4))):
        raise ImageError(
            f"{source}: a 16-bit TIFF with {spp} samples of photometric type {photometric} is not read"
        )
    try:
        import tifffile
    except ImportError:
        raise ImageError(f"{source}: this 16-bit TIFF layout needs tifffile: pip install tifffile") from None
    with tifffile.TiffFile(io.BytesIO(data)) as tif:
        page = tif.pages[0]
        axes = page.axes
        arr = _tifffile_pixels(page, source)
    if axes.startswith("S"):
        arr = np.moveaxis(arr, 0, -1)
    if arr.ndim != 3 or arr.shape[2] != spp or arr.dtype.kind != "u" or arr.dtype.itemsize != 2:
        raise ImageError(f"{source}: cannot read a TIFF of {arr.dtype} samples with axes {axes!r}")
    return np.ascontiguousarray(arr, dtype=np.uint16)
