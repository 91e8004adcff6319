"""Footprints against scikit-image's and OpenCV's structuring elements."""

from __future__ import annotations

import re

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


@pytest.mark.parametrize("r", [40, 97, 250])
def test_large_disks_and_diamonds_equal_their_formulas(r):
    y, x = np.ogrid[-r : r + 1, -r : r + 1]
    assert np.array_equal(fp.disk(r), x * x + y * y <= r * r)
    assert np.array_equal(fp.diamond(r), np.abs(x) + np.abs(y) <= r)


@pytest.mark.parametrize(
    "build, param",
    [
        (lambda: fp.disk(32767), "r"),
        (lambda: fp.diamond(4096), "r"),
        (lambda: fp.cross(10**6), "r"),
        (lambda: fp.square(8193), "n"),
        (lambda: fp.rectangle(60000, 60000), "(h, w)"),
        (lambda: fp.ellipse(9000, 8000), "(h, w)"),
    ],
)
def test_footprints_beyond_the_bound_are_refused_before_they_are_built(build, param):
    """A 65535 x 65535 disk was once built (with int64 distance grids: 24 GB) before any check."""
    from imgfilter.core.bounds import MAX_FOOTPRINT_PIXELS

    with pytest.raises(
        OptionError, match=rf"^{re.escape(param)}=.*beyond the bound of {MAX_FOOTPRINT_PIXELS}"
    ):
        build()
    assert fp.disk(4095).shape == (8191, 8191)  # the largest disk within it


@pytest.mark.parametrize("spec", ["disk:32767", "cross:32767", "rectangle:60000x60000", "disk:4096"])
def test_cli_refuses_a_footprint_beyond_the_bound_at_parse_time(tmp_path, spec):
    from clitools import invoke

    from imgfilter.core.bounds import MAX_FOOTPRINT_PIXELS

    src = tmp_path / "in.png"
    from PIL import Image

    Image.fromarray(np.zeros((4, 4), np.uint8)).save(src)
    result = invoke("median", "--footprint", spec, src, tmp_path / "out.png", ok=False)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "--footprint" in lines[0] and str(MAX_FOOTPRINT_PIXELS) in lines[0], lines
    assert not (tmp_path / "out.png").exists()
