"""Image files: the only module that knows formats.

Reading keeps what the file holds: bit depth (8, 16 bit, float), alpha, ICC
profile, EXIF, DPI, XMP and comments. Writing is atomic (temporary file
beside the output, or beside a symlink's target, then a rename; FIFOs and
devices get one checked stream) and converts results to the file's range
by one documented rule (:func:`source_scale`, :func:`to_file_dtype`).
"""

from __future__ import annotations

import contextlib
import errno
import io
import logging
import os
import signal
import stat
import struct
import sys
import tempfile
import threading
import warnings
import zlib
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np

from .core.names import OptionError

# Pillow is imported lazily: `imgfilter --help` must stay light.

FORMATS = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".bmp": "BMP",
    ".webp": "WEBP",
    ".ppm": "PPM",
    ".pgm": "PPM",
    ".pnm": "PPM",
    ".gif": "GIF",
    ".npy": "NPY",
}
FORMAT_NAMES = {
    "png": ".png",
    "jpg": ".jpg",
    "jpeg": ".jpg",
    "tif": ".tif",
    "tiff": ".tif",
    "bmp": ".bmp",
    "webp": ".webp",
    "ppm": ".ppm",
    "pgm": ".pgm",
    "pnm": ".pnm",
    "gif": ".gif",
    "npy": ".npy",
}
# Bit depths each format can hold (besides 8).
_SIXTEEN_BIT = {"PNG", "TIFF", "NPY", "PPM"}  # PPM: grey (PGM) only, refused for colour by Pillow
_FLOAT = {"TIFF", "NPY"}
SCALES = ("clip", "abs", "offset", "stretch")
DEPTHS = ("8", "16", "float")

DEFAULT_COMPRESSION = 1  # zlib level for PNG/TIFF: OpenCV's default, fast
DEFAULT_MAX_PIXELS = 89_478_485  # Pillow's own default limit (about 0.25 GB of RGBA)


class ImageError(Exception):
    """A file could not be read or written; the message names the file and the reason."""


@dataclass
class Picture:
    """Pixels plus what must survive a round trip through imgfilter."""

    pixels: np.ndarray
    alpha: bool = False
    icc_profile: bytes | None = None
    exif: bytes | None = None
    dpi: tuple[float, float] | None = None
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def depth(self) -> str:
        """The scale of the pixels' values, by the rule :func:`source_scale` states."""
        return source_scale(self.pixels)[0]


def format_for(path: str, fmt: str | None = None) -> str:
    """Pillow format name for an output path (or ``--format``), else ImageError."""
    if fmt:
        key = fmt.lower().lstrip(".")
        if key not in FORMAT_NAMES:
            raise ImageError(
                f"{path}: unknown format {fmt!r}; use one of {', '.join(sorted(set(FORMAT_NAMES)))}"
            )
        return FORMATS[FORMAT_NAMES[key]]
    if path == "-":
        return "PNG"
    ext = os.path.splitext(path)[1].lower()
    if not ext:
        # /dev/stdout, /dev/fd/N, a FIFO named "out": nothing names the format.
        raise ImageError(
            f"{path}: no extension names the output format; give --format "
            f"({', '.join(sorted(set(FORMAT_NAMES)))})"
        )
    if ext not in FORMATS:
        raise ImageError(
            f"{path}: unknown output extension {ext or '(none)'!r}; use one of {', '.join(sorted(FORMATS))}"
        )
    return FORMATS[ext]


def check_depth(path: str, fmt: str, depth: str) -> None:
    """Refuse, before any work, a bit depth the output format cannot hold."""
    if depth == "16" and fmt not in _SIXTEEN_BIT:
        raise ImageError(
            f"{path}: {fmt} cannot hold 16-bit values; use --depth 8 to convert, or write PNG/TIFF"
        )
    if depth == "float" and fmt not in _FLOAT:
        raise ImageError(f"{path}: {fmt} cannot hold float values; use --depth 8/16, or write .tif/.npy")


# ---------------------------------------------------------------- reading


# The Pillow decoders imgfilter opens files with, whatever their name says.
# Never EPS/PS or PDF: Pillow hands those to Ghostscript, an outside program
# that runs the file. The obscure formats Pillow also knows (BLP, FITS, FLI,
# FTEX, GBR, IMT, MCIDAS, PCD, PIXAR, SUN, XPM, XVThumb, WMF, the BUFR/GRIB/
# HDF5 stubs) are left out: nobody filters them, and each decoder is more
# code a crafted file can reach. IM too: Pillow deprecates it (gone in 15).
READ_FORMATS = (
    "PNG",
    "JPEG",
    "TIFF",
    "BMP",
    "DIB",
    "WEBP",
    "PPM",
    "GIF",
    "AVIF",
    "JPEG2000",
    "DDS",
    "ICNS",
    "ICO",
    "CUR",
    "MSP",
    "PCX",
    "QOI",
    "SGI",
    "TGA",
    "XBM",
    "PSD",
    "SPIDER",
)
# Files that only Ghostscript reads, named in the refusal.
_POSTSCRIPT_MAGIC = (b"%!", b"\xc5\xd0\xd3\xc6", b"%PDF", b"\x04%!")
# Formats whose extra "frames" are not frames of the picture: PSD's are its
# layers (the composite is the image).
_NOT_FRAMES = frozenset({"PSD"})


def _pillow():
    from PIL import Image, ImageFile, ImageOps

    # We enforce our own pixel limit before decoding (see read_image).
    Image.MAX_IMAGE_PIXELS = None
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    return Image, ImageOps


_SPLIT16 = ("RGB;16B", "RGB;16L", "RGB;16N", "RGBA;16B", "RGBA;16L", "RGBA;16N")

# Baseline TIFF tags describing the pixel layout of the *source* file: they
# must not travel with the EXIF block (they would contradict the output).
_STRUCTURAL_TAGS = frozenset(
    {
        254,
        255,
        256,
        257,
        258,
        259,
        262,
        263,
        266,
        273,
        277,
        278,
        279,
        280,
        281,
        282,
        283,
        284,
        296,
        317,
        320,
        322,
        323,
        324,
        325,
        338,
        339,
        340,
        341,
        530,
        531,
        532,
        34675,
    }
)
# Tags kept in their own place of the output, not inside its EXIF: XMP (700).
_CARRIED_APART = frozenset({700})


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


def pil_to_array(im, *, source: str = "<PIL image>") -> np.ndarray:
    """A PIL image as imgfilter reads it (see :func:`read_image`)."""
    _pillow()
    from PIL import Image

    if not isinstance(im, Image.Image):
        raise TypeError(f"expected a PIL image, got {type(im).__name__}")
    try:
        with _quiet_decoders():
            return _from_pil(im, source).pixels
    except ImageError:
        raise
    except MemoryError:
        raise ImageError(f"{source}: not enough memory to convert this image") from None
    except Exception as exc:
        raise ImageError(f"{source}: cannot convert image ({_one_line(exc)})") from None


def _from_pil(im, source: str, reopen=None, data: bytes = b"") -> Picture:
    _Image, ImageOps = _pillow()
    info = dict(im.info)
    icc = info.get("icc_profile")
    # Decode 16-bit colour first: reading EXIF may load (and reduce) the image.
    sixteen = _decode_sixteen_bit(im, reopen, data, source) if reopen is not None else None
    exif = im.getexif()
    orientation = exif.get(0x0112, 1) if exif else 1
    if sixteen is not None:
        pixels = sixteen
        alpha = pixels.shape[2] in (2, 4)
        # Some plugins (TIFF) rotate on load and drop the tag; others do not.
        if im.getexif().get(0x0112, 1) != 1:
            pixels = _orient(pixels, orientation)
    else:
        if orientation != 1:
            im = ImageOps.exif_transpose(im)
        mode = im.mode
        alpha = False
        if mode == "1":
            im = im.convert("L")
        elif mode == "P" or mode == "PA":
            has_t = "transparency" in im.info or mode == "PA"
            im = im.convert("RGBA" if has_t else "RGB")
        elif mode == "La":
            im = im.convert("LA")
        elif mode in ("RGBa", "RGBX"):
            im = im.convert("RGBA" if mode == "RGBa" else "RGB")
        elif mode in ("L", "LA", "RGB", "RGBA", "F", "I") or mode.startswith("I;16"):
            pass
        else:  # CMYK, YCbCr, LAB, HSV ...
            im = im.convert("RGB")
        mode = im.mode
        pixels = np.asarray(im)
        if mode.startswith("I;16"):
            pixels = pixels.astype(np.uint16, copy=False)
        elif mode == "I":
            # 32-bit integer images: keep 16-bit data as 16-bit when it fits.
            if pixels.size and pixels.min() >= 0 and pixels.max() <= 65535:
                pixels = pixels.astype(np.uint16)
        alpha = mode in ("LA", "RGBA")
    exif_bytes = None
    if exif:
        for tag in (_STRUCTURAL_TAGS | _CARRIED_APART).intersection(exif):
            del exif[tag]
        exif[0x0112] = 1  # pixels are now upright; do not let viewers rotate again
        exif_bytes = exif.tobytes()
    dpi = info.get("dpi")
    return Picture(
        pixels=np.ascontiguousarray(pixels),
        alpha=alpha,
        icc_profile=icc,
        exif=exif_bytes,
        dpi=tuple(float(v) for v in dpi) if dpi else None,
        source=source,
    )


def _orient(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1..8) to an array, as ImageOps.exif_transpose does."""
    ops = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: np.swapaxes(a, 0, 1),
        6: lambda a: np.swapaxes(a, 0, 1)[:, ::-1],
        7: lambda a: np.swapaxes(a, 0, 1)[::-1, ::-1],
        8: lambda a: np.swapaxes(a, 0, 1)[::-1],
    }
    return ops[orientation](pixels) if orientation in ops else pixels


def read_image(path: str | os.PathLike, *, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> Picture:
    """Read an image file (``"-"`` is standard input) with its metadata.

    Raises :class:`ImageError` with a one-line reason for missing, empty,
    truncated, damaged or foreign files, for files of several frames, and
    for images over ``max_pixels`` (checked from the header, before any
    pixel is decoded; ``None`` disables it). No other exception leaves it,
    and decoders' warnings are kept off stderr.
    """
    name = os.fspath(path)
    try:
        with _quiet_decoders() as printed:
            return _read_image(name, max_pixels)
    except ImageError as exc:
        error = exc
    except MemoryError:
        error = ImageError(f"{name}: not enough memory to read this image")
    except RecursionError:
        error = ImageError(f"{name}: cannot decode image (structure nested too deeply)")
    except Exception as exc:
        error = ImageError(f"{name}: cannot decode image ({_one_line(exc)})")
    raise _with_library_note(error, printed) from None


def _with_library_note(error: ImageError, printed: list[str]) -> ImageError:
    """The ImageError, with the last line a C library printed when the reason is a bare code."""
    text = str(error)
    if printed and "decoder error" in text:
        text = f"{text[:-1]}: {_one_line(Exception(printed[-1]))})" if text.endswith(")") else text
    return ImageError(text)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


@contextlib.contextmanager
def _quiet_decoders():
    """Keep decoders' warnings off stderr; yield a list that gets what C libraries printed.

    A refusal is one line: Pillow's and numpy's warnings and tifffile's log
    lines are dropped, and what libtiff or libjpeg print straight to file
    descriptor 2 is caught in a temporary file, so the caller can fold its
    last line into the ImageError (or drop it when the read succeeds).
    Warning filters, the logger and fd 2 are process-wide: with reads on
    several threads, the first one in silences them and the last one out
    restores them.
    """
    global _QUIET_DEPTH, _QUIET_STATE
    printed: list[str] = []
    with _QUIET_LOCK:
        if _QUIET_DEPTH == 0:
            _QUIET_STATE = _silence()
        _QUIET_DEPTH += 1
    try:
        with np.errstate(all="ignore"):
            yield printed
    finally:
        with _QUIET_LOCK:
            _QUIET_DEPTH -= 1
            if _QUIET_DEPTH == 0 and _QUIET_STATE is not None:
                printed.extend(_restore(_QUIET_STATE))
                _QUIET_STATE = None


_QUIET_LOCK = threading.Lock()
_QUIET_DEPTH = 0
_QUIET_STATE: tuple[Any, bool, int | None, Any] | None = None


def _silence() -> tuple[Any, bool, int | None, Any]:
    caught = warnings.catch_warnings()
    caught.__enter__()
    warnings.simplefilter("ignore")
    log = logging.getLogger("tifffile")
    disabled, log.disabled = log.disabled, True
    saved = sink = None
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
        sink = _stderr_sink()
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
    return caught, disabled, saved, sink


def _restore(state: tuple[Any, bool, int | None, Any]) -> list[str]:
    caught, disabled, saved, sink = state
    caught.__exit__(None, None, None)
    logging.getLogger("tifffile").disabled = disabled
    if saved is None:
        return []
    os.dup2(saved, 2)
    os.close(saved)
    try:
        sink.seek(0)
        text = sink.read(1 << 16).decode("utf-8", "replace")
        sink.seek(0)
        sink.truncate()
    except OSError:
        return []
    return [line.strip() for line in text.splitlines() if line.strip()]


_SINK: tuple[int, Any] | None = None


def _stderr_sink():
    """One temporary file per process for what C decoders print (making one costs 0.2 ms)."""
    global _SINK
    if _SINK is None or _SINK[0] != os.getpid():  # a forked worker gets its own
        _SINK = (os.getpid(), tempfile.TemporaryFile())
    return _SINK[1]


def _byte_limit(max_pixels: int | None) -> int | None:
    # 32 bytes a pixel holds any image up to the pixel limit uncompressed
    # (a float64 RGBA .npy), plus room for metadata and extra pages.
    return None if max_pixels is None else max_pixels * 32 + (64 << 20)


def _read_bytes(name: str, max_pixels: int | None) -> bytes:
    """The whole file, bounded: devices are refused, pipes read up to the limit."""
    limit = _byte_limit(max_pixels)
    try:
        if name == "-":
            fh = sys.stdin.buffer
        else:
            fh = open(name, "rb")
    except FileNotFoundError:
        raise ImageError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise ImageError(f"{name}: is a directory") from None
    except OSError as exc:
        raise ImageError(f"{name}: cannot read ({exc.strerror or exc})") from None
    try:
        with contextlib.ExitStack() as stack:
            if fh is not sys.stdin.buffer:
                stack.enter_context(fh)
            mode = os.fstat(fh.fileno()).st_mode if _has_fd(fh) else stat.S_IFIFO
            if stat.S_ISDIR(mode):
                raise ImageError(f"{name}: is a directory")
            if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
                raise ImageError(f"{name}: is a device, not an image file")
            if stat.S_ISREG(mode):
                size = os.fstat(fh.fileno()).st_size
                if limit is not None and size > limit:
                    raise ImageError(
                        f"{name}: {size} bytes is more than any image under the pixel limit of "
                        f"{max_pixels} needs (raise it with --max-pixels)"
                    )
                return fh.read()
            data = fh.read(limit + 1) if limit is not None else fh.read()
            if limit is not None and len(data) > limit:
                raise ImageError(
                    f"{name}: more than {limit} bytes, more than any image under the pixel limit of "
                    f"{max_pixels} needs (raise it with --max-pixels)"
                )
            return data
    except OSError as exc:
        raise ImageError(f"{name}: cannot read ({exc.strerror or exc})") from None


def _has_fd(fh) -> bool:
    try:
        fh.fileno()
    except (OSError, ValueError, AttributeError):
        return False
    return True


def _frame_count(im) -> int:
    if im.format == "MPO":
        # Previews and gain maps go with the primary picture; the views of a
        # stereo pair, a panorama or a multi-angle shot are frames.
        entries = (getattr(im, "mpinfo", None) or {}).get(0xB002) or []
        views = [e for e in entries if "Multi-Frame" in str(e.get("Attribute", {}).get("MPType", ""))]
        return len(views) if len(views) > 1 else 1
    if im.format in _NOT_FRAMES:
        return 1
    frames = int(getattr(im, "n_frames", 1) or 1)
    if im.format == "TIFF" and frames > 1 and not _tiff_subfile(im):
        # Pages marked reduced-resolution (previews, pyramid levels) or
        # transparency masks (NewSubfileType bits 0 and 2) go with page 0.
        full = 0
        for i in range(frames):
            im.seek(i)
            full += not _tiff_subfile(im)
        im.seek(0)
        return full
    return frames


def _tiff_subfile(im) -> bool:
    return bool(int(im.tag_v2.get(254, 0) or 0) & 0b101)


def _read_image(name: str, max_pixels: int | None) -> Picture:
    data = _read_bytes(name, max_pixels)
    if not data:
        raise ImageError(f"{name}: empty file")
    if data[:6] == b"\x93NUMPY":
        return _read_npy(name, data, max_pixels)
    Image, _ = _pillow()
    from PIL import UnidentifiedImageError

    def open_():
        return Image.open(io.BytesIO(data), formats=READ_FORMATS)

    try:
        im = open_()
    except UnidentifiedImageError:
        if data[:4] in (b"II*\x00", b"MM\x00*"):
            return _read_tiff_tifffile(name, data, max_pixels)
        if data.lstrip()[:4].startswith(_POSTSCRIPT_MAGIC):
            raise ImageError(
                f"{name}: PostScript/EPS/PDF files are not read (they are programs for Ghostscript)"
            ) from None
        raise ImageError(f"{name}: not an image file imgfilter reads") from None
    except Exception as exc:
        raise ImageError(f"{name}: cannot read image header ({_one_line(exc)})") from None
    w, h = im.size
    if max_pixels is not None and w * h > max_pixels:
        raise ImageError(
            f"{name}: {w}x{h} = {w * h} pixels is over the limit of {max_pixels} "
            "(possible decompression bomb; raise it with --max-pixels)"
        )
    frames = _frame_count(im)
    if frames > 1:
        raise ImageError(
            f"{name}: holds {frames} frames ({im.format}); imgfilter filters single images "
            "and would keep only the first"
        )
    pic = _from_pil(im, name, reopen=open_, data=data)
    pic.extra.update(write_hints(im, data))
    return pic


def _tifffile_pixels(page, source: str) -> np.ndarray:
    try:
        return page.asarray()
    except (KeyError, ValueError) as exc:
        # tifffile decodes LZW, JPEG, zstd... only with imagecodecs.
        if "imagecodecs" in str(exc):
            raise ImageError(
                f"{source}: this TIFF's compression needs imagecodecs: pip install imagecodecs"
            ) from None
        raise


def _read_tiff_tifffile(name: str, data: bytes, max_pixels: int | None) -> Picture:
    """A TIFF Pillow has no mode for (16-bit grey+alpha, say), through tifffile when it is there."""
    try:
        import tifffile
    except ImportError:
        raise ImageError(f"{name}: this TIFF layout needs tifffile: pip install tifffile") from None
    with tifffile.TiffFile(io.BytesIO(data)) as tif:
        frames = sum(not (int(page.subfiletype) & 0b101) for page in tif.pages)
        if frames > 1:
            raise ImageError(
                f"{name}: holds {frames} frames (TIFF); imgfilter filters single images "
                "and would keep only the first"
            )
        page = tif.pages[0]
        h, w = page.imagelength, page.imagewidth
        if max_pixels is not None and w * h > max_pixels:
            raise ImageError(
                f"{name}: {w}x{h} = {w * h} pixels is over the limit of {max_pixels} "
                "(possible decompression bomb; raise it with --max-pixels)"
            )
        spp, photometric = page.samplesperpixel, int(page.photometric)
        if not ((photometric == 1 and spp in (1, 2)) or (photometric == 2 and spp in (3, 4))):
            raise ImageError(
                f"{name}: a TIFF with {spp} samples of photometric type {photometric} is not read"
            )
        axes = page.axes
        arr = _tifffile_pixels(page, name)
        tags = page.tags
        icc = tags[34675].value if 34675 in tags else None
        orientation = int(tags[274].value) if 274 in tags else 1
        dpi = None
        if 282 in tags and 283 in tags and int(tags[296].value if 296 in tags else 2) == 2:
            dpi = tuple(float(n) / float(d or 1) for n, d in (tags[282].value, tags[283].value))
    if axes.startswith("S"):
        arr = np.moveaxis(arr, 0, -1)
    if arr.shape[:2] != (h, w) or arr.dtype.kind not in "uf" or arr.dtype.itemsize > 4:
        raise ImageError(f"{name}: cannot read a TIFF of {arr.dtype} samples with axes {axes!r}")
    arr = arr.astype(arr.dtype.newbyteorder("="), copy=False)
    return Picture(
        pixels=np.ascontiguousarray(_orient(arr, orientation)),
        alpha=spp in (2, 4),
        icc_profile=bytes(icc) if icc else None,
        dpi=dpi,  # type: ignore[arg-type]
        source=name,
    )


def _read_npy(name: str, data: bytes, max_pixels: int | None) -> Picture:
    try:
        head = io.BytesIO(data)
        version = np.lib.format.read_magic(head)
        read_header = (
            np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        )
        shape = read_header(head)[0]
    except Exception as exc:
        raise ImageError(f"{name}: not a valid .npy file ({_one_line(exc)})") from None
    if max_pixels is not None and len(shape) >= 2 and shape[0] * shape[1] > max_pixels:
        raise ImageError(
            f"{name}: {shape[1]}x{shape[0]} = {shape[0] * shape[1]} pixels is over the limit of "
            f"{max_pixels} (raise it with --max-pixels)"
        )
    try:
        arr = np.load(io.BytesIO(data), allow_pickle=False)
    except Exception as exc:  # any parse failure of a foreign file
        raise ImageError(f"{name}: not a valid .npy file ({_one_line(exc)})") from None
    if arr.ndim not in (2, 3) or arr.dtype.kind not in "biuf":
        raise ImageError(f"{name}: .npy must hold a 2-D or 3-D numeric array, got {arr.shape} {arr.dtype}")
    return Picture(pixels=arr, alpha=arr.ndim == 3 and arr.shape[2] in (2, 4), source=name)


def imread(path: str | os.PathLike, *, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Read an image as the CLI does, returning its pixels.

    8-bit stays uint8, 16-bit PNG/TIFF (colour too, any TIFF layout) stays
    uint16, float TIFF stays float32; L, LA, RGB and RGBA keep their channels
    (channels-last), palette and 1-bit images become RGB(A) or L, CMYK and
    other modes RGB. EXIF orientation is applied, so pixels are as a viewer
    shows them. Only the formats of :data:`READ_FORMATS` (and ``.npy``) are
    opened, chosen by content, never PostScript/EPS/PDF; a file of several
    frames is refused. Any bad file raises :class:`ImageError`.

    Examples
    --------
    >>> import imgfilter
    >>> imgfilter.imread("sample_images/camera.png").shape  # doctest: +SKIP
    (512, 512)
    """
    return read_image(path, max_pixels=max_pixels).pixels


# ---------------------------------------------------------------- value rule


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
    work = np.float32 if exact32 else np.float64
    v = values.astype(work, copy=True)
    if depth == "float":
        # Float files keep the result's own scale: nothing is rescaled.
        top = source_max
    if scale == "stretch":
        if span is None:
            span = finite_span(v)
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
        return v.astype(np.float32, copy=False)
    np.rint(v, out=v)
    np.clip(v, 0, top, out=v)  # +-inf land on the ends
    nan = np.isnan(v)
    if nan.any():
        v[nan] = 0
    return v.astype(np.uint8 if depth == "8" else np.uint16)


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


# ---------------------------------------------------------------- writing


class ImageWarning(UserWarning):
    """Something of a file that its output format cannot hold was left out (a DPI out of range)."""


def _warn(message: str) -> None:
    import warnings

    warnings.warn(message, ImageWarning, stacklevel=3)


# Temporary outputs of this process in flight (hidden ".NAME.XXXXXXXX.tmp"
# files or folders beside their outputs), so that a signal handler can
# remove them: the CLI's SIGTERM/SIGHUP handlers call cleanup_temporaries().
_TEMPORARIES: set[str] = set()


def register_temporary(path: str) -> None:
    """Record a temporary output (file or folder) that :func:`cleanup_temporaries` may remove."""
    _TEMPORARIES.add(path)


def unregister_temporary(path: str) -> None:
    """Forget a temporary output: renamed into place, or removed."""
    _TEMPORARIES.discard(path)


def cleanup_temporaries() -> None:
    """Remove every temporary output of this process still in flight.

    Safe to call from a signal handler: no lock, no import, and an entry
    already renamed into place (or gone) is simply skipped.
    """
    import shutil

    for path in tuple(_TEMPORARIES):
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.unlink(path)
        _TEMPORARIES.discard(path)


_SIGNALS = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGHUP", "SIGINT") if hasattr(signal, n))


@contextlib.contextmanager
def _signals_held():
    """Hold termination signals while a temporary file is created and registered.

    Without it a signal arriving between the two would leave a temporary
    file that no handler knows about.
    """
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _write_all(fd: int, data: memoryview) -> None:
    """Write every byte or raise: pipes, devices and full disks take short writes."""
    view = memoryview(data).cast("B")
    while view:
        n = os.write(fd, view)
        if n <= 0:  # never seen from Linux, but a 0 would loop forever
            raise OSError(errno.EIO, "short write")
        view = view[n:]


def _write_stdout(data: memoryview) -> None:
    out = sys.stdout
    try:
        fd = out.fileno()
    except (AttributeError, OSError, ValueError):  # replaced (pytest's capsys, a notebook)
        fd = None
    if fd is None:
        target = getattr(out, "buffer", out)
        n = target.write(bytes(data))
        target.flush()
        if n is not None and n != len(data):
            raise OSError(errno.EIO, "short write")
        return
    out.flush()  # text printed before goes first
    _write_all(fd, data)


def _output_target(path: str) -> tuple[str, str]:
    """("stream" or "file", where to write) for an output path.

    FIFOs and character devices (``/dev/stdout``, ``/dev/fd/N``, a process
    substitution, ``/dev/null``) are written through; so is a descriptor
    link to anything else. A symlink leads to its target (created if the
    link dangles), which is replaced atomically; the link stays.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        raise ImageError(f"{path}: a part of the path is not a folder") from None
    except OSError as exc:
        raise ImageError(f"{path}: cannot write ({exc.strerror or exc})") from None
    if st is not None:
        if stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode):
            return "stream", path
        if stat.S_ISDIR(st.st_mode):
            raise ImageError(f"{path}: is a directory")
        if not stat.S_ISREG(st.st_mode):
            raise ImageError(
                f"{path}: is a block device or a socket; imgfilter writes files, FIFOs and character devices"
            )
    real = os.path.realpath(path)
    if st is not None:
        try:
            same = os.path.samestat(os.stat(real), st)
        except OSError:
            same = False
        if not same or real.startswith("/proc/"):
            return "stream", path  # /dev/fd/N of a deleted or unnamed file: the descriptor is the output
    return "file", real


@contextlib.contextmanager
def atomic_output(path: str):
    """Yield a binary file that becomes ``path`` only if the block succeeds.

    A regular file (or the target of a symlink, the link kept) is replaced
    by a rename of a hidden temporary file beside it, so readers see the
    old file or the whole new one. Standard output (``"-"``), FIFOs and
    character devices get the encoded bytes in one checked stream once the
    block succeeds: nothing is written for a failed encode, and a short
    write (a full disk, a reader that went away) raises OSError.
    """
    if path == "-":
        buf = io.BytesIO()
        yield buf
        _write_stdout(buf.getbuffer())
        return
    kind, target = _output_target(path)
    if kind == "stream":
        buf = io.BytesIO()
        yield buf
        # O_TRUNC as cp does: a device ignores it, a FIFO has nothing to cut.
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0))
        try:
            _write_all(fd, buf.getbuffer())
        finally:
            os.close(fd)
        return
    folder = os.path.dirname(target) or "."
    if not os.path.isdir(folder):
        shown = os.path.dirname(path) if os.path.realpath(os.path.dirname(path) or ".") == folder else folder
        raise ImageError(f"{path}: folder {shown!r} does not exist")
    with _signals_held():
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=folder)
        register_temporary(tmp)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            # No fsync: the rename already guarantees that readers see the
            # old file or the whole new one; an fsync per file would make a
            # batch of thousands wait on the disk (ImageMagick does not either).
            fh.flush()
        mode = 0o666 & ~_umask()
        with contextlib.suppress(OSError):
            mode = os.stat(target).st_mode & 0o7777
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    finally:
        unregister_temporary(tmp)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


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
        _warn(f"{where}: DPI {tuple(dpi)} does not fit {fmt}'s resolution field; written without DPI")
        return None
    return dpi


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


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


def _write_png(fh: BinaryIO, pixels: np.ndarray, pic: Picture | None, level: int) -> None:
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
    rows = (
        (pixels.astype(">u2") if depth == 16 else np.ascontiguousarray(pixels)).reshape(h, -1).view(np.uint8)
    )
    raw = np.empty((h, rows.shape[1] + 1), dtype=np.uint8)
    raw[:, 0] = 2
    raw[0, 1:] = rows[0]
    np.subtract(rows[1:], rows[:-1], out=raw[1:, 1:])
    out = [
        b"\x89PNG\r\n\x1a\n",
        _png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, colour_type, 0, 0, 0)),
    ]
    if pic is not None and pic.icc_profile:
        out.append(_png_chunk(b"iCCP", b"icc\x00\x00" + zlib.compress(pic.icc_profile)))
    if pic is not None and pic.dpi:
        ppm = [round(d / 0.0254) for d in pic.dpi]
        out.append(_png_chunk(b"pHYs", struct.pack(">IIB", ppm[0], ppm[1], 1)))
    if pic is not None and pic.exif:
        exif = pic.exif[6:] if pic.exif.startswith(b"Exif\x00\x00") else pic.exif
        out.append(_png_chunk(b"eXIf", exif))
    extra = pic.extra if pic is not None else {}
    if extra.get("xmp"):
        out.append(_png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + extra["xmp"]))
    if extra.get("comment"):
        out.append(_png_text("Comment", extra["comment"]))
    for key, value in extra.get("text", {}).items():
        out.append(_png_text(key, value))
    out.append(_png_chunk(b"IDAT", zlib.compress(raw.data, level)))
    out.append(_png_chunk(b"IEND", b""))
    fh.write(b"".join(out))


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


# Largest side each format's header or encoder takes (GIF: 16-bit fields;
# libjpeg: 65500; libwebp: 16383; PNG: 31 bits).
_MAX_SIDE = {"GIF": 65535, "JPEG": 65500, "WEBP": 16383, "PNG": 2**31 - 1, "BMP": 2**31 - 1}
SUBSAMPLINGS = ("4:4:4", "4:2:2", "4:2:0")
# A float array without a source whose values exceed this is probably not
# on 0..1 (Sobel of a 0..1 image reaches 5.7, a Laplacian 8).
_FLOAT_SCALE_DOUBT = 16.0


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
    """
    level = DEFAULT_COMPRESSION if compression is None else compression
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
    if fmt == "PNG" and pixels.dtype in (np.uint8, np.uint16):
        _write_png(fh, pixels, meta, level)
        return
    if pixels.dtype == np.uint16 and pixels.ndim == 3 and fmt == "TIFF":
        _write_tiff16(fh, pixels, meta, level)
        return
    Image, _ = _pillow()
    mode = _pil_mode(pixels)
    if fmt in ("JPEG", "PPM", "BMP") and mode in ("LA", "RGBA"):
        raise ImageError(f"{fmt} cannot hold an alpha channel; write PNG, TIFF or WebP to keep it")
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
        return "float" if fmt in _FLOAT else "8"
    return source_depth


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
    of an 8-bit image needs ``source_depth="8"`` (or the image itself).
    Then the float-to-file rule (:func:`to_file_dtype`) converts to the
    output depth.

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
    fmt = format_for(name, format)
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
        if (
            src_depth == "float"
            and depth != "float"
            and scale == "clip"
            and source_depth is None
            and arr.size
        ):
            # The one guess the rule cannot check: a float array of, say,
            # sobel() of an 8-bit image is on 0..255, not 0..1. Say so
            # when the values are far beyond what a 0..1 image's filters give.
            high = float(np.max(arr, initial=-np.inf, where=np.isfinite(arr)))
            if high > _FLOAT_SCALE_DOUBT:
                _warn(
                    f"{name}: float values up to {high:g} taken on a float image's 0..1 scale clip to "
                    "white; give source_depth='8' (or '16', or the source image) for a result of an "
                    "8-bit (16-bit) image"
                )
    pixels = file_pixels(arr, fmt=fmt, depth=depth, scale=scale, source_max=source_max, alpha=alpha)
    try:
        with atomic_output(name) as fh:
            encode(
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
            )
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
