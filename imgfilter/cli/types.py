"""Click parameter types of the filter commands: each checks its value once, when the command is parsed.

click is imported here and in the rest of :mod:`imgfilter.cli` only; nothing heavy is.
"""

from __future__ import annotations

import click

from ..core.names import MODES, OptionError
from ..io.formats import FORMAT_ALIASES, FORMAT_CHOICES

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


# Window sides, extents, strides and paddings stay below 2**16 pixels: far
# wider than any useful window, and small enough that no count or sum in the
# core (a window's area times 65535, in uint64) and no index can overflow.
MAX_WINDOW = 65_535
# Shifts beyond this move every pixel out of any image a file can hold; the
# bound keeps the index arithmetic in int64.
MAX_SHIFT = 1e9


class ModeType(click.ParamType):
    name = "mode"

    def convert(self, value, param, ctx):
        from ..core.names import normalize_mode

        try:
            return normalize_mode(value)
        except (OptionError, TypeError) as exc:
            self.fail(str(exc), param, ctx)


class FiniteFloat(click.FloatRange):
    """A float range that also refuses inf and nan (which every range check lets through)."""

    def convert(self, value, param, ctx):
        import math

        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


class IntTupleType(click.ParamType):
    """An int, or per-axis ints separated by commas ("2" or "2,1": rows, columns)."""

    name = "N[,N]"

    def __init__(self, axes: int | None = 2, minimum: int = 1, maximum: int = MAX_WINDOW) -> None:
        self.axes, self.minimum, self.maximum = axes, minimum, maximum

    def convert(self, value, param, ctx):
        if isinstance(value, (int, tuple)):
            return value
        try:
            parts = [int(p) for p in str(value).replace(" ", "").split(",")]
        except ValueError:
            self.fail(f"{value!r} is not an int or a comma-separated list of ints", param, ctx)
        if self.axes == 1 and len(parts) > 1:
            self.fail(f"{value!r}: give one value (this filter takes no per-axis size)", param, ctx)
        if self.axes is not None and len(parts) > self.axes:
            self.fail(f"{value!r}: give 1 value or {self.axes} (rows,columns)", param, ctx)
        if any(not self.minimum <= p <= self.maximum for p in parts):
            self.fail(f"{value!r}: every value must be in {self.minimum}..{self.maximum}", param, ctx)
        return parts[0] if len(parts) == 1 else tuple(parts)


class FloatTupleType(click.ParamType):
    """A positive float, or one per axis ("2" or "2,4": rows, columns), as the Python API takes."""

    name = "X[,X]"

    def convert(self, value, param, ctx):
        import math

        if isinstance(value, (float, int, tuple)):
            return value
        try:
            parts = [float(p) for p in str(value).replace(" ", "").split(",")]
        except ValueError:
            self.fail(f"{value!r} is not a number or two numbers separated by a comma", param, ctx)
        if len(parts) > 2:
            self.fail(f"{value!r}: give 1 value or 2 (rows,columns)", param, ctx)
        if any(not (math.isfinite(p) and 0 < p <= MAX_WINDOW) for p in parts):
            self.fail(f"{value!r}: every value must be > 0 and at most {MAX_WINDOW}", param, ctx)
        return parts[0] if len(parts) == 1 else tuple(parts)


class PaddingType(click.ParamType):
    """same | valid | full | P | P_rows,P_cols."""

    name = "padding"

    def convert(self, value, param, ctx):
        text = str(value).strip().lower()
        if text in ("same", "valid", "full"):
            return text
        try:
            parts = [int(p) for p in text.replace(" ", "").split(",")]
        except ValueError:
            self.fail(f"{value!r} is not 'same', 'valid', 'full', an int or ints per axis", param, ctx)
        if len(parts) > 2:
            self.fail(f"{value!r}: give 1 value or 2 (rows,columns)", param, ctx)
        if any(not 0 <= p <= MAX_WINDOW for p in parts):
            self.fail(f"{value!r}: padding must be in 0..{MAX_WINDOW}", param, ctx)
        return parts[0] if len(parts) == 1 else tuple(parts)


class FormatType(click.ParamType):
    """An output format name, any case, aliases included (jpeg = jpg, tiff = tif)."""

    name = "format"

    def get_metavar(self, param, ctx=None):
        return f"[{'|'.join(FORMAT_CHOICES)}]"

    def convert(self, value, param, ctx):
        key = str(value).strip().lower().lstrip(".")
        if key not in FORMAT_CHOICES:
            self.fail(f"{value!r} is not a format; use one of {', '.join(FORMAT_CHOICES)}", param, ctx)
        return FORMAT_ALIASES.get(key, key)

    def shell_complete(self, ctx, param, incomplete):
        from click.shell_completion import CompletionItem

        return [CompletionItem(name) for name in FORMAT_CHOICES if name.startswith(incomplete.lower())]


class MorphModeType(ModeType):
    """A border mode, or "skip": OpenCV's morphology border (only the image's own pixels count)."""

    def convert(self, value, param, ctx):
        if isinstance(value, str) and value.strip().lower() == "skip":
            return "skip"
        return super().convert(value, param, ctx)


MODE = ModeType()
MORPH_MODE = MorphModeType()
INT_TUPLE = IntTupleType()
PADDING = PaddingType()
FORMAT = FormatType()
MODE_HELP = (
    f"Border mode: {', '.join(MODES)} (numpy.pad names; 'reflect' is d c b|a b c d|c b a, "
    "OpenCV's default). Aliases: zeros, replicate, nearest, mirror, reflect101, circular."
)


# name -> how many sizes it takes: disk:3, square:5, rectangle:3x5, ellipse:5x7.
FOOTPRINT_SHAPES = {"disk": 1, "square": 1, "diamond": 1, "cross": 1, "rectangle": 2, "ellipse": 2}


class FootprintSpecType(click.ParamType):
    """A footprint by name and size ("disk:3", "rectangle:3x5"), checked without building it."""

    name = "SHAPE:N"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        text = str(value).strip().lower()
        shapes = ", ".join(f"{k}:{'HxW' if n == 2 else 'N'}" for k, n in FOOTPRINT_SHAPES.items())
        shape, _, sizes = text.partition(":")
        if shape not in FOOTPRINT_SHAPES or not sizes:
            self.fail(f"{value!r} is not a footprint; use one of {shapes}", param, ctx)
        want = FOOTPRINT_SHAPES[shape]
        try:
            parts = tuple(int(p) for p in sizes.split("x"))
        except ValueError:
            self.fail(f"{value!r}: the size of {shape} is {'HxW' if want == 2 else 'one int'}", param, ctx)
        if len(parts) != want:
            self.fail(
                f"{value!r}: {shape} takes {'HxW (two sizes)' if want == 2 else 'one size'}", param, ctx
            )
        # Radii (disk, diamond, cross) may be 0 (one pixel); sides are >= 1.
        low = 0 if shape in ("disk", "diamond", "cross") else 1
        top = MAX_WINDOW // 2 if low == 0 else MAX_WINDOW
        if any(not low <= p <= top for p in parts):
            self.fail(f"{value!r}: {shape}'s size must be in {low}..{top}", param, ctx)
        from ..core.bounds import check_footprint_size

        # The footprint's array, checked here (the one bound) so that the run never starts building it.
        h, w = (2 * parts[0] + 1,) * 2 if low == 0 else (parts[0], parts[-1])
        try:
            check_footprint_size("--footprint", str(value), (h, w))
        except OptionError as exc:
            self.fail(str(exc), param, ctx)
        return (shape, *parts)


FOOTPRINT = FootprintSpecType()
