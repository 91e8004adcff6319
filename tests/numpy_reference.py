"""Reference implementations in plain numpy, kept as oracles for the compiled engine.

``taps_in_order`` sums the taps in the engine's order and accumulator type, so
the engine must equal it bit for bit. ``accumulate_grouped`` is the numpy path
the engine replaced (taps sharing a weight summed first, unit weights without
a multiply): its rounding differs, so it is compared to a tolerance.
"""

from __future__ import annotations

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
