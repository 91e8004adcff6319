"""Images larger than memory, read lazily: tiled TIFF, BigTIFF and Zarr as Dask arrays.

The run takes this path (:func:`imgfilter.run.one.wants_lazy`) when the
input is a tiled TIFF, a BigTIFF or a Zarr array, when the output is a
``.zarr`` folder, or when ``--chunks N`` is given. The image is then a Dask
array read a chunk at a time; every filter runs chunk by chunk with its halo
(:mod:`imgfilter.core.chunked`) and :mod:`imgfilter.io.chunked` writes the
result a chunk at a time, so memory stays bounded by a few chunks per thread.

The decompression-bomb guard (``--max-pixels``) bounds what is decoded at
once: for a lazy read that is one chunk (and one TIFF tile or strip), not the
whole image, since the whole image is never in memory. A lazy input has its
own bounds, checked from its header before any work (:func:`check_lazy`): at
most ``LAZY_FACTOR`` times ``--max-pixels`` pixels in all, at most
``MAX_STORED_CHUNKS`` stored tiles, strips or Zarr chunks (more if they
average 64 x 64 pixels or more), at most
``MAX_TASKS`` Dask chunks, and for TIFF at most ``MAX_IFDS`` pages in a chain
that does not loop. Chunked outputs are checked against the free space of
their folder before writing, and a ``.npy`` output reserves its space first.

This module needs the ``dask`` extra (``pip install 'imgfilter[dask]'``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import logging
import os
import struct
import sys
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from .decoders import _quiet_decoders
from .errors import ImageError
from .formats import is_zarr
from .picture import Picture

DEFAULT_CHUNK = 2048  # pixels per side: about 4 Mpx, 8-32 MB a chunk
TIFF_TILE = 256
# The bounds of a lazy input, so that a header claiming a huge image is
# refused at once rather than filling memory or the disk. The whole image may
# hold LAZY_FACTOR x --max-pixels pixels (22.9 Gpx, 151,000 px a side, at the
# default), raised with --max-pixels.
LAZY_FACTOR = 256
# Each stored tile, strip or Zarr chunk is a read: about 170 us for a Zarr
# chunk (262,144 chunks of 8x8 took 45 s), a cost that matters only when
# chunks are tiny. So at most MAX_STORED_CHUNKS of them, or more when they
# average STORED_PIXELS pixels (64x64) or more, where their reads cost
# little beside the filtering.
MAX_STORED_CHUNKS = 100_000
STORED_PIXELS = 4096
# Each Dask chunk costs about 3 ms and 30 KB of task graph per filter
# (measured: Sobel over 16,384 chunks of 16x16, 47 s and 540 MB), so small
# --chunks on a large image are refused rather than left to crawl.
MAX_TASKS = 16_384
MAX_IFDS = 1024  # pages in a TIFF's IFD chain; tifffile indexes every one


@dataclass
class LazySource:
    """A lazily read image: a Picture whose pixels are a Dask array, and how to release the file."""

    picture: Any  # imgfilter.io.Picture with dask pixels, (H, W) or (H, W, C)
    close: Any = None


def have_dask() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("dask", "zarr", "tifffile"))


def needs_dask(src: str) -> None:

    if not have_dask():
        raise ImageError(
            f"{src}: chunked (out-of-core) filtering needs the dask extra: pip install 'imgfilter[dask]'"
        )


@contextlib.contextmanager
def quiet_tifffile():
    """No tifffile log lines: what they report surfaces as the one-line error, or not at all."""
    log = logging.getLogger("tifffile")
    was = log.disabled
    log.disabled = True
    try:
        yield
    finally:
        log.disabled = was


def silence_asyncio() -> None:
    """After a failed read, zarr's pending asyncio tasks would print hundreds of lines at exit.

    They report through asyncio's logger ("Task was destroyed but it is
    pending!"), as unraisable exceptions of their coroutines once zarr's loop
    is closed, and as "never awaited" warnings; the one-line error has
    already said what failed.
    """
    import asyncio
    import inspect

    logging.getLogger("asyncio").disabled = True
    warnings.filterwarnings("ignore", message="coroutine .* was never awaited", category=RuntimeWarning)
    previous = sys.unraisablehook
    if getattr(previous, "_imgfilter_quiet", False):
        return

    def hook(unraisable) -> None:
        obj = unraisable.object
        if inspect.iscoroutine(obj) or isinstance(obj, asyncio.Future):
            return
        previous(unraisable)

    hook._imgfilter_quiet = True  # type: ignore[attr-defined]
    sys.unraisablehook = hook


def _walk_ifds(path: str) -> None:
    """Refuse a TIFF whose IFD chain loops or is longer than MAX_IFDS, from its bytes alone.

    tifffile follows the whole chain to build its series, so a damaged chain
    costs time before any pixel is read; this walk reads a few bytes per IFD.
    """

    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        head = fh.read(16)
        order = {b"II": "<", b"MM": ">"}.get(head[:2])
        if order is None or len(head) < 8:
            return  # not a TIFF header: tifffile reports it
        version = struct.unpack(order + "H", head[2:4])[0]
        if version == 42:
            offset, count_fmt, entry, next_fmt = struct.unpack(order + "I", head[4:8])[0], "H", 12, "I"
        elif version == 43 and len(head) == 16:
            offset, count_fmt, entry, next_fmt = struct.unpack(order + "Q", head[8:16])[0], "Q", 20, "Q"
        else:
            return
        count_size, next_size = struct.calcsize(count_fmt), struct.calcsize(next_fmt)
        seen: set[int] = set()
        while 0 < offset <= size - count_size:
            if offset in seen:
                raise ImageError(f"{path}: damaged TIFF: its chain of pages loops back on itself")
            if len(seen) == MAX_IFDS:
                raise ImageError(
                    f"{path}: a TIFF of more than {MAX_IFDS} pages is not read lazily (limit {MAX_IFDS})"
                )
            seen.add(offset)
            fh.seek(offset)
            (count,) = struct.unpack(order + count_fmt, fh.read(count_size))
            at = offset + count_size + count * entry
            if at + next_size > size:
                return  # a cut IFD: tifffile reports what it cannot read
            fh.seek(at)
            (offset,) = struct.unpack(order + next_fmt, fh.read(next_size))


def check_lazy(
    src: str, shape: tuple, stored: tuple[int, ...], chunks: tuple[int, ...] | None, max_pixels: int
) -> None:
    """The lazy-input rule, from the header alone: refuse before any work.

    ``stored`` is the storage unit (TIFF tile or strip, Zarr chunk) and
    ``chunks`` the Dask chunk (None: not chosen yet), per axis of ``shape``.
    """

    if any(int(n) < 1 for n in shape[:2]):
        raise ImageError(f"{src}: the image has no pixels (shape {tuple(shape)})")
    if any(int(u) < 1 for u in (*stored, *(chunks or ()))):
        raise ImageError(f"{src}: damaged header: a tile, strip or chunk of size {tuple(stored)}")
    pixels = int(shape[0]) * int(shape[1])
    limit = LAZY_FACTOR * max_pixels
    if pixels > limit:
        raise ImageError(
            f"{src}: {shape[0]}x{shape[1]} = {pixels} pixels is over the limit of {limit} for a lazy "
            f"image ({LAZY_FACTOR} x --max-pixels; raise it with --max-pixels)"
        )

    def count(unit: tuple[int, ...]) -> int:
        n = 1
        for size, u in zip(shape, unit, strict=False):
            n *= -(-int(size) // int(u))
        return n

    n, most = count(stored), max(MAX_STORED_CHUNKS, pixels // STORED_PIXELS)
    if n > most:
        raise ImageError(
            f"{src}: {n} stored tiles or chunks of {'x'.join(map(str, stored))} are over the limit of "
            f"{most} for a lazy read of {shape[0]}x{shape[1]} (store it in larger tiles or chunks)"
        )
    n = 0 if chunks is None else count(chunks)
    if n > MAX_TASKS:
        raise ImageError(
            f"{src}: {n} chunks of {'x'.join(map(str, chunks[:2]))} are over the limit of {MAX_TASKS} "
            "for a lazy run (use larger --chunks)"
        )


def is_large_tiff(path: str) -> bool:
    """Whether ``path`` is a tiled TIFF or a BigTIFF (read from its header only)."""
    if path == "-" or os.path.splitext(path)[1].lower() not in (".tif", ".tiff"):
        return False
    if importlib.util.find_spec("tifffile") is None:
        return False
    import tifffile

    try:
        with _quiet_decoders(), tifffile.TiffFile(path) as tif:
            return bool(tif.is_bigtiff or tif.pages[0].is_tiled)
    except Exception:  # not a TIFF tifffile reads: the normal reader reports it
        return False


def _guard(src: str, unit: tuple[int, ...], what: str, max_pixels: int) -> None:

    pixels = int(np.prod(unit[:2]))
    if pixels > max_pixels:
        raise ImageError(
            f"{src}: a {what} of {unit[0]}x{unit[1]} = {pixels} pixels is over the limit of "
            f"{max_pixels} decoded at once (raise it with --max-pixels, or use smaller --chunks)"
        )


def _chunking(shape: tuple[int, ...], unit: tuple[int, int], chunks: int | None) -> tuple:
    """Dask chunks: --chunks N, else whole storage units (tiles, strips) near 2048 px a side."""
    if chunks:
        spatial = (chunks, chunks)
    else:
        spatial = tuple(
            min(n, max(u, -(-DEFAULT_CHUNK // u) * u) if u < n else n)
            for n, u in zip(shape[:2], unit, strict=False)
        )
        if unit[1] >= shape[1] and unit[0] < shape[0]:
            # Strips span the width: keep about 4 Mpx a chunk, in whole strips.
            rows = max(unit[0], (DEFAULT_CHUNK * DEFAULT_CHUNK // max(shape[1], 1)) // unit[0] * unit[0])
            spatial = (min(rows, shape[0]), shape[1])
    return spatial + tuple(shape[2:])


def open_lazy(src: str, chunks: int | None, max_pixels: int) -> LazySource:
    """The image at ``src`` as a Dask array, read a chunk at a time where the format allows.

    Every bound of the lazy-input rule (:func:`check_lazy`) is checked from
    the header before a pixel is read. Alpha is what the file declares (a
    TIFF's ExtraSamples, a PNG's mode), never guessed from the channel
    count: a Zarr array has none.
    """
    from .read import _orient, read_image

    needs_dask(src)
    import dask.array as da

    if is_zarr(src):
        import zarr

        try:
            z = zarr.open(src, mode="r")
        except Exception as exc:
            raise ImageError(f"{src}: cannot open as Zarr ({first_line(exc)})") from None
        if not hasattr(z, "dtype"):
            raise ImageError(f"{src}: is a Zarr group, not an array; give the array's path")
        try:
            shape, stored = tuple(int(n) for n in z.shape), tuple(int(n) for n in z.chunks)
        except Exception as exc:  # a chunk grid dask cannot read either (irregular, damaged)
            raise ImageError(f"{src}: cannot read its Zarr chunks ({first_line(exc)})") from None
        _check_array(src, shape, z.dtype)
        check_lazy(src, shape, stored, None, max_pixels)
        _guard(src, stored, "Zarr chunk", max_pixels)
        spec = _chunking(shape, stored[:2], chunks)
        if not chunks and spec[0] * spec[1] > max_pixels:
            spec = stored  # whole stored chunks, which fit
        check_lazy(src, shape, stored, spec, max_pixels)
        return _source(da.from_zarr(z, chunks=spec), None, False)  # arrays are data: no alpha

    if is_large_tiff(src):
        import tifffile
        import zarr

        _walk_ifds(src)
        with _quiet_decoders():
            tif = tifffile.TiffFile(src)
        try:
            with _quiet_decoders():
                page = tif.pages[0]
                shape, unit = _tiff_layout(src, page, max_pixels)
                _check_codec(src, tif, page)
                series = tif.series[0]
            axes = series.axes
            if axes not in ("YX", "YXS", "SYX"):
                raise ImageError(f"{src}: a TIFF with axes {axes!r} is not an image imgfilter reads lazily")
            _guard(src, unit, "TIFF tile" if page.is_tiled else "TIFF strip", max_pixels)
            icc = page.tags.get(34675)
            orientation = page.tags.get(274)
            store = tif.aszarr(series=0, level=0)
            z = zarr.open(store, mode="r")
            planar = tuple(series.shape[1:]) + tuple(series.shape[:1]) if axes == "SYX" else series.shape
            _check_array(src, planar, series.dtype)
            shape = tuple(series.shape)
            if axes == "SYX":
                shape = (*shape[1:], shape[0])
            spec = _chunking(shape, unit, chunks)
            _guard(src, spec, "chunk", max_pixels)
            check_lazy(src, shape, (*unit, *shape[2:]), spec, max_pixels)
        except ImageError:
            tif.close()
            raise
        except Exception as exc:
            tif.close()
            raise ImageError(f"{src}: cannot read TIFF ({first_line(exc)})") from None
        if axes == "SYX":
            arr = da.from_zarr(z, chunks=(shape[2], *spec[:2])).transpose(1, 2, 0)
        else:
            arr = da.from_zarr(z, chunks=spec)
        if orientation is not None and orientation.value != 1:
            arr = _orient(arr, int(orientation.value))
        # Alpha only where the file declares it (ExtraSamples 1 or 2): a channel count says nothing.
        alpha = bool(page.extrasamples) and int(page.extrasamples[-1]) in (1, 2)
        return _source(arr, icc.value if icc is not None else None, alpha, close=tif.close)

    # Formats without random access: decoded whole (the full bomb guard
    # applies), then filtered and written chunk by chunk.
    pic = read_image(src, max_pixels=max_pixels)
    shape = pic.pixels.shape
    spec = _chunking(shape, (1, 1), chunks or DEFAULT_CHUNK)
    check_lazy(src, shape, shape, spec, max_pixels)
    return LazySource(dataclasses.replace(pic, pixels=da.from_array(pic.pixels, chunks=spec)))


def _tiff_layout(src: str, page, max_pixels: int) -> tuple[tuple[int, ...], tuple[int, int]]:
    """The first page's shape and storage unit, checked against its header before any read.

    A header can claim any size; the tile or strip offsets it must also hold
    are what a tiny damaged file cannot fake, so their count and extent are
    checked too (an offset of 0 with no bytes is an empty tile, as tifffile
    reads it).
    """

    height, width = int(page.imagelength), int(page.imagewidth)
    samples = int(page.samplesperpixel)
    if page.is_tiled:
        unit = (int(page.tilelength), int(page.tilewidth))
    else:
        unit = (min(int(page.rowsperstrip), height), width)
    shape = (height, width, samples) if samples > 1 else (height, width)
    separate = samples > 1 and page.planarconfig == 2
    stored = (*unit, 1 if separate else samples)[: len(shape)]
    check_lazy(src, shape, stored, None, max_pixels)
    expected = -(-height // unit[0]) * -(-width // unit[1]) * (samples if separate else 1)
    offsets, counts = page.dataoffsets, page.databytecounts
    what = "tile" if page.is_tiled else "strip"
    if len(offsets) != expected or len(counts) != expected:
        raise ImageError(
            f"{src}: damaged TIFF: {len(offsets)} {what} offsets for {expected} {what}s "
            f"of {unit[0]}x{unit[1]} in {height}x{width}"
        )
    ends = np.asarray(offsets, dtype=np.uint64) + np.asarray(counts, dtype=np.uint64)
    if expected and int(ends.max()) > os.path.getsize(src):
        raise ImageError(f"{src}: damaged or cut TIFF: {what}s lie past the end of the file")
    return shape, unit


def _check_codec(src: str, tif, page) -> None:
    """Decode the first stored tile or strip now: a missing codec or a damaged first tile is
    one line before any work, not a failure in the middle of the run."""
    import tifffile

    name = getattr(page.compression, "name", str(page.compression)).lower()
    try:
        tifffile.TIFF.DECOMPRESSORS[page.compression]
    except KeyError:
        raise ImageError(
            f"{src}: its {name} tiles need the imagecodecs package: pip install 'imgfilter[dask]'"
        ) from None
    index = next((i for i, n in enumerate(page.databytecounts) if n), None)
    if index is None:
        return  # every tile empty: read as zeros, as tifffile does
    fh = tif.filehandle
    fh.seek(page.dataoffsets[index])
    data = fh.read(page.databytecounts[index])
    try:
        page.decode(data, index, jpegtables=page.jpegtables)
    except ImportError:
        raise ImageError(
            f"{src}: its {name} tiles need the imagecodecs package: pip install 'imgfilter[dask]'"
        ) from None
    except Exception as exc:
        raise ImageError(
            f"{src}: damaged TIFF: its first {name} tile does not decode ({first_line(exc)})"
        ) from None


def _check_array(src: str, shape: tuple, dtype: np.dtype) -> None:
    dtype = np.dtype(dtype)
    if len(shape) not in (2, 3) or (len(shape) == 3 and not 1 <= shape[2] <= 4):
        raise ImageError(f"{src}: expected (H, W) or (H, W, C) with 1-4 channels, got shape {tuple(shape)}")
    if dtype.kind not in "biuf" or dtype.itemsize > 8:
        raise ImageError(f"{src}: cannot filter pixels of type {dtype}")


def _source(arr, icc: bytes | None, alpha: bool, close=None) -> LazySource:
    return LazySource(Picture(pixels=arr, alpha=alpha, icc_profile=icc), close)


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
