"""Small work runs on the caller's thread, large work on the band pool
(core.tiles.run_bands, INLINE_BYTES), with the same bands either way."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import imgfilter
from imgfilter.core import tiles


def _threads_seen(rows: int, bytes_per_row: int) -> tuple[list[tuple[int, int]], set[str]]:
    bands, names = [], set()
    lock = threading.Lock()

    def work(r0: int, r1: int) -> None:
        with lock:
            bands.append((r0, r1))
            names.add(threading.current_thread().name)
        time.sleep(0.05)  # the caller takes bands too: a worker gets one if it may

    tiles.run_bands(rows, bytes_per_row, work, threads=2)
    return sorted(bands), names


def test_small_work_stays_on_the_callers_thread(monkeypatch):
    monkeypatch.setattr(tiles, "INLINE_BYTES", 1 << 18)
    me = threading.current_thread().name
    # 64 rows of 4 KB: 256 KB less one row's worth is inline...
    bands, names = _threads_seen(63, 4096)
    assert names == {me}
    assert bands[0][0] == 0 and bands[-1][1] == 63 and len(bands) == 2
    # ...and from INLINE_BYTES on, the same two bands: one on the caller, one on a worker.
    bands, names = _threads_seen(64, 4096)
    assert bands == [(0, 32), (32, 64)]
    assert len(names) == 2 and me in names and any(n.startswith("imgfilter") for n in names)


def test_inline_and_pooled_bands_give_the_same_bits(monkeypatch):
    rng = np.random.default_rng(3)
    x = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    f = rng.normal(size=(40, 50)).astype(np.float32)
    monkeypatch.setattr(tiles, "INLINE_BYTES", 1 << 30)
    inline = [imgfilter.minimum(x, size=3, threads=2), imgfilter.gaussian(f, sigma=2, threads=2)]
    monkeypatch.setattr(tiles, "INLINE_BYTES", 0)
    pooled = [imgfilter.minimum(x, size=3, threads=2), imgfilter.gaussian(f, sigma=2, threads=2)]
    for a, b in zip(inline, pooled, strict=True):
        np.testing.assert_array_equal(a, b)


def test_an_error_in_the_callers_band_stops_the_workers():
    done = []

    def work(r0: int, r1: int) -> None:
        if threading.current_thread() is threading.main_thread():
            raise RuntimeError("boom")
        time.sleep(0.02)
        done.append(r0)

    # 20 bands of 2 rows: the caller raises on the first band it takes.
    with pytest.raises(RuntimeError, match="boom"):
        tiles.run_bands(40, 8 << 20, work, threads=2)
    time.sleep(0.5)  # time enough for a worker to do all 19 others (0.38 s)
    assert len(done) <= 2
