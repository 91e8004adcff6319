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
        self._old: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
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
                atomic = sys.modules.get("imgfilter.io.atomic")
                if atomic is not None:
                    atomic.cleanup_temporaries()
                raise Stop(signum)

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old if old is not None else signal.SIG_DFL)


_CLEANUP_INSTALLED = False


def install_cleanup_handlers() -> None:
    """SIGTERM/SIGHUP remove the temporary outputs in flight and exit 128 + signal (143, 129).

    Installed by the command, never by importing the library. Not in a
    thread, and never over nohup's SIG_IGN.
    """
    global _CLEANUP_INSTALLED
    if _CLEANUP_INSTALLED:
        return
    _CLEANUP_INSTALLED = True
    main_pid = os.getpid()

    def on_signal(signum, frame):
        atomic = sys.modules.get("imgfilter.io.atomic")  # not imported yet: nothing is being written
        if atomic is not None:
            atomic.cleanup_temporaries()
        if os.getpid() != main_pid:  # a forked batch worker dies of the signal; its parent reports
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        raise SystemExit(128 + signum)

    for name in ("SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is not None and signal.getsignal(sig) is signal.SIG_DFL:
            with contextlib.suppress(ValueError):
                signal.signal(sig, on_signal)
