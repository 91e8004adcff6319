"""core.masked.normalized_bands, the one band-wise weighted normalization, against the
linear engine's own copy (core.linear.run_normalized) bit for bit, so either can serve."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from imgfilter.core import linear
from imgfilter.core.masked import normalized_bands
from imgfilter.core.names import MODES
from imgfilter.core.options import plan_window


@given(
    h=st.integers(1, 12),
    w=st.integers(1, 12),
    channels=st.sampled_from([(), (1,), (3,)]),
    kshape=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    mode=st.sampled_from(MODES),
    plane=st.booleans(),
    signs=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_equals_the_linear_engines_normalized_convolution(
    h, w, channels, kshape, stride, mode, plane, signs, seed
):
    rng = np.random.default_rng(seed)
    image = rng.normal(size=(h, w, *channels)).astype(np.float32)
    kernel = rng.normal(size=kshape) if signs else rng.random(kshape) + 0.1
    if plane or not channels:
        valid = np.broadcast_to(
            (rng.random((h, w)) > 0.3).reshape((h, w) + (1,) * len(channels)), image.shape
        )
    else:
        valid = rng.random(image.shape) > 0.3
    plan = plan_window(image.shape, kernel.shape, "same", stride, 1)
    dtype = np.dtype(np.float32)
    factors = linear.separable_factors(kernel)
    total = float(kernel.sum())
    tiny = float(np.finfo(dtype).tiny) if signs else 0.0
    k = kernel.astype(dtype)
    f = None if factors is None else [np.asarray(v, dtype=dtype) for v in factors]

    def sums(block, counts, out):
        linear._filter_band(block, k, f, plan, counts, out)

    want = linear.run_normalized(
        image, valid, kernel, plan, mode, 0.5, dtype, 1, factors, total=total, tiny=tiny
    )
    got = normalized_bands(
        image, valid, plan, sums, dtype, 1, mode=mode, cval=0.5, outside_valid=True, tiny=tiny, total=total
    )
    np.testing.assert_array_equal(got, want)


def test_nan_holes_are_the_missing_pixels_without_a_mask():
    image = np.arange(16, dtype=np.float64).reshape(4, 4)
    image[1, 1] = np.nan
    plan = plan_window(image.shape, (3, 3), "same", 1, 1)
    box = np.ones((3, 3))

    def sums(block, counts, out):
        linear._filter_band(block, box, None, plan, counts, out)

    got = normalized_bands(
        image, None, plan, sums, np.dtype(np.float64), 1, mode="constant", cval=np.nan, outside_valid=False
    )
    # The mean of the valid pixels under each window, the outside missing.
    want = np.empty_like(image)
    padded = np.pad(image, 1, constant_values=np.nan)
    for i in range(4):
        for j in range(4):
            want[i, j] = np.nanmean(padded[i : i + 3, j : j + 3])
    np.testing.assert_allclose(got, want, rtol=1e-15)
    assert not np.isnan(got).any()
