"""Float running sums (boxes of 17+ taps): the horizontal prefix of 1-4 channels,
kept in registers, against the general loop that 5+ channels take (the same
additions in the same order, so the same bits), on a photo and random values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import imgfilter

PHOTO = Path(__file__).resolve().parents[1] / "sample_images" / "coffee.png"


def planes(seed: int, dtype) -> np.ndarray:
    """Five planes: a photo's three channels, its grey and random values of wide range."""
    rgb = np.asarray(Image.open(PHOTO).convert("RGB"))[:97, :131].astype(dtype)
    rng = np.random.default_rng(seed)
    wild = (rng.standard_normal(rgb.shape[:2]) * 10.0 ** rng.integers(-3, 6, rgb.shape[:2])).astype(dtype)
    return np.dstack([rgb, rgb.mean(axis=2).astype(dtype), wild])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", [17, (3, 31), (25, 19)])
@pytest.mark.parametrize("mode", ["reflect", "constant", "wrap"])
def test_few_channels_equal_the_general_loop(dtype, size, mode):
    x = planes(0, dtype)
    whole = imgfilter.blur(x, size, mode=mode)  # five channels: the general loop
    for chans in ([0], [0, 4], [1, 2, 3], [4, 0, 2, 1]):
        part = np.ascontiguousarray(x[..., chans])
        got = imgfilter.blur(part if len(chans) > 1 else part[..., 0], size, mode=mode)
        want = whole[..., chans] if len(chans) > 1 else whole[..., chans[0]]
        np.testing.assert_array_equal(got.view(np.uint8), np.ascontiguousarray(want).view(np.uint8))
