"""imgfilter's own PNG pixel decoder (imgfilter/io/png.py) against Pillow's.

The oracle is Pillow reading the same bytes (``read_image(decoder="pillow")``
and ``PIL.Image.open``); the files are real photos, Pillow's and imgfilter's
own writes, and PNGs crafted here with every row filter type, IDAT splits,
transparency, EXIF orientations and damage.
"""

from __future__ import annotations

import glob
import io
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pictures import assert_same_picture
from PIL import Image, PngImagePlugin

import imgfilter
from imgfilter import _engine
from imgfilter.io import png
from imgfilter.io.errors import ImageError
from imgfilter.io.read import read_image

PHOTOS = sorted(glob.glob("sample_images/*.png")) + sorted(glob.glob("/tmp/imgfilter-bench/*.png"))
SAMPLES = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}
COLOUR = {1: 0, 2: 4, 3: 2, 4: 6}


def _same(path_or_bytes, tmp_path=None):
    """Both decoders on one file: equal pictures; returns the fast one."""
    if isinstance(path_or_bytes, bytes):
        path = tmp_path / "x.png"
        path.write_bytes(path_or_bytes)
    else:
        path = path_or_bytes
    ref = read_image(path, decoder="pillow")
    got = read_image(path)
    assert_same_picture(got, ref)
    return got


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _filtered(a: np.ndarray, filters: list[int]) -> bytes:
    """The PNG filtered rows of a (h, w, c) uint8 image, row r with filter filters[r].

    The forward filters read only unfiltered neighbours, so each is one numpy expression.
    """
    h, w, c = a.shape
    x = a.reshape(h, w * c).astype(np.int32)
    left = np.zeros_like(x)
    left[:, c:] = x[:, :-c]
    up = np.zeros_like(x)
    up[1:] = x[:-1]
    ul = np.zeros_like(x)
    ul[1:, c:] = x[:-1, :-c]
    p = left + up - ul
    pa, pb, pc = np.abs(p - left), np.abs(p - up), np.abs(p - ul)
    paeth = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, ul))
    preds = [np.zeros_like(x), left, up, (left + up) >> 1, paeth]
    out = bytearray()
    for r, f in enumerate(filters):
        out.append(f)
        out += ((x[r] - preds[f][r]) & 0xFF).astype(np.uint8).tobytes()
    return bytes(out)


def _png(a: np.ndarray, filters, *, splits=(), level=6, extra_before=b"", extra_after=b"", stream=None):
    h, w, c = a.shape
    z = zlib.compress(_filtered(a, filters), level) if stream is None else stream
    cuts = [*sorted({min(len(z), s) for s in splits}), len(z)]
    idats, at = [], 0
    for cut in cuts:
        idats.append(_chunk(b"IDAT", z[at:cut]))
        at = cut
    head = _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, COLOUR[c], 0, 0, 0))
    return png.SIGNATURE + head + extra_before + b"".join(idats) + extra_after + _chunk(b"IEND", b"")


@pytest.mark.parametrize("path", PHOTOS, ids=lambda p: p.rsplit("/", 1)[-1])
def test_photos_decode_as_pillow_does(path):
    assert png.layout(open(path, "rb").read()) is not None
    _same(path)


@settings(deadline=None)
@given(
    h=st.integers(1, 9),
    w=st.integers(1, 13),
    c=st.sampled_from([1, 2, 3, 4]),
    seed=st.integers(0, 2**32 - 1),
    data=st.data(),
)
def test_every_row_filter_on_random_images(h, w, c, seed, data):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 256, (h, w, c), dtype=np.uint8)
    filters = data.draw(st.lists(st.integers(0, 4), min_size=h, max_size=h))
    splits = data.draw(st.lists(st.integers(0, 200), max_size=3))
    blob = _png(a, filters, splits=splits)
    lay = png.layout(blob)
    assert lay is not None and lay.samples == c
    got = png.decode(blob, lay, "x.png")
    want = np.asarray(Image.open(io.BytesIO(blob)))
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got.reshape(h, w, c), a)


@pytest.mark.parametrize("filt", range(5))
@pytest.mark.parametrize("c", [1, 2, 3, 4])
def test_wide_rows_each_filter(filt, c):
    # Long rows take the vector Paeth's 4-byte steps; the last pixel its narrow one.
    rng = np.random.default_rng(filt * 10 + c)
    a = rng.integers(0, 256, (5, 1001, c), dtype=np.uint8)
    blob = _png(a, [filt] * 5)
    np.testing.assert_array_equal(png.decode(blob, png.layout(blob), "x").reshape(a.shape), a)


def test_bands_of_rows_longer_than_one_inflate_step():
    # Rows of more than png._BAND bytes, and many rows per band, both cross band edges.
    rng = np.random.default_rng(3)
    for shape in [(3, png._BAND // 3 + 7, 3), (2000, 301, 3)]:
        a = rng.integers(0, 256, shape, dtype=np.uint8)
        blob = _png(a, [4, 1, 2, 3, 0] * (shape[0] // 5) + [4] * (shape[0] % 5), level=1)
        np.testing.assert_array_equal(png.decode(blob, png.layout(blob), "x").reshape(shape), a)


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA"])
@pytest.mark.parametrize("kw", [{}, {"optimize": True}, {"compress_level": 0}, {"compress_level": 1}])
def test_pillow_and_imgfilter_writes(tmp_path, mode, kw):
    rng = np.random.default_rng(len(mode))
    a = rng.integers(0, 256, (37, 53, SAMPLES[mode]), dtype=np.uint8)
    im = Image.fromarray(a[..., 0] if mode == "L" else a, mode)
    path = tmp_path / "p.png"
    im.save(path, **kw)
    got = _same(path)
    assert png.layout(path.read_bytes()) is not None
    np.testing.assert_array_equal(got.pixels.reshape(a.shape), a)
    out = tmp_path / "ours.png"
    imgfilter.imwrite(out, got.pixels)
    np.testing.assert_array_equal(_same(out).pixels, got.pixels)


def test_transparency_icc_dpi_and_text_after_the_image(tmp_path):
    a = np.random.default_rng(1).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "before")
    info.add_itxt("Title", "titre", lang="fr", tkey="Titre")
    info.add_text("Author", "x" * 3000, zip=True)
    path = tmp_path / "meta.png"
    Image.fromarray(a).save(path, pnginfo=info, dpi=(300, 150), transparency=(1, 2, 3))
    got = _same(path)
    assert got.dpi is not None and round(got.dpi[0]) == 300
    assert got.extra.get("comment") == b"before"
    # A text chunk after the image data (the stub keeps the order of chunks).
    blob = _png(a, [4] * 20, extra_after=_chunk(b"tEXt", b"Late\x00after the pixels"))
    assert _same(blob, tmp_path).extra["text"]["Late"] == "after the pixels"
    grey = _png(a[..., :1], [1] * 20, extra_before=_chunk(b"tRNS", b"\x00\x07"))
    _same(grey, tmp_path)


def test_icc_profile_survives(tmp_path):
    from PIL import ImageCms

    prof = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    a = np.random.default_rng(2).integers(0, 256, (8, 9, 3), dtype=np.uint8)
    path = tmp_path / "icc.png"
    Image.fromarray(a).save(path, icc_profile=prof)
    assert _same(path).icc_profile == prof


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("c", [1, 3, 4])
def test_exif_orientation(tmp_path, orientation, c):
    a = np.random.default_rng(orientation).integers(0, 256, (7, 11, c), dtype=np.uint8)
    im = Image.fromarray(a[..., 0] if c == 1 else a)
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "maker"
    path = tmp_path / "o.png"
    im.save(path, exif=exif.tobytes())
    got = _same(path)
    assert got.pixels.shape[:2] == ((7, 11) if orientation < 5 else (11, 7))


def _interlaced(a: np.ndarray) -> bytes:
    """A valid Adam7 PNG of a: each pass's sub-image, rows filtered None."""
    raw = bytearray()
    for y0, x0, dy, dx in [
        (0, 0, 8, 8),
        (0, 4, 8, 8),
        (4, 0, 8, 4),
        (0, 2, 4, 4),
        (2, 0, 4, 2),
        (0, 1, 2, 2),
        (1, 0, 2, 1),
    ]:
        sub = a[y0::dy, x0::dx]
        if sub.size:
            raw += _filtered(sub, [0] * sub.shape[0])
    blob = bytearray(_png(a, [], stream=zlib.compress(bytes(raw))))
    blob[8 + 8 + 12] = 1
    blob[8 + 8 + 13 : 8 + 8 + 17] = struct.pack(">I", zlib.crc32(bytes(blob[12:29])))
    return bytes(blob)


def test_left_to_pillow(tmp_path):
    a = np.random.default_rng(4).integers(0, 256, (12, 10, 3), dtype=np.uint8)
    cases = {
        # Pillow writes no Adam7; an IHDR that says interlaced must be enough to refuse.
        "interlaced": lambda p: p.write_bytes(_interlaced(a)),
        "palette": lambda p: Image.fromarray(a).convert("P").save(p),
        "sixteen": lambda p: Image.fromarray(a[..., 0].astype(np.uint16) * 257).save(p),
        "one-bit": lambda p: Image.fromarray(a[..., 0] > 128).save(p),
    }
    for name, write in cases.items():
        path = tmp_path / f"{name}.png"
        write(path)
        assert png.layout(path.read_bytes()) is None, name
        _same(path)
    apng = tmp_path / "anim.png"
    frames = [Image.fromarray(a), Image.fromarray(255 - a)]
    frames[0].save(apng, save_all=True, append_images=frames[1:])
    assert png.layout(apng.read_bytes()) is None
    with pytest.raises(ImageError, match="frames"):
        read_image(apng)
    one = tmp_path / "anim1.png"
    frames[0].save(one, save_all=True, append_images=[])
    if b"acTL" in one.read_bytes():
        assert png.layout(one.read_bytes()) is None
    _same(one)


def _damaged(kind: str) -> bytes:
    a = np.random.default_rng(5).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    good = _png(a, [4] * 30)
    z = zlib.compress(_filtered(a, [4] * 30))
    if kind == "truncated-stream":
        return _png(a, [], stream=z[: len(z) // 2])
    if kind == "short-rows":
        return _png(a, [], stream=zlib.compress(_filtered(a, [4] * 30)[:-500]))
    if kind == "bad-filter":
        raw = bytearray(_filtered(a, [4] * 30))
        raw[7 * (40 * 3 + 1)] = 5
        return _png(a, [], stream=zlib.compress(bytes(raw)))
    if kind == "bad-zlib":
        bad = bytearray(z)
        bad[10] ^= 0xFF
        bad[11] ^= 0x55
        return _png(a, [], stream=bytes(bad))
    if kind == "cut-file":
        return good[: len(good) // 2]
    if kind == "no-iend":
        return good[:-12]
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind", ["truncated-stream", "short-rows", "bad-filter", "bad-zlib", "cut-file", "no-iend"]
)
def test_damage_is_one_error_as_with_pillow(tmp_path, kind):
    path = tmp_path / f"{kind}.png"
    path.write_bytes(_damaged(kind))
    try:
        ref = read_image(path, decoder="pillow")
    except ImageError:
        ref = None
    if ref is None:
        with pytest.raises(ImageError) as err:
            read_image(path)
        msg = str(err.value)
        assert msg.startswith(str(path)) and "\n" not in msg
    else:
        # Pillow accepts what a lenient reader may (a file without IEND): so do we, same pixels.
        _same(path)


def test_damage_through_the_cli(tmp_path):
    path = tmp_path / "bad.png"
    path.write_bytes(_damaged("bad-filter"))
    run = subprocess.run(
        [sys.executable, "-m", "imgfilter", "sobel", str(path), str(tmp_path / "out.png")],
        capture_output=True,
        text=True,
    )
    assert run.returncode != 0
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and "filter type 5" in lines[0], run.stderr
    assert not (tmp_path / "out.png").exists()


def test_inflate_bomb_stops_at_the_last_row(tmp_path):
    # A stream that inflates far past the image: decoding stops at the last row, memory bounded.
    a = np.zeros((4, 5, 1), dtype=np.uint8)
    raw = _filtered(a, [0] * 4) + bytes(200 << 20)
    blob = _png(a, [], stream=zlib.compress(raw, 9))
    lay = png.layout(blob)
    np.testing.assert_array_equal(png.decode(blob, lay, "x"), a[..., 0])
    path = tmp_path / "bomb.png"
    path.write_bytes(blob)
    _same(path)


def test_pixel_limit_before_decoding(tmp_path):
    a = np.zeros((50, 50, 3), dtype=np.uint8)
    path = tmp_path / "big.png"
    path.write_bytes(_png(a, [0] * 50))
    with pytest.raises(ImageError, match="over the limit"):
        read_image(path, max_pixels=2499)
    assert read_image(path, max_pixels=2500).pixels.shape == (50, 50, 3)


def test_decoder_choice_is_checked():
    with pytest.raises(ValueError, match="decoder"):
        read_image(PHOTOS[0], decoder="libpng")


def test_unfilter_refuses_buffers_that_do_not_hold_the_rows():
    out = np.zeros((4, 6), dtype=np.uint8)
    raw = bytes(4 * 7)
    assert _engine.png_unfilter(raw, out, 0, 4, 6, 3) == -1
    with pytest.raises(IndexError):
        _engine.png_unfilter(raw[:-1], out, 0, 4, 6, 3)
    with pytest.raises(IndexError):
        _engine.png_unfilter(raw, out, 1, 4, 6, 3)
    with pytest.raises(IndexError):
        _engine.png_unfilter(raw, out.astype(np.uint16), 0, 4, 6, 3)
    with pytest.raises(ValueError):
        _engine.png_unfilter(raw, out, 0, 4, 6, 5)
    with pytest.raises(ValueError):
        _engine.png_unfilter(raw, out, 0, 4, 7, 3)


def test_side_thread_pipeline_gives_the_same_bytes_and_errors():
    # Over four bands, so threads=2 unfilters on the side thread while inflating.
    rng = np.random.default_rng(6)
    a = rng.integers(0, 256, (2100, 700, 3), dtype=np.uint8)
    filters = list(rng.integers(0, 5, 2100))
    raw = _filtered(a, filters)
    assert len(raw) > 4 * png._BAND
    blob = _png(a, [], stream=zlib.compress(raw, 1))
    lay = png.layout(blob)
    one = png.decode(blob, lay, "x", threads=1)
    two = png.decode(blob, lay, "x", threads=2)
    np.testing.assert_array_equal(one.reshape(a.shape), a)
    np.testing.assert_array_equal(two, one)
    bad = bytearray(raw)
    bad[2051 * (700 * 3 + 1)] = 9
    blob = _png(a, [], stream=zlib.compress(bytes(bad), 1))
    for threads in (1, 2):
        with pytest.raises(ImageError, match="row 2051 has filter type 9"):
            png.decode(blob, png.layout(blob), "x", threads=threads)


@pytest.mark.parametrize("bpp", [1, 2, 3, 4, 6, 8])
def test_unfilter_every_pixel_size(bpp):
    # 6 and 8 bytes are 16-bit RGB/RGBA pixels (not decoded by imgfilter yet; the engine has them).
    rng = np.random.default_rng(bpp)
    a = rng.integers(0, 256, (12, 37, bpp), dtype=np.uint8)
    filters = [4, 0, 1, 2, 3, 4, 4, 1, 3, 2, 0, 4]
    raw = _filtered(a, filters)
    out = np.empty((12, 37 * bpp), dtype=np.uint8)
    assert _engine.png_unfilter(raw, out, 0, 12, 37 * bpp, bpp) == -1
    np.testing.assert_array_equal(out.reshape(a.shape), a)
    # Two calls, the second starting at row 5 (the row above taken from out), give the same.
    part = np.empty_like(out)
    stride = 37 * bpp + 1
    assert _engine.png_unfilter(raw[: 5 * stride], part, 0, 5, 37 * bpp, bpp) == -1
    assert _engine.png_unfilter(raw[5 * stride :], part, 5, 7, 37 * bpp, bpp) == -1
    np.testing.assert_array_equal(part, out)
