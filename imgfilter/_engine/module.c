/* The CPython module of the engine: its method table, the instruction-set
 * choice, and the tap-correlation entry point. Shared glue (buffers, the one
 * bounds check) is in glue.c; each kernel family parses its own arguments
 * in its own file and lists its methods here.
 *
 * Arrays arrive through the buffer protocol (C-contiguous, native byte
 * order); geometry arrives as tuples of element counts and strides. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "glue.h"
#include "rank.h"
#include "bilateral.h"
#include "sobel.h"
#include "canny.h"
#include "morph.h"
#include "normalize.h"
#include "box.h"
#include "linear_idx.h"
#include "sep_small.h"
#include "weights.h"
#include "moments.h"
#include "keys.h"
#include "png.h"
#include "blocks.h"

/* Weight t as the destination's type; integer accumulators take integral weights only. */
static int store_weight(void *w, int type, Py_ssize_t t, double v) {
    if (type != T_F32 && type != T_F64 && (!(v > -9.2e18 && v < 9.2e18) || v != (double)(int64_t)v)) {
        PyErr_SetString(PyExc_ValueError, "engine: an integer accumulator needs integral weights");
        return -1;
    }
    switch (type) {
    case T_U8: ((uint8_t *)w)[t] = (uint8_t)(int64_t)v; break;
    case T_I8: ((int8_t *)w)[t] = (int8_t)(int64_t)v; break;
    case T_U16: ((uint16_t *)w)[t] = (uint16_t)(int64_t)v; break;
    case T_I16: ((int16_t *)w)[t] = (int16_t)(int64_t)v; break;
    case T_U32: ((uint32_t *)w)[t] = (uint32_t)(int64_t)v; break;
    case T_I32: ((int32_t *)w)[t] = (int32_t)(int64_t)v; break;
    case T_U64: ((uint64_t *)w)[t] = (uint64_t)(int64_t)v; break;
    case T_I64: ((int64_t *)w)[t] = (int64_t)v; break;
    case T_F32: ((float *)w)[t] = (float)v; break;
    default: ((double *)w)[t] = v; break;
    }
    return 0;
}

PyDoc_STRVAR(taps_doc,
             "taps(src, dst, outer, s_outer, d_outer, inner, chan, s_step, d_step, offsets, weights)\n\n"
             "dst = sum of weights[t] * src[origin + offsets[t]] for every output of the geometry.\n"
             "dst's type is the accumulator's (integer accumulators wrap as C does: callers size them);\n"
             "src any integer or float type.");

static PyObject *py_taps(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *src_o, *dst_o, *outer, *s_outer, *d_outer, *off_o, *w_o;
    Py_ssize_t inner, chan, s_step, d_step;
    if (!PyArg_ParseTuple(args, "OOOOOnnnnOO", &src_o, &dst_o, &outer, &s_outer, &d_outer, &inner,
                          &chan, &s_step, &d_step, &off_o, &w_o))
        return NULL;
    geom_t g;
    if (parse_geom(outer, s_outer, d_outer, inner, chan, s_step, d_step, &g) < 0) return NULL;
    if (!PyTuple_Check(off_o) || !PyTuple_Check(w_o) ||
        PyTuple_GET_SIZE(off_o) != PyTuple_GET_SIZE(w_o) || PyTuple_GET_SIZE(off_o) < 1) {
        PyErr_SetString(PyExc_ValueError, "engine: offsets and weights must be tuples of one length >= 1");
        return NULL;
    }
    Py_ssize_t ntaps = PyTuple_GET_SIZE(off_o);
    Py_buffer src, dst;
    if (get_array(src_o, &src, 0, "src") < 0) return NULL;
    if (get_array(dst_o, &dst, 1, "dst") < 0) {
        PyBuffer_Release(&src);
        return NULL;
    }
    PyObject *result = NULL;
    idx_t *off = malloc(sizeof(idx_t) * (size_t)ntaps);
    void *w = malloc(sizeof(double) * (size_t)ntaps);
    int st = element_type(&src), dt = element_type(&dst);
    if (!off || !w) {
        PyErr_NoMemory();
        goto done;
    }
    if (int_tuple(off_o, off, ntaps, "offsets") < 0) goto done;
    for (Py_ssize_t t = 0; t < ntaps; t++) {
        double v = PyFloat_AsDouble(PyTuple_GET_ITEM(w_o, t));
        if (v == -1.0 && PyErr_Occurred()) goto done;
        if (store_weight(w, dt, t, v) < 0) goto done;
    }
    if (!geom_empty(&g)) {
        if (engine_check_bounds(&g, off, ntaps, src.len / src.itemsize, dst.len / dst.itemsize) < 0)
            goto done;
        taps_fn fn = taps_table_base[st][dt];
#if defined(ENGINE_HAVE_AVX2)
        if (use_avx2) fn = taps_table_avx2[st][dt];
#endif
        Py_BEGIN_ALLOW_THREADS fn(src.buf, dst.buf, &g, off, w, ntaps);
        Py_END_ALLOW_THREADS
    }
    result = Py_None;
    Py_INCREF(result);
done:
    free(off);
    free(w);
    PyBuffer_Release(&src);
    PyBuffer_Release(&dst);
    return result;
}

static const char *const SEP_ACC_NAMES[SEP_ACC_COUNT] = {"u16", "u32", "u64", "f32", "f64"};
static const int SEP_ACC_TYPE[SEP_ACC_COUNT] = {T_U16, T_U32, T_U64, T_F32, T_F64};
static const size_t SEP_ACC_SIZE[SEP_ACC_COUNT] = {2, 4, 8, 4, 8};
static const size_t SEP_RUN_SIZE[SEP_ACC_COUNT] = {2, 4, 8, 8, 8}; /* running-sum state */

/* Offsets and weights (of accumulator type `acc`) from two tuples; -1 on error. */
static int taps_arrays(PyObject *off_o, PyObject *w_o, int acc_type, idx_t **off, void **w, idx_t *n) {
    if (!PyTuple_Check(off_o) || !PyTuple_Check(w_o) || PyTuple_GET_SIZE(off_o) != PyTuple_GET_SIZE(w_o) ||
        PyTuple_GET_SIZE(off_o) < 1) {
        PyErr_SetString(PyExc_ValueError, "engine: offsets and weights must be tuples of one length >= 1");
        return -1;
    }
    *n = PyTuple_GET_SIZE(off_o);
    *off = malloc(sizeof(idx_t) * (size_t)*n);
    *w = malloc(sizeof(double) * (size_t)*n);
    if (!*off || !*w) {
        PyErr_NoMemory();
        return -1;
    }
    if (int_tuple(off_o, *off, *n, "offsets") < 0) return -1;
    for (Py_ssize_t t = 0; t < *n; t++) {
        double v = PyFloat_AsDouble(PyTuple_GET_ITEM(w_o, t));
        if (v == -1.0 && PyErr_Occurred()) return -1;
        if (store_weight(*w, acc_type, t, v) < 0) return -1;
    }
    return 0;
}

PyDoc_STRVAR(sep2d_doc,
             "sep2d(src, dst, rows, cols, chan, src_row, vstride, hstride, voff, wv, hoff, wh,\n"
             "      vrun, hrun, acc, work_f64, divide)\n\n"
             "One band of a separable 2-D correlation: vertical taps (row offsets voff,\n"
             "weights wv) then horizontal taps (hoff, wh), summed in the accumulator `acc`\n"
             "('u16', 'u32', 'u64', 'f32', 'f64'); vrun/hrun sum equal taps as running sums.\n"
             "dst of another type than acc, or divide != 1, stores acc / divide (in float64\n"
             "if work_f64, else float32), rounded half to even and clipped for integers.");

static PyObject *py_sep2d(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *src_o, *dst_o, *voff_o, *wv_o, *hoff_o, *wh_o;
    Py_ssize_t rows, cols, chan, src_row, vstride, hstride;
    int vrun, hrun, work_f64;
    const char *acc_name;
    double divide;
    if (!PyArg_ParseTuple(args, "OOnnnnnnOOOOppspd", &src_o, &dst_o, &rows, &cols, &chan, &src_row,
                          &vstride, &hstride, &voff_o, &wv_o, &hoff_o, &wh_o, &vrun, &hrun, &acc_name,
                          &work_f64, &divide))
        return NULL;
    int acc = -1;
    for (int a = 0; a < SEP_ACC_COUNT; a++)
        if (strcmp(acc_name, SEP_ACC_NAMES[a]) == 0) acc = a;
    if (acc < 0) {
        PyErr_Format(PyExc_ValueError, "engine: unknown accumulator %s", acc_name);
        return NULL;
    }
    if ((vrun && vstride != 1) || (hrun && hstride != 1) || rows < 0 || cols < 0 || chan < 1 ||
        src_row < 1 || vstride < 1 || hstride < 1) {
        PyErr_SetString(PyExc_ValueError, "engine: inconsistent separable geometry");
        return NULL;
    }
    Py_buffer src, dst;
    if (get_array(src_o, &src, 0, "src") < 0) return NULL;
    if (get_array(dst_o, &dst, 1, "dst") < 0) {
        PyBuffer_Release(&src);
        return NULL;
    }
    PyObject *result = NULL;
    idx_t *voff = NULL, *hoff = NULL, nv = 0, nh = 0;
    void *wv = NULL, *wh = NULL, *rowbuf = NULL, *storebuf = NULL, *runbuf = NULL, *ring = NULL;
    void *ptrs = NULL;
    if (taps_arrays(voff_o, wv_o, SEP_ACC_TYPE[acc], &voff, &wv, &nv) < 0 ||
        taps_arrays(hoff_o, wh_o, SEP_ACC_TYPE[acc], &hoff, &wh, &nh) < 0)
        goto done;
    int st = element_type(&src), dt = element_type(&dst);
    if (rows > 0 && cols > 0) {
        idx_t dst_row = cols * chan;
        geom_t g;
        /* The source under every output row's vertical taps, over a whole block
         * row, into the one row buffer (src_row values, rewritten for each row). */
        memset(&g, 0, sizeof g);
        g.n_outer = 1, g.outer[0] = rows, g.s_outer[0] = vstride * src_row, g.d_outer[0] = 0;
        g.inner = src_row, g.chan = 1, g.s_step = 1, g.d_step = 1;
        if (engine_check_bounds(&g, voff, nv, src.len / src.itemsize, src_row) < 0) goto done;
        /* The row buffer (src_row values) under the horizontal taps, and the destination. */
        memset(&g, 0, sizeof g);
        g.inner = cols, g.chan = chan, g.s_step = hstride * chan, g.d_step = chan;
        if (engine_check_bounds(&g, hoff, nh, src_row, dst_row) < 0) goto done;
        if (rows * dst_row > dst.len / dst.itemsize) {
            PyErr_SetString(PyExc_IndexError, "engine: destination outside its buffer");
            goto done;
        }
        if (hrun && (nh < 1 || hoff[nh - 1] != (nh - 1) * chan)) {
            PyErr_SetString(PyExc_ValueError, "engine: a running sum needs consecutive taps");
            goto done;
        }
        int store = dt != SEP_ACC_TYPE[acc] || divide != 1.0;
        rowbuf = malloc(SEP_ACC_SIZE[acc] * (size_t)src_row);
        storebuf = malloc(SEP_ACC_SIZE[acc] * (size_t)dst_row);
        runbuf = malloc(SEP_RUN_SIZE[acc] * 2 * (size_t)src_row);
        /* The ring holds the rows one output row's taps span, plus one stride. */
        idx_t block_rows = (src.len / src.itemsize) / src_row;
        idx_t ring_rows = voff[nv - 1] / src_row + 1 + vstride;
        if (ring_rows > block_rows) ring_rows = block_rows;
        int convert = !vrun && st != SEP_ACC_TYPE[acc];
        ring = convert ? malloc(SEP_ACC_SIZE[acc] * (size_t)src_row * (size_t)ring_rows) : NULL;
        ptrs = malloc(sizeof(void *) * (size_t)nv);
        if (!rowbuf || !storebuf || !runbuf || !ptrs || (convert && !ring)) {
            PyErr_NoMemory();
            goto done;
        }
        sep_t p = {rows, cols, chan, src_row, vstride, hstride, nv, nh, voff, hoff, wv, wh, vrun, hrun,
                   divide, (idx_t)(dst_row * dst.itemsize)};
        sep_fn fn = sep_table_base[st][acc];
        store_any sf = store ? store_table_base[acc][work_f64 ? 1 : 0][dt] : NULL;
#if defined(ENGINE_HAVE_AVX2)
        if (use_avx2) {
            fn = sep_table_avx2[st][acc];
            sf = store ? store_table_avx2[acc][work_f64 ? 1 : 0][dt] : NULL;
        }
#endif
        sep_buffers bufs = {rowbuf, storebuf, runbuf, ring, ring_rows, ptrs};
        Py_BEGIN_ALLOW_THREADS fn(src.buf, dst.buf, &p, &bufs, sf);
        Py_END_ALLOW_THREADS
    }
    result = Py_None;
    Py_INCREF(result);
done:
    free(voff);
    free(hoff);
    free(wv);
    free(wh);
    free(rowbuf);
    free(storebuf);
    free(runbuf);
    free(ring);
    free(ptrs);
    PyBuffer_Release(&src);
    PyBuffer_Release(&dst);
    return result;
}

PyDoc_STRVAR(set_isa_doc,
             "set_isa(name) -> str\n\n"
             "Choose the kernels' instruction set: 'auto' (the best this CPU runs), 'avx2' or\n"
             "'baseline'. Returns the previous choice. Raises ValueError if the CPU (or this\n"
             "build) lacks the one asked for.");

static PyObject *py_set_isa(PyObject *self, PyObject *arg) {
    (void)self;
    const char *name = PyUnicode_AsUTF8(arg);
    if (!name) return NULL;
    PyObject *previous = PyUnicode_FromString(use_avx2 ? "avx2" : "baseline");
    if (!previous) return NULL;
    if (strcmp(name, "auto") == 0) {
        use_avx2 = cpu_has_avx2();
    } else if (strcmp(name, "baseline") == 0) {
        use_avx2 = 0;
    } else if (strcmp(name, "avx2") == 0) {
        if (!cpu_has_avx2()) {
            Py_DECREF(previous);
            PyErr_SetString(PyExc_ValueError, "this CPU or build has no AVX2 kernels");
            return NULL;
        }
        use_avx2 = 1;
    } else {
        Py_DECREF(previous);
        PyErr_Format(PyExc_ValueError, "unknown instruction set %R: use 'auto', 'avx2' or 'baseline'", arg);
        return NULL;
    }
    return previous;
}

static PyObject *py_isas(PyObject *self, PyObject *noargs) {
    (void)self;
    (void)noargs;
    return cpu_has_avx2() ? Py_BuildValue("(ss)", "baseline", "avx2") : Py_BuildValue("(s)", "baseline");
}

static PyMethodDef methods[] = {
    {"taps", py_taps, METH_VARARGS, taps_doc},
    {"sep2d", py_sep2d, METH_VARARGS, sep2d_doc},
    {"median", py_median, METH_VARARGS, median_doc},
    {"bilateral", py_bilateral, METH_VARARGS, BILATERAL_DOC},
    {"sobel", py_sobel, METH_VARARGS, SOBEL_DOC},
    CODEC_METHOD_ROWS
    CANNY_METHOD_ROWS
    MORPH_METHOD_ROWS
    BOX_METHOD_ROWS
    LINEAR_IDX_METHOD_ROWS
    SEP_SMALL_METHOD_ROWS
    NORMALIZE_METHOD_ROWS
    WEIGHTS_METHOD_ROWS
    MOMENTS_METHOD_ROWS
    KEYS_METHOD_ROWS
    PNG_METHOD_ROWS
    BLOCKS_METHOD_ROWS
    {"set_isa", py_set_isa, METH_O, set_isa_doc},
    {"isas", py_isas, METH_NOARGS, "isas() -> the instruction sets this CPU and build can run."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_kernels", "imgfilter's compiled kernels (see imgfilter/_engine).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__kernels(void) {
    use_avx2 = cpu_has_avx2();
    if (blocks_ready() < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m && PyModule_AddIntConstant(m, "BLOCKS_RECYCLE", blocks_recycle) < 0) Py_CLEAR(m);
    return m;
}
