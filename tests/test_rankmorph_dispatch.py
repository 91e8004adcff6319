"""Rank filters, morphology, median footprints and local statistics on the one
dispatcher: axes= against SciPy's own axes=, PIL input, MaskedArray, Dask
(exact, with masks too) and the >3-D refusal; median(footprint=) against
scipy.ndimage.median_filter(footprint=)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndi
from hypothesis import given
from hypothesis import strategies as st

import imgfilter
from imgfilter import footprints
from imgfilter.core.names import SCIPY_MODE, OptionError

DISK = footprints.disk(2)
ODD = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1]], bool)

# Ours and SciPy's, as (ours(x, **kw), scipy(x, footprint=, mode=, axes=)).
SCIPY_PEERS = {
    "rank_filter": (
        lambda x, **kw: imgfilter.rank_filter(x, 4, **kw),
        lambda x, **kw: ndi.rank_filter(x, 4, **kw),
    ),
    "percentile": (
        lambda x, **kw: imgfilter.percentile(x, 30, **kw),
        lambda x, **kw: ndi.percentile_filter(x, 30, **kw),
    ),
    "minimum": (imgfilter.minimum, ndi.minimum_filter),
    "maximum": (imgfilter.maximum, ndi.maximum_filter),
    "median": (imgfilter.median, ndi.median_filter),
    "erode": (imgfilter.erode, ndi.grey_erosion),
    "dilate": (imgfilter.dilate, ndi.grey_dilation),
    "opening": (imgfilter.opening, ndi.grey_opening),
    "closing": (imgfilter.closing, ndi.grey_closing),
    "morph_gradient": (imgfilter.morph_gradient, ndi.morphological_gradient),
    "tophat": (imgfilter.tophat, ndi.white_tophat),
    "blackhat": (imgfilter.blackhat, ndi.black_tophat),
}
LOCAL = {
    "local_std": imgfilter.local_std,
    "local_var": imgfilter.local_var,
    "local_range": imgfilter.local_range,
}
ALL = {**{k: v[0] for k, v in SCIPY_PEERS.items()}, **LOCAL}


def batch(dtype=np.int16, shape=(3, 17, 19, 2), seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 200, shape).astype(dtype)


@pytest.mark.parametrize("name", sorted(SCIPY_PEERS))
@pytest.mark.parametrize("mode", ["reflect", "edge", "wrap"])
def test_axes_equal_scipys_axes(name, mode):
    ours, theirs = SCIPY_PEERS[name]
    x = batch()  # (N, H, W, C): axes (1, 2) spatial
    for axes, fp in (((1, 2), ODD), ((-3, -2), DISK), ((2, 1), ODD)):
        got = ours(x, footprint=fp, mode=mode, axes=axes)
        # The footprint's axes follow axes= (as sizes do); SciPy sorts the axes
        # of a footprint filter, so (2, 1) is its (1, 2) with the footprint transposed.
        peer = (fp.T, (1, 2)) if axes == (2, 1) else (fp, axes)
        want = theirs(x, footprint=peer[0], mode=SCIPY_MODE[mode], axes=peer[1])
        assert got.dtype == x.dtype and got.shape == x.shape
        np.testing.assert_array_equal(got, want, err_msg=f"{name} {axes}")
    chw = np.ascontiguousarray(x[0].transpose(2, 0, 1))  # channels first
    got = ours(chw, footprint=ODD, mode=mode, axes=(1, 2))
    np.testing.assert_array_equal(got, theirs(chw, footprint=ODD, mode=SCIPY_MODE[mode], axes=(1, 2)))


@pytest.mark.parametrize("name", sorted(LOCAL))
def test_local_statistics_axes_equal_a_loop_over_slices(name):
    fn = LOCAL[name]
    x = batch(np.uint8)
    got = fn(x, footprint=ODD, mode="symmetric", axes=(1, 2))
    want = np.stack([fn(x[n], footprint=ODD, mode="symmetric") for n in range(x.shape[0])])
    assert got.shape == x.shape
    np.testing.assert_array_equal(got, want)
    chw = np.ascontiguousarray(x[0].transpose(2, 0, 1))
    got = fn(chw, size=(3, 2), axes=(1, 2))
    want = np.stack([fn(chw[c], size=(3, 2)) for c in range(chw.shape[0])])
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", sorted(ALL))
def test_four_axes_without_axes_are_refused(name):
    with pytest.raises(OptionError, match=r"axes="):
        ALL[name](batch(), size=3)


@pytest.mark.parametrize("name", sorted(ALL))
def test_pil_input_is_read_as_imread_reads(name, photo):
    from PIL import Image

    fn = ALL[name]
    rgb = photo[:40, :48]
    grey = np.ascontiguousarray(rgb[..., 1])
    np.testing.assert_array_equal(fn(Image.fromarray(grey), footprint=DISK), fn(grey, footprint=DISK))
    np.testing.assert_array_equal(fn(Image.fromarray(rgb), footprint=DISK), fn(rgb, footprint=DISK))
    rgba = np.dstack([rgb, np.arange(40 * 48, dtype=np.uint8).reshape(40, 48)])
    got = fn(Image.fromarray(rgba, "RGBA"), footprint=DISK)
    # A PIL image with an alpha band has alpha: it passes through.
    np.testing.assert_array_equal(got[..., 3], rgba[..., 3])
    np.testing.assert_array_equal(got[..., :3], fn(rgb, footprint=DISK))


def holes(shape, seed=1, share=0.25):
    return np.random.default_rng(seed).random(shape) >= share


@pytest.mark.parametrize("name", sorted(ALL))
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_masked_array_is_its_data_with_a_mask(name, dtype, photo):
    fn = ALL[name]
    x = photo[:30, :33].astype(dtype)
    valid = holes(x.shape[:2])
    masked = np.ma.MaskedArray(x, mask=np.broadcast_to(~valid[..., None], x.shape))
    got = fn(masked, footprint=DISK)
    assert type(got) is np.ndarray
    np.testing.assert_array_equal(got, fn(x, footprint=DISK, mask=valid))
    # Nothing masked: the plain filter.
    np.testing.assert_array_equal(fn(np.ma.MaskedArray(x), footprint=DISK), fn(x, footprint=DISK))


@pytest.mark.parametrize("name", sorted(ALL))
def test_dask_equals_numpy_with_masks_and_axes(name):
    da = pytest.importorskip("dask.array")
    fn = ALL[name]
    rng = np.random.default_rng(7)
    x = rng.integers(0, 250, (29, 31, 2)).astype(np.uint8)
    valid = holes(x.shape[:2], seed=3)
    for kw in ({"footprint": ODD, "mode": "reflect"}, {"footprint": DISK, "mode": "wrap"}):
        lazy = fn(da.from_array(x, chunks=(8, 9, -1)), mask=da.from_array(valid, chunks=(8, 9)), **kw)
        assert isinstance(lazy, da.Array)
        np.testing.assert_array_equal(lazy.compute(), fn(x, mask=valid, **kw), err_msg=str(kw))
    f = rng.standard_normal((2, 23, 21)).astype(np.float32)
    f[rng.random(f.shape) < 0.2] = np.nan
    lazy = fn(da.from_array(f, chunks=(1, 7, 6)), footprint=DISK, nan="ignore", axes=(1, 2))
    np.testing.assert_array_equal(lazy.compute(), fn(f, footprint=DISK, nan="ignore", axes=(1, 2)))


MODES = ["reflect", "symmetric", "edge", "wrap", "constant"]
DTYPES = ["bool", "uint8", "int8", "uint16", "int16", "uint32", "int64", "float16", "float32", "float64"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_median_footprint_equals_scipy_every_mode(dtype, gray_photo, photo):
    shapes = [footprints.disk(3), footprints.cross(2), np.ones((2, 4), bool), ODD, footprints.ellipse(5, 3)]
    for img in (gray_photo[100:160, 200:257], photo[300:340, 10:55]):
        x = img.astype(dtype) if dtype != "bool" else img > 120
        if np.dtype(dtype).kind in "iu" and np.dtype(dtype).itemsize > 1:
            x = x * 97  # spread the values (still in range)
        for fp in shapes:
            for mode in MODES:
                got = imgfilter.median(x, footprint=fp, mode=mode)
                work = x.astype(np.float32) if dtype == "float16" else x
                want = ndi.median_filter(work, footprint=fp.reshape(fp.shape + (1,) * (x.ndim - 2)),
                                         mode=SCIPY_MODE[mode]).astype(dtype)  # fmt: skip
                assert got.dtype == x.dtype
                np.testing.assert_array_equal(got, want, err_msg=f"{fp.shape} {mode}")


@given(
    h=st.integers(1, 9),
    w=st.integers(1, 9),
    fp=st.lists(st.lists(st.booleans(), min_size=1, max_size=5), min_size=1, max_size=5),
    mode=st.sampled_from(MODES),
    dtype=st.sampled_from(DTYPES),
    seed=st.integers(0, 2**32 - 1),
)
def test_median_footprint_hypothesis(h, w, fp, mode, dtype, seed):
    width = min(len(r) for r in fp)
    fp = np.array([r[:width] for r in fp], bool)
    if not fp.any():
        fp[0, 0] = True
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((h, w)) * 40).astype(dtype) if dtype != "bool" else rng.random((h, w)) < 0.5
    work = x.astype(np.float32) if dtype == "float16" else x
    want = ndi.median_filter(work, footprint=fp, mode=SCIPY_MODE[mode]).astype(dtype)
    np.testing.assert_array_equal(imgfilter.median(x, footprint=fp, mode=mode), want)


def test_median_footprint_errors():
    x = np.zeros((6, 6), np.uint8)
    with pytest.raises(OptionError, match="footprint"):
        imgfilter.median(x, footprint=np.zeros((3, 3)))
    with pytest.raises(OptionError, match="footprint"):
        imgfilter.median(x, footprint=np.ones((3, 3, 3)))


def test_cli_median_footprint(tmp_path, gray_photo):
    from click.testing import CliRunner

    from imgfilter.cli.main import main
    from imgfilter.io import imread, imwrite

    src = tmp_path / "in.png"
    imwrite(src, gray_photo[:64, :64])
    out = tmp_path / "out.png"
    res = CliRunner().invoke(main, ["median", "--footprint", "disk:2", str(src), str(out)])
    assert res.exit_code == 0, res.output
    want = ndi.median_filter(gray_photo[:64, :64], footprint=footprints.disk(2), mode="mirror")
    np.testing.assert_array_equal(imread(out), want)
    fp_file = tmp_path / "fp.txt"
    fp_file.write_text("1 0 1\n0 1 0\n")
    res = CliRunner().invoke(main, ["median", "--footprint-file", str(fp_file), str(src), str(out)])
    assert res.exit_code == 0, res.output
    want = ndi.median_filter(gray_photo[:64, :64], footprint=[[1, 0, 1], [0, 1, 0]], mode="mirror")
    np.testing.assert_array_equal(imread(out), want)
    res = CliRunner().invoke(main, ["median", "--size", "3", "--footprint", "disk:2", str(src), str(out)])
    assert res.exit_code != 0 and "not both" in res.output
