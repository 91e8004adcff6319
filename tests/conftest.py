"""Shared fixtures and hypothesis profiles.

``HYPOTHESIS_PROFILE=thorough python3 -m pytest`` runs the property tests
with many more, freshly drawn examples; the default "quick" profile keeps the
suite fast and deterministic.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# The quick profile is derandomized: the same examples on every run, so CI
# is red only when the code changes. The thorough one explores afresh.
settings.register_profile(
    "quick",
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough", max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "quick"))

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_images"
SAMPLE_NAMES = sorted(p.name for p in SAMPLES.iterdir() if p.suffix in (".png", ".jpg"))


@pytest.fixture(autouse=True)
def bands_on_the_pool(monkeypatch):
    """Small images' bands go to the thread pool as large ones' do.

    The library runs work under ``tiles.INLINE_BYTES`` on the caller's thread
    (the pool's hand-off costs more than the work); the suite's images are
    small, and its thread tests are there to run bands concurrently.
    tests/test_band_inline.py checks the library's own threshold.
    """
    from imgfilter.core import tiles

    monkeypatch.setattr(tiles, "INLINE_BYTES", 0)


@pytest.fixture(scope="session")
def samples() -> dict[str, np.ndarray]:
    """Every sample photo as imgfilter reads it."""
    from imgfilter.io import imread

    return {name: imread(SAMPLES / name) for name in SAMPLE_NAMES}


@pytest.fixture(scope="session")
def photo(samples) -> np.ndarray:
    """A colour photo (512x512 RGB uint8)."""
    return samples["astronaut.png"]


@pytest.fixture(scope="session")
def gray_photo(samples) -> np.ndarray:
    """A grey photo (512x512 uint8)."""
    return samples["camera.png"]
