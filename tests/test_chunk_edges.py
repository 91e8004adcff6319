"""Every compiled kernel at row lengths that end inside a chunk's last pixel.

The engine walks a row of ``cols * chan`` values in chunks of a power of two
of values (or of bytes), and a chunk need not hold whole pixels: median 3 once
copied the whole border pixel when a chunk ended inside the last one, ran
past its scratch and gave wrong medians (3 x 342 RGB uint8: 1026 = 1024 + 2
values). Random shapes almost never land there, so this sweep picks widths
whose row length is within one pixel of a multiple of 64 .. 4096 values (and
of those byte counts over the item size), with 1 to 5 channels and one large
count, every border mode, both ISAs and 1 or 2 threads.

Each result is checked three ways, the strongest that exists for the filter:

* an independent oracle (np.pad + sorting for the rank filters, np.pad +
  sliding-window correlation or scipy.ndimage for the linear ones, numpy
  pooling, the Canny transcription), with the tolerance rules of
  test_filters.py;
* the same filter on the image widened by ``np.pad`` in the same border mode
  and cropped back: no output pixel may change, because every value it reads
  is the same, while the widened row no longer ends at a chunk edge;
* the other ISA and two threads: bit-identical.

The default run samples a few widths per filter, channel count and dtype;
``HYPOTHESIS_PROFILE=thorough`` (the suite's profile switch, see conftest.py)
sweeps them all. Both are deterministic.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import canny_reference
import numpy as np
import pytest
import scipy.ndimage as ndi
from test_filters import SCIPY_FILTER_MODE, assert_float_close, assert_matches, pad_correlate, value_scale

import imgfilter
from imgfilter import _engine
from imgfilter.footprints import disk

THOROUGH = os.environ.get("HYPOTHESIS_PROFILE", "quick") == "thorough"
ISAS = _engine.isas()
MODES = ("constant", "edge", "reflect", "symmetric", "wrap")
CHANNELS = (1, 2, 3, 4, 5, 130)
ALL_DTYPES = ("uint8", "uint16", "int16", "float32", "float64")


def near_chunk_edge(length: int, chan: int, itemsize: int) -> bool:
    """Whether a row of ``length`` values ends within one pixel of a chunk edge."""
    for k in range(6, 13):
        for chunk in {2**k, max(1, 2**k // itemsize)}:
            rem = length % chunk
            if min(rem, chunk - rem) <= chan:
                return True
    return False


def edge_widths(chan: int, itemsize: int) -> list[int]:
    """Widths whose ``cols * chan`` is within ``chan`` values of a chunk multiple."""
    if chan > 64:
        # Every width is near a multiple of 64 values; a chunk may hold less
        # than one pixel, so small widths are the interesting ones.
        return list(range(1, 41))
    chunks = sorted({2**k for k in range(6, 13)} | {2**k // itemsize for k in range(6, 13)})
    targets = {n * c for c in chunks for n in (1, 2, 3)} | {4096, 8192}
    widths = set()
    for t in targets:
        for length in range(t - chan, t + chan + 1):
            cols = length // chan
            if cols >= 1 and abs(cols * chan - t) <= chan:
                widths.add(cols)
    return sorted(widths)


def make_image(rng, rows: int, cols: int, chan: int, dtype: np.dtype, holes: bool = False):
    shape = (rows, cols) if chan == 1 else (rows, cols, chan)
    if dtype.kind == "f":
        img = rng.uniform(-1.0, 2.0, shape).astype(dtype)
        if holes:
            img[rng.random(shape) < 0.15] = np.nan
    else:
        # Small integer values: many exact ties, so a wrong neighbour shows.
        hi = 200 if dtype.itemsize == 1 else 3000
        lo = -500 if dtype.kind == "i" else 0
        img = rng.integers(lo, hi, shape).astype(dtype)
    return img


def pad_cols(img: np.ndarray, k: int, mode: str) -> np.ndarray:
    pads = [(0, 0), (k, k)] + [(0, 0)] * (img.ndim - 2)
    return np.pad(img, pads, mode=mode)


def pad_rows_cols(img: np.ndarray, r: int, mode: str) -> np.ndarray:
    pads = [(r, r), (r, r)] + [(0, 0)] * (img.ndim - 2)
    return np.pad(img, pads, mode=mode)


def sort_rank(img: np.ndarray, footprint: np.ndarray, mode: str, rank) -> np.ndarray:
    """Rank filter by np.pad + sorting the footprint's values (an exact oracle)."""
    r = footprint.shape[0] // 2
    ext = pad_rows_cols(img, r, mode)
    win = np.lib.stride_tricks.sliding_window_view(ext, footprint.shape, axis=(0, 1))
    vals = np.sort(win[..., footprint.astype(bool)], axis=-1)
    n = vals.shape[-1]
    return vals[..., rank(n)]


def morph_oracle(name: str, img: np.ndarray, fp: np.ndarray, mode: str) -> np.ndarray:
    """Opening and friends from the sorting oracle, each step bordered in ``mode``."""

    def erode(x):
        return sort_rank(x, fp, mode, lambda n: 0)

    def dilate(x):
        return sort_rank(x, fp, mode, lambda n: n - 1)

    if name == "opening":
        return dilate(erode(img))
    if name == "closing":
        return erode(dilate(img))
    if name == "tophat":
        return img - dilate(erode(img))
    return dilate(img) - erode(img)


def box(size: int) -> np.ndarray:
    return np.ones((size, size), bool)


def linear_oracle(kernel: np.ndarray):
    k = np.asarray(kernel, np.float64)
    rh, rw = k.shape[0] // 2, k.shape[1] // 2

    def oracle(img, mode):
        return pad_correlate(img, k, [(rh, rh), (rw, rw)], mode)

    return oracle


def gaussian_oracle(sigma: float):
    def oracle(img, mode):
        # Padded in the mode first, so scipy's own border rule never matters.
        r = int(4.0 * sigma + 0.5) + 2
        ext = pad_rows_cols(img.astype(np.float64), r, mode)
        sig = (sigma, sigma) + (0,) * (img.ndim - 2)
        return ndi.gaussian_filter(ext, sig, mode="nearest")[r:-r, r:-r]

    return oracle


@dataclass
class Case:
    """A filter call, its column reach and (if any) its independent oracle."""

    name: str
    call: Callable  # (img, mode, threads) -> result
    reach: int  # columns an output pixel may read on either side
    dtypes: tuple = ("uint8", "uint16", "float32")
    oracle: Callable | None = None  # (img, mode) -> expected
    exact: bool = True  # oracle compared bit for bit (else assert_matches)
    modes: tuple = MODES
    holes: bool = False
    channels: tuple = CHANNELS
    gain: float = 1.0  # sum of |weights|: the scale of a linear result
    # Filters that run a second window over a first one's result border that
    # intermediate in the mode too, so widening changes pixels within
    # ``reach`` of the edge: only the columns beyond it are compared.
    composed: bool = False
    # Float local_var/local_std subtract a shift taken from the data, which
    # widening changes: the widened run is then held to the float tolerance.
    pad_exact: bool = True


K3 = np.array([[1.0, 2.0, 0.0], [-1.0, 3.0, 1.0], [0.0, 1.0, 2.0]]) / 8
K3S = np.outer([1.0, 2.0, 1.0], [1.0, 2.0, 1.0]) / 16
K5 = np.arange(25, dtype=np.float64).reshape(5, 5) % 7 - 2.0
K5 /= np.abs(K5).sum()
K5S = np.outer([1.0, 4.0, 6.0, 4.0, 1.0], [1.0, -2.0, 3.0, 2.0, 1.0]) / 80
DISK2 = disk(2).astype(bool)


def _median_fp(size):
    return lambda n: n // 2


def _cases() -> list[Case]:
    cases = []
    for label, k in (("k3", K3), ("k3sep", K3S), ("k5", K5), ("k5sep", K5S)):
        cases.append(
            Case(
                f"correlate_{label}",
                lambda x, m, t, k=k: imgfilter.correlate(x, k, mode=m, threads=t),
                k.shape[1] // 2,
                ALL_DTYPES,
                linear_oracle(k),
                exact=False,
                gain=float(np.abs(k).sum()),
            )
        )
    cases.append(
        Case(
            "convolve_k5",
            lambda x, m, t: imgfilter.convolve(x, K5, mode=m, threads=t),
            2,
            ALL_DTYPES,
            linear_oracle(K5[::-1, ::-1]),
            exact=False,
            gain=float(np.abs(K5).sum()),
        )
    )
    for sigma in (1.0, 2.5):
        cases.append(
            Case(
                f"gaussian_{sigma}",
                lambda x, m, t, s=sigma: imgfilter.gaussian(x, s, mode=m, threads=t, alpha=False),
                int(4 * sigma + 0.5),
                ALL_DTYPES,
                gaussian_oracle(sigma),
                exact=False,
            )
        )
    for size in (3, 5, 31):
        cases.append(
            Case(
                f"blur_{size}",
                lambda x, m, t, s=size: imgfilter.blur(x, s, mode=m, threads=t, alpha=False),
                size // 2,
                ALL_DTYPES,
                linear_oracle(np.full((size, size), 1.0 / size**2)),
                exact=False,
                pad_exact=size != 31,  # running sums: float bits move with the row start
            )
        )
    cases.append(
        Case(
            "unsharp",
            lambda x, m, t: imgfilter.unsharp(x, sigma=1.0, amount=1.5, mode=m, threads=t, alpha=False),
            4,
        )
    )
    for out in ("x", "y", "magnitude", "angle"):
        cases.append(
            Case(
                f"sobel_{out}",
                lambda x, m, t, o=out: imgfilter.sobel(x, output=o, mode=m, threads=t, alpha=False),
                1,
            )
        )
    for op in ("scharr", "prewitt", "farid"):
        cases.append(
            Case(
                f"gradient_{op}",
                lambda x, m, t, o=op: imgfilter.gradient(x, operator=o, mode=m, threads=t, alpha=False),
                2,
            )
        )
    for direction in ("vertical", "horizontal", "laplacian"):
        cases.append(
            Case(
                f"edges_{direction}",
                lambda x, m, t, d=direction: imgfilter.edges(x, d, mode=m, threads=t, alpha=False),
                1,
            )
        )
    cases += [
        Case(
            "gaussian_gradient_magnitude",
            lambda x, m, t: imgfilter.gaussian_gradient_magnitude(x, 1.0, mode=m, threads=t, alpha=False),
            4,
        ),
        Case(
            "gaussian_laplace",
            lambda x, m, t: imgfilter.gaussian_laplace(x, 1.0, mode=m, threads=t, alpha=False),
            4,
        ),
        Case(
            "difference_of_gaussians",
            lambda x, m, t: imgfilter.difference_of_gaussians(x, 1.0, 1.6, mode=m, threads=t, alpha=False),
            7,
        ),
    ]
    rank_dtypes = ("uint8", "uint16", "int16", "float32", "float64")
    for size in (3, 5, 7):
        cases.append(
            Case(
                f"median_{size}",
                lambda x, m, t, s=size: imgfilter.median(x, s, mode=m, threads=t, alpha=False),
                size // 2,
                rank_dtypes,
                lambda x, m, s=size: sort_rank(x, box(s), m, lambda n: n // 2),
            )
        )
        cases.append(
            Case(
                f"median_{size}_nan_ignore",
                lambda x, m, t, s=size: imgfilter.median(x, s, mode=m, threads=t, nan="ignore", alpha=False),
                size // 2,
                ("float32", "float64"),
                holes=True,
            )
        )
    cases.append(
        Case(
            "median_disk",
            lambda x, m, t: imgfilter.median(x, footprint=DISK2, mode=m, threads=t, alpha=False),
            2,
            rank_dtypes,
            lambda x, m: sort_rank(x, DISK2, m, lambda n: n // 2),
        )
    )
    cases.append(
        Case(
            "rank_filter_2_of_9",
            lambda x, m, t: imgfilter.rank_filter(x, 2, size=3, mode=m, threads=t, alpha=False),
            1,
            rank_dtypes,
            lambda x, m: sort_rank(x, box(3), m, lambda n: 2),
        )
    )
    cases.append(
        Case(
            "percentile_75",
            lambda x, m, t: imgfilter.percentile(x, 75, size=5, mode=m, threads=t, alpha=False),
            2,
            rank_dtypes,
        )
    )
    for fname, rank in (("minimum", lambda n: 0), ("maximum", lambda n: n - 1)):
        fn = getattr(imgfilter, fname)
        for label, fp in (("box3", box(3)), ("box5", box(5)), ("disk2", DISK2)):
            cases.append(
                Case(
                    f"{fname}_{label}",
                    lambda x, m, t, fn=fn, fp=fp: fn(x, footprint=fp, mode=m, threads=t, alpha=False),
                    fp.shape[1] // 2,
                    rank_dtypes,
                    lambda x, m, fp=fp, rank=rank: sort_rank(x, fp, m, rank),
                )
            )
    for fname, rank in (("erode", lambda n: 0), ("dilate", lambda n: n - 1)):
        fn = getattr(imgfilter, fname)
        for label, fp in (("box3", box(3)), ("disk2", DISK2)):
            cases.append(
                Case(
                    f"{fname}_{label}",
                    lambda x, m, t, fn=fn, fp=fp: fn(x, footprint=fp, mode=m, threads=t, alpha=False),
                    fp.shape[1] // 2,
                    rank_dtypes,
                    lambda x, m, fp=fp, rank=rank: sort_rank(x, fp, m, rank),
                )
            )
    for fname in ("opening", "closing", "tophat", "morph_gradient"):
        fn = getattr(imgfilter, fname)
        for label, fp in (("box3", box(3)), ("disk2", DISK2)):
            cases.append(
                Case(
                    f"{fname}_{label}",
                    lambda x, m, t, fn=fn, fp=fp: fn(x, footprint=fp, mode=m, threads=t, alpha=False),
                    fp.shape[1] - 1,
                    rank_dtypes,
                    lambda x, m, fname=fname, fp=fp: morph_oracle(fname, x, fp, m),
                    composed=True,
                )
            )
    for label, dx, dy, interp in (
        ("bilinear_frac", 0.3, -0.6, "bilinear"),
        ("bilinear_whole", 3, -1, "bilinear"),
        ("cubic_frac", 1.25, 0.5, "cubic"),
        ("cubic_whole", -2, 1, "cubic"),
    ):
        cases.append(
            Case(
                f"shift_{label}",
                lambda x, m, t, dx=dx, dy=dy, i=interp: imgfilter.shift(
                    x, dx, dy, mode=m, threads=t, interpolation=i, alpha=False
                ),
                int(np.ceil(abs(dx))) + 2,
            )
        )
    for d in (5, 9):
        cases.append(
            Case(
                f"bilateral_{d}",
                lambda x, m, t, d=d: imgfilter.bilateral(x, d, 40.0, 3.0, mode=m, threads=t, alpha=False),
                d // 2,
                ("uint8", "float32"),
            )
        )
    for fname in ("local_var", "local_std", "local_range"):
        fn = getattr(imgfilter, fname)
        for size in (3, 5):
            cases.append(
                Case(
                    f"{fname}_{size}",
                    lambda x, m, t, fn=fn, s=size: fn(x, s, mode=m, threads=t, alpha=False),
                    size // 2,
                    ALL_DTYPES,
                    (
                        lambda x, m, s=size: (
                            sort_rank(x, box(s), m, lambda n: n - 1) - sort_rank(x, box(s), m, lambda n: 0)
                        )
                    )
                    if fname == "local_range"
                    else None,
                    pad_exact=fname == "local_range",
                )
            )
    cases.append(
        Case(
            "guided_2",
            lambda x, m, t: imgfilter.guided(x, radius=2, eps=0.01, mode=m, threads=t, alpha=False),
            4,
            ("uint8", "float32"),
            channels=(1, 3),  # the guide must have 1 or 3 channels
            composed=True,
            pad_exact=False,  # its box means are running sums: float bits move with the start
        )
    )
    return cases


CASES = {c.name: c for c in _cases()}


def _pool_cases() -> list[tuple]:
    out = []
    for op in ("max", "avg", "min"):
        for size, stride, padding in (
            (2, 2, "valid"),
            (3, 1, "valid"),
            (3, 2, "valid"),
            (3, 2, "same"),
            (2, 1, "same"),
        ):
            out.append((op, size, stride, padding))
    return out


def straddles(cols: int, chan: int, unit: int, chunk: int = 4096) -> bool:
    """Whether a multiple of ``chunk`` (values if ``unit`` is 1, else bytes)
    falls strictly inside the row's last pixel: then it does for every
    smaller power of two too, so one width probes every chunk size at once."""
    rem = (cols * chan * unit) % chunk
    return 0 < rem < chan * unit


def sampled(
    widths: list[int], key: str, count: int, chan: int, itemsize: int, thorough: bool = THOROUGH
) -> list[int]:
    """The quick run's pick: the widths whose last pixel straddles 4096 bytes
    and 4096 values (the shapes that broke median 3), else fixed random ones."""
    if thorough or len(widths) <= count:
        return widths
    rng = np.random.default_rng(zlib.crc32(key.encode()))
    # Bytes or values, in turn: kernels chunk by one or the other.
    unit = (itemsize, 1)[zlib.crc32(key.encode()) % 2]
    picks = [c for c in widths if straddles(c, chan, unit)][:1]
    rest = [c for c in widths if c not in picks]
    picks += rng.choice(rest, max(0, count - len(picks)), replace=False).tolist()
    return sorted(picks)


def plans(key: str, chan: int, dtype: np.dtype, modes, count: int = 1):
    """(rows, cols, mode) triples: every mode per width when thorough, one otherwise."""
    widths = sampled(edge_widths(chan, dtype.itemsize), key, count, chan, dtype.itemsize)
    out = []
    for i, cols in enumerate(widths):
        rows = 1 + (i + zlib.crc32(key.encode())) % 6
        if THOROUGH:
            out += [(rows, cols, m) for m in modes]
        else:
            out.append((rows, cols, modes[(i + zlib.crc32(key.encode())) % len(modes)]))
    return out


def run(call, *, isa: str, threads: int):
    previous = _engine.set_isa(isa)
    try:
        return call(threads)
    finally:
        _engine.set_isa(previous)


def assert_same(a, b, what: str):
    assert a.dtype == b.dtype and a.shape == b.shape, what
    np.testing.assert_array_equal(a, b, err_msg=what)


def check_everywhere(fn, img: np.ndarray, what: str, thread_counts=(1, 2)) -> np.ndarray:
    """The result on ISA 0, one thread; the other ISA and two threads agree bit for bit
    (every ISA with every thread count when thorough)."""
    ref = run(lambda t: fn(img, t), isa=ISAS[0], threads=1)
    if THOROUGH:
        others = [(i, t) for i in ISAS for t in thread_counts if (i, t) != (ISAS[0], 1)]
    else:
        others = [(i, 1) for i in ISAS[1:]] + [(ISAS[0], t) for t in thread_counts[1:]]
    for isa, threads in others:
        got = run(lambda t: fn(img, t), isa=isa, threads=threads)
        assert_same(got, ref, f"{what}: {isa} threads={threads} vs {ISAS[0]} threads=1")
    return ref


def wider_reach(cols: int, chan: int, itemsize: int, reach: int) -> int:
    """Padding of at least ``reach`` columns whose widened row is off every chunk edge."""
    k = reach + 2
    while near_chunk_edge((cols + 2 * k) * chan, chan, itemsize) and k < reach + 10:
        k += 1
    return k


def combos(key: str, channels, dtypes) -> list[tuple[int, str]]:
    """Every (channels, dtype) pair when thorough; else a few, fixed by ``key``."""
    if THOROUGH:
        return [(c, d) for c in channels for d in dtypes]
    # Half the channel counts (alternating with the key), dtypes in turn.
    off = zlib.crc32(key.encode())
    pairs = [(c, dtypes[(i + off) % len(dtypes)]) for i, c in enumerate(channels)]
    return pairs[off % 2 :: 2] if len(pairs) > 2 else pairs


def case_params():
    return [
        pytest.param(name, chan, dtype, id=f"{name}-c{chan}-{dtype}")
        for name, case in CASES.items()
        for chan, dtype in combos(name, case.channels, case.dtypes)
    ]


@pytest.mark.parametrize("name, chan, dtype", case_params())
def test_filter_at_chunk_edges(name, chan, dtype):
    case = CASES[name]
    dtype = np.dtype(dtype)
    key = f"{name}/{chan}/{dtype}"
    rng = np.random.default_rng(zlib.crc32(key.encode()))
    for rows, cols, mode in plans(key, chan, dtype, case.modes):
        img = make_image(rng, rows, cols, chan, dtype, case.holes)
        what = f"{name} {img.shape} {dtype} mode={mode}"

        def fn(x, t, mode=mode):
            return case.call(x, mode, t)

        threads = (1, 2)
        got = check_everywhere(fn, img, what, threads)
        assert got.shape[:2] == img.shape[:2], what
        if case.oracle is not None:
            expected = case.oracle(img, mode)
            if case.exact:
                assert_same(got, expected.astype(got.dtype), what)
            elif got.dtype == img.dtype:
                assert_matches(got, expected, img)
            else:
                # correlate/convolve give float32 for integer images: as
                # test_filters.py compares edges, scaled by the kernel's gain.
                assert_float_close(got, expected, value_scale(img) * case.gain)
        k = wider_reach(cols, chan, dtype.itemsize, case.reach)
        widened = pad_cols(img, k, mode)
        wide = run(lambda t, x=widened: fn(x, t), isa=ISAS[-1], threads=1)[:, k : k + cols]
        if case.composed:
            got, wide = got[:, case.reach : cols - case.reach], wide[:, case.reach : cols - case.reach]
        what += f": vs widened by {k} and cropped"
        if case.pad_exact or dtype.kind != "f":
            np.testing.assert_array_equal(got, wide, err_msg=what)
        else:
            assert_float_close(got, wide.astype(np.float64), value_scale(img))


def numpy_pool(img: np.ndarray, op: str, size: int, stride: int) -> np.ndarray:
    win = np.lib.stride_tricks.sliding_window_view(img, (size, size), axis=(0, 1))[::stride, ::stride]
    axes = (-2, -1)
    if op == "max":
        return win.max(axis=axes)
    if op == "min":
        return win.min(axis=axes)
    return win.astype(np.float64).mean(axis=axes)


@pytest.mark.parametrize(
    "op, size, stride, padding, chan, dtype",
    [
        (*p, chan, dtype)
        for p in _pool_cases()
        for chan, dtype in combos(str(p), CHANNELS, ("uint8", "uint16", "float32"))
    ],
)
def test_pool_at_chunk_edges(op, size, stride, padding, chan, dtype):
    dtype = np.dtype(dtype)
    key = f"pool/{op}/{size}/{stride}/{padding}/{chan}/{dtype}"
    rng = np.random.default_rng(zlib.crc32(key.encode()))
    for rows, cols, _ in plans(key, chan, dtype, ("-",)):
        rows = max(rows, size)
        img = make_image(rng, rows, cols, chan, dtype)
        if padding == "valid" and cols < size:
            continue
        what = f"pool op={op} size={size} stride={stride} padding={padding} {img.shape} {dtype}"

        def fn(x, t):
            return imgfilter.pool(x, size, stride=stride, op=op, padding=padding, threads=t, alpha=False)

        got = check_everywhere(fn, img, what)
        if padding == "valid":
            expected = numpy_pool(img, op, size, stride)
            if op == "avg":
                assert_float_close(got, expected, value_scale(img))
            else:
                assert_same(got, expected, what)


@pytest.mark.parametrize("sigma", [0.0, 1.0])
def test_canny_at_chunk_edges(sigma):
    """Canny (one channel) against the numpy transcription, as test_canny.py compares it."""
    key = f"canny/{sigma}"
    rng = np.random.default_rng(zlib.crc32(key.encode()))
    dtype = np.dtype(np.float64)
    for rows, cols, mode in plans(key, 1, dtype, MODES, count=3):
        rows += 2
        img = rng.integers(0, 4, (rows, cols)) / 3.0
        what = f"canny sigma={sigma} {img.shape} mode={mode}"

        def fn(x, t, mode=mode):
            return imgfilter.canny(
                x,
                sigma=sigma,
                low=0.3 if sigma == 0 else 0.05,
                high=1.0 if sigma == 0 else 0.2,
                mode=mode,
                threads=t,
            )

        got = check_everywhere(fn, img, what)
        if sigma == 0:
            want = canny_reference.canny(img, 0.0, 0.3, 1.0, mode=SCIPY_FILTER_MODE[mode])
            assert_same(got, want, what)
        else:
            want = canny_reference.canny(img, sigma, 0.05, 0.2, mode=SCIPY_FILTER_MODE[mode])
            # Same allowance as test_canny.py: exact ties may break either way.
            assert np.count_nonzero(got ^ want) <= max(2, 0.05 * np.count_nonzero(got | want)), what


def test_width_tables():
    """The sweep really lands on chunk edges, including the median 3 regression shape."""
    assert 342 in edge_widths(3, 1)
    assert 1366 in sampled(edge_widths(3, 1), "any", 1, 3, 1, False)  # 4098 values
    assert 32 in sampled(edge_widths(130, 1), "any", 1, 130, 1, False)
    assert all(near_chunk_edge(c * 3, 3, 1) for c in edge_widths(3, 1))
