"""A run from start to summary: plan the jobs, pick an executor, report, return the exit status.

The CLI hands :func:`run` the steps (filters with their options) and one
:class:`~.options.RunOptions`; everything about *which* files go *where*
is in :mod:`.jobs`, one file's route in :mod:`.one`, where jobs run in
:mod:`.executors`. Nothing here knows click: problems are raised as
:class:`~.options.UsageProblem` / :class:`~.options.StartProblem` /
:class:`~.options.FatalProblem`, and the exit status is returned.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys

from . import executors, progress
from .jobs import Job, plan_run
from .options import FatalProblem, RunOptions, Step, UsageProblem
from .progress import NoBar, ProgressBar, say_line
from .signals import StopSignals


def resolve_jobs(jobs: int) -> int:
    return (os.cpu_count() or 1) if jobs == 0 else jobs


def run(steps: list[Step], options: RunOptions) -> int:
    """Apply ``steps`` to every input; report errors; the exit status (0, 1 if any failed, 128 + signal)."""
    if options.threads is not None:
        os.environ["IMGFILTER_THREADS"] = str(options.threads)
    if not options.inputs.paths and not options.inputs.files_from:
        raise UsageProblem("missing INPUT OUTPUT (or inputs with --out-dir / --files-from)")
    plan = plan_run(options.inputs, options.write.fmt)
    # A cluster is reached (or refused) before anything is created.
    with (
        executors.cluster_executor(options.scheduler, options.threads)
        if options.scheduler
        else contextlib.nullcontext()
    ) as remote:
        if plan.batch and options.inputs.out_dir is not None:
            make_out_dir(options.inputs.out_dir)
        return run_jobs(
            steps, options, plan.jobs, plan.batch, remote, plan.skipped + plan.notes, len(plan.skipped)
        )


def make_out_dir(out_dir: str) -> None:
    """Create --out-dir, or FatalProblem before any work if it cannot be written."""
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as exc:
        raise FatalProblem(
            f"--out-dir {out_dir}: cannot create it ({executors.folder_reason(out_dir, exc)})"
        ) from None
    if not os.path.isdir(out_dir):
        raise FatalProblem(f"--out-dir {out_dir}: not a folder")
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise FatalProblem(f"--out-dir {out_dir}: cannot write there (read-only or no permission)")


def run_jobs(
    steps: list[Step],
    options: RunOptions,
    jobs: list[Job],
    batch: bool,
    remote=None,
    notes: list[str] | None = None,
    skipped: int = 0,
) -> int:
    """Run the jobs (here, in worker processes or on a cluster), then the summary line; the exit status.

    ``notes``: one-line notes from planning (files and folders left out),
    ``skipped``: how many files they left out.
    """
    todo = []
    for job in jobs:
        # A partial write is a hidden temporary name, never the output's own: it never counts here.
        if options.inputs.skip_existing and job.dst != "-" and os.path.exists(job.dst):
            skipped += 1
        else:
            todo.append(job)

    written = failed = 0
    quiet = options.quiet
    n_jobs = min(resolve_jobs(options.jobs), max(1, len(todo)))
    show_bar = batch and not quiet and len(todo) > 1 and progress.stderr_is_terminal()
    bar: ProgressBar | NoBar = ProgressBar(len(todo), sys.stderr) if show_bar else NoBar()
    if not quiet:
        for note in notes or ():
            bar.echo(f"imgfilter: {note}")

    def report(job: Job, error: str | None, messages: list[str] = []) -> None:  # noqa: B006 (never mutated)
        nonlocal written, failed
        for line in messages:
            bar.echo(line)
        if error is None:
            written += 1
        else:
            failed += 1
            bar.echo(f"imgfilter: {error}")
        bar.update(1)

    executors.WORK = (steps, options, batch)
    stop = StopSignals(raise_first=remote is None and n_jobs <= 1)
    left = 0
    progress.EMIT = bar.echo
    bar.start()
    try:
        with stop:
            if remote is not None:
                left = executors.run_on_cluster(remote, todo, steps, options, batch, report, stop)
            elif n_jobs <= 1:
                left = executors.run_serial(todo, report, stop)
            else:
                per_worker = options.threads or max(1, (os.cpu_count() or 1) // n_jobs)
                left = executors.run_pool(todo, n_jobs, str(per_worker), report, stop)
    finally:
        progress.EMIT = None
        bar.finish()
    if batch and not quiet:
        line = f"{written} written, {skipped} skipped, {failed} failed"
        if stop.signum is not None:
            line += f", {left} not done (stopped by {signal.Signals(stop.signum).name})"
        say_line(line)
    if stop.signum is not None:
        return 128 + stop.signum
    return 1 if failed else 0
