"""Rank filters over flat footprints: rank, percentile, minimum, maximum.

Each is exactly its ``scipy.ndimage`` namesake (``rank_filter``,
``percentile_filter``, ``minimum_filter``, ``maximum_filter``) with the
matching border mode (:data:`imgfilter.core.names.SCIPY_MODE`: our
``"reflect"`` is SciPy's ``"mirror"``, our ``"symmetric"`` SciPy's
``"reflect"``), for every dtype (bool, 8- to 64-bit integers, float16 to
float64) and any footprint, channel by channel. The work is the compiled
engine's (:mod:`imgfilter.core.morph`): sliding histograms whose cost per
pixel does not grow with the window's area.

Missing pixels (NaN under ``nan="ignore"``, or ``mask=``): the pick is
made among the window's v valid values by the same rule as among the n
pixels of a full window, so a window with nothing missing gives exactly
SciPy's value. For :func:`percentile` that rule is SciPy's index
``int(v * q / 100)`` of the sorted valid values (``v - 1`` for q = 100):
``numpy.nanpercentile``-style selection of one of the values, never an
interpolation, namely the smallest valid value whose share of the valid
values at or below it *exceeds* q / 100 (``method="inverted_cdf"`` asks
for *at least* q / 100, and ``method="nearest"`` rounds ``q (v - 1) /
100``; both differ from SciPy's full windows). :func:`rank_filter` keeps
the rank's relative place, ``floor(rank * v / n)``: 0 stays the minimum and
n - 1 the maximum (``numpy.nanmin`` / ``numpy.nanmax``). A window with no
valid value gives NaN (float images) or keeps the pixel's own value
(integer images with ``mask=``, which cannot hold NaN).

``nan="propagate"`` makes every window that holds a NaN NaN (SciPy's result
there depends on its sort order); ``"keep"`` is ``"ignore"`` with NaN put
back where pixels were missing.

The public functions are built from one table (:data:`_RANKS`): one body,
one footprint declaration for the dispatcher, one set of parameter docs.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from ..core import morph
from ..core.bounds import check_footprint_size
from ..core.footprint import Footprint
from ..core.masked import validity
from ..core.names import OptionError, normalize_mode
from ..core.options import per_axis, plan_aligned
from ..footprints import as_footprint
from ._dispatch import dispatch
from ._docs import DOCS, fill


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
    box = per_axis(size, nd, "size")
    check_footprint_size("size", size, box)  # before a byte of it is allocated
    return np.ones(box, dtype=bool)


def centred(fp: np.ndarray) -> tuple[int, ...]:
    """SciPy's (and OpenCV's) anchor: index ``k // 2`` of each axis sits on the output pixel."""
    return tuple(k // 2 for k in fp.shape)


def symmetric_footprint(shape, extent: tuple[int, ...], before: tuple[int, ...], mode, cval) -> Footprint:
    """The dispatcher's footprint of a window reading ``before[a]`` pixels before
    the output and ``extent[a] - 1 - before[a]`` after it, widened to be
    symmetric: a same-size filter whose outputs sit on their inputs (alpha
    then passes through as it is; the Dask halo is at most one side longer)."""
    reach = tuple(max(b, e - 1 - b) for b, e in zip(before, extent, strict=True))
    return Footprint(plan_aligned(tuple(shape), tuple(2 * r + 1 for r in reach), reach), mode, float(cval))


def rank_footprint(shape, *, size=3, footprint=None, mode="reflect", cval=0.0, **_) -> Footprint:
    fp = spatial_footprint(tuple(shape), size, footprint)
    return symmetric_footprint(shape, fp.shape, centred(fp), normalize_mode(mode), cval)


def select(x, fp, k, table, *, mode, cval, nan, mask, threads, before=None) -> np.ndarray:
    """The value of rank ``k`` of each window of ``x`` (``fp`` anchored at
    ``before``, default the centre), ``table[v]`` among v valid values where
    pixels are missing: the one body of every rank filter (median's footprints too)."""
    return select_many(
        x, fp, k, [table], mode=mode, cval=cval, nan=nan, mask=mask, threads=threads, before=before
    )[0]


def select_many(x, fp, k, tables, *, mode, cval, nan, mask, threads, before=None) -> list[np.ndarray]:
    """:func:`select` for each of ``tables`` (the same ``k``): where none is a
    plain minimum or maximum, one pass (:func:`imgfilter.core.morph.ranks`:
    the image's conversion to keys, most of a float call, done once)."""
    before = centred(fp) if before is None else before
    n = int(fp.sum())
    counts = np.arange(n + 1)
    tables = [np.asarray(t, np.int64) for t in tables]
    lowest = [bool(np.all(t[1:] == 0)) for t in tables]
    highest = [bool(np.all(t[1:] == counts[1:] - 1)) for t in tables]
    if mask is not None:
        valid = validity(x, nan, mask)
        if len(tables) > 1 and not any(lowest) and not any(highest):
            res = morph.ranks(x, fp, k, mode, cval, before, 2, tables, threads, valid=valid)
            held = morph.seen(valid, fp, mode, before, True, threads)
            return [_finish_valid(r, x, fp, valid, mode, cval, nan, before, held, threads) for r in res]
        return [
            _select_valid(x, fp, k, t, lo, hi, valid, mode, cval, nan, before, threads)
            for t, lo, hi in zip(tables, lowest, highest, strict=True)
        ]
    ignore = nan != "propagate" and x.dtype.kind == "f"
    if not ignore:
        lowest, highest = [k == 0] * len(tables), [k == n - 1] * len(tables)
    if len(tables) > 1 and not any(lowest) and not any(highest):
        res = morph.ranks(x, fp, k, mode, cval, before, 2 if ignore else 1, tables, threads)
    else:
        res = []
        for t, lo, hi in zip(tables, lowest, highest, strict=True):
            if lo or hi:
                res.append(morph.minmax(x, fp, "min" if lo else "max", mode, cval, before, ignore, threads))
            else:
                res.append(morph.rank(x, fp, k, mode, cval, before, 2 if ignore else 1, t, threads))
    if nan == "keep" and x.dtype.kind == "f":
        gone = np.isnan(x)
        for r in res:
            r[gone] = np.nan
    return res


def _select_valid(x, fp, k, table, lowest, highest, valid, mode, cval, nan, before, threads):
    """:func:`select` with missing pixels marked by ``valid`` (any dtype)."""
    if lowest or highest:
        res, held = morph.masked_minmax(x, fp, "min" if lowest else "max", mode, cval, before, valid, threads)
    else:
        res = morph.rank(x, fp, k, mode, cval, before, 2, table, threads, valid=valid)
        held = morph.seen(valid, fp, mode, before, True, threads)
    return _finish_valid(res, x, fp, valid, mode, cval, nan, before, held, threads)


def _finish_valid(res, x, fp, valid, mode, cval, nan, before, held, threads):
    """A masked rank's result: NaN in a valid pixel spreads (``"propagate"``), then the hollow windows."""
    if x.dtype.kind == "f" and nan == "propagate":
        # A NaN in a valid pixel (the mask says which are missing) spreads, as IEEE.
        nans = np.isnan(x) & valid
        outside = mode == "constant" and bool(np.isnan(cval))
        if outside or nans.any():
            res[morph.seen(nans, fp, mode, before, outside, threads)] = np.nan
    return morph.finish_missing(res, x, valid, held, nan)


def check_rank(rank: object, n: int) -> int:
    if isinstance(rank, (bool, np.bool_)) or not isinstance(rank, (int, np.integer)):
        raise TypeError(f"rank must be an int, got {rank!r}")
    r = int(rank) + (n if rank < 0 else 0)
    if not 0 <= r < n:
        raise OptionError(f"rank={rank} is outside the footprint's {n} pixels (use -{n}..{n - 1})")
    return r


def percentile_index(q: float, n: int) -> int:
    """scipy.ndimage.percentile_filter's rank of percentile q among n values."""
    if q == 100.0:
        return n - 1
    return min(int(float(n) * q / 100.0), n - 1)


def check_q(q: object) -> float:
    if isinstance(q, (bool, np.bool_)) or not isinstance(q, (int, float, np.integer, np.floating)):
        raise TypeError(f"q must be a number, got {q!r}")
    q = float(q)
    if q < 0.0:
        q += 100.0
    if not 0.0 <= q <= 100.0:
        raise OptionError(f"q must lie in -100..100, got {q}")
    return q


def _ranks_of_rank(rank, n):
    r = check_rank(rank, n)
    return r, [0] + [r * v // n for v in range(1, n + 1)]


def _ranks_of_q(q, n):
    q = check_q(q)
    return percentile_index(q, n), [0] + [percentile_index(q, v) for v in range(1, n + 1)]


# Parameter docs of the rank filters (and morphology's), beyond the shared ones.
RANK_DOCS = {
    **DOCS,
    "size": """\
size : int or tuple of int, optional
    A box window (ignored when ``footprint`` is given).""",
    "footprint": """\
footprint : array_like of bool, optional
    Which pixels of the window count (:mod:`imgfilter.footprints`), 1-D
    or 2-D; index ``k // 2`` of each axis lies on the output pixel.""",
    "rank_mode": """\
mode : str, optional
    Border mode (``"reflect"``, ``"symmetric"``, ``"edge"``, ``"wrap"``,
    ``"constant"`` and their aliases).""",
    "cval": """\
cval : float, optional
    The value beyond a ``"constant"`` border; for integer images an
    integer the dtype holds (values never wrap).""",
    "nan_rank": """\
nan : {"propagate", "ignore", "keep"}, optional
    ``"ignore"``: NaN pixels are missing, and the pick is made among each
    window's valid values (the rule of the module's notes; NaN where none
    is valid); ``"keep"`` also puts NaN back where they were;
    ``"propagate"``: a NaN makes every window holding it NaN.""",
    "mask_rank": """\
mask : array_like of bool, optional
    True = valid (spatial shape, broadcast over channels, or the image's
    shape), any dtype: the missing pixels are left out of every window
    (beyond a ``"constant"`` border the outside counts as valid). A window
    with no valid pixel gives NaN (float images) or keeps the pixel's own
    value (integer images).""",
}

_RANK_RETURNS = """
    Returns
    -------
    ndarray
        The image's dtype and shape: each value is one of the input values
        (or ``cval``).
"""

# name -> (positional option (name, annotation, doc) or None, ranks(value, n) -> (k, table), doc, example)
_RANKS: dict[str, tuple[Any, Callable, str, str]] = {
    "rank_filter": (
        (
            "rank",
            "int",
            """rank : int
        0 .. n - 1 for a footprint of n pixels; negative counts from the
        top, as SciPy (-1 is the maximum).""",
        ),
        _ranks_of_rank,
        """The value of rank ``rank`` (0 = the smallest) under each window, per channel.

    Exactly ``scipy.ndimage.rank_filter`` with the matching mode (see the
    module notes) and the footprint over the image's rows and columns
    (SciPy's with a trailing axis of 1 for colour images). Missing pixels:
    rank ``floor(rank * v / n)`` among a window's v valid values.""",
        """>>> rank_filter(np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]]), 1, size=(1, 3))
    array([[2, 2, 2],
           [5, 5, 5],
           [8, 8, 8]])""",
    ),
    "percentile": (
        (
            "q",
            "float",
            """q : float
        The percentile, 0..100 (negative counts from 100).""",
        ),
        _ranks_of_q,
        """The ``q``-th percentile under each window, per channel: ``scipy.ndimage.percentile_filter``.

    The rank of q among n values is SciPy's: ``int(n * q / 100)`` (n - 1
    for q = 100). Missing pixels: the same rule over a window's v valid
    values (see the module notes for how it relates to
    ``numpy.nanpercentile``).""",
        """>>> percentile(np.arange(9, dtype=np.uint8).reshape(3, 3), 50, size=(1, 3), mode="edge")
    array([[0, 1, 2],
           [3, 4, 5],
           [6, 7, 8]], dtype=uint8)""",
    ),
    "minimum": (
        None,
        lambda _, n: (0, [0] * (n + 1)),
        """The minimum under each window, per channel: ``scipy.ndimage.minimum_filter``.

    A grey erosion (:func:`imgfilter.erode` adds OpenCV's border and
    ``iterations``). Missing pixels: the minimum of the valid ones
    (``numpy.nanmin``).""",
        """>>> minimum(np.array([5, 1, 7, 3], dtype=np.uint8), size=3, mode="edge")
    array([1, 1, 1, 3], dtype=uint8)""",
    ),
    "maximum": (
        None,
        lambda _, n: (n - 1, [0, *range(0, n)]),
        """The maximum under each window, per channel: ``scipy.ndimage.maximum_filter``.

    Missing pixels: the maximum of the valid ones (``numpy.nanmax``).""",
        """>>> maximum(np.array([5, 1, 7, 3], dtype=np.uint8), size=3, mode="edge")
    array([5, 7, 7, 7], dtype=uint8)""",
    ),
}

_KW = inspect.Parameter.KEYWORD_ONLY
_POS = inspect.Parameter.POSITIONAL_OR_KEYWORD

# The keyword-only options of every rank filter, in order: (name, default, annotation).
_OPTIONS = (
    ("size", 3, "int | tuple[int, ...]"),
    ("footprint", None, "np.ndarray | None"),
    ("mode", "reflect", "str"),
    ("cval", 0.0, "float"),
    ("nan", "propagate", "str"),
    ("mask", None, "object"),
    ("alpha", None, "bool | None"),
    ("threads", None, "int | None"),
    ("axes", None, "object"),
)


def public_signature(positional, options) -> inspect.Signature:
    """A public filter's signature: the image, its positional option, keyword-only options."""
    params = [inspect.Parameter("image", _POS, annotation="np.ndarray")]
    if positional is not None:
        params.append(inspect.Parameter(positional[0], _POS, annotation=positional[1]))
    params += [inspect.Parameter(name, _KW, default=d, annotation=a) for name, d, a in options]
    return inspect.Signature(params, return_annotation="np.ndarray")


def _rank_function(name: str) -> Callable[..., np.ndarray]:
    positional, ranks, summary, example = _RANKS[name]
    value_name = None if positional is None else positional[0]

    def body(image: np.ndarray, *args: Any, **options: Any) -> np.ndarray:
        value = options.pop(value_name) if value_name is not None else None
        options.pop("alpha", None)  # the dispatcher passes alpha through
        mode = normalize_mode(options.pop("mode"))
        fp = spatial_footprint(image.shape, options.pop("size"), options.pop("footprint"))
        cval = morph.check_cval(options.pop("cval"), image.dtype)
        k, table = ranks(value, int(fp.sum()))
        return select(image, fp, k, table, mode=mode, cval=cval, **options)

    value_doc = "" if positional is None else "\n    " + positional[2]
    body.__name__ = body.__qualname__ = name
    body.__module__ = __name__
    body.__doc__ = fill(
        f"""{summary}

    Parameters
    ----------
    %(image_missing)s{value_doc}
    %(size)s
    %(footprint)s
    %(rank_mode)s
    %(cval)s
    %(nan_rank)s
    %(mask_rank)s
    %(alpha_pass)s
    %(threads)s
    %(axes)s
{_RANK_RETURNS}
    Examples
    --------
    >>> import numpy as np
    {example}
    """,
        RANK_DOCS,
    )
    signature = public_signature(positional, _OPTIONS)
    body.__signature__ = signature  # type: ignore[attr-defined]
    body.__annotations__ = {
        **{p.name: p.annotation for p in signature.parameters.values()},
        "return": signature.return_annotation,
    }
    return dispatch(rank_footprint, alpha="pass", missing=True)(body)


rank_filter = _rank_function("rank_filter")
percentile = _rank_function("percentile")
minimum = _rank_function("minimum")
maximum = _rank_function("maximum")
