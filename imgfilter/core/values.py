"""Old home of :func:`cast_like`; the dtype rules live in :mod:`imgfilter.core.dtypes`."""

from __future__ import annotations

from .dtypes import cast_like

__all__ = ["cast_like"]
