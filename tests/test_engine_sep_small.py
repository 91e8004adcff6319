"""The fused small separable kernel (``_engine.sep_small``, method ``"small"`` of ``core.linear``).

Oracles: the separable pass it replaces (``run_linear`` forced to
``"separable"``, in-kernel and copied borders, bit for bit, every dtype it
takes, mode, channel count, thread count and instruction set), a numpy
transcription of the bilinear shift's float32 operations (``np.pad``, the
taps in order, the power-of-two scale, rounding half to even: bit for bit),
and ``scipy.ndimage.shift(order=1)`` with SciPy's grid modes (within the
rounding of near ties).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.ndimage as ndi
from hypothesis import given, settings
from hypothesis import strategies as st

import imgfilter
from imgfilter import _engine
from imgfilter.core import linear
from imgfilter.core.names import OptionError
from imgfilter.core.options import plan_window

MODES = ["constant", "edge", "reflect", "symmetric", "wrap"]
SCIPY_SHIFT_MODE = {
    "constant": "grid-constant",
    "edge": "nearest",
    "reflect": "mirror",
    "symmetric": "reflect",
    "wrap": "grid-wrap",
}
TYPES = [np.uint8, np.uint16, np.float32]
_REAL = _engine.sep_small


def _calls():
    """Counts the kernel's calls, so a test shows the fused path really ran."""
    count = [0]

    def counting(*args):
        count[0] += 1
        return _REAL(*args)

    return count, counting


def random_image(rng, dtype, shape, specials=False):
    if np.dtype(dtype).kind == "f":
        img = rng.normal(0, 300, size=shape).astype(dtype)
        if img.size > 2:  # signed zeros and ties-prone halves too
            img.flat[0], img.flat[-1] = -0.0, 0.5
        if specials:  # a patch of -0 (sums of -0 stay -0), NaN and infinities
            img[: max(1, shape[0] // 2), : max(1, shape[1] // 2)] = -0.0
            flat = img.reshape(-1)
            for v in (np.nan, np.inf, -np.inf):
                if rng.random() < 0.5:
                    flat[rng.integers(0, flat.size)] = v
        return img
    top = int(np.iinfo(dtype).max)
    pick = rng.integers(0, 3)
    if pick == 0:  # the dtype's ends: the widest sums the lanes must hold
        return rng.choice(np.array([0, top], dtype=dtype), size=shape)
    return rng.integers(0, top, size=shape, endpoint=True).astype(dtype)


amounts = st.one_of(
    st.integers(-6, 6).map(float),  # whole pixels: one tap on that axis
    st.integers(-48, 48).map(lambda k: k / 16),  # dyadic: integer taps and a power-of-two scale
    st.floats(-6, 6, allow_nan=False, allow_subnormal=False),
)


def cval_for(dtype, data) -> float:
    if np.dtype(dtype).kind == "u":
        return float(data.draw(st.integers(0, int(np.iinfo(dtype).max)), label="cval"))
    return float(np.float32(data.draw(st.floats(-1000, 1000), label="cval")))


def numpy_shift(img: np.ndarray, dx: float, dy: float, mode: str, cval: float) -> np.ndarray:
    """The bilinear shift's float32 operations, transcribed: taps (f, 1 - f) per axis
    split into integers times 2**-e where exact, summed in tap order (vertical,
    then horizontal), scaled, rounded half to even and clipped."""
    taps, before = [], []
    for a in (dy, dx):
        w = math.floor(a)
        f = a - w
        taps.append(np.array([f, 1.0 - f]) if f else np.array([1.0]))
        before.append(w + 1 if f else w)
    ints, e = linear.power_of_two_split(taps)
    ft = np.float32 if img.dtype != np.float64 else np.float64
    x = img.reshape((*img.shape[:2], -1))
    h, w = x.shape[:2]
    kv, kh = (len(t) for t in ints)
    pads = [(before[0], kv - 1 - before[0]), (before[1], kh - 1 - before[1])]
    # np.pad cannot pad less than nothing: pad by the larger side, then cut.
    big = [(max(p, 0) + abs(min(q, 0)), max(q, 0) + abs(min(p, 0))) for p, q in pads]
    kw = {"constant_values": cval} if mode == "constant" else {}
    padded = np.pad(x, [*big, (0, 0)], mode=mode, **kw).astype(ft)
    y0 = big[0][0] - pads[0][0]
    x0 = big[1][0] - pads[1][0]
    wv, wh = (np.asarray(t, dtype=ft) for t in ints)
    nz_v, nz_h = np.flatnonzero(wv), np.flatnonzero(wh)
    vert = None
    for t in nz_v:
        term = wv[t] * padded[y0 + t : y0 + t + h, x0 : x0 + w + kh - 1]
        vert = term if vert is None else vert + term
    out = None
    for t in nz_h:
        term = wh[t] * vert[:, t : t + w]
        out = term if out is None else out + term
    if e:
        out = out * ft(2.0**-e)
    if img.dtype.kind in "iu":
        info = np.iinfo(img.dtype)
        out = np.clip(np.rint(out), info.min, info.max)
    return out.astype(img.dtype).reshape(img.shape)


def _assert_rounded_near(res, ref, dtype):
    """Integer results are the float64 oracle rounded (a float32 near-tie may go either way)."""
    if np.dtype(dtype).kind == "f":
        np.testing.assert_allclose(
            res, ref, rtol=1e-4, atol=1e-4 * max(1.0, float(np.abs(ref).max(initial=1)))
        )
        return
    info = np.iinfo(dtype)
    clipped = np.clip(ref, info.min, info.max)
    assert np.all(np.abs(res.astype(np.float64) - clipped) <= 0.5 + 1e-3 * max(1.0, info.max / 255))


@settings(max_examples=150)
@given(
    dtype=st.sampled_from(TYPES),
    h=st.sampled_from([1, 2, 3, 5, 8, 17]),
    w=st.sampled_from([1, 2, 3, 7, 11, 16, 33, 70]),
    chan=st.sampled_from([0, 1, 2, 3, 4, 5]),
    dx=amounts,
    dy=amounts,
    mode=st.sampled_from(MODES),
    threads=st.sampled_from([1, 2]),
    seed=st.integers(0, 2**32 - 1),
    data=st.data(),
)
def test_small_shift_equals_separable_and_the_transcription(
    dtype, h, w, chan, dx, dy, mode, threads, seed, data
):
    """shift: method "small" gives the separable pass's bits and the numpy transcription's."""
    rng = np.random.default_rng(seed)
    img = random_image(rng, dtype, (h, w) if chan == 0 else (h, w, chan))
    cval = cval_for(dtype, data)
    kw = {"mode": mode, "cval": cval, "threads": threads, "alpha": False}
    with linear.use_method("separable"):
        want = imgfilter.shift(img, dx, dy, **kw)
    with linear.copied_borders():
        copied = imgfilter.shift(img, dx, dy, **kw)
    np.testing.assert_array_equal(copied, want)
    np.testing.assert_array_equal(want, numpy_shift(img, dx, dy, mode, cval))
    fractional = dx != math.floor(dx) or dy != math.floor(dy)
    for isa in _engine.isas():
        previous = _engine.set_isa(isa)
        count, counting = _calls()
        try:
            _engine.sep_small = counting
            with linear.use_method("small"):
                got = imgfilter.shift(img, dx, dy, **kw)
            _engine.sep_small = _REAL
            auto = imgfilter.shift(img, dx, dy, **kw)  # the box kernel may take halves of integers
        finally:
            _engine.sep_small = _REAL
            _engine.set_isa(previous)
        assert got.dtype == want.dtype == img.dtype
        assert_bits(got, want)
        assert_bits(auto, want)
        assert (count[0] > 0) == fractional  # whole shifts are copies; fractional ones take the kernel
    if fractional:
        ref = ndi.shift(
            img.astype(np.float64),
            (dy, dx) + (0,) * (img.ndim - 2),
            order=1,
            mode=SCIPY_SHIFT_MODE[mode],
            cval=cval,
            prefilter=False,
        )
        _assert_rounded_near(want, ref, dtype)


@st.composite
def small_factors(draw):
    """1 to 3 non-zero taps per axis (zeros between and around them), integer or not."""
    out = []
    for _ in range(2):
        n = draw(st.integers(1, 4))
        kind = draw(st.sampled_from(["int", "nonneg-int", "float"]))
        if kind == "float":
            vals = st.floats(-3, 3, allow_nan=False, allow_subnormal=False, width=32)
        else:
            vals = st.integers(0 if kind == "nonneg-int" else -4, 4).map(float)
        f = np.array(draw(st.lists(vals, min_size=n, max_size=n)), dtype=np.float64)
        nz = np.flatnonzero(f)
        if len(nz) == 0:
            f[draw(st.integers(0, n - 1))] = 1.0
        for extra in nz[3:]:
            f[extra] = 0.0  # at most three non-zero taps
        out.append(f)
    return out


def assert_bits(got: np.ndarray, want: np.ndarray) -> None:
    """The same dtype and the same bits (-0 is not 0; NaNs are the same NaN)."""
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))


@settings(max_examples=150)
@given(
    src=st.sampled_from(TYPES),
    dst=st.sampled_from(TYPES),
    h=st.sampled_from([1, 2, 4, 9]),
    w=st.sampled_from([1, 3, 6, 13, 40, 71]),
    chan=st.sampled_from([0, 1, 3, 5]),
    factors=small_factors(),
    dilation=st.sampled_from([(1, 1), (2, 1), (1, 3)]),
    padding=st.sampled_from(["same", "full", "valid"]),
    divide=st.sampled_from([None, 2.0, 8.0, 16.0, 1024.0, 0.5, 3.0, 9.5]),
    mode=st.sampled_from(MODES),
    threads=st.sampled_from([1, 2]),
    seed=st.integers(0, 2**32 - 1),
)
def test_small_run_linear_equals_separable(
    src, dst, h, w, chan, factors, dilation, padding, divide, mode, threads, seed
):
    """run_linear: "small" over any small rank-1 kernel, dilation, padding, store and divisor
    gives the separable pass's bits (which pick integer accumulators where they are exact)."""
    rng = np.random.default_rng(seed)
    img = random_image(rng, src, (h, w) if chan == 0 else (h, w, chan), specials=True)
    kernel = np.multiply.outer(*factors)
    try:
        plan = plan_window(img.shape, kernel.shape, padding, 1, dilation)
    except ValueError:
        return  # a "valid" window larger than the image
    if 0 in plan.out_shape:
        return
    cval = 3.0
    args = (img, kernel, plan, mode, cval, np.dtype(np.float32), threads)
    kw = {"factors": factors, "out_dtype": np.dtype(dst), "divide": divide}
    want = linear.run_linear(*args, method="separable", **kw)
    with linear.copied_borders():
        assert_bits(linear.run_linear(*args, method="separable", **kw), want)
    applies = linear._small_spec(img, factors, plan, mode, cval, np.float32, None, dst, divide) is not None
    for isa in _engine.isas():
        previous = _engine.set_isa(isa)
        count, counting = _calls()
        try:
            _engine.sep_small = counting
            got = linear.run_linear(*args, method="small", **kw)
        finally:
            _engine.sep_small = _REAL
            _engine.set_isa(previous)
        assert_bits(got, want)
        assert (count[0] > 0) == applies
    # Only a divisor beyond float32, or 0, keeps the kernel out here.
    assert applies == (divide is None or 0 < divide < 3e38)


@pytest.mark.parametrize("dtype", TYPES)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dx,dy", [(0.5, 0.25), (0.3, -0.6), (-2.75, 1.25), (0.3, 0.0), (0.0, -0.125)])
def test_photo_shift_takes_the_kernel(photo, dtype, mode, dx, dy):
    """On a photo (long rows: every vector path and its tail) the automatic choice is the
    fused kernel, bit for bit the separable pass, on both instruction sets."""
    img = photo[:61, :203].astype(dtype)
    if dtype == np.uint16:
        img = img * 257
    with linear.use_method("separable"):
        want = imgfilter.shift(img, dx, dy, mode=mode, cval=9)
    for isa in _engine.isas():
        previous = _engine.set_isa(isa)
        count, counting = _calls()
        try:
            _engine.sep_small = counting
            got = imgfilter.shift(img, dx, dy, mode=mode, cval=9, threads=2)
        finally:
            _engine.sep_small = _REAL
            _engine.set_isa(previous)
        assert count[0] > 0
        np.testing.assert_array_equal(got, want)


def test_choose_method_names_small_only_where_it_applies():
    two = [np.array([0.5, 0.5]), np.array([0.25, 0.75])]
    yes, no = (lambda f: True), (lambda f: False)
    assert linear.choose_method(np.ones((2, 2)), two, small=yes).name == "small"
    assert linear.choose_method(np.ones((2, 2)), two, small=no).name == "separable"
    assert linear.choose_method(np.ones((2, 2)), two).name == "separable"  # no image: no kernel
    assert linear.choose_method(np.ones((2, 2)), two, method="small", small=no).name == "separable"
    assert linear.choose_method(np.ones((3, 3)), method="small", box=yes, small=no).name == "box"
    assert linear.choose_method(np.ones((3, 3)), box=yes, small=yes).name == "box"  # 3 taps: not automatic
    assert linear.choose_method(np.ones((3, 3)), box=no, small=yes).name == "separable"
    assert linear.choose_method(np.ones((3, 3)), method="small", box=yes, small=yes).name == "small"
    tiny = [np.ones(1), np.ones(2)]  # given factors: a half-pixel shift of an integer image
    assert linear.choose_method(np.ones((1, 2)), tiny, box=yes, small=yes).name == "small"
    with pytest.raises(OptionError):
        linear.choose_method(np.array([[1.0, 2.0], [3.0, 5.0]]), method="small")


def test_small_applies():
    u8 = np.zeros((4, 5, 3), np.uint8)
    two = [[0.5, 0.5], [0.25, 0.75]]
    assert linear.small_applies(u8, two, "reflect", 0.0, np.uint8)
    assert linear.small_applies(u8, two, "constant", 255.0, np.uint8)
    assert not linear.small_applies(u8, two, "constant", 256.0, np.uint8)  # cval no uint8 value
    assert not linear.small_applies(u8, [[1, 1, 1, 1], [1]], "reflect", 0.0)  # 4 taps
    assert not linear.small_applies(u8.astype(np.int16), two, "reflect", 0.0)
    assert not linear.small_applies(u8[:, ::2], two, "reflect", 0.0)  # not contiguous
    assert not linear.small_applies(u8, [[np.inf, 1.0], [1.0]], "reflect", 0.0)
    with linear.copied_borders():
        assert not linear.small_applies(u8, two, "reflect", 0.0, np.uint8)


def _args(**over):
    src = np.arange(12, dtype=np.uint8).reshape(3, 4)
    a = {
        "src": src,
        "dst": np.empty((3, 4), np.uint8),
        "src_cols": 4,
        "chan": 1,
        "rowidx": np.array([0, 0, 1, 2], np.intp),
        "colidx": np.array([0, 0, 1, 2, 3], np.intp),
        "lpad": 1,
        "tv": (0, 1),
        "wv": (1.0, 1.0),
        "th": (0, 1),
        "wh": (1.0, 1.0),
        "divide": 4.0,
        "cval": 0.0,
    }
    a.update(over)
    return tuple(a.values())


def test_engine_checks_its_arguments():
    _engine.sep_small(*_args())  # the valid call
    bad = [
        ({"tv": (1, 0), "wv": (1.0, 1.0)}, ValueError),  # taps not ascending
        ({"tv": (0, 1, 2, 3), "wv": (1.0,) * 4}, ValueError),  # four taps
        ({"tv": (0, 1), "wv": (1.0,)}, ValueError),  # a weight missing
        ({"wh": (float("inf"), 1.0)}, ValueError),
        ({"rowidx": np.array([0, 0, 1], np.intp)}, ValueError),  # the table does not fit dst
        ({"rowidx": np.array([0, 0, 1, 3], np.intp)}, IndexError),  # a row outside the image
        ({"colidx": np.array([0, 0, 1, 2, 4], np.intp)}, IndexError),
        ({"colidx": np.array([0], np.intp)}, ValueError),  # shorter than the taps' span
        ({"dst": np.empty((3, 4), np.int16)}, TypeError),
        ({"src": np.zeros((3, 4), np.float64)}, TypeError),
        ({"cval": 256.0}, ValueError),
        ({"divide": 0.0}, ValueError),
        ({"chan": 0}, ValueError),
    ]
    for over, exc in bad:
        with pytest.raises(exc):
            _engine.sep_small(*_args(**over))


def test_integer_lanes_round_half_to_even_at_every_sum():
    """The 16-bit lanes' rounding of sum / 2**s, against the float store, at every
    sum a 2 x 2 of weights (1, 1) reaches over uint8 (a row of each value)."""
    vals = np.arange(256, dtype=np.uint8)
    img = np.stack([np.repeat(vals, 2), np.repeat(vals[::-1], 2)])
    img = np.ascontiguousarray(np.tile(img, (3, 1)))
    for divide in (1.0, 2.0, 4.0, 8.0, 16.0, 64.0, 512.0):
        want = linear.run_linear(
            img,
            np.ones((2, 2)),
            plan_window(img.shape, (2, 2), "same", 1, 1),
            "edge",
            0.0,
            np.dtype(np.float32),
            1,
            factors=[np.ones(2), np.ones(2)],
            out_dtype=np.dtype(np.uint8),
            divide=divide,
            method="separable",
        )
        for isa in _engine.isas():
            previous = _engine.set_isa(isa)
            try:
                got = linear.run_linear(
                    img,
                    np.ones((2, 2)),
                    plan_window(img.shape, (2, 2), "same", 1, 1),
                    "edge",
                    0.0,
                    np.dtype(np.float32),
                    1,
                    factors=[np.ones(2), np.ones(2)],
                    out_dtype=np.dtype(np.uint8),
                    divide=divide,
                    method="small",
                )
            finally:
                _engine.set_isa(previous)
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(
    "fv,fh,divide",
    [
        ([16.0, 16.0], [8.0, 8.0], 256.0),  # sums to 2^17: past the 16-bit lanes
        ([1.0, 127.0], [1.0, 1.0], 256.0),  # 255 * 256 + 128 = 2^16: just past them
        ([1.0, 126.0], [1.0, 1.0], 256.0),  # 255 * 254 + 128: just inside
        ([3.0, 5.0, 7.0], [2.0, 9.0], 64.0),
        ([2.0], [1.0, 3.0, 4.0], 1.0),
    ],
)
def test_integer_weights_at_the_edge_of_16_bit_lanes(fv, fh, divide):
    """uint8 sums near 2^16: the lanes take them only while they (and the rounding's
    half) fit, else the float32 path; both are the separable pass's bits."""
    rng = np.random.default_rng(5)
    img = rng.choice(np.array([0, 1, 254, 255], np.uint8), size=(7, 150, 3))
    factors = [np.array(fv), np.array(fh)]
    kernel = np.multiply.outer(*factors)
    plan = plan_window(img.shape, kernel.shape, "same", 1, 1)
    for out in (np.uint8, np.uint16, np.float32):
        args = (img, kernel, plan, "edge", 0.0, np.dtype(np.float32), 1)
        kw = {"factors": factors, "out_dtype": np.dtype(out), "divide": divide}
        want = linear.run_linear(*args, method="separable", **kw)
        for isa in _engine.isas():
            previous = _engine.set_isa(isa)
            try:
                got = linear.run_linear(*args, method="small", **kw)
            finally:
                _engine.set_isa(previous)
            np.testing.assert_array_equal(got, want)
