/* PNG row unfiltering (png.c), listed in module.c's table. */
#ifndef IMGFILTER_PNG_H
#define IMGFILTER_PNG_H
#define PY_SSIZE_T_CLEAN
#include <Python.h>

PyObject *py_png_unfilter(PyObject *self, PyObject *args);
extern const char png_unfilter_doc[];

#define PNG_METHOD_ROWS {"png_unfilter", py_png_unfilter, METH_VARARGS, png_unfilter_doc},
#endif
