"""The numpy bilateral filter the compiled kernel replaced, kept as its oracle.

Copied unchanged (less the linear-light wrapper) from imgfilter/filters/bilateral.py
before the engine took over: per-distance tables of range weights for integer
images, one numpy pass per window offset. tests/test_engine_bilateral.py checks
the kernel against it (bit for bit where both use the same table and order).
"""

from __future__ import annotations

import numpy as np

from imgfilter.core.alpha import alpha_max, resolve_alpha
from imgfilter.core.masked import check_nan, restore_missing, validity
from imgfilter.core.names import OptionError
from imgfilter.core.options import check_image, float_dtype, normalize_mode, plan_window
from imgfilter.core.values import cast_like
from imgfilter.core.windows import window_apply


def _radius(diameter: int, sigma_space: float) -> int:
    r = diameter // 2 if diameter > 0 else int(np.rint(sigma_space * 1.5))
    return max(r, 1)


def numpy_bilateral(
    image,
    diameter=9,
    sigma_color=75.0,
    sigma_space=75.0,
    *,
    mode="reflect",
    alpha=None,
    threads=None,
    nan="propagate",
    mask=None,
):
    arr = check_image(image)
    if isinstance(diameter, (bool, np.bool_)) or not isinstance(diameter, (int, np.integer)):
        raise TypeError(f"diameter must be an int, got {diameter!r}")
    if diameter < 0:
        raise OptionError(f"diameter must be >= 0, got {diameter}")
    for name, value in (("sigma_color", sigma_color), ("sigma_space", sigma_space)):
        if not (np.isfinite(value) and value > 0):
            raise OptionError(f"{name} must be > 0, got {value!r}")
    mode = normalize_mode(mode)
    r = _radius(int(diameter), float(sigma_space))
    use_alpha = resolve_alpha(image, arr, alpha)  # the filters' rule: arrays are data
    dtype = float_dtype(arr.dtype)
    nan = check_nan(nan)
    valid = validity(arr, nan, mask)
    source = arr
    if valid is not None:
        # Missing pixels become NaN in a float copy; the reducer gives them no weight.
        if valid.ndim == 3:
            valid = valid[..., : (arr.shape[2] - 1 if use_alpha else arr.shape[2])].all(axis=-1)
        source = arr.astype(dtype)
        source[~valid] = np.nan

    # Spatial weights of the circular window, float32 as in OpenCV.
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    inside = np.sqrt(xx * xx + yy * yy) <= r
    taps = [(int(i), int(j)) for i, j in zip(*np.nonzero(inside), strict=False)]
    space = np.exp(-(xx * xx + yy * yy) / (2.0 * sigma_space * sigma_space)).astype(dtype)

    colour_channels = (arr.shape[2] - 1 if use_alpha else arr.shape[2]) if arr.ndim == 3 else 1
    channels = arr.shape[2] if arr.ndim == 3 else 1
    space_w = {(i, j): float(space[i, j]) for i, j in taps}
    luts: dict[float, np.ndarray] = {}
    if arr.dtype.kind in "biu" and valid is None:
        # Integer differences index a table of range weights, as OpenCV does;
        # each distance's table already holds the spatial weight too.
        top = 1 if arr.dtype.kind == "b" else int(np.iinfo(arr.dtype).max) - int(np.iinfo(arr.dtype).min)
        d = np.arange(top * colour_channels + 1, dtype=np.float64)
        lut = np.exp(-d * d / (2.0 * sigma_color * sigma_color)).astype(dtype)
        for sw in set(space_w.values()):
            luts[sw] = lut * dtype.type(sw)
        # Differences of 8-bit values and their sums fit int16 (3 * 255).
        block_dtype = np.dtype(np.int16 if top * colour_channels < 2**15 else np.int64)
    else:
        block_dtype = dtype
    coeff = dtype.type(-0.5 / (sigma_color * sigma_color))
    amax = dtype.type(alpha_max(arr.dtype))
    kshape = (2 * r + 1, 2 * r + 1)
    plan = plan_window(arr.shape, kshape, "same", 1, 1)

    def channel(x: np.ndarray, c: int) -> np.ndarray:
        return x if x.ndim == 2 else x[..., c]

    def reduce(block, plan, counts, out):
        h, w = counts
        okf = centre_bad = None
        if valid is not None:
            # Once per band: missing pixels zeroed (their weight will be 0) and
            # a 0/1 validity plane, so each tap costs one multiply more, not three passes.
            bad = np.isnan(channel(block, 0))
            okf = (~bad).astype(dtype)
            block = block.copy()
            block[bad] = 0
            centre_bad = bad[r : r + h, r : r + w]
            if not centre_bad.any():
                centre_bad = None
        centre = block[r : r + h, r : r + w]
        centre_col = [np.ascontiguousarray(channel(centre, c)) for c in range(colour_channels)]
        num = [np.zeros((h, w), dtype=dtype) for _ in range(channels)]
        den = np.zeros((h, w), dtype=dtype)
        diff = np.empty((h, w), dtype=block_dtype)
        part = np.empty((h, w), dtype=block_dtype)
        prod = np.empty((h, w), dtype=dtype)
        for i, j in taps:
            v = block[i : i + h, j : j + w]
            np.subtract(channel(v, 0), centre_col[0], out=diff)
            np.abs(diff, out=diff)
            for c in range(1, colour_channels):
                np.subtract(channel(v, c), centre_col[c], out=part)
                np.abs(part, out=part)
                diff += part
            if luts:
                wgt = luts[space_w[(i, j)]][diff]
            else:
                wgt = np.exp(diff * diff * coeff)
                if okf is not None:
                    # A missing centre takes its valid neighbours by distance
                    # alone; a missing neighbour weighs nothing.
                    if centre_bad is not None:
                        np.copyto(wgt, 1, where=centre_bad)
                    wgt *= okf[i : i + h, j : j + w]
                wgt *= dtype.type(space_w[(i, j)])
            den += wgt
            if use_alpha:
                np.multiply(wgt, channel(v, channels - 1), out=wgt)
                wgt /= amax
                num[-1] += wgt  # sum of weight x alpha: the premultiplied denominator
            for c in range(colour_channels):
                np.multiply(channel(v, c), wgt, out=prod)
                num[c] += prod
        if use_alpha:
            aden = num[-1]
            for c in range(colour_channels):
                colour = np.divide(num[c], aden, out=np.zeros_like(aden), where=aden > 0)
                out[..., c] = cast_like(colour, out.dtype)
            with np.errstate(invalid="ignore", divide="ignore"):  # no valid neighbour: NaN, restored later
                out[..., -1] = cast_like(aden / den * amax, out.dtype)
        else:
            for c in range(channels):
                with np.errstate(invalid="ignore", divide="ignore"):
                    res = cast_like(num[c] / den, out.dtype)
                if out.ndim == 2:
                    out[...] = res
                else:
                    out[..., c] = res

    # Per output element: sums, weights, differences and the gathered weights.
    row_bytes = dtype.itemsize * int(np.prod(arr.shape[1:], dtype=np.int64)) * 12
    result = window_apply(
        source,
        plan,
        reduce,
        mode=mode,
        work_dtype=block_dtype,
        out_dtype=arr.dtype if valid is None else dtype,
        bytes_per_row=row_bytes,
        threads=threads,
    )
    if valid is None:
        return result
    return restore_missing(result, arr, valid, nan)
