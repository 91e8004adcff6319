"""The filter commands: each turns its options into a call of the Python API."""

from __future__ import annotations

import click

from .cli import MODE, MODE_HELP, filter_command, linear_option, load_mask, missing_options

SIGNED_NOTE = "Negative responses clip to 0 in integer files: use --scale abs or --scale offset to show them."


def _mode_option(default: str):
    return click.option("--mode", type=MODE, default=default, show_default=True, help=MODE_HELP)


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
def sobel_step(output, gray, mode):
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

    def fn(pixels, alpha):
        from .filters.color import luminance
        from .filters.edges import sobel

        if gray:
            pixels = luminance(pixels, alpha=alpha)
        return sobel(pixels, output=output, mode=mode, alpha=alpha), alpha

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
def edges_step(direction, padding, mode):
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

    def fn(pixels, alpha):
        from .filters.edges import edges

        return edges(pixels, direction, padding=padding, mode=mode, alpha=alpha), alpha

    return fn


def _odd(ctx, param, value):
    if value is not None and (value < 1 or value % 2 == 0):
        raise click.BadParameter(f"size must be odd and positive, got {value}")
    return value


@filter_command("median")
@click.option("--size", type=int, default=3, show_default=True, callback=_odd, help="Window side (odd).")
@_mode_option("reflect")
@missing_options
def median_step(size, mode, nan, mask_path):
    """Median filter: each pixel becomes the middle value of its size x size window.

    Removes salt-and-pepper noise and keeps edges; alpha is left as it is.

    \b
    Example:
      imgfilter median --size 5 noisy.png clean.png
    """

    def fn(pixels, alpha):
        from .filters.median import median

        return median(pixels, size, mode=mode, alpha=alpha, nan=nan, mask=load_mask(mask_path)), alpha

    return fn


@filter_command("blur")
@click.option("--size", type=click.IntRange(min=1), default=3, show_default=True, help="Window side.")
@_mode_option("reflect")
@missing_options
@linear_option
def blur_step(size, mode, nan, mask_path, linear):
    """Box blur: each pixel becomes the mean of its size x size window.

    \b
    Example:
      imgfilter blur --size 7 photo.png soft.png
    """

    def fn(pixels, alpha):
        from .filters.smooth import blur

        mask = load_mask(mask_path)
        return blur(pixels, size, mode=mode, alpha=alpha, nan=nan, mask=mask, linear=linear), alpha

    return fn


@filter_command("gaussian")
@click.option(
    "--sigma",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Standard deviation in pixels (> 0).",
)
@click.option(
    "--truncate",
    type=click.FloatRange(min=0, min_open=True),
    default=4.0,
    show_default=True,
    help="Kernel radius in sigmas.",
)
@_mode_option("reflect")
@missing_options
@linear_option
def gaussian_step(sigma, truncate, mode, nan, mask_path, linear):
    """Gaussian blur: a weighted mean whose weights fall off as a bell curve.

    \b
    Example:
      imgfilter gaussian --sigma 3 photo.png soft.png
    """

    def fn(pixels, alpha):
        from .filters.smooth import gaussian

        mask = load_mask(mask_path)
        out = gaussian(
            pixels, sigma, mode=mode, truncate=truncate, alpha=alpha, nan=nan, mask=mask, linear=linear
        )
        return out, alpha

    return fn


@filter_command("shift")
@click.option(
    "--dx",
    type=float,
    default=0.0,
    show_default=True,
    help="Pixels to move right (negative: left); fractions are bilinear.",
)
@click.option("--dy", type=float, default=0.0, show_default=True, help="Pixels to move down (negative: up).")
@_mode_option("constant")
@click.option("--cval", type=float, default=0.0, show_default=True, help="Fill value for --mode constant.")
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
    type=click.IntRange(min=0),
    default=9,
    show_default=True,
    help="Window diameter (0: from --sigma-space).",
)
@click.option(
    "--sigma-color",
    type=click.FloatRange(min=0, min_open=True),
    default=75.0,
    show_default=True,
    help="How fast weights fall with intensity difference (0..255 units for 8-bit).",
)
@click.option(
    "--sigma-space",
    type=click.FloatRange(min=0, min_open=True),
    default=75.0,
    show_default=True,
    help="How fast weights fall with distance (pixels).",
)
@_mode_option("reflect")
@missing_options
@linear_option
def bilateral_step(diameter, sigma_color, sigma_space, mode, nan, mask_path, linear):
    """Bilateral filter: a blur whose weights also fall with intensity difference, so edges survive.

    Matches OpenCV's bilateralFilter within one grey level.

    \b
    Example:
      imgfilter bilateral --diameter 9 --sigma-color 50 photo.png smooth.png
    """

    def fn(pixels, alpha):
        from .filters.bilateral import bilateral

        mask = load_mask(mask_path)
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
        )
        return out, alpha

    return fn
