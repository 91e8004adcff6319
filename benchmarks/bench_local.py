"""Guided filter, local statistics, unsharp masking and the cubic shift against their peers.

Usage::

    python3 benchmarks/bench_local.py              # every row
    python3 benchmarks/bench_local.py --only guided --repeat 7

Each row runs imgfilter and the peer interleaved (A B A B ...) on the same
1080p photo and reports the best time of each and the ratio imgfilter/peer
(below 1: imgfilter is faster). ``cv2.ximgproc`` comes with
opencv-contrib-python-headless, which replaces opencv-python-headless's cv2
(the two packages cannot share an environment): its rows are skipped
without it.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
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
    import skimage.filters as skf
except ImportError:  # pragma: no cover
    skf = None


def photo(width: int = 1920, height: int = 1080) -> np.ndarray:
    from PIL import Image

    im = Image.open(ROOT / "sample_images" / "astronaut.png").convert("RGB")
    return np.asarray(im.resize((width, height), Image.BICUBIC))


def best_ratio(ours: Callable[[], object], peer: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Best-of-``repeat`` seconds for each, measured interleaved."""
    ours()
    peer()
    t_ours, t_peer = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        ours()
        t_ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        peer()
        t_peer.append(time.perf_counter() - t)
    return min(t_ours), min(t_peer)


def rows(img: np.ndarray) -> list[tuple[str, str, Callable, Callable | None]]:
    grey = np.ascontiguousarray(img[..., 1])
    grey64, grey32 = grey.astype(np.float64), grey.astype(np.float32)
    f32 = img.astype(np.float32)
    out: list[tuple[str, str, Callable, Callable | None]] = []
    has_contrib = cv2 is not None and hasattr(cv2, "ximgproc")
    for name, src in (("guided RGB uint8 r=8", img), ("guided grey uint8 r=8", grey)):
        peer = (lambda s=src: cv2.ximgproc.guidedFilter(s, s, 8, 650.25)) if has_contrib else None
        out.append(
            (
                name,
                "cv2.ximgproc.guidedFilter",
                lambda s=src: imgfilter.guided(s, radius=8, eps=650.25, mode="symmetric"),
                peer,
            )
        )
    if ndi is not None:

        def scipy_std(x=grey64):
            m1 = ndi.uniform_filter(x, 7)
            return np.sqrt(np.maximum(ndi.uniform_filter(x * x, 7) - m1 * m1, 0))

        out.append(
            (
                "local_std grey 7x7",
                "scipy uniform_filter x2 (float64)",
                lambda: imgfilter.local_std(grey, 7),
                scipy_std,
            )
        )
    if cv2 is not None:

        def cv_std(x=grey32):
            m1 = cv2.blur(x, (7, 7))
            return cv2.sqrt(cv2.max(cv2.blur(x * x, (7, 7)) - m1 * m1, 0))

        out.append(
            (
                "local_std grey 7x7",
                "cv2.blur x2 (float32, cancels)",
                lambda: imgfilter.local_std(grey, 7),
                cv_std,
            )
        )
        kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (5, 5))
        out.append(
            (
                "local_range RGB 5x5",
                "cv2.morphologyEx(MORPH_GRADIENT)",
                lambda: imgfilter.local_range(img, 5),
                lambda: cv2.morphologyEx(img, cv2.MORPH_GRADIENT, kernel),
            )
        )

        def cv_unsharp(x=img):
            blur = cv2.GaussianBlur(x, (0, 0), 2.0, borderType=cv2.BORDER_REFLECT_101)
            return cv2.addWeighted(x, 2.0, blur, -1.0, 0)

        out.append(
            (
                "unsharp RGB uint8 sigma=2",
                "cv2 GaussianBlur + addWeighted",
                lambda: imgfilter.unsharp(img, sigma=2.0),
                cv_unsharp,
            )
        )
        m = np.float64([[1, 0, 0.3], [0, 1, -0.6]])
        h, w = img.shape[:2]
        from imgfilter.filters._cubic import shift_cubic

        out.append(
            (
                "cubic shift RGB uint8",
                "cv2.warpAffine(INTER_CUBIC)",
                lambda: shift_cubic(img, 0.3, -0.6, mode="reflect"),
                lambda: cv2.warpAffine(
                    img, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT_101
                ),
            )
        )
        out.append(
            (
                "cubic shift RGB float32",
                "cv2.warpAffine(INTER_CUBIC)",
                lambda: shift_cubic(f32, 0.3, -0.6, mode="reflect"),
                lambda: cv2.warpAffine(
                    f32, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT_101
                ),
            )
        )
    if skf is not None:
        # Per channel: scikit-image 0.26's channel_axis=-1 path does not give its 2-D result.
        def sk_unsharp(x=f32):
            return np.dstack([skf.unsharp_mask(x[..., k], 2.0, 1.0, preserve_range=True) for k in range(3)])

        out.append(
            (
                "unsharp RGB float32 sigma=2",
                "skimage.filters.unsharp_mask",
                lambda: imgfilter.unsharp(f32, sigma=2.0, mode="symmetric"),
                sk_unsharp,
            )
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="rows whose name contains this")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    img = photo()
    print(f"{'row':30} {'peer':36} {'ours ms':>9} {'peer ms':>9} {'ratio':>6}")
    for name, peer_name, ours, peer in rows(img):
        if args.only not in name:
            continue
        if peer is None:
            t = min(best_ratio(ours, ours, args.repeat))
            print(f"{name:30} {peer_name + ' (not installed)':36} {t * 1e3:9.1f} {'-':>9} {'-':>6}")
            continue
        t_ours, t_peer = best_ratio(ours, peer, args.repeat)
        print(f"{name:30} {peer_name:36} {t_ours * 1e3:9.1f} {t_peer * 1e3:9.1f} {t_ours / t_peer:6.2f}")


if __name__ == "__main__":
    main()
