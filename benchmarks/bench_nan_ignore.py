"""nan="ignore" on a 4K float32 RGB photo with 1% NaN holes against the same filter on the
hole-free image with nan="propagate" (issue 14's 1.5x target), interleaved in one process.

    python benchmarks/bench_nan_ignore.py                 # correlate, gaussian, box, unsharp, pool
    python benchmarks/bench_nan_ignore.py --only corr,box --repeat 21 --threads 1

Each round times every filter's two sides back to back (order alternating); the
ratios are of medians (and of minimums) over the rounds, at each thread setting.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import imgfilter

PHOTO = "/tmp/imgfilter-bench/coffee-3840x2160.png"


def photo() -> np.ndarray:
    from PIL import Image

    if os.path.exists(PHOTO):
        with Image.open(PHOTO) as im:
            return np.asarray(im.convert("RGB")).astype(np.float32)
    with Image.open("/work/shared/sample_images/coffee.png") as im:
        return np.asarray(im.convert("RGB").resize((3840, 2160), Image.BICUBIC)).astype(np.float32)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="corr,gauss,box,unsharp,pool")
    ap.add_argument("--repeat", type=int, default=11)
    ap.add_argument("--threads", default="default,1", help="comma list: default and/or numbers")
    args = ap.parse_args()
    clean = photo()
    holes = clean.copy()
    holes[np.random.default_rng(2).random(holes.shape[:2]) < 0.01] = np.nan
    k5 = np.random.default_rng(3).random((5, 5)).astype(np.float32)
    for ts in args.threads.split(","):
        t = None if ts == "default" else int(ts)
        cases = {
            "corr": ("correlate 5x5", lambda x, t=t, **k: imgfilter.correlate(x, k5, threads=t, **k)),
            "gauss": ("Gaussian sigma 3", lambda x, t=t, **k: imgfilter.gaussian(x, 3.0, threads=t, **k)),
            "box": ("box 5x5", lambda x, t=t, **k: imgfilter.blur(x, 5, threads=t, **k)),
            "unsharp": (
                "unsharp sigma 2",
                lambda x, t=t, **k: imgfilter.unsharp(x, sigma=2.0, threads=t, **k),
            ),
            "pool": ("2x2 avg pool", lambda x, t=t, **k: imgfilter.pool(x, 2, op="avg", threads=t, **k)),
        }
        names = [n for n in args.only.split(",") if n in cases]
        times = {n: ([], []) for n in names}
        for r in range(args.repeat):
            for n in names:
                fn = cases[n][1]
                sides = [(0, lambda fn=fn: fn(holes, nan="ignore")), (1, lambda fn=fn: fn(clean))]
                for side, call in sides if r % 2 == 0 else sides[::-1]:
                    t0 = time.perf_counter()
                    call()
                    times[n][side].append(time.perf_counter() - t0)
        for n in names:
            a, b = (np.array(v) for v in times[n])
            print(
                f"threads={ts:7s} {cases[n][0]:18s} nan {np.median(a) * 1e3:7.1f} ms  plain "
                f"{np.median(b) * 1e3:7.1f} ms  ratio {np.median(a) / np.median(b):.2f} "
                f"(minimums {a.min() / b.min():.2f})",
                flush=True,
            )


if __name__ == "__main__":
    main()
