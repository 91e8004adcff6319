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

PyObject *py_sep_small(PyObject *self, PyObject *args);

#define SEP_SMALL_METHOD_ROWS {"sep_small", py_sep_small, METH_VARARGS, SEP_SMALL_DOC},

#endif
