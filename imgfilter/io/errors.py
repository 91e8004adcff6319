"""The two things the file layer raises or warns: numpy-free, so the CLI may import them at start-up."""

from __future__ import annotations

import warnings


class ImageError(Exception):
    """A file could not be read or written; the message names the file and the reason."""


class ImageWarning(UserWarning):
    """Something of a file that its output format cannot hold was left out (a DPI out of range)."""


def warn(message: str) -> None:
    warnings.warn(message, ImageWarning, stacklevel=3)
