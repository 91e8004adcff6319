"""The read side hardened (issue 15): decoders, 16-bit TIFF layouts, frames, cost, errors, fuzzing.

Every file is made here: Pillow and tifffile write the fixtures, a few
(PSD, LZW strips) are put together byte by byte.
"""

from __future__ import annotations

import io
import itertools
import os
import signal
import struct
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest
import tifffile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import imgfilter
from imgfilter.io import ImageError, pil_to_array, read_image

ROOT = Path(__file__).resolve().parent.parent
RNG = np.random.default_rng(15)


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "imgfilter", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=ROOT,
    )


# ---------------------------------------------------------------- 1. never Ghostscript

EPS = b"""%!PS-Adobe-3.0 EPSF-3.0
%%BoundingBox: 0 0 16 16
%%EndComments
newpath 0 0 moveto 16 16 lineto stroke
showpage
%%EOF
"""
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def fake_gs(tmp_path):
    """A `gs` first on PATH that leaves a marker file when anything runs it."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    marker = tmp_path / "gs-ran"
    gs = bin_dir / "gs"
    gs.write_text(f"#!/bin/sh\ntouch {marker}\nexit 1\n")
    gs.chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return env, marker


def test_postscript_named_png_never_reaches_ghostscript(tmp_path, fake_gs):
    env, marker = fake_gs
    src = tmp_path / "x.png"
    src.write_bytes(EPS)
    out = tmp_path / "out.png"
    res = run_cli("sobel", str(src), str(out), env=env)
    assert res.returncode != 0
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "x.png" in lines[0] and "PostScript" in lines[0], res.stderr
    assert not marker.exists()
    assert not out.exists()


@pytest.mark.parametrize("name", ["a.png", "a.eps", "a.tif", "a.jpg", "noext"])
@pytest.mark.parametrize(
    "content", [EPS, b"\xc5\xd0\xd3\xc6" + b"\0" * 40 + EPS, PDF], ids=["eps", "dos-eps", "pdf"]
)
def test_postscript_and_pdf_refused_in_process(tmp_path, fake_gs, monkeypatch, name, content):
    env, marker = fake_gs
    monkeypatch.setenv("PATH", env["PATH"])
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImageError, match=name):
        imgfilter.imread(path)
    assert not marker.exists()


# ---------------------------------------------------------------- 2. 16-bit TIFF layouts


def lzw_encode(data: bytes) -> bytes:
    """TIFF LZW (MSB-first codes, libtiff's early change): tifffile needs imagecodecs to write it."""
    out, acc, nacc = bytearray(), 0, 0

    def put(code: int, width: int) -> None:
        nonlocal acc, nacc
        acc, nacc = (acc << width) | code, nacc + width
        while nacc >= 8:
            nacc -= 8
            out.append((acc >> nacc) & 0xFF)
        acc &= (1 << nacc) - 1

    table = {bytes([i]): i for i in range(256)}
    nxt, width = 258, 9
    put(256, width)
    w = b""
    for byte in data:
        wc = w + bytes([byte])
        if wc in table:
            w = wc
            continue
        put(table[w], width)
        table[wc] = nxt
        nxt += 1
        if nxt >= (1 << width):
            if width == 12:
                put(256, width)
                table = {bytes([i]): i for i in range(256)}
                nxt, width = 258, 9
            else:
                width += 1
        w = bytes([byte])
    if w:
        put(table[w], width)
    nxt += 1
    if nxt >= (1 << width) and width < 12:
        width += 1
    put(257, width)
    if nacc:
        put(0, 8 - nacc)
    return bytes(out)


def tiff16(a: np.ndarray, *, planar: bool, layout: str, compression: str, order: str) -> bytes:
    """A TIFF of uint16 ``a`` (H, W) or (H, W, C) in the given layout, written by tifffile."""
    ch = 1 if a.ndim == 2 else a.shape[2]
    src = np.moveaxis(a, -1, 0) if planar else a
    kw: dict = dict(
        photometric="rgb" if ch >= 3 else "minisblack",
        byteorder=order,
        planarconfig=("separate" if planar else "contig") if ch > 1 else None,
    )
    if ch in (2, 4):
        kw["extrasamples"] = ["unassalpha"]
    if layout == "tiles":
        kw["tile"] = (16, 16)
    else:
        kw["rowsperstrip"] = 8 if layout == "strips" else a.shape[0]
    buf = io.BytesIO()
    if compression != "lzw":
        tifffile.imwrite(buf, src, compression=compression if compression != "none" else None, **kw)
        return buf.getvalue()
    # LZW: encode the segments here, write them as if deflated, patch the tag.
    assert layout != "tiles"
    rows = kw["rowsperstrip"]
    planes = [src[p] for p in range(ch)] if planar else [src]
    segs = [
        lzw_encode(plane[i : i + rows].astype(order + "u2").tobytes())
        for plane in planes
        for i in range(0, a.shape[0], rows)
    ]
    tifffile.imwrite(buf, iter(segs), shape=src.shape, dtype=np.uint16, compression="zlib", **kw)
    with tifffile.TiffFile(io.BytesIO(buf.getvalue())) as tif:
        at = tif.pages[0].tags[259].valueoffset
    data = bytearray(buf.getvalue())
    data[at : at + 2] = struct.pack(order + "H", 5)
    return bytes(data)


def _has_imagecodecs() -> bool:
    try:
        import imagecodecs  # noqa: F401
    except ImportError:
        return False
    return True


LAYOUTS = [
    (ch, planar, layout, comp, order)
    for ch, planar, layout, comp, order in itertools.product(
        (1, 2, 3, 4), (False, True), ("strip", "strips", "tiles"), ("none", "zlib", "lzw"), "<>"
    )
    if not (ch == 1 and planar) and not (layout == "tiles" and comp == "lzw")
]


def _layout_id(p) -> str:
    ch, planar, layout, comp, order = p
    return f"{ch}ch-{'planar' if planar else 'chunky'}-{layout}-{comp}-{'LE' if order == '<' else 'BE'}"


@pytest.mark.parametrize("layout", LAYOUTS, ids=[_layout_id(p) for p in LAYOUTS])
def test_16_bit_tiff_every_layout_keeps_16_bits(tmp_path, layout):
    ch, planar, kind, comp, order = layout
    shape = (40, 48) if ch == 1 else (40, 48, ch)
    a = RNG.integers(0, 65536, size=shape, dtype=np.uint16)
    a[:, :20] = 4097  # a run, so the compressors have something to do
    path = tmp_path / "t.tif"
    path.write_bytes(tiff16(a, planar=planar, layout=kind, compression=comp, order=order))
    if (planar or ch == 2) and comp == "lzw" and not _has_imagecodecs():
        # tifffile decodes LZW only with imagecodecs; Pillow scrambles planar
        # 16-bit and has no mode for 16-bit grey+alpha.
        with pytest.raises(ImageError, match="needs imagecodecs"):
            imgfilter.imread(path)
        return
    got = imgfilter.imread(path)
    assert got.dtype == np.uint16
    np.testing.assert_array_equal(got, a)


@pytest.mark.parametrize("kind", ["strips", "tiles", "planar"])
def test_16_bit_tiff_without_tifffile_refuses_in_one_line(tmp_path, monkeypatch, kind):
    a = RNG.integers(0, 65536, size=(40, 48, 3), dtype=np.uint16)
    path = tmp_path / "scan.tif"
    layout = "strips" if kind == "planar" else kind
    path.write_bytes(tiff16(a, planar=kind == "planar", layout=layout, compression="none", order="<"))
    monkeypatch.setitem(sys.modules, "tifffile", None)  # import tifffile now fails
    with pytest.raises(
        ImageError, match=r"scan\.tif: this 16-bit TIFF layout needs tifffile: pip install tifffile"
    ):
        imgfilter.imread(path)
    # A layout Pillow reads exactly still reads without tifffile.
    path.write_bytes(tiff16(a, planar=False, layout="strips", compression="zlib", order=">"))
    np.testing.assert_array_equal(imgfilter.imread(path), a)


def test_16_bit_tiff_orientation_applied_on_tifffile_path(tmp_path):
    a = RNG.integers(0, 65536, size=(20, 30, 3), dtype=np.uint16)
    path = tmp_path / "o.tif"
    tifffile.imwrite(path, a, photometric="rgb", rowsperstrip=4, extratags=[(274, "H", 1, 3, True)])
    np.testing.assert_array_equal(imgfilter.imread(path), a[::-1, ::-1])


# ---------------------------------------------------------------- 3. frames


def _frames(n: int = 3) -> list[Image.Image]:
    return [Image.fromarray(RNG.integers(0, 256, (12, 14, 3), dtype=np.uint8)) for _ in range(n)]


def _save_multi(path: Path, fmt: str) -> None:
    frames = _frames()
    if fmt == "TIFF":
        frames[0].save(path, format="TIFF", save_all=True, append_images=frames[1:])
    elif fmt == "GIF":
        frames[0].save(path, format="GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    elif fmt == "PNG":
        frames[0].save(path, format="PNG", save_all=True, append_images=frames[1:], duration=50)
    elif fmt == "WEBP":
        frames[0].save(
            path, format="WEBP", save_all=True, append_images=frames[1:], duration=50, lossless=True
        )


@pytest.mark.parametrize("fmt,ext", [("GIF", "gif"), ("TIFF", "tif"), ("PNG", "png"), ("WEBP", "webp")])
def test_multi_frame_files_refused_naming_file_and_count(tmp_path, fmt, ext):
    path = tmp_path / f"anim.{ext}"
    _save_multi(path, fmt)
    with Image.open(path) as im:
        assert im.n_frames == 3
    with pytest.raises(ImageError, match=rf"anim\.{ext}: holds 3 frames \({fmt}\)"):
        imgfilter.imread(path)


def test_multi_frame_cli_one_line_no_output(tmp_path):
    path = tmp_path / "anim.gif"
    _save_multi(path, "GIF")
    out = tmp_path / "out.gif"
    res = run_cli("blur", str(path), str(out))
    assert res.returncode == 1
    assert res.stderr.count("\n") == 1 and "anim.gif: holds 3 frames" in res.stderr
    assert not out.exists()


# ---------------------------------------------------------------- 4. cost of a read

MEASURE = textwrap.dedent(
    """
    import sys
    import imgfilter

    def status(key):
        for line in open("/proc/self/status"):
            if line.startswith(key):
                return int(line.split()[1]) * 1024

    imgfilter.imread(sys.argv[2])  # warm up: imports, Pillow plugins
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # reset the peak (VmHWM) to the current RSS
    before = status("VmRSS:")
    a = imgfilter.imread(sys.argv[1])
    print((status("VmHWM:") - before) / a.nbytes, a.dtype, a.shape)
    """
)


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_16_bit_png_read_costs_a_small_multiple(tmp_path, channels):
    # 2000x2000 16-bit RGB: 24 MB decoded. Before: 5.3x the result in peak RSS.
    a = np.zeros((2000, 2000, channels), np.uint16)
    a[::7] = 1234
    a[:, ::5, ...] = 40000
    big, small = tmp_path / "big.png", tmp_path / "small.png"
    imgfilter.imwrite(big, a, compression=9)
    imgfilter.imwrite(small, a[:8, :8], compression=9)
    res = subprocess.run(
        [sys.executable, "-c", MEASURE, str(big), str(small)], capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0, res.stderr
    ratio = float(res.stdout.split()[0])
    assert "uint16" in res.stdout
    assert ratio < 3.5, res.stdout


# ---------------------------------------------------------------- 5. PSD and SPIDER


def psd_bytes(rgb: np.ndarray) -> bytes:
    """A minimal 8-bit RGB PSD: header, empty sections, raw planar composite."""
    h, w, c = rgb.shape
    head = b"8BPS" + struct.pack(">H6sHIIHH", 1, b"\0" * 6, c, h, w, 8, 3)
    return head + struct.pack(">III", 0, 0, 0) + struct.pack(">H", 0) + np.moveaxis(rgb, -1, 0).tobytes()


def psd_layered_bytes(rgb: np.ndarray, layer: np.ndarray) -> bytes:
    """An RGB PSD with one raw RGB layer (Pillow then counts it a frame) and its composite."""
    h, w, c = rgb.shape
    head = b"8BPS" + struct.pack(">H6sHIIHH", 1, b"\0" * 6, c, h, w, 8, 3)
    lh, lw, _ = layer.shape
    rec = struct.pack(">iiiiH", 1, 2, 1 + lh, 2 + lw, 3)
    rec += b"".join(struct.pack(">hI", k, 2 + lh * lw) for k in range(3))
    rec += b"8BIMnorm" + bytes([255, 0, 0, 0]) + struct.pack(">I", 0)
    chans = b"".join(struct.pack(">H", 0) + layer[..., k].tobytes() for k in range(3))
    info = struct.pack(">h", 1) + rec + chans
    info += b"\0" * (len(info) % 2)
    layers = struct.pack(">I", len(info)) + info + struct.pack(">I", 0)
    body = struct.pack(">II", 0, 0) + struct.pack(">I", len(layers)) + layers
    return head + body + struct.pack(">H", 0) + np.moveaxis(rgb, -1, 0).tobytes()


def test_layered_psd_reads_its_composite(tmp_path):
    rgb = RNG.integers(0, 256, (9, 11, 3), dtype=np.uint8)
    path = tmp_path / "l.psd"
    path.write_bytes(psd_layered_bytes(rgb, RNG.integers(0, 256, (4, 5, 3), dtype=np.uint8)))
    with Image.open(path) as im:
        assert im.format == "PSD" and len(im.layers) == 1
    np.testing.assert_array_equal(imgfilter.imread(path), rgb)


def test_psd_reads(tmp_path):
    rgb = RNG.integers(0, 256, (9, 11, 3), dtype=np.uint8)
    path = tmp_path / "x.psd"
    path.write_bytes(psd_bytes(rgb))
    with Image.open(path) as im:
        assert im.format == "PSD"
    np.testing.assert_array_equal(imgfilter.imread(path), rgb)


def test_spider_reads(tmp_path):
    values = np.linspace(0, 1, 9 * 11, dtype=np.float32).reshape(9, 11)
    path = tmp_path / "x.spi"
    Image.fromarray(values).save(path, format="SPIDER")
    got = imgfilter.imread(path)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, values)


# ---------------------------------------------------------------- 6. only ImageError leaves


def _limit_memory() -> None:
    # A regression would read /dev/zero until memory runs out: cap it at 3 GB
    # of address space so it fails in this child, not on the whole machine.
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))


def test_dev_zero_refused_at_once():
    code = (
        "import imgfilter, imgfilter.io\n"
        "try:\n    imgfilter.imread('/dev/zero')\n"
        "except imgfilter.io.ImageError as e:\n    print(e)\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, preexec_fn=_limit_memory
    )
    assert res.stdout.strip() == "/dev/zero: is a device, not an image file", res.stdout + res.stderr


def test_dev_zero_cli_one_line(tmp_path):
    res = subprocess.run(
        [sys.executable, "-m", "imgfilter", "sobel", "/dev/zero", str(tmp_path / "o.png")],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limit_memory,
    )
    assert res.returncode == 1 and res.stderr.count("\n") == 1 and "/dev/zero" in res.stderr, res.stderr


def test_fifo_input_still_reads(tmp_path):
    src = tmp_path / "p.png"
    a = RNG.integers(0, 256, (10, 12, 3), dtype=np.uint8)
    imgfilter.imwrite(src, a)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(src.read_bytes()))
    writer.start()
    try:
        np.testing.assert_array_equal(imgfilter.imread(fifo), a)
    finally:
        writer.join(10)


def test_stream_bounded_by_pixel_limit(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    # 100 pixels allow 64 MB + 3200 bytes; a stream of zeros longer than that is refused.
    res = subprocess.run(
        f"head -c 70000000 /dev/zero > {fifo} & "
        f"{sys.executable} -m imgfilter sobel --max-pixels 100 {fifo} {tmp_path / 'o.png'}; echo $? >&2; wait",
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    lines = res.stderr.strip().splitlines()
    assert lines[-1] == "1" and len(lines) == 2 and "more than" in lines[0], res.stderr


def test_pil_to_array_type_error():
    with pytest.raises(TypeError):
        pil_to_array(np.zeros((2, 2)))


def test_library_messages_do_not_reach_stderr(tmp_path, capfd):
    # A bad LZW stream: libtiff prints its complaint straight to fd 2.
    a = RNG.integers(0, 65536, size=(16, 16, 3), dtype=np.uint16)
    data = bytearray(tiff16(a, planar=False, layout="strip", compression="lzw", order="<"))
    with tifffile.TiffFile(io.BytesIO(bytes(data))) as tif:
        at = tif.pages[0].dataoffsets[0]
    data[at + 4 : at + 12] = b"\xff" * 8
    path = tmp_path / "bad.tif"
    path.write_bytes(bytes(data))
    with pytest.raises(ImageError) as err:
        imgfilter.imread(path)
    assert "\n" not in str(err.value) and "bad.tif" in str(err.value)
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


# ---------------------------------------------------------------- 7. fuzzing


def _base_files() -> dict[str, bytes]:
    """Small valid files of every format imgfilter reads."""
    rgb = RNG.integers(0, 256, (10, 13, 3), dtype=np.uint8)
    rgba = np.dstack([rgb, RNG.integers(0, 256, (10, 13), dtype=np.uint8)])
    grey = rgb[..., 0]
    files: dict[str, bytes] = {}

    def pil(name: str, im: Image.Image, fmt: str, **kw) -> None:
        buf = io.BytesIO()
        try:
            im.save(buf, format=fmt, **kw)
        except (OSError, KeyError, ValueError):
            return  # a codec this Pillow lacks
        files[name] = buf.getvalue()

    def ours(name: str, arr: np.ndarray, ext: str) -> None:
        buf = io.BytesIO()
        imgfilter.io.encode(buf, arr, imgfilter.io.FORMATS[ext])
        files[name] = buf.getvalue()

    ours("rgb8.png", rgb, ".png")
    ours("rgb16.png", (rgb.astype(np.uint16) * 257), ".png")
    ours("la16.png", np.dstack([grey, grey]).astype(np.uint16) * 251, ".png")
    ours("rgb16.tif", rgb.astype(np.uint16) * 257, ".tif")
    ours("f.npy", rgb.astype(np.float32), ".npy")
    pil("grey16.png", Image.fromarray(grey.astype(np.uint16) * 257), "PNG")
    pil("pal.png", Image.fromarray(rgb).convert("P"), "PNG", transparency=3)
    pil("q.jpg", Image.fromarray(rgb), "JPEG", quality=80)
    pil("p.jpg", Image.fromarray(rgb), "JPEG", progressive=True)
    pil("d.tif", Image.fromarray(rgba), "TIFF", compression="tiff_deflate")
    pil("raw.tif", Image.fromarray(rgb), "TIFF")
    pil("lzw.tif", Image.fromarray(grey), "TIFF", compression="tiff_lzw")
    pil("f.tif", Image.fromarray(grey.astype(np.float32)), "TIFF")
    pil("a.bmp", Image.fromarray(rgb), "BMP")
    pil("a.webp", Image.fromarray(rgba), "WEBP", quality=80)
    pil("l.webp", Image.fromarray(rgb), "WEBP", lossless=True)
    pil("a.ppm", Image.fromarray(rgb), "PPM")
    pil("a16.pgm", Image.fromarray(grey.astype(np.uint16) * 257), "PPM")
    pil("a.gif", Image.fromarray(rgb).convert("P"), "GIF")
    pil("a.ico", Image.fromarray(rgba), "ICO", sizes=[(13, 10)])
    pil("a.tga", Image.fromarray(rgb), "TGA", compression="tga_rle")
    pil("a.pcx", Image.fromarray(rgb), "PCX")
    pil("a.sgi", Image.fromarray(rgb), "SGI")
    pil("a.qoi", Image.fromarray(rgba), "QOI")
    pil("a.dds", Image.fromarray(rgba), "DDS")
    pil("a.msp", Image.fromarray(grey).convert("1"), "MSP")
    pil("a.xbm", Image.fromarray(grey).convert("1"), "XBM")
    pil("a.spi", Image.fromarray(grey.astype(np.float32)), "SPIDER")
    pil("a.icns", Image.fromarray(np.resize(rgba, (16, 16, 4))), "ICNS")
    pil("a.avif", Image.fromarray(rgb), "AVIF", quality=60)
    pil("a.jp2", Image.fromarray(rgb), "JPEG2000")
    files["a.psd"] = psd_bytes(rgb)
    files["l.psd"] = psd_layered_bytes(rgb, rgb[:4, :5])
    for kind in ("strips", "tiles"):
        files[f"{kind}16.tif"] = tiff16(
            rgb.astype(np.uint16) * 257, planar=kind == "tiles", layout=kind, compression="zlib", order=">"
        )
    return files


BASE = _base_files()
NAMES = sorted(BASE)
FUZZ_PIXELS = 1 << 20  # mutated size fields must not make a case slow: refuse big claims


def test_every_base_file_reads():
    for name in NAMES:
        got = read_image(io_path := _write_tmp(name, BASE[name]), max_pixels=FUZZ_PIXELS).pixels
        assert got.size > 0, name
        os.unlink(io_path)


_TMP = Path(os.environ.get("TMPDIR", "/tmp"))


def _write_tmp(name: str, data: bytes) -> str:
    path = _TMP / f"imgfilter-fuzz-{os.getpid()}-{name}"
    path.write_bytes(data)
    return str(path)


def mutate(data: bytes, kind: str, pos: int, value: int, length: int) -> bytes:
    if not data:
        return data
    pos %= len(data)
    b = bytearray(data)
    if kind == "flip":
        b[pos] ^= 1 << (value % 8)
    elif kind == "byte":
        b[pos] = value % 256
    elif kind == "truncate":
        b = b[:pos]
    elif kind == "size":  # a 2- or 4-byte field set to a large or extreme value
        width = 4 if value % 2 else 2
        big = (
            [0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 0x00010000, 0][value % 5]
            if width == 4
            else [0xFFFF, 0x8000, 0][value % 3]
        )
        order = "<" if value % 4 < 2 else ">"
        b[pos : pos + width] = struct.pack(order + ("I" if width == 4 else "H"), big)
    elif kind == "splice":  # a run of bytes duplicated or dropped
        chunk = b[pos : pos + length]
        b = b[:pos] + chunk + b[pos:] if value % 2 else b[:pos] + b[pos + length :]
    return bytes(b)


MUTATIONS = st.lists(
    st.tuples(
        st.sampled_from(["flip", "byte", "truncate", "size", "splice"]),
        st.integers(0, 1 << 20),
        st.integers(0, 255),
        st.integers(1, 64),
    ),
    min_size=1,
    max_size=4,
)
THOROUGH = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"
CASE_SECONDS = 10


class CaseTimeout(BaseException):
    """Raised by the alarm: a BaseException, so no `except Exception` in the reader can swallow it."""


def _alarm(signum, frame):
    raise CaseTimeout


@settings(
    max_examples=4000 if THOROUGH else 300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(name=st.sampled_from(NAMES), mutations=MUTATIONS)
def test_fuzz_imread_only_image_errors(name, mutations):
    data = BASE[name]
    for m in mutations:
        data = mutate(data, *m)
    path = _write_tmp(name, data)
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, CASE_SECONDS)
    try:
        imgfilter.imread(path, max_pixels=FUZZ_PIXELS)
    except (ImageError, ValueError):
        pass
    except CaseTimeout:
        pytest.fail(f"{name} with {mutations}: imread ran over {CASE_SECONDS} s")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        os.unlink(path)


def _refused_cases(count: int) -> list[tuple[str, bytes]]:
    """Mutated files imread refuses, drawn with a fixed seed across the formats."""
    rng = np.random.default_rng(1515)
    cases: list[tuple[str, bytes]] = []
    for _ in range(2000):
        name = NAMES[int(rng.integers(len(NAMES)))]
        kind = ["flip", "byte", "truncate", "size", "splice"][int(rng.integers(5))]
        data = mutate(
            BASE[name], kind, int(rng.integers(1 << 20)), int(rng.integers(256)), int(rng.integers(1, 64))
        )
        path = _write_tmp(name, data)
        try:
            imgfilter.imread(path, max_pixels=FUZZ_PIXELS)
        except ImageError:
            if name not in {n for n, _ in cases}:
                cases.append((name, data))
        finally:
            os.unlink(path)
        if len(cases) == count:
            break
    return cases


def test_fuzz_cli_one_line_no_output(tmp_path):
    cases = _refused_cases(8)
    assert len(cases) == 8
    for i, (name, data) in enumerate(cases):
        # Named .img: a damaged .tif meets the lazy path's TIFF probe
        # (bigimage.py) first, which is another part's; this checks the reader.
        src = tmp_path / f"{i}-{name}.img"
        src.write_bytes(data)
        out = tmp_path / f"{i}-out.png"
        res = run_cli("sobel", "--max-pixels", str(FUZZ_PIXELS), str(src), str(out))
        assert res.returncode == 1, (name, res.stderr)
        assert res.stderr.count("\n") == 1 and res.stderr.startswith(f"imgfilter: {src}"), (name, res.stderr)
        assert not out.exists()
        assert not list(tmp_path.glob(f".{i}-out.png*"))


# ---------------------------------------------------------------- MPO: primary picture or frames


def _mpo(tmp_path: Path, stereo: bool) -> tuple[Path, np.ndarray]:
    a = np.full((16, 24, 3), 200, np.uint8)
    path = tmp_path / ("stereo.jpg" if stereo else "camera.jpg")
    Image.fromarray(a).save(path, format="MPO", save_all=True, append_images=[Image.fromarray(255 - a)])
    if stereo:  # mark both pictures as the views of a stereo pair (MP type "Disparity")
        data = bytearray(path.read_bytes())
        at = data.index(b"MPF\x00") + 4
        order = "<" if data[at : at + 2] == b"II" else ">"
        ifd = at + struct.unpack(order + "I", data[at + 4 : at + 8])[0]
        for k in range(struct.unpack(order + "H", data[ifd : ifd + 2])[0]):
            tag, _, _, value = struct.unpack(order + "HHII", data[ifd + 2 + 12 * k : ifd + 14 + 12 * k])
            if tag == 0xB002:
                for n, attr in enumerate((0x20020002, 0x00020002)):
                    data[at + value + 16 * n : at + value + 16 * n + 4] = struct.pack(order + "I", attr)
        path.write_bytes(bytes(data))
    return path, a


def test_mpo_gives_primary_picture(tmp_path):
    path, _ = _mpo(tmp_path, stereo=False)
    with Image.open(path) as im:
        assert im.format == "MPO" and im.n_frames == 2
        first = np.asarray(im)
    np.testing.assert_array_equal(imgfilter.imread(path), first)
    assert abs(int(first.mean()) - 200) < 3


def test_mpo_stereo_pair_refused(tmp_path):
    path, _ = _mpo(tmp_path, stereo=True)
    with pytest.raises(ImageError, match=r"stereo\.jpg: holds 2 frames \(MPO\)"):
        imgfilter.imread(path)


def test_tiff_preview_page_is_not_a_frame(tmp_path):
    a = RNG.integers(0, 65536, size=(32, 40, 3), dtype=np.uint16)
    path = tmp_path / "scan.tif"
    with tifffile.TiffWriter(path) as tif:
        tif.write(a, photometric="rgb")
        tif.write(a[::4, ::4], photometric="rgb", subfiletype=1)  # a reduced-resolution preview
    np.testing.assert_array_equal(imgfilter.imread(path), a)
    with tifffile.TiffWriter(path) as tif:  # two full pages: frames
        tif.write(a, photometric="rgb")
        tif.write(a, photometric="rgb")
    with pytest.raises(ImageError, match=r"scan\.tif: holds 2 frames \(TIFF\)"):
        imgfilter.imread(path)


def test_reads_on_threads_restore_stderr_and_warnings(tmp_path, capfd):
    import warnings
    from concurrent.futures import ThreadPoolExecutor

    good, bad = tmp_path / "g.png", tmp_path / "b.png"
    imgfilter.imwrite(good, RNG.integers(0, 256, (64, 64, 3), dtype=np.uint8))
    bad.write_bytes(good.read_bytes()[:200])
    filters = list(warnings.filters)

    def read(path: Path) -> str:
        try:
            imgfilter.imread(path)
        except ImageError as exc:
            return str(exc)
        return "ok"

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(read, [good, bad] * 40))
    assert results.count("ok") == 40 and all("b.png" in r for r in results if r != "ok")
    assert warnings.filters == filters
    capfd.readouterr()
    os.write(2, b"still here\n")
    assert capfd.readouterr().err == "still here\n"
