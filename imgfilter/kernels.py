"""Named kernels, kept as data.

Every kernel here is for :func:`imgfilter.correlate` (not flipped), so the
sign conventions below hold as written. ``imgfilter kernels`` prints them and
``imgfilter conv --kernel NAME`` uses them.
"""

from __future__ import annotations

import numpy as np

from .core.names import OptionError

_SMOOTH = np.array([1.0, 2.0, 1.0])
_DERIV = np.array([-1.0, 0.0, 1.0])

KERNELS: dict[str, np.ndarray] = {
    # Bright-to-dark from left to right gives positive values (CNN course convention).
    "vertical": np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]], dtype=float),
    "horizontal": np.array([[1, 1, 1], [0, 0, 0], [-1, -1, -1]], dtype=float),
    # Derivative kernels: positive where intensity rises left-to-right (x) or top-to-bottom (y).
    "sobel_x": np.outer(_SMOOTH, _DERIV),
    "sobel_y": np.outer(_DERIV, _SMOOTH),
    "prewitt_x": np.outer(np.ones(3), _DERIV),
    "prewitt_y": np.outer(_DERIV, np.ones(3)),
    "scharr_x": np.outer([3.0, 10.0, 3.0], _DERIV),
    "scharr_y": np.outer(_DERIV, [3.0, 10.0, 3.0]),
    "roberts_x": np.array([[1, 0], [0, -1]], dtype=float),
    "roberts_y": np.array([[0, 1], [-1, 0]], dtype=float),
    "laplacian": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=float),
    "laplacian8": np.array([[1, 1, 1], [1, -8, 1], [1, 1, 1]], dtype=float),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float),
    "emboss": np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], dtype=float),
    "outline": np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], dtype=float),
    "box3": np.full((3, 3), 1.0 / 9.0),
    "gaussian3": np.outer(_SMOOTH, _SMOOTH) / 16.0,
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=float),
}

for _k in KERNELS.values():
    _k.setflags(write=False)

DESCRIPTIONS: dict[str, str] = {
    "vertical": "vertical edges; bright-to-dark left to right is positive",
    "horizontal": "horizontal edges; bright-to-dark top to bottom is positive",
    "sobel_x": "Sobel d/dx (OpenCV Sobel dx=1)",
    "sobel_y": "Sobel d/dy (OpenCV Sobel dy=1)",
    "prewitt_x": "Prewitt d/dx",
    "prewitt_y": "Prewitt d/dy",
    "scharr_x": "Scharr d/dx (OpenCV Scharr dx=1)",
    "scharr_y": "Scharr d/dy (OpenCV Scharr dy=1)",
    "roberts_x": "Roberts cross, main diagonal",
    "roberts_y": "Roberts cross, anti-diagonal",
    "laplacian": "Laplacian, 4-neighbour",
    "laplacian8": "Laplacian, 8-neighbour",
    "sharpen": "sharpen (identity plus negative Laplacian)",
    "emboss": "emboss, light from the top left",
    "outline": "outline (negative 8-neighbour Laplacian)",
    "box3": "3x3 mean",
    "gaussian3": "3x3 binomial blur",
    "identity": "leaves the image as it is",
}


def get_kernel(name: str) -> np.ndarray:
    """Return a copy of the named kernel.

    Examples
    --------
    >>> get_kernel("laplacian")
    array([[ 0.,  1.,  0.],
           [ 1., -4.,  1.],
           [ 0.,  1.,  0.]])
    """
    key = name.strip().lower().replace("-", "_")
    if key not in KERNELS:
        raise OptionError(f"unknown kernel {name!r}; known kernels: {', '.join(KERNELS)}")
    return KERNELS[key].copy()


# ---------------------------------------------------------------- derivatives
# 1-D factors of the gradient operators, as (smoothing, derivative) for
# :func:`imgfilter.correlate` (the derivative is positive where intensity
# rises). The smoothing factors sum to 1, as scikit-image's do, so the
# operators estimate twice the central difference in the image's units:
# ``imgfilter.sobel`` is the unnormalized Sobel (4 x these).
_CENTRAL = np.array([-1.0, 0.0, 1.0])
# Farid & Simoncelli (2004), table 1, 5-tap pair, to the digits of the
# authors' code (scikit-image uses the same values).
_FARID_SMOOTH = np.array(
    [0.0376593171958126, 0.249153396177344, 0.426374573253687, 0.249153396177344, 0.0376593171958126]
)
_FARID_DERIV = np.array([-0.109603762960254, -0.276690988455557, 0.0, 0.276690988455557, 0.109603762960254])

OPERATORS: dict[str, tuple[np.ndarray, np.ndarray]] = {
    "sobel": (np.array([1.0, 2.0, 1.0]) / 4, _CENTRAL),
    "scharr": (np.array([3.0, 10.0, 3.0]) / 16, _CENTRAL),
    "prewitt": (np.full(3, 1 / 3), _CENTRAL),
    "farid": (_FARID_SMOOTH, _FARID_DERIV),
}
for _pair in OPERATORS.values():
    for _k in _pair:
        _k.setflags(write=False)


def gaussian_kernel1d(sigma: float, order: int, radius: int) -> np.ndarray:
    """The 1-D Gaussian derivative kernel of scipy.ndimage, ``2 * radius + 1`` taps.

    ``order`` 0 is the normalized Gaussian phi(x); 1 and 2 are its first and
    second derivatives, the polynomial q(x) times phi(x) with q = -x / s² and
    x² / s⁴ - 1 / s² (s = sigma). Like scipy's kernel this is for
    *convolution*: correlate with its reverse (see
    :func:`imgfilter.gaussian_derivative`). The arithmetic follows SciPy's
    polynomial evaluation step for step, so the taps are equal to its bits.

    Examples
    --------
    >>> np.round(gaussian_kernel1d(1.0, 1, 2), 4)
    array([ 0.109 ,  0.2442,  0.    , -0.2442, -0.109 ])
    """
    if order not in (0, 1, 2):
        raise OptionError(f"order must be 0, 1 or 2, got {order!r}")
    x = np.arange(-radius, radius + 1)
    s2 = sigma * sigma
    phi = np.exp(-0.5 / s2 * x**2)
    phi = phi / phi.sum()
    if order == 0:
        return phi
    # q(x) -> q'(x) + q(x) p'(x) with p'(x) = -x / s²: the coefficients of
    # q (constant term first) after one and two steps are [0, c] and
    # [c, 0, c * c], c = 1 / -s². They are evaluated as one matrix product
    # of the powers of x, as SciPy does (BLAS may fuse its multiply-adds).
    c = 1.0 / -s2
    coeffs = np.array([0.0, c]) if order == 1 else np.array([c, 0.0, c * c])
    q = (x[:, None] ** np.arange(order + 1)).dot(coeffs)
    return q * phi
