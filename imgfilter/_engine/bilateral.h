/* The bilateral filter's entry point (bilateral.c). */
#ifndef IMGFILTER_BILATERAL_H
#define IMGFILTER_BILATERAL_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define BILATERAL_DOC                                                                              \
    "bilateral(src, mask, dst, h, w, chan, ncol, radius, alpha, nan_missing, wide, rows, cols,\n" \
    "          weights, lut, coeff, amax)\n\n"                                                     \
    "OpenCV's bilateral filter of a border-extended block ((h + 2 radius) x (w + 2 radius)\n"     \
    "pixels of chan values) into dst (h x w pixels): taps (rows[t], cols[t]) from each\n"         \
    "window's corner with spatial weights[t], range weight lut[d] (integer sources) or\n"         \
    "exp(coeff d^2), d the sum of the ncol colour channels' absolute differences. alpha: the\n"   \
    "last channel is alpha (premultiplied, divided by amax). mask (one byte per block pixel,\n"   \
    "0 = missing) and nan_missing (a NaN colour channel = missing) give missing pixels no\n"      \
    "weight. Work in float32, or float64 when wide; integer dst values are rounded and clipped."

PyObject *py_bilateral(PyObject *self, PyObject *args);

#endif
