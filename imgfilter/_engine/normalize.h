/* The weighted normalization's division (normalize.c), listed in module.c's table. */
#ifndef IMGFILTER_NORMALIZE_H
#define IMGFILTER_NORMALIZE_H
#define PY_SSIZE_T_CLEAN
#include <Python.h>

PyObject *py_divide_sums(PyObject *self, PyObject *args);
extern const char divide_sums_doc[];

#define NORMALIZE_METHOD_ROWS {"divide_sums", py_divide_sums, METH_VARARGS, divide_sums_doc},
#endif
