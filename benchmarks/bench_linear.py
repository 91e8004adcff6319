"""Linear-family speed against OpenCV, in one process, interleaved (issue 14's targets).

Each row times imgfilter and its peer alternately ``--repeat`` times and
prints the best time of each and their ratio (imgfilter / peer, lower is
better) beside the issue's target. Rows run at default threads and again on
one thread (``threads=1`` against ``cv2.setNumThreads(1)``).

    python benchmarks/bench_linear.py [--repeat 15] [--only gaussian] [--single --cpu]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

import imgfilter
from imgfilter.core.linear import sobel_gradients

ROOT = Path(__file__).resolve().parents[1]
REFLECT = cv2.BORDER_REFLECT_101  # imgfilter's default "reflect"


def load_photo(width: int, height: int) -> np.ndarray:
    im = Image.open(ROOT / "sample_images" / "astronaut.png").convert("RGB")
    return np.asarray(im.resize((width, height), Image.BICUBIC))


def best_pair(ours: Callable, peer: Callable, repeat: int, clock=time.perf_counter) -> tuple[float, float]:
    ours()
    peer()
    a = b = float("inf")
    for _ in range(repeat):
        t0 = clock()
        ours()
        t1 = clock()
        peer()
        t2 = clock()
        a, b = min(a, t1 - t0), min(b, t2 - t1)
    return a, b


def rows(img: np.ndarray):
    """(name, target, ours(threads), peer) for every linear row."""
    grey = np.ascontiguousarray(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY))
    f32 = img.astype(np.float32)
    u16 = img.astype(np.uint16) * 257
    k3 = np.random.default_rng(0).random((3, 3)).astype(np.float32)
    g25 = (25, 25)

    def cv_sobel():
        gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3, borderType=REFLECT)
        gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3, borderType=REFLECT)
        return cv2.magnitude(gx, gy)

    dst = np.empty_like(f32)
    gdst = np.empty(grey.shape, np.float32)
    return [
        (
            "correlate 3x3 f32 RGB / filter2D",
            0.8,
            lambda t: imgfilter.correlate(f32, k3, threads=t),
            lambda: cv2.filter2D(f32, -1, k3, borderType=REFLECT),
        ),
        (
            "correlate 3x3 f32 RGB / np.copyto",
            4.0,
            lambda t: imgfilter.correlate(f32, k3, threads=t),
            lambda: np.copyto(dst, f32),
        ),
        (
            "box 5x5 u8 RGB / blur",
            1.0,
            lambda t: imgfilter.blur(img, 5, threads=t),
            lambda: cv2.blur(img, (5, 5), borderType=REFLECT),
        ),
        (
            "box 31x31 u8 RGB / blur",
            1.0,
            lambda t: imgfilter.blur(img, 31, threads=t),
            lambda: cv2.blur(img, (31, 31), borderType=REFLECT),
        ),
        (
            "gaussian s3 u8 RGB / GaussianBlur 25",
            1.0,
            lambda t: imgfilter.gaussian(img, 3.0, threads=t),
            lambda: cv2.GaussianBlur(img, g25, 3.0, borderType=REFLECT),
        ),
        (
            "gaussian s3 u16 RGB / GaussianBlur 25",
            0.8,
            lambda t: imgfilter.gaussian(u16, 3.0, threads=t),
            lambda: cv2.GaussianBlur(u16, g25, 3.0, borderType=REFLECT),
        ),
        (
            "gaussian s3 f32 RGB / GaussianBlur 25",
            0.8,
            lambda t: imgfilter.gaussian(f32, 3.0, threads=t),
            lambda: cv2.GaussianBlur(f32, g25, 3.0, borderType=REFLECT),
        ),
        (
            "sobel magnitude grey / Sobel x,y+magnitude",
            0.8,
            lambda t: imgfilter.sobel(grey, threads=t),
            cv_sobel,
        ),
        (
            "sobel_gradients grey / Sobel x,y+magnitude",
            0.8,
            lambda t: sobel_gradients(grey, "reflect", threads=t),
            cv_sobel,
        ),
        (
            "sobel_gradients grey / np.copyto",
            4.0,
            lambda t: sobel_gradients(grey, "reflect", threads=t),
            lambda: np.copyto(gdst, grey),
        ),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--only", default="", help="run the rows whose name contains this")
    ap.add_argument("--single", action="store_true", help="single-thread rows only")
    ap.add_argument(
        "--cpu",
        action="store_true",
        help="single-thread rows by this thread's CPU time (steadier on a shared, loaded machine)",
    )
    args = ap.parse_args()
    img = load_photo(3840, 2160)
    threads_default = cv2.getNumThreads()
    print(f"{'case':46s} {'thr':>4s} {'ours ms':>8s} {'peer ms':>8s} {'ratio':>6s} {'target':>6s}")
    for name, target, ours, peer in rows(img):
        if args.only and args.only not in name:
            continue
        for threads in [1] if args.single else [None, 1]:
            cv2.setNumThreads(1 if threads == 1 else threads_default)
            clock = time.thread_time if args.cpu and threads == 1 else time.perf_counter
            a, b = best_pair(lambda t=threads, f=ours: f(t), peer, args.repeat, clock)
            ok = "ok" if a / b <= target else "MISS"
            tag = "1" if threads == 1 else "all"
            print(f"{name:46s} {tag:>4s} {a * 1e3:8.1f} {b * 1e3:8.1f} {a / b:6.2f} {target:6.2f} {ok}")
    cv2.setNumThreads(threads_default)


if __name__ == "__main__":
    main()
