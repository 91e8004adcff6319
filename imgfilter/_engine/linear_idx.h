/* Linear kernels that extend the border themselves (linear_idx.c): tap
 * correlation and the separable pass read the image through row and column
 * index tables, so no band is copied with its halo. */
#ifndef IMGFILTER_LINEAR_IDX_H
#define IMGFILTER_LINEAR_IDX_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define TAPS2D_DOC                                                                                   \
    "taps2d(src, dst, rows, cols, chan, src_cols, rowidx, c_start, ncols, left, right, vstride,\n"   \
    "       hstride, trow, tcol, weights, cval)\n\n"                                                 \
    "A band of a 2-D tap correlation over an image (src: H x src_cols pixels of chan values)\n"     \
    "with the border inside the kernel. The band's extended block has len(rowidx) rows (source\n"   \
    "rows, -1: cval) and ncols columns, block column j being image column c_start + j; columns\n"  \
    "outside the image are left[j] (before it) and right[j - jb] (after it), -1: cval. Output\n"   \
    "(y, x) = sum_t weights[t] * block[y*vstride + trow[t], x*hstride + tcol[t]], summed in tap\n" \
    "order in dst's type (float32 or float64), exactly as taps() over the copied block."

#define SEP2D_IDX_DOC                                                                                \
    "sep2d_idx(src, dst, rows, cols, chan, src_cols, rowidx, c_start, ncols, left, right, vstride,\n" \
    "          hstride, vrows, wv, hcols, wh, acc, work_f64, divide, cval)\n\n"                       \
    "sep2d() without the copied block: the block as in taps2d(), vertical taps at block rows\n"     \
    "vrows (weights wv), then horizontal taps at block columns hcols (wh), in the accumulator\n"   \
    "acc, then the same store; the same bits as sep2d() over the copied block."

PyObject *py_taps2d(PyObject *self, PyObject *args);
PyObject *py_sep2d_idx(PyObject *self, PyObject *args);

#define LINEAR_IDX_METHOD_ROWS                                   \
    {"taps2d", py_taps2d, METH_VARARGS, TAPS2D_DOC},             \
    {"sep2d_idx", py_sep2d_idx, METH_VARARGS, SEP2D_IDX_DOC},

#endif
