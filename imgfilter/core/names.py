"""Border-mode names and aliases (no numpy here: the CLI's --help reads it)."""

from __future__ import annotations

# Canonical border modes use numpy.pad's names.
MODES = ("constant", "edge", "reflect", "symmetric", "wrap")

# Unambiguous names users bring from OpenCV, SciPy, PyTorch and MATLAB.
# SciPy's own "reflect" (d c b a | a b c d | d c b a) is numpy's "symmetric":
# it is deliberately *not* an alias here, because "reflect" already means
# numpy's (and OpenCV's default) d c b | a b c d | c b a.
MODE_ALIASES = {
    "zeros": "constant",
    "zero": "constant",
    "fill": "constant",
    "border_constant": "constant",
    "replicate": "edge",
    "nearest": "edge",
    "border_replicate": "edge",
    "mirror": "reflect",
    "reflect101": "reflect",
    "reflect_101": "reflect",
    "border_reflect_101": "reflect",
    "border_default": "reflect",
    "border_reflect": "symmetric",
    "half-symmetric": "symmetric",
    "circular": "wrap",
    "periodic": "wrap",
    "border_wrap": "wrap",
}

# Our canonical name -> scipy.ndimage's name for the same extension.
SCIPY_MODE = {
    "constant": "constant",
    "edge": "nearest",
    "reflect": "mirror",
    "symmetric": "reflect",
    "wrap": "wrap",
}


class OptionError(ValueError):
    """A bad option value (not a problem of a particular image)."""


def normalize_mode(mode: str) -> str:
    """Return the canonical (numpy.pad) name of a border mode or alias.

    Examples
    --------
    >>> normalize_mode("replicate")
    'edge'
    """
    if not isinstance(mode, str):
        raise TypeError(f"mode must be a string, got {type(mode).__name__}")
    key = mode.strip().lower()
    if key in MODES:
        return key
    if key in MODE_ALIASES:
        return MODE_ALIASES[key]
    names = ", ".join(MODES)
    aliases = ", ".join(sorted(MODE_ALIASES))
    raise OptionError(f"mode={mode!r} is not a border mode; use one of {names} (aliases: {aliases})")
