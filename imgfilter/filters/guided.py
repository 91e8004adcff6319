"""The guided filter of He, Sun and Tang (ECCV 2010; PAMI 2013).

An edge-preserving smoother that is a local linear model of a guide ``I``:
in every (2r+1)^2 window ``q = a I + b`` with ``a`` the regression slope of
the input ``p`` on ``I`` damped by ``eps``; each pixel averages the models
of the windows covering it. Everything is box means (the core's running
sums), so the cost does not depend on the radius.

Grey guide (Algorithm 1 of the paper)::

    mean_I, mean_p, corr_I, corr_Ip = f(I), f(p), f(I*I), f(I*p)
    a = (corr_Ip - mean_I mean_p) / (corr_I - mean_I**2 + eps)
    b = mean_p - a mean_I
    q = f(a) I + f(b)

Colour guide: ``a`` is the 3-vector ``(Sigma + eps U)^-1 cov(I, p)`` with
``Sigma`` the 3x3 covariance of the guide's channels in the window
(inverted in closed form, by cofactors, per pixel).

Self-guided (the usual call), ``a`` needs no inverse of its own:
``(Sigma + eps U)^-1 Sigma = U - eps (Sigma + eps U)^-1`` is symmetric, so 6
planes of ``a`` (not 9) and 3 of ``b`` are box-averaged.

Every plane of a stage (a mean, a product, a coefficient) is its own
contiguous (H, W) array, box-averaged by the core plane by plane, so the
pointwise algebra between the stages never transposes channels side by
side into planes and back (with missing pixels, a stage's planes go side
by side into one normalized call, whose one weight plane serves them all).
Each channel of the guide and the input is shifted by a constant near its
values before the sums (the model is shift-invariant: ``a`` does not
change, ``b`` absorbs the shift), so float32 sums of squares keep their
precision: the middle of an unsigned dtype's range, a float image's first
pixel (:func:`_centres`). A Dask call takes its whole image's first pixel
for every block, so the chunked result is the in-memory one. The pointwise
algebra between the stages runs some 64K values of each plane at a time on
the worker threads.

Missing pixels (``nan=``/``mask=``): every box mean of the algorithm is the
mean over the valid pixels of its window (the core's normalized sums,
:func:`imgfilter.core.linear.run_normalized`): the statistics use the
pixels where the image and the guide are both valid, and ``a`` and ``b``
are averaged over the windows centred on valid pixels.
"""

from __future__ import annotations

from contextvars import ContextVar

import numpy as np

from ..core.bounds import check_window
from ..core.buffers import empty
from ..core.dtypes import cast_like, float_dtype
from ..core.footprint import Footprint, is_dask
from ..core.linear import run_linear, run_normalized
from ..core.masked import mark_holes, restore_missing, validity
from ..core.names import OptionError
from ..core.options import check_image, normalize_mode, plan_window
from ..core.tiles import run_bands
from ._dispatch import dispatch, is_pil
from ._docs import docfiller


def _radius(radius: object) -> int:
    if isinstance(radius, (bool, np.bool_)) or not isinstance(radius, (int, np.integer)):
        raise TypeError(f"radius must be an int, got {radius!r}")
    if radius < 1:
        raise OptionError(f"radius must be >= 1, got {radius}")
    return int(radius)


def _eps(eps: object, guide: np.ndarray) -> float:
    if eps is None:
        dt = guide.dtype
        top = float(np.iinfo(dt).max) if dt.kind in "iu" else 1.0
        return 0.01 * top * top
    try:
        e = float(eps)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise TypeError(f"eps must be a number, got {eps!r}") from None
    if not (np.isfinite(e) and e > 0):
        raise OptionError(f"eps must be > 0, got {eps!r}")
    return e


#: Per-channel centres of a Dask call's image, for its blocks (see ``_dask``).
_DASK_CENTRES: ContextVar[np.ndarray | None] = ContextVar("guided_centres", default=None)


def _first_pixel(x: object) -> np.ndarray:
    """The image's first pixel per channel as float64 (non-finite values as 0)."""
    v = np.asarray(x[(0,) * 2], dtype=np.float64).reshape(-1)  # type: ignore[index]
    return np.where(np.isfinite(v), v, 0.0)


def _centres(x: np.ndarray, own: bool = True) -> np.ndarray:
    """What is taken from each channel's values before the box sums (one per channel).

    The model is shift-invariant, so any constant will do; one near the
    values keeps float32 sums of squares precise (an image of 10000 + noise).
    Unsigned integers: the middle of the range. Floats: the first pixel of
    the call's image (a Dask call's, for all its blocks: the same constant
    everywhere, so the chunked result is the in-memory one).
    """
    c = x.shape[2]
    if x.dtype.kind == "u":
        return np.full(c, float((int(np.iinfo(x.dtype).max) + 1) // 2))
    if x.dtype.kind != "f":
        return np.zeros(c)
    dask = _DASK_CENTRES.get() if own else None
    return (_first_pixel(x) if dask is None else dask)[:c]


class _Boxes:
    """Box means of a stage's planes, each (H, W) and C-contiguous.

    Beyond a constant border each plane has its own value (the paper's
    zeros, in shifted units): it is padded with it and the windows run
    "valid"; other modes are the core's. Plane by plane, so that the
    pointwise work between the stages reads and writes contiguous planes
    and nothing is transposed (each plane's sums are those of its channel
    in one stacked call, to the bit). With ``valid`` (H, W), every mean is
    over the valid pixels of its window (outside a constant border counts
    as valid, as everywhere in the core): the planes go side by side into
    one normalized call, whose one weight plane serves them all.
    """

    def __init__(self, r: int, mode: str, dtype: np.dtype, threads, valid):
        self.r, self.mode, self.dtype, self.threads, self.valid = r, mode, dtype, threads, valid
        self.missing = None if valid is None else ~valid  # once, for every plane's holes
        self.k = 2 * r + 1

    def __call__(self, planes: list[np.ndarray], fills: list[float]) -> list[np.ndarray]:
        """The planes' box means; with ``valid``, the planes (the caller's
        scratch) may be overwritten with NaN where invalid."""
        if self.valid is not None and self._mark_holes(planes):
            # A NaN that counts (nan="propagate" with a mask, or inf - inf in
            # a plane) must spread, not be taken for a hole: the planes side by
            # side over the validity array.
            out = self._stacked(np.stack(planes, axis=-1), fills, self.threads)
            return [np.ascontiguousarray(out[..., t]) for t in range(out.shape[2])]
        # The planes on the worker threads, one plane per thread at a time:
        # bands of rows of each plane in turn shared them out less well (a
        # 1080p RGB image's boxes on 2 threads: 108 ms by bands, 83 by planes;
        # 127 on one).
        means: list = [None] * len(planes)

        def work(p0: int, p1: int) -> None:
            for t in range(p0, p1):
                means[t] = self._means(planes[t], fills[t], 1)

        run_bands(len(planes), planes[0].nbytes, work, threads=self.threads)
        return means

    def _mark_holes(self, planes: list[np.ndarray]) -> bool:
        """The planes NaN where invalid (the holes the fused kernel finds); whether
        some plane holds a NaN at a valid pixel. One compiled pass a plane, on the
        worker threads (three numpy passes a plane had cost a tenth of a call)."""
        seen = [False] * len(planes)

        def work(p0: int, p1: int) -> None:
            for t in range(p0, p1):
                seen[t] = mark_holes(planes[t], self.missing)

        run_bands(len(planes), planes[0].nbytes, work, threads=self.threads)
        return any(seen)

    def _stacked(self, stack: np.ndarray, fills: list[float], threads) -> np.ndarray:
        """Box means over the valid pixels of (H, W, K) planes side by side (one weight plane)."""
        k, r, dtype = self.k, self.r, self.dtype
        ones = np.ones(k)
        kernel = np.broadcast_to(1.0, (k, k))  # shape only
        x, valid, mode = stack, self.valid, self.mode
        if mode == "constant":
            h, w, c = stack.shape
            x = empty((h + 2 * r, w + 2 * r, c), dtype)
            x[...] = np.asarray(fills, dtype)
            x[r : r + h, r : r + w] = stack
            valid = np.pad(valid, r, constant_values=True)
            plan = plan_window(x.shape, (k, k), "valid", 1, 1)
        else:
            plan = plan_window(x.shape, (k, k), "same", 1, 1)
        v = np.broadcast_to(valid[..., None], x.shape)
        return run_normalized(x, v, kernel, plan, mode, 0.0, dtype, threads, [ones, ones])

    def _means(self, plane: np.ndarray, fill: float, threads) -> np.ndarray:
        """Box means of an (H, W) plane.

        With ``valid`` the invalid pixels become NaN holes, which the core's
        fused normalized kernel finds band by band: no validity array is read,
        the planes need not go side by side for one weight plane (stacking
        and unstacking them had cost 40% of a 1080p RGB call), and each plane's
        values are those of the planes side by side over the validity array,
        to the bit."""
        k, r, dtype = self.k, self.r, self.dtype
        ones = np.ones(k)
        kernel = np.broadcast_to(1.0, (k, k))  # shape only: the separable passes never build it
        x, mode = plane, self.mode  # with valid: its holes marked NaN by _mark_holes
        if mode == "constant":
            h, w = plane.shape
            x = empty((h + 2 * r, w + 2 * r), dtype)
            x[...] = dtype.type(fill)  # beyond the border: valid pixels of the plane's own value
            x[r : r + h, r : r + w] = plane
            plan = plan_window(x.shape, (k, k), "valid", 1, 1)
        else:
            plan = plan_window(x.shape, (k, k), "same", 1, 1)
        if self.valid is None:
            return run_linear(
                x, kernel, plan, mode, 0.0, dtype, threads, factors=[ones, ones], divide=float(k * k)
            )
        return run_normalized(x, None, kernel, plan, mode, 0.0, dtype, threads, [ones, ones], nan_only=True)


# Values per plane per step of the pointwise work: enough that numpy's
# overhead per operation (its argument handling holds the GIL) is small
# against the loop, which runs without it; with steps of 5 rows of a 1080p
# image the second thread gained nothing (2 threads: 195 -> 157 ms with 34).
_STEP_VALUES = 1 << 16
_PAIRS = [(0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)]
_FULL = [[0, 1, 2], [1, 3, 4], [2, 4, 5]]  # (i, j) -> index of the pair in xx, xy, xz, yy, yz, zz
# Cofactors of a symmetric 3x3 matrix (pairs xx, xy, xz, yy, yz, zz): s[A] s[B] - s[C] s[D].
_CA, _CB, _CC, _CD = [3, 2, 1, 0, 1, 0], [5, 4, 4, 5, 2, 3], [4, 1, 2, 2, 0, 1], [4, 5, 3, 2, 4, 1]


def _rows_of(h: int, w: int, channels: int, itemsize: int, threads, work) -> None:
    """``work(rows)`` over the image's rows, a few at a time, on the worker threads."""
    step = max(1, -(-_STEP_VALUES // max(1, w)))

    def band(r0: int, r1: int) -> None:
        for a in range(r0, r1, step):
            work(slice(a, min(a + step, r1)))

    run_bands(h, w * channels * itemsize * 4, band, threads=threads)


def _coefficients(m1, g, c, same, eps_t, dtype, threads) -> list[np.ndarray]:
    """a and b of every window from the first stage's means (planes): their planes.

    Layout: self-guided colour: the 6 distinct entries of the symmetric
    ``a`` (pairs as ``_PAIRS``), then b per channel; otherwise ``a[k, i]``
    (channel k, guide channel i, k-major), then b per channel.
    """
    h, w = m1[0].shape
    na = (len(_PAIRS) if g == 3 else 1) if same else c * g
    out = [empty((h, w), dtype) for _ in range(na + c)]
    one = dtype.type(1)
    npairs = 1 if g == 1 else len(_PAIRS)
    base = g + npairs  # the input's means and products, when it is not the guide

    def work(rows: slice) -> None:
        m = [plane[rows] for plane in m1]
        o = [plane[rows] for plane in out]
        a, b = o[:na], o[na:]
        mi = m[:g]
        if g == 1:
            var = m[1] - mi[0] * mi[0]
            den = var + eps_t
            if same:
                np.divide(var, den, out=a[0])
                np.multiply(a[0], mi[0], out=b[0])
                np.subtract(mi[0], b[0], out=b[0])
            else:
                for k in range(c):
                    mp = m[base + k]
                    np.multiply(mi[0], mp, out=a[k])
                    np.subtract(m[base + c + k], a[k], out=a[k])
                    a[k] /= den
                    np.multiply(a[k], mi[0], out=b[k])
                    np.subtract(mp, b[k], out=b[k])
        else:
            sig = [m[g + t] - mi[i] * mi[j] for t, (i, j) in enumerate(_PAIRS)]
            for t in (0, 3, 5):
                sig[t] += eps_t
            cof = []
            for t in range(6):
                x = sig[_CA[t]] * sig[_CB[t]]
                x -= sig[_CC[t]] * sig[_CD[t]]
                cof.append(x)
            det = sig[0] * cof[0]
            det += sig[1] * cof[1]
            det += sig[2] * cof[2]
            if same:
                # a = U - eps (Sigma + eps U)^-1: symmetric, 6 distinct entries.
                np.divide(dtype.type(-eps_t), det, out=det)
                for t in range(6):
                    np.multiply(cof[t], det, out=a[t])
                for t in (0, 3, 5):
                    a[t] += one
                for k in range(3):
                    # b_k = mean_I[k] - sum over i of a[k, i] mean_I[i].
                    np.multiply(a[_FULL[k][0]], mi[0], out=b[k])
                    b[k] += a[_FULL[k][1]] * mi[1]
                    b[k] += a[_FULL[k][2]] * mi[2]
                    np.subtract(mi[k], b[k], out=b[k])
            else:
                np.reciprocal(det, out=det)
                for k in range(c):
                    mp = m[base + k]
                    cov = [m[base + c + k * g + i] - mi[i] * mp for i in range(g)]
                    np.copyto(b[k], mp)
                    for i in range(3):
                        # a_k = Sigma^-1 cov_k: row i of the cofactors times cov_k, over det.
                        ak = a[k * g + i]
                        f = _FULL[i]
                        np.multiply(cof[f[0]], cov[0], out=ak)
                        ak += cof[f[1]] * cov[1]
                        ak += cof[f[2]] * cov[2]
                        ak *= det
                        b[k] -= ak * mi[i]

    _rows_of(h, w, 3 * len(m1) + 3 * (na + c), dtype.itemsize, threads, work)
    return out


def _filter(p, guide, r, eps, mode, dtype, threads, *, same=False, valid=None, out_dtype=None):
    """q for every channel of ``p`` (H, W, C) with a guide (H, W, G), G = 1 or 3.

    ``same``: ``p`` is the guide, whose means and covariances then serve as
    the input's too. ``valid`` (H, W): the pixels that count (see the
    module's doc). Returns ``out_dtype`` (rounded, clipped) or, by default,
    floats in ``dtype``.
    """
    h, w, c = p.shape
    g = guide.shape[2]
    eps_t = dtype.type(eps)
    boxes = _Boxes(r, mode, dtype, threads, valid)
    si = _centres(guide, own=same)
    sp = si if same else _centres(p)
    # Stage 1: the guide's means and second moments (and the input's), one stack.
    pairs = [(0, 0)] if g == 1 else _PAIRS
    base = g + len(pairs)
    n1 = base + (0 if same else c + c * g)
    s1 = [empty((h, w), dtype) for _ in range(n1)]
    fills = [-si[i] for i in range(g)] + [si[i] * si[j] for i, j in pairs]
    if not same:
        fills += [-sp[k] for k in range(c)] + [si[i] * sp[k] for k in range(c) for i in range(g)]

    def shifted(x: np.ndarray, rows: slice, centre: np.ndarray, to: list | None = None) -> list:
        """Rows of x's channels as planes in ``dtype`` (into ``to``), less their centres."""
        band = x[rows]
        planes = to if to is not None else [empty(band.shape[:2], dtype) for _ in range(band.shape[2])]
        for i, plane in enumerate(planes):
            np.copyto(plane, band[..., i], casting="unsafe")
            if centre[i]:
                plane -= dtype.type(centre[i])
        return planes

    def build(rows: slice, s1: list = s1) -> None:
        o = [plane[rows] for plane in s1]
        gi = shifted(guide, rows, si, o[:g])
        for t, (i, j) in enumerate(pairs):
            np.multiply(gi[i], gi[j], out=o[g + t])
        if not same:
            shifted(p, rows, sp, o[base : base + c])
            for k in range(c):
                for i in range(g):
                    np.multiply(gi[i], o[base + k], out=o[base + c + k * g + i])

    _rows_of(h, w, 3 * n1, dtype.itemsize, threads, build)
    m1 = boxes(s1, fills)
    del s1, build
    # Stage 2: a and b per window, then their means (beyond a constant border
    # the paper's a = b = 0: in shifted units b' = b - sp + a si = -sp).
    ab = _coefficients(m1, g, c, same, eps_t, dtype, threads)
    del m1
    na = len(ab) - c
    m2 = boxes(ab, [0.0] * na + [-sp[k] for k in range(c)])
    del ab
    q = empty((h, w, c), out_dtype if out_dtype is not None else dtype)
    # Per channel k, the columns of a that weigh guide channels 0..g-1.
    cols = [[(_FULL[k][i] if g == 3 else 0) if same else k * g + i for i in range(g)] for k in range(c)]

    def finish(rows: slice) -> None:
        m = [plane[rows] for plane in m2]
        gi = shifted(guide, rows, si)
        acc = empty(m[0].shape, dtype)
        for k in range(c):
            np.add(m[na + k], dtype.type(sp[k]), out=acc)
            for i in range(g):
                acc += m[cols[k][i]] * gi[i]
            q[rows, :, k] = acc if out_dtype is None else cast_like(acc, out_dtype)

    _rows_of(h, w, 3 * len(m2) + 2 * c, dtype.itemsize, threads, finish)
    return q


def guided_footprint(shape, guide=None, *, radius=8, mode="reflect", **_):
    # Two box stages: an output reads 2r pixels each way. mode=None: Dask
    # regions end at the image's edge and the body borders them itself, as
    # on the whole image (a border of a and b, not of the image); except
    # "wrap", which both stages commute with: there a region must see the far
    # side (without it, blocks near the edges wrapped onto themselves: 0.01
    # off on a float image of 0..1).
    k = 4 * _radius(radius) + 1
    periodic = isinstance(mode, str) and normalize_mode(mode) == "wrap"
    return Footprint(plan_window(tuple(shape), (k, k), "same", 1, 1), "wrap" if periodic else None)


class _Centred:
    """A Dask call's block function, run with the call's centres (see ``_centres``)."""

    def __init__(self, fn, centres: np.ndarray):
        self.fn, self.centres = fn, centres
        self.__name__ = fn.__name__

    def __call__(self, region, **kwargs):
        token = _DASK_CENTRES.set(self.centres)
        try:
            return self.fn(region, **kwargs)
        finally:
            _DASK_CENTRES.reset(token)


def _dask(fn, footprint, arguments):
    """The dispatcher's Dask hook: the chunked engine, every block centred like the whole image."""
    import dask.array as da

    from ..core.chunked import apply_chunked

    image = arguments["image"]
    if getattr(fn, "axes", None) is None or len(image.shape) <= 3:
        return apply_chunked(_Centred(fn, _first_pixel(image)), footprint, arguments)
    # A batch (H, W, B..., C): each image centred on its own first pixel, as in memory.
    x = image if is_dask(image) else da.from_array(np.asarray(image))
    shape = tuple(x.shape)
    flat = x.reshape((*shape[:2], -1, shape[-1]))
    mask = arguments.get("mask")
    full = mask is not None and len(mask.shape) == len(shape)
    one = type(fn)(fn.public, None)
    out = []
    for b in range(flat.shape[2]):
        args = dict(arguments, image=flat[:, :, b])
        if full:
            args["mask"] = mask.reshape(flat.shape)[:, :, b]
        out.append(apply_chunked(_Centred(one, _first_pixel(flat[:, :, b])), footprint, args))
    res = da.stack(out, axis=2)
    return res.reshape(shape[:-1] + tuple(res.shape[3:]))


@dispatch(guided_footprint, alpha="pass", missing=True, independent=False, chunked=_dask)
@docfiller
def guided(
    image: np.ndarray,
    guide: np.ndarray | None = None,
    *,
    radius: int = 8,
    eps: float | None = None,
    mode: str = "reflect",
    alpha: bool | None = None,
    threads: int | None = None,
    nan: str = "propagate",
    mask: object = None,
    axes: object = None,
) -> np.ndarray:
    """Guided filter (He, Sun and Tang 2010): edge-preserving smoothing led by a guide.

    Each channel of ``image`` follows the edges of ``guide`` (the image
    itself by default): flat where the guide is flat, sharp where it has
    edges of variance well above ``eps``. Grey (1-channel) and colour
    (3-channel) guides, the latter with the paper's 3x3 covariance per
    pixel. O(1) in the radius (box means by running sums).

    Equal, to float32 rounding, to a float64 transcription of the paper's
    algorithm with ``scipy.ndimage.uniform_filter`` (mode as below), and to
    OpenCV-contrib's ``cv2.ximgproc.guidedFilter(guide, image, radius, eps)``
    with ``mode="symmetric"`` (OpenCV's BORDER_REFLECT).

    Parameters
    ----------
    image : array_like or PIL image
        (H, W) or (H, W, C), any channels; each is filtered (with a colour
        guide, all of them follow it). More axes need ``axes=``; a
        ``numpy.ma.MaskedArray`` counts its masked values as missing. A
        ``dask.array.Array`` gives a lazy Dask array equal to the NumPy
        result (self-guided only: ``guide=None``).
    guide : array_like or PIL image, optional
        (H, W), (H, W, 1) or (H, W, 3), the image's spatial shape (its
        spatial axes in the order of ``axes``). Default: the image (its
        colour channels when it has alpha); an image with 2 or more than 3
        channels needs an explicit guide.
    radius : int, optional
        Window radius r >= 1: windows of (2r + 1) x (2r + 1).
    eps : float, optional
        Regularization, a variance in the guide's own units squared, as
        OpenCV takes it (for an 8-bit guide 0..255 units: eps=100 damps
        edges of standard deviation below about 10 levels). Default: 0.01
        of the guide's full range squared, the paper's 0.1**2 for guides in
        0..1: 0.01 for float guides, 0.01 * 255**2 for 8-bit, 0.01 *
        65535**2 for 16-bit ones.
    mode : str, optional
        Border mode of the box means, as in :func:`imgfilter.correlate`.
    %(alpha_pass)s
    %(threads)s
    nan : {"propagate", "ignore", "keep"}, optional
        Missing pixels: with ``"ignore"`` every box mean of the algorithm
        is the mean over the valid pixels of its window: the statistics
        (means, variances, covariances) use the pixels where the image (in
        every channel) and the guide are valid, and ``a``, ``b`` are
        averaged over the windows centred on such pixels. An explicit
        guide fills the image's holes (a missing pixel takes ``a I + b``
        from its guide value); where the guide is missing (the image's own
        holes when it guides itself) or a window holds no valid pixel, the
        result is NaN for floats and the pixel's own value for integers.
        ``"keep"`` also puts NaN back where the image had it.
    %(mask)s
    %(axes)s

    Returns
    -------
    ndarray
        The image's dtype (integers rounded to nearest and clipped);
        computed in float32 (float64 for float64 and 32/64-bit integers).

    Examples
    --------
    >>> import numpy as np
    >>> step = np.repeat([[0.0] * 4 + [1.0] * 4], 8, axis=0)
    >>> noisy = step + np.tile([0.02, -0.02], 32).reshape(8, 8)
    >>> out = guided(noisy, step, radius=2, eps=1e-4)
    >>> float(np.abs(out - step).max()) < 0.5 * float(np.abs(noisy - step).max())
    True
    """
    arr = image
    r = _radius(radius)
    mode = normalize_mode(mode)
    if arr.ndim not in (2, 3):
        raise ValueError(f"image must be (H, W) or (H, W, C), got shape {arr.shape}")
    if guide is None:
        g = arr
    elif is_dask(guide):
        raise OptionError(
            "guide= as a Dask array: guided takes Dask images self-guided only (guide=None); "
            "compute() the guide and the image, or let the image guide itself"
        )
    elif is_pil(guide):
        from ..io import pil_to_array

        g = check_image(pil_to_array(guide), "guide")
    else:
        g = check_image(guide, "guide")
    if g.shape[:2] != arr.shape[:2]:
        raise ValueError(f"guide has shape {g.shape}, expected the image's spatial shape {arr.shape[:2]}")
    g3 = g if g.ndim == 3 else g[..., None]
    if g3.ndim != 3 or g3.shape[2] not in (1, 3):
        raise ValueError(
            f"guide must have 1 or 3 channels, got shape {g.shape}; pass guide= explicitly "
            "(e.g. the image's first three channels or its luminance)"
        )
    e = _eps(eps, g3)
    dtype = (
        np.dtype(np.float64)
        if np.float64 in (float_dtype(arr.dtype), float_dtype(g3.dtype))
        else np.dtype(np.float32)
    )
    p3 = arr if arr.ndim == 3 else arr[..., None]
    if mode == "constant":
        # Each plane is padded by r on every side (the other modes fold): bounded.
        h, w = arr.shape[:2]
        check_window(
            "radius",
            radius,
            outputs=h * w,
            taps=1,
            block_bytes=(h + 2 * r) * (w + 2 * r) * dtype.itemsize,
            image_bytes=arr.nbytes,
        )
    valid = validity(arr, nan, mask)
    if valid is None:
        q = _filter(p3, g3, r, e, mode, dtype, threads, same=guide is None, out_dtype=arr.dtype)
        return q if arr.ndim == 3 else q[..., 0]
    plane = valid if valid.ndim == 2 else valid.all(axis=-1)
    guide_ok = plane if guide is None else validity(g3, nan)
    if guide_ok is not None and guide_ok.ndim == 3:
        guide_ok = guide_ok.all(axis=-1)
    both = plane if guide is None or guide_ok is None else plane & guide_ok
    q = _filter(p3, g3, r, e, mode, dtype, threads, same=guide is None, valid=both)
    if guide_ok is not None:
        q[~guide_ok] = np.nan
    q = restore_missing(q, p3, np.broadcast_to(plane[..., None], p3.shape), nan)
    return q if arr.ndim == 3 else q[..., 0]
