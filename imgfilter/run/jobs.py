"""Planning a run: which files go where, checked before any work.

Folder inputs are scanned by the format registry (:mod:`imgfilter.io.formats`),
each output's name and format are resolved once here, and every collision
(two inputs to one output, an output over an input) is refused before a
single file is read.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..io.errors import ImageError
from ..io.formats import FORMAT_NAMES, IMAGE_EXTENSIONS, READ_ONLY_EXTENSIONS, format_for, is_zarr
from .options import Inputs, UsageProblem


@dataclass
class Job:
    """One file's work: where it comes from, where it goes, in which format (resolved once)."""

    src: str
    dst: str
    fmt: str = ""  # the output's format (Pillow's name; NPY for a Zarr output)
    problem: str | None = None  # why it cannot be written (reported when its turn comes)


def output_format(dst: str, fmt: str | None) -> str:
    """The format an output is written in: --format, else its extension (ImageError if none fits)."""
    return "NPY" if is_zarr(dst) else format_for(dst, fmt)  # Zarr keeps results as .npy does


def _job(src: str, dst: str, fmt: str | None) -> Job:
    try:
        return Job(src, dst, output_format(dst, fmt))
    except ImageError as exc:
        return Job(src, dst, problem=f"{src}: cannot name its output: {exc}")


@dataclass
class Scan:
    """What the inputs hold: (file, path relative to its root), and what was left out."""

    found: list[tuple[str, str]]
    skipped: list[str]  # one-line notes, one per file left out
    notes: list[str]  # one-line notes about folders (nothing taken from them)


def scan_inputs(paths: Iterable[str], recursive: bool, convert: bool = False) -> Scan:
    """Files and the images inside folders; ``convert``: --format given, take read-only formats too."""
    scan = Scan([], [], [])
    for p in paths:
        if p != "-" and os.path.isdir(p) and not is_zarr(p):
            if recursive:
                walk = _walk_visible(p)
            else:
                try:
                    entries = sorted(os.listdir(p))
                except OSError as exc:
                    scan.notes.append(f"{p}: cannot list the folder ({exc.strerror or exc})")
                    continue
                files = [f for f in entries if os.path.isfile(os.path.join(p, f))]
                walk = iter([(p, files)])
            before = len(scan.found) + len(scan.skipped)
            for root, files in walk:
                for name in files:
                    if name.startswith("."):
                        continue
                    ext = os.path.splitext(name)[1].lower()
                    full = os.path.join(root, name)
                    if ext in IMAGE_EXTENSIONS or (convert and ext in READ_ONLY_EXTENSIONS):
                        scan.found.append((full, os.path.relpath(full, p)))
                    elif ext in READ_ONLY_EXTENSIONS:
                        scan.skipped.append(
                            f"{full}: skipped: imgfilter cannot write {ext[1:].upper()} back "
                            "(--format png, or another, converts it)"
                        )
            if not recursive and len(scan.found) + len(scan.skipped) == before:
                subs = [d for d in entries if not d.startswith(".") and os.path.isdir(os.path.join(p, d))]
                if subs:
                    scan.notes.append(
                        f"{p}: no images at its top level, only sub-folders ({len(subs)}); "
                        "-r takes the images inside them"
                    )
        else:
            scan.found.append((p, os.path.basename(p.rstrip("/\\") if is_zarr(p) else p)))
    return scan


def _walk_visible(top: str):
    """os.walk in sorted order, skipping hidden folders (.git, .cache...)."""
    for root, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        yield root, sorted(files)


def read_list(source: str, null: bool = False) -> list[str]:
    """Paths from a file ('-' is standard input): one per line, or NUL-terminated with ``null``.

    Names are taken as they are, byte for byte (``os.fsdecode``, so any
    bytes the file system allows come through); only the terminator is
    removed (a newline, or CR LF), and empty entries are left out.
    """
    try:
        if source == "-":
            if sys.stdin is None:  # started with <&-
                raise UsageProblem("--files-from -: standard input is closed")
            data = sys.stdin.buffer.read()
        else:
            with open(source, "rb") as fh:
                data = fh.read()
    except OSError as exc:
        raise UsageProblem(f"--files-from {source}: {exc.strerror or exc}") from None
    if null:
        names = data.split(b"\0")
    else:
        names = [n[:-1] if n.endswith(b"\r") else n for n in data.split(b"\n")]
    return [os.fsdecode(n) for n in names if n]


def output_name(rel: str, suffix: str, fmt: str | None) -> str:
    """``rel`` with ``suffix`` before the extension and the extension of ``fmt``."""
    stem, ext = os.path.splitext(rel)
    return stem + suffix + (FORMAT_NAMES[fmt] if fmt else ext)


@dataclass
class Plan:
    """The jobs of a run, whether it is a batch, and what the folder scan left out."""

    jobs: list[Job]
    batch: bool
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def plan_run(inputs: Inputs, fmt: str | None = None) -> Plan:
    """Every job of a run, checked before any work: no output written twice or over an input.

    ``fmt`` is --format. A single INPUT OUTPUT whose format cannot be named
    is a usage error; in a batch that file alone fails when its turn comes.
    """
    paths = list(inputs.paths)
    if inputs.null and not inputs.files_from:
        raise UsageProblem("-0/--null applies to --files-from; give --files-from FILE")
    if inputs.files_from:
        paths += read_list(inputs.files_from, null=inputs.null)
    out_dir, in_place = inputs.out_dir, inputs.in_place
    suffix = inputs.suffix or ""
    if out_dir is None and not in_place:
        if inputs.files_from or len(paths) != 2:
            raise UsageProblem(
                "give INPUT OUTPUT, or inputs (files, folders, --files-from) with --out-dir DIR or --in-place "
                f"(got {len(paths)} path{'s' if len(paths) != 1 else ''})"
            )
        src, dst = paths
        if _same_file(src, dst):
            raise UsageProblem(
                f"{dst}: OUTPUT is the INPUT file {src} itself; give another OUTPUT, "
                "or --in-place INPUT to replace it"
            )
        try:
            return Plan([Job(src, dst, output_format(dst, fmt))], False)
        except ImageError as exc:
            raise UsageProblem(str(exc)) from None
    if out_dir is not None and in_place:
        raise UsageProblem("--out-dir and --in-place exclude each other")
    if "-" in paths:
        raise UsageProblem("'-' (standard input) works only as INPUT OUTPUT, not in a batch")
    scan = scan_inputs(paths, inputs.recursive, convert=fmt is not None)
    jobs = []
    for src, rel in scan.found:
        name = output_name(rel, suffix, fmt)
        dst = (
            os.path.join(os.path.dirname(src), os.path.basename(name))
            if in_place
            else os.path.join(out_dir, name)
        )
        jobs.append(_job(src, dst, fmt))
    if not in_place:
        for job in jobs:
            if os.path.abspath(job.src) == os.path.abspath(job.dst) or (
                os.path.exists(job.dst) and os.path.samefile(job.src, job.dst)
            ):
                raise UsageProblem(
                    f"{job.src}: the batch would write over its own input; "
                    "use --suffix, another --out-dir, or --in-place"
                )
    return Plan(_check_collisions(jobs), True, scan.skipped, scan.notes)


def _file_key(path: str) -> tuple:
    """What identifies a file: its inode when it exists (hard links too), else its resolved path."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return ("path", os.path.realpath(path))
    return ("inode", st.st_dev, st.st_ino)


def _same_file(src: str, dst: str) -> bool:
    """Whether OUTPUT names the regular file INPUT is (same path, symlink or hard link)."""
    import stat

    if src == "-" or dst == "-":
        return False
    try:
        st = os.stat(src)
    except (OSError, ValueError):
        return False
    # Devices and FIFOs (/dev/stdin and /dev/stdout on one terminal) are streams, not files to replace.
    return stat.S_ISREG(st.st_mode) and _file_key(dst) == ("inode", st.st_dev, st.st_ino)


def _check_collisions(jobs: list[Job]) -> list[Job]:
    """The jobs without repeats; a usage error if two write one output or one writes another's input.

    The same file given twice for the same output (a folder and a file in
    it) is one job. Case-insensitive file systems are not considered.
    """
    by_output: dict[str, Job] = {}
    inputs: dict[tuple, Job] = {}
    unique = []
    for job in jobs:
        if not os.path.lexists(job.src):
            unique.append(job)  # reported as missing when its turn comes; it writes nothing
            continue
        key = os.path.realpath(job.dst)
        src_key = _file_key(job.src)
        first = by_output.get(key)
        if first is not None:
            if _file_key(first.src) == src_key:
                continue
            raise UsageProblem(
                f"{first.src} and {job.src} would both be written to {job.dst}; "
                "a batch writes each output once (use separate --out-dir runs or --suffix)"
            )
        by_output[key] = job
        inputs.setdefault(src_key, job)
        unique.append(job)
    for job in unique:
        other = inputs.get(_file_key(job.dst))
        if other is not None and other is not job:
            raise UsageProblem(
                f"{job.dst}: the output of {job.src} would replace {other.src}, another input of the batch"
            )
    return unique
