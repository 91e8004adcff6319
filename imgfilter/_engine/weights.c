/* The weights of nan="ignore": per band of a weighted normalization, one
 * pass over the border-extended block that zeroes its NaNs in place and
 * writes the weights (1 where a value counts, 0 where it is NaN) in the
 * weight sums' type: one plane of pixels while every pixel is NaN in all
 * its channels or in none, else one weight per value. And the whole-image
 * question "is any value NaN" (with or without the validity array).
 * Compiled for the baseline instruction set and again for AVX2. */
#include "isa.h"

#include "weights.h"

/* Values per block: the NaN flags and the block's values stay in L1. */
#define WEIGHTS_VALUES 2048

typedef int (*weights_fn)(void *block, void *plane, void *chan, idx_t pixels, idx_t cn, idx_t start,
                          idx_t bp, uint8_t *flag, uint32_t *count, idx_t *stop);
typedef int (*valid_fn)(const void *x, uint8_t *valid, idx_t n);
typedef int (*mark_fn)(void *x, const uint8_t *missing, idx_t n);
typedef idx_t (*holes_fn)(const void *x, void *copy, idx_t cn, idx_t p0, idx_t p1, idx_t *out, idx_t cap);

/* A block read from the image through index tables (see linear_idx.c's lidx_t). */
typedef struct {
    const void *src;
    idx_t src_cols, chan, cn; /* image columns; values per column; values per pixel (weights) */
    idx_t nrows, ncols;       /* the block's rows and columns */
    const idx_t *rows;        /* source row of each block row (-1: cval) */
    idx_t c_start, ja, jb;    /* block columns [ja, jb) are image columns c_start + j */
    const idx_t *left, *right; /* block columns before ja / from jb on (-1: cval) */
    double cval;
} fetch_geom;

typedef int (*fetch_fn)(const fetch_geom *g, void *block, void *plane, void *chan, idx_t bp, uint8_t *flag,
                        uint32_t *count);

#define ISA_IMPL "weights_impl.h"
#include "isa.h"

/* The passes' per-chunk scratch: a NaN flag per value and a count per pixel, for
 * chunks of about WEIGHTS_VALUES values. Returns the chunk's pixel count, or 0 with
 * MemoryError set (the caller frees both, allocated or NULL). */
static idx_t scratch_pixels(idx_t cn, uint8_t **flag, uint32_t **count) {
    idx_t bp = WEIGHTS_VALUES / cn;
    if (bp < 1) bp = 1;
    *flag = malloc((size_t)bp * (size_t)cn);
    *count = malloc((size_t)bp * sizeof **count);
    if (!*flag || !*count) {
        PyErr_NoMemory();
        return 0;
    }
    return bp;
}

const char nan_weights_doc[] =
    "nan_weights(block, plane, chan, cn, start) -> (status, stop)\n\n"
    "One pass over block (float32 or float64, pixels of cn values, written in place): NaN\n"
    "values become 0.0, plane (one weight per pixel) gets 1 where no value of the pixel is\n"
    "NaN, else 0. While every pixel is NaN in all its values or in none, that is all\n"
    "(status 1; 0 when no value is NaN). Otherwise chan (one weight per value, 1 where the\n"
    "value is not NaN) is written for every pixel and status is 2. chan may be None: at\n"
    "the first pixel NaN in some of its values only, the pass then stops (status 3) with\n"
    "the pixels from `stop` on untouched, to be resumed by a call with chan and\n"
    "start=stop (start 0: from the beginning). stop is the pixel count otherwise. plane\n"
    "and chan share a type, float32 or float64.";

PyObject *py_nan_weights(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *bo, *po, *co;
    Py_ssize_t cn, start;
    if (!PyArg_ParseTuple(args, "OOOnn", &bo, &po, &co, &cn, &start)) return NULL;
    if (cn < 1 || start < 0 || (start > 0 && co == Py_None)) {
        PyErr_SetString(PyExc_ValueError, "engine: nan_weights needs cn >= 1, start >= 0 and chan to resume");
        return NULL;
    }
    int has_c = co != Py_None;
    Py_buffer b, p, c;
    if (get_array(bo, &b, 1, "block") < 0) return NULL;
    if (get_array(po, &p, 1, "plane") < 0) {
        PyBuffer_Release(&b);
        return NULL;
    }
    if (has_c && get_array(co, &c, 1, "chan") < 0) {
        PyBuffer_Release(&b);
        PyBuffer_Release(&p);
        return NULL;
    }
    PyObject *res = NULL;
    uint8_t *flag = NULL;
    uint32_t *count = NULL;
    int bt = element_type(&b), pt = element_type(&p), ct = has_c ? element_type(&c) : pt;
    int k = -1;
    if (pt == ct) {
        if (bt == T_F32) k = pt == T_F32 ? 0 : pt == T_F64 ? 2 : -1;
        else if (bt == T_F64) k = pt == T_F64 ? 1 : pt == T_F32 ? 3 : -1;
    }
    if (k < 0) {
        PyErr_SetString(PyExc_TypeError, "engine: nan_weights takes a float32/float64 block and float32/float64 weights of one type");
        goto done;
    }
    /* The one bounds check: the block holds whole pixels, plane one weight per pixel, chan one per value. */
    idx_t values = b.len / b.itemsize;
    idx_t pixels = values / cn;
    if (values % cn != 0 || p.len / p.itemsize != pixels || (has_c && c.len / c.itemsize != values) ||
        start > pixels) {
        PyErr_SetString(PyExc_IndexError, "engine: nan_weights buffers do not hold the same pixels");
        goto done;
    }
    idx_t bp = scratch_pixels(cn, &flag, &count);
    if (!bp) goto done;
    weights_fn fn = weights_table_base[k];
#if defined(ENGINE_HAVE_AVX2)
    if (use_avx2) fn = weights_table_avx2[k];
#endif
    int r = 0;
    idx_t stop = pixels;
    void *cb = has_c ? c.buf : NULL;
    if (pixels > 0) {
        Py_BEGIN_ALLOW_THREADS r = fn(b.buf, p.buf, cb, pixels, cn, start, bp, flag, count, &stop);
        Py_END_ALLOW_THREADS
    }
    res = Py_BuildValue("(in)", r, (Py_ssize_t)stop);
done:
    free(flag);
    free(count);
    PyBuffer_Release(&b);
    PyBuffer_Release(&p);
    if (has_c) PyBuffer_Release(&c);
    return res;
}

const char nan_valid_doc[] =
    "nan_valid(x, valid) -> bool\n\n"
    "Whether any value of x (float32 or float64) is NaN. With valid (uint8, one per value;\n"
    "or None) it also gets 1 where the value is not NaN, 0 where it is; without, the scan\n"
    "stops at the first NaN.";

/* The arguments of nan_valid and nan_mark: a float array x and one uint8 per
 * value (None allowed where flags_optional), checked once for both. Sets k (0
 * float32, 1 float64), n and has_f; 0, or -1 with an exception and nothing held. */
static int float_flags(PyObject *args, const char *name, const char *fname, int x_writable, int f_writable,
                       int flags_optional, Py_buffer *x, Py_buffer *f, int *has_f, int *k, idx_t *n) {
    PyObject *xo, *fo;
    if (!PyArg_ParseTuple(args, "OO", &xo, &fo)) return -1;
    *has_f = !(flags_optional && fo == Py_None);
    if (get_array(xo, x, x_writable, "x") < 0) return -1;
    if (*has_f && get_array(fo, f, f_writable, fname) < 0) {
        PyBuffer_Release(x);
        return -1;
    }
    int xt = element_type(x);
    *k = xt == T_F32 ? 0 : xt == T_F64 ? 1 : -1;
    *n = x->len / x->itemsize;
    if (*k < 0) {
        PyErr_Format(PyExc_TypeError, "engine: %s takes float32 or float64", name);
    } else if (*has_f && (element_type(f) != T_U8 || f->len != *n)) {
        PyErr_Format(PyExc_IndexError, "engine: %s needs one uint8 per value", name);
    } else {
        return 0;
    }
    PyBuffer_Release(x);
    if (*has_f) PyBuffer_Release(f);
    return -1;
}

PyObject *py_nan_valid(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer x, v;
    int has_v, k;
    idx_t n;
    if (float_flags(args, "nan_valid", "valid", 0, 1, 1, &x, &v, &has_v, &k, &n) < 0) return NULL;
    valid_fn fn = valid_table_base[k];
#if defined(ENGINE_HAVE_AVX2)
    if (use_avx2) fn = valid_table_avx2[k];
#endif
    int r;
    uint8_t *vb = has_v ? (uint8_t *)v.buf : NULL;
    Py_BEGIN_ALLOW_THREADS r = fn(x.buf, vb, n);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&x);
    if (has_v) PyBuffer_Release(&v);
    return PyBool_FromLong(r);
}

const char nan_mark_doc[] =
    "nan_mark(x, missing) -> bool\n\n"
    "x (float32 or float64, written in place) becomes NaN where missing (uint8, one per value)\n"
    "is not 0, in one pass that also says whether any other value of x is NaN.";

PyObject *py_nan_mark(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer x, m;
    int has_m, k;
    idx_t n;
    if (float_flags(args, "nan_mark", "missing", 1, 0, 0, &x, &m, &has_m, &k, &n) < 0) return NULL;
    mark_fn fn = mark_table_base[k];
#if defined(ENGINE_HAVE_AVX2)
    if (use_avx2) fn = mark_table_avx2[k];
#endif
    int r;
    Py_BEGIN_ALLOW_THREADS r = fn(x.buf, (const uint8_t *)m.buf, n);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&x);
    PyBuffer_Release(&m);
    return PyBool_FromLong(r);
}

const char nan_fetch_doc[] =
    "nan_fetch(src, block, plane, chan, src_cols, chan_values, cn, rows, c_start, ncols, left, right, cval)\n"
    "-> status\n\n"
    "nan_weights over a block fetched from src (a C-contiguous image of float32 or float64,\n"
    "rows of src_cols columns of chan_values values) in the same pass: block row j is source\n"
    "row rows[j] (-1: cval throughout), block column x (ncols of them) source column\n"
    "c_start + x, those outside the image through left and right (source columns, -1:\n"
    "cval), as the linear kernels' index tables (_engine.taps2d). Pixels of cn values;\n"
    "status as nan_weights' (0, 1, 2; 3: chan is needed: call again with it, the block is\n"
    "fetched again).";

PyObject *py_nan_fetch(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *so, *bo, *po, *co, *rows_o, *left_o, *right_o;
    Py_ssize_t W, C, cn, c_start, ncols;
    double cval;
    if (!PyArg_ParseTuple(args, "OOOOnnnOnnOOd", &so, &bo, &po, &co, &W, &C, &cn, &rows_o, &c_start, &ncols,
                          &left_o, &right_o, &cval))
        return NULL;
    if (W < 1 || C < 1 || cn < 1 || C % cn != 0 || ncols < 0) {
        PyErr_SetString(PyExc_ValueError,
                        "engine: nan_fetch needs src_cols >= 1, chan_values >= 1 a multiple of cn >= 1, ncols >= 0");
        return NULL;
    }
    int has_c = co != Py_None;
    Py_buffer s, b, p, c;
    int held = 0;
    PyObject *res = NULL;
    uint8_t *flag = NULL;
    uint32_t *count = NULL;
    idx_t *rows = NULL, *left = NULL, *right = NULL;
    if (get_array(so, &s, 0, "src") < 0) return NULL;
    held = 1;
    if (get_array(bo, &b, 1, "block") < 0) goto done;
    held = 2;
    if (get_array(po, &p, 1, "plane") < 0) goto done;
    held = 3;
    if (has_c && get_array(co, &c, 1, "chan") < 0) goto done;
    held = 4;
    int st = element_type(&s), bt = element_type(&b), pt = element_type(&p), ct = has_c ? element_type(&c) : pt;
    int k = -1;
    if (st == bt && pt == ct) {
        if (bt == T_F32) k = pt == T_F32 ? 0 : pt == T_F64 ? 2 : -1;
        else if (bt == T_F64) k = pt == T_F64 ? 1 : pt == T_F32 ? 3 : -1;
    }
    if (k < 0) {
        PyErr_SetString(PyExc_TypeError, "engine: nan_fetch takes a float32/float64 image, a block of its type "
                                         "and float32/float64 weights of one type");
        goto done;
    }
    /* The one bounds check: the image holds whole rows, every table entry is one of its
     * rows or columns (or -1), the interior columns lie in it, and the block and the
     * weights hold the block's values and pixels. */
    idx_t svals = s.len / s.itemsize;
    if (svals % (W * C) != 0) {
        PyErr_SetString(PyExc_IndexError, "engine: nan_fetch's image does not hold whole rows");
        goto done;
    }
    idx_t H = svals / (W * C);
    fetch_geom g;
    g.src = s.buf, g.src_cols = W, g.chan = C, g.cn = cn, g.ncols = ncols, g.c_start = c_start, g.cval = cval;
    g.ja = -c_start < 0 ? 0 : -c_start > ncols ? ncols : -c_start;
    g.jb = W - c_start < g.ja ? g.ja : W - c_start > ncols ? ncols : W - c_start;
    Py_ssize_t nrows = index_table_len(rows_o);
    if (nrows < 0) goto done;
    g.nrows = nrows;
    if (!(rows = index_table(rows_o, nrows, -1, H, "rows")) || !(left = index_table(left_o, g.ja, -1, W, "left")) ||
        !(right = index_table(right_o, ncols - g.jb, -1, W, "right")))
        goto done;
    g.rows = rows, g.left = left, g.right = right;
    idx_t values = nrows * ncols * C;
    if (b.len / b.itemsize != values || p.len / p.itemsize != values / cn ||
        (has_c && c.len / c.itemsize != values)) {
        PyErr_SetString(PyExc_IndexError, "engine: nan_fetch's block and weights do not hold the block's pixels");
        goto done;
    }
    idx_t bp = scratch_pixels(cn, &flag, &count);
    if (!bp) goto done;
    fetch_fn fn = fetch_table_base[k];
#if defined(ENGINE_HAVE_AVX2)
    if (use_avx2) fn = fetch_table_avx2[k];
#endif
    int r = 0;
    void *cb = has_c ? c.buf : NULL;
    if (values > 0) {
        Py_BEGIN_ALLOW_THREADS r = fn(&g, b.buf, p.buf, cb, bp, flag, count);
        Py_END_ALLOW_THREADS
    }
    res = PyLong_FromLong(r);
done:
    free(flag);
    free(count);
    free(rows);
    free(left);
    free(right);
    if (held >= 4 && has_c) PyBuffer_Release(&c);
    if (held >= 3) PyBuffer_Release(&p);
    if (held >= 2) PyBuffer_Release(&b);
    if (held >= 1) PyBuffer_Release(&s);
    return res;
}

const char nan_holes_doc[] =
    "nan_holes(x, copy, cn, p0, p1, out) -> count\n\n"
    "The pixels (cn values each) of x (float32 or float64) from p0 to p1 - 1: copied into copy\n"
    "(x's type and size; or None), and the indices of those with a NaN value written to out\n"
    "(intp, its length the capacity) in order. Returns how many, or -1 when there are more than\n"
    "out holds (the pass stops there: copy is then unspecified).";

PyObject *py_nan_holes(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *xo, *co, *oo;
    Py_ssize_t cn, p0, p1;
    if (!PyArg_ParseTuple(args, "OOnnnO", &xo, &co, &cn, &p0, &p1, &oo)) return NULL;
    Py_buffer x, c, o;
    int has_c = co != Py_None;
    if (get_array(xo, &x, 0, "x") < 0) return NULL;
    if (has_c && get_array(co, &c, 1, "copy") < 0) {
        PyBuffer_Release(&x);
        return NULL;
    }
    if (get_array(oo, &o, 1, "out") < 0) {
        PyBuffer_Release(&x);
        if (has_c) PyBuffer_Release(&c);
        return NULL;
    }
    PyObject *res = NULL;
    int xt = element_type(&x);
    int k = xt == T_F32 ? 0 : xt == T_F64 ? 1 : -1;
    int ot = element_type(&o);
    if (k < 0 || (has_c && element_type(&c) != xt)) {
        PyErr_SetString(PyExc_TypeError, "engine: nan_holes takes float32 or float64 (copy of the same type)");
        goto done;
    }
    if ((ot != T_I64 && ot != T_I32) || (size_t)o.itemsize != sizeof(idx_t)) {
        PyErr_SetString(PyExc_TypeError, "engine: nan_holes writes intp indices");
        goto done;
    }
    idx_t n = x.len / x.itemsize;
    if (cn < 1 || p0 < 0 || p1 < p0 || p1 > n / cn || (has_c && c.len != x.len)) {
        PyErr_SetString(PyExc_IndexError, "engine: nan_holes' pixels lie outside x (or copy)");
        goto done;
    }
    holes_fn fn = holes_table_base[k];
#if defined(ENGINE_HAVE_AVX2)
    if (use_avx2) fn = holes_table_avx2[k];
#endif
    idx_t r;
    void *cb = has_c ? c.buf : NULL;
    idx_t cap = o.len / o.itemsize;
    Py_BEGIN_ALLOW_THREADS r = fn(x.buf, cb, cn, p0, p1, (idx_t *)o.buf, cap);
    Py_END_ALLOW_THREADS
    res = PyLong_FromSsize_t(r);
done:
    PyBuffer_Release(&x);
    PyBuffer_Release(&o);
    if (has_c) PyBuffer_Release(&c);
    return res;
}
