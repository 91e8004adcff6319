"""The filter commands: each turns its options into a call of the Python API."""

from __future__ import annotations

import click

from .cli import (
    MAX_SHIFT,
    MAX_WINDOW,
    MODE,
    MODE_HELP,
    FiniteFloat,
    FloatTupleType,
    IntTupleType,
    cval_keyword,
    cval_option,
    filter_command,
    linear_option,
    mask_for,
    missing_options,
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

    from .filters.edges import sobel

    border = cval_keyword(sobel, "sobel", cval)

    def fn(pixels, alpha):
        from .filters.color import luminance

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
    from .kernels import get_kernel

    try:
        get_kernel(direction)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--direction'") from None

    from .filters.edges import edges

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

    from .filters.median import median

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

    from .filters.smooth import blur

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

    from .filters.smooth import gaussian

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
        from .filters.shift import shift

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

    from .filters.bilateral import bilateral

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
