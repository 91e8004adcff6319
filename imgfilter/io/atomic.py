"""Atomic outputs: a hidden temporary beside the target renamed into place; streams written through."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import shutil
import signal
import stat
import sys
import tempfile

from .errors import ImageError

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
    for path in tuple(_TEMPORARIES):
        _remove(path)
        _TEMPORARIES.discard(path)


def _remove(path: str) -> None:
    """Remove a temporary output, file or folder (a link itself, never its target); it may be gone already."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            os.unlink(path)


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
    if out is None:  # started with >&-: Python gives no stream at all
        raise ImageError("-: standard output is closed; nothing was written")
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


# A file name's longest length in bytes where the file system does not say (Linux, macOS, NTFS).
_NAME_MAX = 255
# What tempfile adds to the prefix: 8 random characters, then the suffix (".tmp" or ".old").
_RANDOM_AND_SUFFIX = 8 + 4


def temporary_prefix(folder: str, name: str) -> str:
    """The prefix of a temporary beside ``folder/name``: ``.NAME.``, shortened if the name is long.

    ``.NAME.XXXXXXXX.tmp`` is 14 bytes longer than NAME, so an output name
    of 242-255 bytes, valid itself, would have a temporary too long to
    create. Such a name keeps its start and gets ``~`` and 8 hex digits of
    its hash instead of the rest: the prefix still belongs to this output
    alone, so :func:`sweep_partial` never takes another output's temporary
    for its own (two long names with the same start are apart).
    """
    try:
        limit = os.pathconf(folder or ".", "PC_NAME_MAX")
    except (AttributeError, OSError, ValueError):
        limit = _NAME_MAX
    if limit <= 0:
        limit = _NAME_MAX
    room = limit - _RANDOM_AND_SUFFIX - 2  # the two dots
    if len(os.fsencode(name)) <= room:
        return f".{name}."
    import hashlib

    tag = "~" + hashlib.sha1(os.fsencode(name)).hexdigest()[:8]
    head = name
    # Cut by characters, never inside a multi-byte one.
    while len(os.fsencode(head + tag)) > room:
        head = head[:-1]
    return f".{head}{tag}."


@contextlib.contextmanager
def staged(path: str, *, folder: bool = False):
    """Yield a hidden temporary path beside ``path`` that is renamed onto it only on success.

    The one atomic-write helper: :func:`atomic_output` (whole files) and
    the chunked writers (a tiled TIFF or ``.npy`` filled in place, a Zarr
    folder) all stage here. The temporary (``.NAME.XXXXXXXX.tmp``) is
    registered for :func:`cleanup_temporaries` (the CLI's SIGTERM/SIGHUP
    handlers) from the moment it exists, and removed on any failure. A file
    keeps the mode of the file it replaces; a symlink's target is replaced,
    the link kept. A folder cannot be replaced in one rename: the old one
    goes aside first and is deleted once the new one is in place.
    """
    target = os.path.realpath(path.rstrip("/\\") if folder else path)
    parent = os.path.dirname(target) or "."
    if not os.path.isdir(parent):
        given = os.path.dirname(path.rstrip("/\\"))
        shown = given if os.path.realpath(given or ".") == parent else parent
        raise ImageError(f"{path}: folder {shown!r} does not exist")
    prefix = temporary_prefix(parent, os.path.basename(target))
    with _signals_held():
        if folder:
            tmp = tempfile.mkdtemp(prefix=prefix, suffix=".tmp", dir=parent)
        else:
            fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=parent)
            os.close(fd)
        register_temporary(tmp)
    try:
        yield tmp
        if folder:
            os.chmod(tmp, 0o777 & ~_umask())
            if os.path.exists(target):
                old = tempfile.mkdtemp(prefix=prefix, suffix=".old", dir=parent)
                os.rmdir(old)
                os.replace(target, old)
                os.replace(tmp, target)
                shutil.rmtree(old, ignore_errors=True)
                return
        else:
            mode = 0o666 & ~_umask()
            with contextlib.suppress(OSError):
                mode = os.stat(target).st_mode & 0o7777
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        _remove(tmp)
        raise
    finally:
        unregister_temporary(tmp)


def is_stream(path: str) -> bool:
    """Whether ``path`` is written as a stream (``-``, a FIFO, a character device), not replaced."""
    return path == "-" or _output_target(path)[0] == "stream"


@contextlib.contextmanager
def atomic_output(path: str):
    """Yield a binary file that becomes ``path`` only if the block succeeds.

    A regular file (or the target of a symlink, the link kept) is replaced
    by a rename of a hidden temporary file beside it (:func:`staged`), so
    readers see the old file or the whole new one. Standard output
    (``"-"``), FIFOs and character devices get the encoded bytes in one
    checked stream once the block succeeds: nothing is written for a failed
    encode, and a short write (a full disk, a reader that went away) raises
    OSError.
    """
    if path == "-":
        buf = io.BytesIO()
        yield buf
        _write_stdout(buf.getbuffer())
        return
    kind, _ = _output_target(path)
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
    with staged(path) as tmp, open(tmp, "wb") as fh:
        yield fh
        # No fsync: the rename already guarantees that readers see the
        # old file or the whole new one; an fsync per file would make a
        # batch of thousands wait on the disk (ImageMagick does not either).
        fh.flush()


def sweep_partial(dst: str) -> None:
    """Remove the temporary files (or staging folders) a stopped job left beside ``dst``.

    Only the names :func:`staged` makes (:func:`temporary_prefix` + 8
    random characters + ``.tmp``, from tempfile) are touched, never a
    finished output.
    """
    import re

    folder, name = os.path.split(dst.rstrip("/\\"))
    pattern = re.compile(re.escape(temporary_prefix(folder, name)) + r"[a-z0-9_]{8}\.tmp")
    with contextlib.suppress(OSError):
        for entry in os.listdir(folder or "."):
            if pattern.fullmatch(entry):
                _remove(os.path.join(folder, entry))


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
