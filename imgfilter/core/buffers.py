"""Result arrays over the engine's recycled blocks.

A fresh mapping costs the kernel a page fault and a zeroed page for every page
a filter writes: a new 100 MB float32 4K RGB result took half again as long to
write as an old one (12.2 against 8.5 ms on the machine of
docs/performance.md), about a fifth of a one-thread 3x3 correlate.
:func:`empty` gives arrays of 4 MiB and more over ``_engine.block``: when the
last array over a block goes, its pages wait in a small pool (marked free to
the kernel, which may take them back under memory pressure) for the next
request of half their size to their size. The pool holds at most 32 blocks and
min(1 GiB, an eighth of the physical memory), oldest out first, those freed 10
seconds before unmapped at the next request or free; :func:`release` empties it
at once, and the pool of the kernels' own large scratch (``engine_scratch`` in
``_engine/blocks.c``) with it. Smaller arrays are numpy's own.

Examples
--------
>>> import numpy as np
>>> a = empty((2160, 3840, 3), np.float32)
>>> a.shape, a.dtype, a.flags.writeable
((2160, 3840, 3), dtype('float32'), True)
"""

from __future__ import annotations

import math
from typing import SupportsIndex

import numpy as np
from numpy.typing import DTypeLike

from .. import _engine

BLOCK_MIN = 4 << 20
"""Arrays of at least this many bytes come from recycled blocks."""


def empty(shape: SupportsIndex | tuple[SupportsIndex, ...], dtype: DTypeLike = float) -> np.ndarray:
    """A C-ordered array of undefined values, as ``numpy.empty``; large ones over a recycled block."""
    dims = (int(shape),) if isinstance(shape, SupportsIndex) else tuple(int(s) for s in shape)
    dt = np.dtype(dtype)
    count = math.prod(dims)
    if min(dims, default=1) < 0 or count * dt.itemsize < BLOCK_MIN or dt.hasobject:
        return np.empty(dims, dtype=dt)
    return np.frombuffer(_engine.block(count * dt.itemsize), dtype=dt, count=count).reshape(dims)


def release() -> int:
    """Unmap the freed blocks and kernel scratch waiting for reuse; returns how many bytes that gave back."""
    return _engine.blocks_release()
