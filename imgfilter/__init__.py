"""imgfilter: classic image filters on one shared, vectorized convolution core.

The public API is re-exported lazily, so ``import imgfilter`` (and the CLI's
``--help``) stays light and never imports SciPy.

Examples
--------
>>> import numpy as np, imgfilter
>>> imgfilter.correlate(np.arange(9).reshape(3, 3), [[0, 1], [2, 3]], padding="valid")
array([[19., 25.],
       [37., 43.]])
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "correlate": "imgfilter.filters.correlate",
    "convolve": "imgfilter.filters.correlate",
    "conv2d": "imgfilter.filters.correlate",
    "output_shape": "imgfilter.core.options",
    "pool": "imgfilter.filters.pool",
    "edges": "imgfilter.filters.edges",
    "sobel": "imgfilter.filters.edges",
    "median": "imgfilter.filters.median",
    "blur": "imgfilter.filters.smooth",
    "gaussian": "imgfilter.filters.smooth",
    "shift": "imgfilter.filters.shift",
    "bilateral": "imgfilter.filters.bilateral",
    "luminance": "imgfilter.filters.color",
    "rank_filter": "imgfilter.filters.rank",
    "percentile": "imgfilter.filters.rank",
    "minimum": "imgfilter.filters.rank",
    "maximum": "imgfilter.filters.rank",
    "erode": "imgfilter.filters.morphology",
    "dilate": "imgfilter.filters.morphology",
    "opening": "imgfilter.filters.morphology",
    "closing": "imgfilter.filters.morphology",
    "morph_gradient": "imgfilter.filters.morphology",
    "tophat": "imgfilter.filters.morphology",
    "blackhat": "imgfilter.filters.morphology",
    "imread": "imgfilter.io",
    "imwrite": "imgfilter.io",
    "KERNELS": "imgfilter.kernels",
    "get_kernel": "imgfilter.kernels",
    "unsharp": "imgfilter.filters.sharpen",
    "local_var": "imgfilter.filters.local",
    "local_std": "imgfilter.filters.local",
    "local_range": "imgfilter.filters.local",
    "guided": "imgfilter.filters.guided",
    "canny": "imgfilter.filters.canny",
    "gaussian_derivative": "imgfilter.filters.derivatives",
    "gaussian_gradient_magnitude": "imgfilter.filters.derivatives",
    "gaussian_laplace": "imgfilter.filters.derivatives",
    "difference_of_gaussians": "imgfilter.filters.derivatives",
    "gradient": "imgfilter.filters.derivatives",
}

__all__ = [*sorted(_EXPORTS), "__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'imgfilter' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover
    from .core.options import output_shape
    from .filters.bilateral import bilateral
    from .filters.canny import canny
    from .filters.color import luminance
    from .filters.correlate import conv2d, convolve, correlate
    from .filters.derivatives import (
        difference_of_gaussians,
        gaussian_derivative,
        gaussian_gradient_magnitude,
        gaussian_laplace,
        gradient,
    )
    from .filters.edges import edges, sobel
    from .filters.guided import guided
    from .filters.local import local_range, local_std, local_var
    from .filters.median import median
    from .filters.morphology import blackhat, closing, dilate, erode, morph_gradient, opening, tophat
    from .filters.pool import pool
    from .filters.rank import maximum, minimum, percentile, rank_filter
    from .filters.sharpen import unsharp
    from .filters.shift import shift
    from .filters.smooth import blur, gaussian
    from .io import imread, imwrite
    from .kernels import KERNELS, get_kernel
