"""Dask arrays in, lazy Dask arrays out: the chunked path against the NumPy one.

The oracle of every test here is the NumPy result of the very same call:
``f(dask_array).compute()`` must equal ``f(numpy_array)`` for every border
mode, padding, stride and dilation, for any chunking (1-pixel chunks, chunks
smaller than the filter's halo, uneven last chunks), with masks, NaN holes,
linear light and alpha. Integer results must be equal bit for bit; float
results within float32 rounding of the result's range (1e-5 of it), plus an
FFT-sized absolute term only where the FFT path of :func:`imgfilter.correlate`
makes the rounding depend on the block it runs on.

The footprint tests check what the chunked engine relies on: every output
reads only the inputs its declared footprint (``fn.footprint(...).plan``)
covers, and (for filters whose every tap carries weight) all of them.
"""

from __future__ import annotations

import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from hypothesis import Phase, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

da = pytest.importorskip("dask.array")
import dask  # noqa: E402  (after the importorskip above)

import imgfilter  # noqa: E402
from imgfilter.core import linear  # noqa: E402
from imgfilter.kernels import KERNELS  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

MODES = ("constant", "edge", "reflect", "symmetric", "wrap")
ALL_DTYPES = ("uint8", "uint16", "int16", "float32", "float64")
FLOAT_DTYPES = ("float32", "float64")
RTOL_OF_RANGE = 1e-5  # float results: 1e-5 of the NumPy result's range
FFT_ULPS = 1e-6  # FFT rounding: of max|image| * sum|kernel| (the band's largest values)


@pytest.fixture(autouse=True)
def synchronous_dask():
    """Deterministic, single-threaded computes (and fast for small graphs)."""
    with dask.config.set(scheduler="synchronous"):
        yield


def scaled(n: int) -> settings:
    """``n`` examples under the default "quick" profile (25), scaled with the loaded profile.

    Failures are still shrunk to a minimal example, but Hypothesis's "explain" phase
    (which reruns a failing example hundreds of times to annotate it) is skipped.
    """
    phases = tuple(p for p in settings.default.phases if p is not Phase.explain)
    return settings(max_examples=max(1, n * settings.default.max_examples // 25), phases=phases)


# --------------------------------------------------------------------------
# comparing a chunked result with the NumPy one
# --------------------------------------------------------------------------


def fft_atol(image: np.ndarray, kernel: object) -> float:
    """Absolute slack for a correlation that may run by FFT (0 where it cannot)."""
    k = np.asarray(kernel, dtype=np.float64)
    if not linear._use_fft(k, linear.separable_factors(k)):
        return 0.0
    x = np.asarray(image, dtype=np.float64)
    finite = np.abs(x[np.isfinite(x)])
    return FFT_ULPS * float(finite.max(initial=0.0)) * float(np.abs(k).sum())


def assert_same(got: np.ndarray, want: np.ndarray, atol: float = 0.0) -> None:
    """Integers bit for bit; floats: NaN/inf in the same places, the rest within 1e-5 of the range."""
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape, (got.shape, want.shape)
    if want.dtype.kind != "f":
        np.testing.assert_array_equal(got, want)
        return
    finite = np.isfinite(want)
    np.testing.assert_array_equal(got[~finite], want[~finite])  # NaN, +-inf where NumPy has them
    span = float(np.ptp(want[finite])) if finite.any() else 0.0
    tol = RTOL_OF_RANGE * span + atol
    err = np.abs(got[finite].astype(np.float64) - want[finite].astype(np.float64))
    worst = float(err.max(initial=0.0))
    assert np.isfinite(got[finite]).all(), "non-finite values where NumPy has finite ones"
    assert worst <= tol, (
        f"max |dask - numpy| = {worst!r} > {tol!r} (range {span!r}), "
        f"{int((err > tol).sum())} pixels, first at {np.argwhere(np.abs(got - want) > tol)[0].tolist()}"
    )


def note(what: str) -> None:
    """A statistics event (``--hypothesis-show-statistics``) when inside a property test."""
    if currently_in_test_context():
        event(what)


def check_chunked(
    fn,
    image: np.ndarray,
    args: tuple = (),
    kwargs: dict | None = None,
    *,
    chunks,
    mask: np.ndarray | None = None,
    mask_chunks=None,
    lazy_image: bool = True,
    same_size: bool = False,
    atol: float = 0.0,
    spatial: int = 2,
):
    """``fn`` on a Dask image (and/or mask) equals ``fn`` on the NumPy ones; returns the lazy result.

    If NumPy refuses the call, the chunked call must refuse it with the same error type.
    """
    kwargs = dict(kwargs or {})
    np_kwargs, dk_kwargs = dict(kwargs), dict(kwargs)
    if mask is not None:
        np_kwargs["mask"] = mask
        dk_kwargs["mask"] = mask if mask_chunks is None else da.from_array(mask, chunks=mask_chunks)
    x = da.from_array(image, chunks=chunks) if lazy_image else image
    try:
        want = fn(image, *args, **np_kwargs)
    except ValueError as exc:
        note("NumPy refused the call: the chunked call must too")
        with pytest.raises(type(exc)):
            fn(x, *args, **dk_kwargs).compute()
        return None
    note("compared with NumPy")
    got = fn(x, *args, **dk_kwargs)
    assert isinstance(got, da.Array), type(got)
    # The lazy result's metadata already matches.
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape, (got.shape, want.shape)
    # Channel (and filter-output) axes end up in one chunk.
    assert all(len(c) == 1 for c in got.chunks[spatial:]), got.chunks
    if same_size and lazy_image:
        assert got.chunks[:spatial] == x.chunks[:spatial], (got.chunks, x.chunks)
    assert_same(got.compute(), want, atol)
    return got


def expected_out_chunks(in_chunks: tuple[int, ...], n: int, plan, axis: int) -> tuple[int, ...]:
    """The documented rule: an output goes to the input chunk under its window's centre."""
    bounds = np.concatenate([[0], np.cumsum(in_chunks)])
    o = np.arange(plan.out_shape[axis])
    centre = o * plan.stride[axis] - plan.pads[axis][0] + plan.eff[axis] // 2
    which = np.searchsorted(bounds, np.clip(centre, 0, n - 1), side="right") - 1
    counts = np.bincount(which, minlength=len(in_chunks))
    return tuple(int(c) for c in counts if c)


def check_padded_chunks(fn, got, image_shape, in_chunks, args, kwargs) -> None:
    """Output chunks of a padding/stride call follow the input's (by window centre)."""
    if got is None:
        return
    plan = fn.footprint(tuple(image_shape), *args, **kwargs).plan
    for axis in range(plan.ndim):
        want = expected_out_chunks(in_chunks[axis], image_shape[axis], plan, axis)
        assert got.chunks[axis] == want, (axis, got.chunks[axis], want)


# --------------------------------------------------------------------------
# strategies: images, chunkings, options
# --------------------------------------------------------------------------


@st.composite
def partitions(draw, n: int, max_parts: int = 6) -> tuple[int, ...]:
    """Chunk sizes summing to ``n``: one chunk, 1-pixel chunks, regular with an uneven
    last one, or random cuts (adjacent cuts give chunks smaller than any halo)."""
    style = draw(st.sampled_from(("whole", "ones", "regular", "random", "random")))
    if style == "whole" or n == 1:
        return (n,)
    if style == "ones" and n <= 10:
        return (1,) * n
    if style == "regular":
        size = draw(st.integers(max(1, -(-n // max_parts)), n))
        q, r = divmod(n, size)
        return (size,) * q + ((r,) if r else ())
    k = draw(st.integers(2, min(n, max_parts)))
    cuts = draw(st.lists(st.integers(1, n - 1), min_size=k - 1, max_size=k - 1, unique=True))
    return tuple(b - a for a, b in pairwise([0, *sorted(cuts), n]))


@st.composite
def chunkings(draw, shape: tuple[int, ...]):
    """Chunks for every axis (channel axes too: the filters must merge them)."""
    return tuple(draw(partitions(n)) for n in shape)


def top_of(dtype: np.dtype) -> float:
    return float(np.iinfo(dtype).max) if dtype.kind in "iu" else 1.0


def random_values(rng: np.random.Generator, shape, dtype: np.dtype, levels: int | None) -> np.ndarray:
    """Full-range integers or floats in [-100, 100]; ``levels``: only that many values (ties, flats)."""
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        palette = rng.integers(info.min, info.max, size=levels or 1, endpoint=True)
        palette[:2] = (info.min, info.max)[: len(palette)]
        if levels is None:
            return rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)
        return rng.choice(palette, size=shape).astype(dtype)
    if levels is None:
        return rng.uniform(-100, 100, size=shape).astype(dtype)
    return rng.choice(rng.uniform(-100, 100, size=levels), size=shape).astype(dtype)


def random_alpha(rng: np.random.Generator, shape, dtype: np.dtype) -> np.ndarray:
    """Alpha with transparent, opaque and partly transparent pixels."""
    top = top_of(dtype)
    u = rng.random(shape)
    part = rng.integers(0, int(top), size=shape, endpoint=True) if dtype.kind in "iu" else rng.random(shape)
    return np.where(u < 0.2, 0, np.where(u < 0.5, top, part)).astype(dtype)


def make_image(seed: int, shape, dtype, levels: int | None = None) -> np.ndarray:
    """A random image; 2 and 4 channels carry a random alpha channel (the library's default)."""
    dtype = np.dtype(dtype)
    rng = np.random.default_rng(seed)
    img = random_values(rng, shape, dtype, levels)
    if len(shape) == 3 and shape[2] in (2, 4):
        img[..., -1] = random_alpha(rng, shape[:2], dtype)
    return img


@st.composite
def images(
    draw, dtypes=ALL_DTYPES, channels=(None, 1, 2, 3, 4), max_side: int = 40, min_side: int = 1
) -> np.ndarray:
    h = draw(st.integers(min_side, max_side))
    w = draw(st.integers(min_side, max_side))
    c = draw(st.sampled_from(channels))
    dtype = draw(st.sampled_from(dtypes))
    levels = draw(st.sampled_from((None, None, 2, 5)))
    seed = draw(st.integers(0, 2**32 - 1))
    return make_image(seed, (h, w) if c is None else (h, w, c), dtype, levels)


modes = st.sampled_from(MODES)
strides = st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3)))
dilations = strides
_pad_item = st.one_of(st.integers(0, 6), st.tuples(st.integers(0, 6), st.integers(0, 6)))
paddings = st.one_of(
    st.sampled_from(("same", "valid", "full")),
    st.integers(0, 6),
    st.tuples(_pad_item, _pad_item),
)


@st.composite
def kernels(draw, max_k: int = 7, dense: bool = False) -> np.ndarray:
    """Random kernels of 1..max_k taps per axis (even sizes too), some taps zero unless ``dense``."""
    shape = (draw(st.integers(1, max_k)), draw(st.integers(1, max_k)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    k = rng.uniform(0.25, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    if not dense:
        k[rng.random(shape) < 0.2] = 0.0
        if draw(st.booleans()):
            k = np.round(k * 4) / 4  # short binary fractions: exact sums
    return k


def cvals_for(dtype: np.dtype):
    """Fill values: ones the dtype holds, and ones it cannot (chunks then pad themselves)."""
    if np.dtype(dtype).kind in "iu":
        return st.sampled_from((0.0, 3.0, 100.0, -7.0, 2.5, 70000.0))
    return st.sampled_from((0.0, 1.5, -40.0, 1e3))


def linear_kwargs(draw, image: np.ndarray) -> dict:
    return dict(
        padding=draw(paddings),
        mode=draw(modes),
        cval=draw(cvals_for(image.dtype)),
        stride=draw(strides),
        dilation=draw(dilations),
    )


# Same-size filters: option strategies (positional args, keyword args).
def sobel_options(draw, image):
    return (), {"output": draw(st.sampled_from(("x", "y", "magnitude", "angle"))), "mode": draw(modes)}


def median_options(draw, image):
    return (draw(st.sampled_from((1, 3, 5, 7))),), {"mode": draw(modes)}


def blur_options(draw, image):
    size = draw(st.one_of(st.integers(1, 7), st.tuples(st.integers(1, 7), st.integers(1, 7))))
    return (size,), {"mode": draw(modes)}


def gaussian_options(draw, image):
    sigma = draw(st.one_of(st.floats(0.3, 2.5), st.tuples(st.floats(0.3, 2.5), st.floats(0.3, 2.5))))
    return (sigma,), {"mode": draw(modes), "truncate": draw(st.sampled_from((1.5, 3.0, 4.0)))}


def shift_options(draw, image):
    amount = st.one_of(st.integers(-8, 8), st.floats(-8, 8).map(lambda v: round(v, 3)))
    return (draw(amount), draw(amount)), {"mode": draw(modes), "cval": draw(cvals_for(image.dtype))}


def bilateral_options(draw, image):
    sc = 60.0 if image.dtype.kind == "f" else 0.3 * top_of(image.dtype)
    return (
        draw(st.integers(0, 7)),
        draw(st.sampled_from((sc / 4, sc, 4 * sc))),
        draw(st.sampled_from((0.7, 1.5, 3.0))),
    ), {"mode": draw(modes)}


def luminance_options(draw, image):
    return (), {}


SAME_SIZE = {
    "sobel": sobel_options,
    "median": median_options,
    "blur": blur_options,
    "gaussian": gaussian_options,
    "shift": shift_options,
    "bilateral": bilateral_options,
    "luminance": luminance_options,
}


# --------------------------------------------------------------------------
# 1. dask == numpy: linear filters, conv2d, pooling, edges
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["correlate", "convolve"])
@scaled(50)
@given(image=images(), data=st.data())
def test_linear_matches_numpy(name, image, data):
    fn = getattr(imgfilter, name)
    kernel = data.draw(kernels())
    kwargs = linear_kwargs(data.draw, image)
    chunks = data.draw(chunkings(image.shape))
    got = check_chunked(fn, image, (kernel,), kwargs, chunks=chunks, atol=fft_atol(image, kernel))
    check_padded_chunks(fn, got, image.shape, chunks, (kernel,), kwargs)


@scaled(40)
@given(image=images(channels=(None, 1, 2, 3)), data=st.data())
def test_conv2d_matches_numpy(image, data):
    c = 1 if image.ndim == 2 else image.shape[2]
    n = data.draw(st.integers(1, 3))
    kh, kw = data.draw(st.integers(1, 6)), data.draw(st.integers(1, 6))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    filters = np.round(rng.uniform(-2, 2, size=(n, kh, kw, c)) * 4) / 4
    kwargs = linear_kwargs(data.draw, image)
    if data.draw(st.booleans()):
        kwargs["bias"] = rng.uniform(-5, 5, size=n)
    chunks = data.draw(chunkings(image.shape))
    got = check_chunked(imgfilter.conv2d, image, (filters,), kwargs, chunks=chunks)
    check_padded_chunks(imgfilter.conv2d, got, image.shape, chunks, (filters,), kwargs)


@scaled(50)
@given(image=images(), data=st.data())
def test_pool_matches_numpy(image, data):
    size = data.draw(st.one_of(st.integers(1, 4), st.tuples(st.integers(1, 4), st.integers(1, 4))))
    stride = data.draw(st.one_of(st.none(), strides))
    small = st.one_of(st.integers(0, 3), st.tuples(st.integers(0, 3), st.integers(0, 3)))
    padding = data.draw(st.one_of(st.sampled_from(("valid", "same")), small, st.tuples(small, small)))
    kwargs = {"stride": stride, "op": data.draw(st.sampled_from(("max", "avg", "min"))), "padding": padding}
    chunks = data.draw(chunkings(image.shape))
    got = check_chunked(imgfilter.pool, image, (size,), kwargs, chunks=chunks)
    check_padded_chunks(imgfilter.pool, got, image.shape, chunks, (size,), kwargs)


@scaled(50)
@given(image=images(), data=st.data())
def test_edges_matches_numpy(image, data):
    direction = data.draw(st.sampled_from(sorted(KERNELS)))
    kwargs = {"padding": data.draw(paddings), "mode": data.draw(modes)}
    chunks = data.draw(chunkings(image.shape))
    got = check_chunked(imgfilter.edges, image, (direction,), kwargs, chunks=chunks)
    check_padded_chunks(imgfilter.edges, got, image.shape, chunks, (direction,), kwargs)


@scaled(15)
@given(data=st.data())
def test_correlate_volume_matches_numpy(data):
    """A kernel over all three axes: every axis is spatial and keeps its chunks' rule."""
    shape = tuple(data.draw(st.integers(1, 9)) for _ in range(3))
    image = make_image(data.draw(st.integers(0, 2**32 - 1)), shape, data.draw(st.sampled_from(ALL_DTYPES)))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    kernel = rng.uniform(-1, 1, size=tuple(data.draw(st.integers(1, 4)) for _ in range(3)))
    kwargs = {"mode": data.draw(modes), "padding": data.draw(st.sampled_from(("same", "valid", "full")))}
    kwargs["stride"] = data.draw(st.integers(1, 2))
    chunks = data.draw(chunkings(shape))
    fn = imgfilter.correlate
    got = check_chunked(fn, image, (kernel,), kwargs, chunks=chunks, atol=fft_atol(image, kernel), spatial=3)
    check_padded_chunks(fn, got, shape, chunks, (kernel,), kwargs)


# --------------------------------------------------------------------------
# 2. dask == numpy: same-size filters (chunks follow the input's exactly)
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SAME_SIZE))
@scaled(40)
@given(image=images(), data=st.data())
def test_same_size_filter_matches_numpy(name, image, data):
    args, kwargs = SAME_SIZE[name](data.draw, image)
    chunks = data.draw(chunkings(image.shape))
    check_chunked(getattr(imgfilter, name), image, args, kwargs, chunks=chunks, same_size=True)


@pytest.mark.parametrize("name", sorted(SAME_SIZE))
@scaled(10)
@given(data=st.data())
def test_kernels_larger_than_chunks_and_image(name, data):
    """Tiny images in 1-pixel chunks: every halo spans many chunks and reaches past the far edge."""
    h, w = data.draw(st.integers(1, 6)), data.draw(st.integers(1, 6))
    channels = data.draw(st.sampled_from((None, 3, 4)))
    shape = (h, w) if channels is None else (h, w, channels)
    image = make_image(data.draw(st.integers(0, 2**32 - 1)), shape, data.draw(st.sampled_from(ALL_DTYPES)))
    args, kwargs = SAME_SIZE[name](data.draw, image)
    if name == "median":
        args = (data.draw(st.sampled_from((7, 9, 13))),)
    elif name == "blur":
        args = (data.draw(st.integers(7, 15)),)
    elif name == "gaussian":
        args = (data.draw(st.floats(1.5, 3.0)),)
    elif name == "shift":
        args = (data.draw(st.floats(-14, 14)), data.draw(st.integers(-14, 14)))
    chunks = ((1,) * h, (1,) * w, *((channels,),) * (channels is not None))
    check_chunked(getattr(imgfilter, name), image, args, kwargs, chunks=chunks, same_size=True)


# --------------------------------------------------------------------------
# 3. masks, NaN holes, linear light, alpha
# --------------------------------------------------------------------------

MASKED = ("correlate", "convolve", "pool", "median", "blur", "gaussian", "bilateral")


def masked_call(name: str, draw, image: np.ndarray):
    """(args, kwargs, atol) for a filter taking ``mask=``/``nan=``."""
    if name in ("correlate", "convolve"):
        # Positive kernels: normalized convolution needs a kernel whose weights do not sum to 0.
        kernel = np.abs(draw(kernels(max_k=5)))
        kwargs = linear_kwargs(draw, image)
        return (kernel,), kwargs, fft_atol(image, kernel)
    if name == "pool":
        kwargs = {
            "stride": draw(st.one_of(st.none(), strides)),
            "op": draw(st.sampled_from(("max", "avg", "min"))),
            "padding": draw(st.sampled_from(("valid", "same", 1))),
        }
        return (draw(st.integers(2, 4)),), kwargs, 0.0
    args, kwargs = SAME_SIZE[name](draw, image)
    return args, kwargs, 0.0


@pytest.mark.parametrize("name", MASKED)
@scaled(25)
@given(image=images(max_side=30), data=st.data())
def test_mask_matches_numpy(name, image, data):
    """``mask=`` as a NumPy or a Dask array (chunked its own way), with a NumPy or a Dask image."""
    h, w = image.shape[:2]
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    mask = rng.random((h, w)) > data.draw(st.sampled_from((0.1, 0.5, 0.95)))
    args, kwargs, atol = masked_call(name, data.draw, image)
    how = data.draw(st.sampled_from(("dask image", "dask image and mask", "dask mask")))
    chunks = data.draw(chunkings(image.shape))
    mask_chunks = None if how == "dask image" else data.draw(chunkings((h, w)))
    check_chunked(
        getattr(imgfilter, name),
        image,
        args,
        kwargs,
        chunks=chunks,
        mask=mask,
        mask_chunks=mask_chunks,
        lazy_image=how != "dask mask",
        atol=atol,
    )


def punch_holes(rng: np.random.Generator, image: np.ndarray, style: str) -> np.ndarray:
    """NaN holes: scattered pixels, whole pixels (every channel), or a rectangle."""
    out = image.copy()
    h, w = image.shape[:2]
    if style == "scattered":
        out[rng.random(image.shape) < 0.15] = np.nan
    elif style == "pixels":
        out[rng.random((h, w)) < 0.15] = np.nan
    else:
        y0, x0 = rng.integers(0, h), rng.integers(0, w)
        out[y0 : y0 + rng.integers(1, h + 1), x0 : x0 + rng.integers(1, w + 1)] = np.nan
    return out


@pytest.mark.parametrize("name", MASKED)
@scaled(25)
@given(image=images(dtypes=FLOAT_DTYPES, max_side=30), data=st.data())
def test_nan_holes_match_numpy(name, image, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    image = punch_holes(rng, image, data.draw(st.sampled_from(("scattered", "pixels", "block"))))
    args, kwargs, atol = masked_call(name, data.draw, image)
    kwargs["nan"] = data.draw(st.sampled_from(("ignore", "keep", "propagate")))
    chunks = data.draw(chunkings(image.shape))
    check_chunked(getattr(imgfilter, name), image, args, kwargs, chunks=chunks, atol=atol)


LINEAR_LIGHT = ("blur", "gaussian", "pool", "shift", "bilateral")


@pytest.mark.parametrize("name", LINEAR_LIGHT)
@scaled(20)
@given(image=images(dtypes=("uint8", "uint16"), channels=(None, 3, 4), max_side=30), data=st.data())
def test_linear_light_matches_numpy(name, image, data):
    if name == "pool":
        args = (data.draw(st.integers(1, 4)),)
        kwargs = {"op": "avg", "stride": data.draw(st.one_of(st.none(), strides))}
        kwargs["padding"] = data.draw(st.sampled_from(("valid", "same")))
    else:
        args, kwargs = SAME_SIZE[name](data.draw, image)
    kwargs["linear"] = True
    chunks = data.draw(chunkings(image.shape))
    check_chunked(getattr(imgfilter, name), image, args, kwargs, chunks=chunks, same_size=name != "pool")


ALL_FUNCTIONS = (
    "bilateral",
    "blur",
    "conv2d",
    "convolve",
    "correlate",
    "edges",
    "gaussian",
    "luminance",
    "median",
    "pool",
    "shift",
    "sobel",
)


def any_call(name: str, draw, image: np.ndarray):
    """(args, kwargs, atol) of a random call of any public array function."""
    if name in SAME_SIZE:
        args, kwargs = SAME_SIZE[name](draw, image)
        return args, kwargs, 0.0
    if name in ("correlate", "convolve"):
        kernel = draw(kernels())
        return (kernel,), linear_kwargs(draw, image), fft_atol(image, kernel)
    if name == "conv2d":
        c = 1 if image.ndim == 2 else image.shape[2]
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        filters = rng.uniform(-1, 1, size=(draw(st.integers(1, 2)), 3, draw(st.integers(1, 4)), c))
        return (filters,), linear_kwargs(draw, image), 0.0
    if name == "pool":
        kwargs = {"op": draw(st.sampled_from(("max", "avg", "min"))), "padding": "same"}
        return (draw(st.integers(1, 3)),), kwargs, 0.0
    assert name == "edges"
    kwargs = {"padding": draw(paddings), "mode": draw(modes)}
    return (draw(st.sampled_from(sorted(KERNELS))),), kwargs, 0.0


@pytest.mark.parametrize("name", ALL_FUNCTIONS)
@scaled(20)
@given(image=images(channels=(4,), max_side=30), data=st.data())
def test_rgba_with_random_alpha_matches_numpy(name, image, data):
    """4 channels = RGB + alpha: smoothing premultiplies, edges/median carry alpha along."""
    args, kwargs, atol = any_call(name, data.draw, image)
    chunks = data.draw(chunkings(image.shape))
    check_chunked(getattr(imgfilter, name), image, args, kwargs, chunks=chunks, atol=atol)


# --------------------------------------------------------------------------
# 4. real photos, fixed awkward chunkings
# --------------------------------------------------------------------------

PHOTO_CALLS = [
    ("correlate", (KERNELS["sharpen"],), {"mode": "symmetric", "padding": "full", "stride": 2}),
    ("convolve", (np.outer([1.0, 4, 6, 4, 1], [1.0, 2, 1]) / 64,), {"mode": "wrap", "dilation": 2}),
    ("conv2d", (), {"padding": "same", "stride": (2, 3)}),  # filters built for the channel count
    ("pool", (3,), {"op": "avg", "padding": "same", "linear": True}),
    ("pool", ((2, 3),), {"stride": 2, "op": "max"}),
    ("edges", ("laplacian",), {"padding": "valid", "mode": "edge"}),
    ("sobel", (), {"output": "angle"}),
    ("median", (5,), {"mode": "symmetric"}),
    ("blur", ((5, 2),), {"mode": "constant", "linear": True}),
    ("gaussian", (2.0,), {"mode": "wrap"}),
    ("shift", (3.25, -2.5), {"mode": "reflect"}),
    ("bilateral", (7, 40.0, 3.0), {}),
    ("luminance", (), {}),
]


@pytest.mark.parametrize(("name", "args", "kwargs"), PHOTO_CALLS, ids=[c[0] for c in PHOTO_CALLS])
@pytest.mark.parametrize("which", ["photo", "gray_photo"])
def test_photo_matches_numpy(request, which, name, args, kwargs):
    img = request.getfixturevalue(which)[200:290, 180:255]  # 90 x 75 crop
    chunks = ((37, 1, 2, 30, 20), (5, 64, 6), *img.shape[2:])
    if name == "conv2d":
        c = img.shape[2] if img.ndim == 3 else 1
        args = (np.linspace(-1, 1, 2 * 3 * 3 * c).reshape(2, 3, 3, c),)
    fn = getattr(imgfilter, name)
    got = check_chunked(fn, img, args, kwargs, chunks=chunks, same_size=name in SAME_SIZE)
    assert got is not None


# --------------------------------------------------------------------------
# 5. laziness, chunk layout, dask never imported by imgfilter itself
# --------------------------------------------------------------------------

LAZY_CALLS = {
    "correlate": ((np.ones((3, 3)) / 9,), {}),
    "convolve": ((np.ones((2, 3)),), {"padding": "full"}),
    "conv2d": ((np.ones((2, 3, 3, 3)),), {}),
    "pool": ((2,), {"op": "avg"}),
    "edges": ((), {}),
    "sobel": ((), {}),
    "median": ((3,), {}),
    "blur": ((3,), {}),
    "gaussian": ((1.0,), {}),
    "shift": ((1.5, -2), {}),
    "bilateral": ((5, 30.0, 2.0), {}),
    "luminance": ((), {}),
}


@pytest.mark.parametrize("name", sorted(LAZY_CALLS))
def test_result_is_lazy_until_computed(name):
    """Building the result reads no input block; computing it does."""
    img = make_image(7, (23, 17, 3), "uint8")
    calls = []

    def load(block):
        calls.append(block.shape)
        return block

    x = da.from_array(img, chunks=(5, (4, 9, 4), 1)).map_blocks(load, dtype=img.dtype, meta=img[:0, :0, :0])
    args, kwargs = LAZY_CALLS[name]
    fn = getattr(imgfilter, name)
    got = fn(x, *args, **kwargs)
    assert isinstance(got, da.Array)
    assert calls == []
    assert all(len(c) == 1 for c in got.chunks[2:])
    if name in SAME_SIZE:
        assert got.chunks[:2] == x.chunks[:2]
    assert_same(got.compute(), fn(img, *args, **kwargs))
    assert calls


def test_dask_mask_with_numpy_image_is_lazy():
    img = make_image(3, (19, 21), "float32")
    mask = make_image(4, (19, 21), "uint8") > 60
    got = imgfilter.blur(img, 5, mask=da.from_array(mask, chunks=(4, 7)))
    assert isinstance(got, da.Array)
    assert_same(got.compute(), imgfilter.blur(img, 5, mask=mask))


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)


NO_DASK = "leaked = sorted(m for m in sys.modules if m == 'dask' or m.startswith('dask.'))\nassert not leaked, leaked\n"


def test_import_does_not_import_dask():
    code = (
        "import sys\nimport numpy as np\nimport imgfilter\n"
        "imgfilter.sobel\n" + NO_DASK + "x = np.arange(30.0).reshape(5, 6)\n"
        "imgfilter.sobel(x); imgfilter.median(x); imgfilter.blur(x, mask=x > 3)\n"
        "imgfilter.correlate(x, np.ones((2, 2)), padding='valid'); imgfilter.pool(x, 2)\n" + NO_DASK
    )
    res = _python(code)
    assert res.returncode == 0, res.stderr


def test_cli_help_does_not_import_dask():
    code = (
        "import runpy, sys\nsys.argv = ['imgfilter', '--help']\n"
        "try:\n    runpy.run_module('imgfilter', run_name='__main__', alter_sys=True)\n"
        "except SystemExit as exc:\n    assert exc.code in (0, None), exc.code\n" + NO_DASK
    )
    res = _python(code)
    assert res.returncode == 0, res.stderr
    assert "Usage" in res.stdout or "usage" in res.stdout
    # And as the user runs it.
    run = subprocess.run(
        [sys.executable, "-m", "imgfilter", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr


# --------------------------------------------------------------------------
# 6. footprint honesty: outputs read exactly what the footprint declares
# --------------------------------------------------------------------------


def reach_of(plan, axis: int, p: int) -> np.ndarray:
    """Outputs along ``axis`` whose window (by the plan) covers input position ``p``."""
    start = np.arange(plan.out_shape[axis]) * plan.stride[axis] - plan.pads[axis][0]
    return (start <= p) & (p <= start + plan.eff[axis] - 1)


def reach_inside(plan, axis: int, p: int) -> bool:
    """Whether every output whose window covers ``p`` exists (none cut off by the border)."""
    s, (pb, _), e = plan.stride[axis], plan.pads[axis], plan.eff[axis]
    first, last = -(-(p + pb - e + 1) // s), (p + pb) // s
    return first >= 0 and last < plan.out_shape[axis]


def impulse_call(name: str, draw):
    """(args, kwargs, channels, tight) for the impulse test; ``tight``: "exact", "bbox" or None.

    "exact": every output whose window covers the impulse changes; "bbox": the changed
    outputs span the whole reach; None: only "nothing outside the reach changes".
    Kernels stay below the FFT size (FFT rounding noise reaches the whole band).
    """
    if name in ("correlate", "convolve", "conv2d"):
        kernel = draw(kernels(max_k=6, dense=True))
        kwargs = {"padding": draw(paddings), "stride": draw(strides), "dilation": draw(dilations)}
        kwargs["mode"] = "constant"
        st_, di = np.broadcast_to(kwargs["stride"], 2), np.broadcast_to(kwargs["dilation"], 2)
        tight = "exact" if (di == 1).all() else "bbox" if (st_ == 1).all() else None
        if name == "conv2d":
            return (kernel[None, :, :, None] * np.ones(3),), kwargs, 3, tight
        return (kernel,), kwargs, None, tight
    if name == "pool":
        op = draw(st.sampled_from(("max", "avg", "min")))
        kwargs = {"op": op, "stride": draw(st.one_of(st.none(), strides)), "padding": draw(paddings)}
        if isinstance(kwargs["padding"], str) and kwargs["padding"] == "full":
            kwargs["padding"] = "same"
        return (draw(st.integers(1, 5)),), kwargs, None, None if op == "min" else "exact"
    if name == "edges":
        direction = draw(st.sampled_from(sorted(KERNELS)))
        k = KERNELS[direction]
        spans = all(np.any(np.take(k, i, axis=a)) for a in (0, 1) for i in (0, -1))
        kwargs = {"padding": draw(paddings), "mode": "constant"}
        return (direction,), kwargs, None, "bbox" if spans else None
    if name == "sobel":
        output = draw(st.sampled_from(("x", "y", "magnitude", "angle")))
        return (), {"output": output, "mode": "constant"}, None, None if output == "angle" else "bbox"
    if name == "median":
        return (draw(st.sampled_from((1, 3, 5, 7))),), {"mode": "constant"}, None, None
    if name == "luminance":
        return (), {}, 3, "exact"
    if name == "bilateral":
        args = (draw(st.integers(0, 9)), 30.0, draw(st.sampled_from((0.7, 2.0))))
        return args, {"mode": "constant"}, None, "bbox"
    args, kwargs = SAME_SIZE[name](draw, np.zeros((1, 1)))
    kwargs["mode"] = "constant"
    kwargs.pop("cval", None)
    return args, kwargs, None, "exact"  # blur, gaussian, shift: every tap carries weight


@pytest.mark.parametrize("name", ALL_FUNCTIONS)
@scaled(20)
@given(data=st.data())
def test_footprint_covers_what_an_impulse_changes(name, data):
    """A single 1 in zeros (float, constant border) changes only outputs within the footprint's reach."""
    args, kwargs, channels, tight = impulse_call(name, data.draw)
    h, w = data.draw(st.integers(1, 40)), data.draw(st.integers(1, 40))
    p = (data.draw(st.integers(0, h - 1)), data.draw(st.integers(0, w - 1)))
    shape = (h, w) if channels is None else (h, w, channels)
    fn = getattr(imgfilter, name)
    zeros = np.zeros(shape)
    impulse = zeros.copy()
    impulse[p] = 1.0  # channel 0 of a colour image
    try:
        base = fn(zeros, *args, **kwargs)
    except ValueError:
        return  # an empty result or a refused option: nothing to locate
    changed = fn(impulse, *args, **kwargs) != base
    if changed.ndim == 3:
        changed = changed.any(axis=2)
    plan = fn.footprint(shape, *args, **kwargs).plan
    assert tuple(plan.out_shape[:2]) == changed.shape
    reach = np.logical_and.outer(reach_of(plan, 0, p[0]), reach_of(plan, 1, p[1]))
    outside = changed & ~reach
    assert not outside.any(), (
        f"outputs {np.argwhere(outside).tolist()[:5]} outside the declared reach changed"
    )
    note(f"reach tightness checked: {tight}")
    if tight == "exact":
        np.testing.assert_array_equal(changed, reach)
    elif tight == "bbox" and all(reach_inside(plan, axis, p[axis]) for axis in (0, 1)):
        # The whole reach lies in the result: its first and last rows and columns change.
        assert changed.any()
        for axis in (0, 1):
            hit = np.flatnonzero(changed.any(axis=1 - axis))
            declared = np.flatnonzero(reach.any(axis=1 - axis))
            assert (hit[0], hit[-1]) == (declared[0], declared[-1]), (axis, hit, declared)


def source_positions(start: int, stop: int, n: int, mode: str | None) -> np.ndarray:
    """Image index of each position start..stop-1 by numpy.pad's rule; -1 where no pixel is read."""
    before, after = max(0, -start), max(0, stop - n)
    idx = np.arange(n)
    if mode in (None, "constant"):
        padded = np.pad(idx, (before, after), constant_values=-1)
    else:
        padded = np.pad(idx, (before, after), mode=mode)
    return padded[start + before : stop + before]


def outputs_within(plan, mode, axis: int, n: int, lo: int, hi: int) -> np.ndarray:
    """Outputs along ``axis`` whose every read image pixel lies in ``lo..hi-1``."""
    inside = []
    for o in range(plan.out_shape[axis]):
        start = o * plan.stride[axis] - plan.pads[axis][0]
        src = source_positions(start, start + plan.eff[axis], n, mode)
        src = src[src >= 0]
        inside.append(bool(((src >= lo) & (src < hi)).all()))
    return np.array(inside)


@pytest.mark.parametrize("name", ALL_FUNCTIONS)
@scaled(20)
@given(image=images(min_side=8, max_side=32), data=st.data())
def test_pixels_outside_the_footprint_never_matter(name, image, data):
    """Rewrite every pixel outside a box: outputs whose footprint lies in the box keep their value.

    This is the direction chunking relies on (a block reads only its footprint), and the
    one a median can be checked in. Any mode, dtype, alpha; the footprint's border mode
    says which image pixels a window past the edge reads.
    """
    args, kwargs, _ = any_call(name, data.draw, image)
    fn = getattr(imgfilter, name)
    try:
        before = fn(image, *args, **kwargs)
    except ValueError:
        return
    fp = fn.footprint(image.shape, *args, **kwargs)
    # A box of at least the middle third of each axis: its outside is rewritten.
    boxes = [
        (data.draw(st.integers(0, n // 3)), data.draw(st.integers(n - n // 3, n))) for n in image.shape[:2]
    ]
    keep = np.zeros(image.shape[:2], dtype=bool)
    keep[boxes[0][0] : boxes[0][1], boxes[1][0] : boxes[1][1]] = True
    other = make_image(data.draw(st.integers(0, 2**32 - 1)), image.shape, image.dtype)
    changed = np.where(keep.reshape(keep.shape + (1,) * (image.ndim - 2)), image, other)
    after = fn(changed, *args, **kwargs)
    atol = (
        max(fft_atol(image, args[0]), fft_atol(changed, args[0]))
        if name in ("correlate", "convolve")
        else 0.0
    )
    within = [outputs_within(fp.plan, fp.mode, axis, image.shape[axis], *boxes[axis]) for axis in range(2)]
    sel = np.ix_(*within)
    note(f"outputs inside the kept box: {'some' if all(w.any() for w in within) else 'none'}")
    assert_same(after[sel], before[sel], atol)


# --------------------------------------------------------------------------
# 7. explicit cases: the awkward corners, pinned (and minimal repros of mismatches)
# --------------------------------------------------------------------------

KNOWN = {
    # Halos far larger than chunks and image, every mode.
    "median 7x7 reflect on 2x9 in 1-pixel chunks": (
        "median",
        make_image(1, (2, 9), "uint8"),
        (7,),
        {"mode": "reflect"},
        ((1, 1), (1,) * 9),
    ),
    "shift past the whole image, wrap": (
        "shift",
        make_image(2, (5, 4, 3), "uint16"),
        (13.5, -11),
        {"mode": "wrap"},
        ((1,) * 5, (1,) * 4, (1, 2)),
    ),
    "correlate 7x7 (FFT) larger than the image, symmetric, full": (
        "correlate",
        make_image(3, (4, 6), "float32"),
        (np.arange(49.0).reshape(7, 7) % 5 - 2,),
        {"mode": "symmetric", "padding": "full", "stride": 2},
        ((1, 3), (2, 1, 3)),
    ),
    "pool same padding, stride 3, uneven chunks": (
        "pool",
        make_image(4, (17, 10), "int16"),
        (4,),
        {"stride": 3, "padding": "same", "op": "min"},
        ((16, 1), (3, 3, 3, 1)),
    ),
    "correlate constant cval the dtype cannot hold": (
        "correlate",
        make_image(5, (9, 8), "uint8"),
        (np.ones((3, 4)),),
        {"mode": "constant", "cval": -1.5, "padding": ((4, 2), 5), "stride": (2, 3)},
        ((1, 7, 1), (5, 3)),
    ),
    # Minimal mismatches between the chunked and the NumPy path found by the property tests
    # above, pinned as regression cases.
    "shift LA fractional, constant border with cval": (
        "shift",
        np.array([[[0.0, 1.0], [10.0, 1.0]]]),
        (0.5, 0),
        {"mode": "constant", "cval": 0.5},
        ((1,), (2,), (2,)),
    ),
    "shift LA whole pixels in linear light, constant border with cval": (
        "shift",
        np.array([[[163, 0]]], dtype=np.uint8),
        (0, 1),
        {"mode": "constant", "cval": 3, "linear": True},
        ((1,), (1,), (2,)),
    ),
    "gaussian LA with NaN ignored, constant border": (
        "gaussian",
        np.array([[[np.nan, 0.5], [1.0, 0.5]]], dtype=np.float32),
        (1.0,),
        {"mode": "constant", "nan": "ignore"},
        ((1,), (1, 1), (1, 1)),
    ),
    "correlate window wholly in the padding, cval the dtype cannot hold": (
        "correlate",
        np.array([[5]], dtype=np.uint8),
        ([[1.0]],),
        {"mode": "constant", "cval": -1.0, "padding": ((1, 0), 0), "stride": 2},
        ((1,), (1,)),
    ),
    "shift LA fractional, constant border with a negative cval": (
        "shift",
        np.array([[[1.0, 0.5]]], dtype=np.float32),
        (0, 1.5),
        {"mode": "constant", "cval": -40.0},
        ((1,), (1,), (2,)),
    ),
    "blur LA, transparent pixel, NaN ignored in another chunk": (
        "blur",
        np.array([[[np.nan, 1.0], [5.0, 0.0]]]),
        (1,),
        {"nan": "ignore"},
        ((1,), (1, 1), (2,)),
    ),
    "edges LA, constant border, full padding": (
        "edges",
        np.array([[[1.0, 0.5]]]),
        ("vertical",),
        {"mode": "constant", "padding": "full"},
        ((1,), (1,), (2,)),
    ),
    "blur RGBA with a mask, constant border": (
        "blur",
        np.array([[[1.0, 1.0, 1.0, 0.5]]]),
        (3,),
        {"mode": "constant", "mask": np.array([[True]])},
        ((1,), (1,), (4,)),
    ),
    "blur RGBA with NaN ignored, constant border": (
        "blur",
        np.array([[[1.0, 1.0, 1.0, 0.5], [np.nan, 0.0, 0.0, 1.0]]]),
        (3,),
        {"mode": "constant", "nan": "ignore"},
        ((1,), (2,), (4,)),
    ),
}


@pytest.mark.parametrize("case", sorted(KNOWN))
def test_known_case_matches_numpy(case):
    name, image, args, kwargs, chunks = KNOWN[case]
    kwargs = dict(kwargs)
    mask = kwargs.pop("mask", None)
    atol = fft_atol(image, args[0]) if name == "correlate" else 0.0
    got = check_chunked(
        getattr(imgfilter, name),
        image,
        args,
        kwargs,
        chunks=chunks,
        mask=mask,
        same_size=name in SAME_SIZE,
        atol=atol,
    )
    assert got is not None
