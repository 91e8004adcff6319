"""Many files: inputs, output naming, parallel jobs, progress, skip/resume, summary.

The CLI hands this module a list of steps (filters with their options) and
the shared I/O options; everything about *which* files go *where* lives
here. Each file is read once, run through every step at full precision,
and written once, atomically.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
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


# Image formats Pillow may decode but imgfilter cannot write back: a folder
# scan converts them when --format names an output format, and otherwise
# lists them as skipped (never a silent drop).
READ_ONLY_EXTENSIONS = frozenset(
    {
        ".avif",
        ".heic",
        ".heif",
        ".jp2",
        ".j2k",
        ".jpx",
        ".jpf",
        ".jxl",
        ".tga",
        ".dds",
        ".icns",
        ".ico",
        ".cur",
        ".pcx",
        ".qoi",
        ".sgi",
        ".rgb",
        ".bw",
        ".xbm",
        ".xpm",
        ".psd",
        ".dib",
        ".ras",
        ".im",
        ".msp",
        ".blp",
        ".dcx",
        ".exr",
    }
)


@dataclass
class Scan:
    """What the inputs hold: (file, path relative to its root), and what was left out."""

    found: list[tuple[str, str]]
    skipped: list[str]  # one-line notes, one per file left out
    notes: list[str]  # one-line notes about folders (nothing taken from them)


def scan_inputs(paths: Iterable[str], recursive: bool, convert: bool = False) -> Scan:
    """Files and the images inside folders; ``convert``: --format given, take read-only formats too."""
    from .bigimage import is_zarr

    scan = Scan([], [], [])
    for p in paths:
        if p != "-" and os.path.isdir(p) and not is_zarr(p):
            if recursive:
                walk = _walk_visible(p)
            else:
                try:
                    entries = sorted(os.listdir(p))
                except OSError as exc:
                    scan.notes.append(f"{p}: cannot list the folder ({exc.strerror or exc})")
                    continue
                files = [f for f in entries if os.path.isfile(os.path.join(p, f))]
                walk = iter([(p, files)])
            before = len(scan.found) + len(scan.skipped)
            for root, files in walk:
                for name in files:
                    if name.startswith("."):
                        continue
                    ext = os.path.splitext(name)[1].lower()
                    full = os.path.join(root, name)
                    if ext in IMAGE_EXTENSIONS or (convert and ext in READ_ONLY_EXTENSIONS):
                        scan.found.append((full, os.path.relpath(full, p)))
                    elif ext in READ_ONLY_EXTENSIONS:
                        scan.skipped.append(
                            f"{full}: skipped: imgfilter cannot write {ext[1:].upper()} back "
                            "(--format png, or another, converts it)"
                        )
            if not recursive and len(scan.found) + len(scan.skipped) == before:
                subs = [d for d in entries if not d.startswith(".") and os.path.isdir(os.path.join(p, d))]
                if subs:
                    scan.notes.append(
                        f"{p}: no images at its top level, only sub-folders ({len(subs)}); "
                        "-r takes the images inside them"
                    )
        else:
            scan.found.append((p, os.path.basename(p.rstrip("/\\") if is_zarr(p) else p)))
    return scan


def expand_inputs(paths: Iterable[str], recursive: bool) -> list[tuple[str, str]]:
    """(file, path relative to its root) for files and the images inside folders."""
    return scan_inputs(paths, recursive).found


def _walk_visible(top: str):
    """os.walk in sorted order, skipping hidden folders (.git, .cache...)."""
    for root, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        yield root, sorted(files)


def read_list(source: str, null: bool = False) -> list[str]:
    """Paths from a file ('-' is standard input): one per line, or NUL-terminated with ``null``.

    Names are taken as they are, byte for byte (``os.fsdecode``, so any
    bytes the file system allows come through); only the terminator is
    removed (a newline, or CR LF), and empty entries are left out.
    """
    try:
        if source == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(source, "rb") as fh:
                data = fh.read()
    except OSError as exc:
        raise click.UsageError(f"--files-from {source}: {exc.strerror or exc}") from None
    if null:
        names = data.split(b"\0")
    else:
        names = [n[:-1] if n.endswith(b"\r") else n for n in data.split(b"\n")]
    return [os.fsdecode(n) for n in names if n]


def output_name(rel: str, suffix: str, fmt: str | None) -> str:
    """``rel`` with ``suffix`` before the extension and the extension of ``fmt``."""
    from .io import FORMAT_NAMES

    stem, ext = os.path.splitext(rel)
    return stem + suffix + (FORMAT_NAMES[fmt] if fmt else ext)


@dataclass
class Plan:
    """The jobs of a run, whether it is a batch, and what the folder scan left out."""

    jobs: list[Job]
    batch: bool
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def plan_jobs(io_kw: dict[str, Any]) -> tuple[list[Job], bool]:
    """The (input, output) pairs of a run, and whether it is a batch."""
    plan = plan_run(io_kw)
    return plan.jobs, plan.batch


def plan_run(io_kw: dict[str, Any]) -> Plan:
    """Every job of a run, checked before any work: no output written twice or over an input."""
    paths = list(io_kw["paths"])
    if io_kw.get("null") and not io_kw.get("files_from"):
        raise click.UsageError("-0/--null applies to --files-from; give --files-from FILE")
    if io_kw.get("files_from"):
        paths += read_list(io_kw["files_from"], null=bool(io_kw.get("null")))
    out_dir, in_place = io_kw["out_dir"], io_kw["in_place"]
    suffix, fmt = io_kw["suffix"] or "", io_kw["fmt"]
    if out_dir is None and not in_place:
        if io_kw.get("files_from") or len(paths) != 2:
            raise click.UsageError(
                "give INPUT OUTPUT, or inputs (files, folders, --files-from) with --out-dir DIR or --in-place "
                f"(got {len(paths)} path{'s' if len(paths) != 1 else ''})"
            )
        src, dst = paths
        if _same_file(src, dst):
            raise click.UsageError(
                f"{dst}: OUTPUT is the INPUT file {src} itself; give another OUTPUT, "
                "or --in-place INPUT to replace it"
            )
        return Plan([Job(src, dst)], False)
    if out_dir is not None and in_place:
        raise click.UsageError("--out-dir and --in-place exclude each other")
    if "-" in paths:
        raise click.UsageError("'-' (standard input) works only as INPUT OUTPUT, not in a batch")
    scan = scan_inputs(paths, io_kw["recursive"], convert=fmt is not None)
    jobs = []
    for src, rel in scan.found:
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
    return Plan(_check_collisions(jobs), True, scan.skipped, scan.notes)


def _file_key(path: str) -> tuple:
    """What identifies a file: its inode when it exists (hard links too), else its resolved path."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return ("path", os.path.realpath(path))
    return ("inode", st.st_dev, st.st_ino)


def _same_file(src: str, dst: str) -> bool:
    """Whether OUTPUT names the regular file INPUT is (same path, symlink or hard link)."""
    import stat

    if src == "-" or dst == "-":
        return False
    try:
        st = os.stat(src)
    except (OSError, ValueError):
        return False
    # Devices and FIFOs (/dev/stdin and /dev/stdout on one terminal) are streams, not files to replace.
    return stat.S_ISREG(st.st_mode) and _file_key(dst) == ("inode", st.st_dev, st.st_ino)


def _check_collisions(jobs: list[Job]) -> list[Job]:
    """The jobs without repeats; a usage error if two write one output or one writes another's input.

    The same file given twice for the same output (a folder and a file in
    it) is one job. Case-insensitive file systems are not considered.
    """
    by_output: dict[str, Job] = {}
    inputs: dict[tuple, Job] = {}
    unique = []
    for job in jobs:
        if not os.path.lexists(job.src):
            unique.append(job)  # reported as missing when its turn comes; it writes nothing
            continue
        key = os.path.realpath(job.dst)
        src_key = _file_key(job.src)
        first = by_output.get(key)
        if first is not None:
            if _file_key(first.src) == src_key:
                continue
            raise click.UsageError(
                f"{first.src} and {job.src} would both be written to {job.dst}; "
                "a batch writes each output once (use separate --out-dir runs or --suffix)"
            )
        by_output[key] = job
        inputs.setdefault(src_key, job)
        unique.append(job)
    for job in unique:
        other = inputs.get(_file_key(job.dst))
        if other is not None and other is not job:
            raise click.UsageError(
                f"{job.dst}: the output of {job.src} would replace {other.src}, another input of the batch"
            )
    return unique


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
        _say(f"warning: {src}: its ICC profile is not sRGB; --linear treats it as sRGB")
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

# Where one-line messages go while jobs run: the progress bar's printer in
# the parent (so a message never lands on the bar's line), a list in a
# worker process (sent back with the job's result). None: straight to stderr.
_EMIT: Callable[[str], None] | None = None


def _say(message: str) -> None:
    line = f"imgfilter: {message}"
    if _EMIT is None:
        click.echo(line, err=True)
    else:
        _EMIT(line)


def _run_job(src: str, dst: str) -> str | None:
    """One job in this process: None on success, else the one-line error."""
    from .io import ImageError

    assert _WORK is not None
    steps, io_kw, batch = _WORK
    if batch:
        problem = _make_folder(dst)
        if problem is not None:
            return f"{src}: {problem}"
    _test_hook(src, dst)
    try:
        process_one(src, dst, steps, io_kw, make_dirs=batch)
    except ImageError as exc:
        return str(exc)
    return None


def _make_folder(dst: str) -> str | None:
    """Create the folder of a batch output (a -r layout); the reason if it cannot be."""
    folder = os.path.dirname(dst)
    if not folder or os.path.isdir(folder):
        return None
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        return f"cannot create the output folder {folder} ({_folder_reason(folder, exc)})"
    return None


def _folder_reason(folder: str, exc: OSError) -> str:
    # "File exists" or "Not a directory" alone hide which part of the path is in the way.
    head = folder
    while head and not os.path.lexists(head) and os.path.dirname(head) != head:
        head = os.path.dirname(head)
    if head and os.path.lexists(head) and not os.path.isdir(head):
        return f"{head} is a file, not a folder"
    return exc.strerror or str(exc)


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
    """Remove the temporary files (or staging folders) a stopped job left beside ``dst``.

    Only the names the atomic writers make (``.NAME.`` + 8 random characters
    + ``.tmp``, from tempfile) are touched, never a finished output.
    """
    import re
    import shutil

    folder, name = os.path.split(dst.rstrip("/\\"))
    pattern = re.compile(re.escape(f".{name}.") + r"[a-z0-9_]{8}\.tmp")
    with contextlib.suppress(OSError):
        for entry in os.listdir(folder or "."):
            if pattern.fullmatch(entry):
                path = os.path.join(folder, entry)
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    with contextlib.suppress(OSError):
                        os.unlink(path)


# ----------------------------------------------------------------- stopping

# SIGINT (Ctrl-C), SIGTERM and SIGHUP stop a run: the files in flight are
# abandoned without a trace, the summary so far is printed and the exit
# status is 128 + the signal's number (130, 143, 129).
STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class _Stop(BaseException):
    """The first stop signal, raised in the main thread of a single-process run.

    A BaseException, like KeyboardInterrupt, so that no ``except Exception``
    on the way (a reader turning failures into ImageError) takes it for a bad file.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class _StopSignals:
    """Handlers for the stop signals while jobs run; the first one's number is kept.

    ``raise_first``: raise _Stop where the main thread is (it runs the jobs
    itself, so the atomic writer's cleanup runs); otherwise only record it,
    for a parent that polls between its workers' results. Later signals
    are only recorded: a second Ctrl-C never interrupts the cleanup.
    """

    def __init__(self, raise_first: bool) -> None:
        self.raise_first = raise_first
        self.signum: int | None = None
        self._old: dict[int, Any] = {}

    def __enter__(self) -> _StopSignals:
        if threading.current_thread() is threading.main_thread():
            for sig in STOP_SIGNALS:
                with contextlib.suppress(ValueError, OSError):
                    self._old[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.signum is None:
            self.signum = signum
            if self.raise_first:
                raise _Stop(signum)

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old if old is not None else signal.SIG_DFL)


# ----------------------------------------------------------------- worker processes

# Test-only fault injection, read in worker processes alone (never in a
# single-process run, never documented for users): IMGFILTER_TEST_HOOK set
# to "die:PATTERN" makes a worker SIGKILL itself on an input whose file name
# matches the fnmatch PATTERN, as the OOM killer would; "hang:PATTERN"
# leaves a partial temporary file beside the output, as a write in progress
# does, and sleeps. The tests of dead workers, interruptions and orphaned
# workers use it.
_HOOK: tuple[str, str] | None = None


def _read_test_hook() -> tuple[str, str] | None:
    action, _, pattern = os.environ.get("IMGFILTER_TEST_HOOK", "").partition(":")
    return (action, pattern) if action in ("die", "hang") and pattern else None


def _test_hook(src: str, dst: str) -> None:
    if _HOOK is None:
        return
    import fnmatch
    import tempfile
    import time

    action, pattern = _HOOK
    if not fnmatch.fnmatch(os.path.basename(src), pattern):
        return
    if action == "die":
        os.kill(os.getpid(), signal.SIGKILL)
    folder, name = os.path.split(dst)
    fd, _ = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder or ".")
    os.write(fd, b"\x89PNG\r\n\x1a\n (a partial file)")
    while True:
        time.sleep(60)


def _worker_init(threads: str, parent: int | None = None) -> None:
    """Set up a worker process: its threads, signals, death with its parent."""
    global _HOOK
    os.environ["IMGFILTER_THREADS"] = threads
    # The parent coordinates a stop (Ctrl-C reaches the whole process
    # group): a worker never acts on these signals itself; the parent kills
    # the workers whose files are abandoned and removes their temporary files.
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    if parent is not None:
        _die_with_parent(parent)
    _HOOK = _read_test_hook()


def _die_with_parent(parent: int) -> None:
    """End this worker when its parent dies, even by SIGKILL (nothing else would stop it)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            PR_SET_PDEATHSIG = 1
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):
            pass
    # The parent may have died before prctl took effect; elsewhere nothing
    # signals it, so a thread looks every half second.
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        import time

        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="imgfilter-parent-watch", daemon=True).start()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _worker_main(conn: Any, threads: str, parent: int) -> None:
    """A worker process: (src, dst) jobs in, (error or None, messages) out, until None."""
    global _EMIT
    _worker_init(threads, parent)
    notes: list[str] = []
    _EMIT = notes.append
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        src, dst = message
        notes.clear()
        try:
            error = _run_job(src, dst)
        except MemoryError:
            error = f"{src}: not enough memory for this image"
        except Exception as exc:  # a bug: one line, and the batch goes on
            error = f"{src}: failed ({_first_line(exc)})"
        conn.send((error, list(notes)))


class _Worker:
    """One worker process with its pipe and the job it runs (one at a time)."""

    def __init__(self, ctx: Any, threads: str) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, threads, os.getpid()), daemon=True)
        self.proc.start()
        child.close()
        self.job: Job | None = None


def _death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        hint = " (out of memory?)" if -exitcode == signal.SIGKILL else ""
        return f"its worker process was killed by {name}{hint}; not retried"
    return f"its worker process ended unexpectedly (exit status {exitcode}); not retried"


def _run_pool(
    todo: list[Job],
    n_jobs: int,
    threads: str,
    report: Callable[[Job, str | None, list[str]], None],
    stop: _StopSignals,
) -> int:
    """Run the jobs on ``n_jobs`` worker processes; how many were left undone by a stop.

    Each worker holds one job at a time, so a worker that dies (OOM killer,
    SIGKILL, a crash in a decoder) costs exactly its own file: it is
    reported as failed, a new worker takes its place and the batch goes on.
    """
    import collections
    import multiprocessing
    from multiprocessing.connection import wait

    # fork: the steps are closures, inherited rather than pickled.
    ctx = multiprocessing.get_context("fork")
    pending = collections.deque(todo)
    workers: list[_Worker] = []
    try:
        workers = [_Worker(ctx, threads) for _ in range(n_jobs)]
        while stop.signum is None:
            for w in workers:
                if w.job is None and pending:
                    w.job = pending.popleft()
                    w.conn.send((w.job.src, w.job.dst))
            busy = [w for w in workers if w.job is not None]
            if not busy:
                break
            # A short timeout: a stop signal is seen within a quarter second.
            ready = set(wait([w.conn for w in busy] + [w.proc.sentinel for w in busy], timeout=0.25))
            for w in busy:
                if w.conn not in ready and w.proc.sentinel not in ready:
                    continue
                result = None
                with contextlib.suppress(EOFError, OSError):
                    if w.conn.poll():
                        result = w.conn.recv()
                job, w.job = w.job, None
                assert job is not None
                if result is not None:
                    report(job, *result)
                    continue
                w.proc.join(timeout=5)
                if w.proc.is_alive():
                    w.proc.kill()
                    w.proc.join()
                _sweep_partial(job.dst)
                report(job, f"{job.src}: {_death(w.proc.exitcode)}", [])
                w.conn.close()
                workers.remove(w)
                if pending:
                    workers.append(_Worker(ctx, threads))
    finally:
        left = len(pending)
        for w in workers:
            if w.job is not None:  # stopped, or this loop failed: the file is abandoned
                w.proc.kill()
                left += 1
            else:
                with contextlib.suppress(OSError, ValueError):
                    w.conn.send(None)
        for w in workers:
            w.proc.join(timeout=5)
            if w.proc.is_alive():
                w.proc.kill()
                w.proc.join()
            if w.job is not None:
                _sweep_partial(w.job.dst)
            w.conn.close()
    return left


def _run_on_cluster(
    remote: Any,
    todo: list[Job],
    steps: list[Step],
    io_kw: dict[str, Any],
    batch: bool,
    report: Callable[[Job, str | None, list[str]], None],
    stop: _StopSignals,
) -> int:
    """Run the jobs as cluster tasks; how many were left undone by a stop."""
    from concurrent.futures import FIRST_COMPLETED, wait

    cwd = os.getcwd()
    futures = {remote.submit(_run_remote, job.src, job.dst, steps, io_kw, batch, cwd): job for job in todo}
    waiting = set(futures)
    try:
        while waiting and stop.signum is None:
            done, waiting = wait(waiting, timeout=0.25, return_when=FIRST_COMPLETED)
            for fut in done:
                try:
                    error = fut.result()
                except Exception as exc:  # a task that failed on every worker it was given
                    error = f"{futures[fut].src}: failed on the cluster ({type(exc).__name__}: {exc})"
                report(futures[fut], error, [])
    finally:
        for fut in waiting:
            fut.cancel()
        # A worker killed mid-write leaves its temporary file; its task
        # ran again elsewhere, so the output itself is whole.
        for job in todo:
            if job.dst != "-":
                _sweep_partial(job.dst)
    return len(waiting)


# ----------------------------------------------------------------- running a batch


def resolve_jobs(jobs: int) -> int:
    return (os.cpu_count() or 1) if jobs == 0 else jobs


def _fatal(message: str) -> None:
    click.echo(f"imgfilter: {message}", err=True)
    sys.exit(1)


def _make_out_dir(out_dir: str) -> None:
    """Create --out-dir, or one line and exit 1 before any work if it cannot be written."""
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as exc:
        _fatal(f"--out-dir {out_dir}: cannot create it ({_folder_reason(out_dir, exc)})")
    if not os.path.isdir(out_dir):
        _fatal(f"--out-dir {out_dir}: not a folder")
    if not os.access(out_dir, os.W_OK | os.X_OK):
        _fatal(f"--out-dir {out_dir}: cannot write there (read-only or no permission)")


def run_batch(steps: list[Step], io_kw: dict[str, Any]) -> None:
    """Apply ``steps`` to every input; report errors; exit 1 if any failed."""
    plan = plan_run(io_kw)
    if not plan.batch:
        from .bigimage import is_zarr
        from .io import ImageError, format_for

        try:
            if not is_zarr(plan.jobs[0].dst):
                format_for(plan.jobs[0].dst, io_kw["fmt"])
        except ImageError as exc:
            raise click.UsageError(str(exc)) from None
    # A cluster is reached (or refused) before anything is created.
    with (
        cluster_executor(io_kw["scheduler"], io_kw["threads"])
        if io_kw.get("scheduler")
        else contextlib.nullcontext()
    ) as remote:
        if plan.batch and io_kw["out_dir"] is not None:
            _make_out_dir(io_kw["out_dir"])
        _run_jobs(steps, io_kw, plan.jobs, plan.batch, remote, plan.skipped + plan.notes, len(plan.skipped))


def _run_jobs(
    steps: list[Step],
    io_kw: dict[str, Any],
    jobs: list[Job],
    batch: bool,
    remote: Any,
    notes: list[str] | None = None,
    skipped: int = 0,
) -> None:
    """Run the jobs (here, in worker processes or on a cluster), then the summary line.

    ``notes``: one-line notes from planning (files and folders left out),
    ``skipped``: how many files they left out.
    """
    global _WORK, _EMIT
    todo = []
    for job in jobs:
        # A partial write is a hidden temporary name, never the output's own: it never counts here.
        if io_kw["skip_existing"] and job.dst != "-" and os.path.exists(job.dst):
            skipped += 1
        else:
            todo.append(job)

    written = failed = 0
    quiet = io_kw["quiet"]
    n_jobs = min(resolve_jobs(io_kw["jobs"]), max(1, len(todo)))
    show_bar = batch and not quiet and len(todo) > 1 and sys.stderr.isatty()
    bar: ProgressBar | _NoBar = ProgressBar(len(todo), sys.stderr) if show_bar else _NoBar()
    if not quiet:
        for note in notes or ():
            bar.echo(f"imgfilter: {note}")

    def report(job: Job, error: str | None, messages: list[str] = []) -> None:  # noqa: B006 (never mutated)
        nonlocal written, failed
        for line in messages:
            bar.echo(line)
        if error is None:
            written += 1
        else:
            failed += 1
            bar.echo(f"imgfilter: {error}")
        bar.update(1)

    _WORK = (steps, io_kw, batch)
    stop = _StopSignals(raise_first=remote is None and n_jobs <= 1)
    left = 0
    current: Job | None = None
    _EMIT = bar.echo
    bar.start()
    try:
        with stop:
            if remote is not None:
                left = _run_on_cluster(remote, todo, steps, io_kw, batch, report, stop)
            elif n_jobs <= 1:
                for i, job in enumerate(todo):
                    current = job
                    left = len(todo) - i
                    error = _run_job(job.src, job.dst)
                    current = None
                    left -= 1
                    report(job, error)
            else:
                per_worker = io_kw["threads"] or max(1, (os.cpu_count() or 1) // n_jobs)
                left = _run_pool(todo, n_jobs, str(per_worker), report, stop)
    except _Stop:
        if current is not None and current.dst != "-":
            _sweep_partial(current.dst)
    finally:
        _EMIT = None
        bar.finish()
    if batch and not quiet:
        line = f"{written} written, {skipped} skipped, {failed} failed"
        if stop.signum is not None:
            line += f", {left} not done (stopped by {signal.Signals(stop.signum).name})"
        click.echo(line, err=True)
    if stop.signum is not None:
        sys.exit(128 + stop.signum)
    if failed:
        sys.exit(1)


class ProgressBar:
    """Files done out of all, on the last line of a terminal's stderr.

    A message is printed on a line of its own above the bar (the bar's line
    is cleared first and the bar drawn again below), never after the bar's text.
    """

    WIDTH = 30

    def __init__(self, total: int, file: Any) -> None:
        self.total, self.file = total, file
        self.done = 0
        self.drawn = False

    def _draw(self) -> None:
        import shutil

        count = f"{self.done}/{self.total}"
        # Narrower than the terminal: a wrapped line would not be redrawn in place.
        width = max(0, min(self.WIDTH, shutil.get_terminal_size().columns - len(count) - 17))
        filled = width * self.done // max(1, self.total)
        bar = "#" * filled + "-" * (width - filled)
        self.file.write(f"\r\x1b[Kimgfilter  [{bar}]  {count}")
        self.file.flush()
        self.drawn = True

    def start(self) -> None:
        self._draw()

    def update(self, n: int = 1) -> None:
        self.done += n
        self._draw()

    def echo(self, line: str) -> None:
        if self.drawn:
            self.file.write("\r\x1b[K")
        self.file.write(line + "\n")
        if self.drawn:
            self._draw()
        else:
            self.file.flush()

    def finish(self) -> None:
        if self.drawn:
            self.file.write("\n")
            self.file.flush()
            self.drawn = False


class _NoBar:
    def start(self) -> None:
        pass

    def update(self, n: int = 1) -> None:
        pass

    def echo(self, line: str) -> None:
        click.echo(line, err=True)

    def finish(self) -> None:
        pass
