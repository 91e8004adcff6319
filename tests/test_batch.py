"""Command-line power: '+' chains, batches, metadata, Python ergonomics, gallery, kernels.

Every expected image is derived independently of the CLI: the public Python
functions composed by hand, then the float-to-file rule
(``imgfilter.io.to_file_dtype`` with depth "8" and source_max 255) applied to
the final result only. Metadata is checked with Pillow alone.

Runs that fork worker processes (``--jobs``) or need real pipes go through a
subprocess (``python -m imgfilter``) with a timeout, so a hang fails the test
instead of the suite.
"""

from __future__ import annotations

import functools
import importlib.resources
import io
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from clitools import invoke, snapshot, stderr_lines, tree
from PIL import Image, ImageCms

import imgfilter
from imgfilter.io import to_file_dtype
from imgfilter.kernels import KERNELS

F = imgfilter
SAMPLES = Path(__file__).resolve().parent.parent / "sample_images"
SAMPLE_NAMES = sorted(p.name for p in SAMPLES.iterdir() if p.suffix in (".png", ".jpg"))
TIMEOUT = 120  # seconds for a subprocess run that normally takes well under one
MAKE_TAG = 0x010F  # EXIF "Make"


# ----------------------------------------------------------------- helpers


def run_module(*args, timeout=TIMEOUT, input=None, stdin=None):
    """``python -m imgfilter ARGS`` in a real process (pipes, forks).

    The run gets its own process group, so on a timeout its forked workers
    are killed with it instead of being left behind; the timeout is re-raised.
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", "imgfilter", *map(str, args)],
        stdin=subprocess.PIPE if input is not None else stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def to_file(values, scale="clip"):
    """The float-to-file rule for an 8-bit source, applied once at the end."""
    return to_file_dtype(np.asarray(values), depth="8", source_max=255.0, scale=scale)


def decode(source) -> np.ndarray:
    """Pixels of a written file (path or bytes) as Pillow decodes them."""
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    with Image.open(source) as im:
        return np.asarray(im)


def save_crop(name: str, dest: Path, box=(0, 0, 48, 40)) -> np.ndarray:
    """A small lossless crop of a sample image, saved to ``dest``; returns its pixels."""
    with Image.open(SAMPLES / name) as im:
        crop = im.crop(box)
        crop.load()
    dest.parent.mkdir(parents=True, exist_ok=True)
    crop.save(dest)
    return decode(dest)


@pytest.fixture
def small_set(tmp_path) -> tuple[Path, dict[str, np.ndarray]]:
    """A folder of five small images (RGB, grey, odd sizes) as PNG files."""
    folder = tmp_path / "in"
    boxes = [(0, 0, 48, 40), (100, 60, 137, 91), (10, 20, 74, 53), (200, 150, 241, 199), (5, 5, 38, 30)]
    pixels = {}
    for i, name in enumerate(SAMPLE_NAMES):
        box = boxes[i % len(boxes)]
        out = folder / f"img{i}_{Path(name).stem}.png"
        pixels[out.name] = save_crop(name, out, box)
    return folder, pixels


@functools.cache
def icc_bytes() -> bytes:
    # Made once: lcms stamps each new profile with the time, so two made a second apart differ.
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def image_with_metadata(path: Path) -> bytes:
    """A small RGB image with an ICC profile, EXIF Make and 300 dpi; returns the ICC bytes."""
    icc = icc_bytes()
    exif = Image.Exif()
    exif[MAKE_TAG] = "ImgfilterTestCam"
    with Image.open(SAMPLES / "coffee.png") as im:
        crop = im.convert("RGB").crop((120, 80, 184, 128))
    crop.save(path, icc_profile=icc, exif=exif.tobytes(), dpi=(300, 300))
    return icc


def metadata_of(path: Path) -> tuple[bytes | None, str | None, tuple | None]:
    with Image.open(path) as im:
        return im.info.get("icc_profile"), im.getexif().get(MAKE_TAG), im.info.get("dpi")


# ----------------------------------------------------------------- chains: expected results

SHARPEN = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float)

# name -> (CLI tokens before INPUT OUTPUT, expected file pixels from the input's pixels)
CHAINS = {
    "gaussian+sobel-gray": (
        "gaussian --sigma 2 + sobel --gray".split(),
        lambda x: to_file(F.sobel(F.luminance(F.gaussian(x, 2.0)))),
    ),
    "sobel+blur(float-intermediate)": (
        "sobel + blur --size 5".split(),
        lambda x: to_file(F.blur(F.sobel(x), 5)),
    ),
    "median+shift+pool(3-filters,size-change)": (
        "median --size 5 + shift --dx 3 --dy -2 --mode edge + pool --size 3 --op avg".split(),
        lambda x: to_file(F.pool(F.shift(F.median(x, 5), 3, -2, mode="edge"), 3, op="avg")),
    ),
    "pool+edges+gaussian(scale-abs-last)": (
        "pool --size 2 + edges --direction laplacian + gaussian --sigma 1.5 --scale abs".split(),
        lambda x: to_file(F.gaussian(F.edges(F.pool(x, 2), "laplacian"), 1.5), "abs"),
    ),
    "conv+median+sobel-x(scale-offset-first)": (
        "conv --kernel sharpen --scale offset + median + sobel --output x".split(),
        lambda x: to_file(F.sobel(F.median(F.correlate(x, SHARPEN)), output="x"), "offset"),
    ),
    "edges+blur+pool+shift(4-filters)": (
        (
            "edges --direction sobel_y + blur --size 4 + pool --size 2,3 --op min"
            " + shift --dx 1.5 --mode reflect --scale stretch"
        ).split(),
        lambda x: to_file(
            F.shift(F.pool(F.blur(F.edges(x, "sobel_y"), 4), (2, 3), op="min"), 1.5, 0, mode="reflect"),
            "stretch",
        ),
    ),
}


def test_chain_expectations_depend_on_full_precision_intermediates(samples):
    """Sanity check of the tests themselves: rounding the float intermediate changes the result."""
    x = samples["astronaut.png"]
    full = CHAINS["sobel+blur(float-intermediate)"][1](x)
    rounded = to_file(F.blur(to_file(F.sobel(x)), 5))
    assert not np.array_equal(full, rounded)


@pytest.mark.parametrize("image", SAMPLE_NAMES)
@pytest.mark.parametrize("chain", list(CHAINS))
def test_chain_single_file_equals_composed_functions(tmp_path, samples, chain, image):
    tokens, expected = CHAINS[chain]
    out = tmp_path / "out.png"
    res = invoke(*tokens, SAMPLES / image, out)
    assert res.stdout == ""
    want = expected(samples[image])
    got = decode(out)
    assert got.dtype == np.uint8
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)


def test_chain_equals_separate_commands_when_intermediate_is_uint8(tmp_path):
    """gaussian returns uint8 for uint8 input, so two separate runs give the chain's result."""
    mid, two_runs, chained = tmp_path / "mid.png", tmp_path / "two.png", tmp_path / "chain.png"
    invoke("gaussian", "--sigma", "2", SAMPLES / "coffee.png", mid)
    invoke("sobel", "--gray", mid, two_runs)
    invoke("gaussian", "--sigma", "2", "+", "sobel", "--gray", SAMPLES / "coffee.png", chained)
    assert decode(chained).shape == (400, 600)
    np.testing.assert_array_equal(decode(chained), decode(two_runs))


@pytest.mark.parametrize("scale", ["clip", "offset"])
def test_chain_carries_alpha_through_every_step(tmp_path, samples, scale):
    """RGBA: each step gets the alpha flag; --scale applies to colour, alpha is only clipped."""
    rgb = samples["astronaut.png"][100:160, 200:272]
    yy, xx = np.mgrid[0 : rgb.shape[0], 0 : rgb.shape[1]]
    alpha = ((xx * 7 + yy * 3) % 256).astype(np.uint8)
    alpha[:10, :10] = 0
    rgba = np.dstack([rgb, alpha])
    src, out = tmp_path / "rgba.png", tmp_path / "out.png"
    Image.fromarray(rgba, "RGBA").save(src)
    invoke(
        "gaussian", "--sigma", "1.5", "+", "sobel", "--output", "y", "+", "pool", "--scale", scale, src, out
    )
    res = F.pool(F.sobel(F.gaussian(rgba, 1.5, alpha=True), output="y", alpha=True), 2)
    want = np.concatenate([to_file(res[..., :3], scale), to_file(res[..., 3:])], axis=-1)
    got = decode(out)
    assert got.shape == (30, 36, 4)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(
    ("chain", "image"),
    [
        ("gaussian+sobel-gray", "astronaut.png"),
        ("median+shift+pool(3-filters,size-change)", "camera.png"),
        ("sobel+blur(float-intermediate)", "rocket.jpg"),
    ],
)
def test_chain_through_real_pipe(samples, chain, image):
    tokens, expected = CHAINS[chain]
    proc = run_module(*tokens, "-", "-", input=(SAMPLES / image).read_bytes())
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stderr == b""
    assert proc.stdout.startswith(b"\x89PNG\r\n\x1a\n")
    np.testing.assert_array_equal(decode(proc.stdout), expected(samples[image]))


@pytest.mark.parametrize(
    "chain",
    ["gaussian+sobel-gray", "sobel+blur(float-intermediate)", "median+shift+pool(3-filters,size-change)"],
)
def test_chain_batch_out_dir(tmp_path, samples, chain):
    tokens, expected = CHAINS[chain]
    out_dir = tmp_path / "out"
    res = invoke(*tokens, *(SAMPLES / n for n in SAMPLE_NAMES), "--out-dir", out_dir, "--format", "png")
    assert stderr_lines(res.stderr) == [f"{len(SAMPLE_NAMES)} written, 0 skipped, 0 failed"]
    assert sorted(os.listdir(out_dir)) == sorted(Path(n).stem + ".png" for n in SAMPLE_NAMES)
    for name in SAMPLE_NAMES:
        np.testing.assert_array_equal(decode(out_dir / (Path(name).stem + ".png")), expected(samples[name]))


def test_chain_batch_with_jobs_in_subprocess(tmp_path, small_set):
    folder, pixels = small_set
    tokens, expected = CHAINS["median+shift+pool(3-filters,size-change)"]
    proc = run_module(*tokens, folder, "--out-dir", tmp_path / "out", "--jobs", "2")
    assert proc.returncode == 0, proc.stderr.decode()
    assert stderr_lines(proc.stderr) == [f"{len(pixels)} written, 0 skipped, 0 failed"]
    for name, x in pixels.items():
        np.testing.assert_array_equal(decode(tmp_path / "out" / name), expected(x))


def test_chain_shared_options_may_sit_in_any_segment(tmp_path, samples):
    """--out-dir in the first segment, --suffix in the second, inputs spread over both."""
    out_dir = tmp_path / "o"
    res = invoke(
        "sobel",
        "--out-dir",
        out_dir,
        SAMPLES / "camera.png",
        "+",
        "blur",
        "--size",
        "5",
        "--suffix",
        "_soft",
        SAMPLES / "coffee.png",
    )
    assert stderr_lines(res.stderr) == ["2 written, 0 skipped, 0 failed"]
    assert sorted(os.listdir(out_dir)) == ["camera_soft.png", "coffee_soft.png"]
    for name in ("camera", "coffee"):
        want = to_file(F.blur(F.sobel(samples[f"{name}.png"]), 5))
        np.testing.assert_array_equal(decode(out_dir / f"{name}_soft.png"), want)


def test_chain_same_shared_option_twice_is_fine(tmp_path, samples):
    out_dir = tmp_path / "o"
    invoke("blur", "-o", out_dir, "-q", "+", "median", "-o", out_dir, "-q", SAMPLES / "camera.png")
    np.testing.assert_array_equal(
        decode(out_dir / "camera.png"), F.median(F.blur(samples["camera.png"], 3), 3)
    )


@pytest.mark.parametrize(
    "args",
    [
        ["blur", "+", "+", "median", "a.png", "b.png"],
        ["blur", "+", "kernels", "a.png", "b.png"],
        ["blur", "+", "gallery", "a.png", "b.png"],
        ["blur", "+", "nosuchfilter", "a.png", "b.png"],
        ["blur", "{in}", "{out}", "+"],
        ["blur", "-o", "{d1}", "+", "median", "-o", "{d2}", "{in}"],
        ["blur", "--scale", "abs", "+", "sobel", "--scale", "offset", "{in}", "{out}"],
        ["blur", "--format", "png", "+", "median", "--format", "tif", "{in}", "-o", "{d1}"],
        ["blur", "+", "median", "--size", "4", "{in}", "{out}"],
        ["blur", "--size", "0", "+", "median", "{in}", "{out}"],
        ["sobel", "--output", "sideways", "+", "blur", "{in}", "{out}"],
    ],
    ids=[
        "double-plus",
        "kernels-in-chain",
        "gallery-in-chain",
        "unknown-command",
        "trailing-plus",
        "conflicting-out-dir",
        "conflicting-scale",
        "conflicting-format",
        "bad-option-in-second-segment",
        "bad-option-in-first-segment",
        "bad-choice",
    ],
)
def test_bad_chain_is_usage_error_and_writes_nothing(tmp_path, args):
    work = tmp_path / "work"
    work.mkdir()
    src = work / "x.png"
    shutil.copy(SAMPLES / "camera.png", src)
    before = snapshot(work)
    subst = {"{in}": src, "{out}": work / "out.png", "{d1}": work / "d1", "{d2}": work / "d2"}
    res = invoke(*(subst.get(a, a) for a in args), ok=False)
    assert res.exit_code == 2, res.output
    assert len(res.stderr.strip().splitlines()) == 1 and ": error: " in res.stderr, res.stderr
    assert "_chain" not in res.stderr
    assert snapshot(work) == before


# ----------------------------------------------------------------- batches: --jobs


def _expected_blur(x):
    return F.blur(x, 3)


@pytest.mark.parametrize("jobs", ["2", "0"])
def test_jobs_byte_identical_to_jobs_1(tmp_path, small_set, jobs):
    folder, pixels = small_set
    one, many = tmp_path / "one", tmp_path / "many"
    for out, j in ((one, "1"), (many, jobs)):
        proc = run_module("gaussian", "--sigma", "1.5", folder, "--out-dir", out, "--jobs", j)
        assert proc.returncode == 0, proc.stderr.decode()
        assert stderr_lines(proc.stderr) == [f"{len(pixels)} written, 0 skipped, 0 failed"]
    assert tree(one) == tree(many) == sorted(pixels)
    for name, x in pixels.items():
        assert (one / name).read_bytes() == (many / name).read_bytes(), name
        np.testing.assert_array_equal(decode(many / name), decode(one / name))
        np.testing.assert_array_equal(decode(many / name), F.gaussian(x, 1.5))


def test_jobs_with_a_bad_input_reports_it_once(tmp_path, small_set):
    folder, pixels = small_set
    (folder / "zz_broken.png").write_bytes(b"\x89PNG\r\n\x1a\ntruncated")
    proc = run_module("blur", folder, "--out-dir", tmp_path / "out", "--jobs", "3")
    assert proc.returncode == 1
    lines = stderr_lines(proc.stderr)
    assert lines[-1] == f"{len(pixels)} written, 0 skipped, 1 failed"
    assert len(lines) == 2 and "zz_broken.png" in lines[0]
    assert tree(tmp_path / "out") == sorted(pixels)
    for name, x in pixels.items():
        np.testing.assert_array_equal(decode(tmp_path / "out" / name), _expected_blur(x))


def test_jobs_with_threads_option_finishes(tmp_path, small_set):
    """--threads and --jobs together give the --jobs 1 files, and do not hang.

    The up-front option check runs every step of the chain once in the parent
    before the workers are forked; a long chain makes sure that check has
    used the parent's thread pool to the full.
    """
    folder, pixels = small_set
    chain = ["sobel", "+", "median", "+", "sobel", "+", "gaussian", "+", "sobel", "+", "median", "+", "sobel"]
    one = run_module(*chain, "--threads", "2", folder, "--out-dir", tmp_path / "one")
    assert one.returncode == 0, one.stderr.decode()
    try:
        proc = run_module(
            *chain, "--threads", "2", "--jobs", "2", folder, "--out-dir", tmp_path / "out", timeout=20
        )
    except subprocess.TimeoutExpired:
        pytest.fail("imgfilter CHAIN --threads 2 --jobs 2 hung (no result after 20 s)")
    assert proc.returncode == 0, proc.stderr.decode()
    assert tree(tmp_path / "out") == sorted(pixels)
    for name in pixels:
        assert (tmp_path / "out" / name).read_bytes() == (tmp_path / "one" / name).read_bytes()


# ----------------------------------------------------------------- batches: inputs


@pytest.fixture
def nested(tmp_path) -> tuple[Path, dict[str, np.ndarray]]:
    """A folder tree with images at three levels and files that are not images."""
    root = tmp_path / "photos"
    layout = {
        "top.png": ("astronaut.png", (0, 0, 40, 32)),
        "b.jpg": ("rocket.jpg", (0, 0, 48, 48)),
        "sub/mid.png": ("camera.png", (30, 30, 70, 66)),
        "sub/deeper/low.png": ("coffee.png", (50, 50, 83, 77)),
        "other/x.png": ("chelsea.png", (10, 10, 42, 50)),
    }
    pixels = {}
    for rel, (name, box) in layout.items():
        pixels[rel] = save_crop(name, root / rel, box)
    (root / "notes.txt").write_text("not an image")
    (root / "README").write_text("no extension")
    (root / "sub" / "data.csv").write_text("1,2,3\n")
    (root / "sub" / "deeper" / "script.py").write_text("print('hi')\n")
    return root, pixels


def test_folder_without_recursive_takes_top_level_images_only(tmp_path, nested):
    root, pixels = nested
    out = tmp_path / "out"
    res = invoke("median", root, "--out-dir", out)
    assert stderr_lines(res.stderr) == ["2 written, 0 skipped, 0 failed"]
    assert tree(out) == ["b.jpg", "top.png"]
    np.testing.assert_array_equal(decode(out / "top.png"), F.median(pixels["top.png"]))


def test_recursive_keeps_relative_layout(tmp_path, nested):
    root, pixels = nested
    out = tmp_path / "out"
    res = invoke("median", "-r", root, "--out-dir", out, "--format", "png")
    assert stderr_lines(res.stderr) == [f"{len(pixels)} written, 0 skipped, 0 failed"]
    want = sorted(str(Path(rel).with_suffix(".png")) for rel in pixels)
    assert tree(out) == want
    for rel, x in pixels.items():
        np.testing.assert_array_equal(decode(out / Path(rel).with_suffix(".png")), F.median(x))


def test_recursive_long_option_and_chain(tmp_path, nested):
    root, pixels = nested
    out = tmp_path / "out"
    invoke("blur", "+", "sobel", "--gray", "--recursive", root, "--out-dir", out, "--format", "png")
    assert tree(out) == sorted(str(Path(rel).with_suffix(".png")) for rel in pixels)
    for rel, x in pixels.items():
        want = to_file(F.sobel(F.luminance(F.blur(x, 3))))
        np.testing.assert_array_equal(decode(out / Path(rel).with_suffix(".png")), want)


def test_files_from_file(tmp_path, nested):
    root, pixels = nested
    listing = tmp_path / "list.txt"
    listing.write_text(f"{root / 'sub' / 'mid.png'}\n\n{root / 'other' / 'x.png'}\n")
    out = tmp_path / "out"
    res = invoke("blur", "--files-from", listing, "--out-dir", out)
    assert stderr_lines(res.stderr) == ["2 written, 0 skipped, 0 failed"]
    assert tree(out) == ["mid.png", "x.png"]
    np.testing.assert_array_equal(decode(out / "mid.png"), F.blur(pixels["sub/mid.png"]))
    np.testing.assert_array_equal(decode(out / "x.png"), F.blur(pixels["other/x.png"]))


def test_files_from_missing_list_is_usage_error(tmp_path):
    res = invoke("blur", "--files-from", tmp_path / "absent.txt", "--out-dir", tmp_path / "o", ok=False)
    assert res.exit_code == 2
    assert not (tmp_path / "o").exists() or tree(tmp_path / "o") == []


@pytest.mark.skipif(shutil.which("find") is None, reason="needs the find utility")
def test_files_from_stdin_piped_from_find(tmp_path, nested):
    root, pixels = nested
    out = tmp_path / "out"
    find = subprocess.Popen(["find", str(root), "-name", "*.png"], stdout=subprocess.PIPE)
    try:
        proc = run_module("median", "--files-from", "-", "--out-dir", out, stdin=find.stdout)
    finally:
        find.stdout.close()
        find.wait()
    assert proc.returncode == 0, proc.stderr.decode()
    pngs = {Path(rel).name: x for rel, x in pixels.items() if rel.endswith(".png")}
    assert stderr_lines(proc.stderr) == [f"{len(pngs)} written, 0 skipped, 0 failed"]
    assert tree(out) == sorted(pngs)
    for name, x in pngs.items():
        np.testing.assert_array_equal(decode(out / name), F.median(x))


def test_files_from_stdin_with_paths_too(tmp_path, samples):
    out = tmp_path / "out"
    listing = f"{SAMPLES / 'camera.png'}\n{SAMPLES / 'coffee.png'}\n".encode()
    proc = run_module("pool", SAMPLES / "chelsea.png", "--files-from", "-", "-o", out, input=listing)
    assert proc.returncode == 0, proc.stderr.decode()
    assert tree(out) == ["camera.png", "chelsea.png", "coffee.png"]
    for name in tree(out):
        np.testing.assert_array_equal(decode(out / name), F.pool(samples[name], 2))


# ----------------------------------------------------------------- batches: output names


@pytest.mark.parametrize(("fmt", "ext", "pil_format"), [("jpg", ".jpg", "JPEG"), ("png", ".png", "PNG"),
                                                        ("tif", ".tif", "TIFF")])  # fmt: skip
def test_suffix_and_format_name_outputs(tmp_path, small_set, fmt, ext, pil_format):
    folder, pixels = small_set
    out = tmp_path / "out"
    invoke("edges", "--scale", "abs", folder, "--out-dir", out, "--suffix", "_edges", "--format", fmt)
    assert tree(out) == sorted(Path(n).stem + "_edges" + ext for n in pixels)
    for name, x in pixels.items():
        path = out / (Path(name).stem + "_edges" + ext)
        with Image.open(path) as im:
            assert im.format == pil_format
        if fmt != "jpg":
            np.testing.assert_array_equal(decode(path), to_file(F.edges(x), "abs"))


def test_suffix_alone_keeps_extension(tmp_path, samples):
    out = tmp_path / "out"
    invoke("blur", SAMPLES / "camera.png", SAMPLES / "rocket.jpg", "-o", out, "--suffix", "_soft")
    assert tree(out) == ["camera_soft.png", "rocket_soft.jpg"]
    with Image.open(out / "rocket_soft.jpg") as im:
        assert im.format == "JPEG"
    np.testing.assert_array_equal(decode(out / "camera_soft.png"), F.blur(samples["camera.png"]))


# ----------------------------------------------------------------- batches: existing outputs


def test_existing_outputs_are_replaced_by_default(tmp_path, small_set):
    folder, pixels = small_set
    out = tmp_path / "out"
    out.mkdir()
    first = sorted(pixels)[0]
    (out / first).write_bytes(b"old contents")
    res = invoke("blur", folder, "--out-dir", out)
    assert stderr_lines(res.stderr) == [f"{len(pixels)} written, 0 skipped, 0 failed"]
    np.testing.assert_array_equal(decode(out / first), _expected_blur(pixels[first]))
    assert tree(out) == sorted(pixels)  # no temporary files left


def test_skip_existing_leaves_outputs_untouched(tmp_path, small_set):
    folder, pixels = small_set
    out = tmp_path / "out"
    out.mkdir()
    names = sorted(pixels)
    for name in names[:2]:
        (out / name).write_bytes(b"keep me " + name.encode())
        os.utime(out / name, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    before = snapshot(out)
    res = invoke("blur", folder, "--out-dir", out, "--skip-existing")
    assert stderr_lines(res.stderr) == [f"{len(names) - 2} written, 2 skipped, 0 failed"]
    after = snapshot(out)
    for name in names[:2]:
        assert after[name] == before[name]
    for name in names[2:]:
        np.testing.assert_array_equal(decode(out / name), _expected_blur(pixels[name]))
    # A second run skips everything.
    res = invoke("blur", folder, "--out-dir", out, "--skip-existing")
    assert stderr_lines(res.stderr) == [f"0 written, {len(names)} skipped, 0 failed"]
    assert snapshot(out) == after


# ----------------------------------------------------------------- batches: reporting


def test_summary_line_is_exact_and_no_progress_bar(tmp_path, small_set):
    folder, pixels = small_set
    res = invoke("sobel", folder, "--out-dir", tmp_path / "a")
    assert res.stdout == ""
    assert res.stderr == f"{len(pixels)} written, 0 skipped, 0 failed\n"
    proc = run_module("sobel", folder, "--out-dir", tmp_path / "b")
    assert proc.returncode == 0
    assert proc.stdout == b""
    assert proc.stderr.decode() == f"{len(pixels)} written, 0 skipped, 0 failed\n"
    proc = run_module("sobel", folder, "--out-dir", tmp_path / "c", "--jobs", "2")
    assert proc.stderr.decode() == f"{len(pixels)} written, 0 skipped, 0 failed\n"


def test_bad_input_reported_on_one_line_others_written(tmp_path, small_set):
    folder, pixels = small_set
    bad = tmp_path / "fake.png"
    bad.write_text("this is text, not a PNG")
    out = tmp_path / "out"
    res = invoke("median", folder, bad, "--out-dir", out, ok=False)
    assert res.exit_code == 1
    lines = stderr_lines(res.stderr)
    assert lines == [lines[0], f"{len(pixels)} written, 0 skipped, 1 failed"]
    assert "fake.png" in lines[0]
    assert tree(out) == sorted(pixels)
    for name, x in pixels.items():
        np.testing.assert_array_equal(decode(out / name), F.median(x))


def test_quiet_prints_nothing_but_errors(tmp_path, small_set):
    folder, _ = small_set
    res = invoke("median", "--quiet", folder, "--out-dir", tmp_path / "a")
    assert res.stdout == "" and res.stderr == ""
    proc = run_module("median", "-q", folder, "--out-dir", tmp_path / "b", "--jobs", "2")
    assert proc.returncode == 0 and proc.stdout == b"" and proc.stderr == b""
    res = invoke("median", "-q", folder, tmp_path / "missing.png", "--out-dir", tmp_path / "c", ok=False)
    assert res.exit_code == 1
    lines = stderr_lines(res.stderr)
    assert len(lines) == 1 and "missing.png" in lines[0]
    assert "written" not in res.stderr


# ----------------------------------------------------------------- batches: never over their inputs


@pytest.mark.parametrize("spelling", ["same", "trailing-slash", "absolute", "dot-dot", "symlink"])
def test_out_dir_equal_to_input_folder_is_usage_error(tmp_path, small_set, spelling):
    folder, _ = small_set
    out = {
        "same": str(folder),
        "trailing-slash": str(folder) + os.sep,
        "absolute": str(folder.resolve()),
        "dot-dot": str(folder / ".." / folder.name),
        "symlink": str(tmp_path / "link"),
    }[spelling]
    if spelling == "symlink":
        os.symlink(folder, tmp_path / "link", target_is_directory=True)
    before = snapshot(folder)
    res = invoke("blur", folder, "--out-dir", out, ok=False)
    assert res.exit_code == 2
    assert snapshot(folder) == before


def test_out_dir_equal_to_input_folder_mixed_names_writes_nothing(tmp_path):
    """One input would collide (a.png), another would not (b.jpg -> b.png): still nothing at all."""
    folder = tmp_path / "in"
    save_crop("camera.png", folder / "a.png")
    save_crop("rocket.jpg", folder / "b.jpg")
    before = snapshot(folder)
    res = invoke("blur", folder, "--out-dir", folder, "--format", "png", ok=False)
    assert res.exit_code == 2
    assert snapshot(folder) == before


def test_files_given_one_by_one_into_their_own_folder_is_usage_error(tmp_path, small_set):
    folder, pixels = small_set
    before = snapshot(folder)
    res = invoke("blur", *(folder / n for n in sorted(pixels)), "-o", folder, ok=False)
    assert res.exit_code == 2
    assert snapshot(folder) == before


def test_out_dir_equal_to_input_folder_with_suffix_works(tmp_path, small_set):
    folder, pixels = small_set
    before = snapshot(folder)
    res = invoke("blur", folder, "--out-dir", folder, "--suffix", "_b")
    assert stderr_lines(res.stderr) == [f"{len(pixels)} written, 0 skipped, 0 failed"]
    after = snapshot(folder)
    for name in before:
        assert after[name] == before[name]
    assert sorted(after) == sorted([*pixels, *(Path(n).stem + "_b.png" for n in pixels)])
    for name, x in pixels.items():
        np.testing.assert_array_equal(decode(folder / (Path(name).stem + "_b.png")), _expected_blur(x))


def test_in_place_replaces_inputs(tmp_path, nested):
    root, pixels = nested
    res = invoke("median", "--in-place", "-r", root)
    assert stderr_lines(res.stderr) == [f"{len(pixels)} written, 0 skipped, 0 failed"]
    # Same files as before: no outputs elsewhere, no temporary files.
    assert tree(root) == sorted([*pixels, "README", "notes.txt", "sub/data.csv", "sub/deeper/script.py"])
    for rel, x in pixels.items():
        if rel.endswith(".png"):
            np.testing.assert_array_equal(decode(root / rel), F.median(x))
        else:
            with Image.open(root / rel) as im:
                assert im.format == "JPEG"


def test_in_place_with_suffix_writes_next_to_inputs(tmp_path, nested):
    root, pixels = nested
    before = snapshot(root)
    res = invoke("median", "--in-place", "--suffix", "_m", "-r", root, "--format", "png")
    assert stderr_lines(res.stderr) == [f"{len(pixels)} written, 0 skipped, 0 failed"]
    after = snapshot(root)
    for rel in before:
        assert after[rel] == before[rel]
    new = sorted(set(after) - set(before))
    assert new == sorted(str(Path(rel).with_name(Path(rel).stem + "_m.png")) for rel in pixels)
    for rel, x in pixels.items():
        np.testing.assert_array_equal(
            decode(root / Path(rel).with_name(Path(rel).stem + "_m.png")), F.median(x)
        )


@pytest.mark.parametrize(
    "args",
    [
        ["-", "--out-dir", "{o}"],
        ["{in}", "-", "--out-dir", "{o}"],
        ["-", "--in-place"],
    ],
    ids=["stdin-out-dir", "stdin-among-files", "stdin-in-place"],
)
def test_dash_refused_in_a_batch(tmp_path, args):
    src = tmp_path / "x.png"
    shutil.copy(SAMPLES / "camera.png", src)
    subst = {"{in}": src, "{o}": tmp_path / "o"}
    res = invoke("blur", *(subst.get(a, a) for a in args), input=src.read_bytes(), ok=False)
    assert res.exit_code == 2
    assert res.stdout == ""
    assert tree(tmp_path) == ["x.png"]
    assert src.read_bytes() == (SAMPLES / "camera.png").read_bytes()


def test_dash_in_files_from_list_refused(tmp_path):
    listing = tmp_path / "list.txt"
    listing.write_text(f"{SAMPLES / 'camera.png'}\n-\n")
    res = invoke("blur", "--files-from", listing, "--out-dir", tmp_path / "o", ok=False)
    assert res.exit_code == 2
    assert not (tmp_path / "o").exists() or tree(tmp_path / "o") == []


# ----------------------------------------------------------------- metadata


@pytest.mark.parametrize("src_ext", ["jpg", "png"])
@pytest.mark.parametrize("out_ext", ["jpg", "png", "tif"])
def test_metadata_kept_by_default(tmp_path, src_ext, out_ext):
    src = tmp_path / f"meta.{src_ext}"
    icc = image_with_metadata(src)
    assert metadata_of(src)[1] == "ImgfilterTestCam"  # the test image really has it
    out = tmp_path / f"out.{out_ext}"
    invoke("blur", src, out)
    got_icc, make, dpi = metadata_of(out)
    assert got_icc == icc
    assert make == "ImgfilterTestCam"
    assert dpi is not None and dpi == pytest.approx((300, 300), abs=0.01)


@pytest.mark.parametrize("src_ext", ["jpg", "png"])
@pytest.mark.parametrize("out_ext", ["jpg", "png"])
def test_strip_drops_exif_keeps_icc(tmp_path, src_ext, out_ext):
    src = tmp_path / f"meta.{src_ext}"
    icc = image_with_metadata(src)
    out = tmp_path / f"out.{out_ext}"
    invoke("median", "--strip", src, out)
    got_icc, make, _ = metadata_of(out)
    assert got_icc == icc
    assert make is None
    with Image.open(out) as im:
        assert "exif" not in im.info
        assert len(im.getexif()) == 0


@pytest.mark.parametrize("src_ext", ["jpg", "png"])
@pytest.mark.parametrize("out_ext", ["jpg", "png"])
def test_strip_icc_drops_profile_too(tmp_path, src_ext, out_ext):
    src = tmp_path / f"meta.{src_ext}"
    image_with_metadata(src)
    out = tmp_path / f"out.{out_ext}"
    invoke("median", "--strip-icc", src, out)
    got_icc, make, _ = metadata_of(out)
    assert got_icc is None
    assert make is None


def test_metadata_kept_through_chain_batch_and_jobs(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    icc = image_with_metadata(folder / "a.jpg")
    image_with_metadata(folder / "b.png")
    out1, out2 = tmp_path / "o1", tmp_path / "o2"
    invoke("gaussian", "+", "median", folder, "--out-dir", out1)
    proc = run_module("gaussian", "+", "median", folder, "--out-dir", out2, "--jobs", "2")
    assert proc.returncode == 0, proc.stderr.decode()
    for out in (out1, out2):
        assert tree(out) == ["a.jpg", "b.png"]
        for name in ("a.jpg", "b.png"):
            got_icc, make, dpi = metadata_of(out / name)
            assert got_icc == icc and make == "ImgfilterTestCam"
            assert dpi == pytest.approx((300, 300), abs=0.01)
    proc = run_module("gaussian", "+", "median", "--strip", folder, "--out-dir", tmp_path / "o3", "-j", "2")
    assert proc.returncode == 0, proc.stderr.decode()
    for name in ("a.jpg", "b.png"):
        got_icc, make, _ = metadata_of(tmp_path / "o3" / name)
        assert got_icc == icc and make is None


def test_metadata_kept_through_pipe(tmp_path):
    src = tmp_path / "meta.png"
    icc = image_with_metadata(src)
    proc = run_module("blur", "-", "-", input=src.read_bytes())
    assert proc.returncode == 0, proc.stderr.decode()
    (tmp_path / "piped.png").write_bytes(proc.stdout)
    got_icc, make, dpi = metadata_of(tmp_path / "piped.png")
    assert got_icc == icc and make == "ImgfilterTestCam"
    assert dpi == pytest.approx((300, 300), abs=0.01)


# ----------------------------------------------------------------- Python ergonomics


@pytest.mark.parametrize(
    ("ext", "array"),
    [
        ("png", np.random.default_rng(1).integers(0, 256, (23, 31, 3), dtype=np.uint8)),
        ("png", np.random.default_rng(2).integers(0, 256, (23, 31), dtype=np.uint8)),
        ("png", np.random.default_rng(3).integers(0, 256, (23, 31, 4), dtype=np.uint8)),
        ("png", np.random.default_rng(4).integers(0, 256, (23, 31, 2), dtype=np.uint8)),
        ("png", np.random.default_rng(5).integers(0, 65536, (23, 31), dtype=np.uint16)),
        ("png", np.random.default_rng(6).integers(0, 65536, (23, 31, 3), dtype=np.uint16)),
        ("tif", np.random.default_rng(7).integers(0, 65536, (23, 31, 4), dtype=np.uint16)),
        ("tif", np.random.default_rng(8).random((23, 31), dtype=np.float32)),
        ("bmp", np.random.default_rng(9).integers(0, 256, (23, 31, 3), dtype=np.uint8)),
        ("npy", np.random.default_rng(10).random((23, 31, 3))),
    ],
    ids=["rgb8", "grey8", "rgba8", "la8", "grey16", "rgb16", "rgba16-tif", "float-tif", "bmp", "npy"],
)
def test_imread_imwrite_round_trip(tmp_path, ext, array):
    path = tmp_path / f"img.{ext}"
    F.imwrite(path, array)
    back = F.imread(path)
    assert back.dtype == array.dtype
    np.testing.assert_array_equal(back, array)
    F.imwrite(str(path), array)  # str paths too
    np.testing.assert_array_equal(F.imread(str(path)), array)


def test_imread_matches_pillow_on_samples(samples):
    for name in SAMPLE_NAMES:
        with Image.open(SAMPLES / name) as im:
            np.testing.assert_array_equal(F.imread(SAMPLES / name), np.asarray(im))
        np.testing.assert_array_equal(F.imread(SAMPLES / name), samples[name])


# Each takes the alpha= that the CLI would pass for the file's mode; the
# functions without alpha= (they treat every channel alike) take none.
FUNCTIONS = {
    "gaussian": lambda x, **kw: F.gaussian(x, 1.5, **kw),
    "sobel": lambda x, **kw: F.sobel(x, **kw),
    "luminance": lambda x, **kw: F.luminance(x, **kw),
    "median": lambda x, **kw: F.median(x, 3, **kw),
    "shift": lambda x, **kw: F.shift(x, 2, -1, **kw),
    "blur": lambda x, **kw: F.blur(x, 3, **kw),
    "pool": lambda x, **kw: F.pool(x, 2),
    "edges": lambda x, **kw: F.edges(x, "laplacian", **kw),
    "correlate": lambda x, **kw: F.correlate(x, [[0, 1], [2, 3]]),
    "convolve": lambda x, **kw: F.convolve(x, [[0, 1], [2, 3]]),
    "bilateral": lambda x, **kw: F.bilateral(x, 5, 30.0, 3.0, **kw),
}


def _base_rgb() -> Image.Image:
    with Image.open(SAMPLES / "chelsea.png") as im:
        return im.convert("RGB").crop((60, 40, 101, 71))


@pytest.mark.parametrize("fn", list(FUNCTIONS))
def test_palette_image_equals_rgb_array(fn):
    pal = _base_rgb().quantize(48)
    assert pal.mode == "P"
    rgb = np.asarray(pal.convert("RGB"))
    got = FUNCTIONS[fn](pal)
    assert isinstance(got, np.ndarray)
    want = FUNCTIONS[fn](rgb)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("fn", list(FUNCTIONS))
def test_palette_with_transparency_equals_rgba_array(fn):
    pal = _base_rgb().quantize(48)
    pal.info["transparency"] = 5
    rgba = np.asarray(pal.convert("RGBA"))
    assert rgba.shape[2] == 4 and (rgba[..., 3] == 0).any()
    got = FUNCTIONS[fn](pal)
    assert isinstance(got, np.ndarray)
    np.testing.assert_array_equal(got, FUNCTIONS[fn](rgba, alpha=True))


@pytest.mark.parametrize("fn", list(FUNCTIONS))
def test_i16_image_keeps_uint16(fn):
    arr = np.random.default_rng(3).integers(0, 65536, (29, 37), dtype=np.uint16)
    im = Image.fromarray(arr)
    assert im.mode == "I;16"
    got = FUNCTIONS[fn](im)
    assert isinstance(got, np.ndarray)
    want = FUNCTIONS[fn](arr)
    assert got.dtype == want.dtype
    if fn in ("gaussian", "median", "shift", "blur", "pool", "bilateral", "luminance"):
        assert got.dtype == np.uint16
    np.testing.assert_array_equal(got, want)


def _mode_images() -> dict[str, tuple[Image.Image, str]]:
    base = _base_rgb()
    rng = np.random.default_rng(11)
    rgba = Image.fromarray(
        np.dstack([np.asarray(base), rng.integers(0, 256, base.size[::-1], dtype=np.uint8)])
    )
    return {
        "L": (base.convert("L"), "png"),
        "LA": (base.convert("LA"), "png"),
        "RGB": (base, "png"),
        "RGBA": (rgba, "png"),
        "1": (base.convert("1"), "png"),
        "I": (Image.fromarray(rng.integers(0, 65536, base.size[::-1]).astype(np.int32)), "tif"),
        "F": (Image.fromarray(rng.random(base.size[::-1], dtype=np.float32)), "tif"),
        "CMYK": (base.convert("CMYK"), "tif"),
    }


@pytest.mark.parametrize("mode", list(_mode_images()))
@pytest.mark.parametrize("fn", ["median", "sobel", "blur", "pool"])
def test_pil_image_read_as_the_cli_reads_its_file(tmp_path, mode, fn):
    im, ext = _mode_images()[mode]
    assert im.mode == mode
    path = tmp_path / f"m.{ext}"
    im.save(path)
    got = FUNCTIONS[fn](im)
    want = FUNCTIONS[fn](F.imread(path), alpha=mode in ("LA", "RGBA"))
    assert isinstance(got, np.ndarray)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


def test_pil_image_from_file_matches_cli(tmp_path, samples):
    for name in ("astronaut.png", "camera.png", "rocket.jpg"):
        with Image.open(SAMPLES / name) as im:
            got = F.sobel(im)
        out = tmp_path / f"{Path(name).stem}.png"
        invoke("sobel", SAMPLES / name, out)
        np.testing.assert_array_equal(to_file(got), decode(out))


def test_package_ships_py_typed():
    marker = importlib.resources.files("imgfilter") / "py.typed"
    assert marker.is_file()


# ----------------------------------------------------------------- gallery


def _tile_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as im:
        w, h = im.size
    scale = min(1.0, 256 / w, 256 / h)
    return round(w * scale), round(h * scale)


def _check_sheet(path: Path, tile: tuple[int, int]) -> None:
    with Image.open(path) as sheet:
        assert sheet.format == "PNG"
        assert sheet.mode == "RGB"
        assert sheet.width > tile[0] and sheet.height > tile[1]
        pixels = np.asarray(sheet)
    assert pixels.std() > 10  # tiles, not a blank canvas


@pytest.mark.parametrize("image", SAMPLE_NAMES)
def test_gallery_on_every_sample(tmp_path, image):
    out = tmp_path / "sheet.png"
    res = invoke("gallery", SAMPLES / image, "-o", out)
    assert res.stdout == ""
    _check_sheet(out, _tile_size(SAMPLES / image))


def test_gallery_without_image_uses_bundled_sample(tmp_path):
    out = tmp_path / "sheet.png"
    invoke("gallery", "-o", out)
    _check_sheet(out, (256, 256))


def test_gallery_default_output_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    invoke("gallery", SAMPLES / "camera.png")
    _check_sheet(tmp_path / "gallery.png", _tile_size(SAMPLES / "camera.png"))


def test_gallery_missing_image_is_one_line_error(tmp_path):
    out = tmp_path / "sheet.png"
    res = invoke("gallery", tmp_path / "nope.png", "-o", out, ok=False)
    assert res.exit_code == 1
    lines = stderr_lines(res.stderr)
    assert len(lines) == 1 and "nope.png" in lines[0]
    assert not out.exists()
    assert tree(tmp_path) == []


# ----------------------------------------------------------------- kernels


def test_kernels_lists_every_name():
    res = invoke("kernels")
    listed = [line.split(":", 1)[0] for line in res.stdout.splitlines() if line and not line[0].isspace()]
    assert sorted(listed) == sorted(KERNELS)
    assert len(listed) == len(set(listed))


@pytest.mark.parametrize("name", list(KERNELS))
def test_conv_named_kernel_equals_correlate(tmp_path, name):
    src = tmp_path / "in.png"
    x = save_crop("astronaut.png", src, (180, 100, 244, 148))
    out = tmp_path / "out.png"
    invoke("conv", "--kernel", name, src, out)
    np.testing.assert_array_equal(decode(out), to_file(F.correlate(x, KERNELS[name])))
    np.testing.assert_array_equal(decode(out), to_file(F.correlate(x, F.get_kernel(name))))
