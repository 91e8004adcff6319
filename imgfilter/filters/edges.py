"""Edge filters: named edge kernels and Sobel with gradient magnitude/angle."""

from __future__ import annotations

import numpy as np

from ..core.footprint import Footprint
from ..core.linear import SOBEL_OUTPUTS, sobel_gradients
from ..core.names import OptionError
from ..core.options import PaddingSpec, normalize_mode, plan_window
from ..kernels import KERNELS, get_kernel
from ._dispatch import dispatch
from ._docs import docfiller
from .correlate import correlate


def edges_footprint(shape, direction="vertical", *, padding="same", mode="reflect", **_):
    plan = plan_window(tuple(shape), get_kernel(direction).shape, padding, 1, 1)
    return Footprint(plan, normalize_mode(mode), padding_arg=True)


def sobel_footprint(shape, *, mode="reflect", **_):
    return Footprint(plan_window(tuple(shape), KERNELS["sobel_x"].shape, "same", 1, 1), normalize_mode(mode))


@dispatch(edges_footprint, alpha="pass")
@docfiller
def edges(
    image: np.ndarray,
    direction: str = "vertical",
    *,
    padding: PaddingSpec = "same",
    mode: str = "reflect",
    alpha: bool | None = None,
    threads: int | None = None,
    axes: object = None,
) -> np.ndarray:
    """Edge response of a named kernel (vertical and horizontal by default).

    ``"vertical"`` is [[1, 0, -1], [1, 0, -1], [1, 0, -1]]: a bright-to-dark
    step from left to right gives positive values. ``"horizontal"`` is its
    transpose (bright-to-dark from top to bottom is positive). Any name from
    :data:`imgfilter.kernels.KERNELS` works too (``"laplacian"``,
    ``"prewitt_x"``, ``"scharr_y"``, ``"roberts_x"``, ``"sharpen"``, ...).

    Parameters
    ----------
    %(image)s
    direction : str, optional
        Kernel name.
    padding, mode : optional
        As in :func:`imgfilter.correlate`.
    %(alpha_pass)s
    %(threads)s
    %(axes)s

    Returns
    -------
    ndarray
        Signed response, float32 (float64 for float64, 32- and 64-bit
        integer input).

    Examples
    --------
    >>> import numpy as np
    >>> step = np.zeros((6, 6)); step[:, :3] = 10
    >>> edges(step, padding="valid")[0]
    array([ 0., 30., 30.,  0.])
    """
    return correlate(image, get_kernel(direction), padding=padding, mode=mode, threads=threads)


@dispatch(sobel_footprint, alpha="pass", result="float")
@docfiller
def sobel(
    image: np.ndarray,
    *,
    output: str = "magnitude",
    mode: str = "reflect",
    alpha: bool | None = None,
    threads: int | None = None,
    axes: object = None,
) -> np.ndarray:
    """Sobel gradient: x, y, magnitude sqrt(x² + y²) or angle atan2(y, x).

    ``x`` is the correlation with [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
    (positive where intensity rises from left to right, as OpenCV's Sobel
    with dx=1), ``y`` its transpose (rises from top to bottom).

    Parameters
    ----------
    %(image)s
    output : {"magnitude", "x", "y", "angle"}, optional
        The angle is in radians, in (-pi, pi].
    %(mode)s
    %(alpha_pass)s
    %(threads)s
    %(axes)s

    Returns
    -------
    ndarray
        float32 (float64 for float64, 32- and 64-bit integer input), same
        shape as the image.

    Examples
    --------
    >>> import numpy as np
    >>> ramp = np.tile(np.arange(5.0), (5, 1))
    >>> sobel(ramp, output="x")[2]
    array([0., 8., 8., 8., 0.])
    """
    key = str(output).strip().lower()
    if key not in SOBEL_OUTPUTS:
        raise OptionError(f"output={output!r} is not valid; use one of {', '.join(SOBEL_OUTPUTS)}")
    kx, ky = KERNELS["sobel_x"], KERNELS["sobel_y"]
    if key == "x":
        return correlate(image, kx, mode=mode, threads=threads)
    if key == "y":
        return correlate(image, ky, mode=mode, threads=threads)
    # x, y and their combination in one compiled pass, no band copies.
    return sobel_gradients(image, normalize_mode(mode), 0.0, threads, key)
