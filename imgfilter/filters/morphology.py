"""Grey morphology with flat footprints: erode, dilate, opening, closing,
morph_gradient, tophat, blackhat.

Binary images are grey images with two values (bool in, bool out). The
definitions are scipy.ndimage's (``grey_erosion``, ``grey_dilation``,
``grey_opening``, ``grey_closing``, ``morphological_gradient``,
``white_tophat``, ``black_tophat``) and OpenCV's (``erode``, ``dilate``,
``morphologyEx``), equal to both where they agree:

- erosion is the minimum under the footprint, anchored at index ``k // 2``
  of each axis (both peers);
- dilation is the maximum under the *reflected* footprint (the
  mathematical definition, SciPy's and scikit-image's). OpenCV's
  ``dilate`` does not reflect: ``cv2.dilate(x, k)`` is ``dilate(x,
  footprint=k[::-1, ::-1])`` for odd sizes; for symmetric footprints (all
  of :mod:`imgfilter.footprints`' odd ones) the two coincide;
- ``iterations=`` as OpenCV: a footprint that is a full rectangle grows to
  one rectangle of ``k + (iterations - 1) (k - 1)`` (one pass, OpenCV's
  shortcut), any other is applied ``iterations`` times; 0 returns a copy.
  Opening erodes ``iterations`` times, then dilates as many times.
- borders: the library's modes (default ``"reflect"``: OpenCV's
  ``BORDER_REFLECT_101``, SciPy's ``"mirror"``), plus ``mode="skip"``,
  OpenCV's default border for morphology (``morphologyDefaultBorderValue``):
  the outside is a constant that never wins (+inf, or the dtype's maximum,
  for an erosion; -inf or the minimum for a dilation), i.e. only the
  image's own pixels count.
- differences (gradient, top hats) saturate at the dtype's range as
  OpenCV's do (SciPy's wrap; they agree whenever the result is in range,
  which it is for footprints holding their centre).

Alpha, when there is one (``alpha=True``), passes through unfiltered.
"""

from __future__ import annotations

import numpy as np

from ..core import morph
from ..core.alpha import has_alpha, resolve_alpha
from ..core.footprint import Footprint, chunkable
from ..core.masked import check_nan
from ..core.names import OptionError, normalize_mode
from ..core.options import check_image, plan_aligned
from .rank import centred, spatial_footprint

SKIP = "skip"


def _mode(mode: str) -> str:
    if isinstance(mode, str) and mode.strip().lower() == SKIP:
        return SKIP
    return normalize_mode(mode)


def _extreme(op: str, dtype: np.dtype):
    """The value that never wins a min (op "min") or max: OpenCV's default border."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return op == "min"
    if dtype.kind == "f":
        return np.inf if op == "min" else -np.inf
    info = np.iinfo(dtype)
    return int(info.max if op == "min" else info.min)


def _pass_footprint(shape, op="min", footprint=None, before=(), mode="reflect", cval=0.0, **_):
    if mode == SKIP:
        mode, cval = "constant", (np.inf if op == "min" else -np.inf)
    return Footprint(plan_aligned(tuple(shape), footprint.shape, before), mode, float(cval))


@chunkable(_pass_footprint)
def _pass(image, *, op, footprint, before, mode, cval, nan, threads):
    """One min or max pass (the unit Dask chunks: each pass takes its own halo)."""
    arr = np.asarray(image)
    if mode == SKIP:
        mode, cval = "constant", _extreme(op, arr.dtype)
    else:
        cval = morph.check_cval(cval, arr.dtype)
    ignore = nan != "propagate" and arr.dtype.kind == "f"
    res = morph.minmax(arr, footprint, op, mode, cval, before, ignore, threads)
    if nan == "keep" and arr.dtype.kind == "f":
        res[np.isnan(arr)] = np.nan
    return res


def _iterations(value: object) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"iterations must be an int, got {value!r}")
    if value < 0:
        raise OptionError(f"iterations must be >= 0, got {value}")
    return int(value)


class _Setup:
    """The checked options of one call, shared by the passes it makes."""

    def __init__(self, image, footprint, size, iterations, mode, cval, nan, alpha, threads):
        self.arr = image if _is_dask(image) else check_image(image)
        self.alpha = has_alpha(self.arr, resolve_alpha(image, self.arr, alpha))
        self.fp = spatial_footprint(self.arr.shape, size, footprint)
        self.iterations = _iterations(iterations)
        self.mode = _mode(mode)
        self.cval = cval
        self.nan = check_nan(nan)
        self.threads = threads

    def colour(self):
        return self.arr[..., :-1] if self.alpha else self.arr

    def finish(self, res):
        if not self.alpha:
            return res
        return np.concatenate([res, self.arr[..., -1:]], axis=-1)

    def apply(self, x, op: str):
        """``iterations`` erosions (op "min") or dilations ("max") of x, OpenCV's way."""
        fp = (
            self.fp if op == "min" else np.ascontiguousarray(self.fp[(slice(None, None, -1),) * self.fp.ndim])
        )
        one = centred(fp) if op == "min" else tuple(k - 1 - k // 2 for k in fp.shape)
        n = self.iterations
        if n == 0 or fp.size == 1:
            return x.copy()
        if n > 1 and fp.all():
            fp = np.ones(tuple(k + (n - 1) * (k - 1) for k in fp.shape), dtype=bool)
            one = tuple(n * b for b in one)
            n = 1
        for _ in range(n):
            x = _pass(
                x,
                op=op,
                footprint=fp,
                before=one,
                mode=self.mode,
                cval=self.cval,
                nan=self.nan,
                threads=self.threads,
            )
        return x


def _is_dask(value) -> bool:
    from ..core.footprint import is_dask

    return is_dask(value)


def subtract(a, b):
    """a - b, saturated at the dtype's range (OpenCV's rule; values never wrap); bool: a and not b."""
    dtype = a.dtype
    if dtype.kind == "b":
        return a & ~b
    if dtype.kind == "u":
        return np.where(a >= b, a - b, 0).astype(dtype, copy=False)
    if dtype.kind == "i":
        d = a - b
        info = np.iinfo(dtype)
        over = ((a ^ b) & (a ^ d)) < 0
        return np.where(over, np.where(a < b, info.min, info.max), d).astype(dtype, copy=False)
    return a - b


_PARAMS = """
    Parameters
    ----------
    image : array_like
        (H, W), (H, W, C) or (N,), any numeric or bool dtype; a
        ``dask.array.Array`` gives a lazy Dask array with the same values.
    footprint : array_like of bool, optional
        Flat structuring element (:mod:`imgfilter.footprints`); default a
        ``size`` box.
    size : int or tuple of int, optional
        The box's side(s) when no footprint is given.
    iterations : int, optional
        As OpenCV (see the module notes).
    mode : str, optional
        Border mode, or ``"skip"`` (OpenCV's default: only pixels inside count).
    cval : float, optional
        The value beyond a ``"constant"`` border (integers: one the dtype holds).
    nan : {"propagate", "ignore", "keep"}, optional
        Float images: a NaN under the footprint gives NaN, or is left out.
    alpha : bool, optional
        Whether the last channel is alpha; it passes through unfiltered.
    threads : int, optional
        Worker threads.

    Returns
    -------
    ndarray
        The image's dtype and shape.
"""


def _doc(fn):
    fn.__doc__ = fn.__doc__.replace("    PARAMS\n", _PARAMS)
    return fn


def _setup(image, footprint, size, iterations, mode, cval, nan, alpha, threads) -> _Setup:
    return _Setup(image, footprint, size, iterations, mode, cval, nan, alpha, threads)


@_doc
def erode(
    image: np.ndarray,
    *,
    footprint: np.ndarray | None = None,
    size: int | tuple[int, ...] = 3,
    iterations: int = 1,
    mode: str = "reflect",
    cval: float = 0.0,
    nan: str = "propagate",
    alpha: bool | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """Grey erosion: the minimum under the footprint (``scipy.ndimage.grey_erosion``, ``cv2.erode``).
    PARAMS
    Examples
    --------
    >>> import numpy as np
    >>> erode(np.array([[9, 9, 9], [9, 1, 9], [9, 9, 9]], dtype=np.uint8), size=(1, 3), mode="skip")
    array([[9, 9, 9],
           [1, 1, 1],
           [9, 9, 9]], dtype=uint8)
    """
    s = _setup(image, footprint, size, iterations, mode, cval, nan, alpha, threads)
    return s.finish(s.apply(s.colour(), "min"))


@_doc
def dilate(
    image: np.ndarray,
    *,
    footprint: np.ndarray | None = None,
    size: int | tuple[int, ...] = 3,
    iterations: int = 1,
    mode: str = "reflect",
    cval: float = 0.0,
    nan: str = "propagate",
    alpha: bool | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """Grey dilation: the maximum under the reflected footprint (``scipy.ndimage.grey_dilation``).

    ``cv2.dilate`` with a symmetric footprint gives the same (see the module notes).
    PARAMS
    Examples
    --------
    >>> import numpy as np
    >>> dilate(np.array([0, 0, 5, 0, 0], dtype=np.uint8), footprint=[1, 1, 0])
    array([0, 5, 5, 0, 0], dtype=uint8)
    """
    s = _setup(image, footprint, size, iterations, mode, cval, nan, alpha, threads)
    return s.finish(s.apply(s.colour(), "max"))


@_doc
def opening(
    image: np.ndarray,
    *,
    footprint: np.ndarray | None = None,
    size: int | tuple[int, ...] = 3,
    iterations: int = 1,
    mode: str = "reflect",
    cval: float = 0.0,
    nan: str = "propagate",
    alpha: bool | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """Opening: dilation of the erosion (``grey_opening``, ``cv2.MORPH_OPEN``); removes bright specks.
    PARAMS
    Examples
    --------
    >>> import numpy as np
    >>> opening(np.array([0, 0, 7, 0, 3, 3, 3, 0], dtype=np.uint8), size=3, mode="skip")
    array([0, 0, 0, 0, 3, 3, 3, 0], dtype=uint8)
    """
    s = _setup(image, footprint, size, iterations, mode, cval, nan, alpha, threads)
    return s.finish(s.apply(s.apply(s.colour(), "min"), "max"))


@_doc
def closing(
    image: np.ndarray,
    *,
    footprint: np.ndarray | None = None,
    size: int | tuple[int, ...] = 3,
    iterations: int = 1,
    mode: str = "reflect",
    cval: float = 0.0,
    nan: str = "propagate",
    alpha: bool | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """Closing: erosion of the dilation (``grey_closing``, ``cv2.MORPH_CLOSE``); fills dark specks.
    PARAMS
    Examples
    --------
    >>> import numpy as np
    >>> closing(np.array([5, 5, 0, 5, 5], dtype=np.uint8), size=3)
    array([5, 5, 5, 5, 5], dtype=uint8)
    """
    s = _setup(image, footprint, size, iterations, mode, cval, nan, alpha, threads)
    return s.finish(s.apply(s.apply(s.colour(), "max"), "min"))


@_doc
def morph_gradient(
    image: np.ndarray,
    *,
    footprint: np.ndarray | None = None,
    size: int | tuple[int, ...] = 3,
    iterations: int = 1,
    mode: str = "reflect",
    cval: float = 0.0,
    nan: str = "propagate",
    alpha: bool | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """Dilation minus erosion (``morphological_gradient``, ``cv2.MORPH_GRADIENT``): edges.
    PARAMS
    Examples
    --------
    >>> import numpy as np
    >>> morph_gradient(np.array([0, 0, 4, 4, 4], dtype=np.uint8), size=3)
    array([0, 4, 4, 0, 0], dtype=uint8)
    """
    s = _setup(image, footprint, size, iterations, mode, cval, nan, alpha, threads)
    x = s.colour()
    return s.finish(subtract(s.apply(x, "max"), s.apply(x, "min")))


@_doc
def tophat(
    image: np.ndarray,
    *,
    footprint: np.ndarray | None = None,
    size: int | tuple[int, ...] = 3,
    iterations: int = 1,
    mode: str = "reflect",
    cval: float = 0.0,
    nan: str = "propagate",
    alpha: bool | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """The image minus its opening (``white_tophat``, ``cv2.MORPH_TOPHAT``): bright details.
    PARAMS
    Examples
    --------
    >>> import numpy as np
    >>> tophat(np.array([1, 1, 9, 1, 1], dtype=np.uint8), size=3)
    array([0, 0, 8, 0, 0], dtype=uint8)
    """
    s = _setup(image, footprint, size, iterations, mode, cval, nan, alpha, threads)
    x = s.colour()
    return s.finish(subtract(x, s.apply(s.apply(x, "min"), "max")))


@_doc
def blackhat(
    image: np.ndarray,
    *,
    footprint: np.ndarray | None = None,
    size: int | tuple[int, ...] = 3,
    iterations: int = 1,
    mode: str = "reflect",
    cval: float = 0.0,
    nan: str = "propagate",
    alpha: bool | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """The closing minus the image (``black_tophat``, ``cv2.MORPH_BLACKHAT``): dark details.
    PARAMS
    Examples
    --------
    >>> import numpy as np
    >>> blackhat(np.array([9, 9, 1, 9, 9], dtype=np.uint8), size=3)
    array([0, 0, 8, 0, 0], dtype=uint8)
    """
    s = _setup(image, footprint, size, iterations, mode, cval, nan, alpha, threads)
    x = s.colour()
    return s.finish(subtract(s.apply(s.apply(x, "max"), "min"), x))
