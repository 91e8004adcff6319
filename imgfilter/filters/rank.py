"""Rank filters over flat footprints: rank, percentile, minimum, maximum.

Each is exactly its ``scipy.ndimage`` namesake (``rank_filter``,
``percentile_filter``, ``minimum_filter``, ``maximum_filter``) with the
matching border mode (:data:`imgfilter.core.names.SCIPY_MODE`: our
``"reflect"`` is SciPy's ``"mirror"``, our ``"symmetric"`` SciPy's
``"reflect"``), for every dtype (bool, 8- to 64-bit integers, float16 to
float64) and any footprint, channel by channel. The work is the compiled
engine's (:mod:`imgfilter.core.morph`): sliding histograms whose cost per
pixel does not grow with the window's area.

NaN (float images): ``nan="propagate"`` makes every window that holds a NaN
NaN (SciPy's result there depends on its sort order); ``nan="ignore"``
takes the rank among the window's valid values, by the rule of each
function (see its ``nan``); ``"keep"`` also puts NaN back where it was.
"""

from __future__ import annotations

import numpy as np

from ..core import morph
from ..core.alpha import has_alpha, keep_alpha, resolve_alpha
from ..core.footprint import Footprint, chunkable
from ..core.masked import check_nan
from ..core.names import OptionError, normalize_mode
from ..core.options import check_image, per_axis, plan_aligned
from ..footprints import as_footprint


def spatial_footprint(shape: tuple[int, ...], size, footprint) -> np.ndarray:
    """The footprint over an image's leading axes: ``footprint`` checked, or a box of ``size``."""
    if footprint is not None:
        fp = as_footprint(footprint)
        if fp.ndim > 2 or fp.ndim > len(shape):
            raise OptionError(
                f"footprint must have 1 or 2 axes (at most the image's {len(shape)}), got shape {fp.shape}"
            )
        return fp
    nd = min(2, len(shape))
    return np.ones(per_axis(size, nd, "size"), dtype=bool)


def centred(fp: np.ndarray) -> tuple[int, ...]:
    """SciPy's (and OpenCV's) anchor: index ``k // 2`` of each axis sits on the output pixel."""
    return tuple(k // 2 for k in fp.shape)


def _footprint(shape, size=3, footprint=None, mode="reflect", cval=0.0, **_):
    fp = spatial_footprint(tuple(shape), size, footprint)
    return Footprint(plan_aligned(tuple(shape), fp.shape, centred(fp)), normalize_mode(mode), float(cval))


def _run(image, k_of, *, size, footprint, mode, cval, nan, alpha, threads, table_of=None):
    """One rank filter: validation, alpha, then one engine call.

    ``k_of(n)`` gives the rank for a footprint of n pixels, ``table_of(n)``
    the rank per valid count (``nan="ignore"``).
    """
    arr = check_image(image)
    use_alpha = has_alpha(arr, resolve_alpha(image, arr, alpha))
    fp = spatial_footprint(arr.shape, size, footprint)
    mode = normalize_mode(mode)
    nan = check_nan(nan)
    cval = morph.check_cval(cval, arr.dtype)
    n = int(fp.sum())
    k = k_of(n)
    before = centred(fp)
    table = np.asarray(table_of(n), np.int64) if table_of is not None else None
    ignore = nan != "propagate" and arr.dtype.kind == "f"

    def run(x: np.ndarray) -> np.ndarray:
        counts = np.arange(n + 1)
        if table is None or not ignore:
            lowest, highest = k == 0, k == n - 1
        else:
            lowest = bool(np.all(table[1:] == 0))
            highest = bool(np.all(table[1:] == counts[1:] - 1))
        if lowest or highest:
            res = morph.minmax(x, fp, "min" if lowest else "max", mode, cval, before, ignore, threads)
        else:
            res = morph.rank(x, fp, k, mode, cval, before, 2 if ignore else 1, table, threads)
        if nan == "keep" and x.dtype.kind == "f":
            res[np.isnan(x)] = np.nan
        return res

    return keep_alpha(arr, run, use_alpha)


def _rank_index(rank: object, n: int) -> int:
    if isinstance(rank, (bool, np.bool_)) or not isinstance(rank, (int, np.integer)):
        raise TypeError(f"rank must be an int, got {rank!r}")
    r = int(rank) + (n if rank < 0 else 0)
    if not 0 <= r < n:
        raise OptionError(f"rank={rank} is outside the footprint's {n} pixels (use -{n}..{n - 1})")
    return r


def _percentile_index(q: float, n: int) -> int:
    """scipy.ndimage.percentile_filter's rank of percentile q among n values."""
    if q == 100.0:
        return n - 1
    return min(int(float(n) * q / 100.0), n - 1)


def _check_q(q: object) -> float:
    if isinstance(q, (bool, np.bool_)) or not isinstance(q, (int, float, np.integer, np.floating)):
        raise TypeError(f"q must be a number, got {q!r}")
    q = float(q)
    if q < 0.0:
        q += 100.0
    if not 0.0 <= q <= 100.0:
        raise OptionError(f"q must lie in -100..100, got {q}")
    return q


@chunkable(_footprint)
def rank_filter(
    image: np.ndarray,
    rank: int,
    *,
    size: int | tuple[int, ...] = 3,
    footprint: np.ndarray | None = None,
    mode: str = "reflect",
    cval: float = 0.0,
    nan: str = "propagate",
    alpha: bool | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """The value of rank ``rank`` (0 = the smallest) under each window, per channel.

    Exactly ``scipy.ndimage.rank_filter`` with the matching mode (see the
    module notes) and the footprint over the image's rows and columns
    (SciPy's with a trailing axis of 1 for colour images).

    Parameters
    ----------
    image : array_like
        (H, W), (H, W, C) or (N,); any numeric or bool dtype. A
        ``dask.array.Array`` gives a lazy Dask array with the same values.
    rank : int
        0 .. n - 1 for a footprint of n pixels; negative counts from the
        top, as SciPy (-1 is the maximum).
    size : int or tuple of int, optional
        A box window (ignored when ``footprint`` is given).
    footprint : array_like of bool, optional
        Which pixels of the window count (:mod:`imgfilter.footprints`), 1-D
        or 2-D; index ``k // 2`` of each axis lies on the output pixel.
    mode : str, optional
        Border mode (``"reflect"``, ``"symmetric"``, ``"edge"``, ``"wrap"``,
        ``"constant"`` and their aliases).
    cval : float, optional
        The value beyond a ``"constant"`` border; for integer images an
        integer the dtype holds (values never wrap).
    nan : {"propagate", "ignore", "keep"}, optional
        Float images: ``"ignore"`` takes, among a window's v valid values,
        the rank ``floor(rank * v / n)`` (the same relative place: 0 stays
        the minimum, n - 1 the maximum; NaN when v = 0).
    alpha : bool, optional
        Whether the last channel is alpha (default: not for arrays); alpha
        passes through unfiltered.
    threads : int, optional
        Worker threads.

    Returns
    -------
    ndarray
        The image's dtype and shape: each value is one of the input values
        (or ``cval``).

    Examples
    --------
    >>> import numpy as np
    >>> rank_filter(np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]]), 1, size=(1, 3))
    array([[2, 2, 2],
           [5, 5, 5],
           [8, 8, 8]])
    """

    def table(n):
        r = _rank_index(rank, n)
        return [0] + [r * v // n for v in range(1, n + 1)]

    return _run(
        image,
        lambda n: _rank_index(rank, n),
        size=size,
        footprint=footprint,
        mode=mode,
        cval=cval,
        nan=nan,
        alpha=alpha,
        threads=threads,
        table_of=table,
    )


@chunkable(_footprint)
def percentile(
    image: np.ndarray,
    q: float,
    *,
    size: int | tuple[int, ...] = 3,
    footprint: np.ndarray | None = None,
    mode: str = "reflect",
    cval: float = 0.0,
    nan: str = "propagate",
    alpha: bool | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """The ``q``-th percentile under each window, per channel: ``scipy.ndimage.percentile_filter``.

    The rank of q among n values is SciPy's: ``int(n * q / 100)`` (n - 1
    for q = 100); negative q counts from 100. With ``nan="ignore"`` the same
    rule runs over the window's v valid values (``int(v * q / 100)``, the
    ``numpy.percentile(method="lower")``-like nearest-below pick; NaN when
    v = 0). Other parameters as :func:`rank_filter`.

    Examples
    --------
    >>> import numpy as np
    >>> percentile(np.arange(9, dtype=np.uint8).reshape(3, 3), 50, size=(1, 3), mode="edge")
    array([[0, 1, 2],
           [3, 4, 5],
           [6, 7, 8]], dtype=uint8)
    """
    q = _check_q(q)
    return _run(
        image,
        lambda n: _percentile_index(q, n),
        size=size,
        footprint=footprint,
        mode=mode,
        cval=cval,
        nan=nan,
        alpha=alpha,
        threads=threads,
        table_of=lambda n: [0] + [_percentile_index(q, v) for v in range(1, n + 1)],
    )


@chunkable(_footprint)
def minimum(
    image: np.ndarray,
    *,
    size: int | tuple[int, ...] = 3,
    footprint: np.ndarray | None = None,
    mode: str = "reflect",
    cval: float = 0.0,
    nan: str = "propagate",
    alpha: bool | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """The minimum under each window, per channel: ``scipy.ndimage.minimum_filter``.

    A grey erosion (:func:`imgfilter.erode` adds OpenCV's border and
    ``iterations``). ``nan="ignore"``: the minimum of the valid values.
    Other parameters as :func:`rank_filter`.

    Examples
    --------
    >>> import numpy as np
    >>> minimum(np.array([5, 1, 7, 3], dtype=np.uint8), size=3, mode="edge")
    array([1, 1, 1, 3], dtype=uint8)
    """
    return _run(
        image,
        lambda n: 0,
        size=size,
        footprint=footprint,
        mode=mode,
        cval=cval,
        nan=nan,
        alpha=alpha,
        threads=threads,
        table_of=lambda n: [0] * (n + 1),
    )


@chunkable(_footprint)
def maximum(
    image: np.ndarray,
    *,
    size: int | tuple[int, ...] = 3,
    footprint: np.ndarray | None = None,
    mode: str = "reflect",
    cval: float = 0.0,
    nan: str = "propagate",
    alpha: bool | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """The maximum under each window, per channel: ``scipy.ndimage.maximum_filter``.

    ``nan="ignore"``: the maximum of the valid values. Other parameters as
    :func:`rank_filter`.

    Examples
    --------
    >>> import numpy as np
    >>> maximum(np.array([5, 1, 7, 3], dtype=np.uint8), size=3, mode="edge")
    array([5, 7, 7, 7], dtype=uint8)
    """
    return _run(
        image,
        lambda n: n - 1,
        size=size,
        footprint=footprint,
        mode=mode,
        cval=cval,
        nan=nan,
        alpha=alpha,
        threads=threads,
        table_of=lambda n: [0, *range(0, n)],
    )
