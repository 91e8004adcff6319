"""Image files: the only package that knows formats.

Reading keeps what the file holds: bit depth (8, 16 bit, float), alpha, ICC
profile, EXIF, DPI, XMP and comments. Writing is atomic (temporary file
beside the output, or beside a symlink's target, then a rename; FIFOs and
devices get one checked stream) and converts results to the file's range
by one documented rule (:func:`source_scale`, :func:`to_file_dtype`).

Modules, in the order an image goes through them:

- :mod:`.formats`: the one registry of formats and what each can hold;
- :mod:`.read` (with :mod:`.sixteen`, :mod:`.quiet`): a whole file into a :class:`Picture`;
- :mod:`.lazy`: a tiled TIFF or Zarr as a Dask array, with the lazy-input bounds;
- :mod:`.values`: the float-to-file rule;
- :mod:`.write` (with :mod:`.encoders`, :mod:`.metadata`): :func:`imwrite`;
- :mod:`.chunked`: a Dask result written chunk by chunk (TIFF, Zarr, .npy);
- :mod:`.atomic`: the one atomic-write helper, for files and folders.

Names are loaded on first use, so ``imgfilter --help`` (which reads only
:mod:`.formats`) imports no numpy.
"""

from __future__ import annotations

import importlib
import zlib  # noqa: F401  (tests patch imgfilter.io.zlib.compress, the module the encoders use)
from typing import Any

from .errors import ImageError, ImageWarning
from .formats import (
    DEFAULT_COMPRESSION,
    DEFAULT_MAX_PIXELS,
    FORMAT_NAMES,
    FORMATS,
    READ_FORMATS,
    check_depth,
    format_for,
)

_EXPORTS = {
    "Picture": "picture",
    "read_image": "read",
    "imread": "read",
    "pil_to_array": "read",
    "value_max": "values",
    "to_file_dtype": "values",
    "finite_span": "values",
    "file_pixels": "values",
    "default_source_max": "values",
    "source_scale": "values",
    "default_depth": "values",
    "SCALES": "values",
    "DEPTHS": "values",
    "write_hints": "metadata",
    "icc_for_output": "metadata",
    "encode": "encoders",
    "SUBSAMPLINGS": "encoders",
    "imwrite": "write",
    "atomic_output": "atomic",
    "register_temporary": "atomic",
    "unregister_temporary": "atomic",
    "cleanup_temporaries": "atomic",
}

__all__ = [
    "DEFAULT_COMPRESSION",
    "DEFAULT_MAX_PIXELS",
    "FORMATS",
    "FORMAT_NAMES",
    "READ_FORMATS",
    "ImageError",
    "ImageWarning",
    "check_depth",
    "format_for",
    *sorted(_EXPORTS),
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'imgfilter.io' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
