"""Colour to grey: the luminance a ``--gray`` option takes first."""

from __future__ import annotations

import numpy as np

from ..core.dtypes import float_dtype
from ..core.footprint import Footprint
from ..core.options import plan_window
from ._dispatch import dispatch
from ._docs import docfiller

# ITU-R BT.601 luma weights, as Pillow's convert("L") and OpenCV's RGB2GRAY.
LUMA_WEIGHTS = (0.299, 0.587, 0.114)


def luminance_footprint(shape, **_):
    """Pixel by pixel: a 1 x 1 window."""
    return Footprint(plan_window(tuple(shape), (1,) * min(2, len(shape)), "same", 1, 1), "edge")


@dispatch(luminance_footprint, alpha="data", independent=False)
@docfiller
def luminance(
    image: np.ndarray, *, alpha: bool | None = None, threads: int | None = None, axes: object = None
) -> np.ndarray:
    """Grey level 0.299 R + 0.587 G + 0.114 B, unrounded (float32; float64 stays).

    Grey images pass through unchanged; alpha, if present, is kept as the
    second channel (LA), converted to the same float dtype. A
    ``dask.array.Array`` gives a lazy Dask array, pixel by pixel.

    Parameters
    ----------
    image : array_like or PIL image
        (H, W) grey or (H, W, C) colour.
    alpha : bool, optional
        Whether the last channel is alpha (default: not for a numpy array,
        which is data; yes for a PIL image with an alpha band; see
        :func:`imgfilter.core.alpha.resolve_alpha`).
    threads : int, optional
        Accepted as every function takes it; one pass of three multiply-adds a
        pixel (numpy's) runs on the calling thread.
    %(axes)s

    Examples
    --------
    >>> import numpy as np
    >>> luminance(np.array([[[255, 0, 0], [0, 0, 255]]], dtype=np.uint8)).round(2)
    array([[76.24, 29.07]], dtype=float32)
    """
    del threads  # memory-bound: a pool would not make it faster
    arr = image
    with_alpha = alpha
    if arr.ndim != 3 or arr.shape[2] - int(with_alpha) < 3:
        return arr
    dtype = float_dtype(arr.dtype)
    r, g, b = (dtype.type(w) for w in LUMA_WEIGHTS)
    luma = np.multiply(arr[..., 0], r, dtype=dtype)
    luma += np.multiply(arr[..., 1], g, dtype=dtype)
    luma += np.multiply(arr[..., 2], b, dtype=dtype)
    if with_alpha:
        return np.stack([luma, arr[..., -1].astype(dtype)], axis=-1)
    return luma
