/* Pooling: max, min, NaN-ignoring max/min and sums over k x k windows
 * with strides, compiled for the baseline instruction set and again for
 * AVX2. Sums of 8- and 16-bit codes may decode them to linear light on
 * load (the codec's tables, codec.c): average pooling in linear light in
 * one pass. */
#include "isa.h"

#include "codec.h"

typedef struct {
    idx_t rows, cols, chan, row, ky, kx, sy, sx, span;
    const int64_t *cy, *cx; /* 'mean': image pixels per window row and column */
} pool_geom;

typedef void (*pool_fn)(const void *src, void *dst, const pool_geom *g, void *buf);

#define ISA_IMPL "pool_impl.h"
#include "isa.h"

#if defined(ENGINE_HAVE_AVX2)
#define NAME_AVX2_MAXMIN(t, o) pool_maxmin_avx2[t][o]
#define NAME_AVX2_FMAXMIN(k, o) pool_fmaxmin_avx2[k][o]
#define NAME_AVX2_SUMS(k) pool_sums_avx2[k]
#else
#define NAME_AVX2_MAXMIN(t, o) pool_maxmin_base[t][o]
#define NAME_AVX2_FMAXMIN(k, o) pool_fmaxmin_base[k][o]
#define NAME_AVX2_SUMS(k) pool_sums_base[k]
#endif

const char pool_doc[] =
    "pool(src, dst, rows, cols, chan, row, ky, kx, sy, sx, op)\n\n"
    "dst[y, x, c] = op over the ky x kx window at (y*sy, x*sx) of src, read as rows of `row`\n"
    "elements (pixels of `chan` values). op: 'max', 'min', 'fmax', 'fmin' (NaN ignored),\n"
    "'sum' (float32/float64 into the same type, uint8/uint16 into float32), 'decode_sum'\n"
    "(uint8/uint16 sRGB codes summed as linear light into float32). dst is C-contiguous\n"
    "(rows, cols, chan). 'mean' and 'decode_mean': the sums divided by cy[y] * cx[x] (int64\n"
    "arrays of rows and cols items: the window's image pixels); 'nanmean' (float32/float64):\n"
    "the sum of the non-NaN values over their number (NaN where there is none).";

PyObject *py_pool(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *so, *dobj, *cyo = Py_None, *cxo = Py_None;
    const char *op;
    pool_geom g;
    if (!PyArg_ParseTuple(args, "OOnnnnnnnns|OO", &so, &dobj, &g.rows, &g.cols, &g.chan, &g.row, &g.ky, &g.kx,
                          &g.sy, &g.sx, &op, &cyo, &cxo))
        return NULL;
    g.cy = g.cx = NULL;
    if (g.ky < 1 || g.kx < 1 || g.sy < 1 || g.sx < 1 || g.rows < 0 || g.cols < 0 || g.chan < 0) {
        PyErr_SetString(PyExc_ValueError, "engine: pool needs windows and strides >= 1");
        return NULL;
    }
    Py_buffer s, d, cyb, cxb;
    int have_counts = 0;
    if (get_array(so, &s, 0, "src") < 0) return NULL;
    if (get_array(dobj, &d, 1, "dst") < 0) {
        PyBuffer_Release(&s);
        return NULL;
    }
    PyObject *res = NULL;
    void *buf = NULL;
    int st = element_type(&s), dt = element_type(&d);
    int o = strcmp(op, "max") == 0 ? 0 : strcmp(op, "min") == 0 ? 1 : strcmp(op, "fmax") == 0 ? 2
            : strcmp(op, "fmin") == 0 ? 3 : strcmp(op, "sum") == 0 ? 4 : strcmp(op, "decode_sum") == 0 ? 5
            : strcmp(op, "mean") == 0 ? 6 : strcmp(op, "decode_mean") == 0 ? 7 : strcmp(op, "nanmean") == 0 ? 8 : -1;
    pool_fn fn = NULL;
    int avx = 0;
#if defined(ENGINE_HAVE_AVX2)
    avx = use_avx2;
#endif
    if (o == 0 || o == 1) {
        if (st == dt) fn = avx ? NAME_AVX2_MAXMIN(st, o) : pool_maxmin_base[st][o];
    } else if (o == 2 || o == 3) {
        if (st == dt && (st == T_F32 || st == T_F64)) {
            int k = st == T_F64;
            fn = avx ? NAME_AVX2_FMAXMIN(k, o - 2) : pool_fmaxmin_base[k][o - 2];
        }
    } else if (o == 4) {
        int k = st == T_F32 && dt == T_F32 ? 0 : st == T_F64 && dt == T_F64 ? 1
                : st == T_U8 && dt == T_F32 ? 4 : st == T_U16 && dt == T_F32 ? 5 : -1;
        if (k >= 0) fn = avx ? NAME_AVX2_SUMS(k) : pool_sums_base[k];
    } else if (o == 5) {
        int k = st == T_U8 && dt == T_F32 ? 2 : st == T_U16 && dt == T_F32 ? 3 : -1;
        if (k >= 2 && !codec_ready) {
            PyErr_SetString(PyExc_RuntimeError, "engine: codec_tables() has not been called");
            goto done;
        }
        if (k >= 0) fn = avx ? NAME_AVX2_SUMS(k) : pool_sums_base[k];
    } else if (o == 6 || o == 7) {
        int k = o == 7 ? (st == T_U8 && dt == T_F32 ? 2 : st == T_U16 && dt == T_F32 ? 3 : -1)
                : st == T_F32 && dt == T_F32 ? 0 : st == T_F64 && dt == T_F64 ? 1
                : st == T_U8 && dt == T_F32 ? 4 : st == T_U16 && dt == T_F32 ? 5 : -1;
        if (k >= 2 && k <= 3 && !codec_ready) {
            PyErr_SetString(PyExc_RuntimeError, "engine: codec_tables() has not been called");
            goto done;
        }
        if (k >= 0) {
            fn = pool_means_base[k];
#if defined(ENGINE_HAVE_AVX2)
            if (avx) fn = pool_means_avx2[k];
#endif
        }
        /* The window counts: int64, one per output row and one per column. */
        if (get_array(cyo, &cyb, 0, "cy") < 0) goto done;
        if (get_array(cxo, &cxb, 0, "cx") < 0) {
            PyBuffer_Release(&cyb);
            goto done;
        }
        have_counts = 1;
        if (element_type(&cyb) != T_I64 || element_type(&cxb) != T_I64 || cyb.len != g.rows * 8 ||
            cxb.len != g.cols * 8) {
            PyErr_SetString(PyExc_ValueError, "engine: mean needs int64 cy (rows) and cx (cols) counts");
            goto done;
        }
        g.cy = (const int64_t *)cyb.buf;
        g.cx = (const int64_t *)cxb.buf;
    } else if (o == 8) {
        if (st == dt && (st == T_F32 || st == T_F64)) {
            fn = pool_nanmeans_base[st == T_F64];
#if defined(ENGINE_HAVE_AVX2)
            if (avx) fn = pool_nanmeans_avx2[st == T_F64];
#endif
        }
    }
    if (!fn) {
        PyErr_Format(PyExc_TypeError, "engine: no pool kernel for op %s on these types", op);
        goto done;
    }
    if (g.rows == 0 || g.cols == 0 || g.chan == 0) {
        res = Py_None;
        Py_INCREF(res);
        goto done;
    }
    /* The one bounds check: the window of the last output lies in src, and
     * every window's columns lie in its row; dst holds rows x cols x chan. */
    {
        idx_t span, last, total;
        int bad = __builtin_mul_overflow((g.cols - 1), g.sx, &span) ||
                  __builtin_add_overflow(span, g.kx, &span) || __builtin_mul_overflow(span, g.chan, &span) ||
                  __builtin_mul_overflow(g.rows - 1, g.sy, &last) || __builtin_add_overflow(last, g.ky, &last) ||
                  __builtin_mul_overflow(last, g.row, &last) ||
                  __builtin_mul_overflow(g.rows * 1, g.cols, &total) ||
                  __builtin_mul_overflow(total, g.chan, &total);
        if (bad) {
            PyErr_SetString(PyExc_OverflowError, "engine: pool geometry overflows");
            goto done;
        }
        if (span > g.row || last > s.len / s.itemsize || total != d.len / d.itemsize) {
            PyErr_SetString(PyExc_IndexError, "engine: pool window outside its buffer");
            goto done;
        }
        g.span = span;
    }
    /* Row buffers of span items: two for the folds, five for the means
     * (sums, weights, their column folds, and the compacted weights or the
     * divisors, whose cols items fit in span). */
    buf = malloc((size_t)g.span * 5 * (size_t)d.itemsize);
    if (!buf) {
        PyErr_NoMemory();
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS fn(s.buf, d.buf, &g, buf);
    Py_END_ALLOW_THREADS res = Py_None;
    Py_INCREF(res);
done:
    free(buf);
    if (have_counts) {
        PyBuffer_Release(&cyb);
        PyBuffer_Release(&cxb);
    }
    PyBuffer_Release(&s);
    PyBuffer_Release(&d);
    return res;
}
