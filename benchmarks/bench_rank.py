"""Rank filters and morphology against their best peers, in one process.

Usage::

    python3 benchmarks/bench_rank.py              # every row, best of 7
    python3 benchmarks/bench_rank.py --repeat 15 --threads 1

Rows (targets from issue 16):

- percentile (50th) of an 8-bit 1080p grey photo, 31 x 31 square, against
  ``skimage.filters.rank.percentile`` (target <= 0.5);
- minimum / maximum of an 8-bit 1080p grey photo, 3 x 3 and disk(5),
  against ``cv2.erode`` / ``cv2.dilate`` (target <= 1.0).

Each row times ours and the peer interleaved (ours, peer, ours, peer...)
and reports the best of N of each and their ratio (ours / peer): on a busy
machine the best runs are the ones least disturbed. The results are also
checked equal (the peers' border rules mapped to ours).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def photo_1080p() -> np.ndarray:
    """An 8-bit grey 1920 x 1080 photo: the sample camera, tiled and cropped."""
    from imgfilter.io import imread

    grey = imread(ROOT / "sample_images" / "camera.png")
    reps = (-(-1080 // grey.shape[0]), -(-1920 // grey.shape[1]))
    return np.ascontiguousarray(np.tile(grey, reps)[:1080, :1920])


def best_pair(ours, peer, repeat: int) -> tuple[float, float]:
    a, b = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        ours()
        a.append(time.perf_counter() - t)
        t = time.perf_counter()
        peer()
        b.append(time.perf_counter() - t)
    return min(a), min(b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--threads", type=int, default=None, help="ours (OpenCV: cv2.setNumThreads)")
    args = parser.parse_args()

    import cv2
    from skimage.filters import rank as skrank

    import imgfilter
    from imgfilter import footprints

    if args.threads:
        cv2.setNumThreads(args.threads)
    x = photo_1080p()
    t = args.threads
    rows = []

    sq31 = footprints.square(31)
    rows.append(
        (
            "percentile 50, 8-bit 1080p, 31x31 vs skimage.rank.percentile",
            lambda: imgfilter.percentile(x, 50, footprint=sq31, threads=t),
            lambda: skrank.percentile(x, sq31.astype(np.uint8), p0=0.5),
            0.5,
        )
    )
    for name, fp in (("3x3", footprints.square(3)), ("disk(5)", footprints.disk(5))):
        k = fp.astype(np.uint8)
        for op, ours_fn, peer_fn in (
            ("minimum", imgfilter.minimum, cv2.erode),
            ("maximum", imgfilter.maximum, cv2.dilate),
        ):
            a = ours_fn(x, footprint=fp, threads=t)
            b = peer_fn(x, k, borderType=cv2.BORDER_REFLECT_101)
            assert np.array_equal(a, b), f"{op} {name} differs from OpenCV"
            rows.append(
                (
                    f"{op} {name}, 8-bit 1080p vs cv2.{peer_fn.__name__}",
                    lambda f=ours_fn, fp=fp: f(x, footprint=fp, threads=t),
                    lambda f=peer_fn, k=k: f(x, k, borderType=cv2.BORDER_REFLECT_101),
                    1.0,
                )
            )

    print(f"{'row':<62} {'ours ms':>8} {'peer ms':>8} {'ratio':>6} target")
    for name, ours_fn, peer_fn, target in rows:
        ours_fn(), peer_fn()  # warm-up
        a, b = best_pair(ours_fn, peer_fn, args.repeat)
        ratio = a / b
        flag = "ok" if ratio <= target else "MISS"
        print(f"{name:<62} {a * 1e3:8.2f} {b * 1e3:8.2f} {ratio:6.2f} <= {target} {flag}")


if __name__ == "__main__":
    main()
