"""Canny on the dispatcher: PIL, MaskedArray, axes= batches (in memory and on Dask), refusals."""

from __future__ import annotations

import numpy as np
import pytest

import imgfilter
from imgfilter.core.names import OptionError


def test_pil_grey_equals_its_array(gray_photo):
    Image = pytest.importorskip("PIL.Image")
    np.testing.assert_array_equal(imgfilter.canny(Image.fromarray(gray_photo)), imgfilter.canny(gray_photo))


def test_pil_colour_is_refused(photo):
    Image = pytest.importorskip("PIL.Image")
    with pytest.raises(ValueError, match="grey"):
        imgfilter.canny(Image.fromarray(photo))


def test_masked_array_is_mask(gray_photo):
    valid = np.random.default_rng(2).random(gray_photo.shape) < 0.9
    ma = np.ma.MaskedArray(gray_photo, mask=~valid)
    got = imgfilter.canny(ma, sigma=1.5)
    assert type(got) is np.ndarray
    np.testing.assert_array_equal(got, imgfilter.canny(gray_photo, sigma=1.5, mask=valid))
    assert not np.array_equal(got, imgfilter.canny(gray_photo, sigma=1.5))


@pytest.fixture(scope="module")
def stack(samples):
    """Three grey photos of one size, batch axis first."""
    from imgfilter import luminance

    grey = [samples["camera.png"], luminance(samples["astronaut.png"]), luminance(samples["coffee.png"])]
    return np.stack([np.asarray(g, np.float32)[:200, :240] for g in grey])


def test_batch_first_and_last(stack):
    each = np.stack([imgfilter.canny(s, sigma=1.5, low=8, high=20) for s in stack])
    assert each.any() and not np.array_equal(each[0], each[1])
    np.testing.assert_array_equal(imgfilter.canny(stack, sigma=1.5, low=8, high=20, axes=(1, 2)), each)
    last = np.ascontiguousarray(np.moveaxis(stack, 0, -1))
    np.testing.assert_array_equal(
        imgfilter.canny(last, sigma=1.5, low=8, high=20, axes=(0, 1)), np.moveaxis(each, 0, -1)
    )


def test_batch_with_spatial_and_full_masks(stack):
    rng = np.random.default_rng(3)
    spatial = rng.random(stack.shape[1:]) < 0.95
    full = rng.random(stack.shape) < 0.95
    got = imgfilter.canny(stack, axes=(1, 2), low=8, high=20, mask=spatial)
    np.testing.assert_array_equal(
        got, np.stack([imgfilter.canny(s, low=8, high=20, mask=spatial) for s in stack])
    )
    got = imgfilter.canny(stack, axes=(1, 2), low=8, high=20, mask=full)
    np.testing.assert_array_equal(
        got, np.stack([imgfilter.canny(s, low=8, high=20, mask=m) for s, m in zip(stack, full, strict=True)])
    )


def test_batch_needs_axes(stack):
    with pytest.raises(ValueError, match="grey"):
        imgfilter.canny(stack)
    with pytest.raises(OptionError, match="axes="):
        imgfilter.canny(stack[None])


def test_dask_batch_is_exact_across_chunks(stack):
    da = pytest.importorskip("dask.array")
    want = imgfilter.canny(stack, sigma=1.0, low=8, high=20, axes=(1, 2))
    lazy = da.from_array(stack, chunks=(1, 70, 90))
    got = imgfilter.canny(lazy, sigma=1.0, low=8, high=20, axes=(1, 2))
    assert isinstance(got, da.Array)
    np.testing.assert_array_equal(got.compute(), want)


def test_dask_colour_is_refused(photo):
    da = pytest.importorskip("dask.array")
    with pytest.raises(ValueError, match="grey"):
        imgfilter.canny(da.from_array(photo, chunks=(100, 100, 3)))
