"""The lazy (out-of-core) path against hostile and damaged inputs, full disks and terminals.

Each case runs the CLI in a process of its own: a runner imports Dask, Zarr
and tifffile once and forks one child per case (so a case costs no start-up),
with its stderr in a file, a file-size limit (a run that tries to fill the
disk fails instead) and a deadline after which it counts as a hang.
"""

from __future__ import annotations

import json
import os
import pty
import random
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("dask.array")
zarr = pytest.importorskip("zarr")
tifffile = pytest.importorskip("tifffile")

from click.testing import CliRunner  # noqa: E402
from hypothesis import settings  # noqa: E402

from imgfilter.cli import main  # noqa: E402

RUNNER = r"""
import json, os, resource, signal, sys, time
import dask.array, tifffile, zarr  # once, before the forks
import imgfilter.io.chunked
from imgfilter.cli import main

results = []
for case in json.load(sys.stdin):
    err = os.open(case["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    pid = os.fork()
    if pid == 0:
        os.dup2(err, 2)
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
        limit = case.get("fsize", 64 << 20)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        if case.get("no_space_check"):
            imgfilter.io.chunked._check_space = lambda dst, needed: None
        sys.argv = ["imgfilter", *case["args"]]
        main()
        sys.exit(0)
    os.close(err)
    deadline = time.monotonic() + case.get("timeout", 30)
    status = None
    while time.monotonic() < deadline:
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = os.waitstatus_to_exitcode(st)
            break
        time.sleep(0.01)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    results.append(status)
print(json.dumps(results))
"""


def run_cases(folder: Path, cases: list[dict]) -> list[tuple[int | None, str]]:
    """Each case's exit status (None: killed as a hang) and stderr."""
    for i, case in enumerate(cases):
        case["stderr"] = str(folder / f"stderr-{i}.txt")
        case["args"] = [str(a) for a in case["args"]]
    budget = sum(c.get("timeout", 30) for c in cases) + 60
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        timeout=budget,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    codes = json.loads(proc.stdout.strip().splitlines()[-1])
    return [
        (code, Path(c["stderr"]).read_text(errors="replace")) for code, c in zip(codes, cases, strict=True)
    ]


def assert_refused(code: int | None, err: str, name: str, words: tuple[str, ...] = ()) -> None:
    assert code is not None, f"{name}: still running at the deadline (a hang)"
    assert code == 1, f"{name}: exit {code}: {err[-2000:]}"
    assert "Traceback" not in err, err[-2000:]
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"{name}: {len(lines)} lines on stderr: {err[:2000]}"
    assert lines[0].startswith("imgfilter: ") and name in lines[0], lines[0]
    for word in words:
        assert word in lines[0], lines[0]


def no_output(folder: Path) -> None:
    assert list(folder.iterdir()) == [], sorted(p.name for p in folder.iterdir())


# ----------------------------------------------------------------- hostile headers


def tiff_header(
    path: Path,
    width: int,
    height: int,
    *,
    tile: tuple[int, int] = (256, 256),
    n_units: int | None = None,
    strips: bool = False,
    rows: int | None = None,
    bigtiff: bool = False,
) -> Path:
    """A few hundred bytes of TIFF: a header claiming width x height, and no pixel data.

    The tile (or strip) offset and byte-count arrays claim ``n_units``
    entries (by default as many as the size needs) that are not in the file.
    """
    entries = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (259, 3, 1, 1)]
    entries += [(262, 3, 1, 1), (277, 3, 1, 1)]
    if strips:
        entries += [(273, 4, 1, 16), (278, 4, 1, height if rows is None else rows), (279, 4, 1, 100)]
    else:
        n = n_units if n_units is not None else -(-width // max(tile[1], 1)) * -(-height // max(tile[0], 1))
        entries += [(322, 4, 1, tile[1]), (323, 4, 1, tile[0]), (324, 4, n, 16), (325, 4, n, 16)]
    entries.sort()
    if bigtiff:
        ifd = struct.pack("<Q", len(entries)) + b"".join(struct.pack("<HHQQ", *e) for e in entries)
        data = b"II+\x00" + struct.pack("<HHQ", 8, 0, 16) + ifd + struct.pack("<Q", 0)
    else:
        ifd = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *e) for e in entries)
        data = b"II*\x00" + struct.pack("<I", 16) + b"\0" * 8 + ifd + struct.pack("<I", 0)
    path.write_bytes(data)
    return path


def looped_tiff(path: Path) -> Path:
    tifffile.imwrite(path, np.zeros((64, 64), np.uint8), tile=(16, 16))
    data = bytearray(path.read_bytes())
    ifd = struct.unpack_from("<I", data, 4)[0]
    entries = struct.unpack_from("<H", data, ifd)[0]
    struct.pack_into("<I", data, ifd + 2 + 12 * entries, ifd)  # the next IFD is itself
    path.write_bytes(bytes(data))
    return path


def long_tiff(path: Path, pages: int) -> Path:
    with tifffile.TiffWriter(path) as tif:
        for _ in range(pages):
            tif.write(np.zeros((16, 16), np.uint8), tile=(16, 16), contiguous=False)
    return path


def cut_tiff(path: Path) -> Path:
    """Tiles whose offsets point past the end of the file."""
    tifffile.imwrite(path, np.zeros((512, 512), np.uint8), tile=(64, 64))
    path.write_bytes(path.read_bytes()[:-5000])
    return path


def zarr_meta(path: Path, shape: list[int], chunks: list[int]) -> Path:
    """A Zarr array of metadata only (every chunk missing) claiming ``shape``."""
    zarr.open_array(str(path), mode="w", shape=(32, 32), chunks=(16, 16), dtype=np.uint8)
    v3, v2 = path / "zarr.json", path / ".zarray"
    if v3.exists():
        meta = json.loads(v3.read_text())
        meta["shape"] = shape
        meta["chunk_grid"]["configuration"]["chunk_shape"] = chunks
        v3.write_text(json.dumps(meta))
    else:
        meta = json.loads(v2.read_text())
        meta["shape"], meta["chunks"] = shape, chunks
        v2.write_text(json.dumps(meta))
    return path


def test_hostile_headers_refused_at_once(tmp_path):
    """Tiny files whose headers claim huge or impossible images: one line each, nothing written.

    On the old code these ran past the deadline, wrote gigabytes of zeros
    (stopped here by the file-size limit), or died in the tile arithmetic.
    """
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    out.mkdir()
    inputs = {
        # name: (file, extra options, words the one line must hold)
        "huge.tif": (tiff_header(src / "huge.tif", 200_000, 200_000), [], ("limit", "--max-pixels")),
        "no-tiles.tif": (tiff_header(src / "no-tiles.tif", 100_000, 100_000), [], ("damaged",)),
        "two-offsets.tif": (
            tiff_header(src / "two-offsets.tif", 100_000, 100_000, n_units=2),
            [],
            ("damaged",),
        ),
        "tile-length-0.tif": (
            tiff_header(src / "tile-length-0.tif", 1000, 1000, tile=(0, 256), n_units=4),
            [],
            ("damaged",),
        ),
        "rows-0.tif": (
            tiff_header(src / "rows-0.tif", 1000, 1000, strips=True, rows=0, bigtiff=True),
            [],
            ("damaged",),
        ),
        "width-0.tif": (tiff_header(src / "width-0.tif", 0, 1000, n_units=4), [], ("no pixels",)),
        "tiny-tiles.tif": (
            tiff_header(src / "tiny-tiles.tif", 100_000, 100_000, tile=(16, 16), n_units=1),
            [],
            ("limit",),
        ),
        "strips-missing.tif": (
            tiff_header(src / "strips-missing.tif", 100_000, 100_000, strips=True, rows=1, bigtiff=True),
            [],
            ("damaged",),
        ),
        "loop.tif": (looped_tiff(src / "loop.tif"), [], ("loops",)),
        "pages.tif": (long_tiff(src / "pages.tif", 1100), [], ("1024",)),
        "cut.tif": (cut_tiff(src / "cut.tif"), [], ("end of the file",)),
        "one-px-chunks.zarr": (
            zarr_meta(src / "one-px-chunks.zarr", [4096, 4096], [1, 1]),
            [],
            ("limit",),
        ),
        "huge.zarr": (zarr_meta(src / "huge.zarr", [10**7, 10**7], [2048, 2048]), [], ("limit",)),
        "chunk-0.zarr": (zarr_meta(src / "chunk-0.zarr", [4096, 4096], [0, 16]), [], ()),
        "many-chunks.zarr": (
            zarr_meta(src / "many-chunks.zarr", [4096, 4096], [256, 256]),
            ["--chunks", "16"],
            ("--chunks",),
        ),
    }
    cases = [
        {"args": ["sobel", *extra, path, out / f"{name}.tif"], "timeout": 60}
        for name, (path, extra, _) in inputs.items()
    ]
    results = run_cases(tmp_path, cases)
    for (name, (_, _, words)), (code, err) in zip(inputs.items(), results, strict=True):
        assert_refused(code, err, name, words)
    no_output(out)


def test_lazy_limit_follows_max_pixels(tmp_path):
    """The whole-image bound is 256 x --max-pixels, so raising --max-pixels raises it."""
    from imgfilter.io import ImageError
    from imgfilter.io.lazy import LAZY_FACTOR, check_lazy

    assert LAZY_FACTOR == 256
    check_lazy("x.zarr", (1000, 1000), (100, 100), (500, 500), max_pixels=1_000_000 // 256 + 1)
    with pytest.raises(ImageError, match="limit of 999936"):
        check_lazy("x.zarr", (1000, 1000), (100, 100), (500, 500), max_pixels=1_000_000 // 256)
    # Tiny stored chunks: 100,000 at most, more only when they average 64 x 64 pixels.
    check_lazy("x.zarr", (3200, 3120), (10, 10), None, max_pixels=10**9)  # 99,840 chunks
    with pytest.raises(ImageError, match="stored"):
        check_lazy("x.zarr", (3200, 3130), (10, 10), None, max_pixels=10**9)  # 100,160
    check_lazy("x.zarr", (65536, 65536), (64, 64), None, max_pixels=10**9)  # 64 x 64 on average


# ----------------------------------------------------------------- full disks


@pytest.fixture
def tiny_disk(tmp_path):
    """A 2 MB tmpfs, or a skip where mounting is not allowed."""
    folder = tmp_path / "disk"
    folder.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_full_disk_refused_in_one_line_and_leaves_nothing(tmp_path, tiny_disk):
    """Outputs larger than the free space: refused before writing (.npy, .tif, .zarr).

    With the check taken away, the .npy writer's reservation fails cleanly
    (ENOSPC) instead of the old memory map's SIGBUS (exit 135), and removes
    its temporary file, so a later write to the folder works.
    """
    rng = np.random.default_rng(3)
    src = tmp_path / "in.tif"
    tifffile.imwrite(
        src, rng.integers(0, 256, (600, 600, 3), dtype=np.uint8), tile=(64, 64), photometric="rgb"
    )
    small = tmp_path / "small.tif"
    tifffile.imwrite(small, rng.integers(0, 256, (64, 64), dtype=np.uint8), tile=(16, 16))
    cases = [
        {"args": ["sobel", src, tiny_disk / "out.npy"]},  # 4.3 MB of float32
        {"args": ["sobel", "--depth", "float", src, tiny_disk / "out.tif"]},
        {"args": ["sobel", "--depth", "float", src, tiny_disk / "out.zarr"]},
        {"args": ["sobel", src, tiny_disk / "out.npy"], "no_space_check": True},
        {"args": ["sobel", small, tiny_disk / "later.npy"]},
    ]
    results = run_cases(tmp_path, cases)
    for (code, err), words in zip(results[:3], [("free",)] * 3, strict=True):
        assert_refused(code, err, "out.", words)
    code, err = results[3]
    assert code != -7 and code != 135, "died of SIGBUS"
    assert_refused(code, err, "out.npy", ("no space left",))
    assert results[4][0] == 0, results[4][1]
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["later.npy"]
    assert np.load(tiny_disk / "later.npy").shape == (64, 64)


def test_npy_output_written_without_memmap_equals_in_memory(tmp_path):
    """The pwrite-based .npy writer: every chunk layout lands where the in-memory result has it."""
    rng = np.random.default_rng(5)
    x = rng.integers(0, 65536, (300, 257, 3), dtype=np.uint16)
    np.save(tmp_path / "x.npy", x)
    tifffile.imwrite(tmp_path / "x.tif", x, tile=(64, 48), photometric="rgb")
    runner = CliRunner()
    for args in (["sobel"], ["gaussian", "--sigma", "2"]):
        ref = runner.invoke(main, [*args, str(tmp_path / "x.npy"), str(tmp_path / "ref.npy")])
        assert ref.exit_code == 0, ref.output
        for extra in ([], ["--chunks", "64"], ["--chunks", "300"]):
            res = runner.invoke(main, [*args, *extra, str(tmp_path / "x.tif"), str(tmp_path / "lazy.npy")])
            assert res.exit_code == 0, res.output
            got, want = np.load(tmp_path / "lazy.npy"), np.load(tmp_path / "ref.npy")
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


# ----------------------------------------------------------------- damaged data: one line


def damaged_zlib_tiff(path: Path) -> Path:
    """A deflate-tiled TIFF whose header and first half are fine and whose second half is garbage."""
    x = np.random.default_rng(0).integers(0, 256, (512, 512, 3), dtype=np.uint8)
    tifffile.imwrite(path, x, tile=(32, 32), photometric="rgb", compression="zlib")
    with tifffile.TiffFile(path) as tif:
        offsets, counts = tif.pages[0].dataoffsets, tif.pages[0].databytecounts
    data = bytearray(path.read_bytes())
    for i in range(len(offsets) // 2, len(offsets)):
        data[offsets[i] : offsets[i] + counts[i]] = b"\xff" * counts[i]
    path.write_bytes(bytes(data))
    return path


def damaged_zarr(path: Path) -> Path:
    x = np.random.default_rng(1).integers(0, 256, (512, 512, 3), dtype=np.uint8)
    z = zarr.open_array(str(path), mode="w", shape=x.shape, chunks=(32, 32, 3), dtype=x.dtype)
    z[:] = x
    chunks = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith((".z", "zarr.json")))
    for p in chunks[len(chunks) // 2 :]:
        p.write_bytes(b"not a compressed chunk")
    return path


def test_tile_that_fails_mid_run_is_one_line(tmp_path):
    """The old code printed 400-500 lines of asyncio 'Task was destroyed' and tracebacks at exit."""
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    out.mkdir()
    tif, zr = damaged_zlib_tiff(src / "half.tif"), damaged_zarr(src / "half.zarr")
    cases = [
        {"args": ["sobel", "--threads", "2", tif, out / "a.tif"]},
        {"args": ["sobel", "--threads", "2", tif, out / "a.zarr"]},
        {"args": ["median", "--threads", "2", zr, out / "b.tif"]},
        {"args": ["sobel", "--threads", "2", "--chunks", "64", zr, out / "b.npy"]},
    ]
    for case, (code, err) in zip(cases, run_cases(tmp_path, cases), strict=True):
        assert_refused(code, err, Path(case["args"][-2]).name)
        assert "Task was destroyed" not in err
    no_output(out)


# ----------------------------------------------------------------- compressed tiles


COMPRESSIONS = ["jpeg", "lzw", "zstd", "zlib", "webp"]


def test_dask_extra_brings_imagecodecs():
    from importlib.metadata import requires

    extra = [r for r in requires("imgfilter") or [] if 'extra == "dask"' in r]
    assert any(r.startswith("imagecodecs") for r in extra), extra
    pytest.importorskip("imagecodecs")


@pytest.mark.parametrize("compression", COMPRESSIONS)
def test_compressed_tiled_tiff_read_lazily(tmp_path, compression):
    """Whole-slide and GIS tilings: the lazy result equals the in-memory one on the decoded pixels."""
    pytest.importorskip("imagecodecs")
    x = np.random.default_rng(7).integers(0, 256, (300, 257, 3), dtype=np.uint8)
    src = tmp_path / f"{compression}.tif"
    tifffile.imwrite(src, x, tile=(64, 64), photometric="rgb", compression=compression)
    np.save(tmp_path / "decoded.npy", tifffile.imread(src))  # JPEG is lossy: its own decoded pixels
    runner = CliRunner()
    for ext in (".tif", ".npy"):
        ref = runner.invoke(main, ["sobel", str(tmp_path / "decoded.npy"), str(tmp_path / f"ref{ext}")])
        assert ref.exit_code == 0, ref.output
        res = runner.invoke(main, ["sobel", "--chunks", "128", str(src), str(tmp_path / f"lazy{ext}")])
        assert res.exit_code == 0, res.output
        read = np.load if ext == ".npy" else tifffile.imread
        np.testing.assert_array_equal(read(tmp_path / f"lazy{ext}"), read(tmp_path / f"ref{ext}"))


def test_missing_codec_is_one_line_naming_imagecodecs(tmp_path):
    pytest.importorskip("imagecodecs")
    src = tmp_path / "lzw.tif"
    tifffile.imwrite(src, np.zeros((64, 64), np.uint8), tile=(16, 16), compression="lzw")
    code = "import sys; sys.modules['imagecodecs'] = None; from imgfilter.cli import main; main()"
    proc = subprocess.run(
        [sys.executable, "-c", code, "sobel", str(src), str(tmp_path / "out.tif")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert_refused(proc.returncode, proc.stderr, "lzw.tif", ("imagecodecs",))
    assert not (tmp_path / "out.tif").exists()


# ----------------------------------------------------------------- progress


def _stderr_on_terminal(args: list) -> tuple[int, bytes]:
    """Run the CLI with stderr on a pseudo-terminal; its status and what the terminal got."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "imgfilter", *map(str, args)], stdout=subprocess.DEVNULL, stderr=slave
    )
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    return proc.wait(timeout=120), seen


def test_out_of_core_run_shows_chunk_progress_on_a_terminal(tmp_path):
    x = np.random.default_rng(2).integers(0, 256, (600, 600), dtype=np.uint8)
    src = tmp_path / "in.tif"
    tifffile.imwrite(src, x, tile=(64, 64))
    code, seen = _stderr_on_terminal(["sobel", "--chunks", "256", src, tmp_path / "out.tif"])
    assert code == 0, seen
    # The batch's own bar, counting chunks: 600 px in 256-px chunks is 3 x 3.
    assert b"imgfilter" in seen and b"0/9" in seen and b"9/9" in seen, seen
    code, seen = _stderr_on_terminal(["sobel", "--chunks", "256", "--quiet", src, tmp_path / "q.tif"])
    assert code == 0 and seen == b"", seen
    # Not a terminal: nothing.
    proc = subprocess.run(
        [sys.executable, "-m", "imgfilter", "sobel", "--chunks", "256", src, tmp_path / "p.zarr"],
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 0 and proc.stderr == b"", proc.stderr


# ----------------------------------------------------------------- fuzz


def _tiff_fields(path: Path) -> list[tuple[int, int]]:
    """(file offset, byte size) of the size-like fields of the first IFD."""
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        fields = []
        for code in (256, 257, 258, 277, 278, 322, 323, 324, 325):
            tag = page.tags.get(code)
            if tag is not None:
                fields.append((tag.valueoffset, tag.dtype.itemsize if hasattr(tag.dtype, "itemsize") else 4))
                fields.append((tag.offset + 4, 4))  # the count
        return fields


def _mutate_tiff(rng: random.Random, clean: bytes, fields: list[tuple[int, int]]) -> bytes:
    data = bytearray(clean)
    kind = rng.choice(["flip", "flip-header", "truncate", "field"])
    if kind == "flip":
        for _ in range(rng.randint(1, 16)):
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
    elif kind == "flip-header":
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(min(len(data), 512))
            data[i] ^= 1 << rng.randrange(8)
    elif kind == "truncate":
        del data[rng.randrange(len(data)) :]
    else:
        at, size = rng.choice(fields)
        value = rng.choice([0, 1, 2, 15, 17, 255, 65535, 2**31 - 1, 2**32 - 1, rng.randrange(2**32)])
        data[at : at + size] = (value % 2 ** (8 * size)).to_bytes(size, "little")
    return bytes(data)


def _mutate_zarr(rng: random.Random, folder: Path) -> None:
    meta_path = folder / "zarr.json" if (folder / "zarr.json").exists() else folder / ".zarray"
    chunks = sorted(p for p in folder.rglob("*") if p.is_file() and p != meta_path and p.name != ".zattrs")
    kind = rng.choice(
        ["shape", "chunk-shape", "dtype", "meta-bytes", "chunk-bytes", "chunk-cut", "chunk-gone"]
    )
    if kind in ("shape", "chunk-shape", "dtype"):
        meta = json.loads(meta_path.read_text())
        value = rng.choice([0, 1, -1, 3, 4, 5, 7, 1000, 10**6, 2**40, 2**63])
        if kind == "dtype":
            key = "data_type" if "data_type" in meta else "dtype"
            meta[key] = rng.choice(["uint16", "float64", "complex64", "bool", "<u2", "|S4", "nonsense"])
        elif kind == "shape":
            meta["shape"][rng.randrange(len(meta["shape"]))] = value
        elif "chunk_grid" in meta:
            shape = meta["chunk_grid"]["configuration"]["chunk_shape"]
            shape[rng.randrange(len(shape))] = value
        else:
            meta["chunks"][rng.randrange(len(meta["chunks"]))] = value
        meta_path.write_text(json.dumps(meta))
    elif kind == "meta-bytes":
        data = bytearray(meta_path.read_bytes())
        for _ in range(rng.randint(1, 6)):
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
        meta_path.write_bytes(bytes(data))
    else:
        target = rng.choice(chunks)
        data = bytearray(target.read_bytes())
        if kind == "chunk-gone":
            target.unlink()
        elif kind == "chunk-cut":
            target.write_bytes(bytes(data[: rng.randrange(max(len(data), 1))]))
        else:
            for _ in range(rng.randint(1, 8)):
                i = rng.randrange(len(data))
                data[i] ^= 1 << rng.randrange(8)
            target.write_bytes(bytes(data))


def test_fuzzed_lazy_inputs(tmp_path):
    """Mutated tiled TIFFs and Zarr arrays (bit flips, cuts, size fields): each case exits 0 with a
    whole output, or 1 with one line and no output; never a traceback, a hang or a partial file.

    The quick profile runs 2 x 15 cases from a fixed seed; HYPOTHESIS_PROFILE=thorough runs
    2 x 400 from a fresh one (printed on failure; FUZZ_SEED=N replays one).
    """
    examples = settings().max_examples
    thorough = examples > 25
    n = examples if thorough else 15
    seed = int(os.environ.get("FUZZ_SEED", random.randrange(2**32) if thorough else 20261201))
    rng = random.Random(seed)
    x = np.random.default_rng(4).integers(0, 256, (96, 80, 3), dtype=np.uint8)
    clean_tifs = {}
    for compression in ("none", "zlib"):
        path = tmp_path / f"clean-{compression}.tif"
        tifffile.imwrite(path, x, tile=(32, 32), photometric="rgb", compression=compression)
        clean_tifs[compression] = (path.read_bytes(), _tiff_fields(path))
    clean_zarr = tmp_path / "clean.zarr"
    z = zarr.open_array(str(clean_zarr), mode="w", shape=x.shape, chunks=(32, 32, 3), dtype=x.dtype)
    z[:] = x
    # A small bound keeps a mutated size within seconds of work (a lazy image of at most 4.2 Mpx).
    common = ["sobel", "--max-pixels", "16384", "--chunks", "64", "--threads", "2"]
    outputs = [".tif", ".npy", ".zarr"]
    cases, srcs = [], []
    for i in range(2 * n):
        case_dir = tmp_path / f"case{i}"
        (case_dir / "out").mkdir(parents=True)
        if i % 2 == 0:
            clean, fields = clean_tifs[rng.choice(["none", "zlib"])]
            src = case_dir / "in.tif"
            src.write_bytes(_mutate_tiff(rng, clean, fields))
        else:
            src = case_dir / "in.zarr"
            shutil.copytree(clean_zarr, src)
            _mutate_zarr(rng, src)
        srcs.append(src)
        cases.append({"args": [*common, src, case_dir / "out" / f"result{outputs[i % 3]}"], "timeout": 60})
    results = run_cases(tmp_path, cases)
    problems = [
        f"case {i} (seed {seed}): {problem}: {' '.join(case['args'])}\n{err[:1500]}"
        for i, ((code, err), case) in enumerate(zip(results, cases, strict=True))
        if (problem := _fuzz_problem(code, err, Path(case["args"][-1])))
    ]
    assert not problems, f"{len(problems)} of {len(cases)} cases:\n" + "\n".join(problems)


def _fuzz_problem(code: int | None, err: str, out: Path) -> str | None:
    """What is wrong with one fuzz case's outcome, or None."""
    if code is None:
        return "hang"
    if code not in (0, 1):
        return f"exit {code}"
    if "Traceback" in err:
        return "traceback"
    lines = err.strip().splitlines()
    if len(lines) > 1:
        return f"{len(lines)} lines on stderr"
    left = sorted(p.name for p in out.parent.iterdir())
    if code == 1:
        if left:
            return f"partial output {left}"
        if not lines or not lines[0].startswith("imgfilter: "):
            return "no one-line error"
        return None
    if left != [out.name]:
        return f"outputs {left}"
    if out.suffix == ".tif":
        got = tifffile.imread(out)
    elif out.suffix == ".npy":
        got = np.load(out)
    else:
        got = zarr.open(str(out), mode="r")[:]
    return None if got.ndim in (2, 3) and got.size > 0 else f"output of shape {got.shape}"


# ----------------------------------------------------------------- issue 15 leftovers

# The chunked TIFF writer held up in its first chunk (on a pool thread, as
# every chunk is), so a signal lands while the staged output exists.
SLOW_CHUNK = """
import os, sys, time
import imgfilter.io.chunked as chunked
real = chunked._write_tiles
calls = []
folder = os.path.dirname(sys.argv[-1])
def staged():
    return any(name.startswith(".") for name in os.listdir(folder))
def slow(*args, **kwargs):
    calls.append(1)
    if len(calls) == 1:
        print("writing", file=sys.stderr, flush=True)
        # Held up until the staged output is gone, for 8 s at most: removed only once
        # this chunk ends, it outlives the test's 3 s; removed at the signal, the
        # process need not sit out the rest of the 8 s before it exits.
        deadline = time.monotonic() + 8
        while staged() and time.monotonic() < deadline:
            time.sleep(0.02)
    return real(*args, **kwargs)
chunked._write_tiles = slow
from imgfilter.cli import main
sys.argv = ["imgfilter", *sys.argv[1:]]
main()
"""


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])
def test_signal_during_a_chunked_write_removes_its_temporary_at_once(tmp_path, signame):
    import signal
    import time

    from PIL import Image

    src = tmp_path / "in.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (200, 200), np.uint8)).save(src)
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_CHUNK, "blur", "--chunks", "64", str(src), str(out / "o.tif")],
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stderr.readline().strip() == b"writing"
        assert [p.name for p in out.iterdir() if p.name.startswith(".")] != []
        proc.send_signal(getattr(signal, signame))
        # Gone at the signal, not once the chunk in flight ends (a SIGKILL then would leave it).
        deadline = time.monotonic() + 3
        while any(out.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert list(out.iterdir()) == []
        assert proc.wait(60) == 128 + getattr(signal, signame)
    finally:
        proc.kill()
        proc.wait()
        proc.stderr.close()
    assert list(out.iterdir()) == []


def test_grey_result_of_a_lazy_tiff_carries_no_colour_profile(tmp_path):
    from PIL import Image, ImageCms

    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    rgb = np.random.default_rng(2).integers(0, 256, (96, 96, 3), np.uint8)
    src = tmp_path / "rgb.tif"
    tifffile.imwrite(src, rgb, tile=(32, 32), photometric="rgb", iccprofile=srgb)
    runner = CliRunner()
    for args, channels in ((["sobel", "--gray"], 1), (["blur"], 3)):
        out = tmp_path / f"{args[0]}.tif"
        res = runner.invoke(main, [*args, "--chunks", "32", str(src), str(out)])
        assert res.exit_code == 0, res.output
        with tifffile.TiffFile(out) as tif:
            page = tif.pages[0]
            assert page.samplesperpixel == channels
            icc = page.tags.get(34675)
            icc = None if icc is None else bytes(icc.value)
        if channels == 1:
            assert icc is None  # an RGB profile on grey pixels breaks colour management
        else:
            assert icc == srgb
        with Image.open(out) as im:
            assert ("icc_profile" in im.info) == (channels == 3)


def test_arrays_declare_no_alpha_lazy_or_not(tmp_path):
    """.npy and Zarr inputs are data: a fourth channel is filtered as a colour, never taken as alpha."""
    import imgfilter

    rng = np.random.default_rng(3)
    arr = rng.random((64, 80, 4)).astype(np.float32)
    arr[..., 3] = np.linspace(0, 1, 80, dtype=np.float32)[None]
    want = imgfilter.blur(arr, 5, alpha=False)
    assert not np.allclose(want, imgfilter.blur(arr, 5, alpha=True))  # the rule is observable
    np.save(tmp_path / "a.npy", arr)
    z = zarr.open(str(tmp_path / "a.zarr"), mode="w", shape=arr.shape, chunks=(32, 32, 4), dtype=arr.dtype)
    z[:] = arr
    runner = CliRunner()
    for src, extra in (("a.npy", []), ("a.npy", ["--chunks", "32"]), ("a.zarr", [])):
        out = tmp_path / f"out-{src}-{len(extra)}.npy"
        res = runner.invoke(main, ["blur", "--size", "5", *extra, str(tmp_path / src), str(out)])
        assert res.exit_code == 0, res.output
        np.testing.assert_allclose(np.load(out), want, rtol=1e-5, atol=1e-6, err_msg=f"{src} {extra}")
    # A TIFF says which channel is alpha (ExtraSamples), and only then is it.
    u8 = (arr * 255).round().astype(np.uint8)
    for extrasample, alpha in (("unassalpha", True), ("unspecified", False)):
        src = tmp_path / f"{extrasample}.tif"
        tifffile.imwrite(src, u8, tile=(32, 32), photometric="rgb", extrasamples=[extrasample])
        out = tmp_path / f"{extrasample}.npy"
        res = runner.invoke(main, ["blur", "--size", "5", str(src), str(out)])
        assert res.exit_code == 0, res.output
        np.testing.assert_allclose(
            np.load(out), imgfilter.blur(u8, 5, alpha=alpha).astype(np.float32), rtol=1e-5, atol=1e-3
        )


def test_tiff_probe_prints_nothing(tmp_path, capfd):
    """Deciding whether a .tif goes lazy reads its header quietly, whatever the header holds."""
    import warnings

    from imgfilter.io.lazy import is_large_tiff

    clean = tmp_path / "clean.tif"
    tifffile.imwrite(clean, np.zeros((64, 64), np.uint8), tile=(32, 32))
    data = clean.read_bytes()
    rng = random.Random(5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(60):
            mutated = bytearray(data)
            for _ in range(4):
                at = rng.randrange(8, min(len(mutated), 400))
                mutated[at] = rng.randrange(256)
            path = tmp_path / f"m{i}.tif"
            path.write_bytes(bytes(mutated))
            is_large_tiff(str(path))
    assert caught == []
    assert capfd.readouterr().err == ""
