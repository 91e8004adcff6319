"""Canny, Laplacian of Gaussian and gradients against their peers, in one process.

Usage::

    python3 benchmarks/bench_canny.py               # 4K grey photo, best of 7
    python3 benchmarks/bench_canny.py --repeat 15 --size 1920x1080

Each row runs imgfilter and the peer interleaved (A B A B ...) and reports the
best time of each and the ratio imgfilter/peer (below 1: imgfilter is
faster). Both run with their default threads. Peers that are not installed
are skipped.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import imgfilter  # noqa: E402

try:
    import cv2
except ImportError:  # pragma: no cover - optional peer
    cv2 = None
try:
    import scipy.ndimage as ndi
except ImportError:  # pragma: no cover
    ndi = None
try:
    import skimage.feature as skfeature
    import skimage.filters as skfilters
except ImportError:  # pragma: no cover
    skfeature = skfilters = None


def grey_photo(width: int, height: int) -> np.ndarray:
    from PIL import Image

    im = Image.open(ROOT / "sample_images" / "astronaut.png").convert("L")
    return np.asarray(im.resize((width, height), Image.BICUBIC))


def best_pair(ours, peer, repeat: int) -> tuple[float, float]:
    a, b = [], []
    ours(), peer()  # warm up
    for _ in range(repeat):
        t = time.perf_counter()
        ours()
        a.append(time.perf_counter() - t)
        t = time.perf_counter()
        peer()
        b.append(time.perf_counter() - t)
    return min(a), min(b)


def rows(g8: np.ndarray):
    f32 = g8.astype(np.float32) / 255
    if cv2 is not None:
        yield (
            "canny 8-bit sigma=1 vs cv2.Canny (no blur), L2",
            (
                lambda: imgfilter.canny(g8, low=25.5, high=51),
                lambda: cv2.Canny(g8, 25.5, 51, L2gradient=True),
            ),
        )
        yield (
            "canny 8-bit sigma=1 vs cv2.GaussianBlur + Canny",
            (
                lambda: imgfilter.canny(g8, low=25.5, high=51),
                lambda: cv2.Canny(cv2.GaussianBlur(g8, (9, 9), 1.0), 25.5, 51, L2gradient=True),
            ),
        )
        yield (
            "canny 8-bit sigma=0 vs cv2.Canny, L2",
            (
                lambda: imgfilter.canny(g8, sigma=0, low=50, high=100, mode="edge"),
                lambda: cv2.Canny(g8, 50, 100, L2gradient=True),
            ),
        )
    if skfeature is not None:
        yield (
            "canny float32 sigma=1 vs skimage.feature.canny",
            (
                lambda: imgfilter.canny(f32),
                lambda: skfeature.canny(f32),
            ),
        )
        yield (
            "canny 8-bit vs skimage.feature.canny",
            (
                lambda: imgfilter.canny(g8),
                lambda: skfeature.canny(g8),
            ),
        )
    if ndi is not None:
        yield (
            "gaussian_laplace sigma=2 float32 vs scipy",
            (
                lambda: imgfilter.gaussian_laplace(f32, 2.0, mode="symmetric"),
                lambda: ndi.gaussian_laplace(f32, 2.0),
            ),
        )
        yield (
            "gaussian_gradient_magnitude sigma=2 float32 vs scipy",
            (
                lambda: imgfilter.gaussian_gradient_magnitude(f32, 2.0, mode="symmetric"),
                lambda: ndi.gaussian_gradient_magnitude(f32, 2.0),
            ),
        )
        yield (
            "gaussian_derivative order=(0,1) sigma=2 vs scipy",
            (
                lambda: imgfilter.gaussian_derivative(f32, 2.0, order=(0, 1), mode="symmetric"),
                lambda: ndi.gaussian_filter(f32, 2.0, order=(0, 1)),
            ),
        )
    if cv2 is not None:
        yield (
            "gaussian_laplace sigma=2 float32 vs cv2 GaussianBlur + Laplacian",
            (
                lambda: imgfilter.gaussian_laplace(f32, 2.0),
                lambda: cv2.Laplacian(cv2.GaussianBlur(f32, (17, 17), 2.0), cv2.CV_32F, ksize=1),
            ),
        )
        yield (
            "gradient sobel magnitude 8-bit vs cv2 Sobel x, y + magnitude",
            (
                lambda: imgfilter.gradient(g8),
                lambda: cv2.magnitude(
                    cv2.Sobel(g8, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(g8, cv2.CV_32F, 0, 1, ksize=3)
                ),
            ),
        )
        yield (
            "gradient scharr x 8-bit vs cv2.Scharr",
            (
                lambda: imgfilter.gradient(g8, operator="scharr", output="x"),
                lambda: cv2.Scharr(g8, cv2.CV_32F, 1, 0),
            ),
        )
    if skfilters is not None:
        yield (
            "gradient farid magnitude float32 vs skimage.filters.farid",
            (
                lambda: imgfilter.gradient(f32, operator="farid", mode="symmetric"),
                lambda: skfilters.farid(f32),
            ),
        )
        yield (
            "difference_of_gaussians 1.0 float32 vs skimage",
            (
                lambda: imgfilter.difference_of_gaussians(f32, 1.0, mode="edge"),
                lambda: skfilters.difference_of_gaussians(f32, 1.0),
            ),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--size", default="3840x2160", help="WIDTHxHEIGHT of the grey photo")
    parser.add_argument("--only", default="", help="rows whose name contains this")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    g8 = grey_photo(width, height)
    print(f"{width}x{height} grey photo, best of {args.repeat} interleaved runs")
    print(f"{'row':70s} {'imgfilter':>10s} {'peer':>10s} {'ratio':>6s}")
    for name, (ours, peer) in rows(g8):
        if args.only and args.only not in name:
            continue
        a, b = best_pair(ours, peer, args.repeat)
        print(f"{name:70s} {a * 1e3:8.1f}ms {b * 1e3:8.1f}ms {a / b:6.2f}")


if __name__ == "__main__":
    main()
