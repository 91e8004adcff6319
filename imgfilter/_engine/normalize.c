/* The division of the weighted normalization: sum(w x v) / sum(w v) for
 * every window, where the sums come from any window kernel (taps,
 * separable passes, pooling's folds). One pass over the value sums, the
 * weight sums broadcast over the channels; compiled for the baseline
 * instruction set and again for AVX2. */
#include "isa.h"

#include "normalize.h"

/* DIVIDE_BLOCK (normalize.h), pixels per block: the spread weight sums (up to 8
 * bytes x channels) stay in L1. */

#define ISA_IMPL "normalize_impl.h"
#include "isa.h"

const char divide_sums_doc[] =
    "divide_sums(num, den, cn, cd, full, has_full, tiny, has_tiny, total)\n\n"
    "num /= den in place, over pixels of cn values (num) and cd weight sums (den; cd is 1,\n"
    "broadcast over the channels, or cn). A weight sum equal to `full` (when has_full) keeps\n"
    "its value sum undivided; one at most `tiny` in magnitude (when has_tiny) gives NaN;\n"
    "the others are then multiplied by `total` (skipped when 1). full and tiny are rounded\n"
    "to den's type, as numpy compares. Types (num, den): (float32, float32), (float64,\n"
    "float64), (float64, float32).";

PyObject *py_divide_sums(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *no, *dobj;
    divide_args a;
    if (!PyArg_ParseTuple(args, "OOnndpdpd", &no, &dobj, &a.cn, &a.cd, &a.full, &a.has_full, &a.tiny,
                          &a.has_tiny, &a.total))
        return NULL;
    if (a.cn < 1 || (a.cd != 1 && a.cd != a.cn)) {
        PyErr_SetString(PyExc_ValueError, "engine: divide_sums needs cn >= 1 and cd of 1 or cn");
        return NULL;
    }
    a.scale = a.total != 1.0;
    Py_buffer n, d;
    if (get_array(no, &n, 1, "num") < 0) return NULL;
    if (get_array(dobj, &d, 0, "den") < 0) {
        PyBuffer_Release(&n);
        return NULL;
    }
    PyObject *res = NULL;
    void *buf = NULL;
    int nt = element_type(&n), dt = element_type(&d);
    int k = nt == T_F32 && dt == T_F32 ? 0 : nt == T_F64 && dt == T_F64 ? 1 : nt == T_F64 && dt == T_F32 ? 2 : -1;
    if (k < 0) {
        PyErr_SetString(PyExc_TypeError, "engine: divide_sums takes float32/float32, float64/float64 or float64/float32");
        goto done;
    }
    /* The one bounds check: num holds whole pixels, den one weight row per pixel. */
    idx_t count = n.len / n.itemsize;
    a.pixels = count / a.cn;
    if (count % a.cn != 0 || d.len / d.itemsize != a.pixels * a.cd) {
        PyErr_SetString(PyExc_IndexError, "engine: divide_sums buffers do not hold the same pixels");
        goto done;
    }
    if (a.pixels == 0) {
        res = Py_None;
        Py_INCREF(res);
        goto done;
    }
    buf = malloc((size_t)DIVIDE_BLOCK * (size_t)a.cn * (size_t)n.itemsize);
    if (!buf) {
        PyErr_NoMemory();
        goto done;
    }
    divide_fn fn = divide_table_base[k];
#if defined(ENGINE_HAVE_AVX2)
    if (use_avx2) fn = divide_table_avx2[k];
#endif
    Py_BEGIN_ALLOW_THREADS fn(n.buf, d.buf, &a, buf);
    Py_END_ALLOW_THREADS res = Py_None;
    Py_INCREF(res);
done:
    free(buf);
    PyBuffer_Release(&n);
    PyBuffer_Release(&d);
    return res;
}
