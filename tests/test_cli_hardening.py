"""The command line's edges (issue 15): one-line usage errors, format names,
--cval, per-axis sizes, overflow-proof numbers, options checked once at parse
time, and the README's before/after commands run as written."""

from __future__ import annotations

import functools
import importlib
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from clitools import invoke, stderr_lines
from PIL import Image

import imgfilter
from imgfilter.cli import FORMAT_ALIASES, FORMAT_CHOICES, MAX_WINDOW, cval_keyword, main
from imgfilter.io import FORMAT_NAMES, imread

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_images"
HUGE = str(10**30)
FILTER_COMMANDS = ("conv", "pool", "sobel", "edges", "median", "blur", "gaussian", "shift", "bilateral")


def run_module(*args, cwd=None, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "imgfilter", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
    )


@pytest.fixture
def small(tmp_path) -> Path:
    """A 20x30 RGB photo-like PNG."""
    path = tmp_path / "small.png"
    rng = np.random.default_rng(3)
    Image.fromarray(rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)).save(path)
    return path


def one_usage_line(res, where: str) -> str:
    """The single stderr line of a usage error, checked to be ``WHERE: error: ...``."""
    assert res.exit_code == 2, res.output
    lines = stderr_lines(res.stderr)
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith(f"{where}: error: "), res.stderr
    assert "_chain" not in res.stderr and "Usage:" not in res.stderr
    assert res.stdout == ""
    return lines[0]


# ----------------------------------------------------------------- 1. one-line usage errors

USAGE_ERRORS = [
    (["--bogus"], "imgfilter", "--bogus"),
    (["nosuchcommand", "a.png", "b.png"], "imgfilter", "nosuchcommand"),
    (["sobel", "--bogus", "{in}", "{out}"], "imgfilter sobel", "--bogus"),
    (["blur", "--size", "0", "{in}", "{out}"], "imgfilter blur", "--size"),
    (["conv", "{in}", "{out}"], "imgfilter conv", "--kernel"),
    (["sobel"], "imgfilter sobel", "INPUT"),
    (["sobel", "{in}"], "imgfilter sobel", "INPUT OUTPUT"),
    (["sobel", "{in}", "out.xyz"], "imgfilter sobel", ".xyz"),
    (["gaussian", "+", "sobel", "--bogus", "{in}", "{out}"], "imgfilter sobel", "--bogus"),
    (["gaussian", "--sigma", "-1", "+", "sobel", "{in}", "{out}"], "imgfilter gaussian", "--sigma"),
    (["gaussian", "+", "sobel", "--cval", "3", "{in}", "{out}"], "imgfilter sobel", "--cval"),
    (["gaussian", "+", "kernels", "{in}", "{out}"], "imgfilter", "kernels"),
    (["gaussian", "+", "{in}", "{out}"], "imgfilter", "'+' must be followed by a filter command"),
    (["gaussian", "{in}", "{out}", "+"], "imgfilter", "'+'"),
    (["gaussian", "+", "sobel", "{in}"], "imgfilter gaussian + sobel", "INPUT OUTPUT"),
    (["gaussian", "-o", "d1", "+", "sobel", "-o", "d2", "{in}"], "imgfilter gaussian + sobel", "--out-dir"),
]


@pytest.mark.parametrize(
    ("args", "where", "word"), USAGE_ERRORS, ids=[" ".join(a) for a, _, _ in USAGE_ERRORS]
)
def test_usage_error_is_one_line_naming_command_and_option(tmp_path, small, args, where, word):
    out = tmp_path / "out.png"
    res = invoke(*({"{in}": small, "{out}": out}.get(a, a) for a in args), ok=False)
    line = one_usage_line(res, where)
    assert word in line
    assert not out.exists()


def test_usage_error_through_a_real_process_is_one_line_on_stderr(tmp_path, small):
    # python -m imgfilter: the message still says 'imgfilter', not 'python -m imgfilter'.
    proc = run_module("gaussian", "--sigma", "2", "+", "sobel", "--output", "z", small, tmp_path / "o.png")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert stderr_lines(proc.stderr) == [
        "imgfilter sobel: error: Invalid value for '--output': "
        "'z' is not one of 'magnitude', 'x', 'y', 'angle'."
    ]


def test_no_arguments_still_shows_help():
    res = invoke(ok=False)
    assert res.output.startswith("Usage: ") and "Commands:" in res.output


def test_help_of_a_chain_segment_names_the_command_not_the_chain():
    res = invoke("gaussian", "--sigma", "2", "+", "sobel", "--help")
    first = res.output.splitlines()[0]
    assert first.endswith(" sobel [OPTIONS] INPUT... OUTPUT"), first
    assert "_chain" not in res.output and "TOKENS" not in res.output


def test_unreadable_mask_is_a_usage_error_naming_the_mask_file(tmp_path, small):
    mask = tmp_path / "mask.png"
    mask.write_bytes(b"not an image")
    res = invoke("blur", "--mask", mask, small, tmp_path / "o.png", ok=False)
    line = one_usage_line(res, "imgfilter blur")
    assert "'--mask'" in line and str(mask) in line


def test_mask_of_another_size_names_the_mask_file(tmp_path, small):
    mask = tmp_path / "mask10.png"
    Image.fromarray(np.full((10, 12), 255, np.uint8)).save(mask)
    res = invoke("gaussian", "--mask", mask, small, tmp_path / "o.png", ok=False)
    assert res.exit_code == 1
    (line,) = stderr_lines(res.stderr)
    assert line == f"imgfilter: {small}: --mask {mask} is 12x10 pixels but the image is 30x20"
    assert not (tmp_path / "o.png").exists()


def test_mask_is_read_once_for_every_input(tmp_path, small, monkeypatch):
    import imgfilter.io.read as io

    mask = tmp_path / "mask.png"
    Image.fromarray(np.full((20, 30), 255, np.uint8)).save(mask)
    reads = []
    real, real_rows = io.read_image, io.read_image_rows
    monkeypatch.setattr(io, "read_image", lambda path, **kw: reads.append(str(path)) or real(path, **kw))
    # Inputs are read by read_image_rows (their rows may arrive while the first bands run).
    monkeypatch.setattr(
        io, "read_image_rows", lambda path, **kw: reads.append(str(path)) or real_rows(path, **kw)
    )
    inputs = []
    for i in range(3):
        inputs.append(tmp_path / f"in{i}.png")
        inputs[-1].write_bytes(small.read_bytes())
    invoke("blur", "--mask", mask, *inputs, "-o", tmp_path / "out", "--jobs", "1", "-q")
    assert reads.count(str(mask)) == 1
    assert len(reads) == 4


def test_kernel_file_errors_name_kernel_file(tmp_path, small):
    kfile = tmp_path / "k.txt"
    kfile.write_text("1 2 x\n")
    res = invoke("conv", "--kernel-file", kfile, small, tmp_path / "o.png", ok=False)
    line = one_usage_line(res, "imgfilter conv")
    assert "'--kernel-file'" in line and str(kfile) in line and "'x'" in line
    kfile.write_bytes(b"\xff\xfe\x00binary")
    res = invoke("conv", "--kernel-file", kfile, small, tmp_path / "o.png", ok=False)
    assert "'--kernel-file'" in one_usage_line(res, "imgfilter conv")


def test_kernel_file_takes_comments_and_blank_lines(tmp_path, small):
    kfile = tmp_path / "k.txt"
    kfile.write_text("# Sobel x, rows top to bottom\n\n-1 0 1   # top\n-2 0 2\n\n-1 0 1\n# end\n")
    invoke("conv", "--kernel-file", kfile, small, tmp_path / "a.npy")
    invoke("conv", "--kernel", "-1,0,1;-2,0,2;-1,0,1", small, tmp_path / "b.npy")
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy"))


# ----------------------------------------------------------------- 2. format names


def test_format_choices_are_the_writers_names():
    assert set(FORMAT_CHOICES) == set(FORMAT_NAMES)
    for alias, name in FORMAT_ALIASES.items():
        assert FORMAT_NAMES[alias] == FORMAT_NAMES[name]


@pytest.mark.parametrize(
    ("name", "ext", "pillow"),
    [
        ("jpeg", ".jpg", "JPEG"),
        ("JPEG", ".jpg", "JPEG"),
        ("jpg", ".jpg", "JPEG"),
        ("tiff", ".tif", "TIFF"),
        ("TIF", ".tif", "TIFF"),
        ("png", ".png", "PNG"),
        ("pnm", ".pnm", "PPM"),
    ],
)
def test_format_aliases_name_batch_outputs_and_their_encoding(tmp_path, small, name, ext, pillow):
    invoke("blur", small, "-o", tmp_path / "out", "--format", name, "-q")
    out = tmp_path / "out" / f"small{ext}"
    assert os.listdir(tmp_path / "out") == [out.name]
    with Image.open(out) as im:
        assert im.format == pillow
    # A single OUTPUT whose extension names nothing: --format decides.
    invoke("blur", small, tmp_path / "single.out", "--format", name)
    with Image.open(tmp_path / "single.out") as im:
        assert im.format == pillow


def test_format_alias_in_a_chain(tmp_path, small):
    invoke("blur", "--format", "tiff", "+", "median", "--format", "tif", small, "-o", tmp_path / "d", "-q")
    assert os.listdir(tmp_path / "d") == ["small.tif"]


# ----------------------------------------------------------------- 3. --cval


def _params(command: str) -> set[str]:
    return {p.name for p in main.commands[command].params}


@pytest.mark.parametrize("command", sorted(set(main.commands) - {"_chain"}))
def test_every_command_with_mode_takes_cval(command):
    # Every registered command, so a new one cannot slip past a hand-kept list.
    assert ("mode" in _params(command)) <= ("cval" in _params(command))


@pytest.mark.parametrize("mode", ["constant", "reflect"])
def test_shift_and_conv_pass_cval_to_the_python_function(tmp_path, small, mode):
    img = imread(small)
    invoke("shift", "--dx", "2.5", "--mode", mode, "--cval", "77", small, tmp_path / "s.png")
    np.testing.assert_array_equal(imread(tmp_path / "s.png"), imgfilter.shift(img, 2.5, mode=mode, cval=77))
    invoke("conv", "--kernel", "box3", "--mode", mode, "--cval", "200.5", small, tmp_path / "c.npy")
    want = imgfilter.correlate(img, imgfilter.kernels.KERNELS["box3"], mode=mode, cval=200.5)
    np.testing.assert_array_equal(np.load(tmp_path / "c.npy"), want)


@pytest.mark.parametrize("command", ["sobel", "edges", "median", "blur", "gaussian", "bilateral"])
def test_cval_without_cval_in_the_python_function(tmp_path, small, command):
    # imgfilter.<command> has no cval= (yet): 0, its constant border, is all the CLI can honour.
    invoke(command, "--mode", "constant", small, tmp_path / "a.png")
    invoke(command, "--mode", "constant", "--cval", "0", small, tmp_path / "b.png")
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    res = invoke(command, "--mode", "constant", "--cval", "5", small, tmp_path / "c.png", ok=False)
    assert "'--cval'" in one_usage_line(res, f"imgfilter {command}")
    assert not (tmp_path / "c.png").exists()


def test_cval_reaches_a_function_that_takes_it():
    def with_cval(image, *, mode="reflect", cval=0.0):
        return image

    def without(image, *, mode="reflect"):
        return image

    assert cval_keyword(with_cval, "x", 3.0) == {"cval": 3.0}
    assert cval_keyword(without, "x", 0.0) == {}


# ----------------------------------------------------------------- 4. per-axis sizes


def test_per_axis_sigma_and_size_equal_the_python_api(tmp_path, small):
    img = imread(small)
    invoke("gaussian", "--sigma", "2,4", small, tmp_path / "g.png")
    np.testing.assert_array_equal(imread(tmp_path / "g.png"), imgfilter.gaussian(img, (2.0, 4.0)))
    invoke("blur", "--size", "3,5", small, tmp_path / "b.png")
    got = imread(tmp_path / "b.png")
    np.testing.assert_array_equal(got, imgfilter.blur(img, (3, 5)))
    assert not np.array_equal(got, imgfilter.blur(img, (5, 3)))  # rows first
    invoke("pool", "--size", "2,3", "--op", "avg", small, tmp_path / "p.npy")
    np.testing.assert_array_equal(np.load(tmp_path / "p.npy"), imgfilter.pool(img, (2, 3), op="avg"))
    assert np.load(tmp_path / "p.npy").shape == (10, 10, 3)


def test_per_axis_values_rows_then_columns_in_a_chain(tmp_path, small):
    img = imread(small)
    invoke("gaussian", "--sigma", "1,3", "+", "blur", "--size", "1,3", small, tmp_path / "o.png")
    want = imgfilter.blur(imgfilter.gaussian(img, (1.0, 3.0)), (1, 3))
    np.testing.assert_array_equal(imread(tmp_path / "o.png"), want)


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["gaussian", "--sigma", "2,4,6"], "--sigma"),
        (["gaussian", "--sigma", "2,0"], "--sigma"),
        (["gaussian", "--sigma", "2,nan"], "--sigma"),
        (["blur", "--size", "3,5,7"], "--size"),
        (["median", "--size", "3,5"], "--size"),
        (["pool", "--size", "2,2", "--stride", "1,1,1"], "--stride"),
    ],
)
def test_bad_per_axis_values_are_usage_errors(tmp_path, small, args, option):
    res = invoke(*args, small, tmp_path / "o.png", ok=False)
    assert f"'{option}'" in one_usage_line(res, f"imgfilter {args[0]}")


# ----------------------------------------------------------------- 5. pool's empty result


def test_pool_too_large_for_the_image_suggests_padding_same(tmp_path, small):
    res = invoke("pool", "--size", "25", small, tmp_path / "o.png", ok=False)
    assert res.exit_code == 1
    (line,) = stderr_lines(res.stderr)
    assert line.startswith(f"imgfilter: {small}: ") and "--padding same" in line
    invoke("pool", "--size", "25", "--padding", "same", small, tmp_path / "o.png")
    assert imread(tmp_path / "o.png").shape == (1, 2, 3)


# ----------------------------------------------------------------- 6. numbers that overflow

OVERFLOWS = [
    (["shift", "--dx", "1e300"], "--dx"),
    (["shift", "--dy", "-1e300"], "--dy"),
    (["shift", "--dx", "1e19"], "--dx"),
    (["shift", "--cval", "inf"], "--cval"),
    (["gaussian", "--sigma", "1e300"], "--sigma"),
    (["gaussian", "--sigma", "2,1e300"], "--sigma"),
    (["gaussian", "--sigma", "20000"], "--sigma"),
    (["gaussian", "--truncate", "1e300"], "--truncate"),
    (["gaussian", "--truncate", "inf"], "--truncate"),
    (["blur", "--size", HUGE], "--size"),
    (["median", "--size", HUGE + "1"], "--size"),
    (["pool", "--size", HUGE], "--size"),
    (["pool", "--stride", HUGE], "--stride"),
    (["bilateral", "--diameter", HUGE], "--diameter"),
    (["bilateral", "--diameter", "0", "--sigma-space", "1e300"], "--sigma-space"),
    (["bilateral", "--sigma-color", "inf"], "--sigma-color"),
    (["conv", "--kernel", "1,1", "--stride", HUGE], "--stride"),
    (["conv", "--kernel", "1,1", "--dilation", HUGE], "--dilation"),
    (["conv", "--kernel", "1,1", "--dilation", str(MAX_WINDOW)], "--dilation"),
    (["conv", "--kernel", "1,1", "--padding", HUGE], "--padding"),
    (["conv", "--kernel", "1,1e999"], "--kernel"),
    (["sobel", "--chunks", HUGE], "--chunks"),
    (["sobel", "--compression", HUGE], "--compression"),
    (["sobel", "--quality", HUGE], "--quality"),
]


@pytest.mark.parametrize(("args", "option"), OVERFLOWS, ids=[" ".join(a) for a, _ in OVERFLOWS])
def test_huge_numbers_are_one_line_usage_errors_naming_the_option(tmp_path, small, args, option):
    res = invoke(*args, small, tmp_path / "o.png", ok=False)
    line = one_usage_line(res, f"imgfilter {args[0]}")
    assert option in line
    assert not (tmp_path / "o.png").exists()


def test_shift_dx_1e300_in_a_real_process(tmp_path, small):
    proc = run_module("shift", "--dx", "1e300", small, tmp_path / "o.png")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    (line,) = stderr_lines(proc.stderr)
    assert line.startswith("imgfilter shift: error: Invalid value for '--dx'")


def test_huge_counts_that_cannot_overflow_still_run(tmp_path, small):
    # --max-pixels, --threads and --jobs are Python ints end to end: a huge
    # value means "no limit" / "all there is", not an error.
    other = tmp_path / "other.png"
    other.write_bytes(small.read_bytes())
    proc = run_module(
        "sobel", "--max-pixels", HUGE, "--threads", HUGE, "--jobs", HUGE, small, other, "-o", tmp_path / "d"
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(os.listdir(tmp_path / "d")) == ["other.png", "small.png"]


# ----------------------------------------------------------------- 7. options checked once, no dummy run

FILTER_FUNCTIONS = {
    "sobel": ("imgfilter.filters.edges", "sobel", []),
    "edges": ("imgfilter.filters.edges", "edges", []),
    "median": ("imgfilter.filters.median", "median", []),
    "blur": ("imgfilter.filters.smooth", "blur", []),
    "gaussian": ("imgfilter.filters.smooth", "gaussian", []),
    "shift": ("imgfilter.filters.shift", "shift", ["--dx", "1.5"]),
    "bilateral": ("imgfilter.filters.bilateral", "bilateral", []),
    "conv": ("imgfilter.filters.correlate", "correlate", ["--kernel", "box3"]),
    "pool": ("imgfilter.filters.pool", "pool", []),
}


@pytest.mark.parametrize("command", FILTER_COMMANDS)
def test_filter_runs_once_per_image(tmp_path, small, monkeypatch, command):
    module_name, attr, extra = FILTER_FUNCTIONS[command]
    module = importlib.import_module(module_name)
    real = getattr(module, attr)
    shapes = []

    @functools.wraps(real)
    def counted(image, *args, **kwargs):
        shapes.append(np.shape(image))
        return real(image, *args, **kwargs)

    monkeypatch.setattr(module, attr, counted)
    invoke(command, *extra, small, tmp_path / "o.png")
    assert shapes == [(20, 30, 3)]  # never a 16x16 dummy first


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["conv", "--kernel", "sobel_x", "--nan", "ignore"], "--nan ignore"),
        (["gaussian", "--sigma", "inf"], "--sigma"),
        (["shift", "--dx", "nan"], "--dx"),
        (["median", "--size", "4"], "--size"),
        (["conv", "--kernel", "1,2;3,4", "--padding", "1,2,3"], "--padding"),
    ],
)
def test_bad_options_fail_before_any_file_is_touched(tmp_path, args, option):
    # The input does not exist and the output folder is empty: the option is
    # what is reported, so no file was looked at.
    res = invoke(*args, tmp_path / "missing.png", tmp_path / "o.png", ok=False)
    assert option in one_usage_line(res, f"imgfilter {args[0]}")
    assert os.listdir(tmp_path) == []


# ----------------------------------------------------------------- 8. the README's before/after table


def readme_before_after() -> tuple[list[str], list[str]]:
    """(setup commands, table commands) from the README's 'Command line' section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Command line", 1)[1].split("\n## ", 1)[0]
    table = section.split("| before | command | after |", 1)[1].split("\n\n", 1)[0]
    commands = re.findall(r"^\| [^|]* \| `([^`]+)` \|", table, flags=re.M)
    before_table = section.split("| before | command | after |", 1)[0]
    setup = [
        line for block in re.findall(r"```\n(.*?)```", before_table, flags=re.S)
        for line in block.splitlines() if "noisy.png" in line
    ]  # fmt: skip
    return setup, commands


def test_readme_before_after_commands_run_as_written(tmp_path):
    setup, commands = readme_before_after()
    assert len(commands) == 6 and all(c.startswith("imgfilter ") for c in commands)
    assert len(setup) == 1 and setup[0].startswith("python3 -c ")
    # A fresh clone: the sample images where the repository keeps them, nothing else.
    (tmp_path / "sample_images").symlink_to(SAMPLES, target_is_directory=True)
    argv = shlex.split(setup[0])
    subprocess.run([sys.executable, *argv[1:]], cwd=tmp_path, check=True, timeout=120)
    noisy = imread(tmp_path / "noisy.png")
    assert noisy.shape == imread(SAMPLES / "coffee.png").shape and noisy.dtype == np.uint8
    for command in commands:
        (tmp_path / "out.png").unlink(missing_ok=True)
        proc = run_module(*shlex.split(command)[1:], cwd=tmp_path)
        assert proc.returncode == 0, (command, proc.stderr)
        assert imread(tmp_path / "out.png").size > 0, command


# ----------------------------------------------------------------- issue 15: the shape of the file layer


def test_huge_local_cluster_refused_in_one_line(tmp_path, small):
    for address in ("local:10**30", "local:1000000000000000000000000000000", "local:257"):
        proc = run_module("blur", "--scheduler", address, small, tmp_path / "o.png", timeout=60)
        assert proc.returncode == 2, proc.stderr
        (line,) = stderr_lines(proc.stderr)
        assert address in line and "local:N" in line
    assert not (tmp_path / "o.png").exists()


def test_help_imports_nothing_heavy():
    code = (
        "import sys\n"
        "from imgfilter.cli import main\n"
        "for args in [['--help'], ['gaussian', '--help'], ['conv', '--help'], ['kernels', '--help']]:\n"
        "    try:\n"
        "        main(args, standalone_mode=False)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = ('numpy', 'scipy', 'dask', 'PIL', 'imgfilter.filters', 'imgfilter.core.linear')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy or m.startswith(heavy)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"


def test_one_format_registry_feeds_the_cli_the_reader_and_the_scan():
    from imgfilter.io import formats
    from imgfilter.io.read import _read_image  # noqa: F401  (the reader imports READ_FORMATS from it)
    from imgfilter.run import jobs

    writable = [f for f in formats.REGISTRY if f.writable]
    assert set(FORMAT_CHOICES) == {n for f in writable for n in f.cli_names}
    assert set(formats.FORMATS.values()) == {f.name for f in writable}
    assert jobs.IMAGE_EXTENSIONS is formats.IMAGE_EXTENSIONS
    assert jobs.READ_ONLY_EXTENSIONS is formats.READ_ONLY_EXTENSIONS
    assert not {"EPS", "PDF"} & set(formats.READ_FORMATS)
    for f in writable:
        for name in f.cli_names:
            assert formats.format_for("x", name) == f.name
        for ext in f.extensions:
            if ext in formats.FORMATS:
                assert formats.format_for(f"x{ext}") == f.name


def test_the_layers_import_downwards_only():
    """io imports neither run nor cli; run never imports cli or click."""
    import ast
    from pathlib import Path

    root = Path(imgfilter.__file__).parent
    below = {"io": ("run", "cli"), "run": ("cli",)}
    for package, forbidden in below.items():
        for path in (root / package).glob("*.py"):
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.level == 2 and node.module:
                    assert node.module.split(".")[0] not in forbidden, f"{path.name} imports {node.module}"
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    names = (
                        [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                    )
                    assert not any(n == "click" or n.startswith("click.") for n in names), path.name
