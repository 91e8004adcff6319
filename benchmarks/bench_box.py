"""Box filters against OpenCV, in one process, interleaved (issue 14: box 5x5 / 31x31 <= 1.0).

Each row times imgfilter and its peer alternately ``--repeat`` times and
prints the best time of each and their ratio (imgfilter / peer, lower is
better). Two columns: CPU time on one thread (``threads=1`` against
``cv2.setNumThreads(1)``, ``time.process_time``) and wall time at default
threads (``--wall``). Each row also times the path before the fused box
kernel (the method it took then, forced), so before/after come from one run.

    python benchmarks/bench_box.py [--repeat 9] [--only 5x5] [--wall]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

import imgfilter
from imgfilter.core.linear import RUNNING_MIN, use_method

ROOT = Path(__file__).resolve().parents[1]
REFLECT = cv2.BORDER_REFLECT_101  # imgfilter's default "reflect"


def load_photo(width: int, height: int) -> np.ndarray:
    im = Image.open(ROOT / "sample_images" / "astronaut.png").convert("RGB")
    return np.asarray(im.resize((width, height), Image.BICUBIC))


def best_of(fns: list[Callable], repeat: int, clock) -> list[float]:
    """Best time of each function, calling them in turn ``repeat`` times."""
    for f in fns:
        f()
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for i, f in enumerate(fns):
            t0 = clock()
            f()
            best[i] = min(best[i], clock() - t0)
    return best


def before(k: int) -> str:
    """The method a box of ``k`` took before the fused kernel (running sums from 17 taps)."""
    return "running" if k >= RUNNING_MIN else "separable"


def rows(img4k: np.ndarray, img1080: np.ndarray):
    """(name, ours(threads), peer) for every row."""
    u16 = img4k.astype(np.uint16) * 257
    f32 = img4k.astype(np.float32) / 255
    g1080 = img1080.astype(np.float32) / 255
    out = []
    for name, im in (("u8", img4k), ("u16", u16), ("f32", f32)):
        for k in (5, 31):
            out.append(
                (
                    f"blur {k}x{k} {name} 4K RGB / cv2.blur",
                    before(k),
                    lambda t, im=im, k=k: imgfilter.blur(im, k, threads=t),
                    lambda im=im, k=k: cv2.blur(im, (k, k), borderType=REFLECT),
                )
            )
    out.append(
        (
            "local_std 5 f32 1080p RGB / 2 boxFilter + sqrt",
            "separable",
            lambda t: imgfilter.local_std(g1080, 5, threads=t),
            lambda: _cv_std(g1080, 5),
        )
    )
    out.append(
        (
            "guided r=2 f32 1080p RGB / 4 boxFilter passes",
            "separable",
            lambda t: imgfilter.guided(g1080, radius=2, threads=t),
            lambda: _cv_guided(g1080, 2),
        )
    )
    return out


def _cv_std(x: np.ndarray, k: int) -> np.ndarray:
    m = cv2.boxFilter(x, cv2.CV_64F, (k, k), borderType=REFLECT)
    m2 = cv2.boxFilter(x.astype(np.float64) ** 2, cv2.CV_64F, (k, k), borderType=REFLECT)
    return np.sqrt(np.maximum(m2 - m * m, 0))


def _cv_guided(x: np.ndarray, r: int, eps: float = 0.01) -> np.ndarray:
    # The guided filter's box means (He et al.): mean I, mean I*I, then mean a, mean b.
    k = (2 * r + 1, 2 * r + 1)
    box = lambda v: cv2.boxFilter(v, -1, k, borderType=REFLECT)  # noqa: E731
    mi, mii = box(x), box(x * x)
    a = (mii - mi * mi) / (mii - mi * mi + eps)
    b = mi - a * mi
    return box(a) * x + box(b)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--only", default="")
    ap.add_argument("--wall", action="store_true", help="also wall time at default threads")
    args = ap.parse_args()
    img4k, img1080 = load_photo(3840, 2160), load_photo(1920, 1080)
    head = "ms now / before / peer, ratios now and before"
    print(f"{'case':50s} cpu 1 thread ({head})" + ("   wall default threads" if args.wall else ""))
    for name, old, ours, peer in rows(img4k, img1080):
        if args.only not in name:
            continue

        def run_old(t, ours=ours, old=old):
            with use_method(old):
                ours(t)

        cv2.setNumThreads(1)
        a, o, b = best_of([partial(ours, 1), partial(run_old, 1), peer], args.repeat, time.process_time)
        line = f"{name:50s} {a * 1e3:6.1f} {o * 1e3:6.1f} {b * 1e3:6.1f} ms {a / b:5.2f}x {o / b:5.2f}x"
        if args.wall:
            cv2.setNumThreads(-1)
            a, o, b = best_of(
                [partial(ours, None), partial(run_old, None), peer], args.repeat, time.perf_counter
            )
            line += f"   {a * 1e3:6.1f} {o * 1e3:6.1f} {b * 1e3:6.1f} ms {a / b:5.2f}x {o / b:5.2f}x"
        print(line, flush=True)


if __name__ == "__main__":
    main()
