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

A command that is one Python call declares only that call, under
:func:`one_call` (which builds ``fn``, checks the window options and reads
--mask):

    @filter_command("name")
    @click.option(...)
    @one_call(window=True, check=...)   # check(**options) when parsed
    def name_step(pixels, alpha, **options):
        '''Help text.'''
        from ..filters.x import name
        return name(pixels, alpha=alpha, **options)

The shared options (inputs, outputs, batches, chains with '+') come with the
decorator; reading, writing and errors are :mod:`imgfilter.run`'s.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable

import click

from ..core.names import OptionError
from ..run.options import mask_for
from .options import cval_keyword, cval_option, linear_option, mask_option, missing_options, nan_option
from .registry import filter_command
from .types import (
    FOOTPRINT,
    INT_TUPLE,
    MAX_SHIFT,
    MAX_WINDOW,
    MODE,
    MODE_HELP,
    MORPH_MODE,
    PADDING,
    FiniteFloat,
    FloatTupleType,
    IntTupleType,
)


def _mode_option(default: str):
    return click.option("--mode", type=MODE, default=default, show_default=True, help=MODE_HELP)


def _window_limit(option: str, side: int, why: str) -> None:
    """Refuse, at parse time, a window wider than MAX_WINDOW that other options imply."""
    if side > MAX_WINDOW:
        raise click.BadParameter(
            f"{why} gives a window of {side} pixels; at most {MAX_WINDOW}", param_hint=option
        )


def _row_reach(public, *args, **options):
    """``reach(shape)`` of a step that is one same-size call of ``public`` (see :meth:`Step.reach`).

    Taken from the filter's own footprint (the halo its Dask blocks read),
    so the rows a band reads around it cannot drift from what the filter
    reads. None where a band cannot stand for the whole image: wrap-around
    or padding-free borders, strides, explicit padding.
    """

    def reach(shape):
        fp = public.footprint(tuple(shape), *args, **options)
        plan = fp.plan
        if fp.mode in (None, "wrap") or fp.padding_arg or plan.stride[0] != 1:
            return None
        before, eff = plan.pads[0][0], plan.eff[0]
        return max(before, eff - 1 - before)

    return reach


def _options(f, *options):
    """``f`` with ``options`` (click decorators), listed in --help in the order given."""
    for option in reversed(options):
        f = option(f)
    return f


def one_call(*, window: bool = False, check: Callable[..., object] | None = None):
    """The step of a command that is one Python call: ``call(pixels, alpha, **options)``.

    The call returns the pixels; alpha passes through as it is. What the
    options can be refused for without an image is refused when they are
    parsed (a click error naming the option, before any file is read):
    ``check(**options)``, and with ``window`` --footprint/--footprint-file
    against --size. In the call, --mask arrives as ``mask`` (read for the
    image) and, with ``window``, the window as ``size=`` or ``footprint=``.
    """

    def decorate(call):
        def make_step(**options):
            if window:
                size = options.pop("size")
                fp = read_footprint(options.pop("footprint"), options.pop("footprint_file"), size is not None)
            if check is not None:
                check(**options)

            def fn(pixels, alpha):
                keywords = dict(options)
                if "mask_path" in keywords:
                    keywords["mask"] = mask_for(keywords.pop("mask_path"), pixels)
                if window:
                    keywords.update(_window_keywords(3 if size is None else size, fp))
                return call(pixels, alpha, **keywords), alpha

            return fn

        # The call's docstring is the command's help (filter_command reads it).
        make_step.__name__, make_step.__qualname__, make_step.__doc__ = (
            call.__name__,
            call.__qualname__,
            call.__doc__,
        )
        return make_step

    return decorate


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

    fn.reach = _row_reach(sobel, output=output, mode=mode, **border)
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


# Registered here (its place in the command list) and again, with the window
# filters' --footprint options, once footprint_options is defined (below).
@filter_command("median")
@click.option(
    "--size",
    type=IntTupleType(axes=1),
    default=None,
    callback=_odd,
    help="Window side (odd; one value: imgfilter.median takes no per-axis size) [default: 3].",
)
@_mode_option("reflect")
@cval_option
@missing_options
def median_step(size, footprint, footprint_file, mode, cval, nan, mask_path):
    """Median filter: each pixel becomes the middle value of its window (--size box or --footprint).

    Removes salt-and-pepper noise and keeps edges; alpha is left as it is.
    A footprint of n pixels takes the (n // 2)-th smallest, as scipy.ndimage.

    \b
    Example:
      imgfilter median --size 5 noisy.png clean.png
      imgfilter median --footprint disk:3 noisy.png clean.png
    """

    from ..filters.median import median

    border = cval_keyword(median, "median", cval)
    fp = read_footprint(footprint, footprint_file, size is not None)
    box = 3 if size is None else size

    def fn(pixels, alpha):
        mask = mask_for(mask_path, pixels)
        window = {} if fp is None else {"footprint": footprint_array(fp)}
        return median(pixels, box, mode=mode, alpha=alpha, nan=nan, mask=mask, **window, **border), alpha

    if mask_path is None:
        window = {} if fp is None else {"footprint": footprint_array(fp)}
        fn.reach = _row_reach(median, box, mode=mode, nan=nan, **window, **border)
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

    if mask_path is None:
        fn.reach = _row_reach(blur, size, mode=mode, nan=nan, linear=linear, **border)
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

    _sigma_limit("'--sigma'/'--truncate'", sigma, truncate)
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

    if mask_path is None:
        fn.reach = _row_reach(gaussian, sigma, mode=mode, truncate=truncate, nan=nan, linear=linear, **border)
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
@click.option(
    "--interpolation",
    type=click.Choice(["bilinear", "cubic"]),
    default="bilinear",
    show_default=True,
    help="Fractional shifts: bilinear, or cubic (Keys a = -0.75, as OpenCV INTER_CUBIC).",
)
@linear_option
@missing_options
@one_call()
def shift_step(pixels, alpha, **options):
    """Shift: move the image by (dx, dy) pixels; what enters at the border follows --mode.

    \b
    Example:
      imgfilter shift --dx 10 --dy -5 photo.png moved.png
      imgfilter shift --dx 0.5 --mode edge photo.png half.png
      imgfilter shift --dx 0.25 --interpolation cubic photo.png quarter.png
    """
    from ..filters.shift import shift

    return shift(pixels, alpha=alpha, **options)


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
@_mode_option("reflect")
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
@click.option(
    "--normalize",
    is_flag=True,
    help="Divide the kernel by the sum of its weights (so 1 2 1;2 4 2;1 2 1 is a blur, not a brightening).",
)
@missing_options
def conv_step(kernel, kernel_file, padding, mode, cval, stride, dilation, flip, normalize, nan, mask_path):
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
    if normalize:
        matrix = normalized(matrix)
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


def normalized(matrix: list[list[float]]) -> list[list[float]]:
    """The kernel divided by its sum; refused (naming --normalize) when the weights sum to 0."""
    if sums_to_zero(matrix):
        raise click.BadParameter(
            "the kernel's weights sum to 0 (an edge kernel), so it cannot be divided by its sum",
            param_hint="'--normalize'",
        )
    total = sum(map(sum, matrix))
    return [[v / total for v in row] for row in matrix]


def sums_to_zero(matrix: list[list[float]]) -> bool:
    """Weights summing to 0 up to rounding (an all-zero kernel too): correlate's rule for what cannot be renormalized."""
    total = sum(map(sum, matrix))
    scale = sum(abs(v) for row in matrix for v in row)
    return abs(total) <= 1e-12 * scale


def read_matrix_file(path: str, option: str) -> list[list[float]]:
    """The matrix in the text file of ``option`` (parse_kernel's rules, '#' comments); errors name the option."""
    try:
        with open(path, encoding="utf-8") as fh:
            return parse_kernel(fh.read(), comments=True)
    except UnicodeDecodeError:
        raise click.BadParameter(f"{path}: not a text file", param_hint=option) from None
    except OSError as exc:
        raise click.BadParameter(f"{path}: {exc.strerror or exc}", param_hint=option) from None
    except ValueError as exc:
        raise click.BadParameter(f"{path}: {exc}", param_hint=option) from None


def read_kernel(kernel: str | None, kernel_file: str | None) -> list[list[float]]:
    """The matrix of --kernel (numbers or a name) or --kernel-file; errors name the option given."""
    if kernel_file is not None:
        return read_matrix_file(kernel_file, "'--kernel-file'")
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
    # A zero-sum kernel cannot be renormalized.
    if (nan != "propagate" or masked) and sums_to_zero(matrix):
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


# ------------------------------------------------------- the filters of issue 16


def _sigma_limit(option: str, sigma, truncate: float = 4.0) -> None:
    """scipy.ndimage's Gaussian radius int(truncate * sigma + 0.5), within MAX_WINDOW."""
    for s in sigma if isinstance(sigma, tuple) else (sigma,):
        _window_limit(option, 2 * int(truncate * s + 0.5) + 1, f"sigma {s:g} x truncate {truncate:g}")


def _colour_only(pixels, alpha, run):
    """``run`` on the colour channels; alpha comes back unchanged (as the result's dtype)."""
    if not alpha:
        return run(pixels)
    import numpy as np

    out = run(pixels[..., :-1])
    if out.ndim == 2:
        out = out[..., None]
    return np.concatenate([out, pixels[..., -1:].astype(out.dtype)], axis=-1)


def footprint_options(f):
    """--footprint SHAPE:N and --footprint-file (a 0/1 matrix), for the window filters."""
    f = click.option(
        "--footprint-file",
        type=click.Path(exists=True, dir_okay=False),
        help="File with a 0/1 matrix, one row per line, as --kernel-file ('#' comments, blank lines skipped).",
    )(f)
    return click.option(
        "--footprint",
        type=FOOTPRINT,
        help="Window shape: disk:R, square:N, rectangle:HxW, diamond:R, cross:R, ellipse:HxW (instead of --size).",
    )(f)


# median's --footprint/--footprint-file are the window filters' own (re-registered in its place).
median_step = filter_command("median")(footprint_options(median_step))


def read_footprint(spec, path, size_given: bool) -> object:
    """The checked footprint of --footprint / --footprint-file: None (the --size box), a spec tuple or a 0/1 matrix."""
    if spec is not None and path is not None:
        raise click.UsageError("give at most one of --footprint and --footprint-file")
    if size_given and (spec is not None or path is not None):
        raise click.UsageError("give --size or a footprint (--footprint, --footprint-file), not both")
    if path is None:
        return spec
    matrix = read_matrix_file(path, "'--footprint-file'")
    values = {v for row in matrix for v in row}
    if not values <= {0.0, 1.0}:
        raise click.BadParameter(
            f"{path}: a footprint holds only 0 and 1, got {sorted(values - {0.0, 1.0})[0]:g}",
            param_hint="'--footprint-file'",
        )
    if 1.0 not in values:
        raise click.BadParameter(f"{path}: the footprint has no 1", param_hint="'--footprint-file'")
    return matrix


def footprint_array(fp):
    """The bool array of a checked footprint (None stays None: the --size box)."""
    if fp is None:
        return None
    import numpy as np

    if isinstance(fp, tuple):
        from .. import footprints

        return getattr(footprints, fp[0])(*fp[1:])
    return np.asarray(fp) != 0


def _window_keywords(size, fp) -> dict:
    """size= or footprint= for the Python call."""
    return {"size": size} if fp is None else {"footprint": footprint_array(fp)}


def _size_option(f):
    return click.option(
        "--size",
        type=IntTupleType(axes=2),
        default=None,
        help="Box window side, or height,width (rows,columns), e.g. 3,5 [default: 3].",
    )(f)


@filter_command("unsharp")
@click.option(
    "--sigma",
    type=FiniteFloat(min=0, min_open=True, max=MAX_WINDOW),
    default=1.0,
    show_default=True,
    help="Standard deviation of the blur (pixels).",
)
@click.option(
    "--amount",
    type=FiniteFloat(),
    default=1.0,
    show_default=True,
    help="How much of the detail (image - blur) to add.",
)
@click.option(
    "--threshold",
    type=FiniteFloat(min=0),
    default=0.0,
    show_default=True,
    help="Add detail only where |image - blur| exceeds this (image units: 0..255 for 8 bits).",
)
@_mode_option("reflect")
@cval_option
@missing_options
@linear_option
def unsharp_step(sigma, amount, threshold, mode, cval, nan, mask_path, linear):
    """Unsharp masking: image + amount * (image - gaussian blur), where the detail exceeds --threshold.

    Rounded and clipped to the image's depth once. ImageMagick's
    -unsharp 0xS+A+T is --sigma S --amount A --threshold T*QuantumRange/2.

    \b
    Example:
      imgfilter unsharp --sigma 2 --amount 1.5 photo.png sharp.png
    """
    _sigma_limit("'--sigma'", sigma)
    from ..filters.sharpen import unsharp

    border = cval_keyword(unsharp, "unsharp", cval)

    def fn(pixels, alpha):
        mask = mask_for(mask_path, pixels)
        out = unsharp(
            pixels,
            sigma=sigma,
            amount=amount,
            threshold=threshold,
            linear=linear,
            mode=mode,
            alpha=alpha,
            nan=nan,
            mask=mask,
            **border,
        )
        return out, alpha

    return fn


def _local_options(f):
    """The window, border and missing-pixel options of the local statistics."""
    return _options(f, _size_option, footprint_options, _mode_option("reflect"), cval_option, missing_options)


@filter_command("local-std")
@_local_options
@one_call(window=True)
def local_std_step(pixels, alpha, **options):
    """Local standard deviation over each window (box --size or --footprint).

    Float result in the image's units (0..255 for 8 bits), written by the
    float-to-file rule (--scale; .npy/.tif float keep it). Alpha passes through.

    \b
    Example:
      imgfilter local-std --size 7 --scale stretch photo.png texture.png
    """
    from ..filters.local import local_std

    return _colour_only(pixels, alpha, functools.partial(local_std, **options))


@filter_command("local-var")
@_local_options
@one_call(window=True)
def local_var_step(pixels, alpha, **options):
    """Local variance over each window (box --size or --footprint).

    Float result in the image's units (0..255 for 8 bits), written by the
    float-to-file rule (--scale; .npy/.tif float keep it). Alpha passes through.

    \b
    Example:
      imgfilter local-var --footprint disk:3 --scale stretch photo.png var.png
    """
    from ..filters.local import local_var

    return _colour_only(pixels, alpha, functools.partial(local_var, **options))


@filter_command("local-range")
@_local_options
@one_call(window=True)
def local_range_step(pixels, alpha, **options):
    """Local range: maximum minus minimum over each window (box --size or --footprint).

    Alpha passes through.

    \b
    Example:
      imgfilter local-range --size 3 photo.png range.png
    """
    from ..filters.local import local_range

    return _colour_only(pixels, alpha, functools.partial(local_range, **options))


@filter_command("guided")
@click.option(
    "--radius",
    type=click.IntRange(1, MAX_WINDOW // 2),
    default=8,
    show_default=True,
    help="Window radius r: (2r+1) x (2r+1) windows.",
)
@click.option(
    "--eps",
    type=FiniteFloat(min=0, min_open=True),
    default=None,
    help="Regularization, a variance in the guide's units squared (OpenCV's eps) [default: 0.01 x (guide's range)²].",
)
@click.option(
    "--guide",
    "guide_path",
    type=click.Path(exists=True, dir_okay=False),
    help="Guide image (the same size; default: the image itself).",
)
@_mode_option("reflect")
@cval_option
@missing_options
def guided_step(radius, eps, guide_path, mode, cval, nan, mask_path):
    """Guided filter (He, Sun, Tang 2010): edge-preserving smoothing led by a guide.

    \b
    Example:
      imgfilter guided --radius 8 photo.png smooth.png
      imgfilter guided --radius 4 --eps 100 --guide flash.png noflash.png out.png
    """
    from ..filters.guided import guided

    border = cval_keyword(guided, "guided", cval)

    def fn(pixels, alpha):
        guide = None
        if guide_path is not None:
            from ..io.read import read_image

            pic = read_image(guide_path)
            guide = pic.pixels[..., :-1] if pic.alpha else pic.pixels
            if guide.shape[:2] != pixels.shape[:2]:
                raise ValueError(
                    f"--guide {guide_path} is {guide.shape[1]}x{guide.shape[0]}, "
                    f"the image {pixels.shape[1]}x{pixels.shape[0]}"
                )
        mask = mask_for(mask_path, pixels)
        out = guided(
            pixels, guide, radius=radius, eps=eps, mode=mode, alpha=alpha, nan=nan, mask=mask, **border
        )
        return out, alpha

    return fn


@filter_command("canny")
@click.option(
    "--sigma",
    type=FiniteFloat(min=0, max=MAX_WINDOW),
    default=1.0,
    show_default=True,
    help="Gaussian smoothing first (pixels; 0: none).",
)
@click.option(
    "--low",
    type=FiniteFloat(),
    default=None,
    help="Hysteresis low threshold, gradient units (default 0.1 x the depth's maximum; quantile 0.1).",
)
@click.option(
    "--high",
    type=FiniteFloat(),
    default=None,
    help="High threshold (default 0.2 x the depth's maximum; quantile 0.2).",
)
@click.option("--l1", is_flag=True, help="Gradient magnitude |x| + |y| instead of sqrt(x² + y²).")
@click.option(
    "--quantiles", is_flag=True, help="--low/--high are quantiles (0..1) of the gradient magnitude."
)
@_mode_option("constant")
@cval_option
def canny_step(sigma, low, high, l1, quantiles, mode, cval):
    """Canny edges (scikit-image's algorithm): a 0/255 mask, written 8-bit.

    Colour images are converted to luminance first; alpha is dropped. In a
    chain the mask is at the input's depth (0/65535 for 16 bits) unless
    --depth 8.
    Thresholds are in the image's units (0..255 for 8 bits), or quantiles
    with --quantiles.

    \b
    Example:
      imgfilter canny --sigma 2 photo.png edges.png
      imgfilter canny --quantiles --low 0.8 --high 0.9 photo.png edges.png
    """
    if quantiles:
        for option, q in (("'--low'", low), ("'--high'", high)):
            if q is not None and not 0 <= q <= 1:
                raise click.BadParameter(f"{q:g}: with --quantiles, a quantile in 0..1", param_hint=option)
    elif (low is not None and low < 0) or (high is not None and high < 0):
        raise click.BadParameter("thresholds are gradient magnitudes, >= 0", param_hint="'--low'/'--high'")
    if low is not None and high is not None and high < low:
        raise click.BadParameter(f"{high:g} is below --low {low:g}", param_hint="'--high'")
    # (A --high alone below the default low, 0.1 x the depth's maximum, is
    # refused by canny when it sees the image: that default needs the depth.)
    _sigma_limit("'--sigma'", sigma)
    from ..filters.canny import canny

    border = cval_keyword(canny, "canny", cval)

    def fn(pixels, alpha):
        from ..filters.color import luminance
        from ..io.values import source_scale

        grey = pixels
        if alpha:
            grey = grey[..., :-1]
        if grey.ndim == 3:
            grey = luminance(grey, alpha=False) if grey.shape[2] != 1 else grey[..., 0]
        # The image's full scale (255 for 8 bits): the default thresholds are
        # 0.1 and 0.2 of it, also for a colour image's float luminance.
        top = source_scale(pixels)[1]
        lo, hi = low, high
        if not quantiles:
            lo = 0.1 * top if low is None else low
            hi = 0.2 * top if high is None else high
        edges = canny(
            grey, sigma=sigma, low=lo, high=hi, l2=not l1, use_quantiles=quantiles, mode=mode, **border
        )
        # The mask at that full scale: 255 in the 8-bit file.
        dtype = pixels.dtype if pixels.dtype.kind in "uf" else "uint8"
        return (edges * top).astype(dtype), False

    return fn


def _eight_bit_by_default(name: str) -> None:
    """Make --depth default to 8 for command ``name``: a mask needs no more (a 16-bit input too)."""
    from .registry import FILTERS

    cmd = FILTERS[name]
    run = cmd.callback

    def callback(**kwargs):
        if kwargs.get("depth") is None:
            kwargs["depth"] = "8"
        return run(**kwargs)

    cmd.callback = callback
    for i, param in enumerate(cmd.params):
        if param.name == "depth":
            # A copy: the option object is shared by every command (its help was
            # once this one's in all of them).
            param = cmd.params[i] = copy.copy(param)
            param.help = "Output bit depth (default: 8, a 0/255 mask; in a chain, the input's)."


_eight_bit_by_default("canny")


@filter_command("log")
@click.option(
    "--sigma",
    type=FloatTupleType(),
    default=1.0,
    show_default=True,
    help="Standard deviation in pixels, or rows,columns.",
)
@_mode_option("reflect")
@cval_option
@missing_options
@one_call(check=lambda sigma, **_: _sigma_limit("'--sigma'", sigma))
def log_step(pixels, alpha, **options):
    """Laplacian of Gaussian (scipy.ndimage.gaussian_laplace): blobs and edges, signed.

    Negative responses clip to 0 in integer files: use --scale abs or
    --scale offset (or a float .npy/.tif output) to show them.

    \b
    Example:
      imgfilter log --sigma 2 --scale offset photo.png log.png
    """
    from ..filters.derivatives import gaussian_laplace

    return gaussian_laplace(pixels, alpha=alpha, **options)


def _dog_sigmas(low_sigma, high_sigma, **_) -> None:
    """--high-sigma (per axis, by default 1.6 x --low-sigma) is no smaller than --low-sigma and fits MAX_WINDOW."""
    lows = low_sigma if isinstance(low_sigma, tuple) else (low_sigma,)
    if high_sigma is None:
        highs = tuple(1.6 * s for s in lows)
    else:
        highs = high_sigma if isinstance(high_sigma, tuple) else (high_sigma,)
        if len(highs) == 1 and len(lows) == 2:
            highs = highs * 2
        if len(lows) == 1 and len(highs) == 2:
            lows = lows * 2
        if any(h < lo for lo, h in zip(lows, highs, strict=True)):
            raise click.BadParameter("must not be smaller than --low-sigma", param_hint="'--high-sigma'")
    _sigma_limit("'--high-sigma'", tuple(highs))


@filter_command("dog")
@click.option(
    "--low-sigma", type=FloatTupleType(), default=1.0, show_default=True, help="The smaller blur's sigma."
)
@click.option(
    "--high-sigma",
    type=FloatTupleType(),
    default=None,
    help="The larger blur's sigma (>= --low-sigma) [default: 1.6 x --low-sigma].",
)
@_mode_option("reflect")
@cval_option
@missing_options
@one_call(check=_dog_sigmas)
def dog_step(pixels, alpha, **options):
    """Difference of Gaussians G(low) - G(high): a band-pass, signed.

    Negative responses clip to 0 in integer files: use --scale abs or
    --scale offset to show them.

    \b
    Example:
      imgfilter dog --low-sigma 1 --high-sigma 4 --scale offset photo.png dog.png
    """
    from ..filters.derivatives import difference_of_gaussians

    return difference_of_gaussians(pixels, alpha=alpha, **options)


@filter_command("gradient")
@click.option(
    "--operator",
    type=click.Choice(["sobel", "scharr", "prewitt", "farid"]),
    default="sobel",
    show_default=True,
    help="Derivative kernels, as scikit-image's (normalized: the smoothing sums to 1).",
)
@click.option(
    "--output",
    type=click.Choice(["magnitude", "x", "y", "angle"]),
    default="magnitude",
    show_default=True,
    help="sqrt((x²+y²)/2), the x or y derivative, or atan2(y, x) in radians.",
)
@_mode_option("reflect")
@cval_option
@one_call()
def gradient_step(pixels, alpha, **options):
    """Image gradient by a named operator (skimage.filters.sobel/scharr/prewitt/farid).

    For --output x|y: negative responses clip to 0 in integer files; use
    --scale abs or --scale offset. Angles are radians: use --scale stretch.

    \b
    Example:
      imgfilter gradient --operator scharr photo.png edges.png
    """
    from ..filters.derivatives import gradient

    return gradient(pixels, alpha=alpha, **options)


# ------------------------------------------------- rank filters and morphology


def _rank_options(f):
    """The window, border and NaN options of the rank filters."""
    return _options(
        f,
        _size_option,
        footprint_options,
        _mode_option("reflect"),
        cval_option,
        nan_option("rank among the valid values"),
        mask_option,
    )


@filter_command("rank")
@_rank_options
@click.option(
    "--rank",
    "rank",
    type=click.IntRange(-(MAX_WINDOW**2), MAX_WINDOW**2 - 1),
    required=True,
    help="Which value of the sorted window (0: minimum; -1: maximum).",
)
@one_call(window=True)
def rank_step(pixels, alpha, **options):
    """Rank filter: the N-th smallest value (0 = minimum) of each window, as scipy.ndimage.rank_filter.

    Negative N counts from the top (-1 = maximum). Alpha passes through.

    \b
    Example:
      imgfilter rank --rank 2 --size 3 photo.png out.png
    """
    from ..filters.rank import rank_filter

    return rank_filter(pixels, alpha=alpha, **options)


@filter_command("percentile")
@_rank_options
@click.option(
    "--q",
    "q",
    type=FiniteFloat(-100, 100),
    required=True,
    help="Percentile 0..100 (negative: from the top, as SciPy).",
)
@one_call(window=True)
def percentile_step(pixels, alpha, **options):
    """Percentile filter: the q-th percentile of each window, as scipy.ndimage.percentile_filter.

    Alpha passes through.

    \b
    Example:
      imgfilter percentile --q 25 --footprint disk:3 photo.png out.png
    """
    from ..filters.rank import percentile

    return percentile(pixels, alpha=alpha, **options)


@filter_command("minimum")
@_rank_options
@one_call(window=True)
def minimum_step(pixels, alpha, **options):
    """Minimum filter (scipy.ndimage.minimum_filter): the smallest value of each window.

    \b
    Example:
      imgfilter minimum --footprint disk:2 photo.png out.png
    """
    from ..filters.rank import minimum

    return minimum(pixels, alpha=alpha, **options)


@filter_command("maximum")
@_rank_options
@one_call(window=True)
def maximum_step(pixels, alpha, **options):
    """Maximum filter (scipy.ndimage.maximum_filter): the largest value of each window.

    \b
    Example:
      imgfilter maximum --size 5 photo.png out.png
    """
    from ..filters.rank import maximum

    return maximum(pixels, alpha=alpha, **options)


MORPH_OPS = {
    "erode": "erode",
    "dilate": "dilate",
    "open": "opening",
    "close": "closing",
    "gradient": "morph_gradient",
    "tophat": "tophat",
    "blackhat": "blackhat",
}


def _morph_options(f):
    """The window, repetition, border and NaN options of grey morphology."""
    return _options(
        f,
        _size_option,
        footprint_options,
        click.option(
            "--iterations",
            type=click.IntRange(0, MAX_WINDOW),
            default=1,
            show_default=True,
            help="Repeat each erosion/dilation, as OpenCV's iterations.",
        ),
        click.option(
            "--mode",
            type=MORPH_MODE,
            default="reflect",
            show_default=True,
            help=MODE_HELP + " Also skip: only the image's own pixels count (OpenCV's morphology default).",
        ),
        cval_option,
        nan_option("skip them"),
        mask_option,
    )


@filter_command("morph")
@click.option(
    "--op",
    type=click.Choice(list(MORPH_OPS)),
    default="open",
    show_default=True,
    help="open, close, gradient (dilate - erode), tophat (image - open), blackhat (close - image), erode, dilate.",
)
@_morph_options
@one_call(window=True)
def morph_step(pixels, alpha, *, op, **options):
    """Grey morphology (OpenCV morphologyEx): opening, closing, gradient, top-hat, black-hat.

    Flat footprints; alpha passes through.

    \b
    Example:
      imgfilter morph --op open --footprint disk:5 photo.png out.png
      imgfilter morph --op tophat --footprint-file cross.txt scan.png out.png
    """
    from ..filters import morphology

    return getattr(morphology, MORPH_OPS[op])(pixels, alpha=alpha, **options)


@filter_command("erode")
@_morph_options
@one_call(window=True)
def erode_step(pixels, alpha, **options):
    """Grey erosion: the minimum under the footprint (cv2.erode, scipy grey_erosion).

    \b
    Example:
      imgfilter erode --footprint square:3 --iterations 2 mask.png thin.png
    """
    from ..filters.morphology import erode

    return erode(pixels, alpha=alpha, **options)


@filter_command("dilate")
@_morph_options
@one_call(window=True)
def dilate_step(pixels, alpha, **options):
    """Grey dilation: the maximum under the reflected footprint (cv2.dilate, scipy grey_dilation).

    \b
    Example:
      imgfilter dilate --footprint disk:2 mask.png thick.png
    """
    from ..filters.morphology import dilate

    return dilate(pixels, alpha=alpha, **options)
