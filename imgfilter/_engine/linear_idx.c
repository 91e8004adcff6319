/* Tap correlation and the separable pass with the border inside the kernel
 * (see linear_idx.h), compiled for the baseline instruction set and again
 * for AVX2, with their Python entries. They compute what linear.c's taps
 * and sep2d compute over a band copied with its halo, in the same order and
 * types (-ffp-contract=off), without the copy: the halo comes from index
 * tables, a row at a time into a ring that stays in cache. */
#if defined(__GNUC__) && !defined(__clang__)
/* As in linear.c: selects may be if-converted; no value changes. */
#pragma GCC optimize("no-trapping-math")
#endif
#include "isa.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "codec.h"
#include "linear_idx.h"
#include "normalize.h"

typedef struct {
    const void *src;
    void *dst;
    idx_t rows, cols, chan, src_cols; /* outputs rows x cols; the source's width */
    const idx_t *rowidx;              /* block row -> source row (-1: cval) */
    idx_t c_start, ja, jb;            /* block columns [ja, jb) are image columns c_start + j */
    const idx_t *left, *right;        /* block columns before ja / from jb on (-1: cval) */
    idx_t vstride, hstride;
    idx_t nv, nh;                     /* taps2d: nv taps at (vrows[t], hcols[t]) */
    const idx_t *vrows, *hcols;
    const void *wv, *wh;
    idx_t vspan, hspan;               /* block rows / columns one output spans */
    double cval, divide;
    int cval_ok;                      /* cval is a value of the source type */
    idx_t dst_row_bytes, dsize;
    idx_t tile;                       /* output columns per tile */
    idx_t oi0, oi1;                   /* outputs whose block columns all lie in [ja, jb) */
    void *ring, *vrow, *orow, *cvrow; /* cvrow: a tile's row of cval, in the ring's type */
    void *ptrs;
    void *wring, *wptrs;              /* the NaN passes: the ring of weight rows, their pointers */
    void *wvrow, *den;                /* the vertical weight row (separable), the weight sums */
    void *wvrow2;                     /* pairs: the second output row's vertical weight row */
    void *wvrow3, *wvrow4;            /* quads: the third and fourth rows' */
    int sep;                          /* taps2d_nan 0, sep2d_nan 1 */
    idx_t ring_rows;                  /* rows in the ring: vspan, + 1 for pairs, + 3 for quads */
    int pairs;                        /* sep2d: two output rows per vertical pass (see s2) */
    void *vrow2;                      /* pairs: the second output row's vertical row */
    int quads;                        /* sep2d: four output rows per vertical pass (see s2) */
    void *vrow3, *vrow4;              /* quads: the third and fourth output rows' vertical rows */
    const float *lut;                 /* sep2d_idx with the codec: the decoding table */
    int enc;                          /* ... and the encoding store: 1 uint8, 2 uint16 codes */
    float enc_div, enc_mul;           /* encode()'s divisor and scale */
} lidx_t;

/* The NaN passes' division: divide_sums' own kernel (normalize.c), its arguments
 * (pixels and cn set per row) and its block buffer. */
typedef struct {
    divide_fn div;
    divide_args args;
    void *buf;
} nan_div;

typedef int (*n2_fn)(const lidx_t *p, const nan_div *a);
/* sep2d_nan_at's outputs and scratch, in the sums' type (see linear_idx_impl.h). */
typedef struct {
    void *num, *den;             /* chan sums per output */
    void *zv, *wt, *acc, *wacc;  /* a window row's values and weights, its vertical sums */
    void *cvl;                   /* a window row of cval */
    void *rp;                    /* the window rows' pointers */
    idx_t *scol;                 /* the window columns' source columns */
} n2at_scratch;
typedef void (*n2at_fn)(const lidx_t *p, const idx_t *ys, const idx_t *xs, idx_t n, const n2at_scratch *sc);

typedef void (*t2_fn)(const lidx_t *p);
typedef void (*s2_fn)(const lidx_t *p, store_any st);

#define ISA_IMPL "linear_idx_impl.h"
#include "isa.h"

/* Ring rows of a tile are kept to about this many bytes. The separable pass
 * reads many rows per output row: they must stay in L2 (measured best at
 * 192 KiB of 512). The tap kernel reads a few: whole rows run faster than
 * tiles of them (4K float32 RGB 3x3, one thread: 13.9 against 17.7 ms). */
#define SEP_TILE_BYTES (192 * 1024)
#define TAPS_TILE_BYTES (1024 * 1024)

static const size_t TYPE_SIZE[T_COUNT] = {1, 1, 2, 2, 4, 4, 8, 8, 4, 8};
static const char *const ACC_NAMES[SEP_ACC_COUNT] = {"u16", "u32", "u64", "f32", "f64"};
static const int ACC_TYPE[SEP_ACC_COUNT] = {T_U16, T_U32, T_U64, T_F32, T_F64};

/* Whether v converts to type t without leaving its range (NaN: floats only). */
static int fits(double v, int t) {
    static const double lo[T_COUNT] = {0.0, -128.0, 0.0, -32768.0, 0.0, -2147483648.0,
                                       0.0, -9223372036854775808.0, 0, 0};
    static const double top[T_COUNT] = {256.0, 128.0, 65536.0, 32768.0, 4294967296.0, 2147483648.0,
                                        18446744073709551616.0, 9223372036854775808.0, 0, 0};
    if (t == T_F32 || t == T_F64) return 1;
    return v >= lo[t] && v < top[t];
}

/* Weight tuple of type t (integral for integer types); -1 with an exception. */
static int weights(PyObject *o, int t, idx_t n, void **w) {
    *w = malloc(8 * (size_t)(n > 0 ? n : 1));
    if (!*w) {
        PyErr_NoMemory();
        return -1;
    }
    for (idx_t k = 0; k < n; k++) {
        double v = PyFloat_AsDouble(PyTuple_GET_ITEM(o, k));
        if (v == -1.0 && PyErr_Occurred()) return -1;
        if (t == T_F32) {
            ((float *)*w)[k] = (float)v;
            continue;
        }
        if (t == T_F64) {
            ((double *)*w)[k] = v;
            continue;
        }
        if (!fits(v, t) || v != (double)(int64_t)v) {
            PyErr_SetString(PyExc_ValueError, "engine: an integer accumulator needs integral weights in range");
            return -1;
        }
        if (t == T_U16) ((uint16_t *)*w)[k] = (uint16_t)v;
        else if (t == T_U32) ((uint32_t *)*w)[k] = (uint32_t)v;
        else ((uint64_t *)*w)[k] = (uint64_t)v;
    }
    return 0;
}

static idx_t max_of(const idx_t *v, idx_t n) {
    idx_t m = 0;
    for (idx_t k = 0; k < n; k++) m = v[k] > m ? v[k] : m;
    return m;
}

typedef struct {
    Py_buffer src, dst;
    int have_bufs;
    idx_t *rowidx, *left, *right, *vrows, *hcols;
    void *wv, *wh, *ring, *vrow, *vrow2, *vrow3, *vrow4, *orow, *cvrow, *ptrs, *wring, *wptrs, *dbuf, *wvrow, *wvrow2, *wvrow3, *wvrow4, *den;
} owned;

static void release(owned *o) {
    if (o->have_bufs) {
        PyBuffer_Release(&o->src);
        PyBuffer_Release(&o->dst);
    }
    free(o->rowidx);
    free(o->left);
    free(o->right);
    free(o->vrows);
    free(o->hcols);
    free(o->wv);
    free(o->wh);
    free(o->ring);
    free(o->vrow);
    free(o->vrow2);
    free(o->vrow3);
    free(o->vrow4);
    free(o->orow);
    free(o->cvrow);
    free(o->ptrs);
    free(o->wring);
    free(o->wptrs);
    free(o->dbuf);
    free(o->wvrow);
    free(o->wvrow2);
    free(o->wvrow3);
    free(o->wvrow4);
    free(o->den);
}

/* The shared geometry: buffers, index tables and tap positions, all checked
 * so that every element the kernels touch lies inside its buffer. */
static int setup(owned *o, lidx_t *p, PyObject *src_o, PyObject *dst_o, Py_ssize_t rows, Py_ssize_t cols,
                 Py_ssize_t chan, Py_ssize_t src_cols, PyObject *ri_o, Py_ssize_t c_start, Py_ssize_t ncols,
                 PyObject *left_o, PyObject *right_o, Py_ssize_t vstride, Py_ssize_t hstride, PyObject *vr_o,
                 PyObject *hc_o, int same_taps, double cval) {
    memset(p, 0, sizeof *p);
    if (rows < 0 || cols < 0 || chan < 1 || src_cols < 1 || ncols < 1 || vstride < 1 || hstride < 1 ||
        !PyTuple_Check(vr_o) || !PyTuple_Check(hc_o) || PyTuple_GET_SIZE(vr_o) < 1 ||
        PyTuple_GET_SIZE(hc_o) < 1 || (same_taps && PyTuple_GET_SIZE(vr_o) != PyTuple_GET_SIZE(hc_o)) ||
        chan > PY_SSIZE_T_MAX / 16 / src_cols || ncols > PY_SSIZE_T_MAX / 16 / chan ||
        c_start < -(PY_SSIZE_T_MAX / 4) || c_start > PY_SSIZE_T_MAX / 4) {
        PyErr_SetString(PyExc_ValueError, "engine: inconsistent index-table geometry");
        return -1;
    }
    if (get_src_dst(src_o, dst_o, &o->src, &o->dst) < 0) return -1;
    o->have_bufs = 1;
    Py_ssize_t nr = index_table_len(ri_o);
    if (nr < 0) return -1;
    idx_t src_rows = (o->src.len / o->src.itemsize) / (src_cols * chan);
    idx_t ja = -c_start < 0 ? 0 : -c_start > ncols ? ncols : -c_start;
    idx_t jb = src_cols - c_start < ja ? ja : src_cols - c_start > ncols ? ncols : src_cols - c_start;
    if (!(o->rowidx = index_table(ri_o, nr, -1, src_rows, "rowidx")) ||
        !(o->left = index_table(left_o, ja, -1, src_cols, "left")) ||
        !(o->right = index_table(right_o, ncols - jb, -1, src_cols, "right")) ||
        !(o->vrows = index_table(vr_o, PyTuple_GET_SIZE(vr_o), 0, nr > 0 ? nr : 1, "vrows")) ||
        !(o->hcols = index_table(hc_o, PyTuple_GET_SIZE(hc_o), 0, ncols, "hcols")))
        return -1;
    p->nv = PyTuple_GET_SIZE(vr_o), p->nh = PyTuple_GET_SIZE(hc_o);
    p->vspan = max_of(o->vrows, p->nv) + 1, p->hspan = max_of(o->hcols, p->nh) + 1;
    p->ring_rows = p->vspan;
    /* The last output row and column read block row (rows-1)*vstride + vspan - 1 and
     * column (cols-1)*hstride + hspan - 1: both inside the block. */
    if (rows > 0 && cols > 0 &&
        (nr < p->vspan || (rows - 1) > (nr - p->vspan) / vstride || (cols - 1) > (ncols - p->hspan) / hstride)) {
        PyErr_SetString(PyExc_IndexError, "engine: taps reach outside the block");
        return -1;
    }
    if (cols > 0 && rows > (o->dst.len / o->dst.itemsize) / cols / chan) {
        PyErr_SetString(PyExc_IndexError, "engine: destination outside its buffer");
        return -1;
    }
    p->src = o->src.buf, p->dst = o->dst.buf;
    p->rows = rows, p->cols = cols, p->chan = chan, p->src_cols = src_cols;
    p->rowidx = o->rowidx, p->c_start = c_start, p->ja = ja, p->jb = jb, p->left = o->left, p->right = o->right;
    p->vstride = vstride, p->hstride = hstride, p->vrows = o->vrows, p->hcols = o->hcols;
    p->cval = cval, p->cval_ok = fits(cval, element_type(&o->src));
    p->dsize = o->dst.itemsize, p->dst_row_bytes = (idx_t)cols * chan * o->dst.itemsize;
    /* Interior outputs read image columns only: the kernels read them in place. */
    p->oi0 = (ja + hstride - 1) / hstride;
    p->oi1 = jb >= p->hspan ? (jb - p->hspan) / hstride + 1 : 0;
    p->oi0 = p->oi0 < cols ? p->oi0 : cols;
    p->oi1 = p->oi1 < p->oi0 ? p->oi0 : p->oi1 > cols ? cols : p->oi1;
    return 0;
}

/* The separable passes compute two output rows per vertical pass where
 * their taps are the rows below each other (stride 1, no dilation): each
 * ring row is loaded once for both, and those loads from L2 had bounded the
 * vertical pass (4K uint8 RGB Gaussian sigma 3, one thread: 66 -> 56 ms).
 * Every output's additions are the same, in the same order. The ring then
 * holds one row more. */
static void choose_pairs(lidx_t *p, int float32_sums) {
    int dense = p->vstride == 1 && p->nv == p->vspan && p->nv >= 2;
    for (idx_t t = 0; dense && t < p->nv; t++) dense = p->vrows[t] == t;
    p->pairs = dense;
    /* Four output rows a pass where the sums are float32 (pk4: half pk2's
     * loads of ring rows from L2; 4K RGB Gaussian sigma 3, one thread,
     * interleaved: float32 0.84-0.88 -> 0.80-0.85 of OpenCV, uint8 0.93-0.98
     * -> 0.91-0.94). The ring then holds three rows more. */
    p->quads = dense && p->nv >= 4 && float32_sums;
    p->ring_rows = p->vspan + (p->quads ? 3 : p->pairs);
}

/* Tile width (ring rows of about `budget` bytes) and scratch for ring rows
 * of `rsize` bytes per value. */
static int scratch(owned *o, lidx_t *p, size_t rsize, size_t asize, idx_t budget) {
    idx_t per = p->chan * (idx_t)rsize * (p->vspan + 2) * p->hstride;
    idx_t tile = budget / (per > 0 ? per : 1);
    tile = tile < 16 ? 16 : tile;
    p->tile = tile < p->cols ? tile : p->cols;
    if (p->tile < 1) p->tile = 1;
    idx_t tw = ((p->tile - 1) * p->hstride + p->hspan) * p->chan;
    o->ring = malloc(rsize * (size_t)tw * (size_t)p->ring_rows);
    o->vrow = malloc(asize * (size_t)tw);
    o->vrow2 = p->pairs ? malloc(asize * (size_t)tw) : NULL;
    o->vrow3 = p->quads ? malloc(asize * (size_t)tw) : NULL;
    o->vrow4 = p->quads ? malloc(asize * (size_t)tw) : NULL;
    o->orow = malloc(asize * (size_t)p->tile * (size_t)p->chan);
    o->ptrs = malloc(sizeof(void *) * (size_t)((p->nv > p->nh ? p->nv : p->nh) + 3));
    o->cvrow = malloc(rsize * (size_t)tw);
    if (!o->ring || !o->vrow || (p->pairs && !o->vrow2) || (p->quads && (!o->vrow3 || !o->vrow4)) || !o->orow ||
        !o->ptrs || !o->cvrow) {
        PyErr_NoMemory();
        return -1;
    }
    p->ring = o->ring, p->vrow = o->vrow, p->vrow2 = o->vrow2, p->vrow3 = o->vrow3, p->vrow4 = o->vrow4, p->orow = o->orow, p->ptrs = o->ptrs, p->cvrow = o->cvrow;
    return 0;
}

PyObject *py_taps2d(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *src_o, *dst_o, *ri_o, *left_o, *right_o, *tr_o, *tc_o, *w_o;
    Py_ssize_t rows, cols, chan, src_cols, c_start, ncols, vstride, hstride;
    double cval;
    if (!PyArg_ParseTuple(args, "OOnnnnOnnOOnnOOOd", &src_o, &dst_o, &rows, &cols, &chan, &src_cols, &ri_o,
                          &c_start, &ncols, &left_o, &right_o, &vstride, &hstride, &tr_o, &tc_o, &w_o, &cval))
        return NULL;
    owned o;
    memset(&o, 0, sizeof o);
    lidx_t p;
    PyObject *result = NULL;
    if (setup(&o, &p, src_o, dst_o, rows, cols, chan, src_cols, ri_o, c_start, ncols, left_o, right_o, vstride,
              hstride, tr_o, tc_o, 1, cval) < 0)
        goto done;
    int st = element_type(&o.src), dt = element_type(&o.dst);
    if ((dt != T_F32 && dt != T_F64) || !PyTuple_Check(w_o) || PyTuple_GET_SIZE(w_o) != p.nv) {
        PyErr_SetString(PyExc_ValueError, "engine: taps2d needs a float32/float64 dst and one weight per tap");
        goto done;
    }
    if (weights(w_o, dt, p.nv, &o.wv) < 0) goto done;
    p.wv = o.wv;
    if (rows > 0 && cols > 0) {
        if (scratch(&o, &p, TYPE_SIZE[st], TYPE_SIZE[dt], TAPS_TILE_BYTES) < 0) goto done;
        t2_fn fn = t2_table_base[st][dt == T_F64];
#if defined(ENGINE_HAVE_AVX2)
        if (use_avx2) fn = t2_table_avx2[st][dt == T_F64];
#endif
        Py_BEGIN_ALLOW_THREADS fn(&p);
        Py_END_ALLOW_THREADS
    }
    result = Py_None;
    Py_INCREF(result);
done:
    release(&o);
    return result;
}

PyObject *py_sep2d_idx(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *src_o, *dst_o, *ri_o, *left_o, *right_o, *vr_o, *wv_o, *hc_o, *wh_o;
    Py_ssize_t rows, cols, chan, src_cols, c_start, ncols, vstride, hstride;
    const char *acc_name;
    int work_f64, codec = 0;
    double divide, cval, enc_div = 1.0, enc_mul = 1.0;
    if (!PyArg_ParseTuple(args, "OOnnnnOnnOOnnOOOOspdd|pdd", &src_o, &dst_o, &rows, &cols, &chan, &src_cols,
                          &ri_o, &c_start, &ncols, &left_o, &right_o, &vstride, &hstride, &vr_o, &wv_o, &hc_o,
                          &wh_o, &acc_name, &work_f64, &divide, &cval, &codec, &enc_div, &enc_mul))
        return NULL;
    int acc = -1;
    for (int a = 0; a < SEP_ACC_COUNT; a++)
        if (strcmp(acc_name, ACC_NAMES[a]) == 0) acc = a;
    if (acc < 0) {
        PyErr_Format(PyExc_ValueError, "engine: unknown accumulator %s", acc_name);
        return NULL;
    }
    owned o;
    memset(&o, 0, sizeof o);
    lidx_t p;
    PyObject *result = NULL;
    if (setup(&o, &p, src_o, dst_o, rows, cols, chan, src_cols, ri_o, c_start, ncols, left_o, right_o, vstride,
              hstride, vr_o, hc_o, 0, cval) < 0)
        goto done;
    int at = ACC_TYPE[acc], st = element_type(&o.src), dt = element_type(&o.dst);
    if (!PyTuple_Check(wv_o) || !PyTuple_Check(wh_o) || PyTuple_GET_SIZE(wv_o) != p.nv ||
        PyTuple_GET_SIZE(wh_o) != p.nh) {
        PyErr_SetString(PyExc_ValueError, "engine: sep2d_idx needs one weight per tap");
        goto done;
    }
    if (weights(wv_o, at, p.nv, &o.wv) < 0 || weights(wh_o, at, p.nh, &o.wh) < 0) goto done;
    p.wv = o.wv, p.wh = o.wh, p.divide = divide;
    if (codec) {
        /* sRGB codes in, their codes out: decoded on load (the constant border
         * is cval, already decoded), sums in float32, encoded as stored. */
        if ((st != T_U8 && st != T_U16) || dt != st || at != T_F32 || divide != 1.0) {
            PyErr_SetString(PyExc_ValueError,
                            "engine: sep2d_idx's codec takes uint8/uint16 codes into their own type, "
                            "a float32 accumulator and no divide");
            goto done;
        }
        if (!codec_ready) {
            PyErr_SetString(PyExc_RuntimeError, "engine: the codec's tables are not installed");
            goto done;
        }
        p.lut = st == T_U8 ? codec_dec8 : codec_dec16;
        p.enc = st == T_U8 ? 1 : 2;
        p.enc_div = (float)enc_div, p.enc_mul = (float)enc_mul;
    }
    if (rows > 0 && cols > 0) {
        choose_pairs(&p, at == T_F32);
        if (scratch(&o, &p, TYPE_SIZE[at], TYPE_SIZE[at], SEP_TILE_BYTES) < 0) goto done;
        int store = !codec && (dt != at || divide != 1.0);
        s2_fn fn = codec ? s2d_table_base[st == T_U16] : s2_table_base[st][acc];
        store_any sf = store ? store_table_base[acc][work_f64 ? 1 : 0][dt] : NULL;
#if defined(ENGINE_HAVE_AVX2)
        if (use_avx2) {
            fn = codec ? s2d_table_avx2[st == T_U16] : s2_table_avx2[st][acc];
            sf = store ? store_table_avx2[acc][work_f64 ? 1 : 0][dt] : NULL;
        }
#endif
        Py_BEGIN_ALLOW_THREADS fn(&p, sf);
        Py_END_ALLOW_THREADS
    }
    result = Py_None;
    Py_INCREF(result);
done:
    release(&o);
    return result;
}

/* The rest of taps2d_nan and sep2d_nan once their taps are checked: the
 * ring and its scratch, the weight rows, the division's block, the pass.
 * The status (0, or 3: a pixel NaN in some of its channels only), or NULL
 * with an exception. */
static PyObject *nan_pass(owned *o, lidx_t *p, nan_div *a, int dt, idx_t budget) {
    int status = 0;
    a->args.cd = 1;
    a->args.scale = a->args.total != 1.0;
    if (p->rows > 0 && p->cols > 0) {
        if (scratch(o, p, TYPE_SIZE[dt], TYPE_SIZE[dt], budget) < 0) return NULL;
        /* One weight per block column of a tile: their ring, the vertical row, the sums. */
        idx_t ww = (p->tile - 1) * p->hstride + p->hspan;
        o->wring = malloc(TYPE_SIZE[dt] * (size_t)ww * (size_t)p->ring_rows);
        o->wptrs = malloc(sizeof(void *) * (size_t)((p->nv > p->nh ? p->nv : p->nh) + 3));
        o->wvrow = malloc(TYPE_SIZE[dt] * (size_t)ww);
        o->wvrow2 = p->pairs ? malloc(TYPE_SIZE[dt] * (size_t)ww) : NULL;
        o->wvrow3 = p->quads ? malloc(TYPE_SIZE[dt] * (size_t)ww) : NULL;
        o->wvrow4 = p->quads ? malloc(TYPE_SIZE[dt] * (size_t)ww) : NULL;
        o->den = malloc(TYPE_SIZE[dt] * (size_t)p->tile);
        o->dbuf = malloc((size_t)DIVIDE_BLOCK * (size_t)p->chan * TYPE_SIZE[dt]);
        if (!o->wring || !o->wptrs || !o->wvrow || (p->pairs && !o->wvrow2) || (p->quads && (!o->wvrow3 || !o->wvrow4)) ||
            !o->den || !o->dbuf) {
            PyErr_NoMemory();
            return NULL;
        }
        p->wring = o->wring, p->wptrs = o->wptrs, p->wvrow = o->wvrow, p->wvrow2 = o->wvrow2, p->wvrow3 = o->wvrow3, p->wvrow4 = o->wvrow4, p->den = o->den, a->buf = o->dbuf;
        n2_fn fn = n2_table_base[dt == T_F64];
        a->div = divide_table_base[dt == T_F64];
#if defined(ENGINE_HAVE_AVX2)
        if (use_avx2) fn = n2_table_avx2[dt == T_F64], a->div = divide_table_avx2[dt == T_F64];
#endif
        Py_BEGIN_ALLOW_THREADS status = fn(p, a);
        Py_END_ALLOW_THREADS
    }
    return PyLong_FromLong(status);
}

PyObject *py_taps2d_nan(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *src_o, *dst_o, *ri_o, *left_o, *right_o, *tr_o, *tc_o, *w_o;
    Py_ssize_t rows, cols, chan, src_cols, c_start, ncols, vstride, hstride;
    double cval;
    nan_div a;
    memset(&a, 0, sizeof a);
    if (!PyArg_ParseTuple(args, "OOnnnnOnnOOnnOOOddpdpd", &src_o, &dst_o, &rows, &cols, &chan, &src_cols, &ri_o,
                          &c_start, &ncols, &left_o, &right_o, &vstride, &hstride, &tr_o, &tc_o, &w_o, &cval,
                          &a.args.full, &a.args.has_full, &a.args.tiny, &a.args.has_tiny, &a.args.total))
        return NULL;
    owned o;
    memset(&o, 0, sizeof o);
    lidx_t p;
    PyObject *result = NULL;
    if (setup(&o, &p, src_o, dst_o, rows, cols, chan, src_cols, ri_o, c_start, ncols, left_o, right_o, vstride,
              hstride, tr_o, tc_o, 1, cval) < 0)
        goto done;
    int st = element_type(&o.src), dt = element_type(&o.dst);
    if ((dt != T_F32 && dt != T_F64) || st != dt || !PyTuple_Check(w_o) || PyTuple_GET_SIZE(w_o) != p.nv) {
        PyErr_SetString(PyExc_ValueError,
                        "engine: taps2d_nan needs float32 or float64 src and dst of one type and one weight per tap");
        goto done;
    }
    if (weights(w_o, dt, p.nv, &o.wv) < 0) goto done;
    p.wv = o.wv, p.sep = 0;
    result = nan_pass(&o, &p, &a, dt, TAPS_TILE_BYTES);
done:
    release(&o);
    return result;
}

PyObject *py_sep2d_nan(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *src_o, *dst_o, *ri_o, *left_o, *right_o, *vr_o, *wv_o, *hc_o, *wh_o;
    Py_ssize_t rows, cols, chan, src_cols, c_start, ncols, vstride, hstride;
    double cval;
    nan_div a;
    memset(&a, 0, sizeof a);
    if (!PyArg_ParseTuple(args, "OOnnnnOnnOOnnOOOOddpdpd", &src_o, &dst_o, &rows, &cols, &chan, &src_cols, &ri_o,
                          &c_start, &ncols, &left_o, &right_o, &vstride, &hstride, &vr_o, &wv_o, &hc_o, &wh_o,
                          &cval, &a.args.full, &a.args.has_full, &a.args.tiny, &a.args.has_tiny, &a.args.total))
        return NULL;
    owned o;
    memset(&o, 0, sizeof o);
    lidx_t p;
    PyObject *result = NULL;
    if (setup(&o, &p, src_o, dst_o, rows, cols, chan, src_cols, ri_o, c_start, ncols, left_o, right_o, vstride,
              hstride, vr_o, hc_o, 0, cval) < 0)
        goto done;
    int st = element_type(&o.src), dt = element_type(&o.dst);
    if ((dt != T_F32 && dt != T_F64) || st != dt || !PyTuple_Check(wv_o) || !PyTuple_Check(wh_o) ||
        PyTuple_GET_SIZE(wv_o) != p.nv || PyTuple_GET_SIZE(wh_o) != p.nh) {
        PyErr_SetString(PyExc_ValueError,
                        "engine: sep2d_nan needs float32 or float64 src and dst of one type and one weight per tap");
        goto done;
    }
    if (weights(wv_o, dt, p.nv, &o.wv) < 0 || weights(wh_o, dt, p.nh, &o.wh) < 0) goto done;
    p.wv = o.wv, p.wh = o.wh, p.sep = 1;
    choose_pairs(&p, dt == T_F32);
    result = nan_pass(&o, &p, &a, dt, SEP_TILE_BYTES);
done:
    release(&o);
    return result;
}

PyObject *py_sep2d_nan_at(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *src_o, *num_o, *den_o, *ri_o, *left_o, *right_o, *vr_o, *wv_o, *hc_o, *wh_o, *ys_o, *xs_o;
    Py_ssize_t rows, cols, chan, src_cols, c_start, ncols, vstride, hstride;
    double cval;
    if (!PyArg_ParseTuple(args, "OOOnnnnOnnOOnnOOOOdOO", &src_o, &num_o, &den_o, &rows, &cols, &chan, &src_cols,
                          &ri_o, &c_start, &ncols, &left_o, &right_o, &vstride, &hstride, &vr_o, &wv_o, &hc_o,
                          &wh_o, &cval, &ys_o, &xs_o))
        return NULL;
    owned o;
    memset(&o, 0, sizeof o);
    lidx_t p;
    Py_buffer den;
    int have_den = 0;
    idx_t *ys = NULL, *xs = NULL, *scol = NULL;
    void *zv = NULL, *wt = NULL, *acc = NULL, *wacc = NULL, *rp = NULL, *cvl = NULL;
    PyObject *result = NULL;
    if (rows < 0 || cols < 0) {
        PyErr_SetString(PyExc_ValueError, "engine: inconsistent index-table geometry");
        return NULL;
    }
    /* The tables and taps checked as for the passes (no outputs there: the grid is checked below). */
    if (setup(&o, &p, src_o, num_o, 0, 0, chan, src_cols, ri_o, c_start, ncols, left_o, right_o, vstride, hstride,
              vr_o, hc_o, 0, cval) < 0)
        goto done;
    Py_ssize_t nr = index_table_len(ri_o);
    /* Every output of the rows x cols grid reads block rows and columns inside the tables. */
    if (rows > 0 && cols > 0 &&
        (nr < p.vspan || (rows - 1) > (nr - p.vspan) / vstride || (cols - 1) > (ncols - p.hspan) / hstride)) {
        PyErr_SetString(PyExc_IndexError, "engine: taps reach outside the block");
        goto done;
    }
    if (get_array(den_o, &den, 1, "den") < 0) goto done;
    have_den = 1;
    int st = element_type(&o.src), dt = element_type(&o.dst);
    if ((st != T_F32 && st != T_F64) || dt != st || element_type(&den) != st || !PyTuple_Check(wv_o) ||
        !PyTuple_Check(wh_o) || PyTuple_GET_SIZE(wv_o) != p.nv || PyTuple_GET_SIZE(wh_o) != p.nh) {
        PyErr_SetString(PyExc_ValueError,
                        "engine: sep2d_nan_at needs float32 or float64 src, num and den of one type and one "
                        "weight per tap");
        goto done;
    }
    Py_ssize_t n = index_table_len(ys_o);
    if (n < 0 || index_table_len(xs_o) != n) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "engine: ys and xs must hold as many outputs");
        goto done;
    }
    if (o.dst.len / o.dst.itemsize < n * chan || den.len / den.itemsize < n * chan) {
        PyErr_SetString(PyExc_IndexError, "engine: num and den need chan values per output");
        goto done;
    }
    if (!(ys = index_table(ys_o, n, 0, rows, "ys")) || !(xs = index_table(xs_o, n, 0, cols, "xs"))) goto done;
    if (weights(wv_o, dt, p.nv, &o.wv) < 0 || weights(wh_o, dt, p.nh, &o.wh) < 0) goto done;
    p.wv = o.wv, p.wh = o.wh;
    size_t lanes = (size_t)p.nh * (size_t)chan, es = TYPE_SIZE[dt];
    zv = malloc(es * lanes), wt = malloc(es * lanes), acc = malloc(es * lanes), wacc = malloc(es * lanes);
    scol = malloc(sizeof(idx_t) * (size_t)p.nh);
    rp = malloc(sizeof(void *) * (size_t)p.nv), cvl = malloc(es * lanes);
    if (!zv || !wt || !acc || !wacc || !scol || !rp || !cvl) {
        PyErr_NoMemory();
        goto done;
    }
    if (n > 0) {
        n2at_scratch sc = {o.dst.buf, den.buf, zv, wt, acc, wacc, cvl, rp, scol};
        n2at_fn fn = n2at_table_base[dt == T_F64];
#if defined(ENGINE_HAVE_AVX2)
        if (use_avx2) fn = n2at_table_avx2[dt == T_F64];
#endif
        Py_BEGIN_ALLOW_THREADS fn(&p, ys, xs, n, &sc);
        Py_END_ALLOW_THREADS
    }
    result = Py_None;
    Py_INCREF(result);
done:
    if (have_den) PyBuffer_Release(&den);
    free(ys);
    free(xs);
    free(scol);
    free(zv);
    free(wt);
    free(acc);
    free(wacc);
    free(rp);
    free(cvl);
    release(&o);
    return result;
}
