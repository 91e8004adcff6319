/* Medians of k x k windows: sorting networks (k <= 9), sliding histograms
 * (8- and 16-bit, any k), quickselect (any type, any k), and the NaN rules of
 * float windows. Compiled for the baseline instruction set and, on x86-64
 * with GCC or Clang, again for AVX2 (chosen at run time by the module's CPU
 * check); both give the same values (comparisons only, and one rounding of
 * a double mean). */
#include "isa.h"

#include "rank.h"
#include "rank_net.h"

#define MIN(a, b) ((b) < (a) ? (b) : (a))
#define MAX(a, b) ((a) < (b) ? (b) : (a))
#define CMP(T, a, b)          \
    do {                      \
        T t_ = MIN(a, b);     \
        b = MAX(a, b);        \
        a = t_;               \
    } while (0)

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define RANK_X86 1
#endif

#define ISA_IMPL "rank_impl.h"
#include "isa.h"

enum { M_NETWORK, M_HISTOGRAM, M_SELECT, M_DIRECT3 };
enum { NAN_NONE, NAN_PROPAGATE, NAN_IGNORE };

const char median_doc[] =
    "median(src, dst, rows, cols, chan, src_row, dst_row, k, method, nan)\n\n"
    "dst[y, x] = the median of the k x k window of src whose corner is (y, x), for\n"
    "rows x cols pixels of chan contiguous values (row strides in elements; src\n"
    "holds rows + k - 1 rows of cols + k - 1 pixels). method: 0 sorting networks\n"
    "(k = 3, 5, 7, 9), 1 sliding histogram (8- and 16-bit types), 2 quickselect\n"
    "(NaN ranks last). nan (float types): 0 nothing, 1 a window holding a NaN is\n"
    "NaN (after networks), 2 such a window takes the median of its valid values.\n\n"
    "median(src, dst, rows, cols, chan, src_row, dst_row, 3, 3, 0, rowidx, left, right)\n\n"
    "method 3 (integer types, k = 3) reads the image itself instead of an extended\n"
    "block: output row y takes source rows rowidx[y : y + 3] (a tuple of rows + 2\n"
    "indices, -1: zeros) and the columns beyond the edges are source columns left\n"
    "and right (-1: zeros); src holds whole rows of cols pixels.";

/* Both median entry points: one outer loop over rows of cols pixels of chan values. */
static geom_t median_rows(idx_t rows, idx_t cols, idx_t chan, idx_t srow, idx_t drow) {
    geom_t g;
    memset(&g, 0, sizeof(g));
    g.n_outer = 1;
    g.outer[0] = rows;
    g.s_outer[0] = srow;
    g.d_outer[0] = drow;
    g.inner = cols;
    g.chan = chan;
    g.s_step = chan;
    g.d_step = chan;
    return g;
}

/* Method 3: the 3x3 integer median read from the image through row and
 * column index tables (the border extension costs no copy). */
static PyObject *median_direct3(PyObject *src_o, PyObject *dst_o, idx_t rows, idx_t cols, idx_t chan, idx_t srow,
                                idx_t drow, idx_t k, int nan, PyObject *ri_o, idx_t left, idx_t right) {
    if (k != 3 || nan != NAN_NONE || !ri_o || !PyTuple_Check(ri_o) || rows < 0 || cols < 1 || chan < 1 ||
        PyTuple_GET_SIZE(ri_o) != rows + 2) {
        PyErr_SetString(PyExc_ValueError,
                        "engine: median method 3 needs k = 3, no nan rule, cols, chan >= 1 and rows + 2 row indices");
        return NULL;
    }
    Py_buffer src, dst;
    if (get_src_dst(src_o, dst_o, &src, &dst) < 0) return NULL;
    PyObject *result = NULL;
    idx_t *rowidx = NULL;
    int t = element_type(&src);
    if (element_type(&dst) != t || t == T_F32 || t == T_F64) {
        PyErr_SetString(PyExc_TypeError, "engine: median method 3 takes one integer type for src and dst");
        goto done;
    }
    idx_t row, src_len = src.len / src.itemsize, src_rows;
    if (__builtin_mul_overflow(cols, chan, &row) || srow < row || drow < 0) {
        PyErr_SetString(PyExc_ValueError, "engine: median method 3 needs src_row >= cols * chan");
        goto done;
    }
    /* Whole rows of the source: row i spans [i * srow, i * srow + row). */
    src_rows = src_len < row ? 0 : (src_len - row) / srow + 1;
    rowidx = malloc(sizeof(idx_t) * (size_t)(rows + 2));
    if (!rowidx) {
        PyErr_NoMemory();
        goto done;
    }
    idx_t side[2] = {left, right};
    if (int_tuple(ri_o, rowidx, rows + 2, "rowidx") < 0 ||
        engine_check_index(rowidx, rows + 2, src_rows, "rowidx") < 0 ||
        engine_check_index(side, 2, cols, "column") < 0)
        goto done;
    geom_t g = median_rows(rows, cols, chan, srow, drow);
    if (!geom_empty(&g)) {
        /* dst only: the source is read through the checked index tables. */
        geom_t gd = g;
        gd.s_outer[0] = 0;
        if (engine_check_bounds(&gd, NULL, 0, row, dst.len / dst.itemsize) < 0) goto done;
        rank_direct3_fn fn = rank_direct3_table_base[t];
#if defined(ENGINE_HAVE_AVX2)
        if (use_avx2) fn = rank_direct3_table_avx2[t];
#endif
        int status;
        Py_BEGIN_ALLOW_THREADS status = fn(src.buf, dst.buf, &g, rowidx, left, right);
        Py_END_ALLOW_THREADS
        if (status < 0) {
            PyErr_NoMemory();
            goto done;
        }
    }
    result = Py_None;
    Py_INCREF(result);
done:
    free(rowidx);
    PyBuffer_Release(&src);
    PyBuffer_Release(&dst);
    return result;
}

PyObject *py_median(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *src_o, *dst_o, *ri_o = NULL;
    Py_ssize_t rows, cols, chan, srow, drow, k, left = -1, right = -1;
    int method, nan;
    if (!PyArg_ParseTuple(args, "OOnnnnnnii|Onn", &src_o, &dst_o, &rows, &cols, &chan, &srow, &drow, &k,
                          &method, &nan, &ri_o, &left, &right))
        return NULL;
    if (method == M_DIRECT3) return median_direct3(src_o, dst_o, rows, cols, chan, srow, drow, k, nan, ri_o,
                                                   left, right);
    if (k < 1 || k % 2 == 0 || method < M_NETWORK || method > M_SELECT || nan < NAN_NONE ||
        nan > NAN_IGNORE) {
        PyErr_SetString(PyExc_ValueError, "engine: median needs an odd k >= 1, a method and a nan rule");
        return NULL;
    }
    Py_buffer src, dst;
    if (get_src_dst(src_o, dst_o, &src, &dst) < 0) return NULL;
    PyObject *result = NULL;
    int t = element_type(&src);
    int is_float = t == T_F32 || t == T_F64;
    int status = 0;
    if (element_type(&dst) != t) {
        PyErr_SetString(PyExc_TypeError, "engine: median's src and dst differ in type");
        goto done;
    }
    if (nan != NAN_NONE && !is_float) {
        PyErr_SetString(PyExc_ValueError, "engine: median's nan rules are for float types");
        goto done;
    }
    int slot = k == 3 ? 0 : k == 5 ? 1 : k == 7 ? 2 : k == 9 ? 3 : -1;
    if ((method == M_NETWORK && (slot < 0 || !rank_net_table_base[slot][t])) ||
        (method == M_HISTOGRAM && (t > T_I16 || k > 65535))) {
        PyErr_SetString(PyExc_ValueError, "engine: this median method does not take this k or type");
        goto done;
    }
    /* A single outer loop over rows; k - 1 more rows and pixels of source. */
    geom_t g = median_rows(rows, cols, chan, srow, drow);
    if (!geom_empty(&g)) {
        idx_t off[2] = {0, 0};
        if (__builtin_mul_overflow(k - 1, srow, &off[1]) || __builtin_mul_overflow(k - 1, chan, &off[0]) ||
            __builtin_add_overflow(off[1], off[0], &off[1]) || srow < 0 || drow < 0) {
            PyErr_SetString(PyExc_OverflowError, "engine: geometry overflows");
            goto done;
        }
        off[0] = 0;
        if (engine_check_bounds(&g, off, 2, src.len / src.itemsize, dst.len / dst.itemsize) < 0) goto done;
        int avx2 = 0;
#if defined(ENGINE_HAVE_AVX2)
        avx2 = use_avx2;
#endif
        /* 5 x 5 to 9 x 9 networks with nan="ignore": one pass, NaN ranked last (netn) */
        const int ignoren = method == M_NETWORK && k >= 5 && nan == NAN_IGNORE;
        Py_BEGIN_ALLOW_THREADS
#if defined(ENGINE_HAVE_AVX2)
        if (avx2) {
            if (ignoren) status = rank_netn_table_avx2[slot - 1][t](src.buf, dst.buf, &g);
            else if (method == M_NETWORK) status = rank_net_table_avx2[slot][t](src.buf, dst.buf, &g);
            else if (method == M_HISTOGRAM) status = rank_hist_table_avx2[t](src.buf, dst.buf, &g, k);
            else status = rank_select_table_avx2[t](src.buf, dst.buf, &g, k);
            if (status == 0 && !ignoren && nan != NAN_NONE && (nan == NAN_IGNORE || method == M_NETWORK))
                status = rank_holes_table_avx2[t](src.buf, dst.buf, &g, k, nan == NAN_IGNORE);
        }
#endif
        if (!avx2) {
            if (ignoren) status = rank_netn_table_base[slot - 1][t](src.buf, dst.buf, &g);
            else if (method == M_NETWORK) status = rank_net_table_base[slot][t](src.buf, dst.buf, &g);
            else if (method == M_HISTOGRAM) status = rank_hist_table_base[t](src.buf, dst.buf, &g, k);
            else status = rank_select_table_base[t](src.buf, dst.buf, &g, k);
            if (status == 0 && !ignoren && nan != NAN_NONE && (nan == NAN_IGNORE || method == M_NETWORK))
                status = rank_holes_table_base[t](src.buf, dst.buf, &g, k, nan == NAN_IGNORE);
        }
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
    return result;
}
