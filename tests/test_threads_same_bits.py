"""Every thread count gives the same bits, also where a band's start or size
enters the arithmetic: float running sums (long boxes) restart at each band,
and an FFT rounds by its band's size (core.tiles.run_bands(fixed=True))."""

from __future__ import annotations

import numpy as np
import pytest

import imgfilter

RNG = np.random.default_rng(7)
X64 = RNG.random((700, 300, 3))
X32 = X64.astype(np.float32)
HOLES = X32.copy()
HOLES[RNG.random(X32.shape[:2]) < 0.02] = np.nan
K45 = RNG.random((45, 45))

CASES = {
    "blur 31 float64": lambda t: imgfilter.blur(X64, 31, threads=t),
    "blur 31 float32": lambda t: imgfilter.blur(X32, 31, threads=t),
    "correlate 45x45 by FFT": lambda t: imgfilter.correlate(X64, K45, threads=t),
    "local_std 21": lambda t: imgfilter.local_std(X64, 21, threads=t),
    "blur 31 nan='ignore'": lambda t: imgfilter.blur(HOLES, 31, nan="ignore", threads=t),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_thread_count_gives_the_same_bits(name):
    fn = CASES[name]
    one = fn(1)
    for threads in (2, 3, 5):
        np.testing.assert_array_equal(fn(threads), one, err_msg=f"{name}: threads={threads}")
