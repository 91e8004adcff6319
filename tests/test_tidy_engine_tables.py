"""The glue's shared index tables and buffer pair (glue.c), as box and sep2d_idx see them."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from imgfilter import _engine


def _box(src, out, rows, cols):
    _engine.box(src, out, 5, 1, rows, cols, 1, "u16", "", False, 1.0, 0.0)


def test_box_tables_as_tuples_or_intp_arrays_give_the_same_sums():
    src = np.arange(20, dtype=np.uint8).reshape(4, 5)
    rows, cols = (0, 1, 2), (0, 0, 1, 2, 3, 4, 4)
    a, b = np.empty((2, 5), np.uint16), np.empty((2, 5), np.uint16)
    _box(src, a, rows, cols)
    _box(src, b, np.array(rows, np.intp), np.array(cols, np.intp))
    # Independent: vertical pairs of rows, then three columns of the edge-extended row.
    ext = src.astype(np.int64)[:, [0, 0, 1, 2, 3, 4, 4]]
    want = (ext[0:2] + ext[1:3])[:, :-2] + (ext[0:2] + ext[1:3])[:, 1:-1] + (ext[0:2] + ext[1:3])[:, 2:]
    np.testing.assert_array_equal(a, want)
    np.testing.assert_array_equal(b, want)


def test_box_refuses_empty_and_outside_tables_naming_them():
    src = np.zeros((4, 5), np.uint8)
    out = np.empty((2, 5), np.uint16)
    with pytest.raises(ValueError, match="non-empty"):
        _box(src, out, (), (0, 0, 1, 2, 3, 4, 4))
    with pytest.raises(IndexError, match=r"rowidx\[2\] = 4 outside \[-1, 4\)"):
        _box(src, out, (0, 1, 4), (0, 0, 1, 2, 3, 4, 4))
    with pytest.raises(IndexError, match=r"colidx\[0\] = -2"):
        _box(src, out, (0, 1, 2), (-2, 0, 1, 2, 3, 4, 4))
    with pytest.raises(ValueError, match="intp"):
        _box(src, out, np.array([0, 1, 2], np.int16), (0, 0, 1, 2, 3, 4, 4))


def test_a_bad_destination_releases_the_source():
    # A held Py_buffer keeps a reference to its array: a failing dst must
    # leave src's reference count as it was.
    src = np.zeros((4, 5), np.uint8)
    bad = np.empty((2, 5), np.uint16)
    bad.setflags(write=False)
    before = sys.getrefcount(src)
    for _ in range(3):
        with pytest.raises(ValueError, match="writable"):
            _box(src, bad, (0, 1, 2), (0, 0, 1, 2, 3, 4, 4))
    assert sys.getrefcount(src) == before
