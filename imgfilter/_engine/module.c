/* The CPython face of the engine: argument parsing, the one bounds check,
 * the instruction-set choice, and the GIL released around every kernel.
 *
 * Arrays arrive through the buffer protocol (C-contiguous, native byte
 * order); geometry arrives as tuples of element counts and strides. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

static int use_avx2 = 0;

static int cpu_has_avx2(void) {
#if defined(ENGINE_HAVE_AVX2)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
#else
    return 0;
#endif
}

/* numpy's buffer format character and item size -> engine type, or -1. */
static int element_type(const Py_buffer *v) {
    const char *f = v->format ? v->format : "B";
    if (*f == '=' || *f == '@') f++;
    if (*f == '<' || *f == '>' || *f == '!' || f[0] == '\0' || f[1] != '\0') return -1;
    char c = *f;
    int is_unsigned = strchr("BHILQ", c) != NULL;
    int is_signed = strchr("bhilq", c) != NULL;
    int is_float = c == 'f' || c == 'd';
    switch (v->itemsize) {
    case 1: return is_unsigned ? T_U8 : is_signed ? T_I8 : -1;
    case 2: return is_unsigned ? T_U16 : is_signed ? T_I16 : -1;
    case 4: return is_unsigned ? T_U32 : is_signed ? T_I32 : is_float ? T_F32 : -1;
    case 8: return is_unsigned ? T_U64 : is_signed ? T_I64 : is_float ? T_F64 : -1;
    default: return -1;
    }
}

static int get_array(PyObject *obj, Py_buffer *v, int writable, const char *name) {
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, v, flags) < 0) {
        PyErr_Format(PyExc_ValueError, "engine: %s must be a C-contiguous%s array", name,
                     writable ? " writable" : "");
        return -1;
    }
    if (element_type(v) < 0) {
        PyErr_Format(PyExc_TypeError, "engine: %s has an unsupported element type '%s'", name,
                     v->format ? v->format : "?");
        PyBuffer_Release(v);
        return -1;
    }
    return 0;
}

/* A tuple of ints into out[0..n-1]; returns n or -1. */
static Py_ssize_t int_tuple(PyObject *t, idx_t *out, Py_ssize_t cap, const char *name) {
    if (!PyTuple_Check(t)) {
        PyErr_Format(PyExc_TypeError, "engine: %s must be a tuple", name);
        return -1;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(t);
    if (n > cap) {
        PyErr_Format(PyExc_ValueError, "engine: %s has more than %zd items", name, cap);
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        out[i] = PyLong_AsSsize_t(PyTuple_GET_ITEM(t, i));
        if (out[i] == -1 && PyErr_Occurred()) return -1;
    }
    return n;
}

static int add_span(idx_t count, idx_t step, idx_t *lo, idx_t *hi) {
    idx_t span;
    if (count < 1) return 0;
    if (__builtin_mul_overflow(count - 1, step, &span)) return -1;
    if (span >= 0 ? __builtin_add_overflow(*hi, span, hi) : __builtin_add_overflow(*lo, span, lo))
        return -1;
    return 0;
}

/* The one bounds check: every element the geometry (plus the extra offsets)
 * can touch lies in [0, len) of src, and of dst with no extra offsets. */
static int engine_check_bounds(const geom_t *g, const idx_t *off, idx_t noff, idx_t src_len,
                               idx_t dst_len) {
    idx_t lo = 0, hi = 0, olo = 0, ohi = 0;
    for (idx_t t = 0; t < noff; t++) {
        if (t == 0 || off[t] < olo) olo = off[t];
        if (t == 0 || off[t] > ohi) ohi = off[t];
    }
    for (int a = 0; a < g->n_outer; a++)
        if (add_span(g->outer[a], g->s_outer[a], &lo, &hi) < 0) goto overflow;
    if (add_span(g->inner, g->s_step, &lo, &hi) < 0 || add_span(g->chan, 1, &lo, &hi) < 0)
        goto overflow;
    if (__builtin_add_overflow(lo, olo, &lo) || __builtin_add_overflow(hi, ohi, &hi)) goto overflow;
    if (lo < 0 || hi >= src_len) {
        PyErr_SetString(PyExc_IndexError, "engine: source window outside its buffer");
        return -1;
    }
    lo = hi = 0;
    for (int a = 0; a < g->n_outer; a++)
        if (add_span(g->outer[a], g->d_outer[a], &lo, &hi) < 0) goto overflow;
    if (add_span(g->inner, g->d_step, &lo, &hi) < 0 || add_span(g->chan, 1, &lo, &hi) < 0)
        goto overflow;
    if (lo < 0 || hi >= dst_len) {
        PyErr_SetString(PyExc_IndexError, "engine: destination outside its buffer");
        return -1;
    }
    return 0;
overflow:
    PyErr_SetString(PyExc_OverflowError, "engine: geometry overflows");
    return -1;
}

/* Parses (outer, s_outer, d_outer, inner, chan, s_step, d_step) into g. */
static int parse_geom(PyObject *outer, PyObject *s_outer, PyObject *d_outer, Py_ssize_t inner,
                      Py_ssize_t chan, Py_ssize_t s_step, Py_ssize_t d_step, geom_t *g) {
    memset(g, 0, sizeof(*g));
    Py_ssize_t n = int_tuple(outer, g->outer, ENGINE_MAX_OUTER, "outer");
    if (n < 0) return -1;
    if (int_tuple(s_outer, g->s_outer, ENGINE_MAX_OUTER, "s_outer") != n ||
        int_tuple(d_outer, g->d_outer, ENGINE_MAX_OUTER, "d_outer") != n) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "engine: outer strides mismatch");
        return -1;
    }
    g->n_outer = (int)n;
    g->inner = inner;
    g->chan = chan;
    g->s_step = s_step;
    g->d_step = d_step;
    return 0;
}

static int geom_empty(const geom_t *g) {
    if (g->inner < 1 || g->chan < 1) return 1;
    for (int a = 0; a < g->n_outer; a++)
        if (g->outer[a] < 1) return 1;
    return 0;
}

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
    return PyModule_Create(&module);
}
