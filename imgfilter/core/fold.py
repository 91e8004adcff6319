"""Kernels longer than the image, folded onto the border mode's period.

A linear filter reads the border-extended image ``X``; every mode makes
``X`` cheap to describe along an axis of ``n`` pixels, so a kernel that
reaches further than the image can be replaced by a short one with exactly
the same sums (the same mathematical value; floating-point sums may round
differently, and usually better, since folded weights are added in float64):

- periodic modes: ``X(x + P) = X(x)`` with ``P = n`` for ``"wrap"``, ``2n``
  for ``"symmetric"`` (scipy's "reflect") and ``2n - 2`` for ``"reflect"``
  (scipy's "mirror"; ``n = 1`` makes ``X`` constant, period 1). A tap at
  offset ``u`` from the output position reads what a tap at ``u mod P``
  does, so the folded weight at ``q`` is the sum of the weights of all taps
  with ``u = q (mod P)``: at most ``P`` taps.
- ``"edge"`` and ``"constant"``: a tap that lies left of the image for every
  output position reads the same value (the first pixel, or ``cval``)
  wherever it is, so all such taps collapse into one at the largest offset
  that is still outside for every output (``-n`` for a "same"-size result
  with stride 1), and likewise on the right (``+n``): at most about
  ``2n + 1`` taps.

Each axis's rule depends only on that axis's coordinate (a constant border
is "outside on some axis", which a move along one axis does not change), so
an n-D kernel folds axis by axis, and a separable kernel folds factor by
factor into the factors of its folded kernel. Dilation folds too (the taps'
offsets are ``t * dilation``); the folded kernel is dense (dilation 1), so
the band halos, the block the bands gather, and the work per output are
bounded by the image's size instead of the kernel's.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .bounds import check_result_size
from .options import WindowPlan

# An axis folds only when its kernel reaches further than this many pixels
# (and folding shortens it): shorter kernels keep their taps (their halos are
# small anyway), so results stay bit for bit what they were, and equal to
# Dask's, whose chunks never fold.
FOLD_MIN_EXTENT = 1024

# Offsets computed in int64 while they stay this small; beyond (absurd
# dilations), in Python integers.
_INT64_SAFE = 2**62


def period(n: int, mode: str) -> int | None:
    """The period of the border-extended axis of ``n`` pixels, or None (edge, constant)."""
    if mode == "wrap":
        return n
    if mode == "symmetric":
        return 2 * n
    if mode == "reflect":
        # n = 1: every position reads the one pixel (period 1, as "edge").
        return max(2 * n - 2, 1)
    return None


def axis_fold(
    n: int,
    n_out: int,
    stride: int,
    dilation: int,
    before: int,
    taps: int,
    mode: str,
    min_extent: int = FOLD_MIN_EXTENT,
) -> tuple[np.ndarray, int, int] | None:
    """How the taps of one axis fold: ``(position, length, before)``, or None.

    The axis has ``n`` pixels and ``n_out`` outputs; output ``o`` reads tap
    ``t`` at ``o * stride - before + t * dilation``. Tap ``t`` moves to
    ``position[t]`` of a dense kernel of ``length`` taps (dilation 1) whose
    tap 0 reads ``before`` pixels before ``o * stride`` (the new padding).
    None when the kernel's extent is at most ``min_extent`` or folding would
    not shorten it.
    """
    eff = dilation * (taps - 1) + 1
    big = eff + abs(before) >= _INT64_SAFE
    t = np.arange(taps, dtype=object if big else np.int64)
    p = period(n, mode)
    if p is not None:
        # Offsets from o * stride, reduced to [-c, p - 1 - c] (a centred window).
        c = p // 2
        u = (t * (dilation % p) + ((c - before) % p)) % p - c
    else:
        # Always left of the image for every output: <= lo; always right: >= n.
        # (-n whenever the outputs' origins lie in the image, as for "same":
        # then the fold does not depend on the stride.)
        lo = min(-n, -(n_out - 1) * stride - 1)
        u = np.clip(t * dilation - before, lo, n)
    u_min, u_max = int(u.min()), int(u.max())
    length = u_max - u_min + 1
    if eff <= max(min_extent, length):
        return None
    return np.asarray(u - u_min, dtype=np.intp), length, -u_min


def fold_weights(w: np.ndarray, axis: int, position: np.ndarray, length: int) -> np.ndarray:
    """Sum the weights of ``w`` along ``axis`` that land on the same folded position."""
    moved = np.moveaxis(np.asarray(w, dtype=np.float64), axis, 0)
    flat = moved.reshape(moved.shape[0], -1)
    out = np.zeros((length, flat.shape[1]), dtype=np.float64)
    np.add.at(out, position, flat)
    return np.moveaxis(out.reshape((length, *moved.shape[1:])), 0, axis)


def fold_plan(
    plan: WindowPlan, mode: str, min_extent: int = FOLD_MIN_EXTENT
) -> tuple[WindowPlan, list] | None:
    """The folded plan and the per-axis folds (None where an axis keeps its taps), or None."""
    folds = [
        axis_fold(
            plan.in_shape[a],
            plan.out_shape[a],
            plan.stride[a],
            plan.dilation[a],
            plan.pads[a][0],
            plan.ksize[a],
            mode,
            min_extent,
        )
        for a in range(plan.ndim)
    ]
    if all(f is None for f in folds):
        return None
    ksize, dilation, eff, pads = [], [], [], []
    for a, f in enumerate(folds):
        if f is None:
            ksize.append(plan.ksize[a])
            dilation.append(plan.dilation[a])
            eff.append(plan.eff[a])
            pads.append(tuple(plan.pads[a]))
            continue
        _, length, before = f
        last = (plan.out_shape[a] - 1) * plan.stride[a] - before + length
        ksize.append(length)
        dilation.append(1)
        eff.append(length)
        pads.append((before, max(last - plan.in_shape[a], 0)))
    folded = WindowPlan(
        plan.in_shape, tuple(ksize), plan.stride, tuple(dilation), tuple(eff), tuple(pads), plan.out_shape
    )
    return folded, folds


def fold_kernel(kernel: np.ndarray, folds: Sequence) -> np.ndarray:
    """``kernel`` folded along every axis that has a fold."""
    for axis, f in enumerate(folds):
        if f is not None:
            kernel = fold_weights(kernel, axis, f[0], f[1])
    return kernel


def fold_linear(kernel, also, factors, plan: WindowPlan, mode: str, min_extent: int = FOLD_MIN_EXTENT):
    """``(kernel, also, factors, plan)`` with kernels longer than the image folded.

    The one entry point of :func:`imgfilter.core.linear.run_linear`. Nothing
    changes (the same objects come back) when no axis gains from folding.
    With ``factors``, ``kernel`` is taken to be their outer product (only its
    shape is read, so callers may pass a zero-stride view) and comes back as
    a zero-stride stand-in of the folded shape (never the dense product). Refuses (OptionError) results too large to hold.
    """
    check_result_size(plan.in_shape, plan.out_shape)
    result = fold_plan(plan, mode, min_extent)
    if result is None:
        return kernel, also, factors, plan
    folded, folds = result
    if factors is not None:
        factors = [
            f if fold is None else fold_weights(f, 0, fold[0], fold[1])
            for f, fold in zip(factors, folds, strict=True)
        ]
        # A shape-only stand-in: run_linear builds the dense kernel from the
        # factors only for a method that reads every tap (bounded there).
        kernel = np.broadcast_to(1.0, tuple(len(f) for f in factors))
    else:
        kernel = fold_kernel(kernel, folds)
    also = tuple(fold_kernel(k, folds) for k in also)
    return kernel, also, factors, folded


def fold_same(
    factors: Sequence[np.ndarray], shape: Sequence[int], mode: str, min_extent: int = FOLD_MIN_EXTENT
) -> list[np.ndarray]:
    """1-D factors of a "same"-size, stride-1 filter, folded and kept centred.

    Factor ``a`` runs along axis ``a`` of an image of spatial ``shape`` (index
    ``len // 2`` on the output pixel). A folded factor is zero-padded to an
    odd length around its centre tap, so the same "same" plan applies: callers
    build their kernel from the returned factors as from the original ones.
    Short factors come back unchanged.
    """
    out = []
    for f, n in zip(factors, shape, strict=False):
        f = np.asarray(f, dtype=np.float64)
        fold = axis_fold(int(n), int(n), 1, 1, len(f) // 2, len(f), mode, min_extent)
        if fold is None or 2 * max(fold[2], fold[1] - 1 - fold[2]) + 1 >= len(f):
            out.append(f)
            continue
        position, length, before = fold
        # Offsets -before .. length - 1 - before, centred in [-r, r].
        r = max(before, length - 1 - before)
        out.append(np.bincount(position + (r - before), weights=f, minlength=2 * r + 1))
    return out
