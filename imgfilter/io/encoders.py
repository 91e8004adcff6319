"""Encoding file-ready pixels as a format (our own PNG and 16-bit TIFF writers, Pillow for the rest)."""

from __future__ import annotations

import struct
import zlib
from collections import deque
from typing import Any, BinaryIO

import numpy as np

from ..core.tiles import default_threads, worker_pool
from .decoders import _pillow
from .errors import ImageError
from .formats import DEFAULT_COMPRESSION
from .metadata import _jpeg_options, _output_metadata
from .picture import Picture
from .png import SIGNATURE as PNG_SIGNATURE
from .png import chunk as _png_chunk


def _png_text(keyword: str, text: str | bytes) -> bytes:
    """A tEXt chunk where Latin-1 holds the text, else an uncompressed UTF-8 iTXt chunk."""
    key = keyword.encode("latin-1", "replace")[:79] or b"Comment"
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            text = text.decode("latin-1")
    try:
        return _png_chunk(b"tEXt", key + b"\x00" + text.encode("latin-1"))
    except UnicodeEncodeError:
        return _png_chunk(b"iTXt", key + b"\x00\x00\x00\x00\x00" + text.encode("utf-8"))


def _write_png(fh: BinaryIO, pixels: np.ndarray, pic: Picture | None, level: int, ready=None) -> None:
    """PNG of 8- or 16-bit grey, grey+alpha, RGB or RGBA, with ICC, DPI, EXIF, XMP and text.

    Our own encoder: Pillow writes 16-bit grey only, and its adaptive row
    filters make 8-bit writes about twice as slow as this one. Every row
    uses filter type 2 (Up), one vectorized subtraction, which compresses
    about as well. ``pic``'s metadata is taken as already fitted to the
    output (see :func:`encode`).
    """
    h, w = pixels.shape[:2]
    c = 1 if pixels.ndim == 2 else pixels.shape[2]
    colour_type = {1: 0, 2: 4, 3: 2, 4: 6}[c]
    depth = 16 if pixels.dtype == np.uint16 else 8
    head = [
        PNG_SIGNATURE,
        _png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, colour_type, 0, 0, 0)),
    ]
    if pic is not None and pic.icc_profile:
        head.append(_png_chunk(b"iCCP", b"icc\x00\x00" + zlib.compress(pic.icc_profile)))
    if pic is not None and pic.dpi:
        ppm = [round(d / 0.0254) for d in pic.dpi]
        head.append(_png_chunk(b"pHYs", struct.pack(">IIB", ppm[0], ppm[1], 1)))
    if pic is not None and pic.exif:
        exif = pic.exif[6:] if pic.exif.startswith(b"Exif\x00\x00") else pic.exif
        head.append(_png_chunk(b"eXIf", exif))
    extra = pic.extra if pic is not None else {}
    if extra.get("xmp"):
        head.append(_png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + extra["xmp"]))
    if extra.get("comment"):
        head.append(_png_text("Comment", extra["comment"]))
    for key, value in extra.get("text", {}).items():
        head.append(_png_text(key, value))
    # One IDAT chunk, as before, but neither the filtered rows nor the whole
    # compressed stream is built at once: rows are filtered and compressed a
    # band at a time, and the pieces go to the file one by one (the chunk's
    # length and CRC are summed over them).
    pieces = list(_png_idat_pieces(pixels, h, depth, level, ready))
    size = sum(len(p) for p in pieces)
    crc = zlib.crc32(b"IDAT")
    for p in pieces:
        crc = zlib.crc32(p, crc)
    head.append(struct.pack(">I", size) + b"IDAT")
    fh.write(b"".join(head))
    for p in pieces:
        fh.write(p)
    fh.write(struct.pack(">I", crc & 0xFFFFFFFF) + _png_chunk(b"IEND", b""))


#: Bytes of filtered rows compressed at a time.
_PNG_BAND = 1 << 20


def _zlib_header(level: int) -> bytes:
    """The two bytes zlib itself starts a ``level`` stream with (32 KiB window, no dictionary)."""
    flevel = 0 if level < 2 else 1 if level < 6 else 2 if level == 6 else 3
    flg = flevel << 6
    flg |= 31 - (0x78 * 256 + flg) % 31
    return bytes((0x78, flg))


def _deflate_band(data: memoryview, last: bool, level: int) -> bytes:
    """One band's raw deflate blocks, ending byte-aligned (a sync flush) so
    the next band's blocks follow them, or ending the stream."""
    z = zlib.compressobj(level, zlib.DEFLATED, -15)
    return z.compress(data) + z.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


def _png_idat_pieces(pixels: np.ndarray, h: int, depth: int, level: int, ready=None):
    """The zlib stream of the Up-filtered rows, in pieces, a band of rows at a time.

    ``ready(n)``, if given, returns once rows ``0..n`` of ``pixels`` hold
    their values: the rows are compressed while later ones are computed.

    Bands are compressed on the shared worker pool (``IMGFILTER_THREADS``),
    pigz style: each is a run of raw deflate blocks closed by a sync flush,
    so the pieces concatenate into one stream; one zlib header and the
    Adler-32 of all the rows frame it. (Priming each band with the 32 KiB
    before it, as pigz does, saved 0.05-0.13% on 4K photos: not worth a
    copy per band.) The bands are a fixed size, so the file's bytes do not
    depend on the thread count; an image of one band is exactly
    ``zlib.compress``'s stream.
    """
    flat = pixels.reshape(h, -1)
    row_bytes = flat.shape[1] * (2 if depth == 16 else 1)
    prev = np.zeros(row_bytes, dtype=np.uint8)  # the Up filter of the first row subtracts zero
    if level == 0:
        # Stored blocks: zlib cuts them where its input and output buffers
        # end, so only one whole-image call gives the bytes that files written
        # so far have; memory is the user's choice there.
        if ready is not None:
            ready(h)
        yield zlib.compress(_up_filtered(flat, prev, depth).data, 0)
        return
    step = max(1, _PNG_BAND // (row_bytes + 1))
    threads = default_threads()
    pool = worker_pool(threads) if threads > 1 and h > step else None
    in_flight: deque = deque()
    adler = 1
    yield _zlib_header(level)
    for start in range(0, h, step):
        if ready is not None:
            ready(min(h, start + step))
        raw = _up_filtered(flat[start : start + step], prev, depth)
        adler = zlib.adler32(raw.data, adler)
        last = start + step >= h
        if pool is None:
            yield _deflate_band(raw.data, last, level)
        else:
            in_flight.append(pool.submit(_deflate_band, raw.data, last, level))
            # A few bands in flight keep every worker busy, memory bounded.
            while len(in_flight) > threads:
                yield in_flight.popleft().result()
    while in_flight:
        yield in_flight.popleft().result()
    yield struct.pack(">I", adler & 0xFFFFFFFF)


def _up_filtered(band: np.ndarray, prev: np.ndarray, depth: int) -> np.ndarray:
    """The rows of ``band`` as PNG filter-type-2 (Up) lines, flat in a fresh
    array; ``prev`` (the row above the band) becomes the band's last row."""
    rows = (band.astype(">u2") if depth == 16 else np.ascontiguousarray(band)).view(np.uint8)
    n = rows.shape[0]
    raw = np.empty((n, rows.shape[1] + 1), dtype=np.uint8)
    raw[:, 0] = 2
    out = raw[:, 1:]
    np.subtract(rows[:1], prev, out=out[:1])
    np.subtract(rows[1:], rows[:-1], out=out[1:])
    prev[...] = rows[-1]
    return raw.reshape(-1)


def _write_tiff16(fh: BinaryIO, pixels: np.ndarray, pic: Picture | None, level: int) -> None:
    """16-bit colour TIFF (Pillow writes 16-bit grey only): one deflate strip, ICC, DPI and XMP kept."""
    h, w, c = pixels.shape
    alpha = c in (2, 4)
    data = zlib.compress(np.ascontiguousarray(pixels, dtype="<u2").tobytes(), level)
    entries: list[tuple[int, int, int, bytes]] = []  # tag, type, count, payload

    def short(tag: int, *values: int) -> None:
        entries.append((tag, 3, len(values), struct.pack(f"<{len(values)}H", *values)))

    def long(tag: int, value: int) -> None:
        entries.append((tag, 4, 1, struct.pack("<I", value)))

    long(256, w)
    long(257, h)
    short(258, *([16] * c))
    short(259, 8)  # Adobe deflate
    short(262, 2 if c >= 3 else 1)  # RGB, or BlackIsZero grey
    long(273, 0)  # strip offset, patched below
    short(277, c)
    long(278, h)
    long(279, len(data))
    if pic is not None and pic.dpi:
        for tag, d in ((282, pic.dpi[0]), (283, pic.dpi[1])):
            entries.append((tag, 5, 1, struct.pack("<II", round(d * 1000), 1000)))
    short(284, 1)
    if pic is not None and pic.dpi:
        short(296, 2)  # inch
    if alpha:
        short(338, 2)  # unassociated alpha
    short(339, *([1] * c))
    if pic is not None and pic.extra.get("xmp"):
        entries.append((700, 1, len(pic.extra["xmp"]), pic.extra["xmp"]))  # XMP as BYTE
    if pic is not None and pic.icc_profile:
        entries.append((34675, 7, len(pic.icc_profile), pic.icc_profile))
    entries.sort()
    ifd_size = 2 + 12 * len(entries) + 4
    extra_at = 8 + ifd_size
    ifd, extra = [struct.pack("<H", len(entries))], []
    for tag, typ, count, payload in entries:
        if len(payload) <= 4:
            ifd.append(struct.pack("<HHI", tag, typ, count) + payload.ljust(4, b"\x00"))
        else:
            offset = extra_at + sum(len(e) for e in extra)
            ifd.append(struct.pack("<HHII", tag, typ, count, offset))
            extra.append(payload + (b"\x00" if len(payload) % 2 else b""))
    ifd.append(struct.pack("<I", 0))
    strip_at = extra_at + sum(len(e) for e in extra)
    head = b"II" + struct.pack("<HI", 42, 8)
    body = b"".join(ifd)
    # Patch the strip offset (tag 273) now that the layout is known.
    index = [e[0] for e in entries].index(273)
    pos = 2 + 12 * index + 8
    body = body[:pos] + struct.pack("<I", strip_at) + body[pos + 4 :]
    fh.write(head + body + b"".join(extra) + data)


def _pil_mode(pixels: np.ndarray) -> str:
    c = 1 if pixels.ndim == 2 else pixels.shape[2]
    if pixels.dtype == np.uint16:
        if c != 1:
            raise ImageError("16-bit colour is written as PNG or TIFF only")
        return "I;16"
    if pixels.dtype == np.float32:
        if c != 1:
            raise ImageError("float colour images are written as .npy only (TIFF float is grey only)")
        return "F"
    return {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[c]


def _graded(alpha: np.ndarray) -> bool:
    """Whether an 8-bit alpha holds a value other than 0 and 255."""
    return bool(np.any((alpha != 0) & (alpha != 255)))


# Largest side each format's header or encoder takes (GIF: 16-bit fields;
# libjpeg: 65500; libwebp: 16383; PNG: 31 bits).
_MAX_SIDE = {"GIF": 65535, "JPEG": 65500, "WEBP": 16383, "PNG": 2**31 - 1, "BMP": 2**31 - 1}
SUBSAMPLINGS = ("4:4:4", "4:2:2", "4:2:0")


def encode(
    fh: BinaryIO,
    pixels: np.ndarray,
    fmt: str,
    pic: Picture | None = None,
    *,
    quality: int | None = None,
    compression: int | None = None,
    strip: bool = False,
    strip_icc: bool = False,
    subsampling: str | int | None = None,
    lossless: bool = False,
    where: str = "<output>",
    ready=None,
) -> None:
    """Encode file-ready pixels (uint8, uint16 or float32) as ``fmt``.

    ``compression`` is the zlib level (0-9) of PNG and TIFF outputs; the
    default 1, as OpenCV's, writes about 4x faster than level 6 for files
    some 20% larger. A JPEG output of a JPEG input (``pic.extra["jpeg"]``)
    reuses the input's quantization tables and chroma subsampling unless
    ``quality``/``subsampling`` say otherwise; other JPEGs get quality 95
    and Pillow's 4:2:0. A WebP output is lossless if ``lossless`` or if the
    input was a lossless WebP. An ICC profile whose colour space does not
    fit the output (RGB on grey) is left out.

    ``ready(n)``, if given, returns once rows ``0..n`` of ``pixels`` hold
    their values (they are still being computed); a PNG is compressed as
    they come, other formats wait for them all.
    """
    level = DEFAULT_COMPRESSION if compression is None else compression
    png = fmt == "PNG" and pixels.dtype in (np.uint8, np.uint16)
    if ready is not None and not png:
        ready(pixels.shape[0])
    if fmt == "NPY":
        np.save(fh, pixels, allow_pickle=False)
        return
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    h, w = pixels.shape[:2]
    top = _MAX_SIDE.get(fmt)
    if top is not None and max(h, w) > top:
        raise ImageError(f"{w}x{h} is too large for {fmt} (at most {top} pixels a side); write PNG or TIFF")
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    meta = _output_metadata(pic, fmt, channels, strip=strip, strip_icc=strip_icc, where=where)
    if png:
        _write_png(fh, pixels, meta, level, ready)
        return
    if pixels.dtype == np.uint16 and pixels.ndim == 3 and fmt == "TIFF":
        _write_tiff16(fh, pixels, meta, level)
        return
    Image, _ = _pillow()
    mode = _pil_mode(pixels)
    if fmt in ("JPEG", "PPM", "BMP") and mode in ("LA", "RGBA"):
        raise ImageError(f"{fmt} cannot hold an alpha channel; write PNG, TIFF or WebP to keep it")
    if fmt == "GIF" and mode in ("LA", "RGBA") and _graded(pixels[..., -1]):
        # GIF's one transparent palette entry holds on/off alpha only: Pillow
        # would make every other value opaque, without a word.
        raise ImageError(
            f"{fmt} cannot hold a graded alpha channel (only fully transparent or opaque pixels); "
            "write PNG, TIFF or WebP to keep it"
        )
    im = Image.fromarray(np.ascontiguousarray(pixels))
    if mode == "I;16" and im.mode != "I;16":
        im = Image.frombuffer(
            "I;16", (pixels.shape[1], pixels.shape[0]), pixels.astype("<u2").tobytes(), "raw", "I;16", 0, 1
        )
    kwargs: dict[str, Any] = {}
    extra = meta.extra if meta is not None else {}
    if meta is not None:
        if meta.icc_profile and fmt in ("PNG", "JPEG", "TIFF", "WEBP"):
            kwargs["icc_profile"] = meta.icc_profile
        if meta.exif and fmt in ("PNG", "JPEG", "TIFF", "WEBP"):
            kwargs["exif"] = meta.exif
        if meta.dpi and fmt in ("PNG", "JPEG", "TIFF", "BMP"):
            kwargs["dpi"] = meta.dpi
        if extra.get("xmp") and fmt in ("JPEG", "WEBP"):
            kwargs["xmp"] = extra["xmp"]
        if extra.get("comment") and fmt in ("JPEG", "GIF"):
            kwargs["comment"] = extra["comment"]
    if fmt == "JPEG":
        kwargs.update(_jpeg_options(meta, channels, quality, subsampling))
    elif fmt == "WEBP":
        if lossless or extra.get("webp_lossless"):
            kwargs["lossless"] = True
            kwargs["quality"] = 100 if quality is None else quality  # effort, in lossless mode
        else:
            kwargs["quality"] = quality or 95
    elif fmt == "TIFF":
        kwargs["compression"] = "tiff_deflate"
        if extra.get("xmp"):
            kwargs["tiffinfo"] = {700: extra["xmp"]}
    elif fmt == "PNG":
        kwargs["compress_level"] = level
    im.save(fh, format=fmt, **kwargs)
