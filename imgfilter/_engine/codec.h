/* The linear-light codec's methods (codec.c), listed in module.c's table. */
#ifndef IMGFILTER_CODEC_H
#define IMGFILTER_CODEC_H
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "engine.h"

PyObject *py_codec_tables(PyObject *self, PyObject *args);
PyObject *py_decode(PyObject *self, PyObject *args);
PyObject *py_encode(PyObject *self, PyObject *args);
PyObject *py_encode_float(PyObject *self, PyObject *args);
extern const char codec_tables_doc[], decode_doc[], encode_doc[], encode_float_doc[];

/* The decode tables (codec.c), shared with pooling's decoding sums. */
extern float codec_dec8[256];
extern float codec_dec16[65536];
extern int codec_ready;
/* encode() of n float32 values into uint8 (wide 0) or uint16 (wide 1) codes,
 * in the instruction set chosen now: for kernels that encode as they store. */
void codec_encode_row(int wide, const float *src, void *dst, idx_t n, float div, float mul);

PyObject *py_pool(PyObject *self, PyObject *args);
extern const char pool_doc[];

#define CODEC_METHOD_ROWS                                                    \
    {"codec_tables", py_codec_tables, METH_VARARGS, codec_tables_doc},       \
    {"decode", py_decode, METH_VARARGS, decode_doc},                         \
    {"encode", py_encode, METH_VARARGS, encode_doc},                         \
    {"encode_float", py_encode_float, METH_VARARGS, encode_float_doc},       \
    {"pool", py_pool, METH_VARARGS, pool_doc},
#endif
