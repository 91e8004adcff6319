/* The fused Sobel kernel's entry point (sobel.c). */
#ifndef IMGFILTER_SOBEL_H
#define IMGFILTER_SOBEL_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define SOBEL_DOC                                                                                 \
    "sobel(src, x, y, mag, cols, chan, rowidx, left, right, cval)\n\n"                            \
    "Sobel gradients of output rows over an image (src: H x cols pixels of chan values), the\n"  \
    "border inside the kernel: output row i reads source rows rowidx[i], rowidx[i+1],\n"         \
    "rowidx[i+2] (-1: a row of cval), and columns left (before column 0) and right (after the\n" \
    "last) are source columns (-1: cval). x, y, mag: float32 or float64 arrays of\n"             \
    "(len(rowidx) - 2) x cols x chan values, or None: x = [-1 0 1] across [1 2 1] down,\n"       \
    "y its transpose, mag = sqrt(x*x + y*y), each in the output's type."

PyObject *py_sobel(PyObject *self, PyObject *args);

#endif
