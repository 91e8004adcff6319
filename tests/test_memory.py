"""Bands bound memory: no whole-image float64 temporaries.

Peak traced allocation of one call (output included) stays within twice the
input plus the output, the budget the speed issue sets for a 4K filter;
on a 4K photo, as the issue states it. tracemalloc counts numpy's buffers,
so this measures memory, not time.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from PIL import Image

import imgfilter
from tests.conftest import SAMPLES


@pytest.fixture(scope="module")
def big():
    im = Image.open(SAMPLES / "astronaut.png").convert("RGB").resize((3840, 2160))
    rgb = np.asarray(im)
    return rgb, np.ascontiguousarray(rgb[..., 1])


CASES = {
    "gaussian": (lambda x: imgfilter.gaussian(x, 3.0), "rgb"),
    "blur": (lambda x: imgfilter.blur(x, 5), "rgb"),
    "correlate": (lambda x: imgfilter.correlate(x, np.arange(9.0).reshape(3, 3)), "rgb"),
    "sobel": (lambda x: imgfilter.sobel(x), "gray"),
    "median": (lambda x: imgfilter.median(x, 5), "rgb"),
    "shift": (lambda x: imgfilter.shift(x, 0.5, 0.25), "rgb"),
    "bilateral": (lambda x: imgfilter.bilateral(x), "gray"),
    "local_var": (lambda x: imgfilter.local_var(x, 5), "rgb"),
    "local_std_masked": (lambda x: imgfilter.local_std(x, 5, mask=x[..., 0] > 20), "rgb"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_peak_memory_within_twice_input_plus_output(big, name):
    fn, kind = CASES[name]
    image = big[0] if kind == "rgb" else big[1]
    fn(image[:64, :64])  # imports and caches outside the measurement
    tracemalloc.start()
    try:
        out = fn(image)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    budget = 2 * image.nbytes + out.nbytes
    assert peak <= budget, f"{name}: peak {peak / 1e6:.1f} MB over {budget / 1e6:.1f} MB"
