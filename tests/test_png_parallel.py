"""The PNG writer's banded, parallel deflate: a valid zlib stream of the Up-filtered
rows whatever the band count, the same bytes at every thread count."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from imgfilter.io import encoders


def _png(pixels: np.ndarray, level: int = 1) -> bytes:
    buf = io.BytesIO()
    encoders._write_png(buf, pixels, None, level)
    return buf.getvalue()


def _idat(data: bytes) -> bytes:
    """The concatenated IDAT payload, every chunk's CRC checked on the way."""
    pos, out = 8, []
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + n]
        (crc,) = struct.unpack(">I", data[pos + 8 + n : pos + 12 + n])
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc
        if kind == b"IDAT":
            out.append(body)
        pos += 12 + n
    return b"".join(out)


def _up_rows(pixels: np.ndarray) -> bytes:
    """PNG filter type 2 of every row, written from the PNG specification."""
    h = pixels.shape[0]
    rows = pixels.astype(">u2" if pixels.dtype == np.uint16 else np.uint8).reshape(h, -1).view(np.uint8)
    above = np.vstack([np.zeros_like(rows[:1]), rows[:-1]])
    diff = (rows.astype(np.int16) - above) % 256
    return np.hstack([np.full((h, 1), 2, np.int16), diff]).astype(np.uint8).tobytes()


SHAPES = [
    ((1, 1), np.uint8),
    ((1, 5000, 3), np.uint8),
    ((3, 2), np.uint16),
    ((700, 601, 3), np.uint8),  # two bands, the second short
    ((513, 520, 4), np.uint16),  # four bands
    ((2000, 700), np.uint8),  # one row more than a band, twice
    ((400, 900, 2), np.uint16),
]


@pytest.mark.parametrize("shape, dtype", SHAPES)
@pytest.mark.parametrize("threads", ["1", "2", "3"])
def test_stream_holds_the_filtered_rows(shape, dtype, threads, monkeypatch):
    monkeypatch.setenv("IMGFILTER_THREADS", threads)
    rng = np.random.default_rng(sum(shape))
    top = 65536 if dtype == np.uint16 else 256
    # Smooth rows with noise: compressible, like a photo, yet not trivial.
    base = np.cumsum(rng.integers(-3, 4, size=shape), axis=0) % top
    pixels = base.astype(dtype)
    data = _png(pixels)
    # zlib checks the header and the Adler-32 of the whole stream.
    assert zlib.decompress(_idat(data)) == _up_rows(pixels)
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        back = np.asarray(im)
    if dtype == np.uint16 and back.dtype != np.uint16:
        return  # Pillow reads 16-bit colour as 8-bit; the stream was checked above
    np.testing.assert_array_equal(back.reshape(pixels.shape), pixels)


@pytest.mark.parametrize("level", [1, 6, 9])
def test_bytes_do_not_depend_on_threads(level, monkeypatch):
    pixels = np.random.default_rng(level).integers(0, 40, size=(1100, 900, 3)).astype(np.uint8)
    files = []
    for threads in ("1", "2", "5"):
        monkeypatch.setenv("IMGFILTER_THREADS", threads)
        files.append(_png(pixels, level))
    assert files[0] == files[1] == files[2]
    assert zlib.decompress(_idat(files[0])) == _up_rows(pixels)


@pytest.mark.parametrize("level", [1, 6, 9])
def test_one_band_is_zlibs_own_stream(level):
    pixels = np.random.default_rng(level).integers(0, 9, size=(40, 50, 3)).astype(np.uint8)
    assert _idat(_png(pixels, level)) == zlib.compress(_up_rows(pixels), level)


def test_level_0_is_one_stored_stream(monkeypatch):
    monkeypatch.setenv("IMGFILTER_THREADS", "2")
    pixels = np.random.default_rng(0).integers(0, 256, size=(900, 800, 3)).astype(np.uint8)
    assert _idat(_png(pixels, 0)) == zlib.compress(_up_rows(pixels), 0)


def test_size_stays_that_of_one_stream():
    pixels = (np.add.outer(np.arange(1500), np.arange(1200)) // 7 % 256).astype(np.uint8)
    noisy = pixels ^ np.random.default_rng(1).integers(0, 4, size=pixels.shape, dtype=np.uint8)
    ours = len(_idat(_png(noisy)))
    one = len(zlib.compress(_up_rows(noisy), 1))
    # Each band costs a sync flush (5 bytes) and a window started afresh.
    assert ours <= one * 1.01 + 64


def test_rows_are_read_only_once_ready():
    pixels = np.random.default_rng(2).integers(0, 256, size=(1500, 1000), dtype=np.uint8)
    work = np.zeros_like(pixels)
    calls = []

    def ready(n):
        calls.append(n)
        work[:n] = pixels[:n]  # rows past n stay zero until asked for

    buf = io.BytesIO()
    encoders._write_png(buf, work, None, 1, ready)
    assert calls == sorted(calls) and calls[-1] == 1500 and len(calls) > 1
    assert zlib.decompress(_idat(buf.getvalue())) == _up_rows(pixels)
