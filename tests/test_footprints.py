"""Footprints against scikit-image's and OpenCV's structuring elements."""

from __future__ import annotations

import numpy as np
import pytest

from imgfilter import footprints as fp
from imgfilter.core.names import OptionError

cv2 = pytest.importorskip("cv2")


@pytest.mark.parametrize("r", range(0, 12))
def test_disk_and_diamond_equal_scikit_image(r):
    morphology = pytest.importorskip("skimage.morphology")
    assert np.array_equal(fp.disk(r), morphology.disk(r).astype(bool))
    assert np.array_equal(fp.diamond(r), morphology.diamond(r).astype(bool))


@pytest.mark.parametrize("h, w", [(1, 1), (3, 3), (2, 5), (7, 4), (1, 9)])
def test_rectangles_equal_both_peers(h, w):
    morphology = pytest.importorskip("skimage.morphology")
    assert np.array_equal(fp.rectangle(h, w), morphology.footprint_rectangle((h, w)).astype(bool))
    assert np.array_equal(fp.rectangle(h, w), cv2.getStructuringElement(cv2.MORPH_RECT, (w, h)).astype(bool))
    if h == w:
        assert np.array_equal(fp.square(h), fp.rectangle(h, w))


@pytest.mark.parametrize("r", range(0, 8))
def test_cross_equals_opencv(r):
    k = cv2.getStructuringElement(cv2.MORPH_CROSS, (2 * r + 1, 2 * r + 1))
    assert np.array_equal(fp.cross(r), k.astype(bool))


@pytest.mark.parametrize("h", range(1, 16))
@pytest.mark.parametrize("w", [1, 2, 3, 6, 9, 14])
def test_ellipse_equals_opencv(h, w):
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (w, h))
    assert np.array_equal(fp.ellipse(h, w), k.astype(bool))


def test_opencv_ellipse_is_not_the_disk():
    # The documented difference: OpenCV rounds each row's half width.
    assert fp.disk(3).sum() == 29
    assert fp.ellipse(7, 7).sum() == 33  # rows 1 + 5 + 7 + 7 + 7 + 5 + 1: dy = +-1 reach dx = 3
    assert not np.array_equal(fp.disk(3), fp.ellipse(7, 7))


def test_footprints_are_contiguous_bool():
    for f in (fp.square(3), fp.rectangle(2, 3), fp.disk(2), fp.diamond(2), fp.cross(2), fp.ellipse(5, 3)):
        assert f.dtype == bool and f.flags.c_contiguous


def test_as_footprint_checks():
    assert fp.as_footprint([[0, 1], [1, 0]]).dtype == bool
    vol = fp.as_footprint(np.ones((3, 3, 3)), ndim=3)
    assert vol.shape == (3, 3, 3)
    with pytest.raises(OptionError, match="footprint"):
        fp.as_footprint(np.zeros((3, 3)))
    with pytest.raises(OptionError, match="0 and 1"):
        fp.as_footprint([[0, 2]])
    with pytest.raises(OptionError, match="axes"):
        fp.as_footprint(np.ones(3), ndim=2)
    with pytest.raises(OptionError):
        fp.as_footprint(np.ones((0, 3)))
    with pytest.raises(TypeError):
        fp.as_footprint(np.array(["a"]))


@pytest.mark.parametrize("bad", [-1, 1.5, True, "3"])
def test_bad_sizes(bad):
    with pytest.raises((TypeError, OptionError)):
        fp.disk(bad)
    with pytest.raises((TypeError, OptionError)):
        fp.square(bad if bad != -1 else 0)
