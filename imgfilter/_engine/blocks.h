/* Recycled result buffers (blocks.c), listed in module.c's table. */
#ifndef IMGFILTER_BLOCKS_H
#define IMGFILTER_BLOCKS_H
#define PY_SSIZE_T_CLEAN
#include <Python.h>

PyObject *py_block(PyObject *self, PyObject *args);
PyObject *py_blocks_release(PyObject *self, PyObject *noargs);
PyObject *py_blocks_pooled(PyObject *self, PyObject *args);
PyObject *py_scratch_pooled(PyObject *self, PyObject *noargs);
extern const char block_doc[];
extern const char blocks_release_doc[];
extern const char blocks_pooled_doc[];
extern const char scratch_pooled_doc[];
int blocks_ready(void);
extern const int blocks_recycle; /* 1 where freed blocks are pooled (mmap and MADV_FREE) */

#define BLOCKS_METHOD_ROWS                                                         \
    {"block", py_block, METH_VARARGS, block_doc},                                  \
    {"blocks_release", py_blocks_release, METH_NOARGS, blocks_release_doc},        \
    {"blocks_pooled", py_blocks_pooled, METH_VARARGS, blocks_pooled_doc},          \
    {"scratch_pooled", py_scratch_pooled, METH_NOARGS, scratch_pooled_doc},
#endif
