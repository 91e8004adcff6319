"""Where jobs run: in this process, in worker processes, or as tasks of a dask.distributed cluster.

Each executor takes the planned jobs and a ``report(job, error, messages)``
callback, watches :class:`~.signals.StopSignals` between results, and
returns how many jobs a stop left undone. A worker that dies costs only its
own file.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from ..io.atomic import sweep_partial, temporary_prefix
from ..io.errors import ImageError
from . import progress
from .jobs import Job
from .one import process_one
from .options import RunOptions, StartProblem, Step, UsageProblem
from .signals import STOP_SIGNALS, StopSignals

# Worker processes a local cluster may start (--scheduler local:N): far more
# than cores is only memory and start-up time, and a typo such as
# local:1000000000000 must be one line, not an attempt to start them. (--jobs
# needs no bound: it never starts more workers than there are files.)
MAX_WORKERS = 256

# Set in the parent before worker processes fork, so the steps (closures)
# need no pickling: (steps, options, batch).
WORK: tuple[list[Step], RunOptions, bool] | None = None


def run_job(job: Job) -> str | None:
    """One job in this process: None on success, else the one-line error."""
    assert WORK is not None
    steps, options, batch = WORK
    if batch:
        problem = make_folder(job.dst)
        if problem is not None:
            return f"{job.src}: {problem}"
    _test_hook(job.src, job.dst)
    try:
        process_one(job, steps, options, make_dirs=batch)
    except ImageError as exc:
        return str(exc)
    return None


def make_folder(dst: str) -> str | None:
    """Create the folder of a batch output (a -r layout); the reason if it cannot be."""
    folder = os.path.dirname(dst)
    if not folder or os.path.isdir(folder):
        return None
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        return f"cannot create the output folder {folder} ({folder_reason(folder, exc)})"
    return None


def folder_reason(folder: str, exc: OSError) -> str:
    # "File exists" or "Not a directory" alone hide which part of the path is in the way.
    head = folder
    while head and not os.path.lexists(head) and os.path.dirname(head) != head:
        head = os.path.dirname(head)
    if head and os.path.lexists(head) and not os.path.isdir(head):
        return f"{head} is a file, not a folder"
    return exc.strerror or str(exc)


def run_serial(todo: list[Job], report: Callable[..., None], stop: StopSignals) -> int:
    """Run the jobs here, one after another; how many a stop left undone."""
    from .signals import Stop

    left = 0
    current: Job | None = None
    try:
        for i, job in enumerate(todo):
            current = job
            left = len(todo) - i
            error = run_job(job)
            current = None
            left -= 1
            report(job, error)
    except Stop:
        if current is not None and current.dst != "-":
            sweep_partial(current.dst)
    return left


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
    fd, _ = tempfile.mkstemp(prefix=temporary_prefix(folder, name), suffix=".tmp", dir=folder or ".")
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
    """A worker process: jobs in, (error or None, messages) out, until None."""
    _worker_init(threads, parent)
    notes: list[str] = []
    progress.EMIT = notes.append
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        job: Job = message
        notes.clear()
        try:
            error = run_job(job)
        except MemoryError:
            error = f"{job.src}: not enough memory for this image"
        except Exception as exc:  # a bug: one line, and the batch goes on
            error = f"{job.src}: failed ({_first_line(exc)})"
        conn.send((error, list(notes)))


class _Worker:
    """One worker process with its pipe and the job it runs (one at a time)."""

    def __init__(self, ctx: Any, threads: str) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, threads, os.getpid()), daemon=True)
        self.proc.start()
        child.close()
        self.job: Job | None = None

    def reap(self) -> None:
        """Wait for the process to end (5 s, then kill it): no zombie, no orphan."""
        self.proc.join(timeout=5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()


def _death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        hint = " (out of memory?)" if -exitcode == signal.SIGKILL else ""
        return f"its worker process was killed by {name}{hint}; not retried"
    return f"its worker process ended unexpectedly (exit status {exitcode}); not retried"


def run_pool(
    todo: list[Job],
    n_jobs: int,
    threads: str,
    report: Callable[[Job, str | None, list[str]], None],
    stop: StopSignals,
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
                    w.conn.send(w.job)
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
                w.reap()
                sweep_partial(job.dst)
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
            w.reap()
            if w.job is not None:
                sweep_partial(w.job.dst)
            w.conn.close()
    return left


def run_on_cluster(
    remote: Any,
    todo: list[Job],
    steps: list[Step],
    options: RunOptions,
    batch: bool,
    report: Callable[[Job, str | None, list[str]], None],
    stop: StopSignals,
) -> int:
    """Run the jobs as cluster tasks; how many were left undone by a stop."""
    from concurrent.futures import FIRST_COMPLETED, wait

    cwd = os.getcwd()
    futures = {remote.submit(_run_remote, job, steps, options, batch, cwd): job for job in todo}
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
                sweep_partial(job.dst)
    return len(waiting)


def _run_remote(job: Job, steps: list[Step], options: RunOptions, batch: bool, cwd: str) -> str | None:
    """Task of a cluster batch (imgfilter must be installed on the workers).

    Paths are taken from the submitting shell's folder ``cwd`` (on storage
    the workers share), whatever folder a worker runs in; messages name
    them as the user gave them.
    """
    import dataclasses

    src, dst = job.src, job.dst
    where = {p: p if p == "-" or os.path.isabs(p) else os.path.join(cwd, p) for p in (src, dst)}
    try:
        process_one(dataclasses.replace(job, src=where[src], dst=where[dst]), steps, options, make_dirs=batch)
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
        raise UsageProblem("--scheduler needs the dask extra: pip install 'imgfilter[dask]'") from None
    cluster = None
    if address.startswith("local:"):
        try:
            n = int(address[len("local:") :])
        except ValueError:
            n = 0
        if not 1 <= n <= MAX_WORKERS:
            raise UsageProblem(
                f"--scheduler {address}: use local:N with N from 1 to {MAX_WORKERS} worker processes"
            )
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
            raise StartProblem(f"--scheduler {address}: cannot start a local cluster ({exc})") from None
    else:
        try:
            client = Client(address, timeout="10s")
        except Exception as exc:  # OSError, TimeoutError, ValueError for a bad address
            raise UsageProblem(f"--scheduler {address}: cannot connect ({exc})") from None
    try:
        # pure=False: a file is processed again if asked again, never taken from a cache.
        yield client.get_executor(pure=False)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
