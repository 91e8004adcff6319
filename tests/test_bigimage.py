"""Out-of-core CLI: lazy reads, chunk-by-chunk filtering and writes (``imgfilter[dask]``).

Every lazy result is compared, bit for bit and dtype included, with the
in-memory CLI result of the same command on the same pixels given as a
``.npy`` input (the normal, whole-image path), both read back from the files
(``tifffile.imread``, ``zarr.open(...)[:]``, ``np.load``, ``imgfilter.imread``).
The lazy path is taken because the input is a tiled TIFF, a BigTIFF or a
``.zarr`` array, because the output is ``.zarr``, or because of ``--chunks``.

The filter options avoid the FFT path (kernels of 40 taps or more), where
the README allows float32 rounding differences between chunked and whole.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("dask.array")
zarr = pytest.importorskip("zarr")
tifffile = pytest.importorskip("tifffile")

from click.testing import CliRunner  # noqa: E402
from clitools import hidden, invoke, snapshot  # noqa: E402
from PIL import Image  # noqa: E402

import imgfilter  # noqa: E402
from imgfilter.cli import main  # noqa: E402
from imgfilter.io import to_file_dtype  # noqa: E402

SAMPLES = Path(__file__).resolve().parent.parent / "sample_images"
H, W = 300, 257  # odd sizes: neither divides by the tiles, chunks or strides used here
TILE = (64, 48)  # tiles of the tiled inputs
ZARR_CHUNKS = (50, 70)  # chunks of the Zarr inputs

# One command per filter; options chosen so that halos, size changes
# (stride, padding, pooling) and every float-to-file rule are exercised.
FILTERS = {
    "sobel": ["sobel"],
    "median": ["median", "--size", "5"],
    "gaussian": ["gaussian", "--sigma", "2"],
    "blur": ["blur", "--size", "4", "--mode", "wrap"],
    "bilateral": ["bilateral", "--diameter", "7", "--sigma-color", "30", "--sigma-space", "3"],
    "shift": ["shift", "--dx", "3.5", "--dy", "-2.25", "--mode", "reflect"],
    "edges": ["edges", "--direction", "laplacian", "--padding", "full", "--scale", "abs"],
    "conv": [
        "conv",
        "--kernel",
        "1,2,0;0,-1,3",
        "--stride",
        "2,3",
        "--padding",
        "2,1",
        "--mode",
        "wrap",
        "--scale",
        "offset",
    ],
    "pool": ["pool", "--size", "3", "--stride", "2", "--op", "avg", "--padding", "same"],
    "chain": ["gaussian", "--sigma", "2", "+", "sobel", "--mode", "edge"],
}
KINDS = ("rgb8", "grey16", "float32")
# What a .tif output holds for each source: 8-bit stays 8-bit, 16-bit stays
# 16-bit, a float source stays float (the documented TIFF rule).
TIF_DTYPE = {"rgb8": np.uint8, "grey16": np.uint16, "float32": np.float32}
# PNG holds 8 and 16 bits; a float source becomes 8-bit there.
PNG_DTYPE = {"rgb8": np.uint8, "grey16": np.uint16, "float32": np.uint8}

# Lazy routes: (input file, extra options, output extension, reference output extension).
# "plain" is a PNG (8 or 16 bits), or the .npy for the float image.
ROUTES = {
    "tiled-tif-to-tif": ("tiled", [], ".tif", ".tif"),
    "tiled-tif-to-zarr": ("tiled", [], ".zarr", ".npy"),
    "npy-chunks37-to-tif": ("npy", ["--chunks", "37"], ".tif", ".tif"),
    "plain-chunks64-to-png": ("plain", ["--chunks", "64"], ".png", ".png"),
    "zarr-to-tif": ("zarr", [], ".tif", ".tif"),
    "zarr-chunks64-to-zarr": ("zarr", ["--chunks", "64"], ".zarr", ".npy"),
}


# ----------------------------------------------------------------- helpers


def read_back(path: Path) -> np.ndarray:
    """An output file's pixels, read by the format's own library."""
    if path.suffix == ".zarr":
        return zarr.open(str(path), mode="r")[:]
    if path.suffix in (".tif", ".tiff"):
        return tifffile.imread(path)
    if path.suffix == ".npy":
        return np.load(path, allow_pickle=False)
    return imgfilter.imread(path)


def write_zarr(path: Path, pixels: np.ndarray, chunks: tuple[int, int]) -> None:
    z = zarr.open(
        str(path), mode="w", shape=pixels.shape, chunks=chunks + pixels.shape[2:], dtype=pixels.dtype
    )
    z[:] = pixels


def make_pixels() -> dict[str, np.ndarray]:
    """Photos cropped to H x W: uint8 RGB, uint16 grey (all 16 bits used), float32 grey."""
    rgb = np.asarray(Image.open(SAMPLES / "astronaut.png").convert("RGB"))[100 : 100 + H, 60 : 60 + W]
    grey = np.asarray(Image.open(SAMPLES / "camera.png").convert("L"))[150 : 150 + H, 200 : 200 + W]
    noise = np.random.default_rng(3).integers(0, 256, grey.shape)
    grey16 = (grey.astype(np.uint16) * 256 + noise).astype(np.uint16)
    cat = np.asarray(Image.open(SAMPLES / "chelsea.png").convert("L"))[:H, 20 : 20 + W]
    grey_f = (cat.astype(np.float32) / 255.0 - 0.1).astype(np.float32)  # a few values below 0
    return {"rgb8": np.ascontiguousarray(rgb), "grey16": grey16, "float32": grey_f}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """The same pixels as: .npy, tiled TIFF, plain file (PNG or .npy) and Zarr array."""
    folder = tmp_path_factory.mktemp("bigimage_inputs")
    files: dict[tuple[str, str], Path] = {}
    pixels = make_pixels()
    for kind, x in pixels.items():
        npy = folder / f"{kind}.npy"
        np.save(npy, x)
        tiled = folder / f"{kind}_tiled.tif"
        tifffile.imwrite(tiled, x, tile=TILE, photometric="rgb" if x.ndim == 3 else "minisblack")
        if x.dtype == np.float32:
            plain = npy
        else:
            plain = folder / f"{kind}.png"
            imgfilter.imwrite(plain, x)
            assert np.array_equal(imgfilter.imread(plain), x)
        zpath = folder / f"{kind}.zarr"
        write_zarr(zpath, x, ZARR_CHUNKS)
        files.update(
            {(kind, "npy"): npy, (kind, "tiled"): tiled, (kind, "plain"): plain, (kind, "zarr"): zpath}
        )
    for (_, role), path in files.items():
        if role == "tiled":
            with tifffile.TiffFile(path) as tif:
                assert tif.pages[0].is_tiled and not tif.is_bigtiff
    return pixels, files


@pytest.fixture(scope="module")
def reference(inputs, tmp_path_factory):
    """The in-memory CLI result (from the .npy input), per (filter args, kind, extension), cached."""
    _, files = inputs
    folder = tmp_path_factory.mktemp("bigimage_reference")
    cache: dict[tuple[tuple[str, ...], str, str], np.ndarray] = {}

    def get(args: list[str], kind: str, ext: str) -> np.ndarray:
        key = (tuple(args), kind, ext)
        if key not in cache:
            out = folder / f"ref{len(cache)}{ext}"
            invoke(*args, files[(kind, "npy")], out)
            cache[key] = read_back(out)
        return cache[key]

    return get


def assert_same(got: np.ndarray, want: np.ndarray, label: str) -> None:
    assert got.dtype == want.dtype, f"{label}: dtype {got.dtype}, in memory {want.dtype}"
    assert got.shape == want.shape, f"{label}: shape {got.shape}, in memory {want.shape}"
    np.testing.assert_array_equal(got, want, err_msg=label)


# ----------------------------------------------------------------- lazy equals in memory


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", list(FILTERS))
@pytest.mark.parametrize("route", list(ROUTES))
def test_lazy_equals_in_memory(tmp_path, inputs, reference, route, name, kind):
    _, files = inputs
    role, extra, ext, ref_ext = ROUTES[route]
    args = FILTERS[name]
    out = tmp_path / f"out{ext}"
    invoke(*args, *extra, files[(kind, role)], out)
    got = read_back(out)
    want = reference(args, kind, ref_ext)
    assert_same(got, want, f"{route} {name} {kind}")
    if ext == ".tif":
        assert got.dtype == TIF_DTYPE[kind]
        with tifffile.TiffFile(out) as tif:
            page = tif.pages[0]
            assert page.is_tiled and (page.tilelength, page.tilewidth) == (256, 256)
            assert page.compression == 1  # uncompressed, as documented
            assert not tif.is_bigtiff
    elif ext == ".png":
        assert got.dtype == PNG_DTYPE[kind]
    # Nothing but the output: no hidden temporary file or folder.
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]


def test_every_filter_command_is_covered():
    covered = {args[0] for args in FILTERS.values()}
    assert covered == {"conv", "pool", "sobel", "edges", "median", "blur", "gaussian", "shift", "bilateral"}


@pytest.mark.parametrize(
    ("name", "kind"),
    [("sobel", "grey16"), ("median", "grey16"), ("sobel", "rgb8"), ("gaussian", "rgb8"), ("blur", "float32")],
)
def test_zarr_output_keeps_results_as_npy_does(tmp_path, inputs, name, kind):
    """A .zarr output follows the .npy rule: a float result stays as computed, else the source's depth."""
    pixels, files = inputs
    x = pixels[kind]
    result = {
        "sobel": imgfilter.sobel,
        "median": lambda a: imgfilter.median(a, 5),
        "gaussian": lambda a: imgfilter.gaussian(a, 2.0),
        "blur": lambda a: imgfilter.blur(a, 4, mode="wrap"),
    }[name](x)
    expected = result.dtype if result.dtype.kind == "f" else x.dtype
    out = tmp_path / "out.zarr"
    invoke(*FILTERS[name], files[(kind, "tiled")], out)
    got = read_back(out)
    assert got.dtype == expected
    if result.dtype.kind == "f":
        np.testing.assert_array_equal(got, result)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("source", ["tiled", "npy-chunks"])
def test_npy_output_of_lazy_read_is_npy(tmp_path, inputs, reference, kind, source):
    """A .npy OUTPUT on the lazy path is a .npy file equal to the in-memory one."""
    _, files = inputs
    src, extra = (
        (files[(kind, "tiled")], []) if source == "tiled" else (files[(kind, "npy")], ["--chunks", "64"])
    )
    out = tmp_path / "out.npy"
    invoke("sobel", *extra, src, out)
    assert out.read_bytes()[:6] == b"\x93NUMPY", f"not a .npy file: starts {out.read_bytes()[:4]!r}"
    assert_same(read_back(out), reference(["sobel"], kind, ".npy"), f"{source} {kind} -> .npy")


# ----------------------------------------------------------------- other lazy sources


RGBA_CASES = {
    "sobel": FILTERS["sobel"],
    "median": FILTERS["median"],
    "pool": FILTERS["pool"],
    "gaussian-stretch": ["gaussian", "--sigma", "2", "--scale", "stretch"],
    "conv-clip": ["conv", "--kernel", "0,-1,0;-1,5,-1;0,-1,0"],
    "conv-offset": ["conv", "--kernel", "sobel_x", "--scale", "offset"],
    "conv-abs": ["conv", "--kernel", "sobel_y", "--scale", "abs"],
    "conv-stride-offset": FILTERS["conv"],
}


@pytest.fixture(scope="module")
def rgba_inputs(inputs, tmp_path_factory):
    """The RGB image with a varying alpha: as a PNG and as a tiled TIFF (unassociated alpha).

    Both declare their alpha; a .npy would not (arrays are data: a .npy's
    fourth channel is a colour channel, see test_npy_input_has_no_alpha).
    """
    pixels, _ = inputs
    folder = tmp_path_factory.mktemp("rgba")
    yy, xx = np.mgrid[0:H, 0:W]
    rgba = np.dstack([pixels["rgb8"], ((xx * 3 + yy * 5) % 256).astype(np.uint8)])
    Image.fromarray(rgba, "RGBA").save(folder / "rgba.png")
    tifffile.imwrite(folder / "rgba.tif", rgba, tile=TILE, photometric="rgb", extrasamples=["unassalpha"])
    return folder / "rgba.png", folder / "rgba.tif"


@pytest.mark.parametrize("case", list(RGBA_CASES))
def test_rgba_tiled_tiff_keeps_alpha(tmp_path, rgba_inputs, case):
    npy, tiled = rgba_inputs
    args = RGBA_CASES[case]
    for ext in (".tif", ".zarr", ".png"):
        ref_ext = ".npy" if ext == ".zarr" else ext
        invoke(*args, npy, tmp_path / f"ref{ref_ext}")
        invoke(*args, tiled, tmp_path / f"lazy{ext}")
        lazy = read_back(tmp_path / f"lazy{ext}")
        assert lazy.shape[2] == 4
        assert_same(lazy, read_back(tmp_path / f"ref{ref_ext}"), f"rgba {case} {ext}")


def test_bigtiff_with_strips_is_read_lazily(tmp_path, inputs, reference):
    pixels, _ = inputs
    src = tmp_path / "big.tif"
    tifffile.imwrite(src, pixels["rgb8"], photometric="rgb", bigtiff=True, rowsperstrip=16)
    with tifffile.TiffFile(src) as tif:
        assert tif.is_bigtiff and not tif.pages[0].is_tiled
    for name in ("median", "conv"):
        invoke(*FILTERS[name], src, tmp_path / "out.tif")
        out = tmp_path / "out.tif"
        with tifffile.TiffFile(out) as tif:
            assert tif.pages[0].is_tiled  # written by the chunked writer: it was read lazily
        assert_same(read_back(out), reference(FILTERS[name], "rgb8", ".tif"), f"bigtiff strips {name}")


def test_planar_tiled_tiff_is_read_lazily(tmp_path, inputs, reference):
    """RGB stored plane by plane (PlanarConfiguration 2, axes SYX) reads as (H, W, 3)."""
    pixels, _ = inputs
    src = tmp_path / "planar.tif"
    tifffile.imwrite(
        src, np.moveaxis(pixels["rgb8"], -1, 0), tile=TILE, photometric="rgb", planarconfig="separate"
    )
    with tifffile.TiffFile(src) as tif:
        assert tif.series[0].axes == "SYX" and tif.pages[0].is_tiled
    np.testing.assert_array_equal(np.moveaxis(tifffile.imread(src), 0, -1), pixels["rgb8"])
    invoke(*FILTERS["median"], src, tmp_path / "out.tif")
    assert_same(read_back(tmp_path / "out.tif"), reference(FILTERS["median"], "rgb8", ".tif"), "planar")


def test_orientation_tag_of_tiled_tiff_is_applied(tmp_path, inputs):
    """Orientation 6 (rotate 90° clockwise): the lazy result equals the in-memory one of a strip TIFF."""
    pixels, _ = inputs
    tag = [(274, "H", 1, 6, True)]
    tifffile.imwrite(tmp_path / "t.tif", pixels["rgb8"], tile=TILE, photometric="rgb", extratags=tag)
    strip = tmp_path / "s.tif"
    tifffile.imwrite(strip, pixels["rgb8"], photometric="rgb", extratags=tag, metadata=None)
    invoke("sobel", tmp_path / "t.tif", tmp_path / "lazy.tif")
    invoke("sobel", strip, tmp_path / "ref.png")
    lazy = read_back(tmp_path / "lazy.tif")
    assert lazy.shape == (W, H, 3)
    assert_same(lazy, read_back(tmp_path / "ref.png"), "orientation 6")


# ----------------------------------------------------------------- the tiled TIFF written


def test_tiled_output_readable_by_pillow(tmp_path, inputs):
    _, files = inputs
    for kind in ("rgb8", "grey16"):
        out = tmp_path / f"{kind}.tif"
        invoke("median", files[(kind, "tiled")], out)
        with tifffile.TiffFile(out) as tif:
            assert tif.pages[0].is_tiled
        with Image.open(out) as im:
            assert im.size == (W, H)
            im.load()
            via_pillow = np.asarray(im) if kind == "rgb8" else np.asarray(im, dtype=np.uint16)
        np.testing.assert_array_equal(via_pillow, tifffile.imread(out))
        np.testing.assert_array_equal(imgfilter.imread(out), tifffile.imread(out))


# ----------------------------------------------------------------- --scale stretch


STRETCH = {
    "sobel-angle": ["sobel", "--output", "angle", "--scale", "stretch"],
    "conv-sobel-x": ["conv", "--kernel", "sobel_x", "--scale", "stretch"],
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("case", list(STRETCH))
def test_stretch_chunked_equals_in_memory(tmp_path, inputs, reference, case, kind):
    """--scale stretch needs the whole image's range: a first pass finds it, then chunks are written."""
    _, files = inputs
    args = STRETCH[case]
    runs = {
        "tiled": ([files[(kind, "tiled")]], ".tif"),
        "npy-chunks40": ([files[(kind, "npy")], "--chunks", "40"], ".tif"),
        "tiled-zarr": ([files[(kind, "tiled")]], ".zarr"),
        "plain-chunks40": ([files[(kind, "plain")], "--chunks", "40"], ".png"),
    }
    for label, (src, ext) in runs.items():
        out = tmp_path / f"{label}{ext}"
        invoke(*args, *src, out)
        want = reference(args, kind, ".npy" if ext == ".zarr" else ext)
        assert_same(read_back(out), want, f"{case} {kind} {label}")
    # The stretch reaches both ends of the range (it is not per chunk, nor a no-op).
    tif = read_back(tmp_path / "tiled.tif")
    if tif.dtype.kind == "u":
        assert tif.min() == 0 and tif.max() == np.iinfo(tif.dtype).max


def test_stretch_with_alpha_uses_colour_only(tmp_path, inputs):
    pixels, _ = inputs
    rgba = np.dstack([pixels["rgb8"], np.full((H, W), 77, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")  # declares its alpha, as the TIFF does
    tifffile.imwrite(tmp_path / "rgba.tif", rgba, tile=TILE, photometric="rgb", extrasamples=["unassalpha"])
    args = STRETCH["sobel-angle"]
    invoke(*args, tmp_path / "rgba.png", tmp_path / "ref.tif")
    invoke(*args, tmp_path / "rgba.tif", "--chunks", "64", tmp_path / "lazy.tif")
    lazy = read_back(tmp_path / "lazy.tif")
    assert_same(lazy, read_back(tmp_path / "ref.tif"), "stretch rgba")
    assert (lazy[..., 3] == 77).all()


# ----------------------------------------------------------------- failures are atomic


def truncated_tiff(folder: Path, x: np.ndarray) -> Path:
    """A tiled TIFF whose header and first tiles are fine and whose later tiles are cut off."""
    path = folder / "cut.tif"
    tifffile.imwrite(path, x, tile=(64, 64), photometric="rgb")
    with tifffile.TiffFile(path) as tif:
        offsets = tif.pages[0].dataoffsets
    data = path.read_bytes()
    path.write_bytes(data[: int(offsets[len(offsets) * 3 // 5]) + 100])
    with tifffile.TiffFile(path) as tif:  # still opens: the failure comes mid-way
        assert tif.pages[0].is_tiled
    return path


def corrupt_zarr(folder: Path, x: np.ndarray) -> Path:
    """A Zarr array one of whose chunk files (not the first) holds garbage."""
    path = folder / "bad.zarr"
    write_zarr(path, x, (64, 64))
    chunk_files = sorted(
        p for p in path.rglob("*") if p.is_file() and not p.name.startswith(("zarr.json", ".z"))
    )
    assert len(chunk_files) > 4
    chunk_files[len(chunk_files) // 2].write_bytes(b"this is not a compressed chunk" * 10)
    return path


BROKEN = {"truncated-tiff": truncated_tiff, "corrupt-zarr-chunk": corrupt_zarr}


def existing_output(path: Path) -> None:
    """A previous, valid output at ``path`` (a file or a Zarr folder)."""
    previous = np.arange(40 * 30 * 3, dtype=np.uint8).reshape(40, 30, 3)
    if path.suffix == ".zarr":
        write_zarr(path, previous, (16, 16))
    else:
        tifffile.imwrite(path, previous, photometric="rgb")
    old = 1_000_000_000_000_000_000
    for p in [path, *path.rglob("*")] if path.is_dir() else [path]:
        os.utime(p, ns=(old, old))


@pytest.mark.parametrize("existing", [False, True], ids=["no-output-yet", "output-exists"])
@pytest.mark.parametrize("ext", [".tif", ".zarr"])
@pytest.mark.parametrize("broken", list(BROKEN))
def test_failed_read_leaves_no_partial_output(tmp_path, inputs, broken, ext, existing):
    pixels, _ = inputs
    src_dir, out_dir = tmp_path / "in", tmp_path / "out"
    src_dir.mkdir()
    out_dir.mkdir()
    src = BROKEN[broken](src_dir, pixels["rgb8"])
    out = out_dir / f"result{ext}"
    if existing:
        existing_output(out)
    before = snapshot(out_dir)
    result = CliRunner().invoke(main, ["median", "--chunks", "64", str(src), str(out)])
    assert result.exit_code != 0, "a failed read must not exit 0"
    assert snapshot(out_dir) == before  # no output, no temporary file, the old output untouched
    assert hidden(out_dir) == []


@pytest.mark.parametrize("ext", [".tif", ".zarr"])
@pytest.mark.parametrize("broken", list(BROKEN))
def test_failed_read_reports_one_line(tmp_path, inputs, broken, ext):
    pixels, _ = inputs
    src = BROKEN[broken](tmp_path, pixels["rgb8"])
    result = CliRunner().invoke(main, ["median", "--chunks", "64", str(src), str(tmp_path / f"out{ext}")])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"uncaught {result.exception!r} (a traceback for the user)"
    )
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("imgfilter: ") and src.name in lines[0], lines[0]


def test_failed_read_in_real_process_no_traceback(tmp_path, inputs):
    pixels, _ = inputs
    src = truncated_tiff(tmp_path, pixels["rgb8"])
    proc = subprocess.run(
        [sys.executable, "-m", "imgfilter", "sobel", "--chunks", "64", src, tmp_path / "out.tif"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr[-2000:]
    assert not (tmp_path / "out.tif").exists() and hidden(tmp_path) == []


def test_chunks_below_16_is_usage_error(tmp_path, inputs):
    _, files = inputs
    res = invoke("sobel", "--chunks", "15", files[("rgb8", "npy")], tmp_path / "o.tif", ok=False)
    assert res.exit_code == 2 and "--chunks" in res.output
    invoke("sobel", "--chunks", "16", files[("rgb8", "npy")], tmp_path / "o.tif")


# ----------------------------------------------------------------- the decompression-bomb guard


def test_max_pixels_smaller_than_a_tile_refused(tmp_path, inputs):
    _, files = inputs
    src = files[("rgb8", "tiled")]
    res = invoke(
        "sobel",
        "--max-pixels",
        str(TILE[0] * TILE[1] - 1),
        "--chunks",
        "16",
        src,
        tmp_path / "o.tif",
        ok=False,
    )
    assert res.exit_code == 1
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("imgfilter: ") and src.name in lines[0], res.output
    assert "limit" in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_max_pixels_smaller_than_a_chunk_refused(tmp_path, inputs):
    _, files = inputs
    # Tiles of 64x48 = 3072 fit; chunks of 64x64 = 4096 do not.
    src = files[("rgb8", "tiled")]
    res = invoke("sobel", "--max-pixels", "4000", "--chunks", "64", src, tmp_path / "o.tif", ok=False)
    assert res.exit_code == 1
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("imgfilter: ") and src.name in lines[0], res.output
    assert "chunk" in lines[0] and "limit" in lines[0]
    # A Zarr chunk of 50x70 = 3500 pixels is over 3000.
    src = files[("rgb8", "zarr")]
    res = invoke("sobel", "--max-pixels", "3000", "--chunks", "16", src, tmp_path / "o.zarr", ok=False)
    assert res.exit_code == 1
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("imgfilter: ") and src.name in lines[0], res.output
    assert list(tmp_path.iterdir()) == []


def test_image_over_max_pixels_with_small_tiles_accepted_lazily(tmp_path, inputs, reference):
    """--max-pixels bounds what is decoded at once: tiles and chunks, not the whole lazy image."""
    _, files = inputs
    limit = 64 * 64  # a chunk of 64x64 and a tile of 64x48 fit; the image (77,100 px) does not
    assert H * W > limit
    for role, ext in (("tiled", ".tif"), ("zarr", ".zarr"), ("tiled", ".png")):
        out = tmp_path / f"{role}{ext}"
        invoke("median", "--size", "5", "--max-pixels", limit, "--chunks", "64", files[("rgb8", role)], out)
        want = reference(FILTERS["median"], "rgb8", ".npy" if ext == ".zarr" else ext)
        assert_same(read_back(out), want, f"max-pixels {role} -> {ext}")
    # Formats read whole (PNG, strip TIFF) keep the whole-image limit, --chunks or not.
    strip = tmp_path / "strip.tif"
    tifffile.imwrite(strip, inputs[0]["rgb8"], photometric="rgb")
    for src in (files[("rgb8", "plain")], strip):
        for extra in ([], ["--chunks", "64"]):
            res = invoke("median", "--max-pixels", limit, *extra, src, tmp_path / "refused.tif", ok=False)
            assert res.exit_code == 1 and "limit" in res.output and src.name in res.output, res.output
    assert not (tmp_path / "refused.tif").exists()


# ----------------------------------------------------------------- memory stays bounded


def _peak_rss_mb(args: list, log: Path) -> tuple[int, float, float]:
    """Run ``python -m imgfilter ARGS``; its exit status, peak RSS in MB and CPU seconds (this child only)."""
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "imgfilter", *map(str, args)], stdout=subprocess.DEVNULL, stderr=err
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime  # KiB on Linux


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss is in KiB on Linux only")
def test_out_of_core_memory_is_bounded(tmp_path):
    """Sobel on a 4000x4000 16-bit tiled TIFF with --chunks 512 does not hold the image in memory.

    Whole in memory, it needs at least the input (32 MB) plus one float32 plane
    (64 MB). Measured on 2 cores: about 95 MB for the process on a 256x256
    image (Python, NumPy, SciPy, Dask), +19 MB for the 4000x4000 one chunked,
    +120 MB with the default 2048-pixel chunks and +165 MB in memory. The
    bound, half of input plus float plane, leaves 2.5x headroom.
    """
    n = 4000
    rng = np.random.default_rng(11)
    big = rng.integers(0, 65536, (n, n), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "big.tif", big, tile=(256, 256))
    tifffile.imwrite(tmp_path / "small.tif", big[:256, :256], tile=(256, 256))
    common = ["sobel", "--threads", "2", "--chunks", "512"]
    rc, base, cpu_small = _peak_rss_mb(
        [*common, tmp_path / "small.tif", tmp_path / "small_out.tif"], tmp_path / "a.log"
    )
    assert rc == 0, (tmp_path / "a.log").read_text()
    rc, peak, cpu_big = _peak_rss_mb(
        [*common, tmp_path / "big.tif", tmp_path / "big_out.tif"], tmp_path / "b.log"
    )
    assert rc == 0, (tmp_path / "b.log").read_text()
    # CPU seconds, not wall: the suite shares the cores (xdist, other jobs), so wall time measures the load.
    cpu = cpu_small + cpu_big
    whole = (big.nbytes + big.size * 4) / 2**20
    assert peak - base < whole / 2, (
        f"peak {peak:.0f} MB vs {base:.0f} MB for a tiny image; whole = {whole:.0f} MB"
    )
    assert cpu < 15, f"took {cpu_small:.1f} + {cpu_big:.1f} CPU s"
    # The result is right: a window away from the border, from the Python API on a crop with its halo.
    out = tifffile.imread(tmp_path / "big_out.tif")
    assert out.shape == (n, n) and out.dtype == np.uint16
    y0, x0 = 1500, 2047
    crop = imgfilter.sobel(big[y0 - 1 : y0 + 201, x0 - 1 : x0 + 301])[1:-1, 1:-1]
    want = to_file_dtype(crop, depth="16", source_max=65535.0)
    np.testing.assert_array_equal(out[y0 : y0 + 200, x0 : x0 + 300], want)
    with tifffile.TiffFile(tmp_path / "big_out.tif") as tif:
        assert tif.pages[0].is_tiled and not tif.is_bigtiff
