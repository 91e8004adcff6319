"""Dask arrays in, lazy Dask arrays out: the chunked counterpart of the tiles.

Imported only when a filter is given a ``dask.array.Array``. Each output
block is one task that gathers the input region its outputs read (the
filter's :class:`~imgfilter.core.footprint.Footprint`: the same window plan
the threaded bands use), runs the NumPy filter on it, and keeps exactly the
outputs of that block, so a chunked result equals the in-memory one:

- Inside the image a block sees its true neighbours, however small the
  chunks (a region may span many chunks; nothing is rechunked spatially).
- Beyond the image's edge the border mode is applied by index arithmetic
  (:func:`imgfilter.core.border.source_index`), so ``"wrap"`` reads the far
  side and kernels larger than a chunk or than the image work in every mode.
- A halo as long as an axis is never gathered: the block reads that whole
  axis and the filter borders it itself, exactly as on the whole image
  (where such a kernel folds, :mod:`imgfilter.core.fold`), so no block's
  region exceeds the image, whatever the kernel's size.
- Stride and padding keep the NumPy result's positions: a block computes the
  outputs ``o0..o1-1`` of the whole image, with the padding each of them has
  there, never per-chunk ones.

Output chunks follow the input's: an output goes to the chunk holding the
centre of its window (for "same"-size filters, the input's chunks exactly).
Channel axes are merged into one chunk (a filter needs all channels of a
pixel: alpha, colour differences, N filters over C channels).

Why a graph of our own rather than ``dask.array.map_overlap``: its halos are
symmetric per axis and need chunks at least as deep as the halo (it
rechunks otherwise), its boundary modes are not ours (no mirror-without-edge
"reflect", and a wrap that only reaches one chunk), and it knows nothing of
stride or padding. Each task here is what ``map_blocks`` plus trimming
would be, with the halo and border taken from the footprint.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise, product
from typing import Any

import numpy as np

from .border import source_index
from .dtypes import float_dtype
from .footprint import Footprint, is_dask
from .options import check_image


@dataclass(frozen=True)
class _AxisBlock:
    """One output block along one spatial axis, and the input region it reads."""

    out: tuple[int, int]  # outputs o0..o1-1 of the whole image
    pads: tuple[int, int]  # explicit padding for padding_arg functions
    crop: int  # first kept output of the block's result
    pieces: tuple[tuple[int, int, int], ...]  # (chunk, start, stop) to concatenate
    take: np.ndarray | None  # region position -> position in the pieces (-1: cval)


def _fits(value: float, dtype: np.dtype) -> bool:
    """Whether ``value`` is held exactly by ``dtype`` (so a border can be materialized)."""
    try:
        with np.errstate(all="ignore"):
            return bool(np.asarray(value, dtype=dtype) == value)
    except (OverflowError, ValueError):
        return False


def _out_bounds(bounds: np.ndarray, fp: Footprint, axis: int, n_out: int) -> list[int]:
    """Output chunk boundaries: an output goes with the input chunk under its window's centre."""
    plan = fp.plan
    if not fp.padding_arg:
        return [int(b) for b in bounds]
    s, (pb, _), e = plan.stride[axis], plan.pads[axis], plan.eff[axis]
    shift = pb - e // 2
    inner = [min(max(-(-(int(b) + shift) // s), 0), n_out) for b in bounds[1:-1]]
    return sorted({0, n_out, *inner})


def _pieces(idx: np.ndarray, bounds: np.ndarray):
    """Chunks (with local ranges) covering the in-image indices ``idx``, and the gather map."""
    inside = idx >= 0
    if not inside.any():
        # Wholly beyond a constant border: one pixel for the shape, then all cval.
        return ((0, 0, 1),), np.full(idx.shape, -1, dtype=np.intp)
    chunk = np.searchsorted(bounds, idx, side="right") - 1
    pieces, offsets = [], {}
    pos = 0
    for c in np.unique(chunk[inside]):
        sel = idx[inside & (chunk == c)]
        lo, hi = int(sel.min()), int(sel.max()) + 1
        offsets[int(c)] = (pos, lo)
        pieces.append((int(c), lo - int(bounds[c]), hi - int(bounds[c])))
        pos += hi - lo
    take = np.full(idx.shape, -1, dtype=np.intp)
    for c, (start, lo) in offsets.items():
        sel = inside & (chunk == c)
        take[sel] = start + idx[sel] - lo
    if not (take < 0).any() and np.array_equal(take, np.arange(len(take))):
        take = None
    return tuple(pieces), take


def _axis_blocks(
    chunks: tuple[int, ...], n: int, fp: Footprint, axis: int, materialize: bool
) -> list[_AxisBlock]:
    plan = fp.plan
    bounds = np.concatenate([[0], np.cumsum(chunks)]).astype(np.int64)
    s, (pb, _), e, n_out = plan.stride[axis], plan.pads[axis], plan.eff[axis], plan.out_shape[axis]
    ob = _out_bounds(bounds, fp, axis, n_out)
    blocks = []
    for o0, o1 in pairwise(ob):
        if o1 <= o0:
            continue
        w0, w1 = o0 * s - pb, (o1 - 1) * s - pb + e  # what the windows read
        # A "same"-size result is indexed like its input: the region holds the outputs too.
        r0, r1 = (w0, w1) if fp.padding_arg else (min(o0, w0), max(o1, w1))
        if r1 - r0 >= n:
            # A halo as long as the axis: the block reads the whole axis and the
            # filter applies the border itself, as on the whole image (where a
            # kernel this long folds onto the image, core/fold), so the region
            # is never larger than the image and the result is the in-memory one.
            idx = np.arange(n, dtype=np.intp)
            pads = tuple(plan.pads[axis]) if fp.padding_arg else (0, 0)
            pieces, take = _pieces(idx, bounds)
            blocks.append(_AxisBlock((o0, o1), pads, o0, pieces, take))
            continue
        if materialize:
            idx = source_index(r0, r1, n, fp.mode or "constant")
            pads = (0, 0)
        else:
            # The function pads the image's outer edge itself: pooling (whose
            # windows always hold a pixel), or a "same"-size filter with a
            # cval the input dtype cannot hold (its region holds its outputs).
            r0, r1 = max(r0, 0), min(r1, n)
            idx = np.arange(r0, r1, dtype=np.intp)
            pads = (r0 - w0, max(w1 - r1, 0)) if fp.padding_arg else (0, 0)
        pieces, take = _pieces(idx, bounds)
        # Padding-aware calls return exactly their outputs (or a few more at the end).
        blocks.append(_AxisBlock((o0, o1), pads, 0 if fp.padding_arg else o0 - r0, pieces, take))
    return blocks


def _assemble(parts: Any, takes: list, axis: int, fill: Any) -> np.ndarray:
    """Concatenate nested per-axis parts into the region, gathering border pixels."""
    if axis == len(takes):
        return parts
    arrays = [_assemble(p, takes, axis + 1, fill) for p in parts]
    arr = arrays[0] if len(arrays) == 1 else np.concatenate(arrays, axis=axis)
    take = takes[axis]
    if take is not None:
        outside = take < 0
        arr = np.take(arr, np.maximum(take, 0), axis=axis)
        if outside.any():
            where = (slice(None),) * axis + (outside,)
            arr[where] = fill
    return arr


def _run_block(parts, mask_parts, fn, kwargs, takes, cval, crops, counts, pads):
    region = _assemble(parts, takes, 0, cval)
    kw = dict(kwargs)
    if mask_parts is not None:
        # Beyond a constant border the outside counts as valid, as in NumPy.
        kw["mask"] = _assemble(mask_parts, takes, 0, True)
    if pads is not None:
        kw["padding"] = pads
    out = fn(region, **kw)
    return out[tuple(slice(c, c + k) for c, k in zip(crops, counts, strict=False))]


def _probe(fn: Callable, x, kwargs: dict, fp: Footprint, mask) -> np.ndarray:
    """Run the filter on a tiny zero image: the result's dtype and channel axes."""
    plan = fp.plan
    # At most the image's extent: a kernel longer than the image needs no larger probe.
    spatial = zip(plan.eff, plan.stride, x.shape[: plan.ndim], strict=False)
    shape = tuple(min(e + s, n) for e, s, n in spatial) + tuple(x.shape[plan.ndim :])
    kw = dict(kwargs)
    if mask is not None:
        kw["mask"] = np.ones(shape[: mask.ndim], dtype=bool)
    return fn(np.zeros(shape, dtype=x.dtype), **kw)


def apply_chunked(fn: Callable, footprint: Callable[..., Footprint], arguments: dict[str, Any]):
    """``fn(**arguments)`` on a Dask image: a lazy array, chunked like the input."""
    import dask.array as da
    from dask.base import tokenize
    from dask.highlevelgraph import HighLevelGraph

    image = arguments.pop("image")
    if not is_dask(image):
        arr = check_image(image)
        image = da.from_array(arr, chunks=arr.shape)
    if image.dtype == object or image.dtype.kind not in "biuf":
        raise TypeError(f"image must be a numeric array, got dtype {image.dtype}")
    if image.ndim == 0 or image.size == 0:
        raise ValueError(f"image must have at least one axis and not be empty, got shape {image.shape}")
    fp = footprint(tuple(image.shape), **arguments)
    plan = fp.plan
    nd = plan.ndim
    x = image.rechunk({a: -1 for a in range(nd, image.ndim)}) if image.ndim > nd else image

    mask = arguments.get("mask")
    if mask is not None:
        mask = mask if is_dask(mask) else da.from_array(np.asarray(mask))
        if tuple(mask.shape) != tuple(x.shape[: mask.ndim]) or mask.ndim < nd:
            raise ValueError(
                f"mask has shape {tuple(mask.shape)}, expected the image's spatial shape {tuple(x.shape[:nd])}"
            )
        mask = mask.rechunk(x.chunks[: mask.ndim])

    kwargs = {k: v for k, v in arguments.items() if k != "mask"}
    if kwargs.get("threads", 0) is None:
        # Dask runs the blocks in parallel already; one thread each.
        kwargs["threads"] = 1
    sample = _probe(fn, x, kwargs, fp, mask)
    tail = sample.shape[nd:]

    materialize = fp.mode is not None and (fp.mode != "constant" or _fits(fp.cval, x.dtype))
    if fp.mode == "constant" and fp.padding_arg and not materialize:
        # Linear filters work in float_dtype anyway (their bands are converted
        # to it): converting the chunks first lets the region hold the cval.
        x = x.astype(float_dtype(x.dtype))
        materialize = True
    axes = [_axis_blocks(x.chunks[a], x.shape[a], fp, a, materialize) for a in range(nd)]
    name = f"imgfilter-{fn.__name__}-" + tokenize(fn.__name__, x.name, getattr(mask, "name", None), kwargs)
    zeros_out = (0,) * len(tail)
    cval = fp.cval if materialize else 0
    dsk = {}
    for index in product(*(range(len(b)) for b in axes)):
        blocks = [axes[a][i] for a, i in enumerate(index)]

        def nest(source, axis, chunk_key, slices, blocks=blocks):
            if axis == nd:
                rest = source.ndim - nd
                return (
                    operator.getitem,
                    (source.name, *chunk_key, *(0,) * rest),
                    slices + (slice(None),) * rest,
                )
            return [
                nest(source, axis + 1, (*chunk_key, c), (*slices, slice(lo, hi)))
                for c, lo, hi in blocks[axis].pieces
            ]

        dsk[(name, *index, *zeros_out)] = (
            _run_block,
            nest(x, 0, (), ()),
            None if mask is None else nest(mask, 0, (), ()),
            fn,
            kwargs,
            [b.take for b in blocks],
            cval,
            # "Same"-size results, and whole-axis calls, are cropped to the block.
            [b.crop for b in blocks],
            [b.out[1] - b.out[0] for b in blocks],
            [b.pads for b in blocks] if fp.padding_arg else None,
        )
    deps = [x] if mask is None else [x, mask]
    graph = HighLevelGraph.from_collections(name, dsk, dependencies=deps)
    chunks = tuple(tuple(b.out[1] - b.out[0] for b in blocks) for blocks in axes) + tuple((t,) for t in tail)
    meta = np.empty((0,) * len(chunks), dtype=sample.dtype)
    return da.Array(graph, name, chunks=chunks, dtype=sample.dtype, meta=meta)
