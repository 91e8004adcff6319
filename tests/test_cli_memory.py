"""The CLI's main job in bounded memory: filtered band by band, each band converted to file values at once.

Peak RSS of a whole ``imgfilter sobel`` run on a 4K RGB PNG stays within the
issue's target, the interpreter-plus-imports baseline and twice the decoded
input plus output; and the banded files are byte for byte those of the
whole-image route (the filter's float result, then the float-to-file rule).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import imgfilter
from imgfilter.run import one
from tests.clitools import hidden, invoke
from tests.conftest import SAMPLES

# Peak RSS (KiB) of the command given as arguments, in a fresh parent of its own:
# RUSAGE_CHILDREN is the largest child reaped so far, so it must not be shared.
_PEAK = (
    "import resource, subprocess, sys\n"
    "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def _peak_mb(*command: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", _PEAK, *command], check=True, capture_output=True, text=True
    ).stdout
    return int(out.split()[-1]) / 1024


@pytest.fixture(scope="module")
def photo_4k(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("big") / "4k.png"
    im = Image.open(SAMPLES / "coffee.png").convert("RGB").resize((3840, 2160))
    im.save(path, compress_level=1)
    return path


def test_sobel_4k_peak_rss_within_twice_input_plus_output(photo_4k, tmp_path):
    # Baseline: the interpreter with everything a run imports, nothing decoded.
    baseline = _peak_mb(sys.executable, "-c", "import numpy, PIL.Image, imgfilter, imgfilter.filters.edges")
    run = _peak_mb(sys.executable, "-m", "imgfilter", "sobel", str(photo_4k), str(tmp_path / "out.png"))
    decoded = 3840 * 2160 * 3 / 2**20  # the input, and the 8-bit RGB output alike
    # The whole float32 result alone (95 MB) with the input and output broke this.
    assert run - baseline <= 2 * (decoded + decoded), (run, baseline)
    assert imgfilter.imread(tmp_path / "out.png").shape == (2160, 3840, 3)


@pytest.fixture
def small_bands(monkeypatch):
    """Bands of a few rows (the smallest allowed), so small images take many, counted."""
    monkeypatch.setattr(one, "BAND_RESULT_BYTES", 1)
    calls = []
    real = one.run_steps

    def counting(*args, **kwargs):
        calls.append(args[2].shape)
        return real(*args, **kwargs)

    monkeypatch.setattr(one, "run_steps", counting)
    return calls


def _image(tmp_path: Path, kind: str, h: int = 157, w: int = 29) -> Path:
    rng = np.random.default_rng(7)
    if kind == "16":
        px = rng.integers(0, 65536, (h, w, 3), dtype=np.uint16)
    elif kind == "grey":
        px = rng.integers(0, 256, (h, w), dtype=np.uint8)
    elif kind == "rgba":
        px = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
    else:
        px = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    path = tmp_path / f"in-{kind}.png"
    imgfilter.imwrite(path, px)
    return path


def _sobel(x, alpha, output="magnitude", mode="reflect"):
    return imgfilter.sobel(x, output=output, mode=mode, alpha=alpha)


# (CLI arguments, the same filter in Python, --scale)
CASES = {
    "sobel": (["sobel"], _sobel, "clip"),
    "sobel-x-offset": (
        ["sobel", "--output", "x", "--scale", "offset"],
        lambda x, a: _sobel(x, a, "x"),
        "offset",
    ),
    "sobel-y-abs-nearest": (
        ["sobel", "--output", "y", "--mode", "nearest", "--scale", "abs"],
        lambda x, a: _sobel(x, a, "y", "nearest"),
        "abs",
    ),
    "sobel-constant": (
        ["sobel", "--mode", "constant"],
        lambda x, a: imgfilter.sobel(x, mode="constant", alpha=a),
        "clip",
    ),
    "gaussian": (["gaussian", "--sigma", "2.5"], lambda x, a: imgfilter.gaussian(x, 2.5, alpha=a), "clip"),
    "gaussian-constant": (
        ["gaussian", "--sigma", "1.5,3", "--mode", "constant"],
        lambda x, a: imgfilter.gaussian(x, (1.5, 3), mode="constant", alpha=a),
        "clip",
    ),
    "median": (["median", "--size", "5"], lambda x, a: imgfilter.median(x, 5, alpha=a), "clip"),
    "median-disk": (
        ["median", "--footprint", "disk:3", "--mode", "mirror"],
        lambda x, a: imgfilter.median(x, footprint=imgfilter.footprints.disk(3), mode="mirror", alpha=a),
        "clip",
    ),
    "blur": (["blur", "--size", "7,3"], lambda x, a: imgfilter.blur(x, (7, 3), alpha=a), "clip"),
}


@pytest.mark.parametrize("kind", ["rgb", "16", "grey", "rgba"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_banded_file_is_the_whole_image_file(tmp_path, small_bands, case, kind):
    args, fn, scale = CASES[case]
    src = _image(tmp_path, kind)
    invoke(*args, src, tmp_path / "cli.png")
    assert len(small_bands) >= 3  # the banded route, several bands
    pixels = imgfilter.imread(src)
    alpha = kind == "rgba"
    result = fn(pixels, alpha)
    imgfilter.imwrite(tmp_path / "whole.png", result, source_depth=pixels, scale=scale, alpha=alpha)
    assert (tmp_path / "cli.png").read_bytes() == (tmp_path / "whole.png").read_bytes()


@pytest.mark.parametrize("case", ["sobel", "gaussian", "median"])
def test_banded_file_equals_whole_route_on_a_photo(tmp_path, small_bands, case):
    """The sample photo, band by band, against the CLI's own whole-image route (banding off)."""
    args = CASES[case][0]
    invoke(*args, SAMPLES / "coffee.png", tmp_path / "banded.png")
    assert len(small_bands) >= 8
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(one, "band_plan", lambda *a, **k: None)
        invoke(*args, SAMPLES / "coffee.png", tmp_path / "whole.png")
    assert (tmp_path / "banded.png").read_bytes() == (tmp_path / "whole.png").read_bytes()


@pytest.mark.parametrize(
    "args",
    [
        ["sobel", "--scale", "stretch"],  # the span of the whole image
        ["sobel", "--mode", "wrap"],  # the top band reads the bottom rows
        ["gaussian", "--sigma", "40"],  # context longer than the image allows
        ["canny"],  # hysteresis reaches across the image
    ],
)
def test_whole_image_route_where_bands_cannot_stand_for_it(tmp_path, small_bands, args):
    src = _image(tmp_path, "grey")
    invoke(*args, src, tmp_path / "out.png")
    assert len(small_bands) == 1


def test_banded_to_npy_stays_whole_and_float(tmp_path, small_bands):
    src = _image(tmp_path, "rgb")
    invoke("sobel", src, tmp_path / "out.npy")
    assert len(small_bands) == 1
    assert np.load(tmp_path / "out.npy").dtype.kind == "f"


def test_banded_to_stdout(tmp_path, small_bands):
    src = _image(tmp_path, "rgb")
    result = invoke("sobel", src, "-")
    assert len(small_bands) > 3
    invoke("sobel", src, tmp_path / "file.png")
    assert result.stdout_bytes == (tmp_path / "file.png").read_bytes()


def test_a_band_failing_while_the_encoder_runs_leaves_the_old_output(tmp_path, small_bands, monkeypatch):
    src = _image(tmp_path, "rgb")
    dst = tmp_path / "out.png"
    dst.write_bytes(b"old")
    real = one.run_steps

    def failing(*args, **kwargs):
        if len(small_bands) > 4:  # a band on the bands' own thread, the encoder already started
            raise one.ImageError(f"{src}: not enough memory for this image")
        return real(*args, **kwargs)

    monkeypatch.setattr(one, "run_steps", failing)
    result = invoke("sobel", src, dst, ok=False)
    assert result.exit_code == 1
    assert f"{src}: not enough memory for this image" in result.output
    assert f"{dst}:" not in result.output  # the reason is the input's, not the write's
    assert dst.read_bytes() == b"old"
    assert hidden(tmp_path) == []
