/* The weights of nan="ignore" (weights.c), listed in module.c's table. */
#ifndef IMGFILTER_WEIGHTS_H
#define IMGFILTER_WEIGHTS_H
#define PY_SSIZE_T_CLEAN
#include <Python.h>

PyObject *py_nan_weights(PyObject *self, PyObject *args);
extern const char nan_weights_doc[];
PyObject *py_nan_valid(PyObject *self, PyObject *args);
extern const char nan_valid_doc[];
PyObject *py_nan_mark(PyObject *self, PyObject *args);
extern const char nan_mark_doc[];
PyObject *py_nan_fetch(PyObject *self, PyObject *args);
extern const char nan_fetch_doc[];
PyObject *py_nan_holes(PyObject *self, PyObject *args);
extern const char nan_holes_doc[];

#define WEIGHTS_METHOD_ROWS                                                  \
    {"nan_weights", py_nan_weights, METH_VARARGS, nan_weights_doc},          \
    {"nan_valid", py_nan_valid, METH_VARARGS, nan_valid_doc},                \
    {"nan_mark", py_nan_mark, METH_VARARGS, nan_mark_doc},                   \
    {"nan_fetch", py_nan_fetch, METH_VARARGS, nan_fetch_doc},                \
    {"nan_holes", py_nan_holes, METH_VARARGS, nan_holes_doc},
#endif
