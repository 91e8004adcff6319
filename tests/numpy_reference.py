"""Reference implementations in plain numpy, kept as oracles for the compiled engine.

``taps_in_order`` sums the taps in the engine's order and accumulator type, so
the engine must equal it bit for bit. ``accumulate_grouped`` is the numpy path
the engine replaced (taps sharing a weight summed first, unit weights without
a multiply): its rounding differs, so it is compared to a tolerance.
"""

from __future__ import annotations

from functools import cache

import numpy as np


def tap_view(block: np.ndarray, stride, dilation, tap, counts) -> np.ndarray:
    index = tuple(
        slice(t * d, t * d + (m - 1) * s + 1, s)
        for t, d, s, m in zip(tap, dilation, stride, counts, strict=False)
    )
    return block[index]


def taps_in_order(block, kernel, stride, dilation, counts, dtype) -> np.ndarray:
    """sum of kernel[tap] * view(tap) over np.nonzero's taps, left to right, in ``dtype``."""
    taps = list(zip(*np.nonzero(kernel), strict=False))
    shape = tuple(counts) + block.shape[len(counts) :]
    if not taps:
        return np.zeros(shape, dtype)
    out = None
    for tap in taps:
        term = dtype.type(kernel[tap]) * tap_view(block, stride, dilation, tap, counts).astype(dtype)
        out = term if out is None else (out + term).astype(dtype)
    return out.astype(dtype)


def accumulate_grouped(block, kernel, stride, dilation, counts, dtype) -> np.ndarray:
    """The numpy tap loop the engine replaced (weights grouped, then multiplied once)."""
    groups: dict[float, list] = {}
    for tap in zip(*np.nonzero(kernel), strict=False):
        groups.setdefault(float(kernel[tap]), []).append(tap)
    shape = tuple(counts) + block.shape[len(counts) :]
    out = np.zeros(shape, dtype)
    for w, taps in groups.items():
        acc = np.zeros(shape, dtype)
        for tap in taps:
            acc += tap_view(block, stride, dilation, tap, counts).astype(dtype)
        out += acc if w == 1.0 else acc * dtype.type(w)
    return out


# --------------------------------------------------------------------------
# The numpy medians the engine's median kernels replaced (imgfilter/core/rank.py
# before the engine): min/max sorting networks on shifted views (k <= 9), grey
# level counting with box sums (8-bit) and numpy.partition. Oracles for
# tests/test_engine_rank.py, NaN rules included.


@cache
def sorting_network(n: int) -> tuple[tuple[int, int], ...]:
    """Batcher's odd-even merge sort for n items, as (i, j) comparators with i < j."""
    size = 1
    while size < n:
        size *= 2
    pairs = []
    p = 1
    while p < size:
        k = p
        while k >= 1:
            for j in range(k % p, size - k, 2 * k):
                for i in range(min(k, size - j - k)):
                    a, b = i + j, i + j + k
                    if a // (2 * p) == b // (2 * p) and b < n:
                        pairs.append((a, b))
            k //= 2
        p *= 2
    return tuple(pairs)


def prune(network: tuple[tuple[int, int], ...], needed: set[int]) -> list[tuple[int, int, bool, bool]]:
    """The comparators that can affect the ``needed`` output positions.

    Each comes with whether its min and its max are used later, so a
    comparator whose one output is dead costs one operation, not two.
    """
    need = set(needed)
    kept = []
    for a, b in reversed(network):
        if a in need or b in need:
            kept.append((a, b, a in need, b in need))
            need.update((a, b))
    return kept[::-1]


def apply_network(items: list[np.ndarray], network) -> list[np.ndarray]:
    """Sort ``items`` elementwise (ascending by position) with comparators.

    ``network`` holds (a, b) pairs, or (a, b, need_min, need_max) from
    :func:`prune`; positions nobody reads afterwards are left stale.
    """
    items = list(items)
    for comp in network:
        a, b = comp[0], comp[1]
        need_lo, need_hi = (comp[2], comp[3]) if len(comp) == 4 else (True, True)
        lo = np.minimum(items[a], items[b]) if need_lo else items[a]
        if need_hi:
            items[b] = np.maximum(items[a], items[b])
        items[a] = lo
    return items


@cache
def median_candidates(k: int) -> tuple[tuple[tuple[int, int], ...], int]:
    """Positions (row rank i, column rank j) that can hold the median, and its rank among them.

    After sorting each column and then each row of a k x k window, the element
    at (i, j) has at least (i+1)(j+1) elements <= it and (k-i)(k-j) >= it.
    """
    m = (k * k - 1) // 2
    cands, below = [], 0
    for i in range(k):
        for j in range(k):
            if k * k - (k - i) * (k - j) < m:
                below += 1  # its rank is surely below the median's
            elif (i + 1) * (j + 1) - 1 > m:
                continue  # surely above
            else:
                cands.append((i, j))
    return tuple(cands), m - below


def median_network(block: np.ndarray, k: int, rows: int, cols: int) -> np.ndarray:
    """Median of every k x k window of ``block`` ((rows + k - 1, cols + k - 1, ...))."""
    cands, rank = median_candidates(k)
    need_i = sorted({i for i, _ in cands})
    col_net = prune(sorting_network(k), set(need_i))
    columns = apply_network([block[i : i + rows] for i in range(k)], col_net)
    values = {}
    for i in need_i:
        need_j = {j for ii, j in cands if ii == i}
        row_net = prune(sorting_network(k), need_j)
        row = apply_network([columns[i][:, j : j + cols] for j in range(k)], row_net)
        for j in need_j:
            values[(i, j)] = row[j]
    items = [values[c] for c in cands]
    chosen = apply_network(items, prune(sorting_network(len(items)), {rank}))[rank]
    return chosen


def box_sum(x: np.ndarray, k: int, axis: int, dtype) -> np.ndarray:
    """Sums of k consecutive items along ``axis`` by doubling: about 2 log2(k) additions.

    (numpy's cumsum does not vectorize; additions of shifted views do.)
    """
    n = x.shape[axis] - k + 1

    def take(a, start, length):
        index = [slice(None)] * a.ndim
        index[axis] = slice(start, start + length)
        return a[tuple(index)]

    power = x.astype(dtype, copy=False)  # sums of ``width`` items
    width = 1
    total, used = None, 0
    rest = k
    while True:
        if rest & 1:
            part = take(power, used, n)
            total = part.copy() if total is None else np.add(total, part, out=total)
            used += width
        rest >>= 1
        if not rest:
            return total
        length = power.shape[axis] - width
        power = take(power, 0, length) + take(power, width, length)
        width *= 2


def median_levels(block: np.ndarray, k: int, rows: int, cols: int) -> np.ndarray:
    """Median of 8-bit k x k windows by counting grey levels (cost independent of k).

    median = #{v : count(window <= v) <= m}, m = (k*k - 1) / 2, since the
    count grows with v and first exceeds m at the median.
    """
    m = (k * k - 1) // 2
    lo, hi = int(block.min()), int(block.max())
    # Column counts fit 8 bits (k <= 255); window counts may need 16 or 32.
    col_acc = np.uint8 if k <= 255 else np.uint16
    acc = np.uint8 if k * k <= 255 else (np.uint16 if k * k <= 65535 else np.uint32)
    # Levels below the block's minimum count 0 <= m: each adds one.
    result = np.full((rows, cols, *block.shape[2:]), lo, dtype=np.uint16)
    for v in range(lo, hi):
        plane = (block <= v).view(np.uint8)
        count = box_sum(box_sum(plane, k, 0, col_acc), k, 1, acc)
        result += count <= m
    return result.astype(block.dtype)


def median_partition(block: np.ndarray, k: int, rows: int, cols: int) -> np.ndarray:
    stack = np.stack([block[i : i + rows, j : j + cols] for i in range(k) for j in range(k)])
    mid = (k * k) // 2
    return np.partition(stack, mid, axis=0)[mid]
