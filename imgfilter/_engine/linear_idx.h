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
    "          hstride, vrows, wv, hcols, wh, acc, work_f64, divide, cval, codec=False,\n"           \
    "          enc_div=1.0, enc_mul=1.0)\n\n"                                                      \
    "sep2d() without the copied block: the block as in taps2d(), vertical taps at block rows\n"     \
    "vrows (weights wv), then horizontal taps at block columns hcols (wh), in the accumulator\n"   \
    "acc, then the same store; the same bits as sep2d() over the copied block. codec: src holds\n" \
    "uint8/uint16 sRGB codes, decoded as they are read (cval: the decoded border), summed in\n"    \
    "float32 (acc f32, divide 1) and encoded into dst's codes of their type as encode(sums,\n"   \
    "enc_div, enc_mul) gives them: the bits of decode(), sep2d(), encode()."

#define TAPS2D_NAN_DOC                                                                               \
    "taps2d_nan(src, dst, rows, cols, chan, src_cols, rowidx, c_start, ncols, left, right, vstride,\n" \
    "           hstride, trow, tcol, weights, cval, full, has_full, tiny, has_tiny, total) -> status\n\n" \
    "The normalized tap correlation over NaN holes in one pass: the block as in taps2d() (src and\n" \
    "dst both float32 or both float64), its NaNs read as 0 of weight 0 (the others weigh 1; cval\n" \
    "too, unless NaN), the values and the pixels' weights summed by the taps as taps2d() sums\n"  \
    "them, then each value sum divided by its pixel's weight sum as divide_sums() divides (full,\n" \
    "tiny, total). The same bits as zeroing the copied block, taps2d() over it and over its weight\n" \
    "plane, then divide_sums(). Status 0; 3 where a pixel is NaN in some of its channels only\n" \
    "(it stops there: dst is then unspecified)."

#define SEP2D_NAN_DOC                                                                                \
    "sep2d_nan(src, dst, rows, cols, chan, src_cols, rowidx, c_start, ncols, left, right, vstride,\n" \
    "          hstride, vrows, wv, hcols, wh, cval, full, has_full, tiny, has_tiny, total) -> status\n\n" \
    "taps2d_nan() for separable taps: the block and its NaNs as there, the vertical taps (vrows,\n" \
    "wv) then the horizontal taps (hcols, wh) over the values and over the pixels' weights as\n"     \
    "sep2d_idx() runs them in src's type (divide 1, no store), then divide_sums()' division. The\n" \
    "same bits as zeroing the copied block, sep2d() over it and over its weight plane, then\n"      \
    "divide_sums(). Status 0; 3 where a pixel is NaN in some of its channels only."

#define SEP2D_NAN_AT_DOC                                                                             \
    "sep2d_nan_at(src, num, den, rows, cols, chan, src_cols, rowidx, c_start, ncols, left, right,\n"  \
    "             vstride, hstride, vrows, wv, hcols, wh, cval, ys, xs)\n\n"                          \
    "sep2d_nan()'s sums at single outputs (ys[k], xs[k]) of its rows x cols grid (the same block,\n" \
    "tables, taps and NaN rule), undivided: num[k, c] the value sums and den[k, c] the weight sums\n" \
    "(one weight per value, so a pixel NaN in some channels only weighs as the band route weighs\n" \
    "it); the bits of sep2d_nan()'s sums at those outputs. num and den: float32 or float64 as src,\n" \
    "chan values per output."

PyObject *py_taps2d(PyObject *self, PyObject *args);
PyObject *py_sep2d_nan_at(PyObject *self, PyObject *args);
PyObject *py_sep2d_nan(PyObject *self, PyObject *args);
PyObject *py_taps2d_nan(PyObject *self, PyObject *args);
PyObject *py_sep2d_idx(PyObject *self, PyObject *args);

#define LINEAR_IDX_METHOD_ROWS                                   \
    {"taps2d", py_taps2d, METH_VARARGS, TAPS2D_DOC},             \
    {"sep2d_idx", py_sep2d_idx, METH_VARARGS, SEP2D_IDX_DOC},    \
    {"taps2d_nan", py_taps2d_nan, METH_VARARGS, TAPS2D_NAN_DOC}, \
    {"sep2d_nan", py_sep2d_nan, METH_VARARGS, SEP2D_NAN_DOC},       \
    {"sep2d_nan_at", py_sep2d_nan_at, METH_VARARGS, SEP2D_NAN_AT_DOC},

#endif
