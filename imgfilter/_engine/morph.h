/* Rank filters and grey morphology over flat footprints (morph.c): what
 * module.c lists. */
#ifndef IMGFILTER_MORPH_H
#define IMGFILTER_MORPH_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "engine.h"

#define MORPH_RANK_DOC                                                                             \
    "morph_rank(src, dst, rows, cols, chan, src_row, dst_row, runs, rank, table, nkeys, nan_key,\n" \
    "           nan_rule, sorted=False)\n\n"                                                       \
    "dst[y, x] = the value of rank `rank` (0 = smallest) among the keys of src under a flat\n"    \
    "footprint whose corner is (y, x). src and dst hold keys: uint8, uint16, or uint32 (keys\n"   \
    "< nkeys, a Fenwick tree of nkeys counts). runs: int64 triples (row, first column, length)\n" \
    "of the footprint's True pixels, sorted by row. nan_key (-1: none) is the largest key and\n"  \
    "marks NaN: nan_rule 1 gives nan_key where the window holds one, 2 takes the rank\n"          \
    "table[v] among the v other keys (nan_key when v = 0); table: int64, one entry per count.\n" \
    "Cost per pixel: two histogram updates per run (not per footprint pixel). sorted (uint32\n"   \
    "keys): the window's keys kept sorted instead of the tree, for small footprints; the same\n"  \
    "keys."

#define MORPH_MINMAX_DOC                                                                           \
    "morph_minmax(src, dst, rows, cols, chan, src_row, dst_row, runs, op, nan_ignore)\n\n"        \
    "dst[y, x] = the minimum (op 0) or maximum (op 1) of src under a flat footprint (runs as\n"    \
    "morph_rank's) whose corner is (y, x), for any element type. One 1-D sliding min per\n"      \
    "distinct run length (van Herk / Gil-Werman beyond a few pixels), then a min over the\n"     \
    "runs; a rectangle's rows in one vertical van Herk pass. Floats: a NaN in the window gives\n" \
    "NaN, or with nan_ignore is left out (NaN only when every value is NaN)."

PyObject *py_morph_rank(PyObject *self, PyObject *args);
PyObject *py_morph_minmax(PyObject *self, PyObject *args);

#define MORPH_METHOD_ROWS                                                      \
    {"morph_rank", py_morph_rank, METH_VARARGS, MORPH_RANK_DOC},               \
    {"morph_minmax", py_morph_minmax, METH_VARARGS, MORPH_MINMAX_DOC},

/* One footprint run: `len` True pixels of footprint row `row` from column `col`. */
typedef struct {
    idx_t row, col, len;
} morph_run;

typedef struct {
    idx_t rows, cols, chan, src_row, dst_row;
    idx_t nruns;
    const morph_run *runs;
    idx_t fh, fw;    /* the footprint's extent (rows, columns) */
    idx_t n;         /* its pixel count */
} morph_geom;

typedef int (*morph_rank_fn)(const void *src, void *dst, const morph_geom *g, idx_t rank,
                             const int64_t *table, idx_t nkeys, int64_t nan_key, int nan_rule);
typedef int (*morph_minmax_fn)(const void *src, void *dst, const morph_geom *g);

#endif
