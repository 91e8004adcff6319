"""A labelled contact sheet: the input and every filter at its defaults."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .io import Picture, read_image, source_scale, to_file_dtype

TILE = 256
SAMPLE = Path(__file__).with_name("data") / "astronaut-256.png"


def _noisy(rgb: np.ndarray) -> np.ndarray:
    """A copy with Gaussian noise (sigma 20 grey levels), fixed seed."""
    rng = np.random.default_rng(0)
    return np.clip(rgb.astype(np.float32) + rng.normal(0, 20, rgb.shape), 0, 255).astype(np.uint8)


def panels(rgb: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """(label, 8-bit picture) for every tile of the sheet."""
    import imgfilter as f
    from imgfilter import footprints

    def show(x: np.ndarray, scale: str = "clip") -> np.ndarray:
        return to_file_dtype(x, depth="8", source_max=255.0, scale=scale)

    noisy = _noisy(rgb)
    grey = f.luminance(rgb)
    pooled = f.pool(rgb, 2, padding="same")  # "same": even a 1-pixel image pools
    steps: list[tuple[str, Callable[[], np.ndarray]]] = [
        ("input", lambda: rgb),
        ("edges (vertical, abs)", lambda: show(f.edges(rgb), "abs")),
        ("sobel (magnitude)", lambda: show(f.sobel(rgb))),
        ("median 3", lambda: f.median(rgb)),
        ("blur 3", lambda: f.blur(rgb)),
        ("gaussian sigma 1", lambda: f.gaussian(rgb)),
        ("noisy copy", lambda: noisy),
        ("bilateral 9 of noisy", lambda: f.bilateral(noisy)),
        ("median 3 of noisy", lambda: f.median(noisy)),
        ("shift dx=32 dy=16", lambda: f.shift(rgb, 32, 16)),
        (
            "max pool 2 (shown x2)",
            lambda: np.repeat(np.repeat(pooled, 2, 0), 2, 1)[: rgb.shape[0], : rgb.shape[1]],
        ),
        ("laplacian (offset)", lambda: show(f.edges(rgb, "laplacian"), "offset")),
        ("unsharp sigma 2 amount 1.5", lambda: f.unsharp(rgb, sigma=2.0, amount=1.5)),
        ("guided r=4 of noisy", lambda: f.guided(noisy, radius=4, eps=0.01 * 255.0**2 / 4)),
        ("local std 5 (stretch)", lambda: show(f.local_std(rgb, 5), "stretch")),
        ("local range 3", lambda: show(f.local_range(rgb, 3))),
        ("canny sigma 2", lambda: f.canny(grey, sigma=2.0, low=25.5, high=51.0).astype(np.uint8) * 255),
        ("LoG sigma 2 (offset x4)", lambda: show(4 * f.gaussian_laplace(grey, 2.0), "offset")),
        ("DoG 1, 3 (offset x2)", lambda: show(2 * f.difference_of_gaussians(grey, 1.0, 3.0), "offset")),
        ("gradient scharr", lambda: show(f.gradient(rgb, operator="scharr"))),
        ("erode disk 2", lambda: f.erode(rgb, footprint=footprints.disk(2))),
        ("opening disk 4", lambda: f.opening(rgb, footprint=footprints.disk(4))),
        ("tophat disk 7 (x3)", lambda: show(3.0 * f.tophat(grey.round(), footprint=footprints.disk(7)))),
        ("percentile 90 of noisy", lambda: f.percentile(noisy, 90, footprint=footprints.disk(2))),
        ("rank 2 of 9 (3x3) of noisy", lambda: f.rank_filter(noisy, 2, size=3)),
        ("minimum 5", lambda: f.minimum(rgb, size=5)),
        ("maximum 5", lambda: f.maximum(rgb, size=5)),
        ("dilate disk 2", lambda: f.dilate(rgb, footprint=footprints.disk(2))),
        ("closing disk 4", lambda: f.closing(rgb, footprint=footprints.disk(4))),
        ("morph gradient disk 1", lambda: f.morph_gradient(rgb, footprint=footprints.disk(1))),
        ("blackhat disk 7 (x3)", lambda: show(3.0 * f.blackhat(grey.round(), footprint=footprints.disk(7)))),
        ("local var 5 (stretch)", lambda: show(f.local_var(grey, 5), "stretch")),
        ("gaussian gradient sigma 2 (x4)", lambda: show(4 * f.gaussian_gradient_magnitude(grey, 2.0))),
        (
            "gaussian d/dx sigma 2 (offset x4)",
            lambda: show(4 * f.gaussian_derivative(grey, 2.0, order=(0, 1)), "offset"),
        ),
        ("shift cubic dx=32.5 dy=16.25", lambda: f.shift(rgb, 32.5, 16.25, interpolation="cubic")),
    ]
    return [(label, fn()) for label, fn in steps]


def contact_sheet(pic: Picture, columns: int = 4) -> np.ndarray:
    """The sheet as an (H, W, 3) uint8 array."""
    from PIL import Image, ImageDraw, ImageFont

    pixels = pic.pixels
    if pixels.dtype != np.uint8:
        # The scale imwrite and the CLI take (float files 0..1, 16-bit 0..65535).
        pixels = to_file_dtype(pixels, depth="8", source_max=source_scale(pixels)[1])
    if pixels.ndim == 2:
        pixels = np.stack([pixels] * 3, axis=-1)
    pixels = pixels[..., :3] if pixels.shape[2] >= 3 else np.repeat(pixels[..., :1], 3, axis=-1)
    im = Image.fromarray(np.ascontiguousarray(pixels))
    im.thumbnail((TILE, TILE), Image.LANCZOS)
    rgb = np.asarray(im)
    tiles = panels(rgb)
    font = ImageFont.load_default(size=15)
    label_h, pad = 24, 6
    h, w = rgb.shape[:2]
    rows = -(-len(tiles) // columns)
    sheet = Image.new("RGB", (columns * (w + pad) + pad, rows * (h + label_h + pad) + pad), (250, 250, 250))
    draw = ImageDraw.Draw(sheet)
    for i, (label, tile) in enumerate(tiles):
        x = pad + (i % columns) * (w + pad)
        y = pad + (i // columns) * (h + label_h + pad)
        t = tile if tile.ndim == 3 else np.stack([tile] * 3, axis=-1)
        sheet.paste(Image.fromarray(np.ascontiguousarray(t[:h, :w, :3])), (x, y))
        draw.text((x + 2, y + h + 4), label, fill=(20, 20, 20), font=font)
    return np.asarray(sheet)


def make_gallery(image: str | os.PathLike | None, output: str, *, columns: int = 4) -> None:
    """Write the contact sheet of ``image`` (default: a bundled sample photo) to ``output``."""
    from .io import imwrite

    pic = read_image(image if image is not None else SAMPLE)
    imwrite(output, contact_sheet(pic, columns=columns), compression=9)
