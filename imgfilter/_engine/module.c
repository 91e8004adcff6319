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
    CODEC_METHOD_ROWS
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
