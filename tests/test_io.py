"""imgfilter.io: reading, writing, bit depth, metadata and the float-to-file rule.

Expected values come from Pillow, OpenCV and numpy (and from files crafted
byte by byte), never from imgfilter itself.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageCms

import imgfilter
import imgfilter.io
from imgfilter import io as iio
from imgfilter.io import ImageError, read_image, to_file_dtype

SAMPLES = Path(__file__).resolve().parent.parent / "sample_images"
RNG = np.random.default_rng(20240611)


# ----------------------------------------------------------------- helpers


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def handmade_png(width: int, height: int, bit_depth: int, colour_type: int, idat: bytes) -> bytes:
    """A PNG written chunk by chunk (no library involved)."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(idat))
        + png_chunk(b"IEND", b"")
    )


def png16_bytes(a: np.ndarray) -> bytes:
    """Exact 16-bit PNG (grey, grey+alpha, RGB or RGBA) of a uint16 array, filter 0."""
    h, w = a.shape[:2]
    c = 1 if a.ndim == 2 else a.shape[2]
    colour_type = {1: 0, 2: 4, 3: 2, 4: 6}[c]
    rows = a.astype(">u2").reshape(h, w * c)
    raw = b"".join(b"\x00" + row.tobytes() for row in rows)
    return handmade_png(w, h, 16, colour_type, raw)


def tiff16_rgb_bytes(a: np.ndarray, *, orientation: int = 1, icc: bytes | None = None) -> bytes:
    """Baseline uncompressed little-endian TIFF, 16-bit RGB, with an Orientation tag."""
    h, w, c = a.shape
    assert c == 3 and a.dtype == np.uint16
    pixels = a.astype("<u2").tobytes()
    extra = b""
    bps_offset = 8
    extra += struct.pack("<3H", 16, 16, 16) + b"\x00\x00"  # 8 bytes, keep word alignment
    icc_offset = 8 + len(extra)
    if icc:
        extra += icc + (b"\x00" if len(icc) % 2 else b"")
    data_offset = 8 + len(extra)
    entries = [
        (256, 4, 1, w),
        (257, 4, 1, h),
        (258, 3, 3, bps_offset),
        (259, 3, 1, 1),
        (262, 3, 1, 2),
        (273, 4, 1, data_offset),
        (274, 3, 1, orientation),
        (277, 3, 1, 3),
        (278, 4, 1, h),
        (279, 4, 1, len(pixels)),
        (284, 3, 1, 1),
    ]
    if icc:
        entries.append((34675, 7, len(icc), icc_offset))
    ifd_offset = data_offset + len(pixels)
    ifd = struct.pack("<H", len(entries))
    for tag, typ, count, value in sorted(entries):
        if typ == 3 and count == 1:
            ifd += struct.pack("<HHIHH", tag, typ, count, value, 0)
        else:
            ifd += struct.pack("<HHII", tag, typ, count, value)
    ifd += struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", ifd_offset) + extra + pixels + ifd


def orient(a: np.ndarray, orientation: int) -> np.ndarray:
    """EXIF orientation 1..8 as a viewer displays it (TIFF/EXIF specification)."""
    return {
        1: lambda x: x,
        2: lambda x: x[:, ::-1],  # mirror horizontal
        3: lambda x: np.rot90(x, 2),  # rotate 180
        4: lambda x: x[::-1],  # mirror vertical
        5: lambda x: np.swapaxes(x, 0, 1),  # transpose
        6: lambda x: np.rot90(x, -1),  # rotate 90 clockwise
        7: lambda x: np.rot90(x[:, ::-1], -1),  # transverse
        8: lambda x: np.rot90(x, 1),  # rotate 90 counter-clockwise
    }[orientation](a)


def srgb_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def leftovers(folder: Path, keep: set[str]) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


# ----------------------------------------------------------------- public API


def test_imread_imwrite_are_public():
    assert "imread" in imgfilter.__all__ and "imwrite" in imgfilter.__all__
    assert imgfilter.imread is iio.imread
    assert imgfilter.imwrite is iio.imwrite


# ----------------------------------------------------------------- reading formats


@pytest.mark.parametrize(
    ("ext", "kwargs"),
    [
        ("png", {}),
        ("tif", {}),
        ("tiff", {"compression": "tiff_deflate"}),
        ("bmp", {}),
        ("webp", {"lossless": True}),
        ("ppm", {}),
    ],
)
def test_read_lossless_rgb_formats_exactly(tmp_path, ext, kwargs):
    rgb = RNG.integers(0, 256, (13, 17, 3), dtype=np.uint8)
    path = tmp_path / f"img.{ext}"
    Image.fromarray(rgb).save(path, **kwargs)
    got = imgfilter.imread(path)
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got, rgb)


def test_read_jpeg_as_pillow_decodes_it(tmp_path):
    rgb = RNG.integers(0, 256, (13, 17, 3), dtype=np.uint8)
    path = tmp_path / "img.jpg"
    Image.fromarray(rgb).save(path, quality=90)
    got = imgfilter.imread(path)
    assert got.dtype == np.uint8 and got.shape == (13, 17, 3)
    np.testing.assert_array_equal(got, np.asarray(Image.open(path).convert("RGB")))


def test_read_sample_jpeg_matches_opencv_decode():
    got = imgfilter.imread(SAMPLES / "rocket.jpg")
    ref = cv2.imread(str(SAMPLES / "rocket.jpg"), cv2.IMREAD_COLOR)[..., ::-1]
    assert got.shape == ref.shape and got.dtype == np.uint8
    # Both decode with libjpeg(-turbo); allow IDCT differences of one level only.
    assert np.abs(got.astype(int) - ref.astype(int)).max() <= 1


def test_read_pgm_grey_8_and_16_bit(tmp_path):
    g8 = RNG.integers(0, 256, (9, 11), dtype=np.uint8)
    Image.fromarray(g8).save(tmp_path / "g8.pgm")
    got8 = imgfilter.imread(tmp_path / "g8.pgm")
    assert got8.dtype == np.uint8
    np.testing.assert_array_equal(got8, g8)

    g16 = RNG.integers(0, 65536, (9, 11), dtype=np.uint16)
    assert cv2.imwrite(str(tmp_path / "g16.pgm"), g16)
    got16 = imgfilter.imread(tmp_path / "g16.pgm")
    assert got16.dtype == np.uint16
    np.testing.assert_array_equal(got16, g16)


def test_read_gif_refuses_frames(tmp_path):
    # Issue 15: an animated GIF used to give its first frame without a word.
    palette = RNG.integers(0, 256, (256, 3), dtype=np.uint8)
    idx0 = RNG.integers(0, 256, (12, 14), dtype=np.uint8)
    idx1 = (idx0 + 97).astype(np.uint8)
    frames = []
    for idx in (idx0, idx1):
        im = Image.fromarray(idx, "P")
        im.putpalette(palette.tobytes())
        frames.append(im)
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], optimize=False, duration=100, loop=0)
    assert Image.open(path).n_frames == 2
    with pytest.raises(imgfilter.io.ImageError, match=r"anim\.gif: holds 2 frames \(GIF\)"):
        imgfilter.imread(path)


def test_read_gif_with_transparency_is_rgba(tmp_path):
    palette = np.zeros((256, 3), dtype=np.uint8)
    palette[:, 0] = np.arange(256)
    palette[:, 1] = 255 - np.arange(256)
    idx = RNG.integers(0, 256, (10, 12), dtype=np.uint8)
    idx[0, :] = 7
    im = Image.fromarray(idx, "P")
    im.putpalette(palette.tobytes())
    im.save(tmp_path / "t.gif", transparency=7, optimize=False)
    got = imgfilter.imread(tmp_path / "t.gif")
    assert got.shape == (10, 12, 4) and got.dtype == np.uint8
    np.testing.assert_array_equal(got[..., 3], np.where(idx == 7, 0, 255))
    visible = idx != 7
    np.testing.assert_array_equal(got[..., :3][visible], palette[idx][visible])


# ----------------------------------------------------------------- modes


def test_read_modes_l_la_rgb_rgba_kept(tmp_path):
    cases = {
        "L": RNG.integers(0, 256, (8, 9), dtype=np.uint8),
        "LA": RNG.integers(0, 256, (8, 9, 2), dtype=np.uint8),
        "RGB": RNG.integers(0, 256, (8, 9, 3), dtype=np.uint8),
        "RGBA": RNG.integers(0, 256, (8, 9, 4), dtype=np.uint8),
    }
    for mode, arr in cases.items():
        path = tmp_path / f"{mode}.png"
        Image.fromarray(arr, mode).save(path)
        got = imgfilter.imread(path)
        assert got.dtype == np.uint8 and got.shape == arr.shape, mode
        np.testing.assert_array_equal(got, arr, err_msg=mode)


def test_read_rgba_tiff_and_webp(tmp_path):
    rgba = RNG.integers(0, 256, (8, 9, 4), dtype=np.uint8)
    Image.fromarray(rgba).save(tmp_path / "a.tif")
    Image.fromarray(rgba).save(tmp_path / "a.webp", lossless=True, exact=True)
    for name in ("a.tif", "a.webp"):
        np.testing.assert_array_equal(imgfilter.imread(tmp_path / name), rgba, err_msg=name)


def test_read_palette_without_transparency_is_rgb(tmp_path):
    palette = RNG.integers(0, 256, (256, 3), dtype=np.uint8)
    idx = RNG.integers(0, 256, (10, 12), dtype=np.uint8)
    im = Image.fromarray(idx, "P")
    im.putpalette(palette.tobytes())
    im.save(tmp_path / "p.png")
    assert Image.open(tmp_path / "p.png").mode == "P"
    got = imgfilter.imread(tmp_path / "p.png")
    assert got.dtype == np.uint8 and got.shape == (10, 12, 3)
    np.testing.assert_array_equal(got, palette[idx])


def test_read_palette_with_trns_is_rgba(tmp_path):
    palette = RNG.integers(0, 256, (4, 3), dtype=np.uint8)
    alphas = np.array([0, 80, 200, 255], dtype=np.uint8)
    idx = RNG.integers(0, 4, (10, 12), dtype=np.uint8)
    raw = b"".join(b"\x00" + row.tobytes() for row in idx)
    data = (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 12, 10, 8, 3, 0, 0, 0))
        + png_chunk(b"PLTE", palette.tobytes())
        + png_chunk(b"tRNS", alphas.tobytes())
        + png_chunk(b"IDAT", zlib.compress(raw))
        + png_chunk(b"IEND", b"")
    )
    (tmp_path / "pt.png").write_bytes(data)
    got = imgfilter.imread(tmp_path / "pt.png")
    assert got.dtype == np.uint8 and got.shape == (10, 12, 4)
    np.testing.assert_array_equal(got[..., :3], palette[idx])
    np.testing.assert_array_equal(got[..., 3], alphas[idx])


def test_read_one_bit_is_grey_0_255(tmp_path):
    bits = RNG.random((10, 13)) > 0.5
    Image.fromarray(bits).save(tmp_path / "b.png")
    assert Image.open(tmp_path / "b.png").mode == "1"
    got = imgfilter.imread(tmp_path / "b.png")
    assert got.dtype == np.uint8 and got.shape == (10, 13)
    np.testing.assert_array_equal(got, np.where(bits, 255, 0))


@pytest.mark.parametrize("ext", ["jpg", "tif"])
def test_read_cmyk_becomes_rgb(tmp_path, ext):
    cmyk = RNG.integers(0, 256, (8, 10, 4), dtype=np.uint8)
    path = tmp_path / f"c.{ext}"
    Image.fromarray(cmyk, "CMYK").save(path, **({"quality": 100} if ext == "jpg" else {}))
    stored = np.asarray(Image.open(path)).astype(float)  # CMYK as decoded
    assert Image.open(path).mode == "CMYK"
    got = imgfilter.imread(path)
    assert got.dtype == np.uint8 and got.shape == (8, 10, 3)
    # Uncalibrated CMYK -> RGB (Pillow's rule): R = (255 - C) * (255 - K) / 255, etc.
    c, m, y, k = (stored[..., i] for i in range(4))
    ref = np.stack([(255 - ch) * (255 - k) / 255 for ch in (c, m, y)], axis=-1)
    assert np.abs(got.astype(float) - ref).max() <= 1


# ----------------------------------------------------------------- bit depth


def test_read_16_bit_grey_png_and_tiff(tmp_path):
    g = RNG.integers(0, 65536, (9, 11), dtype=np.uint16)
    for name in ("g.png", "g.tif"):
        assert cv2.imwrite(str(tmp_path / name), g)
        got = imgfilter.imread(tmp_path / name)
        assert got.dtype == np.uint16, name
        np.testing.assert_array_equal(got, g, err_msg=name)


def test_read_16_bit_rgb_png_exact(tmp_path):
    rgb = RNG.integers(0, 65536, (9, 11, 3), dtype=np.uint16)
    assert cv2.imwrite(str(tmp_path / "rgb16.png"), rgb[..., ::-1])  # cv2 writes BGR
    got = imgfilter.imread(tmp_path / "rgb16.png")
    assert got.dtype == np.uint16
    np.testing.assert_array_equal(got, rgb)


def test_read_16_bit_rgba_png_exact(tmp_path):
    rgba = RNG.integers(0, 65536, (9, 11, 4), dtype=np.uint16)
    assert cv2.imwrite(str(tmp_path / "rgba16.png"), rgba[..., [2, 1, 0, 3]])
    got = imgfilter.imread(tmp_path / "rgba16.png")
    assert got.dtype == np.uint16
    np.testing.assert_array_equal(got, rgba)


def test_read_16_bit_rgb_png_from_handmade_file(tmp_path):
    rgb = RNG.integers(0, 65536, (5, 6, 3), dtype=np.uint16)
    (tmp_path / "h.png").write_bytes(png16_bytes(rgb))
    got = imgfilter.imread(tmp_path / "h.png")
    assert got.dtype == np.uint16
    np.testing.assert_array_equal(got, rgb)


def test_read_16_bit_grey_alpha_png_stays_la_uint16(tmp_path):
    la = RNG.integers(0, 65536, (5, 6, 2), dtype=np.uint16)
    (tmp_path / "la16.png").write_bytes(png16_bytes(la))
    got = imgfilter.imread(tmp_path / "la16.png")
    assert got.shape == (5, 6, 2)
    assert got.dtype == np.uint16
    np.testing.assert_array_equal(got, la)


def test_read_16_bit_rgb_tiff_exact(tmp_path):
    rgb = RNG.integers(0, 65536, (9, 11, 3), dtype=np.uint16)
    assert cv2.imwrite(str(tmp_path / "rgb16.tif"), rgb[..., ::-1])
    got = imgfilter.imread(tmp_path / "rgb16.tif")
    assert got.dtype == np.uint16
    np.testing.assert_array_equal(got, rgb)


def test_read_float32_tiff_stays_float32(tmp_path):
    f = (RNG.random((7, 9)) * 3 - 1).astype(np.float32)
    Image.fromarray(f, "F").save(tmp_path / "f.tif")
    got = imgfilter.imread(tmp_path / "f.tif")
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, f)


def test_read_8_bit_samples_stay_uint8(samples):
    for name, arr in samples.items():
        assert arr.dtype == np.uint8, name
    assert samples["camera.png"].shape == (512, 512)
    assert samples["astronaut.png"].shape == (512, 512, 3)
    np.testing.assert_array_equal(samples["coffee.png"], np.asarray(Image.open(SAMPLES / "coffee.png")))


# ----------------------------------------------------------------- EXIF orientation


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("ext", ["png", "tif"])
def test_exif_orientation_applied_lossless(tmp_path, orientation, ext):
    rgb = RNG.integers(0, 256, (6, 9, 3), dtype=np.uint8)
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / f"o.{ext}"
    Image.fromarray(rgb).save(path, exif=exif)
    got = imgfilter.imread(path)
    np.testing.assert_array_equal(got, orient(rgb, orientation))


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_applied_jpeg(tmp_path, orientation):
    rgb = RNG.integers(0, 256, (6, 9, 3), dtype=np.uint8)
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "o.jpg"
    Image.fromarray(rgb).save(path, exif=exif, quality=95)
    stored = np.asarray(Image.open(path))  # Pillow does not rotate on its own
    np.testing.assert_array_equal(imgfilter.imread(path), orient(stored, orientation))


@pytest.mark.parametrize("orientation", [2, 5, 6, 7, 8])
def test_exif_orientation_applied_to_16_bit_rgb_tiff(tmp_path, orientation):
    rgb = RNG.integers(0, 65536, (5, 8, 3), dtype=np.uint16)
    (tmp_path / "o16.tif").write_bytes(tiff16_rgb_bytes(rgb, orientation=orientation))
    got = imgfilter.imread(tmp_path / "o16.tif")
    assert got.dtype == np.uint16
    np.testing.assert_array_equal(got, orient(rgb, orientation))


def test_exif_orientation_applied_to_16_bit_grey_tiff(tmp_path):
    g = RNG.integers(0, 65536, (5, 8), dtype=np.uint16)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(g).save(tmp_path / "g.tif", exif=exif)
    got = imgfilter.imread(tmp_path / "g.tif")
    assert got.dtype == np.uint16
    np.testing.assert_array_equal(got, orient(g, 6))


def test_kept_exif_is_written_with_orientation_1(tmp_path):
    rgb = RNG.integers(0, 256, (6, 9, 3), dtype=np.uint8)
    exif = Image.Exif()
    exif[0x0112] = 8
    exif[0x010F] = "MakerCo"
    src = tmp_path / "src.png"
    Image.fromarray(rgb).save(src, exif=exif)
    pic = read_image(src)
    for ext in ("png", "jpg", "tif"):
        out = tmp_path / f"out.{ext}"
        imgfilter.imwrite(out, pic.pixels, metadata=pic)
        with Image.open(out) as im:
            written = im.getexif()
            assert written.get(0x0112) == 1, ext
            assert written.get(0x010F) == "MakerCo", ext
            assert im.size == (6, 9), ext  # upright: 9 rows of 6 columns
    np.testing.assert_array_equal(imgfilter.imread(tmp_path / "out.png"), orient(rgb, 8))


# ----------------------------------------------------------------- the float-to-file rule


def test_to_file_dtype_clip_rounds_and_never_wraps():
    v = np.array([-1e9, -5.0, -0.4, 0.0, 0.4, 0.6, 1.49, 254.4, 254.6, 255.0, 256.0, 300.0, 511.0, 1e12])
    got = to_file_dtype(v, depth="8", source_max=255.0)
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got, [0, 0, 0, 0, 0, 1, 1, 254, 255, 255, 255, 255, 255, 255])


def test_to_file_dtype_clip_16_bit_output_rescales_from_8_bit_scale():
    v = np.array([0.0, 1.0, 128.0, 255.0, 300.0, -3.0])
    got = to_file_dtype(v, depth="16", source_max=255.0)
    assert got.dtype == np.uint16
    np.testing.assert_array_equal(got, [0, 257, 128 * 257, 65535, 65535, 0])


def test_to_file_dtype_16_bit_source_to_8_bit():
    v = np.array([0.0, 257.0, 65535.0, 70000.0, 32896.0])
    got = to_file_dtype(v, depth="8", source_max=65535.0)
    np.testing.assert_array_equal(got, [0, 1, 255, 255, 128])


def test_to_file_dtype_abs():
    v = np.array([-300.0, -100.2, -0.2, 0.0, 99.7, 400.0])
    got = to_file_dtype(v, depth="8", source_max=255.0, scale="abs")
    np.testing.assert_array_equal(got, [255, 100, 0, 0, 100, 255])


def test_to_file_dtype_offset_8_and_16_bit():
    v = np.array([-1000.0, -128.0, -1.0, 0.0, 1.0, 127.0, 128.0, 500.0])
    got = to_file_dtype(v, depth="8", source_max=255.0, scale="offset")
    np.testing.assert_array_equal(got, [0, 0, 127, 128, 129, 255, 255, 255])
    g16 = to_file_dtype(np.array([0.0, -32768.0, 32767.0]), depth="16", source_max=65535.0, scale="offset")
    np.testing.assert_array_equal(g16, [32768, 0, 65535])


def test_to_file_dtype_stretch():
    v = np.array([[-10.0, 0.0], [41.0, 90.0]])
    got = to_file_dtype(v, depth="8", source_max=255.0, scale="stretch")
    expected = np.rint((v + 10.0) * 255.0 / 100.0)
    np.testing.assert_array_equal(got, expected)
    assert got.min() == 0 and got.max() == 255
    g16 = to_file_dtype(np.array([3.0, 5.0, 7.0]), depth="16", source_max=255.0, scale="stretch")
    np.testing.assert_array_equal(g16, [0, 32768, 65535])


def test_to_file_dtype_float_keeps_values():
    v = np.array([-5.5, 0.25, 300.125])
    got = to_file_dtype(v, depth="float", source_max=255.0)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, v.astype(np.float32))


def test_to_file_dtype_bad_scale_is_refused():
    with pytest.raises(ValueError, match="scale"):
        to_file_dtype(np.zeros(3), depth="8", source_max=255.0, scale="squash")


def test_imwrite_float_array_of_8_bit_source_rule(tmp_path):
    # A float result of an 8-bit image (source_depth="8") is on 0..255.
    v = np.array([[-5.0, 0.0, 12.4, 12.6], [254.6, 255.0, 300.0, 1000.0]])
    imgfilter.imwrite(tmp_path / "f.png", v, source_depth="8")
    got = np.asarray(Image.open(tmp_path / "f.png"))
    np.testing.assert_array_equal(got, [[0, 0, 12, 13], [255, 255, 255, 255]])


@pytest.mark.parametrize(
    ("scale", "expected"),
    [
        ("abs", [[100, 0, 31], [255, 255, 5]]),
        ("offset", [[28, 128, 159], [0, 255, 123]]),
        ("stretch", None),
    ],
)
def test_imwrite_scales(tmp_path, scale, expected):
    v = np.array([[-100.0, 0.0, 31.0], [-300.0, 600.0, -5.0]])
    imgfilter.imwrite(tmp_path / "s.png", v, scale=scale, source_depth="8")
    got = np.asarray(Image.open(tmp_path / "s.png"))
    if scale == "stretch":
        expected = np.rint((v + 300.0) * 255.0 / 900.0)
    np.testing.assert_array_equal(got, expected)


def test_imwrite_stretch_ignores_alpha_channel(tmp_path):
    # Colour spans 0..10, alpha is opaque (255): colour must stretch to 0..255 on its own.
    colour = np.linspace(0.0, 10.0, 12).reshape(3, 4)
    rgba = np.zeros((3, 4, 4))
    rgba[..., :3] = colour[..., None]
    rgba[..., 3] = 255.0
    imgfilter.imwrite(tmp_path / "a.png", rgba, scale="stretch")
    got = np.asarray(Image.open(tmp_path / "a.png"))
    assert got.shape == (3, 4, 4)
    np.testing.assert_array_equal(got[..., 3], 255)
    expected = np.rint(colour * 25.5)
    for c in range(3):
        np.testing.assert_array_equal(got[..., c], expected)


# ----------------------------------------------------------------- writing depths


def test_imwrite_16_bit_rgb_and_rgba_png_exact(tmp_path):
    rgb = RNG.integers(0, 65536, (7, 9, 3), dtype=np.uint16)
    rgba = RNG.integers(0, 65536, (7, 9, 4), dtype=np.uint16)
    imgfilter.imwrite(tmp_path / "rgb.png", rgb)
    imgfilter.imwrite(tmp_path / "rgba.png", rgba)
    back_rgb = cv2.imread(str(tmp_path / "rgb.png"), cv2.IMREAD_UNCHANGED)
    back_rgba = cv2.imread(str(tmp_path / "rgba.png"), cv2.IMREAD_UNCHANGED)
    assert back_rgb.dtype == np.uint16 and back_rgba.dtype == np.uint16
    np.testing.assert_array_equal(back_rgb[..., ::-1], rgb)
    np.testing.assert_array_equal(back_rgba[..., [2, 1, 0, 3]], rgba)


def test_imwrite_16_bit_grey_png_and_tiff_exact(tmp_path):
    g = RNG.integers(0, 65536, (7, 9), dtype=np.uint16)
    for name in ("g.png", "g.tif"):
        imgfilter.imwrite(tmp_path / name, g)
        back = cv2.imread(str(tmp_path / name), cv2.IMREAD_UNCHANGED)
        assert back.dtype == np.uint16, name
        np.testing.assert_array_equal(back, g, err_msg=name)


def test_imwrite_float_tiff_and_npy_exact(tmp_path):
    f = (RNG.random((6, 7)) * 500 - 100).astype(np.float32)
    imgfilter.imwrite(tmp_path / "f.tif", f)
    with Image.open(tmp_path / "f.tif") as im:
        assert im.mode == "F"
        np.testing.assert_array_equal(np.asarray(im), f)
    imgfilter.imwrite(tmp_path / "f.npy", f)
    np.testing.assert_array_equal(np.load(tmp_path / "f.npy"), f)


def test_imwrite_16_bit_to_jpeg_refused_unless_depth_8(tmp_path):
    g = np.full((8, 8), 65535, dtype=np.uint16)
    with pytest.raises(ImageError, match="16"):
        imgfilter.imwrite(tmp_path / "g.jpg", g)
    assert not (tmp_path / "g.jpg").exists()
    imgfilter.imwrite(tmp_path / "g.jpg", g, depth="8")
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "g.jpg")), 255)


def test_imwrite_unknown_extension_refused(tmp_path):
    with pytest.raises(ImageError, match=r"\.xyz"):
        imgfilter.imwrite(tmp_path / "a.xyz", np.zeros((4, 4), dtype=np.uint8))
    assert leftovers(tmp_path, set()) == []


def test_imwrite_keeps_icc_profile(tmp_path):
    icc = srgb_profile()
    rgb = RNG.integers(0, 256, (6, 7, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "src.png", icc_profile=icc)
    pic = read_image(tmp_path / "src.png")
    assert pic.icc_profile == icc
    for ext in ("png", "jpg", "tif"):
        imgfilter.imwrite(tmp_path / f"o.{ext}", pic.pixels, metadata=pic)
        with Image.open(tmp_path / f"o.{ext}") as im:
            assert im.info.get("icc_profile") == icc, ext


def test_16_bit_rgb_tiff_icc_kept_in_16_bit_png(tmp_path):
    icc = srgb_profile()
    rgb = RNG.integers(0, 65536, (5, 8, 3), dtype=np.uint16)
    (tmp_path / "in.tif").write_bytes(tiff16_rgb_bytes(rgb, icc=icc))
    pic = read_image(tmp_path / "in.tif")
    assert pic.icc_profile == icc
    imgfilter.imwrite(tmp_path / "out.png", pic.pixels, metadata=pic)
    with Image.open(tmp_path / "out.png") as im:
        assert im.info.get("icc_profile") == icc
    back = cv2.imread(str(tmp_path / "out.png"), cv2.IMREAD_UNCHANGED)
    assert back.dtype == np.uint16
    np.testing.assert_array_equal(back[..., ::-1], rgb)


def test_read_image_keeps_sample_icc_profile():
    for name in ("rocket.jpg", "astronaut.png"):
        with Image.open(SAMPLES / name) as im:
            icc = im.info["icc_profile"]
        assert read_image(SAMPLES / name).icc_profile == icc, name


# ----------------------------------------------------------------- atomic writes


@pytest.mark.parametrize("ext", [".tif", ".png"])
def test_failed_encoder_leaves_existing_output_untouched(tmp_path, monkeypatch, ext):
    out = tmp_path / f"out{ext}"
    out.write_bytes(b"old contents")

    def broken_save(self, fp, *args, **kwargs):
        fp.write(b"\x89PNG partial data")
        raise OSError(28, "No space left on device")

    def broken_compress(*args, **kwargs):
        raise OSError(28, "No space left on device")

    # TIFF goes through Pillow's encoder; PNG through imgfilter's own (zlib).
    monkeypatch.setattr(Image.Image, "save", broken_save)
    monkeypatch.setattr(imgfilter.io.zlib, "compress", broken_compress)
    monkeypatch.setattr(imgfilter.io.zlib, "compressobj", broken_compress)  # the PNG writer streams
    with pytest.raises(ImageError) as info:
        imgfilter.imwrite(out, np.zeros((5, 5, 3), dtype=np.uint8))
    assert str(out) in str(info.value)
    assert out.read_bytes() == b"old contents"
    assert leftovers(tmp_path, {out.name}) == []


def test_failed_encoder_creates_no_file(tmp_path, monkeypatch):
    def broken_save(self, fp, *args, **kwargs):
        fp.write(b"partial")
        raise ValueError("encoder exploded")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(ImageError):
        imgfilter.imwrite(tmp_path / "new.tif", np.zeros((5, 5), dtype=np.uint8))
    assert leftovers(tmp_path, set()) == []


def test_alpha_to_jpeg_fails_without_partial_file(tmp_path):
    out = tmp_path / "out.jpg"
    out.write_bytes(b"keep me")
    with pytest.raises(ImageError, match="alpha"):
        imgfilter.imwrite(out, np.zeros((5, 5, 4), dtype=np.uint8))
    assert out.read_bytes() == b"keep me"
    assert leftovers(tmp_path, {"out.jpg"}) == []


def test_write_into_missing_folder_fails_cleanly(tmp_path):
    target = tmp_path / "nope" / "out.png"
    with pytest.raises(ImageError, match="nope"):
        imgfilter.imwrite(target, np.zeros((4, 4), dtype=np.uint8))
    assert not target.parent.exists()
    assert leftovers(tmp_path, set()) == []


def test_successful_write_replaces_and_leaves_no_temp(tmp_path):
    out = tmp_path / "o.png"
    out.write_bytes(b"old")
    arr = RNG.integers(0, 256, (5, 6), dtype=np.uint8)
    imgfilter.imwrite(out, arr)
    np.testing.assert_array_equal(np.asarray(Image.open(out)), arr)
    assert leftovers(tmp_path, {"o.png"}) == []


# ----------------------------------------------------------------- bad files and bombs


def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, tuple[str, ...]]]:
    good = tmp_path / "good.png"
    Image.fromarray(RNG.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(good)
    data = good.read_bytes()
    files = {
        "empty": (tmp_path / "empty.png", ("empty",)),
        "truncated": (tmp_path / "trunc.png", ("truncat", "decode")),
        "random": (tmp_path / "random.png", ("not an image", "cannot")),
        "text": (tmp_path / "notes.txt", ("not an image", "cannot")),
        "directory": (tmp_path / "folder.png", ("directory",)),
        "missing": (tmp_path / "missing.png", ("no such file", "not found", "does not exist")),
    }
    files["empty"][0].write_bytes(b"")
    files["truncated"][0].write_bytes(data[: len(data) // 2])
    files["random"][0].write_bytes(np.random.default_rng(1).integers(0, 256, 3000, dtype=np.uint8).tobytes())
    files["text"][0].write_text("hello, this is not a picture\n" * 20)
    files["directory"][0].mkdir()
    return files


@pytest.mark.parametrize("kind", ["empty", "truncated", "random", "text", "directory", "missing"])
def test_bad_files_raise_one_line_image_error(tmp_path, kind):
    path, reasons = _bad_files(tmp_path)[kind]
    with pytest.raises(ImageError) as info:
        imgfilter.imread(path)
    msg = str(info.value)
    assert "\n" not in msg
    assert str(path) in msg
    assert any(r in msg.lower() for r in reasons), msg


def bomb_png(width: int = 100_000, height: int = 100_000) -> bytes:
    return handmade_png(width, height, 8, 0, b"\x00" * 64)


def test_decompression_bomb_refused_before_decoding(tmp_path, monkeypatch):
    from PIL import ImageFile

    path = tmp_path / "bomb.png"
    path.write_bytes(bomb_png())
    loads = []
    original = ImageFile.ImageFile.load

    def spy(self, *a, **k):
        loads.append(self)
        return original(self, *a, **k)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    with pytest.raises(ImageError) as info:
        imgfilter.imread(path)
    msg = str(info.value)
    assert str(path) in msg
    assert "10000000000" in msg.replace(",", "").replace("_", "")
    assert "limit" in msg or "bomb" in msg
    assert loads == []


def test_max_pixels_argument(tmp_path):
    path = tmp_path / "small.png"
    Image.fromarray(np.zeros((10, 12), dtype=np.uint8)).save(path)
    with pytest.raises(ImageError, match="limit"):
        imgfilter.imread(path, max_pixels=119)
    assert imgfilter.imread(path, max_pixels=120).shape == (10, 12)
    assert imgfilter.imread(path, max_pixels=None).shape == (10, 12)


def test_default_limit_is_pillows():
    assert iio.DEFAULT_MAX_PIXELS == 89_478_485


def test_read_from_stdin(monkeypatch):
    import io
    import sys

    data = (SAMPLES / "camera.png").read_bytes()

    class FakeStdin:
        buffer = io.BytesIO(data)

    monkeypatch.setattr(sys, "stdin", FakeStdin())
    got = imgfilter.imread("-")
    np.testing.assert_array_equal(got, np.asarray(Image.open(SAMPLES / "camera.png")))


def test_write_to_stdout(monkeypatch):
    import io
    import sys

    buf = io.BytesIO()

    class FakeStdout:
        buffer = buf

    monkeypatch.setattr(sys, "stdout", FakeStdout())
    arr = RNG.integers(0, 256, (5, 6, 3), dtype=np.uint8)
    imgfilter.imwrite("-", arr)
    assert buf.getvalue().startswith(b"\x89PNG")
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(buf.getvalue()))), arr)


def test_no_temp_files_in_cwd_after_stdout_write(tmp_path, monkeypatch):
    import io
    import sys

    monkeypatch.chdir(tmp_path)

    class FakeStdout:
        buffer = io.BytesIO()

    monkeypatch.setattr(sys, "stdout", FakeStdout())
    imgfilter.imwrite("-", np.zeros((3, 3), dtype=np.uint8), format="tif")
    assert FakeStdout.buffer.getvalue()[:4] in (b"II*\x00", b"MM\x00*")
    assert os.listdir(tmp_path) == []
