"""imgfilter's compiled kernels (C99 sources in this folder).

This layer imports nothing from imgfilter: it takes C-contiguous numpy
buffers and a geometry of element counts and strides, checks the bounds in
one place (``module.c``) and runs the kernel with the GIL released. Which
instruction set runs is chosen once at import (the best the CPU has) and can
be set with :func:`set_isa` (tests compare ``"baseline"`` with ``"avx2"``)
or the environment variable ``IMGFILTER_ISA``.
"""

from __future__ import annotations

import os

try:
    from . import _kernels
except ImportError as exc:  # pragma: no cover - only on a broken install
    raise ImportError(
        "imgfilter's compiled engine is missing: reinstall with `pip install .` "
        f"(it needs a C compiler) ({exc})"
    ) from None

taps = _kernels.taps
sep2d = _kernels.sep2d
median = _kernels.median
bilateral = _kernels.bilateral
sobel = _kernels.sobel
canny_nms = _kernels.canny_nms
canny_nms_u8 = _kernels.canny_nms_u8
canny_hysteresis = _kernels.canny_hysteresis
morph_rank = _kernels.morph_rank
morph_minmax = _kernels.morph_minmax
box = _kernels.box
isas = _kernels.isas
taps2d = _kernels.taps2d
taps2d_nan = _kernels.taps2d_nan
sep2d_nan = _kernels.sep2d_nan
sep2d_nan_at = _kernels.sep2d_nan_at
sep2d_idx = _kernels.sep2d_idx
divide_sums = _kernels.divide_sums
nan_weights = _kernels.nan_weights
nan_holes = _kernels.nan_holes
value_keys = _kernels.value_keys
nan_valid = _kernels.nan_valid
nan_mark = _kernels.nan_mark
nan_fetch = _kernels.nan_fetch
moments_finish = _kernels.moments_finish
sep_small = _kernels.sep_small
sep_small_nan = _kernels.sep_small_nan
png_unfilter = _kernels.png_unfilter
block = _kernels.block
blocks_release = _kernels.blocks_release
blocks_pooled = _kernels.blocks_pooled
scratch_pooled = _kernels.scratch_pooled
BLOCKS_RECYCLE = bool(_kernels.BLOCKS_RECYCLE)


def set_isa(name: str) -> str:
    """Select the kernels' instruction set (``"auto"``, ``"avx2"``, ``"baseline"``); returns the previous one."""
    return _kernels.set_isa(name)


def isa() -> str:
    """The instruction set the kernels run now."""
    current = _kernels.set_isa("baseline")
    _kernels.set_isa(current)
    return current


if os.environ.get("IMGFILTER_ISA"):
    set_isa(os.environ["IMGFILTER_ISA"])
