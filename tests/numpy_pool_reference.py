"""The numpy window fold that the compiled pool (imgfilter/_engine/pool.c)
replaced, with the channel-outer iteration it used; an oracle for
tests/test_engine_pool.py."""

from __future__ import annotations

import numpy as np


def channels_outer(plan, shape) -> bool:
    nd = plan.ndim
    channels = int(np.prod(shape[nd:], dtype=np.int64))
    return plan.stride[nd - 1] > 1 and 1 < channels <= 8


def outer(view: np.ndarray, nd: int) -> np.ndarray:
    rest = view.ndim - nd
    return np.moveaxis(view, tuple(range(nd, view.ndim)), tuple(range(rest)))


def fold_window(ufunc, block, plan, counts, out) -> None:
    """out = ufunc.reduce over each full (rectangular) window: sums, max, fmin...

    One axis at a time, as a separable filter: a 2x2 pool is one add of row
    pairs (contiguous, fast) and one of column pairs, not three adds of
    strided views, and a k x k window costs 2(k - 1) passes, not k^2 - 1.
    For float sums the grouping differs from tap order by rounding only;
    integer-valued sums (8- and 16-bit images) are exact either way.
    """
    nd = plan.ndim
    cur = block
    for axis in range(nd):
        k, s, d, n = plan.ksize[axis], plan.stride[axis], plan.dilation[axis], counts[axis]
        last = axis == nd - 1

        def view(t, cur=cur, axis=axis, s=s, d=d, n=n):
            return cur[(slice(None),) * axis + (slice(t * d, t * d + (n - 1) * s + 1, s),)]

        if k == 1 and not last:
            cur = view(0)
            continue
        dst = out if last else np.empty((*cur.shape[:axis], n, *cur.shape[axis + 1 :]), dtype=out.dtype)
        if k == 1:
            np.copyto(dst, view(0))
            break
        # The last axis' stride splits pixels from their channels (see channels_outer).
        flip = last and channels_outer(plan, block.shape)
        order = "C" if flip else "K"
        views = (view(t) for t in range(k))
        if flip:
            views = (outer(v, nd) for v in views)
            dst = outer(dst, nd)
        ufunc(next(views), next(views), out=dst, order=order)
        for v in views:
            ufunc(dst, v, out=dst, order=order)
        cur = dst
