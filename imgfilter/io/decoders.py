"""The decoders as imgfilter runs them: Pillow set up, tifffile pages, and their noise kept off stderr
(a refusal is one line, whatever C libraries and loggers print)."""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import sys
import tempfile
import threading
import warnings
from typing import Any

import numpy as np

from .errors import ImageError


def _with_library_note(error: ImageError, printed: list[str]) -> ImageError:
    """The ImageError, with the last line a C library printed when the reason is a bare code."""
    text = str(error)
    if printed and "decoder error" in text:
        text = f"{text[:-1]}: {_one_line(Exception(printed[-1]))})" if text.endswith(")") else text
    return ImageError(text)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


@contextlib.contextmanager
def _quiet_decoders():
    """Keep decoders' warnings off stderr; yield a list that gets what C libraries printed.

    A refusal is one line: Pillow's and numpy's warnings and tifffile's log
    lines are dropped, and what libtiff or libjpeg print straight to file
    descriptor 2 is caught in a temporary file, so the caller can fold its
    last line into the ImageError (or drop it when the read succeeds).
    Warning filters, the logger and fd 2 are process-wide: with reads on
    several threads, the first one in silences them and the last one out
    restores them.
    """
    global _QUIET_DEPTH, _QUIET_STATE
    printed: list[str] = []
    with _QUIET_LOCK:
        if _QUIET_DEPTH == 0:
            _QUIET_STATE = _silence()
        _QUIET_DEPTH += 1
    try:
        with np.errstate(all="ignore"):
            yield printed
    finally:
        with _QUIET_LOCK:
            _QUIET_DEPTH -= 1
            if _QUIET_DEPTH == 0 and _QUIET_STATE is not None:
                printed.extend(_restore(_QUIET_STATE))
                _QUIET_STATE = None


_QUIET_LOCK = threading.Lock()
_QUIET_DEPTH = 0
_QUIET_STATE: tuple[Any, bool, int | None, Any] | None = None


def _silence() -> tuple[Any, bool, int | None, Any]:
    caught = warnings.catch_warnings()
    caught.__enter__()
    warnings.simplefilter("ignore")
    log = logging.getLogger("tifffile")
    disabled, log.disabled = log.disabled, True
    saved = sink = None
    with contextlib.suppress(OSError, ValueError):
        if sys.stderr is not None:  # None: started with 2>&-, descriptor 2 is still redirected
            sys.stderr.flush()
        sink = _stderr_sink()
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
    return caught, disabled, saved, sink


def _restore(state: tuple[Any, bool, int | None, Any]) -> list[str]:
    caught, disabled, saved, sink = state
    caught.__exit__(None, None, None)
    logging.getLogger("tifffile").disabled = disabled
    if saved is None:
        return []
    os.dup2(saved, 2)
    os.close(saved)
    try:
        sink.seek(0)
        text = sink.read(1 << 16).decode("utf-8", "replace")
        sink.seek(0)
        sink.truncate()
    except OSError:
        return []
    return [line.strip() for line in text.splitlines() if line.strip()]


_SINK: tuple[int, Any] | None = None


def _stderr_sink():
    """One temporary file per process for what C decoders print (making one costs 0.2 ms)."""
    global _SINK
    if _SINK is None or _SINK[0] != os.getpid():  # a forked worker gets its own
        if _SINK is None:
            atexit.register(_close_sink)
        else:
            _SINK[1].close()  # the parent's, inherited: this process's copy of its descriptor
        _SINK = (os.getpid(), tempfile.TemporaryFile())
    return _SINK[1]


def _close_sink() -> None:
    # Closed at exit, so the interpreter has no unclosed file to warn about.
    global _SINK
    if _SINK is not None:
        _SINK[1].close()
        _SINK = None


def _pillow():
    from PIL import Image, ImageFile, ImageOps

    # We enforce our own pixel limit before decoding (see read_image).
    Image.MAX_IMAGE_PIXELS = None
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    return Image, ImageOps


def _tifffile_pixels(page, source: str) -> np.ndarray:
    try:
        return page.asarray()
    except (KeyError, ValueError) as exc:
        # tifffile decodes LZW, JPEG, zstd... only with imagecodecs.
        if "imagecodecs" in str(exc):
            raise ImageError(
                f"{source}: this TIFF's compression needs imagecodecs: pip install imagecodecs"
            ) from None
        raise
