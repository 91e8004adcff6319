"""Recycled result buffers (imgfilter.core.buffers over _engine.block).

A freed block's pages go back to a pool and the next request of about its
size gets them: these tests pin what that must never change (an array's
lifetime, its contents, what tracemalloc sees, how much the pool may hold).
The reuse checks need the pool (mmap and MADV_FREE); a sanitizer build makes
every block a plain allocation and runs the rest.
"""

from __future__ import annotations

import pickle
import tracemalloc

import numpy as np
import pytest

import imgfilter
from imgfilter import _engine
from imgfilter.core.buffers import BLOCK_MIN, empty, release

recycles = pytest.mark.skipif(not _engine.BLOCKS_RECYCLE, reason="blocks are plain allocations in this build")
MB = 1 << 20


@pytest.fixture(autouse=True)
def clean_pool():
    release()
    yield
    _engine.blocks_pooled(10.0)
    release()


def address(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


def test_large_arrays_are_writable_c_arrays_of_the_shape_and_dtype():
    for shape, dtype in [((2160, 3840, 3), np.float32), ((1024, 1024), np.float64), (BLOCK_MIN, np.uint8)]:
        a = empty(shape, dtype)
        dims = shape if isinstance(shape, tuple) else (shape,)
        assert a.shape == dims and a.dtype == dtype
        assert a.flags.c_contiguous and a.flags.writeable and a.flags.aligned
        assert not a.flags.owndata  # over a block
        a[...] = 7
        assert np.all(a == 7)


def test_small_and_empty_arrays_are_numpys_own():
    for shape in [(10, 10), (0, 5000, 5000), (BLOCK_MIN - 1,)]:
        a = empty(shape, np.uint8)
        assert a.shape == shape and a.flags.owndata
    assert empty(3, np.float32).shape == (3,)


@recycles
def test_a_freed_block_serves_the_next_request_of_its_size():
    a = empty((2048, 2048), np.float32)
    where = address(a)
    del a
    count, held, _ = _engine.blocks_pooled()
    assert count == 1 and held >= 16 * MB
    b = empty((2048, 2048), np.float32)
    assert address(b) == where
    assert _engine.blocks_pooled()[:2] == (0, 0)


@recycles
def test_a_block_under_a_view_stays_live_and_keeps_its_values():
    a = empty((2048, 2048), np.float32)
    a[...] = np.arange(2048, dtype=np.float32)
    view = a[10:20, ::3]
    expect = view.copy()
    where = address(a)
    del a
    assert _engine.blocks_pooled()[:2] == (0, 0)  # the view still holds it
    other = empty((2048, 2048), np.float32)
    assert address(other) != where
    other[...] = -1.0
    assert np.array_equal(view, expect)
    del view
    assert _engine.blocks_pooled()[0] == 1


@recycles
def test_a_block_serves_requests_of_half_its_size_to_its_size_only():
    big = empty((64 * MB,), np.uint8)
    at_big = address(big)
    del big
    assert _engine.blocks_pooled()[:2] == (1, 64 * MB)
    small = empty((8 * MB,), np.uint8)  # under half of the pooled block: a block of its own
    at_small = address(small)
    assert at_small != at_big
    assert _engine.blocks_pooled()[:2] == (1, 64 * MB)
    del small
    assert _engine.blocks_pooled()[:2] == (2, 72 * MB)
    bigger = empty((20 * MB,), np.uint8)  # more than the 8 MiB block, under half the 64 MiB one
    assert address(bigger) not in (at_small, at_big)
    bigger[...] = 1
    half = empty((32 * MB,), np.uint8)  # exactly half: the 64 MiB block
    assert address(half) == at_big
    assert _engine.blocks_pooled()[:2] == (1, 8 * MB)


@recycles
def test_the_pool_holds_the_32_newest_blocks_and_release_empties_it():
    arrays = [empty((4 * MB,), np.uint8) for _ in range(34)]
    where = [address(a) for a in arrays]
    while arrays:  # freed first to last
        arrays.pop(0)
    count, held, _ = _engine.blocks_pooled()
    assert count == 32 and held == 32 * 4 * MB
    served = [empty((4 * MB,), np.uint8) for _ in range(32)]  # held: each takes a pooled block
    assert _engine.blocks_pooled()[:2] == (0, 0)
    assert {address(a) for a in served} == set(where[2:])
    del served
    assert release() == 32 * 4 * MB
    assert _engine.blocks_pooled()[:2] == (0, 0)


@recycles
def test_the_pool_holds_at_most_its_byte_limit_oldest_out_first():
    limit = _engine.blocks_pooled()[2]
    assert 0 < limit <= 1 << 30
    quarter = limit // 4 // (2 * MB) * (2 * MB)  # whole huge pages: the block is exactly this
    arrays = [empty((quarter,), np.uint8) for _ in range(5)]
    where = [address(a) for a in arrays]
    while arrays:  # freed first to last
        arrays.pop(0)
    count, held, _ = _engine.blocks_pooled()
    assert count == 4 and held == 4 * quarter <= limit
    served = [empty((quarter,), np.uint8) for _ in range(4)]
    assert _engine.blocks_pooled()[:2] == (0, 0)
    assert {address(a) for a in served} == set(where[1:])
    del served
    too_big = empty((limit + 1,), np.uint8)
    del too_big  # over the limit alone: unmapped at once, the pool as it was
    assert _engine.blocks_pooled()[:2] == (4, 4 * quarter)


@recycles
def test_blocks_freed_longer_ago_than_the_decay_are_unmapped():
    a = empty((8 * MB,), np.uint8)
    del a
    assert _engine.blocks_pooled()[0] == 1
    _engine.blocks_pooled(0.0)  # every freed block is stale at the next request
    b = empty((1 * MB,), np.uint8)  # small: numpy's own, the pool untouched
    assert _engine.blocks_pooled()[0] == 1
    c = empty((40 * MB,), np.uint8)
    assert _engine.blocks_pooled()[:2] == (0, 0)
    del b, c


def test_tracemalloc_counts_live_blocks():
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        a = empty((32 * MB,), np.uint8)
        live = tracemalloc.get_traced_memory()[0]
        del a
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert live - before >= 32 * MB
    assert live - after >= 32 * MB


def test_results_over_recycled_blocks_are_whole_and_distinct():
    rng = np.random.default_rng(3)
    x = rng.random((1100, 1400, 3), dtype=np.float32)  # 18 MB results
    first = imgfilter.gaussian(x, 2.0)
    expect = first.copy()
    assert not first.flags.owndata
    second = imgfilter.gaussian(x, 2.0)
    assert not np.shares_memory(first, second)
    del first, second
    # The next results reuse those pages: every value is written again.
    again = imgfilter.correlate(x, np.ones((3, 3), np.float32) / 9)
    again[...] = np.nan
    third = imgfilter.gaussian(x, 2.0)
    assert np.array_equal(third, expect)
    assert np.array_equal(pickle.loads(pickle.dumps(third)), expect)


def test_block_sizes_are_checked():
    with pytest.raises(ValueError, match="block size"):
        _engine.block(-1)
    assert len(memoryview(_engine.block(0))) == 0


def lazy_free_kib(where: int) -> int:
    """LazyFree of the mapping that holds address ``where`` (Linux's /proc/self/smaps)."""
    inside = False
    with open("/proc/self/smaps") as f:
        for line in f:
            head = line.split()[0]
            if "-" in head and not head.endswith(":"):
                lo, hi = (int(v, 16) for v in head.split("-"))
                inside = lo <= where < hi
            elif inside and head == "LazyFree:":
                return int(line.split()[1])
    raise AssertionError("no mapping holds the block")


@recycles
@pytest.mark.skipif(not __import__("os").path.exists("/proc/self/smaps"), reason="needs Linux's smaps")
def test_pooled_pages_are_given_to_the_kernel_to_take_back():
    a = empty((16 * MB,), np.uint8)
    a[...] = 1  # resident pages
    where = address(a)
    assert lazy_free_kib(where) == 0
    del a
    assert lazy_free_kib(where) >= 16 * 1024


@recycles
def test_a_mapping_that_fails_empties_the_pool_and_raises_memory_error():
    a = empty((8 * MB,), np.uint8)
    del a
    assert _engine.blocks_pooled()[0] == 1
    with pytest.raises(MemoryError):
        _engine.block(1 << 62)  # beyond any address space: both tries fail
    assert _engine.blocks_pooled()[:2] == (0, 0)


# ---------------------------------------------------------------- kernel scratch
# The kernels' large scratch (engine_scratch: the tall min/max footprint's
# rows of 1-D results, a band's size) comes from a second pool of mappings.


def tall_max(x: np.ndarray, threads: int = 1) -> np.ndarray:
    # A 9 x 9 square is a tall rectangle: the van Herk pass over the band's rows.
    return imgfilter.maximum(x, size=9, mode="nearest", threads=threads)


def scipy_max(x: np.ndarray) -> np.ndarray:
    import scipy.ndimage as ndi

    return ndi.maximum_filter(x, size=(9, 9) + (1,) * (x.ndim - 2), mode="nearest")


@recycles
def test_kernel_scratch_is_pooled_reused_and_released():
    rng = np.random.default_rng(1)
    x = rng.random((600, 2000, 3), dtype=np.float32)
    assert _engine.scratch_pooled()[:2] == (0, 0)
    tall_max(x)
    count, held, most = _engine.scratch_pooled()
    assert count >= 1 and 0 < held <= most <= 256 * MB
    y = rng.random((600, 2000, 3), dtype=np.float32)
    got = tall_max(y)  # the same sizes again: the pooled mappings, holding x's rows
    assert _engine.scratch_pooled()[:2] == (count, held)
    np.testing.assert_array_equal(got, scipy_max(y))
    assert release() >= held
    assert _engine.scratch_pooled()[:2] == (0, 0)


@recycles
def test_kernel_scratch_freed_longer_ago_than_the_decay_is_unmapped():
    rng = np.random.default_rng(2)
    tall_max(rng.random((600, 2000, 3), dtype=np.float32))
    first = _engine.scratch_pooled()[1]
    small = rng.random((300, 400, 3), dtype=np.float32)  # scratch under half the size: no reuse
    tall_max(small)
    both = _engine.scratch_pooled()[1]
    assert both > first
    release()
    tall_max(rng.random((600, 2000, 3), dtype=np.float32))
    _engine.blocks_pooled(0.0)  # the decay is the blocks' (0: stale at the next request)
    tall_max(small)
    assert _engine.scratch_pooled()[1] <= both - first


@recycles
def test_a_failed_block_mapping_empties_the_scratch_pool_too():
    tall_max(np.random.default_rng(3).random((600, 2000, 3), dtype=np.float32))
    assert _engine.scratch_pooled()[0] >= 1
    with pytest.raises(MemoryError):
        _engine.block(1 << 62)
    assert _engine.scratch_pooled()[:2] == (0, 0)


def test_threads_sharing_the_scratch_pool_give_the_one_thread_result():
    rng = np.random.default_rng(4)
    for shape in [(1200, 2000, 3), (700, 3001), (64, 5000, 4)]:
        x = (rng.random(shape) * 255).astype(np.uint8 if len(shape) == 2 else np.float32)
        want = scipy_max(x)
        for _ in range(3):
            np.testing.assert_array_equal(tall_max(x, threads=2), want)
            np.testing.assert_array_equal(tall_max(x, threads=1), want)


def test_scratch_pooled_reports_nothing_where_blocks_are_plain_allocations():
    if not _engine.BLOCKS_RECYCLE:
        tall_max(np.ones((600, 2000, 3), np.float32))
        assert _engine.scratch_pooled() == (0, 0, 0)
    else:
        assert _engine.scratch_pooled()[2] > 0


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_a_forked_child_uses_the_pools_it_inherits():
    import os

    x = np.random.default_rng(5).random((600, 2000, 3), dtype=np.float32)
    tall_max(x)  # the parent's pools hold scratch mappings now
    want = scipy_max(x)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's own process
        ok = np.array_equal(tall_max(x, threads=2), want) and np.array_equal(tall_max(x), want)
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
