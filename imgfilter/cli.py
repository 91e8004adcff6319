"""The ``imgfilter`` command: thin click commands over the Python API.

Start-up stays light: this module imports click and nothing heavy; numpy,
Pillow, SciPy and the filters load inside a command, when it runs.
Each command only turns its options into a *step* (a function from pixels
to pixels); :func:`run_steps` owns reading, writing, batches and errors.
"""

from __future__ import annotations

import os
from typing import Any

import click

from . import __version__
from .batch import Step, run_batch
from .core.names import MODES, OptionError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


# ----------------------------------------------------------------- option types

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
        from .core.names import normalize_mode

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


# The names --format takes. Kept here, not read from io.FORMAT_NAMES, so that
# --help stays free of numpy; a test checks that the two agree. Aliases
# become their canonical name, so a chain's "tif" and "tiff" agree.
FORMAT_ALIASES = {"jpeg": "jpg", "tiff": "tif"}
FORMAT_CHOICES = ("png", "jpg", "jpeg", "tif", "tiff", "bmp", "webp", "ppm", "pgm", "pnm", "gif", "npy")


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


MODE = ModeType()
INT_TUPLE = IntTupleType()
PADDING = PaddingType()
FORMAT = FormatType()
MODE_HELP = (
    f"Border mode: {', '.join(MODES)} (numpy.pad names; 'reflect' is d c b|a b c d|c b a, "
    "OpenCV's default). Aliases: zeros, replicate, nearest, mirror, reflect101, circular."
)


def parse_kernel(text: str, *, comments: bool = False) -> list[list[float]]:
    """Rows split by ';' (or newlines), values by ',' or spaces.

    With ``comments`` (kernel files), '#' starts a comment to the end of
    its line; blank lines are skipped either way.
    """
    import math

    if comments:
        text = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    rows = []
    for line in text.replace("\n", ";").split(";"):
        line = line.strip()
        if not line:
            continue
        row = []
        for v in line.replace(",", " ").split():
            try:
                number = float(v)
            except ValueError:
                raise ValueError(f"{v!r} is not a number") from None
            if not math.isfinite(number):
                raise ValueError(f"{v!r} is not a finite number")
            row.append(number)
        rows.append(row)
    if not rows:
        raise ValueError("the kernel is empty")
    if len({len(r) for r in rows}) != 1:
        raise ValueError(f"rows have different lengths {[len(r) for r in rows]}")
    if len(rows) > MAX_WINDOW or len(rows[0]) > MAX_WINDOW:
        raise ValueError(f"the kernel is {len(rows)}x{len(rows[0])}; at most {MAX_WINDOW} a side")
    return rows


# ----------------------------------------------------------------- missing pixels, linear light


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

            from .io import read_image

            pixels = read_image(self.path).pixels
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


def _read_mask(ctx: click.Context, param: click.Parameter, value: str | None) -> MaskFile | None:
    if value is None:
        return None
    from .io import ImageError

    mask = MaskFile(value)
    try:
        mask.valid()
    except ImageError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None
    return mask


def mask_for(mask: MaskFile | None, pixels: Any) -> Any:
    return None if mask is None else mask.for_image(pixels)


def missing_options(f):
    """--nan and --mask, for the filters that can skip missing pixels."""
    f = click.option(
        "--mask",
        "mask_path",
        type=click.Path(exists=True, dir_okay=False),
        callback=_read_mask,
        help="Image whose non-zero pixels are valid; the others are skipped like NaN with --nan ignore.",
    )(f)
    return click.option(
        "--nan",
        type=click.Choice(["propagate", "ignore", "keep"]),
        default="propagate",
        show_default=True,
        help="NaN pixels (float images): propagate (IEEE), ignore (fill from valid neighbours), keep (ignore, then NaN back).",
    )(f)


def linear_option(f):
    return click.option(
        "--linear",
        is_flag=True,
        help="Filter in linear light (exact sRGB decode/encode) so edges and highlights keep their brightness.",
    )(f)


def cval_option(f):
    """--cval, for every command with --mode."""
    return click.option(
        "--cval",
        type=float,
        default=0.0,
        show_default=True,
        help="Value beyond the border for --mode constant (in the image's units: 0..255 for 8 bits).",
    )(f)


def cval_keyword(fn: Any, name: str, cval: float) -> dict[str, float]:
    """``{"cval": cval}`` when the Python function takes it; else only the 0 its constant border uses."""
    import inspect

    if "cval" in inspect.signature(fn).parameters:
        return {"cval": cval}
    if cval != 0:
        raise click.BadParameter(
            f"{cval:g}: imgfilter.{fn.__name__} has no cval yet, so {name}'s constant border is 0",
            param_hint="'--cval'",
        )
    return {}


# ----------------------------------------------------------------- shared options


def io_options(f):
    """Options every filter command shares (reading, writing, batches)."""
    decorators = [
        click.argument("paths", nargs=-1, metavar="INPUT... OUTPUT", type=click.Path(allow_dash=True)),
        click.option(
            "-o",
            "--out-dir",
            type=click.Path(file_okay=False),
            help="Batch: write one output per input into this folder (created if missing; folder inputs keep their layout).",
        ),
        click.option(
            "-r", "--recursive", is_flag=True, help="Batch: take images in sub-folders of folder inputs too."
        ),
        click.option(
            "--files-from",
            type=click.Path(allow_dash=True, dir_okay=False),
            help="Batch: read input paths from this file, one per line ('-': standard input).",
        ),
        click.option(
            "-0", "--null", is_flag=True, help="Batch: --files-from names end with NUL (find -print0)."
        ),
        click.option(
            "--suffix", default="", help="Batch: add this before each output's extension (e.g. _edges)."
        ),
        click.option(
            "--in-place",
            is_flag=True,
            help="Batch: write each output next to its input (replacing it unless --suffix/--format).",
        ),
        click.option(
            "--skip-existing", is_flag=True, help="Batch: leave outputs that exist (resume a batch)."
        ),
        click.option(
            "-j",
            "--jobs",
            type=click.IntRange(min=0),
            default=1,
            show_default=True,
            help="Batch: images processed at once (0 = all cores).",
        ),
        click.option(
            "--scheduler",
            envvar="IMGFILTER_SCHEDULER",
            metavar="ADDRESS",
            help="Batch: run each file as a task on this dask.distributed scheduler (tcp://host:8786), or on a local cluster of N worker processes with local:N (replaces --jobs; needs imgfilter[dask]). Default: $IMGFILTER_SCHEDULER.",
        ),
        click.option(
            "--format",
            "fmt",
            type=FORMAT,
            help="Output format (default: from OUTPUT's extension; PNG for '-').",
        ),
        click.option(
            "--depth",
            type=click.Choice(["8", "16", "float"]),
            help="Output bit depth (default: the input's).",
        ),
        click.option(
            "--scale",
            type=click.Choice(["clip", "abs", "offset", "stretch"]),
            default="clip",
            show_default=True,
            help="Float-to-file rule: clip (round and clip), abs (absolute value), offset (0 at mid-grey), stretch (min..max to full range).",
        ),
        click.option(
            "--quality",
            type=click.IntRange(1, 100),
            help="JPEG/WebP quality (default: a JPEG input's own tables, else 95; lossless WebP: effort).",
        ),
        click.option(
            "--subsampling",
            type=click.Choice(["4:4:4", "4:2:2", "4:2:0"]),
            help="JPEG chroma subsampling (default: a JPEG input's own, else 4:2:0).",
        ),
        click.option("--lossless", is_flag=True, help="Lossless WebP (default for a lossless WebP input)."),
        click.option(
            "--compression",
            type=click.IntRange(0, 9),
            help="PNG/TIFF zlib level (default 1: fast, as OpenCV; 9: smallest).",
        ),
        click.option(
            "--max-pixels",
            type=click.IntRange(min=1),
            default=None,
            help="Refuse images with more pixels (default: Pillow's 89,478,485).",
        ),
        click.option(
            "--chunks",
            type=click.IntRange(min=16, max=MAX_WINDOW),
            default=None,
            help="Filter chunk by chunk, N x N pixels at a time, with bounded memory (taken anyway for tiled/BigTIFF and .zarr; needs imgfilter[dask]).",
        ),
        click.option(
            "--threads",
            type=click.IntRange(min=0),
            default=None,
            help="Worker threads (default: IMGFILTER_THREADS or all cores; 0 = all cores).",
        ),
        click.option(
            "--strip", is_flag=True, help="Drop EXIF/XMP/comments (the ICC profile stays, so colours hold)."
        ),
        click.option("--strip-icc", is_flag=True, help="Drop the ICC profile too (implies --strip)."),
        click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors."),
    ]
    for dec in reversed(decorators):
        f = dec(f)
    return f


IO_KEYS = (
    "paths",
    "out_dir",
    "recursive",
    "files_from",
    "null",
    "suffix",
    "in_place",
    "skip_existing",
    "jobs",
    "scheduler",
    "strip",
    "strip_icc",
    "fmt",
    "depth",
    "scale",
    "quality",
    "subsampling",
    "lossless",
    "compression",
    "max_pixels",
    "chunks",
    "threads",
    "quiet",
)


def split_io(kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    io_kw = {k: kwargs.pop(k) for k in IO_KEYS}
    return io_kw, kwargs


# ----------------------------------------------------------------- running


def fail(message: str) -> None:
    click.echo(f"imgfilter: {message}", err=True)


class OneLineError(click.ClickException):
    """A click error shown as one line, ``imgfilter COMMAND: error: MESSAGE`` (argparse's form)."""

    def __init__(self, where: str, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.where = where
        self.exit_code = exit_code

    def show(self, file: Any = None) -> None:
        click.echo(f"{self.where}: error: {self.message}", file=file, err=file is None)


CHAIN_LABEL = "imgfilter.chain"  # ctx.meta key: the chain's commands, for its messages


def command_words(ctx: click.Context | None) -> str:
    """How messages name a context's command: 'imgfilter sobel', 'imgfilter gaussian + sobel'.

    Always 'imgfilter' first (not 'python -m imgfilter'), and never the
    hidden '_chain' command that carries a chain.
    """
    words = []
    while ctx is not None and ctx.parent is not None:
        if ctx.command is chain_command:
            words.append(ctx.meta.get(CHAIN_LABEL, "chain"))
        elif ctx.info_name:
            words.append(ctx.info_name)
        ctx = ctx.parent
    return " ".join(["imgfilter", *reversed(words)])


def one_line(exc: click.ClickException, ctx: click.Context | None) -> click.ClickException:
    """The same error as one line naming its command (help requested with no args stays as it is)."""
    if isinstance(exc, (OneLineError, click.exceptions.NoArgsIsHelpError)):
        return exc
    where = command_words(getattr(exc, "ctx", None) or ctx)
    return OneLineError(where, exc.format_message(), exc.exit_code)


def run_steps(steps: list[Step], io_kw: dict[str, Any]) -> None:
    """Hand the files to the batch runner: every option was checked when the command was parsed."""
    if io_kw["threads"] is not None:
        os.environ["IMGFILTER_THREADS"] = str(io_kw["threads"])
    if not io_kw["paths"] and not io_kw["files_from"]:
        raise click.UsageError("missing INPUT OUTPUT (or inputs with --out-dir / --files-from)")
    run_batch(steps, io_kw)


# ----------------------------------------------------------------- commands


CHAIN = "+"


class LazyGroup(click.Group):
    """Lists commands in definition order, and routes '+'-chained filters to one run."""

    def list_commands(self, ctx):
        return [name for name, cmd in self.commands.items() if not cmd.hidden]

    def parse_args(self, ctx, args):
        if CHAIN in args:
            first = next((i for i, a in enumerate(args) if a in self.commands), None)
            if first is not None:
                args = [*args[:first], "_chain", *args[first:]]
        return super().parse_args(ctx, args)

    # Usage errors of the group, every command and chains become one line
    # here, at the two places click raises them: parsing and invoking.
    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.ClickException as exc:
            raise one_line(exc, parent) from None

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            raise one_line(exc, ctx) from None


# ---- issue 15, write side: SIGTERM/SIGHUP remove the temporary outputs in
# flight (imgfilter.io.cleanup_temporaries) and exit 128 + signal (143, 129);
# io's ImageWarnings (a DPI the output cannot hold) print as one line.
_CLEANUP_INSTALLED = False


def _install_cleanup_handlers() -> None:
    import signal
    import sys
    import warnings

    global _CLEANUP_INSTALLED
    if _CLEANUP_INSTALLED:
        return
    _CLEANUP_INSTALLED = True
    main_pid = os.getpid()

    def on_signal(signum, frame):
        io = sys.modules.get("imgfilter.io")  # not imported yet: nothing is being written
        if io is not None:
            io.cleanup_temporaries()
        if os.getpid() != main_pid:  # a forked batch worker dies of the signal; its parent reports
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        raise SystemExit(128 + signum)

    for name in ("SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        # Not in a thread, and never over nohup's SIG_IGN.
        if sig is not None and signal.getsignal(sig) is signal.SIG_DFL:
            try:
                signal.signal(sig, on_signal)
            except ValueError:
                pass
    show = warnings.showwarning

    def one_line(message, category, filename, lineno, file=None, line=None):
        if category.__name__ == "ImageWarning":
            click.echo(f"imgfilter: warning: {message}", err=True)
        else:
            show(message, category, filename, lineno, file, line)

    warnings.showwarning = one_line


# ---- end of issue 15, write side


@click.group(cls=LazyGroup, context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version", prog_name="imgfilter")
def main() -> None:
    """Classic image filters for the command line.

    \b
    imgfilter COMMAND [OPTIONS] INPUT OUTPUT
    imgfilter COMMAND [OPTIONS] INPUT... --out-dir DIR
    imgfilter COMMAND [OPTIONS] + COMMAND [OPTIONS] ... INPUT OUTPUT

    Filters joined by '+' run as a chain: the image is decoded once, each
    filter gets the previous one's full-precision result, and only the end
    is converted for the file. Example:
    imgfilter gaussian --sigma 2 + sobel --gray in.png edges.png

    '-' as INPUT reads standard input and as OUTPUT writes standard output
    (PNG unless --format says otherwise). Bit depth, alpha, ICC profile and
    EXIF are kept; writes are atomic. Float results go to integer files by
    rounding and clipping (--scale abs|offset|stretch for signed responses).
    """
    _install_cleanup_handlers()  # issue 15, write side


@main.command(
    "_chain",
    hidden=True,
    add_help_option=False,
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@click.argument("tokens", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def chain_command(ctx: click.Context, tokens: tuple[str, ...]) -> None:
    """Run '+'-separated filter commands as one chain."""
    segments: list[list[str]] = [[]]
    for token in tokens:
        if token == CHAIN:
            segments.append([])
        else:
            segments[-1].append(token)
    ctx.meta[CHAIN_LABEL] = f" {CHAIN} ".join(seg[0] if seg else "?" for seg in segments)
    steps: list[Step] = []
    merged: dict[str, Any] = {}
    defaults: dict[str, Any] = {}
    for seg in segments:
        if not seg:
            raise click.UsageError(f"a '{CHAIN}' must stand between two filter commands", ctx=ctx.parent)
        name, rest = seg[0], seg[1:]
        cmd = main.commands.get(name)
        if cmd is None and segments.index(seg) > 0:
            raise click.UsageError(
                f"'{CHAIN}' must be followed by a filter command, not {name!r}", ctx=ctx.parent
            )
        if cmd is None or not hasattr(cmd, "make_step"):
            raise click.UsageError(
                f"{name!r} is not a filter command that can stand in a chain", ctx=ctx.parent
            )
        # The group is the segment's parent, as for the command alone: its
        # usage, help and errors say 'imgfilter sobel', never '_chain'.
        sub = cmd.make_context(name, list(rest), parent=ctx.parent)
        io_kw, opts = split_io(dict(sub.params))
        # What each shared option holds when not given (parsed from nothing).
        blank = cmd.make_context(name, [], parent=ctx.parent, resilient_parsing=True).params
        defaults.update(split_io(dict(blank))[0])
        for key, value in io_kw.items():
            if key == "paths":
                merged["paths"] = (*merged.get("paths", ()), *value)
            elif key not in merged or merged[key] == defaults.get(key):
                merged[key] = value
            elif value != defaults.get(key) and value != merged[key]:
                option = max(next(p.opts for p in cmd.params if p.name == key), key=len)
                raise click.UsageError(f"{option} is given twice with different values in the chain")
        try:
            fn = cmd.make_step(**opts)
        except click.UsageError as exc:
            if exc.ctx is None:  # options checked in make_step are this segment's
                exc.ctx = sub  # type: ignore[misc]
            raise
        steps.append(Step(name, fn, linear=bool(opts.get("linear"))))
    run_steps(steps, merged)


def filter_command(name: str):
    """Register a filter command built from ``make_step``'s options and docstring.

    ``make_step(**options)`` returns the step function; the shared I/O
    options and arguments are added here, so every command takes them alike.
    """

    def decorate(make_step):
        own = list(reversed(getattr(make_step, "__click_params__", [])))
        shared = list(reversed(io_options(lambda: None).__click_params__))

        def callback(**kwargs):
            io_kw, opts = split_io(kwargs)
            run_steps([Step(name, make_step(**opts), linear=bool(opts.get("linear")))], io_kw)

        cmd = click.Command(
            name,
            callback=callback,
            params=shared[:1] + own + shared[1:],
            help=make_step.__doc__,
            short_help=(make_step.__doc__ or "").strip().splitlines()[0],
            context_settings=CONTEXT,
        )
        cmd.make_step = make_step  # type: ignore[attr-defined]  (chains build steps from it)
        main.add_command(cmd)
        return make_step

    return decorate


@filter_command("conv")
@click.option(
    "-k",
    "--kernel",
    help="Kernel matrix: rows split by ';', values by ',' or spaces, e.g. \"0,-1,0;-1,5,-1;0,-1,0\"; or a name from 'imgfilter kernels'.",
)
@click.option(
    "--kernel-file",
    type=click.Path(exists=True, dir_okay=False),
    help="File with a whitespace- or comma-separated matrix, one row per line ('#' starts a comment; blank lines are skipped).",
)
@click.option(
    "--padding",
    type=PADDING,
    default="same",
    show_default=True,
    help="same, valid, full, P, or P_rows,P_cols.",
)
@click.option("--mode", type=MODE, default="reflect", show_default=True, help=MODE_HELP)
@click.option(
    "--cval", type=float, default=0.0, show_default=True, help="Value beyond the border for --mode constant."
)
@click.option(
    "--stride", type=INT_TUPLE, default=1, show_default=True, help="Step between outputs: N or N_rows,N_cols."
)
@click.option(
    "--dilation",
    type=INT_TUPLE,
    default=1,
    show_default=True,
    help="Spacing between kernel taps: N or N_rows,N_cols.",
)
@click.option("--convolve", "flip", is_flag=True, help="Convolve (flip the kernel) instead of correlating.")
@missing_options
def conv_step(kernel, kernel_file, padding, mode, cval, stride, dilation, flip, nan, mask_path):
    """Correlate (or convolve) with any kernel.

    Each output pixel is the sum of the kernel's weights times the pixels
    under it, per colour channel; alpha passes through (sampled the same way
    when --stride or --padding changes the size).

    \b
    Example:
      imgfilter conv --kernel "0,-1,0;-1,5,-1;0,-1,0" in.png sharp.png
      imgfilter conv --kernel sobel_x --scale offset in.png gx.png
    """
    if (kernel is None) == (kernel_file is None):
        raise click.UsageError("give exactly one of --kernel and --kernel-file")
    matrix = read_kernel(kernel, kernel_file)
    check_conv_options(matrix, padding, stride, dilation, nan, mask_path is not None)

    def fn(pixels, alpha):
        import numpy as np

        from .core.alpha import keep_alpha
        from .core.linear import convolve, correlate
        from .core.options import per_axis

        k = np.asarray(matrix, dtype=float)
        op = convolve if flip else correlate
        mask = mask_for(mask_path, pixels)

        def run(x):
            return op(
                x,
                k,
                padding=padding,
                mode=mode,
                cval=cval,
                stride=stride,
                dilation=dilation,
                nan=nan,
                mask=mask,
            )

        dil = per_axis(dilation, k.ndim, "dilation")
        eff = tuple(d * (n - 1) + 1 for n, d in zip(k.shape, dil, strict=False))
        return keep_alpha(pixels, run, alpha, eff, padding, stride, mode=mode, cval=cval), alpha

    return fn


def read_kernel(kernel: str | None, kernel_file: str | None) -> list[list[float]]:
    """The matrix of --kernel (numbers or a name) or --kernel-file; errors name the option given."""
    if kernel_file is not None:
        try:
            with open(kernel_file, encoding="utf-8") as fh:
                return parse_kernel(fh.read(), comments=True)
        except UnicodeDecodeError:
            raise click.BadParameter(
                f"{kernel_file}: not a text file", param_hint="'--kernel-file'"
            ) from None
        except OSError as exc:
            raise click.BadParameter(
                f"{kernel_file}: {exc.strerror or exc}", param_hint="'--kernel-file'"
            ) from None
        except ValueError as exc:
            raise click.BadParameter(f"{kernel_file}: {exc}", param_hint="'--kernel-file'") from None
    assert kernel is not None
    try:
        if any(ch.isalpha() for ch in kernel.replace("e", "").replace("E", "")):
            from .kernels import get_kernel

            return get_kernel(kernel)
        return parse_kernel(kernel)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--kernel'") from None


def check_conv_options(matrix: list[list[float]], padding, stride, dilation, nan: str, masked: bool) -> None:
    """What correlate would refuse for any image, checked once at parse time, naming the option."""
    from .core.options import per_axis, resolve_padding

    shape = (len(matrix), len(matrix[0]))
    try:
        per_axis(stride, 2, "--stride")
        dil = per_axis(dilation, 2, "--dilation")
    except (OptionError, TypeError) as exc:  # unreachable with INT_TUPLE's checks; kept as a guard
        raise click.UsageError(str(exc)) from None
    eff = tuple(d * (n - 1) + 1 for n, d in zip(shape, dil, strict=True))
    if max(eff) > MAX_WINDOW:
        raise click.BadParameter(
            f"{dilation}: a {shape[0]}x{shape[1]} kernel would span {eff[0]}x{eff[1]} pixels; "
            f"at most {MAX_WINDOW} a side",
            param_hint="'--dilation'",
        )
    try:
        resolve_padding(padding, eff)
    except (OptionError, TypeError) as exc:
        raise click.BadParameter(str(exc), param_hint="'--padding'") from None
    # The core's own rule (core/linear.py): a zero-sum kernel cannot be renormalized.
    total = sum(map(sum, matrix))
    scale = sum(abs(v) for row in matrix for v in row)
    if (nan != "propagate" or masked) and abs(total) <= 1e-12 * scale:
        what = "--mask" if masked else f"--nan {nan}"
        raise click.UsageError(
            f"{what} rescales each window by the kernel weights of its valid pixels, and this "
            "kernel's weights sum to zero (an edge kernel): fill the missing pixels first, "
            "or use --nan propagate without --mask"
        )


@filter_command("pool")
@click.option(
    "--size",
    type=IntTupleType(axes=None),
    default=2,
    show_default=True,
    help="Window: N, or N_rows,N_cols (a third value pools the channels too).",
)
@click.option(
    "--stride",
    type=IntTupleType(axes=None),
    default=None,
    help="Step between windows (default: --size); as many values as --size.",
)
@click.option(
    "--op",
    type=click.Choice(["max", "avg", "min"]),
    default="max",
    show_default=True,
    help="What each window keeps.",
)
@click.option(
    "--padding",
    type=click.Choice(["valid", "same"]),
    default="valid",
    show_default=True,
    help="valid: whole windows only; same: ceil(n/stride), windows clipped at the border.",
)
@missing_options
@linear_option
def pool_step(size, stride, op, padding, nan, mask_path, linear):
    """Max, average or min pooling: shrink the image by windows.

    Every channel, alpha included, is pooled the same way.

    \b
    Example:
      imgfilter pool --size 2 --op max in.png half.png
    """
    axes = len(size) if isinstance(size, tuple) else 2
    if isinstance(stride, tuple) and len(stride) != axes:
        raise click.BadParameter(
            f"{','.join(map(str, stride))}: give 1 value or {axes}, as many as --size",
            param_hint="'--stride'",
        )
    sizes = size if isinstance(size, tuple) else (size, size)

    def fn(pixels, alpha):
        import numpy as np

        from .core.windows import pool

        if padding == "valid" and any(n < k for n, k in zip(pixels.shape, sizes, strict=False)):
            shape = "x".join(map(str, pixels.shape[: len(sizes)]))
            raise ValueError(
                f"the --size {','.join(map(str, sizes))} window does not fit the {shape} image, "
                "so --padding valid leaves nothing; use --padding same (windows clipped at the border) "
                "or a smaller --size"
            )
        mask = mask_for(mask_path, pixels)

        def run(x, linear):
            return pool(x, size, stride=stride, op=op, padding=padding, nan=nan, mask=mask, linear=linear)

        if not (linear and op == "avg" and pixels.ndim == 3 and len(sizes) == 2):
            return run(pixels, linear), alpha
        # pool's linear light guesses alpha from the channel count (2 or 4);
        # the file's mode decides here: its alpha band stays linear, every
        # other band is decoded. No part given to pool has 2 or 4 channels,
        # and pooling is per channel, so the result is the same as in one call.
        colour = pixels[..., :-1] if alpha else pixels
        parts = [colour[..., :-1], colour[..., -1:]] if colour.shape[2] in (2, 4) else [colour]
        out = [run(part, True) for part in parts]
        if alpha:
            out.append(run(pixels[..., -1:], False))
        return np.concatenate(out, axis=-1), alpha

    return fn


@main.command("gallery", context_settings=CONTEXT)
@click.argument("image", required=False, type=click.Path(allow_dash=True))
@click.option("-o", "--output", default="gallery.png", show_default=True, help="Where to write the sheet.")
@click.option("--columns", type=click.IntRange(1, 12), default=4, show_default=True, help="Tiles per row.")
def gallery_command(image, output, columns):
    """A labelled contact sheet of IMAGE and every filter at its defaults.

    Without IMAGE, a bundled sample photo is used.

    \b
    Example:
      imgfilter gallery photo.jpg -o gallery.png
    """
    from .gallery import make_gallery
    from .io import ImageError

    try:
        make_gallery(image, output, columns=columns)
    except ImageError as exc:
        fail(str(exc))
        raise SystemExit(1) from None


@main.command("kernels", context_settings=CONTEXT)
def kernels_command():
    """List the named kernels ('conv --kernel NAME', 'edges --direction NAME')."""
    from .kernels import DESCRIPTIONS, KERNELS

    for name, k in KERNELS.items():
        click.echo(f"{name}: {DESCRIPTIONS.get(name, '')}")
        for row in k:
            click.echo("    " + " ".join(f"{v:8.4g}" for v in row))


from . import cli_filters  # noqa: E402,F401  (registers the filter commands)
