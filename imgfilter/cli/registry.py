"""The filter commands, declared by :func:`filter_command` and collected here for the group.

A filter command is a function from its own options to a *step*
(``fn(pixels, alpha) -> (pixels, alpha)``); its docstring is its help. The
decorator adds the shared options (inputs, outputs, batches) to it, so every
command takes them alike and a chain can build its steps from the same
function. :mod:`.main` adds every command collected here to the group.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from .options import io_options
from .types import CONTEXT

# name -> click command, in the order they are declared (the order of --help).
FILTERS: dict[str, click.Command] = {}

# Set by .main: runs a list of Steps with the shared options (a dict of IO_KEYS).
RUN: Callable[[list[Any], dict[str, Any]], None] | None = None


_SHARED: list[click.Parameter] = []


def _shared_params() -> list[click.Parameter]:
    """The shared options' click parameters, built once: every command holds the same objects.

    A click parameter keeps no state of the command it belongs to (values live
    in the context), and building ~25 of them for each of ~26 commands was a
    tenth of the CLI's start-up.
    """
    if not _SHARED:
        _SHARED.extend(reversed(io_options(lambda: None).__click_params__))
    return _SHARED


def filter_command(name: str):
    """Register a filter command built from ``make_step``'s options and docstring.

    ``make_step(**options)`` checks its options (a click error naming the
    option, never a run on a dummy image) and returns the step function.
    """

    def decorate(make_step):
        from ..run.options import Step
        from .options import split_io

        own = list(reversed(getattr(make_step, "__click_params__", [])))
        shared = _shared_params()

        def callback(**kwargs):
            io_kw, opts = split_io(kwargs)
            assert RUN is not None
            RUN([Step(name, make_step(**opts), linear=bool(opts.get("linear")))], io_kw)

        cmd = click.Command(
            name,
            callback=callback,
            params=shared[:1] + own + shared[1:],
            help=make_step.__doc__,
            short_help=(make_step.__doc__ or "").strip().splitlines()[0],
            context_settings=CONTEXT,
        )
        cmd.make_step = make_step  # type: ignore[attr-defined]  (chains build steps from it)
        FILTERS[name] = cmd
        return make_step

    return decorate
