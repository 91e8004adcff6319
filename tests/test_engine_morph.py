"""The compiled rank and min/max kernels (imgfilter/_engine/morph.c) against a
brute-force numpy reference, on both instruction sets, every key width
(8-bit, 16-bit, the Fenwick tree), the per-column rectangle path, and
their argument and bounds checks."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from imgfilter import _engine
from imgfilter.core.morph import footprint_runs

ISAS = _engine.isas()
TYPES = ["uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64", "float32", "float64"]


def windows(block, fp, rows, cols):
    """(rows, cols, chan, n) of each window's footprint values."""
    b = block.reshape(block.shape[0], block.shape[1], -1)
    taps = np.argwhere(fp)
    return np.stack([b[i : i + rows, j : j + cols] for i, j in taps], axis=-1)


def run_rank(block, fp, rank, nkeys=0, nan_key=-1, nan_rule=0, table=None, sorted_keys=False):
    fh, fw = fp.shape
    rows, cols = block.shape[0] - fh + 1, block.shape[1] - fw + 1
    out = np.empty((rows, cols, *block.shape[2:]), block.dtype)
    chan = int(np.prod(block.shape[2:], dtype=np.int64))
    tab = np.zeros(0, np.int64) if table is None else np.asarray(table, np.int64)
    _engine.morph_rank(
        block, out, rows, cols, chan, block.shape[1] * chan, cols * chan, footprint_runs(fp), rank, tab,
        nkeys or 1 << (8 * block.itemsize), nan_key, nan_rule, sorted_keys,
    )  # fmt: skip
    return out


def run_minmax(block, fp, op, nan_ignore=False):
    fh, fw = fp.shape
    rows, cols = block.shape[0] - fh + 1, block.shape[1] - fw + 1
    out = np.empty((rows, cols, *block.shape[2:]), block.dtype)
    chan = int(np.prod(block.shape[2:], dtype=np.int64))
    _engine.morph_minmax(
        block, out, rows, cols, chan, block.shape[1] * chan, cols * chan, footprint_runs(fp), op, nan_ignore
    )
    return out


@st.composite
def cases(draw, key_types=("uint8", "uint16", "uint32")):
    kt = np.dtype(draw(st.sampled_from(key_types)))
    fh, fw = draw(st.integers(1, 12)), draw(st.integers(1, 9))
    full = draw(st.booleans())
    fp = np.ones((fh, fw), bool) if full else draw(hnp.arrays(bool, (fh, fw)))
    if not fp.any():
        fp[0, 0] = True
    fp[-1, -1] = True  # the runs span the whole box
    h, w = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    chan = draw(st.sampled_from([(), (2,), (3,)]))
    nkeys = {1: 256, 2: 65536, 4: draw(st.integers(1, 70000))}[kt.itemsize]
    seed = draw(st.integers(0, 2**32 - 1))
    block = np.random.default_rng(seed).integers(0, min(nkeys, draw(st.sampled_from([3, nkeys]))),
                                                 (h + fh - 1, w + fw - 1, *chan)).astype(kt)  # fmt: skip
    n = int(fp.sum())
    return block, fp, draw(st.integers(0, n - 1)), nkeys


@given(case=cases())
def test_rank_equals_sorting_on_both_isas(case):
    block, fp, rank, nkeys = case
    rows, cols = block.shape[0] - fp.shape[0] + 1, block.shape[1] - fp.shape[1] + 1
    want = np.sort(windows(block, fp, rows, cols), axis=-1)[..., rank].reshape(rows, cols, *block.shape[2:])
    for isa in ISAS:
        previous = _engine.set_isa(isa)
        try:
            assert np.array_equal(run_rank(block, fp, rank, nkeys), want)
        finally:
            _engine.set_isa(previous)


@given(case=cases(key_types=("uint32",)), top=st.booleans())
def test_sorted_windows_equal_sorting_on_both_isas(case, top):
    """The wide keys' sorted windows (morph_rank(sorted=True)) as the tree: every rank,
    footprint and channel count, ties, and keys up to the largest a uint32 holds."""
    block, fp, rank, nkeys = case
    if top:  # keys at the top of the range: the padding keys are above them all
        nkeys = 0xFFFFFFFF
        block = (block.astype(np.int64) + (0xFFFFFFFE - int(block.max(initial=0)))).astype(np.uint32)
    rows, cols = block.shape[0] - fp.shape[0] + 1, block.shape[1] - fp.shape[1] + 1
    want = np.sort(windows(block, fp, rows, cols), axis=-1)[..., rank].reshape(rows, cols, *block.shape[2:])
    for isa in ISAS:
        previous = _engine.set_isa(isa)
        try:
            assert np.array_equal(run_rank(block, fp, rank, nkeys, sorted_keys=True), want)
        finally:
            _engine.set_isa(previous)


@pytest.mark.parametrize("sorted_keys", [False, True])
def test_nan_rules_of_wide_keys(sorted_keys):
    rng = np.random.default_rng(3)
    fp = np.array([[1, 1, 0, 1], [0, 1, 1, 1], [1, 1, 1, 0]], bool)
    n = int(fp.sum())
    block = rng.integers(0, 100000, (12, 13, 2)).astype(np.uint32)
    block[rng.random(block.shape) < 0.2] = 99999  # the NaN key, the largest
    table = [0] + [v // 3 for v in range(1, n + 1)]
    w = windows(block, fp, 10, 10)
    nans = (w == 99999).sum(axis=-1)
    prop = run_rank(block, fp, 4, 100000, 99999, 1, sorted_keys=sorted_keys).reshape(nans.shape)
    want = np.sort(w, axis=-1)[..., 4]
    assert np.array_equal(prop, np.where(nans > 0, 99999, want))
    ign = run_rank(block, fp, 4, 100000, 99999, 2, table, sorted_keys=sorted_keys).reshape(nans.shape)
    v = n - nans
    pick = np.take_along_axis(np.sort(w, axis=-1), (v // 3)[..., None], -1)[..., 0]
    assert np.array_equal(ign, np.where(v > 0, pick, 99999))


def test_sorted_windows_take_wide_keys_only():
    block = np.zeros((5, 5), np.uint16)
    with pytest.raises(ValueError, match="uint32"):
        run_rank(block, np.ones((3, 3), bool), 4, sorted_keys=True)


def test_rectangle_path_for_tall_8bit_boxes():
    rng = np.random.default_rng(1)
    for fh, fw in [(8, 1), (9, 9), (31, 31), (12, 3)]:
        block = rng.integers(0, 256, (fh + 20, fw + 25, 2)).astype(np.uint8)
        fp = np.ones((fh, fw), bool)
        n = fh * fw
        for rank in (0, n // 3, n // 2, n - 1):
            w = windows(block, fp, 21, 26)
            want = np.sort(w, axis=-1)[..., rank].reshape(21, 26, 2)
            for isa in ISAS:
                previous = _engine.set_isa(isa)
                try:
                    assert np.array_equal(run_rank(block, fp, rank), want)
                finally:
                    _engine.set_isa(previous)


@pytest.mark.parametrize("fh, fw", [(255, 257), (256, 256)])
def test_rectangle_path_either_side_of_16_bit_counts(fh, fw):
    """65535 pixels (the largest window counted in 16 bits) and 65536 (32-bit counts)."""
    rng = np.random.default_rng(fh)
    noise = rng.integers(0, 256, (fh + 2, fw + 3))
    split = np.where(np.arange(fw + 3) < (fw + 3) // 2, 200, 17)[None, :].repeat(fh + 2, axis=0)
    fp = np.ones((fh, fw), bool)
    n = fh * fw
    for block in (noise.astype(np.uint8), split.astype(np.uint8), np.full((fh + 2, fw + 3), 255, np.uint8)):
        ordered = np.sort(windows(block, fp, 3, 4), axis=-1)
        for rank in (0, n // 2, n - 1):
            want = ordered[..., rank].reshape(3, 4)
            for isa in ISAS:
                previous = _engine.set_isa(isa)
                try:
                    assert np.array_equal(run_rank(block, fp, rank), want), (isa, rank)
                finally:
                    _engine.set_isa(previous)


def test_nan_rules_of_the_rank_kernel():
    rng = np.random.default_rng(2)
    fp = np.array([[1, 1, 0], [0, 1, 1], [1, 1, 1]], bool)
    n = int(fp.sum())
    block = rng.integers(0, 9, (9, 10)).astype(np.uint16)  # key 8 plays NaN
    table = [0] + [v // 2 for v in range(1, n + 1)]
    w = windows(block, fp, 7, 8)[:, :, 0]
    nans = (w == 8).sum(axis=-1)
    prop = run_rank(block, fp, 2, 9, 8, 1)
    assert np.array_equal(prop == 8, nans > 0)
    ign = run_rank(block, fp, 2, 9, 8, 2, table)
    s = np.sort(w, axis=-1)
    v = n - nans
    want = np.where(v > 0, np.take_along_axis(s, np.maximum(v // 2, 0)[..., None], -1)[..., 0], 8)
    assert np.array_equal(ign, want)


@pytest.mark.parametrize("dtype", TYPES)
@given(data=st.data())
def test_minmax_equals_numpy_on_both_isas(dtype, data):
    fh, fw = data.draw(st.integers(1, 11)), data.draw(st.integers(1, 11))
    kind = data.draw(st.sampled_from(["full", "random", "runs"]))
    if kind == "full":
        fp = np.ones((fh, fw), bool)
    elif kind == "random":
        fp = data.draw(hnp.arrays(bool, (fh, fw)))
    else:  # one run of one length a row, from columns that may differ (a diagonal, a slant)
        fp = np.zeros((fh, fw), bool)
        length = data.draw(st.integers(1, fw))
        for r in range(fh):
            c = data.draw(st.integers(0, fw - length))
            fp[r, c : c + length] = True
    if kind != "runs":
        fp[fh // 2, fw // 2] = True
    h, w = data.draw(st.integers(1, 9)), data.draw(st.integers(1, 9))
    chan = data.draw(st.sampled_from([(), (3,)]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    block = rng.integers(-100, 100, (h + fh - 1, w + fw - 1, *chan))
    block = block.astype(dtype) if np.dtype(dtype).kind != "u" else (block + 100).astype(dtype)
    if np.dtype(dtype).kind == "f":
        block[rng.random(block.shape) < 0.1] = np.nan
    wv = windows(block, fp, h, w)
    for isa in ISAS:
        previous = _engine.set_isa(isa)
        try:
            with np.errstate(invalid="ignore"):
                for op, ref, fref in ((0, np.min, np.nanmin), (1, np.max, np.nanmax)):
                    got = run_minmax(block, fp, op)
                    want = ref(wv, axis=-1).reshape(got.shape)
                    np.testing.assert_array_equal(got, want)
                    if np.dtype(dtype).kind == "f":
                        import warnings

                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore", RuntimeWarning)
                            want = fref(wv, axis=-1).reshape(got.shape)
                        np.testing.assert_array_equal(run_minmax(block, fp, op, True), want)
        finally:
            _engine.set_isa(previous)


def test_bounds_and_arguments_are_checked():
    block = np.zeros((5, 5), np.uint8)
    out = np.zeros((3, 3), np.uint8)
    runs = footprint_runs(np.ones((3, 3), bool))
    empty = np.zeros(0, np.int64)
    _engine.morph_rank(block, out, 3, 3, 1, 5, 3, runs, 4, empty, 256, -1, 0)
    with pytest.raises(IndexError):
        _engine.morph_rank(block, out, 4, 3, 1, 5, 3, runs, 4, empty, 256, -1, 0)
    with pytest.raises(IndexError):
        _engine.morph_minmax(block, out, 3, 4, 1, 5, 3, runs, 0, False)
    with pytest.raises(IndexError):
        _engine.morph_minmax(block, np.zeros((2, 3), np.uint8), 3, 3, 1, 5, 3, runs, 0, False)
    with pytest.raises(ValueError, match="rank"):
        _engine.morph_rank(block, out, 3, 3, 1, 5, 3, runs, 9, empty, 256, -1, 0)
    with pytest.raises(ValueError, match="runs"):
        _engine.morph_rank(block, out, 3, 3, 1, 5, 3, np.array([[0, -1, 2]], np.int64), 0, empty, 256, -1, 0)
    with pytest.raises(ValueError, match="runs"):
        _engine.morph_minmax(block, out, 3, 3, 1, 5, 3, np.array([[1, 0, 2], [0, 0, 1]], np.int64), 0, False)
    with pytest.raises(ValueError, match="table"):
        _engine.morph_rank(block, out, 3, 3, 1, 5, 3, runs, 0, np.zeros(10, np.int64) + 5, 256, 3, 2)
    keys = np.full((5, 5), 70, np.uint32)
    with pytest.raises(ValueError, match="nkeys"):
        _engine.morph_rank(keys, np.zeros((3, 3), np.uint32), 3, 3, 1, 5, 3, runs, 0, empty, 70, -1, 0)
    with pytest.raises(TypeError):
        _engine.morph_rank(block.astype(np.float32), out.astype(np.float32), 3, 3, 1, 5, 3, runs, 0, empty, 256,
                           -1, 0)  # fmt: skip
    with pytest.raises(TypeError):
        _engine.morph_minmax(block, out.astype(np.int8), 3, 3, 1, 5, 3, runs, 0, False)
