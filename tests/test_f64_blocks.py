"""float64 taps in blocks of 16 outputs (imgfilter/_engine/f64_blocks.h, AVX2)
on both instruction sets and both border routes (in the kernel, copied bands):
dense taps against a numpy transcription of the taps in their order (w0 x0,
then + wt xt one tap at a time: the loops' own arithmetic, so bit for bit);
separable ones against the baseline build's scalar loops, bit for bit; widths
whose rows are not a multiple of 16 values, 1 to 25 taps, grey and RGB, and
unsharp's 8-bit result (float64 work)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import imgfilter
from imgfilter import _engine
from imgfilter.core.linear import copied_borders

PHOTO = Path(__file__).resolve().parents[1] / "sample_images" / "coffee.png"
ROUTES = ["in-kernel", "copied"]


def photo(h: int, w: int, channels: int) -> np.ndarray:
    rgb = np.asarray(Image.open(PHOTO).convert("RGB"))[:h, :w].astype(np.float64) / 3.0
    return rgb if channels == 3 else np.ascontiguousarray(rgb[..., 1])


def in_order(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Dense taps in row-major order over the mirror-padded image ("reflect")."""
    kh, kw = kernel.shape
    pad = [(kh // 2, (kh - 1) // 2), (kw // 2, (kw - 1) // 2)] + [(0, 0)] * (x.ndim - 2)
    p = np.pad(x, pad, mode="symmetric")
    h, w = x.shape[:2]
    out = None
    for i in range(kh):
        for j in range(kw):
            term = kernel[i, j] * p[i : i + h, j : j + w]
            out = term if out is None else out + term
    return out


def separable_in_order(x: np.ndarray, fv: np.ndarray, fh: np.ndarray) -> np.ndarray:
    """The vertical taps in order, then the horizontal taps over their result."""
    v = in_order(x, fv[:, None])
    return in_order(v, fh[None, :])


def each(check) -> None:
    for isa in _engine.isas():
        previous = _engine.set_isa(isa)
        try:
            for route in ROUTES:
                if route == "copied":
                    with copied_borders():
                        check(isa, route)
                else:
                    check(isa, route)
        finally:
            _engine.set_isa(previous)


@pytest.mark.parametrize("shape", [(9, 5, 3), (13, 17, 1), (21, 33, 3), (40, 61, 1), (7, 100, 3)])
@pytest.mark.parametrize("ksize", [(1, 2), (3, 3), (2, 7), (5, 5)])
def test_dense_taps(shape, ksize):
    x = photo(shape[0], shape[1], shape[2])
    k = np.random.default_rng(sum(ksize)).uniform(0.1, 1.0, ksize)
    k[0, 0] = -0.37  # not separable, signs mixed
    want = in_order(x, k)

    def check(isa, route):
        got = imgfilter.correlate(x, k, mode="symmetric")
        np.testing.assert_array_equal(got.view(np.uint64), want.view(np.uint64), err_msg=f"{isa} {route}")

    each(check)


@pytest.mark.parametrize("shape", [(9, 5, 3), (30, 17, 1), (21, 33, 3), (64, 77, 1)])
@pytest.mark.parametrize("taps", [(3, 3), (7, 2), (25, 25), (1, 19)])
def test_separable_taps(shape, taps):
    """The factors are the library's own (it rescales them), so the scalar loops of the
    baseline build are the reference here, the taps in order only close to them."""
    x = photo(shape[0], shape[1], shape[2])
    rng = np.random.default_rng(taps[0] * 31 + taps[1])
    # Distinct taps: never a run of equal ones (those take running sums).
    fv, fh = rng.uniform(0.05, 1.0, taps[0]), rng.uniform(0.05, 1.0, taps[1])
    results = {}

    def check(isa, route):
        results[isa, route] = imgfilter.correlate(x, np.outer(fv, fh), mode="symmetric")

    each(check)
    first = results["baseline", "copied"]
    np.testing.assert_allclose(first, separable_in_order(x, fv, fh), rtol=1e-13, atol=0)
    for key, got in results.items():
        np.testing.assert_array_equal(got.view(np.uint64), first.view(np.uint64), err_msg=str(key))


def test_unsharp_of_8_bits_alike_on_both_instruction_sets():
    img = np.asarray(Image.open(PHOTO).convert("RGB"))[:90, :123]
    results = []

    def check(isa, route):
        results.append(imgfilter.unsharp(img, sigma=2.0, amount=1.5))

    each(check)
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])
