"""Footprints: where each public filter reads, declared once per filter.

A footprint is the geometry of a filter's window (a :class:`WindowPlan`:
kernel extent, padding, stride) plus how it treats the outside of the image
(its border mode). The threaded bands of the NumPy path and the chunks of the
Dask path both take their halos from it, so the two cannot drift apart.

The filters' dispatcher (:mod:`imgfilter.filters._dispatch`) attaches a
footprint to each public function and routes Dask arrays to
:mod:`imgfilter.core.chunked`. Dask is never imported here: an array can only
be a Dask array if the user's code imported ``dask.array``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from .options import WindowPlan


@dataclass(frozen=True)
class Footprint:
    """What one call of a filter reads around each output pixel.

    Attributes
    ----------
    plan : WindowPlan
        Window geometry over the leading (spatial) axes: output index ``o``
        reads input ``o * stride - pads[0] ... + eff - 1`` on each axis
        (unfolded: the chunked engine reads at most the whole axis).
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
