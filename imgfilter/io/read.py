"""Reading image files: explicit decoders, bounded reads, bit depth, orientation, metadata."""

from __future__ import annotations

import contextlib
import io
import os
import stat
import sys

import numpy as np

from . import png
from .decoders import _one_line, _pillow, _quiet_decoders, _tifffile_pixels, _with_library_note
from .errors import ImageError
from .formats import DEFAULT_MAX_PIXELS, NOT_FRAMES, READ_FORMATS
from .metadata import write_hints
from .picture import Picture
from .sixteen import _decode_sixteen_bit

# ---------------------------------------------------------------- reading


# The Pillow decoders imgfilter opens files with, whatever their name says,
# are formats.READ_FORMATS (never EPS/PS/PDF: see formats.REGISTRY).
# Files that only Ghostscript reads, named in the refusal.
_POSTSCRIPT_MAGIC = (b"%!", b"\xc5\xd0\xd3\xc6", b"%PDF", b"\x04%!")


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


def _from_pil(im, source: str, reopen=None, data: bytes = b"", pixels: np.ndarray | None = None) -> Picture:
    """The Picture of a PIL image; ``pixels`` (as stored, before EXIF orientation) when
    they were decoded elsewhere (:mod:`imgfilter.io.png`), ``im`` then giving the metadata only."""
    _Image, ImageOps = _pillow()
    info = dict(im.info)
    icc = info.get("icc_profile")
    # Decode 16-bit colour first: reading EXIF may load (and reduce) the image.
    sixteen = None
    if pixels is None and reopen is not None:
        sixteen = _decode_sixteen_bit(im, reopen, data, source)
    exif = im.getexif()
    orientation = exif.get(0x0112, 1) if exif else 1
    if pixels is not None:
        alpha = pixels.ndim == 3 and pixels.shape[2] in (2, 4)
        pixels = _orient(pixels, orientation)
    elif sixteen is not None:
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
        pixels = _pil_pixels(im)
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


#: Bytes of decoded pixels copied out of a PIL image at a time.
_COPY_BAND = 1 << 20


def _pil_pixels(im) -> np.ndarray:
    """``np.asarray(im)``, copied out a band of rows at a time.

    ``np.asarray`` goes through ``im.tobytes()``, which joins the encoded
    pieces into one bytes object: two whole copies of the pixels at once,
    beside Pillow's own (4 bytes a pixel for RGB), which made the read the
    peak of a whole CLI run. A band's copy is the same bytes.
    """
    w, h = im.size
    im.load()
    first = np.asarray(im.crop((0, 0, w, min(h, 1)))) if h and w else None
    if first is None or h <= 1:
        return np.asarray(im)
    row_bytes = max(1, first.nbytes)
    step = max(1, _COPY_BAND // row_bytes)
    if step >= h:
        return np.asarray(im)
    out = np.empty((h, *first.shape[1:]), dtype=first.dtype)
    for y in range(0, h, step):
        out[y : y + step] = np.asarray(im.crop((0, y, w, min(h, y + step))))
    return out


def _upright(im) -> bool:
    """Whether :func:`_from_pil` keeps the pixel array as it is (no EXIF rotation to apply)."""
    exif = im.getexif()
    return (exif.get(0x0112, 1) if exif else 1) not in _ORIENTATIONS


#: The EXIF orientations that move pixels (1 and unknown values leave them).
_ORIENTATIONS = range(2, 9)


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
    return ops[orientation](pixels) if orientation in _ORIENTATIONS else pixels


#: The ``decoder=`` choices of :func:`read_image`.
DECODERS = ("auto", "pillow")


def read_image(
    path: str | os.PathLike,
    *,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    decoder: str = "auto",
) -> Picture:
    """Read an image file (``"-"`` is standard input) with its metadata.

    Raises :class:`ImageError` with a one-line reason for missing, empty,
    truncated, damaged or foreign files, for files of several frames, and
    for images over ``max_pixels`` (checked from the header, before any
    pixel is decoded; ``None`` disables it). No other exception leaves it,
    and decoders' warnings are kept off stderr.

    ``decoder="auto"`` decodes the pixels of plain 8-bit PNGs (grey, grey +
    alpha, RGB, RGBA; not interlaced, not animated) with imgfilter's own
    decoder (:mod:`imgfilter.io.png`, about 1.5x Pillow's speed) and
    everything else with Pillow; ``"pillow"`` uses Pillow for all. Both
    give the same pixels and metadata (Pillow reads the metadata in both).
    """
    if decoder not in DECODERS:
        raise ValueError(f"decoder must be one of {', '.join(DECODERS)}, got {decoder!r}")
    return _read(os.fspath(path), max_pixels, decoder, stream=False)[0]


def read_image_rows(
    path: str | os.PathLike, *, max_pixels: int | None = DEFAULT_MAX_PIXELS
) -> tuple[Picture, Rows | None]:
    """:func:`read_image`, but the pixels may still be arriving: (picture, rows or None).

    A PNG that :mod:`imgfilter.io.png` decodes and that needs no EXIF
    rotation comes back at once with its metadata and its pixel array; its
    rows are decoded into that array on a thread of their own, and
    :meth:`Rows.wait` says when rows ``0..n`` are final. The CLI filters the
    first bands of an image while the last are still being inflated. None
    for every other file: its pixels are all there.
    """
    return _read(os.fspath(path), max_pixels, "auto", stream=True)


def _read(name: str, max_pixels: int | None, decoder: str, *, stream: bool) -> tuple[Picture, Rows | None]:
    printed: list[str] = []
    try:
        with _quiet_decoders() as printed:
            return _read_image(name, max_pixels, decoder, stream=stream)
    except Exception as exc:
        error = _as_read_error(name, exc)
    raise _with_library_note(error, printed) from None


def _as_read_error(name: str, exc: Exception) -> ImageError:
    """The one-line :class:`ImageError` a read that raised ``exc`` reports."""
    if isinstance(exc, ImageError):
        return exc
    if isinstance(exc, MemoryError):
        return ImageError(f"{name}: not enough memory to read this image")
    if isinstance(exc, RecursionError):
        return ImageError(f"{name}: cannot decode image (structure nested too deeply)")
    return ImageError(f"{name}: cannot decode image ({_one_line(exc)})")


class Rows:
    """The rows of a picture's pixel array being decoded on a thread of their own.

    :meth:`wait` blocks until rows ``0..n`` are final and raises the read's
    :class:`ImageError` (as :func:`read_image` would have) if the data break
    before them; :meth:`cancel` stops the decode at its next band (a run that
    failed or was interrupted).
    """

    def __init__(self, name: str, data: bytes, lay: png.Layout, pixels: np.ndarray) -> None:
        import threading

        self.name, self.height = name, lay.height
        self.done = 0
        self.error: ImageError | None = None
        self.finished = self.stop = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(
            target=self._run, args=(data, lay, pixels), name="png-rows", daemon=True
        )
        self._thread.start()

    def _run(self, data: bytes, lay: png.Layout, pixels: np.ndarray) -> None:
        error = None
        try:
            png.decode(data, lay, self.name, out=pixels, progress=self._progress)
        except Exception as exc:
            error = _as_read_error(self.name, exc)
        finally:
            with self._cond:
                self.error, self.finished = error, True
                self._cond.notify_all()

    def _progress(self, rows: int) -> bool:
        with self._cond:
            self.done = rows
            self._cond.notify_all()
        return not self.stop

    def wait(self, n: int | None = None) -> None:
        """Return once rows ``0..n`` (all rows if None) are decoded; ImageError if they never will be."""
        n = self.height if n is None else min(n, self.height)
        with self._cond:
            while self.done < n and not self.finished:
                self._cond.wait()
            if self.done < n:
                raise self.error or ImageError(f"{self.name}: cannot decode image (decoding stopped)")

    def cancel(self) -> None:
        """Stop decoding (the thread ends at its next band)."""
        self.stop = True


def _byte_limit(max_pixels: int | None) -> int | None:
    # 32 bytes a pixel holds any image up to the pixel limit uncompressed
    # (a float64 RGBA .npy), plus room for metadata and extra pages.
    return None if max_pixels is None else max_pixels * 32 + (64 << 20)


def _read_bytes(name: str, max_pixels: int | None) -> bytes:
    """The whole file, bounded: devices are refused, pipes read up to the limit."""
    limit = _byte_limit(max_pixels)
    try:
        if name == "-":
            if sys.stdin is None:  # started with <&-: Python gives no stream at all
                raise ImageError("-: standard input is closed; nothing to read")
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
            if name != "-":  # standard input stays open for whoever reads it next
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
    if im.format in NOT_FRAMES:
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


def _read_image(
    name: str, max_pixels: int | None, decoder: str = "auto", *, stream: bool = False
) -> tuple[Picture, Rows | None]:
    data = _read_bytes(name, max_pixels)
    if not data:
        raise ImageError(f"{name}: empty file")
    if data[:6] == b"\x93NUMPY":
        return _read_npy(name, data, max_pixels), None
    Image, _ = _pillow()
    from PIL import UnidentifiedImageError

    def open_():
        return Image.open(io.BytesIO(data), formats=READ_FORMATS)

    try:
        im = open_()
    except UnidentifiedImageError:
        if data[:4] in (b"II*\x00", b"MM\x00*"):
            return _read_tiff_tifffile(name, data, max_pixels), None
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
    lay = png.layout(data) if decoder == "auto" and im.format == "PNG" else None
    rows = None
    if lay is not None:
        # Pillow reads the metadata from the same chunks around a 1x1 image; the pixels are ours.
        im = Image.open(io.BytesIO(png.stub(data, lay)), formats=("PNG",))
        shape = (lay.height, lay.width, lay.samples) if lay.samples > 1 else (lay.height, lay.width)
        pixels = np.empty(shape, dtype=np.uint8)
        if stream and _upright(im):  # the array is the picture's as it fills
            pic = _from_pil(im, name, data=data, pixels=pixels)
            rows = Rows(name, data, lay, pixels)
        else:  # decoded first: an EXIF rotation copies the pixels
            png.decode(data, lay, name, out=pixels)
            pic = _from_pil(im, name, data=data, pixels=pixels)
    else:
        pic = _from_pil(im, name, reopen=open_, data=data)
    pic.extra.update(write_hints(im, data))
    return pic, rows


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
    # Arrays are data: a .npy declares no alpha, whatever its channel count.
    return Picture(pixels=arr, alpha=False, source=name)


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
