"""Parameter docs shared by the public filters, written once (as SciPy's ``_ni_docstrings``).

A docstring line holding only ``%(name)s`` is replaced by the entry ``name``
below, indented like that line. Nothing else in a docstring is touched, so
the examples stay runnable doctests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_IMAGE_TAIL = """\
    A PIL image is read as :func:`imgfilter.imread` reads a file. A
    ``dask.array.Array`` gives a lazy Dask array with the same values,
    chunked like it (see :mod:`imgfilter.core.chunked`)."""

DOCS: dict[str, str] = {
    "image": f"""\
image : array_like or PIL image
    (H, W) or (H, W, C); channels are filtered on their own. More axes
    need ``axes=``.
{_IMAGE_TAIL}""",
    "image_missing": f"""\
image : array_like or PIL image
    (H, W) or (H, W, C); channels are filtered on their own. More axes
    need ``axes=``. A ``numpy.ma.MaskedArray`` counts its masked values
    as missing (as ``mask=~image.mask``; the result is a plain array).
{_IMAGE_TAIL}""",
    "mode": """\
mode : str, optional
    Border mode, as in :func:`imgfilter.correlate`.""",
    "alpha_premultiply": """\
alpha : bool, optional
    Whether the last channel is alpha (default: not for a numpy array,
    which is data; yes for a PIL image with an alpha band; see
    :func:`imgfilter.core.alpha.resolve_alpha`). Colour is weighted by
    alpha (premultiplied), so transparent pixels never bleed into visible
    ones; alpha is filtered too.""",
    "alpha_pass": """\
alpha : bool, optional
    Whether the last channel is alpha (default: not for a numpy array,
    which is data; yes for a PIL image with an alpha band; see
    :func:`imgfilter.core.alpha.resolve_alpha`). Alpha is left as it is
    (sampled at the windows' centres when the geometry changes).""",
    "threads": """\
threads : int, optional
    Worker threads; default ``IMGFILTER_THREADS`` or all cores.""",
    "nan_average": """\
nan : {"propagate", "ignore", "keep"}, optional
    Missing pixels (see :func:`imgfilter.correlate`): ``"ignore"``
    averages only the valid pixels under the window, so a NaN hole is
    filled from its neighbours and never spreads; ``"keep"`` also puts
    NaN back where it was.""",
    "mask": """\
mask : array_like of bool, optional
    True = valid (spatial shape, broadcast over channels, or the image's
    shape), for any dtype. Integer pixels with no valid neighbour keep
    their value.""",
    "linear": """\
linear : bool, optional
    Filter in linear light: 8- and 16-bit images are decoded with the
    exact sRGB curve, filtered, and encoded back (float images are taken
    as already linear). A 1-pixel black/white checkerboard blurs to 188,
    not 128.""",
    "axes": """\
axes : (int, int), optional
    Which two axes are spatial (rows, columns), as in SciPy >= 1.11; the
    other axes are filtered independently (a batch (N, H, W, C) takes
    ``axes=(1, 2)``, a channels-first (C, H, W) image ``axes=(1, 2)``).
    The result keeps the input's axis order. Per-axis options (sizes,
    sigmas) follow the order of ``axes``.""",
    "axes_kernel": """\
axes : sequence of int, optional
    Which axes of the image the kernel's axes run along (one per kernel
    axis), as in SciPy >= 1.11; the other axes are filtered independently
    and the result keeps the input's axis order.""",
}


def fill(doc: str | None, docs: dict[str, str] = DOCS) -> str | None:
    """``doc`` with every ``%(name)s`` line replaced by ``docs[name]``, indented like it."""
    if doc is None:
        return None
    lines = []
    for line in doc.split("\n"):
        key = line.strip()
        if key.startswith("%(") and key.endswith(")s"):
            indent = line[: len(line) - len(line.lstrip())]
            lines.extend((indent + entry) if entry else "" for entry in docs[key[2:-2]].split("\n"))
        else:
            lines.append(line)
    return "\n".join(lines)


def docfiller(fn: F) -> F:
    """Fill a function's docstring from :data:`DOCS`."""
    fn.__doc__ = fill(fn.__doc__)
    return fn
