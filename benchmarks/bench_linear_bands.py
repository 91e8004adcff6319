"""What ``linear=True`` costs, and the floor under it (issue 14's linear-light rows).

For each issue-14 row (4K RGB uint8 photo; bilateral at 1080p) this times,
interleaved in one process (medians of ``--repeat`` rounds):

- ``plain``: the filter on the 8-bit codes;
- ``linear``: the same filter with ``linear=True`` (decoded, filtered and
  encoded band by band where the filter fuses it);
- ``codec``: decoding the input and encoding an output of the result's size
  band by band on the same threads, with nothing in between: the least any
  linear-light route can cost on top of a filter that would be free;
- ``f32``: the filter on the image already decoded to float32 (the work the
  linear route's filter does, whole-image).

It prints ``linear / plain`` (issue 14's target is <= 1.2) beside the floors
``codec / plain`` and ``(codec + f32) / plain``: where ``codec / plain`` is
above 1.2 alone (box, shift, average pool: 8-bit filters of a few ns a
pixel), no route that decodes to float can meet the target.

    python benchmarks/bench_linear_bands.py [--repeat 15] [--only gauss,box]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import imgfilter
from imgfilter.core import srgb
from imgfilter.core.tiles import Scratch, run_bands

BENCH = Path("/tmp/imgfilter-bench")
ROOT = Path(__file__).resolve().parents[1]


def photo(width: int, height: int) -> np.ndarray:
    path = BENCH / f"coffee-{width}x{height}.png"
    if path.exists():
        return imgfilter.imread(path)
    from PIL import Image

    src = Image.open(ROOT / "sample_images" / "coffee.png").convert("RGB")
    return np.asarray(src.resize((width, height), Image.BICUBIC))


def codec_only(img: np.ndarray, out_shape: tuple[int, ...], threads, floats: bool = False) -> None:
    """Decode ``img`` and encode an ``out_shape`` result, band by band (no filter);
    ``floats``: encoded to float sRGB values (average pooling's result)."""
    out = np.empty(out_shape, np.float32 if floats else np.uint8)
    scratch = Scratch()
    h, oh = img.shape[0], out_shape[0]

    def band(r0: int, r1: int) -> None:
        i0, i1 = r0 * h // oh, r1 * h // oh
        lin = srgb.decode(img[i0:i1], out=scratch.get("lin", img[i0:i1].shape, np.float32))
        rows = lin.reshape(-1)[: (r1 - r0) * int(np.prod(out_shape[1:]))].reshape(out[r0:r1].shape)
        if floats:
            srgb.encode_float(rows, 255.0, out=out[r0:r1])
        else:
            srgb.encode(rows, np.uint8, out=out[r0:r1])

    run_bands(oh, 32 * int(np.prod(img.shape[1:])), band, threads=threads)


def rows(big: np.ndarray, hd: np.ndarray):
    lin_big, lin_hd = srgb.decode(big), srgb.decode(hd)
    pooled = (big.shape[0] // 2, big.shape[1] // 2, 3)
    return [
        ("gaussian sigma 3", big, lin_big, big.shape, lambda x, **k: imgfilter.gaussian(x, 3, **k)),
        ("box 5x5", big, lin_big, big.shape, lambda x, **k: imgfilter.blur(x, 5, **k)),
        ("shift (0.5, 0.25)", big, lin_big, big.shape, lambda x, **k: imgfilter.shift(x, 0.5, 0.25, **k)),
        ("2x2 avg pool", big, lin_big, pooled, lambda x, **k: imgfilter.pool(x, 2, op="avg", **k)),
        ("bilateral d=9 1080p", hd, lin_hd, hd.shape, lambda x, **k: imgfilter.bilateral(x, 9, **k)),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=11)
    ap.add_argument("--only", default="", help="comma-separated substrings of the row names")
    args = ap.parse_args()
    big, hd = photo(3840, 2160), photo(1920, 1080)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    print(f"{'row':22s} {'threads':>7s} {'plain':>8s} {'linear':>8s} {'codec':>8s} {'f32':>8s}   "
          f"{'lin/plain':>9s} {'codec/pl':>8s} {'(c+f32)/pl':>10s}")  # fmt: skip
    for threads in (None, 1):
        for name, img, lin, out_shape, fn in rows(big, hd):
            if only and not any(s in name for s in only):
                continue
            plain, linear, codec, f32 = time_row(name, img, lin, out_shape, fn, threads, args.repeat)
            label = "default" if threads is None else str(threads)
            print(
                f"{name:22s} {label:>7s} {plain:8.1f} {linear:8.1f} {codec:8.1f} {f32:8.1f}   "
                f"{linear / plain:9.2f} {codec / plain:8.2f} {(codec + f32) / plain:10.2f}",
                flush=True,
            )


def time_row(name, img, lin, out_shape, fn, threads, repeat) -> list[float]:
    """Median ms of (plain, linear, codec, f32), the sides interleaved, order alternating."""
    sides = [
        lambda: fn(img, threads=threads),
        lambda: fn(img, linear=True, threads=threads),
        lambda: codec_only(img, out_shape, threads, floats="pool" in name),
        lambda: fn(lin, threads=threads),
    ]
    for side in sides:
        side()
    times: list[list[float]] = [[] for _ in sides]
    for r in range(repeat):
        order = range(len(sides)) if r % 2 == 0 else reversed(range(len(sides)))
        for i in order:
            t0 = time.perf_counter()
            sides[i]()
            times[i].append(time.perf_counter() - t0)
    return [float(np.median(t)) * 1e3 for t in times]


if __name__ == "__main__":
    main()
