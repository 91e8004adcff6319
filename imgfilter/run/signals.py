"""Signals during a run: a stop (Ctrl-C, SIGTERM, SIGHUP) and the cleanup of temporary files.

Two layers: :func:`install_cleanup_handlers` (for the whole command) makes
SIGTERM/SIGHUP remove every temporary output in flight
(:func:`imgfilter.io.atomic.cleanup_temporaries`, eager and chunked writes
alike) and exit 128 + signal; :class:`StopSignals` (while jobs run) turns
the first stop signal into an orderly stop with a summary.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from typing import Any

# SIGINT (Ctrl-C), SIGTERM and SIGHUP stop a run: the files in flight are
# abandoned without a trace, the summary so far is printed and the exit
# status is 128 + the signal's number (130, 143, 129).
STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class Stop(BaseException):
    """The first stop signal, raised in the main thread of a single-process run.

    A BaseException, like KeyboardInterrupt, so that no ``except Exception``
    on the way (a reader turning failures into ImageError) takes it for a bad file.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class StopSignals:
    """Handlers for the stop signals while jobs run; the first one's number is kept.

    ``raise_first``: raise Stop where the main thread is (it runs the jobs
    itself, so the atomic writer's cleanup runs); otherwise only record it,
    for a parent that polls between its workers' results. Later signals
    are only recorded: a second Ctrl-C never interrupts the cleanup.
    """

    def __init__(self, raise_first: bool) -> None:
        self.raise_first = raise_first
        self.signum: int | None = None
        self.lost = False
        self._old: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        global _ACTIVE
        if threading.current_thread() is threading.main_thread():
            _ACTIVE = self
            for sig in STOP_SIGNALS:
                with contextlib.suppress(ValueError, OSError):
                    self._old[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.signum is None:
            self.signum = signum
            if self.raise_first:
                # The files in flight are this process's and abandoned: their
                # temporaries go now, not once a chunk still running on a
                # thread has ended (a SIGKILL in between would leave them).
                cleanup_temporaries()
                raise Stop(signum)
        elif self.lost:
            # The first Stop landed where Python cannot raise (see stop_lost):
            # this is its second chance, not a new stop.
            self.lost = False
            raise Stop(self.signum)

    def __exit__(self, *exc: object) -> None:
        global _ACTIVE
        if _ACTIVE is self:
            _ACTIVE = None
        for sig, old in self._old.items():
            signal.signal(sig, old if old is not None else signal.SIG_DFL)


# The StopSignals whose handlers are installed, for stop_lost().
_ACTIVE: StopSignals | None = None


def stop_lost(stop: Stop) -> None:
    """Raise a Stop again in the main thread: the first one was swallowed.

    A signal handler runs wherever the main thread is, and a Stop raised
    inside a weakref callback or a ``__del__`` (the import lock's callback,
    when a stop lands while a module is being imported) is only "ignored"
    by Python: the file in flight would be finished and written after all.
    The interpreter's unraisable hook (the command's, in ``__main__``) hands
    it here; a helper thread delivers the signal again a few milliseconds
    later, once the main thread has left the callback.
    """
    stopper = _ACTIVE
    if stopper is None or not stopper.raise_first:
        return
    stopper.lost = True

    def later() -> None:
        import _thread
        import time

        time.sleep(0.005)
        _thread.interrupt_main(stop.signum)

    threading.Thread(target=later, name="imgfilter-stop-again", daemon=True).start()


def cleanup_temporaries() -> None:
    """Remove the temporary outputs in flight, if the atomic writer is loaded at all.

    A signal may land while :mod:`imgfilter.io.atomic` is still being
    imported (its module object exists, its functions not yet): nothing can
    be staged then, so there is nothing to remove.
    """
    atomic = sys.modules.get("imgfilter.io.atomic")
    cleanup = getattr(atomic, "cleanup_temporaries", None)
    if cleanup is not None:
        cleanup()


def exit_now(status: int) -> None:
    """Flush the standard streams and end the process with ``status``, at once.

    Not SystemExit: the interpreter's exit joins every thread, and one
    that a stop caught while a thread pool was starting it waits for work
    that never comes (the command hung for good); and a SystemExit raised
    by a handler that runs inside a weakref callback (the import lock's) is
    only "ignored": the run went on and wrote its output, exit 0. Whatever
    is abandoned has been cleaned up by then (temporaries removed, the
    summary printed).
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):  # closed (None) or gone
            pass
    os._exit(status)


_CLEANUP_INSTALLED = False


def install_cleanup_handlers() -> None:
    """SIGTERM/SIGHUP remove the temporary outputs in flight and exit 128 + signal (143, 129).

    Installed by the command, never by importing the library, and as early
    as it starts (``imgfilter.__main__``): a signal while it is still
    importing exits 143 or 129 as later. Not in a thread, and never over
    nohup's SIG_IGN.
    """
    global _CLEANUP_INSTALLED
    if _CLEANUP_INSTALLED:
        return
    _CLEANUP_INSTALLED = True
    main_pid = os.getpid()

    def on_signal(signum, frame):
        cleanup_temporaries()
        if os.getpid() != main_pid:  # a forked batch worker dies of the signal; its parent reports
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        exit_now(128 + signum)

    for name in ("SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is not None and signal.getsignal(sig) is signal.SIG_DFL:
            with contextlib.suppress(ValueError):
                signal.signal(sig, on_signal)
