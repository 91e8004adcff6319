"""The weighted normalization's division (issue #14): bit for bit the ``where=`` transcription."""

import numpy as np
import pytest

from imgfilter.core.masked import divide_sums


def where_transcription(num, den, dtype, *, tiny, full, total):
    """The division as it was written before issue #14: ufuncs with ``where=``."""
    num = num.copy()
    scale = True if full is None else np.broadcast_to(den != full, num.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        if tiny == 0.0:
            np.divide(num, den, out=num, where=scale)
        else:
            empty = np.broadcast_to(np.abs(den) <= tiny, num.shape)
            np.divide(num, den, out=num, where=~empty & scale)
            num[empty] = np.nan
    if total != 1.0:
        np.multiply(num, dtype.type(total), out=num, where=scale)
    return num


def sums(rng, dtype, den_dtype, full, plane):
    """Sums with every special case: full windows, empty ones (0/0), tiny weights, inf and NaN sums."""
    shape = (23, 17, 3)
    num = (rng.standard_normal(shape) * 50).astype(dtype)
    den = rng.uniform(0, 2 * (full or 1.0), shape[:2] + ((1,) if plane else (3,))).astype(den_dtype)
    pick = rng.random(den.shape)
    if full is not None:
        den[pick < 0.3] = full
    den[(pick > 0.3) & (pick < 0.4)] = 0
    den[(pick > 0.4) & (pick < 0.45)] = den_dtype.type(1e-9)
    empty = np.broadcast_to(den == 0, num.shape)
    num[empty & (rng.random(shape) < 0.7)] = 0
    num.flat[rng.integers(0, num.size, 12)] = np.inf
    num.flat[rng.integers(0, num.size, 12)] = -np.inf
    return num, den


@pytest.mark.parametrize(
    "dtype, den_dtype", [("float32", "float32"), ("float64", "float64"), ("float32", "float64")]
)
@pytest.mark.parametrize("full", [None, 1.0, 0.8234])
@pytest.mark.parametrize("tiny", [0.0, 1e-6])
@pytest.mark.parametrize("total", [1.0, 2.5, 1 / 3])
@pytest.mark.parametrize("plane", [True, False])
def test_divide_sums_is_the_where_transcription(dtype, den_dtype, full, tiny, total, plane):
    rng = np.random.default_rng(14)
    dtype, den_dtype = np.dtype(dtype), np.dtype(den_dtype)
    full = None if full is None else den_dtype.type(full)
    num, den = sums(rng, dtype, den_dtype, full, plane)
    expected = where_transcription(num, den, dtype, tiny=tiny, full=full, total=total)
    got = num.copy()
    divide_sums(got, den, dtype, tiny=tiny, full=full, total=total)
    # Bit for bit, NaN where NaN: the payloads of the NaNs may differ, nothing else.
    nan = np.isnan(expected)
    np.testing.assert_array_equal(np.isnan(got), nan)
    np.testing.assert_array_equal(
        got[~nan].view(f"u{dtype.itemsize}"), expected[~nan].view(f"u{dtype.itemsize}")
    )
    # The case mix really occurred (a test that cannot fail is a defect).
    assert nan.any() and np.isinf(expected).any()
    if full is not None:
        assert np.broadcast_to(den == full, num.shape).any()
