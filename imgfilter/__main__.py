"""``python -m imgfilter`` and the ``imgfilter`` command (:func:`run`)."""

import os


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
        raise SystemExit(130) from None
    main()


if __name__ == "__main__":
    run()
