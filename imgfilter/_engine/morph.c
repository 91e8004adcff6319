/* Rank filters and grey morphology over arbitrary flat footprints,
 * compiled for the baseline instruction set and, on x86-64 with GCC or
 * Clang, again for AVX2 (chosen at run time by the module's CPU check);
 * both give the same values (comparisons and counts only).
 *
 * Ranks work on keys: 8- and 16-bit values are their own keys (Python
 * flips the sign bit of signed ones), other types arrive as the ranks of
 * the image's distinct values. A footprint arrives as runs of consecutive
 * True pixels per row. The block arrives border-extended from Python, so
 * there is no border logic here. */
#include "isa.h"

#include "morph.h"
#include "rank.h"

/* A float minimum's tie of -0.0 and 0.0 (equal values) is -0.0, a maximum's
 * 0.0 (IEEE 754-2019's minimum and maximum), whichever operand comes first:
 * the result then does not depend on the order a kernel folds a window in,
 * which the bands (so the thread count) move. Equal values of one sign have
 * the same bits, so OR-ing b's sign bit into the minimum, and clearing it
 * from the maximum where b's is clear, changes ties of zeros only; in bit
 * operations on the selected value, which vectorize as the selection does. */
#define DEFINE_TIE(TN, T, UT, SIGN)                                                             \
    static inline T tie_lo_##TN(T r, T a, T b) {                                                \
        UT ur, ub;                                                                              \
        memcpy(&ur, &r, sizeof r);                                                              \
        memcpy(&ub, &b, sizeof b);                                                              \
        ur |= ub & (SIGN) & ((UT)0 - (UT)(a == b));                                             \
        memcpy(&r, &ur, sizeof r);                                                              \
        return r;                                                                               \
    }                                                                                           \
    static inline T tie_hi_##TN(T r, T a, T b) {                                                \
        UT ur, ub;                                                                              \
        memcpy(&ur, &r, sizeof r);                                                              \
        memcpy(&ub, &b, sizeof b);                                                              \
        ur &= ~(~ub & (SIGN) & ((UT)0 - (UT)(a == b)));                                         \
        memcpy(&r, &ur, sizeof r);                                                              \
        return r;                                                                               \
    }
DEFINE_TIE(f32, float, uint32_t, 0x80000000u)
DEFINE_TIE(f64, double, uint64_t, 0x8000000000000000ull)
#undef DEFINE_TIE

#define ISA_IMPL "morph_impl.h"
#include "isa.h"

/* The runs (int64 triples) into g, checked: rows ascending from 0, columns
 * >= 0, lengths >= 1; the footprint's extent and count. -1 with an exception. */
static int parse_runs(const Py_buffer *rb, morph_geom *g) {
    if (element_type(rb) != T_I64 || rb->len % (3 * 8) != 0 || rb->len == 0) {
        PyErr_SetString(PyExc_ValueError, "engine: runs must be int64 triples, at least one");
        return -1;
    }
    const int64_t *r = (const int64_t *)rb->buf;
    g->nruns = rb->len / (3 * 8);
    g->runs = (const morph_run *)rb->buf;
    g->fh = g->fw = g->n = 0;
    for (idx_t t = 0; t < g->nruns; t++) {
        int64_t row = r[3 * t], col = r[3 * t + 1], len = r[3 * t + 2];
        if (row < 0 || col < 0 || len < 1 || row > (1 << 30) || col > (1 << 30) || len > (1 << 30) ||
            (t > 0 && row < r[3 * (t - 1)])) {
            PyErr_SetString(PyExc_ValueError, "engine: bad footprint runs");
            return -1;
        }
        if (row + 1 > g->fh) g->fh = row + 1;
        if (col + len > g->fw) g->fw = col + len;
        g->n += len;
    }
    return 0;
}

/* From this height on, full rectangles of 8-bit keys take the per-column
 * histograms (two updates per run beat them below it). */
#define RECT_MIN_ROWS 8

/* Whether the runs fill the fh x fw box: one run per row, from column 0. */
static int is_rect(const morph_geom *g) {
    if (g->nruns != g->fh) return 0;
    for (idx_t t = 0; t < g->nruns; t++)
        if (g->runs[t].row != t || g->runs[t].col != 0 || g->runs[t].len != g->fw) return 0;
    return 1;
}

/* The one bounds check of a call: rows x cols windows of fh x fw pixels
 * inside src, rows x cols pixels inside dst. */
static int check_geom(const morph_geom *m, const Py_buffer *src, const Py_buffer *dst) {
    if (m->rows < 0 || m->cols < 0 || m->chan < 1 || m->src_row < 0 || m->dst_row < 0) {
        PyErr_SetString(PyExc_ValueError, "engine: negative geometry");
        return -1;
    }
    geom_t g;
    memset(&g, 0, sizeof g);
    g.n_outer = 1;
    g.outer[0] = m->rows;
    g.s_outer[0] = m->src_row;
    g.d_outer[0] = m->dst_row;
    g.inner = m->cols;
    g.chan = m->chan;
    g.s_step = m->chan;
    g.d_step = m->chan;
    if (geom_empty(&g)) return 0;
    idx_t off[2] = {0, 0};
    if (__builtin_mul_overflow(m->fh - 1, m->src_row, &off[1]) ||
        __builtin_add_overflow(off[1], (m->fw - 1) * m->chan, &off[1])) {
        PyErr_SetString(PyExc_OverflowError, "engine: geometry overflows");
        return -1;
    }
    /* min/max read whole block rows: (cols + fw - 1) pixels of each of the rows + fh - 1 */
    if (m->src_row < (m->cols + m->fw - 1) * m->chan && m->rows + m->fh - 1 > 1) {
        PyErr_SetString(PyExc_IndexError, "engine: block rows overlap");
        return -1;
    }
    return engine_check_bounds(&g, off, 2, src->len / src->itemsize, dst->len / dst->itemsize);
}

PyObject *py_morph_rank(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *src_o, *dst_o, *runs_o, *table_o;
    Py_ssize_t rows, cols, chan, srow, drow, rank, nkeys;
    long long nan_key;
    int nan_rule, sorted = 0;
    if (!PyArg_ParseTuple(args, "OOnnnnnOnOnLi|p", &src_o, &dst_o, &rows, &cols, &chan, &srow, &drow,
                          &runs_o, &rank, &table_o, &nkeys, &nan_key, &nan_rule, &sorted))
        return NULL;
    Py_buffer src, dst, rb, tb;
    if (get_array(src_o, &src, 0, "src") < 0) return NULL;
    if (get_array(dst_o, &dst, 1, "dst") < 0) {
        PyBuffer_Release(&src);
        return NULL;
    }
    if (get_array(runs_o, &rb, 0, "runs") < 0) {
        PyBuffer_Release(&src);
        PyBuffer_Release(&dst);
        return NULL;
    }
    if (get_array(table_o, &tb, 0, "table") < 0) {
        PyBuffer_Release(&src);
        PyBuffer_Release(&dst);
        PyBuffer_Release(&rb);
        return NULL;
    }
    PyObject *result = NULL;
    morph_geom g = {rows, cols, chan, srow, drow, 0, NULL, 0, 0, 0};
    int t = element_type(&src), slot = t == T_U8 ? 0 : t == T_U16 ? 1 : t == T_U32 ? 2 : -1;
    if (slot < 0 || element_type(&dst) != t) {
        PyErr_SetString(PyExc_TypeError, "engine: morph_rank takes uint8, uint16 or uint32 keys, dst as src");
        goto done;
    }
    if (parse_runs(&rb, &g) < 0 || check_geom(&g, &src, &dst) < 0) goto done;
    if (sorted && slot != 2) {
        PyErr_SetString(PyExc_ValueError, "engine: morph_rank's sorted windows take uint32 keys");
        goto done;
    }
    idx_t limit = slot == 0 ? 256 : slot == 1 ? 65536 : nkeys;
    const int64_t *table = (const int64_t *)tb.buf;
    idx_t ntable = tb.len / 8;
    int table_ok = element_type(&tb) == T_I64 && (nan_rule != 2 || ntable == g.n + 1);
    for (idx_t v = 1; table_ok && nan_rule == 2 && v <= g.n; v++) table_ok = table[v] >= 0 && table[v] < v;
    if (rank < 0 || rank >= g.n || nan_rule < 0 || nan_rule > 2 || nkeys < 1 || nkeys > 0xFFFFFFFFLL ||
        nan_key < -1 || nan_key >= limit || (nan_rule && nan_key < 0) || !table_ok) {
        PyErr_SetString(PyExc_ValueError, "engine: morph_rank needs 0 <= rank < the footprint's count, "
                                          "a key range, a NaN key and a table of in-range ranks");
        goto done;
    }
    if (slot == 2) {
        /* The keys index the tree: every one must lie below nkeys. */
        const uint32_t *k = (const uint32_t *)src.buf;
        idx_t n = src.len / 4, bad = 0;
        for (idx_t i = 0; i < n; i++) bad |= (idx_t)(k[i] >= (uint64_t)nkeys);
        if (bad) {
            PyErr_SetString(PyExc_ValueError, "engine: a key is not below nkeys");
            goto done;
        }
    }
    if (rows > 0 && cols > 0) {
        int status;
        int at = sorted ? 3 : slot;
        morph_rank_fn fn = morph_rank_table_base[at];
        rank_rect8_fn rect = rank_rect8_u8_base;
#if defined(ENGINE_HAVE_AVX2)
        if (use_avx2) fn = morph_rank_table_avx2[at], rect = rank_rect8_u8_avx2;
#endif
        /* Tall full rectangles of 8-bit keys: per-column histograms (constant
         * time, the median's kernel: rank.c); other footprints: the runs'
         * sliding histogram. */
        int use_rect = slot == 0 && nan_rule == 0 && g.fh >= RECT_MIN_ROWS && g.fh < 65536 && is_rect(&g);
        Py_BEGIN_ALLOW_THREADS
        if (use_rect) status = rect(src.buf, dst.buf, g.src_row, g.dst_row, g.chan, g.rows, g.cols, g.fh, g.fw, rank);
        else status = fn(src.buf, dst.buf, &g, rank, table, nkeys, nan_key, nan_rule);
        Py_END_ALLOW_THREADS
        if (status < 0) {
            PyErr_NoMemory();
            goto done;
        }
    }
    result = Py_None;
    Py_INCREF(result);
done:
    PyBuffer_Release(&src);
    PyBuffer_Release(&dst);
    PyBuffer_Release(&rb);
    PyBuffer_Release(&tb);
    return result;
}

PyObject *py_morph_minmax(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *src_o, *dst_o, *runs_o;
    Py_ssize_t rows, cols, chan, srow, drow;
    int op, nan_ignore;
    if (!PyArg_ParseTuple(args, "OOnnnnnOip", &src_o, &dst_o, &rows, &cols, &chan, &srow, &drow, &runs_o,
                          &op, &nan_ignore))
        return NULL;
    if (op < 0 || op > 1) {
        PyErr_SetString(PyExc_ValueError, "engine: op must be 0 (min) or 1 (max)");
        return NULL;
    }
    Py_buffer src, dst, rb;
    if (get_array(src_o, &src, 0, "src") < 0) return NULL;
    if (get_array(dst_o, &dst, 1, "dst") < 0) {
        PyBuffer_Release(&src);
        return NULL;
    }
    if (get_array(runs_o, &rb, 0, "runs") < 0) {
        PyBuffer_Release(&src);
        PyBuffer_Release(&dst);
        return NULL;
    }
    PyObject *result = NULL;
    morph_geom g = {rows, cols, chan, srow, drow, 0, NULL, 0, 0, 0};
    int t = element_type(&src);
    if (element_type(&dst) != t) {
        PyErr_SetString(PyExc_TypeError, "engine: morph_minmax's src and dst differ in type");
        goto done;
    }
    if (parse_runs(&rb, &g) < 0 || check_geom(&g, &src, &dst) < 0) goto done;
    if (rows > 0 && cols > 0) {
        int status;
        morph_minmax_fn fn = morph_minmax_table_base[t][op + 2 * nan_ignore];
#if defined(ENGINE_HAVE_AVX2)
        if (use_avx2) fn = morph_minmax_table_avx2[t][op + 2 * nan_ignore];
#endif
        Py_BEGIN_ALLOW_THREADS status = fn(src.buf, dst.buf, &g);
        Py_END_ALLOW_THREADS
        if (status < 0) {
            PyErr_NoMemory();
            goto done;
        }
    }
    result = Py_None;
    Py_INCREF(result);
done:
    PyBuffer_Release(&src);
    PyBuffer_Release(&dst);
    PyBuffer_Release(&rb);
    return result;
}
