"""``python -m imgfilter`` and the ``imgfilter`` command (:func:`run`)."""

import os
import sys

#: The exit status of a command stopped by Ctrl-C (128 + SIGINT), as the jobs and click's
#: handlers give it.
STOPPED = 130


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
    try:
        from .cli import main
    except KeyboardInterrupt:
        _stopped()
    try:
        main()
    except KeyboardInterrupt:
        _stopped()
    except SystemExit as exc:
        if exc.code == STOPPED:
            _stopped()
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
    repeat lands here again and tries again). Every other unraisable
    exception is Python's to report.
    """
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


def _stopped() -> None:
    """Exit 130 at once, without the interpreter's wait for its threads.

    Whatever was in flight has been abandoned by then (temporaries removed,
    the summary printed). A Ctrl-C that lands while a thread pool is starting
    a worker can leave that worker out of the pool's shutdown list, waiting
    for work that never comes; the interpreter's exit waits for every such
    thread, so the command hung (2 of 150 runs, Ctrl-C 50-150 ms into a
    ``gaussian``). Nothing at exit remains to be done: the streams are
    flushed here.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(STOPPED)


if __name__ == "__main__":
    run()
