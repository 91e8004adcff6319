"""Scale-out costs: out-of-core Sobel against the in-memory run, and a
``--scheduler local:2`` batch against ``--jobs 2``.

Usage::

    python3 benchmarks/bench_scale.py                 # both tables (builds a 20000 x 20000 image once)
    python3 benchmarks/bench_scale.py --side 8000     # a smaller big image
    python3 benchmarks/bench_scale.py --only batch

Out of core: Sobel on a side x side 16-bit tiled BigTIFF (800 MB for 20000),
tiled TIFF out, in a child process whose peak resident memory is read from
the kernel (ru_maxrss). The in-memory reference is the same command on a
5000 x 5000 crop stored as a plain (strip) TIFF, which the normal path reads
whole. Both are whole-process times divided by the megapixels, start-up
included, so the ratio is what a user sees.

Batch: 24 photos of 1080p, Sobel, ``--scheduler local:2`` against
``--jobs 2`` (both two worker processes); the cluster's start-up is included.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(tempfile.gettempdir()) / "imgfilter-bench-scale"


def child(args: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one CLI run in a fresh process."""
    code = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "subprocess.run(sys.argv[1:], check=True)\n"
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, sys.executable, "-m", "imgfilter", *args],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout.split()
    return float(out[0]), float(out[1]) / 1024


def big_tiff(side: int) -> Path:
    import tifffile

    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"big-{side}.tif"
    if path.exists():
        return path
    tile = 1024
    yy, xx = np.mgrid[0:tile, 0:tile]

    def tiles():
        rng = np.random.default_rng(1)
        for ty in range(0, side, tile):
            for tx in range(0, side, tile):
                base = (np.sin((yy + ty) / 300.0) + np.cos((xx + tx) / 170.0)) * 16000 + 32768
                yield (base + rng.normal(0, 800, base.shape)).clip(0, 65535).astype(np.uint16)

    tmp = path.with_suffix(".part")
    tifffile.imwrite(tmp, tiles(), shape=(side, side), dtype=np.uint16, tile=(tile, tile), bigtiff=True)
    os.replace(tmp, path)
    return path


def out_of_core(side: int, repeat: int) -> list[str]:
    import tifffile

    big = big_tiff(side)
    work = Path(tempfile.mkdtemp())
    crop = work / "crop.tif"
    tifffile.imwrite(crop, tifffile.imread(big, key=0)[:5000, :5000])  # strips: read whole
    rows = []
    mem = [child(["sobel", str(crop), str(work / "crop-out.tif")]) for _ in range(repeat)]
    ooc = [child(["sobel", str(big), str(work / "big-out.tif")]) for _ in range(repeat)]
    t_mem, rss_mem = statistics.median(m[0] for m in mem), max(m[1] for m in mem)
    t_ooc, rss_ooc = statistics.median(m[0] for m in ooc), max(m[1] for m in ooc)
    mp_mem, mp_ooc = 25.0, side * side / 1e6
    per_mem, per_ooc = t_mem / mp_mem * 1e3, t_ooc / mp_ooc * 1e3
    rows.append("| run | image | time | ms per Mpx | peak RSS |")
    rows.append("| --- | --- | --- | --- | --- |")
    rows.append(f"| in memory | 5000 x 5000 strip TIFF | {t_mem:.2f} s | {per_mem:.1f} | {rss_mem:.0f} MB |")
    rows.append(
        f"| out of core | {side} x {side} tiled BigTIFF ({big.stat().st_size / 1e6:.0f} MB) "
        f"| {t_ooc:.2f} s | {per_ooc:.1f} | {rss_ooc:.0f} MB |"
    )
    rows.append(f"\nout-of-core time per Mpx / in-memory: **{per_ooc / per_mem:.2f}x**")
    shutil.rmtree(work, ignore_errors=True)
    return rows


def batch(repeat: int) -> list[str]:
    from PIL import Image

    work = Path(tempfile.mkdtemp())
    src = work / "in"
    src.mkdir()
    photo = Image.open(ROOT / "sample_images" / "astronaut.png").convert("RGB").resize((1920, 1080))
    for i in range(24):
        photo.rotate(i * 15).save(src / f"p{i:02d}.png", compress_level=1)

    def timed(args: list[str]) -> float:
        out = work / "out"
        shutil.rmtree(out, ignore_errors=True)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "imgfilter", *args, "-o", str(out), "-q"], check=True, cwd=ROOT)
        return time.perf_counter() - t0

    jobs = statistics.median(timed(["sobel", str(src), "--jobs", "2"]) for _ in range(repeat))
    local = statistics.median(timed(["sobel", str(src), "--scheduler", "local:2"]) for _ in range(repeat))
    shutil.rmtree(work, ignore_errors=True)
    return [
        "| 24 photos 1080p, sobel | time | ratio |",
        "| --- | --- | --- |",
        f"| --jobs 2 | {jobs:.2f} s | 1.00 |",
        f"| --scheduler local:2 | {local:.2f} s | {local / jobs:.2f} |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=20000, help="side of the big image (default 20000)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=["ooc", "batch"])
    args = parser.parse_args()
    if args.only in (None, "ooc"):
        print("\n".join(out_of_core(args.side, args.repeat)), "\n", flush=True)
    if args.only in (None, "batch"):
        print("\n".join(batch(args.repeat)), flush=True)


if __name__ == "__main__":
    main()
