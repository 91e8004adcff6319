/* The ranks of an image's distinct values (keys.c), listed in module.c's table. */
#ifndef IMGFILTER_KEYS_H
#define IMGFILTER_KEYS_H
#define PY_SSIZE_T_CLEAN
#include <Python.h>

PyObject *py_value_keys(PyObject *self, PyObject *args);
extern const char value_keys_doc[];

#define KEYS_METHOD_ROWS {"value_keys", py_value_keys, METH_VARARGS, value_keys_doc},
#endif
