/* The fused small separable kernel's entry point (sep_small.c). */
#ifndef IMGFILTER_SEP_SMALL_H
#define IMGFILTER_SEP_SMALL_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define SEP_SMALL_DOC                                                                                 \
    "sep_small(src, dst, src_cols, chan, rowidx, colidx, lpad, vrows, wv, hcols, wh, divide, cval)\n\n" \
    "A separable 2-D correlation of at most 3 taps per axis, fused: per output element the vertical\n" \
    "taps at each horizontal tap's column, the horizontal taps and the store, in registers, with\n"   \
    "the border read through index tables. src: H x src_cols pixels of chan values (uint8, uint16\n"  \
    "or float32); output (y, x) = sum_k wh[k] * (sum_t wv[t] * block[y + vrows[t], x + hcols[k]])\n"  \
    "in float32, in tap order, block[j, i] being src[rowidx[j], colidx[i]] (-1: cval) and\n"         \
    "colidx[lpad + c] == c inside the image. dst (uint8, uint16 or float32) takes sum / divide\n"     \
    "(float32), rounded half to even and clipped for integers: the bits of sep2d() with an f32\n"    \
    "accumulator and float32 work."

#define SEP_SMALL_NAN_DOC                                                                             \
    "sep_small_nan(src, dst, src_cols, chan, rowidx, colidx, lpad, vrows, wv, hcols, wh, cval, full,\n" \
    "              has_full, tiny, has_tiny, total)\n\n"                                                \
    "sep_small()'s taps over a float32 image whose NaN values are missing, normalized: per output\n"   \
    "element the sums of the values (NaN as 0) and of their weights (NaN 0, else 1, cval 1) and\n"     \
    "their division as divide_sums() does it (full, tiny, total); float32 dst. The bits of\n"        \
    "sep2d_nan() with the same taps."

PyObject *py_sep_small(PyObject *self, PyObject *args);
PyObject *py_sep_small_nan(PyObject *self, PyObject *args);

#define SEP_SMALL_METHOD_ROWS                                                 \
    {"sep_small", py_sep_small, METH_VARARGS, SEP_SMALL_DOC},                 \
        {"sep_small_nan", py_sep_small_nan, METH_VARARGS, SEP_SMALL_NAN_DOC},

#endif
