/* The fused small separable kernel (sep_small.h): a rank-1 correlation of at
 * most 3 taps per axis (a bilinear shift's 2 x 2) in one pass per output
 * row, the vertical and horizontal taps and the store in registers, the
 * border read through row and column index tables. It computes, per output
 * element, the operations of linear_impl.h's separable pass with an f32
 * accumulator (vertical taps in order, horizontal taps in order, then the
 * store's division, clip and rounding), so the bits are the same; the
 * vertical sums are only recomputed per horizontal tap instead of kept in a
 * row buffer, which changes no value. */
#if defined(__GNUC__) && !defined(__clang__)
/* As in linear.c: selects may be if-converted; no value changes. */
#pragma GCC optimize("no-trapping-math")
#endif
#include "isa.h"

#include "normalize.h"
#include "sep_small.h"

#include <math.h>

#define SS_MAX 3

typedef struct {
    const void *src;
    char *dst;
    const void *crow;            /* one source row of cval (rows beyond a constant border) */
    idx_t rows, cols, chan, src_cols, lpad;
    const idx_t *rowidx;         /* rows + max(vrows) source rows (-1: cval) */
    const idx_t *colidx;         /* cols + max(hcols) source columns (-1: cval) */
    int nv, nh;
    idx_t tv[SS_MAX], th[SS_MAX];
    float wv[SS_MAX], wh[SS_MAX];
    int div;                     /* 0: none, 1: times recip (a power of two: exact), 2: / q */
    float q, recip;
    idx_t oi0, oi1;              /* outputs whose columns all lie inside the image, in place */
    /* Unsigned 8-bit sums in 16-bit lanes (AVX2): integral weights whose sums stay
     * below 2^16 with the rounding's half added, a power-of-two divide 2^ishift. */
    int ipath, ishift;
    uint16_t iwv[SS_MAX], iwh[SS_MAX];
    idx_t dst_row_bytes;
    /* sep_small_nan's division: a weight sum equal to full keeps its sum (NaN: none
     * does), one at most tiny in magnitude gives NaN (-1: none), the rest times total. */
    float full, tiny, total;
    int full_kept; /* a weight sum equal to full is kept as it is (full > tiny) */
} ss_t;

typedef void (*ss_fn)(const ss_t *p);

/* Kernel types: 0 uint8, 1 uint16, 2 float32. */
#define SS_TYPES 3

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SS_X86 1
#endif

#define ISA_IMPL "sep_small_impl.h"
#include "isa.h"

static int ss_type(int t) { return t == T_U8 ? 0 : t == T_U16 ? 1 : t == T_F32 ? 2 : -1; }

/* A tuple of 1..SS_MAX taps into idx (ascending, >= 0) and, for weights, floats. */
static int ss_taps(PyObject *t_o, PyObject *w_o, idx_t *t, float *w, int *n) {
    if (!PyTuple_Check(t_o) || !PyTuple_Check(w_o) || PyTuple_GET_SIZE(t_o) < 1 ||
        PyTuple_GET_SIZE(t_o) > SS_MAX || PyTuple_GET_SIZE(w_o) != PyTuple_GET_SIZE(t_o)) {
        PyErr_SetString(PyExc_ValueError, "engine: sep_small needs 1 to 3 taps per axis, one weight each");
        return -1;
    }
    *n = (int)PyTuple_GET_SIZE(t_o);
    if (int_tuple(t_o, t, *n, "taps") < 0) return -1;
    for (int k = 0; k < *n; k++) {
        double v = PyFloat_AsDouble(PyTuple_GET_ITEM(w_o, k));
        if (v == -1.0 && PyErr_Occurred()) return -1;
        if (t[k] < 0 || (k > 0 && t[k] <= t[k - 1]) || !(v > -3.0e38 && v < 3.0e38)) {
            PyErr_SetString(PyExc_ValueError, "engine: sep_small taps ascend from 0, weights are finite");
            return -1;
        }
        w[k] = (float)v;
    }
    return 0;
}

/* Whether w holds integers in [0, 2^16) (as 16-bit lane weights into iw); their sum in *sum. */
static int ss_int_weights(const float *w, int n, uint16_t *iw, double *sum) {
    *sum = 0.0;
    for (int k = 0; k < n; k++) {
        if (!(w[k] >= 0.0f && w[k] < 65536.0f) || w[k] != (float)(int32_t)w[k]) return 0;
        iw[k] = (uint16_t)(int32_t)w[k];
        *sum += (double)w[k];
    }
    return 1;
}

static void ss_fill(void *row, int t, idx_t n, double v) {
    for (idx_t i = 0; i < n; i++) {
        if (t == 0) ((uint8_t *)row)[i] = (uint8_t)v;
        else if (t == 1) ((uint16_t *)row)[i] = (uint16_t)v;
        else ((float *)row)[i] = (float)v;
    }
}

/* sep_small and sep_small_nan once their arguments are parsed (taps in p; nan:
 * float32 only, no divide, p's division fields set): the tables checked, the
 * band run with the GIL released. */
static PyObject *ss_run(ss_t *p, PyObject *src_o, PyObject *dst_o, Py_ssize_t src_cols, Py_ssize_t chan,
                        PyObject *ri_o, PyObject *ci_o, Py_ssize_t lpad, double divide, double cval, int nan) {
    if (src_cols < 1 || chan < 1 || chan > PY_SSIZE_T_MAX / 16 / src_cols || !(divide > 0.0 && divide < 3.0e38)) {
        PyErr_SetString(PyExc_ValueError, "engine: sep_small needs src_cols, chan >= 1 and a positive divide");
        return NULL;
    }
    Py_buffer src, dst;
    if (get_src_dst(src_o, dst_o, &src, &dst) < 0) return NULL;
    PyObject *result = NULL;
    idx_t *rowidx = NULL, *colidx = NULL, nr = 0, nc = 0;
    void *crow = NULL;
    int st = ss_type(element_type(&src)), dt = ss_type(element_type(&dst));
    if (st < 0 || dt < 0 || (nan && (st != 2 || dt != 2))) {
        PyErr_SetString(PyExc_TypeError, nan ? "engine: sep_small_nan reads and writes float32"
                                             : "engine: sep_small reads and writes uint8, uint16 or float32");
        goto done;
    }
    /* cval is a value of the source type, as the copied block would hold it. */
    if (st < 2 && !(cval >= 0.0 && cval <= (st == 0 ? 255.0 : 65535.0) && cval == (double)(int32_t)cval)) {
        PyErr_SetString(PyExc_ValueError, "engine: sep_small's cval must be a value of the source type");
        goto done;
    }
    idx_t n = (idx_t)src_cols * chan, src_rows = (src.len / src.itemsize) / n;
    idx_t vspan = p->tv[p->nv - 1] + 1, hspan = p->th[p->nh - 1] + 1;
    if ((nr = index_table_len(ri_o)) < 0 || (nc = index_table_len(ci_o)) < 0) goto done;
    if (nr < vspan || nc < hspan) {
        PyErr_SetString(PyExc_ValueError, "engine: sep_small's index tables are shorter than the taps' span");
        goto done;
    }
    if (!(rowidx = index_table(ri_o, nr, -1, src_rows, "rowidx")) ||
        !(colidx = index_table(ci_o, nc, -1, src_cols, "colidx")))
        goto done;
    idx_t rows = nr - vspan + 1, cols = nc - hspan + 1;
    if (dst.len / dst.itemsize != rows * cols * chan || lpad < -(PY_SSIZE_T_MAX / 4) || lpad > PY_SSIZE_T_MAX / 4) {
        PyErr_SetString(PyExc_ValueError, "engine: sep_small's index tables do not fit the destination");
        goto done;
    }
    /* Interior outputs: every tap's column inside the image, where the table is the
     * identity (checked: else those outputs take the table too). */
    idx_t oi0 = lpad - p->th[0], oi1 = src_cols + lpad - p->th[p->nh - 1];
    oi0 = oi0 < 0 ? 0 : oi0 > cols ? cols : oi0;
    oi1 = oi1 < oi0 ? oi0 : oi1 > cols ? cols : oi1;
    for (idx_t j = oi0; j < oi1 - 1 + hspan && oi1 > oi0; j++)
        if (colidx[j] != j - lpad) oi0 = oi1 = 0;
    p->oi0 = oi0, p->oi1 = oi1;
    float q = (float)divide;
    int e2;
    double m = frexp((double)q, &e2);
    /* x / 2^e and x * 2^-e are the same real number, rounded once: the same float. */
    p->div = q == 1.0f ? 0 : (m == 0.5 && e2 - 1 <= 126) ? 1 : 2;
    p->q = q, p->recip = p->div == 1 ? (float)ldexp(1.0, -(e2 - 1)) : 1.0f;
    double sv, sh;
    if (!nan && st == 0 && dt == 0 && p->div < 2 && ss_int_weights(p->wv, p->nv, p->iwv, &sv) &&
        ss_int_weights(p->wh, p->nh, p->iwh, &sh)) {
        int e = p->div ? e2 - 1 : 0;
        /* Every partial sum is an integer below 2^16 (exact in float32 too), and
         * adding the rounding's half keeps it there. */
        p->ipath = e >= 0 && e <= 15 && 255.0 * sv * sh + (e ? ldexp(1.0, e - 1) : 0.0) < 65536.0;
        p->ishift = e;
    }
    if (rows > 0 && cols > 0) {
        crow = malloc((size_t)src.itemsize * (size_t)n);
        if (!crow) {
            PyErr_NoMemory();
            goto done;
        }
        ss_fill(crow, st, n, cval);
        p->src = src.buf, p->dst = dst.buf, p->crow = crow;
        p->rows = rows, p->cols = cols, p->chan = chan, p->src_cols = src_cols, p->lpad = lpad;
        p->rowidx = rowidx, p->colidx = colidx;
        p->dst_row_bytes = cols * chan * (idx_t)dst.itemsize;
        ss_fn fn = nan ? ssn_f32_base : ss_table_base[st][dt];
#if defined(ENGINE_HAVE_AVX2)
        if (use_avx2) fn = nan ? ssn_f32_avx2 : ss_table_avx2[st][dt];
#endif
        Py_BEGIN_ALLOW_THREADS fn(p);
        Py_END_ALLOW_THREADS
    }
    result = Py_None;
    Py_INCREF(result);
done:
    free(rowidx);
    free(colidx);
    free(crow);
    PyBuffer_Release(&src);
    PyBuffer_Release(&dst);
    return result;
}

PyObject *py_sep_small(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *src_o, *dst_o, *ri_o, *ci_o, *tv_o, *wv_o, *th_o, *wh_o;
    Py_ssize_t src_cols, chan, lpad;
    double divide, cval;
    if (!PyArg_ParseTuple(args, "OOnnOOnOOOOdd", &src_o, &dst_o, &src_cols, &chan, &ri_o, &ci_o, &lpad, &tv_o,
                          &wv_o, &th_o, &wh_o, &divide, &cval))
        return NULL;
    ss_t p;
    memset(&p, 0, sizeof p);
    if (ss_taps(tv_o, wv_o, p.tv, p.wv, &p.nv) < 0 || ss_taps(th_o, wh_o, p.th, p.wh, &p.nh) < 0) return NULL;
    return ss_run(&p, src_o, dst_o, src_cols, chan, ri_o, ci_o, lpad, divide, cval, 0);
}

PyObject *py_sep_small_nan(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *src_o, *dst_o, *ri_o, *ci_o, *tv_o, *wv_o, *th_o, *wh_o;
    Py_ssize_t src_cols, chan, lpad;
    double cval, full, tiny, total;
    int has_full, has_tiny;
    if (!PyArg_ParseTuple(args, "OOnnOOnOOOOddpdpd", &src_o, &dst_o, &src_cols, &chan, &ri_o, &ci_o, &lpad, &tv_o,
                          &wv_o, &th_o, &wh_o, &cval, &full, &has_full, &tiny, &has_tiny, &total))
        return NULL;
    ss_t p;
    memset(&p, 0, sizeof p);
    if (ss_taps(tv_o, wv_o, p.tv, p.wv, &p.nv) < 0 || ss_taps(th_o, wh_o, p.th, p.wh, &p.nh) < 0) return NULL;
    /* As divide_sums takes them (normalize_impl.h): sentinels for the options that are off. */
    p.full = has_full ? (float)full : (float)NAN;
    p.tiny = has_tiny ? (float)tiny : -1.0f;
    p.total = (float)total;
    p.full_kept = has_full && !(fabsf(p.full) <= p.tiny);
    return ss_run(&p, src_o, dst_o, src_cols, chan, ri_o, ci_o, lpad, 1.0, cval, 1);
}
