"""``python -m imgfilter`` and the ``imgfilter`` command (:func:`run`)."""

import os
import sys

#: The exit status of a command stopped by Ctrl-C (128 + SIGINT), as the jobs and click's
#: handlers give it.
STOPPED = 130
#: Every stop's status: Ctrl-C, SIGTERM (143), SIGHUP (129).
STOP_STATUSES = (STOPPED, 143, 129)


def run() -> None:
    """The command line; a Ctrl-C while it is still importing exits 130, without a traceback.

    numpy's OpenBLAS starts a thread per core when numpy is imported, and
    they spin: on 2 cores ``import numpy`` took 198 ms of CPU instead of 87,
    the other core's share taken from the command's own start, and a whole
    4K ``gaussian`` ran 8% slower. The command's threads are imgfilter's
    own (``--threads``), so BLAS gets one unless OPENBLAS_NUM_THREADS is set.
    The Python API leaves the user's process as it is.
    """
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    sys.unraisablehook = _interrupts_reach_the_command
    _plug_closed_descriptors()
    try:
        from .run.signals import install_cleanup_handlers

        # Before the heavy imports: a SIGTERM or SIGHUP while they run exits 143 or 129 too.
        install_cleanup_handlers()
        from .cli import main
    except KeyboardInterrupt:
        _stopped()
    try:
        main()
    except KeyboardInterrupt:
        _stopped()
    except SystemExit as exc:
        if exc.code in STOP_STATUSES:
            _stopped(exc.code)
        raise


def _interrupts_reach_the_command(unraisable) -> None:
    """A Ctrl-C that lands in code Python cannot raise from goes to the command.

    A KeyboardInterrupt raised inside a weakref callback, a ``__del__`` or
    the like is "ignored" with a printed traceback (seen in CI: the import
    lock's weakref callback, Ctrl-C 20 ms into numpy's import) and the
    command would go on. Here it is raised again in the main thread
    (``_thread.interrupt_main``), where the command stops as for any Ctrl-C:
    from a helper thread a few milliseconds later, since the main thread
    would take it at once, inside this hook, which ignores it again (a
    repeat lands here again and tries again). The Stop that SIGTERM, SIGHUP
    or Ctrl-C raise while jobs run is raised again the same way
    (:func:`imgfilter.run.signals.stop_lost`). Every other unraisable
    exception is Python's to report.
    """
    signals = sys.modules.get("imgfilter.run.signals")
    stop = getattr(signals, "Stop", None)
    if stop is not None and isinstance(unraisable.exc_value, stop):
        signals.stop_lost(unraisable.exc_value)
        return
    if unraisable.exc_type is not None and issubclass(unraisable.exc_type, KeyboardInterrupt):
        import _thread
        import threading
        import time

        def later() -> None:
            time.sleep(0.005)
            _thread.interrupt_main()

        threading.Thread(target=later, name="imgfilter-interrupt", daemon=True).start()
        return
    sys.__unraisablehook__(unraisable)


def _plug_closed_descriptors() -> None:
    """Put /dev/null on a closed standard descriptor (0, 1 or 2), as OpenSSH's daemons do.

    Started with ``<&-``, ``>&-`` or ``2>&-``, the process has no such
    descriptor, and the next file it opens would get that number: the
    decoders' noise (libtiff, libjpeg print to descriptor 2) would land in
    a temporary output, and a ``/dev/stdin`` input would read whatever file
    took descriptor 0. ``sys.stdin``/``sys.stdout``/``sys.stderr`` stay None,
    as Python made them: that is how the run tells that a ``-`` input or
    output has nothing behind it (one line, not a read of /dev/null).
    """
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            try:
                null = os.open(os.devnull, os.O_RDONLY if fd == 0 else os.O_WRONLY)
            except OSError:
                continue
            if null != fd:
                os.dup2(null, fd)
                os.close(null)


def _stopped(status: int = STOPPED) -> None:
    """Exit 130 (or 143, 129) at once, without the interpreter's wait for its threads.

    Whatever was in flight has been abandoned by then (temporaries removed,
    the summary printed). A Ctrl-C that lands while a thread pool is starting
    a worker can leave that worker out of the pool's shutdown list, waiting
    for work that never comes; the interpreter's exit waits for every such
    thread, so the command hung (2 of 150 runs, Ctrl-C 50-150 ms into a
    ``gaussian``); a SIGTERM's or SIGHUP's stop the same. Nothing at exit
    remains to be done: the streams are flushed here.
    """
    # Not run.signals.exit_now: a Ctrl-C may land while that module is being imported.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):  # AttributeError: closed at start (None)
            pass
    os._exit(status)


if __name__ == "__main__":
    run()
