"""Writing a Dask result chunk by chunk, with bounded memory.

- ``.tif``/``.tiff``: an uncompressed tiled TIFF (BigTIFF once over 2 GB),
  each chunk's tiles written in place as they are computed;
- ``.zarr``: a Zarr array chunked like the result (Zarr's default compression);
- ``.npy``: its whole size reserved first, then filled by ``pwrite``.

Each output is built under a hidden temporary name beside the target
(:func:`imgfilter.io.atomic.staged`) and renamed into place when complete;
its free space is checked before any pixel is computed.
"""

from __future__ import annotations

import errno
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from typing import Any

import numpy as np

from .atomic import staged
from .errors import ImageError

TIFF_TILE = 256

# ----------------------------------------------------------------- writing


def _regular(arr, tile: int):
    """Rechunk to equal chunks (the last may be short), a multiple of ``tile`` each."""
    spatial = tuple(
        min(n, -(-c[0] // tile) * tile) for n, c in zip(arr.shape[:2], arr.chunks[:2], strict=False)
    )
    return arr.rechunk(spatial + tuple(arr.shape[2:]))


def _quiet_numpy() -> None:
    # The pool's threads run the steps and the float-to-file rule, which
    # handle inf and NaN themselves (clip to the ends, NaN to 0): numpy's
    # RuntimeWarnings about them would only add lines to stderr.
    np.seterr(all="ignore")


def compute(*collections, threads: int):
    """dask.compute on a thread pool of our own, joined before returning or raising.

    Dask's threaded scheduler raises at the first failed task while others
    still run; waiting for them means no chunk is written into a temporary
    output after it has been removed. Dask waits for its tasks in a way no
    signal interrupts, so it runs on a thread of its own while this thread
    waits in short steps: a SIGTERM's handler (which removes the temporary
    outputs) runs at once, not when the chunk in flight ends.
    """
    import dask

    pool = ThreadPoolExecutor(threads, initializer=_quiet_numpy)
    runner = ThreadPoolExecutor(1)
    try:
        done = runner.submit(dask.compute, *collections, scheduler="threads", pool=pool)
        while True:
            try:
                return done.result(timeout=0.1)
            except FuturesTimeout:
                continue
    finally:
        pool.shutdown(wait=True)
        runner.shutdown(wait=True)


Tick = Any  # a callable of no arguments: one more chunk written


def _check_space(dst: str, needed: int) -> None:
    """Refuse before writing when the output's folder cannot hold ``needed`` bytes."""

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
    if channels in (2, 4):
        # Alpha is declared, never left to a reader's guess from the channel count.
        kw["extrasamples"] = ["unassalpha" if alpha else "unspecified"]
    if len(shape) == 3 and channels == 1:
        pixels, shape = pixels[..., 0], shape[:2]
    with staged(dst) as tmp:
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
            compute(*writes, threads=threads)


def _ticked(block: np.ndarray, tick: Tick) -> np.ndarray:
    tick()
    return block


def _write_zarr(dst: str, pixels, threads: int, progress) -> None:
    pixels = _regular(pixels, 1)
    # Zarr compresses, so its size is not known in advance: the
    # uncompressed size is the bound (noise-like results do not compress).
    _check_space(dst, int(pixels.nbytes))
    with staged(dst, folder=True) as tmp, progress(int(pixels.npartitions)) as tick:
        ticked = pixels.map_blocks(_ticked, tick=tick, dtype=pixels.dtype, meta=pixels._meta)
        compute(ticked.to_zarr(tmp, overwrite=True, compute=False), threads=threads)


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
    with staged(dst) as tmp:
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
                compute(*writes, threads=threads)
            os.fsync(fd)


CHUNKED_FORMATS = frozenset({"TIFF", "NPY"})  # besides Zarr, the formats written chunk by chunk


def write_chunked(
    dst: str,
    pixels,
    *,
    fmt: str,
    depth: str,
    scale: str,
    source_max: float,
    alpha: bool,
    icc: bytes | None,
    threads: int,
    progress,
) -> None:
    """Write a Dask result chunk by chunk: a Zarr folder, a tiled TIFF or a ``.npy``.

    The float-to-file rule runs on each chunk (``stretch`` first finds the
    whole image's range in one more pass). ``progress(total)`` is a context
    manager yielding ``tick()``, called once per chunk written. An ICC
    profile whose colour space does not fit the result (an RGB profile on a
    grey result) is left out, as the whole-file writer does.
    """
    import dask.array as da

    from .formats import is_zarr
    from .metadata import icc_for_output
    from .values import file_pixels

    # The float-to-file rule needs all channels of a pixel (alpha is the last one).
    pixels = pixels.rechunk({a: -1 for a in range(2, pixels.ndim)})
    rule: dict[str, Any] = {
        "fmt": fmt,
        "depth": depth,
        "scale": scale,
        "source_max": source_max,
        "alpha": alpha,
    }
    if scale == "stretch":
        colour = pixels[..., :-1] if alpha else pixels
        finite = da.where(da.isfinite(colour), colour, np.nan)
        lo, hi = compute(da.nanmin(finite), da.nanmax(finite), threads=threads)
        rule["span"] = (float(lo), float(hi)) if np.isfinite(lo) else (0.0, 0.0)
    with np.errstate(all="ignore"):
        sample = file_pixels(np.zeros((1, 1, *pixels.shape[2:]), dtype=pixels.dtype), **rule)
    out = pixels.map_blocks(file_pixels, dtype=sample.dtype, meta=sample[:0], **rule)
    if is_zarr(dst):
        _write_zarr(dst, out, threads, progress)
    elif fmt == "NPY":
        _write_npy(dst, out, threads, progress)
    else:
        channels = out.shape[2] if out.ndim == 3 else 1
        _write_tiff(dst, out, alpha, icc_for_output(icc, channels), threads, progress)
