/* The bilateral filter (OpenCV's definition), compiled for the baseline
 * instruction set and again for AVX2, with its Python entry point.
 *
 * For each output pixel: the weighted mean over a list of window offsets,
 * weight = spatial weight of the offset x range weight of the colour
 * distance d (sum of absolute colour-channel differences to the centre).
 * The range weight is lut[d] for integer images, exp(coeff d^2) otherwise.
 * With alpha, neighbours also weigh by their alpha (premultiplied colour)
 * and the output alpha is sum(w a) / sum(w). Missing pixels (mask plane 0,
 * or a NaN colour channel when nan_missing) weigh nothing, and a missing
 * centre takes its neighbours by the spatial weights alone: the one
 * weighted normalization, in the same pass. Range weights below the
 * smallest normal float (exp under -87.5 in float32, -708 in float64) count
 * as 0 (numpy's exp gave subnormals: only inf pixels can tell). The block arrives
 * border-extended from Python, so there is no border logic here. */
#if defined(__GNUC__) && !defined(__clang__)
/* Selects and conditional divisions may then be if-converted, so the loops
 * vectorize; no result changes (only FP exception flags are not kept). */
#pragma GCC optimize("no-trapping-math")
#endif
#include "isa.h"

#include "bilateral.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define BIL_X86 1
#endif

/* Outputs per run: the run's sums (a few arrays of BIL_RUN values) stay in L1. */
#define BIL_RUN 128

/* The AVX2 8-bit kernel's premultiplied range tables (one per distinct
 * spatial weight) at most this size together, else the plain table. */
#define BIL_PRE_BYTES (256 * 1024)
/* Its tiles of columns (a multiple of BIL_RUN), and their rings of shared
 * range weights at most this size, else the plain kernel. */
#ifndef BIL_TILE
#define BIL_TILE 4096
#endif
#define BIL_RING_BYTES (16 * 1024 * 1024)

typedef struct {
    const void *src;     /* block: npix pixels of chan values, src_type */
    int src_type;
    const uint8_t *mask; /* npix flags (0 = missing) or NULL */
    void *dst;           /* h x w pixels of chan values, dst_type */
    int dst_type;
    idx_t h, w, bw, npix, chan, ncol;
    int alpha, nan_missing, wide;
    idx_t ntaps;
    const idx_t *off;    /* pixel offsets from the window's top-left corner */
    idx_t centre;
    const double *sw;    /* spatial weights, already rounded to the work type */
    const float *lut;    /* range weight by integer distance, or NULL */
    const float *exptab; /* bil_exp_table */
    double coeff, amax;
    idx_t r;             /* the block's border: window corner to centre */
    const idx_t *ti, *tj; /* tap t's row and column from the window's corner */
    /* The AVX2 8-bit kernel's shared range weights (bil_pair_t in
     * bilateral_impl.h), or NULL: set inside the band's run only. */
    void *pair;
} bil_t;

/* exp(-i / BIL_EXP_STEPS) for i < BIL_EXP_LAST, then 0: filled once, under the GIL. */
#define BIL_EXP_STEPS 32
#define BIL_EXP_LAST 2800
static float bil_exp_table[BIL_EXP_LAST + 1];

#define ISA_IMPL "bilateral_impl.h"
#define ISA_AVX2_TARGET "avx2,tune=haswell"
#include "isa.h"

/* Largest integer distance per colour channel a source type can give (its
 * value range), or -1 for types the table does not serve. */
static double lut_span(int type) {
    switch (type) {
    case T_U8: case T_I8: return 255.0;
    case T_U16: case T_I16: return 65535.0;
    default: return -1.0;
    }
}

PyObject *py_bilateral(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *src_o, *mask_o, *dst_o, *rows_o, *cols_o, *sw_o, *lut_o;
    Py_ssize_t h, w, chan, ncol, r;
    int alpha, nan_missing, wide;
    double coeff, amax;
    if (!PyArg_ParseTuple(args, "OOOnnnnnpppOOOOdd", &src_o, &mask_o, &dst_o, &h, &w, &chan, &ncol, &r,
                          &alpha, &nan_missing, &wide, &rows_o, &cols_o, &sw_o, &lut_o, &coeff, &amax))
        return NULL;
    if (!PyTuple_Check(rows_o) || !PyTuple_Check(cols_o) || !PyTuple_Check(sw_o) ||
        PyTuple_GET_SIZE(rows_o) != PyTuple_GET_SIZE(cols_o) ||
        PyTuple_GET_SIZE(rows_o) != PyTuple_GET_SIZE(sw_o) || PyTuple_GET_SIZE(rows_o) < 1) {
        PyErr_SetString(PyExc_ValueError, "engine: tap rows, columns and weights must be tuples of one length >= 1");
        return NULL;
    }
    if (h < 0 || w < 0 || r < 0 || chan < 1 || ncol < 1 || ncol > chan || (alpha && ncol != chan - 1) ||
        (!alpha && ncol != chan)) {
        PyErr_SetString(PyExc_ValueError, "engine: bad bilateral sizes or channels");
        return NULL;
    }
    Py_ssize_t ntaps = PyTuple_GET_SIZE(rows_o);
    if (bil_exp_table[0] == 0.0f) {
        for (int i = 0; i < BIL_EXP_LAST; i++) bil_exp_table[i] = (float)exp(-(double)i / BIL_EXP_STEPS);
        bil_exp_table[BIL_EXP_LAST] = 0.0f;
    }
    Py_buffer src, dst, mask = {0}, lut = {0};
    int have_mask = mask_o != Py_None, have_lut = lut_o != Py_None;
    PyObject *result = NULL;
    idx_t *off = NULL, *eoff = NULL;
    double *sw = NULL;
    if (get_array(src_o, &src, 0, "src") < 0) return NULL;
    if (get_array(dst_o, &dst, 1, "dst") < 0) {
        PyBuffer_Release(&src);
        return NULL;
    }
    if (have_mask && get_array(mask_o, &mask, 0, "mask") < 0) {
        have_mask = have_lut = 0;
        goto done;
    }
    if (have_lut && get_array(lut_o, &lut, 0, "lut") < 0) {
        have_lut = 0;
        goto done;
    }

    bil_t b;
    memset(&b, 0, sizeof b);
    b.src = src.buf;
    b.src_type = element_type(&src);
    b.dst = dst.buf;
    b.dst_type = element_type(&dst);
    b.h = h;
    b.w = w;
    b.bw = w + 2 * r;
    b.chan = chan;
    b.ncol = ncol;
    b.alpha = alpha;
    b.nan_missing = nan_missing;
    b.wide = wide;
    b.ntaps = ntaps;
    b.coeff = coeff;
    b.exptab = bil_exp_table;
    b.amax = amax;
    idx_t src_len = src.len / src.itemsize;
    b.npix = src_len / chan;
    if (b.dst_type == T_U64 || b.dst_type == T_I64) {
        PyErr_SetString(PyExc_TypeError, "engine: bilateral writes no 64-bit integers");
        goto done;
    }
    if (have_lut) {
        /* The table must hold every distance the source type can give. */
        double need = lut_span(b.src_type) * (double)ncol + 1.0;
        if (wide || element_type(&lut) != T_F32 || lut_span(b.src_type) < 0 ||
            (double)(lut.len / lut.itemsize) < need) {
            PyErr_SetString(PyExc_ValueError, "engine: the range table is too short or of the wrong type");
            goto done;
        }
        b.lut = lut.buf;
    }
    if (have_mask) {
        /* The mask has the block's layout, one flag per pixel: every pixel
         * index proven in the block below is in the mask too. */
        if (mask.itemsize != 1 || mask.len * chan != src_len || src_len % chan) {
            PyErr_SetString(PyExc_ValueError, "engine: the mask must have one byte per block pixel");
            goto done;
        }
        b.mask = mask.buf;
    }
    off = malloc(sizeof(idx_t) * ((size_t)ntaps + 1) * 4);
    sw = malloc(sizeof(double) * (size_t)ntaps);
    if (!off || !sw) {
        PyErr_NoMemory();
        goto done;
    }
    eoff = off + ntaps + 1;
    idx_t *ti = eoff + ntaps + 1, *tj = ti + ntaps + 1;
    for (Py_ssize_t t = 0; t <= ntaps; t++) {
        /* The last offset is the centre (r, r); all are checked below. */
        idx_t i = r, j = r;
        if (t < ntaps) {
            i = PyLong_AsSsize_t(PyTuple_GET_ITEM(rows_o, t));
            j = PyLong_AsSsize_t(PyTuple_GET_ITEM(cols_o, t));
            if ((i == -1 || j == -1) && PyErr_Occurred()) goto done;
            sw[t] = PyFloat_AsDouble(PyTuple_GET_ITEM(sw_o, t));
            if (sw[t] == -1.0 && PyErr_Occurred()) goto done;
        }
        ti[t] = i;
        tj[t] = j;
        if (__builtin_mul_overflow(i, b.bw, &off[t]) || __builtin_add_overflow(off[t], j, &off[t]) ||
            __builtin_mul_overflow(off[t], (idx_t)chan, &eoff[t])) {
            PyErr_SetString(PyExc_OverflowError, "engine: geometry overflows");
            goto done;
        }
    }
    b.off = off;
    b.centre = off[ntaps];
    b.sw = sw;
    b.r = r;
    b.ti = ti;
    b.tj = tj;
    if (h > 0 && w > 0) {
        /* The one bounds check: output rows of w pixels, block rows of bw
         * pixels, every tap (and the centre) from each window's corner. */
        geom_t g;
        memset(&g, 0, sizeof g);
        g.n_outer = 1;
        g.outer[0] = h;
        g.s_outer[0] = b.bw * chan;
        g.d_outer[0] = w * chan;
        g.inner = w;
        g.chan = chan;
        g.s_step = chan;
        g.d_step = chan;
        if (src_len % chan) {
            PyErr_SetString(PyExc_ValueError, "engine: the block is not whole pixels");
            goto done;
        }
        if (engine_check_bounds(&g, eoff, ntaps + 1, src_len, dst.len / dst.itemsize) < 0) goto done;
        int (*fn)(const bil_t *) = bilateral_run_base;
#if defined(ENGINE_HAVE_AVX2)
        if (use_avx2) fn = bilateral_run_avx2;
#endif
        int rc;
        Py_BEGIN_ALLOW_THREADS rc = fn(&b);
        Py_END_ALLOW_THREADS
        if (rc < 0) {
            PyErr_NoMemory();
            goto done;
        }
    }
    result = Py_None;
    Py_INCREF(result);
done:
    free(off);
    free(sw);
    PyBuffer_Release(&src);
    PyBuffer_Release(&dst);
    if (have_mask) PyBuffer_Release(&mask);
    if (have_lut) PyBuffer_Release(&lut);
    return result;
}
