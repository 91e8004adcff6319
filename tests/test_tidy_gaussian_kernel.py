"""One Gaussian kernel builder (imgfilter.kernels) for blur, derivatives and Canny."""

from __future__ import annotations

import numpy as np
import pytest

from imgfilter.filters.derivatives import derivative_factors
from imgfilter.filters.smooth import _gaussian_factors
from imgfilter.kernels import gaussian_kernel1d

SIGMAS = np.concatenate([np.geomspace(0.1, 50.0, 400), [0.3, 0.5, 0.7, 1.0, 1.5, 2.5, 3.0, 7.5, 10.0, 50.0]])


def _old_smooth_kernel(sigma: float, radius: int) -> np.ndarray:
    # The builder smooth.py carried before the merge, kept to bound the change.
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    phi = np.exp(-0.5 / (sigma * sigma) * x * x)
    return phi / phi.sum()


@pytest.mark.parametrize("order", [0, 1, 2])
def test_taps_are_scipys_bits_over_the_sigma_range(order):
    private = pytest.importorskip("scipy.ndimage._filters")
    for sigma in SIGMAS:
        for truncate in (0.5, 1.0, 4.0, 6.0):
            radius = int(truncate * sigma + 0.5)
            want = private._gaussian_kernel1d(float(sigma), order, radius)
            assert np.array_equal(gaussian_kernel1d(float(sigma), order, radius), want), (sigma, radius)


def test_the_old_smooth_builder_was_within_a_few_ulps():
    # Its (c * x) * x rounds twice where scipy's c * x**2 rounds once, so the
    # taps moved to scipy's bits by a few units in the last place.
    for sigma in SIGMAS:
        radius = int(4.0 * sigma + 0.5)
        new, old = gaussian_kernel1d(float(sigma), 0, radius), _old_smooth_kernel(float(sigma), radius)
        assert np.all(np.abs(new - old) <= 32 * np.spacing(np.maximum(new, old)))


def test_order_three_is_refused():
    with pytest.raises(ValueError):
        gaussian_kernel1d(1.0, 3, 4)


@pytest.mark.parametrize("sigma", [0.4, 1.0, (1.5, 3.7), 12.0])
def test_blur_and_order_zero_derivative_share_the_taps(sigma):
    for got, want in zip(_gaussian_factors(sigma, 4.0, 2), derivative_factors(sigma, 0, 4.0, 2), strict=True):
        assert np.array_equal(got, want)
