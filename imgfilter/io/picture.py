"""A decoded image: its pixels and what must survive a round trip through imgfilter."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .values import source_scale


@dataclass
class Picture:
    """Pixels plus what must survive a round trip through imgfilter."""

    pixels: np.ndarray
    alpha: bool = False
    icc_profile: bytes | None = None
    exif: bytes | None = None
    dpi: tuple[float, float] | None = None
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def depth(self) -> str:
        """The scale of the pixels' values, by the rule :func:`source_scale` states."""
        return source_scale(self.pixels)[0]
