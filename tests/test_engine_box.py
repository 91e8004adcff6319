"""The fused box kernel (``_engine.box``, method ``"box"`` of ``core.linear``).

Oracles: the separable pass it replaces (``run_linear`` forced to
``"separable"``, bit for bit, every integer dtype, mode, channel count,
thread count and instruction set), exact integer window sums from
``scipy.ndimage.correlate`` rounded half to even with integer arithmetic on
the sample photos, OpenCV's ``cv2.blur`` (its fixed-point rounding: within
one level), a numpy model of the kernel's index tables, and an exhaustive
check of the reciprocal shortcut its store takes.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import scipy.ndimage as ndi
from hypothesis import given
from hypothesis import strategies as st

import imgfilter
from imgfilter import _engine
from imgfilter.core import linear
from imgfilter.core.dtypes import float_dtype
from imgfilter.core.names import OptionError
from imgfilter.core.options import plan_window

MODES = ["constant", "edge", "reflect", "symmetric", "wrap"]
SCIPY_MODE = {
    "constant": "constant",
    "edge": "nearest",
    "reflect": "mirror",
    "symmetric": "reflect",
    "wrap": "wrap",
}
CV_MODE = {
    "constant": cv2.BORDER_CONSTANT,
    "edge": cv2.BORDER_REPLICATE,
    "reflect": cv2.BORDER_REFLECT_101,
    "symmetric": cv2.BORDER_REFLECT,
    "wrap": cv2.BORDER_WRAP,
}
INT_TYPES = [np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.uint64, np.int64]


def _calls():
    """Counts the kernel's calls, so a test shows the box path really ran."""
    count = [0]
    real = _engine.box

    def counting(*args):
        count[0] += 1
        return real(*args)

    return count, counting


def exact_mean(img: np.ndarray, k: tuple[int, int], mode: str) -> np.ndarray:
    """Window sums in int64 (scipy), divided by the count and rounded half to even in integers."""
    x = img.astype(np.int64)
    w = np.ones(k + (1,) * (x.ndim - 2), dtype=np.int64)
    s = ndi.correlate(x, w, mode=SCIPY_MODE[mode], cval=0)
    n = k[0] * k[1]
    q, r = np.divmod(s, n)
    up = (2 * r > n) | ((2 * r == n) & (q % 2 == 1))
    return (q + up).astype(img.dtype)


def random_image(rng, dtype, shape, extreme: bool):
    info = np.iinfo(dtype)
    if extreme:  # the dtype's ends: the widest sums the accumulators must hold
        return rng.choice(np.array([info.min, info.max], dtype=dtype), size=shape)
    lo, hi = max(int(info.min), -(2**40)), min(int(info.max), 2**40)
    return rng.integers(
        lo, hi, size=shape, endpoint=True, dtype=np.int64 if info.min < 0 else np.uint64
    ).astype(dtype)


@pytest.mark.parametrize("name", ["astronaut.png", "camera.png", "coffee.png"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("k", [3, 5, 31])
def test_photo_box_equals_exact_integer_mean(samples, name, mode, k):
    img = samples[name]
    count, counting = _calls()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(linear._engine, "box", counting)
        got = imgfilter.blur(img, k, mode=mode)
    assert count[0] >= 1
    np.testing.assert_array_equal(got, exact_mean(img, (k, k), mode))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("k", [5, 31])
def test_photo_16bit_box_equals_exact_integer_mean(photo, mode, k):
    img = photo.astype(np.uint16) * 257 + np.arange(photo.shape[1], dtype=np.uint16)[:, None] % 7
    np.testing.assert_array_equal(imgfilter.blur(img, k, mode=mode), exact_mean(img, (k, k), mode))


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])  # OpenCV has no wrap here
@pytest.mark.parametrize("k", [3, 5, 31])
def test_photo_box_within_one_level_of_opencv(photo, mode, k):
    got = imgfilter.blur(photo, k, mode=mode)
    want = cv2.blur(photo, (k, k), borderType=CV_MODE[mode])
    assert np.abs(got.astype(int) - want).max() <= 1


@given(
    dtype=st.sampled_from(INT_TYPES),
    h=st.integers(1, 23),
    w=st.integers(1, 23),
    chan=st.sampled_from([0, 1, 2, 3, 4]),
    kv=st.integers(1, 40),
    kh=st.integers(1, 40),
    mode=st.sampled_from(MODES),
    threads=st.sampled_from([1, 2]),
    extreme=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_box_equals_separable_pass(dtype, h, w, chan, kv, kh, mode, threads, extreme, seed):
    """blur: method "box" gives the separable pass's bits (odd shapes, 1-pixel images, big windows)."""
    rng = np.random.default_rng(seed)
    shape = (h, w) if chan == 0 else (h, w, chan)
    img = random_image(rng, dtype, shape, extreme)
    with linear.use_method("separable"):
        want = imgfilter.blur(img, (kv, kh), mode=mode, threads=threads)
    for isa in _engine.isas():
        previous = _engine.set_isa(isa)
        try:
            with linear.use_method("box"):
                got = imgfilter.blur(img, (kv, kh), mode=mode, threads=threads)
        finally:
            _engine.set_isa(previous)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("w", [1, 127, 128, 129, 300])
@pytest.mark.parametrize("chan", [0, 2, 3, 4, 5])
@pytest.mark.parametrize("kh", [13, 31])
def test_long_rows_of_running_sums_equal_the_exact_mean(dtype, w, chan, kh):
    """Windows of 13+ columns: the running sums are stored in chunks of 128 pixels (1-4 channels),
    rows that end inside, at and just past a chunk, against exact integer means, both ISAs."""
    rng = np.random.default_rng(w * 7 + chan)
    shape = (9, w) if chan == 0 else (9, w, chan)
    img = random_image(rng, dtype, shape, extreme=False)
    want = exact_mean(img, (5, kh), "reflect")
    for isa in _engine.isas():
        previous = _engine.set_isa(isa)
        try:
            count, counting = _calls()
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(linear._engine, "box", counting)
                got = imgfilter.blur(img, (5, kh), mode="reflect")
        finally:
            _engine.set_isa(previous)
        assert count[0] >= 1
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", INT_TYPES)
@pytest.mark.parametrize("mode", MODES)
def test_box_path_runs_for_every_integer_dtype(dtype, mode):
    """The kernel really runs for every integer dtype at a small window (and matches)."""
    rng = np.random.default_rng(3)
    img = random_image(rng, dtype, (19, 13, 3), extreme=False)
    if np.dtype(dtype).itemsize == 8:
        img = (img // 2**24).astype(dtype)  # 64-bit: only values whose sums float64 holds
    with linear.use_method("separable"):
        want = imgfilter.blur(img, 5, mode=mode)
    count, counting = _calls()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(linear._engine, "box", counting)
        got = imgfilter.blur(img, 5, mode=mode)
    np.testing.assert_array_equal(got, want)
    expected = linear.box_applies(img, (5, 5), mode, 0.0, _blur_dtype(img.dtype, 25))
    assert (count[0] >= 1) == expected
    if np.dtype(dtype).itemsize < 8:
        assert expected


def _blur_dtype(dtype, count):
    from imgfilter.core.dtypes import float_dtype, unsigned_sum_dtype

    return unsigned_sum_dtype(dtype, count) or float_dtype(dtype)


@given(
    dtype=st.sampled_from([np.uint8, np.uint16, np.int16, np.int32]),
    work=st.sampled_from([np.float32, np.float64]),
    out=st.sampled_from([None, np.float32, np.float64, np.uint8, np.int16]),
    k=st.tuples(st.integers(1, 9), st.integers(1, 20)),
    mode=st.sampled_from(MODES),
    cval=st.integers(-3, 300),
    divide=st.sampled_from([None, 2.0, 7.0, 25.0]),
    seed=st.integers(0, 2**32 - 1),
)
def test_run_linear_box_equals_separable(dtype, work, out, k, mode, cval, divide, seed):
    """run_linear (as local_mean, local_std and guided call it): float sums and results, cval."""
    rng = np.random.default_rng(seed)
    img = random_image(rng, dtype, (rng.integers(1, 17), rng.integers(1, 17), 3), extreme=False)
    plan = plan_window(img.shape, k, "same", 1, 1)
    factors = [np.ones(k[0]), np.ones(k[1])]
    kernel = np.broadcast_to(1.0, k)
    args = (img, kernel, plan, mode, float(cval), np.dtype(work), 1)
    opts = dict(factors=factors, out_dtype=out, divide=divide)
    got = linear.run_linear(*args, **opts, method="box")
    want = linear.run_linear(*args, **opts, method="separable")
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def test_default_method_is_box_for_boxes_the_kernel_takes():
    ones = [np.ones(5), np.ones(3)]
    yes, no = (lambda f: True), (lambda f: False)
    assert linear.choose_method(np.ones((5, 3)), ones, box=yes).name == "box"
    assert linear.choose_method(np.ones((5, 3)), ones, box=no).name == "separable"
    assert linear.choose_method(np.ones((31, 31)), box=no).name == "running"
    assert linear.choose_method(np.ones((5, 3)), ones).name == "separable"  # no image: no box
    assert (
        linear.choose_method(np.ones((5, 3)) / 15, [np.ones(5) / 5, np.ones(3) / 3], box=yes).name
        == "separable"
    )
    assert linear.choose_method(np.ones((5, 5)), [np.ones(5), np.arange(5.0)], box=yes).name == "separable"
    assert linear.choose_method(np.ones((31, 31)), method="box", box=no).name == "running"
    assert linear.choose_method(np.ones((3, 3)), method="box").name == "box"
    with pytest.raises(OptionError, match="method='box'"):
        linear.choose_method(np.outer(np.arange(3.0), np.ones(3)), method="box")


def test_box_is_chosen_once_for_integer_images():
    img = np.arange(80, dtype=np.uint8).reshape(8, 10)
    count, counting = _calls()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(linear._engine, "box", counting)
        imgfilter.blur(img, 3)
        assert count[0] == 1
        imgfilter.blur(img.astype(np.float32), 3)  # floats: the separable pass
        imgfilter.blur(img, 3, linear=True)  # decoded and encoded in the bands: not a lone box
        assert count[0] == 1


def test_float_images_stay_on_the_separable_pass(photo):
    f = photo.astype(np.float32) / 255
    assert not linear.box_applies(f, (5, 5), "reflect", 0.0, np.float32)
    with linear.use_method("running"):
        want = imgfilter.blur(f, 31)
    with linear.use_method("box"):
        got = imgfilter.blur(f, 31)
    np.testing.assert_array_equal(got, want)


def test_strides_and_non_unit_weights_fall_back():
    img = np.arange(64, dtype=np.uint8).reshape(8, 8)
    plan = plan_window(img.shape, (3, 3), "same", 2, 1)
    assert linear._box_spec(img, [np.ones(3), np.ones(3)], plan, "reflect", 0.0, np.float32, None) is None
    plan = plan_window(img.shape, (3, 3), "same", 1, 1)
    assert linear._box_spec(img, [np.ones(3) * 2, np.ones(3)], plan, "reflect", 0.0, np.float32, None) is None
    assert linear._box_spec(img, [np.ones(3), np.ones(3)], plan, "constant", 0.5, np.float32, None) is None
    assert (
        linear._box_spec(img, [np.ones(3), np.ones(3)], plan, "constant", 7.0, np.float32, None) is not None
    )


# ---- The kernel itself, against a numpy model of its index tables ----------------------


def model_sums(src, rowidx, colidx, kv, kh, cval):
    """out[i, j] = sum over the window of src[rowidx[i + a], colidx[j + b]] (-1: cval), in int64."""
    x = src.astype(np.int64)
    x = np.concatenate([x, np.full((1, *x.shape[1:]), cval, dtype=np.int64)], axis=0)
    x = np.concatenate([x, np.full((x.shape[0], 1, *x.shape[2:]), cval, dtype=np.int64)], axis=1)
    rows = np.where(np.asarray(rowidx) < 0, src.shape[0], rowidx)
    cols = np.where(np.asarray(colidx) < 0, src.shape[1], colidx)
    ext = x[rows][:, cols]
    c = np.cumsum(np.cumsum(ext, axis=0), axis=1)
    c = np.pad(c, [(1, 0), (1, 0)] + [(0, 0)] * (c.ndim - 2))
    return c[kv:, kh:] - c[:-kv, kh:] - c[kv:, :-kh] + c[:-kv, :-kh]


@given(
    h=st.integers(1, 9),
    w=st.integers(1, 9),
    chan=st.integers(1, 4),
    rows=st.integers(1, 12),
    kv=st.integers(1, 30),
    kh=st.integers(1, 30),
    seed=st.integers(0, 2**32 - 1),
)
def test_kernel_index_tables(h, w, chan, rows, kv, kh, seed):
    """Any tables (tall windows, repeated and cval rows and columns): exact modular sums."""
    rng = np.random.default_rng(seed)
    src = rng.integers(0, 256, (h, w, chan), dtype=np.uint8)
    rowidx = rng.integers(-1, h, rows + kv - 1)
    lpad = int(rng.integers(0, kh))
    colidx = rng.integers(-1, w, w + kh - 1)
    colidx[lpad : lpad + w] = np.arange(w)
    want = model_sums(src, rowidx, colidx, kv, kh, 9)
    for acc, t in (("u16", np.uint16), ("u32", np.uint32), ("u64", np.uint64)):
        out = np.empty((rows, w, chan), dtype=t)
        _engine.box(
            src, out, w, chan, tuple(rowidx.tolist()), tuple(colidx.tolist()), lpad, acc, "", False, 1.0, 9.0
        )
        np.testing.assert_array_equal(out, want.astype(t))  # modular, as the accumulator wraps
    out = np.empty((rows, w, chan), dtype=np.uint8)
    _engine.box(
        src,
        out,
        w,
        chan,
        tuple(rowidx.tolist()),
        tuple(colidx.tolist()),
        lpad,
        "u32",
        "",
        False,
        float(kv * kh),
        9.0,
    )
    q, r = np.divmod(want, kv * kh)
    want_mean = np.minimum(q + ((2 * r > kv * kh) | ((2 * r == kv * kh) & (q % 2 == 1))), 255)
    np.testing.assert_array_equal(out, want_mean)


def test_kernel_signed_sums_convert_to_float():
    src = np.array([[-30000, 30000, -5], [7, -8, 9]], dtype=np.int16)
    rowidx, colidx = (0, 1, 1), (0, 0, 1, 2, 2)
    out = np.empty((2, 3), dtype=np.float32)
    _engine.box(src, out, 3, 1, rowidx, colidx, 1, "u32", "f32", False, 1.0, 0.0)
    np.testing.assert_array_equal(out, model_sums(src[..., None], rowidx, colidx, 2, 3, 0)[..., 0])


def test_kernel_refuses_bad_tables_and_types():
    src = np.zeros((4, 5), dtype=np.uint8)
    out = np.empty((2, 5), dtype=np.uint16)
    rows, cols = (0, 1, 2), (0, 0, 1, 2, 3, 4, 4)
    _engine.box(src, out, 5, 1, rows, cols, 1, "u16", "", False, 1.0, 0.0)
    with pytest.raises(IndexError, match="rowidx"):
        _engine.box(src, out, 5, 1, (0, 1, 4), cols, 1, "u16", "", False, 1.0, 0.0)
    with pytest.raises(IndexError, match="colidx"):
        _engine.box(src, out, 5, 1, rows, (0, 0, 1, 2, 3, 4, 5), 1, "u16", "", False, 1.0, 0.0)
    with pytest.raises(ValueError, match="identity"):
        _engine.box(src, out, 5, 1, rows, (0, 1, 0, 2, 3, 4, 4), 1, "u16", "", False, 1.0, 0.0)
    with pytest.raises(ValueError, match="fit"):
        _engine.box(src, out, 5, 1, rows, cols[:3], 1, "u16", "", False, 1.0, 0.0)
    with pytest.raises(TypeError, match="integer"):
        _engine.box(src.astype(np.float32), out, 5, 1, rows, cols, 1, "u16", "", False, 1.0, 0.0)
    with pytest.raises(TypeError, match="signed"):
        _engine.box(src.astype(np.int16), out, 5, 1, rows, cols, 1, "u16", "", False, 1.0, 0.0)
    with pytest.raises(ValueError, match="cval"):
        _engine.box(src, out, 5, 1, rows, cols, 1, "u16", "", False, 1.0, 0.5)


# ---- The store's reciprocal shortcut (box.c), checked exhaustively -----------------------


@pytest.mark.parametrize("q", [1, 3, 9, 15, 25, 49, 81, 121, 225, 289, 961, 3969])
def test_reciprocal_store_rounds_as_division(q):
    """Odd counts, sums below 2^22: a * fl(1/q) rounds half to even as fl(a / q) does (float32)."""
    a = np.arange(min(2**22, 65535 * q), dtype=np.float32)
    r = np.float32(1) / np.float32(q)
    np.testing.assert_array_equal(np.rint(a * r), np.rint(a / np.float32(q)))


def test_reciprocal_store_needs_an_odd_count():
    """Why the shortcut is only taken for odd counts: an even one has exact ties it misses."""
    a = np.arange(2**16, dtype=np.float32)
    bad = [
        q
        for q in (6, 10, 12, 14, 20, 24)
        if not np.array_equal(np.rint(a * (np.float32(1) / np.float32(q))), np.rint(a / np.float32(q)))
    ]
    assert bad


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16, np.int32])
@pytest.mark.parametrize("mode", ["reflect", "edge", "wrap", "symmetric"])
def test_cval_beside_a_mode_that_never_reads_it(dtype, mode):
    """A fractional cval with a mode other than "constant" is never read: the box
    kernel runs (it once refused the call, "needs an integral cval") and gives SciPy's sums."""
    img = np.random.default_rng(7).integers(0, 100, (9, 11)).astype(dtype)
    assert linear.box_applies(img, (3, 3), mode, 0.5, float_dtype(img.dtype))
    sp = {"reflect": "mirror", "edge": "nearest", "wrap": "wrap", "symmetric": "reflect"}[mode]
    for k in ((3, 3), (5, 2)):
        got = imgfilter.correlate(img, np.ones(k), mode=mode, cval=0.5)
        np.testing.assert_array_equal(got, ndi.correlate(img.astype(np.float64), np.ones(k), mode=sp))
