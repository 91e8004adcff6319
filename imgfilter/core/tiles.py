"""Row bands and the thread pool: the only place that tiles or spawns threads.

A filter describes how to compute output rows ``r0:r1`` from the input; this
module splits the output into bands sized for the cache and runs them on a
shared pool. numpy releases the GIL inside its array loops, so bands run in
parallel, and each band's temporaries stay small (no whole-image float64).
"""

from __future__ import annotations

import contextvars
import functools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .names import OptionError

# A band's working set (input block, accumulator, temporaries) aims at about
# this many bytes. Measured on 4K images: bands this large run fastest (they
# stay in the shared L3 and need few numpy calls each), and two of them in
# flight still keep peak extra memory well under the image plus its output.
BAND_BYTES = 1 << 24

# Work below this many bytes (rows x bytes_per_row) runs on the caller's
# thread: handing bands to the pool and waiting for them costs about 0.1 ms,
# more than a small image's whole filter (measured: a 3x3 minimum of an 8x8
# RGB image took 172 us on two threads, 65 us on one).
INLINE_BYTES = 1 << 18

# One pool per requested size, never shut down while the process runs: a
# call may hold a pool while another call asks for a different size.
_pools: dict[int, ThreadPoolExecutor] = {}
_lock = threading.Lock()


def default_threads() -> int:
    """``IMGFILTER_THREADS`` if set, else the machine's cores."""
    env = os.environ.get("IMGFILTER_THREADS", "").strip()
    if env:
        try:
            n = int(env)
        except ValueError:
            raise OptionError(f"IMGFILTER_THREADS={env!r} is not an integer") from None
        if n < 0:
            raise OptionError(f"IMGFILTER_THREADS must be >= 0, got {n}")
        if n > 0:
            return n
    return _cores()


@functools.cache
def _cores() -> int:
    # os.cpu_count() reads /sys on every call (about 10 us, a sixth of a
    # small image's whole filter call); the machine's cores do not change.
    return os.cpu_count() or 1


def resolve_threads(threads: int | None) -> int:
    """Validate a ``threads=`` argument; None or 0 means the default."""
    if threads is None or threads == 0:
        return default_threads()
    if isinstance(threads, bool) or not isinstance(threads, int):
        raise TypeError(f"threads must be an int, got {threads!r}")
    if threads < 0:
        raise OptionError(f"threads must be >= 0 (0 = all cores), got {threads}")
    return threads


def _forget_pools() -> None:
    # A forked child inherits the pool objects but not their threads: work
    # queued on them would wait forever. The child starts its own pools.
    global _lock
    _pools.clear()
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pools)


def _get_pool(n: int) -> ThreadPoolExecutor:
    with _lock:
        pool = _pools.get(n)
        if pool is None:
            pool = _pools[n] = ThreadPoolExecutor(max_workers=n, thread_name_prefix="imgfilter")
        return pool


def worker_pool(threads: int | None = None) -> ThreadPoolExecutor:
    """The process's pool of ``resolve_threads(threads)`` workers, the one the
    bands run on, for independent tasks that wait on nothing (a PNG band's
    deflate): such a task never blocks a band, and the pool is never resized."""
    return _get_pool(resolve_threads(threads))


#: The key of the side thread in ``_pools`` (band pools are keyed by their size, >= 1).
_SIDE = -1


def side_pool() -> ThreadPoolExecutor:
    """One thread beside the caller, for the second stage of a two-stage pipeline.

    The PNG decoder unfilters a band of rows here while it inflates the next
    (:mod:`imgfilter.io.png`). Its tasks never wait on other tasks, so calls
    made from inside the band pools, or several at once, cannot deadlock on
    it; one thread keeps each caller's tasks in the order they were given.
    """
    with _lock:
        pool = _pools.get(_SIDE)
        if pool is None:
            pool = _pools[_SIDE] = ThreadPoolExecutor(max_workers=1, thread_name_prefix="imgfilter-side")
        return pool


class Scratch:
    """Buffers reused by the bands one thread runs during one call.

    A band's block is a few MB: allocated afresh per band it comes back from
    the system as new pages that the kernel zeroes on first touch (measured:
    28% of a 3x3 float32 correlation went to clearing pages). Each worker
    keeps one buffer per ``key`` for the call's lifetime instead; buffers go
    when the Scratch does, so nothing outlives the call.
    """

    def __init__(self) -> None:
        self._local = threading.local()

    def get(self, key: str, shape: tuple[int, ...], dtype) -> np.ndarray:
        """An uninitialized C-contiguous array of ``shape`` and ``dtype``, private to this thread."""
        dtype = np.dtype(dtype)
        nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        bufs = self._local.__dict__.setdefault("bufs", {})
        buf = bufs.get(key)
        if buf is None or buf.nbytes < nbytes:
            # 64-byte aligned, so any view below starts on a whole vector.
            raw = np.empty(nbytes + 64, dtype=np.uint8)
            start = -raw.ctypes.data % 64
            buf = bufs[key] = raw[start : start + nbytes]
        return buf[:nbytes].view(dtype).reshape(shape)


def band_rows(rows: int, bytes_per_row: int, threads: int, memory_cap: int | None = None) -> int:
    """Rows per band: cache-sized, within ``memory_cap`` bytes for all the
    bands in flight together, and as many bands as a whole number of rounds
    of ``threads`` (five equal bands on two threads take three bands' time:
    a 4K 3x3 minimum ran 20% longer so), all of about the same height."""
    budget = BAND_BYTES
    if memory_cap is not None:
        budget = min(budget, max(4 << 20, memory_cap // max(1, threads)))
    per_cache = max(1, budget // max(1, bytes_per_row))
    threads = max(1, threads)
    wanted = -(-rows // per_cache)
    bands = -(-wanted // threads) * threads
    return max(1, -(-rows // bands))


#: Bands of a ``fixed`` run: as many as for this many threads, whatever the
#: thread count, and never more than this many in flight.
FIXED_SPLIT = 8


def run_bands(
    rows: int,
    bytes_per_row: int,
    work: Callable[[int, int], None],
    *,
    threads: int | None = None,
    min_rows: int = 1,
    memory_cap: int | None = None,
    fixed: bool = False,
    nbytes: int | None = None,
) -> None:
    """Call ``work(r0, r1)`` over bands covering output rows ``0..rows``.

    ``work`` must write its rows of the output itself and touch nothing else,
    so bands are independent. Exceptions propagate to the caller.

    ``nbytes``: about how many bytes the call reads and writes, for the
    inline rule (below ``INLINE_BYTES`` the bands run on the caller's
    thread); default ``rows * bytes_per_row``, which callers that give a
    nominal ``bytes_per_row`` (bands that need not fit a cache) replace.

    ``fixed``: the bands do not depend on the thread count, for work whose
    values depend on where a band starts (float running sums restart there,
    an FFT's rounding depends on the band's size), so that every ``threads``
    gives the same bits.
    """
    n_threads = resolve_threads(threads)
    split = FIXED_SPLIT if fixed else n_threads
    step = max(min_rows, band_rows(rows, bytes_per_row, split, memory_cap))
    if fixed:
        n_threads = min(n_threads, FIXED_SPLIT)
    bands = [(r, min(r + step, rows)) for r in range(0, rows, step)]
    if (
        n_threads == 1
        or len(bands) == 1
        or (rows * bytes_per_row if nbytes is None else nbytes) < INLINE_BYTES
        or threading.current_thread().name.startswith("imgfilter")
    ):
        for r0, r1 in bands:
            work(r0, r1)
        return
    pool = _get_pool(n_threads)
    # The caller and n_threads - 1 workers pull bands in order from one shared
    # iterator, so no more than ``threads`` run at once and load stays
    # balanced; the caller works instead of waiting (one thread fewer to
    # wake: a wake-up costs tens of microseconds here).
    it = iter(bands)
    take = threading.Lock()
    stop = False

    def drain() -> None:
        while True:
            with take:
                band = None if stop else next(it, None)
            if band is None:
                return
            work(*band)

    # Each worker runs in a copy of the caller's context, so what the caller
    # set there (numpy's errstate lives in a context variable) holds in every
    # band, as it does when the bands run inline: one copy per worker, since
    # a context cannot be entered by two threads at once.
    helpers = min(n_threads, len(bands)) - 1
    futures = [pool.submit(contextvars.copy_context().run, drain) for _ in range(helpers)]
    try:
        drain()
    except BaseException:
        # The workers finish the band they hold and take no more (Ctrl-C
        # or an error need not wait for the rest of the image).
        stop = True
        raise
    for f in futures:
        f.result()
