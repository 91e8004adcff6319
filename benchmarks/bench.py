"""Time imgfilter against its peers (OpenCV, libvips, scikit-image, numpy) in one interleaved run.

Usage::

    python3 -m pip install '.[bench]'
    python3 benchmarks/bench.py                  # every row (issue 14's targets, issue 16's table)
    python3 benchmarks/bench.py --write          # ... and rewrite docs/performance.md
    python3 benchmarks/bench.py --only gaussian  # rows whose case contains "gaussian"
    python3 benchmarks/bench.py --quick          # 2 rounds, default threads only (4 min at 4K)
    python3 benchmarks/bench.py --quick --size 64x36   # smoke run (seconds; tests/test_bench_smoke.py)
    python3 benchmarks/bench.py --only rank,morph --no-process   # issue 16's rank and morphology rows

Issue 16's rows (rank, morphology, unsharp, Canny, Gaussian derivatives,
gradients, local statistics, guided, shifts) are one more table of the same
run; ``--only`` also matches their family names (rank, morph, sharpen, canny,
deriv, gradient, local, guided, shift), and ``bench_rank.py``,
``bench_canny.py`` and ``bench_local.py`` are shortcuts for them. A full
``--write`` stops starting rounds when its ``--budget`` (14 minutes) would be
passed, so it ends within 15 minutes however loaded the machine is.

The guided filter's peer, ``cv2.ximgproc.guidedFilter``, comes with
opencv-contrib-python-headless, which replaces opencv-python-headless's
``cv2`` (the two cannot share an environment). To fill its row, run this
file from a venv whose ``cv2`` is the contrib one, e.g. one that sees the
main venv's packages behind its own::

    python3 -m venv /work/venv-contrib
    /work/venv-contrib/bin/pip install --no-deps opencv-contrib-python-headless
    echo /work/venv/lib/python3.11/site-packages \
        > /work/venv-contrib/lib/python3.11/site-packages/zz-main-venv.pth
    PYTHONPATH=$PWD /work/venv-contrib/bin/python benchmarks/bench.py --write

Every case is a pair (imgfilter, peer). All pairs run round-robin, ``--repeat``
rounds: round r times each case's two sides back to back (the order swapped
every round), then moves to the next case, so slow drifts of a shared machine
fall on both sides of a ratio. Each side keeps its best (minimum) time. Rows
come at the default thread count and again on one thread (imgfilter
``threads=1``, ``cv2.setNumThreads(1)``, ``pyvips.concurrency_set(1)``; for
whole-process rows ``IMGFILTER_THREADS=1``, ``VIPS_CONCURRENCY=1``); a peer
without threads of its own (SciPy, scikit-image, Pillow, numpy) is timed once
per round and shared by both rows. Peers that are not installed are skipped
(issue 16's table says "not installed" where its best peer is missing).

The photos are a sample image (``sample_images/coffee.png``) cropped to 16:9
and upscaled with Pillow's LANCZOS (deterministic); they are cached in the
temporary directory, never committed. An upscale is smoother than a camera
photo, so its PNGs compress better and decode and encode faster than a noisy
photo's (with 3 levels of grain, every codec here took about 3x as long).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import inspect
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
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
    import pyvips

    pyvips.cache_set_max(0)  # an operation cache would answer repeated calls for free
except (ImportError, OSError):  # pragma: no cover - optional peer (OSError: no libvips)
    pyvips = None
try:
    import skimage.feature as skfeature
    import skimage.filters as skfilters
    import skimage.filters.rank as skrank
except ImportError:  # pragma: no cover - optional peer
    skfeature = skfilters = skrank = None
import scipy.ndimage as ndi  # noqa: E402
from PIL import Image, ImageFilter  # noqa: E402

DOC = ROOT / "docs" / "performance.md"
CACHE = Path(tempfile.gettempdir()) / "imgfilter-bench"
PNG_LEVEL = 1  # imgfilter's default zlib level; every whole-process peer is given the same
FOUR_K = (3840, 2160)
BUDGET = 840.0  # seconds: the full ``--write`` fits in 15 minutes on the 2-core machine, however loaded


# ---------------------------------------------------------------- images


def photo(width: int, height: int) -> np.ndarray:
    """A width x height RGB uint8 photo (see the module docstring), cached as PNG."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"coffee-{width}x{height}.png"
    if path.exists():
        return np.array(Image.open(path).convert("RGB"))  # writable: some peers refuse read-only buffers
    src = Image.open(ROOT / "sample_images" / "coffee.png").convert("RGB")
    w, h = src.size
    ch = round(w * height / width)  # crop to the target's aspect ratio, centred
    top = (h - ch) // 2
    src = src.crop((0, max(top, 0), w, max(top, 0) + min(ch, h)))
    pixels = np.array(src.resize((width, height), Image.LANCZOS))
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    Image.fromarray(pixels).save(tmp, format="PNG")
    os.replace(tmp, path)  # atomic: parallel runs may build the same file
    return pixels


def grey(rgb: np.ndarray) -> np.ndarray:
    return np.array(Image.fromarray(rgb).convert("L"))


# ---------------------------------------------------------------- cases


@dataclass
class Case:
    """One row: imgfilter's side and the peer's, each a callable that returns its own seconds."""

    group: str
    name: str
    peer: str
    target: float | None
    ours: Callable[[], float] | None  # None: the peer's row where the peer is not installed
    theirs: Callable[[], float] | None
    threads: str = "default"
    quick: bool = False  # a whole-process or start-up row that ``--quick`` keeps
    absolute: bool = False  # ``target`` is in seconds for ours alone (no peer ratio)
    best: list[float] = field(default_factory=lambda: [math.inf, math.inf])
    family: str = ""  # what ``--only`` matches besides the case and the peer (issue 16's sections)
    raw: tuple[Callable[[], object], Callable[[], object]] | None = None  # untimed, for ``agreement``
    agreement: str = ""  # how the two results compare, from the warm-up call
    threaded_peer: bool = True  # False: the peer ignores thread settings (SciPy, scikit-image, Pillow, numpy)
    peer_of: Case | None = None  # the default-threads row whose peer time this one-thread row shares

    @property
    def peer_time(self) -> float:
        return self.peer_of.best[1] if self.peer_of is not None else self.best[1]

    @property
    def ratio(self) -> float:
        if self.ours is None or (self.theirs is None and self.peer_of is None):
            return math.nan
        return self.best[0] / self.peer_time

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        value = self.best[0] if self.absolute else self.ratio
        return bool(value <= self.target) if math.isfinite(value) else None


def clock(fn: Callable[[], object]) -> Callable[[], float]:
    def timed() -> float:
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0

    return timed


@contextlib.contextmanager
def peers_on(threads: int | None) -> Iterator[None]:
    """OpenCV and libvips on ``threads`` threads (None: leave their defaults)."""
    if threads is None:
        yield
        return
    saved_cv = cv2.getNumThreads() if cv2 is not None else None
    saved_vips = pyvips.concurrency_get() if pyvips is not None else None
    if cv2 is not None:
        cv2.setNumThreads(threads)
    if pyvips is not None:
        pyvips.concurrency_set(threads)
    try:
        yield
    finally:
        if cv2 is not None:
            cv2.setNumThreads(saved_cv)
        if pyvips is not None:
            pyvips.concurrency_set(saved_vips)


def peer_clock(fn: Callable[[], object], threads: int | None) -> Callable[[], float]:
    def timed() -> float:
        with peers_on(threads):
            t0 = time.perf_counter()
            fn()
            return time.perf_counter() - t0

    return timed


def vips_image(arr: np.ndarray):
    h, w = arr.shape[:2]
    bands = 1 if arr.ndim == 2 else arr.shape[2]
    fmt = {np.dtype(np.uint8): "uchar", np.dtype(np.uint16): "ushort", np.dtype(np.float32): "float"}
    return pyvips.Image.new_from_memory(np.ascontiguousarray(arr).data, w, h, bands, fmt[arr.dtype])


def later_nan_filters(t: int | None) -> list[tuple[str, Callable]]:
    """The filters with ``nan=`` that came after issue 14's table (skipped where not installed)."""
    out = []
    for name, label, kw in (
        ("local_var", "local_var 5x5", {"size": 5}),
        ("local_std", "local_std 5x5", {"size": 5}),
        ("local_range", "local_range 5x5", {"size": 5}),
        ("unsharp", "unsharp sigma 2", {"sigma": 2.0}),
        ("gaussian_derivative", "Gaussian derivative sigma 2, order (0, 1)", {"sigma": 2.0, "order": (0, 1)}),
        ("gaussian_laplace", "LoG sigma 2", {"sigma": 2.0}),
        ("gaussian_gradient_magnitude", "gradient magnitude sigma 2", {"sigma": 2.0}),
        ("difference_of_gaussians", "DoG sigma 1", {"low_sigma": 1.0}),
        ("shift", "shift (0.5, 0.25)", {"dx": 0.5, "dy": 0.25}),
    ):
        fn = getattr(imgfilter, name, None)
        if fn is not None:
            out.append((label, lambda x, fn=fn, kw=kw, **k: fn(x, threads=t, **kw, **k)))
    return out


def library_cases(img4k: np.ndarray, img1080: np.ndarray, threads: int | None) -> list[Case]:
    """Filters on arrays, in this process."""
    t = threads
    label = "1" if threads == 1 else "default"
    g4k = grey(img4k)
    g1080 = grey(img1080)
    f4k = img4k.astype(np.float32)
    u16 = img4k.astype(np.uint16) * 257
    k3 = np.random.default_rng(0).random((3, 3)).astype(np.float32)
    h4, w4 = img4k.shape[0] // 2, img4k.shape[1] // 2
    reflect = cv2.BORDER_REFLECT_101 if cv2 is not None else None
    cases: list[Case] = []

    def add(group, name, peer, target, ours, theirs):
        threaded = not peer.startswith(("scikit-image", "numpy", "np."))
        cases.append(
            Case(
                group,
                name,
                peer,
                target,
                clock(ours),
                peer_clock(theirs, t),
                threads=label,
                threaded_peer=threaded,
            )
        )

    if cv2 is not None:

        def cv_sobel():
            gx = cv2.Sobel(g4k, cv2.CV_32F, 1, 0, ksize=3, borderType=reflect)
            gy = cv2.Sobel(g4k, cv2.CV_32F, 0, 1, ksize=3, borderType=reflect)
            return cv2.magnitude(gx, gy)

        add(
            "filters",
            "Sobel magnitude, 4K grey",
            "OpenCV Sobel x, y + magnitude",
            0.8,
            lambda: imgfilter.sobel(g4k, threads=t),
            cv_sobel,
        )
    if pyvips is not None:
        vg4k = vips_image(g4k)
        add(
            "filters",
            "Sobel magnitude, 4K grey",
            "libvips sobel (uchar out)",
            0.8,
            lambda: imgfilter.sobel(g4k, threads=t),
            lambda: vg4k.sobel().write_to_memory(),
        )
    if cv2 is not None:
        add(
            "filters",
            "correlate 3x3, float32 RGB",
            "OpenCV filter2D",
            0.8,
            lambda: imgfilter.correlate(f4k, k3, threads=t),
            lambda: cv2.filter2D(f4k, -1, k3, borderType=reflect),
        )
        add(
            "filters",
            "Gaussian sigma 3 (25 taps), uint8 RGB",
            "OpenCV GaussianBlur 25x25",
            1.0,
            lambda: imgfilter.gaussian(img4k, 3.0, threads=t),
            lambda: cv2.GaussianBlur(img4k, (25, 25), 3.0, borderType=reflect),
        )
    if pyvips is not None:
        v4k = vips_image(img4k)
        mask = pyvips.Image.gaussmat(3.0, 3.3e-4, separable=True, precision="integer")  # 25 taps
        add(
            "filters",
            "Gaussian sigma 3 (25 taps), uint8 RGB",
            "libvips convsep integer (not exact)",
            2.0,
            lambda: imgfilter.gaussian(img4k, 3.0, threads=t),
            lambda: v4k.convsep(mask, precision="integer").write_to_memory(),
        )
    if cv2 is not None:
        for size in (5, 31):
            add(
                "filters",
                f"box {size}x{size}, uint8 RGB",
                "OpenCV blur",
                1.0,
                lambda size=size: imgfilter.blur(img4k, size, threads=t),
                lambda size=size: cv2.blur(img4k, (size, size), borderType=reflect),
            )
        # medianBlur replicates the edge pixel: our mode="edge" gives the same result.
        for size in (3, 5):
            add(
                "filters",
                f"median {size}, uint8 RGB",
                "OpenCV medianBlur",
                1.2,
                lambda size=size: imgfilter.median(img4k, size, mode="edge", threads=t),
                lambda size=size: cv2.medianBlur(img4k, size),
            )
        add(
            "filters",
            "median 31, 1080p grey",
            "OpenCV medianBlur",
            1.0,
            lambda: imgfilter.median(g1080, 31, mode="edge", threads=t),
            lambda: cv2.medianBlur(g1080, 31),
        )
    if skrank is not None:
        disk = np.ones((31, 31), dtype=bool)
        add(
            "filters",
            "median 31, 1080p grey",
            "scikit-image rank.median",
            0.5,
            lambda: imgfilter.median(g1080, 31, mode="edge", threads=t),
            lambda: skrank.median(g1080, footprint=disk),
        )
    if cv2 is not None:
        add(
            "filters",
            "bilateral d=9, 1080p RGB",
            "OpenCV bilateralFilter",
            1.0,
            lambda: imgfilter.bilateral(img1080, 9, 75.0, 75.0, threads=t),
            lambda: cv2.bilateralFilter(img1080, 9, 75.0, 75.0),
        )
        m = np.float32([[1, 0, 0.5], [0, 1, 0.25]])
        add(
            "filters",
            "shift (0.5, 0.25) px, uint8 RGB",
            "OpenCV warpAffine bilinear",
            0.8,
            lambda: imgfilter.shift(img4k, 0.5, 0.25, threads=t),
            lambda: cv2.warpAffine(img4k, m, (img4k.shape[1], img4k.shape[0]), flags=cv2.INTER_LINEAR),
        )
    blocks = img4k[: 2 * h4, : 2 * w4].reshape(h4, 2, w4, 2, 3)
    add(
        "filters",
        "2x2 max pool, uint8 RGB",
        "numpy reshape + max",
        0.5,
        lambda: imgfilter.pool(img4k, 2, op="max", threads=t),
        lambda: blocks.max(axis=(1, 3)),
    )
    add(
        "filters",
        "2x2 avg pool, uint8 RGB (float32 out)",
        "numpy reshape + mean (float32)",
        0.5,
        lambda: imgfilter.pool(img4k, 2, op="avg", threads=t),
        lambda: blocks.mean(axis=(1, 3), dtype=np.float32),
    )
    if cv2 is not None:
        add(
            "filters",
            "2x2 avg pool, uint8 RGB (float32 out)",
            "OpenCV resize INTER_AREA (uint8 out)",
            1.0,
            lambda: imgfilter.pool(img4k, 2, op="avg", threads=t),
            lambda: cv2.resize(img4k, (w4, h4), interpolation=cv2.INTER_AREA),
        )
        add(
            "filters",
            "Gaussian sigma 3, uint16 RGB",
            "OpenCV GaussianBlur 25x25",
            0.8,
            lambda: imgfilter.gaussian(u16, 3.0, threads=t),
            lambda: cv2.GaussianBlur(u16, (25, 25), 3.0, borderType=reflect),
        )
        add(
            "filters",
            "Gaussian sigma 3, float32 RGB",
            "OpenCV GaussianBlur 25x25",
            0.8,
            lambda: imgfilter.gaussian(f4k, 3.0, threads=t),
            lambda: cv2.GaussianBlur(f4k, (25, 25), 3.0, borderType=reflect),
        )

    # Linear light: the same filter with and without linear=True (8-bit sRGB).
    same = "the same filter without linear"
    for name, fn, img in (
        ("Gaussian sigma 3", lambda x, lin: imgfilter.gaussian(x, 3.0, linear=lin, threads=t), img4k),
        ("box 5x5", lambda x, lin: imgfilter.blur(x, 5, linear=lin, threads=t), img4k),
        ("shift (0.5, 0.25)", lambda x, lin: imgfilter.shift(x, 0.5, 0.25, linear=lin, threads=t), img4k),
        ("2x2 avg pool", lambda x, lin: imgfilter.pool(x, 2, op="avg", linear=lin, threads=t), img4k),
        ("bilateral d=9, 1080p", lambda x, lin: imgfilter.bilateral(x, 9, linear=lin, threads=t), img1080),
    ):
        add(
            "linear",
            f"{name} linear=True, uint8 RGB",
            same,
            1.2,
            lambda fn=fn, img=img: fn(img, True),
            lambda fn=fn, img=img: fn(img, False),
        )

    # Missing pixels: 1% NaN holes with nan="ignore" against the hole-free image.
    f1080 = img1080.astype(np.float32)
    holes4k, holes1080 = f4k.copy(), f1080.copy()
    for h in (holes4k, holes1080):
        h[np.random.default_rng(2).random(h.shape[:2]) < 0.01] = np.nan
    k5 = np.random.default_rng(3).random((5, 5)).astype(np.float32)
    same = 'the same filter, no holes, nan="propagate"'
    for name, fn, (holey, clean) in (
        ("correlate 5x5", lambda x, **k: imgfilter.correlate(x, k5, threads=t, **k), (holes4k, f4k)),
        ("Gaussian sigma 3", lambda x, **k: imgfilter.gaussian(x, 3.0, threads=t, **k), (holes4k, f4k)),
        ("box 5x5", lambda x, **k: imgfilter.blur(x, 5, threads=t, **k), (holes4k, f4k)),
        ("median 3", lambda x, **k: imgfilter.median(x, 3, threads=t, **k), (holes4k, f4k)),
        ("median 5", lambda x, **k: imgfilter.median(x, 5, threads=t, **k), (holes4k, f4k)),
        ("median 7", lambda x, **k: imgfilter.median(x, 7, threads=t, **k), (holes4k, f4k)),
        ("2x2 avg pool", lambda x, **k: imgfilter.pool(x, 2, op="avg", threads=t, **k), (holes4k, f4k)),
        ("2x2 max pool", lambda x, **k: imgfilter.pool(x, 2, op="max", threads=t, **k), (holes4k, f4k)),
        (
            "bilateral d=9, 1080p",
            lambda x, **k: imgfilter.bilateral(x, 9, threads=t, **k),
            (holes1080, f1080),
        ),
        *((name, fn, (holes4k, f4k)) for name, fn in later_nan_filters(t)),
        (
            "guided r=8, 1080p",
            lambda x, **k: imgfilter.guided(x, radius=8, threads=t, **k),
            (holes1080, f1080),
        ),
    ):
        add(
            "nan",
            f'{name} nan="ignore", float32 RGB, 1% holes',
            same,
            1.5,
            lambda fn=fn, x=holey: fn(x, nan="ignore"),
            lambda fn=fn, x=clean: fn(x),
        )

    # Memory passes: the filter against one read of its input and one write of its output.
    out_f = np.empty_like(f4k)
    out_g = np.empty(g4k.shape, np.float32)
    add(
        "passes",
        "correlate 3x3, float32 RGB",
        "np.copyto (float32 RGB -> float32 RGB)",
        4.0,
        lambda: imgfilter.correlate(f4k, k3, threads=t),
        lambda: np.copyto(out_f, f4k),
    )
    add(
        "passes",
        "Sobel magnitude, 4K grey",
        "np.copyto (uint8 grey -> float32 grey)",
        4.0,
        lambda: imgfilter.sobel(g4k, threads=t),
        lambda: np.copyto(out_g, g4k),
    )
    return cases


def has_ximgproc() -> bool:
    return cv2 is not None and hasattr(cv2, "ximgproc")


def paper_guided(image: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """He, Sun and Tang's guided filter (2010), colour guide = the image, as a SciPy user writes it.

    float32 box means by ``scipy.ndimage.uniform_filter`` (mode "mirror": our
    "reflect"), one 3x3 inverse per pixel shared by the three channels.
    """
    x = image.astype(np.float32)

    def f(v):
        return ndi.uniform_filter(v, 2 * radius + 1, mode="mirror")

    mean = [f(x[..., i]) for i in range(3)]
    sigma = np.empty((*x.shape[:2], 3, 3), np.float32)
    for i in range(3):
        for j in range(i, 3):
            sigma[..., i, j] = sigma[..., j, i] = f(x[..., i] * x[..., j]) - mean[i] * mean[j]
    sigma += eps * np.eye(3, dtype=np.float32)
    inv = np.linalg.inv(sigma)
    out = np.empty_like(x)
    for k in range(3):  # the image is its own guide: cov(I, p_k) is column k of Sigma without eps
        cov = sigma[..., :, k] - eps * np.eye(3, dtype=np.float32)[k]
        a = np.einsum("...ij,...j->...i", inv, cov)
        b = mean[k] - sum(a[..., i] * mean[i] for i in range(3))
        out[..., k] = sum(f(a[..., i]) * x[..., i] for i in range(3)) + f(b)
    return out


def issue16_cases(img4k: np.ndarray, img1080: np.ndarray, threads: int | None) -> list[Case]:
    """Issue 16's filters against their best peers (and SciPy / scikit-image for reference).

    OpenCV's BORDER_REFLECT_101 is our mode "reflect" and SciPy's "mirror";
    SciPy's "reflect" is our "symmetric", its "nearest" our "edge". The
    warm-up call compares the two results (the table's last column).
    """
    t = threads
    label = "1" if threads == 1 else "default"
    g4k, g1080 = grey(img4k), grey(img1080)
    f4k_grey = g4k.astype(np.float32) / 255
    f1080 = img1080.astype(np.float32)
    reflect = cv2.BORDER_REFLECT_101 if cv2 is not None else None
    from imgfilter import footprints as fp

    cases: list[Case] = []

    def add(family, name, peer, target, ours, theirs, scale=1.0):
        """``theirs`` None: the peer is not installed (a row that says so, nothing timed).

        ``scale`` maps the peer's result to ours for the comparison only (not timed).
        """
        raw = (ours, theirs if scale == 1.0 else lambda: theirs() * scale)
        cases.append(
            Case(
                "i16",
                name,
                peer if theirs is not None else f"{peer} (not installed)",
                target,
                clock(ours) if theirs is not None else None,
                peer_clock(theirs, t) if theirs is not None else None,
                threads=label,
                family=family,
                raw=raw if theirs is not None else None,
                threaded_peer=peer.startswith(("OpenCV", "libvips")),
            )
        )

    # Rank filters: 8-bit 1080p grey (issue 16's size); scikit-image ignores the pixels outside.
    sq31 = fp.square(31)
    if skrank is not None:
        add(
            "rank",
            "percentile 50, 31x31, 8-bit 1080p grey",
            "scikit-image rank.percentile",
            0.5,
            lambda: imgfilter.percentile(g1080, 50, footprint=sq31, threads=t),
            lambda: skrank.percentile(g1080, sq31.astype(np.uint8), p0=0.5),
        )
        add(
            "rank",
            "rank_filter 480 of 961 (median), 31x31, 8-bit 1080p grey",
            "scikit-image rank.median",
            None,
            lambda: imgfilter.rank_filter(g1080, 480, footprint=sq31, threads=t),
            lambda: skrank.median(g1080, sq31.astype(np.uint8)),
        )
        if "footprint" in inspect.signature(imgfilter.median).parameters:  # on the rank engine
            d15 = fp.disk(15)
            add(
                "rank",
                "median disk(15), 8-bit 1080p grey",
                "scikit-image rank.median",
                None,
                lambda: imgfilter.median(g1080, footprint=d15, threads=t),
                lambda: skrank.median(g1080, d15.astype(np.uint8)),
            )
    # Float data with as many distinct values as pixels (the rank keys' wide route), against SciPy.
    noisy = (
        f1080[..., 0] / 255
        + np.random.default_rng(5).standard_normal(f1080.shape[:2]).astype(np.float32) * 1e-3
    )
    add(
        "rank",
        "percentile 30, 5x5, float32 1080p grey (2M distinct values)",
        "scipy.ndimage.percentile_filter",
        None,
        lambda: imgfilter.percentile(noisy, 30, size=5, mode="reflect", threads=t),
        lambda: ndi.percentile_filter(noisy, 30, size=5, mode="mirror"),
    )
    # Morphology: 4K RGB uint8; OpenCV's erode/dilate are the targets' peers.
    if cv2 is not None:
        for fname, shape in (("3x3", fp.square(3)), ("disk(5)", fp.disk(5))):
            k = shape.astype(np.uint8)
            for op, ours_fn, peer_fn in (
                ("minimum", imgfilter.minimum, cv2.erode),
                ("maximum", imgfilter.maximum, cv2.dilate),
            ):
                add(
                    "rank morph",
                    f"{op} {fname}, uint8 RGB",
                    f"OpenCV {peer_fn.__name__}",
                    1.0,
                    lambda f=ours_fn, s=shape: f(img4k, footprint=s, threads=t),
                    lambda f=peer_fn, k=k: f(img4k, k, borderType=reflect),
                )
        k5 = fp.disk(5).astype(np.uint8)
        for op, ours_fn, cv_op in (
            ("opening", imgfilter.opening, cv2.MORPH_OPEN),
            ("closing", imgfilter.closing, cv2.MORPH_CLOSE),
        ):
            add(
                "morph",
                f"{op} disk(5), uint8 RGB",
                "OpenCV morphologyEx",
                None,
                lambda f=ours_fn: f(img4k, footprint=fp.disk(5), threads=t),
                lambda op=cv_op: cv2.morphologyEx(img4k, op, k5, borderType=reflect),
            )
    add(
        "rank morph",
        "minimum 3x3, uint8 RGB",
        "SciPy grey_erosion (reference)",
        None,
        lambda: imgfilter.minimum(img4k, size=3, threads=t),
        lambda: ndi.grey_erosion(img4k, size=(3, 3, 1), mode="mirror"),
    )
    add(
        "morph",
        "opening disk(5), 8-bit 1080p grey",
        "SciPy grey_opening (reference)",
        None,
        lambda: imgfilter.opening(g1080, footprint=fp.disk(5), threads=t),
        lambda: ndi.grey_opening(g1080, footprint=fp.disk(5), mode="mirror"),
    )

    # Sharpening: 1080p RGB, sigma 2, amount 1.
    if skfilters is not None:
        # Per channel: scikit-image 0.26's channel_axis=-1 path does not give its 2-D result.
        add(
            "sharpen unsharp",
            "unsharp sigma 2, float32 RGB 1080p",
            "scikit-image unsharp_mask",
            None,
            lambda: imgfilter.unsharp(f1080, sigma=2.0, mode="symmetric", threads=t),
            lambda: np.dstack(
                [skfilters.unsharp_mask(f1080[..., c], 2.0, 1.0, preserve_range=True) for c in range(3)]
            ),
        )
    pil1080 = Image.fromarray(img1080)
    add(
        "sharpen unsharp",
        "unsharp sigma 2, uint8 RGB 1080p",
        "Pillow UnsharpMask(2, 100%, 0)",
        None,
        lambda: imgfilter.unsharp(img1080, sigma=2.0, mode="edge", threads=t),
        lambda: np.asarray(pil1080.filter(ImageFilter.UnsharpMask(2, 100, 0))),
    )
    if cv2 is not None:
        add(
            "sharpen unsharp",
            "unsharp sigma 2, uint8 RGB 1080p",
            "OpenCV GaussianBlur + addWeighted",
            None,
            lambda: imgfilter.unsharp(img1080, sigma=2.0, threads=t),
            lambda: cv2.addWeighted(
                img1080, 2.0, cv2.GaussianBlur(img1080, (17, 17), 2.0, borderType=reflect), -1.0, 0
            ),
        )

    # Canny: 8-bit 4K grey, thresholds in gradient units (OpenCV's Sobel scale).
    if cv2 is not None:
        add(
            "canny",
            "canny sigma 1, low 25.5, high 51, 8-bit 4K grey",
            "OpenCV GaussianBlur 9x9 + Canny L2",
            1.5,
            lambda: imgfilter.canny(g4k, low=25.5, high=51, threads=t),
            lambda: cv2.Canny(cv2.GaussianBlur(g4k, (9, 9), 1.0), 25.5, 51, L2gradient=True),
        )
        add(
            "canny",
            "canny sigma 0, low 50, high 100, 8-bit 4K grey",
            "OpenCV Canny L2",
            1.5,
            lambda: imgfilter.canny(g4k, sigma=0, low=50, high=100, mode="edge", threads=t),
            lambda: cv2.Canny(g4k, 50, 100, L2gradient=True),
        )
    if skfeature is not None:
        add(
            "canny",
            "canny sigma 1 (defaults), float32 4K grey",
            "scikit-image feature.canny",
            None,
            lambda: imgfilter.canny(f4k_grey, threads=t),
            lambda: skfeature.canny(f4k_grey),
        )

    # Gaussian derivatives and gradients: float32 4K grey (Scharr: 8-bit).
    add(
        "deriv",
        "gaussian_laplace sigma 2, float32 4K grey",
        "SciPy gaussian_laplace",
        None,
        lambda: imgfilter.gaussian_laplace(f4k_grey, 2.0, mode="symmetric", threads=t),
        lambda: ndi.gaussian_laplace(f4k_grey, 2.0),
    )
    if cv2 is not None:
        add(
            "deriv",
            "gaussian_laplace sigma 2, float32 4K grey",
            "OpenCV GaussianBlur 17x17 + Laplacian (3-tap)",
            None,
            lambda: imgfilter.gaussian_laplace(f4k_grey, 2.0, threads=t),
            lambda: cv2.Laplacian(
                cv2.GaussianBlur(f4k_grey, (17, 17), 2.0, borderType=reflect), cv2.CV_32F, ksize=1
            ),
        )
    add(
        "deriv",
        "gaussian_gradient_magnitude sigma 2, float32 4K grey",
        "SciPy gaussian_gradient_magnitude",
        None,
        lambda: imgfilter.gaussian_gradient_magnitude(f4k_grey, 2.0, mode="symmetric", threads=t),
        lambda: ndi.gaussian_gradient_magnitude(f4k_grey, 2.0),
    )
    if skfilters is not None:
        add(
            "deriv",
            "difference_of_gaussians 1 / 1.6, float32 4K grey",
            "scikit-image difference_of_gaussians",
            None,
            lambda: imgfilter.difference_of_gaussians(f4k_grey, 1.0, mode="edge", threads=t),
            lambda: skfilters.difference_of_gaussians(f4k_grey, 1.0),
        )
    add(
        "deriv",
        "difference_of_gaussians 1 / 1.6, float32 4K grey",
        "SciPy gaussian_filter x2",
        None,
        lambda: imgfilter.difference_of_gaussians(f4k_grey, 1.0, mode="symmetric", threads=t),
        lambda: ndi.gaussian_filter(f4k_grey, 1.0) - ndi.gaussian_filter(f4k_grey, 1.6),
    )
    if cv2 is not None:
        add(
            "deriv gradient",
            'gradient operator="scharr" magnitude, 8-bit 4K grey',
            "OpenCV Scharr x, y + magnitude",
            None,
            lambda: imgfilter.gradient(g4k, operator="scharr", threads=t),
            lambda: cv2.magnitude(
                cv2.Scharr(g4k, cv2.CV_32F, 1, 0, borderType=reflect),
                cv2.Scharr(g4k, cv2.CV_32F, 0, 1, borderType=reflect),
            ),
            scale=math.sqrt(2) / 32,
        )

    # Local statistics: 1080p.
    grey64 = g1080.astype(np.float64)

    def scipy_std():
        m1 = ndi.uniform_filter(grey64, 7, mode="mirror")
        return np.sqrt(np.maximum(ndi.uniform_filter(grey64 * grey64, 7, mode="mirror") - m1 * m1, 0))

    add(
        "local",
        "local_std 7x7, 8-bit 1080p grey",
        "SciPy uniform_filter transcription (float64)",
        None,
        lambda: imgfilter.local_std(g1080, 7, threads=t),
        scipy_std,
    )
    if cv2 is not None:
        grey32 = g1080.astype(np.float32)

        def cv_std():
            m1 = cv2.blur(grey32, (7, 7), borderType=reflect)
            return cv2.sqrt(cv2.max(cv2.blur(grey32 * grey32, (7, 7), borderType=reflect) - m1 * m1, 0))

        add(
            "local",
            "local_std 7x7, 8-bit 1080p grey",
            "OpenCV blur x2 (float32, cancels)",
            None,
            lambda: imgfilter.local_std(g1080, 7, threads=t),
            cv_std,
        )
        sq5 = np.ones((5, 5), np.uint8)
        add(
            "local",
            "local_range 5x5, uint8 RGB 1080p",
            "OpenCV morphologyEx GRADIENT (dilate - erode)",
            None,
            lambda: imgfilter.local_range(img1080, 5, threads=t),
            lambda: cv2.morphologyEx(img1080, cv2.MORPH_GRADIENT, sq5, borderType=reflect),
        )
    if skrank is not None:
        add(
            "local",
            "local_range 5x5, 8-bit 1080p grey",
            "scikit-image rank.gradient",
            None,
            lambda: imgfilter.local_range(g1080, 5, threads=t),
            lambda: skrank.gradient(g1080, np.ones((5, 5), np.uint8)),
        )

    # Guided filter: 1080p RGB, its own colour guide, radius 8, eps 0.01 * 255^2.
    eps = 650.25
    add(
        "guided",
        "guided r=8 eps=650.25, uint8 RGB 1080p",
        "OpenCV-contrib ximgproc.guidedFilter",
        1.0,
        lambda: imgfilter.guided(img1080, radius=8, eps=eps, threads=t),
        (lambda: cv2.ximgproc.guidedFilter(img1080, img1080, 8, eps)) if has_ximgproc() else None,
    )
    if not has_ximgproc():
        add(
            "guided",
            "guided r=8 eps=650.25, uint8 RGB 1080p",
            "SciPy uniform_filter transcription (float32)",
            None,
            lambda: imgfilter.guided(img1080, radius=8, eps=eps, threads=t),
            lambda: paper_guided(img1080, 8, eps),
        )

    # Shifts: 4K RGB uint8, (0.3, -0.6) px, OpenCV's BORDER_REFLECT_101.
    if cv2 is not None:
        m = np.float64([[1, 0, 0.3], [0, 1, -0.6]])
        size = (img4k.shape[1], img4k.shape[0])
        for interp, flag in (("cubic", cv2.INTER_CUBIC), ("bilinear", cv2.INTER_LINEAR)):
            add(
                "shift",
                f'shift (0.3, -0.6) px interpolation="{interp}", uint8 RGB',
                f"OpenCV warpAffine {'INTER_CUBIC' if interp == 'cubic' else 'INTER_LINEAR'}",
                None,
                lambda i=interp: imgfilter.shift(
                    img4k, 0.3, -0.6, interpolation=i, mode="reflect", threads=t
                ),
                lambda f=flag: cv2.warpAffine(img4k, m, size, flags=f, borderMode=reflect),
            )
    return cases


def cli_command() -> list[str]:
    """The installed ``imgfilter`` script, or (in a venv without it, e.g. the contrib one) its body."""
    script = Path(sys.executable).with_name("imgfilter")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from imgfilter.cli.main import main; sys.exit(main())"]


CV_SCRIPT = """\
import sys
import cv2
import numpy as np
op, src, dst, threads = sys.argv[1:5]
if threads != "default":
    cv2.setNumThreads(int(threads))
img = cv2.imread(src, cv2.IMREAD_UNCHANGED)
if op == "sobel":
    gx = cv2.Sobel(img, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(img, cv2.CV_32F, 0, 1, ksize=3)
    out = cv2.convertScaleAbs(cv2.magnitude(gx, gy))
else:
    out = cv2.GaussianBlur(img, (25, 25), 3.0)
cv2.imwrite(dst, out, [cv2.IMWRITE_PNG_COMPRESSION, int(sys.argv[5])])
"""

VIPS_SCRIPT = """\
import sys
import pyvips
op, src, dst, level = sys.argv[1:5]
img = pyvips.Image.new_from_file(src, access="sequential")
if op == "sobel":
    out = img.sobel()
else:
    out = img.convsep(pyvips.Image.gaussmat(3.0, 3.3e-4, separable=True, precision="integer"))
out.write_to_file(dst, compression=int(level))
"""


def subprocess_env() -> dict[str, str]:
    """The environment of timed processes: bytecode caching on, as in a normal install.

    With PYTHONDONTWRITEBYTECODE set (some CI and sandbox images set it), an
    editable install recompiles imgfilter's modules in every process, some
    0.4 s that the peers' single-file scripts do not pay.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_clock(cmd: list[str], env: dict[str, str]) -> Callable[[], float]:
    def timed() -> float:
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return time.perf_counter() - t0

    return timed


def process_cases(img4k: np.ndarray, threads: int | None, tmp: Path) -> list[Case]:
    """Whole processes on a PNG file: the CLI against a cv2 script and libvips, same zlib level."""
    label = "1" if threads == 1 else "default"
    src = tmp / f"photo-{img4k.shape[1]}x{img4k.shape[0]}.png"
    if not src.exists():
        Image.fromarray(img4k).save(src, compress_level=6)
    env = subprocess_env()
    if threads == 1:
        env.update(IMGFILTER_THREADS="1", VIPS_CONCURRENCY="1", OMP_NUM_THREADS="1")
    ours = {
        "sobel": [*cli_command(), "sobel", str(src), str(tmp / f"ours-sobel-{label}.png")],
        "gaussian": [*cli_command(), "gaussian", "--sigma", "3", str(src), str(tmp / f"ours-g-{label}.png")],
    }
    size = f"{img4k.shape[1]}x{img4k.shape[0]}"
    cases = []
    for op, cmd in ours.items():
        what = f"`imgfilter {op}{' --sigma 3' if op == 'gaussian' else ''} {size}.png out.png`"
        if cv2 is not None:
            peer = [sys.executable, "-c", CV_SCRIPT, op, str(src), str(tmp / f"cv-{op}-{label}.png")]
            peer += [label, str(PNG_LEVEL)]
            cases.append(
                Case(
                    "process",
                    what,
                    "cv2 imread/filter/imwrite script",
                    1.0,
                    run_clock(cmd, env),
                    run_clock(peer, env),
                    threads=label,
                    quick=op == "sobel",
                )
            )
        vips = shutil.which("vips")
        dst = str(tmp / f"vips-{op}-{label}.png")
        if vips is not None:
            peer = [vips, "sobel", str(src), f"{dst}[compression={PNG_LEVEL}]"]
            if op == "gaussian":  # the CLI's smallest min-ampl, 0.001, gives 23 taps (ours: 25)
                peer = [vips, "gaussblur", str(src), f"{dst}[compression={PNG_LEVEL}]", "3"]
                peer += ["--min-ampl", "0.001", "--precision", "integer"]
            name = f"`vips {'sobel' if op == 'sobel' else 'gaussblur'}` (CLI)"
        elif pyvips is not None:
            peer = [sys.executable, "-c", VIPS_SCRIPT, op, str(src), dst, str(PNG_LEVEL)]
            name = "pyvips script"
        else:
            continue
        cases.append(
            Case("process", what, name, 1.0, run_clock(cmd, env), run_clock(peer, env), threads=label)
        )
    return cases


def imagemagick() -> str | None:
    """ImageMagick's ``magick`` (7) or ``convert`` (6), if the real one is installed."""
    for name in ("magick", "convert"):
        exe = shutil.which(name)
        if exe is None:
            continue
        out = subprocess.run([exe, "-version"], capture_output=True, text=True)
        if out.stdout.startswith("Version: ImageMagick"):  # not a stand-in of the same name
            return exe
    return None


def issue16_process_cases(img1080: np.ndarray, threads: int | None, tmp: Path) -> list[Case]:
    """``imgfilter unsharp`` against ImageMagick's ``-unsharp`` (whole processes, 1080p PNG, zlib level 1)."""
    label = "1" if threads == 1 else "default"
    name = "`imgfilter unsharp --sigma 2 1080p.png out.png` (whole process)"
    peer = "ImageMagick `-unsharp 0x2+1+0`"
    magick = imagemagick()
    if magick is None:
        return [
            Case("i16", name, f"{peer} (not installed)", None, None, None, threads=label, family="sharpen")
        ]
    src = tmp / f"photo-{img1080.shape[1]}x{img1080.shape[0]}.png"
    if not src.exists():
        Image.fromarray(img1080).save(src, compress_level=6)
    env = subprocess_env()
    if threads == 1:
        env.update(IMGFILTER_THREADS="1", MAGICK_THREAD_LIMIT="1", OMP_NUM_THREADS="1")
    ours = [*cli_command(), "unsharp", "--sigma", "2", str(src), str(tmp / f"ours-unsharp-{label}.png")]
    theirs = [magick, str(src), "-unsharp", "0x2+1+0", "-define", f"png:compression-level={PNG_LEVEL}"]
    theirs.append(str(tmp / f"magick-unsharp-{label}.png"))
    return [
        Case(
            "i16",
            name,
            peer,
            None,
            run_clock(ours, env),
            run_clock(theirs, env),
            threads=label,
            family="sharpen unsharp process",
        )
    ]


ENGINE_LOAD = """\
import time
import numpy
t0 = time.perf_counter()
import imgfilter._engine
print(time.perf_counter() - t0)
"""


def startup_cases() -> list[Case]:
    """Absolute start-up times (target in seconds)."""
    env = subprocess_env()
    interp = run_clock([sys.executable, "-c", "pass"], env)

    def engine() -> float:
        out = subprocess.run(
            [sys.executable, "-c", ENGINE_LOAD], check=True, capture_output=True, text=True, env=env
        )
        return float(out.stdout.strip())

    return [
        Case(
            "startup",
            "`imgfilter --help`",
            "`python -c pass`",
            0.15,
            run_clock([*cli_command(), "--help"], env),
            interp,
            absolute=True,
            quick=True,
        ),
        Case(
            "startup",
            "`python -c 'import imgfilter'`",
            "`python -c pass`",
            0.15,
            run_clock([sys.executable, "-c", "import imgfilter"], env),
            interp,
            absolute=True,
        ),
        Case(
            "startup",
            "`import imgfilter._engine` (numpy already loaded)",
            "",
            0.010,
            engine,
            None,
            absolute=True,
        ),
    ]


# ---------------------------------------------------------------- running


def agreement(ours: object, theirs: object) -> str:
    """How two results compare: "equal", the largest difference, or the share of edge pixels that differ."""
    a, b = np.asarray(ours), np.asarray(theirs)
    if a.shape != b.shape:
        return f"shapes {a.shape} / {b.shape}"
    if a.dtype == bool or b.dtype == bool:  # edge maps (OpenCV's are 0/255)
        n = np.count_nonzero(a.astype(bool) != b.astype(bool))
        return "equal" if n == 0 else f"{n / a.size:.2%} of pixels differ"
    how = ""
    if a.dtype.kind in "iu" and b.dtype.kind == "f":  # a float peer, rounded as we store
        info = np.iinfo(a.dtype)
        b = np.clip(np.rint(b), info.min, info.max)
        how = ", peer rounded"
    with np.errstate(invalid="ignore"):
        d = np.abs(a.astype(np.float64) - b.astype(np.float64))
    top = float(np.nanmax(d)) if d.size else 0.0
    return ("equal" if top == 0 else f"max diff {top:.2g}") + how


def warm_up(c: Case) -> None:
    """One untimed call of each side: imports, thread pools, page faults of first use.

    Whole processes start afresh every time: their first round is their warm-up.
    """
    if c.group in ("process", "startup") or "process" in c.family:
        return
    if c.raw is not None:
        c.agreement = agreement(c.raw[0](), c.raw[1]())
        return
    if c.ours is not None:
        c.ours()
    if c.theirs is not None:
        c.theirs()


def run(cases: list[Case], repeat: int, budget: float = 0, progress: bool = True) -> int:
    """Best of ``repeat`` for both sides of every case, round-robin over the cases; the rounds done.

    With a ``budget`` (seconds, warm-up included), no round starts that the last
    one's duration says would end past it; one round always runs.
    """
    start = time.perf_counter()
    for c in cases:
        warm_up(c)
    done = 0
    for r in range(repeat):
        t0 = time.perf_counter()
        for c in cases:
            sides = [(0, c.ours), (1, c.theirs)]
            if r % 2:
                sides.reverse()
            for i, fn in sides:
                if fn is not None:
                    c.best[i] = min(c.best[i], fn())
        done += 1
        now = time.perf_counter()
        if progress:
            print(f"round {done}/{repeat} done ({now - start:.0f} s)", file=sys.stderr, flush=True)
        if budget and done < repeat and now + (now - t0) > start + budget:
            if progress:
                print(f"stopping after {done} rounds: the budget is {budget:.0f} s", file=sys.stderr)
            break
    return done


# ---------------------------------------------------------------- reporting


GROUPS = {
    "filters": "Filters on arrays (4K RGB uint8 photo unless noted)",
    "linear": "Linear light (`linear=True`) against the same filter without it",
    "nan": 'Missing pixels (`nan="ignore"`, 1% NaN holes) against the same filter on the hole-free image',
    "passes": "Memory passes: the filter against one read and one write of the same arrays",
    "process": f"Whole process, PNG in and out (zlib level {PNG_LEVEL} on every side)",
    "startup": "Start-up (absolute times; the peer column is the bare interpreter)",
    "i16": "Issue 16: rank, morphology, sharpening, Canny, derivatives, local statistics, guided, shifts",
}


def ms(seconds: float) -> str:
    if not math.isfinite(seconds):
        return ""
    return f"{seconds * 1e3:.1f}" if seconds < 10 else f"{seconds * 1e3:.0f}"


def verdict(c: Case) -> str:
    return {None: "", True: "yes", False: "**no**"}[c.met]


def target_text(c: Case) -> str:
    if c.target is None:
        return ""
    return f"< {c.target * 1e3:g} ms" if c.absolute else f"<= {c.target:g}"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{cpu}, {os.cpu_count()} logical cores, {platform.system()} {platform.release()}"


def versions() -> str:
    import PIL
    import scipy

    from imgfilter import _engine

    parts = [
        f"imgfilter {imgfilter.__version__} (engine ISA {_engine.isa()})",
        f"Python {platform.python_version()}",
        f"numpy {np.__version__}",
        f"SciPy {scipy.__version__}",
        f"Pillow {PIL.__version__}",
    ]
    if cv2 is not None:
        parts.append(f"OpenCV {cv2.__version__}")
    if pyvips is not None:
        parts.append(
            f"pyvips {pyvips.__version__} (libvips {'.'.join(str(pyvips.version(i)) for i in range(3))})"
        )
    vips = shutil.which("vips")
    if vips is not None:
        out = subprocess.run([vips, "--version"], capture_output=True, text=True).stdout.strip()
        parts.append(f"vips CLI {out.split()[-1] if out else '?'}")
    if skrank is not None:
        parts.append(f"scikit-image {sys.modules['skimage'].__version__}")
    return ", ".join(parts)


def commit() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "log", "-1", "--format=%h %s"], capture_output=True, text=True
        )
        line = out.stdout.strip()
        return (line[:70] + "...") if len(line) > 70 else line or "?"
    except OSError:
        return "?"


def issue16_table(cases: list[Case]) -> list[str]:
    """One line per (case, peer): both thread counts side by side."""
    rows: dict[tuple[str, str], dict[str, Case]] = {}
    for c in cases:
        rows.setdefault((c.name, c.peer), {})[c.threads] = c
    lines = [
        "| case | peer | ratio, default threads | ratio, 1 thread | target | met? | ms (imgfilter / peer),"
        " default threads | results |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for (name, peer), by in rows.items():
        first = next(iter(by.values()))
        ratios = [by[k].ratio if k in by else math.nan for k in ("default", "1")]
        cells = [f"{r:.2f}" if math.isfinite(r) else "" for r in ratios]
        met = [by[k].met for k in ("default", "1") if k in by and by[k].met is not None]
        if not met:
            verdict_text = ""
        elif all(met):
            verdict_text = "yes"
        elif any(met):
            verdict_text = (
                "default threads only" if by.get("default") and by["default"].met else "1 thread only"
            )
        else:
            verdict_text = "**no**"
        d = by.get("default", first)
        times = f"{ms(d.best[0])} / {ms(d.peer_time)}" if math.isfinite(d.ratio) else ""
        lines.append(
            f"| {name} | {peer} | {cells[0]} | {cells[1]} | {target_text(first)} | {verdict_text} | {times} |"
            f" {first.agreement} |"
        )
    return lines


ISSUE16_NOTES = (
    "Issue 16's filters against their best peer (and SciPy / scikit-image for reference), the"
    " targets where the issue gives one; `met?` needs the ratio at both thread counts. `results`"
    " compares the two outputs of the same call (NaN ignored): the border rules are mapped where the"
    " peers have ours (OpenCV BORDER_REFLECT_101 = our `reflect`), while scikit-image's rank filters"
    " leave out the pixels outside the image and OpenCV's Canny has no Gaussian of its own (we give"
    " it `GaussianBlur`), so those differ near borders or by rounding. scikit-image has no local"
    " standard deviation (its `rank.gradient` is the local range). Our Scharr magnitude has"
    " scikit-image's scale, OpenCV's times sqrt(2)/32 (compared so). OpenCV's `ximgproc` comes with"
    " opencv-contrib-python-headless, which cannot share an environment with opencv-python-headless:"
    " run this file from a venv that has it (see the module docstring) to fill its row."
)


def report(
    cases: list[Case], args: argparse.Namespace, size: tuple[int, int], load: tuple, rounds: int, took: float
) -> str:
    w, h = size
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    cores = os.cpu_count() or 1
    busy = load[0] > 0.5 * cores
    best_of = f"best of {rounds}" + (
        f" (the {args.budget:.0f} s budget stopped it short of {args.repeat})" if rounds < args.repeat else ""
    )
    lines = [
        "# Performance",
        "",
        "<!-- Generated by `python benchmarks/bench.py --write`; do not edit by hand: re-run it. -->",
        "",
        "Generated by `python benchmarks/bench.py --write` (not edited by hand). Ratio = imgfilter time /",
        "peer time, measured in one process (or one shell, for whole-process rows), every case's two",
        f"sides interleaved round-robin with every other case, {best_of}; lower is better.",
        "Targets are issues 14's and 16's. Threads: `default` is every library's own default (imgfilter: all",
        "cores); `1` is imgfilter `threads=1` / `IMGFILTER_THREADS=1`, `cv2.setNumThreads(1)`,",
        "`pyvips.concurrency_set(1)` / `VIPS_CONCURRENCY=1`. A peer that has no threads of its own (SciPy,",
        "scikit-image, Pillow, numpy) is timed once per round, in its default-threads row, and its one-thread",
        "row divides by that time.",
        "",
    ]
    if busy:
        lines += [
            f"**Measured on a loaded machine** (load average {load[0]:.1f} on {cores} cores at the start):"
            " ratios may be off by 20% or more; re-run on a quiet machine before quoting them.",
            "",
        ]
    lines += [
        f"- Measured: {when}, commit `{commit()}`, {took / 60:.1f} min for the whole run",
        f"- Machine: {machine()}; load average {load[0]:.1f} at the start, {load[1]:.1f} at the end"
        " (a shared machine: compare ratios, not milliseconds)",
        f"- Versions: {versions()}",
        f'- Images: `sample_images/coffee.png` cropped to 16:9, Pillow LANCZOS to {w}x{h} ("4K") and'
        f' {w // 2}x{h // 2} ("1080p"); grey is Pillow\'s `L`.',
        "",
        "Notes on the peers: libvips `sobel` of a uint8 image is its fast low-precision path with uint8"
        " output (ours is the exact float32 magnitude); libvips `convsep` integer rounds the taps to"
        " integers (up to 2 levels off; ours is exact); OpenCV's INTER_AREA resize gives uint8 where"
        " the average pool gives float32; the whole-process `vips gaussblur` CLI takes min-ampl 0.001"
        " at the least, 23 taps where the others use 25. Every case calls its filter again and again"
        " on the same image: imgfilter's results of 4 MiB and more reuse the pages of its freed ones"
        " (`imgfilter.core.buffers`), while the peers' fresh outputs (OpenCV's, libvips', numpy's) pay the kernel's page"
        " faults and zeroing each time (writing a new 4K float32 RGB array: 12 ms against 8.5 ms for"
        " an old one); a single call pays them too.",
    ]
    for group, title in GROUPS.items():
        rows = [c for c in cases if c.group == group]
        if not rows:
            continue
        lines += ["", f"## {title}", ""]
        if group == "i16":
            lines += [ISSUE16_NOTES, "", *issue16_table(rows)]
            continue
        lines += [
            "| case | threads | imgfilter ms | peer | peer ms | ratio | target | met? |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for c in rows:
            ratio = f"{c.ratio:.2f}" if math.isfinite(c.ratio) else ""
            lines.append(
                f"| {c.name} | {c.threads} | {ms(c.best[0])} | {c.peer} | {ms(c.peer_time)} | {ratio} |"
                f" {target_text(c)} | {verdict(c)} |"
            )
    met = [c.met for c in cases if c.met is not None]
    lines += ["", f"{sum(met)} of {len(met)} targets met in this run (each thread count counted).", ""]
    return "\n".join(lines)


def share_peer_times(cases: list[Case]) -> None:
    """A peer that ignores thread settings is timed once per round, in its default-threads row."""
    default = {(c.group, c.name, c.peer): c for c in cases if c.threads == "default"}
    for c in cases:
        src = default.get((c.group, c.name, c.peer))
        if c.threads == "1" and not c.threaded_peer and src is not None and c.theirs is not None:
            c.theirs, c.raw, c.peer_of = None, None, src


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=None, help="rounds (best of N; default 5, --quick 2)")
    ap.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 2 rounds, default threads only, the quick whole-process and start-up rows",
    )
    ap.add_argument(
        "--only",
        default="",
        help="rows whose case, peer or family (rank, morph, sharpen, canny, deriv, local, guided, shift)"
        " contains this text; several: a,b",
    )
    ap.add_argument("--size", default=None, help="the '4K' image as WxH (default 3840x2160)")
    ap.add_argument("--write", action="store_true", help="rewrite docs/performance.md")
    ap.add_argument("--output", type=Path, default=DOC, help="the file --write writes")
    ap.add_argument("--no-process", action="store_true", help="skip the whole-process and start-up rows")
    ap.add_argument("--no-single", action="store_true", help="skip the single-thread rows")
    ap.add_argument(
        "--budget",
        type=float,
        default=BUDGET,
        help=f"seconds: start no round that would end past it (default {BUDGET:.0f}; 0: no limit)",
    )
    args = ap.parse_args(argv)
    if args.repeat is None:
        args.repeat = 2 if args.quick else 5
    start = time.perf_counter()
    size = tuple(int(v) for v in args.size.lower().split("x")) if args.size else FOUR_K
    img4k = photo(*size)
    img1080 = photo(size[0] // 2, size[1] // 2)
    tmp = Path(tempfile.mkdtemp(prefix="imgfilter-bench-"))
    load0 = os.getloadavg()[0]
    cases: list[Case] = []
    for threads in (None,) if args.no_single or args.quick else (None, 1):
        cases += library_cases(img4k, img1080, threads)
        cases += issue16_cases(img4k, img1080, threads)
        if not args.no_process:
            cases += process_cases(img4k, threads, tmp)
            cases += issue16_process_cases(img1080, threads, tmp)
    if not args.no_process:
        cases += startup_cases()
    if args.quick:
        cases = [c for c in cases if c.quick or c.group not in ("process", "startup")]
    if args.only:
        wanted = [w.strip().lower() for w in args.only.split(",") if w.strip()]
        cases = [
            c for c in cases if any(w in f"{c.name} {c.peer} {c.family} {c.group}".lower() for w in wanted)
        ]
    share_peer_times(cases)
    try:
        rounds = run(
            cases,
            args.repeat,
            budget=max(args.budget - (time.perf_counter() - start), 1e-9) if args.budget else 0,
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    took = time.perf_counter() - start
    text = report(cases, args, size, (load0, os.getloadavg()[0]), rounds, took)
    print(text)
    print(f"{len(cases)} cases, {rounds} rounds, {took:.0f} s", file=sys.stderr)
    if args.write:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
