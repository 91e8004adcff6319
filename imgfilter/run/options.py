"""Typed records of a run: what the command line asked for, checked once when it was parsed.

The CLI builds one :class:`RunOptions` per command (or chain); everything
below reads fields of it, never a dict of strings. numpy-free.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class UsageProblem(ValueError):
    """The command as given cannot run (the CLI shows it as a usage error, exit 2)."""


class StartProblem(RuntimeError):
    """Something the run needs could not be started or reached (exit 1, before any file)."""


class FatalProblem(RuntimeError):
    """The run cannot go on at all (exit 1): shown as ``imgfilter: MESSAGE``."""


@dataclass(frozen=True)
class Inputs:
    """Which files go where."""

    paths: tuple[str, ...] = ()
    files_from: str | None = None
    null: bool = False
    out_dir: str | None = None
    recursive: bool = False
    suffix: str = ""
    in_place: bool = False
    skip_existing: bool = False


@dataclass(frozen=True)
class ReadOptions:
    max_pixels: int | None = None  # None: imgfilter.io.DEFAULT_MAX_PIXELS
    chunks: int | None = None  # N x N chunks: the lazy path


@dataclass(frozen=True)
class WriteOptions:
    fmt: str | None = None  # --format (a canonical name), else from each output's extension
    depth: str | None = None  # None: the source's where the format holds it
    scale: str = "clip"
    quality: int | None = None
    subsampling: str | None = None
    lossless: bool = False
    compression: int | None = None
    strip: bool = False
    strip_icc: bool = False


@dataclass(frozen=True)
class RunOptions:
    inputs: Inputs = field(default_factory=Inputs)
    read: ReadOptions = field(default_factory=ReadOptions)
    write: WriteOptions = field(default_factory=WriteOptions)
    jobs: int = 1  # worker processes (0: all cores)
    scheduler: str | None = None  # a dask.distributed address, or local:N
    threads: int | None = None
    quiet: bool = False


@dataclass
class Step:
    """One filter with its options: ``fn(pixels, alpha) -> (pixels, alpha)``."""

    name: str
    fn: Callable[[Any, bool], tuple[Any, bool]]
    linear: bool = False

    def reach(self, shape: tuple[int, ...]) -> int | None:
        """Rows above and below an output row that the step reads, for an image of ``shape``.

        None unless the step declares it (``fn.reach(shape)``): a step whose
        output row depends on other than nearby input rows (a global
        statistic, wrap-around borders, a mask of the whole image, a change
        of geometry) runs on the whole image only.
        """
        reach = getattr(self.fn, "reach", None)
        return None if reach is None else reach(shape)


class MaskFile:
    """A --mask image, read once when the command is parsed, so its errors are usage errors naming it.

    A copy sent to another process (a cluster task) carries only the path
    and reads the file there once, rather than shipping the pixels with
    every task.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._valid: Any = None

    def valid(self) -> Any:
        """The mask as booleans (non-zero in any channel = valid); ImageError if unreadable."""
        if self._valid is None:
            import numpy as np

            from ..io import read

            pixels = read.read_image(self.path).pixels
            self._valid = pixels != 0 if pixels.ndim == 2 else np.any(pixels != 0, axis=-1)
        return self._valid

    def for_image(self, pixels: Any) -> Any:
        """The mask for an image of this shape; ValueError naming the mask file if the sizes differ."""
        valid = self.valid()
        if tuple(valid.shape) != tuple(pixels.shape[:2]):
            (mh, mw), (h, w) = valid.shape, pixels.shape[:2]
            raise ValueError(f"--mask {self.path} is {mw}x{mh} pixels but the image is {w}x{h}")
        return valid

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "_valid": None}


def mask_for(mask: MaskFile | None, pixels: Any) -> Any:
    return None if mask is None else mask.for_image(pixels)
