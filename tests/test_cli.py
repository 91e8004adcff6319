"""The ``imgfilter`` command line.

Every filter command is checked against its public Python function on the
same image, followed by the float-to-file rule written out here with numpy
(round to nearest, clip, never wrap; --scale abs|offset|stretch).
"""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from clitools import invoke
from PIL import Image, ImageCms

import imgfilter
from imgfilter.cli import main

SAMPLES = Path(__file__).resolve().parent.parent / "sample_images"
RNG = np.random.default_rng(7)
SHARPEN = "0,-1,0;-1,5,-1;0,-1,0"
SHARPEN_K = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float)
SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=float)
FILTER_COMMANDS = ("conv", "pool", "sobel", "edges", "median", "blur", "gaussian", "shift", "bilateral")


# ----------------------------------------------------------------- helpers


def run_module(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "imgfilter", *map(str, args)], capture_output=True, **kwargs)


def file_rule(values, scale="clip", alpha=False, top=255, dtype=np.uint8):
    """The float-to-file rule, written out independently of imgfilter.io."""
    v = np.asarray(values, dtype=np.float64)
    colour = v[..., :-1] if alpha else v
    if scale == "abs":
        colour = np.abs(colour)
    elif scale == "offset":
        colour = colour + (top + 1) / 2
    elif scale == "stretch":
        lo, hi = float(colour.min()), float(colour.max())
        colour = (colour - lo) * (top / (hi - lo))
    out = np.clip(np.rint(colour), 0, top)
    if alpha:
        out = np.concatenate([out, np.clip(np.rint(v[..., -1:]), 0, top)], axis=-1)
    return out.astype(dtype)


def luma(rgb):
    # `sobel --gray` is documented as sobel(luminance(x)); luminance itself is
    # checked against an independent float64 formula in test_filters.py.
    return imgfilter.luminance(rgb[..., :3])


def read_png(path) -> np.ndarray:
    return np.asarray(Image.open(path))


def read_any(path) -> np.ndarray:
    """Exact pixels via OpenCV (any depth), RGB(A) order."""
    a = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert a is not None, path
    if a.ndim == 3:
        a = a[..., [2, 1, 0, 3]] if a.shape[2] == 4 else a[..., ::-1]
    return a


def leftovers(folder: Path, keep: set[str]) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


@pytest.fixture(scope="module")
def rgba_file(tmp_path_factory):
    """astronaut.png with a varying alpha channel, as an RGBA PNG."""
    rgb = np.asarray(Image.open(SAMPLES / "astronaut.png").convert("RGB"))
    yy, xx = np.mgrid[0 : rgb.shape[0], 0 : rgb.shape[1]]
    alpha = ((xx * 3 + yy * 5) % 256).astype(np.uint8)
    alpha[:40, :40] = 0
    alpha[-40:, -40:] = 255
    rgba = np.dstack([rgb, alpha])
    path = tmp_path_factory.mktemp("rgba") / "astro_rgba.png"
    Image.fromarray(rgba, "RGBA").save(path)
    return path, rgba


@pytest.fixture
def restore_threads_env(monkeypatch):
    # --threads writes IMGFILTER_THREADS; make monkeypatch restore it.
    monkeypatch.setenv("IMGFILTER_THREADS", "0")


# ----------------------------------------------------------------- every command equals its function

F = imgfilter
CASES = {
    "conv-sharpen": (["conv", "--kernel", SHARPEN], lambda x: file_rule(F.correlate(x, SHARPEN_K))),
    "conv-named-constant-offset": (
        ["conv", "--kernel", "sobel_x", "--mode", "constant", "--cval", "10", "--scale", "offset"],
        lambda x: file_rule(F.correlate(x, SOBEL_X, mode="constant", cval=10.0), "offset"),
    ),
    "conv-convolve-dilated-valid": (
        ["conv", "--kernel", "1,2,0;0,-1,3", "--convolve", "--dilation", "2", "--padding", "valid"],
        lambda x: file_rule(F.convolve(x, [[1, 2, 0], [0, -1, 3]], dilation=2, padding="valid")),
    ),
    "conv-stride-padding-wrap-abs": (
        "conv --kernel laplacian --stride 2,3 --padding 2,1 --mode wrap --scale abs".split(),
        lambda x: file_rule(
            F.correlate(x, [[0, 1, 0], [1, -4, 1], [0, 1, 0]], stride=(2, 3), padding=(2, 1), mode="wrap"),
            "abs",
        ),
    ),
    "pool-max": (["pool"], lambda x: F.pool(x, 2)),
    "pool-avg-same": (
        ["pool", "--size", "3", "--stride", "2", "--op", "avg", "--padding", "same"],
        lambda x: file_rule(F.pool(x, 3, stride=2, op="avg", padding="same")),
    ),
    "pool-min-rect": (["pool", "--size", "2,3", "--op", "min"], lambda x: F.pool(x, (2, 3), op="min")),
    "sobel-magnitude": (["sobel"], lambda x: file_rule(F.sobel(x))),
    "sobel-x-abs": (
        ["sobel", "--output", "x", "--scale", "abs"],
        lambda x: file_rule(F.sobel(x, output="x"), "abs"),
    ),
    "sobel-y-offset-edge": (
        ["sobel", "--output", "y", "--scale", "offset", "--mode", "edge"],
        lambda x: file_rule(F.sobel(x, output="y", mode="edge"), "offset"),
    ),
    "sobel-angle-stretch": (
        ["sobel", "--output", "angle", "--scale", "stretch"],
        lambda x: file_rule(F.sobel(x, output="angle"), "stretch"),
    ),
    "sobel-gray": (["sobel", "--gray"], lambda x: file_rule(F.sobel(luma(x) if x.ndim == 3 else x))),
    "edges-vertical": (["edges"], lambda x: file_rule(F.edges(x))),
    "edges-horizontal-abs": (
        ["edges", "--direction", "horizontal", "--scale", "abs"],
        lambda x: file_rule(F.edges(x, "horizontal"), "abs"),
    ),
    "edges-laplacian-valid-wrap": (
        ["edges", "--direction", "laplacian", "--padding", "valid", "--mode", "wrap", "--scale", "offset"],
        lambda x: file_rule(F.edges(x, "laplacian", padding="valid", mode="wrap"), "offset"),
    ),
    "median-3": (["median"], lambda x: F.median(x, 3)),
    "median-5-edge": (["median", "--size", "5", "--mode", "edge"], lambda x: F.median(x, 5, mode="edge")),
    "blur-3": (["blur"], lambda x: F.blur(x, 3)),
    "blur-7-symmetric": (
        ["blur", "--size", "7", "--mode", "symmetric"],
        lambda x: F.blur(x, 7, mode="symmetric"),
    ),
    "gaussian-2": (["gaussian", "--sigma", "2"], lambda x: F.gaussian(x, 2.0)),
    "gaussian-truncate-wrap": (
        ["gaussian", "--sigma", "1.5", "--truncate", "2", "--mode", "wrap"],
        lambda x: F.gaussian(x, 1.5, truncate=2.0, mode="wrap"),
    ),
    "shift-whole": (["shift", "--dx", "10", "--dy", "-5"], lambda x: F.shift(x, 10, -5)),
    "shift-fraction-edge": (
        ["shift", "--dx", "2.5", "--dy", "-1.25", "--mode", "edge"],
        lambda x: F.shift(x, 2.5, -1.25, mode="edge"),
    ),
    "shift-cval": (
        ["shift", "--dx", "-3", "--mode", "constant", "--cval", "200"],
        lambda x: F.shift(x, -3, 0, mode="constant", cval=200),
    ),
    "bilateral-default": (["bilateral"], lambda x: F.bilateral(x)),
    "bilateral-small": (
        ["bilateral", "--diameter", "5", "--sigma-color", "30", "--sigma-space", "3", "--mode", "edge"],
        lambda x: F.bilateral(x, 5, 30.0, 3.0, mode="edge"),
    ),
}


@pytest.mark.parametrize("image", ["camera.png", "astronaut.png"])
@pytest.mark.parametrize("case", list(CASES))
def test_command_equals_python_function(tmp_path, samples, case, image):
    args, expected_fn = CASES[case]
    out = tmp_path / "out.png"
    invoke(*args, SAMPLES / image, out)
    got = read_png(out)
    expected = expected_fn(samples[image])
    assert got.dtype == np.uint8
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(
    "case",
    ["conv-stride-padding-wrap-abs", "pool-avg-same", "sobel-gray", "median-5-edge", "shift-fraction-edge"],
)
@pytest.mark.parametrize("image", ["chelsea.png", "rocket.jpg"])
def test_command_equals_python_function_odd_sizes_and_jpeg(tmp_path, samples, case, image):
    args, expected_fn = CASES[case]
    out = tmp_path / "out.png"
    invoke(*args, SAMPLES / image, out)
    np.testing.assert_array_equal(read_png(out), expected_fn(samples[image]))


def test_every_filter_command_is_covered():
    covered = {args[0] for args, _ in CASES.values()}
    assert covered == set(FILTER_COMMANDS)
    # The commands of issue 16 are covered in test_cli_filters16.py.
    from test_cli_filters16 import COMMANDS16

    assert set(FILTER_COMMANDS) | set(COMMANDS16) | {"kernels", "gallery", "_chain"} == set(main.commands)


def test_kernel_file_equals_inline_kernel(tmp_path, gray_photo):
    kfile = tmp_path / "k.txt"
    kfile.write_text("1 2 1\n0 0 0\n-1 -2 -1\n")
    invoke("conv", "--kernel-file", kfile, SAMPLES / "camera.png", tmp_path / "a.png", "--scale", "offset")
    invoke(
        "conv",
        "--kernel",
        "1,2,1;0,0,0;-1,-2,-1",
        SAMPLES / "camera.png",
        tmp_path / "b.png",
        "--scale",
        "offset",
    )
    expected = file_rule(imgfilter.correlate(gray_photo, [[1, 2, 1], [0, 0, 0], [-1, -2, -1]]), "offset")
    np.testing.assert_array_equal(read_png(tmp_path / "a.png"), expected)
    np.testing.assert_array_equal(read_png(tmp_path / "b.png"), expected)


def test_threads_option_does_not_change_the_result(tmp_path, restore_threads_env):
    invoke("gaussian", "--sigma", "3", "--threads", "1", SAMPLES / "coffee.png", tmp_path / "one.png")
    invoke("gaussian", "--sigma", "3", "--threads", "3", SAMPLES / "coffee.png", tmp_path / "three.png")
    np.testing.assert_array_equal(read_png(tmp_path / "one.png"), read_png(tmp_path / "three.png"))
    np.testing.assert_array_equal(
        read_png(tmp_path / "one.png"), imgfilter.gaussian(imgfilter.imread(SAMPLES / "coffee.png"), 3.0)
    )


# ----------------------------------------------------------------- alpha


def test_conv_alpha_passes_through(tmp_path, rgba_file):
    path, rgba = rgba_file
    invoke("conv", "--kernel", SHARPEN, path, tmp_path / "o.png")
    got = read_png(tmp_path / "o.png")
    assert got.shape == rgba.shape
    np.testing.assert_array_equal(got[..., 3], rgba[..., 3])
    np.testing.assert_array_equal(got[..., :3], file_rule(imgfilter.correlate(rgba[..., :3], SHARPEN_K)))


def test_conv_stride_2_samples_alpha(tmp_path, rgba_file):
    path, rgba = rgba_file
    invoke("conv", "--kernel", SHARPEN, "--stride", "2", path, tmp_path / "o.png")
    got = read_png(tmp_path / "o.png")
    assert got.shape == (256, 256, 4)
    np.testing.assert_array_equal(got[..., 3], rgba[::2, ::2, 3])
    np.testing.assert_array_equal(
        got[..., :3], file_rule(imgfilter.correlate(rgba[..., :3], SHARPEN_K, stride=2))
    )


def test_conv_valid_crops_alpha(tmp_path, rgba_file):
    path, rgba = rgba_file
    invoke("conv", "--kernel", SHARPEN, "--padding", "valid", path, tmp_path / "o.png")
    got = read_png(tmp_path / "o.png")
    assert got.shape == (510, 510, 4)
    np.testing.assert_array_equal(got[..., 3], rgba[1:-1, 1:-1, 3])


def test_edges_alpha_passes_through(tmp_path, rgba_file):
    path, rgba = rgba_file
    invoke("edges", "--scale", "abs", path, tmp_path / "o.png")
    got = read_png(tmp_path / "o.png")
    np.testing.assert_array_equal(got[..., 3], rgba[..., 3])
    np.testing.assert_array_equal(got[..., :3], file_rule(imgfilter.edges(rgba[..., :3]), "abs"))


def test_edges_full_padding_extends_alpha(tmp_path, rgba_file):
    path, rgba = rgba_file
    invoke("edges", "--padding", "full", "--scale", "offset", path, tmp_path / "o.png")
    got = read_png(tmp_path / "o.png")
    assert got.shape == (514, 514, 4)
    # Beyond the border alpha follows the filter's mode (reflect, numpy's "reflect").
    np.testing.assert_array_equal(got[..., 3], np.pad(rgba[..., 3], 1, mode="reflect"))
    np.testing.assert_array_equal(
        got[..., :3], file_rule(imgfilter.edges(rgba[..., :3], padding="full"), "offset")
    )


def test_median_alpha_passes_through(tmp_path, rgba_file):
    path, rgba = rgba_file
    invoke("median", "--size", "5", path, tmp_path / "o.png")
    got = read_png(tmp_path / "o.png")
    np.testing.assert_array_equal(got[..., 3], rgba[..., 3])
    np.testing.assert_array_equal(got[..., :3], imgfilter.median(rgba[..., :3], 5))


@pytest.mark.parametrize("op", ["max", "min", "avg"])
def test_pool_pools_alpha(tmp_path, rgba_file, op):
    path, rgba = rgba_file
    invoke("pool", "--op", op, path, tmp_path / "o.png")
    got = read_png(tmp_path / "o.png")
    assert got.shape == (256, 256, 4)
    blocks = rgba.astype(np.float64).reshape(256, 2, 256, 2, 4)
    reduce = {"max": np.max, "min": np.min, "avg": np.mean}[op]
    np.testing.assert_array_equal(got, file_rule(reduce(blocks, axis=(1, 3))))


@pytest.mark.parametrize(
    ("args", "fn"),
    [
        # the CLI knows the file has alpha; the functions are told so
        (["blur", "--size", "5"], lambda x: imgfilter.blur(x, 5, alpha=True)),
        (["gaussian", "--sigma", "2"], lambda x: imgfilter.gaussian(x, 2.0, alpha=True)),
        (["shift", "--dx", "1.5", "--dy", "2"], lambda x: imgfilter.shift(x, 1.5, 2, alpha=True)),
        (["bilateral", "--diameter", "5"], lambda x: imgfilter.bilateral(x, 5, alpha=True)),
        (["sobel", "--gray", "--scale", "abs"], None),
    ],
)
def test_rgba_smoothing_commands_equal_functions(tmp_path, rgba_file, args, fn):
    path, rgba = rgba_file
    invoke(*args, path, tmp_path / "o.png")
    got = read_png(tmp_path / "o.png")
    if fn is None:  # sobel --gray on RGBA: luminance + alpha
        expected = file_rule(imgfilter.sobel(np.dstack([luma(rgba), rgba[..., 3]]), alpha=True), "abs")
        assert got.shape == (512, 512, 2)
        np.testing.assert_array_equal(got[..., 1], rgba[..., 3])
    else:
        expected = fn(rgba)
    np.testing.assert_array_equal(got, expected)


def test_stretch_uses_colour_only_with_alpha(tmp_path, rgba_file):
    path, rgba = rgba_file
    invoke("sobel", "--output", "angle", "--scale", "stretch", path, tmp_path / "o.png")
    got = read_png(tmp_path / "o.png")
    angle = imgfilter.sobel(rgba[..., :3], output="angle")
    np.testing.assert_array_equal(got[..., 3], rgba[..., 3])
    np.testing.assert_array_equal(got[..., :3], file_rule(angle, "stretch"))
    assert got[..., :3].min() == 0 and got[..., :3].max() == 255


# ----------------------------------------------------------------- depth and formats


def test_16_bit_grey_stays_16_bit_and_clips(tmp_path):
    g = RNG.integers(0, 65536, (40, 50), dtype=np.uint16)
    assert cv2.imwrite(str(tmp_path / "g.png"), g)
    invoke("conv", "--kernel", SHARPEN, tmp_path / "g.png", tmp_path / "o.png")
    got = read_any(tmp_path / "o.png")
    assert got.dtype == np.uint16
    np.testing.assert_array_equal(
        got, file_rule(imgfilter.correlate(g, SHARPEN_K), top=65535, dtype=np.uint16)
    )


def test_16_bit_rgb_tiff_to_png_exact(tmp_path):
    rgb = RNG.integers(0, 65536, (30, 40, 3), dtype=np.uint16)
    assert cv2.imwrite(str(tmp_path / "rgb.tif"), rgb[..., ::-1])
    invoke("median", "--size", "3", tmp_path / "rgb.tif", tmp_path / "o.png")
    got = read_any(tmp_path / "o.png")
    assert got.dtype == np.uint16
    np.testing.assert_array_equal(got, imgfilter.median(rgb, 3))


@pytest.mark.parametrize("channels", [3, 4])
def test_16_bit_colour_png_round_trip(tmp_path, channels):
    a = RNG.integers(0, 65536, (30, 40, channels), dtype=np.uint16)
    order = [2, 1, 0, 3][:channels]
    assert cv2.imwrite(str(tmp_path / "in.png"), a[..., order])
    invoke("median", "--size", "1", tmp_path / "in.png", tmp_path / "o.png")
    got = read_any(tmp_path / "o.png")
    assert got.dtype == np.uint16
    np.testing.assert_array_equal(got, a)


def test_8_bit_to_depth_16(tmp_path, photo):
    invoke("median", "--size", "1", "--depth", "16", SAMPLES / "astronaut.png", tmp_path / "o.png")
    got = read_any(tmp_path / "o.png")
    assert got.dtype == np.uint16
    np.testing.assert_array_equal(got, photo.astype(np.uint16) * 257)


@pytest.mark.parametrize("ext", ["jpg", "webp", "bmp", "gif"])
def test_16_bit_to_8_bit_format_refused(tmp_path, ext):
    g = np.full((20, 20), 65535, dtype=np.uint16)
    assert cv2.imwrite(str(tmp_path / "g.png"), g)
    res = invoke("median", "--size", "1", tmp_path / "g.png", tmp_path / f"o.{ext}", ok=False)
    assert res.exit_code != 0
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "16" in lines[0] and f"o.{ext}" in lines[0]
    assert not (tmp_path / f"o.{ext}").exists()


def test_16_bit_to_jpeg_with_depth_8_rescales(tmp_path):
    g = np.full((24, 24), 65535, dtype=np.uint16)
    g[:, 12:] = 0
    assert cv2.imwrite(str(tmp_path / "g.png"), g)
    invoke("median", "--size", "1", "--depth", "8", tmp_path / "g.png", tmp_path / "o.jpg")
    got = read_png(tmp_path / "o.jpg")
    assert got.dtype == np.uint8
    # Blocks of 8 are flat, so JPEG keeps them exactly.
    np.testing.assert_array_equal(got[:, :8], 255)
    np.testing.assert_array_equal(got[:, 16:], 0)


def test_16_bit_depth_8_rounds_exactly(tmp_path):
    values = np.array([[0, 128, 129, 257, 32767, 32896, 65278, 65535]], dtype=np.uint16)
    assert cv2.imwrite(str(tmp_path / "g.png"), values)
    invoke("median", "--size", "1", "--depth", "8", tmp_path / "g.png", tmp_path / "o.png")
    got = read_png(tmp_path / "o.png")
    np.testing.assert_array_equal(got, np.rint(values / 257.0).astype(np.uint8))


def test_float_tiff_in_and_out(tmp_path):
    f = RNG.random((30, 40)).astype(np.float32)
    Image.fromarray(f, "F").save(tmp_path / "f.tif")
    invoke("blur", tmp_path / "f.tif", tmp_path / "o.tif")
    with Image.open(tmp_path / "o.tif") as im:
        assert im.mode == "F"
        np.testing.assert_array_equal(np.asarray(im), imgfilter.blur(f, 3))
    invoke("median", "--size", "1", tmp_path / "f.tif", tmp_path / "o.png")
    np.testing.assert_array_equal(read_png(tmp_path / "o.png"), file_rule(f.astype(np.float64) * 255))


@pytest.mark.parametrize("ext", ["tif", "npy"])
def test_depth_float_keeps_filter_values(tmp_path, gray_photo, ext):
    out = tmp_path / f"o.{ext}"
    invoke("conv", "--kernel", SHARPEN, "--depth", "float", SAMPLES / "camera.png", out)
    got = np.load(out) if ext == "npy" else np.asarray(Image.open(out))
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, imgfilter.correlate(gray_photo, SHARPEN_K))


def test_quality_option(tmp_path, photo):
    invoke("median", "--size", "1", "--quality", "30", SAMPLES / "astronaut.png", tmp_path / "q30.jpg")
    invoke("median", "--size", "1", SAMPLES / "astronaut.png", tmp_path / "q95.jpg")
    ref = io.BytesIO()
    Image.fromarray(photo).save(ref, format="JPEG", quality=30)
    np.testing.assert_array_equal(read_png(tmp_path / "q30.jpg"), read_png(ref))
    assert (tmp_path / "q30.jpg").stat().st_size < (tmp_path / "q95.jpg").stat().st_size


@pytest.mark.parametrize(("fmt", "magic"), [("tif", (b"II*\x00", b"MM\x00*")), ("jpg", (b"\xff\xd8",))])
def test_format_option_to_stdout(tmp_path, fmt, magic):
    data = (SAMPLES / "camera.png").read_bytes()
    res = invoke("median", "--size", "1", "--format", fmt, "-", "-", input=data)
    assert res.stdout_bytes.startswith(magic)
    if fmt == "tif":
        np.testing.assert_array_equal(
            read_png(io.BytesIO(res.stdout_bytes)), read_png(SAMPLES / "camera.png")
        )


def test_format_option_names_batch_outputs(tmp_path):
    invoke(
        "blur", "--format", "tif", SAMPLES / "camera.png", SAMPLES / "coffee.png", "--out-dir", tmp_path / "o"
    )
    assert sorted(os.listdir(tmp_path / "o")) == ["camera.tif", "coffee.tif"]
    with Image.open(tmp_path / "o" / "camera.tif") as im:
        assert im.format == "TIFF"


# ----------------------------------------------------------------- stdin / stdout


def test_stdin_to_stdout_is_png(gray_photo):
    data = (SAMPLES / "camera.png").read_bytes()
    res = invoke("blur", "-", "-", input=data)
    assert res.stdout_bytes.startswith(b"\x89PNG\r\n\x1a\n")
    np.testing.assert_array_equal(read_png(io.BytesIO(res.stdout_bytes)), imgfilter.blur(gray_photo, 3))


def test_real_pipe_through_subprocess(photo):
    data = (SAMPLES / "astronaut.png").read_bytes()
    proc = run_module("blur", "-", "-", input=data)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stderr == b""
    np.testing.assert_array_equal(read_png(io.BytesIO(proc.stdout)), imgfilter.blur(photo, 3))


def test_stdin_not_allowed_with_out_dir(tmp_path):
    res = invoke("blur", "-", "--out-dir", tmp_path / "o", ok=False)
    assert res.exit_code == 2


# ----------------------------------------------------------------- batch


def test_batch_writes_one_output_per_input(tmp_path, samples):
    out_dir = tmp_path / "new" / "nested"
    inputs = [SAMPLES / n for n in ("camera.png", "coffee.png", "rocket.jpg")]
    res = invoke("median", "--size", "3", *inputs, "--out-dir", out_dir)
    assert sorted(os.listdir(out_dir)) == ["camera.png", "coffee.png", "rocket.jpg"]
    for name in ("camera.png", "coffee.png"):
        np.testing.assert_array_equal(read_png(out_dir / name), imgfilter.median(samples[name], 3))
    assert res.stderr.strip().splitlines()[-1] == "3 written, 0 skipped, 0 failed"


def test_batch_skips_bad_input_and_reports(tmp_path, samples):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    out_dir = tmp_path / "out"
    res = invoke(
        "blur",
        SAMPLES / "camera.png",
        bad,
        tmp_path / "missing.png",
        SAMPLES / "coffee.png",
        "--out-dir",
        out_dir,
        ok=False,
    )
    assert res.exit_code != 0
    assert sorted(os.listdir(out_dir)) == ["camera.png", "coffee.png"]
    np.testing.assert_array_equal(read_png(out_dir / "coffee.png"), imgfilter.blur(samples["coffee.png"], 3))
    lines = res.stderr.strip().splitlines()
    assert lines[-1] == "2 written, 0 skipped, 2 failed"
    assert any(str(bad) in line for line in lines[:-1])
    assert any("missing.png" in line for line in lines[:-1])
    assert len(lines) == 3


def test_batch_quiet_prints_only_errors(tmp_path):
    res = invoke(
        "blur", "-q", SAMPLES / "camera.png", tmp_path / "nope.png", "--out-dir", tmp_path / "o", ok=False
    )
    assert res.exit_code != 0
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "nope.png" in lines[0]
    res = invoke("blur", "--quiet", SAMPLES / "camera.png", "--out-dir", tmp_path / "o2")
    assert res.stderr == "" and res.stdout == ""


def test_too_many_paths_without_out_dir(tmp_path):
    res = invoke("blur", SAMPLES / "camera.png", SAMPLES / "coffee.png", tmp_path / "o.png", ok=False)
    assert res.exit_code == 2
    assert not (tmp_path / "o.png").exists()


# ----------------------------------------------------------------- output checks before work


def test_unknown_extension_refused_before_reading(tmp_path):
    res = invoke("blur", SAMPLES / "camera.png", tmp_path / "o.xyz", ok=False)
    assert res.exit_code == 2 and ".xyz" in res.stderr
    # Even a missing input is not looked at: the output is refused first.
    res = invoke("blur", tmp_path / "missing.png", tmp_path / "o.xyz", ok=False)
    assert res.exit_code == 2 and ".xyz" in res.stderr and "no such file" not in res.stderr
    assert leftovers(tmp_path, set()) == []


def test_failed_write_leaves_existing_output_and_no_temp(tmp_path, rgba_file):
    path, _ = rgba_file
    out = tmp_path / "keep.jpg"
    out.write_bytes(b"precious")
    res = invoke("blur", path, out, ok=False)
    assert res.exit_code != 0
    assert len(res.stderr.strip().splitlines()) == 1 and "keep.jpg" in res.stderr
    assert out.read_bytes() == b"precious"
    assert leftovers(tmp_path, {"keep.jpg"}) == []


def test_encoder_failure_leaves_existing_output(tmp_path, monkeypatch):
    out = tmp_path / "o.png"
    out.write_bytes(b"old")

    def broken_save(self, fp, *args, **kwargs):
        fp.write(b"\x89PNG half written")
        raise OSError(28, "No space left on device")

    def broken_compress(*args, **kwargs):
        raise OSError(28, "No space left on device")

    # Pillow's encoders and imgfilter's own PNG writer (zlib) both fail.
    monkeypatch.setattr(Image.Image, "save", broken_save)
    monkeypatch.setattr(zlib, "compress", broken_compress)
    monkeypatch.setattr(zlib, "compressobj", broken_compress)  # the PNG writer streams
    res = invoke("median", SAMPLES / "camera.png", out, ok=False)
    assert res.exit_code != 0
    assert "o.png" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert out.read_bytes() == b"old"
    assert leftovers(tmp_path, {"o.png"}) == []


def test_write_into_missing_folder(tmp_path):
    res = invoke("blur", SAMPLES / "camera.png", tmp_path / "absent" / "o.png", ok=False)
    assert res.exit_code != 0
    assert "absent" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert leftovers(tmp_path, set()) == []


# ----------------------------------------------------------------- bad input files


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[Path, tuple[str, ...]]]:
    data = (SAMPLES / "coffee.png").read_bytes()
    bad = {
        "empty": (tmp_path / "empty.png", ("empty",)),
        "truncated": (tmp_path / "trunc.png", ("truncat", "decode")),
        "random": (tmp_path / "random.jpg", ("not an image", "cannot")),
        "text": (tmp_path / "readme.txt", ("not an image", "cannot")),
        "directory": (tmp_path / "adir", ("directory",)),
        "missing": (tmp_path / "ghost.png", ("no such file", "not found", "does not exist")),
    }
    bad["empty"][0].write_bytes(b"")
    bad["truncated"][0].write_bytes(data[: len(data) // 3])
    bad["random"][0].write_bytes(np.random.default_rng(3).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    bad["text"][0].write_text("just some text\n" * 30)
    bad["directory"][0].mkdir()
    return bad


@pytest.mark.parametrize("kind", ["empty", "truncated", "random", "text", "directory", "missing"])
def test_bad_input_one_line_error(tmp_path, kind):
    path, reasons = _bad_inputs(tmp_path)[kind]
    out = tmp_path / "out.png"
    res = invoke("blur", path, out, ok=False)
    assert res.exit_code != 0
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert str(path) in lines[0]
    assert any(r in lines[0].lower() for r in reasons), lines[0]
    assert not out.exists()


def test_bad_inputs_in_real_process_no_traceback(tmp_path):
    bad = _bad_inputs(tmp_path)
    # In a batch a folder is a container of inputs (its images), not a bad file.
    paths = [p for name, (p, _) in bad.items() if name != "directory"]
    proc = run_module("median", SAMPLES / "camera.png", *paths, "--out-dir", tmp_path / "o")
    err = proc.stderr.decode()
    assert proc.returncode != 0
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines[-1] == f"1 written, 0 skipped, {len(paths)} failed"
    assert len(lines) == len(paths) + 1
    for p in paths:
        # Named by path (or, for the .txt input, by the output named after it).
        assert sum(p.name in line for line in lines[:-1]) == 1, p
    assert os.listdir(tmp_path / "o") == ["camera.png"]


def _bomb(path: Path, width: int = 100_000, height: int = 100_000) -> None:
    def chunk(kind, data):
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 100))
        + chunk(b"IEND", b"")
    )


def test_decompression_bomb_refused(tmp_path):
    _bomb(tmp_path / "bomb.png")
    proc = run_module("blur", tmp_path / "bomb.png", tmp_path / "o.png")
    err = proc.stderr.decode()
    assert proc.returncode != 0
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert "bomb.png" in lines[0] and "100000x100000" in lines[0]
    assert "limit" in lines[0] and "--max-pixels" in lines[0]
    assert not (tmp_path / "o.png").exists()


def test_max_pixels_option(tmp_path):
    Image.fromarray(np.zeros((10, 12), dtype=np.uint8)).save(tmp_path / "s.png")
    res = invoke("blur", "--max-pixels", "119", tmp_path / "s.png", tmp_path / "o.png", ok=False)
    assert res.exit_code != 0 and "limit" in res.stderr
    assert not (tmp_path / "o.png").exists()
    invoke("blur", "--max-pixels", "120", tmp_path / "s.png", tmp_path / "o.png")
    assert read_png(tmp_path / "o.png").shape == (10, 12)


# ----------------------------------------------------------------- bad option values


BAD_OPTIONS = [
    (["median", "--size", "4"], "size"),
    (["median", "--size", "0"], "size"),
    (["median", "--size", "-3"], "size"),
    (["gaussian", "--sigma", "0"], "sigma"),
    (["gaussian", "--sigma", "-1.5"], "sigma"),
    (["gaussian", "--sigma", "nan"], "sigma"),
    (["gaussian", "--truncate", "0"], "truncate"),
    (["bilateral", "--diameter", "-1"], "diameter"),
    (["bilateral", "--sigma-color", "0"], "sigma-color"),
    (["bilateral", "--sigma-space", "-2"], "sigma-space"),
    (["conv", "--kernel", "1,2;3"], "kernel"),
    (["conv", "--kernel", ""], "kernel"),
    (["conv", "--kernel", "1,,x"], "kernel"),
    (["conv", "--kernel", "nosuchkernel"], "nosuchkernel"),
    (["conv"], "kernel"),
    (["conv", "--kernel", SHARPEN, "--stride", "0"], "stride"),
    (["conv", "--kernel", SHARPEN, "--stride", "1,2,3"], "stride"),
    (["conv", "--kernel", SHARPEN, "--dilation", "0"], "dilation"),
    (["conv", "--kernel", SHARPEN, "--padding", "-1"], "padding"),
    (["conv", "--kernel", SHARPEN, "--padding", "middle"], "padding"),
    (["conv", "--kernel", SHARPEN, "--mode", "bogus"], "mode"),
    (["blur", "--mode", "bogus"], "mode"),
    (["blur", "--size", "0"], "size"),
    (["pool", "--size", "0"], "size"),
    (["pool", "--op", "median"], "op"),
    (["sobel", "--output", "z"], "output"),
    (["edges", "--direction", "diagonal"], "direction"),
    (["shift", "--dx", "abc"], "dx"),
    (["shift", "--dx", "nan"], "dx"),
    (["shift", "--mode", "sideways"], "mode"),
    (["blur", "--depth", "12"], "depth"),
    (["blur", "--scale", "squash"], "scale"),
    (["blur", "--quality", "0"], "quality"),
    (["blur", "--format", "xyz"], "format"),
    (["blur", "--max-pixels", "0"], "max-pixels"),
    (["blur", "--threads", "-1"], "threads"),
]


@pytest.mark.parametrize(("args", "word"), BAD_OPTIONS, ids=[" ".join(a) for a, _ in BAD_OPTIONS])
def test_bad_option_is_usage_error(tmp_path, args, word):
    out = tmp_path / "o.png"
    res = invoke(*args, SAMPLES / "camera.png", out, ok=False)
    assert res.exit_code == 2, res.output
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert f"imgfilter {args[0]}: error: " in res.stderr, res.stderr
    assert word.lower() in res.stderr.lower(), res.stderr
    assert not out.exists()


def test_kernel_and_kernel_file_together_is_usage_error(tmp_path):
    kfile = tmp_path / "k.txt"
    kfile.write_text("1 0 -1\n")
    res = invoke(
        "conv",
        "--kernel",
        SHARPEN,
        "--kernel-file",
        kfile,
        SAMPLES / "camera.png",
        tmp_path / "o.png",
        ok=False,
    )
    assert res.exit_code == 2 and "kernel" in res.stderr


def test_malformed_kernel_file_is_usage_error(tmp_path):
    kfile = tmp_path / "k.txt"
    kfile.write_text("1 2 3\n4 5\n")
    res = invoke("conv", "--kernel-file", kfile, SAMPLES / "camera.png", tmp_path / "o.png", ok=False)
    assert res.exit_code == 2 and "kernel" in res.stderr.lower()


# ----------------------------------------------------------------- help, version, kernels


def test_main_help_lists_commands():
    res = invoke("--help")
    for name in (*FILTER_COMMANDS, "kernels"):
        assert name in res.output
    assert "--out-dir" in res.output


@pytest.mark.parametrize("command", [*FILTER_COMMANDS, "kernels"])
def test_command_help(command):
    res = invoke(command, "--help")
    assert res.output.startswith("Usage:")
    assert command in res.output
    if command != "kernels":
        for opt in (
            "--format",
            "--depth",
            "--scale",
            "--quality",
            "--max-pixels",
            "--threads",
            "--quiet",
            "--out-dir",
        ):
            assert opt in res.output, (command, opt)


def test_help_does_not_import_scipy():
    code = (
        "import sys\n"
        "from imgfilter.cli import main\n"
        f"for args in [['--help'], *[[c, '--help'] for c in {list(FILTER_COMMANDS)!r}]]:\n"
        "    try:\n"
        "        main(args, standalone_mode=False)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('scipy' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "False"


def test_version():
    proc = run_module("--version", text=True)
    assert proc.returncode == 0
    assert imgfilter.__version__ in proc.stdout
    assert "imgfilter" in proc.stdout


def test_kernels_command_lists_every_kernel():
    res = invoke("kernels")
    lines = res.output.splitlines()
    names = [line.split(":")[0] for line in lines if not line.startswith(" ")]
    assert names == list(imgfilter.KERNELS)
    i = lines.index(next(line for line in lines if line.startswith("laplacian:")))
    rows = [[float(v) for v in line.split()] for line in lines[i + 1 : i + 4]]
    assert rows == [[0, 1, 0], [1, -4, 1], [0, 1, 0]]


# ----------------------------------------------------------------- metadata


def _source_with_metadata(path: Path, orientation: int | None) -> tuple[np.ndarray, bytes]:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    rgb = np.asarray(Image.open(SAMPLES / "coffee.png").convert("RGB"))[:60, :90]
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    if orientation is not None:
        exif[0x0112] = orientation
    Image.fromarray(rgb).save(path, icc_profile=icc, exif=exif, dpi=(300, 300))
    return rgb, icc


@pytest.mark.parametrize("src_ext", ["png", "jpg", "tif"])
@pytest.mark.parametrize("dst_ext", ["png", "jpg", "tif"])
def test_icc_and_exif_survive(tmp_path, src_ext, dst_ext):
    src = tmp_path / f"in.{src_ext}"
    _, icc = _source_with_metadata(src, None)
    out = tmp_path / f"out.{dst_ext}"
    invoke("blur", src, out)
    with Image.open(out) as im:
        assert im.info.get("icc_profile") == icc
        exif = im.getexif()
        assert exif.get(0x010F) == "TestCam"
        assert exif.get(0x0112, 1) == 1
        assert im.info.get("dpi") is not None
        assert abs(float(im.info["dpi"][0]) - 300) < 0.01


@pytest.mark.parametrize("src_ext", ["png", "jpg", "tif"])
@pytest.mark.parametrize("dst_ext", ["png", "jpg", "tif"])
def test_rotated_source_written_upright(tmp_path, src_ext, dst_ext):
    src = tmp_path / f"in.{src_ext}"
    rgb, icc = _source_with_metadata(src, 6)
    # As stored, not rotated (Pillow's JPEG decoder never rotates on its own).
    stored = np.asarray(Image.open(src).convert("RGB")) if src_ext == "jpg" else rgb
    out = tmp_path / f"out.{dst_ext}"
    invoke("median", "--size", "1", src, out)
    with Image.open(out) as im:
        assert im.size == (60, 90)  # 90 rows of 60 columns: rotated
        assert im.getexif().get(0x0112, 1) == 1
        assert im.getexif().get(0x010F) == "TestCam"
        assert im.info.get("icc_profile") == icc
    if dst_ext != "jpg":
        np.testing.assert_array_equal(read_png(out), np.rot90(stored, -1))
