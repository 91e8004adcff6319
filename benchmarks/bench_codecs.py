"""PNG decoders and encoders side by side (issue 14: would a codec switch pay?).

Usage::

    python3 benchmarks/bench_codecs.py [--repeat N] [--size WxH]

Decodes the benchmark photo (see bench.py) and encodes the RGB Sobel result
of it as the CLI writes it (uint8), with every codec installed: imgfilter's
own PNG writer, Pillow, OpenCV and imagecodecs, at zlib levels 1 and 6. The
codecs run round-robin, best of N, and print ms and file size; the
whole-process cost of a switch is the difference in these rows.
"""

from __future__ import annotations

import argparse
import io
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench
from PIL import Image

import imgfilter
from imgfilter import io as iio

try:
    import cv2
except ImportError:  # pragma: no cover - optional
    cv2 = None
try:
    import imagecodecs
except ImportError:  # pragma: no cover - optional
    imagecodecs = None


def codecs(data: bytes, u8: np.ndarray) -> dict[str, Callable[[], int]]:
    """name -> callable returning the bytes it produced or consumed."""
    out: dict[str, Callable[[], int]] = {
        "decode Pillow (imgfilter today)": lambda: np.asarray(Image.open(io.BytesIO(data))).nbytes,
    }
    if cv2 is not None:
        out["decode cv2.imdecode"] = lambda: (
            cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED).nbytes
        )
    if imagecodecs is not None:
        out["decode imagecodecs.png_decode"] = lambda: imagecodecs.png_decode(data).nbytes
    for level in (1, 6):

        def ours(level=level) -> int:
            buf = io.BytesIO()
            iio.encode(buf, u8, "PNG", compression=level)
            return len(buf.getvalue())

        def pil(level=level) -> int:
            buf = io.BytesIO()
            Image.fromarray(u8).save(buf, format="PNG", compress_level=level)
            return len(buf.getvalue())

        out[f"encode imgfilter writer, level {level} (today)"] = ours
        out[f"encode Pillow, compress_level {level}"] = pil
        if cv2 is not None:
            out[f"encode cv2.imencode, level {level}"] = lambda level=level: (
                cv2.imencode(".png", u8, [cv2.IMWRITE_PNG_COMPRESSION, level])[1].nbytes
            )
        if imagecodecs is not None:
            out[f"encode imagecodecs.png_encode, level {level}"] = lambda level=level: len(
                imagecodecs.png_encode(u8, level=level)
            )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--size", default="3840x2160")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.lower().split("x"))
    rgb = bench.photo(w, h)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG", compress_level=6)
    data = buf.getvalue()
    u8 = iio.to_file_dtype(imgfilter.sobel(rgb), depth="8", source_max=255.0)
    table = codecs(data, u8)
    best = dict.fromkeys(table, math.inf)
    size = {name: fn() for name, fn in table.items()}  # warm-up
    for _ in range(args.repeat):
        for name, fn in table.items():
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    print(f"{w}x{h} RGB: input PNG {len(data) / 1e6:.1f} MB; Sobel output {u8.nbytes / 1e6:.1f} MB raw")
    print("| codec | best ms | bytes (MB) |")
    print("| --- | --- | --- |")
    for name in table:
        print(f"| {name} | {best[name] * 1e3:.0f} | {size[name] / 1e6:.1f} |")


if __name__ == "__main__":
    main()
