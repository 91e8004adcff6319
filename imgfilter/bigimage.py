"""Images larger than memory: lazy reads, chunk-by-chunk filtering and writes.

The CLI takes this path when the input is a tiled TIFF, a BigTIFF or a Zarr
array, when the output is a ``.zarr`` folder, or when ``--chunks N`` is
given. The image is then a Dask array read a chunk at a time, every filter
runs chunk by chunk with its halo (:mod:`imgfilter.core.chunked`), and the
result is written a chunk at a time, so memory stays bounded by a few chunks
per thread whatever the image's size:

- ``.tif``/``.tiff`` output: an uncompressed tiled TIFF (BigTIFF once over
  2 GB), each chunk's tiles written in place as they are computed;
- ``.zarr`` output: a Zarr array chunked like the result (Zarr's default
  compression);
- any other output format is encoded whole, in memory.

Both outputs appear atomically: they are built under a hidden temporary name
beside the target and renamed into place only when complete.

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
import errno
import importlib.util
import logging
import os
import shutil
import struct
import sys
import tempfile
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

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


def is_zarr(path: str) -> bool:
    return path != "-" and os.path.splitext(path.rstrip("/\\"))[1].lower() == ".zarr"


def have_dask() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("dask", "zarr", "tifffile"))


def _needs_dask(src: str) -> None:
    from .io import ImageError

    if not have_dask():
        raise ImageError(
            f"{src}: chunked (out-of-core) filtering needs the dask extra: pip install 'imgfilter[dask]'"
        )


@contextlib.contextmanager
def _quiet_tifffile():
    """No tifffile log lines: what they report surfaces as the one-line error, or not at all."""
    log = logging.getLogger("tifffile")
    was = log.disabled
    log.disabled = True
    try:
        yield
    finally:
        log.disabled = was


def _silence_asyncio() -> None:
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
    from .io import ImageError

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
    from .io import ImageError

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


def _tiff_is_large(path: str) -> bool:
    """Whether ``path`` is a tiled TIFF or a BigTIFF (read from its header only)."""
    if path == "-" or os.path.splitext(path)[1].lower() not in (".tif", ".tiff"):
        return False
    if importlib.util.find_spec("tifffile") is None:
        return False
    import tifffile

    try:
        with _quiet_tifffile(), tifffile.TiffFile(path) as tif:
            return bool(tif.is_bigtiff or tif.pages[0].is_tiled)
    except Exception:  # not a TIFF tifffile reads: the normal reader reports it
        return False


def wants_lazy(src: str, dst: str, chunks: int | None) -> bool:
    """Whether the CLI should filter ``src`` chunk by chunk."""
    if chunks or is_zarr(src) or is_zarr(dst):
        return True
    # Without the extra, a tiled TIFF that fits is read whole, as before.
    return _tiff_is_large(src) and have_dask()


def _guard(src: str, unit: tuple[int, ...], what: str, max_pixels: int) -> None:
    from .io import ImageError

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
    the header before a pixel is read.
    """
    from .io import ImageError, _orient, read_image

    _needs_dask(src)
    import dask.array as da

    if is_zarr(src):
        import zarr

        try:
            z = zarr.open(src, mode="r")
        except Exception as exc:
            raise ImageError(f"{src}: cannot open as Zarr ({_one_line(exc)})") from None
        if not hasattr(z, "dtype"):
            raise ImageError(f"{src}: is a Zarr group, not an array; give the array's path")
        try:
            shape, stored = tuple(int(n) for n in z.shape), tuple(int(n) for n in z.chunks)
        except Exception as exc:  # a chunk grid dask cannot read either (irregular, damaged)
            raise ImageError(f"{src}: cannot read its Zarr chunks ({_one_line(exc)})") from None
        _check_array(src, shape, z.dtype)
        check_lazy(src, shape, stored, None, max_pixels)
        _guard(src, stored, "Zarr chunk", max_pixels)
        spec = _chunking(shape, stored[:2], chunks)
        if not chunks and spec[0] * spec[1] > max_pixels:
            spec = stored  # whole stored chunks, which fit
        check_lazy(src, shape, stored, spec, max_pixels)
        return _source(da.from_zarr(z, chunks=spec), None)

    if _tiff_is_large(src):
        import tifffile
        import zarr

        _walk_ifds(src)
        with _quiet_tifffile():
            tif = tifffile.TiffFile(src)
        try:
            with _quiet_tifffile():
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
            raise ImageError(f"{src}: cannot read TIFF ({_one_line(exc)})") from None
        if axes == "SYX":
            arr = da.from_zarr(z, chunks=(shape[2], *spec[:2])).transpose(1, 2, 0)
        else:
            arr = da.from_zarr(z, chunks=spec)
        if orientation is not None and orientation.value != 1:
            arr = _orient(arr, int(orientation.value))
        return _source(arr, icc.value if icc is not None else None, close=tif.close)

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
    from .io import ImageError

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

    from .io import ImageError

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
            f"{src}: damaged TIFF: its first {name} tile does not decode ({_one_line(exc)})"
        ) from None


def _check_array(src: str, shape: tuple, dtype: np.dtype) -> None:
    from .io import ImageError

    dtype = np.dtype(dtype)
    if len(shape) not in (2, 3) or (len(shape) == 3 and not 1 <= shape[2] <= 4):
        raise ImageError(f"{src}: expected (H, W) or (H, W, C) with 1-4 channels, got shape {tuple(shape)}")
    if dtype.kind not in "biuf" or dtype.itemsize > 8:
        raise ImageError(f"{src}: cannot filter pixels of type {dtype}")


def _source(arr, icc: bytes | None, close=None) -> LazySource:
    from .io import Picture

    alpha = arr.ndim == 3 and arr.shape[2] in (2, 4)
    return LazySource(Picture(pixels=arr, alpha=alpha, icc_profile=icc), close)


# ----------------------------------------------------------------- writing


def _regular(arr, tile: int):
    """Rechunk to equal chunks (the last may be short), a multiple of ``tile`` each."""
    spatial = tuple(
        min(n, -(-c[0] // tile) * tile) for n, c in zip(arr.shape[:2], arr.chunks[:2], strict=False)
    )
    return arr.rechunk(spatial + tuple(arr.shape[2:]))


@contextlib.contextmanager
def _staged(dst: str, folder: bool):
    """A hidden temporary path beside ``dst``, renamed onto it only on success."""
    from .io import ImageError

    parent = os.path.dirname(os.path.abspath(dst))
    if not os.path.isdir(parent):
        raise ImageError(f"{dst}: folder {os.path.dirname(dst)!r} does not exist")
    name = os.path.basename(dst.rstrip("/\\"))
    if folder:
        tmp = tempfile.mkdtemp(prefix=f".{name}.", suffix=".tmp", dir=parent)
    else:
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=parent)
        os.close(fd)
    try:
        yield tmp
        target = dst.rstrip("/\\")
        if folder and os.path.exists(target):
            # A folder cannot be replaced in one rename: the old one goes
            # aside first, and is deleted once the new one is in place.
            old = tempfile.mkdtemp(prefix=f".{name}.", suffix=".old", dir=parent)
            os.rmdir(old)
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            if not folder:
                from .io import _umask

                os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, target)
    except BaseException:
        if folder:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise


def _compute(*collections, threads: int):
    """dask.compute on a thread pool of our own, joined before returning or raising.

    Dask's threaded scheduler raises at the first failed task while others
    still run; waiting for them means no chunk is written into a temporary
    output after it has been removed.
    """
    import dask

    with ThreadPoolExecutor(threads) as pool:
        return dask.compute(*collections, scheduler="threads", pool=pool)


Tick = Any  # a callable of no arguments: one more chunk written


@contextlib.contextmanager
def _progress(total: int, show: bool):
    """The batch's progress bar (shown on a terminal only), counting chunks; yields tick()."""
    from .batch import ProgressBar, _NoBar

    lock = threading.Lock()  # chunks finish on the pool's threads
    bar = ProgressBar(total, sys.stderr) if show and total > 1 else _NoBar()
    bar.start()
    try:

        def tick() -> None:
            with lock:
                bar.update(1)

        yield tick
    finally:
        bar.finish()


def _check_space(dst: str, needed: int) -> None:
    """Refuse before writing when the output's folder cannot hold ``needed`` bytes."""
    from .io import ImageError

    parent = os.path.dirname(os.path.abspath(dst.rstrip("/\\")))
    try:
        free = shutil.disk_usage(parent).free
    except OSError:
        return  # a missing folder is reported by the writer
    if needed > free:
        raise ImageError(
            f"{dst}: needs {needed:,} bytes but {parent} has only {free:,} free; nothing was written"
        )


def _tiff_bytes(shape: tuple, itemsize: int, extra: int) -> int:
    """The size of the uncompressed tiled TIFF _write_tiff makes (tiles padded at the edge)."""
    tiles = -(-shape[0] // TIFF_TILE) * -(-shape[1] // TIFF_TILE)
    channels = shape[2] if len(shape) == 3 else 1
    return tiles * (TIFF_TILE * TIFF_TILE * channels * itemsize + 16) + extra + 4096


def _write_tiles(
    block: np.ndarray, y0: int, x0: int, path: str, offsets, tiles_across: int, tile: int, tick: Tick
) -> int:
    """Write the whole tiles covering one chunk (padded at the image's edge) in place."""
    fd = os.open(path, os.O_WRONLY)
    try:
        h, w = block.shape[:2]
        for ty in range(0, h, tile):
            for tx in range(0, w, tile):
                part = block[ty : ty + tile, tx : tx + tile]
                if part.shape[:2] != (tile, tile):
                    full = np.zeros((tile, tile, *block.shape[2:]), dtype=block.dtype)
                    full[: part.shape[0], : part.shape[1]] = part
                    part = full
                index = ((y0 + ty) // tile) * tiles_across + (x0 + tx) // tile
                os.pwrite(fd, np.ascontiguousarray(part).tobytes(), int(offsets[index]))
    finally:
        os.close(fd)
    tick()
    return 1


def _write_tiff(dst: str, pixels, alpha: bool, icc: bytes | None, threads: int, progress) -> None:
    import dask
    import tifffile

    pixels = _regular(pixels, TIFF_TILE)
    shape, dtype = tuple(pixels.shape), pixels.dtype
    _check_space(dst, _tiff_bytes(shape, dtype.itemsize, len(icc or b"")))
    channels = shape[2] if len(shape) == 3 else 1
    kw: dict[str, Any] = {"photometric": "rgb" if channels >= 3 else "minisblack"}
    if alpha:
        kw["extrasamples"] = ["unassalpha"]
    if len(shape) == 3 and channels == 1:
        pixels, shape = pixels[..., 0], shape[:2]
    with _staged(dst, folder=False) as tmp:
        # An empty tiled file first: uncompressed tiles have fixed places,
        # so each chunk writes its own tiles as soon as it is computed.
        # tifffile fills it with zeros, which also reserves the space.
        tifffile.imwrite(
            tmp,
            shape=shape,
            dtype=dtype,
            tile=(TIFF_TILE, TIFF_TILE),
            bigtiff=pixels.nbytes > 2**31,
            iccprofile=icc,
            **kw,
        )
        with tifffile.TiffFile(tmp) as tif:
            offsets = tif.pages[0].dataoffsets
        across = -(-shape[1] // TIFF_TILE)
        ys = np.cumsum((0, *pixels.chunks[0]))
        xs = np.cumsum((0, *pixels.chunks[1]))
        blocks = pixels.to_delayed()
        if blocks.ndim == 3:
            blocks = blocks[..., 0]
        with progress(blocks.shape[0] * blocks.shape[1]) as tick:
            writes = [
                dask.delayed(_write_tiles)(
                    blocks[i, j], int(ys[i]), int(xs[j]), tmp, offsets, across, TIFF_TILE, tick
                )
                for i in range(blocks.shape[0])
                for j in range(blocks.shape[1])
            ]
            _compute(*writes, threads=threads)


def _ticked(block: np.ndarray, tick: Tick) -> np.ndarray:
    tick()
    return block


def _write_zarr(dst: str, pixels, threads: int, progress) -> None:
    pixels = _regular(pixels, 1)
    # Zarr compresses, so its size is not known in advance: the
    # uncompressed size is the bound (noise-like results do not compress).
    _check_space(dst, int(pixels.nbytes))
    with _staged(dst, folder=True) as tmp, progress(int(pixels.npartitions)) as tick:
        ticked = pixels.map_blocks(_ticked, tick=tick, dtype=pixels.dtype, meta=pixels._meta)
        _compute(ticked.to_zarr(tmp, overwrite=True, compute=False), threads=threads)


def _write_rows(block: np.ndarray, y0: int, x0: int, fd: int, offset: int, shape: tuple, tick: Tick) -> int:
    """One chunk's rows into a C-ordered .npy file, by pwrite (a failed write raises, a memmap would SIGBUS)."""
    block = np.ascontiguousarray(block)
    pixel = block.itemsize * (int(np.prod(shape[2:])) if len(shape) > 2 else 1)
    if block.shape[1] == shape[1]:  # whole rows: one contiguous run
        os.pwrite(fd, block.tobytes(), offset + y0 * shape[1] * pixel)
    else:
        for r in range(block.shape[0]):
            os.pwrite(fd, block[r].tobytes(), offset + ((y0 + r) * shape[1] + x0) * pixel)
    tick()
    return 1


def _write_npy(dst: str, pixels, threads: int, progress) -> None:
    """A .npy file: its whole size reserved first, then filled chunk by chunk.

    No memory map: a page of one that the file system cannot back (a full
    disk) kills the process with SIGBUS. posix_fallocate fails cleanly
    instead, before any pixel is computed.
    """
    import dask

    shape, dtype = tuple(int(n) for n in pixels.shape), np.dtype(pixels.dtype)
    header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape}
    _check_space(dst, int(pixels.nbytes) + 4096)
    with _staged(dst, folder=False) as tmp:
        with open(tmp, "r+b") as fh:
            try:
                np.lib.format.write_array_header_1_0(fh, header)
            except ValueError:  # a header over 64 KB (never for an image), as numpy does
                np.lib.format.write_array_header_2_0(fh, header)
            offset = fh.tell()
            fh.flush()
            fd = fh.fileno()
            try:
                os.posix_fallocate(fd, 0, offset + int(pixels.nbytes))
            except (AttributeError, OSError) as exc:  # no fallocate here: a sparse file, as before
                if isinstance(exc, OSError) and exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
                    raise
                os.ftruncate(fd, offset + int(pixels.nbytes))
            ys = np.cumsum((0, *pixels.chunks[0]))
            xs = np.cumsum((0, *pixels.chunks[1]))
            blocks = pixels.to_delayed()
            blocks = blocks.reshape(blocks.shape[0], blocks.shape[1], -1)
            with progress(blocks.size) as tick:
                writes = [
                    dask.delayed(_write_rows)(
                        blocks[i, j, k], int(ys[i]), int(xs[j]), fd, offset, shape, tick
                    )
                    for i in range(blocks.shape[0])
                    for j in range(blocks.shape[1])
                    for k in range(blocks.shape[2])
                ]
                _compute(*writes, threads=threads)
            os.fsync(fd)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def process_lazy(src: str, dst: str, steps: list, io_kw: dict[str, Any], *, make_dirs: bool = False) -> None:
    """Read ``src`` lazily, run the steps chunk by chunk, write ``dst`` chunk by chunk."""
    try:
        with _quiet_tifffile():
            _process_lazy(src, dst, steps, io_kw, make_dirs=make_dirs)
    except BaseException:
        # Reads still pending on zarr's event loop would report themselves at exit.
        _silence_asyncio()
        raise


def _process_lazy(src: str, dst: str, steps: list, io_kw: dict[str, Any], *, make_dirs: bool) -> None:
    from .batch import apply_steps, write_output
    from .io import (
        DEFAULT_MAX_PIXELS,
        ImageError,
        check_depth,
        default_depth,
        default_source_max,
        file_pixels,
        format_for,
    )

    _needs_dask(src)
    import dask.array as da

    zarr_out = is_zarr(dst)
    fmt = "NPY" if zarr_out else format_for(dst, io_kw["fmt"])  # Zarr keeps results as .npy does
    source = open_lazy(src, io_kw.get("chunks"), io_kw["max_pixels"] or DEFAULT_MAX_PIXELS)
    pic = source.picture
    threads = io_kw["threads"] or os.cpu_count() or 1
    # A single file's run shows chunks done; in a batch the batch's bar counts files.
    show = not make_dirs and not io_kw.get("quiet") and sys.stderr.isatty()

    def progress(total: int):
        return _progress(total, show)

    try:
        pixels, alpha = apply_steps(src, steps, pic.pixels, pic.alpha, pic.icc_profile)
        # The float-to-file rule needs all channels of a pixel (alpha is the last one).
        pixels = pixels.rechunk({a: -1 for a in range(2, pixels.ndim)})
        depth = io_kw["depth"] or default_depth(fmt, pic.depth, pixels.dtype)
        if not zarr_out:
            check_depth(dst, fmt, depth)
        if make_dirs and os.path.dirname(dst):
            os.makedirs(os.path.dirname(dst), exist_ok=True)
        try:
            if zarr_out or (fmt in ("TIFF", "NPY") and dst != "-"):
                rule = {
                    "fmt": fmt,
                    "depth": depth,
                    "scale": io_kw["scale"],
                    "source_max": default_source_max(pic.depth, True),
                    "alpha": alpha,
                }
                if io_kw["scale"] == "stretch":
                    # The one rule that needs the whole image: a first pass finds its range.
                    colour = pixels[..., :-1] if alpha else pixels
                    finite = da.where(da.isfinite(colour), colour, np.nan)
                    lo, hi = _compute(da.nanmin(finite), da.nanmax(finite), threads=threads)
                    rule["span"] = (float(lo), float(hi)) if np.isfinite(lo) else (0.0, 0.0)
                sample = file_pixels(np.zeros((1, 1, *pixels.shape[2:]), dtype=pixels.dtype), **rule)
                out = pixels.map_blocks(file_pixels, dtype=sample.dtype, meta=sample[:0], **rule)
                if zarr_out:
                    _write_zarr(dst, out, threads, progress)
                elif fmt == "NPY":
                    _write_npy(dst, out, threads, progress)
                else:
                    icc = None if io_kw["strip_icc"] else pic.icc_profile
                    _write_tiff(dst, out, alpha, icc, threads, progress)
                return
            # No chunked writer for this format: the result is encoded whole.
            (result,) = _compute(pixels, threads=threads)
        except ImageError:
            raise
        except MemoryError:
            raise ImageError(f"{src}: not enough memory, even chunk by chunk; use smaller --chunks") from None
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise ImageError(f"{dst}: no space left on the device; nothing was written") from None
            raise ImageError(f"{src}: cannot read or write ({exc.strerror or _one_line(exc)})") from None
        except Exception as exc:  # a chunk that fails to decode (truncated tile, corrupt Zarr chunk)
            raise ImageError(f"{src}: cannot read ({_one_line(exc)})") from None
        write_output(dst, result, io_kw, depth=depth, metadata=pic, alpha=alpha)
    finally:
        if source.close is not None:
            source.close()
