"""Many files: inputs, output naming, parallel jobs, progress, skip/resume, summary.

The CLI hands this module a list of steps (filters with their options) and
the shared I/O options; everything about *which* files go *where* lives
here. Each file is read once, run through every step at full precision,
and written once, atomically.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import click

# Extensions a folder scan picks up (what the reader understands).
IMAGE_EXTENSIONS = frozenset(
    {
        ".png",
        ".jpg",
        ".jpeg",
        ".tif",
        ".tiff",
        ".bmp",
        ".webp",
        ".ppm",
        ".pgm",
        ".pnm",
        ".pbm",
        ".gif",
        ".npy",
    }
)


@dataclass
class Step:
    """One filter with its options: ``fn(pixels, alpha) -> (pixels, alpha)``."""

    name: str
    fn: Callable[[Any, bool], tuple[Any, bool]]
    linear: bool = False


@dataclass
class Job:
    src: str
    dst: str


def expand_inputs(paths: Iterable[str], recursive: bool) -> list[tuple[str, str]]:
    """(file, path relative to its root) for files and the images inside folders."""
    found = []
    for p in paths:
        if p != "-" and os.path.isdir(p):
            if recursive:
                walk = _walk_visible(p)
            else:
                walk = iter([(p, sorted(f for f in os.listdir(p) if os.path.isfile(os.path.join(p, f))))])
            for root, files in walk:
                for name in files:
                    if os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS and not name.startswith("."):
                        full = os.path.join(root, name)
                        found.append((full, os.path.relpath(full, p)))
        else:
            found.append((p, os.path.basename(p)))
    return found


def _walk_visible(top: str):
    """os.walk in sorted order, skipping hidden folders (.git, .cache...)."""
    for root, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        yield root, sorted(files)


def read_list(source: str) -> list[str]:
    """Paths from a file (one per line; '-' is standard input)."""
    if source == "-":
        lines = sys.stdin.read().splitlines()
    else:
        try:
            with open(source, encoding="utf-8") as fh:
                lines = fh.read().splitlines()
        except OSError as exc:
            raise click.UsageError(f"--files-from {source}: {exc.strerror or exc}") from None
    return [line.strip() for line in lines if line.strip()]


def output_name(rel: str, suffix: str, fmt: str | None) -> str:
    """``rel`` with ``suffix`` before the extension and the extension of ``fmt``."""
    from .io import FORMAT_NAMES

    stem, ext = os.path.splitext(rel)
    return stem + suffix + (FORMAT_NAMES[fmt] if fmt else ext)


def plan_jobs(io_kw: dict[str, Any]) -> tuple[list[Job], bool]:
    """The (input, output) pairs of a run, and whether it is a batch."""
    paths = list(io_kw["paths"])
    if io_kw.get("files_from"):
        paths += read_list(io_kw["files_from"])
    out_dir, in_place = io_kw["out_dir"], io_kw["in_place"]
    suffix, fmt = io_kw["suffix"] or "", io_kw["fmt"]
    if out_dir is None and not in_place:
        if io_kw.get("files_from") or len(paths) != 2:
            raise click.UsageError(
                "give INPUT OUTPUT, or inputs (files, folders, --files-from) with --out-dir DIR or --in-place "
                f"(got {len(paths)} path{'s' if len(paths) != 1 else ''})"
            )
        return [Job(paths[0], paths[1])], False
    if out_dir is not None and in_place:
        raise click.UsageError("--out-dir and --in-place exclude each other")
    if "-" in paths:
        raise click.UsageError("'-' (standard input) works only as INPUT OUTPUT, not in a batch")
    jobs = []
    for src, rel in expand_inputs(paths, io_kw["recursive"]):
        name = output_name(rel, suffix, fmt)
        dst = (
            os.path.join(os.path.dirname(src), os.path.basename(name))
            if in_place
            else os.path.join(out_dir, name)
        )
        jobs.append(Job(src, dst))
    if not in_place:
        for job in jobs:
            if os.path.abspath(job.src) == os.path.abspath(job.dst) or (
                os.path.exists(job.dst) and os.path.samefile(job.src, job.dst)
            ):
                raise click.UsageError(
                    f"{job.src}: the batch would write over its own input; "
                    "use --suffix, another --out-dir, or --in-place"
                )
    return jobs, True


def process_one(
    src: str, dst: str, steps: list[Step], io_kw: dict[str, Any], *, make_dirs: bool = False
) -> None:
    """Read, filter, write one file; raises ImageError with a one-line reason.

    ``make_dirs`` creates the output's folder (a batch keeping a folder's
    layout); a single OUTPUT in a missing folder is an error, as with cp.
    """
    from .bigimage import wants_lazy
    from .io import (
        DEFAULT_MAX_PIXELS,
        ImageError,
        check_depth,
        default_depth,
        format_for,
        read_image,
    )

    if wants_lazy(src, dst, io_kw.get("chunks")):
        from .bigimage import process_lazy

        return process_lazy(src, dst, steps, io_kw, make_dirs=make_dirs)
    try:
        fmt = format_for(dst, io_kw["fmt"])  # unknown extensions are refused before reading
    except ImageError as exc:
        raise ImageError(f"{src}: cannot name its output: {exc}") from None
    pic = read_image(src, max_pixels=io_kw["max_pixels"] or DEFAULT_MAX_PIXELS)
    depth = io_kw["depth"]
    if depth is not None:
        check_depth(dst, fmt, depth)
    elif pic.depth == "16":
        check_depth(dst, fmt, default_depth(fmt, pic.depth))
    pixels, alpha = apply_steps(src, steps, pic.pixels, pic.alpha, pic.icc_profile)
    if make_dirs and os.path.dirname(dst):
        os.makedirs(os.path.dirname(dst), exist_ok=True)
    write_output(dst, pixels, io_kw, depth=depth, metadata=pic, alpha=alpha)


def write_output(dst: str, pixels: Any, io_kw: dict[str, Any], *, depth, metadata, alpha: bool) -> None:
    """imwrite with the command's output options."""
    from .io import imwrite

    imwrite(
        dst,
        pixels,
        format=io_kw["fmt"],
        depth=depth,
        scale=io_kw["scale"],
        metadata=metadata,
        alpha=alpha,
        quality=io_kw["quality"],
        subsampling=io_kw.get("subsampling"),
        lossless=io_kw.get("lossless", False),
        compression=io_kw["compression"],
        strip=io_kw["strip"],
        strip_icc=io_kw["strip_icc"],
    )


def apply_steps(src: str, steps: list[Step], pixels: Any, alpha: bool, icc: bytes | None):
    """Run the steps (NumPy or Dask pixels); errors become one-line ImageErrors naming ``src``."""
    from .core.names import OptionError
    from .io import ImageError

    if any(step.linear for step in steps) and icc and not is_srgb(icc):
        click.echo(
            f"imgfilter: warning: {src}: its ICC profile is not sRGB; --linear treats it as sRGB", err=True
        )
    try:
        for step in steps:
            pixels, alpha = step.fn(pixels, alpha)
    except (ValueError, TypeError, OptionError) as exc:
        raise ImageError(f"{src}: {exc}") from None
    except MemoryError:
        raise ImageError(f"{src}: not enough memory for this image") from None
    return pixels, alpha


def is_srgb(icc: bytes) -> bool:
    """Whether an ICC profile describes sRGB (by its description); True if unknown."""
    try:
        import io

        from PIL import ImageCms

        return "srgb" in ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc))).lower()
    except Exception:  # no littlecms, or an unreadable profile: say nothing
        return True


# Set in the parent before worker processes fork, so the steps (closures)
# need no pickling.
_WORK: tuple[list[Step], dict[str, Any], bool] | None = None


def _run_job(src: str, dst: str) -> str | None:
    """Worker entry: None on success, else the one-line error."""
    from .io import ImageError

    assert _WORK is not None
    steps, io_kw, batch = _WORK
    try:
        process_one(src, dst, steps, io_kw, make_dirs=batch)
    except ImageError as exc:
        return str(exc)
    return None


def _run_remote(
    src: str, dst: str, steps: list[Step], io_kw: dict[str, Any], batch: bool, cwd: str
) -> str | None:
    """Task of a cluster batch (imgfilter must be installed on the workers).

    Paths are taken from the submitting shell's folder ``cwd`` (on storage
    the workers share), whatever folder a worker runs in; messages name
    them as the user gave them.
    """
    from .io import ImageError

    where = {p: p if p == "-" or os.path.isabs(p) else os.path.join(cwd, p) for p in (src, dst)}
    try:
        process_one(where[src], where[dst], steps, io_kw, make_dirs=batch)
    except ImageError as exc:
        message = str(exc)
        for given, full in where.items():
            message = message.replace(full, given)
        return message
    return None


@contextlib.contextmanager
def cluster_executor(address: str, threads: int | None):
    """A concurrent.futures executor on a dask.distributed cluster (``local:N``: started here)."""
    import logging

    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise click.UsageError("--scheduler needs the dask extra: pip install 'imgfilter[dask]'") from None
    cluster = None
    if address.startswith("local:"):
        try:
            n = int(address[len("local:") :])
        except ValueError:
            n = 0
        if n < 1:
            raise click.UsageError(f"--scheduler {address}: use local:N with N >= 1 worker processes")
        # Each worker process gets its share of the cores for its own bands.
        os.environ["IMGFILTER_THREADS"] = str(threads or max(1, (os.cpu_count() or 1) // n))
        try:
            cluster = LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                # The scheduler's HTTP endpoint on a free local port: never 8787,
                # which another Dask may hold.
                dashboard_address="127.0.0.1:0",
                silence_logs=logging.ERROR,
            )
            client = Client(cluster)
        except Exception as exc:
            raise click.ClickException(
                f"--scheduler {address}: cannot start a local cluster ({exc})"
            ) from None
    else:
        try:
            client = Client(address, timeout="10s")
        except Exception as exc:  # OSError, TimeoutError, ValueError for a bad address
            raise click.UsageError(f"--scheduler {address}: cannot connect ({exc})") from None
    try:
        # pure=False: a file is processed again if asked again, never taken from a cache.
        yield client.get_executor(pure=False)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _sweep_partial(dst: str) -> None:
    """Remove temporary files a killed worker left beside ``dst`` (never a finished output)."""
    folder, name = os.path.split(dst)
    with contextlib.suppress(OSError):
        for entry in os.listdir(folder or "."):
            if entry.startswith(f".{name}.") and entry.endswith(".tmp"):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(folder, entry))


def _worker_init(threads: str) -> None:
    os.environ["IMGFILTER_THREADS"] = threads


def resolve_jobs(jobs: int) -> int:
    return (os.cpu_count() or 1) if jobs == 0 else jobs


def run_batch(steps: list[Step], io_kw: dict[str, Any]) -> None:
    """Apply ``steps`` to every input; report errors; exit 1 if any failed."""
    global _WORK
    jobs, batch = plan_jobs(io_kw)
    if not batch:
        from .bigimage import is_zarr
        from .io import ImageError, format_for

        try:
            if not is_zarr(jobs[0].dst):
                format_for(jobs[0].dst, io_kw["fmt"])
        except ImageError as exc:
            raise click.UsageError(str(exc)) from None
    # A cluster is reached (or refused) before anything is created.
    with (
        cluster_executor(io_kw["scheduler"], io_kw["threads"])
        if io_kw.get("scheduler")
        else contextlib.nullcontext()
    ) as remote:
        if batch and io_kw["out_dir"] is not None:
            os.makedirs(io_kw["out_dir"], exist_ok=True)
        _run_jobs(steps, io_kw, jobs, batch, remote)


def _run_jobs(steps: list[Step], io_kw: dict[str, Any], jobs: list[Job], batch: bool, remote) -> None:
    global _WORK
    todo, skipped = [], 0
    for job in jobs:
        if io_kw["skip_existing"] and job.dst != "-" and os.path.exists(job.dst):
            skipped += 1
        else:
            todo.append(job)

    written = failed = 0
    quiet = io_kw["quiet"]
    n_jobs = min(resolve_jobs(io_kw["jobs"]), max(1, len(todo)))
    show_bar = batch and not quiet and len(todo) > 1 and sys.stderr.isatty()

    def report(error: str | None) -> None:
        nonlocal written, failed
        if error is None:
            written += 1
        else:
            failed += 1
            click.echo(f"imgfilter: {error}", err=True)

    with (
        click.progressbar(length=len(todo), file=sys.stderr, label="imgfilter")
        if show_bar
        else _NoBar() as bar
    ):
        if remote is not None:
            from concurrent.futures import as_completed

            cwd = os.getcwd()
            futures = {
                remote.submit(_run_remote, job.src, job.dst, steps, io_kw, batch, cwd): job for job in todo
            }
            for fut in as_completed(futures):
                try:
                    error = fut.result()
                except Exception as exc:  # a task that failed on every worker it was given
                    error = f"{futures[fut].src}: failed on the cluster ({type(exc).__name__}: {exc})"
                report(error)
                bar.update(1)
            # A worker killed mid-write leaves its temporary file; its task
            # ran again elsewhere, so the output itself is whole.
            for job in todo:
                if job.dst != "-":
                    _sweep_partial(job.dst)
        elif n_jobs <= 1:
            _WORK = (steps, io_kw, batch)
            for job in todo:
                report(_run_job(job.src, job.dst))
                bar.update(1)
        else:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor, as_completed

            _WORK = (steps, io_kw, batch)
            # Processes, not threads: decoding and encoding hold the GIL.
            # Each worker gets its share of the cores for its own bands.
            per_worker = io_kw["threads"] or max(1, (os.cpu_count() or 1) // n_jobs)
            ctx = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(
                n_jobs, mp_context=ctx, initializer=_worker_init, initargs=(str(per_worker),)
            ) as pool:
                futures = [pool.submit(_run_job, job.src, job.dst) for job in todo]
                for fut in as_completed(futures):
                    report(fut.result())
                    bar.update(1)
    if batch and not quiet:
        click.echo(f"{written} written, {skipped} skipped, {failed} failed", err=True)
    if failed:
        sys.exit(1)


class _NoBar:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n: int) -> None:
        pass
