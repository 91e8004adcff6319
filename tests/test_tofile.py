"""The banded float-to-file conversion and PNG writer give the bytes of the whole-array ones.

The old whole-array implementations are kept here, verbatim, as oracles.
"""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any, BinaryIO

import numpy as np
import pytest
from PIL import Image

from imgfilter.io import encoders, values
from imgfilter.io.picture import Picture
from imgfilter.io.values import to_file_dtype, value_max

SCALES = ("clip", "abs", "offset", "stretch")

# ------------------------------------------------------------------ oracles


def old_finite_span(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    return (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)


def old_to_file_dtype(
    values: np.ndarray,
    *,
    depth: str,
    source_max: float,
    scale: str = "clip",
    span: tuple[float, float] | None = None,
) -> np.ndarray:
    if scale not in SCALES:
        raise ValueError(scale)
    top = value_max(depth)
    # Rounding and clipping a float32 value are exact in float32; any
    # arithmetic first (rescale, offset, stretch) runs in float64, so a value
    # near .5 rounds as the exact rule says.
    exact32 = (
        values.dtype.itemsize <= 4 and scale in ("clip", "abs") and (source_max == top or depth == "float")
    )
    work = np.float32 if exact32 else np.float64
    v = values.astype(work, copy=True)
    if depth == "float":
        # Float files keep the result's own scale: nothing is rescaled.
        top = source_max
    if scale == "stretch":
        if span is None:
            span = old_finite_span(v)
        lo, hi = span
        if hi > lo:
            v -= work(lo)
            v *= work(top / (hi - lo))
        else:
            v[...] = 0
    else:
        if source_max != top:
            v *= work(top / source_max)
        if scale == "abs":
            np.abs(v, out=v)
        elif scale == "offset":
            v += work((top + 1) / 2 if top > 1 else 0.5)
    if depth == "float":
        return v.astype(np.float32, copy=False)
    np.rint(v, out=v)
    np.clip(v, 0, top, out=v)  # +-inf land on the ends
    nan = np.isnan(v)
    if nan.any():
        v[nan] = 0
    return v.astype(np.uint8 if depth == "8" else np.uint16)


def old_write_png(fh: BinaryIO, pixels: np.ndarray, pic: Any, level: int) -> None:
    h, w = pixels.shape[:2]
    c = 1 if pixels.ndim == 2 else pixels.shape[2]
    colour_type = {1: 0, 2: 4, 3: 2, 4: 6}[c]
    depth = 16 if pixels.dtype == np.uint16 else 8
    rows = (
        (pixels.astype(">u2") if depth == 16 else np.ascontiguousarray(pixels)).reshape(h, -1).view(np.uint8)
    )
    raw = np.empty((h, rows.shape[1] + 1), dtype=np.uint8)
    raw[:, 0] = 2
    raw[0, 1:] = rows[0]
    np.subtract(rows[1:], rows[:-1], out=raw[1:, 1:])
    out = [
        b"\x89PNG\r\n\x1a\n",
        encoders._png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, colour_type, 0, 0, 0)),
    ]
    if pic is not None and pic.icc_profile:
        out.append(encoders._png_chunk(b"iCCP", b"icc\x00\x00" + zlib.compress(pic.icc_profile)))
    if pic is not None and pic.dpi:
        ppm = [round(d / 0.0254) for d in pic.dpi]
        out.append(encoders._png_chunk(b"pHYs", struct.pack(">IIB", ppm[0], ppm[1], 1)))
    if pic is not None and pic.exif:
        exif = pic.exif[6:] if pic.exif.startswith(b"Exif\x00\x00") else pic.exif
        out.append(encoders._png_chunk(b"eXIf", exif))
    extra = pic.extra if pic is not None else {}
    if extra.get("xmp"):
        out.append(encoders._png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + extra["xmp"]))
    if extra.get("comment"):
        out.append(encoders._png_text("Comment", extra["comment"]))
    for key, value in extra.get("text", {}).items():
        out.append(encoders._png_text(key, value))
    out.append(encoders._png_chunk(b"IDAT", zlib.compress(raw.data, level)))
    out.append(encoders._png_chunk(b"IEND", b""))
    fh.write(b"".join(out))


# ------------------------------------------------------------------ inputs


def _awkward_floats(rng: np.random.Generator, shape: tuple[int, ...], dtype: Any, top: float) -> np.ndarray:
    """Values across and beyond the range, with NaN, +-inf, -0.0 and exact halves."""
    v = rng.uniform(-0.5 * top, 1.5 * top, size=shape)
    flat = v.reshape(-1)
    n = flat.size
    if n == 0:
        return v.astype(dtype)
    picks = rng.integers(0, n, size=max(1, n // 10))
    specials = np.array([np.nan, np.inf, -np.inf, -0.0, 0.5, 1.5, 254.5, 255.5, -0.5, top + 0.5, 1e30, -1e30])
    flat[picks] = specials[rng.integers(0, specials.size, size=picks.size)]
    halves = rng.integers(0, n, size=max(1, n // 10))
    flat[halves] = np.round(flat[halves]) + 0.5
    with np.errstate(over="ignore"):  # float16 holds 1e30 as inf, which is one more case
        return v.astype(dtype)


SHAPES = [(0, 3), (1, 1), (7,), (5, 9), (33, 17, 3), (300, 500, 3), (300, 460, 4), (2, 3, 1, 2)]


@pytest.fixture(autouse=True)
def small_bands(monkeypatch):
    """Bands of a few hundred elements, so that every test image spans many bands and a ragged tail."""
    monkeypatch.setattr(values, "BAND", 997)
    monkeypatch.setattr(encoders, "_PNG_BAND", 4099)


# ------------------------------------------------------------------ conversion


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("depth", ["8", "16", "float"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("source_max", [255.0, 65535.0, 1.0])
def test_banded_conversion_equals_whole_array(scale, depth, dtype, source_max):
    rng = np.random.default_rng(zlib.crc32(repr((scale, depth, np.dtype(dtype).name, source_max)).encode()))
    for shape in SHAPES:
        v = _awkward_floats(rng, shape, dtype, source_max)
        want = old_to_file_dtype(v, depth=depth, source_max=source_max, scale=scale)
        got = to_file_dtype(v, depth=depth, source_max=source_max, scale=scale)
        assert got.dtype == want.dtype and got.shape == want.shape
        assert got.tobytes() == want.tobytes(), (shape, scale, depth)


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("depth", ["8", "16"])
def test_banded_conversion_of_views_and_integers(scale, depth):
    rng = np.random.default_rng(7)
    base = _awkward_floats(rng, (120, 90, 4), np.float32, 255.0)
    cases = [
        base[..., :-1],  # colour without alpha: not contiguous
        base[::2, ::3],
        base.transpose(1, 0, 2),
        np.asfortranarray(base),
        rng.integers(-70000, 140000, size=(60, 70, 3)).astype(np.int32),
        rng.integers(0, 65536, size=(60, 70)).astype(np.uint16),
        rng.integers(-300, 600, size=(60, 70, 3)).astype(np.int16),
        np.full((), 3.5, np.float32),
    ]
    for v in cases:
        for source_max in (255.0, 65535.0):
            want = old_to_file_dtype(v, depth=depth, source_max=source_max, scale=scale)
            got = to_file_dtype(v, depth=depth, source_max=source_max, scale=scale)
            assert got.tobytes() == want.tobytes() and got.shape == want.shape


@pytest.mark.parametrize("depth", ["8", "16", "float"])
def test_stretch_with_a_given_span_and_without_finite_values(depth):
    rng = np.random.default_rng(3)
    v = _awkward_floats(rng, (50, 40, 3), np.float32, 255.0)
    for span in [(-10.0, 300.0), (5.0, 5.0), (0.0, 1e-3)]:
        want = old_to_file_dtype(v, depth=depth, source_max=255.0, scale="stretch", span=span)
        got = to_file_dtype(v, depth=depth, source_max=255.0, scale="stretch", span=span)
        assert got.tobytes() == want.tobytes()
    holes = np.full((40, 30), np.nan, np.float32)
    holes[::3] = np.inf
    want = old_to_file_dtype(holes, depth=depth, source_max=255.0, scale="stretch")
    got = to_file_dtype(holes, depth=depth, source_max=255.0, scale="stretch")
    assert got.tobytes() == want.tobytes()


def test_conversion_never_wraps_and_maps_holes_to_zero():
    """An independent check of the rule itself, not only against the old code."""
    v = np.array([-np.inf, -5.0, -0.0, 0.49, 0.5, 1.5, 254.5, 300.0, np.inf, np.nan], np.float32)
    got = to_file_dtype(np.tile(v, 500), depth="8", source_max=255.0)
    want = np.array([0, 0, 0, 0, 0, 2, 254, 255, 255, 0], np.uint8)  # round half to even
    assert np.array_equal(got, np.tile(want, 500))
    assert value_max("8") == 255.0


def test_default_band_size_gives_the_same_bytes(monkeypatch):
    monkeypatch.undo()
    assert values.BAND >= 1 << 16
    rng = np.random.default_rng(11)
    v = _awkward_floats(rng, (400, 700, 3), np.float32, 255.0)
    for scale in SCALES:
        want = old_to_file_dtype(v, depth="8", source_max=255.0, scale=scale)
        assert to_file_dtype(v, depth="8", source_max=255.0, scale=scale).tobytes() == want.tobytes()


# ------------------------------------------------------------------ PNG writer


def _png_inputs(rng: np.random.Generator):
    for shape in [
        (1, 1),
        (1, 300),
        (300, 1),
        (37, 53),
        (64, 80, 2),
        (123, 77, 3),
        (50, 2000, 3),
        (41, 29, 4),
    ]:
        yield rng.integers(0, 256, size=shape, dtype=np.uint8)
        yield rng.integers(0, 65536, size=shape, dtype=np.uint16)
    smooth = np.add.outer(np.arange(200), np.arange(300)).astype(np.uint8)
    yield np.stack([smooth, smooth // 2, 255 - smooth], axis=-1)
    yield np.asfortranarray(rng.integers(0, 256, size=(40, 60, 3), dtype=np.uint8))
    yield rng.integers(0, 256, size=(40, 60, 4), dtype=np.uint8)[:, :, :3]


@pytest.mark.parametrize("level", [0, 1, 6, 9])
def test_png_writer_bytes_equal_the_whole_image_writer(level):
    rng = np.random.default_rng(level)
    pic = Picture(
        pixels=np.zeros((1, 1), np.uint8),
        icc_profile=b"not really a profile" * 10,
        dpi=(300.0, 150.0),
        exif=b"Exif\x00\x00MM\x00*",
        extra={"xmp": b"<x/>", "comment": "hi", "text": {"Software": "t\u00e9st", "Emoji": "\u263a"}},
    )
    for pixels in _png_inputs(rng):
        for meta in (None, pic):
            want, got = io.BytesIO(), io.BytesIO()
            old_write_png(want, pixels, meta, level)
            encoders._write_png(got, pixels, meta, level)
            what = (pixels.shape, pixels.dtype, level)
            row_bytes = pixels[0].nbytes + 1
            if level == 0 or pixels.shape[0] * row_bytes <= encoders._PNG_BAND:
                # One band (or stored blocks): exactly the whole-image writer's bytes.
                assert got.getvalue() == want.getvalue(), what
                continue
            # Several bands are deflated apart (sync-flushed, so they can run in
            # parallel): every other chunk is the same, and the image data inflate
            # to exactly the same filtered rows.
            g, w = _chunks(got.getvalue()), _chunks(want.getvalue())
            assert [c for c in g if c[0] != b"IDAT"] == [c for c in w if c[0] != b"IDAT"], what
            gz = b"".join(body for kind, body in g if kind == b"IDAT")
            wz = b"".join(body for kind, body in w if kind == b"IDAT")
            assert gz[:2] == wz[:2], what  # the same zlib header (level flags)
            assert zlib.decompress(gz) == zlib.decompress(wz), what


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """A PNG's (type, data) chunks, each CRC checked."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, out = 8, []
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + n]
        assert struct.unpack(">I", data[pos + 8 + n : pos + 12 + n])[0] == zlib.crc32(kind + body)
        out.append((kind, body))
        pos += 12 + n
    return out


def test_png_writer_output_decodes_to_the_pixels():
    """Independent of the old writer: Pillow reads back what was written."""
    rng = np.random.default_rng(5)
    for shape in [(1, 1), (37, 53), (123, 77, 3), (41, 29, 4), (300, 200, 3)]:
        pixels = rng.integers(0, 256, size=shape, dtype=np.uint8)
        buf = io.BytesIO()
        encoders._write_png(buf, pixels, None, 1)
        buf.seek(0)
        with Image.open(buf) as im:
            im.load()
            assert np.array_equal(np.asarray(im), pixels)
        data = buf.getvalue()
        assert data.count(b"IDAT") == 1
        (n,) = struct.unpack(">I", data[33:37])
        assert data[37:41] == b"IDAT"
        (crc,) = struct.unpack(">I", data[41 + n : 45 + n])
        assert crc == zlib.crc32(data[37 : 41 + n]) & 0xFFFFFFFF
