"""Regenerate the README's pictures: python3 docs/make_pictures.py (from the repository root)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "before-after"

ROWS = [
    ("sobel", ["sobel", "--gray"], "camera.png"),
    ("edges", ["edges", "--direction", "horizontal", "--scale", "abs"], "camera.png"),
    ("median", ["median", "--size", "5"], "noisy"),
    ("bilateral", ["bilateral", "--diameter", "9", "--sigma-color", "60"], "noisy"),
    ("gaussian", ["gaussian", "--sigma", "3"], "chelsea.png"),
    ("pool", ["pool", "--size", "4", "--op", "max"], "chelsea.png"),
]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "imgfilter",
            "gallery",
            str(ROOT / "sample_images" / "astronaut.png"),
            "-o",
            str(ROOT / "docs" / "gallery.jpg"),
        ],
        check=True,
    )
    coffee = np.asarray(Image.open(ROOT / "sample_images" / "coffee.png").convert("RGB"))[100:300, 150:350]
    noisy = np.clip(coffee + np.random.default_rng(0).normal(0, 25, coffee.shape), 0, 255).astype(np.uint8)
    Image.fromarray(noisy).save(OUT / "noisy.png")
    for name, args, source in ROWS:
        src = OUT / "noisy.png" if source == "noisy" else ROOT / "sample_images" / source
        before = Image.open(src).convert("RGB")
        before.thumbnail((200, 200))
        before.save(OUT / f"{name}-before.jpg", quality=88)
        subprocess.run(
            [sys.executable, "-m", "imgfilter", *args, str(src), str(OUT / f"{name}.png")], check=True
        )
        after = Image.open(OUT / f"{name}.png").convert("RGB")
        after.thumbnail((200, 200))
        after.save(OUT / f"{name}-after.jpg", quality=88)
        (OUT / f"{name}.png").unlink()
    (OUT / "noisy.png").unlink()


if __name__ == "__main__":
    main()
