"""Time imgfilter against its peers on the same image, in the same process.

Usage::

    python3 -m pip install '.[bench]'
    python3 benchmarks/bench.py                 # the ratio table (all rows)
    python3 benchmarks/bench.py --only sobel     # rows whose name contains "sobel"
    python3 benchmarks/bench.py --markdown       # the README's table, with machine/date/versions
    python3 benchmarks/bench.py --scaling        # time against image size and kernel size

Each row runs imgfilter and the peer interleaved (A B A B ...), takes the
median of ``--repeat`` runs of each, and reports the ratio imgfilter/peer:
absolute times drift on a shared machine, ratios measured side by side much
less. Peers that are not installed are skipped.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import subprocess
import sys
import tempfile
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
    from PIL import Image, ImageFilter
except ImportError:  # pragma: no cover
    Image = ImageFilter = None
try:
    import skimage.restoration as skr
except ImportError:  # pragma: no cover
    skr = None


def load_photo(width: int, height: int) -> np.ndarray:
    """A sample photo resized (bicubic, by Pillow) to width x height RGB."""
    im = Image.open(ROOT / "sample_images" / "astronaut.png").convert("RGB")
    return np.asarray(im.resize((width, height), Image.BICUBIC))


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def compare(ours: Callable, peer: Callable, repeat: int) -> tuple[float, float]:
    ours()
    peer()  # warm-up: imports, pools, caches
    a, b = [], []
    for _ in range(repeat):
        a.append(timed(ours))
        b.append(timed(peer))
    return statistics.median(a), statistics.median(b)


def one_thread(fn: Callable[[], object]) -> object:
    """``fn()`` with OpenCV on one thread (imgfilter's rows pass threads=1)."""
    previous = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        return fn()
    finally:
        cv2.setNumThreads(previous)


def rows(img4k, gray4k, img1080):
    """(name, peer name, target ratio, ours, peer) for every row of the issue's table."""
    k3 = np.random.default_rng(0).random((3, 3)).astype(np.float32)
    f4k = img4k.astype(np.float32)
    out = []
    if cv2 is not None:

        def cv_sobel():
            gx = cv2.Sobel(gray4k, cv2.CV_32F, 1, 0, ksize=3)
            gy = cv2.Sobel(gray4k, cv2.CV_32F, 0, 1, ksize=3)
            return cv2.magnitude(gx, gy)

        out += [
            ("sobel magnitude, 4K gray", "OpenCV", 1.5, lambda: imgfilter.sobel(gray4k), cv_sobel),
            (
                "correlate 3x3, 4K RGB",
                "OpenCV filter2D (float32)",
                2.0,
                lambda: imgfilter.correlate(img4k, k3),
                lambda: cv2.filter2D(f4k, -1, k3, borderType=cv2.BORDER_REFLECT_101),
            ),
            (
                "gaussian sigma 3, 4K RGB",
                "OpenCV GaussianBlur",
                8.0,
                lambda: imgfilter.gaussian(img4k, 3.0),
                lambda: cv2.GaussianBlur(img4k, (0, 0), 3.0, borderType=cv2.BORDER_REFLECT_101),
            ),
            (
                "blur 5x5, 4K RGB",
                "OpenCV blur",
                4.0,
                lambda: imgfilter.blur(img4k, 5),
                lambda: cv2.blur(img4k, (5, 5), borderType=cv2.BORDER_REFLECT_101),
            ),
            (
                "median 3, 4K RGB",
                "OpenCV medianBlur",
                12.0,
                lambda: imgfilter.median(img4k, 3),
                lambda: cv2.medianBlur(img4k, 3),
            ),
            # (issue 14) medianBlur's border is BORDER_REPLICATE: our "edge".
            (
                "median 3 edge, 4K RGB",
                "OpenCV medianBlur",
                1.2,
                lambda: imgfilter.median(img4k, 3, mode="edge"),
                lambda: cv2.medianBlur(img4k, 3),
            ),
            (
                "median 5 edge, 4K RGB",
                "OpenCV medianBlur",
                1.2,
                lambda: imgfilter.median(img4k, 5, mode="edge"),
                lambda: cv2.medianBlur(img4k, 5),
            ),
            (
                "median 31 edge, 1080p gray",
                "OpenCV medianBlur",
                1.0,
                lambda: imgfilter.median(gray4k[::2, ::2], 31, mode="edge"),
                lambda: cv2.medianBlur(np.ascontiguousarray(gray4k[::2, ::2]), 31),
            ),
            (
                "bilateral d=9, 1080p RGB",
                "OpenCV bilateralFilter",
                1.0,
                lambda: imgfilter.bilateral(img1080, 9, 75.0, 75.0),
                lambda: cv2.bilateralFilter(img1080, 9, 75.0, 75.0),
            ),
            (
                "bilateral d=9, 1080p RGB, 1 thread",
                "OpenCV bilateralFilter, 1 thread",
                1.0,
                lambda: imgfilter.bilateral(img1080, 9, 75.0, 75.0, threads=1),
                lambda: one_thread(lambda: cv2.bilateralFilter(img1080, 9, 75.0, 75.0)),
            ),
            (
                "shift (0.5, 0.25) px, 4K RGB",
                "OpenCV warpAffine bilinear",
                3.0,
                lambda: imgfilter.shift(img4k, 0.5, 0.25),
                lambda: cv2.warpAffine(
                    img4k,
                    np.float32([[1, 0, 0.5], [0, 1, 0.25]]),
                    (img4k.shape[1], img4k.shape[0]),
                    flags=cv2.INTER_LINEAR,
                ),
            ),
        ]
    if ndi is not None:
        out += [
            (
                "sobel magnitude, 4K gray",
                "scipy.ndimage",
                0.15,
                lambda: imgfilter.sobel(gray4k),
                lambda: np.hypot(
                    ndi.sobel(gray4k.astype(np.float32), 1), ndi.sobel(gray4k.astype(np.float32), 0)
                ),
            ),
            (
                "correlate 3x3, 4K RGB",
                "scipy.ndimage.correlate",
                0.3,
                lambda: imgfilter.correlate(img4k, k3),
                lambda: ndi.correlate(f4k, k3[:, :, None], mode="mirror"),
            ),
            (
                "gaussian sigma 3, 4K RGB",
                "scipy.ndimage",
                0.5,
                lambda: imgfilter.gaussian(img4k, 3.0),
                lambda: ndi.gaussian_filter(img4k, (3.0, 3.0, 0), mode="mirror"),
            ),
            (
                "median 3, 1080p RGB",
                "scipy.ndimage.median_filter",
                0.05,
                lambda: imgfilter.median(img1080, 3),
                lambda: ndi.median_filter(img1080, size=(3, 3, 1), mode="mirror"),
            ),
            (
                "median 5, 1080p RGB",
                "scipy.ndimage.median_filter",
                0.1,
                lambda: imgfilter.median(img1080, 5),
                lambda: ndi.median_filter(img1080, size=(5, 5, 1), mode="mirror"),
            ),
            (
                "median 31, 1080p RGB",
                "scipy.ndimage.median_filter",
                0.02,
                lambda: imgfilter.median(img1080, 31),
                lambda: ndi.median_filter(img1080, size=(31, 31, 1), mode="mirror"),
            ),
            (
                "shift (0.5, 0.25) px, 4K RGB",
                "scipy.ndimage.shift order=1",
                0.1,
                lambda: imgfilter.shift(img4k, 0.5, 0.25),
                lambda: ndi.shift(img4k, (0.25, 0.5, 0), order=1, mode="grid-constant"),
            ),
        ]
    if Image is not None:
        pil4k = Image.fromarray(img4k)
        pil1080 = Image.fromarray(img1080)
        out += [
            (
                "gaussian sigma 3, 4K RGB",
                "Pillow GaussianBlur (approximate)",
                1.2,
                lambda: imgfilter.gaussian(img4k, 3.0),
                lambda: pil4k.filter(ImageFilter.GaussianBlur(3)),
            ),
            (
                "median 5, 1080p RGB",
                "Pillow MedianFilter",
                0.2,
                lambda: imgfilter.median(img1080, 5),
                lambda: pil1080.filter(ImageFilter.MedianFilter(5)),
            ),
        ]
    # The missing-pixels and linear-light issue's cost rows: imgfilter against itself.
    f1080 = img1080.astype(np.float32)
    holes = f1080.copy()
    holes[np.random.default_rng(2).random(holes.shape[:2]) < 0.01] = np.nan
    k5 = np.random.default_rng(3).random((5, 5))
    out += [
        (
            "gaussian sigma 2 nan=ignore, 1080p RGB",
            "imgfilter plain gaussian",
            2.5,
            lambda: imgfilter.gaussian(holes, 2.0, nan="ignore"),
            lambda: imgfilter.gaussian(f1080, 2.0),
        ),
        (
            "blur 5 nan=ignore, 1080p RGB",
            "imgfilter plain blur",
            2.5,
            lambda: imgfilter.blur(holes, 5, nan="ignore"),
            lambda: imgfilter.blur(f1080, 5),
        ),
        (
            "correlate 5x5 nan=ignore, 1080p RGB",
            "imgfilter plain correlate",
            2.5,
            lambda: imgfilter.correlate(holes, k5, nan="ignore"),
            lambda: imgfilter.correlate(f1080, k5),
        ),
        (
            "median 3 nan=ignore, 1080p RGB",
            "imgfilter plain median",
            2.5,
            lambda: imgfilter.median(holes, 3, nan="ignore"),
            lambda: imgfilter.median(f1080, 3),
        ),
        (
            "bilateral d=9 nan=ignore, 1080p RGB",
            "imgfilter plain bilateral",
            1.5,
            lambda: imgfilter.bilateral(holes, 9, nan="ignore"),
            lambda: imgfilter.bilateral(f1080, 9),
        ),
        (
            "pool 2 avg nan=ignore, 1080p RGB",
            "imgfilter plain pool",
            2.5,
            lambda: imgfilter.pool(holes, 2, op="avg", nan="ignore"),
            lambda: imgfilter.pool(f1080, 2, op="avg"),
        ),
        (
            "pool 2 max nan=ignore, 1080p RGB",
            "imgfilter plain pool",
            2.5,
            lambda: imgfilter.pool(holes, 2, op="max", nan="ignore"),
            lambda: imgfilter.pool(f1080, 2, op="max"),
        ),
        (
            "gaussian sigma 2 linear, 1080p RGB 8-bit",
            "imgfilter plain gaussian",
            1.5,
            lambda: imgfilter.gaussian(img1080, 2.0, linear=True),
            lambda: imgfilter.gaussian(img1080, 2.0),
        ),
        (
            "blur 5 linear, 1080p RGB 8-bit",
            "imgfilter plain blur",
            1.5,
            lambda: imgfilter.blur(img1080, 5, linear=True),
            lambda: imgfilter.blur(img1080, 5),
        ),
        (
            "bilateral d=9 linear, 1080p RGB 8-bit",
            "imgfilter plain bilateral",
            1.2,
            lambda: imgfilter.bilateral(img1080, 9, linear=True),
            lambda: imgfilter.bilateral(img1080, 9),
        ),
        (
            "pool 2 avg linear, 1080p RGB 8-bit",
            "imgfilter plain pool",
            1.5,
            lambda: imgfilter.pool(img1080, 2, op="avg", linear=True),
            lambda: imgfilter.pool(img1080, 2, op="avg"),
        ),
        (
            "shift 0.5 linear, 1080p RGB 8-bit",
            "imgfilter plain shift",
            1.5,
            lambda: imgfilter.shift(img1080, 0.5, 0.5, linear=True),
            lambda: imgfilter.shift(img1080, 0.5, 0.5),
        ),
    ]
    # Pooling against what users write by hand (no issue target).
    h2, w2 = img1080.shape[0] // 2, img1080.shape[1] // 2
    blocks = img1080[: 2 * h2, : 2 * w2].reshape(h2, 2, w2, 2, 3)
    out += [
        (
            "pool 2 max, 1080p RGB",
            "numpy reshape + max",
            None,
            lambda: imgfilter.pool(img1080, 2, op="max"),
            lambda: blocks.max(axis=(1, 3)),
        ),
        (
            "pool 2 avg, 1080p RGB",
            "numpy reshape + mean (float32)",
            None,
            lambda: imgfilter.pool(img1080, 2, op="avg"),
            lambda: blocks.mean(axis=(1, 3), dtype=np.float32),
        ),
    ]
    # Issue 14's pooling rows (4K RGB uint8): the compiled pool against the
    # numpy reshape idiom and OpenCV's area resize (uint8 out; ours is float32).
    h4, w4 = img4k.shape[0] // 2, img4k.shape[1] // 2
    blocks4k = img4k[: 2 * h4, : 2 * w4].reshape(h4, 2, w4, 2, 3)
    out += [
        (
            "pool 2 max, 4K RGB",
            "numpy reshape + max",
            0.5,
            lambda: imgfilter.pool(img4k, 2, op="max"),
            lambda: blocks4k.max(axis=(1, 3)),
        ),
        (
            "pool 2 avg, 4K RGB",
            "numpy reshape + mean (float32)",
            0.5,
            lambda: imgfilter.pool(img4k, 2, op="avg"),
            lambda: blocks4k.mean(axis=(1, 3), dtype=np.float32),
        ),
    ]
    if cv2 is not None:
        out.append(
            (
                "pool 2 avg, 4K RGB",
                "OpenCV resize INTER_AREA",
                1.0,
                lambda: imgfilter.pool(img4k, 2, op="avg"),
                lambda: cv2.resize(img4k, (w4, h4), interpolation=cv2.INTER_AREA),
            )
        )
    # 16-bit linear light (no issue target: the 8-bit one is shown for scale).
    img16 = img1080.astype(np.uint16) * 257
    out += [
        (
            f"{name} linear, 1080p RGB 16-bit",
            f"imgfilter plain {name.split()[0]}",
            None,
            (lambda f=f: f(img16, True)),
            (lambda f=f: f(img16, False)),
        )
        for name, f in [
            ("gaussian sigma 2", lambda x, lin: imgfilter.gaussian(x, 2.0, linear=lin)),
            ("blur 5", lambda x, lin: imgfilter.blur(x, 5, linear=lin)),
            ("pool 2 avg", lambda x, lin: imgfilter.pool(x, 2, op="avg", linear=lin)),
            ("shift 0.5", lambda x, lin: imgfilter.shift(x, 0.5, 0.5, linear=lin)),
        ]
    ]
    if skr is not None:
        small = img1080[:540, :960]
        out.append(
            (
                "bilateral d=9, 960x540 RGB",
                "scikit-image denoise_bilateral",
                0.5,
                lambda: imgfilter.bilateral(small, 9, 75.0, 75.0),
                lambda: skr.denoise_bilateral(
                    small, win_size=9, sigma_color=75 / 255, sigma_spatial=75, channel_axis=-1
                ),
            )
        )
    return out


def process_rows(img4k: np.ndarray, repeat: int):
    """Whole-process rows: the CLI on a 4K file against a cv2 script."""
    if cv2 is None:
        return []
    tmp = Path(tempfile.mkdtemp())
    src = tmp / "4k.png"
    Image.fromarray(img4k).save(src)
    script = (
        "import cv2, numpy as np, sys\n"
        "g = cv2.imread(sys.argv[1], cv2.IMREAD_GRAYSCALE)\n"
        "gx = cv2.Sobel(g, cv2.CV_32F, 1, 0); gy = cv2.Sobel(g, cv2.CV_32F, 0, 1)\n"
        "cv2.imwrite(sys.argv[2], np.clip(np.rint(cv2.magnitude(gx, gy)), 0, 255).astype(np.uint8))\n"
    )
    ours = [sys.executable, "-m", "imgfilter", "sobel", "--gray", str(src), str(tmp / "a.png")]
    peer = [sys.executable, "-c", script, str(src), str(tmp / "b.png")]
    a, b = compare(lambda: subprocess.run(ours, check=True), lambda: subprocess.run(peer, check=True), repeat)
    help_cmd = [sys.executable, "-m", "imgfilter", "--help"]
    h = statistics.median(
        timed(lambda: subprocess.run(help_cmd, check=True, capture_output=True)) for _ in range(5)
    )
    return [
        (
            "`imgfilter sobel --gray 4k.png out.png`, whole process",
            "cv2.imread/Sobel/imwrite script",
            1.3,
            a,
            b,
        ),
        ("`imgfilter --help`, whole process", "(absolute, seconds)", 0.3, h, 1.0),
    ]


def versions() -> str:
    parts = [f"imgfilter {imgfilter.__version__}", f"numpy {np.__version__}"]
    for mod, name in ((ndi, "scipy"), (cv2, "opencv"), (Image, "Pillow")):
        if mod is not None:
            top = sys.modules[mod.__name__.split(".")[0]]
            parts.append(f"{name} {getattr(top, '__version__', '?')}")
    if skr is not None:
        parts.append(f"scikit-image {sys.modules['skimage'].__version__}")
    return ", ".join(parts)


def scaling(repeat: int) -> list[str]:
    lines = ["| image | Mpx | sobel ms | ms per Mpx |", "| --- | --- | --- | --- |"]
    for w, h in ((1280, 800), (1920, 1080), (3840, 2160), (5120, 3200)):
        g = load_photo(w, h)[..., 1].copy()
        t = statistics.median(timed(lambda g=g: imgfilter.sobel(g)) for _ in range(repeat))
        mpx = w * h / 1e6
        lines.append(f"| {w}x{h} | {mpx:.1f} | {t * 1e3:.1f} | {t * 1e3 / mpx:.1f} |")
    lines += ["", "| kernel | correlate 1080p RGB ms |", "| --- | --- |"]
    img = load_photo(1920, 1080)
    rng = np.random.default_rng(1)
    imgfilter.correlate(img[:64, :64], rng.random((9, 9)))  # warm-up: the FFT path's imports
    for k in (3, 5, 7, 9, 15, 21, 31):
        kern = rng.random((k, k))
        t = statistics.median(
            timed(lambda kern=kern: imgfilter.correlate(img, kern)) for _ in range(max(1, repeat // 2))
        )
        lines.append(f"| {k}x{k} | {t * 1e3:.0f} |")
    return lines


def goal(target: float | None) -> str:
    return "" if target is None else f"target <= {target}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--only", default="", help="run rows whose case contains this text")
    ap.add_argument("--markdown", action="store_true", help="print the README's markdown table")
    ap.add_argument("--scaling", action="store_true", help="time against image and kernel size")
    ap.add_argument("--no-process", action="store_true", help="skip the whole-process rows")
    args = ap.parse_args()

    if args.scaling:
        print("\n".join(scaling(args.repeat)))
        return
    img4k = load_photo(3840, 2160)
    gray4k = np.ascontiguousarray(img4k[..., 1])
    img1080 = load_photo(1920, 1080)
    results = []
    for name, peer, target, ours, theirs in rows(img4k, gray4k, img1080):
        if args.only and args.only not in name:
            continue
        rep = 1 if "median 31" in name else args.repeat
        a, b = compare(ours, theirs, rep)
        results.append((name, peer, target, a, b))
        print(
            f"{name:32s} vs {peer:34s} {a * 1e3:9.1f} ms {b * 1e3:9.1f} ms  ratio {a / b:6.3f}  {goal(target)}",
            flush=True,
        )
    if not args.no_process and not args.only:
        for name, peer, target, a, b in process_rows(img4k, args.repeat):
            results.append((name, peer, target, a, b))
            print(
                f"{name:32s} vs {peer:34s} {a * 1e3:9.1f} ms {b * 1e3:9.1f} ms  ratio {a / b:6.3f}  {goal(target)}",
                flush=True,
            )
    if args.markdown:
        print()
        print(
            f"Measured {datetime.date.today()} on {platform.machine()} ({os.cpu_count()} cores), "
            f"Python {platform.python_version()}; {versions()}. Median of {args.repeat} interleaved runs."
        )
        print()
        print("| case | peer | imgfilter ms | peer ms | ratio | target |")
        print("| --- | --- | --- | --- | --- | --- |")
        for name, peer, target, a, b in results:
            if target is None:
                verdict = "(none)"
            else:
                verdict = f"<= {target} ({'yes' if a / b <= target else '**missed**'})"
            print(f"| {name} | {peer} | {a * 1e3:.1f} | {b * 1e3:.1f} | {a / b:.3f} | {verdict} |")


if __name__ == "__main__":
    main()
