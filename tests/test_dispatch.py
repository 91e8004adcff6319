"""The one dispatcher (issue 14): axes=, batches, >3-D refusal, MaskedArray, PIL, Dask."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndi

import imgfilter
from imgfilter.core.names import OptionError

RNG = np.random.default_rng(14)
CONV_FILTERS = RNG.normal(size=(2, 3, 3, 3))

# Every public 2-D filter, as a call on an (H, W, C) image (C = 3).
FILTERS = {
    "blur": lambda x, **kw: imgfilter.blur(x, (3, 5), **kw),
    "gaussian": lambda x, **kw: imgfilter.gaussian(x, (1.0, 2.0), **kw),
    "median": lambda x, **kw: imgfilter.median(x, 3, **kw),
    "bilateral": lambda x, **kw: imgfilter.bilateral(x, 5, 30.0, 3.0, **kw),
    "edges": lambda x, **kw: imgfilter.edges(x, "sobel_x", padding="valid", **kw),
    "sobel": lambda x, **kw: imgfilter.sobel(x, **kw),
    "shift": lambda x, **kw: imgfilter.shift(x, 0.5, -1.25, mode="edge", **kw),
    "luminance": lambda x, **kw: imgfilter.luminance(x, **kw),
    "correlate": lambda x, **kw: imgfilter.correlate(x, [[1, 2], [0, -1]], stride=(1, 2), **kw),
    "convolve": lambda x, **kw: imgfilter.convolve(x, [[1, 2, 3]], mode="wrap", **kw),
    "conv2d": lambda x, **kw: imgfilter.conv2d(x, CONV_FILTERS, **kw),
    "pool": lambda x, **kw: imgfilter.pool(x, 2, op="avg", **kw),
    "pool_max_same": lambda x, **kw: imgfilter.pool(x, 3, stride=2, padding="same", **kw),
}

IMAGE = (RNG.random((4, 11, 13, 3)) * 255).astype(np.uint8)  # (N, H, W, C)


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_a_batch_equals_each_image(name):
    f = FILTERS[name]
    got = f(IMAGE, axes=(1, 2))
    want = np.stack([f(im) for im in IMAGE])
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_channels_first_equals_channels_last(name):
    f = FILTERS[name]
    chw = np.ascontiguousarray(np.moveaxis(IMAGE[0], -1, 0))
    got = f(chw, axes=(1, 2))
    want = f(IMAGE[0])
    want = np.moveaxis(want, -1, 0) if want.ndim == 3 else want
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", sorted(set(FILTERS) - {"correlate", "convolve"}))
def test_more_than_three_axes_without_axes_is_refused(name):
    with pytest.raises(OptionError, match=r"axes="):
        FILTERS[name](IMAGE)


def test_refusal_names_the_shape_and_suggests_axes():
    with pytest.raises(ValueError, match=r"\(4, 11, 13, 3\).*axes=\(1, 2\)"):
        imgfilter.gaussian(IMAGE, 2.0)


def test_kernels_and_pool_sizes_that_name_their_axes_keep_further_axes_as_channels():
    """correlate's kernel and a per-axis pooling size say which axes are spatial."""
    x = RNG.normal(size=(6, 5, 2, 3))
    got = imgfilter.correlate(x, np.ones((3, 3)), mode="wrap")
    want = np.stack(
        [ndi.correlate(x[:, :, i, j], np.ones((3, 3)), mode="wrap") for i in range(2) for j in range(3)], -1
    )
    np.testing.assert_allclose(got.reshape(6, 5, 6), want, rtol=1e-12, atol=1e-12)
    assert imgfilter.pool(x, (2, 2)).shape == (3, 2, 2, 3)


@pytest.mark.parametrize("axes", [(0, 1), (1, 0), (0, 2), (2, 1), (-1, -3)])
def test_axes_match_scipy(axes):
    x = RNG.normal(size=(9, 8, 7))
    spatial = [a % 3 for a in axes]
    got = imgfilter.gaussian(x, (1.0, 1.5), axes=axes, mode="symmetric")
    want = ndi.gaussian_filter(x, (1.0, 1.5), axes=tuple(spatial), mode="reflect")
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    got = imgfilter.blur(x, (3, 2), axes=axes, mode="edge")
    want = ndi.uniform_filter(x, (3, 2), axes=tuple(spatial), mode="nearest")
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    got = imgfilter.median(x, 3, axes=axes, mode="reflect")
    want = ndi.median_filter(x, 3, axes=tuple(spatial), mode="mirror")
    np.testing.assert_array_equal(got, want)


def test_axes_on_a_batch_match_scipy_bit_for_bit_for_the_median():
    x = (RNG.random((3, 12, 10, 2)) * 1000).astype(np.uint16)
    got = imgfilter.median(x, 5, axes=(1, 2), mode="reflect")
    np.testing.assert_array_equal(got, ndi.median_filter(x, 5, axes=(1, 2), mode="mirror"))


@pytest.mark.parametrize("axes", [(0,), (0, 0), (0, 3), (0, 1, 2), "hw", (0.5, 1)])
def test_bad_axes_are_refused_naming_them(axes):
    with pytest.raises((OptionError, TypeError), match="axes"):
        imgfilter.blur(np.zeros((4, 5, 3)), 3, axes=axes)


def test_alpha_in_a_batch_is_the_last_axis():
    rgba = (RNG.random((2, 9, 8, 4)) * 255).astype(np.uint8)
    got = imgfilter.gaussian(rgba, 1.5, alpha=True, axes=(1, 2))
    want = np.stack([imgfilter.gaussian(im, 1.5, alpha=True) for im in rgba])
    np.testing.assert_array_equal(got, want)
    got = imgfilter.sobel(rgba, alpha=True, axes=(1, 2))
    want = np.stack([imgfilter.sobel(im, alpha=True) for im in rgba])
    np.testing.assert_array_equal(got, want)


def test_a_full_shape_mask_follows_the_axes():
    x = RNG.normal(size=(2, 9, 8, 3))
    valid = RNG.random(x.shape) > 0.2
    got = imgfilter.blur(x, 3, mask=valid, axes=(1, 2))
    want = np.stack([imgfilter.blur(x[i], 3, mask=valid[i]) for i in range(2)])
    np.testing.assert_array_equal(got, want)


# --- MaskedArray ---------------------------------------------------------------------------


MISSING = {
    "blur": lambda x, **kw: imgfilter.blur(x, 3, **kw),
    "gaussian": lambda x, **kw: imgfilter.gaussian(x, 1.2, **kw),
    "median": lambda x, **kw: imgfilter.median(x, 3, **kw),
    "bilateral": lambda x, **kw: imgfilter.bilateral(x, 5, 20.0, 3.0, **kw),
    "correlate": lambda x, **kw: imgfilter.correlate(x, [[1, 2], [3, 4]], **kw),
    "pool": lambda x, **kw: imgfilter.pool(x, 2, op="avg", **kw),
    "pool_max": lambda x, **kw: imgfilter.pool(x, 2, op="max", **kw),
}


@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(MISSING))
def test_a_masked_array_is_its_data_with_mask(name, dtype):
    f = MISSING[name]
    data = (RNG.random((10, 9)) * 200).astype(dtype)
    masked = RNG.random((10, 9)) < 0.25
    got = f(np.ma.MaskedArray(data, mask=masked))
    want = f(data, mask=~masked)
    assert type(got) is np.ndarray
    np.testing.assert_array_equal(got, want)


def test_a_masked_array_and_a_mask_both_count():
    data = RNG.normal(size=(8, 8))
    a, b = RNG.random((8, 8)) < 0.2, RNG.random((8, 8)) < 0.2
    got = imgfilter.gaussian(np.ma.MaskedArray(data, mask=a), 1.0, mask=~b)
    np.testing.assert_array_equal(got, imgfilter.gaussian(data, 1.0, mask=~(a | b)))


def test_a_colour_masked_array_masks_per_channel():
    data = RNG.normal(size=(8, 7, 3))
    masked = RNG.random(data.shape) < 0.2
    got = imgfilter.blur(np.ma.MaskedArray(data, mask=masked), 3)
    np.testing.assert_array_equal(got, imgfilter.blur(data, 3, mask=~masked))


def test_an_unmasked_masked_array_is_plain_data():
    data = RNG.normal(size=(8, 8))
    np.testing.assert_array_equal(imgfilter.sobel(np.ma.MaskedArray(data)), imgfilter.sobel(data))


def test_a_filter_without_missing_pixels_refuses_masked_values():
    data = np.ma.MaskedArray(np.zeros((5, 5)), mask=np.eye(5, dtype=bool))
    with pytest.raises(OptionError, match="masked"):
        imgfilter.sobel(data)


# --- PIL and Dask --------------------------------------------------------------------------


def test_pil_in_gives_the_array_result_as_before():
    from PIL import Image

    img = (RNG.random((9, 8, 4)) * 255).astype(np.uint8)
    pil = Image.fromarray(img, "RGBA")
    got = imgfilter.gaussian(pil, 1.0)
    assert isinstance(got, np.ndarray)
    np.testing.assert_array_equal(got, imgfilter.gaussian(img, 1.0, alpha=True))


@pytest.mark.parametrize("name", ["blur", "gaussian", "median", "sobel", "pool", "correlate", "luminance"])
def test_dask_with_axes_equals_numpy(name):
    da = pytest.importorskip("dask.array")
    f = FILTERS[name]
    x = da.from_array(IMAGE, chunks=(2, 5, 4, 3))
    got = f(x, axes=(1, 2))
    assert isinstance(got, da.Array)
    np.testing.assert_array_equal(got.compute(), f(IMAGE, axes=(1, 2)))
    chw = np.ascontiguousarray(np.moveaxis(IMAGE[0], -1, 0))
    got = f(da.from_array(chw, chunks=(3, 4, 5)), axes=(1, 2))
    np.testing.assert_array_equal(got.compute(), f(chw, axes=(1, 2)))


def test_dask_refuses_a_batch_without_axes():
    da = pytest.importorskip("dask.array")
    with pytest.raises(OptionError, match="axes="):
        imgfilter.blur(da.from_array(IMAGE, chunks=5), 3)


def test_old_import_paths_still_resolve():
    from imgfilter.core.linear import convolve, correlate
    from imgfilter.core.windows import pool

    assert correlate is imgfilter.correlate and convolve is imgfilter.convolve and pool is imgfilter.pool


def test_every_public_filter_documents_axes():
    for name in ["blur", "gaussian", "median", "bilateral", "edges", "sobel", "shift", "luminance"]:
        doc = getattr(imgfilter, name).__doc__
        assert "axes :" in doc and "%(" not in doc, name
    for name in ["correlate", "convolve", "conv2d", "pool"]:
        assert "%(" not in getattr(imgfilter, name).__doc__
    # Filled entries keep numpy-style indentation: every line of the Parameters
    # section is a "name : type" line at 4 spaces or a description at 8.
    for name in ["blur", "gaussian", "median", "bilateral", "edges", "sobel", "shift", "pool", "luminance"]:
        doc = getattr(imgfilter, name).__doc__
        params = doc.split("Parameters\n    ----------\n")[1].split("\n\n")[0]
        for line in params.split("\n"):
            assert line.startswith("        ") or (line.startswith("    ") and " : " in line), (name, line)


def test_wrong_arguments_name_the_filter_and_the_keyword_way():
    """Options are keyword-only: an extra positional argument says so, naming the filter."""
    x = np.zeros((5, 5), np.uint8)
    with pytest.raises(
        TypeError,
        match=r"^minimum\(\) takes 1 positional argument \(image\) but 2 were given; "
        r"its options are keyword-only, e\.g\. minimum\(\.\.\., size=\.\.\.\)$",
    ):
        imgfilter.minimum(x, 3)
    with pytest.raises(TypeError, match=r"^gaussian\(\) takes 2 positional arguments \(image, sigma\) but 3"):
        imgfilter.gaussian(x, 1.0, 2)
    with pytest.raises(TypeError, match=r"^pool\(\): .*unexpected keyword argument 'method'"):
        imgfilter.pool(x, 2, method="avg")
    with pytest.raises(TypeError, match=r"^blur\(\): missing a required argument: 'image'"):
        imgfilter.blur()
