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


def _strip(panels, labels, path):
    from PIL import ImageDraw, ImageFont

    h, w = panels[0].shape[:2]
    sheet = Image.new("RGB", (len(panels) * (w + 6) + 6, h + 30), (250, 250, 250))
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=14)
    for i, (p, label) in enumerate(zip(panels, labels, strict=True)):
        sheet.paste(Image.fromarray(p), (6 + i * (w + 6), 6))
        draw.text((8 + i * (w + 6), h + 10), label, fill=(20, 20, 20), font=font)
    sheet.save(path, quality=90)


def missing_and_linear() -> None:
    import imgfilter

    grey = np.asarray(Image.open(ROOT / "sample_images" / "camera.png").convert("L"))[60:260, 150:350]
    img = grey.astype(np.float32)
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[:200, :200]
    for _ in range(12):  # round holes and scratches
        cy, cx, r = [*rng.integers(0, 200, 2).tolist(), int(rng.integers(3, 9))]
        img[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = np.nan
    img[rng.random(img.shape) < 0.03] = np.nan

    def show(a):
        rgb = np.dstack([np.clip(np.nan_to_num(a, nan=0), 0, 255)] * 3).astype(np.uint8)
        rgb[np.isnan(a)] = (220, 30, 30)
        return rgb

    _strip(
        [show(img), show(imgfilter.gaussian(img, 2.0)), show(imgfilter.gaussian(img, 2.0, nan="ignore"))],
        ["NaN holes (red)", "gaussian: NaN spreads", 'gaussian nan="ignore"'],
        ROOT / "docs" / "missing-pixels.jpg",
    )
    edge = np.zeros((200, 200, 3), np.uint8)
    edge[:, :100, 0] = 255
    edge[:, 100:, 1] = 255
    edge[:60] = (np.indices((60, 200)).sum(0) % 2 * 255)[..., None]
    _strip(
        [edge, imgfilter.gaussian(edge, 6.0), imgfilter.gaussian(edge, 6.0, linear=True)],
        ["input", "gaussian 6 (sRGB values)", "gaussian 6 --linear"],
        ROOT / "docs" / "linear-light.jpg",
    )


def unsharp_linear() -> None:
    """unsharp with and without --linear: what linear light does to the halos (it moves them)."""
    import imgfilter

    x = np.full((160, 200, 3), 90, np.uint8)
    x[:, 100:] = 200
    x[20:140:20, 15:85] = 255  # thin bright lines on the darker half
    x[20:140:20, 115:185] = 30  # thin dark lines on the brighter half
    _strip(
        [
            x,
            imgfilter.unsharp(x, sigma=2.0, amount=1.5),
            imgfilter.unsharp(x, sigma=2.0, amount=1.5, linear=True),
        ],
        ["input", "unsharp 2, 1.5 (sRGB values)", "unsharp 2, 1.5 --linear"],
        ROOT / "docs" / "unsharp-linear.jpg",
    )


def main() -> None:
    missing_and_linear()
    unsharp_linear()
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
