"""The bands run in the caller's context: numpy's errstate (a context variable) set
around a call holds in every band, on the worker threads as inline."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from imgfilter.core.tiles import run_bands


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_errstate_reaches_every_band(threads):
    seen = []
    lock = threading.Lock()

    def work(r0: int, r1: int) -> None:
        main = threading.current_thread() is threading.main_thread()
        with lock:
            seen.append((r1 - r0, main, np.geterr()["divide"]))
        if main:
            time.sleep(0.05)  # the caller takes bands too: leave some to the workers

    before = np.geterr()
    with np.errstate(divide="raise"):
        run_bands(12, 8 << 20, work, threads=threads)  # 8 MB rows: a few rows a band
    assert np.geterr() == before
    assert sum(n for n, _, _ in seen) == 12 and len(seen) > 1
    assert {state for _, _, state in seen} == {"raise"}
    if threads > 1:
        assert not all(main for _, main, _ in seen)  # the bands did leave the calling thread


def test_floating_point_error_raises_from_a_worker_band():
    def work(r0: int, r1: int) -> None:
        if threading.current_thread() is threading.main_thread():
            time.sleep(0.05)  # the caller takes bands too: the workers raise
        else:
            np.divide(np.ones(3), np.zeros(3))

    with np.errstate(divide="raise"), pytest.raises(FloatingPointError):
        run_bands(4, 8 << 20, work, threads=2)
