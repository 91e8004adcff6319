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
whole image, since the whole image is never in memory.

This module needs the ``dask`` extra (``pip install 'imgfilter[dask]'``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

DEFAULT_CHUNK = 2048  # pixels per side: about 4 Mpx, 8-32 MB a chunk
TIFF_TILE = 256


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


def _tiff_is_large(path: str) -> bool:
    """Whether ``path`` is a tiled TIFF or a BigTIFF (read from its header only)."""
    if path == "-" or os.path.splitext(path)[1].lower() not in (".tif", ".tiff"):
        return False
    if importlib.util.find_spec("tifffile") is None:
        return False
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
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
    """The image at ``src`` as a Dask array, read a chunk at a time where the format allows."""
    from .io import ImageError, _orient, read_image

    _needs_dask(src)
    import dask.array as da

    if is_zarr(src):
        import zarr

        try:
            z = zarr.open(src, mode="r")
        except Exception as exc:
            raise ImageError(f"{src}: cannot open as Zarr ({exc})") from None
        if not hasattr(z, "dtype"):
            raise ImageError(f"{src}: is a Zarr group, not an array; give the array's path")
        _check_array(src, z.shape, z.dtype)
        _guard(src, tuple(z.chunks), "Zarr chunk", max_pixels)
        arr = da.from_zarr(z)
        if chunks:
            arr = arr.rechunk(_chunking(tuple(z.shape), (1, 1), chunks))
        return _source(arr, None)

    if _tiff_is_large(src):
        import tifffile
        import zarr

        tif = tifffile.TiffFile(src)
        try:
            page, series = tif.pages[0], tif.series[0]
            axes = series.axes
            if axes not in ("YX", "YXS", "SYX"):
                raise ImageError(f"{src}: a TIFF with axes {axes!r} is not an image imgfilter reads lazily")
            unit = (
                (page.tilelength, page.tilewidth) if page.is_tiled else (page.rowsperstrip, page.imagewidth)
            )
            _guard(src, unit, "TIFF tile" if page.is_tiled else "TIFF strip", max_pixels)
            icc = page.tags.get(34675)
            orientation = page.tags.get(274)
            store = tif.aszarr(series=0, level=0)
            z = zarr.open(store, mode="r")
            planar = tuple(series.shape[1:]) + tuple(series.shape[:1]) if axes == "SYX" else series.shape
            _check_array(src, planar, series.dtype)
        except ImageError:
            tif.close()
            raise
        except Exception as exc:
            tif.close()
            raise ImageError(f"{src}: cannot read TIFF ({exc})") from None
        shape = tuple(series.shape)
        if axes == "SYX":
            shape = (*shape[1:], shape[0])
        spec = _chunking(shape, unit, chunks)
        _guard(src, spec, "chunk", max_pixels)
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
    spec = _chunking(pic.pixels.shape, (1, 1), chunks or DEFAULT_CHUNK)
    return LazySource(dataclasses.replace(pic, pixels=da.from_array(pic.pixels, chunks=spec)))


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


def _write_tiles(
    block: np.ndarray, y0: int, x0: int, path: str, offsets, tiles_across: int, tile: int
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
    return 1


def _write_tiff(dst: str, pixels, alpha: bool, icc: bytes | None, threads: int) -> None:
    import dask
    import tifffile

    pixels = _regular(pixels, TIFF_TILE)
    shape, dtype = tuple(pixels.shape), pixels.dtype
    channels = shape[2] if len(shape) == 3 else 1
    kw: dict[str, Any] = {"photometric": "rgb" if channels >= 3 else "minisblack"}
    if alpha:
        kw["extrasamples"] = ["unassalpha"]
    if len(shape) == 3 and channels == 1:
        pixels, shape = pixels[..., 0], shape[:2]
    with _staged(dst, folder=False) as tmp:
        # An empty tiled file first: uncompressed tiles have fixed places,
        # so each chunk writes its own tiles as soon as it is computed.
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
        writes = [
            dask.delayed(_write_tiles)(blocks[i, j], int(ys[i]), int(xs[j]), tmp, offsets, across, TIFF_TILE)
            for i in range(blocks.shape[0])
            for j in range(blocks.shape[1])
        ]
        _compute(*writes, threads=threads)


def _write_zarr(dst: str, pixels, threads: int) -> None:

    pixels = _regular(pixels, 1)
    with _staged(dst, folder=True) as tmp:
        _compute(pixels.to_zarr(tmp, overwrite=True, compute=False), threads=threads)


def _write_npy(dst: str, pixels, threads: int) -> None:
    """A .npy file filled chunk by chunk through a memory map."""
    import dask.array as da

    with _staged(dst, folder=False) as tmp:
        target = np.lib.format.open_memmap(tmp, mode="w+", dtype=pixels.dtype, shape=pixels.shape)
        _compute(da.store(pixels, target, lock=False, compute=False), threads=threads)
        target.flush()
        del target


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def process_lazy(src: str, dst: str, steps: list, io_kw: dict[str, Any], *, make_dirs: bool = False) -> None:
    """Read ``src`` lazily, run the steps chunk by chunk, write ``dst`` chunk by chunk."""
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
                    _write_zarr(dst, out, threads)
                elif fmt == "NPY":
                    _write_npy(dst, out, threads)
                else:
                    _write_tiff(dst, out, alpha, None if io_kw["strip_icc"] else pic.icc_profile, threads)
                return
            # No chunked writer for this format: the result is encoded whole.
            (result,) = _compute(pixels, threads=threads)
        except ImageError:
            raise
        except MemoryError:
            raise ImageError(f"{src}: not enough memory, even chunk by chunk; use smaller --chunks") from None
        except OSError as exc:
            raise ImageError(f"{src}: cannot read or write ({exc.strerror or _one_line(exc)})") from None
        except Exception as exc:  # a chunk that fails to decode (truncated tile, corrupt Zarr chunk)
            raise ImageError(f"{src}: cannot read ({_one_line(exc)})") from None
        write_output(dst, result, io_kw, depth=depth, metadata=pic, alpha=alpha)
    finally:
        if source.close is not None:
            source.close()
