"""imgfilter's own PNG pixel decoder: zlib's inflate, the engine's row unfilter.

Pillow stays the reader of every PNG's header and metadata; only the pixels
of the common PNGs (8 bits a sample, grey, grey + alpha, RGB or RGBA, not
interlaced, one frame) are decoded here, straight into the numpy array, a
band of rows at a time. Pillow decodes them byte by byte into its own
4-byte pixels, which are then copied out: on a 4K RGB photo that is
165 + 38 ms against about 95 here (docs/performance.md, "whole process").

:func:`layout` says whether a file is one of those and where its IDAT
chunks lie; :func:`stub` is the same file with a 1x1 image, from which
Pillow reads the metadata (text chunks after the image data included)
without decoding the pixels; :func:`decode` gives the pixels. Anything else
(palettes, 1-16 bit, interlaced, APNG, a damaged chunk structure) is left to
Pillow, with its messages.
"""

from __future__ import annotations

import contextlib
import struct
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .errors import ImageError

SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: Colour type -> samples a pixel (PNG specification, table 11.1), the ones decoded here.
_SAMPLES = {0: 1, 2: 3, 4: 2, 6: 4}
#: Chunks that make a file an animation (left to Pillow).
_ANIMATION = (b"acTL", b"fcTL", b"fdAT")
#: Inflated bytes per step: a band of rows stays in cache between inflate and unfilter.
_BAND = 1 << 20
#: Compressed bytes fed to zlib per call, so a capped call leaves a short unconsumed tail.
_FEED = 1 << 16


@dataclass(frozen=True)
class Layout:
    """Where a decodable PNG's pieces lie in its bytes."""

    width: int
    height: int
    samples: int
    #: (start, stop) of each IDAT chunk's data, in file order.
    idat: tuple[tuple[int, int], ...]
    #: (start, stop) of every chunk (length field to CRC) that is not IHDR or IDAT, and
    #: where among them the image data came (the index of the first chunk after it).
    others: tuple[tuple[int, int], ...]
    idat_at: int


def layout(data: bytes) -> Layout | None:
    """The layout of a PNG this module decodes, or None (Pillow decodes it)."""
    if data[:8] != SIGNATURE:
        return None
    at, end = 8, len(data)
    idat: list[tuple[int, int]] = []
    others: list[tuple[int, int]] = []
    idat_at = -1
    head = None
    while True:
        if at + 12 > end:
            return None  # no IEND: truncated, Pillow says so
        (length,) = struct.unpack_from(">I", data, at)
        kind = data[at + 4 : at + 8]
        stop = at + 12 + length
        if length > 0x7FFFFFFF or stop > end:
            return None
        if head is None:
            if kind != b"IHDR" or length != 13:
                return None
            head = struct.unpack_from(">IIBBBBB", data, at + 8)
        elif kind == b"IDAT":
            if idat and idat_at != len(others):
                return None  # IDAT chunks must be consecutive
            idat_at = len(others)
            idat.append((at + 8, at + 8 + length))
        elif kind in _ANIMATION or kind == b"IHDR":
            return None
        else:
            others.append((at, stop))
            if kind == b"IEND":
                break
        at = stop
    width, height, depth, colour, method, filtering, interlace = head
    if (
        depth != 8
        or colour not in _SAMPLES
        or (method, filtering, interlace) != (0, 0, 0)
        or not idat
        or width == 0
        or height == 0
    ):
        return None
    return Layout(width, height, _SAMPLES[colour], tuple(idat), tuple(others), idat_at)


def stub(data: bytes, lay: Layout) -> bytes:
    """The file with a 1x1 image (black, transparent) in place of its own: the same chunks else."""
    colour = {1: 0, 3: 2, 2: 4, 4: 6}[lay.samples]
    parts = [SIGNATURE, chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, colour, 0, 0, 0))]
    for i, (a, b) in enumerate(lay.others):
        if i == lay.idat_at:
            parts.append(chunk(b"IDAT", _stored(bytes(1 + lay.samples))))
        parts.append(data[a:b])
    return b"".join(parts)


def _stored(raw: bytes) -> bytes:
    """A zlib stream holding ``raw`` (under 64 KiB) in one stored block: no compressor needed."""
    n = len(raw)
    return b"\x78\x01\x01" + struct.pack("<HH", n, n ^ 0xFFFF) + raw + struct.pack(">I", zlib.adler32(raw))


def chunk(kind: bytes, body: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC (the writer's chunks too)."""
    return (
        struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    )


def decode(
    data: bytes,
    lay: Layout,
    source: str,
    *,
    threads: int | None = None,
    out: np.ndarray | None = None,
    progress: Callable[[int], bool] | None = None,
) -> np.ndarray:
    """The pixels of a PNG of :func:`layout`: (height, width[, samples]) uint8.

    The IDAT data are inflated a band of rows at a time and unfiltered into
    the array (``_engine.png_unfilter``; zlib and the engine both run without
    the GIL). With ``threads`` (default :func:`imgfilter.core.tiles.default_threads`,
    so ``IMGFILTER_THREADS`` and ``--threads``) above 1 and an image of several
    bands, the unfilter of each band runs on the side thread while the next is
    inflated; the bytes are the same either way. Bytes after the last row are
    ignored, as Pillow ignores them; a stream that ends before it raises
    :class:`ImageError`. Chunk CRCs are not checked, as Pillow does not check them.

    ``out`` (an array of the image's shape, uint8, C-contiguous) is written
    in place of a new one; ``progress(rows)`` is called each time rows
    ``0..rows`` are final, in order, and stops the decode (which then raises
    :class:`ImageError`) when it returns False: :class:`Rows` uses both.
    """
    from .. import _engine
    from ..core import tiles

    h, w, c = lay.height, lay.width, lay.samples
    shape = (h, w, c) if c > 1 else (h, w)
    if out is None:
        out = np.empty(shape, dtype=np.uint8)
    elif out.shape != shape or out.dtype != np.uint8 or not out.flags.c_contiguous:
        raise ValueError(f"out must be a C-contiguous uint8 array of shape {shape}")
    flat = out.reshape(-1)
    row_bytes = w * c
    stride = row_bytes + 1
    cap = max(stride, _BAND // stride * stride)
    workers = tiles.default_threads() if threads is None else tiles.resolve_threads(threads)
    side = tiles.side_pool() if workers > 1 and h * stride > 4 * cap else None
    queued: deque = deque()

    def check(bad: int, row0: int, raw: bytes) -> None:
        if bad >= 0:
            raise ImageError(
                f"{source}: cannot decode image (broken PNG data: row {row0 + bad} "
                f"has filter type {raw[bad * stride]}, not 0-4)"
            )

    def advance(rows: int) -> None:
        if progress is not None and not progress(rows):
            raise ImageError(f"{source}: decoding stopped")

    def settle(keep: int) -> None:
        while len(queued) > keep:
            fut, row0, n, raw = queued.popleft()
            check(fut.result(), row0, raw)
            advance(row0 + n)

    pending = b""
    row = 0
    try:
        for piece in _inflate(data, lay.idat, cap):
            raw = pending + piece if pending else piece
            n = min(len(raw) // stride, h - row)
            if n:
                if side is None:
                    check(_engine.png_unfilter(raw, flat, row, n, row_bytes, c), row, raw)
                    advance(row + n)
                else:
                    # At most two bands in flight: memory stays a few bands beside the image.
                    queued.append(
                        (side.submit(_engine.png_unfilter, raw, flat, row, n, row_bytes, c), row, n, raw)
                    )
                    settle(2)
                row += n
                if row == h:
                    settle(0)
                    return out
            pending = raw[n * stride :]
        settle(0)
    except zlib.error as exc:
        raise ImageError(f"{source}: cannot decode image (broken PNG data: {exc})") from None
    finally:
        for fut, *_ in queued:
            fut.cancel()
        for fut, *_ in queued:
            if not fut.cancelled():
                with contextlib.suppress(Exception):
                    fut.result()  # the side thread writes into `out` no more once this returns
    raise ImageError(
        f"{source}: cannot decode image (truncated PNG data: {row} of {h} rows; the image data stop early)"
    )


def _inflate(data: bytes, idat: tuple[tuple[int, int], ...], cap: int):
    """The inflated stream of the IDAT chunks, in pieces of at most ``cap`` bytes."""
    z = zlib.decompressobj()
    view = memoryview(data)
    for a, b in idat:
        for s in range(a, b, _FEED):
            feed = view[s : min(b, s + _FEED)]
            while feed:
                yield z.decompress(feed, cap)
                feed = z.unconsumed_tail
    # What zlib still holds once the input is in: a capped call may leave output behind.
    while piece := z.decompress(b"", cap):
        yield piece
    yield z.flush()
