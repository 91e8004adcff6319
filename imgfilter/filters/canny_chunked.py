"""Canny on Dask arrays, equal to the NumPy result although edges cross chunks.

Three stages, each chunked like the input:

1. The weak/strong map of :func:`~imgfilter.filters.canny.edge_classes` per
   chunk, from the chunk and a halo of the blur's radius + 2 (Sobel and the
   suppression read two pixels more), clipped at the image's edges so that
   the border mode and skimage's outer ring apply exactly where they do on
   the whole image (the core's chunk machinery with a border-less
   footprint). Every kept pixel then sees what it sees in NumPy.
2. Per chunk, the 8-connected components of the weak-or-strong pixels
   (``scipy.ndimage.label``), numbered uniquely over the image by offsetting
   each chunk's labels by the pixels before it, and which of them hold a
   strong pixel.
3. One small task joins the labels that touch across chunk borders (the
   rows and columns on both sides of each border, over the whole image, so
   diagonal contacts at chunk corners count) with a union-find, and marks
   a component good if any of its parts holds a strong pixel; then each
   chunk keeps the pixels of good labels.

The labels of every chunk are held until stage 3 is done (int32, or int64
beyond 2**31 pixels): memory of about four to eight bytes per pixel.
"""

from __future__ import annotations

import numpy as np

from ..core.footprint import Footprint, is_dask
from ..core.names import OptionError
from ..core.options import normalize_mode, plan_window
from .canny import _sigma, edge_classes


def _classes(image, *, sigma, low, high, l2, mode, threads, mask=None):
    return edge_classes(
        image,
        sigma=sigma,
        low=low,
        high=high,
        l2=l2,
        mask=mask,
        use_quantiles=False,
        mode=mode,
        threads=threads,
    )


def _halo(sigma: float) -> int:
    return (int(4.0 * sigma + 0.5) if sigma > 0 else 0) + 2


def classes_footprint(shape, *, sigma, **_):
    k = 2 * _halo(sigma) + 1
    # mode=None: the region is clipped at the image's edge, never padded.
    return Footprint(plan_window(tuple(shape), (k, k), "same", 1, 1), None)


def _label(cls: np.ndarray, offset: int, dtype):
    import scipy.ndimage as ndi

    labels, _ = ndi.label(cls > 0, np.ones((3, 3), bool))
    labels = labels.astype(dtype)
    labels[labels > 0] += dtype(offset)
    return labels, np.unique(labels[cls == 2])


def _pairs(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Label pairs of 8-neighbours between two adjacent lines of pixels."""
    out = []
    n = len(first)
    for d in (-1, 0, 1):
        a = first[max(0, -d) : n - max(0, d)]
        b = second[max(0, d) : n - max(0, -d)]
        both = (a > 0) & (b > 0)
        out.append(np.stack([a[both], b[both]], axis=1))
    return np.concatenate(out)


def _good_labels(seams, strong_sets) -> np.ndarray:
    """Every label whose component (joined across seams) holds a strong pixel."""
    strong = np.unique(np.concatenate([np.asarray(s) for s in strong_sets] + [np.zeros(0, np.int64)]))
    pairs = [_pairs(a, b) for a, b in seams]
    pairs = np.concatenate(pairs) if pairs else np.zeros((0, 2), np.int64)
    if len(pairs) == 0:
        return strong
    nodes, inverse = np.unique(pairs, return_inverse=True)
    inverse = inverse.reshape(-1, 2)
    parent = np.arange(len(nodes))

    def find(i: int) -> int:
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:
            parent[i], i = root, parent[i]
        return root

    for a, b in inverse:
        ra, rb = find(int(a)), find(int(b))
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    roots = np.array([find(i) for i in range(len(nodes))])
    good_root = np.zeros(len(nodes), bool)
    good_root[roots[np.isin(nodes, strong)]] = True
    return np.union1d(strong, nodes[good_root[roots]])


def canny_chunked(image, mask, *, sigma, low, high, l2, mode, threads):
    """The lazy Canny of a Dask image (see the module's docstring)."""
    import dask
    import dask.array as da

    from ..core.chunked import apply_chunked

    arguments = {
        "image": image,
        "sigma": sigma,
        "low": low,
        "high": high,
        "l2": l2,
        "mode": mode,
        "threads": threads,
        "mask": mask,
    }
    if mask is None:
        del arguments["mask"]
    if len(image.shape) != 2:
        raise ValueError(f"canny needs a grey (H, W) image, got shape {tuple(image.shape)}")
    chunks = image.chunks
    if mode == "wrap":
        # The blur wraps onto the far side while the outer ring and the hysteresis
        # stop at the image's edges: one region cannot be both wrapped and clipped,
        # so a wrapped Canny takes the image as one chunk (small chunks once put 21
        # edge pixels elsewhere than NumPy).
        arguments["image"] = image.rechunk(-1)
        if mask is not None and is_dask(mask):
            arguments["mask"] = mask.rechunk(-1)
    cls = apply_chunked(_classes, classes_footprint, arguments)
    dtype = np.int32 if int(np.prod(cls.shape)) < 2**31 - 1 else np.int64
    blocks = cls.to_delayed()
    sizes = [
        [cls.chunks[0][i] * cls.chunks[1][j] for j in range(blocks.shape[1])] for i in range(blocks.shape[0])
    ]
    label = dask.delayed(_label, nout=2, pure=True)
    labels, strong = {}, []
    offset = 0
    for i in range(blocks.shape[0]):
        for j in range(blocks.shape[1]):
            labels[i, j], s = label(blocks[i, j], offset, dtype)
            strong.append(s)
            offset += sizes[i][j]
    rows = dask.delayed(lambda parts, k: np.concatenate([p[k] for p in parts]), pure=True)
    cols = dask.delayed(lambda parts, k: np.concatenate([p[:, k] for p in parts]), pure=True)
    seams = []
    for i in range(blocks.shape[0] - 1):
        up = [labels[i, j] for j in range(blocks.shape[1])]
        down = [labels[i + 1, j] for j in range(blocks.shape[1])]
        seams.append((rows(up, -1), rows(down, 0)))
    for j in range(blocks.shape[1] - 1):
        left = [labels[i, j] for i in range(blocks.shape[0])]
        right = [labels[i, j + 1] for i in range(blocks.shape[0])]
        seams.append((cols(left, -1), cols(right, 0)))
    good = dask.delayed(_good_labels, pure=True)(seams, strong)
    keep = dask.delayed(lambda lab, g: np.isin(lab, g) & (lab > 0), pure=True)
    out = [
        [
            da.from_delayed(keep(labels[i, j], good), (cls.chunks[0][i], cls.chunks[1][j]), dtype=bool)
            for j in range(blocks.shape[1])
        ]
        for i in range(blocks.shape[0])
    ]
    return da.block(out).rechunk(chunks)  # the input's chunks (a wrapped Canny took one)


def canny_dask(arguments: dict, *, batch: bool):
    """Canny of a Dask image from the dispatcher (spatial axes first; ``batch``: the rest is a batch)."""
    import dask.array as da

    options = dict(arguments)
    image = options.pop("image")
    mask = options.pop("mask", None)
    if options.pop("use_quantiles", False):
        raise OptionError(
            "use_quantiles=True needs the magnitudes of the whole image; on a Dask array "
            "pass low= and high= in gradient units (or compute() the image first)"
        )
    kw = {
        "sigma": _sigma(options["sigma"]),
        "low": options["low"],
        "high": options["high"],
        "l2": bool(options["l2"]),
        "mode": normalize_mode(options["mode"]),
        "threads": options["threads"],
    }
    if len(image.shape) == 2 or not batch:
        return canny_chunked(image, mask, **kw)
    x = image if is_dask(image) else da.from_array(np.asarray(image))
    flat = x.reshape((*x.shape[:2], -1))
    full = mask is not None and len(mask.shape) == len(x.shape)
    flat_mask = mask.reshape(flat.shape) if full else None
    out = [
        canny_chunked(flat[..., i], flat_mask[..., i] if full else mask, **kw) for i in range(flat.shape[2])
    ]
    return da.stack(out, axis=-1).reshape(x.shape)
