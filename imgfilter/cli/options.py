"""Options shared by the filter commands, and the typed run options built from them once."""

from __future__ import annotations

from typing import Any

import click

from ..run.options import Inputs, MaskFile, ReadOptions, RunOptions, WriteOptions
from .types import FORMAT, MAX_WINDOW


def _read_mask(ctx: click.Context, param: click.Parameter, value: str | None) -> MaskFile | None:
    if value is None:
        return None
    from ..io.errors import ImageError

    mask = MaskFile(value)
    try:
        mask.valid()
    except ImageError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None
    return mask


def mask_option(f):
    """--mask (read once, when the command is parsed), for the filters that can skip missing pixels."""
    return click.option(
        "--mask",
        "mask_path",
        type=click.Path(exists=True, dir_okay=False),
        callback=_read_mask,
        help="Image whose non-zero pixels are valid; the others are skipped like NaN with --nan ignore.",
    )(f)


def missing_options(f):
    """--nan and --mask, for the filters that can skip missing pixels."""
    return nan_option("fill from valid neighbours", propagate="propagate (IEEE)")(mask_option(f))


def nan_option(ignore: str, *, propagate: str = "propagate"):
    """--nan: what a filter does with NaN pixels; ``ignore`` says what ignoring them means for it."""
    return click.option(
        "--nan",
        type=click.Choice(["propagate", "ignore", "keep"]),
        default="propagate",
        show_default=True,
        help=f"NaN pixels (float images): {propagate}, ignore ({ignore}), keep (ignore, then NaN back).",
    )


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


def run_options(shared: dict[str, Any]) -> RunOptions:
    """The typed record of a run, built once from the shared options' values (:data:`IO_KEYS`)."""
    return RunOptions(
        inputs=Inputs(
            paths=tuple(shared["paths"]),
            files_from=shared["files_from"],
            null=bool(shared["null"]),
            out_dir=shared["out_dir"],
            recursive=bool(shared["recursive"]),
            suffix=shared["suffix"] or "",
            in_place=bool(shared["in_place"]),
            skip_existing=bool(shared["skip_existing"]),
        ),
        read=ReadOptions(max_pixels=shared["max_pixels"], chunks=shared["chunks"]),
        write=WriteOptions(
            fmt=shared["fmt"],
            depth=shared["depth"],
            scale=shared["scale"],
            quality=shared["quality"],
            subsampling=shared["subsampling"],
            lossless=bool(shared["lossless"]),
            compression=shared["compression"],
            strip=bool(shared["strip"]),
            strip_icc=bool(shared["strip_icc"]),
        ),
        jobs=shared["jobs"],
        scheduler=shared["scheduler"],
        threads=shared["threads"],
        quiet=bool(shared["quiet"]),
    )
