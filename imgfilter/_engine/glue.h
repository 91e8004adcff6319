/* Python glue shared by every kernel family (glue.c). */
#ifndef IMGFILTER_GLUE_H
#define IMGFILTER_GLUE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "engine.h"

/* 1 when the AVX2 kernels run (set by set_isa, chosen at import). */
extern int use_avx2;
int cpu_has_avx2(void);

/* numpy's buffer format -> T_* element type, or -1. */
int element_type(const Py_buffer *v);
/* A C-contiguous native-order buffer of a supported type, or -1 with an exception. */
int get_array(PyObject *obj, Py_buffer *v, int writable, const char *name);
/* A kernel's source (read) and destination (written) buffers; on failure
 * neither is held. */
int get_src_dst(PyObject *src_o, PyObject *dst_o, Py_buffer *src, Py_buffer *dst);
/* A tuple of at most cap ints into out; returns its length, or -1. */
Py_ssize_t int_tuple(PyObject *t, idx_t *out, Py_ssize_t cap, const char *name);
/* Geometry from (outer, s_outer, d_outer) tuples and the four run sizes. */
int parse_geom(PyObject *outer, PyObject *s_outer, PyObject *d_outer, Py_ssize_t inner,
               Py_ssize_t chan, Py_ssize_t s_step, Py_ssize_t d_step, geom_t *g);
/* 1 when the geometry has no output at all. */
int geom_empty(const geom_t *g);
/* The one bounds check: every element the geometry plus the extra source
 * offsets can touch lies in [0, src_len) (and [0, dst_len) for dst). */
int engine_check_bounds(const geom_t *g, const idx_t *off, idx_t noff, idx_t src_len, idx_t dst_len);
/* Index tables of kernels that extend the border themselves: every entry
 * lies in [-1, len) (-1: the constant border); -1 with an IndexError if not. */
int engine_check_index(const idx_t *idx, idx_t n, idx_t len, const char *name);
/* The same for entries in [lo, hi). */
int engine_check_range(const idx_t *idx, idx_t n, idx_t lo, idx_t hi, const char *name);
/* Items of an index table (a tuple, or a buffer of intp), or -1. */
Py_ssize_t index_table_len(PyObject *o);
/* An index table of exactly n entries, each in [lo, hi), copied into a
 * malloc'd array (the caller frees it); NULL with an exception. */
idx_t *index_table(PyObject *o, idx_t n, idx_t lo, idx_t hi, const char *name);
/* count - 1 steps of `step` added to the span [lo, hi]; -1 on overflow. */
int add_span(idx_t count, idx_t step, idx_t *lo, idx_t *hi);

#endif
