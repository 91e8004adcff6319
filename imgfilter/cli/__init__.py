"""The command line: click at the edge of imgfilter.

- :mod:`.types`: parameter types (modes, per-axis numbers, paddings, formats);
- :mod:`.options`: the shared options and the typed run options built from them;
- :mod:`.registry`: :func:`filter_command`, the declaration of a filter command;
- :mod:`.commands`: every filter command (add one here);
- :mod:`.main`: the group, chains with '+', one-line errors; the entry point :func:`main`.
"""

from __future__ import annotations

from ..io.formats import FORMAT_ALIASES, FORMAT_CHOICES
from .main import main
from .options import cval_keyword, run_options, split_io
from .types import MAX_SHIFT, MAX_WINDOW

__all__ = [
    "FORMAT_ALIASES",
    "FORMAT_CHOICES",
    "MAX_SHIFT",
    "MAX_WINDOW",
    "cval_keyword",
    "main",
    "run_options",
    "split_io",
]
