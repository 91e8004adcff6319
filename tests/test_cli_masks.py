"""--mask reaches every command whose Python function takes mask=: the file's result is the call's."""

from __future__ import annotations

import numpy as np
import pytest
from clitools import invoke, stderr_lines

import imgfilter
from imgfilter import footprints


@pytest.fixture(scope="module")
def files(tmp_path_factory, gray_photo, photo):
    folder = tmp_path_factory.mktemp("masks")
    grey = np.ascontiguousarray(gray_photo[100:196, 120:248])
    rgb = np.ascontiguousarray(photo[100:196, 120:248])
    valid = np.random.default_rng(7).random(grey.shape) > 0.3
    valid[40:60, 50:90] = False  # a hole larger than the windows
    imgfilter.imwrite(folder / "grey.png", grey)
    imgfilter.imwrite(folder / "rgb.png", rgb)
    imgfilter.imwrite(folder / "mask.png", valid.astype(np.uint8) * 255)
    return folder, grey, rgb, valid


CASES = [
    ("rank", ["--rank", "2", "--size", "3"], lambda x, m: imgfilter.rank_filter(x, 2, size=3, mask=m)),
    ("percentile", ["--q", "75", "--footprint", "disk:2"],
     lambda x, m: imgfilter.percentile(x, 75, footprint=footprints.disk(2), mask=m)),
    ("minimum", ["--size", "5"], lambda x, m: imgfilter.minimum(x, size=5, mask=m)),
    ("maximum", ["--size", "5"], lambda x, m: imgfilter.maximum(x, size=5, mask=m)),
    ("erode", ["--footprint", "disk:2"], lambda x, m: imgfilter.erode(x, footprint=footprints.disk(2), mask=m)),
    ("morph", ["--op", "close", "--size", "5"], lambda x, m: imgfilter.closing(x, size=5, mask=m)),
    ("shift", ["--dx", "2.5", "--dy", "-1.25", "--mode", "edge"],
     lambda x, m: imgfilter.shift(x, 2.5, -1.25, mode="edge", mask=m)),
    ("shift", ["--dx", "0.5", "--interpolation", "cubic", "--mode", "edge"],
     lambda x, m: imgfilter.shift(x, 0.5, 0, mode="edge", interpolation="cubic", mask=m)),
    ("log", ["--sigma", "2", "--scale", "abs"], lambda x, m: imgfilter.gaussian_laplace(x, 2.0, mask=m)),
    ("dog", ["--low-sigma", "1", "--high-sigma", "3", "--scale", "abs"],
     lambda x, m: imgfilter.difference_of_gaussians(x, 1.0, 3.0, mask=m)),
    ("guided", ["--radius", "4", "--eps", "100"], lambda x, m: imgfilter.guided(x, radius=4, eps=100.0, mask=m)),
]  # fmt: skip


@pytest.mark.parametrize(("command", "args", "call"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
@pytest.mark.parametrize("image", ["grey", "rgb"])
def test_mask_file_is_the_calls_mask(tmp_path, files, command, args, call, image):
    folder, grey, rgb, valid = files
    x = grey if image == "grey" else rgb
    src = folder / f"{image}.png"
    scale = "abs" if "abs" in args else "clip"
    out, plain = tmp_path / "masked.png", tmp_path / "plain.png"
    invoke(command, *args, "--mask", folder / "mask.png", src, out)
    invoke(command, *args, src, plain)
    expected = call(x, valid)
    imgfilter.imwrite(tmp_path / "api.png", expected, source_depth=x, scale=scale)
    got = imgfilter.imread(out)
    np.testing.assert_array_equal(got, imgfilter.imread(tmp_path / "api.png"))
    # The mask changed something (else the test could not fail when --mask is dropped).
    assert not np.array_equal(got, imgfilter.imread(plain))


@pytest.mark.parametrize("command", sorted({c[0] for c in CASES}))
def test_a_mask_of_another_size_is_one_line_naming_it(tmp_path, files, command):
    folder, *_ = files
    small = tmp_path / "small.png"
    imgfilter.imwrite(small, np.full((5, 7), 255, np.uint8))
    args = next(c[1] for c in CASES if c[0] == command)
    res = invoke(command, *args, "--mask", small, folder / "grey.png", tmp_path / "o.png", ok=False)
    assert res.exit_code != 0
    lines = stderr_lines(res.stderr)
    assert len(lines) == 1 and "small.png" in lines[0], lines
    assert not (tmp_path / "o.png").exists()
