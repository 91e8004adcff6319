/* Canny's compiled steps (canny.c): what module.c lists. */
#ifndef IMGFILTER_CANNY_H
#define IMGFILTER_CANNY_H

#include "glue.h"

PyObject *py_canny_nms(PyObject *self, PyObject *args);
PyObject *py_canny_nms_u8(PyObject *self, PyObject *args);
PyObject *py_canny_hysteresis(PyObject *self, PyObject *args);
extern const char canny_nms_doc[], canny_nms_u8_doc[], canny_hysteresis_doc[];

#define CANNY_METHOD_ROWS                                                     \
    {"canny_nms", py_canny_nms, METH_VARARGS, canny_nms_doc},                 \
    {"canny_nms_u8", py_canny_nms_u8, METH_VARARGS, canny_nms_u8_doc},        \
    {"canny_hysteresis", py_canny_hysteresis, METH_VARARGS, canny_hysteresis_doc},

/* Per-row scratch of one band: three rows each of the normalized source,
 * its x difference, and the gradient (x, y, magnitude). */
typedef int (*canny_nms_fn)(const void *src, uint8_t *dst, idx_t rows, idx_t cols, idx_t r0, idx_t r1,
                            double low, double high, int l2, const void *vscale, const void *hscale,
                            double eps, const uint8_t *emask, void *mag);

extern canny_nms_fn canny_nms_table_base[4];
#if defined(ENGINE_HAVE_AVX2)
extern canny_nms_fn canny_nms_table_avx2[4];
#endif

#endif
