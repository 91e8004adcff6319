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
