/* The local statistics' finish: local_var and local_std's per-value step
 * from a band's window sums (of y and y**2, y the image shifted near its
 * mean) and counts to the variance or deviation in the output's type, in
 * one pass instead of the dozen numpy passes over float64 band planes that
 * it replaced. Compiled for the baseline instruction set and again for
 * AVX2; the division, comparison and square root vectorize, and both give
 * the same bits (IEEE division and square root are exact to the half ulp;
 * no contraction). */
#if defined(__GNUC__) && !defined(__clang__)
/* Selects vectorize (a float ?: stays a branch under -ftrapping-math); it
 * changes no result. */
#pragma GCC optimize("no-trapping-math")
#endif
#include "isa.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "moments.h"

/* Below float64's resolution of the mean square the difference is rounding. */
#define MOMENTS_TINY (8 * 2.220446049250313e-16)
/* Values per block of spread counts (L1). */
#define MOMENTS_BLOCK 1024

typedef struct {
    idx_t ddof, block;
    int few, root;
} moments_args;

#define ISA_IMPL "moments_impl.h"
#include "isa.h"

const char moments_finish_doc[] =
    "moments_finish(s1, s2, n, per, full, ddof, few, root, out)\n\n"
    "Per value e of the float64 window sums s1 (of y) and s2 (of y**2), with the count c\n"
    "n[e // per] (n float32 or float64, or None: every count is full): mean_sq = s2 / c,\n"
    "v = (s2 - s1 * s1 / c) / (c - ddof), 0 where v <= mean_sq * 8 eps, NaN where few and\n"
    "c <= ddof, its square root with root; written to out (float32 or float64, one per\n"
    "value of s1).";

PyObject *py_moments_finish(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *s1o, *s2o, *no, *oo;
    Py_ssize_t per, ddof;
    double full;
    int few, root;
    if (!PyArg_ParseTuple(args, "OOOndnppO", &s1o, &s2o, &no, &per, &full, &ddof, &few, &root, &oo)) return NULL;
    if (per < 1 || ddof < 0) {
        PyErr_SetString(PyExc_ValueError, "engine: moments_finish needs per >= 1 and ddof >= 0");
        return NULL;
    }
    int has_n = no != Py_None;
    Py_buffer s1, s2, n, out;
    int held = 0;
    PyObject *res = NULL;
    double *cb = NULL;
    if (get_array(s1o, &s1, 0, "s1") < 0) return NULL;
    held = 1;
    if (get_array(s2o, &s2, 0, "s2") < 0) goto done;
    held = 2;
    if (get_array(oo, &out, 1, "out") < 0) goto done;
    held = 3;
    if (has_n && get_array(no, &n, 0, "n") < 0) goto done;
    held = 4;
    int ot = element_type(&out), nt = has_n ? element_type(&n) : T_F64;
    if (element_type(&s1) != T_F64 || element_type(&s2) != T_F64 || (ot != T_F32 && ot != T_F64) ||
        (nt != T_F32 && nt != T_F64)) {
        PyErr_SetString(PyExc_TypeError,
                        "engine: moments_finish takes float64 sums, float32/float64 counts and output");
        goto done;
    }
    /* The one bounds check: the sums and the output hold the same values, the counts
     * one per `per` of them. */
    idx_t m = s1.len / s1.itemsize;
    if (s2.len / s2.itemsize != m || out.len / out.itemsize != m || m % per != 0 ||
        (has_n && n.len / n.itemsize != m / per)) {
        PyErr_SetString(PyExc_IndexError, "engine: moments_finish buffers do not hold the same values");
        goto done;
    }
    moments_args a = {ddof, MOMENTS_BLOCK / per * per, few, root};
    if (a.block < per) a.block = per;
    cb = malloc((size_t)a.block * sizeof *cb);
    if (!cb) {
        PyErr_NoMemory();
        goto done;
    }
    int ntk = has_n ? (nt == T_F32 ? 1 : 2) : 0;
    const void *nb = has_n ? n.buf : NULL;
    Py_BEGIN_ALLOW_THREADS
#if defined(ENGINE_HAVE_AVX2)
    if (use_avx2) finish_avx2(s1.buf, s2.buf, nb, ot == T_F64, ntk, per, full, m, &a, cb, out.buf);
    else
#endif
        finish_base(s1.buf, s2.buf, nb, ot == T_F64, ntk, per, full, m, &a, cb, out.buf);
    Py_END_ALLOW_THREADS
    res = Py_None;
    Py_INCREF(res);
done:
    free(cb);
    if (held >= 4 && has_n) PyBuffer_Release(&n);
    if (held >= 3) PyBuffer_Release(&out);
    if (held >= 2) PyBuffer_Release(&s2);
    PyBuffer_Release(&s1);
    return res;
}
