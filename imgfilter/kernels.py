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
