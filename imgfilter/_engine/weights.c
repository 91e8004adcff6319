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

#define ISA_IMPL "weights_impl.h"
#include "isa.h"

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
    idx_t bp = WEIGHTS_VALUES / cn;
    if (bp < 1) bp = 1;
    flag = malloc((size_t)bp * (size_t)cn);
    count = malloc((size_t)bp * sizeof *count);
    if (!flag || !count) {
        PyErr_NoMemory();
        goto done;
    }
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

PyObject *py_nan_valid(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *xo, *vo;
    if (!PyArg_ParseTuple(args, "OO", &xo, &vo)) return NULL;
    Py_buffer x, v;
    int has_v = vo != Py_None;
    if (get_array(xo, &x, 0, "x") < 0) return NULL;
    if (has_v && get_array(vo, &v, 1, "valid") < 0) {
        PyBuffer_Release(&x);
        return NULL;
    }
    PyObject *res = NULL;
    int xt = element_type(&x);
    int k = xt == T_F32 ? 0 : xt == T_F64 ? 1 : -1;
    idx_t n = x.len / x.itemsize;
    if (k < 0) {
        PyErr_SetString(PyExc_TypeError, "engine: nan_valid takes float32 or float64");
        goto done;
    }
    if (has_v && (element_type(&v) != T_U8 || v.len != n)) {
        PyErr_SetString(PyExc_IndexError, "engine: nan_valid needs one uint8 per value");
        goto done;
    }
    valid_fn fn = valid_table_base[k];
#if defined(ENGINE_HAVE_AVX2)
    if (use_avx2) fn = valid_table_avx2[k];
#endif
    int r;
    uint8_t *vb = has_v ? (uint8_t *)v.buf : NULL;
    Py_BEGIN_ALLOW_THREADS r = fn(x.buf, vb, n);
    Py_END_ALLOW_THREADS
    res = PyBool_FromLong(r);
done:
    PyBuffer_Release(&x);
    if (has_v) PyBuffer_Release(&v);
    return res;
}
