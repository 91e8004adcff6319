"""Batch costs: per-file overhead on many small images, and --jobs scaling.

Usage::

    python3 benchmarks/bench_batch.py              # both tables
    python3 benchmarks/bench_batch.py --files 500  # more small files

Per-file overhead = (batch wall time - start-up - decode/encode time) / files,
where start-up is a batch of one file and decode/encode is Pillow alone on the
same files in this process. Filters run in both measurements' batch only, so
the overhead figure includes the (tiny) filter on a 64x64 image.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


def run(args: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "imgfilter", *args], check=True, cwd=ROOT)
    return time.perf_counter() - t0


def overhead(n_files: int, repeat: int) -> str:
    tmp = Path(tempfile.mkdtemp())
    src = tmp / "in"
    src.mkdir()
    rng = np.random.default_rng(0)
    for i in range(n_files):
        Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(src / f"s{i:05d}.png")
    one = [str(src / "s00000.png")]
    start = statistics.median(run(["blur", *one, "-o", str(tmp / "o1"), "-q"]) for _ in range(repeat))
    batch = statistics.median(run(["blur", str(src), "-o", str(tmp / "o"), "-q"]) for _ in range(repeat))

    def codec() -> float:
        t0 = time.perf_counter()
        for p in sorted(src.iterdir()):
            im = Image.open(p)
            im.load()
            im.save(tmp / "codec.png", compress_level=1)
        return time.perf_counter() - t0

    io_time = statistics.median(codec() for _ in range(repeat))
    per_file = (batch - start - io_time * (n_files - 1) / n_files) / (n_files - 1)
    return (
        f"| {n_files} files 64x64 | start-up {start * 1e3:.0f} ms | batch {batch:.2f} s | "
        f"decode+encode {io_time * 1e3 / n_files:.2f} ms/file | overhead {per_file * 1e3:.2f} ms/file |"
    )


def jobs_scaling(n_files: int, repeat: int) -> list[str]:
    tmp = Path(tempfile.mkdtemp())
    src = tmp / "in"
    src.mkdir()
    photo = Image.open(ROOT / "sample_images" / "astronaut.png").convert("RGB").resize((1920, 1080))
    for i in range(n_files):
        photo.rotate(i * 3).save(src / f"p{i:03d}.jpg", quality=90)
    lines = ["| filter | --jobs 1 s | --jobs 2 s | speed-up |", "| --- | --- | --- | --- |"]
    for args in (["sobel"], ["median", "--size", "5"], ["gaussian", "--sigma", "2"]):
        t1 = statistics.median(
            run([*args, str(src), "-o", str(tmp / "a"), "-q", "--jobs", "1"]) for _ in range(repeat)
        )
        t2 = statistics.median(
            run([*args, str(src), "-o", str(tmp / "b"), "-q", "--jobs", "2"]) for _ in range(repeat)
        )
        lines.append(f"| {' '.join(args)} | {t1:.2f} | {t2:.2f} | {t1 / t2:.2f}x |")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=300)
    ap.add_argument("--photos", type=int, default=24)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(overhead(args.files, args.repeat))
    print()
    print(f"{args.photos} photos of 1920x1080 (JPEG in, PNG out):")
    print("\n".join(jobs_scaling(args.photos, args.repeat)))


if __name__ == "__main__":
    main()
