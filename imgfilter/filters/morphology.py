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
  image's own pixels count. Every pass applies the border to its own
  input (so a Dask block of a composite reads the whole composite's reach).
- differences (gradient, top hats) saturate at the dtype's range as
  OpenCV's do (SciPy's wrap; they agree whenever the result is in range,
  which it is for footprints holding their centre).
- missing pixels (``nan="ignore"``, ``mask=``): each pass takes the min or
  max of the valid pixels under its window; a pass's output whose window
  held none is missing for the next pass. Where the result has no valid
  input (a top hat's own pixel missing included) it is NaN (float images)
  or the pixel's own value (integer images).

Alpha, when there is one (``alpha=True``), passes through unfiltered.

The seven public functions are built from one table (:data:`_OPS`): one
body, one footprint declaration for the dispatcher, one set of parameter docs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from ..core import morph
from ..core.masked import validity
from ..core.names import OptionError, normalize_mode
from ._dispatch import dispatch
from ._docs import fill
from .rank import RANK_DOCS, centred, public_signature, spatial_footprint, symmetric_footprint

SKIP = "skip"


def _mode(mode: str) -> str:
    if isinstance(mode, str) and mode.strip().lower() == SKIP:
        return SKIP
    return normalize_mode(mode)


def _iterations(value: object) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"iterations must be an int, got {value!r}")
    if value < 0:
        raise OptionError(f"iterations must be >= 0, got {value}")
    return int(value)


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


class _Passes:
    """One call's checked options and its min/max passes."""

    def __init__(self, shape, dtype, footprint, size, iterations, mode, cval, nan, threads):
        self.fp = spatial_footprint(shape, size, footprint)
        self.iterations = _iterations(iterations)
        self.mode = _mode(mode)
        self.cval = cval if self.mode == SKIP or dtype is None else morph.check_cval(cval, dtype)
        self.nan = nan
        self.threads = threads

    def geometry(self, op: str) -> tuple[np.ndarray, tuple[int, ...], int]:
        """(footprint, its anchor, passes) of ``iterations`` erosions (op "min") or dilations."""
        fp = self.fp
        if op == "max":
            fp = np.ascontiguousarray(fp[(slice(None, None, -1),) * fp.ndim])
        one = centred(fp) if op == "min" else tuple(k - 1 - k // 2 for k in fp.shape)
        n = self.iterations
        if n == 0 or fp.size == 1:
            return fp, one, 0
        if n > 1 and fp.all():
            # OpenCV's shortcut: a full rectangle grows to one rectangle.
            return np.ones(tuple(k + (n - 1) * (k - 1) for k in fp.shape), bool), tuple(n * b for b in one), 1
        return fp, one, n

    def reach(self, ops: tuple[str, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """(before, after) read by a chain of passes, per axis."""
        nd = self.fp.ndim
        before, after = [0] * nd, [0] * nd
        for op in ops:
            fp, one, n = self.geometry(op)
            for a in range(nd):
                before[a] += n * one[a]
                after[a] += n * (fp.shape[a] - 1 - one[a])
        return tuple(before), tuple(after)

    def apply(self, x: np.ndarray, op: str, valid: np.ndarray | None):
        """(``iterations`` erosions or dilations of x, the validity of the result)."""
        fp, one, n = self.geometry(op)
        if n == 0:
            return x.copy(), valid
        mode, cval = self.mode, self.cval
        if mode == SKIP:
            mode, cval = "constant", morph.extreme(op, x.dtype)
        ignore = self.nan != "propagate" and x.dtype.kind == "f"
        for _ in range(n):
            if valid is None:
                x = morph.minmax(x, fp, op, mode, cval, one, ignore, self.threads)
            else:
                x, valid = morph.masked_minmax(
                    x, fp, op, mode, cval, one, valid, self.threads, outside=self.mode != SKIP
                )
        return x, valid

    def apply_chain(self, x: np.ndarray, term: tuple[str, ...], valid: np.ndarray | None):
        """The passes of ``term`` in order (none: the image itself)."""
        for op in term:
            x, valid = self.apply(x, op, valid)
        return x, valid


# name -> (the passes' chain per term, how the terms combine, summary, example).
# A term is a chain of passes, "min" (erosions) or "max" (dilations), applied in order.
_OPS: dict[str, tuple[tuple[tuple[str, ...], ...], str, str, str]] = {
    "erode": (
        (("min",),),
        "one",
        "Grey erosion: the minimum under the footprint (``scipy.ndimage.grey_erosion``, ``cv2.erode``).",
        """>>> erode(np.array([[9, 9, 9], [9, 1, 9], [9, 9, 9]], dtype=np.uint8), size=(1, 3), mode="skip")
    array([[9, 9, 9],
           [1, 1, 1],
           [9, 9, 9]], dtype=uint8)""",
    ),
    "dilate": (
        (("max",),),
        "one",
        """Grey dilation: the maximum under the reflected footprint (``scipy.ndimage.grey_dilation``).

    ``cv2.dilate`` with a symmetric footprint gives the same (see the module notes).""",
        """>>> dilate(np.array([0, 0, 5, 0, 0], dtype=np.uint8), footprint=[1, 1, 0])
    array([0, 5, 5, 0, 0], dtype=uint8)""",
    ),
    "opening": (
        (("min", "max"),),
        "one",
        "Opening: dilation of the erosion (``grey_opening``, ``cv2.MORPH_OPEN``); removes bright specks.",
        """>>> opening(np.array([0, 0, 7, 0, 3, 3, 3, 0], dtype=np.uint8), size=3, mode="skip")
    array([0, 0, 0, 0, 3, 3, 3, 0], dtype=uint8)""",
    ),
    "closing": (
        (("max", "min"),),
        "one",
        "Closing: erosion of the dilation (``grey_closing``, ``cv2.MORPH_CLOSE``); fills dark specks.",
        """>>> closing(np.array([5, 5, 0, 5, 5], dtype=np.uint8), size=3)
    array([5, 5, 5, 5, 5], dtype=uint8)""",
    ),
    "morph_gradient": (
        (("max",), ("min",)),
        "first - second",
        "Dilation minus erosion (``morphological_gradient``, ``cv2.MORPH_GRADIENT``): edges.",
        """>>> morph_gradient(np.array([0, 0, 4, 4, 4], dtype=np.uint8), size=3)
    array([0, 4, 4, 0, 0], dtype=uint8)""",
    ),
    "tophat": (
        ((), ("min", "max")),
        "first - second",
        "The image minus its opening (``white_tophat``, ``cv2.MORPH_TOPHAT``): bright details.",
        """>>> tophat(np.array([1, 1, 9, 1, 1], dtype=np.uint8), size=3)
    array([0, 0, 8, 0, 0], dtype=uint8)""",
    ),
    "blackhat": (
        (("max", "min"), ()),
        "first - second",
        "The closing minus the image (``black_tophat``, ``cv2.MORPH_BLACKHAT``): dark details.",
        """>>> blackhat(np.array([9, 9, 1, 9, 9], dtype=np.uint8), size=3)
    array([0, 0, 8, 0, 0], dtype=uint8)""",
    ),
}

_OPTIONS = (
    ("footprint", None, "np.ndarray | None"),
    ("size", 3, "int | tuple[int, ...]"),
    ("iterations", 1, "int"),
    ("mode", "reflect", "str"),
    ("cval", 0.0, "float"),
    ("nan", "propagate", "str"),
    ("mask", None, "object"),
    ("alpha", None, "bool | None"),
    ("threads", None, "int | None"),
    ("axes", None, "object"),
)

MORPH_DOCS = {
    **RANK_DOCS,
    "footprint_morph": """\
footprint : array_like of bool, optional
    Flat structuring element (:mod:`imgfilter.footprints`), 1-D or 2-D;
    default a ``size`` box.""",
    "size_morph": """\
size : int or tuple of int, optional
    The box's side(s) when no footprint is given.""",
    "iterations": """\
iterations : int, optional
    As OpenCV (see the module notes).""",
    "mode_morph": """\
mode : str, optional
    Border mode, or ``"skip"`` (OpenCV's default: only pixels inside count).""",
    "nan_morph": """\
nan : {"propagate", "ignore", "keep"}, optional
    Float images: ``"propagate"``: a NaN under the footprint gives NaN;
    ``"ignore"``: NaN pixels are missing (see the module notes);
    ``"keep"`` also puts NaN back where they were.""",
    "mask_morph": """\
mask : array_like of bool, optional
    True = valid (spatial shape, broadcast over channels, or the image's
    shape), any dtype: missing pixels are left out of every pass (see the
    module notes; beyond a ``"constant"`` border the outside counts as
    valid, beyond ``"skip"`` nothing does).""",
}


def morph_footprint(shape, op, *, footprint=None, size=3, iterations=1, mode="reflect", cval=0.0, **_):
    """The whole chain's reach. Every pass borders its own input, so a block's
    region is not border-extended beforehand (``mode=None``: each block
    borders the image's true edges itself) unless the border is periodic
    (``"wrap"``: the passes commute with it, and the block must see the far side)."""
    passes = _Passes(shape, None, footprint, size, iterations, mode, cval, "propagate", None)
    reaches = [passes.reach(term) for term in _OPS[op][0]]
    nd = passes.fp.ndim
    before = tuple(max(r[0][a] for r in reaches) for a in range(nd))
    after = tuple(max(r[1][a] for r in reaches) for a in range(nd))
    if passes.mode in ("reflect", "symmetric"):
        # A later pass reflects its input at the image's edge, reading back the earlier
        # passes' values up to its own reach inside; with an asymmetric (even) footprint
        # that needs more of the block than the chain's one-sided reach: every pass's
        # larger side, on both sides (the opening of [5, 7, 9, 0] by [1, 1] on blocks of
        # one column once gave 0 at the end, where the whole image gives 7).
        side = [0] * nd
        for term in _OPS[op][0]:
            total = [0] * nd
            for o in term:
                b, f = passes.reach((o,))
                total = [t + max(b[a], f[a]) for a, t in enumerate(total)]
            side = [max(s_, t) for s_, t in zip(side, total, strict=True)]
        before = after = tuple(side)
    extent = tuple(b + f + 1 for b, f in zip(before, after, strict=True))
    return symmetric_footprint(shape, extent, before, "wrap" if passes.mode == "wrap" else None, 0.0)


def _morph_function(name: str) -> Callable[..., np.ndarray]:
    terms, combine, summary, example = _OPS[name]

    def body(image: np.ndarray, **options: Any) -> np.ndarray:
        options.pop("alpha", None)  # the dispatcher passes alpha through
        nan, mask = options.pop("nan"), options.pop("mask")
        passes = _Passes(image.shape, image.dtype, nan=nan, **options)
        valid = None if mask is None else validity(image, nan, mask)
        results = [passes.apply_chain(image, term, valid) for term in terms]
        if combine == "one":
            res, held = results[0]
        else:
            (a, va), (b, vb) = results
            res = subtract(a, b)
            held = None if va is None else va & vb
        if valid is not None:
            return morph.finish_missing(res, image, valid, held, nan)
        if nan == "keep" and image.dtype.kind == "f":
            res[np.isnan(image)] = np.nan
        return res

    body.__name__ = body.__qualname__ = name
    body.__module__ = __name__
    body.__doc__ = fill(
        f"""{summary}

    Parameters
    ----------
    %(image_missing)s
    %(footprint_morph)s
    %(size_morph)s
    %(iterations)s
    %(mode_morph)s
    %(cval)s
    %(nan_morph)s
    %(mask_morph)s
    %(alpha_pass)s
    %(threads)s
    %(axes)s

    Returns
    -------
    ndarray
        The image's dtype and shape.

    Examples
    --------
    >>> import numpy as np
    {example}
    """,
        MORPH_DOCS,
    )
    signature = public_signature(None, _OPTIONS)
    body.__signature__ = signature  # type: ignore[attr-defined]
    body.__annotations__ = {
        **{p.name: p.annotation for p in signature.parameters.values()},
        "return": signature.return_annotation,
    }
    footprint = functools.partial(morph_footprint, op=name)
    return dispatch(footprint, alpha="pass", missing=True)(body)


erode = _morph_function("erode")
dilate = _morph_function("dilate")
opening = _morph_function("opening")
closing = _morph_function("closing")
morph_gradient = _morph_function("morph_gradient")
tophat = _morph_function("tophat")
blackhat = _morph_function("blackhat")
