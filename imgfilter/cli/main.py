"""The ``imgfilter`` command: the click group, chains with '+', and errors as one line.

Start-up stays light: this package imports click and nothing heavy; numpy,
Pillow, SciPy and the filters load inside a command, when it runs. Each
filter command (:mod:`.commands`) turns its options into a step; the shared
options become one :class:`~imgfilter.run.options.RunOptions`, and
:func:`imgfilter.run.batch.run` does the rest. Problems it raises are mapped
here to click's errors and exit statuses.
"""

from __future__ import annotations

from typing import Any

import click

from .. import __version__
from ..run.options import Step
from . import (
    commands,  # noqa: F401  (declares the filter commands)
    registry,
)
from .options import run_options, split_io
from .registry import FILTERS
from .types import CONTEXT


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
    """Run the steps with the shared options: every option was checked when the command was parsed."""
    from ..run.batch import run
    from ..run.options import FatalProblem, StartProblem, UsageProblem

    try:
        status = run(steps, run_options(io_kw))
    except UsageProblem as exc:
        raise click.UsageError(str(exc)) from None
    except StartProblem as exc:
        raise click.ClickException(str(exc)) from None
    except FatalProblem as exc:
        fail(str(exc))
        raise SystemExit(1) from None
    if status:
        raise SystemExit(status)


registry.RUN = run_steps


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
    # A Ctrl-C before the jobs run (they stop on their own, with a summary)
    # exits 130 as theirs does, without click's "Aborted!" and status 1.
    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.ClickException as exc:
            raise one_line(exc, parent) from None
        except KeyboardInterrupt:
            raise SystemExit(130) from None

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            raise one_line(exc, ctx) from None
        except KeyboardInterrupt:
            raise SystemExit(130) from None


def _one_line_warnings() -> None:
    """io's ImageWarnings (a DPI the output cannot hold) print as one line."""
    import warnings

    show = warnings.showwarning

    def one_line(message, category, filename, lineno, file=None, line=None):
        if category.__name__ == "ImageWarning":
            click.echo(f"imgfilter: warning: {message}", err=True)
        else:
            show(message, category, filename, lineno, file, line)

    if getattr(show, "_imgfilter", False):
        return
    one_line._imgfilter = True  # type: ignore[attr-defined]
    warnings.showwarning = one_line


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
    from ..run.signals import install_cleanup_handlers

    install_cleanup_handlers()  # SIGTERM/SIGHUP remove temporary outputs in flight
    _one_line_warnings()


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


# The filter commands first, in the order .commands declares them; then the tools.
for _cmd in FILTERS.values():
    main.add_command(_cmd)


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
    from ..gallery import make_gallery
    from ..io.errors import ImageError

    try:
        make_gallery(image, output, columns=columns)
    except ImageError as exc:
        fail(str(exc))
        raise SystemExit(1) from None


@main.command("kernels", context_settings=CONTEXT)
def kernels_command():
    """List the named kernels ('conv --kernel NAME', 'edges --direction NAME')."""
    from ..kernels import DESCRIPTIONS, KERNELS

    for name, k in KERNELS.items():
        click.echo(f"{name}: {DESCRIPTIONS.get(name, '')}")
        for row in k:
            click.echo("    " + " ".join(f"{v:8.4g}" for v in row))
