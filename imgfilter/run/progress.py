"""What a run prints while it works: the progress bar and one-line messages.

A message never lands on the bar's line: while jobs run, messages go
through :func:`say` to the bar's printer (in the parent) or into a list sent
back with the job's result (in a worker process).
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable
from typing import Any

# Where one-line messages go while jobs run: the progress bar's printer in
# the parent, a list in a worker process. None: straight to stderr.
EMIT: Callable[[str], None] | None = None


def say_line(line: str) -> None:
    """One line on standard error, now (flushed, so it keeps its place among other output)."""
    err = sys.stderr
    if err is None:  # started with 2>&-: there is nowhere to say it, and the run goes on
        return
    err.write(line + "\n")
    err.flush()


def stderr_is_terminal() -> bool:
    """Whether a progress bar may be drawn: standard error is there and is a terminal."""
    return sys.stderr is not None and sys.stderr.isatty()


def say(message: str) -> None:
    """``imgfilter: MESSAGE`` where messages go while jobs run."""
    line = f"imgfilter: {message}"
    if EMIT is None:
        say_line(line)
    else:
        EMIT(line)


class ProgressBar:
    """Files done out of all, on the last line of a terminal's stderr.

    A message is printed on a line of its own above the bar (the bar's line
    is cleared first and the bar drawn again below), never after the bar's text.
    """

    WIDTH = 30

    def __init__(self, total: int, file: Any) -> None:
        self.total, self.file = total, file
        self.done = 0
        self.drawn = False

    def _draw(self) -> None:
        import shutil

        count = f"{self.done}/{self.total}"
        # Narrower than the terminal: a wrapped line would not be redrawn in place.
        width = max(0, min(self.WIDTH, shutil.get_terminal_size().columns - len(count) - 17))
        filled = width * self.done // max(1, self.total)
        bar = "#" * filled + "-" * (width - filled)
        self.file.write(f"\r\x1b[Kimgfilter  [{bar}]  {count}")
        self.file.flush()
        self.drawn = True

    def start(self) -> None:
        self._draw()

    def update(self, n: int = 1) -> None:
        self.done += n
        self._draw()

    def echo(self, line: str) -> None:
        if self.drawn:
            self.file.write("\r\x1b[K")
        self.file.write(line + "\n")
        if self.drawn:
            self._draw()
        else:
            self.file.flush()

    def finish(self) -> None:
        if self.drawn:
            self.file.write("\n")
            self.file.flush()
            self.drawn = False


class NoBar:
    def start(self) -> None:
        pass

    def update(self, n: int = 1) -> None:
        pass

    def echo(self, line: str) -> None:
        say_line(line)

    def finish(self) -> None:
        pass


@contextlib.contextmanager
def chunk_progress(total: int, show: bool):
    """A bar counting the chunks of one out-of-core file (shown on a terminal only); yields tick()."""
    lock = threading.Lock()  # chunks finish on the pool's threads
    bar = ProgressBar(total, sys.stderr) if show and total > 1 else NoBar()
    bar.start()
    try:

        def tick() -> None:
            with lock:
                bar.update(1)

        yield tick
    finally:
        bar.finish()
