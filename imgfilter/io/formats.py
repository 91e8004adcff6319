"""The one registry of image formats and what each holds.

Everything that needs to know a format asks here: the CLI's ``--format``
choices, the reader's list of Pillow decoders (``Image.open(formats=...)``),
the batch's folder scan (which extensions it takes, which it can only
convert), the output's name and the depth check before any work. numpy-free,
so ``imgfilter --help`` can read it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .errors import ImageError

DEFAULT_COMPRESSION = 1  # zlib level for PNG/TIFF: OpenCV's default, fast
DEFAULT_MAX_PIXELS = 89_478_485  # Pillow's own default limit (about 0.25 GB of RGBA)


@dataclass(frozen=True)
class Format:
    """One format: how it is named, read and written, and what it can hold."""

    name: str  # Pillow's format name (NPY and ZARR are ours)
    extensions: tuple[str, ...]  # the first is what an output gets
    writable: bool = False
    sixteen_bit: bool = False  # 16-bit values (PPM: grey only)
    float: bool = False  # float32 values (TIFF: grey only)
    alpha: bool = False  # an alpha channel is declared by the file
    frames: bool = False  # may hold several frames (refused, never silently dropped)
    metadata: tuple[str, ...] = ()  # what of ICC, EXIF, DPI, XMP, comment an output keeps
    decoders: tuple[str, ...] = ()  # Pillow plugins that read it ((): not through Pillow)
    cli_names: tuple[str, ...] = ()  # what --format takes (the first is the canonical name)


# Never EPS/PS or PDF: Pillow hands those to Ghostscript, an outside program
# that runs the file. The obscure formats Pillow also knows (BLP, FITS, FLI,
# FTEX, GBR, IMT, MCIDAS, PCD, PIXAR, SUN, XPM, XVThumb, WMF, the BUFR/GRIB/
# HDF5 stubs) are left out: nobody filters them, and each decoder is more
# code a crafted file can reach. IM too: Pillow deprecates it (gone in 15).
REGISTRY: tuple[Format, ...] = (
    Format(
        "PNG",
        (".png",),
        True,
        sixteen_bit=True,
        alpha=True,
        metadata=("icc", "exif", "dpi", "xmp", "comment"),
        decoders=("PNG",),
        cli_names=("png",),
    ),
    Format(
        "JPEG",
        (".jpg", ".jpeg"),
        True,
        metadata=("icc", "exif", "dpi", "xmp", "comment"),
        decoders=("JPEG",),
        cli_names=("jpg", "jpeg"),
    ),
    Format(
        "TIFF",
        (".tif", ".tiff"),
        True,
        sixteen_bit=True,
        float=True,
        alpha=True,
        frames=True,
        metadata=("icc", "exif", "dpi", "xmp"),
        decoders=("TIFF",),
        cli_names=("tif", "tiff"),
    ),
    Format("BMP", (".bmp",), True, metadata=("dpi",), decoders=("BMP",), cli_names=("bmp",)),
    Format(
        "WEBP",
        (".webp",),
        True,
        alpha=True,
        frames=True,
        metadata=("icc", "exif", "xmp"),
        decoders=("WEBP",),
        cli_names=("webp",),
    ),
    Format(
        "PPM",
        (".ppm", ".pgm", ".pnm", ".pbm"),
        True,
        sixteen_bit=True,
        decoders=("PPM",),
        cli_names=("ppm", "pgm", "pnm"),
    ),
    Format(
        "GIF",
        (".gif",),
        True,
        alpha=True,
        frames=True,
        metadata=("comment",),
        decoders=("GIF",),
        cli_names=("gif",),
    ),
    Format("NPY", (".npy",), True, sixteen_bit=True, float=True, cli_names=("npy",)),
    # Read only: a folder scan converts them with --format, else lists them as skipped.
    Format("AVIF", (".avif", ".heic", ".heif"), alpha=True, frames=True, decoders=("AVIF",)),
    Format("JPEG2000", (".jp2", ".j2k", ".jpx", ".jpf"), alpha=True, decoders=("JPEG2000",)),
    Format("DIB", (".dib",), decoders=("DIB",)),
    Format("DDS", (".dds",), alpha=True, decoders=("DDS",)),
    Format("ICNS", (".icns",), alpha=True, decoders=("ICNS",)),
    Format("ICO", (".ico", ".cur"), alpha=True, decoders=("ICO", "CUR")),
    Format("MSP", (".msp",), decoders=("MSP",)),
    Format("PCX", (".pcx", ".dcx"), decoders=("PCX",)),
    Format("QOI", (".qoi",), alpha=True, decoders=("QOI",)),
    Format("SGI", (".sgi", ".rgb", ".bw"), alpha=True, decoders=("SGI",)),
    Format("TGA", (".tga",), alpha=True, decoders=("TGA",)),
    Format("XBM", (".xbm",), decoders=("XBM",)),
    Format("PSD", (".psd",), alpha=True, decoders=("PSD",)),
    Format("SPIDER", (".spi",), float=True, decoders=("SPIDER",)),
    # Named so a folder scan lists them as skipped rather than ignoring them; never decoded.
    Format("OTHER", (".jxl", ".xpm", ".ras", ".im", ".blp", ".exr")),
)
BY_NAME = {f.name: f for f in REGISTRY}

# Derived views, each read by one place.
FORMATS = {ext: f.name for f in REGISTRY if f.writable for ext in f.extensions if ext != ".pbm"}
FORMAT_NAMES = {
    n: (f.extensions[0] if n not in ("pgm", "pnm") else f".{n}") for f in REGISTRY for n in f.cli_names
}
FORMAT_CHOICES = tuple(FORMAT_NAMES)
# --format aliases become their canonical name, so a chain's "tif" and "tiff" agree.
FORMAT_ALIASES = {
    n: f.cli_names[0]
    for f in REGISTRY
    for n in f.cli_names[1:]
    if FORMAT_NAMES[n] == FORMAT_NAMES[f.cli_names[0]]
}
READ_FORMATS = tuple(d for f in REGISTRY for d in f.decoders)
IMAGE_EXTENSIONS = frozenset(ext for f in REGISTRY if f.writable for ext in f.extensions)
READ_ONLY_EXTENSIONS = frozenset(ext for f in REGISTRY if not f.writable for ext in f.extensions)
# Formats whose extra "frames" are not frames of the picture: PSD's are its
# layers (the composite is the image).
NOT_FRAMES = frozenset({"PSD"})


def declares_alpha(fmt: str) -> bool:
    """Whether files of ``fmt`` say which channel is alpha (arrays, .npy and Zarr, never do)."""
    entry = BY_NAME.get(fmt)
    return entry is not None and entry.alpha


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
    entry = BY_NAME[fmt]
    if depth == "16" and not entry.sixteen_bit:
        raise ImageError(
            f"{path}: {fmt} cannot hold 16-bit values; use --depth 8 to convert, or write PNG/TIFF"
        )
    if depth == "float" and not entry.float:
        raise ImageError(f"{path}: {fmt} cannot hold float values; use --depth 8/16, or write .tif/.npy")


def is_zarr(path: str) -> bool:
    """Whether ``path`` names a Zarr array (a folder read and written chunk by chunk)."""
    return path != "-" and os.path.splitext(path.rstrip("/\\"))[1].lower() == ".zarr"
