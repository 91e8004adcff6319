"""The one dispatcher of the public filters: the option matrix, handled once.

Every public filter is a body (its kernel construction plus one core call)
under :func:`dispatch`, which declares what the filter reads (its footprint)
and its policies, and does the rest in one place, in this order:

1. inputs: a PIL image is read as :func:`imgfilter.imread` reads a file; a
   ``numpy.ma.MaskedArray`` is its data with ``mask=~getmaskarray`` (masked
   = missing); a Dask array (image or mask) goes to the chunked engine
   (:mod:`imgfilter.core.chunked`), whose blocks come back here as arrays;
2. ``axes=``: which axes are spatial (as SciPy >= 1.11). They are moved to
   the front; the other axes are filtered independently: merged into one
   channel axis for filters that treat channels on their own, else the last
   one is the channel axis (colour, alpha) and the ones before it a batch,
   filtered slice by slice. The result has the input's axis order. Without
   ``axes=``, an array with more axes than (spatial + one channel axis) is
   refused, never silently filtered across a batch;
3. ``alpha=``: arrays are data (``alpha=None`` is False), a PIL image with
   an alpha band has alpha (:func:`imgfilter.core.alpha.resolve_alpha`).
   Policy ``"pass"``: the body filters the colour, alpha is carried along
   (sampled like the windows' centres when the geometry changes);
   ``"premultiply"`` and ``"data"``: the body gets the resolved flag (it
   weights colour by alpha in its own weighted sums, or reads it as a band);
4. ``nan=`` is normalized and ``mask=`` (with a MaskedArray's) handed over;
5. ``linear=``: the image decoded to linear light, filtered, encoded back
   (:func:`imgfilter.core.srgb.in_linear_light`), unless the body decodes
   and encodes inside the engine's bands for this call (``fused``);
6. the result type: ``"float"`` filters return :func:`~imgfilter.core.dtypes.float_dtype`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from ..core.alpha import keep_alpha, resolve_alpha
from ..core.dtypes import float_dtype
from ..core.footprint import Footprint, is_dask
from ..core.masked import check_nan
from ..core.names import OptionError
from ..core.options import check_image

F = TypeVar("F", bound=Callable[..., Any])

ALPHA_POLICIES = ("pass", "premultiply", "data", "none")
LINEAR_POLICIES = (None, "wrap", "own")


@dataclass(frozen=True)
class Policy:
    """What a public filter declares; see :func:`dispatch`."""

    footprint: Callable[..., Footprint]
    alpha: str = "pass"
    missing: bool = False
    linear: str | None = None
    fused: Callable[[np.ndarray, bool, object], bool] | None = None
    result: str = "own"
    spatial: int | Callable[[int, dict], tuple[int, bool]] = 2
    independent: bool = True
    channels: bool = True
    chunked: Callable[..., Any] | None = None


def is_pil(value: object) -> bool:
    """Whether ``value`` is a PIL image (without importing Pillow)."""
    return hasattr(value, "getbands") and hasattr(value, "mode")


def dispatch(
    footprint: Callable[..., Footprint],
    *,
    alpha: str = "pass",
    missing: bool = False,
    linear: str | None = None,
    fused: Callable[[np.ndarray, bool, object], bool] | None = None,
    result: str = "own",
    spatial: int | Callable[[int, dict], tuple[int, bool]] = 2,
    independent: bool = True,
    channels: bool = True,
    chunked: Callable[..., Any] | None = None,
) -> Callable[[F], F]:
    """Declare a public filter and give it the whole option matrix.

    Parameters
    ----------
    footprint : callable
        ``footprint(shape, **options)`` -> :class:`~imgfilter.core.footprint.Footprint`:
        what one call reads (the Dask blocks' halos, alpha's geometry).
    alpha : {"pass", "premultiply", "data", "none"}
        How the filter treats an alpha channel (see the module's doc).
    missing : bool
        Whether the filter takes ``nan=``/``mask=`` (and so MaskedArrays
        with masked pixels).
    linear : {None, "wrap", "own"}
        ``"wrap"``: ``linear=True`` runs the body in linear light here
        (unless ``fused(image, alpha, mask)`` says the body does it inside
        its bands, and then it gets ``linear=True``); ``"own"``: the body
        takes ``linear`` itself.
    result : {"own", "float"}
        ``"float"``: the result is cast to the image's float work type.
    spatial : int or callable
        Number of spatial axes, or ``spatial(ndim, options)`` -> ``(n,
        explicit)`` when options decide it (a kernel's axes, a pooling
        size per axis: ``explicit``, and then all further axes are channels;
        an implied count refuses more than one channel axis without ``axes=``).
    independent : bool
        Whether channels are filtered on their own (batches then merge
        into the channel axis: one core call).
    channels : bool
        False: the filter takes no channel axis (Canny: grey images only).
        With ``axes=`` every other axis is a batch, each slice one call of
        the body; without, the body sees the image as it is (and refuses
        what it does not take).
    chunked : callable, optional
        ``chunked(fn, footprint, arguments)`` in place of the chunked
        engine's :func:`~imgfilter.core.chunked.apply_chunked` (same
        signature), for a filter whose result reaches beyond any halo
        (Canny's hysteresis); it gets the spatial axes first.
    """
    if alpha not in ALPHA_POLICIES:
        raise ValueError(f"alpha policy {alpha!r}")
    if linear not in LINEAR_POLICIES:
        raise ValueError(f"linear policy {linear!r}")
    policy = Policy(footprint, alpha, missing, linear, fused, result, spatial, independent, channels, chunked)

    def decorate(fn: F) -> F:
        signature = inspect.signature(fn)
        first = next(iter(signature.parameters))
        bind = _binder(signature, fn.__name__)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            options = bind(args, kwargs)
            image = options.pop(first)
            axes = options.pop("axes", None)
            if is_dask(image) or is_dask(options.get("mask")):
                return _chunked(wrapper, policy, image, axes, options)
            return _in_memory(fn, policy, image, axes, options)

        wrapper.footprint = footprint  # type: ignore[attr-defined]
        wrapper.policy = policy  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def _binder(signature: inspect.Signature, name: str) -> Callable[[tuple, dict], dict]:
    """``signature.bind`` plus defaults, as a dict, without its cost on the usual calls
    (every call of a filter pays it); anything unusual goes to ``bind`` for its errors,
    which then name the filter (and, for extra positional arguments, the keyword way)."""
    params = list(signature.parameters.values())
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    positional = [p.name for p in params if p.kind in kinds]
    keyword = {p.name for p in params if p.kind is not inspect.Parameter.POSITIONAL_ONLY}
    defaults = {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}
    required = [p.name for p in params if p.default is inspect.Parameter.empty]
    simple = all(p.kind in (*kinds, inspect.Parameter.KEYWORD_ONLY) for p in params)

    def slow(args: tuple, kwargs: dict) -> dict:
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as err:
            message = f"{name}(): {err}"
            if simple and len(args) > len(positional):
                options = [p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY]
                message = (
                    f"{name}() takes {len(positional)} positional argument"
                    f"{'' if len(positional) == 1 else 's'} ({', '.join(positional)}) but {len(args)} were"
                    f" given; its options are keyword-only"
                    + (f", e.g. {name}(..., {options[0]}=...)" if options else "")
                )
            raise TypeError(message) from None
        bound.apply_defaults()
        return dict(bound.arguments)

    def bind(args: tuple, kwargs: dict) -> dict:
        if not simple or len(args) > len(positional):
            return slow(args, kwargs)
        out = dict(defaults)
        out.update(zip(positional, args, strict=False))
        for key in kwargs:
            if key not in keyword or key in positional[: len(args)]:
                return slow(args, kwargs)
        out.update(kwargs)
        if any(name not in out for name in required):
            return slow(args, kwargs)
        return out

    return bind


# --- inputs ---------------------------------------------------------------------------------


def _as_array(image: object, policy: Policy, options: dict) -> np.ndarray:
    """PIL and MaskedArray inputs as plain arrays (a MaskedArray's mask into ``mask=``)."""
    if is_pil(image):
        # Read exactly as the CLI reads a file (bit depth, palette, orientation).
        from ..io import pil_to_array

        return check_image(pil_to_array(image))
    if isinstance(image, np.ma.MaskedArray):
        data = np.ma.getdata(image)
        masked = np.ma.getmaskarray(image)
        if masked.any():
            if not policy.missing:
                raise OptionError(
                    "this filter takes no missing pixels (no mask=), but the MaskedArray has "
                    f"{int(masked.sum())} masked values; fill them first (MaskedArray.filled)"
                )
            valid = ~masked
            user = options.get("mask")
            if user is not None:
                # Both count: a pixel is valid when the user's mask and the array's say so.
                u = np.asarray(user)
                u = u if u.dtype == bool else u != 0
                u = u.reshape(u.shape + (1,) * (valid.ndim - u.ndim))
                valid = valid & u
            options["mask"] = valid
        return check_image(data)
    return check_image(image)


def _spatial(policy: Policy, ndim: int, options: dict) -> tuple[int, bool]:
    """(number of spatial axes, whether the call's options name them: a
    kernel's axes, a pooling size per axis; then any further axes are channels)."""
    s = policy.spatial
    if isinstance(s, int):
        return s, False
    n, explicit = s(ndim, options)
    return int(n), bool(explicit)


def normalize_axes(axes: object, ndim: int, spatial: int) -> tuple[int, ...]:
    """``axes=`` as ``spatial`` distinct non-negative axes of an ``ndim``-axis image."""
    if isinstance(axes, (int, np.integer)) and not isinstance(axes, (bool, np.bool_)):
        axes = (axes,)
    if not isinstance(axes, Sequence) or isinstance(axes, str):
        raise TypeError(f"axes must be a sequence of {spatial} ints, got {axes!r}")
    if len(axes) != spatial:
        raise OptionError(f"axes={tuple(axes)!r} must name {spatial} spatial axes, one per filtered axis")
    out = []
    for a in axes:
        if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, np.integer)):
            raise TypeError(f"axes must be ints, got {axes!r}")
        if not -ndim <= a < ndim:
            raise OptionError(f"axes={tuple(axes)!r} is out of range for an image with {ndim} axes")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise OptionError(f"axes={tuple(axes)!r} names an axis twice")
    return tuple(out)


def _refuse_batch(name: str, shape: tuple[int, ...], spatial: int) -> None:
    raise OptionError(
        f"{name} filters {spatial} spatial axes plus at most one channel axis, but the image has "
        f"shape {shape} ({len(shape)} axes); say which axes are spatial with axes=, e.g. "
        f"axes=(1, 2) for a batch (N, H, W, C) or a channels-first (C, H, W) image"
    )


def _full_mask(mask: object, ndim: int) -> bool:
    return mask is not None and np.ndim(mask) == ndim


# --- the in-memory path --------------------------------------------------------------------


def _in_memory(fn: Callable, policy: Policy, image: object, axes: object, options: dict) -> np.ndarray:
    arr = _as_array(image, policy, options)
    n, explicit = _spatial(policy, arr.ndim, options)
    if axes is None:
        if arr.ndim > n + 1 and not explicit:
            _refuse_batch(fn.__name__, arr.shape, n)
        return _one(fn, policy, image, arr, options)
    ax = normalize_axes(axes, arr.ndim, n)
    rest = [a for a in range(arr.ndim) if a not in ax]
    if not policy.channels and rest:
        return _slices(fn, policy, image, arr, ax, rest, options)
    if ax == tuple(range(n)) and len(rest) <= 1:
        return _one(fn, policy, image, arr, options)
    order = (*ax, *rest)
    mask = options.get("mask")
    moved = np.ascontiguousarray(arr.transpose(order))
    if _full_mask(mask, arr.ndim):
        options["mask"] = np.ascontiguousarray(np.asarray(mask).transpose(order))
    rest_shape = moved.shape[n:]
    merge = len(rest) > 1 and policy.independent and options.get("alpha") is not True
    if len(rest) <= 1 or merge:
        if merge:
            moved = moved.reshape((*moved.shape[:n], -1))
            if _full_mask(options.get("mask"), arr.ndim):
                options["mask"] = options["mask"].reshape(moved.shape)
        out = _one(fn, policy, image, moved, options)
        if merge:
            out = out.reshape(out.shape[:n] + rest_shape)
        return _restore(out, ax, rest)
    # A batch of (spatial..., C) images, one core call each.
    batch_shape = rest_shape[:-1]
    flat = moved.reshape((*moved.shape[:n], -1, rest_shape[-1]))
    mask = options.get("mask")
    flat_mask = mask.reshape(flat.shape) if _full_mask(mask, arr.ndim) else None
    results = []
    for b in range(flat.shape[n]):
        opts = dict(options)
        if flat_mask is not None:
            opts["mask"] = flat_mask[(slice(None),) * n + (b,)]
        results.append(_one(fn, policy, image, flat[(slice(None),) * n + (b,)], opts))
    out = np.stack(results, axis=n)
    out = out.reshape(out.shape[:n] + batch_shape + out.shape[n + 1 :])
    return _restore(out, ax, rest)


def _slices(fn, policy: Policy, image, arr: np.ndarray, ax, rest, options: dict) -> np.ndarray:
    """A filter without channels (``channels=False``) on a batch: one call per slice of the other axes."""
    n = len(ax)
    order = (*ax, *rest)
    moved = arr.transpose(order)
    flat = moved.reshape((*moved.shape[:n], -1))
    mask = options.get("mask")
    flat_mask = None
    if _full_mask(mask, arr.ndim):
        flat_mask = np.asarray(mask).transpose(order).reshape(flat.shape)
    results = []
    for b in range(flat.shape[n]):
        opts = dict(options)
        if flat_mask is not None:
            opts["mask"] = flat_mask[..., b]
        results.append(_one(fn, policy, image, np.ascontiguousarray(flat[..., b]), opts))
    out = np.stack(results, axis=n)
    out = out.reshape(out.shape[:n] + moved.shape[n:] + out.shape[n + 1 :])
    return _restore(out, ax, rest)


def _restore(out: np.ndarray, ax: tuple[int, ...], rest: list[int]) -> np.ndarray:
    """The input's axis order for a result laid out (spatial..., rest...)."""
    n = len(ax)
    if out.ndim == n + len(rest):
        return np.ascontiguousarray(np.moveaxis(out, tuple(range(n)), ax))
    # The channel axis (the last of the rest) is gone (a colour-to-grey result).
    gone = rest[-1]
    positions = tuple(a - (a > gone) for a in ax)
    return np.ascontiguousarray(np.moveaxis(out, tuple(range(n)), positions))


def _one(fn: Callable, policy: Policy, original: object, arr: np.ndarray, options: dict) -> np.ndarray:
    """One image with its spatial axes first and at most one channel axis."""
    opts = dict(options)
    use_alpha = False
    if "alpha" in opts:
        use_alpha = resolve_alpha(original, arr, opts["alpha"])
        opts["alpha"] = use_alpha
    if "nan" in opts:
        opts["nan"] = check_nan(opts["nan"])
    out = _linear_light(fn, policy, arr, use_alpha, opts)
    if policy.result == "float":
        out = out.astype(float_dtype(arr.dtype), copy=False)
    return out


def _linear_light(fn, policy: Policy, arr: np.ndarray, use_alpha: bool, opts: dict) -> np.ndarray:
    if policy.linear != "wrap" or not opts.get("linear"):
        return _alpha(fn, policy, arr, use_alpha, opts)
    if policy.fused is not None and policy.fused(arr, use_alpha, opts.get("mask")):
        # The body decodes and encodes inside the engine's bands.
        return _alpha(fn, policy, arr, use_alpha, opts)
    from ..core.srgb import in_linear_light

    plain = dict(opts, linear=False)
    return in_linear_light(arr, use_alpha, lambda x: _alpha(fn, policy, x, use_alpha, plain))


def _alpha(fn, policy: Policy, arr: np.ndarray, use_alpha: bool, opts: dict) -> np.ndarray:
    if policy.alpha != "pass" or not use_alpha:
        return fn(arr, **opts)
    colour_opts = dict(opts, alpha=False)
    mask = opts.get("mask")
    if _full_mask(mask, arr.ndim):
        colour_opts["mask"] = np.asarray(mask)[..., :-1]
    fp = policy.footprint(arr.shape, **opts)
    plan = fp.plan
    same = plan.out_shape == arr.shape and all(
        p == (e // 2, e - 1 - e // 2) for p, e in zip(plan.pads, plan.eff, strict=False)
    )
    padding = "same" if same else [tuple(p) for p in plan.pads]
    mode = fp.mode or "edge"
    return keep_alpha(
        arr, lambda x: fn(x, **colour_opts), True, plan.eff, padding, plan.stride, mode, fp.cval
    )


# --- the Dask path --------------------------------------------------------------------------


class _Blocks:
    """The public filter on one block (the chunked engine's task), axes fixed."""

    def __init__(self, public: Callable, axes: tuple[int, ...] | None):
        self.public = public
        self.axes = axes
        self.__name__ = public.__name__

    def __call__(self, region, **kwargs):
        return self.public(region, axes=self.axes, **kwargs)


def _chunked(public: Callable, policy: Policy, image, axes, options: dict):
    import dask.array as da

    from ..core.chunked import apply_chunked

    if isinstance(image, np.ma.MaskedArray) or is_pil(image):
        image = _as_array(image, policy, options)
    ndim = image.ndim
    n, explicit = _spatial(policy, ndim, options)
    if axes is None:
        if ndim > n + 1 and not explicit:
            _refuse_batch(public.__name__, tuple(image.shape), n)
        run = policy.chunked or apply_chunked
        return run(_Blocks(public, None), policy.footprint, {"image": image, **options})
    ax = normalize_axes(axes, ndim, n)
    rest = [a for a in range(ndim) if a not in ax]
    order = (*ax, *rest)
    x = image.transpose(order) if is_dask(image) else da.from_array(np.asarray(image)).transpose(order)
    mask = options.get("mask")
    if _full_mask(mask, ndim):
        options["mask"] = mask.transpose(order) if is_dask(mask) else np.asarray(mask).transpose(order)
    block_axes = tuple(range(n)) if len(rest) > 1 or not policy.channels else None
    run = policy.chunked or apply_chunked
    out = run(_Blocks(public, block_axes), policy.footprint, {"image": x, **options})
    if out.ndim == ndim:
        return da.moveaxis(out, tuple(range(n)), ax)
    gone = rest[-1]
    return da.moveaxis(out, tuple(range(n)), tuple(a - (a > gone) for a in ax))
