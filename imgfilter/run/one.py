"""One file, start to end: read (eager or lazy) -> steps -> write (whole or chunked).

This is the whole route of an image through imgfilter, in one place:

1. :func:`wants_lazy` picks the path: a tiled TIFF, a BigTIFF, a Zarr array,
   a ``.zarr`` output or ``--chunks`` go lazy (Dask, chunk by chunk); the
   rest is read whole.
2. read: :func:`imgfilter.io.read.read_image_rows` (a :class:`Picture` of
   numpy pixels, whose rows may still be arriving: the bands of step 3 wait
   for theirs) or :func:`imgfilter.io.lazy.open_lazy` (Dask pixels).
3. steps: :func:`apply_steps` runs each filter on the full-precision result
   of the one before; errors become one line naming the input.
4. write: :func:`imgfilter.io.write.write_array` (the whole file, atomically)
   or :func:`imgfilter.io.chunked.write_chunked` (a TIFF, ``.npy`` or Zarr
   output a chunk at a time).

The output's format was resolved once, when the job was planned (``job.fmt``);
its depth is resolved once here, from the source, before any filtering.
"""

from __future__ import annotations

import errno
import os
from typing import Any

from ..io import read, write
from ..io.errors import ImageError
from ..io.formats import DEFAULT_MAX_PIXELS, check_depth, is_zarr
from .jobs import Job
from .options import RunOptions, Step, WriteOptions
from .progress import chunk_progress, say, stderr_is_terminal


def wants_lazy(src: str, dst: str, chunks: int | None) -> bool:
    """Whether ``src`` is filtered chunk by chunk."""
    from ..io import lazy

    if chunks or is_zarr(src) or is_zarr(dst):
        return True
    # Without the extra, a tiled TIFF that fits is read whole, as before.
    return lazy.is_large_tiff(src) and lazy.have_dask()


def process_one(job: Job, steps: list[Step], options: RunOptions, *, make_dirs: bool = False) -> None:
    """Read, filter, write one file; raises ImageError with a one-line reason.

    ``make_dirs`` creates the output's folder (a batch keeping a folder's
    layout); a single OUTPUT in a missing folder is an error, as with cp.
    """
    if job.problem is not None:
        raise ImageError(job.problem)
    if wants_lazy(job.src, job.dst, options.read.chunks):
        _process_lazy(job, steps, options, make_dirs=make_dirs)
        return
    # A PNG's rows may still be arriving (read_image_rows): the bands wait for theirs.
    pic, rows = read.read_image_rows(job.src, max_pixels=options.read.max_pixels or DEFAULT_MAX_PIXELS)
    try:
        depth = options.write.depth
        if depth is not None:
            check_depth(job.dst, job.fmt, depth)
        elif pic.depth == "16":
            # A 16-bit source is never reduced silently: refused before any filtering.
            from ..io.values import default_depth

            check_depth(job.dst, job.fmt, default_depth(job.fmt, pic.depth))
        warn_linear(job.src, steps, pic.icc_profile)
        banded = _run_banded(job, steps, pic, options.write, depth, rows)
        if banded is not None:
            _make_parent(job.dst, make_dirs)
            _write_banded(job, banded, options.write, metadata=pic)
            return
        if rows is not None:
            rows.wait()
        pixels, alpha = run_steps(job.src, steps, pic.pixels, pic.alpha)
        _make_parent(job.dst, make_dirs)
        write_whole(job, pixels, options.write, depth=depth, metadata=pic, alpha=alpha)
    finally:
        if rows is not None:
            rows.cancel()  # a run that failed (or Ctrl-C) decodes no further


def write_whole(job: Job, pixels: Any, out: WriteOptions, *, depth, metadata, alpha: bool) -> None:
    """The whole result as one file, atomically, with the command's output options."""
    write.write_array(
        job.dst,
        pixels,
        job.fmt,
        depth=depth,
        scale=out.scale,
        metadata=metadata,
        alpha=alpha,
        quality=out.quality,
        subsampling=out.subsampling,
        lossless=out.lossless,
        compression=out.compression,
        strip=out.strip,
        strip_icc=out.strip_icc,
    )


def apply_steps(src: str, steps: list[Step], pixels: Any, alpha: bool, icc: bytes | None):
    """Run the steps (NumPy or Dask pixels); errors become one-line ImageErrors naming ``src``.

    numpy's warnings about inf and NaN are silenced: the float-to-file rule
    handles those values (clip to the ends, NaN to 0), and a warning would
    only add lines to stderr.
    """
    warn_linear(src, steps, icc)
    return run_steps(src, steps, pixels, alpha)


def warn_linear(src: str, steps: list[Step], icc: bytes | None) -> None:
    """Say once per file that --linear takes a profile other than sRGB as sRGB."""
    if any(step.linear for step in steps) and icc and not is_srgb(icc):
        say(f"warning: {src}: its ICC profile is not sRGB; --linear treats it as sRGB")


def run_steps(src: str, steps: list[Step], pixels: Any, alpha: bool):
    """:func:`apply_steps` without the ICC warning (a band of the image is one call)."""
    import numpy as np

    from ..core.names import OptionError

    try:
        with np.errstate(all="ignore"):
            for step in steps:
                pixels, alpha = step.fn(pixels, alpha)
    except (ValueError, TypeError, OptionError) as exc:
        raise ImageError(f"{src}: {exc}") from None
    except MemoryError:
        raise ImageError(f"{src}: not enough memory for this image") from None
    return pixels, alpha


# ------------------------------------------------------------ the banded path

#: Bytes of float32 result a band aims at: the filter's own bands (threads,
#: cache) run inside it, and its result is converted to file values at once,
#: so no whole-image float result exists (100 MB for a 4K RGB Sobel).
BAND_RESULT_BYTES = 1 << 22


def band_plan(steps: list[Step], shape: tuple[int, ...], fmt: str, scale: str) -> tuple[int, int] | None:
    """(rows per band, rows of context each side) for running ``steps`` band by band, or None.

    Only steps that declare the rows they read (:meth:`Step.reach`) are
    banded, and only where every file value depends on its own result value
    alone: ``stretch`` needs the whole image's span, and a float .npy keeps
    the float result itself. Images of few bands run whole (no gain).
    """
    if fmt == "NPY" or scale == "stretch" or len(shape) not in (2, 3) or not steps:
        return None
    reach = 0
    for step in steps:
        r = step.reach(shape)
        if r is None:
            return None
        reach += r
    h = shape[0]
    row_bytes = 4 * max(1, shape[1]) * (shape[2] if len(shape) == 3 else 1)
    # At least 4 rows of output per row of context: re-reading the halo stays cheap.
    rows = max(16, 4 * reach, BAND_RESULT_BYTES // row_bytes)
    if 2 * rows > h:
        return None
    return rows, reach


def _run_banded(job: Job, steps: list[Step], pic: Any, out: WriteOptions, depth: str | None, rows=None):
    """The steps and the float-to-file rule, band by band: a started :class:`_Bands`, or None.

    Each band of output rows is computed from its input rows plus the
    steps' context (the filter borders the slab's cut edges, but the rows
    those reach are the context, dropped), so every kept value is the one
    the whole image gives; each is converted to the file's values at once.
    None (nothing done): the steps run on the whole image instead. With
    ``rows`` (:class:`imgfilter.io.read.Rows`), each band first waits for the
    input rows it reads.
    """
    import numpy as np

    from ..io.values import default_depth, source_scale

    pixels = pic.pixels
    if not isinstance(pixels, np.ndarray):
        return None
    plan = band_plan(steps, tuple(pixels.shape), job.fmt, out.scale)
    if plan is None:
        return None
    src_depth, source_max = source_scale(pixels)
    if depth is None:
        depth = default_depth(job.fmt, src_depth)
    check_depth(job.dst, job.fmt, depth)
    bands = _Bands(job, steps, pic, out.scale, depth, source_max, *plan, rows)
    # The first band on this thread: it gives the result's type and shape, and
    # a step that turns out not to keep the rows leaves the whole image to decide.
    if not bands.first():
        return None
    if bands.result.ndim == 3 and not 1 <= bands.result.shape[2] <= 4:
        raise ImageError(f"{job.dst}: cannot write an array of shape {bands.result.shape} as an image")
    return bands


class _Bands:
    """The bands of one image, computed on a thread of their own while the encoder takes
    the rows done (zlib and the filters release the GIL: the two overlap)."""

    def __init__(self, job, steps, pic, scale, depth, source_max, rows, reach, arriving=None):
        import threading

        self.job, self.steps, self.pic = job, steps, pic
        self.scale, self.depth, self.source_max = scale, depth, source_max
        self.rows, self.reach = rows, reach
        self.arriving = arriving  # the input's Rows, or None when every row is there
        self.h = pic.pixels.shape[0]
        self.result = None
        self.alpha = pic.alpha
        self.done = 0
        self.error: BaseException | None = None
        self.stop = False
        self.cond = threading.Condition()

    def _band(self, r0: int):
        import numpy as np

        from ..io.values import file_pixels

        h, job = self.h, self.job
        r1 = min(h, r0 + self.rows)
        s0, s1 = max(0, r0 - self.reach), min(h, r1 + self.reach)
        if self.arriving is not None:
            self.arriving.wait(s1)
        band, alpha = run_steps(job.src, self.steps, self.pic.pixels[s0:s1], self.pic.alpha)
        if not isinstance(band, np.ndarray) or band.shape[0] != s1 - s0 or band.ndim not in (2, 3):
            return None, alpha
        try:
            values = file_pixels(
                band[r0 - s0 : r1 - s0],
                fmt=job.fmt,
                depth=self.depth,
                scale=self.scale,
                source_max=self.source_max,
                alpha=alpha,
            )
        except MemoryError:
            raise ImageError(f"{job.src}: not enough memory for this image") from None
        return values, alpha

    def first(self) -> bool:
        import numpy as np

        values, self.alpha = self._band(0)
        if values is None:
            return False
        try:
            self.result = np.empty((self.h, *values.shape[1:]), dtype=values.dtype)
        except MemoryError:
            raise ImageError(f"{self.job.src}: not enough memory for this image") from None
        self.result[: len(values)] = values
        self.done = len(values)
        return True

    def start(self) -> None:
        import threading

        # Not named "imgfilter...": the filters' band pool runs inline on its own threads only.
        threading.Thread(target=self._rest, name="bands-of-one-image", daemon=True).start()

    def _rest(self) -> None:
        import numpy as np

        try:
            with np.errstate(all="ignore"):
                for r0 in range(self.done, self.h, self.rows):
                    if self.stop:
                        return
                    values, _ = self._band(r0)
                    if values is None or values.shape[1:] != self.result.shape[1:]:
                        raise ImageError(f"{self.job.src}: a step changed the image's size band by band")
                    self.result[r0 : r0 + len(values)] = values
                    with self.cond:
                        self.done = r0 + len(values)
                        self.cond.notify_all()
        except BaseException as exc:  # handed to the encoder's thread, which raises it
            with self.cond:
                self.error = exc
                self.cond.notify_all()

    def ready(self, n: int) -> None:
        """Return once rows ``0..n`` are done (the encoder's ``ready``)."""
        from ..io.write import RowsFailed

        with self.cond:
            while self.done < n and self.error is None:
                self.cond.wait()
            if self.error is not None:
                raise RowsFailed(self.error)


def _write_banded(job: Job, bands: _Bands, out: WriteOptions, *, metadata) -> None:
    from ..io.write import RowsFailed

    bands.start()
    try:
        write.write_file_pixels(
            job.dst,
            bands.result,
            job.fmt,
            metadata,
            quality=out.quality,
            subsampling=out.subsampling,
            lossless=out.lossless,
            compression=out.compression,
            strip=out.strip,
            strip_icc=out.strip_icc,
            ready=bands.ready,
        )
    except RowsFailed as failed:
        raise failed.error from None
    finally:
        bands.stop = True  # a write that failed (or Ctrl-C) stops the bands still to come


def is_srgb(icc: bytes) -> bool:
    """Whether an ICC profile describes sRGB (by its description); True if unknown."""
    try:
        import io

        from PIL import ImageCms

        return "srgb" in ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc))).lower()
    except Exception:  # no littlecms, or an unreadable profile: say nothing
        return True


def _make_parent(dst: str, make_dirs: bool) -> None:
    if make_dirs and os.path.dirname(dst):
        os.makedirs(os.path.dirname(dst), exist_ok=True)


# ----------------------------------------------------------------- the lazy path


def _process_lazy(job: Job, steps: list[Step], options: RunOptions, *, make_dirs: bool) -> None:
    from ..io import lazy

    try:
        with lazy.quiet_tifffile():
            _run_lazy(job, steps, options, make_dirs=make_dirs)
    except BaseException:
        # Reads still pending on zarr's event loop would report themselves at exit.
        lazy.silence_asyncio()
        raise


def _run_lazy(job: Job, steps: list[Step], options: RunOptions, *, make_dirs: bool) -> None:
    from ..io import chunked, lazy
    from ..io.atomic import is_stream
    from ..io.values import default_depth, default_source_max

    src, dst, fmt, out = job.src, job.dst, job.fmt, options.write
    lazy.needs_dask(src)
    source = lazy.open_lazy(src, options.read.chunks, options.read.max_pixels or DEFAULT_MAX_PIXELS)
    pic = source.picture
    threads = options.threads or os.cpu_count() or 1
    # A single file's run shows chunks done; in a batch the batch's bar counts files.
    show = not make_dirs and not options.quiet and stderr_is_terminal()

    def progress(total: int):
        return chunk_progress(total, show)

    try:
        pixels, alpha = apply_steps(src, steps, pic.pixels, pic.alpha, pic.icc_profile)
        depth = out.depth or default_depth(fmt, pic.depth, pixels.dtype)
        check_depth(dst, fmt, depth)
        _make_parent(dst, make_dirs)
        try:
            if is_zarr(dst) or (fmt in chunked.CHUNKED_FORMATS and not is_stream(dst)):
                chunked.write_chunked(
                    dst,
                    pixels,
                    fmt=fmt,
                    depth=depth,
                    scale=out.scale,
                    source_max=default_source_max(pic.depth),
                    alpha=alpha,
                    icc=None if out.strip_icc else pic.icc_profile,
                    threads=threads,
                    progress=progress,
                )
                return
            # No chunked writer for this format (or a stream): the result is encoded whole.
            (result,) = chunked.compute(pixels, threads=threads)
        except ImageError:
            raise
        except MemoryError:
            raise ImageError(f"{src}: not enough memory, even chunk by chunk; use smaller --chunks") from None
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise ImageError(f"{dst}: no space left on the device; nothing was written") from None
            raise ImageError(
                f"{src}: cannot read or write ({exc.strerror or lazy.first_line(exc)})"
            ) from None
        except Exception as exc:  # a chunk that fails to decode (truncated tile, corrupt Zarr chunk)
            raise ImageError(f"{src}: cannot read ({lazy.first_line(exc)})") from None
        write_whole(job, result, out, depth=depth, metadata=pic, alpha=alpha)
    finally:
        if source.close is not None:
            source.close()
