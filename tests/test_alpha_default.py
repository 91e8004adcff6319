"""Issue 14, "arrays are data unless told otherwise": the ``alpha=`` default.

``alpha=None`` means no alpha for a numpy array, whatever its channel count,
and alpha for a PIL image with an alpha band; the CLI passes ``alpha=``
from the file's mode, so its results keep premultiplied smoothing.
"""

from __future__ import annotations

import numpy as np
import pytest
from clitools import invoke
from PIL import Image
from scipy import ndimage as ndi

import imgfilter

# Every public filter that takes alpha=, with its other arguments fixed.
CALLS = {
    "blur": lambda im, **kw: imgfilter.blur(im, 5, **kw),
    "gaussian": lambda im, **kw: imgfilter.gaussian(im, 1.5, **kw),
    # a range sigma far above the colour difference: transparent neighbours get real weight
    "bilateral": lambda im, **kw: imgfilter.bilateral(im, 5, 2000.0, 3.0, **kw),
    "shift": lambda im, **kw: imgfilter.shift(im, 0.5, -1.25, mode="edge", **kw),
    "median": lambda im, **kw: imgfilter.median(im, 3, **kw),
    "edges": lambda im, **kw: imgfilter.edges(im, "laplacian", **kw),
    "sobel": lambda im, **kw: imgfilter.sobel(im, **kw),
    "luminance": lambda im, **kw: imgfilter.luminance(im, **kw),
}
# Those whose result on an RGBA image depends on alpha (median, edges and
# sobel differ only in the alpha band, which they pass through).
SMOOTHING = ("blur", "gaussian", "bilateral", "shift")


def half_transparent(channels: int) -> np.ndarray:
    """White, opaque on the right half, black and transparent on the left, with some texture."""
    rng = np.random.default_rng(channels)
    img = rng.integers(0, 256, (16, 20, channels), dtype=np.uint8)
    img[:, :10] = 0
    img[:, 10:, :-1] = 255
    img[:, 10:, -1] = 255
    return img


@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("channels", [2, 4])
def test_default_on_an_array_is_alpha_false(call, channels):
    img = half_transparent(channels)
    f = CALLS[call]
    np.testing.assert_array_equal(f(img), f(img, alpha=False))


@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("mode", ["LA", "RGBA"])
def test_default_on_a_pil_image_with_alpha_is_alpha_true(call, mode):
    img = half_transparent(len(mode))
    pil = Image.fromarray(img, mode)
    f = CALLS[call]
    np.testing.assert_array_equal(f(pil), f(img, alpha=True))


@pytest.mark.parametrize("call", sorted(CALLS))
def test_default_on_a_pil_image_without_alpha_is_plain(call):
    img = half_transparent(3)
    f = CALLS[call]
    np.testing.assert_array_equal(f(Image.fromarray(img, "RGB")), f(img))


@pytest.mark.parametrize("call", SMOOTHING)
def test_the_default_differs_from_alpha_true_on_an_rgba_array(call):
    img = half_transparent(4)
    f = CALLS[call]
    assert not np.array_equal(f(img), f(img, alpha=True))


@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("bands", [2, 4])
def test_flow_field_and_rgb_nir_are_filtered_band_by_band(call, bands):
    """An (H, W, 2) flow field or an (H, W, 4) RGB+NIR array: every band is data."""
    if call == "luminance":
        pytest.skip("luminance mixes R, G, B: checked on its own below")
    if call == "bilateral":
        pytest.skip("its range weight takes every band together: alpha=False, checked above")
    rng = np.random.default_rng(bands)
    data = rng.normal(size=(15, 17, bands)).astype(np.float32)
    data[..., -1] = np.abs(data[..., -1]) * 3000.0  # a last band far from [0, 1]
    f = CALLS[call]
    per_band = np.stack([f(data[..., c]) for c in range(bands)], axis=-1)
    np.testing.assert_array_equal(f(data), per_band)


@pytest.mark.parametrize("bands", [2, 4])
def test_gaussian_of_data_bands_equals_scipy_per_band(bands):
    rng = np.random.default_rng(10 + bands)
    data = rng.normal(size=(21, 23, bands)).astype(np.float64)
    data[..., -1] *= 9000.0
    got = imgfilter.gaussian(data, 2.0)
    ref = np.stack([ndi.gaussian_filter(data[..., c], 2.0, mode="mirror") for c in range(bands)], -1)
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-9)
    # alpha=True is the old guess, and far from SciPy
    assert np.abs(imgfilter.gaussian(data, 2.0, alpha=True) - ref).max() > 1.0


def test_luminance_of_four_bands_is_the_luma_of_the_first_three_and_no_alpha():
    data = np.random.default_rng(1).random((5, 6, 4)).astype(np.float32)
    got = imgfilter.luminance(data)
    assert got.shape == (5, 6)
    np.testing.assert_array_equal(got, imgfilter.luminance(data[..., :3]))
    assert imgfilter.luminance(data, alpha=True).shape == (5, 6, 2)


@pytest.mark.parametrize("call", SMOOTHING)
@pytest.mark.parametrize("mode", ["LA", "RGBA", "P"])
def test_pil_images_with_alpha_keep_premultiplied_smoothing(call, mode):
    """Transparent black next to opaque white: no dark fringe on the visible side."""
    img = half_transparent(2 if mode == "LA" else 4)
    if mode == "P":
        pil = Image.fromarray(img[..., :3], "RGB").quantize(4)
        black = pil.getpixel((0, 0))
        pil.info["transparency"] = black
        expected_alpha = np.where(np.asarray(pil) == black, 0, 255)
        assert pil.mode == "P"
    else:
        pil = Image.fromarray(img, mode)
        expected_alpha = img[..., -1]
    assert (expected_alpha == 0).any() and (expected_alpha == 255).any()
    res = CALLS[call](pil)
    assert res.shape[2] == (2 if mode == "LA" else 4)
    visible = res[..., -1] > 0
    np.testing.assert_array_equal(res[..., :-1][visible], 255)
    # the same array without alpha= darkens it
    plain = CALLS[call](np.asarray(pil.convert("RGBA")) if mode == "P" else img)
    assert (plain[..., :-1][plain[..., -1] > 0] < 255).any()


@pytest.mark.parametrize(
    ("args", "fn"),
    [
        (["blur", "--size", "5"], lambda x, **kw: imgfilter.blur(x, 5, **kw)),
        (["gaussian", "--sigma", "2"], lambda x, **kw: imgfilter.gaussian(x, 2.0, **kw)),
        (["bilateral", "--diameter", "5"], lambda x, **kw: imgfilter.bilateral(x, 5, **kw)),
        (["shift", "--dx", "1.5", "--dy", "0.5"], lambda x, **kw: imgfilter.shift(x, 1.5, 0.5, **kw)),
    ],
)
def test_cli_on_an_rgba_png_smooths_premultiplied_and_keeps_alpha(tmp_path, args, fn):
    img = half_transparent(4)
    src, out = tmp_path / "in.png", tmp_path / "out.png"
    Image.fromarray(img, "RGBA").save(src)
    invoke(*args, src, out)
    with Image.open(out) as im:
        assert im.mode == "RGBA"
        got = np.asarray(im)
    np.testing.assert_array_equal(got, fn(img, alpha=True))
    visible = got[..., 3] > 0
    np.testing.assert_array_equal(got[..., :3][visible], 255)  # no dark fringe
    assert ((got[..., 3] > 0) & (got[..., 3] < 255)).any() or args[0] == "bilateral"


def test_cli_chain_on_an_rgba_png_passes_alpha_to_every_step(tmp_path):
    img = half_transparent(4)
    src, out = tmp_path / "in.png", tmp_path / "out.png"
    Image.fromarray(img, "RGBA").save(src)
    invoke("gaussian", "--sigma", "1.5", "+", "blur", "--size", "3", src, out)
    with Image.open(out) as im:
        got = np.asarray(im)
    want = imgfilter.blur(imgfilter.gaussian(img, 1.5, alpha=True), 3, alpha=True)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got[..., :3][got[..., 3] > 0], 255)


def test_cli_pool_linear_follows_the_file_not_the_channel_count(tmp_path):
    """pool --linear --op avg: the file's alpha band stays linear, every other band is decoded,
    even when an earlier step of the chain leaves two channels of an RGB file."""
    from imgfilter.core.windows import pool

    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)
    src = tmp_path / "rgb.png"
    Image.fromarray(rgb).save(src)
    invoke(
        "pool",
        "--size",
        "2,2,2",
        "--padding",
        "same",
        "+",
        "pool",
        "--linear",
        "--op",
        "avg",
        src,
        tmp_path / "o.npy",
    )
    mid = pool(rgb, (2, 2, 2), padding="same")  # (20, 24, 2): two bands of colour, no alpha
    want = np.dstack([pool(mid[..., c : c + 1], 2, op="avg", linear=True) for c in range(2)])
    np.testing.assert_array_equal(np.load(tmp_path / "o.npy"), want)
    # an RGBA file: colour decoded, alpha averaged as it is
    rgba = np.dstack([rgb, rng.integers(0, 256, (20, 24), dtype=np.uint8)])
    src = tmp_path / "rgba.png"
    Image.fromarray(rgba, "RGBA").save(src)
    invoke("pool", "--linear", "--op", "avg", src, tmp_path / "p.npy")
    want = np.concatenate(
        [pool(rgba[..., :3], 2, op="avg", linear=True), pool(rgba[..., 3:], 2, op="avg")], axis=-1
    )
    np.testing.assert_array_equal(np.load(tmp_path / "p.npy"), want)
