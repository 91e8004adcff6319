/* The local statistics' finish (moments.c), listed in module.c's table. */
#ifndef IMGFILTER_MOMENTS_H
#define IMGFILTER_MOMENTS_H
#define PY_SSIZE_T_CLEAN
#include <Python.h>

PyObject *py_moments_finish(PyObject *self, PyObject *args);
extern const char moments_finish_doc[];

#define MOMENTS_METHOD_ROWS {"moments_finish", py_moments_finish, METH_VARARGS, moments_finish_doc},
#endif
