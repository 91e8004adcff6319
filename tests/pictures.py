"""Helpers shared by the reading tests: two pictures are the same image with the same metadata."""

from __future__ import annotations

import numpy as np


def assert_same_picture(got, ref) -> None:
    """Same pixels (dtype, shape, values, C order) and the same alpha, ICC, EXIF, DPI and extras."""
    assert got.pixels.dtype == ref.pixels.dtype
    assert got.pixels.shape == ref.pixels.shape
    np.testing.assert_array_equal(got.pixels, ref.pixels)
    assert got.pixels.flags.c_contiguous
    assert (got.alpha, got.icc_profile, got.exif, got.dpi, got.extra) == (
        ref.alpha,
        ref.icc_profile,
        ref.exif,
        ref.dpi,
        ref.extra,
    )
