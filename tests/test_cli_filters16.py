"""The CLI commands of issue 16: each equals its Python function through the float-to-file rule."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from clitools import invoke, stderr_lines
from PIL import Image

import imgfilter as F
import imgfilter.footprints as footprints
from imgfilter.cli import main

COMMANDS16 = (
    "unsharp",
    "local-std",
    "local-var",
    "local-range",
    "guided",
    "canny",
    "log",
    "dog",
    "gradient",
    "rank",
    "percentile",
    "minimum",
    "maximum",
    "morph",
    "erode",
    "dilate",
)


def file_rule(values, scale="clip", top=255):
    """The float-to-file rule for an 8-bit file, written out independently of imgfilter.io."""
    v = np.asarray(values, dtype=np.float64)
    if scale == "abs":
        v = np.abs(v)
    elif scale == "offset":
        v = v + (top + 1) / 2
    elif scale == "stretch":
        lo, hi = float(v.min()), float(v.max())
        v = (v - lo) * (top / (hi - lo))
    return np.clip(np.rint(v), 0, top).astype(np.uint8)


def luma(rgb):
    return F.luminance(rgb[..., :3])


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """A small RGB and a small grey photo crop, as files and arrays (odd sizes)."""
    root = Path(__file__).resolve().parent.parent / "sample_images"
    folder = tmp_path_factory.mktemp("img16")
    out = {}
    for name, src, box in [
        ("rgb", "astronaut.png", (100, 60, 161, 107)),
        ("grey", "camera.png", (200, 40, 251, 83)),
    ]:
        arr = np.asarray(Image.open(root / src).crop(box))
        path = folder / f"{name}.png"
        Image.fromarray(arr).save(path)
        out[name] = (path, arr)
    return out


DISK2 = np.array(
    [[0, 0, 1, 0, 0], [0, 1, 1, 1, 0], [1, 1, 1, 1, 1], [0, 1, 1, 1, 0], [0, 0, 1, 0, 0]], dtype=bool
)  # x² + y² <= 4, written out
RECT23 = np.ones((2, 3), dtype=bool)


def per_channel(fn):
    """The colour channels one at a time (local statistics: every channel is data)."""

    def run(x):
        if x.ndim == 2:
            return fn(x)
        return np.stack([fn(x[..., c]) for c in range(x.shape[2])], axis=-1)

    return run


# (CLI args, expected 8-bit file from the array, images to try)
CASES = {
    "unsharp": (["unsharp"], lambda x: F.unsharp(x)),
    "unsharp-opts": (
        "unsharp --sigma 2 --amount 1.5 --threshold 4 --mode symmetric".split(),
        lambda x: F.unsharp(x, sigma=2.0, amount=1.5, threshold=4.0, mode="symmetric"),
    ),
    "unsharp-linear": (["unsharp", "--linear"], lambda x: F.unsharp(x, linear=True)),
    "local-std": (["local-std"], lambda x: file_rule(per_channel(lambda c: F.local_std(c, 3))(x))),
    "local-std-stretch": (
        "local-std --size 5,3 --scale stretch".split(),
        lambda x: file_rule(F.local_std(x, (5, 3)), "stretch"),
    ),
    "local-var-disk": (
        "local-var --footprint disk:2 --mode edge --scale stretch".split(),
        lambda x: file_rule(F.local_var(x, footprint=DISK2, mode="edge"), "stretch"),
    ),
    "local-range": (["local-range"], lambda x: file_rule(F.local_range(x, 3))),
    "local-range-rect": (
        "local-range --footprint rectangle:2x3".split(),
        lambda x: file_rule(F.local_range(x, footprint=RECT23)),
    ),
    "guided": (["guided"], lambda x: file_rule(F.guided(x))),
    "guided-opts": (
        "guided --radius 3 --eps 100 --mode symmetric".split(),
        lambda x: file_rule(F.guided(x, radius=3, eps=100.0, mode="symmetric")),
    ),
    # A colour image's luminance is float in 0..255: the defaults stay 0.1 and 0.2 of 255.
    "canny": (
        ["canny"],
        lambda x: F.canny(luma(x) if x.ndim == 3 else x, low=25.5, high=51.0).astype(np.uint8) * 255,
    ),
    "canny-opts": (
        "canny --sigma 2 --low 10 --high 30 --l1".split(),
        lambda x: (
            F.canny(luma(x) if x.ndim == 3 else x, sigma=2.0, low=10.0, high=30.0, l2=False).astype(np.uint8)
            * 255
        ),
    ),
    "canny-quantiles": (
        "canny --quantiles --low 0.7 --high 0.9".split(),
        lambda x: (
            F.canny(luma(x) if x.ndim == 3 else x, low=0.7, high=0.9, use_quantiles=True).astype(np.uint8)
            * 255
        ),
    ),
    "log-offset": (
        "log --sigma 2 --scale offset".split(),
        lambda x: file_rule(F.gaussian_laplace(x, 2.0), "offset"),
    ),
    "log-abs-wrap": (
        "log --sigma 1,2 --mode wrap --scale abs".split(),
        lambda x: file_rule(F.gaussian_laplace(x, (1.0, 2.0), mode="wrap"), "abs"),
    ),
    "dog": (["dog", "--scale", "offset"], lambda x: file_rule(F.difference_of_gaussians(x, 1.0), "offset")),
    "dog-high": (
        "dog --low-sigma 1 --high-sigma 3 --scale abs".split(),
        lambda x: file_rule(F.difference_of_gaussians(x, 1.0, 3.0), "abs"),
    ),
    "gradient": (["gradient"], lambda x: file_rule(F.gradient(x))),
    "gradient-scharr-x": (
        "gradient --operator scharr --output x --scale offset".split(),
        lambda x: file_rule(F.gradient(x, operator="scharr", output="x"), "offset"),
    ),
    "gradient-farid-angle": (
        "gradient --operator farid --output angle --scale stretch".split(),
        lambda x: file_rule(F.gradient(x, operator="farid", output="angle"), "stretch"),
    ),
    "gradient-prewitt-y": (
        "gradient --operator prewitt --output y --scale abs --mode edge".split(),
        lambda x: file_rule(F.gradient(x, operator="prewitt", output="y", mode="edge"), "abs"),
    ),
    "shift-cubic": (
        "shift --dx 2.25 --dy -1.5 --interpolation cubic --mode edge".split(),
        lambda x: F.shift(x, 2.25, -1.5, mode="edge", interpolation="cubic"),
    ),
    "conv-normalize": (
        ["conv", "--kernel", "1 2 1;2 4 2;1 2 1", "--normalize"],
        lambda x: file_rule(F.correlate(x, np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16.0)),
    ),
}

RANK_CASES = {
    "rank": (
        "rank --rank 2".split(),
        lambda x: F.rank_filter(x, 2, size=3),
    ),
    "rank-negative-disk": (
        "rank --rank -2 --footprint disk:2 --mode edge".split(),
        lambda x: F.rank_filter(x, -2, footprint=DISK2, mode="edge"),
    ),
    "percentile": (
        "percentile --q 25 --size 5,3".split(),
        lambda x: F.percentile(x, 25.0, size=(5, 3)),
    ),
    "minimum": (["minimum"], lambda x: F.minimum(x, size=3)),
    "maximum-rect": (
        "maximum --footprint rectangle:2x3".split(),
        lambda x: F.maximum(x, footprint=RECT23),
    ),
    "erode": (["erode"], lambda x: F.erode(x, size=3)),
    "erode-iter": (
        "erode --footprint diamond:1 --iterations 2".split(),
        lambda x: F.erode(x, footprint=np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], bool), iterations=2),
    ),
    "dilate": (
        "dilate --footprint square:5".split(),
        lambda x: F.dilate(x, footprint=np.ones((5, 5), bool)),
    ),
    "morph-open": (
        "morph --op open --footprint disk:2".split(),
        lambda x: F.opening(x, footprint=DISK2),
    ),
    "morph-close": (["morph", "--op", "close"], lambda x: F.closing(x, size=3)),
    "morph-gradient": (
        "morph --op gradient --footprint cross:1".split(),
        lambda x: F.morph_gradient(x, footprint=np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], bool)),
    ),
    "morph-tophat": (
        "morph --op tophat --footprint ellipse:5x7".split(),
        lambda x: F.tophat(x, footprint=footprints.ellipse(5, 7)),
    ),
    "morph-blackhat": (
        "morph --op blackhat --size 3,5".split(),
        lambda x: F.blackhat(x, size=(3, 5)),
    ),
    "morph-dilate": ("morph --op dilate --iterations 2".split(), lambda x: F.dilate(x, size=3, iterations=2)),
    "morph-erode": ("morph --op erode".split(), lambda x: F.erode(x, size=3)),
    "morph-open-skip": (
        "morph --op open --footprint disk:1 --mode skip".split(),
        lambda x: F.opening(x, footprint=np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], bool), mode="skip"),
    ),
    "dilate-constant": (
        "dilate --mode constant --cval 200".split(),
        lambda x: F.dilate(x, size=3, mode="constant", cval=200.0),
    ),
}


def _have_rank() -> bool:
    try:
        F.erode  # noqa: B018
    except AttributeError:
        return False
    return True


ALL = {**CASES, **({k: v for k, v in RANK_CASES.items()} if _have_rank() else {})}


@pytest.mark.parametrize("image", ["rgb", "grey"])
@pytest.mark.parametrize("case", list(ALL))
def test_command_equals_python_function(tmp_path, images, case, image):
    args, expected_fn = ALL[case]
    path, arr = images[image]
    out = tmp_path / "out.png"
    invoke(*args, path, out)
    got = np.asarray(Image.open(out))
    expected = expected_fn(arr)
    assert got.dtype == np.uint8
    assert expected.dtype == np.uint8
    np.testing.assert_array_equal(got, expected)


def test_every_new_command_is_covered():
    covered = {args[0] for args, _ in ALL.values()}
    expected = set(COMMANDS16) if _have_rank() else set(COMMANDS16[:9])
    assert expected <= covered
    assert covered <= set(main.commands)


@pytest.mark.parametrize(
    "args, fn",
    [
        (["log", "--sigma", "1.5"], lambda x: F.gaussian_laplace(x, 1.5)),
        (["local-std", "--size", "5"], lambda x: F.local_std(x, 5)),
        (["gradient", "--output", "x"], lambda x: F.gradient(x, output="x")),
        (["dog", "--low-sigma", "2"], lambda x: F.difference_of_gaussians(x, 2.0)),
    ],
)
def test_float_results_are_exact_in_npy(tmp_path, images, args, fn):
    path, arr = images["grey"]
    out = tmp_path / "out.npy"
    invoke(*args, path, out)
    got = np.load(out)
    expected = fn(arr)
    assert got.dtype == expected.dtype and expected.dtype.kind == "f"
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("command, fn", [("local-std", F.local_std), ("local-var", F.local_var)])
def test_local_statistics_skip_the_mask_files_zero_pixels(tmp_path, images, command, fn):
    path, arr = images["grey"]
    keep = np.ones(arr.shape, dtype=bool)
    keep[5:20, 10:30] = False
    mask = tmp_path / "mask.png"
    Image.fromarray(keep.astype(np.uint8) * 255).save(mask)
    out = tmp_path / "out.npy"
    invoke(command, "--size", "5", "--mask", mask, path, out)
    got = np.load(out)
    expected = fn(arr, 5, mask=keep)
    # The mask changes the result (it reaches the filter), and the command gives the function's.
    assert not np.array_equal(expected, fn(arr, 5))
    np.testing.assert_array_equal(got, expected)


def test_canny_mask_is_8_bit_from_16_bit(tmp_path):
    rng = np.random.default_rng(3)
    img = (np.kron(rng.integers(0, 2, (6, 6)), np.ones((8, 8))) * 50000 + 5000).astype(np.uint16)
    src, out = tmp_path / "in.png", tmp_path / "out.png"
    Image.fromarray(img).save(src)
    assert np.asarray(Image.open(src)).dtype == np.uint16
    invoke("canny", src, out)
    got = np.asarray(Image.open(out))
    assert got.dtype == np.uint8
    expected = F.canny(img).astype(np.uint8) * 255
    assert expected.any()
    np.testing.assert_array_equal(got, expected)


def test_local_std_keeps_alpha(tmp_path, images):
    _, arr = images["rgb"]
    a = np.linspace(0, 255, arr.shape[0] * arr.shape[1]).reshape(arr.shape[:2]).astype(np.uint8)
    rgba = np.dstack([arr, a])
    src, out = tmp_path / "in.png", tmp_path / "out.png"
    Image.fromarray(rgba, "RGBA").save(src)
    invoke("local-std", src, out)
    got = np.asarray(Image.open(out))
    np.testing.assert_array_equal(got[..., 3], a)
    np.testing.assert_array_equal(got[..., :3], file_rule(F.local_std(arr, 3)))


def test_guide_file(tmp_path, images):
    path, arr = images["rgb"]
    guide = np.ascontiguousarray(arr[..., 1])
    gpath, out = tmp_path / "guide.png", tmp_path / "out.png"
    Image.fromarray(guide).save(gpath)
    invoke("guided", "--radius", "2", "--eps", "50", "--guide", gpath, path, out)
    expected = file_rule(F.guided(arr, guide, radius=2, eps=50.0))
    np.testing.assert_array_equal(np.asarray(Image.open(out)), expected)


def test_guide_of_another_size_is_one_line(tmp_path, images):
    path, _ = images["rgb"]
    gpath = tmp_path / "g.png"
    Image.fromarray(np.zeros((5, 7), np.uint8)).save(gpath)
    res = invoke("guided", "--guide", gpath, path, tmp_path / "o.png", ok=False)
    assert res.exit_code != 0
    lines = stderr_lines(res.output)
    assert len(lines) == 1 and "--guide" in lines[0], res.output


def test_chain(tmp_path, images):
    path, arr = images["grey"]
    out = tmp_path / "out.png"
    invoke("unsharp", "--sigma", "2", "+", "log", "--sigma", "1", "--scale", "abs", path, out)
    expected = file_rule(F.gaussian_laplace(F.unsharp(arr, sigma=2.0), 1.0), "abs")
    np.testing.assert_array_equal(np.asarray(Image.open(out)), expected)
    invoke("gaussian", "+", "canny", "--sigma", "0.5", path, out)
    np.testing.assert_array_equal(
        np.asarray(Image.open(out)), F.canny(F.gaussian(arr), sigma=0.5).astype(np.uint8) * 255
    )
    invoke("local-range", "--footprint", "disk:2", "+", "gradient", "--operator", "scharr", path, out)
    expected = file_rule(F.gradient(F.local_range(arr, footprint=DISK2), operator="scharr"))
    np.testing.assert_array_equal(np.asarray(Image.open(out)), expected)


@pytest.mark.skipif(not _have_rank(), reason="rank filters not merged")
def test_morph_chain_and_footprint_file(tmp_path, images):
    path, arr = images["grey"]
    fp = tmp_path / "fp.txt"
    fp.write_text("# a plus\n0 1 0\n1 1 1\n\n0 1 0\n")
    cross = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], bool)
    out = tmp_path / "out.png"
    invoke("morph", "--op", "close", "--footprint-file", fp, "+", "minimum", "--size", "3", path, out)
    expected = F.minimum(F.closing(arr, footprint=cross), size=3)
    np.testing.assert_array_equal(np.asarray(Image.open(out)), expected)
    invoke("local-std", "--footprint-file", fp, "--scale", "stretch", path, out)
    expected = file_rule(F.local_std(arr, footprint=cross), "stretch")
    np.testing.assert_array_equal(np.asarray(Image.open(out)), expected)


BAD = [
    (["unsharp", "--sigma", "0"], "--sigma"),
    (["unsharp", "--threshold", "-1"], "--threshold"),
    (["unsharp", "--amount", "nan"], "--amount"),
    (["unsharp", "--sigma", "20000"], "--sigma"),
    (["local-std", "--footprint", "blob:3"], "--footprint"),
    (["local-std", "--footprint", "disk:x"], "--footprint"),
    (["local-std", "--footprint", "rectangle:3"], "--footprint"),
    (["local-std", "--footprint", "disk:3x3"], "--footprint"),
    (["local-std", "--footprint", "square:0"], "--footprint"),
    (["local-var", "--size", "3", "--footprint", "disk:1"], "--size"),
    (["local-range", "--size", "0"], "--size"),
    (["guided", "--radius", "0"], "--radius"),
    (["guided", "--eps", "0"], "--eps"),
    (["guided", "--guide", "/nonexistent/g.png"], "--guide"),
    (["canny", "--low", "20", "--high", "10"], "--high"),
    (["canny", "--quantiles", "--high", "2"], "--high"),
    (["canny", "--low", "-1"], "--low"),
    (["canny", "--sigma", "-1"], "--sigma"),
    (["log", "--sigma", "0"], "--sigma"),
    (["dog", "--low-sigma", "2", "--high-sigma", "1"], "--high-sigma"),
    (["gradient", "--operator", "roberts"], "--operator"),
    (["gradient", "--output", "z"], "--output"),
    (["shift", "--interpolation", "lanczos"], "--interpolation"),
    (["conv", "--kernel", "sobel_x", "--normalize"], "--normalize"),
    (["conv", "--kernel", "1,-1", "--normalize"], "--normalize"),
]
RANK_BAD = [
    (["rank"], "--rank"),
    (["percentile", "--q", "101"], "--q"),
    (["morph", "--op", "thin"], "--op"),
    (["erode", "--iterations", "-1"], "--iterations"),
    (["dilate", "--footprint", "disk:1", "--footprint-file", "fp.txt"], "--footprint"),
    (["maximum", "--footprint-file", "bad.txt"], "--footprint-file"),
    (["minimum", "--footprint-file", "zeros.txt"], "--footprint-file"),
]


@pytest.mark.parametrize("args, option", BAD + (RANK_BAD if _have_rank() else []))
def test_bad_option_is_one_line_naming_it(tmp_path, images, monkeypatch, args, option):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fp.txt").write_text("1 1\n1 1\n")
    (tmp_path / "bad.txt").write_text("1 2\n1 1\n")
    (tmp_path / "zeros.txt").write_text("0 0\n0 0\n")
    path, _ = images["grey"]
    res = invoke(*args, path, tmp_path / "out.png", ok=False)
    assert res.exit_code != 0
    lines = stderr_lines(res.output)
    assert len(lines) == 1, res.output
    assert option in lines[0], res.output
    assert not (tmp_path / "out.png").exists()


def test_help_stays_light():
    code = (
        "import sys\n"
        "from imgfilter.cli import main\n"
        f"for args in [['--help'], *[[c, '--help'] for c in {list(COMMANDS16)!r} if c in main.commands]]:\n"
        "    try:\n"
        "        main(args, standalone_mode=False)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('scipy', 'dask')"
        " or m.startswith('imgfilter.filters') or m == 'imgfilter.footprints']\n"
        "print(heavy)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"
