"""Rows still arriving: ``read_image_rows`` and the CLI's bands that wait for their input rows.

The oracle is the ordinary read of the same file (``read_image``, whose
own decoder is checked against Pillow in test_png_decode.py) and, for the
CLI, the Python API on those pixels: the streamed route must give the same
picture, the same file and the same one-line errors, with no output left
behind when the data break halfway.
"""

from __future__ import annotations

import glob
import subprocess
import sys
import zlib

import numpy as np
import pytest
from pictures import assert_same_picture
from PIL import Image

import imgfilter
from imgfilter.io import png
from imgfilter.io.errors import ImageError
from imgfilter.io.read import read_image, read_image_rows

PHOTOS = sorted(glob.glob("sample_images/*.png"))
RNG = np.random.default_rng(11)


@pytest.mark.parametrize("path", PHOTOS, ids=lambda p: p.rsplit("/", 1)[-1])
def test_photos_arrive_as_read_image_gives_them(path):
    pic, rows = read_image_rows(path)
    assert rows is not None
    rows.wait()
    assert_same_picture(pic, read_image(path))


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA"])
@pytest.mark.parametrize("shape", [(1, 1), (1, 300), (700, 3), (333, 257)])
def test_modes_and_shapes(tmp_path, mode, shape):
    c = len(mode)
    a = RNG.integers(0, 256, (*shape, c), dtype=np.uint8)
    path = tmp_path / "x.png"
    Image.fromarray(a[..., 0] if c == 1 else a, mode).save(path, compress_level=1)
    pic, rows = read_image_rows(path)
    assert rows is not None
    for n in (0, 1, shape[0] // 2, shape[0], shape[0] + 5):
        rows.wait(n)
        np.testing.assert_array_equal(pic.pixels[:n], a[:n, :, 0] if c == 1 else a[:n])
    assert_same_picture(pic, read_image(path, decoder="pillow"))


@pytest.mark.parametrize("orientation", [1, 3, 6])
def test_exif_rotation_is_decoded_first(tmp_path, orientation):
    a = RNG.integers(0, 256, (40, 30, 3), dtype=np.uint8)
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "r.png"
    Image.fromarray(a).save(path, exif=exif)
    pic, rows = read_image_rows(path)
    assert (rows is None) == (orientation != 1)
    if rows is not None:
        rows.wait()
    assert_same_picture(pic, read_image(path, decoder="pillow"))


def test_files_not_decoded_here_have_all_their_rows(tmp_path):
    a = RNG.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    for name, kw in [("x.tif", {}), ("x.jpg", {"quality": 95}), ("p.png", {})]:
        path = tmp_path / name
        im = Image.fromarray(a)
        (im.quantize(16) if name == "p.png" else im).save(path, **kw)
        pic, rows = read_image_rows(path)
        assert rows is None
        assert_same_picture(pic, read_image(path))


def _broken_png(h: int, w: int, bad_row: int, kind: str) -> tuple[np.ndarray, bytes]:
    a = RNG.integers(0, 256, (h, w, 3), dtype=np.uint8)
    raw = bytearray(b"".join(b"\x01" + row.tobytes() for row in a))  # "sub" filter bytes, any data
    stride = w * 3 + 1
    if kind == "bad-filter":
        raw[bad_row * stride] = 7
        stream = zlib.compress(bytes(raw), 1)
    else:  # the stream stops before the last rows
        stream = zlib.compress(bytes(raw[: bad_row * stride]), 1)
    head = png.chunk(b"IHDR", w.to_bytes(4, "big") + h.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0]))
    return a, png.SIGNATURE + head + png.chunk(b"IDAT", stream) + png.chunk(b"IEND", b"")


@pytest.mark.parametrize("kind", ["bad-filter", "truncated"])
def test_broken_rows_raise_the_read_error(tmp_path, kind):
    _, blob = _broken_png(600, 500, 450, kind)
    path = tmp_path / "b.png"
    path.write_bytes(blob)
    with pytest.raises(ImageError) as plain:
        read_image(path)
    pic, rows = read_image_rows(path)  # the header is sound: the picture comes back
    assert rows is not None and pic.pixels.shape == (600, 500, 3)
    rows.wait(100)  # rows above the damage arrive
    with pytest.raises(ImageError) as late:
        rows.wait()
    assert str(late.value) == str(plain.value) and "\n" not in str(late.value)
    with pytest.raises(ImageError):  # and again, for every band that asks
        rows.wait(599)


def test_cancel_stops_the_decode(tmp_path):
    a = RNG.integers(0, 256, (3000, 800, 3), dtype=np.uint8)
    path = tmp_path / "big.png"
    Image.fromarray(a).save(path, compress_level=1)
    _, rows = read_image_rows(path)
    assert rows is not None
    rows.cancel()
    rows._thread.join(30)
    assert not rows._thread.is_alive()
    if rows.done < 3000:  # stopped early (not always: the decode may have finished first)
        with pytest.raises(ImageError, match="decoding stopped"):
            rows.wait()


@pytest.mark.parametrize("cmd", [["sobel"], ["gaussian", "--sigma", "2"], ["median", "--size", "5"]])
def test_cli_banded_run_on_arriving_rows_gives_the_api_result(tmp_path, cmd):
    a = RNG.integers(0, 256, (1200, 700, 3), dtype=np.uint8)
    src = tmp_path / "in.png"
    Image.fromarray(a).save(src, compress_level=1)
    out = tmp_path / "out.png"
    run = subprocess.run(
        [sys.executable, "-m", "imgfilter", *cmd, str(src), str(out)], capture_output=True, text=True
    )
    assert run.returncode == 0 and run.stderr == "", run.stderr
    got = np.asarray(Image.open(out))
    if cmd[0] == "gaussian":
        ref = imgfilter.gaussian(a, sigma=2)
    elif cmd[0] == "median":
        ref = imgfilter.median(a, size=5)
    else:  # sobel's file values come from the CLI's float-to-file rule: the whole-image route
        ref = np.asarray(Image.open(_api_sobel_file(tmp_path, a)))
    np.testing.assert_array_equal(got, ref)


def _api_sobel_file(tmp_path, a):
    """The same Sobel through the whole-image route (a .npy input is never streamed)."""
    npy = tmp_path / "in.npy"
    np.save(npy, a)
    out = tmp_path / "ref.png"
    run = subprocess.run(
        [sys.executable, "-m", "imgfilter", "sobel", str(npy), str(out)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    return out


@pytest.mark.parametrize("kind", ["bad-filter", "truncated"])
@pytest.mark.parametrize("cmd", [["sobel"], ["gaussian", "--sigma", "1"]])
def test_cli_damage_halfway_is_one_line_and_no_output(tmp_path, kind, cmd):
    _, blob = _broken_png(1500, 600, 1400, kind)
    src = tmp_path / "b.png"
    src.write_bytes(blob)
    out = tmp_path / "out.png"
    run = subprocess.run(
        [sys.executable, "-m", "imgfilter", *cmd, str(src), str(out)], capture_output=True, text=True
    )
    lines = run.stderr.strip().splitlines()
    assert run.returncode == 1 and len(lines) == 1, run.stderr
    with pytest.raises(ImageError) as plain:
        read_image(src)
    assert str(plain.value) in lines[0]
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["b.png"]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("c", [1, 3, 4])
def test_decode_progress_reports_only_final_rows(threads, c):
    # Rows big enough for many inflate steps and, with two threads, the side thread's unfilter.
    a = RNG.integers(0, 256, (2500, 301, c), dtype=np.uint8)
    blob = _png_bytes(a)
    lay = png.layout(blob)
    out = np.zeros(a.shape if c > 1 else a.shape[:2], dtype=np.uint8)
    want = a if c > 1 else a[..., 0]
    seen = []

    def progress(rows):
        np.testing.assert_array_equal(out[:rows], want[:rows])
        seen.append(rows)
        return True

    assert png.decode(blob, lay, "x", threads=threads, out=out, progress=progress) is out
    assert seen == sorted(seen) and seen[-1] == 2500 and len(seen) > 3
    np.testing.assert_array_equal(out, want)


def test_decode_progress_false_stops_it():
    a = RNG.integers(0, 256, (2500, 301, 3), dtype=np.uint8)
    blob = _png_bytes(a)
    calls = []
    with pytest.raises(ImageError, match="decoding stopped"):
        png.decode(
            blob, png.layout(blob), "x", out=np.empty_like(a), progress=lambda r: calls.append(r) or False
        )
    assert len(calls) == 1


def test_decode_out_must_fit():
    a = RNG.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    blob = _png_bytes(a)
    for bad in (
        np.empty((20, 30, 4), np.uint8),
        np.empty((20, 30, 3), np.uint16),
        np.empty((30, 20, 3), np.uint8)[::1].T,
    ):
        with pytest.raises(ValueError, match="out must be"):
            png.decode(blob, png.layout(blob), "x", out=bad)


def _png_bytes(a: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    Image.fromarray(a[..., 0] if a.shape[2] == 1 else a).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()
