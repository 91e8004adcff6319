"""The filter commands: each turns its options into a call of the Python API.

Adding a command is one declaration here (see README "Adding a command"):

    @filter_command("name")
    @click.option(...)            # the filter's own options, checked when parsed
    def name_step(opt, ...):
        '''Help text; its first line is the summary in 'imgfilter --help'.'''
        check options here (raise click.BadParameter naming the option)
        def fn(pixels, alpha):
            from ..filters.x import name   # lazily: --help imports no filter
            return name(pixels, opt, alpha=alpha), alpha
        return fn

The shared options (inputs, outputs, batches, chains with '+') come with the
decorator; reading, writing and errors are :mod:`imgfilter.run`'s.
"""

from __future__ import annotations

import click

from ..core.names import OptionError
from ..run.options import mask_for
from .options import cval_keyword, cval_option, linear_option, missing_options
from .registry import filter_command
from .types import (
    INT_TUPLE,
    MAX_SHIFT,
    MAX_WINDOW,
    MODE,
    MODE_HELP,
    PADDING,
    FiniteFloat,
    FloatTupleType,
    IntTupleType,
)

SIGNED_NOTE = "Negative responses clip to 0 in integer files: use --scale abs or --scale offset to show them."


def _mode_option(default: str):
    return click.option("--mode", type=MODE, default=default, show_default=True, help=MODE_HELP)


def _window_limit(option: str, side: int, why: str) -> None:
    """Refuse, at parse time, a window wider than MAX_WINDOW that other options imply."""
    if side > MAX_WINDOW:
        raise click.BadParameter(
            f"{why} gives a window of {side} pixels; at most {MAX_WINDOW}", param_hint=option
        )


@filter_command("sobel")
@click.option(
    "--output",
    type=click.Choice(["magnitude", "x", "y", "angle"]),
    default="magnitude",
    show_default=True,
    help="Gradient magnitude sqrt(x²+y²), the x or y derivative, or the angle atan2(y, x) in radians.",
)
@click.option(
    "--gray",
    "--grey",
    "gray",
    is_flag=True,
    help="Take the luminance first (one output channel instead of one per colour).",
)
@_mode_option("reflect")
@cval_option
def sobel_step(output, gray, mode, cval):
    """Sobel edge detector: the gradient magnitude (or x, y, angle).

    x is the correlation with [[-1,0,1],[-2,0,2],[-1,0,1]] (rising left to
    right is positive), y its transpose. Colour channels are filtered on
    their own unless --gray. For --output x|y: negative responses clip to 0
    in integer files; use --scale abs or --scale offset to show them. Angles
    are radians: use --scale stretch (or a .npy/.tif float output).

    \b
    Example:
      imgfilter sobel --gray photo.jpg edges.png
      imgfilter sobel --output x --scale offset photo.png gx.png
    """

    from ..filters.edges import sobel

    border = cval_keyword(sobel, "sobel", cval)

    def fn(pixels, alpha):
        from ..filters.color import luminance

        if gray:
            pixels = luminance(pixels, alpha=alpha)
        return sobel(pixels, output=output, mode=mode, alpha=alpha, **border), alpha

    return fn


@filter_command("edges")
@click.option(
    "--direction",
    default="vertical",
    show_default=True,
    help="vertical, horizontal, or any kernel name from 'imgfilter kernels' (laplacian, prewitt_x, scharr_y, roberts_x, sharpen, emboss...).",
)
@click.option(
    "--padding",
    type=click.Choice(["same", "valid", "full"]),
    default="same",
    show_default=True,
    help="same keeps the size, valid shrinks it, full grows it.",
)
@_mode_option("reflect")
@cval_option
def edges_step(direction, padding, mode, cval):
    """Edge kernels: vertical [[1,0,-1]]*3 (bright-to-dark left to right is positive) and friends.

    Negative responses clip to 0 in integer files: use --scale abs or
    --scale offset to show them.

    \b
    Example:
      imgfilter edges --direction horizontal --scale abs photo.png edges.png
    """
    from ..kernels import get_kernel

    try:
        get_kernel(direction)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--direction'") from None

    from ..filters.edges import edges

    border = cval_keyword(edges, "edges", cval)

    def fn(pixels, alpha):
        return edges(pixels, direction, padding=padding, mode=mode, alpha=alpha, **border), alpha

    return fn


def _odd(ctx, param, value):
    if value is not None and (value < 1 or value % 2 == 0):
        raise click.BadParameter(f"size must be odd and positive, got {value}")
    return value


@filter_command("median")
@click.option(
    "--size",
    type=IntTupleType(axes=1),
    default=3,
    show_default=True,
    callback=_odd,
    help="Window side (odd; one value: imgfilter.median takes no per-axis size).",
)
@_mode_option("reflect")
@cval_option
@missing_options
def median_step(size, mode, cval, nan, mask_path):
    """Median filter: each pixel becomes the middle value of its size x size window.

    Removes salt-and-pepper noise and keeps edges; alpha is left as it is.

    \b
    Example:
      imgfilter median --size 5 noisy.png clean.png
    """

    from ..filters.median import median

    border = cval_keyword(median, "median", cval)

    def fn(pixels, alpha):
        mask = mask_for(mask_path, pixels)
        return median(pixels, size, mode=mode, alpha=alpha, nan=nan, mask=mask, **border), alpha

    return fn


@filter_command("blur")
@click.option(
    "--size",
    type=IntTupleType(axes=2),
    default=3,
    show_default=True,
    help="Window side, or height,width (rows,columns = y,x), e.g. 3,5.",
)
@_mode_option("reflect")
@cval_option
@missing_options
@linear_option
def blur_step(size, mode, cval, nan, mask_path, linear):
    """Box blur: each pixel becomes the mean of its size x size window.

    \b
    Example:
      imgfilter blur --size 7 photo.png soft.png
    """

    from ..filters.smooth import blur

    border = cval_keyword(blur, "blur", cval)

    def fn(pixels, alpha):
        mask = mask_for(mask_path, pixels)
        out = blur(pixels, size, mode=mode, alpha=alpha, nan=nan, mask=mask, linear=linear, **border)
        return out, alpha

    return fn


@filter_command("gaussian")
@click.option(
    "--sigma",
    type=FloatTupleType(),
    default=1.0,
    show_default=True,
    help="Standard deviation in pixels (> 0), or one per axis as rows,columns (y,x), e.g. 2,4.",
)
@click.option(
    "--truncate",
    type=FiniteFloat(min=0, min_open=True, max=MAX_WINDOW),
    default=4.0,
    show_default=True,
    help="Kernel radius in sigmas.",
)
@_mode_option("reflect")
@cval_option
@missing_options
@linear_option
def gaussian_step(sigma, truncate, mode, cval, nan, mask_path, linear):
    """Gaussian blur: a weighted mean whose weights fall off as a bell curve.

    \b
    Example:
      imgfilter gaussian --sigma 3 photo.png soft.png
    """

    from ..filters.smooth import gaussian

    for s in sigma if isinstance(sigma, tuple) else (sigma,):
        # scipy.ndimage's radius, which imgfilter.gaussian uses.
        _window_limit(
            "'--sigma'/'--truncate'", 2 * int(truncate * s + 0.5) + 1, f"sigma {s:g} x truncate {truncate:g}"
        )
    border = cval_keyword(gaussian, "gaussian", cval)

    def fn(pixels, alpha):
        mask = mask_for(mask_path, pixels)
        out = gaussian(
            pixels,
            sigma,
            mode=mode,
            truncate=truncate,
            alpha=alpha,
            nan=nan,
            mask=mask,
            linear=linear,
            **border,
        )
        return out, alpha

    return fn


@filter_command("shift")
@click.option(
    "--dx",
    type=FiniteFloat(-MAX_SHIFT, MAX_SHIFT),
    default=0.0,
    show_default=True,
    help="Pixels to move right (negative: left); fractions are bilinear.",
)
@click.option(
    "--dy",
    type=FiniteFloat(-MAX_SHIFT, MAX_SHIFT),
    default=0.0,
    show_default=True,
    help="Pixels to move down (negative: up).",
)
@_mode_option("constant")
@click.option(
    "--cval", type=FiniteFloat(), default=0.0, show_default=True, help="Fill value for --mode constant."
)
@linear_option
def shift_step(dx, dy, mode, cval, linear):
    """Shift: move the image by (dx, dy) pixels; what enters at the border follows --mode.

    \b
    Example:
      imgfilter shift --dx 10 --dy -5 photo.png moved.png
      imgfilter shift --dx 0.5 --mode edge photo.png half.png
    """

    def fn(pixels, alpha):
        from ..filters.shift import shift

        return shift(pixels, dx, dy, mode=mode, cval=cval, alpha=alpha, linear=linear), alpha

    return fn


@filter_command("bilateral")
@click.option(
    "--diameter",
    type=click.IntRange(0, MAX_WINDOW),
    default=9,
    show_default=True,
    help="Window diameter (0: from --sigma-space).",
)
@click.option(
    "--sigma-color",
    type=FiniteFloat(min=0, min_open=True),
    default=75.0,
    show_default=True,
    help="How fast weights fall with intensity difference (0..255 units for 8-bit).",
)
@click.option(
    "--sigma-space",
    type=FiniteFloat(min=0, min_open=True),
    default=75.0,
    show_default=True,
    help="How fast weights fall with distance (pixels).",
)
@_mode_option("reflect")
@cval_option
@missing_options
@linear_option
def bilateral_step(diameter, sigma_color, sigma_space, mode, cval, nan, mask_path, linear):
    """Bilateral filter: a blur whose weights also fall with intensity difference, so edges survive.

    Matches OpenCV's bilateralFilter within one grey level.

    \b
    Example:
      imgfilter bilateral --diameter 9 --sigma-color 50 photo.png smooth.png
    """

    from ..filters.bilateral import bilateral

    if diameter == 0:
        # OpenCV's rule, which imgfilter.bilateral follows: the radius from sigma-space.
        _window_limit(
            "'--sigma-space'",
            2 * round(1.5 * sigma_space) + 1,
            f"--diameter 0 with sigma-space {sigma_space:g}",
        )
    border = cval_keyword(bilateral, "bilateral", cval)

    def fn(pixels, alpha):
        mask = mask_for(mask_path, pixels)
        out = bilateral(
            pixels,
            diameter,
            sigma_color,
            sigma_space,
            mode=mode,
            alpha=alpha,
            nan=nan,
            mask=mask,
            linear=linear,
            **border,
        )
        return out, alpha

    return fn


def parse_kernel(text: str, *, comments: bool = False) -> list[list[float]]:
    """Rows split by ';' (or newlines), values by ',' or spaces.

    With ``comments`` (kernel files), '#' starts a comment to the end of
    its line; blank lines are skipped either way.
    """
    import math

    if comments:
        text = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    rows = []
    for line in text.replace("\n", ";").split(";"):
        line = line.strip()
        if not line:
            continue
        row = []
        for v in line.replace(",", " ").split():
            try:
                number = float(v)
            except ValueError:
                raise ValueError(f"{v!r} is not a number") from None
            if not math.isfinite(number):
                raise ValueError(f"{v!r} is not a finite number")
            row.append(number)
        rows.append(row)
    if not rows:
        raise ValueError("the kernel is empty")
    if len({len(r) for r in rows}) != 1:
        raise ValueError(f"rows have different lengths {[len(r) for r in rows]}")
    if len(rows) > MAX_WINDOW or len(rows[0]) > MAX_WINDOW:
        raise ValueError(f"the kernel is {len(rows)}x{len(rows[0])}; at most {MAX_WINDOW} a side")
    return rows


@filter_command("conv")
@click.option(
    "-k",
    "--kernel",
    help="Kernel matrix: rows split by ';', values by ',' or spaces, e.g. \"0,-1,0;-1,5,-1;0,-1,0\"; or a name from 'imgfilter kernels'.",
)
@click.option(
    "--kernel-file",
    type=click.Path(exists=True, dir_okay=False),
    help="File with a whitespace- or comma-separated matrix, one row per line ('#' starts a comment; blank lines are skipped).",
)
@click.option(
    "--padding",
    type=PADDING,
    default="same",
    show_default=True,
    help="same, valid, full, P, or P_rows,P_cols.",
)
@click.option("--mode", type=MODE, default="reflect", show_default=True, help=MODE_HELP)
@click.option(
    "--cval", type=float, default=0.0, show_default=True, help="Value beyond the border for --mode constant."
)
@click.option(
    "--stride", type=INT_TUPLE, default=1, show_default=True, help="Step between outputs: N or N_rows,N_cols."
)
@click.option(
    "--dilation",
    type=INT_TUPLE,
    default=1,
    show_default=True,
    help="Spacing between kernel taps: N or N_rows,N_cols.",
)
@click.option("--convolve", "flip", is_flag=True, help="Convolve (flip the kernel) instead of correlating.")
@missing_options
def conv_step(kernel, kernel_file, padding, mode, cval, stride, dilation, flip, nan, mask_path):
    """Correlate (or convolve) with any kernel.

    Each output pixel is the sum of the kernel's weights times the pixels
    under it, per colour channel; alpha passes through (sampled the same way
    when --stride or --padding changes the size).

    \b
    Example:
      imgfilter conv --kernel "0,-1,0;-1,5,-1;0,-1,0" in.png sharp.png
      imgfilter conv --kernel sobel_x --scale offset in.png gx.png
    """
    if (kernel is None) == (kernel_file is None):
        raise click.UsageError("give exactly one of --kernel and --kernel-file")
    matrix = read_kernel(kernel, kernel_file)
    check_conv_options(matrix, padding, stride, dilation, nan, mask_path is not None)

    def fn(pixels, alpha):
        import numpy as np

        from ..core.alpha import keep_alpha
        from ..core.options import per_axis
        from ..filters.correlate import convolve, correlate

        k = np.asarray(matrix, dtype=float)
        op = convolve if flip else correlate
        mask = mask_for(mask_path, pixels)

        def run(x):
            return op(
                x,
                k,
                padding=padding,
                mode=mode,
                cval=cval,
                stride=stride,
                dilation=dilation,
                nan=nan,
                mask=mask,
            )

        dil = per_axis(dilation, k.ndim, "dilation")
        eff = tuple(d * (n - 1) + 1 for n, d in zip(k.shape, dil, strict=False))
        return keep_alpha(pixels, run, alpha, eff, padding, stride, mode=mode, cval=cval), alpha

    return fn


def read_kernel(kernel: str | None, kernel_file: str | None) -> list[list[float]]:
    """The matrix of --kernel (numbers or a name) or --kernel-file; errors name the option given."""
    if kernel_file is not None:
        try:
            with open(kernel_file, encoding="utf-8") as fh:
                return parse_kernel(fh.read(), comments=True)
        except UnicodeDecodeError:
            raise click.BadParameter(
                f"{kernel_file}: not a text file", param_hint="'--kernel-file'"
            ) from None
        except OSError as exc:
            raise click.BadParameter(
                f"{kernel_file}: {exc.strerror or exc}", param_hint="'--kernel-file'"
            ) from None
        except ValueError as exc:
            raise click.BadParameter(f"{kernel_file}: {exc}", param_hint="'--kernel-file'") from None
    assert kernel is not None
    try:
        if any(ch.isalpha() for ch in kernel.replace("e", "").replace("E", "")):
            from ..kernels import get_kernel

            return get_kernel(kernel)
        return parse_kernel(kernel)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--kernel'") from None


def check_conv_options(matrix: list[list[float]], padding, stride, dilation, nan: str, masked: bool) -> None:
    """What correlate would refuse for any image, checked once at parse time, naming the option."""
    from ..core.options import per_axis, resolve_padding

    shape = (len(matrix), len(matrix[0]))
    try:
        per_axis(stride, 2, "--stride")
        dil = per_axis(dilation, 2, "--dilation")
    except (OptionError, TypeError) as exc:  # unreachable with INT_TUPLE's checks; kept as a guard
        raise click.UsageError(str(exc)) from None
    eff = tuple(d * (n - 1) + 1 for n, d in zip(shape, dil, strict=True))
    if max(eff) > MAX_WINDOW:
        raise click.BadParameter(
            f"{dilation}: a {shape[0]}x{shape[1]} kernel would span {eff[0]}x{eff[1]} pixels; "
            f"at most {MAX_WINDOW} a side",
            param_hint="'--dilation'",
        )
    try:
        resolve_padding(padding, eff)
    except (OptionError, TypeError) as exc:
        raise click.BadParameter(str(exc), param_hint="'--padding'") from None
    # The core's own rule (core/linear.py): a zero-sum kernel cannot be renormalized.
    total = sum(map(sum, matrix))
    scale = sum(abs(v) for row in matrix for v in row)
    if (nan != "propagate" or masked) and abs(total) <= 1e-12 * scale:
        what = "--mask" if masked else f"--nan {nan}"
        raise click.UsageError(
            f"{what} rescales each window by the kernel weights of its valid pixels, and this "
            "kernel's weights sum to zero (an edge kernel): fill the missing pixels first, "
            "or use --nan propagate without --mask"
        )


@filter_command("pool")
@click.option(
    "--size",
    type=IntTupleType(axes=None),
    default=2,
    show_default=True,
    help="Window: N, or N_rows,N_cols (a third value pools the channels too).",
)
@click.option(
    "--stride",
    type=IntTupleType(axes=None),
    default=None,
    help="Step between windows (default: --size); as many values as --size.",
)
@click.option(
    "--op",
    type=click.Choice(["max", "avg", "min"]),
    default="max",
    show_default=True,
    help="What each window keeps.",
)
@click.option(
    "--padding",
    type=click.Choice(["valid", "same"]),
    default="valid",
    show_default=True,
    help="valid: whole windows only; same: ceil(n/stride), windows clipped at the border.",
)
@missing_options
@linear_option
def pool_step(size, stride, op, padding, nan, mask_path, linear):
    """Max, average or min pooling: shrink the image by windows.

    Every channel, alpha included, is pooled the same way.

    \b
    Example:
      imgfilter pool --size 2 --op max in.png half.png
    """
    axes = len(size) if isinstance(size, tuple) else 2
    if isinstance(stride, tuple) and len(stride) != axes:
        raise click.BadParameter(
            f"{','.join(map(str, stride))}: give 1 value or {axes}, as many as --size",
            param_hint="'--stride'",
        )
    sizes = size if isinstance(size, tuple) else (size, size)

    def fn(pixels, alpha):
        import numpy as np

        from ..filters.pool import pool

        if padding == "valid" and any(n < k for n, k in zip(pixels.shape, sizes, strict=False)):
            shape = "x".join(map(str, pixels.shape[: len(sizes)]))
            raise ValueError(
                f"the --size {','.join(map(str, sizes))} window does not fit the {shape} image, "
                "so --padding valid leaves nothing; use --padding same (windows clipped at the border) "
                "or a smaller --size"
            )
        mask = mask_for(mask_path, pixels)

        def run(x, linear):
            return pool(x, size, stride=stride, op=op, padding=padding, nan=nan, mask=mask, linear=linear)

        if not (linear and op == "avg" and pixels.ndim == 3 and len(sizes) == 2):
            return run(pixels, linear), alpha
        # pool's linear light guesses alpha from the channel count (2 or 4);
        # the file's mode decides here: its alpha band stays linear, every
        # other band is decoded. No part given to pool has 2 or 4 channels,
        # and pooling is per channel, so the result is the same as in one call.
        colour = pixels[..., :-1] if alpha else pixels
        parts = [colour[..., :-1], colour[..., -1:]] if colour.shape[2] in (2, 4) else [colour]
        out = [run(part, True) for part in parts]
        if alpha:
            out.append(run(pixels[..., -1:], False))
        return np.concatenate(out, axis=-1), alpha

    return fn
