"""Time imgfilter against its peers (OpenCV, libvips, scikit-image, numpy) in one interleaved run.

Usage::

    python3 -m pip install '.[bench]'
    python3 benchmarks/bench.py                  # every row of issue 14's targets, printed
    python3 benchmarks/bench.py --write          # ... and rewrite docs/performance.md
    python3 benchmarks/bench.py --only gaussian  # rows whose case contains "gaussian"
    python3 benchmarks/bench.py --quick          # a few rows, few repeats (smoke test)

Every case is a pair (imgfilter, peer). All pairs run round-robin, ``--repeat``
rounds: round r times each case's two sides back to back (the order swapped
every round), then moves to the next case, so slow drifts of a shared machine
fall on both sides of a ratio. Each side keeps its best (minimum) time. Rows
come at the default thread count and again on one thread (imgfilter
``threads=1``, ``cv2.setNumThreads(1)``, ``pyvips.concurrency_set(1)``; for
whole-process rows ``IMGFILTER_THREADS=1``, ``VIPS_CONCURRENCY=1``). Peers
that are not installed are skipped.

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
    import skimage.filters.rank as skrank
except ImportError:  # pragma: no cover - optional peer
    skrank = None
from PIL import Image  # noqa: E402

DOC = ROOT / "docs" / "performance.md"
CACHE = Path(tempfile.gettempdir()) / "imgfilter-bench"
PNG_LEVEL = 1  # imgfilter's default zlib level; every whole-process peer is given the same
FOUR_K = (3840, 2160)


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
    ours: Callable[[], float]
    theirs: Callable[[], float] | None
    threads: str = "default"
    quick: bool = False
    absolute: bool = False  # ``target`` is in seconds for ours alone (no peer ratio)
    best: list[float] = field(default_factory=lambda: [math.inf, math.inf])

    @property
    def ratio(self) -> float:
        return self.best[0] / self.best[1] if self.theirs is not None else math.nan

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        value = self.best[0] if self.absolute else self.ratio
        return bool(value <= self.target)


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

    def add(group, name, peer, target, ours, theirs, quick=False):
        cases.append(
            Case(group, name, peer, target, clock(ours), peer_clock(theirs, t), threads=label, quick=quick)
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
            quick=True,
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
            quick=True,
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
            quick=True,
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
            quick=name == "box 5x5",
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
        ("2x2 avg pool", lambda x, **k: imgfilter.pool(x, 2, op="avg", threads=t, **k), (holes4k, f4k)),
        ("2x2 max pool", lambda x, **k: imgfilter.pool(x, 2, op="max", threads=t, **k), (holes4k, f4k)),
        (
            "bilateral d=9, 1080p",
            lambda x, **k: imgfilter.bilateral(x, 9, threads=t, **k),
            (holes1080, f1080),
        ),
        *((name, fn, (holes4k, f4k)) for name, fn in later_nan_filters(t)),
    ):
        add(
            "nan",
            f'{name} nan="ignore", float32 RGB, 1% holes',
            same,
            1.5,
            lambda fn=fn, x=holey: fn(x, nan="ignore"),
            lambda fn=fn, x=clean: fn(x),
            quick=name == "Gaussian sigma 3",
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
        quick=True,
    )
    return cases


def cli_command() -> list[str]:
    script = Path(sys.executable).with_name("imgfilter")
    return [str(script)] if script.exists() else [sys.executable, "-m", "imgfilter"]


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


def run(cases: list[Case], repeat: int, progress: bool = True) -> None:
    """Best of ``repeat`` for both sides of every case, round-robin over the cases."""
    for c in cases:  # warm-up: imports, thread pools, page faults of first use
        c.ours()
        if c.theirs is not None:
            c.theirs()
    for r in range(repeat):
        for c in cases:
            sides = [(0, c.ours), (1, c.theirs)]
            if r % 2:
                sides.reverse()
            for i, fn in sides:
                if fn is not None:
                    c.best[i] = min(c.best[i], fn())
        if progress:
            print(f"round {r + 1}/{repeat} done", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- reporting


GROUPS = {
    "filters": "Filters on arrays (4K RGB uint8 photo unless noted)",
    "linear": "Linear light (`linear=True`) against the same filter without it",
    "nan": 'Missing pixels (`nan="ignore"`, 1% NaN holes) against the same filter on the hole-free image',
    "passes": "Memory passes: the filter against one read and one write of the same arrays",
    "process": f"Whole process, PNG in and out (zlib level {PNG_LEVEL} on every side)",
    "startup": "Start-up (absolute times; the peer column is the bare interpreter)",
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


def report(cases: list[Case], args: argparse.Namespace, size: tuple[int, int], load: tuple) -> str:
    w, h = size
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Performance",
        "",
        "<!-- Generated by `python benchmarks/bench.py --write`; do not edit by hand: re-run it. -->",
        "",
        "Generated by `python benchmarks/bench.py --write` (not edited by hand). Ratio = imgfilter time /",
        "peer time, measured in one process (or one shell, for whole-process rows), every case's two",
        f"sides interleaved round-robin with every other case, best of {args.repeat}; lower is better.",
        "Targets are issue 14's. Threads: `default` is every library's own default (imgfilter: all",
        "cores); `1` is imgfilter `threads=1` / `IMGFILTER_THREADS=1`, `cv2.setNumThreads(1)`,",
        "`pyvips.concurrency_set(1)` / `VIPS_CONCURRENCY=1`.",
        "",
        f"- Measured: {when}, commit `{commit()}`",
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
        " at the least, 23 taps where the others use 25.",
    ]
    for group, title in GROUPS.items():
        rows = [c for c in cases if c.group == group]
        if not rows:
            continue
        lines += ["", f"## {title}", ""]
        lines += [
            "| case | threads | imgfilter ms | peer | peer ms | ratio | target | met? |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for c in rows:
            ratio = f"{c.ratio:.2f}" if math.isfinite(c.ratio) else ""
            lines.append(
                f"| {c.name} | {c.threads} | {ms(c.best[0])} | {c.peer} | {ms(c.best[1])} | {ratio} |"
                f" {target_text(c)} | {verdict(c)} |"
            )
    met = [c.met for c in cases if c.met is not None]
    lines += ["", f"{sum(met)} of {len(met)} targets met in this run.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=None, help="rounds (best of N; default 5, --quick 2)")
    ap.add_argument("--quick", action="store_true", help="a few rows and few repeats (smoke test)")
    ap.add_argument("--only", default="", help="run the rows whose case or peer contains this text")
    ap.add_argument("--size", default=None, help="the '4K' image as WxH (default 3840x2160)")
    ap.add_argument("--write", action="store_true", help="rewrite docs/performance.md")
    ap.add_argument("--output", type=Path, default=DOC, help="the file --write writes")
    ap.add_argument("--no-process", action="store_true", help="skip the whole-process and start-up rows")
    ap.add_argument("--no-single", action="store_true", help="skip the single-thread rows")
    args = ap.parse_args(argv)
    if args.repeat is None:
        args.repeat = 2 if args.quick else 5
    size = tuple(int(v) for v in args.size.lower().split("x")) if args.size else FOUR_K
    img4k = photo(*size)
    img1080 = photo(size[0] // 2, size[1] // 2)
    tmp = Path(tempfile.mkdtemp(prefix="imgfilter-bench-"))
    load0 = os.getloadavg()[0]
    cases: list[Case] = []
    for threads in (None,) if args.no_single else (None, 1):
        cases += library_cases(img4k, img1080, threads)
        if not args.no_process:
            cases += process_cases(img4k, threads, tmp)
    if not args.no_process:
        cases += startup_cases()
    if args.quick:  # one thread count for the slow subprocess rows
        cases = [
            c for c in cases if c.quick and (c.threads == "default" or c.group not in ("process", "startup"))
        ]
    if args.only:
        cases = [c for c in cases if args.only.lower() in (c.name + " " + c.peer).lower()]
    try:
        run(cases, args.repeat)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    text = report(cases, args, size, (load0, os.getloadavg()[0]))
    print(text)
    if args.write:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
