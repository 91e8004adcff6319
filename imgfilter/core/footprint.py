"""Footprints: where each public filter reads, declared once per filter.

A footprint is the geometry of a filter's window (a :class:`WindowPlan`:
kernel extent, padding, stride) plus how it treats the outside of the image
(its border mode). The threaded bands of the NumPy path and the chunks of the
Dask path both take their halos from it, so the two cannot drift apart.

:func:`chunkable` attaches a footprint to a public function and routes Dask
arrays to :mod:`imgfilter.core.chunked`. Dask is never imported here: an
array can only be a Dask array if the user's code imported ``dask.array``.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from .options import WindowPlan

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Footprint:
    """What one call of a filter reads around each output pixel.

    Attributes
    ----------
    plan : WindowPlan
        Window geometry over the leading (spatial) axes: output index ``o``
        reads input ``o * stride - pads[0] ... + eff - 1`` on each axis.
    mode : str or None
        Border mode (normalized). ``None``: padded positions are not pixels
        at all (pooling leaves them out of the window).
    cval : float
        The value beyond the border in ``"constant"`` mode.
    padding_arg : bool
        True if the function takes ``padding=`` (and ``stride=``): a block is
        then computed with explicit padding instead of being cropped from a
        "same"-size result.
    """

    plan: WindowPlan
    mode: str | None = "reflect"
    cval: float = 0.0
    padding_arg: bool = False


def is_dask(value: object) -> bool:
    """Whether ``value`` is a ``dask.array.Array`` (without importing Dask)."""
    module = sys.modules.get("dask.array")
    return module is not None and isinstance(value, module.Array)


def chunkable(footprint: Callable[..., Footprint]) -> Callable[[F], F]:
    """Declare a public filter's footprint and accept Dask arrays.

    ``footprint(shape, **options)`` gets the image's shape and every option
    of the call (defaults filled in) and returns a :class:`Footprint`.
    """

    def decorate(fn: F) -> F:
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            image = args[0] if args else kwargs.get("image")
            if is_dask(image) or is_dask(kwargs.get("mask")):
                from .chunked import apply_chunked

                bound = signature.bind(*args, **kwargs)
                bound.apply_defaults()
                return apply_chunked(fn, footprint, dict(bound.arguments))
            return fn(*args, **kwargs)

        wrapper.footprint = footprint  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate
