"""Memory is bounded whatever the parameter: a result or a clean OptionError.

Each case runs in a subprocess limited to about 3 GB of address space, so a
parameter that would allocate more fails there (MemoryError, or a kill),
never in the test run itself.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import imgfilter
from imgfilter.core import bounds
from imgfilter.core.names import OptionError

CHILD = textwrap.dedent(
    """
    import resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))
    import numpy as np
    import imgfilter
    from imgfilter.core.names import OptionError
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (128, 128), dtype=np.uint8)
    imgf = img.astype(np.float32)
    try:
        r = {call}
    except OptionError as e:
        print("REFUSED", e)
    else:
        assert r.shape[:2] == {shape!r}, r.shape
        print("RESULT", r.dtype, float(np.nanmin(r)), float(np.nanmax(r)))
    """
)

# (call, expected result shape or None when refused, a word the refusal names)
CASES = [
    ("imgfilter.gaussian(img, 5000.0)", (128, 128), None),
    ("imgfilter.gaussian(imgf, 5000.0, nan='ignore')", (128, 128), None),
    ("imgfilter.gaussian(img, (5000.0, 1.0), mode='constant')", (128, 128), None),
    ("imgfilter.blur(img, 100000)", (128, 128), None),
    ("imgfilter.blur(imgf, (100000, 3), mode='wrap')", (128, 128), None),
    ("imgfilter.median(img, 100001)", None, "size"),
    # (float medians beyond 9 x 9 take the rank filters' sliding histograms: k, not k * k, per output)
    ("imgfilter.median(imgf, 4001)", (128, 128), None),
    ("imgfilter.median(imgf, 9001)", None, "size"),
    ("imgfilter.median(img.astype(np.int32), 4001)", (128, 128), None),
    ("imgfilter.bilateral(img, 10000)", None, "diameter"),
    ("imgfilter.bilateral(img, 0, 75.0, 10.0**6)", None, "sigma_space"),
    ("imgfilter.pool(img, 10**6, padding='same')", None, "size"),
    ("imgfilter.pool(img, 2, stride=10**12)", (1, 1), None),
    ("imgfilter.shift(img, dx=1e300)", None, "dx"),
    ("imgfilter.shift(img, dy=-1e300, mode='wrap')", None, "dy"),
    ("imgfilter.shift(img, dx=1e9 + 0.5, mode='reflect')", (128, 128), None),
    ("imgfilter.correlate(imgf, np.ones((3, 3)), dilation=10**9)", (128, 128), None),
    ("imgfilter.correlate(imgf, np.ones((3, 3)), dilation=10**30, mode='edge')", (128, 128), None),
    ("imgfilter.correlate(imgf, np.ones((3000, 5000)) / 1.5e7)", (128, 128), None),
    ("imgfilter.correlate(imgf, np.ones((100000, 100)), padding='full')", None, "padding"),
    # Box footprints from size= (rank, min/max, morphology, local statistics): never built beyond the bound.
    ("imgfilter.maximum(img, size=100001)", None, "size"),
    ("imgfilter.percentile(imgf, 50, size=(3, 100001))", (128, 128), None),
    ("imgfilter.percentile(imgf, 50, size=(9000, 9000))", None, "size"),
    ("imgfilter.dilate(img, size=100001)", None, "size"),
    ("imgfilter.local_var(imgf, 100001)", None, "size"),
    ("imgfilter.local_range(img, 100001)", None, "size"),
    ("imgfilter.local_std(imgf, 2001)", (128, 128), None),
    ("imgfilter.local_std(imgf, 7001)", None, "size"),
    # Kernels far longer than the image fold (no dense outer product of the factors).
    ("imgfilter.unsharp(img, sigma=1e5)", (128, 128), None),
    ("imgfilter.canny(img, sigma=1e5)", (128, 128), None),
    ("imgfilter.gaussian_derivative(imgf, 1e5, order=1)", (128, 128), None),
    ("imgfilter.gaussian_laplace(imgf, 1e5)", (128, 128), None),
    ("imgfilter.difference_of_gaussians(imgf, 1e5)", (128, 128), None),
    ("imgfilter.guided(imgf, radius=100000)", (128, 128), None),
    ("imgfilter.guided(imgf, radius=100000, mode='constant')", None, "radius"),
]


@pytest.mark.parametrize(("call", "shape", "name"), CASES)
def test_bounded_memory_or_a_clean_refusal(call, shape, name):
    proc = subprocess.run(
        [sys.executable, "-c", CHILD.format(call=call, shape=shape)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout.strip()
    if shape is None:
        assert out.startswith("REFUSED"), out
        assert f"{name}=" in out or name in out, out
    else:
        assert out.startswith("RESULT"), out


def test_shift_beyond_the_image_is_still_exact():
    img = np.arange(1, 26, dtype=np.float64).reshape(5, 5)
    # Periodic modes: a shift by a multiple of the period plus 1 is a shift by 1.
    far = imgfilter.shift(img, dx=8 * 10**9 + 1, mode="symmetric")  # period 10
    np.testing.assert_array_equal(far, imgfilter.shift(img, dx=1, mode="symmetric"))
    # Constant: everything left the image.
    assert not imgfilter.shift(img, dx=10.0**12 + 0.5).any()


def test_bounds_are_checked_before_work():
    img = np.zeros((128, 128), np.uint8)
    with pytest.raises(OptionError, match="diameter=10000"):
        imgfilter.bilateral(img, 10000)
    with pytest.raises(OptionError, match="MAX_SHIFT"):
        imgfilter.shift(img, dx=2.0**49)
    # Within the bound: a shift of every pixel out of the image (cval 0).
    assert not imgfilter.shift(img + 1, dy=2.0**47).any()
    # The Dask footprint refuses the same windows, before any task runs.
    with pytest.raises(OptionError, match="diameter"):
        imgfilter.filters.bilateral.bilateral_footprint((128, 128), 10000)


def test_windows_a_user_picks_are_far_from_the_bounds():
    # A 4K photo: bilateral d=101 and a 8-bit median of 201 are allowed.
    outputs = 3840 * 2160
    assert outputs * int(np.pi * 50 * 50) < bounds.MAX_WORK
    assert outputs * 201 < bounds.MAX_WORK
    img = np.zeros((16, 16), np.uint8)
    assert imgfilter.median(img, 501).shape == (16, 16)
    assert imgfilter.bilateral(img, 301).shape == (16, 16)
